"""Data types shared by the ingest steps. Offsets always index into ``Article.text``."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Article:
    """One source article. ``text`` is the original text every offset points into.

    For ``.txt``/``.md`` files it is the file's decoded content, byte for byte; for ``.html`` it is the
    main text trafilatura extracts; for ``.jsonl`` it is the line's ``text`` field.
    """

    id: str
    title: str
    text: str
    path: str
    format: str
    url: str | None = None
    site: str | None = None
    date: str | None = None

    @property
    def content_hash(self) -> str:
        """Hash of everything that changes what gets indexed (text and the metadata shown or embedded)."""
        payload = json.dumps([self.title, self.text, self.url, self.site, self.date, self.path])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Block:
    """A line-level unit of an article: a heading, a paragraph, a list item, or excluded boilerplate."""

    kind: str  # "heading" | "paragraph" | "item" | "boilerplate"
    start: int
    end: int
    text: str
    reason: str = ""  # why a boilerplate block was excluded


@dataclass(frozen=True)
class Sentence:
    """A sentence (or list item) of a chunk, with its span in the article."""

    article_id: str
    chunk_ordinal: int
    text: str
    start: int
    end: int
    role: str  # "text" | "lead" (a line introducing a list) | "item" (a list item)
    list_group: int | None  # lead-in and items of one list share a number
    embed_text: str  # what the encoder sees: the item with its lead-in, else the sentence, under its heading
    plain_text: str = ""  # the same without the heading: the sentence judged on its own words


@dataclass(frozen=True)
class Chunk:
    """A contiguous span of article content inside one section."""

    article_id: str
    ordinal: int
    text: str
    start: int
    end: int
    section: str
    embed_text: str  # what the encoder sees: title and section as context, then the text
    n_tokens: int  # word pieces of embed_text, special tokens included


def text_hash(text: str) -> str:
    """Key under which an embedding of ``text`` is reused across ingests."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
