"""``retrieval.respell``: spelled-out letters, split words, shorthand and capital acronyms, rewritten only where
the articles use the result."""
from __future__ import annotations

import pytest

from ingest.lexical import stem_word
from retrieval.respell import respell

ARTICLE_WORDS = {stem_word(w) for w in "bfs ms als eyelid twitch patient medication problem lower motor neuron".split()}
FILLERS = {"does", "an", "us", "is", "the", "what", "my", "i", "a", "have", "that"}


def spell(text: str, initials=lambda acronym: None) -> str:
    return respell(text, ARTICLE_WORDS.__contains__, FILLERS.__contains__, initials)


@pytest.mark.parametrize("said, written", [
    ("my doctor said i might have bee eff ess", "my doctor said i might have BFS"),
    ("is there a cure for a l s yet", "is there a cure for ALS yet"),
    ("what is em ess", "what is MS"),
    ("Em Ess twitching?", "MS twitching?"),
])
def test_letters_spelled_out_become_the_articles_acronym(said, written):
    assert spell(said) == written


@pytest.mark.parametrize("text", [
    "see you at the clinic",  # letter names, but "CU" is no word of the articles
    "a b c of twitching",
    "why you twitch",
])
def test_letter_names_that_make_no_word_of_the_articles_stay(text):
    assert spell(text) == text


def test_shorthand_is_written_out_unless_the_articles_use_it():
    assert spell("pt on meds with thyroid probs, twitching w/ cramps") == (
        "patient on medications with thyroid problems, twitching with cramps")
    assert spell("when to see a dr about twitching") == "when to see a doctor about twitching"
    assert respell("pt twitching", {"pt", "twitch"}.__contains__, FILLERS.__contains__) == "pt twitching"


def test_a_word_written_as_two_is_joined_only_into_a_word_of_the_articles():
    assert spell("eye lid twitching") == "eyelid twitching"
    # two fillers joined ("doesan"), or a word of the articles with a filler ("msis"), are never joined
    assert spell("how does an ms spasm feel") == "how does an ms spasm feel"
    assert spell("what is ms") == "what is ms"


def test_two_words_heard_for_one_are_joined_into_the_articles_word_they_misspell():
    misheard = {"cloneus": "clonus", "doesan": "doesn", "sdisease": "disease"}.get
    assert respell("what causes clone us", ARTICLE_WORDS.__contains__, FILLERS.__contains__,
                   misheard=misheard) == "what causes clonus"
    # only where one half is a word the articles never use and no filler, and no half a lone letter
    assert respell("does an ms spasm hurt", ARTICLE_WORDS.__contains__, FILLERS.__contains__,
                   misheard=misheard) == "does an ms spasm hurt"
    assert respell("Gehrig's disease", ARTICLE_WORDS.__contains__, FILLERS.__contains__,
                   misheard=misheard) == "Gehrig's disease"
    assert spell("what causes clone us") == "what causes clone us"  # no near word: left as heard


def test_a_capital_acronym_the_articles_never_write_is_spelled_out_from_their_words():
    asked = []

    def initials(acronym):
        asked.append(acronym)
        return "lower motor neurons" if acronym == "lmn" else None

    assert spell("LMN definition pls", initials) == "lower motor neurons definition pls"
    assert spell("is CBD oil ok", initials) == "is CBD oil ok"  # the articles spell out nothing for it
    assert spell("lmn definition", initials) == "lmn definition"  # only an acronym written in capitals
    assert spell("MS twitching", initials) == "MS twitching"  # the articles write "MS" themselves
    assert asked == ["lmn", "cbd"]


def test_text_without_anything_to_respell_is_returned_unchanged():
    text = "Is muscle twitching a sign of MS?  (asking for my mum)"
    assert spell(text) == text
