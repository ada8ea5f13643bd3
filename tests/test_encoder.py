"""The model's ONNX export beside an index: chosen when current, the torch model otherwise.

Unit tests check the choice with stand-in files (no weights load); integration tests export the real model,
compare its vectors with sentence-transformers', and check that answering a question never imports torch.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.encoder import (
    ONNX_DIR, ONNX_FILE, ONNX_STAMP, OnnxEncoder, SentenceTransformerEncoder,
    export_onnx, ingest_encoder, model_stamp, onnx_current, query_encoder,
)
from ingest.load import ROOT
from ingest.pipeline import Settings, ingest


def fake_export(index_root: Path, stamp: dict) -> Path:
    folder = index_root / ONNX_DIR
    folder.mkdir(parents=True)
    (folder / ONNX_FILE).write_bytes(b"not read until the first encode")
    (folder / ONNX_STAMP).write_text(json.dumps(stamp), encoding="utf-8")
    return folder


def test_a_current_export_is_chosen_for_questions(tmp_path):
    fake_export(tmp_path, model_stamp())
    assert onnx_current(tmp_path)
    encoder = query_encoder(tmp_path)
    assert isinstance(encoder, OnnxEncoder)
    assert encoder.model_file == tmp_path / ONNX_DIR / ONNX_FILE
    assert encoder.name == SentenceTransformerEncoder.name and encoder.dimension == 384


@pytest.mark.parametrize("change", ["weights_bytes", "package_version"])
def test_an_export_of_other_weights_is_not_used(tmp_path, change):
    stamp = model_stamp()
    stamp[change] = "something else"
    fake_export(tmp_path, stamp)
    assert not onnx_current(tmp_path)
    with pytest.warns(UserWarning, match="no current ONNX model"):
        assert isinstance(query_encoder(tmp_path), SentenceTransformerEncoder)


def test_batches_go_longest_first_and_never_pad_a_text_to_twice_its_length(tmp_path):
    encoder = OnnxEncoder(fake_export(tmp_path, model_stamp()) / ONNX_FILE, batch_size=3)
    assert encoder.batches([14, 35, 5]) == [[1], [0], [2]]  # question, alias-expanded form, topic words
    assert encoder.batches([9, 10, 4, 5]) == [[1, 0], [3, 2]]  # 2 * 5 <= 10 opens a batch; 4 joins 5
    assert encoder.batches([7] * 7) == [[0, 1, 2], [3, 4, 5], [6]]
    assert encoder.batches([]) == []


def test_an_export_without_its_stamp_or_file_is_not_used(tmp_path):
    folder = fake_export(tmp_path, model_stamp())
    (folder / ONNX_FILE).unlink()
    assert not onnx_current(tmp_path)
    (folder / ONNX_STAMP).write_text("{not json", encoding="utf-8")
    assert not onnx_current(tmp_path)
    with pytest.raises(FileNotFoundError, match="no ONNX model at"):
        OnnxEncoder(folder / ONNX_FILE)


def test_setup_prepares_the_export_once_and_the_cli_says_which(tmp_path, monkeypatch, capsys):
    import ingest.encoder as encoder_module
    from ingest.__main__ import EXIT_USAGE, main

    monkeypatch.setenv("QA_MODEL_CACHE", str(tmp_path / "cache"))
    exports = []

    def stand_in(folder: Path) -> None:  # what _export_into leaves behind, without torch
        exports.append(folder)
        folder.mkdir(parents=True)
        (folder / ONNX_FILE).write_bytes(b"stand-in")
        (folder / ONNX_STAMP).write_text(json.dumps(model_stamp()), encoding="utf-8")

    monkeypatch.setattr(encoder_module, "_export_into", stand_in)
    assert main(["--prepare-model"]) == 0
    assert "exported to ONNX in" in capsys.readouterr().out
    assert main(["--prepare-model"]) == 0
    assert "is current, nothing to do" in capsys.readouterr().out
    assert len(exports) == 1 and exports[0].parent == tmp_path / "cache"
    assert export_onnx(tmp_path / "index") and onnx_current(tmp_path / "index")  # linked from the cache
    assert len(exports) == 1
    assert main(["--prepare-model", "corpus"]) == EXIT_USAGE
    assert "--prepare-model takes no PATH" in capsys.readouterr().err


# -- the real model ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("export")
    assert export_onnx(root)
    return root


@pytest.mark.integration
def test_a_new_index_links_the_cached_export_instead_of_exporting_again(tmp_path, monkeypatch):
    import ingest.encoder as encoder_module

    monkeypatch.setenv("QA_MODEL_CACHE", str(tmp_path / "cache"))
    exports = []
    real_export = encoder_module._export_into
    monkeypatch.setattr(encoder_module, "_export_into", lambda folder: exports.append(folder) or real_export(folder))
    assert export_onnx(tmp_path / "a") and export_onnx(tmp_path / "b")
    assert len(exports) == 1 and exports[0].parent == tmp_path / "cache"  # torch ran once, into the cache
    files = [tmp_path / name / ONNX_DIR / ONNX_FILE for name in ("a", "b")] + [exports[0] / ONNX_FILE]
    assert len({f.stat().st_ino for f in files}) == 1  # hard links, not three 90 MB copies
    assert onnx_current(tmp_path / "a") and onnx_current(tmp_path / "b")


@pytest.mark.integration
def test_export_is_written_once(exported):
    assert onnx_current(exported)
    assert not export_onnx(exported)
    assert not list((exported / ONNX_DIR).glob("*.partial"))
    encoder = ingest_encoder(exported)  # current: used as it is
    assert isinstance(encoder, OnnxEncoder) and encoder.model_file == exported / ONNX_DIR / ONNX_FILE


@pytest.mark.integration
def test_onnx_vectors_match_sentence_transformers(exported):
    questions = [json.loads(line)["question"] for line in
                 (ROOT / "evaluation" / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = questions[:70] + ["word " * 400, "x", "", "Fasciculations, or muscle twitches, are rare in MS."]
    onnx = OnnxEncoder(exported / ONNX_DIR / ONNX_FILE, batch_size=16)  # several padded batches
    reference = SentenceTransformerEncoder().encode(texts)
    vectors = onnx.encode(texts)
    assert vectors.shape == reference.shape == (len(texts), 384) and vectors.dtype == np.float32
    assert np.abs(vectors - reference).max() < 1e-5


@pytest.mark.integration
def test_texts_packed_in_one_row_get_the_vectors_they_get_alone(exported):
    question = "Is muscle twitching a sign of MS?"
    texts = [question, f"{question} (fasciculations, multiple sclerosis)", "muscle twitching", "x"]
    onnx = OnnxEncoder(exported / ONNX_DIR / ONNX_FILE)
    runs = []
    onnx._run = lambda *inputs, run=onnx._run: runs.append(inputs[0].shape) or run(*inputs)
    vectors = onnx.encode(texts)
    assert runs == [(1, sum(onnx.count_tokens(texts)))]  # one row, no padding
    assert np.abs(vectors - SentenceTransformerEncoder().encode(texts)).max() < 1e-5
    assert np.abs(vectors[1] - onnx.encode([texts[1]])[0]).max() < 1e-6  # the others do not leak into it
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert onnx.encode([]).shape == (0, 384)


@pytest.mark.integration
@pytest.mark.parametrize("texts", [["Is muscle twitching a sign of MS?", "x"],  # packed into one row
                                   ["Fasciculations, or muscle twitches, are rare in MS. " * 12, "muscle"]])  # batched
def test_onnx_token_vectors_match_sentence_transformers(exported, texts):
    onnx = OnnxEncoder(exported / ONNX_DIR / ONNX_FILE)
    vectors, tokens = onnx.encode_with_tokens(texts)
    reference_vectors, reference = SentenceTransformerEncoder().encode_with_tokens(texts)
    assert np.abs(vectors - onnx.encode(texts)).max() < 1e-6 and np.abs(vectors - reference_vectors).max() < 1e-5
    for (pieces, rows), (reference_pieces, reference_rows) in zip(tokens, reference, strict=True):
        assert pieces == reference_pieces and "[CLS]" not in pieces and "[SEP]" not in pieces
        assert rows.shape == (len(pieces), 384) and np.abs(rows - reference_rows).max() < 1e-5
        np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert tokens[1][0] == [texts[1]]
    assert tokens[0][0][:3] == (["is", "muscle", "twitching"] if len(texts[0]) < 100 else ["fa", "##sc", "##ic"])
    empty_vectors, empty_tokens = onnx.encode_with_tokens([])
    assert empty_vectors.shape == (0, 384) and empty_tokens == []


@pytest.mark.integration
def test_answering_a_question_never_imports_torch(tmp_path):
    """The CLI on an index built by the real model: answers with the ONNX export, torch stays unloaded."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "twitches.txt").write_text(
        "Muscle twitches\n\nFasciculations, or muscle twitches, are small involuntary contractions. "
        "Caffeine and stress can trigger them.\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    ingest([corpus], ingest_encoder(index_dir), Settings(index_dir=index_dir))
    assert onnx_current(index_dir)
    script = ("import json, sys\nfrom retrieval.__main__ import main\n"
              f"code = main(['What can trigger muscle twitches?', '--index', {str(index_dir)!r}, '--json'])\n"
              "print(json.dumps({'code': code, 'loaded': [m for m in ('torch', 'sentence_transformers', "
              "'transformers') if m in sys.modules]}))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    answer_line, report_line = result.stdout.strip().splitlines()[-2:]
    assert json.loads(report_line) == {"code": 0, "loaded": []}, result.stderr
    assert "Caffeine" in json.loads(answer_line)["extracts"][0]["text"]
