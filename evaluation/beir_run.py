"""Run the systems on a BEIR benchmark: a cached ingest of the (sub)corpus, then document runs scored by ranx.

Systems: ``bm25`` (BM25 over chunks, plain stems), ``dense`` (MiniLM + FAISS over chunks), ``full``
(``hybrid_ranking``: dense chunks + dense sentences + BM25 with aliases, fused) score a document by its best
chunk; ``bm25-doc`` is the reference: plain bm25s over whole documents (title + text, English stop words, no
stemmer), needing no index.
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from evaluation.beir import (DOCUMENT_SAMPLE, DOCUMENTS_PER_QUERY, QUERY_SAMPLE, Benchmark, ChunkRanking,
                             corpus_key, document_run, eligible_queries, read_benchmark, restrict_qrels, sample_ids,
                             score_run, subset_documents)

SYSTEMS = ("bm25", "dense", "full", "bm25-doc")
INDEXED = ("bm25", "dense", "full")
START_DEPTH = 300  # chunks asked for first; doubled until 100 documents are found


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cached_index(benchmark: Benchmark, documents: list[dict], max_docs: int | None, cache: Path, *,
                 progress: bool) -> tuple[Path, str]:
    """The index of ``documents`` in ``cache/<name>-<key>/index``; returns its path and "reused" or "built in N s".

    Ingest runs every time but is incremental: it does nothing when the index is up to date, and rebuilds when
    the ingest settings recorded in the manifest changed. A subset is written once to ``subset/corpus.jsonl``
    beside the index (under the git-ignored cache) so that its articles keep one path from run to run.
    """
    from ingest.encoder import ingest_encoder
    from ingest.pipeline import Settings, ingest

    folder = Path(cache) / f"{benchmark.name}-{corpus_key(benchmark.corpus_path, max_docs)}"
    source = benchmark.corpus_path
    if max_docs is not None:
        source = folder / "subset" / "corpus.jsonl"
        if not source.is_file():
            source.parent.mkdir(parents=True, exist_ok=True)
            partial = source.with_suffix(".partial")
            with partial.open("w", encoding="utf-8") as out:
                out.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in documents)
            partial.replace(source)
    _log(f"index {folder / 'index'}: ingesting {len(documents)} documents unless already done (real model)")
    summary = ingest([source], ingest_encoder(folder / "index"), Settings(index_dir=folder / "index"),
                     progress=progress)
    if summary.skipped:
        _log(f"  {len(summary.skipped)} documents skipped, e.g. {summary.skipped[0].path}: {summary.skipped[0].reason}")
    return folder / "index", f"built in {summary.seconds:.0f} s" if summary.published else "reused"


def chunk_ranker(index, name: str, text: str) -> Callable[[int], ChunkRanking]:
    """``depth → chunk ranking`` of one index-based system for one query. ``full`` is the ranking
    ``retrieval.answer`` starts from (``rank_chunks``); a query the pipeline refuses (``QuestionError``) ranks
    nothing."""
    from ingest.lexical import tokenize
    from retrieval import QuestionError
    from retrieval.answer import rank_chunks
    from retrieval.search import bm25_ranking, dense_ranking

    if name == "bm25":
        stems = tokenize([text])[0]
        return lambda depth: bm25_ranking(index, stems, depth)
    if name == "dense":
        vector = index.encoder.encode([text])[0]
        return lambda depth: dense_ranking(index, vector, depth)

    def full(depth: int) -> ChunkRanking:
        try:
            return rank_chunks(text, index, depth=depth)
        except QuestionError:
            return []

    return full


def index_runs(index, names: tuple[str, ...], queries: dict[str, str]) -> dict[str, tuple[dict, float]]:
    """Document runs (and seconds) of the index-based systems. The queries are encoded once, in a batch, into a
    ``MemoEncoder`` that the systems then read from (its time is added to each system that uses vectors)."""
    from evaluation.systems import memo_encoder

    chunk_rows = index.chunks(sorted(index.chunk_ids_of(set(index.articles))))
    article_of = {chunk_id: row.article_id for chunk_id, row in chunk_rows.items()}
    texts = {q: " ".join(text.split()) for q, text in queries.items()}
    started = time.perf_counter()
    if set(names) & {"dense", "full"}:
        memo_encoder(index).encode(list(texts.values()))
    encode_seconds = time.perf_counter() - started
    runs = {}
    for name in names:
        started = time.perf_counter()
        run = {q: document_run(chunk_ranker(index, name, text), article_of, start_depth=START_DEPTH)
               for q, text in texts.items()}
        seconds = time.perf_counter() - started + (encode_seconds if name != "bm25" else 0.0)
        runs[name] = (run, seconds)
    return runs


def bm25_document_run(documents: list[dict], queries: dict[str, str]) -> tuple[dict, float]:
    """The reference run: bm25s (defaults: Lucene BM25, k1=1.5, b=0.75) over title + text of each document."""
    import bm25s

    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([f"{d.get('title') or ''} {d['text']}" for d in documents], stopwords="en",
                                   show_progress=False), show_progress=False)
    ids = list(queries)
    tokens = bm25s.tokenize([queries[q] for q in ids], stopwords="en", return_ids=False, show_progress=False)
    k = min(DOCUMENTS_PER_QUERY, len(documents))
    results, scores = retriever.retrieve(tokens, k=k, show_progress=False)
    run = {q: {documents[int(d)]["_id"]: float(s) for d, s in zip(results[row], scores[row]) if s > 0}
           for row, q in enumerate(ids)}
    return run, time.perf_counter() - started


def run_beir(directory: Path, names: tuple[str, ...], *, max_queries: int | None = None,
             max_docs: int | None = None, cache: Path, progress: bool = False) -> dict:
    """Evaluate ``names`` on the BEIR folder; returns the report (sample, index, metrics per system and qrels).

    Raises:
        ValueError: an unknown system, a bad sample size, or a sample with no scorable query.
        FileNotFoundError: a benchmark file is missing.
    """
    unknown = [n for n in names if n not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown BEIR system(s) {unknown}; choose from {list(SYSTEMS)}")
    benchmark = read_benchmark(directory)
    documents = subset_documents(benchmark.documents, max_docs)
    document_ids = {d["_id"] for d in documents}
    eligible = eligible_queries(benchmark.queries, benchmark.qrels["qrels"], document_ids)
    query_ids = sample_ids(eligible, max_queries)
    if not query_ids:
        raise ValueError(f"no query of {directory} has all its relevant documents in the {len(documents)} sampled")
    queries = {q: benchmark.queries[q] for q in query_ids}
    qrels = {name: restrict_qrels(judged, query_ids, document_ids) for name, judged in benchmark.qrels.items()}
    report = {
        "benchmark": benchmark.name, "path": str(directory), "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sample": {"queries": len(query_ids), "eligible_queries": len(eligible), "documents": len(documents),
                   "max_queries": max_queries, "max_docs": max_docs,
                   "method": (f"documents: {DOCUMENT_SAMPLE}; " if max_docs else "all documents; ")
                   + (f"queries: {QUERY_SAMPLE}" if max_queries else "all eligible queries")},
        "index": None, "systems": {},
    }
    runs: dict[str, tuple[dict, float]] = {}
    indexed = tuple(n for n in names if n in INDEXED)
    if indexed:
        from retrieval import load_index

        path, status = cached_index(benchmark, documents, max_docs, cache, progress=progress)
        index = load_index(path)
        report["index"] = {"path": str(path), "status": status, "version": index.version,
                           "chunks": index.chunk_count}
        _log(f"running {', '.join(indexed)} on {len(query_ids)} queries ({index.chunk_count} chunks)")
        runs.update(index_runs(index, indexed, queries))
    if "bm25-doc" in names:
        runs["bm25-doc"] = bm25_document_run(documents, queries)
    for name in names:
        run, seconds = runs[name]
        report["systems"][name] = {"metrics": {q: score_run(run, judged) for q, judged in qrels.items()},
                                   "seconds": round(seconds, 1)}
    return report
