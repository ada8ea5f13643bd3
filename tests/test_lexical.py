"""The BM25 tokenizer: the same tokens bm25s.tokenize gives, which the index was built with."""
from __future__ import annotations

import bm25s
from hypothesis import given, settings
from hypothesis import strategies as st

from bm25s.stopwords import STOPWORDS_EN

from ingest.lexical import STOPWORDS, _stemmer, tokenize

TEXTS = [
    "Muscle twitching, medically termed fasciculations, is common.",
    "Is it ALS?? Lou Gehrig's disease — also known as amyotrophic lateral sclerosis (ALS).",
    "", "   ", "a I to of the and", "Café naïve ÉCOLE straße 10mg 2,5 x_y __init__",
    "The the THE running runs ran; it's what they're doing.",
]


def reference(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


def test_stop_words_are_bm25s_english_stop_words():
    assert STOPWORDS == frozenset(STOPWORDS_EN)


def test_tokens_are_bm25s_tokens():
    assert tokenize(TEXTS) == reference(TEXTS)
    assert tokenize(["Muscle twitching is common"]) == [["muscl", "twitch", "common"]]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60),
                max_size=5))
def test_tokens_are_bm25s_tokens_for_any_text(texts):
    assert tokenize(texts) == reference(texts)
