"""answer() on tiny corpora ingested with the FakeEncoder: verbatim citations, lists, repeated and opposite claims,
abstention, filters, aliases, spelling, boilerplate, and refusing an index it cannot read.

A hand-set ranker and explicit calibrations keep outcomes independent of the fitted files and the real model.
"""
from __future__ import annotations

import json

import pytest

from conftest import ARTICLES, FakeEncoder, build_fake_index, calibration, simple_ranker
from ingest.load import ROOT
from ingest.pipeline import Settings, ingest
from ingest.store import FORMAT_VERSION, MANIFEST, IndexStore, IndexUnavailable
from retrieval import IndexMismatch, QuestionError, RetrievalSettings, answer, load_index
from retrieval.answer import encode_query, measure_missing, prepare_query, query_for, retrieve
from retrieval.confidence import measured_ranges
from retrieval.extract import chunk_units
from retrieval.search import (bm25_ranking, chunk_bm25_scores, dense_ranking, hybrid_ranking, query_stems,
                              sentence_ranking)
from retrieval.ranker import FEATURES, Ranker, load_ranker
from retrieval.types import Answer, Extract

HARMLESS = "Most twitches are harmless and stop on their own."
TRIGGERS = ("Twitches can be triggered by a number of things, including:\n\n"
            "  • Too much caffeine\n  • Stress or anxiety\n  • Lack of sleep")
CORPUS = {
    **ARTICLES,  # twitching.txt (a list, HARMLESS), als.txt (with references), ms.md
    "harmless.txt": f"Twitching Facts\n\n{HARMLESS}\n\nSleep helps a lot.\n",
    "tremor-common.txt": ("Tremor and Neuropathy\n\nTremor is a common symptom of neuropathy.\n\n"
                          "Neuropathy damages the nerves of the hands and feet.\n"),
    "tremor-rare.txt": ("Neuropathy Facts\n\nTremor is rarely a symptom of neuropathy.\n\n"
                        "Numbness and burning pain are what most people notice first.\n"),
    "credits.txt": ("Sleep and Nerves\n\nPhoto: Getty Images\n\nPoor sleep can make nerves more excitable.\n\n"
                    "References\n\nSmith AB, Jones C. Sleep and nerves. Neurology. 2014;6(3):5208.\n"),
    "crlf.txt": ("Caffeine \u2014 A Guide\r\n\r\n"
                 "Caffeine \u2014 in coffee \u2615 \u2014 can make muscles twitch.\r\n\r\n"
                 "Magnesium helps muscles relax after exercise.\r\n"),
}
QUESTIONS = [
    "What can trigger twitches?", "Are twitches harmless?", "Is tremor a symptom of neuropathy?",
    "Can caffeine make muscles twitch?", "Does magnesium help muscles relax?", "Is spasticity common in MS?",
    "Who wrote about sleep and nerves in Neurology?", "banana bread recipe",
]
ANSWER_ALL = calibration()  # confidence 0.5 >= threshold 0: every question is answered
ABSTAIN_OFF_TOPIC = calibration(threshold=0.5, bias=5.0, unknown=-10.0)  # abstains when the corpus lacks the words
# The FakeEncoder's one-word vectors fall into 64 buckets, so most words have a "neighbour" in the corpus at
# cosine 1.0; tests of abstention on words the corpus lacks switch the nearest-word search off.
NO_NEIGHBOURS = RetrievalSettings(neighbour_similarity=1.01)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return load_index(build_fake_index(tmp_path_factory.mktemp("answer"), CORPUS), FakeEncoder())


def ask(question: str, index, **options) -> Answer:
    return answer(question, index, **{"calibration": ANSWER_ALL, "ranker": simple_ranker(), **options})


def file_text(path: str) -> str:
    """The article file as the loader reads it (bytes decoded, CRLF kept)."""
    return (ROOT / path).read_bytes().decode("utf-8")


def shown(result: Answer) -> list[Extract]:
    return [*result.extracts, *result.related]


# -- citations are verbatim ------------------------------------------------------------------------------

@pytest.mark.parametrize("ranker", [simple_ranker(), load_ranker()], ids=["simple", "fitted"])
@pytest.mark.parametrize("question", QUESTIONS)
def test_every_extract_is_the_article_text_at_its_offsets(index, question, ranker):
    result = ask(question, index, k=10, ranker=ranker)
    related = ask(question, index, k=10, ranker=ranker, calibration=calibration(threshold=1.0),
                  settings=RetrievalSettings(related_min_similarity=-1.0))
    assert result.extracts and related.related
    for extract in shown(result) + shown(related):
        assert index.article_text(extract.article.id)[extract.start:extract.end] == extract.text
        assert file_text(extract.article.path)[extract.start:extract.end] == extract.text
        for other in extract.also_in:
            assert index.article_text(other.id)[other.start:other.end] == other.text
            assert file_text(other.path)[other.start:other.end] == other.text


@pytest.mark.parametrize("question", QUESTIONS)
def test_passage_is_the_chunk_around_the_extract(index, question):
    for extract in ask(question, index, k=10).extracts:
        passage = extract.passage
        assert index.article_text(extract.article.id)[passage.start:passage.end] == passage.text
        assert passage.article_id == extract.article.id
        assert passage.start <= extract.start < extract.end <= passage.end


def test_passage_contains_a_list_that_spans_chunks(tmp_path):
    items = "".join(f"  • Condition number {n} affecting the nerves of the legs\n"
                    for n in ("one", "two", "three", "four", "five", "six", "seven", "eight"))
    lead_in = "Conditions that can cause weakness in the legs include:"
    article = f"Nerve Conditions\n\n{lead_in}\n\n{items}\nMost are rare.\n"
    index = load_index(build_fake_index(tmp_path, {"legs.txt": article}), FakeEncoder())
    extract = ask("What conditions cause weakness in the legs?", index).extracts[0]
    assert extract.text.startswith("Conditions that can cause weakness") and "number eight" in extract.text
    assert extract.passage.start <= extract.start and extract.end <= extract.passage.end


# -- what an answer shows --------------------------------------------------------------------------------

def test_list_question_returns_the_list_with_its_lead_in(index):
    first = ask("What can trigger twitches?", index).extracts[0]
    assert first.text == TRIGGERS
    assert first.article.id == "twitching"


def test_same_sentence_in_two_articles_comes_back_once_with_also_in(index):
    result = ask("Are twitches harmless?", index)
    repeated = [e for e in result.extracts if HARMLESS in e.text]
    assert len(repeated) == 1
    (extract,) = repeated
    other_id = ({"twitching", "harmless"} - {extract.article.id}).pop()
    assert [a.id for a in extract.also_in] == [other_id]
    assert extract.also_in[0].text == HARMLESS
    assert extract.also_in[0].title == {"twitching": "Muscle Twitching Basics", "harmless": "Twitching Facts"}[other_id]


def test_same_sentence_is_not_shown_twice_inside_a_longer_span(index):
    result = ask("Can sleep stop twitches?", index, k=10)
    assert sum(HARMLESS in e.text for e in result.extracts) == 1


def test_opposite_claims_on_a_yes_no_question_are_flagged(index):
    result = ask("Is tremor a symptom of neuropathy?", index)
    assert result.disagreement
    sides = {e.stance: e.article.id for e in result.extracts if e.stance}
    assert sides == {"affirms": "tremor-common", "denies": "tremor-rare"}


@pytest.mark.parametrize("question", ["What is tremor a symptom of?", "Tell me about tremor in neuropathy.",
                                      "Which symptom of neuropathy is tremor?"])
def test_question_that_is_not_yes_no_does_not_flag(index, question):
    result = ask(question, index)
    assert not result.disagreement
    assert [e.stance for e in result.extracts] == [""] * len(result.extracts)


def test_flagged_disagreement_shows_both_sides_within_k(tmp_path):
    articles = {
        "common.txt": "Tremor Basics\n\nTremor is a common symptom of neuropathy.\n",
        "often.txt": "Shaking Hands\n\nDoctors see hand tremor frequently as a symptom of neuropathy.\n",
        "rare.txt": ("Nerve Clinic Notes\n\nSpecialists who examine the hands, feet, legs and arms of many hundreds "
                     "of older patients every single week in busy clinics say tremor is rarely a symptom of "
                     "neuropathy.\n"),
    }
    index = load_index(build_fake_index(tmp_path, articles), FakeEncoder())
    result = ask("Is tremor a symptom of neuropathy?", index, k=2)
    assert result.disagreement
    assert sorted(e.stance for e in result.extracts) == ["affirms", "denies"]


def test_a_side_is_shown_from_the_paragraph_that_takes_it(tmp_path):
    articles = {
        "common.txt": "Tremor Basics\n\nTremor is a common symptom of PN.\n",
        "rare.txt": "PN Facts\n\nPN tremor can feel odd.\n\nTremor is rarely a symptom of PN.\n",
    }
    index = load_index(build_fake_index(tmp_path, articles), FakeEncoder())
    question = "Is PN tremor common?"
    ranked = retrieve(question, index, ranker=simple_ranker()).candidates
    assert any(c.text == "PN tremor can feel odd.\n\nTremor is rarely a symptom of PN." for c in ranked)
    result = ask(question, index)
    assert result.disagreement
    (denies,) = [e for e in result.extracts if e.stance == "denies"]
    assert denies.text == "Tremor is rarely a symptom of PN."  # not the paragraph above, which takes no side
    assert index.article_text("rare")[denies.start:denies.end] == denies.text
    assert denies.passage.start <= denies.start and denies.end <= denies.passage.end
    assert sum(e.article.id == "rare" for e in result.extracts) == 1  # the whole span is not shown again


NAMED = {
    "defs.txt": ("Terms\n\nTremor, or shaking, is an involuntary movement of the hands or head.\n\n"
                 "Peripheral neuropathy (PN) damages nerves.\n"),
    "common.txt": "Tremor and PN\n\nTremor is a common symptom of PN.\n",
    "rare.txt": "PN Facts\n\nTremor is rarely a symptom of peripheral neuropathy.\n",
}


@pytest.mark.parametrize("question, flagged", [
    ("My grandad has tremor in his hands, could it be PN?", True),  # told context, asks how the two relate
    ("Is the tremor in his hands from the PN?", True),
    ("My grandad has tremor in his hands. Does that mean he has PN?", True),
    ("Grandad's hands have a tremor, is that PN?", True),  # is that <one of the two names>
    ("Grandad has PN and a tremor in his hands, is it bad?", False),  # "bad" is neither name: asks something else
    ("Does tremor help his hands with PN?", False),  # asks about something the sides do not speak to
    ("Is PN the same thing as peripheral neuropathy?", False),  # one thing under two names: nothing to disagree on
])
def test_a_question_relating_two_named_things_is_about_them_whatever_else_it_tells(tmp_path, question, flagged):
    index = load_index(build_fake_index(tmp_path, NAMED), FakeEncoder())
    assert ask(question, index).disagreement is flagged


@pytest.mark.parametrize("question, flagged", [
    ("Can PN tremor stop a normal day?", False),  # asks what the tremor does, not how it relates to PN
    ("Is PN tremor common?", True),  # asks how common it is: the sides disagree on that
])
def test_only_words_relating_the_two_things_make_a_question_about_them(tmp_path, question, flagged):
    articles = {**NAMED, "day.txt": "Daily Life\n\nStrong shaking can stop a normal day.\n"}
    index = load_index(build_fake_index(tmp_path, articles), FakeEncoder())
    assert ask(question, index).disagreement is flagged


@pytest.mark.parametrize("close, far", [("a common", "rarely a"), ("rarely a", "a common")])
def test_the_side_the_ranker_puts_higher_leads_a_disagreement(tmp_path, close, far):
    articles = {
        "close.txt": f"Tremor Basics\n\nTremor is {close} symptom of neuropathy.\n",
        "far.txt": ("Nerve Clinic Notes\n\nSpecialists who examine the hands, feet, legs and arms of many hundreds "
                    f"of older patients every single week in busy clinics say tremor is {far} symptom of "
                    "neuropathy.\n"),
    }
    index = load_index(build_fake_index(tmp_path, articles), FakeEncoder())
    result = ask("Is tremor a symptom of neuropathy?", index)
    assert result.disagreement
    first, second = result.extracts[:2]
    assert (first.article.id, second.article.id) == ("close", "far")
    assert first.stance == ("affirms" if close == "a common" else "denies")
    assert first.score >= second.score


def test_off_topic_question_abstains_without_extracts(index):
    assert not ask("Is tremor a symptom of neuropathy?", index, calibration=ABSTAIN_OFF_TOPIC).abstained
    result = ask("banana bread recipe", index, calibration=ABSTAIN_OFF_TOPIC, settings=NO_NEIGHBOURS)
    assert result.abstained
    assert result.extracts == ()
    assert not result.disagreement
    assert result.confidence < ABSTAIN_OFF_TOPIC.threshold


def test_abstention_offers_close_passages_as_related_only(index):
    close = RetrievalSettings(related_min_similarity=-1.0, neighbour_similarity=1.01)
    result = ask("banana bread recipe", index, k=3, calibration=ABSTAIN_OFF_TOPIC, settings=close)
    assert result.abstained and result.extracts == ()
    assert len(result.related) == 3
    none_close = RetrievalSettings(related_min_similarity=1.01, neighbour_similarity=1.01)
    assert ask("banana bread recipe", index, calibration=ABSTAIN_OFF_TOPIC, settings=none_close).related == ()


def test_abstention_offers_passages_naming_what_the_articles_define_however_far_the_model_puts_them(index):
    # the model may hardly know an acronym ("BFS"): a passage naming it (or the name it stands for) is related
    none_close = RetrievalSettings(related_min_similarity=1.01, neighbour_similarity=1.01)
    result = ask("so what is ALS exactly", index, calibration=calibration(threshold=1.0), settings=none_close)
    assert result.abstained and result.extracts == ()
    assert result.related and all("ALS" in e.text or "Amyotrophic" in e.text for e in result.related)


MISSING_MATTERS = calibration(threshold=0.5, bias=0.5, missing_weight=-1.0)  # abstains when missing_weight > 0.5


@pytest.mark.parametrize("question", QUESTIONS + ["Can caffeine make muscles twitch at bedtime?"])
@pytest.mark.parametrize("abstention", [ANSWER_ALL, ABSTAIN_OFF_TOPIC, MISSING_MATTERS],
                         ids=["answer-all", "off-topic", "missing-matters"])
def test_missing_weight_is_measured_only_when_it_can_change_the_decision(index, question, abstention):
    retrieved = retrieve(question, index, ranker=simple_ranker())
    measured = measure_missing(index, retrieved)  # always measured, as the fitting does
    index.encoder.encoded.clear()
    encode_query(index, retrieved.query)
    first_batch = len(index.encoder.encoded)
    index.encoder.encoded.clear()
    result = ask(question, index, calibration=abstention)
    second_call = len(index.encoder.encoded) > first_batch
    assert result.abstained == (abstention.confidence(measured) < abstention.threshold)
    measurable = retrieved.missing or retrieved.query.unknown
    if measurable and abstention.undecided(retrieved.features, measured_ranges(retrieved.features)):
        assert second_call and result.confidence == pytest.approx(abstention.confidence(measured), abs=1e-4)
    else:
        assert not second_call


def test_bm25_score_of_every_fused_chunk_not_only_bm25s_own_top(index):
    query = query_for(index, "Are twitches harmless?")  # dense finds a chunk BM25 ranks second
    vectors = encode_query(index, query).search
    scores = chunk_bm25_scores(index, query_stems(query))
    ranking = hybrid_ranking(index, query, vectors, depth=1)  # BM25's own list holds one chunk
    positions = index.bm25_positions([chunk for chunk, _ in ranking.fused])
    expected = {chunk: float(scores[p]) for (chunk, _), p in zip(ranking.fused, positions) if scores[p] > 0}
    assert len(expected) > 1 and ranking.bm25 == pytest.approx(expected)
    assert all(index.bm25_chunk_ids[p] == chunk for (chunk, _), p in zip(ranking.fused, positions))
    assert index.bm25_positions([max(index.bm25_chunk_ids) + 1, -5]).tolist() == [-1, -1]


def test_leaders_are_the_first_chunks_of_each_single_ranking(index):
    query = query_for(index, "Are twitches harmless?")
    vectors = encode_query(index, query).search
    ranking = hybrid_ranking(index, query, vectors, depth=5, lead=1)
    firsts = {dense_ranking(index, vectors, 1)[0][0], bm25_ranking(index, query_stems(query), 1)[0][0],
              sentence_ranking(index, vectors, 1)[0][0]}
    assert set(ranking.leaders) == firsts
    assert hybrid_ranking(index, query, vectors, depth=5).leaders == ()


def test_spans_come_from_a_chunk_one_ranking_leads_even_when_fusion_puts_it_lower(index):
    question = "Are twitches harmless?"
    query = query_for(index, question)
    vectors = encode_query(index, query).search
    ranking = hybrid_ranking(index, query, vectors, depth=30, lead=2)
    lower = [chunk for chunk in ranking.leaders if chunk != ranking.fused[0][0]]
    assert lower  # a leader that fusion does not put first
    alone = RetrievalSettings(chunks=1, lead=0, per_chunk=5)
    led = RetrievalSettings(chunks=1, lead=2, per_chunk=5)
    assert {c.chunk_id for c in retrieve(question, index, settings=alone).candidates} == {ranking.fused[0][0]}
    assert {c.chunk_id for c in retrieve(question, index, settings=led).candidates} == {ranking.fused[0][0], *lower}


def test_answered_question_has_no_related(index):
    assert ask("Are twitches harmless?", index).related == ()


# -- options ---------------------------------------------------------------------------------------------

def test_article_filter_keeps_only_those_articles(index):
    result = ask("Are twitches harmless?", index, article_ids={"harmless", "ms"}, k=10)
    assert result.extracts
    cited = {e.article.id for e in result.extracts} | {a.id for e in result.extracts for a in e.also_in}
    assert cited <= {"harmless", "ms"}
    assert HARMLESS in result.extracts[0].text and result.extracts[0].also_in == ()


@pytest.mark.parametrize("article_ids", [set(), {"no-such-article"}])
def test_article_filter_matching_nothing_abstains(index, article_ids):
    result = ask("Are twitches harmless?", index, article_ids=article_ids)
    assert result.abstained and result.extracts == () and result.related == ()


@pytest.mark.parametrize("k", [1, 2, 4])
def test_k_limits_the_number_of_extracts(index, k):
    assert len(ask("Are twitches harmless?", index, k=k).extracts) == k


@pytest.mark.parametrize("k", [0, -1])
def test_k_below_one_is_refused(index, k):
    with pytest.raises(ValueError, match=f"k must be greater than 0, got {k}"):
        ask("Are twitches harmless?", index, k=k)


def test_bad_question_raises_question_error(index):
    with pytest.raises(QuestionError, match="the question is empty"):
        ask("  ", index)


# -- query understanding ---------------------------------------------------------------------------------

ALIAS_CORPUS = {
    "definition.txt": "Twitch Words\n\nFasciculations, or muscle twitches, are small contractions under the skin.\n",
    "outlook.txt": "Fasciculation Outlook\n\nFasciculations are rarely dangerous.\n",
    "driving.txt": "Road Safety\n\nTexting while driving is dangerous.\n",
}


def test_alias_defined_in_an_article_reaches_the_medical_term(tmp_path):
    index = load_index(build_fake_index(tmp_path, ALIAS_CORPUS), FakeEncoder())
    question = "Are muscle twitches dangerous?"
    query = query_for(index, question)
    assert "fascicul" in query.expanded
    assert query.alias_names == ["Fasciculations"]
    assert query.expanded_text == f"{question} (Fasciculations)"
    texts = [e.text for e in ask(question, index).extracts]
    assert texts.index("Fasciculations are rarely dangerous.") < texts.index("Texting while driving is dangerous.")


def test_without_the_definition_there_is_no_alias(tmp_path):
    articles = {name: text for name, text in ALIAS_CORPUS.items() if name != "definition.txt"}
    index = load_index(build_fake_index(tmp_path, articles), FakeEncoder())
    query = query_for(index, "Are muscle twitches dangerous?")
    assert query.expanded == [] and query.alias_names == []


CLONUS_CORPUS = {
    "clonus-causes.txt": ("Clonus\n\nOther causes of clonus include:\n\n  • Brain tumor\n  • Cerebral palsy\n\n"
                          "Clonus is a problem for many people.\n"),
    "clonus.txt": "Jerking Muscles\n\nClonus describes the repetitive jerking of muscles.\n",
}


def _feature(index, question: str, name: str) -> dict[str, float]:
    """Ranker feature ``name`` of each one-sentence candidate span (a list by its lead-in) for ``question``."""
    settings = RetrievalSettings()
    query, vectors = prepare_query(index, question, settings)
    ranking = hybrid_ranking(index, query, vectors.search, depth=settings.depth)
    units, by_chunk = chunk_units(index, ranking.fused, ranking.bm25, vectors, query)
    return {by_chunk[u.chunk_id][u.first].text: u.features[FEATURES.index(name)] for u in units
            if u.first == u.last or by_chunk[u.chunk_id][u.first].role == "lead"}


def _defines(index, question: str) -> dict[str, float]:
    return _feature(index, question, "defines")


@pytest.mark.parametrize("question", ["What is clonus?", "whats clonus", "What exactly is clonus?",
                                      "What exactly is clonus? My physio mentioned it."])
def test_a_definition_question_prefers_the_sentence_defining_its_term(tmp_path, question):
    index = load_index(build_fake_index(tmp_path, CLONUS_CORPUS), FakeEncoder())
    defines = _defines(index, question)
    assert defines["Clonus describes the repetitive jerking of muscles."] == 1.0
    assert defines["Other causes of clonus include:"] == 0.0  # a list about the term does not define it
    assert defines["Clonus is a problem for many people."] == 0.0  # "is a" alone does not define
    ranker = simple_ranker()
    only_defines = Ranker(tuple(10.0 if name == "defines" else w for name, w in zip(FEATURES, ranker.weights)),
                          ranker.scale, ranker.offset)
    assert ask(question, index, ranker=only_defines).extracts[0].text.startswith("Clonus describes")


def test_a_span_whose_words_meet_the_questions_in_context_is_ranked_up(tmp_path):
    corpus = {"jerks.txt": ("Jerks\n\nJerking legs at night are often restless legs.\n\n"
                            "Spasticity\n\nStiff arms come with spasticity, which physiotherapy eases.\n")}
    index = load_index(build_fake_index(tmp_path, corpus), FakeEncoder())
    question = "Why do my arms feel stiff?"  # the fake model's words meet by their first six letters
    met = _feature(index, question, "words_met")
    # the question's content words are why, arms, feel and stiff; the span meets arms and stiff
    assert met["Stiff arms come with spasticity, which physiotherapy eases."] == pytest.approx(2 / 4)
    assert met["Jerking legs at night are often restless legs."] == pytest.approx(0.0, abs=1e-6)
    span_met = _feature(index, question, "span_words_met")
    # stiff, arms, come, spasticity, which, physiotherapy, eases ("with" is a stop word): two of seven met
    assert span_met["Stiff arms come with spasticity, which physiotherapy eases."] == pytest.approx(2 / 7)
    ranker = simple_ranker()
    only_words = Ranker(tuple(10.0 if name == "words_met" else 0.0 for name in FEATURES), ranker.scale, ranker.offset)
    assert ask(question, index, ranker=only_words, k=1).extracts[0].text.startswith("Stiff arms")


def test_an_index_whose_content_words_do_not_match_its_sentences_is_refused(tmp_path):
    index_dir = build_fake_index(tmp_path, ARTICLES)
    live = IndexStore(index_dir).live()
    manifest = json.loads((live.path / MANIFEST).read_text(encoding="utf-8"))
    del manifest["vectors"]["tokens"]  # as if its segments were lost
    (live.path / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexUnavailable, match="sentence content words do not match the sentences"):
        load_index(index_dir, FakeEncoder())


def test_a_question_not_asking_for_a_definition_does_not_reward_one(tmp_path):
    index = load_index(build_fake_index(tmp_path, CLONUS_CORPUS), FakeEncoder())
    assert set(_defines(index, "What causes clonus?").values()) == {0.0}


SPASTICITY_CORPUS = {
    "spasticity.txt": ("Spasticity\n\nSpasticity can cause painful spasms in MS.\n\n"
                       "Spasticity in MS results from disrupted signals between the motor neurons.\n"),
}


def test_a_span_giving_the_reason_covers_the_word_cause_of_a_why_question(tmp_path):
    index = load_index(build_fake_index(tmp_path, SPASTICITY_CORPUS), FakeEncoder())
    coverage = _feature(index, "Why does MS cause spasticity?", "coverage")
    # "results from" answers "why ... cause" though it never says "cause"; "can cause spasms" says it
    assert coverage["Spasticity in MS results from disrupted signals between the motor neurons."] == pytest.approx(1.0)
    assert coverage["Spasticity can cause painful spasms in MS."] == pytest.approx(1.0)
    # a question that does not ask for a reason gets no such help: "cause" is then a topic word like any other
    coverage = _feature(index, "Does spasticity cause pain in MS?", "coverage")
    assert coverage["Spasticity in MS results from disrupted signals between the motor neurons."] < 1.0


def test_misspelt_word_is_corrected_to_the_corpus_word(index):
    query = query_for(index, "What can trigger twiches?")
    assert "twitch" in query.terms and "twich" not in query.terms
    assert query.unknown == []
    # the question is searched (by the model too) with the word as the articles write it, and says so
    assert query.text == "What can trigger twitching?" and query.written["twitch"] == "twitching"
    result = ask("What can trigger twiches?", index)
    assert result.extracts[0].text == TRIGGERS
    assert result.question == "What can trigger twiches?" and result.read_as == "What can trigger twitching?"
    assert query_for(index, "WHAT CAN TRIGGER TWICHES").text == "WHAT CAN TRIGGER TWITCHING"  # as it was typed
    assert query_for(index, "Twiches: what triggers them?").text == "Twitching: what triggers them?"


def test_words_that_frame_a_question_are_not_counted_as_words_the_articles_lack(index):
    # "actually", "maybe", "vs", "explain" say how something is asked, not what about: they must not read as a
    # topic the articles leave out (which would push the answer towards abstention)
    query = query_for(index, "can you actually explain maybe what triggers twitches vs cramps")
    assert not {"actual", "actually", "mayb", "maybe", "vs", "explain"} & set(query.unknown + query.terms)
    assert "trigger" in query.terms


class KnowsEveryWord(FakeEncoder):
    def is_word(self, word: str) -> bool:
        return True


def test_a_real_word_is_not_corrected(tmp_path):
    index = load_index(build_fake_index(tmp_path, ARTICLES), KnowsEveryWord())
    query = query_for(index, "What can trigger twiches?")
    assert "twich" in query.unknown and "twitch" not in query.terms


BOILERPLATE = ["Getty Images", "Photo:", "References", "Smith AB", "Neurology. 2014", "5208"]


@pytest.mark.parametrize("question", [
    "Who wrote about sleep and nerves in Neurology?", "Getty Images photo of poor sleep",
    "Smith and Jones on motor neurons in Neurology 2014", "What references are there on ALS?",
])
def test_boilerplate_is_never_returned(index, question):
    everything = RetrievalSettings(related_min_similarity=-1.0, chunks=50)
    results = [ask(question, index, k=20, settings=everything),
               ask(question, index, k=20, settings=everything, calibration=calibration(threshold=1.0))]
    texts = [e.text for r in results for e in shown(r)] + [a.text for r in results for e in shown(r) for a in e.also_in]
    assert texts
    for text in texts:
        assert not any(b in text for b in BOILERPLATE), text


# -- loading ---------------------------------------------------------------------------------------------

def test_index_built_with_another_model_is_refused_naming_both(tmp_path):
    index_dir = build_fake_index(tmp_path, ARTICLES, encoder=FakeEncoder(name="other-model"))
    with pytest.raises(IndexMismatch, match=r"built with model other-model \(64 dimensions\).*"
                                            r"query encoder is fake-bag-of-words \(64 dimensions\)"):
        load_index(index_dir, FakeEncoder())


def test_index_of_another_format_is_refused_naming_both(tmp_path):
    index_dir = build_fake_index(tmp_path, ARTICLES)
    manifest_path = IndexStore(index_dir).live().path / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["format_version"] = FORMAT_VERSION + 98
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatch, match=f"format version {FORMAT_VERSION + 98}, this code reads format "
                                            f"{FORMAT_VERSION}"):
        load_index(index_dir, FakeEncoder())


@pytest.mark.parametrize("make", [lambda p: p.mkdir(), lambda p: None], ids=["empty", "missing"])
def test_no_index_is_a_clear_error(tmp_path, make):
    folder = tmp_path / "index"
    make(folder)
    with pytest.raises(IndexUnavailable, match=r"no index at .*index: run `python -m ingest` first"):
        load_index(folder, FakeEncoder())
    assert not (folder / "versions").exists()  # reading creates nothing


def test_index_turns_stale_when_another_ingest_publishes(tmp_path):
    index_dir = build_fake_index(tmp_path, ARTICLES)
    index = load_index(index_dir, FakeEncoder())
    assert not index.is_stale()
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "sleep.txt").write_text("Sleep Basics\n\nAdults need seven hours of sleep.\n", encoding="utf-8")
    ingest([extra], FakeEncoder(), Settings(index_dir=index_dir, target_tokens=32))
    assert index.is_stale()
    assert not load_index(index_dir, FakeEncoder()).is_stale()
    assert ask("Are twitches harmless?", index).extracts  # the loaded version still answers


def test_a_loaded_index_keeps_numpy_blas_on_one_thread(index):
    # products of a few hundred rows: OpenBLAS threads would spin afterwards on the cores the next encode needs
    from threadpoolctl import threadpool_info

    numpy_blas = [i for i in threadpool_info() if i["user_api"] == "blas" and "numpy" in i["filepath"]]
    assert numpy_blas and all(i["num_threads"] == 1 for i in numpy_blas)


INITIALS_CORPUS = {
    "neurons.txt": ("Motor Neurons\n\nLower motor neurons carry signals from the spinal cord to the muscles.\n\n"
                    "When lower motor neurons are damaged, muscles twitch and waste.\n\n"
                    "Doctors may order tests to check the nerves.\n"),
}


def test_a_capital_acronym_is_searched_as_the_articles_words_it_abbreviates(tmp_path):
    index = load_index(build_fake_index(tmp_path, INITIALS_CORPUS), FakeEncoder())
    assert index.initials("lmn") == "lower motor neurons"
    assert index.initials("dot") is None  # "doctors order tests" is there once only: no evidence of an acronym
    query = query_for(index, "LMN damage?")
    assert query.text == "lower motor neurons damage?" and query.asked == "LMN damage?"
    assert {"lower", "motor", "neuron"} <= set(query.terms) and "lmn" not in query.unknown
    result = ask("LMN damage?", index)
    assert result.question == "LMN damage?"  # the answer repeats the question as asked
    assert result.read_as == "lower motor neurons damage?"  # and says how it was searched
    assert result.extracts[0].text.startswith("When lower motor neurons are damaged")


def test_a_word_heard_as_two_is_joined_into_the_articles_word_it_misspells(tmp_path):
    index = load_index(build_fake_index(tmp_path, INITIALS_CORPUS), FakeEncoder())
    query = query_for(index, "what damages lower motor new rons")  # "newrons": one edit from "neurons"
    assert query.text == "what damages lower motor neurons" and "neuron" in query.terms
    assert query_for(index, "do motor neurons waste").text == "do motor neurons waste"  # nothing unknown: kept


@pytest.mark.parametrize("typed, searched", [
    ("what is clonus, in simple terms?", "what is clonus?"),
    ("In plain words, what is clonus?", "what is clonus?"),
    ("explain clonus in plain English", "what is clonus?"),  # and "explain <name>" asks what it is
    ("what is clonus in layman's terms", "what is clonus"),
    ("Simply put, what is clonus?", "what is clonus?"),
])
def test_asking_for_plain_words_is_not_searched_for(tmp_path, typed, searched):
    # how plainly to answer is not what to answer: "simple" and "terms" must not pull up "a simple twitch"
    index = load_index(build_fake_index(tmp_path, CLONUS_CORPUS), FakeEncoder())
    query = query_for(index, typed)
    assert query.text == searched and query.asked == typed
    assert not {"simpl", "term", "plain", "word", "english", "layman"} & set(query.terms + query.unknown)
    assert query_for(index, "is a simple twitch dangerous?").text == "is a simple twitch dangerous?"  # asked about


def test_a_question_with_nothing_to_respell_is_its_own_text(index):
    query = query_for(index, "Can caffeine make muscles twitch?")
    assert query.asked == "" and query.text == "Can caffeine make muscles twitch?"
    result = ask("Can caffeine make muscles twitch?", index)
    assert result.question == "Can caffeine make muscles twitch?" and result.read_as == ""


def test_a_name_typed_on_its_own_is_asked_about_as_what_it_is(tmp_path):
    index = load_index(build_fake_index(tmp_path, ALIAS_CORPUS), FakeEncoder())
    for typed in ("fasciculations", "Fasciculations?", "muscle twitches"):  # one word, or one name they define
        query = query_for(index, typed)
        assert query.bare and query.text == f"what is {typed.rstrip('?')}?" and query.asked == typed
    for typed in ("what are fasciculations?", "fasciculations dangerous", "texting driving", "hi", "texting 2024"):
        assert not query_for(index, typed).bare  # a question, or more than one name, or no name at all
    assert query_for(index, "fasciculations").terms == query_for(index, "what is fasciculations?").terms
    assert not query_for(index, "fasciculations", define=False).bare
    assert ask("fasciculations", index).read_as == "what is fasciculations?"
    for told, name in [("explain fasciculations", "fasciculations"), ("Tell me about muscle twitches", "muscle twitches"),
                       ("please describe fasciculations?", "fasciculations"),
                       ("Can you explain fasciculations?", "fasciculations")]:  # asked to be told about a name
        query = query_for(index, told)
        assert query.bare and query.text == f"what is {name}?" and query.asked == told
    for told in ("explain why fasciculations happen", "describe the fasciculations of ALS"):
        assert not query_for(index, told).bare  # a question after "explain" is that question
    assert "describ" not in query_for(index, "describe the fasciculations of ALS").terms


def test_a_bare_name_abstained_on_as_what_it_is_is_searched_again_as_typed(tmp_path):
    index = load_index(build_fake_index(tmp_path, ALIAS_CORPUS), FakeEncoder())
    # abstaining on "what is texting?" (here: on anything), the answer searches the name as typed
    declined = ask("texting", index, calibration=calibration(threshold=1.0))
    assert declined.abstained and declined.question == "texting" and declined.read_as == ""


def test_a_run_of_words_the_articles_write_together_more_than_once_is_a_name(tmp_path):
    index = load_index(build_fake_index(tmp_path, INITIALS_CORPUS), FakeEncoder())
    assert query_for(index, "lower motor neurons").text == "what is lower motor neurons?"
    assert not query_for(index, "doctors order tests").bare  # written together once only
    assert not query_for(index, "lower motor neurons damaged").bare  # the name and what is asked of it


@pytest.mark.parametrize("question, compares", [
    ("What is the difference between magnesium and twitching?", True),
    ("magnesium vs twitching", True),
    ("Does magnesium help twitching?", False),
])
def test_a_comparison_has_no_topic_to_set_its_focus_against(index, question, compares):
    # "clonus vs fasciculation": both things compared are what an answer must match, so the question is not split
    # into a topic ("fasciculation", a defined name) and a focus ("clonus") that would favour spans on one of them
    query = query_for(index, question)
    assert query.topic and len(query.topic) < len(query.terms)  # a question that has a topic and a focus
    assert (encode_query(index, query).topic is None) is compares
