"""IndexStore: immutable versions, an atomic CURRENT, rollback, pruning and the writer lock."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ingest.store import FORMAT_VERSION, IndexLocked, IndexStore, IndexUnavailable

ROOT = Path(__file__).resolve().parent.parent


def publish(store: IndexStore, payload: str, **manifest) -> str:
    """Publish a version holding one data file with ``payload``."""
    build = store.begin()
    (build / "data.txt").write_text(payload, encoding="utf-8")
    return store.publish(build, {"payload": payload, **manifest})


def test_empty_store(tmp_path):
    store = IndexStore(tmp_path / "index")
    assert (store.live(), store.live_name(), store.published()) == (None, None, [])


def test_publish_makes_a_complete_live_version(tmp_path):
    store = IndexStore(tmp_path / "index")
    name = publish(store, "one", parent=None)
    live = store.live()
    assert (name, live.name, live.path) == ("v000001", "v000001", store.versions / "v000001")
    assert live.manifest == {"payload": "one", "parent": None, "version": "v000001", "format_version": FORMAT_VERSION}
    assert (live.path / "data.txt").read_text() == "one"
    assert (store.root / "CURRENT").read_text() == "v000001\n"
    assert [p.name for p in store.versions.iterdir()] == ["v000001"]  # the build directory became the version


def test_versions_count_up_and_prune_keeps_n_others(tmp_path):
    store = IndexStore(tmp_path / "index", keep=2)
    names = [publish(store, str(n)) for n in range(5)]
    assert names == ["v000001", "v000002", "v000003", "v000004", "v000005"]
    assert store.published() == ["v000003", "v000004", "v000005"]
    assert store.live_name() == "v000005"


def test_keep_one(tmp_path):
    store = IndexStore(tmp_path / "index", keep=1)
    for n in range(3):
        publish(store, str(n))
    assert store.published() == ["v000002", "v000003"]


def test_keep_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="got 0"):
        IndexStore(tmp_path, keep=0)


def test_rollback_returns_to_the_parent_and_publish_continues_numbering(tmp_path):
    store = IndexStore(tmp_path / "index", keep=3)
    first = publish(store, "one", parent=None)
    second = publish(store, "two", parent=first)
    assert store.rollback() == ("v000002", "v000001")
    assert (store.live().path / "data.txt").read_text() == "one"
    third = publish(store, "three", parent=store.live_name())
    assert third == "v000003"
    assert store.live().manifest["parent"] == "v000001"
    assert store.published() == [first, second, third]


def test_rollback_prefers_the_recorded_parent(tmp_path):
    store = IndexStore(tmp_path / "index", keep=5)
    publish(store, "one", parent=None)
    publish(store, "two", parent="v000001")
    publish(store, "three", parent="v000001")  # built on v1 after a rollback
    assert store.rollback() == ("v000003", "v000001")


def test_rollback_without_an_older_version(tmp_path):
    store = IndexStore(tmp_path / "index")
    with pytest.raises(IndexUnavailable, match="no published version"):
        store.rollback()
    publish(store, "one", parent=None)
    with pytest.raises(IndexUnavailable, match="v000001 is the only version"):
        store.rollback()
    assert store.live_name() == "v000001"


def test_unfinished_directories_are_not_versions(tmp_path):
    store = IndexStore(tmp_path / "index")
    publish(store, "one")
    (store.versions / "v000002").mkdir()  # no manifest: never finished
    store.begin()
    assert store.published() == ["v000001"]
    assert store.next_name() == "v000002"


def test_bad_current_is_reported(tmp_path):
    store = IndexStore(tmp_path / "index")
    store.root.mkdir(parents=True)
    (store.root / "CURRENT").write_text("../../etc\n")
    with pytest.raises(IndexUnavailable, match="names '../../etc'"):
        store.live()
    (store.root / "CURRENT").write_text("v000009\n")
    with pytest.raises(IndexUnavailable, match="v000009 .* missing its manifest"):
        store.live()


def test_remove_stale_builds(tmp_path):
    store = IndexStore(tmp_path / "index")
    publish(store, "one")
    stale = store.begin()
    (stale / "meta.sqlite").write_bytes(b"half written")
    (stale / "bm25").mkdir()
    assert store.remove_stale_builds() == [stale.name]
    assert sorted(p.name for p in store.versions.iterdir()) == ["v000001"]
    assert store.remove_stale_builds() == []
    assert IndexStore(tmp_path / "nothing").remove_stale_builds() == []


def test_readers_always_find_a_complete_version_while_versions_are_published(tmp_path):
    store = IndexStore(tmp_path / "index", keep=1000)
    publish(store, "0")
    stop = threading.Event()
    seen: list[str] = []
    problems: list[str] = []

    def read() -> None:
        reader = IndexStore(store.root)
        while not stop.is_set():
            try:
                live = reader.live()
                payload = (live.path / "data.txt").read_text()
                if payload != live.manifest["payload"]:
                    problems.append(f"{live.name}: {payload!r} != {live.manifest['payload']!r}")
                seen.append(live.name)
            except Exception as exc:  # any failure to resolve CURRENT to a whole version
                problems.append(repr(exc))

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        for n in range(1, 60):
            publish(store, str(n) * 1000)
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert problems == []
    assert len(set(seen)) > 1  # the readers did see versions change


def test_lock_held_by_another_process_fails_at_once_naming_its_pid(tmp_path):
    index = tmp_path / "index"
    script = (
        "import sys; from pathlib import Path; from ingest.store import IndexStore\n"
        "with IndexStore(Path(sys.argv[1])).lock():\n"
        "    print('locked', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", script, str(index)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        started = time.monotonic()
        with pytest.raises(IndexLocked) as info:
            with IndexStore(index).lock():
                pass
        assert time.monotonic() - started < 1.0
        assert f"pid {holder.pid}," in str(info.value)
        assert str(index) in str(info.value)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    with IndexStore(index).lock():  # released when the holder finished
        assert (index / ".lock.owner").read_text().startswith(f"pid {os.getpid()},")
    assert not (index / ".lock.owner").exists()


def test_lock_of_a_killed_process_is_released(tmp_path):
    index = tmp_path / "index"
    script = (
        "import sys, time; from pathlib import Path; from ingest.store import IndexStore\n"
        "with IndexStore(Path(sys.argv[1])).lock():\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", script, str(index)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "locked\n"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    with IndexStore(index).lock():  # the stale owner note does not block anyone
        assert (index / ".lock.owner").read_text().startswith(f"pid {os.getpid()},")


def test_second_lock_in_the_same_process_fails_too(tmp_path):
    store = IndexStore(tmp_path / "index")
    errors: list[str] = []

    def try_lock() -> None:
        try:
            with IndexStore(store.root).lock():
                errors.append("acquired")
        except IndexLocked as exc:
            errors.append(str(exc))

    with store.lock():
        thread = threading.Thread(target=try_lock)
        thread.start()
        thread.join(timeout=5)
    assert len(errors) == 1 and f"pid {os.getpid()}," in errors[0]


def test_a_crash_while_pruning_leaves_only_complete_versions(tmp_path, monkeypatch):
    store = IndexStore(tmp_path / "index", keep=1)
    publish(store, "one")
    publish(store, "two")

    def die_halfway(path, ignore_errors=False):
        (Path(path) / "data.txt").unlink()  # the first file is gone, then the process dies
        raise SystemExit("killed")

    monkeypatch.setattr("ingest.store.shutil.rmtree", die_halfway)
    with pytest.raises(SystemExit):
        publish(store, "three")
    monkeypatch.undo()
    assert store.live_name() == "v000003"
    for name in store.published():  # each one a rollback target that must load
        assert (store.versions / name / "data.txt").is_file(), f"{name} is listed but half deleted"
    assert store.rollback() == ("v000003", "v000002")
    store.remove_stale_builds()
    assert sorted(p.name for p in store.versions.iterdir()) == ["v000002", "v000003"]
