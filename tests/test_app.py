"""The page: its HTML builders as plain functions (no Streamlit, no model), then its flows through AppTest.

The flows use the real model on an index built in a temporary directory (``QA_INDEX_DIR``), so they are
marked ``integration``; the model and each index load once per test process (``st.cache_resource``).
"""
from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from retrieval import render
from retrieval.types import AlsoIn, Citation, Extract, Passage

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
CORPUS = ROOT / "corpus"
HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>']
RAW_TAGS = re.compile(r"<\s*(script|img|svg|iframe)\b", re.IGNORECASE)


def make_extract(article: str, start: int, end: int, *, passage: tuple[int, int] | None = None, title: str = "Title",
                 section: str = "Section", url: str | None = None, site: str | None = None,
                 also_in: tuple[AlsoIn, ...] = ()) -> Extract:
    """An extract of ``article[start:end]`` inside the passage ``article[passage]`` (default: the whole text)."""
    lo, hi = passage or (0, len(article))
    citation = Citation("a1", title, "corpus/a1.txt", section, url, site)
    passage = Passage(7, "a1", article[lo:hi], lo, hi, section, 0.5)
    return Extract(article[start:end], start, end, 0.9, citation, passage, also_in)


# -- pure HTML -------------------------------------------------------------------------------------------------
ARTICLE = "Title line\n\nTwitches are common. Most are harmless.\n\nSee a doctor if weak."


def test_marked_places_the_span_by_offsets_in_a_window_that_starts_later():
    start = ARTICLE.index("Most")
    out = render.marked(ARTICLE[12:], 12, start, start + 17, "Most are harmless")
    assert "<mark>Most are harmless</mark>" in out
    assert out.startswith('<span class="qa-ctx">Twitches are common. </span>')


@pytest.mark.parametrize("start, end, expected", [(12, 20, "Twitches are"), (0, 5, "Title"), (60, 90, "x")])
def test_marked_refuses_offsets_that_do_not_hold_the_text(start, end, expected):
    with pytest.raises(render.OffsetMismatch):
        render.marked(ARTICLE[12:], 12, start, end, expected)  # wrong text; before the window; past its end


def test_marked_leaves_blank_lines_and_indents_between_paragraphs_unmarked():
    text = "Causes:\n\n  • caffeine\n  • stress"
    out = render.marked(text, 0, 0, len(text), text, mark_id="qa-cited")
    assert out.count("<mark") == 3 and out.count('id="qa-cited"') == 1
    assert '<mark id="qa-cited">Causes:</mark>\n\n  <mark>• caffeine</mark>\n  <mark>• stress</mark>' in out


@pytest.mark.parametrize("hostile", HOSTILE)
def test_marked_escapes_the_window_and_the_span(hostile):
    text = f"Before {hostile} middle {hostile} after & \"quotes\""
    start = text.index("middle")
    out = render.marked(text, 0, start, start + 6, "middle")
    assert not RAW_TAGS.search(out)
    assert html.escape(hostile) in out and "&amp;" in out


def test_card_shows_the_extract_inside_its_passage_with_its_citation():
    start = ARTICLE.index("Most")
    extract = make_extract(ARTICLE, start, start + 17, passage=(12, 52))
    out = render.card_html(extract, render.context_window(extract))
    assert "Twitches are common. </span><mark>Most are harmless</mark>" in out
    assert "<strong>Title</strong>" in out and "› Section" in out
    assert "<code>corpus/a1.txt</code>, characters 33–50" in out
    assert "<a " not in out  # no url: no link


def test_card_with_wrong_offsets_still_shows_the_verbatim_extract_without_context():
    extract = make_extract(ARTICLE, 12, 20)
    out = render.card_html(extract, (ARTICLE[30:], 30))  # a window that does not hold the span
    assert '<div class="qa-passage"><mark>Twitches</mark></div>' in out


def test_context_window_is_the_passage_or_the_article_around_it():
    inside = make_extract(ARTICLE, 12, 20, passage=(12, 52))
    assert render.context_window(inside) == (ARTICLE[12:52], 12)
    outside = make_extract(ARTICLE, 34, 60, passage=(12, 52))
    with pytest.raises(render.OffsetMismatch):
        render.context_window(outside)
    assert render.context_window(outside, ARTICLE) == (ARTICLE[12:60], 12)


@pytest.mark.parametrize("url, link", [
    (None, None), ("", None), ("javascript:alert(1)", None), (" JavaScript:alert(1)", None), ("data:text/html,x", None),
    ("//evil.example/x", None), ("https://example.org/a?b=1&c=2", "https://example.org/a?b=1&amp;c=2"),
    ("http://example.org", "http://example.org"),
])
def test_citation_links_only_plain_web_addresses(url, link):
    out = render.citation_html(Citation("a1", "T", "corpus/a1.txt", "", url, "Site & Co"), 1, 2)
    if link is None:
        assert "<a " not in out and "javascript" not in out.lower()
    else:
        assert f'href="{link}"' in out and 'rel="noopener noreferrer"' in out
    assert "Site &amp; Co" in out


def test_citation_leaves_out_a_section_that_repeats_the_title():
    out = render.citation_html(Citation("a1", "Same", "p.txt", "Same"), 0, 1)
    assert "›" not in out


def test_also_in_lists_each_source_with_its_own_sentence():
    others = (AlsoIn("b", "Other <i>", 5, 9, "Same <b>claim</b>", "corpus/b.txt", "Causes", "https://b.example"),
              AlsoIn("c", "Third", 1, 3, "Same claim too", "corpus/c.txt", ""))
    out = render.also_in_html(others)
    assert "Also said in 2 other articles:" in out
    assert ('<strong>Other &lt;i&gt;</strong> <span class="qa-section">› Causes</span>: '
            "“Same &lt;b&gt;claim&lt;/b&gt;”") in out
    assert "<code>corpus/c.txt</code>, characters 1–3" in out and 'href="https://b.example"' in out
    assert render.also_in_html(()) == ""


def test_article_view_marks_the_cited_span_with_the_anchor_id():
    start = ARTICLE.index("See")
    citation = Citation("a1", "Title", "corpus/a1.txt", "")
    out = render.article_html(citation, ARTICLE, start, len(ARTICLE), "See a doctor if weak.")
    assert f'<mark id="{render.CITED_ID}">See a doctor if weak.</mark>' in out
    with pytest.raises(render.OffsetMismatch):
        render.article_html(citation, ARTICLE, start, len(ARTICLE), "something else")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_every_builder_escapes_hostile_article_fields(hostile):
    article = f"Intro {hostile}. The claim {hostile} here."
    start = article.index("The claim")
    also = (AlsoIn("b", hostile, 0, 5, hostile, hostile, hostile, "javascript:alert(1)"),)
    extract = make_extract(article, start, len(article), title=hostile, section=hostile, site=hostile,
                           url="javascript:alert(1)", also_in=also)
    row = type("Row", (), {"title": hostile, "site": hostile, "date": hostile, "ingested_at": hostile})()
    pieces = [render.card_html(extract, render.context_window(extract)), render.asked_html(hostile),
              render.asked_html("q", hostile),
              render.article_html(extract.article, article, start, len(article), extract.text),
              render.articles_html([row])]
    for piece in pieces:
        assert not RAW_TAGS.search(piece), piece
        assert html.escape(hostile) in piece
        assert "javascript:" not in piece


def test_dates_and_confidence_words():
    assert render.format_date("2026-11-24T23:22:11+0000") == "24 Nov 2026"
    assert render.format_date("2024-03-05") == "5 Mar 2024"
    assert render.format_date("soon <b>") == "soon &lt;b&gt;"
    assert [render.confidence_label(c) for c in (0.98, 0.7, 0.2)] == ["high", "moderate", "low"]


# -- the page, through AppTest ---------------------------------------------------------------------------------
def build_index(corpus: Path, index_dir: Path) -> Path:
    from ingest.encoder import ingest_encoder
    from ingest.pipeline import Settings, ingest

    ingest([corpus], ingest_encoder(index_dir), Settings(index_dir=index_dir))
    return index_dir


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory) -> Path:
    """The real corpus, indexed once for this module."""
    return build_index(CORPUS, tmp_path_factory.mktemp("app") / "index")


def run_app(monkeypatch, index_dir: Path):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("QA_INDEX_DIR", str(index_dir))
    at = AppTest.from_file(str(APP), default_timeout=180).run()
    assert not at.exception, at.exception
    return at


def ask(at, question: str):
    at.text_input(key="question").input(question)
    next(b for b in at.button if b.label == "Ask").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_text(at) -> str:
    """Everything the page sends as HTML or Markdown (where a raw tag could do harm), but for the page's own
    constant script, which is checked to hold no article text."""
    scripts = {h.proto.body for h in at.html if h.proto.unsafe_allow_javascript}
    assert len(scripts) <= 1 and not any("alert" in s or "twitch" in s.lower() for s in scripts)
    parts = [h.proto.body for h in at.html if not h.proto.unsafe_allow_javascript]
    parts += [m.value for m in at.markdown] + [c.value for c in at.caption]
    return "\n".join(parts + [w.value for w in at.warning] + [i.value for i in at.info])


def cards(node) -> list[str]:
    return [h.proto.body for h in node.html if "qa-card-body" in h.proto.body]


def marked_text(card: str) -> str:
    """The highlighted span of a card as the reader sees it: its marked lines and what lies between them."""
    passage = re.search(r'<div class="qa-passage">(.*?)</div>', card, re.DOTALL).group(1)
    span = re.sub(r'^<span class="qa-ctx">.*?</span>|<span class="qa-ctx">.*?</span>$', "", passage, flags=re.DOTALL)
    return html.unescape(re.sub(r"</?mark[^>]*>", "", span))


def cited_sources(card: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"Source: <strong>(.*?)</strong>", card)]


@pytest.mark.integration
def test_a_question_shows_highlighted_extracts_with_their_citations(monkeypatch, corpus_index):
    at = ask(run_app(monkeypatch, corpus_index), "What can trigger muscle twitches?")
    shown = cards(at)
    assert 1 <= len(shown) <= 5
    for card in shown:
        path, start, end = re.search(r"<code>(.*?)</code>, characters (\d+)–(\d+)", card).groups()
        article = (ROOT / html.unescape(path)).read_text(encoding="utf-8")
        assert marked_text(card) == article[int(start):int(end)]  # the highlight is the file's text at the offsets
        assert cited_sources(card)[0] in page_text(at)  # the title is also listed in the sidebar
    assert "Match confidence:" in page_text(at)


@pytest.mark.integration
def test_two_extracts_of_one_passage_show_the_passage_once(monkeypatch, corpus_index):
    # the drug list first, then two sentences of one paragraph on treatments, each its own extract
    at = ask(run_app(monkeypatch, corpus_index), "What medicines do they give for the stiffness and the jerking in MS?")
    shown = cards(at)
    cited = [re.search(r"<code>(.*?)</code>, characters (\d+)–(\d+)", card).groups() for card in shown]
    same_file = [card for card, (path, _, _) in zip(shown, cited) if path == "corpus/multiple-sclerosis-twitching.txt"]
    assert len(same_file) >= 2  # the case this test is about
    paragraph = "These non-invasive techniques may be able to train muscles"  # between the two extracts
    assert sum(paragraph in html.unescape(card) for card in shown) == 1
    for card, (path, start, end) in zip(shown, cited):
        article = (ROOT / html.unescape(path)).read_text(encoding="utf-8")
        assert marked_text(card) == article[int(start):int(end)]  # each card still highlights its own extract


@pytest.mark.integration
def test_an_example_question_fills_the_box_and_answers(monkeypatch, corpus_index):
    at = run_app(monkeypatch, corpus_index)
    at.button(key="example-3").click().run()
    assert at.text_input(key="question").value == "When should I see a doctor about twitching?"
    assert cards(at)


@pytest.mark.integration
def test_the_question_asked_is_kept_in_the_address_and_a_link_with_it_opens_on_its_answer(monkeypatch, corpus_index):
    at = ask(run_app(monkeypatch, corpus_index), "What can trigger muscle twitches?")
    assert at.query_params == {"q": "What can trigger muscle twitches?"}
    first = cards(at)[0]
    at.button(key="example-0").click().run()  # an example replaces it
    assert at.query_params == {"q": "Is muscle twitching a sign of MS?"}
    at.query_params["q"] = "What can trigger muscle twitches?"  # the browser's Back button
    at.run()
    assert at.text_input(key="question").value == "What can trigger muscle twitches?"
    assert cards(at)[0] == first
    at.slider(key="k").set_value(3).run()  # the address stays the question's: reruns do not ask it again
    assert at.query_params == {"q": "What can trigger muscle twitches?"} and len(cards(at)) <= 3

    from streamlit.testing.v1 import AppTest

    linked = AppTest.from_file(str(APP), default_timeout=180)
    linked.query_params["q"] = "What can trigger muscle twitches?"
    linked.run()
    assert not linked.exception, linked.exception
    assert linked.text_input(key="question").value == "What can trigger muscle twitches?"
    assert cards(linked)[0] == first  # the same answer as when it was typed
    assert ask(linked, "   ").query_params == {}  # asking nothing clears it


@pytest.mark.integration
def test_an_off_topic_question_says_plainly_that_the_articles_do_not_answer(monkeypatch, corpus_index):
    at = ask(run_app(monkeypatch, corpus_index), "What is the capital of France?")
    assert "These articles don't answer that question." in page_text(at)
    assert cards(at) == []


@pytest.mark.integration
def test_an_abstention_offers_close_passages_labelled_as_related_only(monkeypatch, corpus_index):
    at = ask(run_app(monkeypatch, corpus_index), "Is fasciculation dangerous in pregnancy?")
    assert "These articles don't answer that question." in page_text(at)
    shown = cards(at)
    assert shown and all("Related, not an answer" in card for card in shown)


@pytest.mark.integration
def test_a_disagreement_is_shown_side_by_side(monkeypatch, corpus_index):
    at = ask(run_app(monkeypatch, corpus_index), "Is twitching a common symptom of MS?")
    assert "The articles disagree on this." in page_text(at)
    yes, no = at.columns[-2], at.columns[-1]  # the sidebar and the form come first
    assert "Passages that say yes" in "".join(h.proto.body for h in yes.html)
    assert "Passages that say no, or rarely" in "".join(h.proto.body for h in no.html)
    assert cards(yes) and cards(no)
    assert all(cited_sources(card) for card in cards(yes) + cards(no))


@pytest.mark.integration
def test_the_article_filter_limits_the_sources(monkeypatch, corpus_index):
    at = run_app(monkeypatch, corpus_index)
    at.multiselect(key="articles").select("muscle-twitches-and-ms").run()
    at = ask(at, "What can trigger muscle twitches?")
    shown = cards(at)
    assert shown and all(cited_sources(c)[0] == "Muscle Twitches and Multiple Sclerosis" for c in shown)


@pytest.mark.integration
def test_the_number_of_results_is_respected(monkeypatch, corpus_index):
    at = run_app(monkeypatch, corpus_index)
    at.slider(key="k").set_value(2).run()
    assert len(cards(ask(at, "What can trigger muscle twitches?"))) == 2
    at.slider(key="k").set_value(1).run()
    assert len(cards(at)) == 1


@pytest.mark.integration
@pytest.mark.parametrize("question", ["", "   ", ("twitch " * 300)[:2000], "Is twitching\x07 serious?",
                                      "Is MS\x00 curable?", "¿Es grave el temblor muscular?"])
def test_a_question_that_cannot_be_asked_gets_a_friendly_message(monkeypatch, corpus_index, question):
    at = ask(run_app(monkeypatch, corpus_index), question)
    assert len(at.warning) == 1 and at.warning[0].value[0].isupper()
    assert cards(at) == []


@pytest.mark.integration
def test_a_question_with_html_is_shown_as_text(monkeypatch, corpus_index):
    at = ask(run_app(monkeypatch, corpus_index), "<script>alert(1)</script> <img src=x onerror=alert(1)> twitching?")
    text = page_text(at)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt; twitching?"
    assert f"You asked: “{escaped}”" in text
    assert not RAW_TAGS.search(text)


@pytest.mark.integration
def test_a_respelt_question_shows_how_it_was_searched(monkeypatch, corpus_index):
    text = page_text(ask(run_app(monkeypatch, corpus_index), "what causes clone us"))
    assert "You asked: “what causes clone us” · searched as “what causes clonus”" in text


@pytest.mark.integration
def test_the_whole_article_opens_with_the_cited_span_marked(monkeypatch, corpus_index):
    at = ask(run_app(monkeypatch, corpus_index), "What are the early signs of ALS?")
    first = marked_text(cards(at)[0])
    at.button(key="answer-0-read").click().run()
    assert not at.exception
    view = next(h.proto.body for h in at.html if '<div class="qa-article">' in h.proto.body)
    cited = re.search(rf'<mark id="{render.CITED_ID}">(.*?)</mark>', view).group(1)
    assert first.startswith(html.unescape(cited))
    assert any(h.proto.unsafe_allow_javascript for h in at.html)  # the script that scrolls to the span


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory) -> Path:
    """One article whose text, title, site and url try to inject markup."""
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "hostile.txt").write_text(
        "Twitching <script>alert(1)</script> guide\n\n"
        "Muscle twitching after exercise is usually harmless <script>alert(1)</script> and fades within days.\n\n"
        "Eyelid twitching can follow poor sleep <img src=x onerror=alert(1)> and too much coffee.\n", encoding="utf-8")
    (corpus / "metadata.toml").write_text(
        '["hostile.txt"]\ntitle = "Twitching <img src=x onerror=alert(1)> & more"\nsite = "<b>Evil</b> site"\n'
        'url = "https://example.org/\\"><script>alert(1)</script>"\n', encoding="utf-8")  # ingest refuses javascript:
    return build_index(corpus, root / "index")


@pytest.mark.integration
def test_markup_in_articles_is_shown_as_text(monkeypatch, hostile_index):
    at = ask(run_app(monkeypatch, hostile_index), "Is muscle twitching after exercise harmless?")
    assert cards(at)
    at.button(key="answer-0-read").click().run()
    text = page_text(at)
    for escaped in ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;",
                    "&lt;b&gt;Evil&lt;/b&gt; site", "Twitching &lt;img src=x onerror=alert(1)&gt; &amp; more"):
        assert escaped in text
    assert not RAW_TAGS.search(text) and "<b>" not in text and "javascript:" not in text
    assert '"><script>' not in text  # the url, quotes and all, stays inside its attribute
    assert '<div class="qa-article">' in text  # the whole-article view was checked too


@pytest.mark.integration
def test_a_newly_published_version_is_picked_up_on_the_next_run(monkeypatch, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "muscle-twitches-and-ms.txt", corpus)
    index_dir = build_index(corpus, tmp_path / "index")
    at = ask(run_app(monkeypatch, index_dir), "What are the early signs of ALS?")
    assert "Index version v000001" in page_text(at) and "Articles (1)" in [s.value for s in at.subheader]
    shutil.copy(CORPUS / "twitches-symptom-of-ms-or-als.txt", corpus)
    build_index(corpus, index_dir)
    at.run()
    assert not at.exception
    assert "Index version v000002" in page_text(at) and "Articles (2)" in [s.value for s in at.subheader]
    assert "index v000002" in page_text(at)  # the answer on screen came from the new version
    assert any(cited_sources(c)[0] == "Are Muscle Twitches a Symptom of MS or ALS? (2024)" for c in cards(at))


@pytest.mark.parametrize("current", [None, "not-a-version"])
def test_without_an_index_the_editor_is_told_to_run_ingest(monkeypatch, tmp_path, current):
    if current:
        (tmp_path / "CURRENT").write_text(current, encoding="utf-8")
    at = run_app(monkeypatch, tmp_path)
    assert len(at.warning) == 1 and "python -m ingest" in at.warning[0].value
    assert len(at.text_input) == 0  # nothing to ask yet


@pytest.mark.integration
def test_an_index_built_by_another_model_asks_for_a_rebuild(monkeypatch, tmp_path, corpus, fake_encoder):
    from ingest.pipeline import Settings, ingest

    ingest([corpus], fake_encoder, Settings(index_dir=tmp_path / "index", target_tokens=32))
    at = run_app(monkeypatch, tmp_path / "index")
    assert len(at.warning) == 1 and "rebuild it with `python -m ingest`" in at.warning[0].value
