"""Query-time use of the aliases mined at ingest: everyday words reach the medical terms articles define."""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ingest.lexical import tokenize

Name = tuple[str, ...]  # a name as its stems: "muscle twitches" -> ("muscl", "twitch")
# A name the articles equate with more names than this is a general word, not a synonym: across MedQuAD,
# "eye" is paired with 64 names ("miosis", "leukocoria", ...) and "cancer" with dozens of cancers. Expanding
# it adds noise to BM25 and hundreds of word pieces to the dense query. The seed articles' names have at most 3.
MAX_ALIASES = 4
# At most this many aliases join a query, those of its most specific names (rarest stem) first: a templated
# question ("What is the outlook for Paranasal Sinus and Nasal Cavity Cancer?") names several things at once.
MAX_EXPANSION = 4
# A stem in at least this share of the chunks is the corpus's subject, not a word that tells names apart: in the
# seed articles "muscle" is in every chunk, so "stiff" alone names "stiff muscles" (which they call spasticity).
SUBJECT_SHARE = 0.75


class AliasTable:
    """Names the articles define as the same thing ("muscle twitches" = "fasciculations"), pair by pair.

    Only direct pairs are used, never chains of them: across thousands of articles, chains join unrelated
    names ("cataracts" = "eye" = "jaundice"). A query names a name when it holds all of the name's stems, or
    all but one of a longer name's, the rarest included, or the rarer stem of a two-stem name whose other stem is
    a subject word of the corpus (``query_names``; ``documents``, the chunk count, tells which stems are). A name
    with more than ``MAX_ALIASES`` aliases is not expanded, and a query gets at most ``MAX_EXPANSION`` aliases.
    """

    def __init__(self, aliases: dict[Name, set[Name]], surfaces: dict[Name, str]) -> None:
        self.aliases = aliases
        self.surfaces = surfaces
        self._by_stem: dict[str, set[Name]] = {}
        for name in aliases:
            for stem in name:
                self._by_stem.setdefault(stem, set()).add(name)

    @classmethod
    def from_rows(cls, rows: list[tuple[str, str]]) -> AliasTable:
        """Build from (term, alias) pairs. Names with the same stems are one name; each keeps the first way
        the articles wrote it."""
        names = sorted({name for row in rows for name in row})
        stems = {name: tuple(tokens) for name, tokens in zip(names, tokenize(names))} if names else {}
        surfaces: dict[Name, str] = {}
        for name in names:
            if stems[name]:
                surfaces.setdefault(stems[name], name)
        aliases: dict[Name, set[Name]] = {}
        for term, alias in rows:
            a, b = stems.get(term), stems.get(alias)
            if a and b and a != b:
                aliases.setdefault(a, set()).add(b)
                aliases.setdefault(b, set()).add(a)
        return cls(aliases, surfaces)

    def names_with(self, stem: str) -> set[Name]:
        """The names (that have aliases) holding ``stem``."""
        return self._by_stem.get(stem, set())

    def matched(self, query_stems: list[str], document_frequency: Callable[[str], int], documents: int = 0
                ) -> list[Name]:
        """The names (with aliases) that the query mentions (``query_names``)."""
        present = set(query_stems)
        candidates = {name for stem in present for name in self._by_stem.get(stem, ())}
        return sorted(name for name in candidates if query_names(name, present, document_frequency, documents))

    def lookup(self, query_stems: list[str], document_frequency: Callable[[str], int], documents: int = 0
               ) -> AliasLookup:
        """Everything a query gets from the aliases of the names it mentions (``AliasLookup``), matching its
        names once."""
        present = set(query_stems)
        matched = self.matched(query_stems, document_frequency, documents)
        chosen: list[Name] = []  # the aliases of its most specific names first, at most MAX_EXPANSION
        general = [name for name in matched if len(self.aliases[name]) <= MAX_ALIASES]
        for name in sorted(general, key=lambda name: min(map(document_frequency, name))):  # stable: ties keep order
            chosen.extend(a for a in sorted(self.aliases[name]) if a not in chosen and not set(a) <= present)
        chosen = chosen[:MAX_EXPANSION]
        stems: list[str] = []
        for alias in chosen:
            stems.extend(s for s in alias if s not in present and s not in stems)
        equivalents = [(alias, name) for name in matched for alias in sorted(self.aliases[name])
                       if alias in chosen and not set(alias) <= present]
        return AliasLookup(stems, [self.surfaces[a] for a in chosen], equivalents, matched)


class AliasLookup(NamedTuple):
    """What a query gets from the aliases (``AliasTable.lookup``)."""

    stems: list[str]  # stems to add to the query: those of the aliases of every name it mentions
    names: list[str]  # those aliases as the articles write them ("fasciculations"), for the dense query
    # (alias, name of the query it stands for): a span saying "CFS" says "cramp-fasciculation syndrome"
    equivalents: list[tuple[Name, Name]]
    matched: list[Name]  # the names (with aliases) the query mentions (``AliasTable.matched``)


def query_names(name: Name, present: set[str], document_frequency: Callable[[str], int], documents: int = 0
                ) -> bool:
    """True when a question's stems ``present`` name ``name``: all of its stems, or all but one of a name of three
    or more, the rarest included ("Lou Gehrig" names "Lou Gehrig disease"), or the stem of a two-stem name that is
    not a subject word (one in ``SUBJECT_SHARE`` of the ``documents`` chunks) when the other is: "legs go stiff"
    names "stiff muscles" where every chunk says "muscle". Stricter than ``name_matches``, which judges sentences:
    half of a two-stem name let "skin cancer" take the aliases of "blood cancer" ("leukemia") across MedQuAD."""
    missing = [s for s in name if s not in present]
    if not missing:
        return True
    if len(missing) == 1 and len(name) == 2:
        kept = next(s for s in name if s in present)
        subject = SUBJECT_SHARE * documents
        return documents > 0 and document_frequency(missing[0]) >= subject > document_frequency(kept)
    return len(missing) == 1 and len(name) >= 3 and name_matches(name, present, document_frequency)


def name_matches(name: Name, present: set[str], document_frequency: Callable[[str], int]) -> bool:
    """True when ``present`` (stems of a question or sentence) holds at least half of the name's stems,
    including its rarest one ("MS twitching" names "muscle twitching"; "muscle pain" does not)."""
    found = [s for s in name if s in present]
    if 2 * len(found) < len(name):
        return False
    rarest = min(name, key=document_frequency)
    return rarest in present
