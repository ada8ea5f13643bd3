"""python -m retrieval: JSON shape, stdin mode, exit codes and messages, the human-readable answer.

The CLI is run in-process on a FakeEncoder index (``load_index`` and ``answer`` patched so no model loads), except
where the test is about what happens before any model is needed.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
from functools import partial

import pytest

import retrieval.__main__ as cli
from conftest import ARTICLES, FakeEncoder, build_fake_index, calibration, simple_ranker
from ingest.load import ROOT
from retrieval import RetrievalSettings, answer, load_index

HARMLESS = "Most twitches are harmless and stop on their own."
CORPUS = {
    **ARTICLES,
    "harmless.txt": f"Twitching Facts\n\n{HARMLESS}\n\nSleep helps a lot.\n",
    "tremor-common.txt": "Tremor and Neuropathy\n\nTremor is a common symptom of neuropathy.\n",
    "tremor-rare.txt": "Neuropathy Facts\n\nTremor is rarely a symptom of neuropathy.\n",
}
ANSWER_KEYS = {"question", "abstained", "confidence", "disagreement", "extracts", "related", "version", "read_as"}
EXTRACT_KEYS = {"text", "start", "end", "score", "stance", "article", "also_in"}
ARTICLE_KEYS = {"id", "title", "url", "path", "section", "site"}
ALSO_IN_KEYS = {"id", "title", "start", "end", "path", "section", "url"}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return build_fake_index(tmp_path_factory.mktemp("cli"), CORPUS)


def use_fake_model(monkeypatch, **options) -> None:
    """Make the CLI load indexes with the FakeEncoder and answer with a hand-set ranker and calibration."""
    monkeypatch.setattr(cli, "load_index", lambda path: load_index(path, FakeEncoder()))
    monkeypatch.setattr(cli, "answer", partial(answer, **{"calibration": calibration(), "ranker": simple_ranker(),
                                                          **options}))


@pytest.fixture
def fake_model(monkeypatch):
    use_fake_model(monkeypatch)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def check_extract(extract: dict) -> None:
    assert set(extract) == EXTRACT_KEYS
    assert isinstance(extract["text"], str) and extract["text"]
    assert isinstance(extract["start"], int) and isinstance(extract["end"], int)
    assert isinstance(extract["score"], float)
    assert extract["stance"] in (None, "affirms", "denies")
    article = extract["article"]
    assert set(article) == ARTICLE_KEYS
    assert all(isinstance(article[key], str) for key in ("id", "title", "path", "section"))
    assert all(article[key] is None or isinstance(article[key], str) for key in ("url", "site"))
    # the citation holds: the text is the article file's text at those offsets
    assert (ROOT / article["path"]).read_bytes().decode()[extract["start"]:extract["end"]] == extract["text"]
    for other in extract["also_in"]:
        assert set(other) == ALSO_IN_KEYS
        assert isinstance(other["start"], int) and isinstance(other["end"], int)


# -- --json ----------------------------------------------------------------------------------------------

def test_json_prints_one_object_with_the_documented_keys(capsys, index_dir, fake_model):
    code, out, err = run(capsys, "Are twitches harmless?", "--index", index_dir, "--json")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert set(result) == ANSWER_KEYS
    assert result["question"] == "Are twitches harmless?"
    assert result["abstained"] is False and result["disagreement"] is False
    assert isinstance(result["confidence"], float)
    assert result["version"] == "v000001"
    assert result["related"] == []
    assert result["read_as"] == ""  # nothing was respelt
    assert 1 <= len(result["extracts"]) <= 5
    for extract in result["extracts"]:
        check_extract(extract)


def test_a_respelt_question_is_shown_as_asked_and_as_searched(capsys, index_dir, fake_model):
    code, out, _ = run(capsys, "is tremor a symptom of neuro pathy", "--index", index_dir, "--json")
    result = json.loads(out)
    assert code == 0 and result["question"] == "is tremor a symptom of neuro pathy"
    assert result["read_as"] == "is tremor a symptom of neuropathy"
    code, out, _ = run(capsys, "is tremor a symptom of neuro pathy", "--index", index_dir)
    assert out.splitlines()[0] == "Q: is tremor a symptom of neuro pathy  (read as: is tremor a symptom of neuropathy)"


def test_json_names_the_other_article_of_a_repeated_sentence(capsys, index_dir, fake_model):
    _, out, _ = run(capsys, "Are twitches harmless?", "--index", index_dir, "--json")
    (extract,) = [e for e in json.loads(out)["extracts"] if e["text"] == HARMLESS]
    (other,) = extract["also_in"]
    assert {extract["article"]["id"], other["id"]} == {"twitching", "harmless"}
    assert (ROOT / other["path"]).read_bytes().decode()[other["start"]:other["end"]] == HARMLESS


def test_json_marks_the_sides_of_a_disagreement(capsys, index_dir, fake_model):
    _, out, _ = run(capsys, "Is tremor a symptom of neuropathy?", "--index", index_dir, "--json")
    result = json.loads(out)
    assert result["disagreement"] is True
    assert {e["stance"]: e["article"]["id"] for e in result["extracts"] if e["stance"]} == {
        "affirms": "tremor-common", "denies": "tremor-rare"}


def test_k_limits_the_extracts(capsys, index_dir, fake_model):
    _, out, _ = run(capsys, "Are twitches harmless?", "--index", index_dir, "--json", "--k", "2")
    assert len(json.loads(out)["extracts"]) == 2


# -- stdin -----------------------------------------------------------------------------------------------

def test_stdin_answers_each_line_and_survives_bad_lines(capsys, monkeypatch, index_dir, fake_model):
    monkeypatch.setattr(sys, "stdin", io.StringIO(
        "Are twitches harmless?\r\n\n¿Qué causa los espasmos musculares?\nIs it\x07 bad?\nWhat can trigger twitches?"))
    code, out, err = run(capsys, "--index", index_dir, "--json")
    assert code == 0 and err == ""
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["question"] for r in results] == ["Are twitches harmless?", "¿Qué causa los espasmos musculares?",
                                                "Is it\x07 bad?", "What can trigger twitches?"]
    assert [set(r) for r in results[1:3]] == [{"question", "error"}] * 2
    assert "in English" in results[1]["error"]
    assert "control character (U+0007 at position 5)" in results[2]["error"]
    for result in (results[0], results[3]):
        assert set(result) == ANSWER_KEYS and result["extracts"]


def test_stdin_without_json_reports_bad_lines_on_stderr(capsys, monkeypatch, index_dir, fake_model):
    monkeypatch.setattr(sys, "stdin", io.StringIO("   \nAre twitches harmless?\n\x00\n"))
    code, out, err = run(capsys, "--index", index_dir)
    assert code == 0
    assert out.count("Q: ") == 1 and "Q: Are twitches harmless?" in out
    assert err == "error: the question contains a control character (U+0000 at position 0); " \
                  "please type it again as plain text\n"


# -- errors ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_exits_2_with_a_message(capsys, index_dir, fake_model, question):
    code, out, err = run(capsys, question, "--index", index_dir)
    assert code == cli.EXIT_BAD_QUESTION == 2
    assert out == ""
    assert err == "error: the question is empty: type a question about the articles\n"


def test_empty_question_with_json_prints_the_error_object(capsys, index_dir, fake_model):
    code, out, _ = run(capsys, "", "--index", index_dir, "--json")
    assert code == 2
    assert json.loads(out) == {"question": "", "error": "the question is empty: type a question about the articles"}


@pytest.mark.parametrize("k", ["0", "-3"])
def test_k_below_one_is_rejected(capsys, index_dir, fake_model, k):
    code, out, err = run(capsys, "Are twitches harmless?", "--index", index_dir, "--k", k)
    assert code == 2 and out == ""
    assert err == f"error: --k must be at least 1, got {k}\n"


def test_k_that_is_not_a_number_is_rejected(capsys, index_dir, fake_model):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["Are twitches harmless?", "--index", str(index_dir), "--k", "two"])
    assert exit_info.value.code == 2
    assert "--k: invalid int value: 'two'" in capsys.readouterr().err


def test_missing_index_exits_1_with_a_message(capsys, tmp_path):
    code, out, err = run(capsys, "Are twitches harmless?", "--index", tmp_path / "nowhere")  # the real loader
    assert code == cli.EXIT_ERROR == 1 and out == ""
    assert err.startswith("error: no index at ") and err.endswith("run `python -m ingest` first\n")


def test_index_of_another_model_exits_1_naming_both(capsys, index_dir):
    code, _, err = run(capsys, "Are twitches harmless?", "--index", index_dir)  # real encoder, fake index
    assert code == 1
    assert "built with model fake-bag-of-words" in err and "sentence-transformers/all-MiniLM-L6-v2" in err


def test_missing_index_from_the_shell_has_no_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "retrieval", "Is it bad?", "--index", str(tmp_path / "nowhere")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: no index at ") and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1


# -- human-readable --------------------------------------------------------------------------------------

def test_text_output_quotes_each_extract_with_its_citation(capsys, index_dir, fake_model):
    code, out, _ = run(capsys, "Are twitches harmless?", "--index", index_dir, "--k", "3")
    assert code == 0
    expected = cli.answer("Are twitches harmless?", load_index(index_dir, FakeEncoder()), k=3)
    assert out.startswith("Q: Are twitches harmless?\n")
    unwrapped = " ".join(out.split())  # long quotes are wrapped at 100 columns
    for number, extract in enumerate(expected.extracts, start=1):
        article = extract.article
        section = f" › {article.section}" if article.section else ""
        assert f"{number}. “{' '.join(extract.text.split())}”" in unwrapped
        assert f"   — {article.title}{section} ({article.path}, characters {extract.start}-{extract.end})" in out
    (repeated,) = [e for e in expected.extracts if e.text == HARMLESS]
    other = repeated.also_in[0]
    assert f"   also in: {other.title} ({other.path}, characters {other.start}-{other.end})" in out
    assert f"confidence {expected.confidence:.2f} · index v000001" in out


def test_text_output_shows_both_sides_of_a_disagreement(capsys, index_dir, fake_model):
    _, out, _ = run(capsys, "Is tremor a symptom of neuropathy?", "--index", index_dir)
    assert "Note: the articles disagree on this; both sides are shown." in out
    assert "[says yes] “Tremor is a common symptom of neuropathy.”" in out
    assert "[says no/rarely] “Tremor is rarely a symptom of neuropathy.”" in out


def test_text_output_of_an_abstention_offers_related_passages_only(capsys, monkeypatch, index_dir):
    use_fake_model(monkeypatch, calibration=calibration(threshold=1.0),
                   settings=RetrievalSettings(related_min_similarity=-1.0))
    code, out, _ = run(capsys, "banana bread recipe", "--index", index_dir, "--k", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == ["Q: banana bread recipe", cli.NO_ANSWER, "Closest passages (related, not answers):"]
    assert sum(line.startswith(("1. ", "2. ")) for line in lines) == 2
    _, out, _ = run(capsys, "banana bread recipe", "--index", index_dir, "--json")
    result = json.loads(out)
    assert result["abstained"] is True and result["extracts"] == [] and result["related"]
