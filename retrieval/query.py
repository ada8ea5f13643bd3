"""Check a question and turn it into what the searches need: clean text and corpus-aware query terms."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
from rapidfuzz import distance, process

from bm25s.stopwords import STOPWORDS_EN

from ingest.lexical import stem_word
from retrieval.cues import answer_types
from retrieval.respell import respell

MAX_QUESTION_CHARS = 500
# Question words and fillers that carry no topic; dropped before judging what the corpus covers.
_FILLER = frozenset(STOPWORDS_EN) | frozenset(
    "what whats why how when where which who whom whose does do did doing done is are was were been being am can "
    "could should would will shall may might must have has had having get gets got getting i im i'm me my mine "
    "myself you your yours we our us it its he she him her his they them their please pls plz thanks thank thx "
    "hi hello hey tell know anything something thing things really also bit lot lots ok okay yes much many "
    "mean means like just still even ever very too so some any all about up down from out over than then now "
    "there here again other else same one ones someone anyone everyone somebody anybody havent haven dont don "
    "doesnt isnt arent cant wont ive youre whats thats "
    # texting shorthand
    "u ur ppl alot lot abt bc cuz coz pls plz thx ty tho rn idk imo btw yr yrs "
    # and what speech transcribes
    "um umm uh uhm erm hmm er ah gonna wanna kinda sorta "
    # words that frame a question rather than name what it is about
    "actually basically literally exactly maybe perhaps probably stuff kind sort vs versus explain list want "
    "wondering wonder".split())
_WORD = re.compile(r"(?u)\b\w\w+\b")
# How plainly to answer, said about the answer rather than asked about ("what is MS, in simple terms?", "explain
# ALS in plain English"): dropped with its comma before parsing, as an extract is in the articles' words anyway.
_PLAINLY = re.compile(r"[,;]?\s*\b(?:in|into|using|with)\s+(?:very\s+)?(?:simple|simpler|plain|plainer|easy|basic|"
                      r"everyday|normal|layman['’]?s?|lay(?:man)?)\s+(?:terms?|words?|english|language)\b|"
                      r"[,;]?\s*\b(?:simply|plainly)\s+put\b", re.IGNORECASE)
# asking to be told about a name rather than asking a question: "explain MS", "tell me about clonus"
_TELL_ABOUT = re.compile(r"^(?:please\s+)?(?:(?:can you\s+|could you\s+)?(?:explain|describe|define)|tell me about)\s+",
                         re.IGNORECASE)
_ENGLISH = frozenset("the a an is are of to and in it that for with on my can what how why does do i you".split())
_FOREIGN = frozenset(
    "el la los las es son de que y en un una por para con como qué cómo se lo del al le les est et des du une "
    "pour avec dans der die das und ist nicht ein eine mit von zu il di che è per non sono um uma não com".split()
)


class QuestionError(ValueError):
    """A question that cannot be answered as asked; the message says why, for the user."""


@dataclass(frozen=True)
class Query:
    """A checked question and its terms against the index vocabulary."""

    text: str  # the question, whitespace-normalised, spelled-out letters and the like respelt (``respell``)
    terms: list[str]  # stems of the question's topic words, spelling corrected where the corpus knows a near word
    unknown: list[str]  # topic stems the corpus never uses, even after spelling correction
    expanded: list[str]  # stems added by the articles' own aliases
    alias_names: list[str]  # those aliases as the articles write them, for the dense query
    topic: list[str] = field(default_factory=list)  # the words naming what the question is about (see parse_query)
    focus: list[str] = field(default_factory=list)  # stems of the other terms: what the question asks about its topic
    written: dict[str, str] = field(default_factory=dict)  # each term and unknown stem as the user wrote it
    # unknown stem -> (stem of the closest corpus word, cosine), for those close enough to search for
    neighbours: dict[str, tuple[str, float]] = field(default_factory=dict)
    rare: list[str] = field(default_factory=list)  # unknown stems that are not even words of the model's vocabulary
    # (alias stems, stems of the question's name it stands for): a span with the alias covers the name
    equivalents: list[tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)
    asked: str = ""  # the question as asked (whitespace-normalised), when respelling or correcting changed it
    # the question is a name and nothing else (one word, one name the articles define, or 3-5 words they write
    # together twice: "clonus", "muscle twitches", "lower motor neurons"), searched as "what is <name>?"
    bare: bool = False

    @cached_property
    def answer_types(self) -> list[str]:
        """Kinds of answer the question asks for (a cause, a duration, ...): read once per query, as encoding the
        question and scoring its spans both ask."""
        return answer_types(self.text)

    @property
    def expanded_text(self) -> str:
        """The question followed by the aliases it implies ("... twitching ... (fasciculations)")."""
        return f"{self.text} ({', '.join(self.alias_names)})" if self.alias_names else self.text


NEIGHBOUR_SIMILARITY = 0.65  # a word the articles never use is searched as their closest word this close


def with_neighbours(query: Query, neighbours: list[tuple[str, str, float]], *, min_similarity: float) -> Query:
    """``query`` with each unknown word that comes at least ``min_similarity`` close to a word of the corpus
    (``neighbours``: one (stem, word, cosine) per ``query.unknown`` stem, from ``WordVectors.nearest``) searched as
    that word, as a misspelt word is searched as its correction: "does ALS twitching hurt?" asks about "pain".
    The word stays in ``unknown`` (the corpus does not use it; confidence weighs how far its neighbour is)."""
    if len(neighbours) != len(query.unknown):
        raise ValueError(f"need one neighbour per unknown stem ({len(query.unknown)}), got {len(neighbours)}")
    terms, focus = list(query.terms), list(query.focus)
    written, found = dict(query.written), dict(query.neighbours)
    for stem, (near, _, similarity) in zip(query.unknown, neighbours):
        if similarity >= min_similarity and near:
            found[stem] = (near, similarity)
            written.setdefault(near, written.get(stem, stem))
            if near not in terms:
                terms.append(near)
                focus.append(near)
    return replace(query, terms=terms, focus=focus, written=written, neighbours=found)


def check_question(question: object) -> str:
    """The question with whitespace normalised, or ``QuestionError`` saying what is wrong with it."""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, got {type(question).__name__}")
    # invisible format characters (a byte-order mark, zero-width spaces) come with pasted text: drop them
    question = "".join(c for c in question if unicodedata.category(c) != "Cf")
    bad = next((c for c in question if unicodedata.category(c) == "Cc" and c not in "\t\n\r"), None)
    if bad is not None:
        raise QuestionError(
            f"the question contains a control character (U+{ord(bad):04X} at position {question.index(bad)}); "
            "please type it again as plain text")
    text = " ".join(question.split())
    if not text:
        raise QuestionError("the question is empty: type a question about the articles")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is {len(text)} characters long; please keep it under {MAX_QUESTION_CHARS}")
    letters = [c for c in text if c.isalpha()]
    if not letters:
        raise QuestionError(f"the question {text!r} has no words in it")
    latin = sum(1 for c in letters if c.isascii() or unicodedata.name(c, "").startswith("LATIN"))
    words = re.findall(r"[^\W\d_]+", text.lower())
    if latin < 0.6 * len(letters) or (
        sum(w in _FOREIGN for w in words) >= 2 and sum(w in _FOREIGN for w in words) > sum(w in _ENGLISH for w in words)
    ):
        raise QuestionError("the articles are in English: please ask the question in English")
    return text


def _correct(stem: str, vocabulary: Collection[str], frequency: Callable[[str], int]) -> str | None:
    """The vocabulary stem within one edit (insertion, deletion, substitution or swap of neighbours) of a
    misspelt stem (two for long stems), if any: the closest, then the most frequent, then the first
    alphabetically, so the choice never depends on the vocabulary's order."""
    if len(stem) < 4:
        return None
    limit = 1 if len(stem) < 8 else 2
    # optimal string alignment: a swap of two letters ("thyriod") is one edit, as a missing one is
    matches = process.extract(stem, vocabulary, scorer=distance.OSA.distance, score_cutoff=limit, limit=None)
    if not matches:
        return None
    return min(matches, key=lambda match: (match[1], -frequency(match[0]), match[0]))[0]


def _like(typed: str, word: str) -> str:
    """``word`` in the case ``typed`` was written in: "MUSCEL" -> "MUSCLE", "Muscel" -> "Muscle"."""
    return word.upper() if typed.isupper() else word.capitalize() if typed[:1].isupper() else word


def parse_query(text: str, vocabulary: dict[str, int], df: np.ndarray, aliases,
                is_word: Callable[[str], bool] = lambda word: False, *, documents: int = 0,
                initials: Callable[[str], str | None] = lambda acronym: None,
                spelled: Callable[[str], str | None] = lambda stem: None, define: bool = True) -> Query:
    """Topic stems of ``text``, spelling-corrected against the corpus and expanded with its aliases.

    The text is first respelt where the articles use the result (``respell``: "bee eff ess" -> "BFS"), and a
    misspelt word is written as the articles write its correction ("twiches" -> "twitching"). With ``define``, a
    name typed on its own is asked about as "what is <name>?" (``Query.bare``).

    ``is_word`` tells a real word the corpus simply does not use ("coffee") from a misspelling ("twiches");
    only misspellings are corrected. ``documents`` is the number of chunks ``df`` counts over; ``initials`` spells
    out an acronym from the articles' words (``respell``); ``spelled`` gives how the articles write a stem.
    """
    known = vocabulary.keys()  # no copy: only a misspelt word searches it

    def document_frequency(stem: str) -> int:
        return int(df[vocabulary[stem]]) if stem in vocabulary else 0

    corrections: dict[str, str | None] = {}  # a misspelt stem is searched for in the vocabulary once

    def correct(stem: str) -> str | None:
        if stem not in corrections:
            corrections[stem] = _correct(stem, known, document_frequency)
        return corrections[stem]

    def written_correction(stem: str) -> str | None:
        """The articles' word for the stem a misspelt ``stem`` is corrected to, if any."""
        corrected = correct(stem)
        return spelled(corrected) if corrected else None

    def misheard(joined: str) -> str | None:
        # a technical word speech-to-text heard as two common ones ("clone us"): the articles' word one edit from
        # the two written together, and no word the model knows whole ("read on" is not "reason")
        word = written_correction(stem_word(joined))
        return word if word and not is_word(word) and distance.OSA.distance(joined, word) <= 1 else None

    asked = text
    text = " ".join(_PLAINLY.sub("", text).split()).lstrip(",;: ") or text
    text = respell(text, vocabulary.__contains__, _FILLER.__contains__, initials, misheard)
    # a misspelt word is written as the articles write the word it is corrected to, for the model as for BM25
    fixes = {}
    for word in set(_WORD.findall(text.lower())):
        stem = stem_word(word)
        if word in _FILLER or word.isdigit() or stem in vocabulary or is_word(word) or is_word(stem):
            continue
        fixed = written_correction(stem)
        if fixed and stem_word(fixed) == correct(stem):
            fixes[word] = fixed
    if fixes:
        text = _WORD.sub(lambda m: _like(m.group(), fixes[m.group().lower()]) if m.group().lower() in fixes
                         else m.group(), text)
    terms: list[str] = []
    words: list[str] = []
    unknown: list[str] = []
    rare: list[str] = []
    written: dict[str, str] = {}
    told = _TELL_ABOUT.match(text)
    body = text[told.end():] if told else text  # the words after "explain" are the question's
    typed = _WORD.findall(body.lower())
    for word in typed:
        if word in _FILLER or word.isdigit():
            continue
        stem = stem_word(word)
        written.setdefault(stem, word)
        if stem not in vocabulary:
            common = is_word(word) or is_word(stem)  # "expectancy" is not in the model's vocabulary, "expect" is
            corrected = None if common else correct(stem)
            if corrected is None:
                if stem not in unknown:
                    unknown.append(stem)
                    if not common:  # a drug, a brand, a word of another field: "gabapentin", "sourdough"
                        rare.append(stem)
                continue
            stem = corrected
            written.setdefault(stem, word)
        if stem not in terms:
            terms.append(stem)
            words.append(word)

    found = aliases.lookup(terms, document_frequency, documents)
    expanded = [s for s in found.stems if s in vocabulary]
    # The topic: words the articles define names for, or use in at least a fifth of their chunks. What the
    # question asks beyond its topic (its focus) is what an answer must match, not just the topic.
    common = max(1, int(0.2 * documents))
    is_topic = [bool(aliases.names_with(t)) or document_frequency(t) >= common for t in terms]
    topic = [w for w, yes in zip(words, is_topic) if yes]
    focus = [t for t, yes in zip(terms, is_topic) if not yes]
    # a name typed on its own, as into a search box, asks what it is: one word, one name the articles define
    # ("muscle twitches", "Lou Gehrig's disease") or a run of 3-5 words they write together more than once ("lower
    # motor neurons"), with no other word ("ms twitch?" asks how two names relate); "explain" or "tell me about"
    # before it asks the same
    bare = define and not any(w in _FILLER or not w.isalpha() for w in typed) and (
        len(terms) + len(unknown) == 1
        or (not unknown and any(set(name) == set(terms) for name in found.matched))
        or (3 <= len(typed) <= 5 and [stem_word(w) for w in (initials("".join(w[0] for w in typed)) or "").split()]
            == [stem_word(w) for w in typed]))
    if bare:
        text = f"what is {body.rstrip(' ?!.')}?"
    return Query(text, terms, unknown, expanded, found.names, topic, focus, written, rare=rare,
                 equivalents=found.equivalents, asked=asked if asked != text else "", bare=bare)
