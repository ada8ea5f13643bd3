"""The lexical (BM25) side of the index: one tokenizer shared by ingest and queries."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

BM25_DIR = "bm25"
TOKENIZER = "bm25s default pattern, English stop words, Snowball English stemmer"


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def stem_word(word: str) -> str:
    """The stem ``tokenize`` would give a single lower-case word."""
    return _stemmer().stemWord(word)


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed tokens of each text."""
    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


def build_bm25(tokens: list[list[str]], path: Path) -> None:
    """Index documents given as their ``tokenize`` tokens (row i is document i) with BM25 and save to ``path``."""
    retriever = bm25s.BM25()
    # bm25s cannot index an empty corpus; a single empty document keeps the file layout the same.
    retriever.index(tokens or [[""]], show_progress=False)
    retriever.save(str(path))


def load_bm25(path: Path) -> bm25s.BM25:
    return bm25s.BM25.load(str(path), mmap=False)


def bm25_scores(retriever: bm25s.BM25, query_tokens: list[str]) -> np.ndarray:
    """BM25 score of every document for the query tokens (unknown tokens are ignored)."""
    known = [t for t in query_tokens if t in retriever.vocab_dict]
    if not known:
        return np.zeros(retriever.scores["num_docs"], dtype=np.float32)
    return retriever.get_scores(known)
