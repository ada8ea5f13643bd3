"""The corpora the benchmark ingests: the seed articles and MedQuAD (or a whole-page subset of it).

The benchmark never ingests the originals. It writes a copy to a fixed place in the temp directory and ingests
that, so an article's recorded path (part of its content hash) stays the same from run to run, and the edit
re-ingest can change one article of that very file and put it back. The copy is rewritten whenever its bytes
differ from what the original gives (so a crash during an edit heals on the next run). MedQuAD is never copied
into the repository: copies live under ``$TMPDIR/qa-bench/``, indexes under the git-ignored cache.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ingest.load import ROOT

SEED_DIR = ROOT / "corpus"
MEDQUAD_DIR = ROOT.parent / "shared" / "benchmarks" / "medquad"
SEED_QUESTIONS = ROOT / "evaluation" / "questions.jsonl"
COPIES = Path(tempfile.gettempdir()) / "qa-bench"


@dataclass(frozen=True)
class Corpus:
    """One benchmarked corpus: where its copy lies, and where its index and measurements are cached."""

    name: str  # "seed", "medquad" or "medquad-<max_docs>"
    key: str  # hash of the source bytes and the sample; a new key is a new cache folder
    source: Path  # the ingested copy: a directory (seed) or a .jsonl file (MedQuAD)
    folder: Path  # <cache>/<name>-<key>/ holding index/, ingest.json, ingest.log

    @property
    def index(self) -> Path:
        return self.folder / "index"

    @property
    def record(self) -> Path:
        return self.folder / "ingest.json"


def _digest(parts: list[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


def seed_corpus(cache: Path) -> Corpus:
    """The project's corpus/ folder (articles and metadata.toml), copied."""
    files = sorted(p for p in SEED_DIR.iterdir() if p.is_file() and not p.name.startswith("."))
    contents = {p.name: p.read_bytes() for p in files}
    key = _digest([name.encode() + b"\0" + data for name, data in contents.items()])
    copy = COPIES / f"seed-{key}" / "corpus"
    for name, data in contents.items():
        _write_if_changed(copy / name, data)
    for stray in set(p.name for p in copy.iterdir()) - set(contents):
        (copy / stray).unlink()
    return Corpus("seed", key, copy, Path(cache) / f"seed-{key}")


def medquad_documents(max_docs: int | None) -> list[dict]:
    """MedQuAD's documents, or the whole-page subset of ``max_docs`` the evaluation uses."""
    from evaluation.beir import _read_jsonl, subset_documents

    return subset_documents(_read_jsonl(MEDQUAD_DIR / "corpus.jsonl"), max_docs)


def medquad_corpus(cache: Path, max_docs: int | None, documents: list[dict] | None = None) -> Corpus:
    """MedQuAD (all of it, or ``max_docs`` whole pages) as one JSONL copy."""
    from evaluation.beir import corpus_key

    original = MEDQUAD_DIR / "corpus.jsonl"
    key = corpus_key(original, max_docs)
    name = "medquad" if max_docs is None else f"medquad-{max_docs}"
    copy = COPIES / f"{name}-{key}" / "corpus.jsonl"
    if max_docs is None:
        data = original.read_bytes()
    else:
        documents = documents if documents is not None else medquad_documents(max_docs)
        data = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents).encode("utf-8")
    _write_if_changed(copy, data)
    return Corpus(name, key, copy, Path(cache) / f"{name}-{key}")


def seed_questions() -> list[str]:
    return [json.loads(line)["question"] for line in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def medquad_questions(article_ids: set[str], n: int) -> list[str]:
    """``n`` MedQuAD questions whose answer document is indexed, evenly spaced over the sorted ids."""
    from evaluation.beir import _read_jsonl, sample_ids

    queries = {q["_id"]: q["text"] for q in _read_jsonl(MEDQUAD_DIR / "queries.jsonl") if q["_id"] in article_ids}
    return [queries[i] for i in sample_ids(list(queries), n)]


def cycle(questions: list[str], n: int) -> list[str]:
    """``questions`` repeated in order until there are ``n`` (all of them if there are more)."""
    if not questions:
        raise ValueError("no questions to ask")
    return [questions[i % len(questions)] for i in range(max(n, len(questions)))]
