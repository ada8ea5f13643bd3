"""python -m bench [--only seed|medquad] [--max-docs N] [--json] [--cache DIR] [--ann]: the performance table.

Ingest, warm answer() latency, re-ingest and cold start for the seed corpus and MedQuAD; ``--ann`` runs only the
synthetic million-vector ANN comparison. A fresh MedQuAD ingest is measured once and cached with its index
(``--rebuild`` measures it again). Every report carries the date and the machine's load average.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from bench.corpora import Corpus, cycle, medquad_corpus, medquad_documents, medquad_questions, seed_corpus, \
    seed_questions
from bench.measure import LoadSampler, ProcessRun, load_average, now, python_command, run_measured
from ingest.load import ROOT

BARE_LIMIT = 20_000  # texts the bare model encodes as the yardstick (every n-th by length beyond this)


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure ingest, answer() latency, re-ingest and cold start; or, with --ann, ANN at 1M vectors.")
    parser.add_argument("--only", choices=("seed", "medquad"), help="benchmark one corpus (default: both)")
    parser.add_argument("--max-docs", type=int, metavar="N", help="MedQuAD: only N documents (whole pages)")
    parser.add_argument("--questions", type=int, default=200, metavar="N", help="warm answer() calls (default 200)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="re-ingests and cold starts per corpus; the table shows medians (default 3)")
    parser.add_argument("--no-page", action="store_true", help="skip the page (Streamlit + Chromium) cold start")
    parser.add_argument("--rebuild", action="store_true", help="measure a fresh ingest even if one is cached")
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "bench", metavar="DIR",
                        help="indexes and recorded ingests (default: .cache/bench/)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--ann", action="store_true", help="run only the synthetic ANN comparison")
    parser.add_argument("--ann-size", type=int, default=1_000_000, metavar="N", help="ANN vectors (default 1M)")
    parser.add_argument("--no-ivf", action="store_true", help="ANN: HNSW only")
    parser.add_argument("--ann-data", choices=("text", "random", "both"), default="both",
                        help="ANN: text-like vectors (from the MedQuAD index), random ones, or both (default)")
    return parser


def ingest_with_yardstick(corpus: Corpus, *, rebuild: bool) -> dict:
    """The recorded fresh ingest, with the bare model's throughput on its texts measured right after it."""
    from bench.encode_bare import bare_encode, embedded_texts, timed_encode
    from bench.ingest_run import fresh_ingest
    from ingest.encoder import SentenceTransformerEncoder, export_onnx, ingest_encoder

    record = fresh_ingest(corpus, rebuild=rebuild)
    export_onnx(corpus.index)  # an index cached by an older bench has none yet
    if "bare" not in record or "bare_onnx" not in record:
        _log(f"{corpus.name}: bare encodes of the ingested texts (at most {BARE_LIMIT}): "
             "sentence-transformers, then the ONNX export")
        encoder = SentenceTransformerEncoder()
        texts = embedded_texts(corpus.source, corpus.index, encoder)
        bare = bare_encode(encoder.model, texts, batch_size=encoder.batch_size, limit=BARE_LIMIT)
        onnx = timed_encode(ingest_encoder(corpus.index).encode, texts, batch_size=encoder.batch_size,
                            limit=BARE_LIMIT)
        for key, run in (("bare", bare), ("bare_onnx", onnx)):
            record[key] = {"texts": run.texts, "total": run.total, "seconds": run.seconds,
                           "per_second": run.per_second, "date": now(), "load": load_average()}
        saved = {k: v for k, v in record.items() if k != "reused"}
        corpus.record.write_text(json.dumps(saved, indent=1), encoding="utf-8")
    return record


def bench_corpus(corpus: Corpus, questions, args) -> dict:
    """Everything measured on one corpus; ``questions(index)`` gives the questions to ask."""
    from bench.latency import measure_latency
    from bench.reingest import measure_reingest
    from ingest.encoder import SentenceTransformerEncoder
    from retrieval import load_index

    result: dict = {"corpus": corpus.name, "source": str(corpus.source), "load": {}}
    result["ingest"] = ingest_with_yardstick(corpus, rebuild=args.rebuild)
    index = load_index(corpus.index)
    index.encoder.warm_up()
    model = SentenceTransformerEncoder()  # the bare model: the yardstick
    model.warm_up()
    asked = questions(index)
    page = corpus.name == "seed" and not args.no_page
    steps = {
        "latency": (f"{len(asked)} warm answer() calls, bare encodes and baselines",
                    lambda: measure_latency(index, asked, model).summary()),
        "reingest": (f"{args.repeat} x re-ingest (unchanged, then one article edited)",
                     lambda: [measure_reingest(corpus, model) for _ in range(args.repeat)]),
        "cold_start": (f"{args.repeat} x cold start (CLI{' and page' if page else ''})",
                       lambda: _cold_start(corpus, args.repeat, page)),
    }
    for name, (what, measure) in steps.items():
        _log(f"{corpus.name}: {what}")
        with LoadSampler(every=5) as load:
            result[name] = measure()
        result["load"][name] = load.summary()
    return result


def _cold_start(corpus: Corpus, repeat: int, page: bool) -> dict:
    from bench.coldstart import measure_cold_start

    with tempfile.TemporaryDirectory(prefix="coldstart-", dir=corpus.folder) as scratch:
        return measure_cold_start(corpus.index, Path(scratch), repeat=repeat, page=page)


def largest_medquad_index(cache: Path) -> Path | None:
    """The cached MedQuAD index with the most chunks (the text-like ANN vectors come from it)."""
    from ingest.store import IndexStore

    sizes = {current.parent: IndexStore(current.parent).live().manifest["counts"]["chunks"]
             for current in cache.glob("medquad-*/index/CURRENT")}
    return max(sizes, key=sizes.get) if sizes else None


def prepare_model(env: dict | None = None) -> ProcessRun:
    """Setup's step, ``python -m ingest --prepare-model``, in a child process (``env``: extra variables)."""
    run = run_measured(python_command("-m", "ingest", "--prepare-model"), env=env)
    if run.returncode != 0:
        raise RuntimeError(f"python -m ingest --prepare-model failed with code {run.returncode}")
    return run


def measure_model_export() -> dict:
    """The one-off ONNX export that setup makes, timed into an empty cache: it is no part of any ingest measured
    here, which all find the export made."""
    with tempfile.TemporaryDirectory(prefix="onnx-export-") as scratch:
        run = prepare_model({"QA_MODEL_CACHE": scratch})
    return {"seconds": run.seconds, "max_rss_mb": run.max_rss_mb}


def run(args) -> dict:
    cache = args.cache.resolve()
    report: dict = {"date": now(), "cpus": os.cpu_count(), "load_start": load_average(), "corpora": []}
    if args.ann:
        from bench.ann import run_ann

        text_index = largest_medquad_index(cache)
        if text_index is None:
            _log("no MedQuAD index in the cache: text-like ANN skipped (run python -m bench --only medquad first)")
        report["ann"] = run_ann(args.ann_size, text_index, ivf=not args.no_ivf, data=args.ann_data, log=_log)
    else:
        if args.rebuild:
            _log("the model's one-off ONNX export (setup's step), into an empty cache")
            report["model_export"] = measure_model_export()
        prepare_model()  # as setup does, in case it was skipped
        if args.only in (None, "seed"):
            seed = seed_corpus(cache)
            report["corpora"].append(bench_corpus(seed, lambda index: cycle(seed_questions(), args.questions), args))
        if args.only in (None, "medquad"):
            documents = medquad_documents(args.max_docs)
            medquad = medquad_corpus(cache, args.max_docs, documents)
            report["corpora"].append(bench_corpus(
                medquad, lambda index: medquad_questions(set(index.articles), args.questions), args))
    report["load_end"] = load_average()
    return report


def format_report(report: dict) -> str:
    from bench.report import ann_table, corpus_table

    load = "/".join(f"{x:.2f}" for x in report["load_start"]) + " -> " + "/".join(
        f"{x:.2f}" for x in report["load_end"])
    lines = [f"bench {report['date']} on {report['cpus']} CPUs; load average (1/5/15 min) {load}"]
    if report.get("model_export"):
        export = report["model_export"]
        lines.append(f"setup's one-off ONNX export of the installed model (python -m ingest --prepare-model): "
                     f"{export['seconds']:.1f} s, peak RSS {export['max_rss_mb']:.0f} MB; every ingest below finds "
                     "it made")
    if report["corpora"]:
        lines.append(corpus_table(report["corpora"]))
    if report.get("ann"):
        lines.append(ann_table(report["ann"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    for name in ("questions", "repeat", "ann_size"):
        if getattr(args, name) < 1:
            print(f"error: --{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}", file=sys.stderr)
            return 2
    if args.max_docs is not None and args.max_docs < 1:
        print(f"error: --max-docs must be at least 1, got {args.max_docs}", file=sys.stderr)
        return 2
    report = run(args)
    args.cache.mkdir(parents=True, exist_ok=True)
    (args.cache / "last.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps(report) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
