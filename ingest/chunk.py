"""Cut cleaned articles into section-aware chunks and sentences, each a verbatim span of the original.

A chunk never crosses a heading or an excluded block, keeps a list with the line that introduces it, and
never exceeds the encoder's ``max_seq_length`` in word pieces (counted, not estimated).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import blingfire

from ingest.clean import heading_text
from ingest.types import Article, Block, Chunk, Sentence

TokenCounter = Callable[[list[str]], list[int]]
"""Counts word pieces of each text, special tokens included (what the encoder would see)."""

CHUNKER_VERSION = 9  # bump when chunking rules change: indexes built with another version are rebuilt
# Abbreviations after which blingfire wrongly ends a sentence ("Dr. Smith", "e.g. caffeine").
_ABBREVIATION = re.compile(r"(?:\b(?:Dr|Mr|Mrs|Ms|Prof|St|Sr|Jr|vs|approx|Fig|No|Vol|Ref)|\be\.g|\bi\.e)\.$")
_LEADING_JUNK = re.compile(r"^[\s\-–•*·▪◦‣●○■]+")
_MIN_BUDGET = 8  # word pieces a chunk's text gets at least, next to its title and section


@dataclass(frozen=True)
class _Piece:
    """A sentence-sized span waiting to be packed into a chunk."""

    start: int
    end: int
    role: str
    list_group: int | None
    unit: int  # pieces of one unit (a paragraph, or a list with its lead-in) stay together when they fit
    embed_text: str


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` (shifted by ``offset``), trimmed of whitespace and leading bullets."""
    if not text.strip():
        return []
    _, raw = blingfire.text_to_sentences_and_offsets(text)
    merged: list[list[int]] = []
    for start, end in raw:
        if merged and _ABBREVIATION.search(text[merged[-1][0]:merged[-1][1]]):
            merged[-1][1] = end
        else:
            merged.append([start, end])
    spans = []
    for start, end in merged:
        piece = text[start:end]
        lead = len(_LEADING_JUNK.match(piece).group()) if _LEADING_JUNK.match(piece) else 0
        trail = len(piece) - len(piece.rstrip())
        if end - trail > start + lead:
            spans.append((offset + start + lead, offset + end - trail))
    return spans


def _units(article: Article, blocks: list[Block]) -> list[tuple[str, list[_Piece]]]:
    """Group content blocks into (section, pieces) runs that chunks may not cross.

    A paragraph (or item) ending in ":" followed by list items is a lead-in: it and its items form one unit
    and one list group. Items without a lead-in form a group of their own. A heading right under a question
    heading, before any text (a FAQ answer that opens with a bold line), names the section together with the
    question ("What cancers cause twitching? › Seizures and brain cancer"): the answer stays under its question.
    """
    text = article.text
    runs: list[tuple[str, list[_Piece]]] = []
    section, pieces = "", []
    unit = group = 0
    lead_text: str | None = None
    open_list = False  # the previous block was a lead-in or a one-sentence item of the current group
    for i, block in enumerate(blocks):
        if block.kind in ("heading", "boilerplate"):
            if pieces:
                runs.append((section, pieces))
            pieces, lead_text, open_list = [], None, False
            if block.kind == "heading":
                label = heading_text(block)
                under_question = section.endswith("?") and i > 0 and blocks[i - 1].kind == "heading"
                section = f"{section} › {label}" if under_question else label
            continue
        spans = split_sentences(block.text, block.start) or [(block.start, block.end)]
        is_lead = i + 1 < len(blocks) and blocks[i + 1].kind == "item" and block.text.rstrip().endswith(":")
        is_item = block.kind == "item" and len(spans) == 1 and not is_lead
        if not (is_item and open_list):
            unit += 1
            lead_text = None
        if is_item:
            start, end = spans[0]
            if not open_list:
                group += 1
            embed = f"{lead_text} {text[start:end]}" if lead_text else text[start:end]
            pieces.append(_Piece(start, end, "item", group, unit, embed))
            open_list = True
            continue
        for n, (start, end) in enumerate(spans):
            role = "lead" if is_lead and n == len(spans) - 1 else "text"
            pieces.append(_Piece(start, end, role, group + 1 if role == "lead" else None, unit, text[start:end]))
        if is_lead:
            group += 1
            lead_text = text[spans[-1][0]:spans[-1][1]]
        open_list = is_lead
    if pieces:
        runs.append((section, pieces))
    return runs


def _split_long(piece: _Piece, text: str, budget: int, count: TokenCounter) -> list[_Piece]:
    """Split a sentence longer than ``budget`` word pieces at word boundaries (inside a word too long alone)."""
    words = [(m.start() + piece.start, m.end() + piece.start) for m in re.finditer(r"\S+", text[piece.start:piece.end])]
    sizes = count([text[s:e] for s, e in words])
    parts, first = [], 0
    total = 2  # [CLS] and [SEP]
    for n, size in enumerate(sizes):
        size -= 2
        if total + size > budget and n > first:
            parts.append((words[first][0], words[n - 1][1]))
            first, total = n, 2
        total += size
    parts.append((words[first][0], words[-1][1]))
    exact = count([text[s:e] for s, e in parts])  # a single word (a URL, a formula) can still be over the budget
    parts = [cut for (s, e), size in zip(parts, exact)
             for cut in ([(s, e)] if size <= budget else _cut(s, e, text, budget, count))]
    return [_Piece(s, e, piece.role, piece.list_group, piece.unit, text[s:e]) for s, e in parts]


def _cut(start: int, end: int, text: str, budget: int, count: TokenCounter) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into the longest spans of at most ``budget`` word pieces, wherever they end."""

    def fits(first: int, stop: int) -> bool:
        return count([text[first:stop]])[0] <= budget

    spans = []
    while start < end:
        good, step = start + 1, 1  # one character always fits
        while good < end and fits(start, min(end, good + step)):  # gallop, then bisect: long runs stay cheap
            good, step = min(end, good + step), step * 2
        bad = min(end, good + step)
        while bad - good > 1:
            middle = (good + bad) // 2
            good, bad = (middle, bad) if fits(start, middle) else (good, middle)
        stop = good
        while text[stop - 1].isspace():
            stop -= 1
        spans.append((start, stop))
        start = good
        while start < end and text[start].isspace():
            start += 1
    return spans


def _fit_embed_texts(pieces: list[_Piece], text: str, count: TokenCounter, max_tokens: int) -> list[_Piece]:
    """Fall back to the bare sentence where it with its heading or lead-in would be too long to encode."""
    extended = [i for i, p in enumerate(pieces) if p.embed_text != text[p.start:p.end]]
    sizes = count([pieces[i].embed_text for i in extended]) if extended else []
    fitted = list(pieces)
    for i, size in zip(extended, sizes):
        if size > max_tokens:
            p = pieces[i]
            fitted[i] = _Piece(p.start, p.end, p.role, p.list_group, p.unit, text[p.start:p.end])
    return fitted


def _context(article: Article, section: str, count: TokenCounter, max_tokens: int) -> tuple[str, int]:
    """Title and section to embed before a chunk's text, with its word pieces (special tokens excluded).

    A title or heading can be any length: when both leave fewer than ``_MIN_BUDGET`` word pieces for the text,
    the section and then the title are left out of the context (never out of the text).
    """
    full = f"{article.title}\n{section}\n" if section and section != article.title else f"{article.title}\n"
    for context in (full, f"{article.title}\n"):
        tokens = count([context])[0] - 2
        if max_tokens - tokens >= _MIN_BUDGET:
            return context, tokens
    return "", 0


def chunk_article(
    article: Article, blocks: list[Block], count: TokenCounter, *, target_tokens: int, max_tokens: int
) -> tuple[list[Chunk], list[Sentence]]:
    """Pack an article's content into chunks of about ``target_tokens`` and at most ``max_tokens`` word pieces.

    Returns the chunks and their sentences; both carry spans with ``article.text[start:end] == text``.
    """
    if not 0 < target_tokens <= max_tokens:
        raise ValueError(f"need 0 < target_tokens <= max_tokens, got target_tokens={target_tokens}, max_tokens={max_tokens}")
    text = article.text
    chunks: list[Chunk] = []
    sentences: list[Sentence] = []
    for section, pieces in _units(article, blocks):
        # A sentence is embedded under its heading: a FAQ answer then matches its question. (Not under the title:
        # measured on the dev questions, a title shared by every sentence of an article blurs them; and this beats
        # approximating the heading's effect at query time from separate vectors.)
        if section:
            pieces = [replace(p, embed_text=f"{section}: {p.embed_text}") for p in pieces]
        context, context_tokens = _context(article, section, count, max_tokens)
        budget = max_tokens - context_tokens
        pieces = _fit_embed_texts(pieces, text, count, max_tokens)
        sizes = count([text[p.start:p.end] for p in pieces])
        flat: list[tuple[_Piece, int]] = []
        for piece, size in zip(pieces, sizes):
            if size > budget:
                parts = _split_long(piece, text, budget, count)
                flat.extend(zip(parts, count([text[p.start:p.end] for p in parts])))
            else:
                flat.append((piece, size))
        unit_size: dict[int, int] = {}
        for piece, size in flat:
            unit_size[piece.unit] = unit_size.get(piece.unit, 0) + size - 2
        groups: list[list[_Piece]] = [[]]
        used = context_tokens + 2
        for piece, size in flat:
            size -= 2
            current = groups[-1]
            if not current:
                overflow = False
            elif current[-1].unit != piece.unit:  # a whole unit joins the chunk only if it fits the target
                overflow = used + unit_size[piece.unit] > target_tokens
            else:  # a unit is cut only when it cannot fit one chunk at all
                overflow = unit_size[piece.unit] + context_tokens + 2 > max_tokens and used + size > target_tokens
            if overflow:
                groups.append([])
                used = context_tokens + 2
            groups[-1].append(piece)
            used += size
        for group in groups:
            chunks.extend(_emit(article, section, context, group, count, max_tokens, len(chunks), sentences))
    return chunks, sentences


def _emit(
    article: Article, section: str, context: str, group: list[_Piece], count: TokenCounter, max_tokens: int,
    ordinal: int, sentences: list[Sentence],
) -> list[Chunk]:
    """Turn packed pieces into chunks, splitting again if the exact count of the joined text is over the limit."""
    text = article.text
    start, end = group[0].start, group[-1].end
    embed = context + text[start:end]
    n_tokens = count([embed])[0]
    if n_tokens > max_tokens and len(group) > 1:
        half = len(group) // 2
        first = _emit(article, section, context, group[:half], count, max_tokens, ordinal, sentences)
        return first + _emit(article, section, context, group[half:], count, max_tokens, ordinal + len(first), sentences)
    if n_tokens > max_tokens:
        raise ValueError(f"chunk of {article.id!r} at {start}:{end} has {n_tokens} word pieces > {max_tokens}")
    prefix = f"{section}: " if section else ""
    for piece in group:
        plain = piece.embed_text[len(prefix):] if prefix and piece.embed_text.startswith(prefix) else piece.embed_text
        sentences.append(Sentence(
            article.id, ordinal, text[piece.start:piece.end], piece.start, piece.end, piece.role, piece.list_group,
            piece.embed_text, plain,
        ))
    return [Chunk(article.id, ordinal, text[start:end], start, end, section, embed, n_tokens)]
