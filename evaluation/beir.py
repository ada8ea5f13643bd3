"""BEIR benchmarks: read the files, take deterministic samples, turn chunk rankings into document runs, score
with ranx. The benchmark files are read where they lie (``../shared/benchmarks/...``), never copied.

Samples (both deterministic, no random seed):
- documents (``max_docs``): whole pages (the corpus's ``file`` field, else the id) taken in the order of the
  SHA-256 of the page name, while they fit, so the subset spreads over all sources and keeps sibling answers of
  the same page as distractors;
- queries (``max_queries``): among the queries whose relevant documents (``qrels.tsv``) all lie in the
  document set, the ids sorted and evenly spaced: ``ids[i * len(ids) // n]`` for ``i < n``.
"""
from __future__ import annotations

import csv
import hashlib
import json
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

METRICS = ("ndcg@10", "mrr@10", "recall@10", "recall@100")
DOCUMENTS_PER_QUERY = 100
QRELS_FILES = ("qrels.tsv", "qrels_dupaware.tsv")
DOCUMENT_SAMPLE = "whole pages in SHA-256 order of the page name, while they fit in max-docs"
QUERY_SAMPLE = "eligible query ids sorted, evenly spaced: ids[i * len(ids) // n]"

Qrels = dict[str, dict[str, int]]
ChunkRanking = list[tuple[int, float]]


@dataclass(frozen=True)
class Benchmark:
    """A BEIR folder's content: documents (dicts with ``_id``, ``title``, ``text``...), queries and qrels."""

    name: str
    corpus_path: Path
    documents: list[dict]
    queries: dict[str, str]
    qrels: dict[str, Qrels]  # file stem ("qrels", "qrels_dupaware") → judgments


def _read_jsonl(path: Path) -> list[dict]:
    records = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: invalid JSON ({exc.msg})") from exc
    return records


def read_qrels(path: Path) -> Qrels:
    """``query-id corpus-id score`` rows (tab-separated, with a header) as ``{query: {document: score}}``."""
    qrels: Qrels = {}
    with path.open(encoding="utf-8", newline="") as rows:
        reader = csv.reader(rows, delimiter="\t")
        header = next(reader, None)
        if header != ["query-id", "corpus-id", "score"]:
            raise ValueError(f"{path}: expected the header 'query-id corpus-id score', got {header!r}")
        for number, row in enumerate(reader, start=2):
            if len(row) != 3 or not row[2].lstrip("-").isdigit():
                raise ValueError(f"{path}:{number}: expected 'query-id<TAB>corpus-id<TAB>integer', got {row!r}")
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def read_benchmark(directory: Path) -> Benchmark:
    """The corpus, queries and qrels of a BEIR folder (``qrels_dupaware.tsv`` only if present).

    Raises:
        FileNotFoundError: ``corpus.jsonl``, ``queries.jsonl`` or ``qrels.tsv`` is missing.
    """
    directory = Path(directory)
    for required in ("corpus.jsonl", "queries.jsonl", QRELS_FILES[0]):
        if not (directory / required).is_file():
            raise FileNotFoundError(f"no {required} in the BEIR folder {str(directory)!r}")
    queries = {q["_id"]: q["text"] for q in _read_jsonl(directory / "queries.jsonl")}
    qrels = {Path(f).stem: read_qrels(directory / f) for f in QRELS_FILES if (directory / f).is_file()}
    return Benchmark(directory.resolve().name, directory / "corpus.jsonl", _read_jsonl(directory / "corpus.jsonl"),
                     queries, qrels)


def subset_documents(documents: list[dict], max_docs: int | None) -> list[dict]:
    """At most ``max_docs`` documents, whole pages at a time (see the module docstring); all when ``None``."""
    if max_docs is None:
        return documents
    if max_docs < 1:
        raise ValueError(f"max-docs must be greater than 0, got {max_docs}")
    pages: dict[str, list[dict]] = {}
    for document in documents:
        pages.setdefault(str(document.get("file") or document["_id"]), []).append(document)
    chosen: list[dict] = []
    for page in sorted(pages, key=lambda name: hashlib.sha256(name.encode("utf-8")).hexdigest()):
        if len(chosen) + len(pages[page]) > max_docs:
            break
        chosen.extend(pages[page])
    return chosen


def eligible_queries(queries: Iterable[str], qrels: Qrels, document_ids: set[str]) -> list[str]:
    """Sorted ids of the queries that have judgments, all of whose relevant documents are in ``document_ids``."""
    return sorted(q for q in queries
                  if qrels.get(q) and all(d in document_ids for d, s in qrels[q].items() if s > 0))


def sample_ids(ids: list[str], n: int | None) -> list[str]:
    """``n`` evenly spaced ids of the sorted ``ids`` (all of them when ``n`` is None or at least their number)."""
    ids = sorted(ids)
    if n is None or n >= len(ids):
        return ids
    if n < 1:
        raise ValueError(f"max-queries must be greater than 0, got {n}")
    return [ids[i * len(ids) // n] for i in range(n)]


def restrict_qrels(qrels: Qrels, query_ids: Iterable[str], document_ids: set[str]) -> Qrels:
    """Judgments of the given queries on the given documents only."""
    return {q: {d: s for d, s in qrels[q].items() if d in document_ids} for q in query_ids if q in qrels}


def best_per_document(ranking: ChunkRanking, article_of: dict[int, str], n: int = DOCUMENTS_PER_QUERY
                      ) -> dict[str, float]:
    """Documents scored by their best chunk, best first, at most ``n`` (a chunk ranking is best first)."""
    scores: dict[str, float] = {}
    for chunk_id, score in ranking:
        document = article_of[chunk_id]
        if document not in scores:
            scores[document] = score
            if len(scores) == n:
                break
    return scores


def document_run(rank_chunks: Callable[[int], ChunkRanking], article_of: dict[int, str], *, start_depth: int,
                 n: int = DOCUMENTS_PER_QUERY) -> dict[str, float]:
    """The top ``n`` documents of a chunk ranker, asking ``rank_chunks(depth)`` deeper until ``n`` documents
    are found or the ranker has nothing more (it returned fewer than ``depth`` chunks, or all chunks)."""
    depth = max(start_depth, 1)
    while True:
        ranking = rank_chunks(depth)
        scores = best_per_document(ranking, article_of, n)
        if len(scores) >= n or len(ranking) < depth or depth >= len(article_of):
            return scores
        depth *= 2


def score_run(run: dict[str, dict[str, float]], qrels: Qrels) -> dict[str, float]:
    """nDCG@10, MRR@10, Recall@10 and Recall@100 of ``run`` with ranx (a query with no result scores 0)."""
    from ranx import Qrels as RanxQrels
    from ranx import Run, evaluate

    judged = {q: docs for q, docs in qrels.items() if any(s > 0 for s in docs.values())}
    if not judged:
        raise ValueError("no query has a relevant document in the sample: nothing to score")
    answered = {q: docs for q, docs in run.items() if q in judged and docs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's type-safety notes on ranx's own casts
        scores = evaluate(RanxQrels(judged), Run(answered), list(METRICS), make_comparable=True)
    return {m: round(float(scores[m]), 4) for m in METRICS}


def corpus_key(corpus_path: Path, max_docs: int | None) -> str:
    """Cache key of an ingested subset: hash of the corpus bytes, ``max_docs`` and the sampling method."""
    digest = hashlib.sha256()
    with Path(corpus_path).open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    digest.update(f"|max_docs={max_docs}|{DOCUMENT_SAMPLE}".encode())
    return digest.hexdigest()[:16]
