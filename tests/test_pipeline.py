"""ingest(): incremental updates, rebuilds, failures that change nothing, and kill -9 at any moment."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from conftest import ARTICLES, FakeEncoder
from ingest.db import connect_readonly, open_segments
from ingest.load import display_path
from ingest.pipeline import Settings, StrictFailure, ingest
from ingest.store import FORMAT_VERSION, MANIFEST, IndexStore
from ingest.tokens import content_rows, quantize
from ingest.words import WordVectors
from ingest.types import text_hash

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
MS_EDITED = ARTICLES["ms.md"].replace("often affects the legs", "often affects both legs")
NEW_SENTENCE = "Spasticity is a common symptom of MS and often affects both legs."


@dataclass
class Snapshot:
    """The live version, read completely the way a reader would."""

    name: str
    manifest: dict
    articles: dict[str, str]  # id -> text
    chunks: dict[int, tuple[str, str]]  # id -> (article id, text)
    sentences: dict[int, tuple[str, str]]
    aliases: list[tuple[str, str, str]]
    chunk_vectors: dict[int, np.ndarray]
    sentence_vectors: dict[int, np.ndarray]
    embed_hashes: set[str]  # of every embedded text: chunks, their sections, sentences with and without heading
    term_words: dict[str, str]  # stem -> the word whose vector the nearest-word search uses

    def chunk_texts(self, article_id: str) -> list[str]:
        return [text for owner, text in self.chunks.values() if owner == article_id]


def snapshot(index_dir: Path) -> Snapshot:
    """Open the live version (CURRENT → manifest, SQLite, the vector segments) and check they agree."""
    live = IndexStore(index_dir).live()
    assert live is not None and (live.path / MANIFEST).is_file()
    conn = connect_readonly(live.path)
    try:
        articles = {r["id"]: r["text"] for r in conn.execute("SELECT id, text FROM articles")}
        chunks = {r["id"]: (r["article_id"], r["text"])
                  for r in conn.execute("SELECT id, article_id, text FROM chunks")}
        sentences = {r["id"]: (r["article_id"], r["text"])
                     for r in conn.execute("SELECT id, article_id, text FROM sentences")}
        aliases = [tuple(r) for r in conn.execute("SELECT term, alias, article_id FROM aliases ORDER BY rowid")]
        hashes = {r[0] for r in conn.execute(
            "SELECT embed_hash FROM chunks UNION SELECT section_hash FROM chunks UNION SELECT embed_hash FROM sentences "
            "UNION SELECT plain_hash FROM sentences")}
    finally:
        conn.close()
    segments = open_segments(live.path, live.manifest)
    terms = WordVectors.load(live.path, live.manifest["model"]["dimension"])
    chunk_ids, chunk_vectors = segments["chunks"].live()
    section_ids, _ = segments["sections"].live()
    sentence_ids, sentence_vectors = segments["sentences"].live()
    assert sorted(chunk_ids.tolist()) == sorted(chunks), "chunk rows and chunk vectors disagree"
    assert sorted(section_ids.tolist()) == sorted(chunks), "chunk rows and section vectors disagree"
    assert sorted(sentence_ids.tolist()) == sorted(sentences), "sentence rows and sentence vectors disagree"
    assert segments["tokens"].live_ids().tolist() == sorted(sentences), "sentence rows and their content words disagree"
    counts = live.manifest["counts"]
    assert (counts["articles"], counts["chunks"], counts["sentences"], counts["aliases"]) == (
        len(articles), len(chunks), len(sentences), len(aliases))
    assert sorted(live.manifest["articles"]) == sorted(articles)
    return Snapshot(live.name, live.manifest, articles, chunks, sentences, aliases,
                    dict(zip(chunk_ids.tolist(), chunk_vectors)), dict(zip(sentence_ids.tolist(), sentence_vectors)),
                    hashes, dict(zip(terms.stems, terms.words)))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", target_tokens=32)


@pytest.fixture
def indexed(corpus: Path, settings: Settings) -> Snapshot:
    """The conftest corpus, ingested once."""
    ingest([corpus], FakeEncoder(), settings)
    return snapshot(settings.index_dir)


def build_dirs(settings: Settings) -> list[str]:
    return sorted(p.name for p in (settings.index_dir / "versions").glob(".build-*"))


def test_first_ingest_adds_everything(corpus, settings, fake_encoder):
    summary = ingest([corpus], fake_encoder, settings)
    assert (summary.added, summary.updated, summary.removed, summary.unchanged, summary.skipped) == (
        ["als", "ms", "twitching"], [], [], [], [])
    assert (summary.version, summary.published, summary.rebuild) == ("v000001", True, None)
    index = snapshot(settings.index_dir)
    assert (summary.articles, summary.chunks, summary.sentences) == (3, len(index.chunks), len(index.sentences))
    assert index.articles == {
        "als": ARTICLES["als.txt"], "ms": ARTICLES["ms.md"], "twitching": ARTICLES["twitching.txt"]}
    assert summary.encoded == len(fake_encoder.encoded) == len(set(fake_encoder.encoded))  # each text once
    assert ("Muscle twitching", "fasciculations", "twitching") in index.aliases
    assert not any("Smith AB" in text for _, text in index.chunks.values())  # the reference list stayed out
    assert build_dirs(settings) == []


def test_each_sentences_content_words_are_the_encoders_in_context_of_its_plain_text(indexed, settings):
    live = IndexStore(settings.index_dir).live()
    conn = connect_readonly(live.path)
    rows = conn.execute("SELECT id, text, plain_hash FROM sentences").fetchall()
    conn.close()
    stored = open_segments(live.path, live.manifest)["tokens"].groups(np.array([r["id"] for r in rows]))
    assert sorted(stored) == sorted(r["id"] for r in rows) and all(len(v) for v in stored.values())
    assert live.manifest["vectors"]["tokens"]["rows"] == sum(len(r) for r in stored.values()) > len(rows)
    as_written = [r for r in rows if r["plain_hash"] == text_hash(r["text"])]  # not list items (lead-in prefixed)
    assert len(as_written) > len(rows) / 2
    _, tokens = FakeEncoder().encode_with_tokens([r["text"] for r in as_written])
    for row, (pieces, vectors) in zip(as_written, tokens):
        np.testing.assert_array_equal(stored[row["id"]], quantize(content_rows(pieces, vectors)))


def test_a_version_without_content_words_gives_none_to_reuse(indexed, settings):
    from ingest.db import published_vectors

    live = IndexStore(settings.index_dir).live()
    older = {**live.manifest, "vectors": {k: v for k, v in live.manifest["vectors"].items() if k != "tokens"}}
    sentence = "Muscle twitching, medically termed fasciculations, is common."
    wanted = {"tokens": {text_hash(sentence)}, "plain": {text_hash(sentence)}}
    assert list(published_vectors(live.path, live.manifest, wanted)["tokens"]) == [text_hash(sentence)]
    found = published_vectors(live.path, older, wanted)
    assert found["tokens"] == {} and list(found["plain"]) == [text_hash(sentence)]


def test_vectors_are_the_encoders_vectors_of_the_embedded_text(indexed, settings):
    conn = connect_readonly(settings.index_dir / "versions" / indexed.name)
    rows = conn.execute("SELECT id, embed_text FROM chunks").fetchall()
    conn.close()
    expected = FakeEncoder().encode([r["embed_text"] for r in rows])
    assert np.allclose(np.stack([indexed.chunk_vectors[r["id"]] for r in rows]), expected)


def bm25s_of_stored_stems(index_dir: Path):
    """A fresh bm25s index of the live version's chunks, from the stems stored with each chunk."""
    import bm25s

    conn = connect_readonly(IndexStore(index_dir).live().path)
    rows = conn.execute("SELECT id, stems FROM chunks ORDER BY id").fetchall()
    conn.close()
    retriever = bm25s.BM25()
    retriever.index([r["stems"].split() for r in rows], show_progress=False)
    return [r["id"] for r in rows], retriever


def assert_bm25_is_a_fresh_bm25s_index(index_dir: Path) -> None:
    from retrieval import load_index

    index = load_index(index_dir, FakeEncoder())
    ids, fresh = bm25s_of_stored_stems(index_dir)
    assert index.bm25_chunk_ids.tolist() == ids
    assert sorted(index.vocabulary) == sorted(t for t in fresh.vocab_dict if t)
    for words in [[t] for t in index.vocabulary] + [["spastic", "leg"], ["myelin", "nervous", "twitch"]]:
        np.testing.assert_array_equal(index.bm25.get_scores(words), fresh.get_scores(words))


def test_bm25_after_edits_is_a_fresh_bm25s_index_of_the_chunks(corpus, settings, indexed):
    assert_bm25_is_a_fresh_bm25s_index(settings.index_dir)
    (corpus / "ms.md").write_text(MS_EDITED, encoding="utf-8")
    (corpus / "als.txt").unlink()
    (corpus / "new.txt").write_text("Zinc Facts\n\nZinc helps wounds heal and supports the immune system.\n",
                                    encoding="utf-8")
    ingest([corpus], FakeEncoder(), settings)
    assert_bm25_is_a_fresh_bm25s_index(settings.index_dir)


def test_a_version_without_term_counts_gets_them_from_its_stored_stems(corpus, settings, indexed):
    from ingest.terms import COUNTS

    (IndexStore(settings.index_dir).live().path / "bm25" / COUNTS).unlink()  # as an index written before them
    (corpus / "ms.md").write_text(MS_EDITED, encoding="utf-8")
    ingest([corpus], FakeEncoder(), settings)
    assert (IndexStore(settings.index_dir).live().path / "bm25" / COUNTS).is_file()
    assert_bm25_is_a_fresh_bm25s_index(settings.index_dir)


def test_unchanged_corpus_encodes_and_publishes_nothing(corpus, settings, indexed, fake_encoder):
    summary = ingest([corpus], fake_encoder, settings)
    assert fake_encoder.encoded == []
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (
        [], [], [], ["als", "ms", "twitching"])
    assert (summary.version, summary.published, summary.encoded) == ("v000001", False, 0)
    assert IndexStore(settings.index_dir).published() == ["v000001"]


def test_editing_one_article_re_embeds_only_its_new_texts(corpus, settings, indexed, fake_encoder):
    (corpus / "ms.md").write_text(MS_EDITED, encoding="utf-8")
    summary = ingest([corpus], fake_encoder, settings)
    assert (summary.updated, summary.unchanged, summary.added, summary.removed) == (
        ["ms"], ["als", "twitching"], [], [])
    assert sorted(fake_encoder.encoded) == sorted(  # the changed chunk, the new sentence under its heading and
        [f"Multiple Sclerosis\nSpasticity\n{NEW_SENTENCE}", f"Spasticity: {NEW_SENTENCE}", NEW_SENTENCE,  # plain,
         "both"])  # and its new word
    after = snapshot(settings.index_dir)
    assert (after.name, after.manifest["parent"], after.articles["ms"]) == ("v000002", "v000001", MS_EDITED)
    assert NEW_SENTENCE in after.chunk_texts("ms")
    for article_id in ("als", "twitching"):  # untouched rows and vectors are carried over as they were
        assert after.chunk_texts(article_id) == indexed.chunk_texts(article_id)
    kept = [i for i, (owner, _) in after.chunks.items() if owner != "ms"]
    assert all(np.array_equal(after.chunk_vectors[i], indexed.chunk_vectors[i]) for i in kept)


def test_deleting_a_file_removes_its_rows_and_vectors(corpus, settings, indexed, fake_encoder):
    (corpus / "als.txt").unlink()
    summary = ingest([corpus], fake_encoder, settings)
    assert (summary.removed, summary.unchanged, summary.articles) == (["als"], ["ms", "twitching"], 2)
    assert fake_encoder.encoded == []
    after = snapshot(settings.index_dir)
    gone_chunks = {i for i, (owner, _) in indexed.chunks.items() if owner == "als"}
    gone_sentences = {i for i, (owner, _) in indexed.sentences.items() if owner == "als"}
    assert gone_chunks and gone_sentences
    assert "als" not in after.articles
    assert gone_chunks.isdisjoint(after.chunks) and gone_chunks.isdisjoint(after.chunk_vectors)
    assert gone_sentences.isdisjoint(after.sentences) and gone_sentences.isdisjoint(after.sentence_vectors)
    assert [a for a in after.aliases if a[2] == "als"] == []
    assert set(after.chunks) == set(indexed.chunks) - gone_chunks


def test_adding_a_file(corpus, settings, indexed, fake_encoder):
    (corpus / "cramps.txt").write_text("Night Cramps\n\nNight cramps wake people up.\n", encoding="utf-8")
    summary = ingest([corpus], fake_encoder, settings)
    assert (summary.added, summary.unchanged, summary.articles) == (["cramps"], ["als", "ms", "twitching"], 4)
    assert sorted(fake_encoder.encoded) == [  # the section vector embeds the title: the article has no heading
        "Night Cramps", "Night Cramps\nNight cramps wake people up.", "Night cramps wake people up.",
        "cramps", "night", "people", "wake"]  # and the words new to the index, for the nearest-word search
    assert snapshot(settings.index_dir).chunk_texts("cramps") == ["Night cramps wake people up."]


def test_renaming_a_file_removes_the_old_id_and_adds_the_new(corpus, settings, indexed, fake_encoder):
    (corpus / "als.txt").rename(corpus / "motor-neurons.txt")
    summary = ingest([corpus], fake_encoder, settings)
    assert (summary.added, summary.removed) == (["motor-neurons"], ["als"])
    assert sorted(snapshot(settings.index_dir).articles) == ["motor-neurons", "ms", "twitching"]


def test_a_file_that_breaks_keeps_its_previous_version(corpus, settings, indexed, fake_encoder):
    (corpus / "ms.md").write_bytes(b"\x00\x01 corrupted")
    (corpus / "als.txt").write_text(ARTICLES["als.txt"].replace("motor neurons", "motor nerve cells"), encoding="utf-8")
    summary = ingest([corpus], fake_encoder, settings)
    assert [(s.path, s.reason) for s in summary.skipped] == [
        (display_path(corpus / "ms.md"), "binary file (NUL byte at offset 0)")]
    assert (summary.updated, summary.removed, summary.articles) == (["als"], [], 3)
    after = snapshot(settings.index_dir)
    assert after.articles["ms"] == ARTICLES["ms.md"]
    assert after.chunk_texts("ms") == indexed.chunk_texts("ms")


def test_a_file_that_breaks_with_nothing_else_changed_publishes_nothing(corpus, settings, indexed, fake_encoder):
    (corpus / "ms.md").write_text("", encoding="utf-8")
    summary = ingest([corpus], fake_encoder, settings)
    assert ([s.reason for s in summary.skipped], summary.removed, summary.published) == (["empty file"], [], False)
    assert snapshot(settings.index_dir).articles["ms"] == ARTICLES["ms.md"]


def test_a_bad_jsonl_line_keeps_that_records_previous_version(tmp_path, settings, fake_encoder):
    folder = tmp_path / "records"
    folder.mkdir()
    path = folder / "records.jsonl"
    lines = ['{"id": "r1", "title": "One", "text": "Cramps hurt at night."}',
             '{"id": "r2", "title": "Two", "text": "Twitches are mostly harmless."}',
             '{"id": "r3", "title": "Three", "text": "Spasticity is stiffness."}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ingest([folder], fake_encoder, settings).added == ["r1", "r2", "r3"]
    path.write_text("\n".join([lines[0], '{"id": "r2", "text": ', lines[2]]) + "\n", encoding="utf-8")
    summary = ingest([folder], FakeEncoder(), settings)
    assert ([s.path for s in summary.skipped], summary.removed) == ([f"{display_path(path)}:2"], [])
    assert sorted(snapshot(settings.index_dir).articles) == ["r1", "r2", "r3"]
    path.write_text(lines[0] + "\n", encoding="utf-8")  # records deleted from a readable file do go
    assert ingest([folder], FakeEncoder(), settings).removed == ["r2", "r3"]


def test_deleting_every_file_leaves_an_empty_loadable_version(corpus, settings, indexed, fake_encoder):
    for path in corpus.iterdir():
        path.unlink()
    summary = ingest([corpus], fake_encoder, settings)
    assert (sorted(summary.removed), summary.articles, summary.chunks) == (["als", "ms", "twitching"], 0, 0)
    after = snapshot(settings.index_dir)
    assert (after.articles, after.chunks, after.sentences) == ({}, {}, {})


def test_ingesting_one_file_leaves_the_others(corpus, settings, indexed, fake_encoder):
    (corpus / "ms.md").write_text(MS_EDITED, encoding="utf-8")
    (corpus / "als.txt").unlink()  # outside the given path: not this run's business
    summary = ingest([corpus / "ms.md"], fake_encoder, settings)
    assert (summary.updated, summary.removed, summary.unchanged, summary.articles) == (["ms"], [], [], 3)
    assert sorted(snapshot(settings.index_dir).articles) == ["als", "ms", "twitching"]


@pytest.mark.parametrize("target_tokens, encoder, reason", [
    (32, FakeEncoder(name="other"), "model changed from fake-bag-of-words to other: re-embedding everything"),
    (32, FakeEncoder(max_seq_length=48), "model changed from "),
    (64, FakeEncoder(), "chunking changed from "),
])
def test_model_or_chunking_change_forces_a_full_rebuild(corpus, settings, indexed, target_tokens, encoder, reason):
    changed = Settings(index_dir=settings.index_dir, target_tokens=target_tokens)
    summary = ingest([corpus], encoder, changed)
    assert summary.rebuild.startswith(reason)
    assert (summary.published, summary.unchanged, summary.articles) == (True, ["als", "ms", "twitching"], 3)
    after = snapshot(settings.index_dir)
    assert after.manifest["model"]["name"] == encoder.name
    assert after.manifest["chunking"]["target_tokens"] == target_tokens
    assert after.articles == indexed.articles
    encoded = {text_hash(t) for t in encoder.encoded}
    assert summary.encoded == len(encoder.encoded) == len(encoded)
    if encoder.name == "fake-bag-of-words" and encoder.max_seq_length == 64:  # same model: only new texts
        assert encoded == after.embed_hashes - indexed.embed_hashes
        assert len(after.chunks) < len(indexed.chunks)  # the larger target did merge chunks
    else:  # another model: every text again, and every word of the vocabulary
        assert encoded == after.embed_hashes | {text_hash(w) for w in after.term_words.values()}


def test_an_index_of_format_6_gains_content_words_encoding_only_its_sentences(corpus, settings, indexed,
                                                                               fake_encoder):
    live = IndexStore(settings.index_dir).live()
    manifest = json.loads((live.path / MANIFEST).read_text(encoding="utf-8"))
    manifest["format_version"] = 6
    del manifest["vectors"]["tokens"]  # as written before sentences had content words
    (live.path / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    summary = ingest([corpus], fake_encoder, settings)
    assert summary.rebuild == f"format_version changed from 6 to {FORMAT_VERSION}: rebuilding everything"
    conn = connect_readonly(IndexStore(settings.index_dir).live().path)
    plain = {r[0] for r in conn.execute("SELECT plain_hash FROM sentences")}
    conn.close()
    assert {text_hash(t) for t in fake_encoder.encoded} == plain  # each sentence once, nothing else
    assert summary.encoded == len(plain)
    after = snapshot(settings.index_dir)  # which checks every sentence has its content words
    assert after.chunks == indexed.chunks  # rebuilt from the same articles, chunk vectors reused
    assert all(np.array_equal(after.chunk_vectors[i], indexed.chunk_vectors[i]) for i in after.chunks)


def test_rebuild_keeps_articles_outside_the_given_paths(corpus, settings, indexed):
    summary = ingest([corpus / "ms.md"], FakeEncoder(name="other"), settings)
    assert summary.rebuild is not None
    after = snapshot(settings.index_dir)
    assert after.articles == indexed.articles
    assert sorted(after.chunk_texts("als")) == sorted(indexed.chunk_texts("als"))


def test_strict_with_a_bad_file_changes_nothing(corpus, settings, indexed, fake_encoder):
    (corpus / "ms.md").write_text(MS_EDITED, encoding="utf-8")
    (corpus / "broken.txt").write_bytes(b"\xff\xfe")
    with pytest.raises(StrictFailure) as info:
        ingest([corpus], fake_encoder, settings, strict=True)
    assert [s.reason for s in info.value.skipped] == ["not UTF-8: invalid byte 0xff at offset 0"]
    assert fake_encoder.encoded == []
    assert IndexStore(settings.index_dir).published() == ["v000001"]
    assert snapshot(settings.index_dir).articles["ms"] == ARTICLES["ms.md"]
    assert build_dirs(settings) == []


def test_rollback_restores_the_previous_content(corpus, settings, indexed, fake_encoder):
    (corpus / "ms.md").write_text(MS_EDITED, encoding="utf-8")
    ingest([corpus], fake_encoder, settings)
    store = IndexStore(settings.index_dir)
    with store.lock():
        assert store.rollback() == ("v000002", "v000001")
    back = snapshot(settings.index_dir)
    assert back.articles == indexed.articles and back.chunks == indexed.chunks
    summary = ingest([corpus], FakeEncoder(), settings)  # the next ingest re-applies the edit on top of v1
    assert (summary.updated, summary.version) == (["ms"], "v000003")
    assert snapshot(settings.index_dir).manifest["parent"] == "v000001"


class FailingEncoder(FakeEncoder):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def encode(self, texts: list[str]) -> np.ndarray:
        raise self.error


@pytest.mark.parametrize("error", [RuntimeError("model crashed"), KeyboardInterrupt()])
def test_a_failure_during_the_build_leaves_the_live_version(corpus, settings, indexed, error):
    (corpus / "ms.md").write_text(MS_EDITED, encoding="utf-8")
    with pytest.raises(type(error)):
        ingest([corpus], FailingEncoder(error), settings)
    assert build_dirs(settings) == []
    after = snapshot(settings.index_dir)
    assert (after.name, after.articles) == ("v000001", indexed.articles)
    assert ingest([corpus], FakeEncoder(), settings).updated == ["ms"]  # the lock was released


# -- kill -9 ------------------------------------------------------------------------------------------------------
KILLABLE = f"""
import sys, time
from pathlib import Path
sys.path[:0] = [{str(ROOT)!r}, {str(TESTS)!r}]
from conftest import FakeEncoder
import ingest.terms as terms
import ingest.pipeline as pipeline
import ingest.store as store

PAUSE, SLOW = sys.argv[3], float(sys.argv[4])  # the phase to stop in; seconds per encode call


def phase(name):
    print("phase", name, flush=True)
    if name == PAUSE:
        time.sleep(120)


def pausing(name, function):
    def wrapper(*args, **kwargs):
        phase(name)
        return function(*args, **kwargs)
    return wrapper


class SlowEncoder(FakeEncoder):
    def encode(self, texts):
        phase("embedding")
        time.sleep(SLOW)
        return super().encode(texts)


terms.TermCounts.save = pausing("bm25", terms.TermCounts.save)
store.fsync_tree = pausing("publish-fsync", store.fsync_tree)
store.IndexStore._switch = pausing("publish-switch", store.IndexStore._switch)
store.IndexStore._prune = pausing("publish-prune", store.IndexStore._prune)
settings = pipeline.Settings(index_dir=Path(sys.argv[2]), target_tokens=32, encode_step=1)
phase("start")
pipeline.ingest([Path(sys.argv[1])], SlowEncoder(), settings)
print("done", flush=True)
"""


def long_article(n: int) -> str:
    return "Long Article\n\n" + "\n\n".join(f"Paragraph {i} tells how muscle number {i} twitches." for i in range(n))


@pytest.fixture
def killable(tmp_path, corpus, settings, indexed) -> tuple[Path, list[str]]:
    """A live index, then changes on disk that need a new version: the script that applies them, and its argv."""
    (corpus / "ms.md").write_text(MS_EDITED, encoding="utf-8")
    (corpus / "long.txt").write_text(long_article(100), encoding="utf-8")
    (corpus / "als.txt").unlink()
    script = tmp_path / "killable.py"
    script.write_text(KILLABLE, encoding="utf-8")
    return corpus, [sys.executable, str(script), str(corpus), str(settings.index_dir)]


def assert_recovers(corpus: Path, settings: Settings, before: Snapshot) -> None:
    """After a kill: the live version is whole (old or new), and the next ingest finishes and cleans up."""
    live = snapshot(settings.index_dir)
    assert live.name in ("v000001", "v000002")
    if live.name == "v000001":
        assert live.articles == before.articles
    for name in IndexStore(settings.index_dir).published():  # every finished version is a rollback target
        assert (settings.index_dir / "versions" / name / MANIFEST).is_file()
    summary = ingest([corpus], FakeEncoder(), settings)
    assert build_dirs(settings) == []
    after = snapshot(settings.index_dir)
    assert sorted(after.articles) == ["long", "ms", "twitching"]
    assert after.articles["ms"] == MS_EDITED
    assert summary.version == after.name


@pytest.mark.parametrize("pause", ["embedding", "bm25", "publish-fsync", "publish-switch", "publish-prune"])
def test_kill_9_in_each_phase_leaves_a_loadable_live_version(killable, settings, indexed, pause):
    corpus, argv = killable
    process = subprocess.Popen([*argv, pause, "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        for line in process.stdout:
            if line.strip() == f"phase {pause}":
                break
        else:
            pytest.fail(f"the ingest never reached phase {pause!r}")
        if pause in ("embedding", "bm25", "publish-fsync"):
            assert len(build_dirs(settings)) == 1  # a half-written build is on disk when the kill comes
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    expected_live = "v000002" if pause == "publish-prune" else "v000001"
    assert snapshot(settings.index_dir).name == expected_live
    assert_recovers(corpus, settings, indexed)


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3, 0.6, 1.0])
def test_kill_9_at_any_moment_leaves_a_loadable_live_version(killable, settings, indexed, delay):
    corpus, argv = killable
    process = subprocess.Popen([*argv, "none", "0.005"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "phase start\n"
        time.sleep(delay)  # not synchronisation: the point is to land anywhere in the run
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert process.returncode in (-signal.SIGKILL, 0)
    assert_recovers(corpus, settings, indexed)


def test_a_vector_is_reused_under_any_kind_that_holds_its_text(corpus, settings, indexed):
    from ingest.db import published_vectors

    live = IndexStore(settings.index_dir).live()
    before_plain = {**live.manifest, "vectors": {k: v for k, v in live.manifest["vectors"].items() if k != "plain"}}
    sentence = "Muscle twitching, medically termed fasciculations, is common."  # embedded as it is: no heading
    found = published_vectors(live.path, before_plain, {"plain": {text_hash(sentence)}, "chunks": set()})
    assert list(found["plain"]) == [text_hash(sentence)] and found["chunks"] == {}
    np.testing.assert_allclose(found["plain"][text_hash(sentence)], FakeEncoder().encode([sentence])[0], atol=1e-6)
