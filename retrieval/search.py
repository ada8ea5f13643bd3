"""Candidate chunks for a query: dense (FAISS) and BM25 rankings, fused by reciprocal rank."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.lexical import bm25_scores
from retrieval.index import Index
from retrieval.query import Query
from retrieval.types import Passage


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]


def dense_ranking(index: Index, query_vectors: np.ndarray, k: int, *, allowed: np.ndarray | None = None
                  ) -> list[tuple[int, float]]:
    """(chunk id, cosine) of the ``k`` nearest chunks to any of the query vectors (rows; a single vector is one
    row), only chunk ids in ``allowed`` when given."""
    if index.chunk_count == 0 or (allowed is not None and len(allowed) == 0):
        return []
    return index.chunk_index.search(query_vectors, k, allowed=allowed)


def sentence_ranking(index: Index, query_vectors: np.ndarray, k: int, *, allowed: np.ndarray | None = None
                     ) -> list[tuple[int, float]]:
    """(chunk id, best sentence cosine) of the chunks holding the ``k`` nearest sentences."""
    if len(index.sentence_index) == 0 or (allowed is not None and len(allowed) == 0):
        return []
    sentences = None
    if allowed is not None:
        sentences = index.sentence_index.ids[np.isin(index.sentence_chunk_ids, allowed)]
    found = index.sentence_index.search(query_vectors, k, allowed=sentences)
    chunks = index.sentence_chunk_ids[index.sentence_index.rows([i for i, _ in found])].tolist()
    best: dict[int, float] = {}
    for chunk, (_, score) in zip(chunks, found):
        best[chunk] = max(best.get(chunk, -1.0), score)
    return sorted(best.items(), key=lambda item: -item[1])


def chunk_bm25_scores(index: Index, stems: list[str], *, allowed: np.ndarray | None = None) -> np.ndarray:
    """BM25 score of every chunk (in ``index.bm25_chunk_ids`` order); 0 outside ``allowed`` when given."""
    if index.chunk_count == 0 or not stems:
        return np.zeros(len(index.bm25_chunk_ids), dtype=np.float32)
    scores = bm25_scores(index.bm25, stems)
    if allowed is not None:
        scores = np.where(np.isin(index.bm25_chunk_ids, allowed), scores, 0.0)
    return scores


def _best_chunks(index: Index, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """(chunk id, score) of the ``k`` best of ``scores`` (from ``chunk_bm25_scores``) that are positive."""
    positive = np.flatnonzero(scores > 0)  # usually a few thousand of MedQuAD's 44k chunks: a tenth of the work
    return [(int(index.bm25_chunk_ids[i]), float(scores[i])) for i in positive[_top(scores[positive], k)]]


def bm25_ranking(index: Index, stems: list[str], k: int, *, allowed: np.ndarray | None = None
                 ) -> list[tuple[int, float]]:
    """(chunk id, BM25 score) of the ``k`` best-scoring chunks with a positive score."""
    return _best_chunks(index, chunk_bm25_scores(index, stems, allowed=allowed), k)


def reciprocal_rank_fusion(rankings: list[list[tuple[int, float]]], *, k: int = 60,
                           weights: list[float] | None = None) -> list[tuple[int, float]]:
    """Fuse rankings of ids: score(id) = sum of weight / (k + rank) over the rankings holding it (rank from 1).

    Cormack, Clarke & Buettcher (2009); ``k=60`` is their constant.
    """
    if k <= 0:
        raise ValueError(f"k must be greater than 0, got {k}")
    weights = [1.0] * len(rankings) if weights is None else weights
    if len(weights) != len(rankings):
        raise ValueError(f"got {len(weights)} weights for {len(rankings)} rankings")
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, (item, _) in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def to_passages(index: Index, ranking: list[tuple[int, float]]) -> list[Passage]:
    """Attach chunk text and offsets to a ranking of chunk ids."""
    rows = index.chunks([i for i, _ in ranking])
    return [Passage(i, rows[i].article_id, rows[i].text, rows[i].start, rows[i].end, rows[i].section, score)
            for i, score in ranking if i in rows]


def query_stems(query: Query) -> list[str]:
    return query.terms + query.expanded


@dataclass(frozen=True)
class Ranking:
    """Fused chunk ranking, with the BM25 scores behind it (the extract ranker uses both)."""

    fused: list[tuple[int, float]]
    bm25: dict[int, float]  # BM25 score of every fused chunk with one, not only of BM25's own top ``depth``
    # the first few chunks of each single ranking: fusion puts a chunk that one ranking finds 3rd and the others
    # miss below 20th (the list of other causes of spasticity for "what other diseases can give you spas city")
    leaders: tuple[int, ...] = ()

    def pool(self, chunks: int) -> tuple[list[tuple[int, float]], int]:
        """The fused ranking with the leaders it puts below its first ``chunks`` moved up to follow them, and how
        many chunks that makes: spans are drawn from the first ``chunks`` fused chunks and those leaders."""
        head = self.fused[:chunks]
        taken = {chunk for chunk, _ in head}
        score = dict(self.fused)
        raised = [(chunk, score[chunk]) for chunk in self.leaders if chunk not in taken and chunk in score]
        moved = {chunk for chunk, _ in raised}
        return head + raised + [c for c in self.fused[chunks:] if c[0] not in moved], len(head) + len(raised)


def hybrid_ranking(index: Index, query: Query, query_vectors: np.ndarray, *, depth: int = 30,
                   use_sentences: bool = True, allowed: np.ndarray | None = None, lead: int = 0) -> Ranking:
    """Chunks ranked by fusing dense chunk search, dense sentence search and BM25 with aliases; the first ``lead``
    chunks of each of those rankings are kept as ``leaders``."""
    scores = chunk_bm25_scores(index, query_stems(query), allowed=allowed)
    lexical = _best_chunks(index, scores, depth)
    rankings = [dense_ranking(index, query_vectors, depth, allowed=allowed), lexical]
    if use_sentences:
        rankings.append(sentence_ranking(index, query_vectors, depth, allowed=allowed))
    fused = reciprocal_rank_fusion(rankings)
    positions = index.bm25_positions([chunk for chunk, _ in fused])
    bm25 = {chunk: float(scores[p]) for (chunk, _), p in zip(fused, positions) if p >= 0 and scores[p] > 0}
    leaders = dict.fromkeys(ranking[rank][0] for rank in range(lead) for ranking in rankings if rank < len(ranking))
    return Ranking(fused, bm25, tuple(leaders))
