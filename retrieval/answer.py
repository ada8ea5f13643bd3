"""The one call the page and the CLI make: a question in, cited verbatim extracts (or an abstention) out."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.tokens import content_rows
from retrieval.confidence import (MAX_MEASURED_WORDS, Calibration, confidence_features, load_calibration,
                                  measured_ranges, missing_words, word_weights)
from retrieval.extract import Candidate, Unit, chunk_units, covered_stems, extract_candidates, term_weights
from retrieval.group import (DUPLICATE_OVERLAP, DUPLICATE_SIMILARITY, Group, asks_whether, find_disagreement,
                             group_duplicates)
from retrieval.index import Index, SentenceRow
from retrieval.query import NEIGHBOUR_SIMILARITY, Query, check_question, parse_query, with_neighbours
from retrieval.ranker import Ranker, load_ranker
from retrieval.search import Ranking, hybrid_ranking
from retrieval.types import AlsoIn, Answer, Citation, Extract, Passage


@dataclass(frozen=True)
class RetrievalSettings:
    """Retrieval parameters; chosen by measurement on the dev questions (see README, Evaluation)."""

    depth: int = 30  # candidates taken from each ranking before fusion
    chunks: int = 10  # best chunks that extracts are drawn from
    lead: int = 3  # ... and the first chunks of each single ranking (dense, sentences, BM25) that fusion puts lower
    voting_chunks: int = 15  # on a yes/no question, spans of this many chunks may take a side in a disagreement
    per_chunk: int = 2  # spans taken from each of those chunks
    window: int = 2  # longest run of sentences scored as one span (a leaning first sentence adds one)
    use_sentences: bool = True  # add a sentence-level dense ranking to the fusion
    duplicate_similarity: float = DUPLICATE_SIMILARITY
    duplicate_overlap: float = DUPLICATE_OVERLAP
    neighbour_similarity: float = NEIGHBOUR_SIMILARITY  # an unknown word is searched as its closest corpus word
    disagreement_min_probability: float = 0.1  # spans the ranker gives at least this chance take sides
    related_min_similarity: float = 0.35  # an abstention offers passages at least this close as "related", and
    # those naming every name the question asks about that the articles define ("what is bfs?? everyone on reddit
    # has it": the model hardly knows "bfs", so no passage on it comes close, but the articles define it)


def _citation(index: Index, candidate: Candidate) -> tuple[Citation, Passage]:
    """The extract's citation, and its passage: the chunk, widened when the extract (a long list) runs past it."""
    article = index.articles[candidate.article_id]
    chunk = index.chunks([candidate.chunk_id])[candidate.chunk_id]
    citation = Citation(article.id, article.title, article.path, chunk.section, article.url, article.site)
    start, end = min(chunk.start, candidate.start), max(chunk.end, candidate.end)
    text = chunk.text if (start, end) == (chunk.start, chunk.end) else index.article_text(article.id)[start:end]
    passage = Passage(chunk.id, chunk.article_id, text, start, end, chunk.section, candidate.score)
    return citation, passage


def _extract(index: Index, group: Group) -> Extract:
    citation, passage = _citation(index, group.head)
    also_in = []
    for other in group.others:
        other_citation, _ = _citation(index, other)
        also_in.append(AlsoIn(other.article_id, other_citation.title, other.start, other.end, other.text,
                              other_citation.path, other_citation.section, other_citation.url))
    stance = {1: "affirms", -1: "denies"}.get(group.stance, "")
    head = group.head
    return Extract(head.text, head.start, head.end, round(head.score, 4), citation, passage, tuple(also_in), stance)


@dataclass(frozen=True)
class QueryVectors:
    """The question's vectors, all from one encoder call."""

    search: np.ndarray  # rows: the question, then (if it has aliases) the question with them appended
    topic: np.ndarray | None  # the words naming the question's topic, when the question asks more than that
    unknown: np.ndarray  # one row per word of the question the articles never use (``Query.unknown``)
    words: np.ndarray  # the question's content words in context (``ingest.tokens.content_rows``), one row each

    @property
    def question(self) -> np.ndarray:
        return self.search[0]


def encode_query(index: Index, query: Query) -> QueryVectors:
    """Encode the question, its alias-expanded form, its topic and the words the articles lack in one batch."""
    texts = [query.text] + ([query.expanded_text] if query.alias_names else [])
    topic = " ".join(query.topic)
    # the question asks more than its topic when it has other words, known or not (those may find neighbours);
    # not a comparison, whose answer must match both things compared ("clonus vs fasciculation": a list of the
    # causes of clonus is far from the topic "fasciculation" and close to the question, but does not compare them)
    has_topic = bool(query.topic) and (len(query.topic) < len(query.terms) or bool(query.unknown)) and (
        "comparison" not in query.answer_types)
    unknown = [query.written.get(stem, stem) for stem in query.unknown]
    vectors, tokens = index.encoder.encode_with_tokens(texts + ([topic] if has_topic else []) + unknown)
    return QueryVectors(vectors[: len(texts)], vectors[len(texts)] if has_topic else None,
                        vectors[len(vectors) - len(unknown):], content_rows(*tokens[0]))


def query_for(index: Index, question: str, *, define: bool = True) -> Query:
    """The checked question parsed against this index's vocabulary and aliases (``define``: see ``parse_query``).

    Raises:
        QuestionError: see ``check_question``.
    """
    return parse_query(check_question(question), index.vocabulary, index.document_frequency, index.aliases,
                       index.encoder.is_word, documents=index.chunk_count, initials=index.initials,
                       spelled=index.spelled, define=define)


def prepare_query(index: Index, question: str, settings: RetrievalSettings, *, define: bool = True
                  ) -> tuple[Query, QueryVectors]:
    """The parsed question, its words the articles lack replaced by their nearest corpus words, and its vectors.

    Raises:
        QuestionError: see ``check_question``.
    """
    query = query_for(index, question, define=define)
    vectors = encode_query(index, query)
    if query.unknown:
        query = with_neighbours(query, index.words.nearest(vectors.unknown),
                                min_similarity=settings.neighbour_similarity)
    return query, vectors


def rank_chunks(question: str, index: Index, *, depth: int = 30, settings: RetrievalSettings = RetrievalSettings(),
                article_ids: set[str] | None = None) -> list[tuple[int, float]]:
    """The fused chunk ranking ``answer`` starts from: (chunk id, score), best first, ``depth`` per ranking.

    Raises:
        QuestionError: see ``check_question``.
    """
    query, vectors = prepare_query(index, question, settings)
    return _ranking(index, query, vectors, depth, settings, article_ids).fused


def _ranking(index: Index, query: Query, vectors: QueryVectors, depth: int, settings: RetrievalSettings,
             article_ids: set[str] | None) -> Ranking:
    allowed = None if article_ids is None else np.array(sorted(index.chunk_ids_of(article_ids)), dtype=np.int64)
    return hybrid_ranking(index, query, vectors.search, depth=depth, use_sentences=settings.use_sentences,
                          allowed=allowed, lead=settings.lead)


def span_units(index: Index, query: Query, vectors: QueryVectors, settings: RetrievalSettings,
               article_ids: set[str] | None = None, *, voting: bool = False
               ) -> tuple[list[Unit], dict[int, list[SentenceRow]], set[int]]:
    """The candidate spans (``extract.chunk_units``) of the chunks answers are drawn from, the chunks' sentences,
    and those chunks' ids: the best ``settings.chunks`` fused chunks and the leaders of each single ranking
    (``Ranking.pool``). With ``voting`` (a yes/no question, which may find the other side of a disagreement a
    little further down), the spans of the next ``voting_chunks - chunks`` fused chunks too."""
    ranking = _ranking(index, query, vectors, settings.depth, settings, article_ids)
    ordered, count = ranking.pool(settings.chunks)
    pool = count + max(0, settings.voting_chunks - settings.chunks) if voting else count
    units, by_chunk = chunk_units(index, ordered, ranking.bm25, vectors, query, chunks=pool, window=settings.window)
    return units, by_chunk, {chunk for chunk, _ in ordered[:count]}


@dataclass(frozen=True)
class Retrieved:
    """Everything ``answer`` decides from: the parsed query, ranked candidates, their groups, confidence features."""

    query: Query
    candidates: list[Candidate]
    groups: list[Group]
    voters: list[Group]  # the groups that may take a side in a disagreement (more chunks than ``groups``)
    features: dict[str, float]  # unknown words count wholly and "missing_weight" is 0 until ``measure_missing``
    missing: list[str]  # question words the best span lacks (``missing_words``)
    question_vector: np.ndarray


def retrieve(question: str, index: Index, *, settings: RetrievalSettings = RetrievalSettings(),
             ranker: Ranker | None = None, article_ids: set[str] | None = None, define: bool = True) -> Retrieved:
    """Rank candidate spans for ``question`` and group repeated claims (no abstention decision yet). ``define``
    searches a name typed on its own as "what is <name>?" (``parse_query``).

    Raises:
        QuestionError: the question is empty, too long, has control characters or is not in English.
    """
    query, vectors = prepare_query(index, question, settings, define=define)
    units, by_chunk, shown = span_units(index, query, vectors, settings, article_ids, voting=asks_whether(query.text))
    everything = extract_candidates(index, units, by_chunk, vectors, query, ranker or load_ranker(),
                                    per_chunk=settings.per_chunk)
    candidates = [c for c in everything if c.chunk_id in shown]
    grouping = {"similarity": settings.duplicate_similarity, "overlap": settings.duplicate_overlap}
    groups = group_duplicates(candidates, **grouping)
    voters = group_duplicates(everything, **grouping) if len(everything) > len(candidates) else groups
    features = confidence_features(query, candidates, term_weights(index, query.terms))
    return Retrieved(query, candidates, groups, voters, features, missing_words(query, candidates), vectors.question)


def measure_missing(index: Index, retrieved: Retrieved, calibration: Calibration | None = None) -> dict[str, float]:
    """The confidence features with the weight in the question of its unknown and missing words measured, which
    takes a second encoder call (``confidence.word_weights``).

    Given ``calibration``, it is measured only when the measured values could change the decision to abstain:
    unmeasured, the unknown words count wholly and "missing_weight" is 0, the two ends of their ranges.
    """
    features, query = retrieved.features, retrieved.query
    words = list(dict.fromkeys([query.written.get(s, s) for s in query.unknown] + retrieved.missing))
    words = words[:MAX_MEASURED_WORDS]
    if not words:
        return features
    if calibration is not None and not calibration.undecided(features, measured_ranges(features)):
        return features
    meaning = dict(zip(words, word_weights(index.encoder, query.text, retrieved.question_vector, words)))
    return confidence_features(query, retrieved.candidates, term_weights(index, query.terms), meaning,
                               retrieved.missing)


def answer(question: str, index: Index, *, k: int = 5, settings: RetrievalSettings = RetrievalSettings(),
           calibration: Calibration | None = None, ranker: Ranker | None = None,
           article_ids: set[str] | None = None) -> Answer:
    """Answer ``question`` from ``index`` with up to ``k`` extracts, each a different claim.

    ``article_ids`` limits the answer to those articles. Abstains (``abstained=True``, no extracts, closest
    passages in ``related``) when the calibrated confidence is below the recorded threshold.

    Raises:
        QuestionError: the question is empty, too long, has control characters or is not in English.
        ValueError: ``k`` is not positive.
    """
    if k < 1:
        raise ValueError(f"k must be greater than 0, got {k}")
    calibration = calibration or load_calibration()
    retrieved = retrieve(question, index, settings=settings, ranker=ranker, article_ids=article_ids)
    confidence = calibration.confidence(measure_missing(index, retrieved, calibration))
    if retrieved.query.bare and (not retrieved.groups or confidence < calibration.threshold):
        # the articles do not say what the name is ("magnesium"): answer what they say about it
        retrieved = retrieve(question, index, settings=settings, ranker=ranker, article_ids=article_ids,
                             define=False)
        confidence = calibration.confidence(measure_missing(index, retrieved, calibration))
    query, groups = retrieved.query, retrieved.groups
    text, read_as = (query.asked, query.text) if query.asked else (query.text, "")
    if not groups or confidence < calibration.threshold:
        names = [set(name) for name in index.aliases.matched(query.terms, index.df, index.chunk_count)]
        related = [g for g in groups if g.head.similarity >= settings.related_min_similarity or names and all(
            name <= covered_stems(g.head.stems, query.equivalents) for name in names)][:k]
        return Answer(text, (), True, round(confidence, 4), False, tuple(_extract(index, g) for g in related),
                      index.version, read_as)
    sides = find_disagreement(query.text, retrieved.voters, query.terms, index.aliases, index.df,
                              retrieved.question_vector, min_probability=settings.disagreement_min_probability)
    # both sides of a disagreement lead the answer, even when k is 1 (one side alone would mislead), the side the
    # ranker puts higher first
    if sides:
        sides = tuple(sorted(sides, key=lambda g: -g.head.score))
        # a side's head may be cut to the paragraph that takes the side: it still ends where its span ends
        heads = {(side.head.article_id, side.head.end) for side in sides}
        shown = [*sides, *(g for g in groups if (g.head.article_id, g.head.end) not in heads)][: max(k, 2)]
    else:
        shown = groups[:k]
    return Answer(text, tuple(_extract(index, g) for g in shown), False, round(confidence, 4), sides is not None,
                  (), index.version, read_as)
