"""Try NoirCode here, in about a minute.

1. Ghost text: on the empty line of area_of_circle below, type `return ` and wait a moment. A grey
   suggestion appears: Tab accepts it, Ctrl+Right accepts one word, Esc dismisses it.
2. Generate Function: put the cursor on the signature of count_words (at the end) and press Ctrl+Alt+G (or
   run "NoirCode: Generate Function" from the command palette).
3. What leaves this machine: the shield in the status bar. Out of the box it says "demo keys": the model is
   split, its middle runs in a local endpoint process, and only randomised hidden states go there, under
   keys that ship with NoirCode and so protect nothing (make your own: `noir keygen`, see the README). The
   count is the tokens' worth of hidden states sent so far. Click the shield for the privacy panel: the
   exposure ledger, pause, and "Attack the prompt at the cursor", which runs on this machine the attacks a
   cloud could run on what a completion sends.
4. Open .env: secret files are never sent ("not sent" in the status bar).

The bundled model has 8 M parameters and knows only Python (other languages get no suggestions, and the status
bar says so), so its suggestions are often wrong: it is here so that everything runs on any machine. Point
NoirCode at a real model for real work (README).
"""
import math
import os


def read_lines(path):
    """Return the lines of a text file, without their line endings."""
    with open(path) as f:
        return [line.rstrip("\n") for line in f]


def area_of_circle(radius):
    """Return the area of a circle of the given radius."""
    


def count_words(text):
    """Return how many words the text has."""
