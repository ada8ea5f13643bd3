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

    def encode_with_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[tuple[list[str], np.ndarray]]]:
        """``encode``, and each word as a piece whose vector stands for its first six letters, whatever the
        context (so "twitches" meets "twitching")."""
        vectors = self.encode(texts)
        tokens = []
        for text in texts:
            words = re.findall(r"\w+", text.lower())
            rows = np.zeros((len(words), self.dimension), dtype=np.float32)
            rows[np.arange(len(words)), [zlib.crc32(w[:6].encode()) % self.dimension for w in words]] = 1.0
            tokens.append((words, rows))
        return vectors, tokens


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


def build_fake_index(folder: Path, articles: dict[str, str], *, encoder: FakeEncoder | None = None) -> Path:
    """Write ``articles`` (file name -> text) to ``folder``/corpus and ingest them with a FakeEncoder.

    Files are written as UTF-8 bytes, so CRLF line ends stay as written. Returns the index directory.
    """
    from ingest.pipeline import Settings, ingest  # here, so the ingest-free tests do not import it

    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        (corpus / name).write_bytes(text.encode("utf-8"))
    index_dir = folder / "index"
    ingest([corpus], encoder or FakeEncoder(), Settings(index_dir=index_dir, target_tokens=32))
    return index_dir


def simple_ranker():
    """A hand-set span ranker (similarity, term coverage, fused rank), so answers do not follow refits of
    ``retrieval/ranker.json``."""
    from retrieval.ranker import FEATURES, Ranker

    weights = {"similarity": 2.0, "coverage": 2.0, "fused_rank": 1.0}
    return Ranker(tuple(weights.get(name, 0.0) for name in FEATURES), scale=1.0, offset=-2.0)


def calibration(threshold: float = 0.0, bias: float = 0.0, **weights: float):
    """A calibration with the given feature weights (others 0); the default answers every question."""
    from retrieval.confidence import FEATURES, Calibration

    return Calibration(tuple(weights.get(name, 0.0) for name in FEATURES), bias, threshold)
