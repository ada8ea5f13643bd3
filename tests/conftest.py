"""Shared fixtures: a deterministic fake encoder (no weights) and small article folders."""
from __future__ import annotations

import re
import zlib
from pathlib import Path

import numpy as np
import pytest

_TOKEN = re.compile(r"\w+|[^\w\s]")


class FakeEncoder:
    """Bag-of-words vectors: texts sharing words are similar, so rankings are predictable without a model.

    Tokens are words and punctuation marks, plus 2 for the special tokens, like a word-piece count.
    ``encoded`` records every text encoded, so tests can check what was (not) re-embedded.
    """

    name = "fake-bag-of-words"
    dimension = 64

    def __init__(self, *, max_seq_length: int = 64, name: str | None = None) -> None:
        self.max_seq_length = max_seq_length
        if name:
            self.name = name
        self.encoded: list[str] = []

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(_TOKEN.findall(t)) + 2 for t in texts]

    def is_word(self, word: str) -> bool:
        return False  # every unknown word may be a misspelling

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded.extend(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, zlib.crc32(word[:6].encode()) % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors[:, 0] += (norms[:, 0] == 0)  # an empty text still gets a unit vector
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


ARTICLES = {
    "twitching.txt": (
        "Muscle Twitching Basics\n\n"
        "Muscle twitching, medically termed fasciculations, is common.\n\n"
        "Causes\n\n"
        "Twitches can be triggered by a number of things, including:\n\n"
        "  • Too much caffeine\n  • Stress or anxiety\n  • Lack of sleep\n\n"
        "Most twitches are harmless and stop on their own.\n"
    ),
    "als.txt": (
        "ALS Overview\n\n"
        "Amyotrophic lateral sclerosis (ALS) is a disease of motor neurons. "
        "Weakness that gets worse over time is the hallmark symptom.\n\n"
        "References\n\n"
        "Smith AB, Jones C. Motor neurons. Neurology. 2014;6(3):5208.\n"
    ),
    "ms.md": (
        "# Multiple Sclerosis\n\n"
        "Multiple sclerosis (MS) damages myelin in the central nervous system.\n\n"
        "## Spasticity\n\n"
        "Spasticity is a common symptom of MS and often affects the legs.\n"
    ),
}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A folder of three small articles (txt, txt, md) with boilerplate in one of them."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
