"""Term counts of each chunk, kept with every version, and the BM25 index computed from them.

bm25s cannot update an index: ``BM25.index`` counts every document again (for MedQuAD's 44k chunks, seconds of
Python loops). Its Lucene BM25 scores are a pure function of the term counts, though:

    score(d, t) = idf(t) * tf / (tf + k1 * (1 - b + b * |d| / avgdl)),   idf(t) = log(1 + (N - df + 0.5) / (df + 0.5))

So each version keeps its chunks' term counts, laid out like bm25s's score matrix (whose row indices and column
pointers they share: only the counts themselves are an extra file). An edit drops the entries of the chunks
it deleted, merges in those of its new chunks, and recomputes the scores with numpy in the order of operations
and float types bm25s uses, saved in bm25s's file layout. tests/test_terms.py checks that ``bm25s.BM25.load``
reads it and scores exactly as ``bm25s.BM25().index(tokens)``, bit for bit.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

COUNTS = "term_counts.npy"  # beside bm25s's files and chunk_ids.npy in a version's bm25/ folder
K1, B = 1.5, 0.75  # bm25s.BM25's defaults, which the index has always used


@dataclass(frozen=True)
class TermCounts:
    """Term counts in compressed sparse columns, one column per term: term ``vocabulary[t]`` occurs in the
    chunks of rows ``rows[indptr[t]:indptr[t + 1]]`` (ascending), ``counts[...]`` times in each. Row ``r`` is
    chunk ``chunk_ids[r]`` (ascending). Every term of the vocabulary occurs somewhere."""

    chunk_ids: np.ndarray  # int64
    indptr: np.ndarray  # int64, one more than terms
    rows: np.ndarray  # int32
    counts: np.ndarray  # int32
    vocabulary: tuple[str, ...]

    @classmethod
    def from_tokens(cls, chunk_ids: list[int] | np.ndarray, tokens: list[list[str]]) -> TermCounts:
        """Counts of ``tokens[i]``, the ``tokenize`` tokens of chunk ``chunk_ids[i]``."""
        chunk_ids = np.asarray(chunk_ids, dtype=np.int64)
        if len(chunk_ids) != len(tokens):
            raise ValueError(f"got {len(chunk_ids)} chunk ids for {len(tokens)} token lists")
        if len(np.unique(chunk_ids)) != len(chunk_ids):
            raise ValueError("a chunk id occurs twice")
        order = np.argsort(chunk_ids)
        row_of = np.empty(len(order), dtype=np.int64)
        row_of[order] = np.arange(len(order))
        index: dict[str, int] = {}
        terms = np.fromiter((index.setdefault(t, len(index)) for doc in tokens for t in doc), dtype=np.int64)
        rows = np.repeat(row_of, np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)))
        keys, counts = np.unique(terms * max(1, len(order)) + rows, return_counts=True)  # by term, then row
        return _from_keys(chunk_ids[order], keys, counts, tuple(index))

    def updated(self, deleted: list[int] | np.ndarray, added: TermCounts) -> TermCounts:
        """These counts without the chunks ``deleted``, with those of ``added`` (whose chunk ids must be new)."""
        keep = ~np.isin(self.chunk_ids, np.asarray(deleted, dtype=np.int64))
        kept_ids = self.chunk_ids[keep]
        if np.isin(added.chunk_ids, kept_ids).any():
            raise ValueError("added chunks must not be in the counts already")
        chunk_ids = np.concatenate([kept_ids, added.chunk_ids])
        order = np.argsort(chunk_ids, kind="stable")
        row_of = np.empty(len(order), dtype=np.int64)
        row_of[order] = np.arange(len(order))  # both parts are ascending, so each keeps its own row order
        old_row = np.full(len(self.chunk_ids), -1, dtype=np.int64)
        old_row[keep] = row_of[: len(kept_ids)]
        index = {term: i for i, term in enumerate(self.vocabulary)}
        for term in added.vocabulary:
            index.setdefault(term, len(index))
        width = max(1, len(order))
        entries = old_row[self.rows]
        kept = entries >= 0
        old_keys = (_columns(self.indptr)[kept] * width + entries[kept])  # still by term, then row
        remap = np.array([index[t] for t in added.vocabulary], dtype=np.int64)
        new_keys = remap[_columns(added.indptr)] * width + row_of[len(kept_ids):][added.rows]
        new_order = np.argsort(new_keys)
        where = np.searchsorted(old_keys, new_keys[new_order])
        return _from_keys(chunk_ids[order], np.insert(old_keys, where, new_keys[new_order]),
                          np.insert(self.counts[kept], where, added.counts[new_order]), tuple(index))

    def lengths(self) -> np.ndarray:
        """Tokens in each chunk (what bm25s calls the document length)."""
        return np.bincount(self.rows, weights=self.counts, minlength=len(self.chunk_ids)).astype(np.int64)

    def bm25_matrix(self) -> np.ndarray:
        """The BM25 score of each (term, chunk) entry, in the entries' order: the ``data`` of bm25s's term-by-chunk
        CSC matrix, whose ``indices`` and ``indptr`` are ``rows`` and ``indptr``."""
        documents = len(self.chunk_ids)
        lengths = self.lengths()
        distinct, which = np.unique(np.diff(self.indptr), return_inverse=True)
        # math.log per document frequency, as bm25s: numpy's vectorised log may differ in the last bit
        idf = np.array([math.log(1 + (documents - df + 0.5) / (df + 0.5)) for df in distinct.tolist()])[which]
        average = lengths.mean() if documents else np.float64(0)
        # bm25s: tf / (k1 * ((1 - b) + b * l_d / l_avg) + tf), tf float32, l_avg float64: the sum is float64
        norm = (K1 * ((1 - B) + B * lengths / average))[self.rows]
        tf = self.counts.astype(np.float32).astype(np.float64)
        return (idf.astype(np.float32)[_columns(self.indptr)] * (tf / (norm + tf))).astype(np.float32)

    def save(self, folder: Path) -> None:
        """Write the BM25 index in bm25s's files (what ``bm25s.BM25.save`` writes, read back by ``bm25s.BM25.load``;
        not made by bm25s, so ingest never imports it), ``chunk_ids.npy`` (the chunk of each document) and the
        counts."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, array in (("data", self.bm25_matrix()), ("indices", self.rows), ("indptr", self.indptr)):
            np.save(folder / f"{name}.csc.index.npy", array)
        vocabulary = {term: i for i, term in enumerate(self.vocabulary)}
        vocabulary.setdefault("", len(self.vocabulary))  # bm25s's index() adds the empty token last
        (folder / "vocab.index.json").write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
        params = {"k1": K1, "b": B, "delta": 0.5, "method": "lucene", "idf_method": "lucene", "dtype": "float32",
                  "int_dtype": "int32", "num_docs": len(self.chunk_ids), "version": version("bm25s"),
                  "backend": "numpy"}
        (folder / "params.index.json").write_text(json.dumps(params, indent=4), encoding="utf-8")
        np.save(folder / "chunk_ids.npy", self.chunk_ids)
        np.save(folder / COUNTS, self.counts)

    @classmethod
    def load(cls, folder: Path) -> TermCounts | None:
        """The counts saved in ``folder``, or None when it has none (an index written before they were kept)."""
        if not (folder / COUNTS).is_file():
            return None
        indptr = np.load(folder / "indptr.csc.index.npy")
        vocabulary = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        terms = sorted((i, t) for t, i in vocabulary.items() if i < len(indptr) - 1)
        return cls(np.load(folder / "chunk_ids.npy"), indptr, np.load(folder / "indices.csc.index.npy"),
                   np.load(folder / COUNTS), tuple(t for _, t in terms))


def _columns(indptr: np.ndarray) -> np.ndarray:
    """The column of each entry."""
    return np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))


def _from_keys(chunk_ids: np.ndarray, keys: np.ndarray, counts: np.ndarray, vocabulary: tuple[str, ...]
               ) -> TermCounts:
    """Counts from ascending keys ``term * rows + row``; terms that no longer occur leave the vocabulary."""
    width = max(1, len(chunk_ids))
    terms = keys // width
    frequency = np.bincount(terms, minlength=len(vocabulary))
    used = frequency > 0
    indptr = np.concatenate([[0], np.cumsum(frequency[used])]).astype(np.int64)
    return TermCounts(chunk_ids, indptr, (keys % width).astype(np.int32), counts.astype(np.int32),
                      tuple(t for t, u in zip(vocabulary, used) if u))
