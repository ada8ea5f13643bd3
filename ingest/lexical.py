"""The lexical (BM25) side of the index: one tokenizer shared by ingest and queries."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import Stemmer

if TYPE_CHECKING:
    import bm25s

BM25_DIR = "bm25"
TOKENIZER = "bm25s default pattern, English stop words, Snowball English stemmer"
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default token_pattern
# bm25s.stopwords.STOPWORDS_EN (Lucene's English stop set; a test checks they are equal), copied because importing
# bm25s imports numba and scipy: a third of a second that ingest, which never needs bm25s, would wait for
STOPWORDS = frozenset((
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they "
    "this to was will with").split())


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
    return [[stem_word(token) for token in _TOKEN.findall(text.lower()) if token not in STOPWORDS]
            for text in texts]


def load_bm25(path: Path) -> bm25s.BM25:
    import bm25s

    return bm25s.BM25.load(str(path), mmap=False)


def bm25_scores(retriever: bm25s.BM25, query_tokens: list[str]) -> np.ndarray:
    """BM25 score of every document for the query tokens (unknown tokens are ignored)."""
    known = [t for t in query_tokens if t in retriever.vocab_dict]
    if not known:
        return np.zeros(retriever.scores["num_docs"], dtype=np.float32)
    return retriever.get_scores(known)
