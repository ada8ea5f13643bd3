"""The systems compared on the gold questions: two baselines and the full pipeline, each ``question → Response``.

- ``bm25``: BM25 over the index's chunks with the question's plain stems (no aliases, no spelling correction).
- ``dense``: MiniLM question vector, nearest chunks in FAISS.
- ``full``: ``retrieval.answer``; the only one that can abstain or flag a disagreement.

A baseline's extract is the first sentence of each top chunk, so the three are scored the same way.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SHOWN = 5  # extracts a user sees: hit@1/3/5, extract length, abstention and disagreement are read from these
RANKED = 10  # extracts ranked for MRR@10


@dataclass(frozen=True)
class Returned:
    """One extract as the evaluation sees it: its text, the surrounding passage and the article it cites."""

    text: str
    passage: str
    article_id: str


@dataclass(frozen=True)
class Response:
    """What a system gave for one question."""

    shown: tuple[Returned, ...]  # at most SHOWN, best first
    ranked: tuple[Returned, ...]  # at most RANKED, best first (for MRR@10)
    abstained: bool = False
    disagreement: bool | None = None  # None: the system does not look for disagreement
    related: tuple[Returned, ...] = ()  # passages offered instead of an answer, when abstaining
    error: str = ""  # the QuestionError message, when the question was refused


System = Callable[[str], Response]


class MemoEncoder:
    """An encoder that remembers each text's vector. The systems encode the same question several times (dense
    once, the full pipeline twice) and the model dominates the evaluation's time; everything else is delegated."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder
        self._vectors: dict[str, np.ndarray] = {}
        self._tokens: dict[str, tuple[list[str], np.ndarray]] = {}

    def __getattr__(self, name: str):
        return getattr(self.encoder, name)

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self.encoder.encode(missing)))
        if not texts:
            return self.encoder.encode([])
        return np.stack([self._vectors[t] for t in texts])

    def encode_with_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[tuple[list[str], np.ndarray]]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._tokens]
        if missing:
            vectors, tokens = self.encoder.encode_with_tokens(missing)
            self._vectors.update(zip(missing, vectors))
            self._tokens.update(zip(missing, tokens))
        if not texts:
            return self.encoder.encode_with_tokens([])
        return np.stack([self._vectors[t] for t in texts]), [self._tokens[t] for t in texts]


def memo_encoder(index) -> MemoEncoder:
    """The index's encoder, replaced by a ``MemoEncoder`` around it the first time."""
    if not isinstance(index.encoder, MemoEncoder):
        index.encoder = MemoEncoder(index.encoder)
    return index.encoder


def first_sentence_extracts(index, ranking: list[tuple[int, float]]) -> tuple[Returned, ...]:
    """The first sentence of each ranked chunk (the whole chunk if it has no sentence rows), in rank order."""
    ids = [chunk_id for chunk_id, _ in ranking]
    chunks = index.chunks(ids)
    sentences = index.sentences_of(ids)
    extracts = []
    for chunk_id in ids:
        chunk = chunks[chunk_id]
        first = sentences.get(chunk_id) or []
        extracts.append(Returned(first[0].text if first else chunk.text, chunk.text, chunk.article_id))
    return tuple(extracts)


def _ranked_response(extracts: tuple[Returned, ...]) -> Response:
    return Response(extracts[:SHOWN], extracts[:RANKED])


def bm25_system(index) -> System:
    """BM25 over chunks with plain stems of the question."""
    from ingest.lexical import tokenize
    from retrieval.search import bm25_ranking

    def run(question: str) -> Response:
        ranking = bm25_ranking(index, tokenize([question])[0], RANKED)
        return _ranked_response(first_sentence_extracts(index, ranking))

    return run


def dense_system(index) -> System:
    """Nearest chunks to the question's MiniLM vector."""
    from retrieval.search import dense_ranking

    def run(question: str) -> Response:
        ranking = dense_ranking(index, index.encoder.encode([question])[0], RANKED)
        return _ranked_response(first_sentence_extracts(index, ranking))

    return run


def _returned(extracts) -> tuple[Returned, ...]:
    return tuple(Returned(e.text, e.passage.text, e.article.id) for e in extracts)


def from_answers(shown, ranked) -> Response:
    """A ``Response`` from ``retrieval.Answer`` objects for k=SHOWN (``shown``) and k=RANKED (``ranked``)."""
    return Response(_returned(shown.extracts), _returned(ranked.extracts), shown.abstained, shown.disagreement,
                    _returned(shown.related))


def full_system(index, answer_fn: Callable | None = None) -> System:
    """The full pipeline: ``answer_fn(question, index, k=...)`` (default ``retrieval.answer``).

    It is asked twice: with k=SHOWN for what a user sees, and with k=RANKED for MRR@10, since ``k`` changes
    which groups take part in disagreement and hence the order of the first extracts.
    """
    from retrieval import QuestionError

    if answer_fn is None:
        from retrieval import answer as answer_fn

    def run(question: str) -> Response:
        try:
            return from_answers(answer_fn(question, index, k=SHOWN), answer_fn(question, index, k=RANKED))
        except QuestionError as exc:
            return Response((), (), abstained=True, disagreement=False, error=str(exc))

    return run


def encode_questions(index, questions: list[str]) -> None:
    """Encode the questions once, in a batch, into the index's ``MemoEncoder`` (as typed and as the pipeline
    normalises them), so that per-system times leave out the model's work on the questions."""
    memo_encoder(index).encode(list(dict.fromkeys([*questions, *(" ".join(q.split()) for q in questions)])))


BASELINES: dict[str, Callable] = {"bm25": bm25_system, "dense": dense_system}
SYSTEM_NAMES = ("bm25", "dense", "full")


def make_systems(index, names: tuple[str, ...] = SYSTEM_NAMES) -> dict[str, System]:
    """The named systems over ``index`` (whose encoder becomes a ``MemoEncoder``).

    Raises:
        ValueError: an unknown system name.
    """
    unknown = [n for n in names if n not in SYSTEM_NAMES]
    if unknown:
        raise ValueError(f"unknown system(s) {unknown}; choose from {list(SYSTEM_NAMES)}")
    memo_encoder(index)
    return {name: full_system(index) if name == "full" else BASELINES[name](index) for name in names}
