"""How sure an answer is, and the recorded threshold below which the tool says the articles do not answer.

Confidence is a logistic model over ``FEATURES``; its weights and the threshold are fitted on the dev
questions by ``python -m evaluation.fit`` and stored in ``retrieval/calibration.json``.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ingest.encoder import Encoder
from retrieval.extract import Candidate, covered_stems
from retrieval.query import NEIGHBOUR_SIMILARITY, Query

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
FEATURES = ("probability", "similarity", "unknown", "unknown_rare", "missing_quantity", "missing_weight")
MAX_MISSING_WORDS = 4  # words of the question weighed for being missing from the answer (one encoder batch)
_ASKS_AMOUNT = re.compile(r"\b(?:how\s+(?:much|many)|dose|dosage|doses|mg|milligrams?|mcg|iu|units?\s+of)\b",
                          re.IGNORECASE)
# An amount answers "how much/many": a number with what it counts ("90%", "two to five years", "a few days",
# "400 mg"), not any digit ("vitamin B12").
_NUMBER = (r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twice|once|half|dozen|hundred|"
           r"thousand|few|several|many)")
_AMOUNT = re.compile(rf"\b{_NUMBER}(?:\s*(?:-|to|or)\s*{_NUMBER})?\s*(?:%|percent\b|mg\b|milligrams?\b|grams?\b|"
                     r"g\b|mcg\b|iu\b|units?\b|ml\b|times\b|hours?\b|days?\b|weeks?\b|months?\b|years?\b|"
                     r"people\b|patients\b|cases\b|in \d+\b|out of\b|per\b|a day\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Calibration:
    """Logistic weights over ``FEATURES`` and the abstention threshold, with how they were chosen."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    method: str = ""

    def confidence(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * features[name] for w, name in zip(self.weights, FEATURES))
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def undecided(self, features: dict[str, float], name: str, low: float, high: float) -> bool:
        """True when feature ``name``, anywhere in [``low``, ``high``], could put the confidence on either side
        of the threshold; False when the decision is the same for every value in that range."""
        ends = [self.confidence({**features, name: value}) >= self.threshold for value in (low, high)]
        return ends[0] != ends[1]

    def save(self, path: Path = CALIBRATION_FILE) -> None:
        data = asdict(self)
        data["features"] = list(FEATURES)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


@lru_cache(maxsize=4)
def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    """The recorded calibration.

    Raises:
        FileNotFoundError: no calibration file (run ``python -m evaluation.fit``).
        ValueError: the file's features differ from ``FEATURES``.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data.get("features", ())) != FEATURES:
        raise ValueError(f"{path} was fitted on features {data.get('features')}, this code uses {list(FEATURES)}")
    return Calibration(tuple(data["weights"]), data["bias"], data["threshold"], data.get("method", ""))


def missing_words(query: Query, candidates: list[Candidate]) -> list[str]:
    """Words of the question the best span does not contain: the corpus's unknown ones first, then topic words
    the span leaves out (at most ``MAX_MISSING_WORDS``). An alias in the span covers the name it stands for
    ("MS" covers "multiple sclerosis": ``covered_stems``), as it does for the span's coverage."""
    covered = covered_stems(candidates[0].stems, query.equivalents) if candidates else set()
    missing = [query.written[s] for s in query.unknown if s in query.written and s not in query.neighbours]
    missing += [query.written[t] for t in query.terms if t not in covered and t in query.written]
    return list(dict.fromkeys(missing))[:MAX_MISSING_WORDS]


def missing_weight(encoder: Encoder, question: str, question_vector: np.ndarray, words: list[str]) -> float:
    """How much of the question's meaning rests on words the answer lacks: the largest drop in similarity
    between the question and the question with one such word removed (0 when none), at most 1."""
    if not words:
        return 0.0
    shortened = [re.sub(rf"\b{re.escape(word)}\b", " ", question, flags=re.IGNORECASE) for word in words]
    return float(min(1.0, max(0.0, 1.0 - float((encoder.encode(shortened) @ question_vector).min()))))


def confidence_features(query: Query, candidates: list[Candidate], weights: dict[str, float]) -> dict[str, float]:
    """The features of an answer: the ranker's best probability, best similarity, weighted share of terms the
    corpus does not use (and of those the model does not know either), whether an amount was asked for and the
    best span has none, and "missing_weight" at 0 (it takes another encoder call:
    ``retrieval.answer.measure_missing`` measures it when it matters).

    ``weights`` are the IDF weights of the query's known terms; an unknown term weighs as the rarest term, and
    counts as unknown as far as it is from the closest word the corpus uses (``Query.neighbours``), measured from
    ``NEIGHBOUR_SIMILARITY`` up, when the best span uses that word, and wholly otherwise.
    """
    rarest = max(weights.values(), default=1.0)
    total = sum(weights.values()) + rarest * len(query.unknown)

    # a word the corpus lacks is as familiar as its nearest corpus word only when the answer uses that word: a
    # span on "treatment" does not answer "cure" ("is there a cure for ALS"), one on "caffeine" answers "coffee";
    # and only as far as that word is closer than the least a neighbour must be (cure -> treatment, 0.71, barely is)
    said = candidates[0].stems if candidates else frozenset()
    closeness = {s: max(0.0, (cos - NEIGHBOUR_SIMILARITY) / (1.0 - NEIGHBOUR_SIMILARITY))
                 for s, (near, cos) in query.neighbours.items() if near in said}

    def strangeness(stems: list[str]) -> float:
        return 1.0 if total == 0 else rarest * sum(1.0 - closeness.get(s, 0.0) for s in stems) / total

    top = candidates[:3]
    asks_amount = bool(_ASKS_AMOUNT.search(query.text))
    return {
        "probability": max((c.probability for c in top), default=0.0),
        "similarity": max((c.similarity for c in top), default=0.0),
        "unknown": strangeness(query.unknown),
        # of those, the words the model does not know either: a named drug or a thing of another field
        "unknown_rare": strangeness(query.rare),
        "missing_quantity": float(asks_amount and not any(_AMOUNT.search(c.text) for c in top[:1])),
        "missing_weight": 0.0,
    }
