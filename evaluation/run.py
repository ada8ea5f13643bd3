"""Run systems over gold questions and turn their responses into metrics and a list of failures."""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from evaluation.metrics import (abstention_precision_recall, false_abstention_rate, first_correct_rank, hit_at_k,
                                mean, mean_reciprocal_rank, precision_recall, wilson_interval)
from evaluation.questions import SPLITS, Question
from evaluation.systems import Response, Returned, System

HIT_KS = (1, 3, 5)
MRR_K = 10
SHOWN_CHARS = 160  # failures show this much of the top extract


@dataclass(frozen=True)
class Outcome:
    """One question scored against one system's response."""

    question: Question
    extract_rank: int | None  # first shown extract containing an answer phrase
    passage_rank: int | None  # first shown extract whose passage contains an answer phrase
    ranked_rank: int | None  # first of the (up to 10) ranked extracts containing an answer phrase
    abstained: bool
    disagreement: bool | None
    extract_lengths: tuple[int, ...]
    top: Returned | None  # first shown extract, or the first related passage when abstaining
    error: str = ""


def score(question: Question, response: Response) -> Outcome:
    """Score one response. An abstention returns nothing, so it ranks nothing (a miss when answerable)."""
    shown = () if response.abstained else response.shown
    ranked = () if response.abstained else response.ranked
    phrases = question.answers

    def rank(texts: list[str]) -> int | None:
        return first_correct_rank(texts, phrases) if phrases else None

    top = shown[0] if shown else (response.related[0] if response.related else None)
    return Outcome(question, rank([e.text for e in shown]), rank([e.passage for e in shown]),
                   rank([e.text for e in ranked]), response.abstained, response.disagreement,
                   tuple(len(e.text) for e in shown), top, response.error)


def summarise(outcomes: list[Outcome], disagreement_ids: frozenset[str]) -> dict[str, float | int | None]:
    """All metrics of one system on one set of questions (see the README section for definitions)."""
    answerable = [o for o in outcomes if not o.question.unanswerable]
    abstained = [o.abstained for o in outcomes]
    unanswerable = [o.question.unanswerable for o in outcomes]
    precision, recall = abstention_precision_recall(abstained, unanswerable)
    summary: dict[str, float | int | None] = {
        "questions": len(outcomes), "answerable": len(answerable), "unanswerable": sum(unanswerable),
    }
    for k in HIT_KS:
        summary[f"extract_hit@{k}"] = hit_at_k([o.extract_rank for o in answerable], k)
    summary["extract_hit@1_95ci"] = wilson_interval(sum(o.extract_rank == 1 for o in answerable), len(answerable))
    for k in HIT_KS:
        summary[f"passage_hit@{k}"] = hit_at_k([o.passage_rank for o in answerable], k)
    summary[f"mrr@{MRR_K}"] = mean_reciprocal_rank([o.ranked_rank for o in answerable], MRR_K)
    summary.update({
        "abstained": sum(abstained), "abstention_precision": precision, "abstention_recall": recall,
        "false_abstention_rate": false_abstention_rate(abstained, unanswerable),
        "mean_extract_chars": mean([n for o in outcomes for n in o.extract_lengths]),
    })
    if any(o.disagreement is not None for o in outcomes):
        fired = {o.question.id for o in outcomes if o.disagreement}
        gold = {o.question.id for o in outcomes} & disagreement_ids
        summary["disagreement_precision"], summary["disagreement_recall"] = precision_recall(fired, gold)
        summary["disagreement_fired"], summary["disagreement_gold"] = len(fired), len(gold)
    return summary


def failure_reasons(outcome: Outcome, disagreement_ids: frozenset[str]) -> list[str]:
    """Why a question counts as failed for a system; empty when it did not fail."""
    reasons = []
    if outcome.question.unanswerable and not outcome.abstained:
        reasons.append("answered an unanswerable question")
    elif not outcome.question.unanswerable and outcome.extract_rank is None:
        reasons.append("false abstention" if outcome.abstained else "no correct extract in the top 5")
    if outcome.error:
        reasons.append(f"question refused: {outcome.error}")
    if outcome.disagreement is not None:
        gold = outcome.question.id in disagreement_ids
        if gold and not outcome.disagreement:
            reasons.append("missed disagreement")
        elif outcome.disagreement and not gold:
            reasons.append("false disagreement")
    return reasons


def _shorten(text: str, width: int = SHOWN_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def failures(outcomes: list[Outcome], disagreement_ids: frozenset[str]) -> list[dict]:
    """The failed questions with what came back: top extract (shortened) and its article id."""
    listed = []
    for outcome in outcomes:
        reasons = failure_reasons(outcome, disagreement_ids)
        if not reasons:
            continue
        question = outcome.question
        listed.append({
            "id": question.id, "question": question.question, "reasons": reasons,
            "expected": "(unanswerable)" if question.unanswerable else _shorten(question.answers[0], 80),
            "abstained": outcome.abstained,
            "top_text": _shorten(outcome.top.text) if outcome.top else None,
            "top_article": outcome.top.article_id if outcome.top else None,
        })
    return listed


def run_system(system: System, questions: list[Question]) -> tuple[list[Outcome], float]:
    """Score ``system`` on every question; returns the outcomes and the seconds it took."""
    started = time.perf_counter()
    outcomes = [score(q, system(q.question)) for q in questions]
    return outcomes, time.perf_counter() - started


def evaluate(questions: list[Question], systems: Mapping[str, System], disagreement_ids: frozenset[str],
             splits: tuple[str, ...] = SPLITS) -> dict:
    """Metrics per split and system, failures per split and system, and seconds per system."""
    chosen = [q for q in questions if q.split in splits]
    report: dict = {"systems": list(systems), "splits": {s: {} for s in splits},
                    "failures": {s: {} for s in splits}, "seconds": {}}
    for name, system in systems.items():
        outcomes, seconds = run_system(system, chosen)
        report["seconds"][name] = round(seconds, 2)
        for split in splits:
            part = [o for o in outcomes if o.question.split == split]
            report["splits"][split][name] = summarise(part, disagreement_ids)
            report["failures"][split][name] = failures(part, disagreement_ids)
    return report

