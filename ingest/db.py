"""What one index version holds: SQLite rows and vectors that share ids, changed together.

Chunk and sentence ids are SQLite rowids (never reused) and also the vectors' ids, so deleting an article
removes exactly its rows and its vectors; ``check()`` verifies the two stores agree.
"""
from __future__ import annotations

import mmap
import os
import shutil
import sqlite3
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import cached_property
from pathlib import Path

import numpy as np

from ingest.aliases import Alias, word_initials
from ingest.types import Article, Chunk, Sentence, text_hash
from ingest.vectors import SEVERAL_ROWS, Segments

DB = "meta.sqlite"
_DIRECT_BLOCK, _DIRECT_ALIGN = 1 << 22, 4096  # copy_uncached: bytes per write; O_DIRECT needs whole blocks
# Each kind of vector: the table and column holding the hash of the text it embeds. Section vectors (the
# heading a chunk sits under, or the title) share the chunk's id.
VECTORS = {
    "chunks": ("chunks", "embed_hash"),
    "sentences": ("sentences", "embed_hash"),
    "sections": ("chunks", "section_hash"),
    "plain": ("sentences", "plain_hash"),  # the sentence without its heading (same id as the sentence)
    "tokens": ("sentences", "plain_hash"),  # its content words in context (several rows per sentence, int8)
}

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, path TEXT NOT NULL, format TEXT NOT NULL, url TEXT, site TEXT,
    date TEXT, text TEXT NOT NULL, content_hash TEXT NOT NULL, ingested_at TEXT NOT NULL,
    initials TEXT NOT NULL);  -- ingest.aliases.word_initials(text)
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, article_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, section TEXT NOT NULL, text TEXT NOT NULL,
    embed_text TEXT NOT NULL, n_tokens INTEGER NOT NULL, embed_hash TEXT NOT NULL, section_hash TEXT NOT NULL,
    stems TEXT NOT NULL);
CREATE INDEX chunks_article ON chunks(article_id);
CREATE INDEX chunks_hash ON chunks(embed_hash);
CREATE INDEX chunks_section_hash ON chunks(section_hash);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id INTEGER NOT NULL, article_id TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, role TEXT NOT NULL, list_group INTEGER,
    embed_hash TEXT NOT NULL, plain_hash TEXT NOT NULL);
CREATE INDEX sentences_chunk ON sentences(chunk_id);
CREATE INDEX sentences_article ON sentences(article_id);
CREATE INDEX sentences_hash ON sentences(embed_hash);
CREATE INDEX sentences_plain_hash ON sentences(plain_hash);
CREATE TABLE aliases (
    term TEXT NOT NULL, alias TEXT NOT NULL, article_id TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL);
CREATE INDEX aliases_article ON aliases(article_id);
"""


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open a published version's database; ``immutable`` because published versions never change."""
    conn = sqlite3.connect(f"file:{path / DB}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def copy_uncached(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target``, written with O_DIRECT where the file system allows: around the page cache,
    straight to disk. The copy goes to disk anyway (``publish`` fsyncs it), and filling the cache with it cost
    more than the disk: MedQuAD's 168 MB database took 0.04-0.7 s to copy through the cache on this machine (new
    cache pages are slow to get on this virtual machine), 0.15 s with O_DIRECT, its fsync then nothing."""
    try:
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_DIRECT, 0o644)
    except (OSError, AttributeError):  # no O_DIRECT on this system or file system (tmpfs)
        shutil.copyfile(source, target)
        return
    buffer = mmap.mmap(-1, _DIRECT_BLOCK)  # page-aligned memory, as O_DIRECT requires
    with open(source, "rb", buffering=0) as data:
        try:
            while (size := data.readinto(buffer)) and size % _DIRECT_ALIGN == 0:
                if os.write(out, memoryview(buffer)[:size]) != size:
                    raise OSError(f"short write to {target}")
        finally:
            os.close(out)
        if size:  # an end that is not a whole block goes through the cache
            with open(target, "ab") as rest:
                rest.write(memoryview(buffer)[:size])
                shutil.copyfileobj(data, rest)


def section_text(article: Article, chunk: Chunk) -> str:
    """What a chunk's section vector embeds: its heading, or the article's title when it has none."""
    return chunk.section or article.title


def open_segments(path: Path, manifest: dict) -> dict[str, Segments]:
    """The vector segments of a published version, by kind."""
    entries = manifest.get("vectors", {})
    return {kind: Segments.open(path, kind, entries.get(kind)) for kind in VECTORS}


class VersionWriter:
    """Builds one version directory, optionally starting from the previous version (whose vector segments
    are hard-linked, never copied or changed).

    The previous version's database is copied (``copy_uncached``) in another thread, so the caller can encode
    meanwhile; the first use of ``db`` waits for it."""

    def __init__(self, path: Path, *, base: Path | None = None, base_manifest: dict | None = None) -> None:
        self.path = path
        self._copy: Future | None = None
        if base is not None:
            self.segments = {k: s.link_into(path) for k, s in open_segments(base, base_manifest or {}).items()}
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copy-db")
            self._copy = pool.submit(copy_uncached, base / DB, path / DB)
            pool.shutdown(wait=False)
        else:
            self.segments = {kind: Segments(path, kind) for kind in VECTORS}
        self._new: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {kind: ([], []) for kind in VECTORS}

    @cached_property
    def db(self) -> sqlite3.Connection:
        """The version's database, once the previous version's copy is complete."""
        if self._copy is not None:
            self._copy.result()
        db = sqlite3.connect(self.path / DB)
        # The build directory is thrown away on failure, so no journal is needed; publish() fsyncs the files.
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        if self._copy is None:
            db.executescript(SCHEMA)
        return db

    def wait(self) -> None:
        """Let a running copy finish (before a failed build's directory is deleted)."""
        if self._copy is not None:
            wait([self._copy])

    def delete_articles(self, article_ids: list[str]) -> list[int]:
        """Remove articles with their chunks, sentences, aliases and vectors; returns the deleted chunk ids."""
        chunk_ids: list[int] = []
        for start in range(0, len(article_ids), 500):
            batch = article_ids[start:start + 500]
            marks = ",".join("?" * len(batch))
            for kind, (table, _) in VECTORS.items():
                ids = [r[0] for r in self.db.execute(f"SELECT id FROM {table} WHERE article_id IN ({marks})", batch)]
                self.segments[kind].delete(ids)
                if kind == "chunks":
                    chunk_ids.extend(ids)
            for table, column in (("sentences", "article_id"), ("chunks", "article_id"), ("aliases", "article_id"),
                                  ("articles", "id")):
                self.db.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", batch)
        return chunk_ids

    def add_article(
        self, article: Article, chunks: list[Chunk], sentences: list[Sentence], aliases: list[Alias],
        stems: list[list[str]],
    ) -> dict[str, list[int]]:
        """Insert one article's rows; ``stems`` (BM25 tokens of each chunk's embedded text) follow ``chunks``.
        Returns the new ids by vector kind, for ``add_vectors``."""
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.db.execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (article.id, article.title, article.path, article.format, article.url, article.site, article.date,
             article.text, article.content_hash, now, word_initials(article.text)),
        )
        chunk_ids = []
        for chunk, tokens in zip(chunks, stems):
            cursor = self.db.execute(
                'INSERT INTO chunks (article_id, ordinal, start, "end", section, text, embed_text, n_tokens, embed_hash, '
                "section_hash, stems) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (article.id, chunk.ordinal, chunk.start, chunk.end, chunk.section, chunk.text, chunk.embed_text,
                 chunk.n_tokens, text_hash(chunk.embed_text), text_hash(section_text(article, chunk)), " ".join(tokens)),
            )
            chunk_ids.append(cursor.lastrowid)
        sentence_ids = []
        for sentence in sentences:
            cursor = self.db.execute(
                'INSERT INTO sentences (chunk_id, article_id, start, "end", text, role, list_group, embed_hash, '
                "plain_hash) VALUES (?,?,?,?,?,?,?,?,?)",
                (chunk_ids[sentence.chunk_ordinal], article.id, sentence.start, sentence.end, sentence.text,
                 sentence.role, sentence.list_group, text_hash(sentence.embed_text), text_hash(sentence.plain_text)),
            )
            sentence_ids.append(cursor.lastrowid)
        self.db.executemany(
            'INSERT INTO aliases (term, alias, article_id, start, "end") VALUES (?,?,?,?,?)',
            [(a.term, a.alias, a.article_id, a.start, a.end) for a in aliases],
        )
        return {"chunks": chunk_ids, "sections": chunk_ids, "sentences": sentence_ids, "plain": sentence_ids,
                "tokens": sentence_ids}

    def add_vectors(self, kind: str, ids: list[int], vectors: np.ndarray) -> None:
        """The vectors of rows added by ``add_article`` (``check`` verifies none is missing)."""
        if kind in SEVERAL_ROWS:
            raise ValueError(f"{kind} has several rows per id: use add_rows")
        if len(ids) != len(vectors):
            raise ValueError(f"{kind}: {len(ids)} ids but {len(vectors)} vectors")
        if len(ids):
            self._new[kind][0].append(np.asarray(ids, dtype=np.int64))
            self._new[kind][1].append(np.asarray(vectors, dtype=np.float32))

    def add_rows(self, kind: str, ids: list[int], rows: list[np.ndarray]) -> None:
        """For a kind in ``SEVERAL_ROWS``: the rows of each id added by ``add_article``, at least one each."""
        if kind not in SEVERAL_ROWS:
            raise ValueError(f"{kind} has one vector per id: use add_vectors")
        if len(ids) != len(rows) or any(len(r) == 0 for r in rows):
            raise ValueError(f"{kind}: {len(ids)} ids but {len(rows)} groups of rows, "
                             f"{sum(len(r) == 0 for r in rows)} of them empty")
        if len(ids):
            self._new[kind][0].append(np.repeat(np.asarray(ids, dtype=np.int64), [len(r) for r in rows]))
            self._new[kind][1].append(np.concatenate(rows).astype(SEVERAL_ROWS[kind]))

    def chunk_stems(self) -> tuple[list[int], list[list[str]]]:
        """(ids, BM25 tokens) of every chunk, in id order."""
        rows = self.db.execute("SELECT id, stems FROM chunks ORDER BY id").fetchall()
        return [r[0] for r in rows], [r[1].split() for r in rows]

    def counts(self) -> dict[str, int]:
        return {table: self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("articles", "chunks", "sentences", "aliases")}

    def _pending_ids(self, kind: str) -> np.ndarray:
        parts = self._new[kind][0]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def check(self, bm25_chunk_ids: np.ndarray) -> None:
        """Raise if SQLite, the vectors and the BM25 documents (``bm25_chunk_ids``) disagree on which chunks,
        sections and sentences exist."""
        tables: dict[str, np.ndarray] = {}  # each table's ids, read once for all the kinds it holds
        for kind, (table, _) in VECTORS.items():
            if table not in tables:
                # unordered, so SQLite scans a small covering index instead of the whole table; joined by
                # SQLite into one string, as a row per id costs 0.1 s on MedQuAD's 180k sentences
                (joined,) = self.db.execute(f"SELECT group_concat(id) FROM {table}").fetchone()
                ids = np.fromstring(joined, dtype=np.int64, sep=",") if joined else np.zeros(0, dtype=np.int64)
                tables[table] = np.sort(ids)
            rows = tables[table]
            pending = self._pending_ids(kind)
            if kind in SEVERAL_ROWS:
                pending = np.unique(pending)
            ids = np.sort(np.concatenate([self.segments[kind].live_ids(), pending]))
            if not np.array_equal(rows, ids):
                raise RuntimeError(f"{kind}: {len(np.setdiff1d(rows, ids))} rows without vectors, "
                                   f"{len(np.setdiff1d(ids, rows))} vectors without rows, {len(ids)} vectors in all")
            if kind == "chunks" and not np.array_equal(rows, bm25_chunk_ids):
                raise RuntimeError(f"chunks: {len(rows)} rows but {len(bm25_chunk_ids)} BM25 documents")

    def close(self, number: int) -> dict[str, dict]:
        """Write the new vectors as segment ``number`` and close the database; returns the manifest's
        ``vectors`` entries."""
        self.db.commit()
        self.db.close()
        entries = {}
        for kind, (new_ids, new_vectors) in self._new.items():
            ids = np.concatenate(new_ids) if new_ids else np.zeros(0, dtype=np.int64)
            vectors = np.concatenate(new_vectors) if new_vectors else np.zeros((0, 0), dtype=np.float32)
            entries[kind] = self.segments[kind].write(ids, vectors, number=number)
        return entries


def vectors_by_hash(conn: sqlite3.Connection, segments: Segments, kind: str, hashes: set[str]
                    ) -> dict[str, np.ndarray]:
    """Stored vectors of ``kind`` whose embedded text has one of ``hashes``, keyed by hash (so re-ingest
    re-encodes nothing it already has). For a kind in ``SEVERAL_ROWS``, each hash's rows."""
    if kind not in VECTORS:
        raise ValueError(f"kind must be one of {sorted(VECTORS)}, got {kind!r}")
    table, column = VECTORS[kind]
    wanted: dict[int, str] = {}
    ordered = sorted(hashes)
    for start in range(0, len(ordered), 500):
        batch = ordered[start:start + 500]
        rows = conn.execute(f"SELECT id, {column} FROM {table} WHERE {column} IN ({','.join('?' * len(batch))})", batch)
        for row_id, digest in rows:
            wanted.setdefault(row_id, digest)
    if not wanted:
        return {}
    ids = np.fromiter(wanted, dtype=np.int64)
    found = segments.groups(ids) if kind in SEVERAL_ROWS else segments.get(ids)
    return {wanted[i]: vector for i, vector in found.items()}


def published_vectors(path: Path, manifest: dict, hashes: dict[str, set[str]]) -> dict[str, dict[str, np.ndarray]]:
    """``vectors_by_hash`` on a published version, for ``{kind: hashes}``. A text's vector does not depend on its
    kind, so a hash is looked up under every kind of one vector per id the version has (a version from before a
    kind existed still gives what its other kinds hold: a sentence without a heading is its own plain text).
    A kind in ``SEVERAL_ROWS`` is looked up under itself: nothing when the version lacks it."""
    conn = connect_readonly(path)
    try:
        segments = open_segments(path, manifest)
        stored = manifest.get("vectors", {})
        everything = set().union(*(h for kind, h in hashes.items() if kind not in SEVERAL_ROWS))
        found: dict[str, np.ndarray] = {}
        for kind in VECTORS:
            if kind not in SEVERAL_ROWS and kind in stored and (still := everything - set(found)):
                found.update(vectors_by_hash(conn, segments[kind], kind, still))
        result = {kind: {h: found[h] for h in wanted if h in found} for kind, wanted in hashes.items()
                  if kind not in SEVERAL_ROWS}
        for kind in SEVERAL_ROWS.keys() & hashes.keys():
            result[kind] = vectors_by_hash(conn, segments[kind], kind, hashes[kind]) if kind in stored else {}
        return result
    finally:
        conn.close()
