"""Boilerplate rules of ingest.clean, on short synthetic articles, and on the real corpus."""
from __future__ import annotations

from pathlib import Path

import pytest

from ingest.clean import clean, heading_text, segment
from ingest.load import load_paths
from ingest.types import Article

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
BOILERPLATE = [
    "Getty Images", "Woman looking tired sitting on sofa", "Gary Foerster", "Arline Emard", "+13454700762376",
    "Hintz Shore", "Related Articles", "Top Articles", "Continue Reading", "hysterectomy", "Esthetician", "CBD oil",
    "doi:", "Curr Neuropharmacol", "Apr 10, 2024", "Jan 23, 2022",
]
CONTENT = ["Fasciculations are rarely a symptom of MS.", "MS twitching is one of the more common symptoms"]


def article(text: str, *, title: str = "Sleep and Muscles", fmt: str = "txt") -> Article:
    return Article(id="a", title=title, text=text, path="a.txt", format=fmt)


def blocks_of(text: str, **kwargs) -> list[tuple[str, str]]:
    """(kind, text) of every block after cleaning."""
    return [(b.kind, b.text) for b in clean(article(text, **kwargs))]


def kept(text: str, **kwargs) -> list[str]:
    return [b.text for b in clean(article(text, **kwargs)) if b.kind != "boilerplate"]


def test_getty_credit_and_the_caption_above_it_are_dropped():
    text = (
        "Rest helps muscles recover after exercise.\n\n"
        "A man resting on a park bench\nJane Doe/Agency/Getty Images\n\n"
        "Sleep also matters.\n"
    )
    result = clean(article(text))
    assert [(b.kind, b.reason) for b in result] == [
        ("paragraph", ""), ("boilerplate", "image caption"), ("boilerplate", "image credit"), ("paragraph", ""),
    ]
    assert [b.text for b in result][1:3] == ["A man resting on a park bench", "Jane Doe/Agency/Getty Images"]


def test_caption_separated_by_a_blank_line_is_not_a_caption():
    text = "Rest helps muscles recover.\n\nA man resting on a bench\n\nJane Doe/Agency/Getty Images\n\nMore text.\n"
    assert kept(text) == ["Rest helps muscles recover.", "A man resting on a bench", "More text."]


def test_name_slash_site_credit_is_dropped():
    text = "Clonus is a series of spasms.\n\nJohn Smith / Health Facts Online\n\nIn severe cases the knee jerks.\n"
    assert kept(text) == ["Clonus is a series of spasms.", "In severe cases the knee jerks."]


def test_a_sentence_with_a_slash_is_not_a_credit():
    text = "Intro line.\n\nTake 200 mg/day of magnesium with food.\n"
    assert kept(text) == ["Intro line.", "Take 200 mg/day of magnesium with food."]


def test_author_box_with_phone_number_is_dropped():
    text = (
        "Magnesium may help with cramps.\n\n"
        "Name: Mary Jones\nBirthday: 1990-01-01\nAddress: 12 High Street, Springfield\n"
        "Phone: +44 20 7946 0958\nJob: Nurse\nHobby: Running, Reading\n\n"
        "Drink enough water every day.\n"
    )
    result = clean(article(text))
    assert kept(text) == ["Magnesium may help with cramps.", "Drink enough water every day."]
    assert {b.reason for b in result if b.kind == "boilerplate"} == {"author or page metadata"}


def test_a_lone_phone_number_line_is_dropped():
    assert kept("Call us.\n\nHotline +1 (555) 123-4567\n\nAfter text.\n") == ["Call us.", "After text."]


def test_a_lone_weak_key_value_line_is_content():
    text = "Intro line.\n\nName: the condition is named after the doctor who described it.\n"
    assert kept(text) == ["Intro line.", "Name: the condition is named after the doctor who described it."]


def test_bylines_are_dropped():
    text = "Intro line.\n\nBy Jane Doe\n\nMedically reviewed by John Smith, MD\n\nBody text.\n"
    assert kept(text) == ["Intro line.", "Body text."]


@pytest.mark.parametrize("marker", ["Related Articles", "Top Articles", "Continue Reading", "References"])
def test_tail_marker_drops_everything_after_it(marker):
    text = (
        "Spasticity is common in MS.\n\n"
        f"{marker}\n\n"
        "Choosing foods after a heart attack\n\n"
        "A healthy diet is important. Read more\n\n"
        "  • A list item in the tail\n"
    )
    result = clean(article(text))
    assert kept(text) == ["Spasticity is common in MS."]
    assert {b.reason for b in result[1:]} == {f"'{marker}' section and everything after it"}


def test_tail_marker_inside_a_sentence_is_content():
    text = "See the references below for more. Related articles are listed elsewhere.\n\nEnd line.\n"
    assert kept(text) == ["See the references below for more. Related articles are listed elsewhere.", "End line."]


REFERENCES = (
    "Smith AB, Jones C. Sleep and muscle cramps. J Sleep Res. 2019;28(3):e12345.\n"
    "Doe J, Roe R. Caffeine and twitching. Neurology. 2015;84(2):100-105. doi:10.1000/xyz\n"
    "Younger DS. Motor Disorders. Brookfield, CT: Rothstein Publishing; 2015\n"
)


def test_reference_list_without_heading_is_dropped():
    text = "Cramps are common at night.\n\n" + REFERENCES.replace("\n", "\n\n")
    result = clean(article(text))
    assert kept(text) == ["Cramps are common at night."]
    assert [b.reason for b in result[1:]] == ["reference list"] * 3


def test_reference_list_on_adjacent_lines_is_dropped():
    # Citations that do not end in a period must not be taken for headings (which would break the list).
    text = "Cramps are common at night.\n\n" + REFERENCES + "\nStretching before bed may help.\n"
    assert kept(text) == ["Cramps are common at night.", "Stretching before bed may help."]


@pytest.mark.parametrize("citation", [
    "Leite MAA, Orsini M. Fasciculations. Neurol Int. 2014;6(3):5208.",  # year;volume(issue):pages
    "Loma I, Heyman R. Multiple sclerosis treatment. Curr Neuropharmacol. 2011 Sep; 9(3):409-416.",
    "Brown K. Twitching. Clinical Review. doi:10.4081/ni.2014.5208",  # doi
    "Green T, White P. Tremor in MS. Oxford: Example Press; 2018.",  # author initials + year
])
def test_each_citation_shape_is_recognised(citation):
    text = f"Intro line.\n\n{citation}\n\nMotor Neuron Diseases Fact Sheet. National Institute website.\n"
    assert kept(text) == ["Intro line."]


def test_paragraphs_mentioning_a_year_or_et_al_are_kept():
    paragraphs = [
        "In 2019, a large study looked at night cramps in older adults.",
        "Smith et al. found that magnesium did not reduce cramps.",
        "A 2019 study by Smith et al. found that stretching reduced cramps.",
        "Jones et al. (2021) reported the same effect in younger adults.",
        "The guideline was last revised in 2020.",
    ]
    assert kept("\n\n".join(paragraphs) + "\n") == paragraphs


def test_a_single_citation_like_line_is_kept():
    text = "Intro line.\n\nSmith AB. Sleep. 2019;28(3):1-5.\n\nA normal paragraph follows here.\n"
    assert kept(text) == ["Intro line.", "Smith AB. Sleep. 2019;28(3):1-5.", "A normal paragraph follows here."]


def test_repeated_title_lines_are_dropped():
    text = (
        "Sleep and Muscles\n\nBody text one.\n\nSleep and Muscles (1)\n\nBody text two.\n\n"
        "SLEEP AND MUSCLES (2024)\n\nBody text three.\n\nFAQs\n\nSleep and muscles? ›\n\nAn answer.\n"
    )
    result = clean(article(text, title="Sleep and Muscles?"))
    dropped = [b.text for b in result if b.kind == "boilerplate"]
    assert dropped == [
        "Sleep and Muscles", "Sleep and Muscles (1)", "SLEEP AND MUSCLES (2024)", "Sleep and muscles? ›"]
    assert {b.reason for b in result if b.kind == "boilerplate"} == {"title line"}


def test_title_words_inside_a_sentence_are_kept():
    text = "Intro.\n\nSleep and muscles are linked in many ways.\n"
    assert kept(text) == ["Intro.", "Sleep and muscles are linked in many ways."]


@pytest.mark.parametrize("date", ["Apr 10, 2024", "Jan 23, 2022", "10 May 2021", "2024-01-05", "3/4/2022",
                                  "Updated on March 3, 2023", "Last reviewed: Sept 1, 2020"])
def test_bare_date_lines_are_dropped(date):
    text = f"Some text before.\n{date}\n\nSome text after.\n"
    result = clean(article(text))
    assert [(b.kind, b.text, b.reason) for b in result][1] == ("boilerplate", date, "date stamp")
    assert kept(text) == ["Some text before.", "Some text after."]


def test_a_sentence_with_a_date_is_kept():
    text = "Intro.\n\nThe drug was approved on Apr 10, 2024 for adults.\n"
    assert kept(text) == ["Intro.", "The drug was approved on Apr 10, 2024 for adults."]


def test_headings_in_plain_text():
    text = (
        "Causes of Cramps\n\nCramps have many causes.\n\nWhat Causes Twitching?\n\nNerves misfire.\n\n"
        "This line ends with a period.\n\nlower case start\n\nNot a heading at the end"
    )
    assert blocks_of(text) == [
        ("heading", "Causes of Cramps"), ("paragraph", "Cramps have many causes."),
        ("heading", "What Causes Twitching?"), ("paragraph", "Nerves misfire."),
        ("paragraph", "This line ends with a period."), ("paragraph", "lower case start"),
        ("paragraph", "Not a heading at the end"),
    ]


def test_headings_in_markdown_are_hash_lines_only():
    text = "# Sleep\n\nText here.\n\n## Causes:\n\nMore text.\n\nShort Line Without Hash\n\nEnd.\n"
    result = clean(article(text, fmt="md"))
    assert [(b.kind, b.text) for b in result] == [
        ("heading", "# Sleep"), ("paragraph", "Text here."), ("heading", "## Causes:"), ("paragraph", "More text."),
        ("paragraph", "Short Line Without Hash"), ("paragraph", "End."),
    ]
    assert heading_text(result[2]) == "Causes"


def test_list_items_start_after_the_bullet():
    text = "Causes include:\n\n  • Too much caffeine\n- Stress\n* Lack of sleep\n1. Dehydration\n 2) Cold\n"
    result = segment(article(text))
    assert [(b.kind, b.text) for b in result] == [
        ("paragraph", "Causes include:"), ("item", "Too much caffeine"), ("item", "Stress"),
        ("item", "Lack of sleep"), ("item", "Dehydration"), ("item", "Cold"),
    ]
    assert [text[b.start:b.end] for b in result] == [b.text for b in result]


def test_hard_wrapped_paragraph_is_one_block():
    text = "Muscle twitching occurs when nerves\nmisfire and fibres contract.\n\nNext paragraph.\n"
    assert blocks_of(text) == [
        ("paragraph", "Muscle twitching occurs when nerves\nmisfire and fibres contract."),
        ("paragraph", "Next paragraph."),
    ]


MESSY = (
    "\ufeffSleep and Muscles\r\n\r\n  Indented first paragraph with trailing spaces.   \r\n"
    "\tA tabbed line\r\nJane Doe/Agency/Getty Images\r\n\r\n"
    "Causes include:\r\n  • caffeine\r\n  • stress  \r\n\r\n"
    "Apr 10, 2024\r\n\r\nRelated Articles\r\nOther things\r\n"
)


@pytest.mark.parametrize("text", [MESSY, MESSY.replace("\r\n", "\n"), "", "\n\n  \n", "x", "  • only an item"])
def test_cleaning_never_changes_text(text):
    doc = article(text)
    result = clean(doc)
    for block in result:
        assert doc.text[block.start:block.end] == block.text
    starts = [b.start for b in result]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in zip(result, result[1:]))


@pytest.fixture(scope="module")
def real_articles() -> list[Article]:
    articles, skipped = load_paths([CORPUS], max_bytes=5_000_000)
    assert skipped == []
    assert len(articles) == 5
    return articles


def test_real_corpus_boilerplate_is_gone_and_content_stays(real_articles):
    content = "\n".join(b.text for a in real_articles for b in clean(a) if b.kind != "boilerplate")
    assert [s for s in BOILERPLATE if s in content] == []
    assert [s for s in CONTENT if s not in content] == []


def test_real_corpus_blocks_are_verbatim_spans(real_articles):
    for doc in real_articles:
        for block in clean(doc):
            assert doc.text[block.start:block.end] == block.text
