"""The index directory: immutable versions, one atomic switch, rollback, and a lock for writers.

Layout::

    index/
      CURRENT               name of the live version, replaced atomically (os.replace)
      .lock                 held by the one running ingest (released by the OS if it dies)
      versions/v000007/     a complete, never modified version: manifest.json, meta.sqlite, *.faiss, bm25/
      versions/.build-*/    a version being written (or pruned); never read, removed by the next ingest if left behind

Readers resolve ``CURRENT`` once and read only finished version directories, so they never see a half-written
index; a crash at any moment leaves the previous ``CURRENT`` in place.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

FORMAT_VERSION = 8  # 2: section vectors; 3: vectors in segment files; 4: IVF instead of HNSW above 100k rows;
# 5: word vectors of the vocabulary (words.npz); 6: plain sentence vectors (without their heading);
# 7: sentences' content words in context (kind "tokens", ingest/tokens.py); 8: each article's word initials
SEGMENT_FORMATS = (3, 4, 5, 6, 7, 8)  # formats whose vector segments a rebuild may reuse
MANIFEST = "manifest.json"
_VERSION = re.compile(r"^v(\d{6})$")


class IndexLocked(RuntimeError):
    """Another ingest holds the index lock."""


class IndexUnavailable(RuntimeError):
    """The index directory is missing, empty, or cannot be used; the message says why."""


@dataclass(frozen=True)
class Version:
    """A published version: its name, directory and manifest."""

    name: str
    path: Path
    manifest: dict


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """Flush every file under ``path`` and the directories themselves to disk. Files hard-linked from an earlier
    version (more than one link) were flushed when that version was published."""
    for directory, _, files in os.walk(path):
        for name in files:
            file = os.path.join(directory, name)
            if os.stat(file).st_nlink > 1:
                continue
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(Path(directory))


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        # dumps, not dump: json.dump streams through the pure-Python encoder (0.1 s for MedQuAD's manifest)
        handle.write(json.dumps(data, sort_keys=True, separators=(",", ":")))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class IndexStore:
    """Versions of one index directory. Writers use ``lock()``; readers use ``live()``."""

    def __init__(self, root: Path, *, keep: int = 2) -> None:
        if keep < 1:
            raise ValueError(f"keep must be at least 1 (the version a rollback returns to), got {keep}")
        self.root = Path(root)
        self.versions = self.root / "versions"
        self.keep = keep

    # -- readers -------------------------------------------------------------------------------------------
    def live_name(self) -> str | None:
        """Name of the live version, or None when nothing was published yet."""
        try:
            name = (self.root / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        if not _VERSION.match(name):
            raise IndexUnavailable(f"{self.root / 'CURRENT'} names {name!r}, not a version like 'v000001'")
        return name

    def open(self, name: str) -> Version:
        path = self.versions / name
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise IndexUnavailable(f"version {name} of {self.root} is missing its manifest") from exc
        return Version(name, path, manifest)

    def live(self) -> Version | None:
        """The live version, or None when the index is empty."""
        name = self.live_name()
        return self.open(name) if name else None

    def published(self) -> list[str]:
        """Names of the finished versions on disk, oldest first."""
        if not self.versions.is_dir():
            return []
        return sorted(p.name for p in self.versions.iterdir() if _VERSION.match(p.name) and (p / MANIFEST).is_file())

    # -- writers -------------------------------------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the writer lock, or raise ``IndexLocked`` at once naming the holder."""
        self.root.mkdir(parents=True, exist_ok=True)
        owner = self.root / ".lock.owner"
        lock = FileLock(str(self.root / ".lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            holder = owner.read_text(encoding="utf-8").strip() if owner.exists() else "another process"
            raise IndexLocked(f"another ingest is already writing {self.root} ({holder}); wait for it to finish") from None
        try:
            owner.write_text(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}", encoding="utf-8")
            yield
        finally:
            owner.unlink(missing_ok=True)
            lock.release()

    def remove_stale_builds(self) -> list[str]:
        """Delete version directories a killed ingest left half-written. Call only under ``lock()``."""
        if not self.versions.is_dir():
            return []
        stale = [p for p in self.versions.iterdir() if p.name.startswith(".build-")]
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        return [p.name for p in stale]

    def begin(self) -> Path:
        """A fresh directory to write the next version into. Call only under ``lock()``."""
        self.versions.mkdir(parents=True, exist_ok=True)
        path = self.versions / f".build-{os.getpid()}-{time.time_ns()}"
        path.mkdir()
        return path

    def next_name(self) -> str:
        numbers = [int(_VERSION.match(n).group(1)) for n in self.published()]
        return f"v{max(numbers, default=0) + 1:06d}"

    def publish(self, build: Path, manifest: dict) -> str:
        """Finish ``build`` with its manifest and make it the live version in one atomic step."""
        name = self.next_name()
        manifest = {**manifest, "version": name, "format_version": FORMAT_VERSION}
        write_json_atomic(build / MANIFEST, manifest)
        fsync_tree(build)
        final = self.versions / name
        os.rename(build, final)
        _fsync_dir(self.versions)
        self._switch(name)
        self._prune()
        return name

    def rollback(self) -> tuple[str, str]:
        """Make the version before the live one live again. Returns (from, to). Call only under ``lock()``."""
        live = self.live()
        if live is None:
            raise IndexUnavailable(f"nothing to roll back: {self.root} has no published version")
        parent = live.manifest.get("parent")
        older = [n for n in self.published() if n < live.name]
        target = parent if parent in older else (older[-1] if older else None)
        if target is None:
            raise IndexUnavailable(f"cannot roll back {self.root}: {live.name} is the only version kept")
        self._switch(target)
        return live.name, target

    def _switch(self, name: str) -> None:
        tmp = self.root / ".CURRENT.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / "CURRENT")
        _fsync_dir(self.root)

    def _prune(self) -> None:
        """Keep the live version and the ``keep`` newest others (the rollback targets)."""
        live = self.live_name()
        others = [n for n in self.published() if n != live]
        for name in others[: max(0, len(others) - self.keep)]:
            # Renamed first, so a crash while deleting leaves a stale build, never a half-deleted version.
            doomed = self.versions / f".build-pruned-{name}"
            os.rename(self.versions / name, doomed)
            shutil.rmtree(doomed, ignore_errors=True)
