"""The real model on the real corpus: every gold question answered with verbatim citations and no boilerplate,
the MS disagreement, an off-topic abstention, an ALS answer. Latency is not asserted.

The corpus is ingested once per module into a temporary index; every question is answered once.
"""
from __future__ import annotations

import json

import pytest

from ingest.encoder import OnnxEncoder, ingest_encoder
from ingest.load import ROOT
from ingest.pipeline import Settings, ingest
from retrieval import QuestionError, answer, load_index
from retrieval.types import Answer, Extract

pytestmark = pytest.mark.integration

QUESTIONS_FILE = ROOT / "evaluation" / "questions.jsonl"
BOILERPLATE = ["Getty Images", "Arline Emard", "Related Articles", "Continue Reading", "doi:", "hysterectomy", "Phone:"]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("retrieval") / "index"
    ingest([ROOT / "corpus"], ingest_encoder(index_dir), Settings(index_dir=index_dir))
    index = load_index(index_dir)  # as the CLI and the page load it: questions encoded by the ONNX export
    assert isinstance(index.encoder, OnnxEncoder)
    return index


@pytest.fixture(scope="module")
def answers(index) -> dict[str, Answer]:
    """The answer to every question of the evaluation set (a question the checks refuse is left out)."""
    questions = [json.loads(line)["question"] for line in QUESTIONS_FILE.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    results = {}
    for question in questions:
        try:
            results[question] = answer(question, index)
        except QuestionError:
            continue
    assert len(results) >= 0.9 * len(questions)
    return results


def file_text(path: str) -> str:
    return (ROOT / path).read_bytes().decode("utf-8")


def shown(result: Answer) -> list[Extract]:
    return [*result.extracts, *result.related]


def test_every_extract_reproduces_the_file_text_at_its_offsets(answers):
    wrong = []
    for question, result in answers.items():
        for extract in shown(result):
            if file_text(extract.article.path)[extract.start:extract.end] != extract.text:
                wrong.append((question, extract.article.path, extract.start, extract.end))
            for other in extract.also_in:
                if file_text(other.path)[other.start:other.end] != other.text:
                    wrong.append((question, other.path, other.start, other.end))
    assert wrong == []


def test_every_passage_holds_its_extract(answers):
    outside = [(question, e.article.id, (e.start, e.end), (e.passage.start, e.passage.end))
               for question, result in answers.items() for e in shown(result)
               if not e.passage.start <= e.start < e.end <= e.passage.end]
    assert outside == []


def test_no_extract_contains_boilerplate(answers):
    found = [(question, marker, e.article.id)
             for question, result in answers.items() for e in shown(result)
             for text in [e.text, *(a.text for a in e.also_in)] for marker in BOILERPLATE if marker in text]
    assert found == []


@pytest.mark.parametrize("question", [
    "Is twitching a common symptom of MS?", "Is muscle twitching a sign of MS?", "Is muscle twitching common in MS?",
    "Do people with MS get muscle twitches?", "does ms cause twitching", "are fasciculations a symptom of MS",
    "my legs twitch, could it be MS?", "I have MS, are my twitches from the MS?", "twitching MS",
    "How common is twitching in multiple sclerosis?",
    "My calves have been twitching for a week. Does that mean I have MS?", "my arm keeps twitching, is that MS?",
    "my muscles twitch a lot lately, is that multiple sclerosis?",
])
def test_twitching_in_ms_shows_the_disagreement(index, question):
    result = answer(question, index)
    assert not result.abstained and result.disagreement
    assert {e.stance for e in result.extracts} >= {"affirms", "denies"}


def test_twitching_in_ms_shows_each_side_from_a_different_article(index):
    result = answer("Is twitching a common symptom of MS?", index)
    affirms = {e.article.id for e in result.extracts if e.stance == "affirms"}
    denies = {e.article.id for e in result.extracts if e.stance == "denies"}
    assert any(a != d for a in affirms for d in denies), (affirms, denies)


def test_off_topic_question_abstains_with_nothing_shown(index):
    result = answer("banana bread recipe", index)
    assert result.abstained
    assert result.extracts == () and result.related == ()


@pytest.mark.parametrize("question", [
    "Is there a cure for ALS?", "What dose of baclofen should I take for spasticity?",
    # an amount asked for that no passage gives
    "How long does an MS flare-up last?", "What percentage of people with BFS go on to get ALS?",
])
def test_what_the_articles_touch_on_but_do_not_say_is_declined(index, question):
    # "cure" is not in the articles; its nearest word, "treatment", is not in the best passage either
    assert answer(question, index).abstained


@pytest.mark.parametrize("question, phrase", [
    ("How long do people live with ALS?", "average survival time"),  # said in other words than asked
    ("Can coffee make my muscles twitch?", "caffeine"),  # "coffee" is not in the articles; "caffeine" is
    # "stiffness" reaches "spasticity" ("Tight and stiff muscles (spasticity)"), "medicines" the drug list that
    # only dense search ranks high
    ("What medicines do they give for the stiffness and the jerking in MS?", "spasticity and clonus include"),
])
def test_neighbouring_questions_the_articles_do_answer_are_answered(index, question, phrase):
    result = answer(question, index)
    assert not result.abstained
    assert phrase in result.extracts[0].text


@pytest.mark.parametrize("question", ["clonus vs fasciculation whats the diff",
                                      "How do you tell clonus apart from fasciculations?"])
def test_a_comparison_is_answered_by_the_sentence_that_compares(index, question):
    result = answer(question, index)
    assert "The difference between clonus and fasciculations" in result.extracts[0].text


def test_twitching_as_a_sign_of_als_is_answered_from_an_als_article(index):
    result = answer("Is muscle twitching a sign of ALS?", index)
    assert not result.abstained
    about_als = [e for e in result.extracts if "ALS" in e.article.title and "ALS" in e.text]
    assert about_als, [(e.article.title, e.text[:80]) for e in result.extracts]


@pytest.mark.parametrize("name, definition", [
    ("clonus", "Clonus describes"), ("MS", "Multiple Sclerosis (MS) is a chronic"),
    ("twitching", "medically termed fasciculations"), ("muscle twitches", "Fasciculations, or muscle twitches"),
])
def test_a_name_typed_on_its_own_is_answered_with_what_it_is(index, name, definition):
    result = answer(name, index)
    assert result.read_as == f"what is {name}?"
    assert definition in result.extracts[0].text, result.extracts[0].text


def test_a_name_the_articles_do_not_define_is_answered_with_what_they_say_of_it(index):
    result = answer("magnesium", index)  # "what is magnesium?" they do not say
    assert not result.abstained and result.read_as == ""
    assert "magnesium" in result.extracts[0].text


def test_a_name_of_several_words_typed_on_its_own_is_not_read_as_a_yes_no_question(index):
    # three subjects ("lower", "motor", "neurons") asked whether, it found a disagreement about MS and ALS
    result = answer("lower motor neurons", index)
    assert result.read_as == "what is lower motor neurons?" and not result.disagreement
    assert "lower motor neuron" in result.extracts[0].text
