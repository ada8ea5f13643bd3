"""The real model on the real corpus: verbatim spans, no boilerplate, the model's token limit, incremental updates.

One full ingest per module (the model loads once); tests that change the corpus put it back.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.db import connect_readonly, open_segments
from ingest.encoder import SentenceTransformerEncoder
from ingest.load import ROOT
from ingest.pipeline import Settings, Summary, ingest
from ingest.store import IndexStore
from ingest.types import text_hash

pytestmark = pytest.mark.integration

CORPUS = ROOT / "corpus"
BOILERPLATE = [
    "Getty Images", "Woman looking tired sitting on sofa", "Gary Foerster", "Arline Emard", "+13454700762376",
    "Hintz Shore", "Related Articles", "Top Articles", "Continue Reading", "hysterectomy", "Esthetician", "CBD oil",
    "doi:", "Curr Neuropharmacol", "Apr 10, 2024", "Jan 23, 2022",
]
EDITED = "multiple-sclerosis-twitching"
OLD_SENTENCE = "MS twitching is one of the more common symptoms suffered by people with this debilitating condition."
NEW_SENTENCE = "MS twitching is one of the most common symptoms reported by people with this condition."


class RecordingEncoder(SentenceTransformerEncoder):
    """The real model, remembering what it was asked to encode."""

    def __init__(self) -> None:
        super().__init__()
        self.encoded: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded.extend(texts)
        return super().encode(texts)

    def encode_with_tokens(self, texts: list[str]):
        self.encoded.extend(texts)
        return super().encode_with_tokens(texts)


@pytest.fixture(scope="module")
def encoder() -> RecordingEncoder:
    return RecordingEncoder()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, encoder) -> tuple[Path, Settings, Summary]:
    """A copy of the real corpus, ingested once with the real model."""
    root = tmp_path_factory.mktemp("integration")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = Settings(index_dir=root / "index")
    return corpus, settings, ingest([corpus], encoder, settings)


def live_rows(settings: Settings, query: str) -> list:
    live = IndexStore(settings.index_dir).live()
    conn = connect_readonly(live.path)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def live_hashes(settings: Settings, article_id: str | None = None) -> set[str]:
    where = f"WHERE article_id = '{article_id}'" if article_id else ""
    return {r[0] for r in live_rows(settings, f"SELECT embed_hash FROM chunks {where} "
                                              f"UNION SELECT section_hash FROM chunks {where} "
                                              f"UNION SELECT embed_hash FROM sentences {where}")}


def faiss_ids(settings: Settings) -> tuple[set[int], set[int]]:
    """Ids of the live chunk and sentence vectors (section vectors must carry exactly the chunk ids)."""
    live = IndexStore(settings.index_dir).live()
    ids = {kind: set(segments.live_ids().tolist()) for kind, segments in open_segments(live.path, live.manifest).items()}
    assert ids["sections"] == ids["chunks"]
    return ids["chunks"], ids["sentences"]


def test_the_corpus_ingests(workspace):
    _, settings, summary = workspace
    assert (len(summary.added), summary.skipped, summary.articles) == (5, [], 5)
    chunk_ids, sentence_ids = faiss_ids(settings)
    assert chunk_ids == {r[0] for r in live_rows(settings, "SELECT id FROM chunks")}
    assert sentence_ids == {r[0] for r in live_rows(settings, "SELECT id FROM sentences")}


def test_every_stored_span_is_the_original_file_text(workspace):
    _, settings, _ = workspace
    files = {r["id"]: (ROOT / r["path"]).read_bytes().decode("utf-8")
             for r in live_rows(settings, "SELECT id, path FROM articles")}
    rows = live_rows(settings, 'SELECT article_id, start, "end", text FROM chunks UNION ALL '
                               'SELECT article_id, start, "end", text FROM sentences')
    assert len(rows) > 100
    wrong = [(r["article_id"], r["start"], r["text"][:40]) for r in rows
             if files[r["article_id"]][r["start"]:r["end"]] != r["text"]]
    assert wrong == []


def test_no_boilerplate_is_stored(workspace):
    _, settings, _ = workspace
    texts = [r[0] for r in live_rows(settings, "SELECT text FROM chunks UNION ALL SELECT text FROM sentences")]
    assert [(s, t[:60]) for t in texts for s in BOILERPLATE if s in t] == []
    assert any("Fasciculations are rarely a symptom of MS." in t for t in texts)


def test_no_chunk_exceeds_the_models_limit(workspace, encoder):
    _, settings, _ = workspace
    rows = live_rows(settings, "SELECT embed_text, n_tokens FROM chunks")
    tokenizer = encoder.model.tokenizer  # the sentence-transformers model's own tokenizer
    lengths = [len(ids) for ids in tokenizer([r[0] for r in rows], add_special_tokens=True)["input_ids"]]
    assert max(lengths) <= encoder.model.max_seq_length == 256
    assert lengths == [r[1] for r in rows]


def test_editing_one_article_re_embeds_only_it(workspace, encoder):
    corpus, settings, _ = workspace
    path = corpus / f"{EDITED}.txt"
    original = path.read_text(encoding="utf-8")
    before = live_hashes(settings)
    path.write_text(original.replace(OLD_SENTENCE, NEW_SENTENCE), encoding="utf-8")
    try:
        encoder.encoded.clear()
        summary = ingest([corpus], encoder, settings)
        assert (summary.updated, len(summary.unchanged), summary.added, summary.removed) == ([EDITED], 4, [], [])
        encoded = {text_hash(t) for t in encoder.encoded}
        assert encoded == live_hashes(settings) - before
        assert encoded <= live_hashes(settings, EDITED)
        assert NEW_SENTENCE in encoder.encoded
    finally:
        path.write_text(original, encoding="utf-8")
        assert ingest([corpus], encoder, settings).updated == [EDITED]


def test_deleting_one_article_removes_it_from_both_stores(workspace, encoder, tmp_path):
    corpus, settings, _ = workspace
    chunk_ids = {r[0] for r in live_rows(settings, f"SELECT id FROM chunks WHERE article_id = '{EDITED}'")}
    sentence_ids = {r[0] for r in live_rows(settings, f"SELECT id FROM sentences WHERE article_id = '{EDITED}'")}
    assert chunk_ids and sentence_ids
    moved = tmp_path / f"{EDITED}.txt"
    shutil.move(corpus / f"{EDITED}.txt", moved)
    try:
        summary = ingest([corpus], encoder, settings)
        assert (summary.removed, len(summary.unchanged), summary.articles) == ([EDITED], 4, 4)
        assert live_rows(settings, f"SELECT COUNT(*) FROM chunks WHERE article_id = '{EDITED}'")[0][0] == 0
        assert live_rows(settings, f"SELECT COUNT(*) FROM sentences WHERE article_id = '{EDITED}'")[0][0] == 0
        live_chunks, live_sentences = faiss_ids(settings)
        assert chunk_ids.isdisjoint(live_chunks) and sentence_ids.isdisjoint(live_sentences)
        assert live_chunks == {r[0] for r in live_rows(settings, "SELECT id FROM chunks")}
    finally:
        shutil.move(moved, corpus / f"{EDITED}.txt")
        assert ingest([corpus], encoder, settings).added == [EDITED]
