"""Term counts and the BM25 index computed from them: bm25s's own scores, bit for bit, after any edits."""
from __future__ import annotations

import json
from pathlib import Path

import bm25s
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ARTICLES
from ingest.lexical import load_bm25, tokenize
from ingest.terms import TermCounts

DOCUMENTS = [
    "Muscle twitching, medically termed fasciculations, is common.",
    "Twitches can be triggered by too much caffeine, stress or anxiety, and lack of sleep.",
    "Amyotrophic lateral sclerosis (ALS) is a disease of motor neurons.",
    "Multiple sclerosis (MS) damages myelin; spasticity often affects the legs. Legs, legs, legs.",
]


def reference(tokens: list[list[str]]) -> bm25s.BM25:
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    return retriever


def assert_same_index(saved: Path, tokens: list[list[str]]) -> None:
    """The index saved in ``saved`` scores every term and a few multi-term queries exactly as bm25s's own
    index of ``tokens`` does, and has the same vocabulary."""
    ours, theirs = load_bm25(saved), reference(tokens)
    vocabulary = sorted(t for t in theirs.vocab_dict if t)
    assert sorted(t for t in ours.vocab_dict if t) == vocabulary
    assert ours.scores["num_docs"] == theirs.scores["num_docs"] == len(tokens)
    for query in [[t] for t in vocabulary] + [q for q in (vocabulary[::3], vocabulary[1::2], vocabulary) if q]:
        np.testing.assert_array_equal(ours.get_scores(query), theirs.get_scores(query), err_msg=str(query))
    for term in vocabulary:  # the stored matrices, column by column
        (rows, data), (their_rows, their_data) = (column(r, r.vocab_dict[term]) for r in (ours, theirs))
        np.testing.assert_array_equal(rows, their_rows)
        assert data.tobytes() == their_data.tobytes()


def column(retriever: bm25s.BM25, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(document rows, scores) of column ``i`` of a bm25s score matrix."""
    start, end = retriever.scores["indptr"][i], retriever.scores["indptr"][i + 1]
    return retriever.scores["indices"][start:end], retriever.scores["data"][start:end]


def test_scores_are_bm25s_scores(tmp_path):
    tokens = tokenize(DOCUMENTS + list(ARTICLES.values()))
    TermCounts.from_tokens(list(range(10, 10 + len(tokens))), tokens).save(tmp_path / "ours")
    assert_same_index(tmp_path / "ours", tokens)
    reference(tokens).save(str(tmp_path / "bm25s"), show_progress=False)
    assert (json.loads((tmp_path / "ours" / "params.index.json").read_text())
            == json.loads((tmp_path / "bm25s" / "params.index.json").read_text()))
    assert np.load(tmp_path / "ours" / "chunk_ids.npy").tolist() == list(range(10, 10 + len(tokens)))


def test_counts_survive_a_save_and_load(tmp_path):
    counts = TermCounts.from_tokens([3, 1, 2], tokenize(DOCUMENTS[:3]))
    counts.save(tmp_path)
    loaded = TermCounts.load(tmp_path)
    assert loaded.chunk_ids.tolist() == [1, 2, 3] and loaded.vocabulary == counts.vocabulary
    for name in ("indptr", "rows", "counts"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(counts, name))
    assert TermCounts.load(tmp_path / "missing") is None


def test_rows_follow_chunk_ids_and_columns_hold_each_chunk_once():
    counts = TermCounts.from_tokens([7, 2], [["leg", "leg", "arm"], ["arm"]])
    assert counts.chunk_ids.tolist() == [2, 7] and counts.lengths().tolist() == [1, 3]
    columns = {term: list(zip(counts.rows[counts.indptr[t]:counts.indptr[t + 1]].tolist(),
                              counts.counts[counts.indptr[t]:counts.indptr[t + 1]].tolist()))
               for t, term in enumerate(counts.vocabulary)}
    assert columns == {"leg": [(1, 2)], "arm": [(0, 1), (1, 1)]}


def test_an_update_equals_counting_the_new_corpus_afresh(tmp_path):
    tokens = tokenize(DOCUMENTS)
    edited = tokenize(["Spasticity often affects both legs in multiple sclerosis; a brand new word: zygote."])
    counts = TermCounts.from_tokens([1, 2, 3, 4], tokens).updated([2, 4], TermCounts.from_tokens([5], edited))
    assert counts.chunk_ids.tolist() == [1, 3, 5]
    assert "caffein" not in counts.vocabulary and "zygot" in counts.vocabulary  # gone with its only chunk
    counts.save(tmp_path)
    assert_same_index(tmp_path, [tokens[0], tokens[2], edited[0]])


def test_an_update_refuses_a_chunk_id_it_already_has():
    counts = TermCounts.from_tokens([1, 2], tokenize(DOCUMENTS[:2]))
    with pytest.raises(ValueError, match="already"):
        counts.updated([], TermCounts.from_tokens([2], [["leg"]]))
    with pytest.raises(ValueError, match="2 chunk ids for 1 token lists"):
        TermCounts.from_tokens([1, 2], [["leg"]])


def test_no_chunks_gives_an_empty_loadable_index(tmp_path):
    counts = TermCounts.from_tokens([1], [["leg"]]).updated([1], TermCounts.from_tokens([], []))
    assert counts.vocabulary == () and len(counts.chunk_ids) == 0
    counts.save(tmp_path)
    assert load_bm25(tmp_path).scores["num_docs"] == 0


WORDS = st.sampled_from(["leg", "arm", "pain", "ms", "als", "twitch", "sleep", "nerve", "myelin", "zinc"])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(WORDS, max_size=12), min_size=1, max_size=12), st.data())
def test_any_sequence_of_edits_scores_like_a_fresh_bm25s_index(tmp_path_factory, corpus, data):
    """Documents (some empty) deleted and added in random steps, new ids anywhere among the old (a deleted id may
    come back); the result always equals bm25s afresh."""
    live = dict(enumerate(corpus))
    counts = TermCounts.from_tokens(list(live), list(live.values()))
    for _ in range(data.draw(st.integers(1, 4))):
        deleted = data.draw(st.lists(st.sampled_from(sorted(live)), unique=True)) if live else []
        live = {i: t for i, t in live.items() if i not in deleted}
        added = data.draw(st.lists(st.lists(WORDS, max_size=12), max_size=4))
        new_ids = data.draw(st.lists(st.integers(0, 40).filter(lambda i: i not in live), unique=True,
                                     min_size=len(added), max_size=len(added)))
        counts = counts.updated(deleted, TermCounts.from_tokens(new_ids, added))
        live |= dict(zip(new_ids, added))
    assert counts.chunk_ids.tolist() == sorted(live)
    assert counts.lengths().tolist() == [len(live[i]) for i in sorted(live)]
    if any(live.values()):  # bm25s cannot index a corpus without a single token
        folder = tmp_path_factory.mktemp("bm25")
        counts.save(folder)
        assert_same_index(folder, [live[i] for i in sorted(live)])
        loaded = TermCounts.load(folder)
        assert loaded.vocabulary == counts.vocabulary and loaded.counts.tolist() == counts.counts.tolist()
