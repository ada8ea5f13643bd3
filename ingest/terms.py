"""Term counts of each chunk, kept with every version, and the BM25 index computed from them.

bm25s cannot update an index: ``BM25.index`` counts every document again (for MedQuAD's 44k chunks, seconds of
Python loops). Its Lucene BM25 scores are a pure function of the term counts, though:

    score(d, t) = idf(t) * tf / (tf + k1 * (1 - b + b * |d| / avgdl)),   idf(t) = log(1 + (N - df + 0.5) / (df + 0.5))

So each version keeps its chunks' term counts beside the BM25 index; an edit drops the rows of the chunks it
deleted, adds those of its new chunks, and recomputes the score matrix with numpy in the order of operations
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

COUNTS = "term_counts.npz"  # beside bm25s's files and chunk_ids.npy in a version's bm25/ folder
K1, B = 1.5, 0.75  # bm25s.BM25's defaults, which the index has always used


@dataclass(frozen=True)
class TermCounts:
    """Row ``i`` is chunk ``chunk_ids[i]`` (ascending): terms ``terms[indptr[i]:indptr[i + 1]]`` (positions in
    ``vocabulary``, each once) occurring ``counts[...]`` times. Every term of ``vocabulary`` occurs somewhere."""

    chunk_ids: np.ndarray  # int64
    indptr: np.ndarray  # int64, one more than rows
    terms: np.ndarray  # int32
    counts: np.ndarray  # int32
    vocabulary: tuple[str, ...]

    @classmethod
    def from_tokens(cls, chunk_ids: list[int] | np.ndarray, tokens: list[list[str]]) -> TermCounts:
        """Counts of ``tokens[i]``, the ``tokenize`` tokens of chunk ``chunk_ids[i]``."""
        if len(chunk_ids) != len(tokens):
            raise ValueError(f"got {len(chunk_ids)} chunk ids for {len(tokens)} token lists")
        index: dict[str, int] = {}
        flat = np.fromiter((index.setdefault(t, len(index)) for doc in tokens for t in doc), dtype=np.int64)
        rows = np.repeat(np.arange(len(tokens)), np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)))
        width = max(1, len(index))
        keys, counts = np.unique(rows * width + flat, return_counts=True)  # by row, then term
        indptr = np.searchsorted(keys // width, np.arange(len(tokens) + 1)).astype(np.int64)
        return _canonical(np.asarray(chunk_ids, dtype=np.int64), indptr, (keys % width).astype(np.int32),
                          counts.astype(np.int32), tuple(index))

    def updated(self, deleted: list[int] | np.ndarray, added: TermCounts) -> TermCounts:
        """These counts without the chunks ``deleted``, with those of ``added`` (whose chunk ids must be new)."""
        keep = ~np.isin(self.chunk_ids, np.asarray(deleted, dtype=np.int64))
        if np.isin(added.chunk_ids, self.chunk_ids[keep]).any():
            raise ValueError("added chunks must not be in the counts already")
        index = {term: i for i, term in enumerate(self.vocabulary)}
        for term in added.vocabulary:
            index.setdefault(term, len(index))
        remap = np.array([index[t] for t in added.vocabulary], dtype=np.int32)
        kept = np.repeat(keep, np.diff(self.indptr))
        sizes = np.concatenate([np.diff(self.indptr)[keep], np.diff(added.indptr)])
        return _canonical(np.concatenate([self.chunk_ids[keep], added.chunk_ids]),
                          np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                          np.concatenate([self.terms[kept], remap[added.terms]]),
                          np.concatenate([self.counts[kept], added.counts]), tuple(index))

    def lengths(self) -> np.ndarray:
        """Tokens in each chunk (what bm25s calls the document length)."""
        total = np.concatenate([[0], np.cumsum(self.counts, dtype=np.int64)])
        return np.diff(total[self.indptr])

    def bm25_matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(data, indices, indptr) of the term-by-chunk score matrix in CSC form, as ``bm25s.BM25().index`` builds
        it (the numpy backend): column ``t`` holds the chunks containing term ``t``, in row order."""
        rows = len(self.chunk_ids)
        lengths = self.lengths()
        frequency = np.bincount(self.terms, minlength=len(self.vocabulary))
        distinct, which = np.unique(frequency, return_inverse=True)
        # math.log per document frequency, as bm25s: numpy's vectorised log may differ in the last bit
        idf = np.array([math.log(1 + (rows - df + 0.5) / (df + 0.5)) for df in distinct.tolist()])[which]
        average = lengths.mean() if rows else np.float64(0)
        # bm25s: tf / (k1 * ((1 - b) + b * l_d / l_avg) + tf), tf float32, l_avg float64: the sum is float64
        norm = np.repeat(K1 * ((1 - B) + B * lengths / average), np.diff(self.indptr))
        tf = self.counts.astype(np.float32).astype(np.float64)
        scores = (idf.astype(np.float32)[self.terms] * (tf / (norm + tf))).astype(np.float32)
        order = np.argsort(self.terms, kind="stable")  # rows ascending within each term, like bm25s's sort
        row_of = np.repeat(np.arange(rows, dtype=np.int32), np.diff(self.indptr))
        indptr = np.zeros(len(self.vocabulary) + 1, dtype=np.int64)
        np.cumsum(frequency, out=indptr[1:])
        return scores[order], row_of[order], indptr

    def save(self, folder: Path) -> None:
        """Write the counts and the BM25 index: bm25s's files (what ``bm25s.BM25.save`` writes, read back by
        ``bm25s.BM25.load``; not made by bm25s, so ingest never imports it) and ``chunk_ids.npy``, the chunk of
        each document."""
        folder.mkdir(parents=True, exist_ok=True)
        data, indices, indptr = self.bm25_matrix()
        for name, array in (("data", data), ("indices", indices), ("indptr", indptr)):
            np.save(folder / f"{name}.csc.index.npy", array)
        vocabulary = {term: i for i, term in enumerate(self.vocabulary)}
        vocabulary.setdefault("", len(self.vocabulary))  # bm25s's index() adds the empty token last
        (folder / "vocab.index.json").write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
        params = {"k1": K1, "b": B, "delta": 0.5, "method": "lucene", "idf_method": "lucene", "dtype": "float32",
                  "int_dtype": "int32", "num_docs": len(self.chunk_ids), "version": version("bm25s"),
                  "backend": "numpy"}
        (folder / "params.index.json").write_text(json.dumps(params, indent=4), encoding="utf-8")
        np.save(folder / "chunk_ids.npy", self.chunk_ids)
        np.savez(folder / COUNTS, indptr=self.indptr, terms=self.terms, counts=self.counts)

    @classmethod
    def load(cls, folder: Path) -> TermCounts | None:
        """The counts saved in ``folder``, or None when it has none (an index written before they were kept)."""
        if not (folder / COUNTS).is_file():
            return None
        with np.load(folder / COUNTS) as arrays:
            indptr, terms, counts = arrays["indptr"], arrays["terms"], arrays["counts"]
        vocabulary = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        ordered = sorted(((i, t) for t, i in vocabulary.items() if t), key=lambda item: item[0])
        return cls(np.load(folder / "chunk_ids.npy"), indptr, terms, counts, tuple(t for _, t in ordered))


def _canonical(chunk_ids: np.ndarray, indptr: np.ndarray, terms: np.ndarray, counts: np.ndarray,
               vocabulary: tuple[str, ...]) -> TermCounts:
    """The counts with rows in chunk id order and only the terms that occur in the vocabulary (in their order)."""
    if len(chunk_ids) and np.any(np.diff(chunk_ids) <= 0):
        if len(np.unique(chunk_ids)) != len(chunk_ids):
            raise ValueError("a chunk id occurs twice")
        order = np.argsort(chunk_ids)
        sizes = np.diff(indptr)[order]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        entries = np.arange(starts[-1]) - np.repeat(starts[:-1] - indptr[order], sizes)
        chunk_ids, indptr, terms, counts = chunk_ids[order], starts.astype(np.int64), terms[entries], counts[entries]
    used = np.bincount(terms, minlength=len(vocabulary)) > 0
    if not used.all():
        terms = (np.cumsum(used) - 1)[terms].astype(np.int32)
        vocabulary = tuple(t for t, u in zip(vocabulary, used) if u)
    return TermCounts(chunk_ids, indptr, terms, counts, vocabulary)
