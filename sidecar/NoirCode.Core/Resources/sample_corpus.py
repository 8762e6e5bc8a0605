"""A small sample of Python used to train the tokenizer of random test models.

Written for NoirCode; it only needs to look like ordinary code.
"""
import os
import sys
import json
from collections import defaultdict, Counter
from typing import Dict, List, Optional


class Inventory:
    """Keeps counts of items and the history of changes."""

    def __init__(self, name: str, items: Optional[Dict[str, int]] = None) -> None:
        self.name = name
        self.items = dict(items or {})
        self.history: List[str] = []

    def add(self, item: str, count: int = 1) -> int:
        if count <= 0:
            raise ValueError("count must be positive")
        self.items[item] = self.items.get(item, 0) + count
        self.history.append(f"add {item} {count}")
        return self.items[item]

    def remove(self, item: str, count: int = 1) -> int:
        if item not in self.items:
            raise KeyError(item)
        if self.items[item] < count:
            raise ValueError("not enough items")
        self.items[item] -= count
        self.history.append(f"remove {item} {count}")
        return self.items[item]

    def total(self) -> int:
        return sum(self.items.values())

    def __repr__(self) -> str:
        return f"Inventory({self.name!r}, {self.items!r})"


def read_config(path: str) -> dict:
    """Read a JSON configuration file and return its contents."""
    if not os.path.exists(path):
        return {}
    with open(path, "r", encoding="utf-8") as handle:
        return json.load(handle)


def word_frequencies(text: str) -> Counter:
    words = [word.strip(".,;:!?").lower() for word in text.split()]
    return Counter(word for word in words if word)


def group_by_length(words: List[str]) -> Dict[int, List[str]]:
    groups: Dict[int, List[str]] = defaultdict(list)
    for word in words:
        groups[len(word)].append(word)
    return dict(groups)


def fibonacci(n: int) -> List[int]:
    result = [0, 1]
    while len(result) < n:
        result.append(result[-1] + result[-2])
    return result[:n]


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    for i in range(2, int(n ** 0.5) + 1):
        if n % i == 0:
            return False
    return True


def binary_search(values: List[int], target: int) -> int:
    low, high = 0, len(values) - 1
    while low <= high:
        mid = (low + high) // 2
        if values[mid] == target:
            return mid
        elif values[mid] < target:
            low = mid + 1
        else:
            high = mid - 1
    return -1


def main(argv: List[str]) -> int:
    if len(argv) < 2:
        print("usage: inventory.py CONFIG", file=sys.stderr)
        return 2
    config = read_config(argv[1])
    inventory = Inventory(config.get("name", "default"), config.get("items"))
    for item, count in config.get("additions", {}).items():
        inventory.add(item, count)
    print(inventory, inventory.total())
    print(fibonacci(10), [n for n in range(30) if is_prime(n)])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
