"""Evaluation: question-file parsing, the matching rule, metrics on hand-computed cases, scoring of fake
answers, the gate's threshold check and the BEIR sampling helpers. Only the integration test loads the model."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation import beir, gate
from evaluation.__main__ import main
from evaluation.metrics import (abstention_precision_recall, contains_answer, false_abstention_rate,
                                first_correct_rank, hit_at_k, mean_reciprocal_rank, normalise, precision_recall,
                                wilson_interval)
from evaluation.questions import (Question, QuestionFileError, parse_questions, read_disagreement, read_questions,
                                  select_split)
from evaluation.report import cell
from evaluation.run import evaluate, failures, score, summarise
from evaluation.systems import Response, Returned, first_sentence_extracts, full_system
from retrieval import QuestionError
from retrieval.types import Answer, Citation, Extract, Passage

ROOT = Path(__file__).resolve().parent.parent
GOOD = (
    '{"id": "dev-001", "question": "What causes twitching?", "answers": ["too much caffeine", "stress"]}\n'
    "\n"
    '{"id": "test-001", "question": "Is MS hereditary?", "unanswerable": true}\n'
)


# --- question file ---------------------------------------------------------------------------------------------

def test_parses_both_kinds_and_skips_blank_lines():
    questions = parse_questions(GOOD, "q.jsonl")
    assert questions == [
        Question("dev-001", "What causes twitching?", ("too much caffeine", "stress"), False),
        Question("test-001", "Is MS hereditary?", (), True),
    ]
    assert [q.split for q in questions] == ["dev", "test"]
    assert select_split(questions, "test") == questions[1:]


@pytest.mark.parametrize("line, message", [
    ('{"id": "dev-002", "question": "x", "answers": ["a"]', "q.jsonl:4: invalid JSON"),
    ('["dev-002", "x"]', "q.jsonl:4: expected a JSON object, got list"),
    ('{"id": "dev-002", "answers": ["a"]}', "q.jsonl:4: missing key 'question'"),
    ('{"question": "x", "answers": ["a"]}', "q.jsonl:4: missing key 'id'"),
    ('{"id": "dev-002", "question": "x"}', "needs exactly one of 'answers' or 'unanswerable', got neither"),
    ('{"id": "dev-002", "question": "x", "answers": ["a"], "unanswerable": true}', "got both"),
    ('{"id": "dev-002", "question": "x", "unanswerable": false}', "'unanswerable' must be true, got False"),
    ('{"id": "dev-002", "question": "x", "answers": []}', "non-empty list of phrases, got []"),
    ('{"id": "dev-002", "question": "x", "answers": ["a", 3]}', "must be a non-empty string, got 3"),
    ('{"id": "dev-002", "question": "", "answers": ["a"]}', "'question' must be a non-empty string, got ''"),
    ('{"id": "train-1", "question": "x", "answers": ["a"]}', "id 'train-1' must start with one of 'dev-', 'test-', 'holdout-'"),
    ('{"id": "dev-002", "question": "x", "answer": ["a"]}', "unknown key(s) ['answer']"),
])
def test_bad_lines_name_file_line_and_value(line, message):
    with pytest.raises(QuestionFileError) as error:
        parse_questions(GOOD + line + "\n", "q.jsonl")
    assert message in str(error.value)
    assert str(error.value).startswith("q.jsonl:")


def test_duplicate_id_names_both_lines():
    text = GOOD + '{"id": "dev-001", "question": "again?", "unanswerable": true}\n'
    with pytest.raises(QuestionFileError, match=r"q.jsonl:4: duplicate id 'dev-001' \(first used on line 1\)"):
        parse_questions(text, "q.jsonl")


def test_empty_file_is_an_error():
    with pytest.raises(QuestionFileError, match="no questions"):
        parse_questions("\n\n", "q.jsonl")


def test_read_questions_names_the_path(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_text(GOOD + "{oops\n", encoding="utf-8")
    with pytest.raises(QuestionFileError, match=f"{path}:4: invalid JSON"):
        read_questions(path)


def test_disagreement_file_must_name_known_questions(tmp_path):
    path = tmp_path / "disagreement.json"
    path.write_text('{"disagreement": ["dev-001", "dev-999"]}', encoding="utf-8")
    with pytest.raises(QuestionFileError, match=r"\['dev-999'\] are not in the question file"):
        read_disagreement(path, {"dev-001"})
    path.write_text('{"disagreement": ["dev-001"]}', encoding="utf-8")
    assert read_disagreement(path, {"dev-001"}) == frozenset({"dev-001"})


def test_the_shipped_gold_files_parse():
    questions = read_questions(ROOT / "evaluation" / "questions.jsonl")
    read_disagreement(ROOT / "evaluation" / "disagreement.json", {q.id for q in questions})
    assert {q.split for q in questions} == {"dev", "test", "holdout"}


@pytest.mark.parametrize("folder", sorted(p.name for p in (ROOT / "evaluation").glob("fresh-*")))
def test_a_fresh_half_parses_and_is_kept_apart_from_the_gold_set(folder):
    fresh = read_questions(ROOT / "evaluation" / folder / "questions.jsonl")
    read_disagreement(ROOT / "evaluation" / folder / "disagreement.json", {q.id for q in fresh})
    assert fresh and {q.split for q in fresh} == {"holdout"}  # measured as held out: failures never shown
    gold = read_questions(ROOT / "evaluation" / "questions.jsonl")
    assert not {q.id for q in fresh} & {q.id for q in gold}
    assert not {normalise(q.question) for q in fresh} & {normalise(q.question) for q in gold}
    articles = [normalise(p.read_text(encoding="utf-8")) for p in (ROOT / "corpus").glob("*.txt")]
    for question in fresh:  # every answer phrase is the articles' own words
        assert all(any(normalise(a) in text for text in articles) for a in question.answers), question.id


# --- matching rule and metrics -----------------------------------------------------------------------------------

def test_matching_ignores_case_and_whitespace():
    assert normalise("  Too\tmuch \n\n CAFFEINE ") == "too much caffeine"
    assert contains_answer("It is caused by Too  much\ncaffeine, mostly.", ["too much caffeine"])
    assert contains_answer("too much\u00a0caffeine", ["Too Much Caffeine"])
    assert not contains_answer("too much coffee", ["too much caffeine", "stress"])
    assert first_correct_rank(["no", "STRESS here", "stress"], ["stress"]) == 2
    assert first_correct_rank(["no"], ["stress"]) is None


def test_hit_at_k_and_mrr_on_a_hand_computed_case():
    ranks = [1, 3, None, 6]
    assert hit_at_k(ranks, 1) == 0.25
    assert hit_at_k(ranks, 3) == 0.5
    assert hit_at_k(ranks, 5) == 0.5
    assert mean_reciprocal_rank(ranks, 10) == pytest.approx((1 + 1 / 3 + 1 / 6) / 4)  # 0.375
    assert mean_reciprocal_rank(ranks, 5) == pytest.approx((1 + 1 / 3) / 4)
    assert hit_at_k([], 5) is None
    with pytest.raises(ValueError, match="k must be greater than 0, got 0"):
        hit_at_k(ranks, 0)


def test_wilson_interval_of_a_share():
    low, high = wilson_interval(89, 108)  # 0.824: holdout top-1 of 2026-12-03
    assert (round(low, 3), round(high, 3)) == (0.742, 0.884)
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12) and 0.27 < wilson_interval(0, 10)[1] < 0.28
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0) and wilson_interval(0, 0) is None
    with pytest.raises(ValueError, match="between 0 and total \\(3\\), got 4"):
        wilson_interval(4, 3)
    assert cell((0.7421, 0.8843)) == "0.742–0.884"


def test_abstention_precision_recall_and_false_abstention_rate():
    abstained = [True, True, False, False, True]
    unanswerable = [True, False, True, False, True]
    assert abstention_precision_recall(abstained, unanswerable) == (2 / 3, 2 / 3)
    assert false_abstention_rate(abstained, unanswerable) == 0.5
    assert abstention_precision_recall([False, False], [True, False]) == (None, 0.0)
    assert false_abstention_rate([True], [True]) is None
    with pytest.raises(ValueError, match="differ in length"):
        false_abstention_rate([True], [True, False])
    assert precision_recall({"a", "b"}, {"b", "c", "d", "e"}) == (0.5, 0.25)


# --- scoring fake answers ----------------------------------------------------------------------------------------

QUESTIONS = [
    Question("dev-1", "what causes twitching", ("too much caffeine",)),
    Question("dev-2", "is ms inherited", (), True),
    Question("dev-3", "does ms cause twitching", ("rarely",)),
    Question("test-1", "how long do twitches last", ("a few days",)),
]


def _extract(text: str, article: str = "a", passage: str | None = None) -> Extract:
    return Extract(text, 0, len(text), 1.0, Citation(article, article.title(), f"{article}.txt", ""),
                   Passage(1, article, passage or text, 0, len(passage or text), "", 1.0))


def fake_answer(question: str, index, *, k: int) -> Answer:
    """dev-1 hit at rank 2; dev-2 abstains rightly; dev-3 abstains wrongly; test-1 hit only in the passage."""
    if question == "what causes twitching":
        extracts = (_extract("Stress."), _extract("TOO much  caffeine.", "b"), _extract("x"))[:k]
        return Answer(question, extracts, False, 0.9, disagreement=True)
    if question in ("is ms inherited", "does ms cause twitching"):
        return Answer(question, (), True, 0.1, related=(_extract("MS is not inherited.", "c"),))
    if question == "bad":
        raise QuestionError("the question is empty")
    return Answer(question, (_extract("Twitches stop.", "d", "Twitches stop. Most last a few days."),), False, 0.8)


def test_full_system_scores_fake_answers_exactly():
    report = evaluate(QUESTIONS, {"full": full_system(None, fake_answer)}, frozenset({"dev-1", "dev-3"}))
    dev, test = report["splits"]["dev"]["full"], report["splits"]["test"]["full"]
    assert dev["answerable"] == 2 and dev["unanswerable"] == 1
    assert (dev["extract_hit@1"], dev["extract_hit@3"], dev["extract_hit@5"]) == (0.0, 0.5, 0.5)
    assert dev["extract_hit@1_95ci"] == wilson_interval(0, 2)
    assert dev["mrr@10"] == 0.25  # (1/2 + 0) / 2
    assert (dev["abstention_precision"], dev["abstention_recall"], dev["false_abstention_rate"]) == (0.5, 1.0, 0.5)
    assert dev["mean_extract_chars"] == (7 + 19 + 1) / 3
    assert (dev["disagreement_precision"], dev["disagreement_recall"]) == (1.0, 0.5)
    assert (test["extract_hit@5"], test["passage_hit@1"], test["abstention_precision"]) == (0.0, 1.0, None)
    listed = {f["id"]: f for f in report["failures"]["dev"]["full"]}
    assert listed["dev-3"]["reasons"] == ["false abstention", "missed disagreement"]
    assert listed["dev-3"]["top_text"] == "MS is not inherited." and listed["dev-3"]["top_article"] == "c"
    assert set(listed) == {"dev-3"}


def test_a_refused_question_counts_as_an_abstention():
    response = full_system(None, fake_answer)("bad")
    assert response.abstained and response.error == "the question is empty"


def test_baseline_responses_never_abstain_and_skip_disagreement():
    question = QUESTIONS[1]
    outcome = score(question, Response((Returned("MS runs in families.", "p", "a"),),
                                       (Returned("MS runs in families.", "p", "a"),)))
    summary = summarise([outcome], frozenset())
    assert "disagreement_precision" not in summary
    assert failures([outcome], frozenset())[0]["reasons"] == ["answered an unanswerable question"]


class FakeIndex:
    """Chunk 7 has two sentences; chunk 8 has none (its text stands in as the extract)."""

    def chunks(self, ids):
        rows = {7: ("a", "First one. Second one."), 8: ("b", "Just text")}
        return {i: type("Row", (), {"article_id": rows[i][0], "text": rows[i][1]})() for i in ids}

    def sentences_of(self, ids):
        sentence = type("Sentence", (), {"text": "First one."})()
        return {i: [sentence, sentence] if i == 7 else [] for i in ids}


def test_baseline_extract_is_the_first_sentence_of_each_chunk():
    assert first_sentence_extracts(FakeIndex(), [(8, 2.0), (7, 1.0)]) == (
        Returned("Just text", "Just text", "b"), Returned("First one.", "First one. Second one.", "a"))


def test_memo_encoder_encodes_each_text_once(fake_encoder):
    from evaluation.systems import MemoEncoder

    memo = MemoEncoder(fake_encoder)
    first = memo.encode(["a b", "c"])
    again = memo.encode(["c", "a b", "c"])
    assert fake_encoder.encoded == ["a b", "c"]
    assert (again[1] == first[0]).all() and again.shape == (3, fake_encoder.dimension)
    assert memo.dimension == fake_encoder.dimension and memo.encode([]).shape == (0, fake_encoder.dimension)


def test_cli_reports_a_bad_question_file(tmp_path, capsys):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "dev-1", "question": "x"}\n', encoding="utf-8")
    assert main([str(path)]) == 1
    assert f"{path}:1: question 'dev-1' needs exactly one of" in capsys.readouterr().err


# --- gate and BEIR helpers ---------------------------------------------------------------------------------------

def test_gate_names_each_metric_on_the_wrong_side():
    measured = gate.flatten({"gold": {"dev": {"mrr@10": 0.5, "false_abstention_rate": 0.2, "x": None}}})
    assert measured == {"gold/dev/mrr@10": 0.5, "gold/dev/false_abstention_rate": 0.2, "gold/dev/x": None}
    thresholds = {"_comment": "c", "min": {"gold/dev/mrr@10": 0.6, "gold/dev/x": 0.1, "beir/full/ndcg@10": 0.3},
                  "max": {"gold/dev/false_abstention_rate": 0.1}}
    assert gate.violations(measured, gate.without(thresholds, "beir/")) == [
        "gold/dev/mrr@10 = 0.500 is below its threshold 0.6",
        "gold/dev/x was not measured (threshold min 0.1)",
        "gold/dev/false_abstention_rate = 0.200 is above its threshold 0.1",
    ]
    assert gate.violations(measured, {"max": {"gold/dev/mrr@10": 0.9}}) == []


def test_beir_samples_are_deterministic():
    assert beir.sample_ids(["d", "a", "c", "b", "e"], 2) == ["a", "c"]
    assert beir.sample_ids(["b", "a"], None) == ["a", "b"]
    documents = [{"_id": f"{p}-{n}", "file": p} for p in ("p1", "p2", "p3") for n in range(2)]
    subset = beir.subset_documents(documents, 5)
    assert len(subset) == 4 and beir.subset_documents(documents, 5) == subset
    assert len({d["file"] for d in subset}) == 2  # whole pages only
    qrels = {"q1": {"p1-0": 1}, "q2": {"p2-0": 1, "p9-0": 1}, "q3": {}}
    assert beir.eligible_queries(["q3", "q2", "q1"], qrels, {"p1-0", "p2-0"}) == ["q1"]


def test_qrels_are_read_and_bad_rows_named(tmp_path):
    path = tmp_path / "qrels.tsv"
    path.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\n", encoding="utf-8")
    assert beir.read_qrels(path) == {"q1": {"d1": 1, "d2": 0}}
    path.write_text("query-id\tcorpus-id\tscore\nq1\td1\tyes\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"qrels.tsv:2: expected 'query-id<TAB>corpus-id<TAB>integer', got \['q1'"):
        beir.read_qrels(path)

def test_documents_are_scored_by_their_best_chunk_and_ranked_deeper_when_short():
    article_of = {1: "a", 2: "a", 3: "b", 4: "c"}
    assert beir.best_per_document([(2, 0.9), (1, 0.8), (3, 0.5), (4, 0.1)], article_of, 2) == {"a": 0.9, "b": 0.5}
    asked = []

    def ranker(depth):
        asked.append(depth)
        return [(2, 0.9), (1, 0.8), (3, 0.5), (4, 0.1)][:depth]

    assert beir.document_run(ranker, article_of, start_depth=2, n=3) == {"a": 0.9, "b": 0.5, "c": 0.1}
    assert asked == [2, 4]


# --- the real thing ----------------------------------------------------------------------------------------------

@pytest.mark.integration
def test_evaluation_on_the_seed_corpus(tmp_path, capsys):
    from ingest.encoder import ingest_encoder
    from ingest.pipeline import Settings, ingest

    ingest([ROOT / "corpus"], ingest_encoder(tmp_path / "index"), Settings(index_dir=tmp_path / "index"))
    code = main([str(ROOT / "evaluation" / "questions.jsonl"), "--index", str(tmp_path / "index"), "--split", "dev",
                 "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    dev = report["splits"]["dev"]
    assert set(dev) == {"bm25", "dense", "full"} and "test" not in report["splits"]
    assert dev["full"]["extract_hit@5"] >= 0.6  # measured 0.88 on 2025-11-24; loose, retrieval is being tuned
    assert dev["full"]["extract_hit@5"] >= dev["bm25"]["extract_hit@5"]
    assert all(f["top_article"] is None or isinstance(f["top_article"], str) for f in report["failures"]["dev"]["full"])

