"""Approximate nearest neighbours at a million vectors: faiss HNSW (and IVF) against exact search.

Two data sets of unit vectors (d=384, float32, fixed seed): uniformly random ones (a hard case: no structure)
and text-like ones (real MedQuAD chunk and sentence vectors, each copied with small Gaussian noise until there
are ``n``), queried with real MedQuAD questions. Recall@10 is measured against ``IndexFlatIP`` on the queries.
"""
from __future__ import annotations

import resource
import time
from dataclasses import dataclass

import faiss
import numpy as np

from ingest.vectors import IVF_LISTS, IVF_PROBES, IVF_TRAIN_PER_LIST

K = 10
SEED = 20241125
HNSW_M, HNSW_EF_CONSTRUCTION = 32, 80  # the comparison: HNSW as the index used it before IVF replaced it
EF_SEARCH = (16, 32, 64, 96, 128, 256, 512, 1024, 2048, 4096)
IVF_NLIST = IVF_LISTS  # the index's own IVF settings; its nprobe is one of those swept
NPROBE = tuple(sorted({4, 8, 16, 32, 64, IVF_PROBES, 256, 512}))
TARGET_RECALL = 0.95
TARGET_P50_MS = 20.0
NOISE_COSINE = 0.95  # a text-like copy keeps this cosine with its source vector, on average


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def random_vectors(n: int, d: int = 384, *, seed: int = SEED) -> np.ndarray:
    """``n`` random unit vectors, float32, drawn in blocks (no float64 copy of the whole set)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 100_000):
        block = rng.standard_normal((min(100_000, n - start), d), dtype=np.float32)
        out[start:start + len(block)] = _normalise(block)
    return out


def text_like_vectors(base: np.ndarray, n: int, *, cosine: float = NOISE_COSINE, seed: int = SEED) -> np.ndarray:
    """``n`` unit vectors: all of ``base``, then noisy copies of random ``base`` rows (cosine ~``cosine``)."""
    if not 0 < cosine <= 1:
        raise ValueError(f"cosine must be in (0, 1], got {cosine}")
    rng = np.random.default_rng(seed)
    d = base.shape[1]
    sigma = np.sqrt((1 / cosine**2 - 1) / d)
    out = np.empty((n, d), dtype=np.float32)
    out[: min(n, len(base))] = base[:n]
    for start in range(len(base), n, 100_000):
        rows = rng.integers(0, len(base), min(100_000, n - start))
        block = base[rows] + rng.normal(0, sigma, (len(rows), d)).astype(np.float32)
        out[start:start + len(rows)] = _normalise(block)
    return out


def exact_neighbours(data: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    index = faiss.IndexFlatIP(data.shape[1])
    index.add(data)
    return index.search(queries, k)[1]


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each query's true top-k found in its returned top-k."""
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def single_query_ms(index, queries: np.ndarray, k: int = K) -> list[float]:
    """Milliseconds of each query searched alone (one row at a time)."""
    times = []
    for row in range(len(queries)):
        started = time.perf_counter()
        index.search(queries[row:row + 1], k)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


@dataclass(frozen=True)
class Setting:
    """One search setting (efSearch or nprobe): recall@10 and single-query latency."""

    value: int
    recall: float
    p50_ms: float
    p95_ms: float


def _tune(index, values: tuple[int, ...], set_value, queries: np.ndarray, truth: np.ndarray) -> list[Setting]:
    """Recall and latency at each setting, stopping once recall is near perfect or search is far too slow."""
    settings = []
    for value in values:
        set_value(index, value)
        recall = recall_at_k(index.search(queries, K)[1], truth)
        times = single_query_ms(index, queries)
        settings.append(Setting(value, recall, float(np.percentile(times, 50)), float(np.percentile(times, 95))))
        if recall >= 0.995 or settings[-1].p50_ms > 10 * TARGET_P50_MS:
            break
    return settings


def _report(kind: str, build_s: float, memory_mb: float, settings: list[Setting]) -> dict:
    good = [s for s in settings if s.recall >= TARGET_RECALL]
    chosen = good[0] if good else max(settings, key=lambda s: s.recall)
    return {"index": kind, "build_seconds": build_s, "memory_mb": memory_mb, "chosen": chosen.__dict__,
            "reached_recall": bool(good), "sweep": [s.__dict__ for s in settings]}


def hnsw_run(data: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> dict:
    """Build ``IndexHNSWFlat(M=32)``, then raise efSearch until recall@10 reaches the target."""
    before = _rss_mb()
    started = time.perf_counter()
    index = faiss.IndexHNSWFlat(data.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(data)
    build = time.perf_counter() - started
    memory = _rss_mb() - before
    settings = _tune(index, EF_SEARCH, lambda i, ef: setattr(i.hnsw, "efSearch", ef), queries, truth)
    return _report(f"HNSWFlat M={HNSW_M} efConstruction={HNSW_EF_CONSTRUCTION}", build, memory, settings)


def ivf_run(data: np.ndarray, queries: np.ndarray, truth: np.ndarray, *, seed: int = SEED) -> dict:
    """Train ``IndexIVFFlat`` (1024 lists) on a 50k sample, add all, raise nprobe until recall reaches the target."""
    before = _rss_mb()
    started = time.perf_counter()
    quantizer = faiss.IndexFlatIP(data.shape[1])
    index = faiss.IndexIVFFlat(quantizer, data.shape[1], IVF_NLIST, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(seed).choice(len(data), min(len(data), IVF_TRAIN_PER_LIST * IVF_NLIST),
                                                replace=False)
    index.train(data[np.sort(sample)])
    index.add(data)
    build = time.perf_counter() - started
    memory = _rss_mb() - before
    settings = _tune(index, NPROBE, lambda i, nprobe: setattr(i, "nprobe", nprobe), queries, truth)
    report = _report(f"IVFFlat nlist={IVF_NLIST}", build, memory, settings)
    report["index_setting"] = next((s.__dict__ for s in settings if s.value == IVF_PROBES), None)
    return report


def ann_dataset(name: str, data: np.ndarray, queries: np.ndarray, *, ivf: bool = True) -> dict:
    """Exact truth, HNSW and (with ``ivf``) IVF on one data set."""
    started = time.perf_counter()
    truth = exact_neighbours(data, queries)
    exact_s = time.perf_counter() - started
    flat = faiss.IndexFlatIP(data.shape[1])
    flat.add(data)
    exact_times = single_query_ms(flat, queries[:50])
    del flat
    result = {"data": name, "n": len(data), "d": data.shape[1], "queries": len(queries),
              "exact": {"seconds_all_queries": exact_s, "p50_ms": float(np.percentile(exact_times, 50))},
              "runs": [hnsw_run(data, queries, truth)]}
    if ivf:
        result["runs"].append(ivf_run(data, queries, truth))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def medquad_vectors(index_dir) -> np.ndarray:
    """All chunk and sentence vectors of the live version of a MedQuAD index (the text-like seeds)."""
    from ingest.db import open_segments
    from ingest.store import IndexStore

    live = IndexStore(index_dir).live()
    segments = open_segments(live.path, live.manifest)
    parts = [segments[kind].live()[1] for kind in ("chunks", "sentences")]
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def medquad_query_vectors(n: int = 200) -> np.ndarray:
    """Real MedQuAD questions (evenly spaced ids), encoded by the model."""
    from bench.corpora import MEDQUAD_DIR
    from evaluation.beir import _read_jsonl, sample_ids
    from ingest.encoder import SentenceTransformerEncoder

    queries = {q["_id"]: q["text"] for q in _read_jsonl(MEDQUAD_DIR / "queries.jsonl")}
    return SentenceTransformerEncoder().encode([queries[i] for i in sample_ids(list(queries), n)])


def run_ann(n: int, text_index, *, queries: int = 200, ivf: bool = True, data: str = "both", log=print) -> list[dict]:
    """The random and/or (``data``) the text-like data set of ``n`` vectors; text-like needs ``text_index``."""
    results = []
    if data in ("random", "both"):
        log(f"ANN: {n} random unit vectors, d=384")
        results.append(ann_dataset("random", random_vectors(n), random_vectors(queries, seed=SEED + 1), ivf=ivf))
    if data in ("text", "both") and text_index is not None:
        base = medquad_vectors(text_index)
        log(f"ANN: {n} text-like vectors from {len(base)} MedQuAD vectors of {text_index}")
        vectors = text_like_vectors(base, n)
        del base
        results.append(ann_dataset(f"text-like ({n} from MedQuAD chunk and sentence vectors + noise, cosine "
                                   f"{NOISE_COSINE})", vectors, medquad_query_vectors(queries), ivf=ivf))
    return results
