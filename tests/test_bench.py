"""The benchmark's pure parts: statistics, the edit it makes, ANN recall and data, the table. No model needed."""
from __future__ import annotations

import json

import numpy as np
import pytest

from bench.ann import exact_neighbours, random_vectors, recall_at_k, text_like_vectors
from bench.corpora import Corpus, _write_if_changed, cycle
from bench.ingest_run import cached_record
from bench.measure import percentiles, python_command, run_measured
from bench.reingest import ADDED, edited_article, with_sentence
from ingest.store import MANIFEST, IndexStore


def test_percentiles_are_in_milliseconds():
    summary = percentiles([0.001 * i for i in range(1, 101)])
    assert summary["p50"] == pytest.approx(50.5)
    assert summary["p99"] == pytest.approx(99.01)
    assert summary["n"] == 100


def test_percentiles_refuse_no_timings():
    with pytest.raises(ValueError, match="no timings"):
        percentiles([])


def test_cycle_repeats_questions_in_order_until_there_are_enough():
    assert cycle(["a", "b"], 5) == ["a", "b", "a", "b", "a"]
    assert cycle(["a", "b", "c"], 2) == ["a", "b", "c"]


def test_with_sentence_inserts_one_sentence_after_the_middle():
    text = "First one. Second one. Third one. Fourth one."
    edited = with_sentence(text)
    assert edited == "First one. Second one. Third one. " + ADDED + " Fourth one."
    assert with_sentence("No full stop") == "No full stop " + ADDED


def test_edited_article_changes_one_jsonl_line_and_puts_it_back(tmp_path):
    path = tmp_path / "corpus.jsonl"
    records = [{"_id": f"d{i}", "title": "T", "text": f"Sentence {i}. Another {i}. End {i}."} for i in range(5)]
    original = "".join(json.dumps(r) + "\n" for r in records)
    path.write_text(original, encoding="utf-8")
    corpus = Corpus("medquad-5", "k", path, tmp_path / "cache")
    with edited_article(corpus) as (article_id, text):
        lines = path.read_text(encoding="utf-8").splitlines()
        changed = [n for n, (a, b) in enumerate(zip(lines, original.splitlines())) if a != b]
        assert changed == [2] and article_id == "d2" and ADDED in json.loads(lines[2])["text"] == text
    assert path.read_text(encoding="utf-8") == original


def test_a_corpus_copy_is_rewritten_only_when_it_differs(tmp_path):
    path = tmp_path / "copy.txt"
    _write_if_changed(path, b"abc")
    before = path.stat().st_mtime_ns
    _write_if_changed(path, b"abc")
    assert path.stat().st_mtime_ns == before
    path.write_bytes(b"edited, then the run crashed")
    _write_if_changed(path, b"abc")
    assert path.read_bytes() == b"abc"


def test_run_measured_reports_exit_code_output_and_memory():
    run = run_measured(python_command("-c", "import sys; print(sys.stdin.read().upper()); sys.exit(3)"), stdin="hi")
    assert run.returncode == 3 and run.stdout.strip() == "HI"
    assert run.max_rss_mb > 1 and run.seconds > 0


def test_random_vectors_are_unit_length_and_reproducible():
    a, b = random_vectors(1000, 16), random_vectors(1000, 16)
    assert a.dtype == np.float32 and np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert not np.array_equal(a, random_vectors(1000, 16, seed=1))


def test_text_like_vectors_keep_the_base_and_stay_close_to_it():
    base = random_vectors(100, 64)
    data = text_like_vectors(base, 1000, cosine=0.9)
    assert data.shape == (1000, 64) and np.array_equal(data[:100], base)
    assert np.allclose(np.linalg.norm(data, axis=1), 1, atol=1e-5)
    nearest_base = (data[100:] @ base.T).max(axis=1)
    assert 0.85 < np.median(nearest_base) < 0.95


def test_recall_counts_the_true_neighbours_found():
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    assert recall_at_k(truth, truth) == 1.0
    assert recall_at_k(np.array([[1, 2, 9, 9], [8, 7, 6, 5]]), truth) == pytest.approx(0.75)


def test_exact_neighbours_rank_a_vector_first_for_itself():
    data = random_vectors(500, 32)
    assert exact_neighbours(data, data[:20], k=3)[:, 0].tolist() == list(range(20))


def test_the_table_shows_each_target_with_its_verdict():
    from bench.report import ann_table, corpus_table

    result = {
        "corpus": "seed",
        "ingest": {"seconds": 10.0, "max_rss_mb": 900, "index_mb": 1.0, "date": "2026-11-25T00:00",
                   "summary": {"articles": 5, "chunks": 80, "sentences": 300, "encoded": 400},
                   "bare": {"texts": 400, "total": 400, "seconds": 8.0, "per_second": 50.0}},
        "latency": {key: {"p50": p50, "p95": p50 * 2, "p99": p50 * 3, "n": 200}
                    for key, p50 in (("answer_ms", 30.0), ("encode_ms", 20.0), ("query_encode_ms", 10.0),
                                         ("baseline_ms", 25.0))},
        "reingest": [{"unchanged": {"seconds": 0.5, "encoded": 0},
                      "edit": {"seconds": 3.0, "inside_seconds": 2.0, "encoded": 2,
                               "article_encode": {"texts": 40, "cold_seconds": 4.0, "warm_seconds": 0.5}}}],
        "cold_start": {"cli": [{"seconds": 6.0}], "page": [{"seconds": 4.0, "box_seconds": 3.0}]},
    }
    table = corpus_table([result])
    assert "40.0 / 50.0 = 0.80 FAIL" in table
    assert "1.50x PASS / 1.50x PASS" in table
    assert [line for line in table.splitlines() if line.startswith("  answer/ONNX")][0].endswith("| 3.00x / 3.00x")
    assert "0.50 s, 0 encoded PASS" in table
    assert "2 + 4.00 = 6.0 s PASS" in table and "2 + 0.50 = 2.5 s FAIL" in table
    assert [line for line in table.splitlines() if line.startswith("cold start CLI")][0].endswith("| 6.0 s FAIL")
    ann = ann_table([{"data": "random", "n": 10, "exact": {"p50_ms": 1.0}, "peak_rss_mb": 5.0, "runs": [
        {"index": "HNSWFlat M=32", "build_seconds": 1.0, "memory_mb": 2.0, "reached_recall": True,
         "chosen": {"value": 64, "recall": 0.97, "p50_ms": 3.0, "p95_ms": 4.0},
         "sweep": [{"value": 64, "recall": 0.97, "p50_ms": 3.0}]}]}])
    assert "efSearch=64: recall 0.970, p50 3.00 ms, p95 4.00 ms PASS" in ann


def test_a_small_ann_run_sweeps_efsearch_up_to_the_recall_target():
    from bench.ann import run_ann

    [result] = run_ann(3000, None, queries=20, ivf=False, data="random", log=lambda message: None)
    [hnsw] = result["runs"]
    assert result["n"] == 3000 and hnsw["reached_recall"] and hnsw["chosen"]["recall"] >= 0.95
    recalls = [s["recall"] for s in hnsw["sweep"]]
    assert recalls == sorted(recalls)  # a wider search never finds fewer true neighbours here


def test_the_report_shows_setups_one_off_export_apart_from_the_ingests():
    from bench.__main__ import format_report

    report = {"date": "2026-12-02T00:00", "cpus": 2, "load_start": [1.0, 1.0, 1.0], "load_end": [1.0, 1.0, 1.0],
              "corpora": [], "model_export": {"seconds": 8.46, "max_rss_mb": 1012.4}}
    assert "(python -m ingest --prepare-model): 8.5 s, peak RSS 1012 MB; every ingest below finds it made" in \
        format_report(report)
    assert "prepare-model" not in format_report({**report, "model_export": None})


def test_a_recorded_ingest_is_reused_only_while_its_index_is_live_and_of_this_format(tmp_path):
    corpus = Corpus("seed", "k", tmp_path / "copy", tmp_path / "seed-k")
    assert cached_record(corpus) is None  # nothing recorded
    store = IndexStore(corpus.index)
    build = store.begin()
    name = store.publish(build, {})
    corpus.record.write_text(json.dumps({"summary": {"version": name}, "seconds": 1.0}), encoding="utf-8")
    assert cached_record(corpus) == {"summary": {"version": name}, "seconds": 1.0}
    manifest_file = store.live().path / MANIFEST
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    manifest_file.write_text(json.dumps({**manifest, "format_version": manifest["format_version"] - 1}))
    assert cached_record(corpus) is None  # an index this code cannot read: measured again
    manifest_file.write_text(json.dumps(manifest))
    store.publish(store.begin(), {})  # another version went live since the recorded ingest
    assert cached_record(corpus) is None
