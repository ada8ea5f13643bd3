"""Re-ingest on a copy of a built index: once with nothing changed, once after one article gains a sentence.

Both run ``python -m ingest`` as a child process (what an editor runs). The edit's yardstick is that article's
own encode time: all the texts ingest would embed for it, encoded by the bare model, cold (a fresh process:
imports and weights included) and warm.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.corpora import Corpus
from bench.ingest_run import ingest_command
from bench.measure import python_command, run_measured
from ingest.encoder import ONNX_DIR
from ingest.store import IndexStore

ADDED = "This sentence was added by the benchmark to measure re-ingesting an edited article."
_COLD_ENCODE = (
    "import json, sys, time\n"
    "texts = json.load(sys.stdin)\n"
    "started = time.perf_counter()\n"
    "from ingest.encoder import SentenceTransformerEncoder\n"
    "SentenceTransformerEncoder().encode(texts)\n"
    "print(time.perf_counter() - started)\n"
)


def with_sentence(text: str) -> str:
    """``text`` with ``ADDED`` inserted after the first sentence that ends past its middle (else at the end)."""
    cut = text.find(". ", len(text) // 2)
    if cut < 0:
        return text.rstrip() + " " + ADDED + text[len(text.rstrip()):]
    return text[: cut + 1] + " " + ADDED + text[cut + 1:]


@contextmanager
def edited_article(corpus: Corpus) -> Iterator[tuple[str, str]]:
    """Add one sentence to one article of the corpus copy, and put it back afterwards.

    Yields (article id, edited text): the middle line of a JSONL file, the first article file of a folder.
    """
    if corpus.source.is_dir():
        path = sorted(p for p in corpus.source.iterdir() if p.suffix in (".txt", ".md"))[0]
        original = path.read_bytes()
        text = with_sentence(original.decode("utf-8"))
        article_id, data = path.stem, text.encode("utf-8")
    else:
        path = corpus.source
        original = path.read_bytes()
        lines = original.decode("utf-8").split("\n")
        middle = len([line for line in lines if line.strip()]) // 2
        record = json.loads(lines[middle])
        text = with_sentence(record["text"])
        article_id = record["_id"]
        lines[middle] = json.dumps({**record, "text": text}, ensure_ascii=False)
        data = "\n".join(lines).encode("utf-8")
    try:
        path.write_bytes(data)
        yield article_id, text
    finally:
        path.write_bytes(original)


def copy_live_index(index: Path, destination: Path) -> Path:
    """A copy of the live version (with its CURRENT and ONNX model), so re-ingesting it leaves the cached
    index as it is."""
    live = IndexStore(index).live()
    target = destination / "index"
    shutil.copytree(live.path, target / "versions" / live.name)
    if (index / ONNX_DIR).is_dir():
        shutil.copytree(index / ONNX_DIR, target / ONNX_DIR)
    (target / "CURRENT").write_text(live.name + "\n", encoding="utf-8")
    return target


def _timed_ingest(corpus: Corpus, index: Path, log: Path) -> dict:
    command = ingest_command(corpus)
    command[command.index(str(corpus.index))] = str(index)
    run = run_measured(command, log=log)
    if run.returncode != 0:
        raise RuntimeError(f"re-ingest failed with code {run.returncode}; see {log}")
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    return {"seconds": run.seconds, "max_rss_mb": run.max_rss_mb, "inside_seconds": summary["seconds"],
            "encoded": summary["encoded"], "updated": summary["updated"], "added": summary["added"],
            "published": summary["published"]}


def article_encode(texts: list[str], encoder) -> dict:
    """Seconds to encode one article's texts: cold in a fresh process, and warm with ``encoder``."""
    import time

    cold = run_measured(python_command("-c", _COLD_ENCODE), stdin=json.dumps(texts))
    encoder.encode(texts)
    started = time.perf_counter()
    encoder.encode(texts)
    warm = time.perf_counter() - started
    return {"texts": len(texts), "cold_seconds": float(cold.stdout.strip().splitlines()[-1]), "warm_seconds": warm}


def measure_reingest(corpus: Corpus, encoder) -> dict:
    """No-change and one-article-edit re-ingests of ``corpus`` on a throw-away copy of its index."""
    from bench.encode_bare import article_texts
    from ingest.load import load_paths

    with tempfile.TemporaryDirectory(prefix="reingest-", dir=corpus.folder) as scratch:
        index = copy_live_index(corpus.index, Path(scratch))
        unchanged = _timed_ingest(corpus, index, Path(scratch) / "unchanged.log")
        with edited_article(corpus) as (article_id, _):
            edit = _timed_ingest(corpus, index, Path(scratch) / "edit.log")
            articles, _ = load_paths([corpus.source], max_bytes=5_000_000)
            article = next(a for a in articles if a.id == article_id)
        target = IndexStore(index).live().manifest["chunking"]["target_tokens"]
        texts = sorted(set().union(*article_texts(article, encoder, target_tokens=target).values()))
        edit["article"] = article_id
        edit["article_encode"] = article_encode(texts, encoder)
    return {"unchanged": unchanged, "edit": edit}
