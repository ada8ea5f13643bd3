"""The lexical (BM25) side of the index: one tokenizer shared by ingest and queries."""
from __future__ import annotations

import multiprocessing
import re
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

BM25_DIR = "bm25"
TOKENIZER = "bm25s default pattern, English stop words, Snowball English stemmer"
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default token_pattern
_STOPWORDS = frozenset(STOPWORDS_EN)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=500_000)
def stem_word(word: str) -> str:
    """The stem ``tokenize`` would give a single lower-case word."""
    return _stemmer().stemWord(word)


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed tokens of each text: exactly what
    ``bm25s.tokenize(texts, stopwords="en", stemmer=<English Snowball>, return_ids=False)`` returns (a test
    checks it), without the vocabulary and stop-word set that call builds each time, which dominated the
    tokenising of a few sentences per answer."""
    return [[stem_word(token) for token in _TOKEN.findall(text.lower()) if token not in _STOPWORDS]
            for text in texts]


def build_bm25(tokens: list[list[str]], path: Path) -> None:
    """Index documents given as their ``tokenize`` tokens (row i is document i) with BM25 and save to ``path``."""
    retriever = bm25s.BM25()
    # bm25s cannot index an empty corpus; a single empty document keeps the file layout the same.
    retriever.index(tokens or [[""]], show_progress=False)
    retriever.save(str(path))


def _build_and_save(database: Path, path: Path) -> None:
    """BM25 over the chunks in ``database`` (the ``stems`` column, in id order) with its ``chunk_ids.npy``."""
    import sqlite3

    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT id, stems FROM chunks ORDER BY id").fetchall()
    finally:
        conn.close()
    build_bm25([row[1].split() for row in rows], path)
    np.save(path / "chunk_ids.npy", np.asarray([row[0] for row in rows], dtype=np.int64))


class LexicalBuild:
    """The BM25 index of the chunks committed to the SQLite ``database``, written to ``path``: at once, or with
    ``background`` in a spawned process (a fresh interpreter: safe whatever threads this one runs) while the
    caller goes on without writing to the database; ``wait()`` for it, ``stop()`` in a ``finally``."""

    def __init__(self, database: Path, path: Path, *, background: bool) -> None:
        self.process = None
        if background:
            self.process = multiprocessing.get_context("spawn").Process(
                target=_build_and_save, args=(database, path), name="bm25-build", daemon=True)
            self.process.start()
        else:
            _build_and_save(database, path)

    def wait(self) -> None:
        if self.process is None:
            return
        self.process.join()
        code, self.process = self.process.exitcode, None
        if code != 0:
            raise RuntimeError(f"building the BM25 index failed in its own process (exit code {code})")

    def stop(self) -> None:
        """End a background build that is still running (the caller failed)."""
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join()


def load_bm25(path: Path) -> bm25s.BM25:
    return bm25s.BM25.load(str(path), mmap=False)


def bm25_scores(retriever: bm25s.BM25, query_tokens: list[str]) -> np.ndarray:
    """BM25 score of every document for the query tokens (unknown tokens are ignored)."""
    known = [t for t in query_tokens if t in retriever.vocab_dict]
    if not known:
        return np.zeros(retriever.scores["num_docs"], dtype=np.float32)
    return retriever.get_scores(known)
