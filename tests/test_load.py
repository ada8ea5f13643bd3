"""Reading article files: formats, ids, metadata, titles, and a named reason for every file left out."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.load import Skip, display_path, load_paths, read_metadata, source_files

LIMIT = 1_000_000
BODY = "Night cramps are sudden contractions of the calf muscles.\n"


def load(*paths: Path, max_bytes: int = LIMIT):
    return load_paths(list(paths), max_bytes=max_bytes)


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def jsonl(*records: dict) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def test_conftest_corpus_loads(corpus):
    articles, skipped = load(corpus)
    assert skipped == []
    assert [(a.id, a.format, a.title) for a in articles] == [
        ("als", "txt", "ALS Overview"), ("ms", "md", "Multiple Sclerosis"),
        ("twitching", "txt", "Muscle Twitching Basics"),
    ]


def test_txt_and_md_keep_the_file_text_byte_exact(tmp_path):
    txt = write(tmp_path, "cramps.txt", "Cramps\n\n" + BODY)
    md = write(tmp_path, "sleep.md", "# Sleep and Cramps\n\nSleep helps.\n")
    articles, skipped = load(tmp_path)
    assert skipped == []
    cramps, sleep = articles
    assert (cramps.id, cramps.format, cramps.text, cramps.path) == ("cramps", "txt", txt.read_text(), display_path(txt))
    assert (sleep.id, sleep.format, sleep.text, sleep.title) == ("sleep", "md", md.read_text(), "Sleep and Cramps")
    assert (cramps.url, cramps.site, cramps.date) == (None, None, None)


def test_crlf_text_is_not_newline_translated(tmp_path):
    raw = "Cramps\r\n\r\nFirst line.\r\nSecond line.\r\n"
    write(tmp_path, "crlf.txt", raw.encode("utf-8"))
    [doc], _ = load(tmp_path)
    assert doc.text == raw
    start = raw.index("Second")
    assert doc.text[start:start + len("Second line.")] == "Second line."


def test_html_main_text_and_metadata(tmp_path):
    html = (
        "<html><head><title>Night Cramps Explained</title>"
        "<meta property='og:site_name' content='Health Site'></head><body><nav>Home | About | Contact</nav>"
        "<article><h1>Night Cramps Explained</h1><p>Night cramps are sudden, painful contractions of the calf "
        "muscles that happen during sleep. They are common in older adults and in pregnancy.</p><h2>Causes</h2>"
        "<p>Dehydration, long periods of sitting and some medicines can make cramps more likely. Stretching the "
        "calf before bed often helps to prevent them.</p></article><footer>Copyright 2024</footer></body></html>"
    )
    write(tmp_path, "night-cramps.html", html)
    [doc], skipped = load(tmp_path)
    assert skipped == []
    assert (doc.id, doc.format, doc.title, doc.site) == (
        "night-cramps", "html", "Night Cramps Explained", "Health Site")
    assert "## Causes" in doc.text and "Stretching the calf before bed" in doc.text
    assert "Home | About" not in doc.text and "Copyright" not in doc.text


def test_html_without_main_text_is_skipped(tmp_path):
    html = "<html><head><title>T</title></head><body><script>x = 1;</script></body></html>"
    path = write(tmp_path, "empty.html", html)
    assert load(tmp_path) == ([], [Skip(display_path(path), "no main text found in the HTML")])


def test_metadata_toml_is_applied(tmp_path):
    write(tmp_path, "cramps.txt", BODY)
    write(tmp_path, "metadata.toml", (
        '["cramps.txt"]\ntitle = "Night Cramps"\nurl = "https://example.org/cramps"\n'
        'site = "Example Health"\ndate = "2024-04-10"\ncollected_from = "seed 7"\n'
    ))
    [doc], skipped = load(tmp_path)
    assert skipped == []
    assert (doc.title, doc.url, doc.site, doc.date) == (
        "Night Cramps", "https://example.org/cramps", "Example Health", "2024-04-10")


def test_metadata_applies_per_directory(tmp_path):
    write(tmp_path, "a/cramps.txt", BODY)
    write(tmp_path, "b/cramps-two.txt", BODY)
    write(tmp_path, "a/metadata.toml", '["cramps.txt"]\ntitle = "From A"\n')
    write(tmp_path, "b/metadata.toml", '["cramps-two.txt"]\ntitle = "From B"\n')
    articles, _ = load(tmp_path)
    assert [(a.id, a.title) for a in articles] == [("cramps", "From A"), ("cramps-two", "From B")]


@pytest.mark.parametrize("toml, named", [
    ('["cramps.txt"]\nauthor = "Jane"\n', ["'cramps.txt'", "'author'"]),
    ('["cramps.txt"]\ndate = 2024-04-10\n', ["'cramps.txt'", "'date'"]),
    ('title = "not a table"\n', ["'title'"]),
    ('["cramps.txt"\ntitle = "x"\n', ["invalid metadata file"]),
])
def test_bad_metadata_raises_naming_file_and_key(tmp_path, toml, named):
    write(tmp_path, "cramps.txt", BODY)
    path = write(tmp_path, "metadata.toml", toml)
    with pytest.raises(ValueError) as info:
        load(tmp_path)
    message = str(info.value)
    assert message.startswith(display_path(path) + ":")
    for part in named:
        assert part in message
    with pytest.raises(ValueError):
        read_metadata(tmp_path)


@pytest.mark.parametrize("name, content, title", [
    ("cramps.txt", "Night Cramps: What Helps\n\n" + BODY, "Night Cramps: What Helps"),
    ("cramps.md", "\n\n## Night Cramps ##\n\n" + BODY, "Night Cramps ##"),
    ("night-cramps_in_adults.txt", BODY, "Night cramps in adults"),  # first line is a sentence
    ("night-cramps.txt", "Cramps include:\n\n  • calf\n", "Night cramps"),  # first line ends in ":"
    ("long-line.txt", " ".join(["word"] * 21) + "\n", "Long line"),  # too many words for a title
])
def test_title_fallback(tmp_path, name, content, title):
    write(tmp_path, name, content)
    [doc], _ = load(tmp_path)
    assert doc.title == title


def test_jsonl_records_with_id_or__id(tmp_path):
    path = write(tmp_path, "medquad.jsonl", jsonl(
        {"_id": "1_0000001_1-1", "title": "Adult Leukemia", "text": "Leukemia is a cancer.", "url": "https://x.org/1",
         "source": "CancerGov"},
        {"id": "doc-2", "title": "Cramps", "text": "Cramps hurt.", "site": "Health", "date": "2020-01-01"},
        {"id": "doc-3", "text": "No title here."},
    ))
    articles, skipped = load(tmp_path)
    assert skipped == []
    assert [(a.id, a.title, a.text, a.url, a.site, a.date, a.format, a.path) for a in articles] == [
        ("1_0000001_1-1", "Adult Leukemia", "Leukemia is a cancer.", "https://x.org/1", "CancerGov", None, "jsonl",
         display_path(path)),
        ("doc-2", "Cramps", "Cramps hurt.", None, "Health", "2020-01-01", "jsonl", display_path(path)),
        ("doc-3", "doc-3", "No title here.", None, None, None, "jsonl", display_path(path)),
    ]


def test_jsonl_text_with_unicode_line_separators(tmp_path):
    # Raw U+2028 / U+0085 are valid inside JSON strings; they must not split the line.
    write(tmp_path, "x.jsonl", jsonl({"id": "a", "text": "one\u2028two"}, {"id": "b", "text": "three\x85four"}))
    articles, skipped = load(tmp_path)
    assert skipped == []
    assert [(a.id, a.text) for a in articles] == [("a", "one\u2028two"), ("b", "three\x85four")]


def test_jsonl_with_crlf_line_ends(tmp_path):
    write(tmp_path, "x.jsonl", jsonl({"id": "a", "text": "one"}, {"id": "b", "text": "two"}).replace("\n", "\r\n"))
    articles, skipped = load(tmp_path)
    assert (skipped, [a.id for a in articles]) == ([], ["a", "b"])


def test_bad_jsonl_lines_are_skipped_by_path_and_line(tmp_path):
    lines = [
        json.dumps({"id": "good-1", "text": "Fine."}),
        "{not json",
        "",
        json.dumps(["a", "list"]),
        json.dumps({"title": "no id", "text": "x"}),
        json.dumps({"id": "no-text", "text": "   "}),
        json.dumps({"id": "bad id!", "text": "x"}),
        json.dumps({"id": "big", "text": "x" * 200}),
        json.dumps({"id": "good-2", "text": "Also fine."}),
    ]
    path = write(tmp_path, "mixed.jsonl", "\n".join(lines) + "\n")
    articles, skipped = load(tmp_path, max_bytes=100)
    shown = display_path(path)
    assert [a.id for a in articles] == ["good-1", "good-2"]
    assert [s.path for s in skipped] == [f"{shown}:{n}" for n in (2, 4, 5, 6, 7, 8)]
    reasons = [s.reason for s in skipped]
    assert reasons[0].startswith("invalid JSON:")
    assert reasons[1] == "expected a JSON object, got list"
    assert reasons[2] == "missing or non-string 'id': None"
    assert reasons[3] == "article 'no-text': missing or empty 'text'"
    assert "'bad id!'" in reasons[4]
    assert reasons[5] == "article 'big': too large: text > limit 100 bytes (raise --max-bytes)"
    assert {s.file for s in skipped} == {shown}


def test_bad_files_are_skipped_with_a_reason_and_good_files_still_load(tmp_path):
    write(tmp_path, "good-a.txt", BODY)
    bad = {
        "empty.txt": (b"", "empty file"),
        "blank.md": (b"  \n\t\r\n \n", "empty file"),
        "binary.txt": (b"PK\x03\x04\x00\x00data", "binary file (NUL byte at offset 4)"),
        "latin1.txt": ("Café au lait\n".encode("latin-1"), "not UTF-8: invalid byte 0xe9 at offset 3"),
        "huge.txt": (b"x" * 101, "too large: 101 bytes > limit 100 (raise --max-bytes)"),
        "paper.pdf": (b"%PDF-1.4 whatever", "unsupported extension '.pdf' (supported: "
                                             ".txt .md .markdown .html .htm .jsonl)"),
        "bad id!.txt": (b"Some text.", "invalid article id 'bad id!' (letters, digits, '.', '-', '_'; at most 200)"),
    }
    for name, (content, _) in bad.items():
        write(tmp_path, name, content)
    write(tmp_path, "good-b.md", "Short.\n")
    articles, skipped = load(tmp_path, max_bytes=100)
    assert [a.id for a in articles] == ["good-a", "good-b"]
    assert sorted((s.path, s.reason) for s in skipped) == sorted(
        (display_path(tmp_path / name), reason) for name, (_, reason) in bad.items()
    )


def test_max_bytes_is_the_limit(tmp_path):
    write(tmp_path, "exact.txt", b"x" * 50)
    assert [a.id for a in load(tmp_path, max_bytes=50)[0]] == ["exact"]
    assert [s.reason for s in load(tmp_path, max_bytes=49)[1]] == ["too large: 50 bytes > limit 49 (raise --max-bytes)"]


def test_duplicate_id_skips_the_second_naming_the_first(tmp_path):
    first = write(tmp_path, "cramps.md", "# Cramps\n\nFrom markdown.\n")
    second = write(tmp_path, "cramps.txt", "From text.\n")
    articles, skipped = load(tmp_path)
    assert [(a.id, a.format) for a in articles] == [("cramps", "md")]
    assert skipped == [Skip(display_path(second), f"duplicate id 'cramps' (already used by {display_path(first)})")]


def test_duplicate_id_across_jsonl_and_file(tmp_path):
    first = write(tmp_path, "a.jsonl", jsonl({"id": "cramps", "text": "From JSONL."}))
    write(tmp_path, "cramps.txt", "From text.\n")
    articles, skipped = load(tmp_path)
    assert [a.text for a in articles] == ["From JSONL."]
    assert [s.reason for s in skipped] == [f"duplicate id 'cramps' (already used by {display_path(first)})"]


def test_hidden_files_and_metadata_are_not_articles(tmp_path):
    write(tmp_path, "visible.txt", BODY)
    write(tmp_path, ".hidden.txt", BODY)
    write(tmp_path, ".git/objects/x.txt", BODY)
    write(tmp_path, "sub/.cache/y.md", BODY)
    write(tmp_path, "sub/nested.md", BODY)
    write(tmp_path, "metadata.toml", "")
    assert source_files([tmp_path]) == [tmp_path / "sub" / "nested.md", tmp_path / "visible.txt"]
    articles, skipped = load(tmp_path)
    assert ([a.id for a in articles], skipped) == (["nested", "visible"], [])


def test_a_single_file_path_loads_only_that_file(tmp_path):
    path = write(tmp_path, "one.txt", BODY)
    write(tmp_path, "two.txt", BODY)
    write(tmp_path, "metadata.toml", '["one.txt"]\ntitle = "One"\n')
    articles, _ = load(path)
    assert [(a.id, a.title) for a in articles] == [("one", "One")]


def test_missing_path_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        load(tmp_path / "nope")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.org/a", "example.org/page", "https://"])
def test_metadata_url_must_be_a_web_address(tmp_path, url):
    (tmp_path / "metadata.toml").write_text(f'["a.txt"]\nurl = "{url}"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"metadata\.toml: entry 'a\.txt': url .* must be an http"):
        read_metadata(tmp_path)
