"""Load the live index version once: vectors, BM25, aliases and metadata, checked against the encoder."""
from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from ingest.db import connect_readonly, open_segments
from ingest.encoder import Encoder
from ingest.lexical import BM25_DIR, STOPWORDS, load_bm25, stem_word
from ingest.store import FORMAT_VERSION, IndexStore, IndexUnavailable
from ingest.tokens import dequantize
from ingest.words import WordVectors
from retrieval.aliases import AliasTable
from retrieval.dense import DenseIndex, VectorTable


class IndexMismatch(IndexUnavailable):
    """The index was built with another model or format than this code reads."""


@dataclass(frozen=True)
class SentenceRow:
    id: int
    chunk_id: int
    article_id: str
    start: int
    end: int
    text: str
    role: str
    list_group: int | None


@dataclass(frozen=True)
class ChunkRow:
    id: int
    article_id: str
    start: int
    end: int
    section: str
    text: str


@dataclass(frozen=True)
class ArticleRow:
    id: str
    title: str
    path: str
    url: str | None
    site: str | None
    date: str | None
    ingested_at: str


class Index:
    """One published version, read-only. Cheap lookups by id; vectors kept in memory."""

    def __init__(self, root: Path, encoder: Encoder) -> None:
        store = IndexStore(root)
        version = store.live()
        if version is None:
            raise IndexUnavailable(f"no index at {root}: run `python -m ingest` first")
        check_manifest(version.manifest, encoder, version.path)
        self.root = Path(root)
        self.version = version.name
        self.manifest = version.manifest
        self.encoder = encoder
        self.db: sqlite3.Connection = connect_readonly(version.path)
        segments = open_segments(version.path, version.manifest)
        self.chunk_index = DenseIndex(segments["chunks"], encoder.dimension)
        self.section_index = DenseIndex(segments["sections"], encoder.dimension)
        if not np.array_equal(self.section_index.ids, self.chunk_index.ids):
            raise IndexUnavailable(f"index {version.path}: section vectors do not match the chunks")
        self.sentence_index = DenseIndex(segments["sentences"], encoder.dimension)
        chunk_of = np.array(self.db.execute("SELECT id, chunk_id FROM sentences ORDER BY id").fetchall(),
                            dtype=np.int64).reshape(-1, 2)
        if not np.array_equal(chunk_of[:, 0], self.sentence_index.ids):
            raise IndexUnavailable(f"index {version.path}: sentence vectors do not match the sentences")
        self.plain_vectors = VectorTable(segments["plain"], encoder.dimension)
        if not np.array_equal(self.plain_vectors.ids, self.sentence_index.ids):
            raise IndexUnavailable(f"index {version.path}: plain sentence vectors do not match the sentences")
        self.tokens = segments["tokens"]
        if not np.array_equal(self.tokens.live_ids(), self.sentence_index.ids):
            raise IndexUnavailable(f"index {version.path}: sentence content words do not match the sentences")
        self.sentence_chunk_ids = chunk_of[:, 1]  # the chunk of each sentence, in the sentence index's row order
        self.bm25 = load_bm25(version.path / BM25_DIR)
        self.bm25_chunk_ids = np.load(version.path / BM25_DIR / "chunk_ids.npy")
        self._bm25_order = np.argsort(self.bm25_chunk_ids, kind="stable")
        self.vocabulary = {t: i for t, i in self.bm25.vocab_dict.items() if t}
        indptr = np.asarray(self.bm25.scores["indptr"])
        self.document_frequency = np.zeros(len(self.bm25.vocab_dict), dtype=np.int64)
        self.document_frequency[: len(indptr) - 1] = np.diff(indptr)
        self.chunk_count = len(self.chunk_index)
        self.words = WordVectors.load(version.path, encoder.dimension).restricted_to(self.vocabulary)
        self.aliases = AliasTable.from_rows(self.db.execute("SELECT term, alias FROM aliases").fetchall())
        self._initials: dict[str, str | None] = {}
        self.articles = {
            row["id"]: ArticleRow(row["id"], row["title"], row["path"], row["url"], row["site"], row["date"],
                                  row["ingested_at"])
            for row in self.db.execute("SELECT id, title, path, url, site, date, ingested_at FROM articles")
        }

    def df(self, stem: str) -> int:
        """In how many chunks ``stem`` occurs (0 if never)."""
        row = self.vocabulary.get(stem)
        return 0 if row is None else int(self.document_frequency[row])

    def bm25_positions(self, chunk_ids: list[int]) -> np.ndarray:
        """The position of each chunk in the BM25 index's documents (``bm25_chunk_ids``), -1 if absent."""
        ids = np.asarray(chunk_ids, dtype=np.int64)
        if len(self.bm25_chunk_ids) == 0 or len(ids) == 0:
            return np.full(len(ids), -1, dtype=np.int64)
        where = np.minimum(np.searchsorted(self.bm25_chunk_ids, ids, sorter=self._bm25_order),
                           len(self.bm25_chunk_ids) - 1)
        positions = self._bm25_order[where]
        return np.where(self.bm25_chunk_ids[positions] == ids, positions, -1)

    def is_stale(self) -> bool:
        """True when another version has been published since this one was loaded."""
        return IndexStore(self.root).live_name() != self.version

    def chunk_ids_of(self, article_ids: set[str]) -> set[int]:
        """Ids of all chunks of the given articles."""
        ids = sorted(article_ids)
        marks = ",".join("?" * len(ids))
        return {r[0] for r in self.db.execute(f"SELECT id FROM chunks WHERE article_id IN ({marks})", ids)}

    def chunks(self, ids: list[int]) -> dict[int, ChunkRow]:
        rows = self._select("SELECT id, article_id, start, \"end\", section, text FROM chunks WHERE id IN ({})", ids)
        return {r[0]: ChunkRow(*r) for r in rows}

    def sentences_of(self, chunk_ids: list[int]) -> dict[int, list[SentenceRow]]:
        """Sentences of each chunk, in text order."""
        rows = self._select(
            'SELECT id, chunk_id, article_id, start, "end", text, role, list_group FROM sentences '
            "WHERE chunk_id IN ({}) ORDER BY start", chunk_ids)
        grouped: dict[int, list[SentenceRow]] = {i: [] for i in chunk_ids}
        for row in rows:
            grouped[row[1]].append(SentenceRow(*row))
        return grouped

    def list_sentences(self, article_id: str, list_group: int) -> list[SentenceRow]:
        """A list's lead-in and items, even when the list spans chunks."""
        rows = self.db.execute(
            'SELECT id, chunk_id, article_id, start, "end", text, role, list_group FROM sentences '
            "WHERE article_id = ? AND list_group = ? ORDER BY start", (article_id, list_group)).fetchall()
        return [SentenceRow(*r) for r in rows]

    def chunk_vector(self, chunk_id: int) -> np.ndarray:
        return self.chunk_index.vector(chunk_id)

    def section_vector(self, chunk_id: int) -> np.ndarray:
        """Vector of the heading the chunk sits under (the article title if none)."""
        return self.section_index.vector(chunk_id)

    def sentence_vectors_for(self, ids: list[int]) -> np.ndarray:
        """Vectors of sentences as embedded, under their heading."""
        return self.sentence_index.vectors[self.sentence_index.rows(ids)]

    def plain_vectors_for(self, ids: list[int]) -> np.ndarray:
        """Vectors of sentences on their own, without their heading."""
        return self.plain_vectors.vectors[self.plain_vectors.rows(ids)]

    def word_vectors_for(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The sentences' content words in context (``ingest/tokens.py``): their float32 rows, sentence after
        sentence, and how many rows each sentence has (at least one). Read back in one piece rather than a sentence
        at a time (60 MedQuAD sentences with ``words_met``: 1.29 ms instead of 1.54)."""
        found = self.tokens.groups(np.asarray(ids, dtype=np.int64))
        parts = [found[int(i)] for i in ids]
        counts = np.array([len(part) for part in parts], dtype=np.int64)
        if not parts:
            return np.zeros((0, self.encoder.dimension), dtype=np.float32), counts
        return dequantize(np.concatenate(parts)), counts

    @cached_property
    def _spelled(self) -> dict[str, str]:  # built when a question first needs it, not at load
        return dict(zip(self.words.stems, self.words.words))

    def spelled(self, stem: str) -> str | None:
        """How the articles write ``stem`` (a word of theirs), None if they do not use it."""
        return self._spelled.get(stem)

    def initials(self, acronym: str) -> str | None:
        """The words of the articles that ``acronym`` (lower case, letters) abbreviates: the commonest run of words
        with those first letters, none of them a stop word or shorter than three letters, found at least twice
        (counting words by their stems: "motor neuron disease(s)"); None if none is. "lmn" -> "lower motor
        neurons". Read, the first time an acronym is asked about, from the articles whose stored word initials
        (``ingest.aliases.word_initials``) hold it, then remembered."""
        if acronym not in self._initials:
            pattern = re.compile(r"\b" + r"[\s-]+".join(f"({re.escape(c)}[a-z]*)" for c in acronym) + r"\b", re.I)
            found: Counter[tuple[str, ...]] = Counter()
            written: dict[tuple[str, ...], str] = {}
            for (text,) in self.db.execute("SELECT text FROM articles WHERE instr(initials, ?)", (acronym,)):
                for match in pattern.finditer(text):
                    words = [w.lower() for w in match.groups()]
                    if all(len(w) > 2 and w not in STOPWORDS for w in words):
                        stems = tuple(stem_word(w) for w in words)
                        found[stems] += 1
                        written.setdefault(stems, " ".join(words))
            best = max(found.items(), key=lambda item: (item[1], written[item[0]]), default=None)
            self._initials[acronym] = written[best[0]] if best and best[1] >= 2 else None
        return self._initials[acronym]

    def article_text(self, article_id: str) -> str:
        row = self.db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            raise KeyError(f"no article {article_id!r} in index version {self.version}")
        return row[0]

    def _select(self, sql: str, ids: list[int]) -> list[tuple]:
        rows: list[tuple] = []
        for start in range(0, len(ids), 500):
            batch = [int(i) for i in ids[start:start + 500]]
            rows.extend(tuple(r) for r in self.db.execute(sql.format(",".join("?" * len(batch))), batch))
        return rows


def check_manifest(manifest: dict, encoder: Encoder, path: Path) -> None:
    """Refuse an index this code or this encoder cannot read, naming both sides."""
    found = manifest.get("format_version")
    if found != FORMAT_VERSION:
        raise IndexMismatch(
            f"index {path} has format version {found}, this code reads format {FORMAT_VERSION}: "
            "rebuild it with `python -m ingest`")
    model = manifest.get("model", {})
    if model.get("name") != encoder.name or model.get("dimension") != encoder.dimension:
        raise IndexMismatch(
            f"index {path} was built with model {model.get('name')} ({model.get('dimension')} dimensions), "
            f"but the query encoder is {encoder.name} ({encoder.dimension} dimensions): "
            "rebuild it with `python -m ingest`")


def load_index(root: Path, encoder: Encoder | None = None) -> Index:
    """Load the live version of the index at ``root``; questions are encoded by ``encoder``, by default the
    real model's ONNX export stored with the index (``ingest.encoder.query_encoder``).

    Also puts numpy's BLAS on one thread for the process (``numpy_blas_on_one_thread``).
    """
    numpy_blas_on_one_thread()
    if encoder is None:
        from ingest.encoder import query_encoder

        if IndexStore(root).live_name() is None:
            raise IndexUnavailable(f"no index at {root}: run `python -m ingest` first")
        encoder = query_encoder(Path(root))
    return Index(Path(root), encoder)


@lru_cache(maxsize=1)
def numpy_blas_on_one_thread() -> None:
    """Run numpy's own OpenBLAS on one thread in this process. Answering takes products of tens to hundreds of
    rows, which OpenBLAS splits over both cores; its threads then spin for a while and take the cores from
    the next encode or search. Measured on MedQuAD: ``answer()`` p50 27.9 -> 25.2 ms, and a bare torch encode
    right after an answer p95 110 -> 14 ms. Other libraries' thread pools (FAISS, onnxruntime, torch) keep theirs.
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    numpy_blas = {info["prefix"] for info in threadpool_info() if info["user_api"] == "blas"
                  and "numpy" in Path(info["filepath"]).as_posix()}
    if numpy_blas:
        threadpool_limits(limits={prefix: 1 for prefix in numpy_blas})
