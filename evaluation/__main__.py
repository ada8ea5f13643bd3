"""python -m evaluation QUESTIONS.jsonl [--index DIR] [--split dev|test|holdout] [--json]
python -m evaluation --beir DIR [--max-queries N] [--max-docs N] [--systems ...] [--cache DIR] [--json]"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from evaluation.questions import SPLITS, QuestionFileError, read_disagreement, read_questions
from evaluation.report import beir_text, gold_text

ROOT = Path(__file__).resolve().parent.parent
EXIT_ERROR, EXIT_USAGE = 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=(
        "Score retrieval on the gold questions (bm25, dense and full side by side), or on a BEIR benchmark."))
    parser.add_argument("questions", nargs="?", type=Path, metavar="QUESTIONS.jsonl", help="gold question file")
    parser.add_argument("--index", type=Path, default=Path("index"), metavar="DIR", help="index (default: index/)")
    parser.add_argument("--split", choices=SPLITS, help="only this split (default: all, reported apart)")
    parser.add_argument("--disagreement", type=Path, metavar="FILE",
                        help="ids of questions the articles disagree on (default: disagreement.json beside QUESTIONS)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--beir", type=Path, metavar="DIR", help="BEIR folder (corpus.jsonl, queries.jsonl, qrels.tsv)")
    parser.add_argument("--max-queries", type=int, metavar="N", help="BEIR: evenly spaced sample of N query ids")
    parser.add_argument("--max-docs", type=int, metavar="N", help="BEIR: deterministic subset of at most N documents")
    parser.add_argument("--systems", nargs="+", metavar="NAME",
                        help="BEIR: any of bm25 dense full bm25-doc (default: all four)")
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "beir", metavar="DIR",
                        help="BEIR: where ingested benchmark indexes are kept (default: .cache/beir/)")
    return parser


def gold_main(args: argparse.Namespace) -> int:
    from retrieval import load_index
    from evaluation.run import evaluate
    from evaluation.systems import encode_questions, make_systems
    from ingest.store import IndexUnavailable

    questions = read_questions(args.questions)
    disagreement = read_disagreement(args.disagreement or args.questions.with_name("disagreement.json"),
                                     {q.id for q in questions})
    try:
        index = load_index(args.index)
    except IndexUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    systems = make_systems(index)
    started = time.perf_counter()
    encode_questions(index, [q.question for q in questions])
    encode_seconds = round(time.perf_counter() - started, 2)
    report = evaluate(questions, systems, disagreement, (args.split,) if args.split else SPLITS)
    report = {"questions": str(args.questions), "index": str(args.index), "index_version": index.version,
              "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "encode_seconds": encode_seconds, **report}
    print(json.dumps(report) if args.json else gold_text(report))
    return 0


def beir_main(args: argparse.Namespace) -> int:
    from evaluation.beir_run import SYSTEMS, run_beir

    names = tuple(args.systems or SYSTEMS)
    report = run_beir(args.beir, names, max_queries=args.max_queries, max_docs=args.max_docs, cache=args.cache,
                      progress=not args.json)
    print(json.dumps(report) if args.json else beir_text(report))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if (args.questions is None) == (args.beir is None):
        parser.print_usage(sys.stderr)
        print("error: give either QUESTIONS.jsonl or --beir DIR", file=sys.stderr)
        return EXIT_USAGE
    try:
        return beir_main(args) if args.beir else gold_main(args)
    except (QuestionFileError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
