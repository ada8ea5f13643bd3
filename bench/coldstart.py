"""Process start to first answer: the CLI (``python -m retrieval "..."``) and the page (``streamlit run app.py``
in a headless Chromium, until the first highlighted extract ``<mark>`` shows)."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.measure import python_command, run_measured
from ingest.load import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
QUESTION = "What can trigger muscle twitches?"
TIMEOUT_S = 120


def cli_cold_start(index: Path, question: str = QUESTION) -> dict:
    """Wall seconds and peak memory of one ``python -m retrieval`` answering ``question``."""
    run = run_measured(python_command("-m", "retrieval", question, "--index", str(index)))
    if run.returncode != 0:
        raise RuntimeError(f"python -m retrieval failed with code {run.returncode}")
    return {"seconds": run.seconds, "max_rss_mb": run.max_rss_mb}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url: str, process: subprocess.Popen, deadline: float) -> None:
    """Return once the Streamlit server at ``url`` is healthy; RuntimeError if it exits, TimeoutError at
    ``deadline`` (``time.monotonic()``)."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"streamlit did not answer at {url} in time")


def page_cold_start(browser, index: Path, log: Path, question: str = QUESTION) -> dict:
    """Seconds from ``streamlit run`` to: server healthy, question box shown, first ``<mark>`` of the answer.

    ``browser`` is an already launched Chromium (its own start is not the page's cold start).
    """
    import os

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = python_command("-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false")
    with open(log, "w") as output:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "QA_INDEX_DIR": str(index)},
                                   stdout=output, stderr=subprocess.STDOUT)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        deadline = started + TIMEOUT_S
        wait_for_health(url, process, deadline)
        healthy = time.monotonic() - started
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        box = page.get_by_label("Your question")
        box.wait_for(timeout=TIMEOUT_S * 1000)
        shown = time.monotonic() - started
        box.fill(question)
        page.get_by_role("button", name="Ask", exact=True).click()
        page.locator(".qa-card-body mark").first.wait_for(timeout=TIMEOUT_S * 1000)
        answered = time.monotonic() - started
    finally:
        context.close()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return {"seconds": answered, "healthy_seconds": healthy, "box_seconds": shown}


def measure_cold_start(index: Path, scratch: Path, *, repeat: int, page: bool = True) -> dict:
    """``repeat`` CLI cold starts and (with ``page``) ``repeat`` page cold starts on ``index``."""
    result: dict = {"cli": [cli_cold_start(index) for _ in range(repeat)]}
    if page:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                result["page"] = [page_cold_start(browser, index, scratch / f"streamlit-{n}.log")
                                  for n in range(repeat)]
            finally:
                browser.close()
    return result


if __name__ == "__main__":  # python -m bench.coldstart INDEX: one CLI and one page cold start
    print(measure_cold_start(Path(sys.argv[1]), Path("/tmp"), repeat=1))
