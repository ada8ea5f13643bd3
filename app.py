"""The page: ask the health articles a question; every answer is a verbatim, highlighted, cited extract.

Run with ``streamlit run app.py``. The index directory is ``$QA_INDEX_DIR`` (default: ``index/`` here). The
question asked is kept in the address (``?q=...``), so a link to the page opens on that question's answer.
"""
from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

import streamlit as st

from ingest.store import IndexStore, IndexUnavailable
from retrieval import Index, IndexMismatch, QuestionError, answer, load_index, render
from retrieval.types import Answer, Extract

ROOT = Path(__file__).resolve().parent
INDEX_ENV = "QA_INDEX_DIR"
EXAMPLES = (
    "Is muscle twitching a sign of MS?",
    "What can trigger muscle twitches?",
    "What are the early signs of ALS?",
    "When should I see a doctor about twitching?",
)
NO_ANSWER = "These articles don't answer that question."
# Our own constant script, no article text in it: bring the highlighted span of the article view into view.
# (No "<" in it: the sanitizer drops a script whose text looks like markup, such as "<40".)
SCROLL_TO_CITED = (
    "<script>(function(){var tries=0;function go(){var m=document.getElementById('%s');"
    "if(m){m.scrollIntoView({block:'center'});}else if(40>tries++){setTimeout(go,50);}}go();})();</script>"
    % render.CITED_ID
)
SIDES = (("affirms", "Passages that say yes"), ("denies", "Passages that say no, or rarely"))
QUESTION_PARAM = "q"  # the address's query parameter holding the question asked


# -- loading --------------------------------------------------------------------------------------------------
def index_dir() -> Path:
    return Path(os.environ.get(INDEX_ENV) or ROOT / "index")


@st.cache_resource(show_spinner=False)
def _encoder(root: str):
    from ingest.encoder import query_encoder

    encoder = query_encoder(Path(root))
    encoder.warm_up()  # here, not during someone's first question
    return encoder


@st.cache_resource(show_spinner=False, max_entries=2)
def _index(root: str, version: str) -> Index:
    """One index version; a newly published version has a new key, so it is loaded on the next run."""
    return load_index(Path(root), _encoder(root))


def live_index(root: Path) -> Index:
    """The live version of the index at ``root``, loaded once per process and version.

    Raises:
        IndexUnavailable: nothing published there yet, or an index this code cannot read.
    """
    version = IndexStore(root).live_name()
    if version is None:
        raise IndexUnavailable(f"no index at {root}")
    return _index(str(root.resolve()), version)


def answer_once(index: Index, question: str, k: int, article_ids: set[str] | None) -> tuple[Answer, float]:
    """The answer and the seconds ``answer()`` took (0 when this session already has it, e.g. on a rerun)."""
    key = (str(index.root), index.version, question, k, tuple(sorted(article_ids or ())))
    memo = st.session_state.get("answer_memo")
    if memo is not None and memo[0] == key:
        return memo[1], 0.0
    started = time.perf_counter()
    result = answer(question, index, k=k, article_ids=article_ids)
    seconds = time.perf_counter() - started
    st.session_state.answer_memo = (key, result)
    return result, seconds


# -- callbacks ------------------------------------------------------------------------------------------------
def _set_asked(question: str) -> None:
    """Ask ``question`` on this run, and keep it in the address so that the page's link shows its answer."""
    st.session_state.asked = question
    st.session_state.linked = question if question.strip() else None
    if st.session_state.linked:
        st.query_params[QUESTION_PARAM] = question
    else:
        st.query_params.pop(QUESTION_PARAM, None)


def _ask_example(question: str) -> None:
    st.session_state.question = question
    _set_asked(question)


def _ask_typed() -> None:
    _set_asked(st.session_state.get("question", ""))


def _ask_from_address() -> None:
    """A page opened from a link with ``?q=...`` asks that question, and so does the browser's Back button when it
    returns to an earlier question's address: the address wins when it holds another question than the page last
    put there (called before the question box is drawn, as it fills the box)."""
    linked = st.query_params.get(QUESTION_PARAM)
    if linked and linked != st.session_state.get("linked"):
        st.session_state.question = linked
        st.session_state.asked = linked
        st.session_state.linked = linked


# -- pieces of the page ---------------------------------------------------------------------------------------
def _show_article(index: Index, extract: Extract) -> None:
    try:
        text = index.article_text(extract.article.id)
        st.html(render.article_html(extract.article, text, extract.start, extract.end, extract.text))
    except (KeyError, render.OffsetMismatch) as exc:
        print(f"article view: {exc}", file=sys.stderr)
        st.warning("This article cannot be shown right now; the quoted passage above is exact.")
        return
    st.html(SCROLL_TO_CITED, unsafe_allow_javascript=True)


def _window(index: Index, extract: Extract) -> tuple[str, int]:
    try:
        return render.context_window(extract)
    except render.OffsetMismatch:
        return render.context_window(extract, index.article_text(extract.article.id))


def show_card(index: Index, extract: Extract, key: str, shown: set[tuple[str, int, int]], *, label: str = "") -> None:
    """An extract in a bordered card, with a button that opens the whole article at the cited span. It is shown
    inside its passage, or on its own when an earlier card of the answer already showed that passage (``shown``,
    the passages shown so far, which it adds to): two claims of one paragraph, not the paragraph twice."""
    passage = (extract.article.id, extract.passage.start, extract.passage.end)
    window = (extract.text, extract.start) if passage in shown else _window(index, extract)
    shown.add(passage)
    with st.container(border=True, key=key):
        st.html(render.card_html(extract, window, label=label))
        if st.button("Read the whole article", key=f"{key}-read", type="tertiary", icon=":material/article:"):
            st.dialog("The whole article", width="medium")(_show_article)(index, extract)


def show_disagreement(index: Index, result: Answer) -> None:
    st.html(render.disagreement_html())
    shown: set[tuple[str, int, int]] = set()
    for column, (stance, heading) in zip(st.columns(2, gap="medium"), SIDES):
        with column:
            st.html(f'<div class="qa-side">{heading}</div>')
            sided = [e for e in result.extracts if e.stance == stance]
            for number, extract in enumerate(sided):
                show_card(index, extract, f"{stance}-{number}", shown)
            if not sided:
                st.caption("None among the passages shown; try showing more passages.")
    others = [e for e in result.extracts if not e.stance]
    if others:
        st.html('<div class="qa-side">Other passages on this question</div>')
        for number, extract in enumerate(others):
            show_card(index, extract, f"answer-{number}", shown)


def show_answer(index: Index, result: Answer) -> None:
    st.html(render.asked_html(result.question, result.read_as))
    if result.abstained:
        st.html(f'<div class="qa-plain">{NO_ANSWER}</div>')
        st.markdown("You could ask it in other words, or about something the articles cover (listed in the sidebar).")
        if result.related:
            st.caption("These passages are close to your question but do not answer it:")
            shown: set[tuple[str, int, int]] = set()
            for number, extract in enumerate(result.related):
                show_card(index, extract, f"related-{number}", shown, label="Related, not an answer")
    else:
        st.subheader("What the articles say")
        if result.disagreement:
            show_disagreement(index, result)
        else:
            shown = set()
            for number, extract in enumerate(result.extracts):
                show_card(index, extract, f"answer-{number}", shown)
    st.caption(f"Match confidence: {render.confidence_label(result.confidence)} ({result.confidence:.2f})"
               f" · index {result.version}")


def show_sidebar(index: Index) -> tuple[set[str] | None, int]:
    """Filter and result count from the sidebar; also lists the indexed articles."""
    with st.sidebar:
        st.header("Search settings")
        ids = sorted(index.articles, key=lambda i: index.articles[i].title.lower())
        chosen = st.multiselect("Search only these articles", ids, key="articles", placeholder="All articles",
                                format_func=lambda i: index.articles[i].title if i in index.articles else i)
        k = st.slider("Passages to show", 1, 10, 5, key="k")
        st.divider()
        st.subheader(f"Articles ({len(index.articles)})")
        st.html(render.articles_html(index.articles.values()))
        st.caption(f"Index version {index.version}")
    chosen_ids = {i for i in chosen if i in index.articles}
    return chosen_ids or None, k


def show_question_box() -> None:
    with st.form("ask", border=False, enter_to_submit=True):
        box, button = st.columns([6, 1], vertical_alignment="bottom")
        box.text_input("Your question", key="question", placeholder="Type a question, e.g. Can stress cause twitching?")
        button.form_submit_button("Ask", type="primary", on_click=_ask_typed, width="stretch")
    st.caption("Or try one of these:")
    with st.container(horizontal=True, gap="small"):
        for number, example in enumerate(EXAMPLES):
            st.button(example, key=f"example-{number}", on_click=_ask_example, args=(example,))


def show_results(index: Index, question: str, k: int, article_ids: set[str] | None) -> float:
    """The answer area for ``question``; returns the seconds spent in ``answer()``."""
    try:
        with st.spinner("Searching the articles…"):
            result, seconds = answer_once(index, question, k, article_ids)
    except QuestionError as exc:
        message = str(exc)
        st.warning(message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."))
        return 0.0
    except Exception:  # a worried reader gets a calm sentence; the editor gets the traceback in the log
        traceback.print_exc()
        st.error("Something went wrong while searching the articles. Please try again in a moment.")
        return 0.0
    show_answer(index, result)
    return seconds


def _not_indexed(root: Path, reason: str) -> None:
    st.warning(f"The articles have not been indexed yet, so there is nothing to search. Editors: run "
               f"`python -m ingest` in the project folder to build the index in `{root}`, then reload this page.")
    st.caption(reason)


def main() -> None:
    started = time.perf_counter()
    st.set_page_config(page_title="What do the articles say?", layout="centered")  # no icon: it would load from a CDN
    st.html(render.STYLE)
    st.title("What do the articles say?")
    st.html(render.notice_html())
    root = index_dir()
    try:
        if IndexStore(root).live_name() is None:
            raise IndexUnavailable(f"no index at {root}")
    except IndexUnavailable as exc:
        _not_indexed(root, str(exc))
        return
    _ask_from_address()
    show_question_box()  # before the model loads (seconds on a cold start), so a visitor can start typing
    try:
        with st.spinner("Loading the articles…"):
            index = live_index(root)
    except IndexMismatch as exc:
        st.warning("The index was built by another version of this tool, so it cannot be searched. Editors: rebuild "
                   f"it with `python -m ingest` in the project folder (index: `{root}`), then reload this page.")
        st.caption(str(exc))
        return
    except IndexUnavailable as exc:
        _not_indexed(root, str(exc))
        return
    article_ids, k = show_sidebar(index)
    asked = st.session_state.get("asked")
    if asked is None:
        return
    seconds = show_results(index, asked, k, article_ids)
    total = time.perf_counter() - started
    # One line per run that shows an answer: what the page adds is the run minus answer() (0 when memoised).
    print(f"PAGE_TIMING run={total * 1000:.0f}ms answer={seconds * 1000:.0f}ms "
          f"overhead={(total - seconds) * 1000:.0f}ms", file=sys.stderr, flush=True)


main()
