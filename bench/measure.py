"""Small measuring helpers: a child process's wall time and peak memory, percentiles, the machine's load."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.load import ROOT


@dataclass(frozen=True)
class ProcessRun:
    """A finished child process: exit code, wall seconds, peak resident set size in MB, its stdout."""

    returncode: int
    seconds: float
    max_rss_mb: float
    stdout: str


def run_measured(command: list[str], *, log: Path | None = None, env: dict | None = None,
                 stdin: str | None = None) -> ProcessRun:
    """Run ``command`` (cwd: project root; stderr to ``log``) and measure it. Peak memory is the child's own
    ``ru_maxrss`` (``os.wait4`` on its pid), so other children of this process do not count."""
    output = open(log, "w") if log else subprocess.DEVNULL
    try:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=output, text=True,
                                   stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                   env={**os.environ, **(env or {})})
        if stdin is not None:
            process.stdin.write(stdin)
            process.stdin.close()
        stdout = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log:
            output.close()
    return ProcessRun(process.returncode, seconds, usage.ru_maxrss / 1024, stdout)


def python_command(*args: str) -> list[str]:
    return [sys.executable, *args]


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50, p95, p99 and mean of ``seconds``, in milliseconds."""
    if not seconds:
        raise ValueError("no timings to summarise")
    ms = np.asarray(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean()), "n": len(ms)}


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


class LoadSampler:
    """The 1-minute load average, sampled every ``every`` seconds while the ``with`` block runs."""

    def __init__(self, every: float = 15.0) -> None:
        self.every = every
        self.samples: list[float] = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def summary(self) -> dict:
        return {"median": statistics.median(self.samples), "max": max(self.samples), "samples": len(self.samples)}


def tree_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 2**20


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
