"""Show each claim once (with "also in" sources) and flag when articles disagree on the question.

No NLI model is available offline, so disagreement is read from cues a careful reader would use: negation
and rarity words against frequency words, on spans that speak about the same subjects as the question.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from ingest.lexical import stem_word, tokenize
from retrieval.aliases import AliasTable, name_matches
from retrieval.extract import Candidate

# Two spans say the same thing when their vectors are this close AND they share this share of their words:
# in a corpus on one topic, unrelated sentences reach cosine 0.85, while translations and rewrites of one
# sentence keep half of their content words (measured on the seed corpus, see README "Grouping").
DUPLICATE_SIMILARITY = 0.75
DUPLICATE_OVERLAP = 0.5
SAME_SENTENCE = 0.95  # two spans holding a sentence this close to one another repeat each other, whatever else they hold
_DENIES = re.compile(
    r"\b(?:rarely|seldom|unlikely|unrelated|uncommon|never|not (?:usually|typically|generally|often|commonly|"
    r"considered|linked|associated|related|a (?:primary |common )?(?:symptom|sign))|(?:usually|generally|typically) not|"
    r"isn't|aren't|doesn't|don't|does not|do not|is not|are not|cannot|can't)\b", re.IGNORECASE)
_AFFIRMS = re.compile(
    r"\b(?:common|commonly|frequently|often|hallmark|characteristic|direct result|"
    r"one of the (?:more |most )?common)\b", re.IGNORECASE)
_DOUBLE_NEGATIVE = re.compile(r"\bnot (?:uncommon|unusual|rare|infrequent)\b", re.IGNORECASE)  # "not uncommon" = common
_LIKE = re.compile(r"\b[\w-]+-like\b", re.IGNORECASE)
_CONDITIONAL = re.compile(r"^\s*(?:if|when|while|whether|unless)\b", re.IGNORECASE)
# Questions that ask whether something is so (yes/no, or how common): only these can be disagreed on. The yes/no
# may open any sentence or clause, after what a message tells ("... So which is it, is twitching a normal part of
# MS?"). A question with no question word at all ("ms twitch?", "scared my twitches mean MS") asks whether, too,
# unless it is a request ("Tell me about ...").
_ASKS_WHETHER = re.compile(
    r"(?:^|[.?!;,]\s+)(?:so\s+|and\s+|but\s+)?(?:is|are|does|do|can|could|will|would|should|has|have|was|were|did|"
    r"may|might)\b|"
    r"\bhow (?:common|often|likely|rare|frequent|usual)\b|"
    r"^(?!.*\b(?:what|whats|why|how|when|where|which|who|whom|whose|definition|meaning)\b)"
    r"(?!\s*(?:please\s+)?(?:tell|explain|describe|list|give|show|define)\b)", re.IGNORECASE)
# "..., could it be MS?", "is the twitching from MS?", "does that mean I have MS?": the question asks how what it
# tells relates to what it names.
_ASKS_IDENTITY = re.compile(r"\b(?:could|can|might|may|would|will) (?:it|this|that|they|these) be\b|"
                            r"\b(?:from|because of|due to|caused by|part of|linked to|related to)\b|"
                            r"\b(?:does|do|did|could|would|might|can) (?:it|this|that|they|these) (?:mean|indicate|signal|"
                            r"suggest)\b", re.IGNORECASE)
# "... is that MS?", "is this the MS?": asks whether what it tells is the named thing (the words after it)
_ASKS_WHICH = re.compile(r"\b(?:is|are) (?:it|this|that|these|they) (?:the |my |his |her |their |an? )?([\w' -]+)",
                         re.IGNORECASE)
# Qualifiers that turn a denial into "not on its own", which does not contradict "it is a symptom".
_HEDGED = re.compile(r"\b(?:alone|by itself|on its own|in isolation|without other symptoms|isolated)\b",
                     re.IGNORECASE)
# Words that ask how two things relate ("is twitching a sign of MS", "how common is twitching in MS")...
_RELATING_WORDS = frozenset(tokenize([
    "symptom symptoms sign signs common usual usually typical frequent often rare cause causes caused related "
    "relation link linked mean means indicate indicates part feature due result results from"])[0])
# ... and, with them, all the words that say what is asked about a subject rather than name it, such as what one
# does ("can MS twitching get bad enough to stop your day", "does MS start with twitching").
_RELATION_WORDS = _RELATING_WORDS | frozenset(tokenize([
    "normal serious bad effect effects happen happens occur occurs early first type kind people person someone "
    "patients get gets getting have has make makes start starts disease diseases condition itself else"])[0])


@dataclass
class Group:
    """A kept candidate and the near-duplicates from other articles."""

    head: Candidate
    others: list[Candidate] = field(default_factory=list)
    stance: int = 0  # +1 affirms, -1 denies, 0 neither (only set when the answer shows a disagreement)


@lru_cache(maxsize=4096)
def _plain(sentence: str) -> str:
    return " ".join(re.findall(r"\w+", sentence.lower()))


def claim_matrix(candidates: list[Candidate], *, similarity: float = DUPLICATE_SIMILARITY,
                 overlap: float = DUPLICATE_OVERLAP) -> np.ndarray:
    """How surely each two of ``candidates`` say the same thing (0 if they do not), as an n x n matrix: they hold
    the same or a near-identical sentence, or their vectors are close and they share enough words; never when
    they take opposite stances. All the pairs' similarities come from one product of all their vectors."""
    n = len(candidates)
    if n == 0:
        return np.zeros((0, 0))
    sides = np.array([stance(c.best_sentence) for c in candidates])
    plain = [{_plain(t) for t in c.sentences} for c in candidates]
    sizes = [len(c.sentence_vectors) for c in candidates]
    starts = np.cumsum([0, *sizes[:-1]])
    sentences = np.concatenate([c.sentence_vectors for c in candidates])
    # the closest pair of sentences of each two spans: the maximum over each block of all sentence products
    shared = np.maximum.reduceat(np.maximum.reduceat(sentences @ sentences.T, starts, axis=0), starts, axis=1)
    vectors = np.array([c.vector for c in candidates])
    cosines = vectors @ vectors.T
    scores = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            a, b = candidates[i], candidates[j]
            if sides[i] * sides[j] < 0:
                continue
            if plain[i] & plain[j]:
                score = 1.0
            elif shared[i, j] >= SAME_SENTENCE:
                score = float(shared[i, j])
            elif cosines[i, j] >= similarity and len(a.stems & b.stems) / max(1, len(a.stems | b.stems)) >= overlap:
                score = float(cosines[i, j])
            else:
                continue
            scores[i, j] = scores[j, i] = score
    return scores


def group_duplicates(candidates: list[Candidate], *, similarity: float = DUPLICATE_SIMILARITY,
                     overlap: float = DUPLICATE_OVERLAP) -> list[Group]:
    """Fold each candidate into the best earlier one it repeats (same article: dropped; other: "also in")."""
    scores = claim_matrix(candidates, similarity=similarity, overlap=overlap)
    groups: list[tuple[int, Group]] = []  # (position of the head in candidates, group)
    for i, candidate in enumerate(candidates):
        best, best_similarity = None, 0.0
        for head, group in groups:
            if scores[head, i] > best_similarity:
                best, best_similarity = group, scores[head, i]
        if best is None:
            groups.append((i, Group(candidate)))
        elif candidate.article_id != best.head.article_id and all(
                o.article_id != candidate.article_id for o in best.others):
            best.others.append(candidate)
    return [group for _, group in groups]


@lru_cache(maxsize=4096)
def stance(text: str) -> int:
    """+1 when a sentence says the thing is so (common, a hallmark), -1 when it says it is not or rarely, else 0.

    Conditional sentences ("If you experience frequent spasms...") and hedged denials ("twitching alone
    doesn't indicate ALS") take no side.
    """
    if _CONDITIONAL.match(text):
        return 0
    if _DOUBLE_NEGATIVE.search(text):
        return 1
    if _DENIES.search(text):
        return 0 if _HEDGED.search(text) else -1
    return 1 if _AFFIRMS.search(text) else 0


def asks_whether(question: str) -> bool:
    """True for a question asking whether something is so (yes/no, how common): only these can be disagreed on."""
    return bool(_ASKS_WHETHER.search(question))


def _subjects(terms: list[str], aliases: AliasTable) -> list[list[tuple[str, ...]]]:
    """The subjects a question is about, each as the names (stem tuples) that count as naming it.

    Terms that are words of one alias name ("cramp fasciculation syndrome") form one subject; a subject with
    aliases is named by any of them ("twitching" by "fasciculations"), and a name of a subject already found is
    that subject ("ALS" and "Lou Gehrig's disease"). Relation words are not subjects.
    """
    subjects: list[list[tuple[str, ...]]] = []
    used: set[str] = set()
    present = set(terms)
    for term in terms:
        if term in _RELATION_WORDS or term in used:
            continue
        spelled = [name for name in aliases.names_with(term) if set(name) <= present]  # names the question spells out
        if not spelled:
            subjects.append([(term,)])
            used.add(term)
            continue
        together = max(spelled, key=len)
        used.update(together)
        if any(together in names for names in subjects):  # another name of a subject already found: "is ALS the
            continue  # same thing as Lou Gehrig's disease" is about one thing, which cannot disagree with itself
        subjects.append([together, *spelled, *sorted({a for name in spelled for a in aliases.aliases[name]})])
    return subjects


def _names(stems: set[str], names: list[tuple[str, ...]], document_frequency: Callable[[str], int]) -> bool:
    return any(name_matches(name, stems, document_frequency) for name in names)


class _Vote(NamedTuple):
    group: Group
    side: int  # 1 affirms, -1 denies
    where: int  # where in the head span the side is taken (``_side``)
    worth: float  # ranker probability + cosine of the side-taking sentence with the question


def _side(candidate: Candidate, subjects: list[list[tuple[str, ...]]], document_frequency: Callable[[str], int]
          ) -> tuple[int, int, int]:
    """The stance of the first sentence of ``candidate`` that names every subject and takes a side, where that
    sentence starts in its text, and which of its sentences it is; (0, 0, 0) if none.

    "Twitch-like spasticity" names spasticity, not twitching: words ending in "-like" do not name a subject.
    """
    sentences, end = candidate.sentences, 0
    for i, (sentence, stems) in enumerate(zip(sentences, tokenize([_LIKE.sub(" ", s) for s in sentences]))):
        start = candidate.text.index(sentence, end)  # the span's sentences are verbatim, in order
        end = start + len(sentence)
        if all(_names(set(stems), names, document_frequency) for names in subjects) and (side := stance(sentence)):
            return side, start, i
    return 0, 0, 0


def _from_its_paragraph(candidate: Candidate, where: int) -> Candidate:
    """``candidate`` cut to start at the paragraph holding its character ``where``, when an earlier paragraph
    leads it: a side is shown as the words that take it ("An MS spasm might feel like a tight muscle." above
    "MS very rarely involves the lower motor neurons" says nothing of the question). For display only: the
    spans' vectors and words, used to group them, are left as they were."""
    cut = candidate.text.rfind("\n\n", 0, where)
    if cut < 0:
        return candidate
    cut += len(candidate.text[cut:]) - len(candidate.text[cut:].lstrip())
    return replace(candidate, start=candidate.start + cut, text=candidate.text[cut:])


def _asks_which(question: str, named: list[list[tuple[str, ...]]]) -> bool:
    """True when the question asks whether what it tells is one of ``named``: "is that MS?", "is this the MS?"
    (the whole name right after it: "is it muscle weakness?" does not name muscle twitching)."""
    for match in _ASKS_WHICH.finditer(question):
        words = tuple(stem_word(w) for w in match.group(1).lower().split())
        if any(words[:len(name)] == name for names in named for name in names):
            return True
    return False


def find_disagreement(question: str, groups: list[Group], terms: list[str], aliases: AliasTable,
                      document_frequency: Callable[[str], int], question_vector: np.ndarray, *,
                      min_probability: float) -> tuple[Group, Group] | None:
    """The best (affirming, denying) pair of groups from different articles about all the question's subjects,
    on a question asking whether something is so; None when the articles do not disagree.

    Only groups the ranker gives at least ``min_probability`` of holding an answer take part; a span's side is
    read from its first sentence that names all the subjects and takes a side. The pair returned has the highest
    sum, over its two sides, of ranker probability and cosine of that sentence with ``question_vector``. When
    there is a disagreement, every group taking a side gets its ``stance`` set, so readers see which side each
    extract is on.
    """
    if not asks_whether(question):
        return None
    subjects = _subjects(terms, aliases)
    # A question relating two things the articles define names for ("is that twitching from the MS?") is
    # about those two, whatever else it tells ("my husband's arm"), when it asks how they relate.
    named = [names for names in subjects if len(names) > 1]
    if len(named) >= 2 and (any(term in _RELATING_WORDS for term in terms) or _ASKS_IDENTITY.search(question)
                            or _asks_which(question, named)):
        subjects = named
    if len(subjects) < 2:  # a disagreement is about how two things relate ("twitching" and "MS")
        return None
    # a side is worth its ranker's chance plus how close the words that take it come to the question: of two
    # spans of one article taking one side, "MS twitching is one of the more common symptoms" answers "is
    # twitching a sign of MS" more directly than "MS twitching may be a direct result of nerve damage"
    voting: list[_Vote] = []
    for group in groups:
        if group.head.probability < min_probability:
            continue
        side, where, row = _side(group.head, subjects, document_frequency)
        if side:
            worth = group.head.probability + float(group.head.sentence_vectors[row] @ question_vector)
            voting.append(_Vote(group, side, where, worth))
    articles = {id(v.group): {v.group.head.article_id, *(o.article_id for o in v.group.others)} for v in voting}
    pairs = [(a, d) for a in voting if a.side > 0 for d in voting if d.side < 0
             if not articles[id(a.group)] & articles[id(d.group)]]
    if not pairs:
        return None
    affirming, denying = max(pairs, key=lambda pair: pair[0].worth + pair[1].worth)
    for vote in voting:
        vote.group.stance = vote.side
        vote.group.head = _from_its_paragraph(vote.group.head, vote.where)
    return affirming.group, denying.group
