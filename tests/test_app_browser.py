"""The page in a real browser: ``streamlit run app.py`` on a free local port, driven by headless Chromium.

Needs Debian's chromium at /usr/bin/chromium (``apt-get install -y chromium``); without it the tests fail,
they never skip. Screenshots go to tests/artifacts/ (git-ignored), with the measured timings.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from bench.coldstart import CHROMIUM_ARGS, free_port, wait_for_health

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
TITLES = ("Is Muscle Twitching a Sign of Multiple Sclerosis?", "Muscle Twitches and Multiple Sclerosis",
          "Are Muscle Twitches a Symptom of MS or ALS? (2024)", "Multiple sclerosis twitching",
          "Muscle contractions: multiple sclerosis and other possible causes")
WAIT_MS = 90_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a free port, over an index of the real corpus built in a temporary directory."""
    from ingest.encoder import ingest_encoder
    from ingest.pipeline import Settings, ingest

    root = tmp_path_factory.mktemp("browser")
    ingest([ROOT / "corpus"], ingest_encoder(root / "index"), Settings(index_dir=root / "index"))
    port, log = free_port(), root / "streamlit.log"
    env = {**os.environ, "QA_INDEX_DIR": str(root / "index")}
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    with open(log, "w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_health(url, process, time.monotonic() + 90)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(f"{exc}:\n{log.read_text()}")
        yield url, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.alerts = []  # any alert() would mean injected script ran
    page.on("dialog", lambda dialog: (page.alerts.append(dialog.message), dialog.dismiss()))
    page.goto(server[0], wait_until="domcontentloaded")
    page.get_by_label("Your question").wait_for(timeout=WAIT_MS)  # the model and index are loaded
    yield page
    context.close()


def ask(page, question: str) -> float:
    """Type and submit ``question``; the seconds until the answer area has finished rendering."""
    page.get_by_label("Your question").fill(question)
    started = time.perf_counter()
    page.get_by_role("button", name="Ask", exact=True).click()
    page.locator(".qa-asked").filter(has_text=question[:20]).wait_for(timeout=WAIT_MS)
    page.locator("[data-testid='stSpinner']").wait_for(state="detached", timeout=WAIT_MS)
    page.get_by_text("Match confidence:").wait_for(timeout=WAIT_MS)
    return time.perf_counter() - started


def screenshot(page, name: str, *, height: int | None = None) -> None:
    """The viewport as a visitor sees it; with ``height``, a taller window to show the whole answer."""
    if height:
        page.set_viewport_size({"width": 1280, "height": height})
        page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    if height:
        page.set_viewport_size({"width": 1280, "height": 900})


def last_timing(log: Path) -> str:
    lines = [line for line in log.read_text().splitlines() if line.startswith("PAGE_TIMING")]
    return lines[-1] if lines else ""


def test_a_typed_question_shows_a_highlighted_extract_and_its_source(page, server):
    seconds = ask(page, "What can trigger muscle twitches?")
    first = page.locator(".qa-card-body").first
    mark = first.locator("mark").first
    assert mark.is_visible() and mark.inner_text().strip()
    source = first.locator(".qa-cite strong").first
    assert source.is_visible() and source.inner_text() in TITLES
    assert re.search(r"characters \d+–\d+", first.locator(".qa-cite-meta").first.inner_text())
    screenshot(page, "answer")
    screenshot(page, "answer-full", height=2600)
    timing = last_timing(server[1])
    (ARTIFACTS / "page_timing.txt").write_text(f"browser click to answer rendered: {seconds * 1000:.0f}ms\n{timing}\n")
    assert timing and not page.alerts


def test_the_whole_article_opens_scrolled_to_the_cited_span(page):
    ask(page, "Is muscle twitching a sign of MS?")
    page.get_by_role("button", name="Read the whole article").first.click()
    cited = page.locator("#qa-cited")
    cited.wait_for(timeout=WAIT_MS)
    page.wait_for_function("""() => {
        const mark = document.getElementById('qa-cited'), box = mark && mark.closest('.qa-article');
        if (!box) return false;
        const m = mark.getBoundingClientRect(), b = box.getBoundingClientRect();
        return m.top >= b.top && m.bottom <= b.bottom;
    }""", timeout=10_000)
    assert cited.is_visible()
    screenshot(page, "article")


def test_a_disagreement_shows_both_sides(page):
    ask(page, "Is twitching a common symptom of MS?")
    assert page.get_by_text("The articles disagree on this.").is_visible()
    for side in ("Passages that say yes", "Passages that say no, or rarely"):
        column = page.locator("[data-testid='stColumn']").filter(has_text=side)
        assert column.locator(".qa-card-body mark").first.is_visible()
        assert column.locator(".qa-cite strong").first.inner_text() in TITLES
    screenshot(page, "disagreement", height=2600)


def test_an_example_question_fills_the_box_and_answers(page):
    page.get_by_role("button", name="What are the early signs of ALS?").click()
    page.get_by_text("Match confidence:").wait_for(timeout=WAIT_MS)
    assert page.get_by_label("Your question").input_value() == "What are the early signs of ALS?"
    assert page.locator(".qa-card-body mark").first.is_visible()


def test_a_link_holding_a_question_opens_on_its_answer_and_back_returns_to_it(page, server):
    from playwright.sync_api import expect

    page.goto(f"{server[0]}/?q={quote('Can stress cause twitching?')}", wait_until="domcontentloaded")
    page.locator(".qa-asked").filter(has_text="Can stress cause twitching?").wait_for(timeout=WAIT_MS)
    page.get_by_text("Match confidence:").wait_for(timeout=WAIT_MS)
    # the box is filled a moment after the answer is drawn: wait for it rather than read it at once
    expect(page.get_by_label("Your question")).to_have_value("Can stress cause twitching?", timeout=10_000)
    ask(page, "Is ALS contagious?")
    page.wait_for_function("() => location.search.includes('contagious')", timeout=10_000)
    page.go_back()
    page.locator(".qa-asked").filter(has_text="Can stress cause twitching?").wait_for(timeout=WAIT_MS)
    expect(page.get_by_label("Your question")).to_have_value("Can stress cause twitching?", timeout=10_000)


def test_an_unanswerable_question_says_so_plainly(page):
    ask(page, "What is the capital of France?")
    assert page.get_by_text("These articles don't answer that question.").is_visible()
    assert page.locator(".qa-card-body").count() == 0
    screenshot(page, "no-answer")


def test_a_question_with_markup_is_shown_as_text_and_never_runs(page):
    question = "<img src=x onerror=alert(1)> <script>alert(2)</script> twitching?"
    ask(page, question)
    assert page.locator(".qa-asked").inner_text() == f"You asked: “{question}”"
    assert page.locator(".qa-asked img, .qa-asked script").count() == 0
    assert not page.alerts
    screenshot(page, "markup-question")


def test_an_empty_question_gets_a_friendly_message(page):
    page.get_by_role("button", name="Ask", exact=True).click()
    warning = page.locator("[data-testid='stAlert']").filter(has_text="The question is empty")
    warning.wait_for(timeout=WAIT_MS)
    screenshot(page, "empty-question")
