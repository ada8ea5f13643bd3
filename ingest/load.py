"""Read article files into ``Article`` objects, or say exactly why a file cannot be read."""
from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.clean import is_tail_marker
from ingest.types import Article

ROOT = Path(__file__).resolve().parent.parent
SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl")
METADATA_FILE = "metadata.toml"
METADATA_KEYS = ("title", "site", "url", "date", "collected_from")
_ID = re.compile(r"^[\w][\w.\-]{0,199}$")


class LoadError(Exception):
    """A source that cannot become an article; the message is the reason shown to the editor."""


@dataclass(frozen=True)
class Skip:
    """A source left out of the index, with the reason. ``path`` is a file, or ``file:line`` for a JSONL line."""

    path: str
    reason: str

    @property
    def file(self) -> str:
        """The file the skipped source came from."""
        return re.sub(r":\d+$", "", self.path)


def display_path(path: Path) -> str:
    """Path relative to the project root (with ``..`` if outside), the form stored in the index."""
    return os.path.relpath(path.resolve(), ROOT)


def read_metadata(directory: Path) -> dict[str, dict[str, str]]:
    """Read ``metadata.toml`` of a corpus directory: ``{file name: {title, site, url, date, collected_from}}``.

    Raises:
        ValueError: the file is not valid TOML or uses an unknown key; the message names file and key.
    """
    path = directory / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{display_path(path)}: invalid metadata file: {exc}") from exc
    for name, fields in table.items():
        if not isinstance(fields, dict):
            raise ValueError(f"{display_path(path)}: entry {name!r} must be a table like [\"{name}\"]")
        unknown = sorted(set(fields) - set(METADATA_KEYS))
        if unknown:
            raise ValueError(
                f"{display_path(path)}: entry {name!r} has unknown key(s) {unknown}; allowed: {list(METADATA_KEYS)}"
            )
        bad = [k for k, v in fields.items() if not isinstance(v, str)]
        if bad:
            raise ValueError(f"{display_path(path)}: entry {name!r}: {bad} must be strings")
        url = fields.get("url")
        if url is not None and not re.match(r"^https?://\S+$", url):
            raise ValueError(f"{display_path(path)}: entry {name!r}: url {url!r} must be an http:// or https:// address")
    return table


def decode(data: bytes) -> str:
    """Decode article bytes as UTF-8, refusing binary content. Offsets later index this exact string."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise LoadError(f"binary file (NUL byte at offset {nul})")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(f"not UTF-8: invalid byte 0x{data[exc.start]:02x} at offset {exc.start}") from exc


def _first_line_title(text: str) -> str | None:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if not line:
            continue
        if len(line) <= 150 and len(line.split()) <= 20 and not line.endswith((".", ",", ";", ":")):
            return None if is_tail_marker(line) else line  # "References" is no title
        return None
    return None


def _stem_title(path: Path) -> str:
    words = re.sub(r"[-_]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:]


def _optional(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _check_id(article_id: str) -> str:
    if not _ID.match(article_id):
        raise LoadError(f"invalid article id {article_id!r} (letters, digits, '.', '-', '_'; at most 200)")
    return article_id


def _html_article(text: str, path: Path, meta: dict[str, str]) -> Article:
    import trafilatura  # imported here: only HTML sources need it, and it is slow to import

    doc = trafilatura.bare_extraction(
        text, output_format="python", with_metadata=True, include_comments=False, include_tables=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    body = trafilatura.extract(text, output_format="markdown", include_comments=False, include_tables=True)
    if doc is None or not body or not body.strip():
        raise LoadError("no main text found in the HTML")
    return Article(
        id=_check_id(path.stem), title=meta.get("title") or _optional(doc.title) or _stem_title(path),
        text=body, path=display_path(path), format="html",
        url=meta.get("url") or _optional(doc.url), site=meta.get("site") or _optional(doc.sitename),
        date=meta.get("date") or _optional(doc.date),
    )


def load_file(path: Path, meta: dict[str, str] | None = None, *, max_bytes: int) -> Article:
    """Load one ``.txt``/``.md``/``.html`` file. ``meta`` is its entry from ``metadata.toml``.

    Raises:
        LoadError: empty, binary, not UTF-8, too large, unsupported, or no text.
    """
    meta = meta or {}
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED or suffix == ".jsonl":
        raise LoadError(f"unsupported extension {path.suffix!r} (supported: {' '.join(SUPPORTED)})")
    size = path.stat().st_size
    if size > max_bytes:
        raise LoadError(f"too large: {size} bytes > limit {max_bytes} (raise --max-bytes)")
    text = decode(path.read_bytes())
    if not text.strip():
        raise LoadError("empty file")
    if suffix in (".html", ".htm"):
        return _html_article(text, path, meta)
    return Article(
        id=_check_id(path.stem), title=meta.get("title") or _first_line_title(text) or _stem_title(path),
        text=text, path=display_path(path), format="md" if suffix in (".md", ".markdown") else "txt",
        url=meta.get("url"), site=meta.get("site"), date=meta.get("date"),
    )


def load_jsonl(path: Path, *, max_bytes: int) -> Iterator[Article | Skip]:
    """Yield one article per line (``id`` or ``_id``, ``title``, ``text``, optional ``url``/``site``/``source``/
    ``date``), or a ``Skip`` naming ``path:line`` for a line that cannot be used.

    Raises:
        LoadError: the file as a whole is empty, binary or not UTF-8.
    """
    shown = display_path(path)
    text = decode(path.read_bytes())
    if not text.strip():
        raise LoadError("empty file")
    # split("\n"), not splitlines(): JSON strings may hold raw U+2028, U+0085 and the like, which are not line ends.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{shown}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Skip(where, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(record, dict):
            yield Skip(where, f"expected a JSON object, got {type(record).__name__}")
            continue
        article_id = record.get("id", record.get("_id"))
        body = record.get("text")
        if not isinstance(article_id, str) or not article_id.strip():
            yield Skip(where, f"missing or non-string 'id': {article_id!r}")
            continue
        if not isinstance(body, str) or not body.strip():
            yield Skip(where, f"article {article_id!r}: missing or empty 'text'")
            continue
        if len(body.encode("utf-8")) > max_bytes:
            yield Skip(where, f"article {article_id!r}: too large: text > limit {max_bytes} bytes (raise --max-bytes)")
            continue
        try:
            _check_id(article_id)
        except LoadError as exc:
            yield Skip(where, str(exc))
            continue
        yield Article(
            id=article_id, title=_optional(record.get("title")) or article_id, text=body, path=shown,
            format="jsonl", url=_optional(record.get("url")),
            site=_optional(record.get("site")) or _optional(record.get("source")), date=_optional(record.get("date")),
        )


def source_files(paths: Iterable[Path]) -> list[Path]:
    """Files under ``paths`` in a stable order, without hidden files and metadata files.

    Raises:
        FileNotFoundError: a given path does not exist.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = [
                p for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and p.name != METADATA_FILE
            ]
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or directory: {str(path)!r}")
    return files


def load_paths(paths: Iterable[Path], *, max_bytes: int) -> tuple[list[Article], list[Skip]]:
    """Load every article under ``paths``. Bad sources become ``Skip`` entries; the rest load.

    A repeated article id keeps the first source (in path order) and skips the later one.
    """
    articles: list[Article] = []
    skipped: list[Skip] = []
    seen: dict[str, str] = {}
    metadata_cache: dict[Path, dict[str, dict[str, str]]] = {}
    for path in source_files(paths):
        directory = path.parent
        if directory not in metadata_cache:
            metadata_cache[directory] = read_metadata(directory)
        try:
            if path.suffix.lower() == ".jsonl":
                loaded = list(load_jsonl(path, max_bytes=max_bytes))
            else:
                loaded = [load_file(path, metadata_cache[directory].get(path.name), max_bytes=max_bytes)]
        except LoadError as exc:
            skipped.append(Skip(display_path(path), str(exc)))
            continue
        except OSError as exc:
            skipped.append(Skip(display_path(path), f"cannot read: {exc.strerror or exc}"))
            continue
        for item in loaded:
            if isinstance(item, Skip):
                skipped.append(item)
            elif item.id in seen:
                skipped.append(Skip(item.path, f"duplicate id {item.id!r} (already used by {seen[item.id]})"))
            else:
                seen[item.id] = item.path
                articles.append(item)
    return articles, skipped
