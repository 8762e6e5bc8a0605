"""A small module to try NoirCode on: type below, or put the cursor on a `def` line and run
"NoirCode: Generate Function" (Ctrl+Alt+G)."""
import os


def read_lines(path):
    """Return the lines of a text file, without their line endings."""
    with open(path) as f:
        return [line.rstrip("\n") for line in f]


def count_words(text):
    """Return how many words the text has."""

