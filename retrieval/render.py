"""HTML for the page, built from answer data: pure functions that escape every piece of article text.

Every string that comes from an article, its metadata or the user passes through ``html.escape`` here, and
highlights are placed by character offsets (never by searching for the text), checked against the text first.
"""
from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from retrieval.types import AlsoIn, Citation, Extract

CITED_ID = "qa-cited"  # the highlighted span in the whole-article view, scrolled into view

STYLE = """<style>
.qa-notice{border-left:4px solid #7aa2d6;background:rgba(122,162,214,.12);padding:.6rem .9rem;border-radius:.3rem;
  line-height:1.5;margin:.2rem 0 .4rem 0}
.qa-disagree{border-left-color:#d9a441;background:rgba(217,164,65,.12)}
.qa-asked{font-size:.95rem;opacity:.8;margin:.2rem 0 .6rem 0}
.qa-plain{font-size:1.15rem;font-weight:600;margin:.4rem 0 .2rem 0}
.qa-passage{white-space:pre-wrap;line-height:1.65;font-size:1.02rem}
.qa-ctx{opacity:.72}
.qa-article .qa-ctx{opacity:1}
.qa-passage mark,.qa-article mark{background:#ffe27a;color:#1d1d1f;padding:.08em .18em;border-radius:.2em;
  -webkit-box-decoration-break:clone;box-decoration-break:clone}
[class*="st-key-related-"]{border-style:dashed!important}
[class*="st-key-related-"] .qa-passage mark{background:#e2e6ed}
.qa-label{display:inline-block;font-size:.78rem;font-weight:600;letter-spacing:.02em;text-transform:uppercase;
  opacity:.75;margin-bottom:.35rem}
.qa-cite{margin-top:.7rem;padding-top:.55rem;border-top:1px solid rgba(128,128,128,.25);font-size:.92rem;
  line-height:1.45}
.qa-cite-meta,.qa-also-meta{font-size:.8rem;opacity:.7;margin-top:.15rem;word-break:break-word}
.qa-also{margin-top:.55rem;font-size:.88rem;line-height:1.45}
.qa-also ul{margin:.2rem 0 0 1.1rem;padding:0}
.qa-also li{margin:.25rem 0}
.qa-side{font-weight:600;font-size:1.05rem;margin:.6rem 0 .1rem 0}
.qa-article-head{font-size:.92rem;line-height:1.45;margin-bottom:.5rem}
.qa-article{white-space:pre-wrap;line-height:1.6;max-height:62vh;overflow-y:auto;padding:.6rem .8rem;
  border:1px solid rgba(128,128,128,.3);border-radius:.4rem}
.qa-articles{font-size:.88rem;line-height:1.4}
.qa-articles li{margin:.1rem 0 .55rem 0}
.qa-articles ul{margin:0 0 0 1rem;padding:0}
</style>"""


class OffsetMismatch(ValueError):
    """A span's offsets do not select its text in the given window: the highlight would be wrong."""


class ArticleInfo(Protocol):
    """What the article list shows (``retrieval.index.ArticleRow`` has these fields)."""

    title: str
    site: str | None
    date: str | None
    ingested_at: str


def esc(text: str) -> str:
    """Text made safe for HTML, quotes included (so it may also sit in an attribute)."""
    return html.escape(text, quote=True)


def marked(window: str, offset: int, start: int, end: int, expected: str, *, mark_id: str = "") -> str:
    """Escaped ``window`` with the article span ``[start, end)`` in ``<mark>``; ``window`` begins at ``offset``.

    Raises:
        OffsetMismatch: the span is not inside the window, or the window's text there is not ``expected``.
    """
    lo, hi = start - offset, end - offset
    if not (0 <= lo <= hi <= len(window)) or window[lo:hi] != expected:
        raise OffsetMismatch(f"characters {start}-{end} do not hold the cited text in the window at {offset}")
    return (f'<span class="qa-ctx">{esc(window[:lo])}</span>{_mark_lines(window[lo:hi], mark_id)}'
            f'<span class="qa-ctx">{esc(window[hi:])}</span>')


def _mark_lines(span: str, mark_id: str) -> str:
    """``span`` escaped and marked line by line, so blank lines and indents between paragraphs stay unmarked."""
    pieces = []
    for line in span.split("\n"):
        text = line.strip()
        if not text:
            pieces.append(esc(line))
            continue
        lead, trail = line[: len(line) - len(line.lstrip())], line[len(line.rstrip()):]
        attribute = f' id="{esc(mark_id)}"' if mark_id else ""
        mark_id = ""  # the id goes on the first marked line only
        pieces.append(f"{esc(lead)}<mark{attribute}>{esc(text)}</mark>{esc(trail)}")
    return "\n".join(pieces)


def context_window(extract: Extract, article_text: str | None = None) -> tuple[str, int]:
    """The text to show around an extract and the article offset it starts at: its passage when that holds
    the extract, else the article text from the passage's start to wherever the extract ends."""
    passage = extract.passage
    if passage.start <= extract.start and extract.end <= passage.end:
        return passage.text, passage.start
    if article_text is None:
        raise OffsetMismatch(f"characters {extract.start}-{extract.end} lie outside their passage; need the article")
    lo, hi = min(passage.start, extract.start), max(passage.end, extract.end)
    return article_text[lo:hi], lo


def safe_url(url: str | None) -> str | None:
    """``url`` if it is a plain web address (http or https with a host), else None: never a script URL."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _title_and_section(title: str, section: str) -> str:
    shown = f"<strong>{esc(title)}</strong>"
    if section and section.strip() != title.strip():
        shown += f' <span class="qa-section">› {esc(section)}</span>'
    return shown


def _link(url: str | None, label: str) -> str:
    href = safe_url(url)
    return f'<a href="{esc(href)}" target="_blank" rel="noopener noreferrer">{esc(label)}</a>' if href else ""


def where_html(path: str, start: int, end: int) -> str:
    """The file and character offsets of a span, for anyone who wants to check it."""
    return f"<code>{esc(path)}</code>, characters {start}–{end}"


def _source_meta(citation: Citation, start: int, end: int) -> str:
    """Site, link (when known), file and character offsets, separated by dots."""
    meta = [esc(citation.site)] if citation.site else []
    meta += [_link(citation.url, "read the original ↗")] if safe_url(citation.url) else []
    meta.append(where_html(citation.path, start, end))
    return " · ".join(meta)


def citation_html(citation: Citation, start: int, end: int) -> str:
    """Source line of a card: title › section, then site, link, file and offsets when known."""
    return (f'<div class="qa-cite">Source: {_title_and_section(citation.title, citation.section)}'
            f'<div class="qa-cite-meta">{_source_meta(citation, start, end)}</div></div>')


def also_in_html(also_in: Iterable[AlsoIn]) -> str:
    """The other articles that say the same thing, each with its own wording; empty when there are none."""
    items = []
    for other in also_in:
        link = _link(other.url, "original ↗")
        meta = where_html(other.path, other.start, other.end) + (f" · {link}" if link else "")
        items.append(f"<li>{_title_and_section(other.title, other.section)}: “{esc(other.text)}”"
                     f'<div class="qa-also-meta">{meta}</div></li>')
    if not items:
        return ""
    heading = "Also said in another article:" if len(items) == 1 else f"Also said in {len(items)} other articles:"
    return f'<div class="qa-also">{heading}<ul>{"".join(items)}</ul></div>'


def card_html(extract: Extract, window: tuple[str, int], *, label: str = "") -> str:
    """One extract: highlighted inside its passage, then its source and where else it is said."""
    text, offset = window
    try:
        body = marked(text, offset, extract.start, extract.end, extract.text)
    except OffsetMismatch:
        body = f"<mark>{esc(extract.text)}</mark>"  # the extract itself is still verbatim; only context is lost
    head = f'<div class="qa-label">{esc(label)}</div>' if label else ""
    return (f'<div class="qa-card-body">{head}<div class="qa-passage">{body}</div>'
            f"{citation_html(extract.article, extract.start, extract.end)}{also_in_html(extract.also_in)}</div>")


def article_html(citation: Citation, text: str, start: int, end: int, expected: str) -> str:
    """The whole article with the cited span marked (``id`` ``CITED_ID``), under its title and source.

    Raises:
        OffsetMismatch: the offsets do not select ``expected`` in ``text``.
    """
    body = marked(text, 0, start, end, expected, mark_id=CITED_ID)
    meta = f"{_source_meta(citation, start, end)} · the cited part is highlighted"
    return (f'<div class="qa-article-head">{_title_and_section(citation.title, citation.section)}'
            f'<div class="qa-cite-meta">{meta}</div></div><div class="qa-article">{body}</div>')


def format_date(timestamp: str | None) -> str:
    """``2026-11-24T23:22:11+0000`` or ``2026-11-24`` as ``24 Nov 2026``; anything else as given (escaped)."""
    if not timestamp:
        return ""
    for pattern in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(timestamp, pattern)
        except ValueError:
            continue
        return f"{parsed.day} {parsed:%b %Y}"
    return esc(timestamp)


def articles_html(articles: Iterable[ArticleInfo]) -> str:
    """The sidebar's list of indexed articles: title, site and date when known, when it was added."""
    items = []
    for article in sorted(articles, key=lambda a: a.title.lower()):
        meta = [esc(article.site)] if article.site else []
        meta += [f"published {format_date(article.date)}"] if article.date else []
        meta.append(f"added {format_date(article.ingested_at)}")
        items.append(f'<li>{esc(article.title)}<div class="qa-cite-meta">{" · ".join(meta)}</div></li>')
    return f'<div class="qa-articles"><ul>{"".join(items)}</ul></div>'


def confidence_label(confidence: float) -> str:
    """A word for the calibrated confidence that the extracts answer the question."""
    return "high" if confidence >= 0.85 else "moderate" if confidence >= 0.6 else "low"


def asked_html(question: str, read_as: str = "") -> str:
    """The question as asked, and as searched when respelling or correcting changed it (so a wrong reading can be
    seen)."""
    searched = f' · searched as “{esc(read_as)}”' if read_as else ""
    return f'<div class="qa-asked">You asked: “{esc(question)}”{searched}</div>'


def disagreement_html() -> str:
    return ('<div class="qa-notice qa-disagree"><strong>The articles disagree on this.</strong> Some passages say yes '
            "and others say no, or rarely; both sides are shown next to each other, each with its source.</div>")


def notice_html() -> str:
    return ('<div class="qa-notice">This page shows what a small set of health articles say, quoted word for word '
            "with their sources. It is <strong>not medical advice</strong> and cannot tell what is happening in your "
            "own body. If a symptom worries you, please talk to a doctor.</div>")
