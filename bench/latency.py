"""Warm ``answer()`` latency against yardsticks measured on the same questions in the same process: the bare
model's query encode (sentence-transformers ``model.encode([question])``), the query encode of the encoder
``answer()`` uses (the model's ONNX export), and a plain baseline (that encoder, sentence-transformers
``util.semantic_search`` over the index's chunk vectors, bm25s ``retrieve`` over its chunks).

For each question the four are timed one after the other, so drifting machine load hits all three alike.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from bench.measure import percentiles
from ingest.lexical import tokenize

BASELINE_K = 10


@dataclass(frozen=True)
class Latency:
    """Per-question seconds of each measured call; ``refused`` questions raised ``QuestionError``."""

    answer: list[float]
    encode: list[float]  # the bare model (sentence-transformers)
    query_encode: list[float]  # the index's own query encoder
    baseline: list[float]
    refused: int
    abstained: int
    encoder_calls: int  # by answer(), over all questions
    encoded_texts: int

    def summary(self) -> dict:
        answered = max(1, len(self.answer))
        return {"answer_ms": percentiles(self.answer), "encode_ms": percentiles(self.encode),
                "query_encode_ms": percentiles(self.query_encode), "baseline_ms": percentiles(self.baseline),
                "refused": self.refused, "abstained": self.abstained,
                "encoder_calls_per_answer": self.encoder_calls / answered,
                "texts_per_answer": self.encoded_texts / answered}


class CountingEncoder:
    """The encoder, counting the calls and texts that go through it."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder
        self.calls = self.texts = 0

    def __getattr__(self, name: str):
        return getattr(self.encoder, name)

    def encode(self, texts: list[str]):
        self.calls += 1
        self.texts += len(texts)
        return self.encoder.encode(texts)

    def encode_with_tokens(self, texts: list[str]):
        self.calls += 1
        self.texts += len(texts)
        return self.encoder.encode_with_tokens(texts)


class PlainBaseline:
    """Encode, dense top-k with ``util.semantic_search``, BM25 top-k with bm25s: retrieval with no extras."""

    def __init__(self, index) -> None:
        import torch

        self.embeddings = torch.from_numpy(index.chunk_index.vectors)  # the index's chunk vectors, as stored
        self.index = index

    def __call__(self, question: str) -> tuple[list, list]:
        import torch
        from sentence_transformers import util

        vector = torch.from_numpy(self.index.encoder.encode([question]))
        dense = util.semantic_search(vector, self.embeddings, top_k=BASELINE_K)[0]
        k = min(BASELINE_K, self.index.chunk_count)
        lexical = self.index.bm25.retrieve([tokenize([question])[0]], k=k, show_progress=False)
        return dense, lexical.documents[0].tolist()


def measure_latency(index, questions: list[str], model, *, warmup: int = 5) -> Latency:
    """Time ``answer``, the bare encode by ``model`` (a ``SentenceTransformerEncoder``), the index's own query
    encode and the plain baseline on each question (after ``warmup`` rounds)."""
    from retrieval import QuestionError, answer

    baseline = PlainBaseline(index)
    encoder = index.encoder
    for question in questions[:warmup]:
        model.encode([question])
        encoder.encode([question])
        baseline(question)
        try:
            answer(question, index)
        except QuestionError:
            pass
    times: dict[str, list[float]] = {"answer": [], "encode": [], "query_encode": [], "baseline": []}
    refused = abstained = 0
    clock = time.perf_counter
    counting = CountingEncoder(encoder)
    for question in questions:
        started = clock()
        model.encode([question])
        times["encode"].append(clock() - started)
        started = clock()
        encoder.encode([question])
        times["query_encode"].append(clock() - started)
        started = clock()
        baseline(question)
        times["baseline"].append(clock() - started)
        index.encoder = counting
        started = clock()
        try:
            result = answer(question, index)
        except QuestionError:
            refused += 1
            continue
        finally:
            index.encoder = encoder
        times["answer"].append(clock() - started)
        abstained += result.abstained
    return Latency(times["answer"], times["encode"], times["query_encode"], times["baseline"], refused, abstained,
                   counting.calls, counting.texts)
