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
