"""The gold question file: read and validate it, with errors that name ``file:line`` and the bad value.

Format (fixed): one JSON object per line, either ``{"id", "question", "answers": [phrase, ...]}`` or
``{"id", "question", "unanswerable": true}``. Ids start with ``dev-`` (tuning), ``test-`` (reported only; read
while tuning once, see the README) or ``holdout-`` (reported only, never read question by question while tuning).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SPLITS = ("dev", "test", "holdout")
_KEYS = {"id", "question", "answers", "unanswerable"}


class QuestionFileError(ValueError):
    """The question file (or the disagreement file) is malformed; the message names where and what."""


@dataclass(frozen=True)
class Question:
    """One gold question. ``answers`` is empty exactly when ``unanswerable``."""

    id: str
    question: str
    answers: tuple[str, ...] = ()
    unanswerable: bool = False

    @property
    def split(self) -> str:
        """``dev``, ``test`` or ``holdout``, from the id's prefix."""
        return self.id.split("-", 1)[0]


def parse_question(line: str, where: str) -> Question:
    """One line of the question file as a ``Question``; ``where`` (``file:line``) prefixes every error."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise QuestionFileError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno}): {line.strip()[:80]!r}")
    if not isinstance(record, dict):
        raise QuestionFileError(f"{where}: expected a JSON object, got {type(record).__name__}: {record!r}")
    unknown = sorted(set(record) - _KEYS)
    if unknown:
        raise QuestionFileError(f"{where}: unknown key(s) {unknown}; allowed are {sorted(_KEYS)}")
    for key in ("id", "question"):
        if key not in record:
            raise QuestionFileError(f"{where}: missing key {key!r} in {record!r}")
        if not isinstance(record[key], str) or not record[key].strip():
            raise QuestionFileError(f"{where}: {key!r} must be a non-empty string, got {record[key]!r}")
    question_id = record["id"]
    if question_id.split("-", 1)[0] not in SPLITS or "-" not in question_id:
        raise QuestionFileError(f"{where}: id {question_id!r} must start with one of "
                                f"{', '.join(repr(s + '-') for s in SPLITS)}")
    has_answers, unanswerable = "answers" in record, record.get("unanswerable")
    if has_answers == ("unanswerable" in record):
        raise QuestionFileError(
            f"{where}: question {question_id!r} needs exactly one of 'answers' or 'unanswerable', "
            f"got {'both' if has_answers else 'neither'}")
    if not has_answers:
        if unanswerable is not True:
            raise QuestionFileError(f"{where}: 'unanswerable' must be true, got {unanswerable!r}")
        return Question(question_id, record["question"], (), True)
    answers = record["answers"]
    if not isinstance(answers, list) or not answers:
        raise QuestionFileError(f"{where}: 'answers' must be a non-empty list of phrases, got {answers!r}")
    bad = [a for a in answers if not isinstance(a, str) or not a.strip()]
    if bad:
        raise QuestionFileError(f"{where}: every answer phrase must be a non-empty string, got {bad[0]!r}")
    return Question(question_id, record["question"], tuple(answers), False)


def parse_questions(text: str, name: str) -> list[Question]:
    """All questions of a file's ``text`` (``name`` is used in errors); blank lines are skipped.

    Raises:
        QuestionFileError: a malformed line, a duplicate id, or no question at all.
    """
    questions: list[Question] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        question = parse_question(line, f"{name}:{number}")
        if question.id in first_line:
            raise QuestionFileError(
                f"{name}:{number}: duplicate id {question.id!r} (first used on line {first_line[question.id]})")
        first_line[question.id] = number
        questions.append(question)
    if not questions:
        raise QuestionFileError(f"{name}: no questions in the file")
    return questions


def read_questions(path: Path) -> list[Question]:
    """The questions in ``path``; see ``parse_questions``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(f"cannot read question file {str(path)!r}: {exc}") from exc
    return parse_questions(text, str(path))


def read_disagreement(path: Path, question_ids: set[str]) -> frozenset[str]:
    """Ids of the questions on which the articles disagree (``{"disagreement": [id, ...]}``).

    Raises:
        QuestionFileError: the file is malformed or names an id that is not a question.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QuestionFileError(f"cannot read disagreement file {str(path)!r}: {exc}") from exc
    ids = data.get("disagreement") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise QuestionFileError(f"{path}: expected {{\"disagreement\": [question ids]}}, got {data!r}")
    unknown = sorted(set(ids) - question_ids)
    if unknown:
        raise QuestionFileError(f"{path}: id(s) {unknown} are not in the question file")
    return frozenset(ids)


def select_split(questions: list[Question], split: str) -> list[Question]:
    """The questions of one split.

    Raises:
        ValueError: ``split`` is not one of ``SPLITS``.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return [q for q in questions if q.split == split]
