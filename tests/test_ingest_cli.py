"""python -m ingest: output formats, exit codes, and messages instead of tracebacks."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ingest.encoder
from conftest import FakeEncoder
from ingest.__main__ import EXIT_ERROR, EXIT_LOCKED, EXIT_USAGE, main
from ingest.load import display_path
from ingest.store import IndexStore

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    """main() gets its encoder from ingest_encoder(index): give it the fake one."""
    monkeypatch.setattr(ingest.encoder, "ingest_encoder", lambda root: FakeEncoder(max_seq_length=256))


@pytest.fixture
def index(tmp_path: Path) -> Path:
    return tmp_path / "index"


def run(capsys, *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_prints_one_object_with_the_counts(capsys, corpus, index):
    (corpus / "broken.txt").write_bytes(b"\xc3\x28 bad")
    code, out, _ = run(capsys, corpus, "--index", index, "--json")
    assert code == 0
    assert out.count("\n") == 1
    data = json.loads(out)
    assert {k: data[k] for k in ("added", "updated", "removed", "unchanged", "articles", "version")} == {
        "added": 3, "updated": 0, "removed": 0, "unchanged": 0, "articles": 3, "version": "v000001"}
    assert data["skipped"] == [{"path": display_path(corpus / "broken.txt"),
                                "reason": "not UTF-8: invalid byte 0xc3 at offset 0"}]
    for key in ("chunks", "sentences"):
        assert isinstance(data[key], int) and data[key] > 0
    assert isinstance(data["seconds"], (int, float)) and data["seconds"] >= 0
    code, out, _ = run(capsys, corpus, "--index", index, "--json")
    data = json.loads(out)
    assert (code, data["unchanged"], data["added"], data["version"], data["published"]) == (0, 3, 0, "v000001", False)


def test_human_output(capsys, corpus, index):
    (corpus / "empty.txt").write_text("")
    code, out, _ = run(capsys, corpus, "--index", index)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"index {display_path(index)}: live version v000001 (published)"
    assert re.fullmatch(r"  added 3, updated 0, removed 0, unchanged 0; \d+ texts embedded", lines[1])
    assert re.fullmatch(r"  3 articles, \d+ chunks, \d+ sentences in \d+\.\d s", lines[2])
    assert lines[3:] == ["  skipped 1:", f"    {display_path(corpus / 'empty.txt')}: empty file"]
    code, out, _ = run(capsys, corpus, "--index", index)
    assert out.splitlines()[0] == f"index {display_path(index)}: live version v000001 (unchanged, nothing to do)"


def test_human_output_names_a_rebuild(capsys, corpus, index):
    run(capsys, corpus, "--index", index)
    code, out, _ = run(capsys, corpus, "--index", index, "--target-tokens", "64")
    assert code == 0
    assert out.splitlines()[1].startswith("  full rebuild: chunking changed from ")


def test_strict_exits_1_and_changes_nothing(capsys, corpus, index):
    run(capsys, corpus, "--index", index)
    (corpus / "broken.txt").write_bytes(b"\x00")
    code, out, err = run(capsys, corpus, "--index", index, "--strict")
    assert (code, out) == (EXIT_ERROR, "")
    assert err.splitlines() == [
        f"skipped {display_path(corpus / 'broken.txt')}: binary file (NUL byte at offset 0)",
        "error: 1 source(s) skipped with --strict; index left unchanged",
    ]
    assert IndexStore(index).published() == ["v000001"]


def test_rollback(capsys, corpus, index):
    run(capsys, corpus, "--index", index)
    (corpus / "ms.md").write_text("# Multiple Sclerosis\n\nChanged text.\n")
    run(capsys, corpus, "--index", index)
    code, out, _ = run(capsys, "--rollback", "--index", index)
    assert (code, out) == (0, f"index {display_path(index)}: rolled back from v000002 to v000001\n")
    assert IndexStore(index).live_name() == "v000001"
    run(capsys, corpus, "--index", index)  # v000003, built on v000001
    code, out, _ = run(capsys, "--rollback", "--index", index, "--json")
    assert (code, json.loads(out)) == (0, {"rolled_back_from": "v000003", "version": "v000001"})


def test_rollback_errors(capsys, corpus, index):
    code, _, err = run(capsys, "--rollback", "--index", index)
    assert (code, err) == (EXIT_ERROR, f"error: nothing to roll back: {index} has no published version\n")
    code, _, err = run(capsys, "--rollback", corpus, "--index", index)
    assert (code, err) == (EXIT_USAGE, "error: --rollback takes no PATH\n")


def test_lock_held_exits_3_naming_the_holder(capsys, corpus, index):
    with IndexStore(index).lock():
        code, out, err = run(capsys, corpus, "--index", index)
        rollback_code, _, _ = run(capsys, "--rollback", "--index", index)
    assert (code, out, rollback_code) == (EXIT_LOCKED, "", EXIT_LOCKED)
    assert err.startswith(f"error: another ingest is already writing {index} (pid ")
    assert err.endswith("wait for it to finish\n")


@pytest.mark.parametrize("argv, code, message", [
    (["--target-tokens", "8"], EXIT_USAGE, "error: target_tokens must be at least 16, got 8\n"),
    (["--max-bytes", "0"], EXIT_USAGE, "error: max_bytes must be positive, got 0\n"),
])
def test_bad_settings(capsys, index, argv, code, message):
    assert run(capsys, "--index", index, *argv)[0::2] == (code, message)


def test_target_above_the_models_limit_is_an_error_message(capsys, corpus, index):
    code, out, err = run(capsys, corpus, "--index", index, "--target-tokens", "300")
    assert (code, out) == (EXIT_ERROR, "")
    assert err == "error: need 0 < target_tokens <= max_tokens, got target_tokens=300, max_tokens=256\n"
    assert IndexStore(index).published() == []
    assert list((index / "versions").iterdir()) == []  # the build was removed


def test_bad_metadata_is_an_error_message(capsys, corpus, index):
    (corpus / "metadata.toml").write_text('["ms.md"]\nauthor = "x"\n')
    code, out, err = run(capsys, corpus, "--index", index)
    assert (code, out) == (EXIT_ERROR, "")
    metadata = display_path(corpus / "metadata.toml")
    assert err.startswith(f"error: {metadata}: entry 'ms.md' has unknown key(s) ['author']")


def test_max_bytes_option(capsys, corpus, index):
    code, out, _ = run(capsys, corpus, "--index", index, "--json", "--max-bytes", "200")  # ms.md is 173 bytes
    data = json.loads(out)
    assert (code, data["articles"]) == (0, 1)
    assert sorted(s["path"] for s in data["skipped"]) == [display_path(corpus / "als.txt"),
                                                           display_path(corpus / "twitching.txt")]


CLI_WITH_FAKE_MODEL = (
    f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(TESTS)!r}]\n"
    "import ingest.encoder; from conftest import FakeEncoder\n"
    "ingest.encoder.ingest_encoder = lambda root: FakeEncoder(max_seq_length=256)\n"
    "from ingest.__main__ import main; sys.exit(main(sys.argv[1:]))\n"
)


def test_json_stdout_of_the_process_is_only_the_object(corpus, index):
    result = subprocess.run([sys.executable, "-c", CLI_WITH_FAKE_MODEL, str(corpus), "--index", str(index), "--json"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"] == 3
    assert result.stdout.count("\n") == 1


def test_missing_path_is_a_clear_error_without_traceback(tmp_path):
    missing = tmp_path / "no-such-folder"
    result = subprocess.run([sys.executable, "-m", "ingest", str(missing), "--index", str(tmp_path / "index")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (EXIT_ERROR, "")
    assert result.stderr == f"error: no such file or directory: {str(missing)!r}\n"
    assert not (tmp_path / "index").exists()  # reported before the model was prepared
