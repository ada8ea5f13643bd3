"""From candidate chunks, the spans that answer: verbatim sentences scored against the question."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ingest.lexical import tokenize
from retrieval.cues import answered_stems, defines, describes_after_dash, has_answer_shape, wants_list
from retrieval.index import Index, SentenceRow
from retrieval.query import Query
from retrieval.ranker import FEATURES, Ranker

if TYPE_CHECKING:
    from retrieval.answer import QueryVectors

MAX_SENTENCES = 3
MAX_LIST_CHARS = 1500
SUBJECT_TOKENS = 3  # a span "opens with" a question term when it is among the first stems of its first sentence
DEFINED_TOKENS = 5  # a defining sentence names its term among its first stems ("Muscle twitching, medically termed
# fasciculations, involves ...")
# A sentence opening like this leans on the one before it ("These twitches ...", "However, ...").
_LEANS_BACK = re.compile(r"^(?:this|these|that|those|it|its|they|their|they'll|such|however|but|or|also|in these|"
                         r"in this|furthermore|moreover|therefore|thus|as a result|in other words|for example)\b",
                         re.IGNORECASE)


@dataclass(frozen=True)
class Unit:
    """A span of a chunk as a range of its sentences, with the ranker's features."""

    chunk_id: int
    rank: int  # of the chunk in the fused ranking
    first: int
    last: int
    features: np.ndarray  # in the order of ranker.FEATURES


@dataclass(frozen=True)
class Candidate:
    """A span of one chunk that may answer the question, before grouping."""

    chunk_id: int
    article_id: str
    start: int
    end: int
    text: str
    sentence_ids: tuple[int, ...]
    score: float  # the ranker's score (higher is better)
    probability: float  # the ranker's fitted chance that the span holds an answer
    similarity: float  # cosine of question and span
    coverage: float  # weighted share of the question's topic terms found in the span
    vector: np.ndarray  # unit vector of the span (mean of its sentences), for grouping
    sentence_vectors: np.ndarray  # one row per sentence of the span, for grouping
    sentences: tuple[str, ...]  # the span's sentences, for grouping
    stems: frozenset[str]  # BM25 stems of the span, for grouping
    best_sentence: str  # the sentence of the span closest to the question


def term_weights(index: Index, stems: list[str]) -> dict[str, float]:
    """IDF-like weight of each query stem in this corpus (rare terms matter more)."""
    vocabulary = index.vocabulary
    n = max(index.chunk_count, 1)
    df = index.document_frequency
    return {s: float(np.log(1 + (n - df[vocabulary[s]] + 0.5) / (df[vocabulary[s]] + 0.5))) if s in vocabulary
            else float(np.log(1 + (n + 0.5) / 0.5)) for s in stems}


def covered_stems(stems: set[str] | frozenset[str],
                  equivalents: list[tuple[tuple[str, ...], tuple[str, ...]]] = ()) -> set[str]:
    """``stems`` with the stems of every name whose alias they hold (``Query.equivalents``: a span saying "CFS"
    covers "cramp-fasciculation syndrome")."""
    covered = set(stems)
    for alias, name in equivalents:
        if set(alias) <= stems:
            covered.update(name)
    return covered


def coverage(stems: set[str], weights: dict[str, float],
             equivalents: list[tuple[tuple[str, ...], tuple[str, ...]]] = ()) -> float:
    """Weighted share of the query's terms in ``stems``, an alias covering the name it stands for
    (``covered_stems``)."""
    total = sum(weights.values())
    if total == 0:
        return 0.0
    covered = covered_stems(stems, equivalents)
    return sum(w for s, w in weights.items() if s in covered) / total


def _dangling(sentence: SentenceRow) -> bool:
    """A plain sentence announcing a list that does not follow ("Other conditions include :" before a new
    paragraph): it answers nothing, alone or joined to the next sentence."""
    return sentence.text.rstrip().endswith(":")


def _ranges(sentences: list[SentenceRow], window: int) -> list[tuple[int, int]]:
    """Candidate spans of a chunk as sentence index ranges [first, last]: runs of up to ``window`` plain
    sentences (never a dangling lead-in), and each list (lead-in with its items) whole."""
    ranges: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        group = sentences[i].list_group
        if sentences[i].role in ("lead", "item") and group is not None:
            j = i
            while j + 1 < len(sentences) and sentences[j + 1].list_group == group:
                j += 1
            ranges.append((i, j))
            i = j + 1
            continue
        for j in range(i, min(i + window, len(sentences))):
            if sentences[j].role != "text" or _dangling(sentences[j]):
                break
            ranges.append((i, j))
        i += 1
    return ranges


def chunk_units(index: Index, chunk_ranking: list[tuple[int, float]], bm25: dict[int, float],
                vectors: QueryVectors, query: Query, *, chunks: int = 10, window: int = 2
                ) -> tuple[list[Unit], dict[int, list[SentenceRow]]]:
    """Every candidate span of the top ``chunks`` chunks with its features, and the chunks' sentences.

    The spans of all the chunks are scored together: one product per kind of vector, one tokenizer call.
    """
    top = chunk_ranking[:chunks]
    by_chunk = index.sentences_of([c for c, _ in top])
    kept = [(rank, chunk_id, by_chunk[chunk_id]) for rank, (chunk_id, _) in enumerate(top) if by_chunk.get(chunk_id)]
    if not kept:
        return [], by_chunk
    # Spans are judged against the question as asked: the alias-expanded vector helps find chunks, but it
    # pulls towards any sentence that spells out a name ("ALS, better known as Lou Gehrig disease").
    queries, search, topic = vectors.search[:1], vectors.search, vectors.topic
    weights = term_weights(index, query.terms)
    focus_weights = {s: weights[s] for s in query.focus if s in weights}
    terms = set(query.terms)
    types = query.answer_types
    list_asked = wants_list(query.text)
    definition_asked = "definition" in types
    best_bm25 = max(bm25.values(), default=0.0) or 1.0
    # every span of every chunk as a range [first, last] of the sentences of all the chunks, in order
    sentences = [sentence for _, _, rows in kept for sentence in rows]
    ranges, local, of_chunk = [], [], []
    offset = 0
    for position, (_, _, rows) in enumerate(kept):
        for first, last in _ranges(rows, window):
            ranges.append((offset + first, offset + last))
            local.append((first, last))
            of_chunk.append(position)
        offset += len(rows)
    if not ranges:
        return [], by_chunk
    ids = [s.id for s in sentences]
    sentence_vectors = index.sentence_vectors_for(ids)
    similarity = (sentence_vectors @ queries.T).max(axis=1)
    # the same sentences without their heading: under a heading that matches the question, every sentence
    # looks like an answer, and only their own words tell which one is
    plain_vectors = index.plain_vectors_for(ids)
    plain_similarity = (plain_vectors @ queries.T).max(axis=1)
    chunk_rows = index.chunk_index.rows([chunk_id for _, chunk_id, _ in kept])
    chunk_similarity = (index.chunk_index.vectors[chunk_rows] @ search.T).max(axis=1)
    section = (index.section_index.vectors[chunk_rows] @ queries.T).max(axis=1).astype(np.float64)
    tokens = tokenize([s.text for s in sentences])
    stems = [set(t) for t in tokens]
    # every span's vector: the normalised sum of its sentences' vectors
    firsts, lasts = np.array(ranges, dtype=np.int64).T
    summed = _range_sums(sentence_vectors, firsts, lasts)
    span_vectors = summed / np.maximum(np.linalg.norm(summed, axis=1, keepdims=True), 1e-9)
    per_span = (span_vectors @ queries.T).max(axis=1)
    plain_summed = _range_sums(plain_vectors, firsts, lasts)
    plain_spans = (plain_summed @ queries.T).max(axis=1) / np.maximum(np.linalg.norm(plain_summed, axis=1), 1e-9)
    question_met, span_met = words_met(vectors.words, *index.word_vectors_for(ids), firsts, lasts)
    positions = np.arange(len(sentences))
    inside = (positions >= firsts[:, None]) & (positions <= lasts[:, None])
    chunk_of = np.array(of_chunk, dtype=np.int64)
    firsts = firsts.tolist()
    is_list = np.array([sentences[first].role != "text" for first in firsts], dtype=bool)
    texts = [" ".join(s.text for s in sentences[first:last + 1]) for first, last in ranges]
    # a span of the shape asked for answers the words that ask for it ("results from" answers "why ... cause")
    span_stems = [set().union(*stems[first:last + 1], answered_stems(types, text))
                  for (first, last), text in zip(ranges, texts)]
    lengths = np.array([min(last - first + 1, MAX_SENTENCES) for first, last in ranges], dtype=np.float64)
    columns = {  # one value per span
        "similarity": per_span,
        "best_sentence": np.where(inside, similarity[None, :], -np.inf).max(axis=1),
        "coverage": [coverage(stems_, weights, query.equivalents) for stems_ in span_stems],
        "chunk": chunk_similarity[chunk_of],
        "section": section[chunk_of],
        "section_match": np.maximum(0.0, section[chunk_of] - 0.75) * 4,
        "shape": [float(has_answer_shape(types, text)) for text in texts],
        "is_list": is_list,
        "list_wanted": is_list & list_asked,
        # a list's items are embedded with its lead-in; the best of many items would flatter any list
        "sentences": np.where(is_list, 1, lengths) / MAX_SENTENCES,
        "fused_rank": 1.0 / (1 + np.array([kept[c][0] for c in of_chunk], dtype=np.float64)),
        "bm25": np.array([bm25.get(kept[c][1], 0.0) for c in of_chunk]) / best_bm25,
        "opening": np.array([first == 0 for first, _ in local]),
        "focus": per_span - span_vectors @ topic if topic is not None else 0.0,
        "focus_coverage": [coverage(stems_, focus_weights, query.equivalents) for stems_ in span_stems],
        "subject": [bool(terms.intersection(tokens[first][:SUBJECT_TOKENS])) for first in firsts],
        "list_unwanted": is_list & (not list_asked),
        "plain_best": np.where(inside, plain_similarity[None, :], -np.inf).max(axis=1),
        "plain_span": plain_spans,
        "words_met": question_met,
        "span_words_met": span_met,
        "defines": [definition_asked and not listed and (
                    bool(terms.intersection(tokens[first][:DEFINED_TOKENS])) and defines(sentences[first].text)
                    or describes_after_dash(sentences[first].text, terms))
                    for first, listed in zip(firsts, is_list)],
    }
    features = np.empty((len(ranges), len(FEATURES)))
    for column, name in enumerate(FEATURES):
        features[:, column] = columns[name]
    units = [Unit(kept[c][1], kept[c][0], first, last, row) for c, (first, last), row in zip(of_chunk, local, features)]
    return units, by_chunk


def _range_sums(rows: np.ndarray, firsts: np.ndarray, lasts: np.ndarray, combine: np.ufunc = np.add
                ) -> np.ndarray:
    """Sum (or another ``combine``, such as ``np.maximum``) of ``rows[first:last + 1]`` for each (first, last),
    combining the d-th row of every range at least d long at once: spans are one to a few sentences. (A product
    with a 0/1 membership matrix is big enough for BLAS to wake its threads, which then spin on the cores the next
    encode needs; ``np.add.reduceat`` is slower.)"""
    lengths = lasts - firsts + 1
    summed = rows[firsts]
    for d in range(1, int(lengths.max(initial=1))):
        longer = np.flatnonzero(lengths > d)
        summed[longer] = combine(summed[longer], rows[firsts[longer] + d])
    return summed


def words_met(question: np.ndarray, words: np.ndarray, counts: np.ndarray, firsts: np.ndarray, lasts: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """How well each span's words and the question's meet, in context: late interaction (ColBERT's MaxSim,
    Khattab & Zaharia 2020) both ways, over content-word vectors (``ingest/tokens.py``).

    ``question`` has a row per content word of the question, ``words`` such rows for each sentence in turn,
    ``counts[j]`` of them (at least one) for sentence j; a span is the sentences ``firsts[i]`` to ``lasts[i]``.
    Returns, per span, (the mean over the question's words of each one's best cosine with a word of the span, the
    mean over the span's words of each one's best cosine with a word of the question). "tablets" in a carer's
    question about water tablets meets "pills" in "medications, such as water pills" at 0.63 (and "water" at
    0.28), where BM25's stems miss it and the span's one vector blurs it with every other word."""
    if len(question) == 0 or not len(firsts):
        return np.zeros(len(firsts)), np.zeros(len(firsts))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    cosines = question @ words.T  # question words x all the sentences' words
    best = np.maximum.reduceat(cosines, starts, axis=1).T  # sentences x question words
    met = _range_sums(best, firsts, lasts, np.maximum)  # spans x question words
    answered = _range_sums(np.add.reduceat(cosines.max(axis=0), starts), firsts, lasts)
    return met.mean(axis=1), answered / _range_sums(counts, firsts, lasts)


def _span(index: Index, sentences: list[SentenceRow], unit: Unit) -> list[SentenceRow]:
    """The sentences a unit shows: a whole list, or the run grown by a sentence it leans on."""
    first, last = unit.first, unit.last
    if sentences[first].role != "text" and sentences[first].list_group is not None:
        return _list_span(index, sentences[first])
    if first > 0 and _LEANS_BACK.match(sentences[first].text) and sentences[first - 1].role == "text" \
            and not _dangling(sentences[first - 1]) and last - first + 2 <= MAX_SENTENCES:
        first -= 1
    return sentences[first:last + 1]


def extract_candidates(index: Index, units: list[Unit], by_chunk: dict[int, list[SentenceRow]],
                       vectors: QueryVectors, query: Query, ranker: Ranker, *, per_chunk: int = 2
                       ) -> list[Candidate]:
    """The ``per_chunk`` best-ranked non-overlapping spans of each chunk, best first."""
    if not units:
        return []
    queries = vectors.search[:1]
    scores = ranker.scores(np.stack([u.features for u in units]))
    probabilities = ranker.probability(np.stack([u.features for u in units]))
    weights = term_weights(index, query.terms)
    taken: dict[int, set[int]] = {}
    kept: dict[int, int] = {}
    texts: dict[str, str] = {}
    candidates: list[Candidate] = []
    for order in np.argsort(-scores, kind="stable"):
        unit = units[int(order)]
        if kept.get(unit.chunk_id, 0) == per_chunk:
            continue
        sentences = by_chunk[unit.chunk_id]
        span = _span(index, sentences, unit)
        used = taken.setdefault(unit.chunk_id, set())
        positions = {i for i, s in enumerate(sentences) if span[0].start <= s.start and s.end <= span[-1].end}
        if used & positions:
            continue
        used.update(positions)
        kept[unit.chunk_id] = kept.get(unit.chunk_id, 0) + 1
        article_id = span[0].article_id
        if article_id not in texts:
            texts[article_id] = index.article_text(article_id)
        span_vectors = index.sentence_vectors_for([s.id for s in span])
        mean = span_vectors.mean(axis=0)
        best = span[int(np.argmax((span_vectors @ queries.T).max(axis=1)))]
        span_stems = set().union(*tokenize([s.text for s in span]))
        candidates.append(Candidate(
            unit.chunk_id, article_id, span[0].start, span[-1].end, texts[article_id][span[0].start:span[-1].end],
            tuple(s.id for s in span), float(scores[order]), float(probabilities[order]),
            float(unit.features[FEATURES.index("similarity")]), coverage(span_stems, weights, query.equivalents),
            mean / max(float(np.linalg.norm(mean)), 1e-9), span_vectors, tuple(s.text for s in span),
            frozenset(span_stems), best.text,
        ))
    return candidates


def _list_span(index: Index, chosen: SentenceRow) -> list[SentenceRow]:
    """The lead-in and items of the chosen sentence's list, cut to ``MAX_LIST_CHARS`` from the lead-in."""
    members = index.list_sentences(chosen.article_id, chosen.list_group)
    span = []
    for member in members:
        if span and member.end - span[0].start > MAX_LIST_CHARS and member.start > chosen.end:
            break
        span.append(member)
    return span
