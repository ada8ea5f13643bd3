"""copy_uncached: byte-identical copies, whole blocks or not, with or without O_DIRECT."""
from __future__ import annotations

import os

import pytest

from ingest.db import copy_uncached


@pytest.mark.parametrize("size", [0, 4096, 5000, (4 << 20) + 4096 + 3, 3 * (4 << 20)])
def test_copy_is_byte_identical(tmp_path, size):
    source = tmp_path / "source.sqlite"
    source.write_bytes(os.urandom(size))
    (tmp_path / "target.sqlite").write_bytes(b"old content, longer than nothing")
    copy_uncached(source, tmp_path / "target.sqlite")
    assert (tmp_path / "target.sqlite").read_bytes() == source.read_bytes()


def test_without_o_direct_it_copies_through_the_cache(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "O_DIRECT")
    source = tmp_path / "source.sqlite"
    source.write_bytes(os.urandom(5000))
    copy_uncached(source, tmp_path / "target.sqlite")
    assert (tmp_path / "target.sqlite").read_bytes() == source.read_bytes()


def _writer_with_one_article(path):
    import numpy as np

    from ingest.db import VersionWriter
    from ingest.types import Article, Chunk, Sentence

    text = "Twitching Basics\n\nMost twitches are harmless."
    article = Article("basics", "Twitching Basics", text, "corpus/basics.txt", "txt")
    chunk = Chunk("basics", 0, text[18:], 18, len(text), "", text, 8)
    sentence = Sentence("basics", 0, text[18:], 18, len(text), "text", None, text, text[18:])
    path.mkdir()
    writer = VersionWriter(path)
    ids = writer.add_article(article, [chunk], [sentence], [], [["twitch", "harmless"]])
    for kind in ("chunks", "sections", "sentences"):
        writer.add_vectors(kind, ids[kind], np.ones((1, 4), dtype=np.float32))
    writer.add_rows("tokens", ids["tokens"], [np.ones((2, 4), dtype=np.int8)])
    return writer, ids


def test_check_passes_when_every_row_has_its_vectors_and_names_the_kind_that_lacks_one(tmp_path):
    import numpy as np

    complete, ids = _writer_with_one_article(tmp_path / "complete")
    complete.add_vectors("plain", ids["plain"], np.ones((1, 4), dtype=np.float32))
    complete.check(np.array(ids["chunks"]))
    with pytest.raises(RuntimeError, match="chunks: 1 rows but 0 BM25 documents"):
        complete.check(np.zeros(0, dtype=np.int64))
    lacking, ids = _writer_with_one_article(tmp_path / "lacking")  # no plain vector for the sentence
    with pytest.raises(RuntimeError, match="plain: 1 rows without vectors, 0 vectors without rows"):
        lacking.check(np.array(ids["chunks"]))
