"""Nearest-neighbour search over one kind of vectors: exact, or IVF plus exact search of newer segments."""
from __future__ import annotations

import faiss
import numpy as np

from ingest.vectors import IVF_PROBES, Segments

EXACT_FILTER_MAX = 50_000  # a filter allowing at most this many ids is searched exactly
RESCORED = 2  # a search takes k * RESCORED candidates from the 8-bit codes, then ranks them in float32


class VectorTable:
    """The live vectors of one kind, read by id and never searched (``ingest.vectors.LOOKUP_ONLY``)."""

    def __init__(self, segments: Segments, dimension: int) -> None:
        self.ids, vectors = segments.live()
        self.vectors = np.ascontiguousarray(vectors if len(self.ids) else np.zeros((0, dimension)), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, items: list[int]) -> np.ndarray:
        return np.searchsorted(self.ids, np.asarray(items, dtype=np.int64))


class DenseIndex:
    """The live vectors of one kind, searchable by inner product (cosine: the vectors are unit length).

    Vectors sit in memory in id order (``ids`` ascending), so ``vector(id)`` is a binary search. When the
    version has an IVF index over its older segments, a search asks it (skipping deleted ids) and searches
    the segments added since exactly; otherwise the whole matrix is searched exactly.

    Both scan 8-bit codes of the vectors (one scale for all components; the IVF index of ingest/vectors.py stores
    them) for ``RESCORED`` times the wanted candidates and rank those by their float32 cosine, so a search returns
    what a float32 scan would, unless code rounding pushed a true neighbour below twice ``k`` others. On 1,000
    MedQuAD questions the top 30 were the same, ids and scores, as with float16 codes (which had matched float32
    for 997 of 1,000, the rest ties), at a quarter of the float32 memory traffic: the 44k chunks for two query
    rows in 1.3 ms (float16 2.1, float32 3.4), the IVF over 178k sentences 0.9 ms (float32 2.4). An IVF index of
    float32 vectors, written before, is searched for ``k`` as it was.
    """

    def __init__(self, segments: Segments, dimension: int) -> None:
        self.ids, self.vectors = segments.live()
        if not len(self.ids):
            self.vectors = np.zeros((0, dimension), dtype=np.float32)
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        self.deleted = segments.deleted
        self.ann = None
        exact_rows = np.arange(len(self.ids))
        if segments.ann:
            self.ann = faiss.read_index(str(segments.folder / segments.ann["file"]))
            ivf = faiss.extract_index_ivf(self.ann)
            self.lists = ivf.nlist
            # an IVF index of float32 vectors (written before the 8-bit codes) ranks in float32 itself
            self.ann_candidates = 1 if isinstance(ivf, faiss.IndexIVFFlat) else RESCORED
            exact_rows = np.flatnonzero(~np.isin(self.ids, segments.ann_ids()))
        self.exact_ids = self.ids[exact_rows]
        self.exact = faiss.IndexScalarQuantizer(self.vectors.shape[1], faiss.ScalarQuantizer.QT_8bit_uniform,
                                                faiss.METRIC_INNER_PRODUCT)
        if len(exact_rows):
            self.exact.train(self.vectors[exact_rows])  # the range of the components
            self.exact.add(self.vectors[exact_rows])

    def __len__(self) -> int:
        return len(self.ids)

    def vector(self, item: int) -> np.ndarray:
        return self.vectors[self.row(item)]

    def row(self, item: int) -> int:
        """Row of ``item`` in ``vectors`` (KeyError if it is not a live id)."""
        row = int(np.searchsorted(self.ids, item))
        if row >= len(self.ids) or self.ids[row] != item:
            raise KeyError(f"no vector with id {item}")
        return row

    def rows(self, items: list[int]) -> np.ndarray:
        return np.searchsorted(self.ids, np.asarray(items, dtype=np.int64))

    def search(self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(id, best cosine over the query rows) of up to ``k`` nearest vectors per query, best first; only ids
        in ``allowed`` when given."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if allowed is not None and (self.ann is None or len(allowed) <= EXACT_FILTER_MAX):
            # a filter (say, a few articles) is searched exactly: the probed lists may hold none of its ids
            items = np.intersect1d(np.asarray(allowed, dtype=np.int64), self.ids)
            scores = (queries @ self.vectors[self.rows(items)].T).max(axis=0) if len(items) else np.zeros(0)
            order = np.lexsort((items, -scores))[:k]
            return [(int(items[i]), float(scores[i])) for i in order]
        best: dict[int, float] = {}
        if self.exact.ntotal:
            params = None
            if allowed is not None:
                positions = np.flatnonzero(np.isin(self.exact_ids, allowed)).astype(np.int64)
                params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(positions))
            _, positions = self.exact.search(queries, min(k * RESCORED, self.exact.ntotal), params=params)
            self._rescore(best, queries, np.where(positions >= 0, self.exact_ids[positions], -1), k)
        if self.ann is not None:
            if allowed is not None:
                selector = faiss.IDSelectorBatch(np.setdiff1d(allowed, self.deleted))
            elif len(self.deleted):
                selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(self.deleted))
            else:
                selector = None
            params = faiss.SearchParametersIVF(nprobe=min(IVF_PROBES, self.lists), sel=selector)
            _, ids = self.ann.search(queries, k * self.ann_candidates, params=params)
            self._rescore(best, queries, ids, k)
        return sorted(best.items(), key=lambda pair: (-pair[1], pair[0]))[:k]

    def _rescore(self, best: dict[int, float], queries: np.ndarray, found: np.ndarray, k: int) -> None:
        """Rank each query row's candidate ids (row of ``found``; -1 for none) by their float32 cosine and keep the
        top ``k`` in ``best``."""
        for query, ids in zip(queries, found):
            ids = ids[ids >= 0]
            scores = self.vectors[self.rows(ids)] @ query
            top = np.argsort(-scores, kind="stable")[:k]
            self._collect(best, scores[top], ids[top], np.ones(len(top), dtype=bool))

    @staticmethod
    def _collect(best: dict[int, float], scores: np.ndarray, ids: np.ndarray, valid: np.ndarray) -> None:
        for item, score in zip(ids[valid].tolist(), scores[valid].tolist()):
            best[item] = max(best.get(item, -2.0), score)
