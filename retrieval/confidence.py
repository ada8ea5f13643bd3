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
MAX_MEASURED_WORDS = 12  # words whose weight in the question is measured (one encoder batch); others weigh wholly
# A word carries the question as far as removing it moves the question's vector (1 - cosine), up to this much:
# "pregnant" in "twitching while pregnant normal?" moves it 0.19 and counts wholly, "daughter" in a long message
# about a daughter's diet and twitching 0.01 and counts a third. Chosen by cross-validated abstention on dev
# (README, Evaluation).
MEANING_DROP = 0.03
# a question asking for a number: "how much/many", a dose, "what percent / proportion / share of", how long something
# lasts or people live (not "how long before I see a doctor")
_ASKS_AMOUNT = re.compile(r"\b(?:how\s+(?:much|many)|dose|dosage|doses|mg|milligrams?|mcg|iu|units?\s+of|"
                          r"what (?:percent(?:age)?|proportion|fraction|share)|percent(?:age)? of|"
                          r"how long(?=.*\b(?:last|lasts|live|lives|survive|take|takes)\b))\b", re.IGNORECASE)
# An amount answers "how much/many": a number with what it counts ("90%", "two to five years", "a few days",
# "400 mg"), not any digit ("vitamin B12").
_NUMBER = (r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twice|once|half|dozen|hundred|"
           r"thousand|few|several|many)")
_AMOUNT = re.compile(rf"\b{_NUMBER}(?:\s*(?:-|to|or)\s*{_NUMBER})?\s*(?:%|percent\b|mg\b|milligrams?\b|grams?\b|"
                     r"g\b|mcg\b|iu\b|units?\b|ml\b|times\b|hours?\b|days?\b|weeks?\b|months?\b|years?\b|"
                     r"people\b|patients\b|cases\b|in \d+\b|out of\b|per\b|a day\b)", re.IGNORECASE)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


@dataclass(frozen=True)
class Calibration:
    """Logistic weights over ``FEATURES`` and the abstention threshold, with how they were chosen."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    method: str = ""

    def confidence(self, features: dict[str, float]) -> float:
        return _sigmoid(self.bias + sum(w * features[name] for w, name in zip(self.weights, FEATURES)))

    def undecided(self, features: dict[str, float], ranges: dict[str, tuple[float, float]]) -> bool:
        """True when the features named in ``ranges``, each anywhere in its (low, high) range, could put the
        confidence on either side of the threshold; False when the decision is the same for every such value."""
        weights = dict(zip(FEATURES, self.weights))
        fixed = self.bias + sum(w * features[name] for name, w in weights.items() if name not in ranges)
        spans = [sorted((weights[name] * low, weights[name] * high)) for name, (low, high) in ranges.items()]
        lowest, highest = fixed + sum(s[0] for s in spans), fixed + sum(s[1] for s in spans)
        return (_sigmoid(lowest) >= self.threshold) != (_sigmoid(highest) >= self.threshold)

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


def measured_ranges(features: dict[str, float]) -> dict[str, tuple[float, float]]:
    """What measuring the words' weight (``word_weights``) can make of the unmeasured features: the unknown
    shares anywhere down to 0, "missing_weight" anywhere from 0 to 1."""
    return {"unknown": (0.0, features["unknown"]), "unknown_rare": (0.0, features["unknown_rare"]),
            "missing_weight": (0.0, 1.0)}


def word_weights(encoder: Encoder, question: str, question_vector: np.ndarray, words: list[str]) -> list[float]:
    """How much of the question's meaning rests on each of ``words``: the drop in similarity between the
    question and the question with that word removed, between 0 and 1."""
    if not words:
        return []
    shortened = [re.sub(rf"\b{re.escape(word)}\b", " ", question, flags=re.IGNORECASE) for word in words]
    return [min(1.0, max(0.0, 1.0 - float(c))) for c in encoder.encode(shortened) @ question_vector]


def confidence_features(query: Query, candidates: list[Candidate], weights: dict[str, float],
                        meaning: dict[str, float] | None = None, missing: list[str] | None = None) -> dict[str, float]:
    """The features of an answer: the ranker's best probability, best similarity, weighted share of terms the
    corpus does not use (and of those the model does not know either), whether an amount was asked for and the
    best span has none, and "missing_weight": how much of the question rests on a word the best span lacks.

    ``weights`` are the IDF weights of the query's known terms; an unknown term weighs as the rarest term, and
    counts as unknown as far as it is from the closest word the corpus uses (``Query.neighbours``), measured from
    ``NEIGHBOUR_SIMILARITY`` up, when the best span uses that word, and wholly otherwise.

    ``meaning`` maps words as written (``Query.written``) to their weight in the question (``word_weights``):
    an unknown word counts in proportion up to ``MEANING_DROP``. Without it (measuring takes another encoder
    call: ``retrieval.answer.measure_missing`` does it when it matters) every unknown word counts wholly and
    "missing_weight" is 0: the two ends of what measuring can give. ``missing`` is ``missing_words(query,
    candidates)`` when the caller has it already.
    """
    rarest = max(weights.values(), default=1.0)
    total = sum(weights.values()) + rarest * len(query.unknown)

    # a word the corpus lacks is as familiar as its nearest corpus word only when the answer uses that word: a
    # span on "treatment" does not answer "cure" ("is there a cure for ALS"), one on "caffeine" answers "coffee";
    # and only as far as that word is closer than the least a neighbour must be (cure -> treatment, 0.71, barely is)
    said = candidates[0].stems if candidates else frozenset()
    closeness = {s: max(0.0, (cos - NEIGHBOUR_SIMILARITY) / (1.0 - NEIGHBOUR_SIMILARITY))
                 for s, (near, cos) in query.neighbours.items() if near in said}

    def carried(stem: str) -> float:
        word = query.written.get(stem, stem)
        return 1.0 if meaning is None or word not in meaning else min(1.0, meaning[word] / MEANING_DROP)

    def strangeness(stems: list[str]) -> float:
        return 1.0 if total == 0 else rarest * sum((1.0 - closeness.get(s, 0.0)) * carried(s) for s in stems) / total

    top = candidates[:3]
    asks_amount = bool(_ASKS_AMOUNT.search(query.text))
    return {
        "probability": max((c.probability for c in top), default=0.0),
        "similarity": max((c.similarity for c in top), default=0.0),
        "unknown": strangeness(query.unknown),
        # of those, the words the model does not know either: a named drug or a thing of another field
        "unknown_rare": strangeness(query.rare),
        "missing_quantity": float(asks_amount and not any(_AMOUNT.search(c.text) for c in top[:1])),
        "missing_weight": 0.0 if meaning is None else max(
            (meaning.get(word, 0.0) for word in (missing_words(query, candidates) if missing is None else missing)),
            default=0.0),
    }
