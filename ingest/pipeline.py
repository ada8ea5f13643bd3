"""Articles → a new index version: load, diff against the live version, embed only what changed, publish."""
from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version as package_version
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ingest.aliases import ALIAS_MINER_VERSION, mine_aliases
from ingest.chunk import CHUNKER_VERSION, chunk_article
from ingest.clean import clean
from ingest.db import VECTORS, VersionWriter, connect_readonly, published_vectors, section_text
from ingest.encoder import Encoder
from ingest.lexical import BM25_DIR, TOKENIZER, tokenize
from ingest.load import ROOT, Skip, load_paths
from ingest.store import FORMAT_VERSION, SEGMENT_FORMATS, IndexStore, Version
from ingest.terms import TermCounts
from ingest.tokens import content_rows, quantize
from ingest.words import WordsUpdate, surface_words
from ingest.types import Article, text_hash


@dataclass(frozen=True)
class Settings:
    """Ingest settings; the chunking ones are recorded in the manifest and force a rebuild when changed."""

    index_dir: Path = ROOT / "index"
    corpus_dir: Path = ROOT / "corpus"
    target_tokens: int = 128
    max_bytes: int = 5_000_000
    keep_versions: int = 2
    encode_step: int = 256  # texts per encode call (and progress-bar step)

    def __post_init__(self) -> None:
        if self.target_tokens < 16:
            raise ValueError(f"target_tokens must be at least 16, got {self.target_tokens}")
        if self.max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, got {self.max_bytes}")


class StrictFailure(RuntimeError):
    """``--strict`` was given and some sources were skipped; nothing was published."""

    def __init__(self, skipped: list[Skip]) -> None:
        super().__init__(f"{len(skipped)} source(s) skipped with --strict; index left unchanged")
        self.skipped = skipped


@dataclass(frozen=True)
class Summary:
    """What an ingest did. ``version`` is the live version afterwards."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0
    sentences: int = 0
    version: str | None = None
    seconds: float = 0.0
    encoded: int = 0
    rebuild: str | None = None
    published: bool = False

    def to_json(self) -> dict:
        """The CLI's ``--json`` object: counts of added/updated/removed/unchanged, skipped with reasons."""
        data = asdict(self)
        for key in ("added", "updated", "removed", "unchanged"):
            data[key] = len(data[key])
        data["seconds"] = round(self.seconds, 3)
        return data


def index_params(encoder: Encoder, settings: Settings) -> dict:
    """Everything that makes vectors and chunks comparable between two versions."""
    return {
        "format_version": FORMAT_VERSION,
        "model": {"name": encoder.name, "dimension": encoder.dimension, "normalized": True,
                  "max_seq_length": encoder.max_seq_length},
        "chunking": {"target_tokens": settings.target_tokens, "max_tokens": encoder.max_seq_length,
                     "chunker_version": CHUNKER_VERSION, "alias_miner_version": ALIAS_MINER_VERSION,
                     "sentence_splitter": f"blingfire {package_version('blingfire')}"},
        "lexical": {"tokenizer": TOKENIZER},
    }


def rebuild_reason(live: Version | None, params: dict) -> str | None:
    """Why the live version cannot be updated in place (None if it can)."""
    if live is None:
        return "new index"
    old = {key: live.manifest.get(key) for key in params}
    for key in params:
        if old[key] != params[key]:
            if key == "model" and old[key] and old[key].get("name") != params[key]["name"]:
                return f"model changed from {old[key].get('name')} to {params[key]['name']}: re-embedding everything"
            return f"{key} changed from {old[key]} to {params[key]}: rebuilding everything"
    return None


def _in_scope(path: str, scope: list[Path]) -> bool:
    resolved = (ROOT / path).resolve()
    return any(resolved == s or s in resolved.parents for s in scope)


def _longest_first(texts: list[str], *, step: int, progress: bool, desc: str) -> Iterator[list[int]]:
    """Indices of ``texts`` in batches of ``step``, longest first (less padding per batch), counted on a progress
    bar on stderr."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    with tqdm(total=len(texts), desc=desc, unit="text", file=sys.stderr, disable=not progress or not texts) as bar:
        for start in range(0, len(order), step):
            batch = order[start:start + step]
            yield batch
            bar.update(len(batch))


def encode_texts(encoder: Encoder, texts: list[str], *, step: int, progress: bool) -> np.ndarray:
    """Encode ``texts`` longest first (less padding per batch), with a progress bar on stderr."""
    vectors = np.empty((len(texts), encoder.dimension), dtype=np.float32)
    for batch in _longest_first(texts, step=step, progress=progress, desc="embedding"):
        vectors[batch] = encoder.encode([texts[i] for i in batch])
    return vectors


def encode_with_tokens(encoder: Encoder, texts: list[str], *, step: int, progress: bool
                       ) -> tuple[np.ndarray, list[np.ndarray]]:
    """``encode_texts`` for sentences: their vectors, and from the same run each one's content words in context
    (``ingest.tokens.content_rows``, quantized)."""
    vectors = np.empty((len(texts), encoder.dimension), dtype=np.float32)
    rows: list[np.ndarray] = [np.empty(0)] * len(texts)
    for batch in _longest_first(texts, step=step, progress=progress, desc="embedding sentences"):
        vectors[batch], tokens = encoder.encode_with_tokens([texts[i] for i in batch])
        for i, (pieces, token_vectors) in zip(batch, tokens):
            rows[i] = quantize(content_rows(pieces, token_vectors))
    return vectors, rows


def _carried_articles(live: Version, ids: list[str]) -> list[Article]:
    """Articles of the live version that this run did not load (outside the given paths), for a rebuild."""
    if not ids:
        return []
    conn = connect_readonly(live.path)
    try:
        rows = {}
        for row in conn.execute("SELECT id, title, text, path, format, url, site, date FROM articles"):
            rows[row[0]] = Article(*row)
        return [rows[i] for i in ids if i in rows]
    finally:
        conn.close()


def _term_counts(live: Version | None, rebuild: str | None, writer: VersionWriter, deleted: list[int],
                 added: TermCounts) -> TermCounts:
    """Term counts of every chunk of the build: the live version's, less ``deleted`` chunks, plus ``added``."""
    if rebuild:
        return added
    base = TermCounts.load(live.path / BM25_DIR)
    if base is None:  # a version written before the counts were kept: count its chunks' stored stems once
        return TermCounts.from_tokens(*writer.chunk_stems())
    return base.updated(deleted, added)


def ingest(
    paths: list[Path], encoder: Encoder, settings: Settings = Settings(), *, strict: bool = False,
    progress: bool = False,
) -> Summary:
    """Bring the index in ``settings.index_dir`` in line with the articles under ``paths``.

    Articles outside ``paths`` stay as they are. A source that cannot be read is skipped (its previous
    version, if any, stays indexed). Nothing is visible to readers until the new version is complete.

    Raises:
        IndexLocked: another ingest is running.
        StrictFailure: ``strict`` and something was skipped.
        FileNotFoundError: a path does not exist.
    """
    started = time.perf_counter()
    store = IndexStore(settings.index_dir, keep=settings.keep_versions)
    with store.lock():
        store.remove_stale_builds()
        articles, skipped = load_paths(paths, max_bytes=settings.max_bytes)
        if strict and skipped:
            raise StrictFailure(skipped)
        live = store.live()
        params = index_params(encoder, settings)
        rebuild = rebuild_reason(live, params)
        old: dict[str, dict] = live.manifest["articles"] if live else {}
        loaded = {a.id: a for a in articles}
        hashes = {a.id: a.content_hash for a in articles}
        scope = [p.resolve() for p in paths]
        protected = {s.file for s in skipped}  # a source that failed to load keeps its previous version
        removed = [i for i, info in old.items()
                   if i not in loaded and _in_scope(info["path"], scope) and info["path"] not in protected]
        added = [i for i in loaded if i not in old]
        updated = [i for i in loaded if i in old and old[i]["hash"] != hashes[i]]
        unchanged = [i for i in loaded if i in old and old[i]["hash"] == hashes[i]]
        if rebuild is None and not (added or updated or removed):
            counts = live.manifest["counts"]
            return Summary(added, updated, removed, unchanged, skipped, counts["articles"], counts["chunks"],
                           counts["sentences"], live.name, time.perf_counter() - started)
        build = store.begin()
        writer = None
        try:
            writer = VersionWriter(build, base=None if rebuild else live.path,
                                   base_manifest=None if rebuild else live.manifest)
            version_name, counts, encoded = _build(
                store, writer, live, rebuild, encoder, settings, params, loaded, old, added, updated, removed, progress,
            )
        except BaseException:
            if writer is not None:
                writer.wait()
            shutil.rmtree(build, ignore_errors=True)
            raise
        return Summary(added, updated, removed, unchanged, skipped, counts["articles"], counts["chunks"],
                       counts["sentences"], version_name, time.perf_counter() - started, encoded,
                       None if rebuild == "new index" else rebuild, True)


def _build(
    store: IndexStore, writer: VersionWriter, live: Version | None, rebuild: str | None, encoder: Encoder,
    settings: Settings, params: dict, loaded: dict[str, Article], old: dict[str, dict], added: list[str],
    updated: list[str], removed: list[str], progress: bool,
) -> tuple[str, dict, int]:
    """Write the new version with ``writer`` and publish it; returns (version, counts, texts encoded)."""
    started = time.perf_counter()
    if rebuild:
        keep_old = [i for i in old if i not in loaded and i not in removed]
        to_index = list(loaded.values()) + _carried_articles(live, keep_old)
    else:
        to_index = [loaded[i] for i in added + updated]
    prepared = []
    for article in to_index:
        chunks, sentences = chunk_article(article, clean(article), encoder.count_tokens,
                                          target_tokens=settings.target_tokens, max_tokens=encoder.max_seq_length)
        prepared.append((article, chunks, sentences, mine_aliases(sentences)))
    needed: dict[str, dict[str, str]] = {kind: {} for kind in VECTORS}
    for article, chunks, sentences, _ in prepared:
        for chunk in chunks:
            needed["chunks"][text_hash(chunk.embed_text)] = chunk.embed_text
            needed["sections"][text_hash(section_text(article, chunk))] = section_text(article, chunk)
        for sentence in sentences:
            needed["sentences"][text_hash(sentence.embed_text)] = sentence.embed_text
            needed["plain"][text_hash(sentence.plain_text)] = sentence.plain_text
            needed["tokens"][text_hash(sentence.plain_text)] = sentence.plain_text
    wanted = {kind: set(texts) for kind, texts in needed.items()}
    # vectors are reused from the live version (across a rebuild too, when the model is the same and they are
    # stored as segments), read there while the writer copies its database
    reusable = live is not None and (not rebuild or (live.manifest.get("model") == params["model"]
                                                     and live.manifest.get("format_version") in SEGMENT_FORMATS))
    known = published_vectors(live.path, live.manifest, wanted) if reusable else {kind: {} for kind in VECTORS}
    # The words of the vocabulary that have no vector yet ("coffee" must find "caffeine" at query time).
    words = WordsUpdate(surface_words([c.embed_text for _, chunks, _, _ in prepared for c in chunks]),
                        encoder.dimension, parent=live.path if reusable else None, complete=bool(rebuild))
    # One text needed as two kinds (a heading that is also a sentence, a one-word heading) is encoded once; a
    # sentence whose content words are missing gives its vector from the same run.
    with_tokens = sorted({text for digest, text in needed["tokens"].items() if digest not in known["tokens"]})
    missing = sorted(({text for kind, texts in needed.items() if kind != "tokens" for digest, text in texts.items()
                       if digest not in known[kind]} | set(words.missing)) - set(with_tokens))
    encoded = dict(zip(missing, encode_texts(encoder, missing, step=settings.encode_step, progress=progress)))
    vectors, rows = encode_with_tokens(encoder, with_tokens, step=settings.encode_step, progress=progress)
    encoded.update(zip(with_tokens, vectors))
    tokens = dict(zip(with_tokens, rows))
    for kind, texts in needed.items():
        for digest, text in texts.items():
            if digest not in known[kind]:
                known[kind][digest] = tokens[text] if kind == "tokens" else encoded[text]
    deleted = writer.delete_articles(removed + updated)
    manifest_articles = {i: info for i, info in old.items() if i not in removed and not rebuild}
    stems = tokenize([c.embed_text for _, chunks, _, _ in prepared for c in chunks])
    chunk_stems = iter(stems)
    rows = []
    for article, chunks, sentences, aliases in prepared:
        rows.append(writer.add_article(article, chunks, sentences, aliases, [next(chunk_stems) for _ in chunks]))
        manifest_articles[article.id] = {"hash": article.content_hash, "path": article.path,
                                         "chunks": len(chunks), "sentences": len(sentences)}
    new_terms = TermCounts.from_tokens([i for ids in rows for i in ids["chunks"]], stems)
    for (article, chunks, sentences, _), ids in zip(prepared, rows):
        texts = {"chunks": [c.embed_text for c in chunks],
                 "sections": [section_text(article, c) for c in chunks],
                 "sentences": [s.embed_text for s in sentences],
                 "plain": [s.plain_text for s in sentences]}
        for kind, items in texts.items():
            if items:
                writer.add_vectors(kind, ids[kind], np.stack([known[kind][text_hash(t)] for t in items]))
        writer.add_rows("tokens", ids["tokens"], [known["tokens"][text_hash(s.plain_text)] for s in sentences])
    terms = _term_counts(live, rebuild, writer, deleted, new_terms)
    writer.check(terms.chunk_ids)
    terms.save(writer.path / BM25_DIR)
    words.write(writer.path, encoded)
    counts = writer.counts()
    vectors = writer.close(number=int(store.next_name()[1:]))
    manifest = {
        **params, "parent": live.name if live else None, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(time.perf_counter() - started, 3), "counts": counts, "encoded": len(encoded),
        "vectors": vectors,
        "articles": dict(sorted(manifest_articles.items())),
    }
    return store.publish(writer.path, manifest), counts, len(encoded)
