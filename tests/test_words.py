"""The vocabulary's word vectors (ingest.terms) and the nearest-word search they give questions."""
from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import FakeEncoder, build_fake_index, calibration, simple_ranker
from ingest.words import WORDS_FILE, WordVectors, WordsUpdate, surface_words
from retrieval import RetrievalSettings, answer, load_index
from retrieval.answer import prepare_query
from retrieval.confidence import MEANING_DROP, confidence_features, missing_words
from retrieval.query import Query, with_neighbours


def test_surface_words_keep_each_stems_most_frequent_form_and_skip_numbers_and_stop_words():
    words = surface_words(["Twitches twitch; twitching twitches.", "The 2 MRI scans at 10mg", "ok"])
    assert words == {"twitch": "twitches", "mri": "mri", "scan": "scans"}


def vectors(*rows: list[float]) -> np.ndarray:
    array = np.array(rows, dtype=np.float32)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


def test_nearest_gives_each_row_its_closest_term():
    terms = WordVectors(("caffein", "exercis"), ("caffeine", "exercise"), vectors([1, 0, 0], [0, 1, 0]))
    found = terms.nearest(vectors([0.9, 0.1, 0], [0, 0, 1]))
    assert [(stem, word) for stem, word, _ in found] == [("caffein", "caffeine"), ("caffein", "caffeine")]
    assert found[0][2] == pytest.approx(0.9 / np.hypot(0.9, 0.1)) and found[1][2] == pytest.approx(0.0)
    assert WordVectors.empty(3).nearest(vectors([1, 0, 0])) == [("", "", 0.0)]
    assert terms.restricted_to({"exercis": 0}).stems == ("exercis",)


def test_an_update_encodes_only_new_words_and_shares_an_unchanged_file(tmp_path):
    encoder = FakeEncoder()
    first, second, third = (tmp_path / name for name in ("v1", "v2", "v3"))
    for folder in (first, second, third):
        folder.mkdir()
    update = WordsUpdate({"caffein": "caffeine", "sleep": "sleep"}, encoder.dimension)
    assert update.missing == ["caffeine", "sleep"]
    update.write(first, dict(zip(update.missing, encoder.encode(update.missing))))

    unchanged = WordsUpdate({"sleep": "sleep"}, encoder.dimension, parent=first)
    assert unchanged.missing == []
    unchanged.write(second, {})
    assert os.path.samefile(first / WORDS_FILE, second / WORDS_FILE)  # hard-linked, not rewritten

    grown = WordsUpdate({"stress": "stress"}, encoder.dimension, parent=second)
    assert grown.missing == ["stress"]
    grown.write(third, dict(zip(grown.missing, encoder.encode(grown.missing))))
    terms = WordVectors.load(third, encoder.dimension)
    assert terms.stems == ("caffein", "sleep", "stress")  # an edit keeps the stems it did not see
    np.testing.assert_allclose(terms.vectors[0], encoder.encode(["caffeine"])[0], atol=1e-3)  # float16 on disk

    rebuilt = WordsUpdate({"stress": "stress"}, encoder.dimension, parent=third, complete=True)
    assert rebuilt.missing == []
    rebuilt.write(tmp_path, {})
    assert WordVectors.load(tmp_path, encoder.dimension).stems == ("stress",)  # a rebuild drops the others


def test_a_version_without_terms_loads_none(tmp_path):
    assert WordVectors.load(tmp_path, 8).stems == ()


def query(**fields) -> Query:
    return Query(**{"text": "does coffee make muscles twitch", "terms": ["muscl", "twitch"], "unknown": ["coffe"],
                    "expanded": [], "alias_names": [], "written": {"coffe": "coffee"}, **fields})


def test_a_close_neighbour_joins_the_search_and_a_far_one_does_not():
    near = with_neighbours(query(), [("caffein", "caffeine", 0.72)], min_similarity=0.65)
    assert near.terms == ["muscl", "twitch", "caffein"] and near.neighbours == {"coffe": ("caffein", 0.72)}
    assert near.written["caffein"] == "coffee"  # shown to the user as they wrote it
    assert near.unknown == ["coffe"]  # still a word the corpus lacks: confidence weighs how far it is
    far = with_neighbours(query(), [("caffein", "caffeine", 0.5)], min_similarity=0.65)
    assert far.terms == ["muscl", "twitch"] and far.neighbours == {}
    with pytest.raises(ValueError, match="one neighbour per unknown stem"):
        with_neighbours(query(), [], min_similarity=0.65)


def test_a_neighbour_makes_its_word_less_unknown_and_not_missing_from_a_span_that_has_it():
    weights = {"muscl": 1.0, "twitch": 1.0}

    class Span:
        stems = frozenset({"caffein", "muscl", "twitch"})
        probability, similarity, text = 0.9, 0.6, "Caffeine makes muscles twitch."

    class Elsewhere:
        stems = frozenset({"muscl", "twitch"})
        probability, similarity, text = 0.9, 0.6, "Muscles twitch."

    plain = confidence_features(query(), [Span()], weights)["unknown"]
    near = with_neighbours(query(), [("caffein", "caffeine", 0.75)], min_similarity=0.65)
    # "caffeine" at 0.75 is 0.1 above the 0.65 a neighbour must reach, of the 0.35 above it
    assert confidence_features(near, [Span()], weights)["unknown"] == pytest.approx(plain * (1 - 0.1 / 0.35))
    # an answer that does not use the neighbour leaves the word as unknown as it was ("cure" -> "treatment")
    assert confidence_features(near, [Elsewhere()], weights)["unknown"] == pytest.approx(plain)
    assert confidence_features(near, [], weights)["unknown"] == pytest.approx(plain)

    assert missing_words(query(), [Span()]) == ["coffee"]
    assert missing_words(near, [Span()]) == []
    assert missing_words(near, [Elsewhere()]) == ["coffee"]


class CoffeeIsCaffeine(FakeEncoder):
    """A fake model that knows one synonym: the word "coffee" gets the vector of "caffeine"."""

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = super().encode(texts)
        for row, text in enumerate(texts):
            if text == "coffee":
                vectors[row] = super().encode(["caffeine"])[0]
        return vectors


CORPUS = {
    "causes.txt": "Twitch Causes\n\nToo much caffeine can make muscles twitch.\n\nMost twitches stop on their own.\n",
    "sleep.txt": "Sleep\n\nMost people need seven hours of sleep.\n",
}


def test_an_everyday_word_the_articles_never_use_reaches_theirs(tmp_path):
    encoder = CoffeeIsCaffeine()
    index = load_index(build_fake_index(tmp_path, CORPUS, encoder=encoder), encoder)
    question = "Can drinking coffee make me twitch?"
    parsed, _ = prepare_query(index, question, RetrievalSettings())
    assert "coffe" in parsed.unknown and parsed.neighbours["coffe"][0] == "caffein" and "caffein" in parsed.terms
    result = answer(question, index, calibration=calibration(), ranker=simple_ranker())
    assert result.extracts[0].text == "Too much caffeine can make muscles twitch."
    assert "caffein" not in prepare_query(index, question, RetrievalSettings(neighbour_similarity=1.01))[0].terms


def test_an_alias_in_the_span_covers_the_name_it_stands_for():
    asked = Query("what is multiple sclerosis", ["multipl", "sclerosi"], [], [], ["MS"],
                  written={"multipl": "multiple", "sclerosi": "sclerosis"},
                  equivalents=[(("ms",), ("multipl", "sclerosi"))])

    class SaysMS:
        stems = frozenset({"ms", "chronic"})

    class SaysNeither:
        stems = frozenset({"chronic"})

    assert missing_words(asked, [SaysMS()]) == []
    assert missing_words(asked, [SaysNeither()]) == ["multiple", "sclerosis"]


def test_an_unknown_word_counts_as_far_as_the_question_rests_on_it():
    weights = {"muscl": 1.0, "twitch": 1.0}

    class Span:
        stems = frozenset({"muscl", "twitch"})
        probability, similarity, text = 0.9, 0.6, "Muscles twitch."

    unmeasured = confidence_features(query(), [Span()], weights)
    assert unmeasured["unknown"] == pytest.approx(1 / 3) and unmeasured["missing_weight"] == 0.0
    # removing "coffee" moves the question 0.2: it carries the question and counts wholly, and is the missing weight
    carried = confidence_features(query(), [Span()], weights, {"coffee": 0.2})
    assert carried["unknown"] == pytest.approx(1 / 3) and carried["missing_weight"] == pytest.approx(0.2)
    # a word the question hardly rests on ("my teenage daughter ...") counts in proportion below MEANING_DROP
    context = confidence_features(query(), [Span()], weights, {"coffee": MEANING_DROP / 4})
    assert context["unknown"] == pytest.approx(1 / 12) and context["missing_weight"] == pytest.approx(MEANING_DROP / 4)
    rare = query(rare=["coffe"])
    assert confidence_features(rare, [Span()], weights, {"coffee": 0.0})["unknown_rare"] == 0.0
    assert confidence_features(rare, [Span()], weights)["unknown_rare"] == pytest.approx(1 / 3)
