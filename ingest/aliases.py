"""Mine the synonyms articles define ("Fasciculations, or muscle twitches", "amyotrophic lateral sclerosis (ALS)").

Only definitions written in the articles are mined; the pairs are stored with the index and used at query
time to let everyday words reach medical ones.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.types import Sentence


ALIAS_MINER_VERSION = 2  # bump when mining rules change: indexes mined by another version are rebuilt


@dataclass(frozen=True)
class Alias:
    """Two names the article at ``article_id`` defines as the same thing, with the defining span."""

    term: str
    alias: str
    article_id: str
    start: int
    end: int


_STOP = frozenset(
    "a an the of and or with to in on for by from as at is are was were be been this that these those which who "
    "its their your our his her it they we you such like including include includes also may can will "
    "have has had get gets experience experiences notice notices feel feels develop develops cause causes see".split()
)
_MARKER = re.compile(
    r"(?:,?\s*(?:which|that)\s+(?:is|are)\s+|\s*[,—–-]\s*|\s+)"
    r"(?:also\s+(?:sometimes\s+)?(?:known\s+as|called|referred\s+to\s+as|termed)|better\s+known\s+as|"
    r"medically\s+(?:termed|known\s+as|called)|known\s+medically\s+as|otherwise\s+known\s+as|known\s+as)\s+",
    re.IGNORECASE,
)
_APPOSITIVE = re.compile(r"^([A-Z][\w'’-]*(?:\s+[\w'’-]+){0,3}),\s+or\s+([\w'’-]+(?:\s+[\w'’-]+){0,3}),")
_PAREN = re.compile(r"\(([^()]{1,60})\)")
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
_ABBREVIATION = re.compile(r"[A-Z][A-Za-z0-9]{0,2}[A-Z0-9][A-Za-z0-9]{0,6}")  # ALS, CNS, PKU, NF1
_SYNONYM = re.compile(r"[A-Za-z][a-z'’-]+(?:\s+[A-Za-z][a-z'’-]+){0,2}")


def _clean_term(term: str) -> str:
    term = re.sub(r"\s+", " ", term).strip(" ,.;:—–-\"'“”")
    return re.sub(r"^(?:the|a|an)\s+", "", term, flags=re.IGNORECASE)


def _left_phrase(text: str, *, max_words: int = 4) -> tuple[str, str]:
    """The noun phrase ending ``text`` (up to ``max_words`` words back to a stop word or punctuation), and the
    word just before it (lower case; "" after punctuation or at the start)."""
    text = re.sub(r"\s*\([^()]*\)\s*$", "", text)  # "sclerosis (ALS), also called" -> "sclerosis"
    words: list[str] = []
    tokens = re.findall(r"[\w'’-]+|[^\w\s]", text)
    for token in reversed(tokens):
        if not _WORD.fullmatch(token) or token.lower() in _STOP or len(words) == max_words:
            break
        words.append(token)
    before = tokens[len(tokens) - len(words) - 1] if len(tokens) > len(words) else ""
    return " ".join(reversed(words)), before.lower() if _WORD.fullmatch(before) else ""


# A name is defined, not just the last word of a longer thought. After these words a single word before a
# parenthesis is the tail of a clause whose whole the parenthesis names: "seizures that do not improve with
# treatment (intractable epilepsy)", "signs of this disease (remission)", "these cells are cancer (leukemia)".
_CLAUSE_TAIL = frozenset("with without of to for by from in on at than into this these that those its their which "
                         "who is are was were be been".split())
# "a disease known as toxoplasmosis", "a pattern of inheritance known as ...": a kind of the thing, not its name.
_KIND_OF = frozenset({"a", "an", "of"})


def _right_phrases(text: str, *, max_words: int = 5) -> list[str]:
    """The names starting ``text`` up to punctuation or a clause word, split on "or"."""
    head = re.split(r"[,.;:()—–]|\s(?:and|which|that|is|are|was|were|in|because|when|who)\s", text, maxsplit=1)[0]
    names = [_clean_term(part) for part in re.split(r"\s+or\s+", head)]
    return [n for n in names if n and len(n.split()) <= max_words and _WORD.match(n)]


def _abbreviation_long_form(abbr: str, before: str) -> str | None:
    """Schwartz & Hearst (2003): the shortest preceding words whose letters spell the abbreviation."""
    letters = [c.lower() for c in abbr if c.isalnum()]
    if not 2 <= len(letters) <= 10 or not abbr[0].isalpha():
        return None
    words = before.split()[-min(len(letters) + 5, len(letters) * 2):]
    candidate = " ".join(words)
    i, j = len(letters) - 1, len(candidate) - 1
    while i >= 0:
        while j >= 0 and (candidate[j].lower() != letters[i] or (i == 0 and j > 0 and candidate[j - 1].isalnum())):
            j -= 1
        if j < 0:
            return None
        i, j = i - 1, j - 1
    long_form = _clean_term(candidate[candidate.rfind(" ", 0, j + 1) + 1:])
    if not long_form or len(long_form) <= len(abbr) or re.search(r"[()\[\]]", long_form):
        return None
    return long_form


def _from_parentheses(sentence: Sentence) -> list[tuple[str, str]]:
    """"sclerosis (ALS)", "twitching (fasciculations)", "(ALS, Lou Gehrig's disease)"; lists like "(fever, rash)"
    are not definitions and are ignored."""
    pairs = []
    for match in _PAREN.finditer(sentence.text):
        before = sentence.text[:match.start()]
        parts = [p.strip() for p in match.group(1).split(",")]
        abbreviation = parts[0] if _ABBREVIATION.fullmatch(parts[0]) else None
        if len(parts) > 1 and not abbreviation:
            continue
        long_form = _abbreviation_long_form(abbreviation, before) if abbreviation else None
        if long_form:
            pairs.append((long_form, abbreviation))
        for part in parts[1:] if abbreviation else parts:
            if _SYNONYM.fullmatch(part) and not any(w.lower() in _STOP for w in part.split()):
                left, preceding = (abbreviation, "") if abbreviation else _left_phrase(before, max_words=3)
                if " " not in left and preceding in _CLAUSE_TAIL:
                    continue
                if left and left.lower() != part.lower():
                    pairs.append((left, part))
    return pairs


def mine_aliases(sentences: list[Sentence]) -> list[Alias]:
    """Aliases defined in the given sentences of one article (both directions are implied)."""
    found: list[Alias] = []
    for sentence in sentences:
        pairs = _from_parentheses(sentence)
        for match in _MARKER.finditer(sentence.text):
            left, preceding = _left_phrase(sentence.text[:match.start()])
            if left and preceding not in _KIND_OF:
                pairs.extend((left, right) for right in _right_phrases(sentence.text[match.end():]))
        appositive = _APPOSITIVE.match(sentence.text)
        if appositive:
            pairs.append((_clean_term(appositive.group(1)), _clean_term(appositive.group(2))))
        for term, alias in pairs:
            if term.lower() != alias.lower():
                found.append(Alias(term, alias, sentence.article_id, sentence.start, sentence.end))
    return found


_NOT_A_WORD = re.compile(r"[^A-Za-z\s-]+")
_WORD_TAIL = re.compile(r"(?<=[A-Za-z])[A-Za-z]+")
_BETWEEN_WORDS = re.compile(r"[\s-]+")


def word_initials(text: str) -> str:
    """The first letter of each of ``text``'s words (runs of ASCII letters), lower case, with "|" where anything
    but spaces or hyphens comes between two words: "Lower motor neurons (LMNs) carry" -> "lmn|l|c". Stored with
    each article so that spelling out an acronym the articles never write ("LMN") reads only the articles where
    words with those initials follow one another (``retrieval.index.Index.initials``)."""
    text = _WORD_TAIL.sub("", _NOT_A_WORD.sub("|", text))
    return _BETWEEN_WORDS.sub("", text).lower()
