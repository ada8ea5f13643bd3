"""python -m ingest [PATH ...] [--index DIR] [--json] [--rollback] [--strict]: articles → index.

python -m ingest --prepare-model: export the installed model to ONNX once (setup runs it), then exit.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ingest.load import display_path, source_files
from ingest.pipeline import Settings, StrictFailure, Summary, ingest
from ingest.store import IndexLocked, IndexStore, IndexUnavailable

EXIT_ERROR, EXIT_USAGE, EXIT_LOCKED = 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    defaults = Settings()
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Turn article files into the search index.")
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help=f"files or directories of articles (default: {display_path(defaults.corpus_dir)}/)")
    parser.add_argument("--index", type=Path, default=defaults.index_dir, metavar="DIR",
                        help=f"index directory (default: {display_path(defaults.index_dir)}/)")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument("--rollback", action="store_true", help="make the previous version live again")
    parser.add_argument("--strict", action="store_true", help="fail, changing nothing, if any source is skipped")
    parser.add_argument("--prepare-model", action="store_true",
                        help="export the installed model to ONNX for onnxruntime, once per installed model (setup "
                             "runs this), and exit")
    parser.add_argument("--max-bytes", type=int, default=defaults.max_bytes, metavar="N",
                        help=f"skip articles larger than N bytes (default: {defaults.max_bytes})")
    parser.add_argument("--target-tokens", type=int, default=defaults.target_tokens, metavar="N",
                        help=f"chunk size to aim for, in word pieces (default: {defaults.target_tokens})")
    return parser


def _print_summary(summary: Summary, index: Path) -> None:
    state = "published" if summary.published else "unchanged, nothing to do"
    print(f"index {display_path(index)}: live version {summary.version} ({state})")
    if summary.rebuild:
        print(f"  full rebuild: {summary.rebuild}")
    print(f"  added {len(summary.added)}, updated {len(summary.updated)}, removed {len(summary.removed)}, "
          f"unchanged {len(summary.unchanged)}; {summary.encoded} texts embedded")
    print(f"  {summary.articles} articles, {summary.chunks} chunks, {summary.sentences} sentences "
          f"in {summary.seconds:.1f} s")
    if summary.skipped:
        print(f"  skipped {len(summary.skipped)}:")
        for skip in summary.skipped:
            print(f"    {skip.path}: {skip.reason}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings(index_dir=args.index, max_bytes=args.max_bytes, target_tokens=args.target_tokens)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.prepare_model:
        return _prepare_model(args.paths)
    if args.rollback:
        if args.paths:
            print("error: --rollback takes no PATH", file=sys.stderr)
            return EXIT_USAGE
        return _rollback(settings, as_json=args.json)
    paths = args.paths or [settings.corpus_dir]
    try:
        from ingest.encoder import ingest_encoder

        source_files(paths)  # a missing path is reported before the model is prepared
        summary = ingest(paths, ingest_encoder(settings.index_dir), settings, strict=args.strict, progress=True)
    except IndexLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except StrictFailure as exc:
        for skip in exc.skipped:
            print(f"skipped {skip.path}: {skip.reason}", file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (FileNotFoundError, ValueError, IndexUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        print(json.dumps(summary.to_json()))
    else:
        _print_summary(summary, settings.index_dir)
    return 0


def _prepare_model(paths: list[Path]) -> int:
    if paths:
        print("error: --prepare-model takes no PATH", file=sys.stderr)
        return EXIT_USAGE
    import time

    from ingest.encoder import export_cache, prepare_model

    started = time.perf_counter()
    try:
        exported = prepare_model()
    except OSError as exc:
        print(f"error: cannot write the ONNX export to {export_cache()}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    where = display_path(export_cache())
    print(f"model: exported to ONNX in {where} in {time.perf_counter() - started:.1f} s" if exported
          else f"model: the ONNX export in {where} is current, nothing to do")
    return 0


def _rollback(settings: Settings, *, as_json: bool) -> int:
    store = IndexStore(settings.index_dir, keep=settings.keep_versions)
    try:
        with store.lock():
            before, after = store.rollback()
    except IndexLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except IndexUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if as_json:
        print(json.dumps({"rolled_back_from": before, "version": after}))
    else:
        print(f"index {display_path(settings.index_dir)}: rolled back from {before} to {after}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
