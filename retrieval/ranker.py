"""A small logistic model that ranks candidate spans, fitted on the dev questions (``python -m evaluation.fit``).

Features are cheap facts about a span and its chunk (similarities, term coverage, heading match, answer
shape); the weights are the only learned parameters and live in ``retrieval/ranker.json``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

RANKER_FILE = Path(__file__).with_name("ranker.json")
FEATURES = (
    "similarity",  # cosine of the question and the span (its sentences summed)
    "best_sentence",  # cosine of the question and the span's closest sentence
    "coverage",  # weighted share of the question's terms in the span
    "chunk",  # cosine of the question and the span's chunk (title and heading included)
    "section",  # cosine of the question and the heading the chunk sits under
    "section_match",  # how far that cosine exceeds 0.75 (a FAQ question that is the user's question)
    "shape",  # the span reads like the kind of answer asked for (a cause, a duration, ...)
    "is_list",  # the span is a list with its lead-in
    "list_wanted",  # ... and the question asks for several things
    "sentences",  # sentences in the span, over 3
    "fused_rank",  # 1 / (1 + rank of the chunk in the fused ranking)
    "bm25",  # BM25 score of the chunk over the best BM25 score
    "opening",  # the span opens its chunk
    "focus",  # similarity to the question minus similarity to its topic words alone: matching what is asked
    "focus_coverage",  # weighted share of the question's terms beyond its topic ("hurt" in "does ALS twitching hurt")
    "subject",  # the span opens with a term of the question ("Clonus describes ...")
    "list_unwanted",  # the span is a list, but the question does not ask for several things
    "plain_best",  # cosine of the question and the span's closest sentence on its own, without its heading
    "plain_span",  # cosine of the question and the span's sentences on their own, summed
    "words_met",  # how well the question's content words are met by the span's, in context (``extract.words_met``)
    "span_words_met",  # ... and the span's by the question's
    "defines",  # a definition is asked and the span opens by defining a term of the question ("Clonus describes")
)


@dataclass(frozen=True)
class Ranker:
    """Linear weights over ``FEATURES``: higher scores rank first. ``probability`` maps a score to the fitted
    chance that the span holds an answer (Platt scaling: ``sigmoid(scale * score + offset)``)."""

    weights: tuple[float, ...]
    scale: float = 1.0
    offset: float = 0.0
    method: str = ""

    def __post_init__(self) -> None:
        if len(self.weights) != len(FEATURES):
            raise ValueError(f"need {len(FEATURES)} weights (one per feature), got {len(self.weights)}")

    def scores(self, features: np.ndarray) -> np.ndarray:
        return np.atleast_2d(features) @ np.asarray(self.weights)

    def probability(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.scale * self.scores(features) + self.offset, -40, 40)))

    def save(self, path: Path = RANKER_FILE) -> None:
        data = {"features": list(FEATURES), "weights": [round(w, 6) for w in self.weights],
                "scale": round(self.scale, 6), "offset": round(self.offset, 6), "method": self.method}
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


@lru_cache(maxsize=4)
def load_ranker(path: Path = RANKER_FILE) -> Ranker:
    """The fitted ranker. Raises ValueError when the file was fitted on other features."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data.get("features", ())) != FEATURES:
        raise ValueError(f"{path} was fitted on features {data.get('features')}, this code uses {list(FEATURES)}: "
                         "run `python -m evaluation.fit`")
    return Ranker(tuple(data["weights"]), data["scale"], data["offset"], data.get("method", ""))


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, iterations: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method: (weights, bias) for rows ``x`` and 0/1 labels ``y``.

    The bias is not regularised. Plain numpy: a dozen features need no machine-learning library.
    """
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"need as many labels as rows (and at least one), got {len(x)} rows and {len(y)} labels")
    design = np.hstack([np.asarray(x, dtype=np.float64), np.ones((len(x), 1))])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    w = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -40, 40)))
        gradient = design.T @ (p - y) + penalty * w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def fit_listwise(questions: list[tuple[np.ndarray, np.ndarray]], *, l2: float = 1.0) -> np.ndarray:
    """Weights that rank a question's answer-holding spans first: for each question (rows, 0/1 labels) with at
    least one positive, maximise log(sum of softmax over its positives), minus ``l2``/2 times the squared norm.

    Listwise softmax loss (ListNet with one-hot targets, Cao et al. 2007) targets the first place directly,
    which a pointwise model does not.
    """
    from scipy.optimize import minimize  # only fitting needs scipy

    usable = [(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=bool)) for x, y in questions if np.any(y)]
    if not usable:
        raise ValueError("no question has a positive span to learn from")
    width = usable[0][0].shape[1]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, gradient = 0.5 * l2 * float(w @ w), l2 * w
        for x, y in usable:
            s = x @ w
            top = s.max()
            p_all = np.exp(s - top)
            p_pos = p_all * y
            total -= np.log(p_pos.sum()) - np.log(p_all.sum())
            gradient = gradient - (p_pos / p_pos.sum() - p_all / p_all.sum()) @ x
        return total, gradient

    result = minimize(loss, np.zeros(width), jac=True, method="L-BFGS-B")
    return result.x
