"""python -m retrieval "question" [--index DIR] [--k N] [--json]; without a question, one question per stdin line."""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from ingest.load import ROOT, display_path
from ingest.store import IndexUnavailable
from retrieval.answer import answer
from retrieval.index import Index, load_index
from retrieval.query import QuestionError, check_question
from retrieval.types import Answer, Extract

EXIT_ERROR, EXIT_BAD_QUESTION = 1, 2
NO_ANSWER = "These articles do not answer that question."


def extract_json(extract: Extract) -> dict:
    """An extract in the CLI's JSON shape (offsets index the article file's text)."""
    article = extract.article
    return {
        "text": extract.text, "start": extract.start, "end": extract.end, "score": extract.score,
        "stance": extract.stance or None,
        "article": {"id": article.id, "title": article.title, "url": article.url, "path": article.path,
                    "section": article.section, "site": article.site},
        "also_in": [{"id": a.id, "title": a.title, "start": a.start, "end": a.end, "path": a.path,
                     "section": a.section, "url": a.url} for a in extract.also_in],
    }


def answer_json(result: Answer) -> dict:
    return {
        "question": result.question, "abstained": result.abstained, "confidence": result.confidence,
        "disagreement": result.disagreement, "extracts": [extract_json(e) for e in result.extracts],
        "related": [extract_json(e) for e in result.related], "version": result.version, "read_as": result.read_as,
    }


def _cite(extract: Extract) -> str:
    article = extract.article
    where = f"{article.path}, characters {extract.start}-{extract.end}"
    section = f" › {article.section}" if article.section else ""
    link = f" <{article.url}>" if article.url else ""
    return f"{article.title}{section} ({where}){link}"


def format_answer(result: Answer) -> str:
    """The answer as a terminal reader wants it: extracts quoted, each with its citation."""
    lines = [f"Q: {result.question}" + (f"  (read as: {result.read_as})" if result.read_as else "")]
    if result.abstained:
        lines.append(NO_ANSWER)
        if result.related:
            lines.append("Closest passages (related, not answers):")
    elif result.disagreement:
        lines.append("Note: the articles disagree on this; both sides are shown.")
    for number, extract in enumerate(result.extracts or result.related, start=1):
        side = {"affirms": " [says yes]", "denies": " [says no/rarely]"}.get(extract.stance, "")
        quote = " ".join(extract.text.split())
        lines.append(textwrap.fill(f"{number}.{side} “{quote}”", width=100, subsequent_indent="   "))
        lines.append(f"   — {_cite(extract)}")
        for other in extract.also_in:
            lines.append(f"   also in: {other.title} ({other.path}, characters {other.start}-{other.end})")
    lines.append(f"confidence {result.confidence:.2f} · index {result.version}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m retrieval", description="Answer a question from the articles.")
    parser.add_argument("question", nargs="?", help="the question; without it, one question per line of stdin")
    parser.add_argument("--index", type=Path, default=ROOT / "index", metavar="DIR",
                        help=f"index directory (default: {display_path(ROOT / 'index')}/)")
    parser.add_argument("--k", type=int, default=5, metavar="N", help="at most N extracts (default: 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per question")
    return parser


def _report(question: str, error: QuestionError, as_json: bool) -> None:
    """Say why a question cannot be asked: a JSON object on stdout with --json, else a line on stderr."""
    if as_json:
        print(json.dumps({"question": question[:200], "error": str(error)}), flush=True)
    else:
        print(f"error: {error}", file=sys.stderr)


def _answer_one(question: str, index: Index, k: int, as_json: bool) -> bool:
    """Print the answer to one question; False (with a message) if the question cannot be asked."""
    try:
        result = answer(question, index, k=k)
    except QuestionError as exc:
        _report(question, exc, as_json)
        return False
    print(json.dumps(answer_json(result)) if as_json else format_answer(result) + "\n", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.k < 1:
        print(f"error: --k must be at least 1, got {args.k}", file=sys.stderr)
        return EXIT_BAD_QUESTION
    if args.question is not None:  # a bad question is reported before the model and index load
        try:
            check_question(args.question)
        except QuestionError as exc:
            _report(args.question, exc, args.json)
            return EXIT_BAD_QUESTION
    try:
        index = load_index(args.index)
    except IndexUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.question is not None:
        return 0 if _answer_one(args.question, index, args.k, args.json) else EXIT_BAD_QUESTION
    for line in sys.stdin:
        if line.strip():
            _answer_one(line.rstrip("\n"), index, args.k, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
