"""Content words in context (ingest/tokens.py) and how a span's words meet the question's (retrieval.extract)."""
from __future__ import annotations

import numpy as np
import pytest

from ingest.tokens import TOKEN_SCALE, content_rows, dequantize, quantize
from retrieval.extract import words_met


def test_content_rows_keep_whole_content_words_only():
    pieces = ["is", "muscle", "twitching", "a", "sign", "of", "fa", "##sc", "ms", "?", "there"]
    vectors = np.arange(len(pieces), dtype=np.float32)[:, None] * np.ones((1, 3), dtype=np.float32)
    assert content_rows(pieces, vectors)[:, 0].tolist() == [1, 2, 4]  # muscle, twitching, sign


def test_a_sentence_without_a_content_word_keeps_all_its_pieces():
    vectors = np.eye(3, dtype=np.float32)
    np.testing.assert_array_equal(content_rows(["is", "it", "?"], vectors), vectors)


def test_content_rows_need_a_vector_per_piece():
    with pytest.raises(ValueError, match="2 pieces but 3 vectors"):
        content_rows(["muscle", "twitch"], np.eye(3))


def test_quantized_rows_come_back_as_unit_rows_with_cosines_within_a_few_thousandths():
    rows = np.random.default_rng(0).normal(size=(200, 384)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    stored = quantize(rows)
    assert stored.dtype == np.int8 and (np.abs(stored).max(axis=1) == TOKEN_SCALE).all()  # each row's full range
    back = dequantize(stored)
    np.testing.assert_allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-6)
    assert np.abs(rows @ back.T - rows @ rows.T).max() < 0.005  # a question word (float) against stored words
    np.testing.assert_array_equal(quantize(np.zeros((1, 4))), np.zeros((1, 4), dtype=np.int8))


def test_words_met_takes_each_words_best_match_across_the_spans_sentences():
    e = np.eye(4, dtype=np.float32)
    question = e[[0, 1]]  # two content words
    sentences = [e[[0, 2]], e[[1]], e[[3]]]  # the first meets word 0, the second word 1, the third neither
    firsts, lasts = np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2])  # spans: [s0], [s0 s1], [s1], [s2]
    question_met, span_met = words_met(question, np.vstack(sentences), np.array([2, 1, 1]), firsts, lasts)
    np.testing.assert_allclose(question_met, [0.5, 1.0, 0.5, 0.0])
    # the span's side: the share of its words that some question word meets
    np.testing.assert_allclose(span_met, [0.5, 2 / 3, 1.0, 0.0])


def test_words_met_of_no_question_words_or_no_spans_is_zero():
    words, counts = np.eye(3, dtype=np.float32)[:1], np.array([1])
    met = words_met(np.zeros((0, 3), dtype=np.float32), words, counts, np.array([0]), np.array([0]))
    assert [m.tolist() for m in met] == [[0.0], [0.0]]
    assert [len(m) for m in words_met(np.eye(3, dtype=np.float32), words, counts, np.array([], dtype=int),
                                      np.array([], dtype=int))] == [0, 0]
