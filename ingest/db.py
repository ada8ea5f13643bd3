"""What one index version holds: SQLite rows and FAISS vectors that share ids, changed together.

Chunk and sentence ids are SQLite rowids (never reused) and also the FAISS ids, so deleting an article removes
exactly its rows and its vectors; ``check()`` verifies the two stores agree.
"""
from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import faiss
import numpy as np

from ingest.aliases import Alias
from ingest.types import Article, Chunk, Sentence, text_hash

DB = "meta.sqlite"
# Each kind of vector: its FAISS file, and the table and column holding the hash of the text it embeds.
# Section vectors (the heading a chunk sits under, or the title) share the chunk's id.
VECTORS = {
    "chunks": ("chunks.faiss", "chunks", "embed_hash"),
    "sentences": ("sentences.faiss", "sentences", "embed_hash"),
    "sections": ("sections.faiss", "chunks", "section_hash"),
}

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, path TEXT NOT NULL, format TEXT NOT NULL, url TEXT, site TEXT,
    date TEXT, text TEXT NOT NULL, content_hash TEXT NOT NULL, ingested_at TEXT NOT NULL);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, article_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, section TEXT NOT NULL, text TEXT NOT NULL,
    embed_text TEXT NOT NULL, n_tokens INTEGER NOT NULL, embed_hash TEXT NOT NULL, section_hash TEXT NOT NULL);
CREATE INDEX chunks_article ON chunks(article_id);
CREATE INDEX chunks_hash ON chunks(embed_hash);
CREATE INDEX chunks_section_hash ON chunks(section_hash);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id INTEGER NOT NULL, article_id TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, role TEXT NOT NULL, list_group INTEGER,
    embed_hash TEXT NOT NULL);
CREATE INDEX sentences_chunk ON sentences(chunk_id);
CREATE INDEX sentences_article ON sentences(article_id);
CREATE INDEX sentences_hash ON sentences(embed_hash);
CREATE TABLE aliases (
    term TEXT NOT NULL, alias TEXT NOT NULL, article_id TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL);
CREATE INDEX aliases_article ON aliases(article_id);
"""


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open a published version's database; ``immutable`` because published versions never change."""
    conn = sqlite3.connect(f"file:{path / DB}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def read_vectors(index: faiss.IndexIDMap2) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) stored in an ``IndexIDMap2`` over a flat index, in insertion order."""
    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    flat = faiss.downcast_index(index.index)
    vectors = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d).copy()
    return ids, vectors


class VersionWriter:
    """Builds one version directory, optionally starting from a copy of the previous version."""

    def __init__(self, path: Path, dimension: int, *, base: Path | None = None) -> None:
        self.path = path
        self.dimension = dimension
        if base is not None:
            shutil.copyfile(base / DB, path / DB)
            self.vectors = {kind: faiss.read_index(str(base / file)) for kind, (file, _, _) in VECTORS.items()}
        else:
            self.vectors = {kind: faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)) for kind in VECTORS}
        self.db = sqlite3.connect(path / DB)
        # The build directory is thrown away on failure, so no journal is needed; publish() fsyncs the files.
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        if base is None:
            self.db.executescript(SCHEMA)

    def article_ids(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT id FROM articles ORDER BY id")]

    def load_article(self, article_id: str) -> Article:
        row = self.db.execute(
            "SELECT id, title, text, path, format, url, site, date FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return Article(*row)

    def delete_articles(self, article_ids: list[str]) -> None:
        """Remove articles with their chunks, sentences, aliases and vectors."""
        for start in range(0, len(article_ids), 500):
            batch = article_ids[start:start + 500]
            marks = ",".join("?" * len(batch))
            for kind, (_, table, _) in VECTORS.items():
                ids = [r[0] for r in self.db.execute(f"SELECT id FROM {table} WHERE article_id IN ({marks})", batch)]
                if ids:
                    self.vectors[kind].remove_ids(np.asarray(ids, dtype=np.int64))
            for table, column in (("sentences", "article_id"), ("chunks", "article_id"), ("aliases", "article_id"),
                                  ("articles", "id")):
                self.db.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", batch)

    def add_article(
        self, article: Article, chunks: list[Chunk], sentences: list[Sentence], aliases: list[Alias],
        vectors: dict[str, np.ndarray],
    ) -> None:
        """Insert one article. ``vectors["chunks"]`` and ``vectors["sections"]`` follow ``chunks``,
        ``vectors["sentences"]`` follows ``sentences``."""
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.db.execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)",
            (article.id, article.title, article.path, article.format, article.url, article.site, article.date,
             article.text, article.content_hash, now),
        )
        chunk_ids = []
        for chunk in chunks:
            cursor = self.db.execute(
                'INSERT INTO chunks (article_id, ordinal, start, "end", section, text, embed_text, n_tokens, embed_hash, '
                "section_hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (article.id, chunk.ordinal, chunk.start, chunk.end, chunk.section, chunk.text, chunk.embed_text,
                 chunk.n_tokens, text_hash(chunk.embed_text), text_hash(section_text(article, chunk))),
            )
            chunk_ids.append(cursor.lastrowid)
        sentence_ids = []
        for sentence in sentences:
            cursor = self.db.execute(
                'INSERT INTO sentences (chunk_id, article_id, start, "end", text, role, list_group, embed_hash) '
                "VALUES (?,?,?,?,?,?,?,?)",
                (chunk_ids[sentence.chunk_ordinal], article.id, sentence.start, sentence.end, sentence.text,
                 sentence.role, sentence.list_group, text_hash(sentence.embed_text)),
            )
            sentence_ids.append(cursor.lastrowid)
        self.db.executemany(
            'INSERT INTO aliases (term, alias, article_id, start, "end") VALUES (?,?,?,?,?)',
            [(a.term, a.alias, a.article_id, a.start, a.end) for a in aliases],
        )
        ids = {"chunks": chunk_ids, "sections": chunk_ids, "sentences": sentence_ids}
        for kind, index in self.vectors.items():
            if ids[kind]:
                index.add_with_ids(vectors[kind], np.asarray(ids[kind], dtype=np.int64))

    def reusable_vectors(self, hashes: dict[str, set[str]]) -> dict[str, dict[str, np.ndarray]]:
        """Vectors this version already holds for the given hashes (call before deleting what changed)."""
        return {kind: vectors_by_hash(self.db, self.vectors[kind], kind, wanted) for kind, wanted in hashes.items()}

    def chunk_texts(self) -> tuple[list[int], list[str]]:
        """Ids and embedded texts of all chunks, in id order (for the lexical index)."""
        rows = self.db.execute("SELECT id, embed_text FROM chunks ORDER BY id").fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def counts(self) -> dict[str, int]:
        return {table: self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("articles", "chunks", "sentences", "aliases")}

    def check(self) -> None:
        """Raise if SQLite and FAISS disagree on which chunks, sections and sentences exist."""
        for kind, (_, table, _) in VECTORS.items():
            rows = {r[0] for r in self.db.execute(f"SELECT id FROM {table}")}
            ids = set(faiss.vector_to_array(self.vectors[kind].id_map).tolist())
            if rows != ids:
                raise RuntimeError(f"{kind}: {len(rows - ids)} rows without vectors, {len(ids - rows)} vectors without rows")

    def close(self) -> None:
        """Write the vectors and close the database."""
        self.db.commit()
        self.db.close()
        for kind, (file, _, _) in VECTORS.items():
            faiss.write_index(self.vectors[kind], str(self.path / file))


def section_text(article: Article, chunk: Chunk) -> str:
    """What a chunk's section vector embeds: its heading, or the article's title when it has none."""
    return chunk.section or article.title


def vectors_by_hash(
    conn: sqlite3.Connection, index: faiss.IndexIDMap2, kind: str, hashes: set[str]
) -> dict[str, np.ndarray]:
    """Stored vectors of ``kind`` whose embedded text has one of ``hashes``, keyed by hash (so re-ingest
    re-encodes nothing it already has)."""
    if kind not in VECTORS:
        raise ValueError(f"kind must be one of {sorted(VECTORS)}, got {kind!r}")
    _, table, column = VECTORS[kind]
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
    return {wanted[int(i)]: v for i, v in zip(ids, index.reconstruct_batch(ids))}


def published_vectors(path: Path, hashes: dict[str, set[str]]) -> dict[str, dict[str, np.ndarray]]:
    """``vectors_by_hash`` on a published version, for ``{kind: hashes}``."""
    conn = connect_readonly(path)
    try:
        return {kind: vectors_by_hash(conn, faiss.read_index(str(path / VECTORS[kind][0])), kind, wanted)
                for kind, wanted in hashes.items()}
    finally:
        conn.close()
