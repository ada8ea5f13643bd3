"""The bare model on the texts an ingest embedded: the yardstick for ingest throughput.

The texts are reproduced with ingest's own functions (load, clean, chunk_article, section_text) and checked
against the hashes the built index stores, so the yardstick encodes exactly what the ingest encoded.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ingest.chunk import chunk_article
from ingest.clean import clean
from ingest.db import connect_readonly, section_text
from ingest.load import load_paths
from ingest.store import IndexStore
from ingest.types import Article, text_hash


@dataclass(frozen=True)
class BareEncode:
    """``texts`` of ``total`` encoded in ``seconds`` by one encoder alone."""

    texts: int
    total: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.texts / self.seconds


def article_texts(article: Article, encoder, *, target_tokens: int) -> dict[str, set[str]]:
    """What ingest embeds for one article: ``{"chunks"|"sections"|"sentences": texts}``."""
    chunks, sentences = chunk_article(article, clean(article), encoder.count_tokens, target_tokens=target_tokens,
                                      max_tokens=encoder.max_seq_length)
    return {"chunks": {c.embed_text for c in chunks}, "sections": {section_text(article, c) for c in chunks},
            "sentences": {s.embed_text for s in sentences}}


def embedded_texts(source: Path, index: Path, encoder) -> list[str]:
    """The distinct texts a fresh ingest of ``source`` into ``index`` encoded.

    Raises:
        RuntimeError: the reproduced texts do not hash to what the live version stores.
    """
    live = IndexStore(index).live()
    target = live.manifest["chunking"]["target_tokens"]
    articles, _ = load_paths([source], max_bytes=5_000_000)
    by_kind: dict[str, set[str]] = {"chunks": set(), "sections": set(), "sentences": set()}
    for article in articles:
        for kind, texts in article_texts(article, encoder, target_tokens=target).items():
            by_kind[kind] |= texts
    conn = connect_readonly(live.path)
    try:
        stored = {"chunks": {r[0] for r in conn.execute("SELECT embed_hash FROM chunks")},
                  "sections": {r[0] for r in conn.execute("SELECT section_hash FROM chunks")},
                  "sentences": {r[0] for r in conn.execute("SELECT embed_hash FROM sentences")}}
    finally:
        conn.close()
    for kind, texts in by_kind.items():
        if {text_hash(t) for t in texts} != stored[kind]:
            raise RuntimeError(f"reproduced {kind} texts do not match the index at {live.path}")
    return sorted(set().union(*by_kind.values()))


def bare_encode(model, texts: list[str], *, batch_size: int = 64, limit: int | None = None) -> BareEncode:
    """Time ``model.encode`` (a SentenceTransformer) on ``texts``, longest first, as ingest batches them.

    With ``limit``, every n-th text of the length order is taken (so the length mix is kept), at most ``limit``.
    """
    return timed_encode(lambda batch: model.encode(batch, batch_size=batch_size, normalize_embeddings=True,
                                                   convert_to_numpy=True, show_progress_bar=False),
                        texts, batch_size=batch_size, limit=limit)


def timed_encode(encode, texts: list[str], *, batch_size: int = 64, limit: int | None = None) -> BareEncode:
    """Time ``encode(texts)`` on ``texts`` (or the ``limit`` sample of ``bare_encode``), after one warm batch."""
    ordered = sorted(texts, key=len, reverse=True)
    step = max(1, -(-len(ordered) // limit)) if limit else 1
    sample = ordered[::step]
    encode(sample[:batch_size])  # warm: the first call pays setup
    started = time.perf_counter()
    encode(sample)
    return BareEncode(len(sample), len(ordered), time.perf_counter() - started)
