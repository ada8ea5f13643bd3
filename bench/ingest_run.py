"""A fresh ingest of a corpus, as ``python -m ingest`` in a child process: wall time, peak memory, what it did.

The measurement is recorded in ``<folder>/ingest.json`` next to the index it built, and reused while that
version is live and of the format this code reads (a full MedQuAD ingest takes most of an hour); ``rebuild=True``
measures again.
"""
from __future__ import annotations

import json
import shutil
import sys

from bench.corpora import Corpus
from bench.measure import LoadSampler, now, python_command, run_measured, tree_size_mb
from ingest.store import FORMAT_VERSION, IndexStore


def ingest_command(corpus: Corpus) -> list[str]:
    return python_command("-m", "ingest", str(corpus.source), "--index", str(corpus.index), "--json")


def cached_record(corpus: Corpus) -> dict | None:
    """The recorded fresh ingest, if the index it built is still the live version and of this code's format."""
    if not corpus.record.is_file():
        return None
    record = json.loads(corpus.record.read_text(encoding="utf-8"))
    live = IndexStore(corpus.index).live() if corpus.index.is_dir() else None
    if live is None or live.manifest.get("format_version") != FORMAT_VERSION:
        return None
    return record if live.name == record["summary"].get("version") else None


def fresh_ingest(corpus: Corpus, *, rebuild: bool = False) -> dict:
    """Ingest ``corpus`` into an empty index (unless a recorded one is live and ``rebuild`` is false).

    Returns the record: command, seconds, max_rss_mb, the ingest's JSON summary, index size, date, and the
    1-minute load average sampled while it ran.
    """
    record = None if rebuild else cached_record(corpus)
    if record is not None:
        return {**record, "reused": True}
    shutil.rmtree(corpus.index, ignore_errors=True)
    corpus.folder.mkdir(parents=True, exist_ok=True)
    command = ingest_command(corpus)
    print(f"bench: ingesting {corpus.name} ({corpus.source}) into {corpus.index}; progress in "
          f"{corpus.folder / 'ingest.log'}", file=sys.stderr, flush=True)
    with LoadSampler() as load:
        run = run_measured(command, log=corpus.folder / "ingest.log")
    if run.returncode != 0:
        raise RuntimeError(f"ingest of {corpus.name} failed with code {run.returncode}; see "
                           f"{corpus.folder / 'ingest.log'}")
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    version = corpus.index / "versions" / summary["version"]
    record = {
        "corpus": corpus.name, "key": corpus.key, "command": command, "seconds": run.seconds,
        "max_rss_mb": run.max_rss_mb, "summary": summary, "index_mb": tree_size_mb(version),
        "date": now(), "load": load.summary(), "reused": False,
    }
    corpus.record.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return record
