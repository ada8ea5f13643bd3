"""Profiles of the four scenarios the lead optimises, with py-spy; and a function-level summary of a profile.

    python -m bench.profile ingest  [--max-docs 2000]   fresh ingest of a MedQuAD subset
    python -m bench.profile answers [--max-docs N]      200 warm answer() calls (load excluded in the summary)
    python -m bench.profile edit    [--max-docs N]      re-ingest after one article gained a sentence
    python -m bench.profile cli                         python -m retrieval "..." on the seed index, cold
    python -m bench.profile summary FILE [--within F]   top functions of a raw py-spy profile

Profiles go to bench/results/ (git-ignored): <scenario>.txt (collapsed stacks, summarised on the terminal) and,
with --svg, <scenario>.svg from a second, separate run (a flame graph).
Without --max-docs, answers and edit use the full MedQuAD index (``python -m bench --only medquad`` builds it).
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.corpora import medquad_corpus, medquad_questions, seed_corpus
from ingest.load import ROOT

RESULTS = ROOT / "bench" / "results"
RATE = 100  # samples per second
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def py_spy(name: str, command: list[str], fmt: str) -> Path:
    """Record ``command`` with py-spy to <name>.txt (``fmt="raw"``, collapsed stacks) or <name>.svg."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out = RESULTS / f"{name}.{'txt' if fmt == 'raw' else 'svg'}"
    subprocess.run([spy, "record", "--rate", str(RATE), "--format", fmt, "-o", str(out), "--", *command],
                   cwd=ROOT, check=True)
    return out


def _frame_name(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    module = Path(match["file"]).with_suffix("").as_posix().split("site-packages/")[-1].replace("/", ".")
    return f"{module}.{match['function']}"


def summarise(raw: Path, *, within: str | None = None, top: int = 25) -> str:
    """Function-level table of a collapsed-stack profile: inclusive and self share of the samples.

    With ``within``, only samples whose stack passes through a function whose name contains ``within`` count.
    """
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_frame_name(f) for f in stack.split(";") if f]
        if within and not any(within in f for f in frames):
            continue
        n = int(count)
        total += n
        for name in set(frames):
            inclusive[name] += n
        if frames:
            own[frames[-1]] += n
    if not total:
        return f"{raw}: no samples{' within ' + within if within else ''}"
    lines = [f"{raw.name}: {total} samples ({total / RATE:.1f} s){' within ' + within if within else ''}",
             "inclusive  self  function"]
    for name, n in [item for item in inclusive.most_common() if not item[0].startswith(("<frozen", "runpy"))][:top]:
        lines.append(f"{100 * n / total:8.1f}% {100 * own[name] / total:5.1f}%  {name}")
    lines.append("top self time:")
    for name, n in own.most_common(top // 2):
        lines.append(f"{100 * n / total:8.1f}%  {name}")
    return "\n".join(lines)


def warm_answers(index_dir: Path, n: int) -> None:
    """Load the index, warm up, then answer ``n`` MedQuAD questions (what the answers profile records)."""
    from retrieval import QuestionError, answer, load_index

    index = load_index(index_dir)
    index.encoder.warm_up()
    questions = medquad_questions(set(index.articles), n)
    for question in questions[:5]:
        answer(question, index)
    for question in questions:
        try:
            answer(question, index)
        except QuestionError:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description="py-spy profiles of the benchmark.")
    parser.add_argument("scenario", choices=("ingest", "answers", "edit", "cli", "summary", "_answers"))
    parser.add_argument("path", nargs="?", type=Path, help="summary: the raw profile; _answers: the index")
    parser.add_argument("--max-docs", type=int, metavar="N")
    parser.add_argument("--questions", type=int, default=200, metavar="N")
    parser.add_argument("--within", help="summary: only samples under a function whose name contains this")
    parser.add_argument("--svg", action="store_true", help="also record a flame graph (runs the scenario again)")
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "bench", metavar="DIR")
    args = parser.parse_args(argv)
    if args.scenario == "summary":
        print(summarise(args.path, within=args.within))
        return 0
    if args.scenario == "_answers":
        warm_answers(args.path, args.questions)
        return 0
    for fmt in ("raw", "flamegraph") if args.svg else ("raw",):
        out = record(args, fmt)
        if fmt == "raw":
            print(summarise(out, within="warm_answers" if args.scenario == "answers" else None))
    return 0


def record(args, fmt: str) -> Path:
    """Run the scenario once under py-spy, from a fresh state (a new index copy, the edit made again)."""
    from bench.reingest import copy_live_index, edited_article

    python, cache = sys.executable, args.cache.resolve()
    if args.scenario == "cli":
        index = seed_corpus(cache).folder / "index"
        return py_spy("cli", [python, "-m", "retrieval", "What can trigger muscle twitches?", "--index", str(index)],
                      fmt)
    corpus = medquad_corpus(cache, args.max_docs or 2000 if args.scenario == "ingest" else args.max_docs)
    if args.scenario == "answers":
        return py_spy("answers", [python, "-m", "bench.profile", "_answers", str(corpus.index),
                                  "--questions", str(args.questions)], fmt)
    command = [python, "-m", "ingest", str(corpus.source), "--json"]
    with tempfile.TemporaryDirectory(prefix=f"profile-{args.scenario}-", dir=corpus.folder.parent) as scratch:
        if args.scenario == "ingest":
            return py_spy("ingest", command + ["--index", str(Path(scratch) / "index")], fmt)
        index = copy_live_index(corpus.index, Path(scratch))
        with edited_article(corpus):
            return py_spy("edit", command + ["--index", str(index)], fmt)


if __name__ == "__main__":
    sys.exit(main())
