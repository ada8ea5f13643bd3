"""python -m evaluation.gate [--index DIR] [--thresholds FILE] [--no-beir] [--json]: the CI quality gate.

Runs the full pipeline on the gold questions (both splits) over the seed corpus, and on a tiny BEIR sample when
the benchmark folder is there, then exits 1 naming every metric on the wrong side of its threshold in
``evaluation/thresholds.json``. Without ``--index`` it ingests ``corpus/`` into ``.cache/gate/index``
(incremental: a no-op when the index is up to date, about 15 s from scratch).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = Path(__file__).with_name("thresholds.json")
QUESTIONS = Path(__file__).with_name("questions.jsonl")
GATE_INDEX = ROOT / ".cache" / "gate" / "index"
BEIR_DIR = ROOT.parent / "shared" / "benchmarks" / "medquad"
BEIR_SAMPLE = {"max_docs": 200, "max_queries": 200}  # a minute or two including the first ingest
EXIT_FAILED, EXIT_ERROR = 1, 2


def flatten(results: dict, prefix: str = "") -> dict[str, float | int | None]:
    """Nested metric dicts as ``a/b/c`` keys (``{"gold": {"dev": {"mrr@10": 0.7}}}`` → ``gold/dev/mrr@10``)."""
    flat: dict[str, float | int | None] = {}
    for key, value in results.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}/"))
        else:
            flat[name] = value
    return flat


def violations(measured: dict[str, float | int | None], thresholds: dict) -> list[str]:
    """One message per metric below its ``min`` or above its ``max`` threshold, or not measured at all.

    Raises:
        ValueError: ``thresholds`` has a key other than ``min``, ``max`` and ``_comment``-like ones.
    """
    unknown = [k for k in thresholds if not k.startswith("_") and k not in ("min", "max")]
    if unknown:
        raise ValueError(f"thresholds may only hold 'min', 'max' and '_comment' keys, got {unknown}")
    found = []
    for bound, limits in (("min", thresholds.get("min", {})), ("max", thresholds.get("max", {}))):
        for metric, limit in sorted(limits.items()):
            value = measured.get(metric)
            if value is None:
                found.append(f"{metric} was not measured (threshold {bound} {limit})")
            elif bound == "min" and value < limit:
                found.append(f"{metric} = {value:.3f} is below its threshold {limit}")
            elif bound == "max" and value > limit:
                found.append(f"{metric} = {value:.3f} is above its threshold {limit}")
    return found


def without(thresholds: dict, prefix: str) -> dict:
    """``thresholds`` without the metrics whose name starts with ``prefix`` (for a part that was skipped)."""
    return {bound: {m: v for m, v in limits.items() if not m.startswith(prefix)} if bound in ("min", "max") else limits
            for bound, limits in thresholds.items()}


def gate_index(index: Path | None) -> Path:
    """``index`` if given, else the seed corpus ingested (incrementally) into ``.cache/gate/index``."""
    if index is not None:
        return index
    from ingest.encoder import ingest_encoder
    from ingest.pipeline import Settings, ingest

    ingest([ROOT / "corpus"], ingest_encoder(GATE_INDEX), Settings(index_dir=GATE_INDEX))
    return GATE_INDEX


def measure(index_path: Path, *, beir: bool) -> dict:
    """Gold metrics of the full pipeline per split, and (if ``beir``) the tiny BEIR sample's metrics."""
    from evaluation.questions import read_disagreement, read_questions
    from evaluation.run import evaluate
    from evaluation.systems import encode_questions, make_systems
    from retrieval import load_index

    questions = read_questions(QUESTIONS)
    disagreement = read_disagreement(QUESTIONS.with_name("disagreement.json"), {q.id for q in questions})
    index = load_index(index_path)
    systems = make_systems(index, ("full",))
    encode_questions(index, [q.question for q in questions])
    report = evaluate(questions, systems, disagreement)
    results: dict = {"gold": {split: by_system["full"] for split, by_system in report["splits"].items()}}
    if beir:
        from evaluation.beir_run import run_beir

        beir_report = run_beir(BEIR_DIR, ("full",), cache=ROOT / ".cache" / "beir", **BEIR_SAMPLE)
        results["beir"] = {"full": beir_report["systems"]["full"]["metrics"]["qrels"]}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.gate", description=__doc__.split("\n\n")[1])
    parser.add_argument("--index", type=Path, metavar="DIR", help="index to gate (default: build .cache/gate/index)")
    parser.add_argument("--thresholds", type=Path, default=THRESHOLDS, metavar="FILE")
    parser.add_argument("--no-beir", action="store_true", help="skip the tiny BEIR sample")
    parser.add_argument("--json", action="store_true", help="print the measured metrics and violations as JSON")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        thresholds = json.loads(args.thresholds.read_text(encoding="utf-8"))
        beir = not args.no_beir and BEIR_DIR.is_dir()
        measured = flatten(measure(gate_index(args.index), beir=beir))
        if not beir:
            thresholds = without(thresholds, "beir/")
        failed = violations(measured, thresholds)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps({"measured": measured, "violations": failed, "seconds": round(seconds, 1)}))
    else:
        checked = sorted(set(thresholds.get("min", {})) | set(thresholds.get("max", {})))
        for metric in checked:
            print(f"{metric:45} {'-' if measured.get(metric) is None else f'{measured[metric]:.3f}'}")
        if not beir:
            print(f"(BEIR sample skipped: {'--no-beir' if args.no_beir else f'no {BEIR_DIR}'})")
        print("\n".join(f"FAIL {v}" for v in failed) or f"gate passed: {len(checked)} metrics checked")
        print(f"({seconds:.0f} s)")
    return EXIT_FAILED if failed else 0


if __name__ == "__main__":
    sys.exit(main())
