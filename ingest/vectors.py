"""Vectors of one kind (chunks, sections, sentences) as immutable segment files, like Lucene segments.

A version holds segments ``{kind}-{n}.npy`` (vectors, float32) with ``{kind}-{n}.ids.npy`` (their SQLite ids,
ascending) and ``{kind}-deleted.npy`` (ids deleted since). A kind in ``SEVERAL_ROWS`` (the content words of
sentences, ``ingest/tokens.py``) has several rows per id, one after another, as ``int8``: read with ``groups``.
A new version hard-links the segments it keeps and writes only what changed: editing one article of thousands
writes a few kilobytes, not the whole matrix.
Above ``ANN_MIN_ROWS`` vectors, ``{kind}-ann-{n}.ivf`` (a FAISS inverted-file index of 8-bit codes over some
segments) serves searches; the segments written after it are searched exactly until the next ingest rebuilds it.

IVF rather than HNSW, by measurement (see README, Performance): MedQuAD's 178k sentence vectors hold 49k exact
duplicates (templated sentences), and HNSW (M=32, efConstruction=80) reached recall@10 0.83 at efSearch 96 and
0.89 at 1024 against exact search, where IVF (1024 lists, nprobe 128) reached 0.955 at 1.7 ms a query
(exact: 25 ms). On a million text-like vectors IVF also beat HNSW (bench --ann).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

ANN_MIN_ROWS = 100_000  # from here on an exact search costs over 10 ms a query row on 2 cores
ANN_STALE_SHARE = 0.1  # rebuild the ANN index once this share of rows is new or deleted since it was built
IVF_LISTS, IVF_PROBES = 1024, 128  # recall@10 0.955 on MedQuAD sentences, 0.98 on 1M text-like vectors
IVF_TRAIN_PER_LIST = 50  # k-means trains on at most this many vectors per list (a fixed, seeded sample)
SEVERAL_ROWS = {"tokens": np.int8}  # kinds with several rows per id, and the type they are stored as
LOOKUP_ONLY = ("sections", "plain", *SEVERAL_ROWS)  # kinds read by id, never searched: no ANN index
MAX_SEGMENTS = 16  # more than this, or a quarter of rows deleted, and the segments are merged into one


@dataclass
class Segments:
    """The segment files of one kind in one version directory, with pending additions and deletions."""

    folder: Path
    kind: str
    names: list[str] = field(default_factory=list)  # segment file stems, oldest first: "sentences-000003"
    deleted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ann: dict | None = None  # {"file", "segments"}: the IVF index and the segments it covers

    @classmethod
    def open(cls, folder: Path, kind: str, entry: dict | None) -> Segments:
        """The segments a manifest's ``vectors[kind]`` entry names (an empty store when ``entry`` is None)."""
        if not entry:
            return cls(folder, kind)
        deleted = np.load(folder / f"{kind}-deleted.npy") if entry.get("deleted") else np.zeros(0, dtype=np.int64)
        return cls(folder, kind, list(entry["segments"]), deleted, entry.get("ann"))

    def _ids(self, name: str) -> np.ndarray:
        return np.load(self.folder / f"{name}.ids.npy", mmap_mode="r")

    def _vectors(self, name: str) -> np.ndarray:
        return np.load(self.folder / f"{name}.npy", mmap_mode="r")

    def rows(self) -> int:
        """Live vectors: all segment rows minus the deleted ones (all the rows of a deleted id)."""
        if self.kind in SEVERAL_ROWS:
            return sum(int(np.count_nonzero(~np.isin(self._ids(n), self.deleted))) for n in self.names)
        return sum(len(self._ids(n)) for n in self.names) - len(self.deleted)

    def live(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every live vector, ids ascending."""
        if not self.names:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        ids = np.concatenate([self._ids(n) for n in self.names])
        vectors = np.concatenate([self._vectors(n) for n in self.names])
        keep = ~np.isin(ids, self.deleted)
        return ids[keep], vectors[keep]

    def live_ids(self) -> np.ndarray:
        """Each live id once, ascending. (Ids are rowids, so every segment's ids are ascending and above those of
        the segments before it.) For a kind in ``SEVERAL_ROWS``, the runs of an id's rows are read as one id
        without sorting: MedQuAD's 2,016,786 rows of content words give their 178,343 ids in a few milliseconds
        instead of a 0.2 s ``np.unique``."""
        if not self.names:
            return np.zeros(0, dtype=np.int64)
        ids = np.concatenate([_runs(self._ids(n)) if self.kind in SEVERAL_ROWS else self._ids(n) for n in self.names])
        return ids[~np.isin(ids, self.deleted)]

    def ann_ids(self) -> np.ndarray:
        """Ids in the segments the ANN index covers (deleted ones included: the search skips those)."""
        if not self.ann:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([self._ids(n) for n in self.ann["segments"]])

    def get(self, ids: np.ndarray) -> dict[int, np.ndarray]:
        """Vectors of the given live ids (reading only those rows)."""
        wanted = np.setdiff1d(np.asarray(ids, dtype=np.int64), self.deleted)
        found: dict[int, np.ndarray] = {}
        for name in self.names:
            segment_ids = self._ids(name)
            rows = np.searchsorted(segment_ids, wanted)
            hit = (rows < len(segment_ids)) & (segment_ids[np.minimum(rows, len(segment_ids) - 1)] == wanted)
            if hit.any():
                vectors = self._vectors(name)
                found.update(zip(wanted[hit].tolist(), np.asarray(vectors[rows[hit]])))
        return found

    def groups(self, ids: np.ndarray) -> dict[int, np.ndarray]:
        """All rows of each given live id (a kind in ``SEVERAL_ROWS``), reading only those rows."""
        wanted = np.setdiff1d(np.asarray(ids, dtype=np.int64), self.deleted)
        found: dict[int, np.ndarray] = {}
        for name in self.names:
            segment_ids = self._ids(name)
            starts, ends = np.searchsorted(segment_ids, wanted), np.searchsorted(segment_ids, wanted, side="right")
            if (ends > starts).any():
                vectors = self._vectors(name)
                found.update((int(i), np.asarray(vectors[a:b])) for i, a, b in zip(wanted, starts, ends) if b > a)
        return found

    def delete(self, ids: list[int]) -> None:
        self.deleted = np.union1d(self.deleted, np.asarray(ids, dtype=np.int64))

    def link_into(self, folder: Path) -> Segments:
        """The same segments in ``folder``: hard links (a copy where the file system cannot link)."""
        for name in self.names:
            for suffix in (".npy", ".ids.npy"):
                _link(self.folder / f"{name}{suffix}", folder / f"{name}{suffix}")
        if self.ann:
            _link(self.folder / self.ann["file"], folder / self.ann["file"])
        return Segments(folder, self.kind, list(self.names), self.deleted.copy(), self.ann)

    def write(self, ids: np.ndarray, vectors: np.ndarray, *, number: int) -> dict:
        """Add a segment of new vectors (if any), merge when fragmented, refresh the IVF index when due, and write
        the deletions. Returns the manifest entry. Call once, on a store in a build directory."""
        if len(ids):
            name = f"{self.kind}-{number:06d}"
            np.save(self.folder / f"{name}.ids.npy", np.asarray(ids, dtype=np.int64))
            np.save(self.folder / f"{name}.npy", np.asarray(vectors, dtype=SEVERAL_ROWS.get(self.kind, np.float32)))
            self.names.append(name)
        total = sum(len(self._ids(n)) for n in self.names)
        if self.names and (len(self.names) > MAX_SEGMENTS or 4 * (total - self.rows()) > total):
            self._merge(number)
        self._refresh_ann(number)
        if len(self.deleted):
            np.save(self.folder / f"{self.kind}-deleted.npy", self.deleted)
        return {"segments": self.names, "deleted": int(len(self.deleted)), "rows": self.rows(), "ann": self.ann}

    def _merge(self, number: int) -> None:
        ids, vectors = self.live()
        name = f"{self.kind}-{number:06d}m"
        for old in self.names:
            for suffix in (".npy", ".ids.npy"):
                (self.folder / f"{old}{suffix}").unlink(missing_ok=True)
        np.save(self.folder / f"{name}.ids.npy", ids)
        np.save(self.folder / f"{name}.npy", vectors)
        self.names, self.deleted = [name], np.zeros(0, dtype=np.int64)

    def _refresh_ann(self, number: int) -> None:
        if self.kind in LOOKUP_ONLY or (rows := self.rows()) < ANN_MIN_ROWS:
            self._drop_ann()
            return
        if self.ann:
            covered = set(self.ann["segments"])
            fresh = sum(len(self._ids(n)) for n in self.names if n not in covered)
            if covered <= set(self.names) and fresh + len(self.deleted) <= ANN_STALE_SHARE * rows:
                return
        self._drop_ann()
        ids, vectors = self.live()
        quantizer = faiss.IndexFlatIP(vectors.shape[1])
        lists = min(IVF_LISTS, max(1, len(vectors) // 100))  # IVF_LISTS from 102,400 rows on
        # 8-bit codes: a quarter of the memory a search scans (retrieval/dense.py ranks what it finds in float32)
        ivf = faiss.IndexIVFScalarQuantizer(quantizer, vectors.shape[1], lists, faiss.ScalarQuantizer.QT_8bit_uniform,
                                            faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), IVF_TRAIN_PER_LIST * lists),
                                                 replace=False)
        ivf.train(np.ascontiguousarray(vectors[np.sort(sample)]))
        index = faiss.IndexIDMap(ivf)
        index.add_with_ids(np.ascontiguousarray(vectors), ids)
        file = f"{self.kind}-ann-{number:06d}.ivf"
        faiss.write_index(index, str(self.folder / file))
        self.ann = {"file": file, "segments": list(self.names)}

    def _drop_ann(self) -> None:
        if self.ann:
            (self.folder / self.ann["file"]).unlink(missing_ok=True)
            self.ann = None


def _runs(ids: np.ndarray) -> np.ndarray:
    """The first id of each run of equal ids in ascending ``ids``: each id once."""
    ids = np.asarray(ids)
    return ids[np.concatenate([[True], ids[1:] != ids[:-1]])] if len(ids) else ids


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        import shutil

        shutil.copyfile(source, target)
