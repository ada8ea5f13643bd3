"""Fit the extract ranker and the abstention calibration on the dev questions: python -m evaluation.fit.

1. Ranker: every candidate span of the top chunks of each answerable dev question is a row; its label says
   whether the span contains a gold answer phrase. A logistic model over ``retrieval.ranker.FEATURES``.
2. Calibration: with that ranker, every dev question's answer gives ``retrieval.confidence.FEATURES``;
   label 1 for answerable. A logistic model, then the threshold that abstains on the most unanswerable
   dev questions while falsely abstaining on at most ``--max-false-rate`` of the answerable ones (2%: about one
   in a set of 50; the midpoint of the gap between the two confidences it separates).

Only the dev split is used; the test split is reported, never fitted. Writes retrieval/ranker.json and
retrieval/calibration.json (``--dry-run`` prints instead).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from evaluation.metrics import contains_answer
from evaluation.questions import Question, read_questions, select_split
from ingest.load import ROOT
from retrieval.answer import RetrievalSettings, measure_missing, prepare_query, retrieve, span_units
from retrieval.confidence import FEATURES as CONFIDENCE_FEATURES
from retrieval.confidence import Calibration
from retrieval.extract import _span
from retrieval.index import Index, load_index
from retrieval.ranker import Ranker, fit_listwise, fit_logistic

QUESTIONS = ROOT / "evaluation" / "questions.jsonl"


def ranker_rows(index: Index, questions: list[Question], settings: RetrievalSettings
                ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per answerable question: feature rows of its candidate spans and 0/1 labels from the gold phrases."""
    grouped = []
    for question in questions:
        if question.unanswerable:
            continue
        query, vectors = prepare_query(index, question.question, settings)
        units, by_chunk, _ = span_units(index, query, vectors, settings)
        rows, labels = [], []
        for unit in units:
            span = _span(index, by_chunk[unit.chunk_id], unit)
            text = index.article_text(span[0].article_id)[span[0].start:span[-1].end]
            rows.append(unit.features)
            labels.append(float(contains_answer(text, question.answers)))
        if rows:
            grouped.append((np.array(rows), np.array(labels)))
    return grouped


def top1(weights: np.ndarray, grouped: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Share of questions whose highest-scoring span holds a gold phrase."""
    return float(np.mean([bool(labels[np.argmax(rows @ weights)]) for rows, labels in grouped]))


def cross_validated_top1(grouped: list[tuple[np.ndarray, np.ndarray]], l2: float, *, folds: int = 5,
                         shuffles: int = 3) -> float:
    """Top-1 of the listwise ranker on held-out folds of the questions, averaged over seeded shuffles."""
    scores = []
    for seed in range(shuffles):
        order = np.random.default_rng(seed).permutation(len(grouped))
        for fold in range(folds):
            held = set(order[fold::folds].tolist())
            weights = fit_listwise([g for i, g in enumerate(grouped) if i not in held], l2=l2)
            scores.append(top1(weights, [grouped[i] for i in sorted(held)]) * len(held))
    return sum(scores) / (shuffles * len(grouped))


def choose_threshold(confidences: np.ndarray, answerable: np.ndarray, max_false: int) -> float:
    """The threshold abstaining on the most unanswerable questions with at most ``max_false`` false
    abstentions; midway between the confidences on either side of it."""
    best, best_caught = 0.0, -1
    for candidate in np.unique(confidences):
        abstain = confidences < candidate
        false = int((abstain & answerable).sum())
        caught = int((abstain & ~answerable).sum())
        if false <= max_false and caught > best_caught:
            best, best_caught = float(candidate), caught
    below = confidences[confidences < best]
    return (best + float(below.max())) / 2 if len(below) else best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.fit", description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--l2-ranker", type=float, default=0.01,
                        help="ridge penalty of the ranker (default 0.01, chosen with --cv)")
    parser.add_argument("--cv", type=float, nargs="+", metavar="L2",
                        help="only report the ranker's 5-fold cross-validated top-1 on dev for these penalties")
    parser.add_argument("--l2-calibration", type=float, default=0.3,
                        help="ridge penalty of the calibration (default 0.3)")
    parser.add_argument("--max-false-rate", type=float, default=0.02,
                        help="share of answerable dev questions that may be falsely abstained on (default 0.02)")
    parser.add_argument("--exclude", nargs="+", default=[], metavar="PREFIX",
                        help="leave out dev questions whose id starts with PREFIX "
                             "(the committed models: dev-w1 dev-w2)")
    parser.add_argument("--dry-run", action="store_true", help="print the fitted models, write nothing")
    args = parser.parse_args(argv)
    index = load_index(args.index)
    dev = [q for q in select_split(read_questions(args.questions), "dev") if not q.id.startswith(tuple(args.exclude))]
    command = "python -m evaluation.fit" + "".join(f" --exclude {prefix}" for prefix in args.exclude)
    settings = RetrievalSettings()
    grouped = ranker_rows(index, dev, settings)
    if args.cv:
        for l2 in args.cv:
            print(f"L2 {l2}: 5-fold cross-validated top-1 {cross_validated_top1(grouped, l2):.3f} "
                  f"({len(grouped)} answerable dev questions with candidates, 3 shuffles)")
        return 0
    weights = fit_listwise(grouped, l2=args.l2_ranker)
    x = np.vstack([rows for rows, _ in grouped])
    y = np.concatenate([labels for _, labels in grouped])
    (scale,), offset = fit_logistic((x @ weights)[:, None], y, l2=0.0)
    ranker = Ranker(tuple(float(w) for w in weights), float(scale), offset,
                    f"listwise softmax ranking (L2 {args.l2_ranker}) over {len(y)} candidate spans of {len(grouped)} answerable "
                    f"dev questions ({int(y.sum())} contain a gold phrase), Platt-scaled to probabilities; "
                    f"{command}")
    features, answerable = [], []
    for question in dev:
        retrieved = retrieve(question.question, index, settings=settings, ranker=ranker)
        measured = measure_missing(index, retrieved)
        features.append([measured[f] for f in CONFIDENCE_FEATURES])
        answerable.append(not question.unanswerable)
    fx, fy = np.array(features), np.array(answerable)
    c_weights, c_bias = fit_logistic(fx, fy.astype(float), l2=args.l2_calibration)
    fitted = Calibration(tuple(float(w) for w in c_weights), c_bias, 0.0)
    confidences = np.array([fitted.confidence(dict(zip(CONFIDENCE_FEATURES, row))) for row in fx])
    max_false = int(args.max_false_rate * fy.sum())
    threshold = choose_threshold(confidences, fy, max_false)
    abstain = confidences < threshold
    calibration = Calibration(
        fitted.weights, fitted.bias, round(threshold, 6),
        f"logistic regression (L2 {args.l2_calibration}) on {len(fy)} dev questions ({int((~fy).sum())} unanswerable); threshold "
        f"chosen to abstain on the most unanswerable dev questions with at most {max_false} false abstention(s) "
        f"({args.max_false_rate:.0%} of the answerable ones): "
        f"{int((abstain & ~fy).sum())}/{int((~fy).sum())} abstained, {int((abstain & fy).sum())} false; "
        f"{command}")
    if args.dry_run:
        print(json.dumps({"ranker": ranker.__dict__, "calibration": calibration.__dict__}, indent=1, default=list))
        return 0
    ranker.save()
    calibration.save()
    print(f"ranker: {ranker.method}\ncalibration: {calibration.method}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
