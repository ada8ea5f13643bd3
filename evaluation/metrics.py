"""Pure metric functions over per-question results. Undefined ratios (empty denominator) are ``None``.

Ranks are 1-based positions of the first correct item, ``None`` when nothing correct was returned.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

_WHITESPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-cased, every whitespace run collapsed to one space, stripped: the form answers are matched in."""
    return _WHITESPACE.sub(" ", text.lower()).strip()


def contains_answer(text: str, phrases: Iterable[str]) -> bool:
    """True when ``text`` contains at least one phrase, ignoring case and whitespace differences."""
    haystack = normalise(text)
    return any(normalise(phrase) in haystack for phrase in phrases)


def first_correct_rank(texts: Sequence[str], phrases: Sequence[str]) -> int | None:
    """1-based position of the first text containing an answer phrase, or ``None``."""
    return next((rank for rank, text in enumerate(texts, start=1) if contains_answer(text, phrases)), None)


def ratio(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator``, or ``None`` when the denominator is 0."""
    return None if denominator == 0 else numerator / denominator


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be greater than 0, got {k}")


def hit_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions whose first correct item is within the top ``k``."""
    _check_k(k)
    return ratio(sum(1 for r in ranks if r is not None and r <= k), len(ranks))


def wilson_interval(successes: int, total: int, *, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval of the share ``successes / total`` (95% for ``z`` = 1.96), or ``None`` when
    ``total`` is 0: how far a rate measured on a hundred questions could lie from the rate on questions like
    them, by the luck of which were asked."""
    if not 0 <= successes <= total:
        raise ValueError(f"successes must be between 0 and total ({total}), got {successes}")
    if total == 0:
        return None
    share, spread = successes / total, z * z / total
    centre = (share + spread / 2) / (1 + spread)
    half = z * math.sqrt(share * (1 - share) / total + spread / (4 * total)) / (1 + spread)
    return centre - half, centre + half


def mean_reciprocal_rank(ranks: Sequence[int | None], k: int = 10) -> float | None:
    """Mean of 1/rank over questions, counting a rank beyond ``k`` (or none) as 0."""
    _check_k(k)
    if not ranks:
        return None
    return sum(1 / r for r in ranks if r is not None and r <= k) / len(ranks)


def _check_lengths(*columns: Sequence[bool]) -> None:
    if len({len(c) for c in columns}) > 1:
        raise ValueError(f"columns differ in length: {[len(c) for c in columns]}")


def abstention_precision_recall(abstained: Sequence[bool], unanswerable: Sequence[bool]
                                ) -> tuple[float | None, float | None]:
    """(precision, recall) of abstaining, the positive class being the unanswerable questions.

    precision = abstained and unanswerable / abstained; recall = abstained and unanswerable / unanswerable.
    """
    _check_lengths(abstained, unanswerable)
    both = sum(1 for a, u in zip(abstained, unanswerable) if a and u)
    return ratio(both, sum(abstained)), ratio(both, sum(unanswerable))


def false_abstention_rate(abstained: Sequence[bool], unanswerable: Sequence[bool]) -> float | None:
    """Share of answerable questions that were abstained on."""
    _check_lengths(abstained, unanswerable)
    answerable = [a for a, u in zip(abstained, unanswerable) if not u]
    return ratio(sum(answerable), len(answerable))


def precision_recall(predicted: set[str], relevant: set[str]) -> tuple[float | None, float | None]:
    """(precision, recall) of a predicted set of ids against the relevant set."""
    both = len(predicted & relevant)
    return ratio(both, len(predicted)), ratio(both, len(relevant))


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, or ``None`` for no values."""
    return None if not values else sum(values) / len(values)
