"""Vector segments (ingest/vectors.py) and their search (retrieval/dense.py): exact and IVF, with deletions."""
from __future__ import annotations

import os

import numpy as np
import pytest

import ingest.vectors as vectors_module
from ingest.vectors import Segments
from retrieval.dense import DenseIndex

DIM = 16


def unit(rows: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def version(tmp_path, number: int, base: Segments | None = None) -> Segments:
    folder = tmp_path / f"v{number}"
    folder.mkdir()
    return base.link_into(folder) if base else Segments(folder, "chunks")


def exact_top(ids: np.ndarray, vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    scores = vectors @ query
    order = np.lexsort((ids, -scores))[:k]
    return ids[order].tolist()


def test_segments_keep_old_files_and_write_only_the_change(tmp_path):
    first = version(tmp_path, 1)
    entry = first.write(np.arange(1, 11), unit(10, 0), number=1)
    assert entry["rows"] == 10 and entry["segments"] == ["chunks-000001"]

    second = version(tmp_path, 2, Segments.open(first.folder, "chunks", entry))
    second.delete([3, 4])
    entry2 = second.write(np.arange(11, 14), unit(3, 1), number=2)
    assert entry2["segments"] == ["chunks-000001", "chunks-000002"] and entry2["deleted"] == 2

    old_file, new_link = first.folder / "chunks-000001.npy", second.folder / "chunks-000001.npy"
    assert os.stat(new_link).st_ino == os.stat(old_file).st_ino  # linked, not copied
    reopened = Segments.open(second.folder, "chunks", entry2)
    ids, vectors = reopened.live()
    assert ids.tolist() == [1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    np.testing.assert_array_equal(vectors[-3:], unit(3, 1))
    # the previous version is untouched: still ten rows, none deleted
    assert Segments.open(first.folder, "chunks", entry).live()[0].tolist() == list(range(1, 11))
    got = reopened.get(np.array([2, 3, 12]))
    assert sorted(got) == [2, 12]  # 3 is deleted
    np.testing.assert_array_equal(got[12], unit(3, 1)[1])


def test_many_deletions_merge_into_one_segment(tmp_path):
    first = version(tmp_path, 1)
    entry = first.write(np.arange(1, 9), unit(8, 0), number=1)
    second = version(tmp_path, 2, Segments.open(first.folder, "chunks", entry))
    second.delete([1, 2, 3])  # more than a quarter
    entry2 = second.write(np.array([20]), unit(1, 5), number=2)
    assert entry2["segments"] == ["chunks-000002m"] and entry2["deleted"] == 0
    assert Segments.open(second.folder, "chunks", entry2).live()[0].tolist() == [4, 5, 6, 7, 8, 20]
    assert not (second.folder / "chunks-000001.npy").exists()
    assert (first.folder / "chunks-000001.npy").exists()  # only the new version's link went


def test_exact_search_matches_brute_force_and_respects_allowed(tmp_path):
    store = version(tmp_path, 1)
    ids, vectors = np.arange(100, 160), unit(60, 2)
    entry = store.write(ids, vectors, number=1)
    index = DenseIndex(Segments.open(store.folder, "chunks", entry), DIM)
    query = unit(1, 9)[0]
    assert [i for i, _ in index.search(query, 5)] == exact_top(ids, vectors, query, 5)
    allowed = ids[ids % 2 == 0]
    assert [i for i, _ in index.search(query, 5, allowed=allowed)] == exact_top(
        allowed, vectors[ids % 2 == 0], query, 5)
    np.testing.assert_array_equal(index.vector(105), vectors[5])
    with pytest.raises(KeyError, match="161"):
        index.row(161)


def test_exact_search_ranks_and_scores_in_float32_though_it_scans_8_bit_codes(tmp_path):
    """Near neighbours come back in float32 order, with float32 scores (in 16 dimensions 8-bit codes tell apart
    neighbours with noise 0.1 around the query in all of 30 seeds, with noise 0.03 in 13)."""
    store = version(tmp_path, 1)
    query = unit(1, 9)[0]
    noise = np.random.default_rng(3).normal(scale=0.1, size=(40, DIM)).astype(np.float32)
    vectors = query + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1, 41)
    entry = store.write(ids, vectors, number=1)
    index = DenseIndex(Segments.open(store.folder, "chunks", entry), DIM)
    found = index.search(query, 5)
    assert [i for i, _ in found] == exact_top(ids, vectors, query, 5)
    np.testing.assert_allclose([s for _, s in found], np.sort(vectors @ query)[::-1][:5], rtol=0, atol=1e-6)


def test_ivf_search_ranks_and_scores_in_float32_though_it_scans_8_bit_codes(tmp_path, monkeypatch):
    """Near neighbours found through the IVF index come back in float32 order, with float32 scores."""
    monkeypatch.setattr(vectors_module, "ANN_MIN_ROWS", 500)
    store = version(tmp_path, 1)
    query = unit(1, 9)[0]
    near = query + np.random.default_rng(3).normal(scale=0.1, size=(40, DIM)).astype(np.float32)
    vectors = np.concatenate([near, unit(1960, 10)])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1, 2001)
    entry = store.write(ids, vectors, number=1)
    index = DenseIndex(Segments.open(store.folder, "chunks", entry), DIM)
    assert index.ann is not None and index.exact.ntotal == 0
    found = index.search(query, 5)
    assert [i for i, _ in found] == exact_top(ids, vectors, query, 5)
    np.testing.assert_allclose([s for _, s in found], np.sort(vectors @ query)[::-1][:5], rtol=0, atol=1e-6)


def test_above_the_threshold_an_ivf_index_serves_search_and_skips_deleted_ids(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors_module, "ANN_MIN_ROWS", 500)
    first = version(tmp_path, 1)
    ids, vectors = np.arange(1, 2001), unit(2000, 3)
    entry = first.write(ids, vectors, number=1)
    assert entry["ann"] and (first.folder / entry["ann"]["file"]).exists()

    second = version(tmp_path, 2, Segments.open(first.folder, "chunks", entry))
    queries = unit(20, 4)
    gone = [exact_top(ids, vectors, q, 1)[0] for q in queries[:10]]  # delete the best hit of ten queries
    second.delete(gone)
    new_ids, new_vectors = np.arange(5000, 5010), unit(10, 6)
    entry2 = second.write(new_ids, new_vectors, number=2)
    assert entry2["ann"] == entry["ann"]  # few changes: the IVF index is kept, newer rows searched exactly
    index = DenseIndex(Segments.open(second.folder, "chunks", entry2), DIM)
    assert index.exact.ntotal == 10

    live = ~np.isin(ids, gone)
    all_ids = np.concatenate([ids[live], new_ids])
    all_vectors = np.concatenate([vectors[live], new_vectors])
    recall = []
    for query in np.concatenate([queries, new_vectors[:3]]):
        found = [i for i, _ in index.search(query, 10)]
        assert not set(found) & set(gone)
        recall.append(len(set(found) & set(exact_top(all_ids, all_vectors, query, 10))) / 10)
    assert np.mean(recall) >= 0.95
    # each new vector is its own nearest neighbour, found through the exact part
    assert [index.search(v, 1)[0][0] for v in new_vectors[:3]] == new_ids[:3].tolist()
    allowed = np.array([7, 8, 9, 5001])
    assert {i for i, _ in index.search(queries[0], 10, allowed=allowed)} == {7, 8, 9, 5001} - set(gone)


def test_the_ivf_index_is_rebuilt_when_much_has_changed_and_dropped_below_the_threshold(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors_module, "ANN_MIN_ROWS", 500)
    first = version(tmp_path, 1)
    entry = first.write(np.arange(1, 601), unit(600, 7), number=1)
    second = version(tmp_path, 2, Segments.open(first.folder, "chunks", entry))
    entry2 = second.write(np.arange(1000, 1100), unit(100, 8), number=2)  # 100 new of 700: over 10%
    assert entry2["ann"]["file"] != entry["ann"]["file"] and entry2["ann"]["segments"] == entry2["segments"]
    assert not (second.folder / entry["ann"]["file"]).exists()
    third = version(tmp_path, 3, Segments.open(second.folder, "chunks", entry2))
    third.delete(list(range(1, 400)))
    entry3 = third.write(np.zeros(0, dtype=np.int64), np.zeros((0, DIM), dtype=np.float32), number=3)
    assert entry3["ann"] is None and entry3["rows"] == 301


def test_a_kind_of_several_rows_per_id_reads_each_ids_rows_and_deletes_them_together(tmp_path):
    first_folder = tmp_path / "v1"
    first_folder.mkdir()
    rows = (unit(7, 3) * 127).astype(np.int8)
    tokens = Segments(first_folder, "tokens")
    entry = tokens.write(np.array([2, 2, 5, 9, 9, 9, 11]), rows, number=1)
    assert entry["rows"] == 7 and entry["ann"] is None
    assert np.load(first_folder / "tokens-000001.npy").dtype == np.int8  # stored as given, not as float32
    got = Segments.open(first_folder, "tokens", entry).groups(np.array([9, 2, 4]))
    assert sorted(got) == [2, 9]  # 4 has no rows
    np.testing.assert_array_equal(got[2], rows[:2])
    np.testing.assert_array_equal(got[9], rows[3:6])

    second_folder = tmp_path / "v2"
    second_folder.mkdir()
    second = Segments.open(first_folder, "tokens", entry).link_into(second_folder)
    second.delete([9])
    entry2 = second.write(np.array([12, 12]), rows[:2], number=2)
    reopened = Segments.open(second_folder, "tokens", entry2)
    assert reopened.live_ids().tolist() == [2, 5, 11, 12]  # each id once; 9 went with all three of its rows
    assert sorted(reopened.groups(np.array([2, 5, 9, 12]))) == [2, 5, 12]
    assert entry2["rows"] == reopened.rows() == 6
    # three of nine rows deleted is over a quarter, counted in rows (not ids): merged into one segment
    assert entry2["segments"] == ["tokens-000002m"] and entry2["deleted"] == 0
    third_folder = tmp_path / "v3"
    third_folder.mkdir()
    third = reopened.link_into(third_folder)
    third.delete([5])  # one row of six: kept as a deletion
    entry3 = third.write(np.zeros(0, dtype=np.int64), np.zeros((0, DIM), dtype=np.int8), number=3)
    assert entry3["segments"] == ["tokens-000002m"] and entry3["rows"] == 5 and entry3["deleted"] == 1
    merged = Segments.open(third_folder, "tokens", entry3)
    assert np.load(third_folder / "tokens-000002m.npy").dtype == np.int8
    assert merged.live_ids().tolist() == [2, 11, 12]
    np.testing.assert_array_equal(merged.groups(np.array([12]))[12], rows[:2])
    np.testing.assert_array_equal(merged.groups(np.array([2]))[2], rows[:2])
