"""Chunks and sentences: sections, lists with their lead-in, the token limit, and verbatim spans."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ARTICLES, FakeEncoder
from ingest.chunk import chunk_article, split_sentences
from ingest.clean import clean
from ingest.types import Article, Block, Chunk, Sentence


def article(text: str, *, title: str = "Sleep", fmt: str = "txt") -> Article:
    return Article(id="a", title=title, text=text, path="a.txt", format=fmt)


def chunked(doc: Article, encoder: FakeEncoder | None = None, *, target: int = 48,
            max_tokens: int | None = None) -> tuple[list[Block], list[Chunk], list[Sentence]]:
    encoder = encoder or FakeEncoder()
    blocks = clean(doc)
    chunks, sentences = chunk_article(doc, blocks, encoder.count_tokens, target_tokens=target,
                                      max_tokens=max_tokens or encoder.max_seq_length)
    return blocks, chunks, sentences


def assert_valid(doc: Article, blocks: list[Block], chunks: list[Chunk], sentences: list[Sentence],
                 encoder: FakeEncoder, max_tokens: int) -> None:
    """The invariants every chunking must keep."""
    text = doc.text
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start:c.end] == c.text
        assert c.text == c.text.strip()
        assert encoder.count_tokens([c.embed_text]) == [c.n_tokens]
        assert c.n_tokens <= max_tokens
        assert c.embed_text.endswith(c.text)
    assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:]))
    for s in sentences:
        assert 0 <= s.start < s.end <= len(text)
        assert text[s.start:s.end] == s.text
        owner = chunks[s.chunk_ordinal]
        assert owner.start <= s.start and s.end <= owner.end
    assert all(a.end <= b.start for a, b in zip(sentences, sentences[1:]))
    walls = [b for b in blocks if b.kind in ("heading", "boilerplate")]
    for c in chunks:
        crossed = [b for b in walls if b.start < c.end and c.start < b.end]
        assert crossed == [], f"chunk {c.text!r} crosses {crossed}"
    # Never truncated: every word character of content blocks is inside some sentence.
    covered = set()
    for s in sentences:
        covered.update(range(s.start, s.end))
    for b in blocks:
        if b.kind in ("paragraph", "item"):
            missing = [i for i in range(b.start, b.end) if re.match(r"\w", text[i]) and i not in covered]
            assert missing == [], f"{b.text!r} lost {[text[i] for i in missing]}"


def test_sections_are_recorded_on_chunks():
    text = ARTICLES["twitching.txt"]
    doc = article(text, title="Muscle Twitching Basics")
    blocks, chunks, sentences = chunked(doc, target=32)
    assert [(c.section, c.text) for c in chunks] == [
        ("", "Muscle twitching, medically termed fasciculations, is common."),
        ("Causes", "Twitches can be triggered by a number of things, including:\n\n"
                   "  • Too much caffeine\n  • Stress or anxiety\n  • Lack of sleep"),
        ("Causes", "Most twitches are harmless and stop on their own."),
    ]
    assert chunks[0].embed_text == "Muscle Twitching Basics\n" + chunks[0].text
    assert chunks[1].embed_text == "Muscle Twitching Basics\nCauses\n" + chunks[1].text
    assert_valid(doc, blocks, chunks, sentences, FakeEncoder(), 64)


def test_markdown_sections():
    doc = article(ARTICLES["ms.md"], title="Multiple Sclerosis", fmt="md")
    _, chunks, _ = chunked(doc)
    assert [(c.section, c.text) for c in chunks] == [
        ("", "Multiple sclerosis (MS) damages myelin in the central nervous system."),
        ("Spasticity", "Spasticity is a common symptom of MS and often affects the legs."),
    ]


def test_list_stays_with_its_lead_in_and_items_share_a_group():
    lead = "Twitches can be triggered by a number of things, including:"
    doc = article(ARTICLES["twitching.txt"], title="Muscle Twitching Basics")
    _, chunks, sentences = chunked(doc, target=32)
    listed = [(s.chunk_ordinal, s.role, s.list_group, s.text, s.embed_text) for s in sentences if s.chunk_ordinal == 1]
    assert listed == [  # sentences under a heading are embedded with it ("Causes: ...")
        (1, "lead", 1, lead, f"Causes: {lead}"),
        (1, "item", 1, "Too much caffeine", f"Causes: {lead} Too much caffeine"),
        (1, "item", 1, "Stress or anxiety", f"Causes: {lead} Stress or anxiety"),
        (1, "item", 1, "Lack of sleep", f"Causes: {lead} Lack of sleep"),
    ]
    assert [(s.role, s.list_group) for s in sentences if s.chunk_ordinal != 1] == [("text", None), ("text", None)]


def test_two_lists_get_two_groups_and_a_list_without_lead_in_has_plain_items():
    text = (
        "Causes include:\n- caffeine\n- stress\n\n"
        "Treatments include:\n- stretching\n- magnesium\n\n"
        "Some words in between here.\n\n- first loose item\n- second loose item\n"
    )
    _, _, sentences = chunked(article(text))
    assert [(s.text, s.role, s.list_group, s.embed_text) for s in sentences] == [
        ("Causes include:", "lead", 1, "Causes include:"),
        ("caffeine", "item", 1, "Causes include: caffeine"),
        ("stress", "item", 1, "Causes include: stress"),
        ("Treatments include:", "lead", 2, "Treatments include:"),
        ("stretching", "item", 2, "Treatments include: stretching"),
        ("magnesium", "item", 2, "Treatments include: magnesium"),
        ("Some words in between here.", "text", None, "Some words in between here."),
        ("first loose item", "item", 3, "first loose item"),
        ("second loose item", "item", 3, "second loose item"),
    ]


def test_a_list_moves_whole_to_the_next_chunk_rather_than_leave_its_lead_in():
    para = "Cramps are common at night and usually harmless for most people."  # 12 tokens
    text = f"{para}\n\n{para}\n\nCommon causes include:\n  • dehydration\n  • sitting\n  • cold weather\n"
    doc = article(text)
    # 3 (title, specials) + 12 + 12 = 27 fit the target of 30; the list (4 + 1 + 1 + 2 = 8) would not.
    blocks, chunks, sentences = chunked(doc, target=30)
    assert [c.text.split("\n")[0] for c in chunks] == [para, "Common causes include:"]
    assert {s.chunk_ordinal for s in sentences if s.list_group == 1} == {1}
    assert_valid(doc, blocks, chunks, sentences, FakeEncoder(), 64)


def test_chunks_never_cross_a_heading_or_excluded_block():
    text = (
        "First part of the body text.\n\nTara Moore/Taxi/Getty Images\n\nSecond part of the body text.\n\n"
        "Next Heading\n\nThird part of the body text.\n\nApr 10, 2024\n\nFourth part.\n"
    )
    doc = article(text)
    blocks, chunks, sentences = chunked(doc, target=200, max_tokens=256)
    assert [(c.section, c.text) for c in chunks] == [
        ("", "First part of the body text."), ("", "Second part of the body text."),
        ("Next Heading", "Third part of the body text."), ("Next Heading", "Fourth part."),
    ]
    assert_valid(doc, blocks, chunks, sentences, FakeEncoder(), 256)


def test_small_paragraphs_pack_into_one_chunk_up_to_the_target():
    text = "One short line here.\n\nTwo short line here.\n\nThree short line here.\n"
    _, chunks, _ = chunked(article(text), target=64)
    assert [c.text for c in chunks] == [text.strip()]


def test_long_paragraph_is_split_under_the_token_limit():
    encoder = FakeEncoder(max_seq_length=32)
    sentences_in = [f"Sentence number {n} says that muscles twitch now." for n in range(12)]  # 11 tokens each
    doc = article(" ".join(sentences_in) + "\n")
    blocks, chunks, sentences = chunked(doc, encoder, target=24)
    assert len(chunks) > 4
    assert max(c.n_tokens for c in chunks) <= 32
    assert [s.text for s in sentences] == sentences_in
    assert_valid(doc, blocks, chunks, sentences, encoder, 32)


def test_a_single_200_word_sentence_is_split_not_truncated():
    encoder = FakeEncoder(max_seq_length=32)
    words = [f"w{n}" for n in range(200)]
    text = "Intro.\n\n" + " ".join(words) + ".\n"
    doc = article(text)
    blocks, chunks, sentences = chunked(doc, encoder, target=24)
    assert all(c.n_tokens <= 32 for c in chunks)
    long = chunks[1:]
    assert len(long) >= 7  # 201 tokens in pieces of at most 30
    assert (long[0].start, long[-1].end) == (text.index("w0 "), len(text) - 1)
    assert all(text[a.end:b.start] == " " for a, b in zip(long, long[1:]))  # nothing between pieces is lost
    assert_valid(doc, blocks, chunks, sentences, encoder, 32)


def test_a_long_word_without_spaces_is_split_not_truncated():
    encoder = FakeEncoder(max_seq_length=32)
    blob = "-".join(["ab"] * 60)  # one whitespace-free "word" of 119 tokens
    doc = article(f"See {blob} for details.\n")
    blocks, chunks, sentences = chunked(doc, encoder, target=24)
    assert "".join(c.text for c in chunks).replace(" ", "") == f"See{blob}fordetails."
    assert_valid(doc, blocks, chunks, sentences, encoder, 32)


def test_long_list_items_with_lead_in_fall_back_to_the_bare_item_when_too_long():
    encoder = FakeEncoder(max_seq_length=32)
    lead = "These are all of the many possible causes that doctors list, including:"  # 14 tokens
    item = "a very long item with many many words that goes on and on and on and on and on"  # 19 tokens
    doc = article(f"{lead}\n- {item}\n- short\n")
    blocks, chunks, sentences = chunked(doc, encoder, target=24)
    assert [(s.text, s.embed_text) for s in sentences if s.role == "item"] == [(item, item), ("short", f"{lead} short")]
    assert_valid(doc, blocks, chunks, sentences, encoder, 32)


def test_target_must_fit_max():
    with pytest.raises(ValueError, match="target_tokens=64, max_tokens=32"):
        chunk_article(article("Text."), [], FakeEncoder().count_tokens, target_tokens=64, max_tokens=32)


@pytest.mark.parametrize("text, expected", [
    ("Dr. Smith sees patients. Avoid stimulants, e.g. caffeine and nicotine. Sleep well.",
     ["Dr. Smith sees patients.", "Avoid stimulants, e.g. caffeine and nicotine.", "Sleep well."]),
    ("Dr. Who? Yes.", ["Dr. Who?", "Yes."]),  # blingfire alone ends a sentence after "Dr."
    ("Mrs. Smith. Ms. Jones.", ["Mrs. Smith.", "Ms. Jones."]),
    ("Spasms hurt! Do they last? Usually not.", ["Spasms hurt!", "Do they last?", "Usually not."]),
    ("  • Too much caffeine", ["Too much caffeine"]),
    ("Café naïve résumé. 日本語の文。 Done.", ["Café naïve résumé.", "日本語の文。", "Done."]),
    ("   \n\t ", []),
])
def test_split_sentences(text, expected):
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == expected


def test_split_sentences_offsets_are_shifted():
    text = "xxxxOne. Two."
    assert split_sentences(text[4:], offset=4) == [(4, 8), (9, 13)]


def test_crlf_article_spans_are_exact():
    text = "Sleep Tips\r\n\r\nFirst sentence here. Second one\r\ncontinues here.\r\n\r\nCauses include:\r\n- cold\r\n"
    doc = article(text)
    blocks, chunks, sentences = chunked(doc)
    assert [s.text for s in sentences] == [
        "First sentence here.", "Second one\r\ncontinues here.", "Causes include:", "cold"]
    assert_valid(doc, blocks, chunks, sentences, FakeEncoder(), 64)


# -- property: any document ---------------------------------------------------------------------------------------
WORD = st.one_of(
    st.sampled_from(["muscle", "twitch", "MS", "ALS", "e.g.", "Dr.", "(CNS)", "caffeine,", "sleep;", "2019",
                     "café", "naïve", "日本語", "😀", "well-known", "–", "i.e.", "U.S.", "etc.", "$5", "50%"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12).filter(
        lambda w: not any(c.isspace() for c in w)),
    st.text(":-./0a", min_size=20, max_size=90),  # a URL- or formula-like run: many word pieces, no space
)
SENTENCE = st.builds(lambda words, end: " ".join(words) + end, st.lists(WORD, min_size=1, max_size=40),
                     st.sampled_from([".", "!", "?", "", ":", "..."]))
PARAGRAPH = st.builds(" ".join, st.lists(SENTENCE, min_size=1, max_size=6))
HEADING = st.builds(lambda words, hashes: hashes + " ".join(w.capitalize() for w in words),
                    st.lists(st.sampled_from(["causes", "of", "muscle", "twitching", "ms", "what", "is", "e.g.",
                                              "(a)"]), min_size=1, max_size=15),
                    st.sampled_from(["", "", "# ", "## "]))
BULLET = st.builds(lambda mark, indent, item: f"{indent}{mark} {item}", st.sampled_from(["•", "-", "*", "1.", "2)"]),
                   st.sampled_from(["", "  ", "\t"]), SENTENCE)
LIST = st.builds(lambda lead, items: "\n".join([lead + " including:", *items]), SENTENCE, st.lists(BULLET, max_size=6))
BOILERPLATE = st.sampled_from(["Jane Doe/Agency/Getty Images", "Apr 10, 2024", "Related Articles", "References",
                               "Phone: +13454700762376", "Smith AB. Sleep. 2019;28(3):1-5.", "Sleep"])
JUNK = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
BLOCK = st.one_of(PARAGRAPH, PARAGRAPH, HEADING, LIST, BOILERPLATE, JUNK)
SEPARATOR = st.sampled_from(["\n", "\n\n", "\n\n\n", "\n \t\n", "\r\n", "\r\n\r\n"])
DOCUMENT = st.builds(
    lambda blocks, seps: "".join(b + seps[i % len(seps)] for i, b in enumerate(blocks)),
    st.lists(BLOCK, min_size=1, max_size=12), st.lists(SEPARATOR, min_size=1, max_size=4),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=DOCUMENT, fmt=st.sampled_from(["txt", "md", "jsonl"]), max_tokens=st.sampled_from([32, 64]),
       target_ratio=st.sampled_from([0.5, 1.0]))
def test_any_document_chunks_into_exact_spans_within_the_limit(text, fmt, max_tokens, target_ratio):
    encoder = FakeEncoder(max_seq_length=max_tokens)
    doc = article(text, fmt=fmt)
    blocks, chunks, sentences = chunked(doc, encoder, target=int(max_tokens * target_ratio))
    for block in blocks:
        assert text[block.start:block.end] == block.text
    assert_valid(doc, blocks, chunks, sentences, encoder, max_tokens)


def test_a_heading_right_under_a_question_heading_keeps_the_question():
    text = ("FAQs\n\nWhat cancers can cause muscle twitching? ›\n\nSeizures and brain cancer\n\n"
            "A brain tumor can irritate the neurons in the brain.\n\nOther causes\n\nStress can cause twitches.\n")
    _, chunks, sentences = chunked(article(text, title="Twitching"))
    assert [(c.section, c.text) for c in chunks] == [
        ("What cancers can cause muscle twitching? › Seizures and brain cancer",
         "A brain tumor can irritate the neurons in the brain."),
        ("Other causes", "Stress can cause twitches."),  # a heading under a plain heading stands alone
    ]
    assert sentences[0].embed_text == ("What cancers can cause muscle twitching? › Seizures and brain cancer: "
                                       "A brain tumor can irritate the neurons in the brain.")


def test_plain_text_is_the_embedded_text_without_its_heading():
    _, _, sentences = chunked(article(ARTICLES["twitching.txt"], title="Muscle Twitching Basics"), target=32)
    lead = "Twitches can be triggered by a number of things, including:"
    by_text = {s.text: s for s in sentences}
    first = by_text["Muscle twitching, medically termed fasciculations, is common."]
    assert first.plain_text == first.embed_text == first.text  # no heading above it
    item = by_text["Too much caffeine"]
    assert (item.embed_text, item.plain_text) == (f"Causes: {lead} Too much caffeine", f"{lead} Too much caffeine")
    assert by_text["Most twitches are harmless and stop on their own."].plain_text == \
        "Most twitches are harmless and stop on their own."
