"""Synonyms the articles define, mined from single sentences."""
from __future__ import annotations

import re

import pytest

from ingest.aliases import Alias, mine_aliases, word_initials
from ingest.types import Sentence


def sentence(text: str, start: int = 100) -> Sentence:
    return Sentence("art", 0, text, start, start + len(text), "text", None, text)


def pairs(text: str) -> list[tuple[str, str]]:
    return [(a.term, a.alias) for a in mine_aliases([sentence(text)])]


@pytest.mark.parametrize("text, expected", [
    ("Muscle twitching, medically termed fasciculations, involves small contractions.",
     [("Muscle twitching", "fasciculations")]),
    ("Fasciculations, or muscle twitches, happen where nerves meet muscles.",
     [("Fasciculations", "muscle twitches")]),
    ("Amyotrophic lateral sclerosis (ALS) is a disease of motor neurons.",
     [("Amyotrophic lateral sclerosis", "ALS")]),
    ("Cramp-fasciculation syndrome (CFS) is a rare condition.",
     [("Cramp-fasciculation syndrome", "CFS")]),
    ("Some people have motor neuron disease (ALS, Lou Gehrig disease) early.",
     [("ALS", "Lou Gehrig disease")]),
    ("Fasciculations which are also known as muscle twitches, are tiny contractions.",
     [("Fasciculations", "muscle twitches")]),
    ("If you experience muscle twitches\u2014also known as fasciculations\u2014you might wonder why.",
     [("muscle twitches", "fasciculations")]),
    ("Amyotrophic lateral sclerosis, better known as ALS or Lou Gehrig disease, is an example.",
     [("Amyotrophic lateral sclerosis", "ALS"), ("Amyotrophic lateral sclerosis", "Lou Gehrig disease")]),
    ("One common symptom of ALS is muscle twitching (fasciculation).",
     [("muscle twitching", "fasciculation")]),
    ("Muscle cramping and twitching (fasciculations) occur.", [("twitching", "fasciculations")]),
    ("It causes a loss of muscle bulk (atrophy).", [("muscle bulk", "atrophy")]),
    ("It can cause sudden, painful contractions known as spasms.", [("painful contractions", "spasms")]),
])
def test_definitions_are_mined(text, expected):
    assert pairs(text) == expected


@pytest.mark.parametrize("text", [
    "Symptoms include pain (fever, rash) and more.",
    "Symptoms can include (fever, rash, cough) at times.",
    "Take the tablets (see below) with food.",
    "Spasms are common in MS and ALS.",
    "The nerves fire, or misfire.",  # "X, or Y" must be closed by a comma
    # the parenthesis names a whole clause, not the single word before it (MedQuAD)
    "Babies develop seizures that do not improve with treatment (intractable epilepsy) early.",
    "It caused a complete disappearance of signs of this disease (remission) in 5% of patients.",
    "These cells are cancer (leukemia) cells.",
    # a kind of the thing, not its name
    "A single-celled parasite causes a disease known as toxoplasmosis.",
    "It has a pattern of inheritance known as incomplete autosomal dominance.",
])
def test_non_definitions_are_not_mined(text):
    assert pairs(text) == []


def test_alias_carries_article_and_sentence_span():
    text = "The central nervous system (CNS) is affected."
    expected = [Alias("central nervous system", "CNS", "art", 40, 40 + len(text))]
    assert mine_aliases([sentence(text, start=40)]) == expected


def test_every_sentence_is_mined():
    found = mine_aliases([sentence("Multiple sclerosis (MS) is chronic.", 0), sentence("Nothing here.", 40),
                          sentence("Fasciculations, or twitches, are small.", 60)])
    assert [(a.term, a.alias, a.start) for a in found] == [
        ("Multiple sclerosis", "MS", 0), ("Fasciculations", "twitches", 60)]


def test_word_initials_break_where_more_than_a_space_or_hyphen_comes_between_words():
    assert word_initials("Lower motor neurons (LMNs) carry") == "lmn|l|c"
    assert word_initials("X-ray of\u00a0the\tspine") == "xrots"
    assert word_initials("B12 and café au lait spots") == "b|ac|als"  # a digit or a non-ASCII letter breaks a word


@pytest.mark.parametrize("acronym", ["lmn", "cns", "xr", "al", "ms"])
def test_every_run_of_words_an_acronym_can_spell_is_in_the_initials(acronym):
    # Index.initials reads only the articles whose initials hold the acronym, then matches this pattern in them:
    # the initials must hold it wherever the pattern matches
    pattern = re.compile(r"\b" + r"[\s-]+".join(f"({c}[a-z]*)" for c in acronym) + r"\b", re.IGNORECASE)
    texts = ["Lower motor neurons; central nervous system.", "the lower-motor  neuron", "an X-ray", "X - Ray",
             "café au lait", "Central\u00a0Nervous\nSystem", "(lower motor neuron)", "3 more severe", "most signs",
             "x_ray", "lower motor neuron2"]
    for text in texts:
        if pattern.search(text):
            assert acronym in word_initials(text), text
    assert sum(bool(pattern.search(t)) for t in texts) >= 1
