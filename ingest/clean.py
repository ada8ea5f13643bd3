"""Split an article into line blocks and mark what is not article content.

Cleaning never rewrites text: it only decides which spans of the original are excluded. Every rule is a
pattern of web-page boilerplate (credits, bylines, reference lists, site tails), not a list of known lines.
"""
from __future__ import annotations

import re

from ingest.types import Article, Block

_BULLET = re.compile(r"^[ \t]*(?:[•\-*·▪◦‣●○■–]|\d{1,3}[.)])[ \t]+(?=\S)")
_MD_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(?=\S)")
_SENTENCE_END = (".", ",", ";", ":", "!")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE_LINE = re.compile(
    rf"^(?:(?:last\s+)?(?:updated|published|posted|reviewed|modified)(?:\s+on)?\s*:?\s*)?"
    rf"(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})$",
    re.IGNORECASE,
)
_CREDIT_WORDS = re.compile(
    r"getty images|shutterstock|istock|alamy|stocksy|adobe stock|science photo library|"
    r"^(?:photo|image|illustration|credit|photograph)s?\s*(?:by|credit)?\s*:|^photo(?:graph)? by |^courtesy of |©",
    re.IGNORECASE,
)
_SLASH_CREDIT = re.compile(r"^[A-Z][\w.'’-]*(?:\s+[A-Z&][\w.'’-]*)+\s*/\s*[A-Z]")  # "Name Surname/Agency"
_TAIL_MARKER = re.compile(
    r"^(?:references?|sources?|bibliography|citations|related(?: articles?| posts| stories| content| reading)?|"
    r"top articles|latest posts|popular (?:posts|articles)|recent posts|more (?:articles|stories)|"
    r"you (?:may|might) also like|recommended(?: for you| articles| reading)?|read (?:more|next)|"
    r"continue reading|further reading|see also|article (?:information|sources)|author information|"
    r"about the authors?|leave a (?:reply|comment)|comments)\s*[:›»]?$",
    re.IGNORECASE,
)
# "Key: value" lines of author boxes and page info; the first group marks a line on its own, the rest in runs.
_PAGE_META_KEY = re.compile(
    r"^(?:(author|birthday|address|phone|tel|e-?mail|written by|(?:medically )?reviewed by|fact[- ]checked by)|"
    r"name|born|job|occupation|hobby|hobbies|introduction|last updated|updated|published|views|rating|reviews|"
    r"posted(?: on| by)?)\s*:",
    re.IGNORECASE,
)
_BYLINE = re.compile(  # "By Jane Doe", "Medically reviewed by John Smith, MD"
    r"^(?i:by|written by|(?:medically )?reviewed by|fact[- ]checked by)\s+[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,4}"
    r"(?:,\s*[A-Z][A-Za-z.]{1,7})*$"
)
_PHONE = re.compile(r"\+?\d[\d ().-]{8,}\d")
_INTERFACE = re.compile(
    r"^(?:advertisement|share|share this|print|email|tweet|pin it|subscribe|sign up|log in|sign in|"
    r"skip to (?:main )?content|back to top|table of contents|jump to|menu|close|next|previous)$",
    re.IGNORECASE,
)
_MD_IMAGE_OR_LINK = re.compile(r"^!?\[[^\]]*\]\([^)]*\)$")
# Reference-list cues: strong ones alone mark a citation; weak ones only beside a strong one.
_CITE_STRONG = re.compile(
    r"\bdoi\s*:|doi\.org/|\bPMID\b|\bPMC\d|\b(?:19|20)\d{2}\s*(?:[A-Z][a-z]{2})?\s*;\s*\d+|"
    r"\b\d+\s*\(\d+\)\s*:\s*[\de]"
)
# "et al." marks a citation only when a title follows it ("Smith et al. Sleep."), not in prose ("Smith et al. found").
_CITE_AUTHOR = re.compile(r"^[A-Z][a-zA-Z'’-]+ [A-Z]{1,3}[,.]|\bet al\.\s+[A-Z]")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_CITE_WEAK = re.compile(
    r"\bwebsite\.?$|\bpublishing\b|\bpress\b.*\b(?:19|20)\d{2}|\baccessed\b|\bfact sheet\b|\bjournal\b|"
    r"\b(?:19|20)\d{2}\.?$",
    re.IGNORECASE,
)


def is_tail_marker(line: str) -> bool:
    """True for a heading that opens a page's closing matter ("References", "Related Articles", ...)."""
    return bool(_TAIL_MARKER.match(line.strip()))


def _norm(text: str) -> str:
    text = re.sub(r"(\s*\((?:\d+)\))+\s*$", "", text.strip())  # "Title (1)", "Title (2024)"
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def _word_count(text: str) -> int:
    return len(text.split())


def _lines(text: str) -> list[tuple[int, int]]:
    """Spans of non-blank lines, trimmed of surrounding whitespace."""
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group()
        if line.strip():
            lead = len(line) - len(line.lstrip())
            spans.append((match.start() + lead, match.start() + len(line.rstrip())))
    return spans


def _looks_like_heading(line: str, next_line: str | None) -> bool:
    if next_line is None or len(line) > 120 or _word_count(line) > 15:
        return False
    if line.endswith(_SENTENCE_END) or not (line[0].isupper() or line[0].isdigit()):
        return False
    # A line continued in lower case is the first line of a hard-wrapped paragraph; a citation is no heading.
    return not next_line[0].islower() and _citation_strength(line) < 2


def segment(article: Article) -> list[Block]:
    """Split an article into heading, paragraph and list-item blocks (nothing excluded yet).

    A line that continues a hard-wrapped paragraph (previous line without end punctuation, this one starting
    in lower case) joins the previous paragraph. List-item blocks start after their bullet.
    """
    text = article.text
    lines = _lines(text)
    blocks: list[Block] = []
    for i, (start, end) in enumerate(lines):
        line = text[start:end]
        next_line = text[lines[i + 1][0]:lines[i + 1][1]] if i + 1 < len(lines) else None
        heading = _MD_HEADING.match(line) if article.format in ("md", "html") else None
        bullet = _BULLET.match(line)
        if heading:
            blocks.append(Block("heading", start, end, line))
        elif bullet:
            blocks.append(Block("item", start + bullet.end(), end, line[bullet.end():]))
        elif (
            blocks and blocks[-1].kind == "paragraph" and line[0].islower()
            and not blocks[-1].text.endswith((".", "!", "?", ":"))
        ):
            prev = blocks.pop()
            blocks.append(Block("paragraph", prev.start, end, text[prev.start:end]))
        elif article.format != "md" and _looks_like_heading(line, next_line):
            blocks.append(Block("heading", start, end, line))
        else:
            blocks.append(Block("paragraph", start, end, line))
    return blocks


def heading_text(block: Block) -> str:
    """A heading's label: markdown hashes, FAQ arrows and trailing colons removed."""
    return re.sub(r"^#{1,6}\s+", "", block.text).strip().rstrip("›»:").strip()


def _drop(block: Block, reason: str) -> Block:
    return Block("boilerplate", block.start, block.end, block.text, reason)


def _is_credit(block: Block) -> bool:
    line = block.text.strip()
    if _word_count(line) > 10 or line.endswith((".", "?", "!", ":", ";")):
        return False
    return bool(_CREDIT_WORDS.search(line) or _SLASH_CREDIT.match(line))


def _citation_strength(line: str) -> int:
    """2 for a line shaped like a citation, 1 for one that is only citation-like beside others, else 0."""
    words = _word_count(line)
    if words <= 60 and (_CITE_STRONG.search(line) or (_CITE_AUTHOR.search(line) and _YEAR.search(line))):
        return 2
    return 1 if words <= 25 and _CITE_WEAK.search(line) else 0


def _reference_run(blocks: list[Block], start: int) -> int:
    """Length of the run of two or more citation-like paragraphs from ``start`` holding a real citation, else 0."""
    end, strong = start, False
    while end < len(blocks) and blocks[end].kind == "paragraph":
        strength = _citation_strength(blocks[end].text)
        if not strength:
            break
        strong = strong or strength == 2
        end += 1
    return end - start if strong and end - start >= 2 else 0


def _meta_run(blocks: list[Block], start: int) -> int:
    """Length of the run of author/page "key: value" lines from ``start`` (a lone line only for strong keys)."""
    end = start
    while end < len(blocks) and blocks[end].kind != "item" and _PAGE_META_KEY.match(blocks[end].text):
        end += 1
    if end - start == 1 and not _PAGE_META_KEY.match(blocks[start].text).group(1):
        return 0
    return end - start


def _adjacent(text: str, first: Block, second: Block) -> bool:
    """True when ``second`` starts on the line right after ``first`` (no blank line between)."""
    return text.count("\n", first.end, second.start) == 1


def clean(article: Article, blocks: list[Block] | None = None) -> list[Block]:
    """Mark boilerplate blocks of ``article``; returns all blocks, excluded ones with kind ``boilerplate``."""
    blocks = list(segment(article) if blocks is None else blocks)
    title = _norm(article.title)
    n = len(blocks)
    i = 0
    while i < n:
        block = blocks[i]
        line = block.text.strip()
        label = heading_text(block) if block.kind == "heading" else line
        if block.kind == "boilerplate":
            pass
        elif block.kind != "item" and title and _norm(label) == title and not _TAIL_MARKER.match(label):
            blocks[i] = _drop(block, "title line")
        elif block.kind != "item" and _TAIL_MARKER.match(label):
            for j in range(i, n):
                blocks[j] = _drop(blocks[j], f"'{label}' section and everything after it")
            break
        elif block.kind != "item" and _is_credit(block):
            blocks[i] = _drop(block, "image credit")
            if i > 0 and blocks[i - 1].kind != "boilerplate" and _word_count(blocks[i - 1].text) <= 15 \
                    and not blocks[i - 1].text.rstrip().endswith((".", ":")) and _adjacent(article.text, blocks[i - 1], block):
                blocks[i - 1] = _drop(blocks[i - 1], "image caption")
        elif _DATE_LINE.match(line):
            blocks[i] = _drop(block, "date stamp")
        elif _MD_IMAGE_OR_LINK.match(line) or _INTERFACE.match(line):
            blocks[i] = _drop(block, "page interface text")
        elif _BYLINE.match(line) or (_word_count(line) <= 12 and _PHONE.search(line)):
            blocks[i] = _drop(block, "author or page metadata")
        elif run := _meta_run(blocks, i):
            for j in range(i, i + run):
                blocks[j] = _drop(blocks[j], "author or page metadata")
            i += run
            continue
        elif block.kind == "paragraph" and (run := _reference_run(blocks, i)):
            for j in range(i, i + run):
                blocks[j] = _drop(blocks[j], "reference list")
            i += run
            continue
        i += 1
    return blocks
