"""Results of retrieval: small frozen records whose offsets point into the article's original text."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Citation:
    """Where an extract comes from: the article and the section the span lies in."""

    id: str
    title: str
    path: str  # article file, relative to the project root
    section: str
    url: str | None = None
    site: str | None = None


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its score (higher is better)."""

    chunk_id: int
    article_id: str
    text: str
    start: int
    end: int
    section: str
    score: float


@dataclass(frozen=True)
class AlsoIn:
    """The same claim in another article: where it is said there."""

    id: str
    title: str
    start: int
    end: int
    text: str
    path: str
    section: str
    url: str | None = None


@dataclass(frozen=True)
class Extract:
    """A verbatim span (one to three sentences, or a list with its lead-in) that answers the question.

    ``article_text[start:end] == text`` for the article in ``article``; ``passage`` is the surrounding chunk.
    """

    text: str
    start: int
    end: int
    score: float
    article: Citation
    passage: Passage
    also_in: tuple[AlsoIn, ...] = ()
    stance: str = ""  # "" or, when the answer shows a disagreement, "affirms" / "denies"


@dataclass(frozen=True)
class Answer:
    """The extracts for a question, or an abstention with the closest passages offered as related only."""

    question: str
    extracts: tuple[Extract, ...]
    abstained: bool
    confidence: float
    disagreement: bool = False
    related: tuple[Extract, ...] = field(default=())
    version: str = ""  # index version that answered
    read_as: str = ""  # the question as searched, when respelling or spelling correction changed it ("clone us" ->
    # "clonus", "twiches" -> "twitching"), else ""
