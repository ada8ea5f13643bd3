"""The words the articles use, each with its vector: a question word the articles never use reaches the nearest
word they do ("coffee" -> "caffeine", "workout" -> "exercise").

Aliases (``ingest.aliases``) come from definitions written in the articles; these neighbours come from the
model's sense of single words, so they cover everyday words no article defines. Each version keeps one file,
``words.npz``: stems, the written word each stands for, and that word's vector (float16, unit length).
"""
from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.encoder import Encoder
from ingest.lexical import STOPWORDS, stem_word

WORDS_FILE = "words.npz"
_WORD = re.compile(r"(?u)\b[^\W\d_]{3,}\b")  # letters only: no numbers, codes or ids


def surface_words(texts: list[str]) -> dict[str, str]:
    """Each stem of ``texts`` with its most frequent written form (lower case; ties go to the shorter, then the
    alphabetically first), over words of three or more letters that are not stop words."""
    counts = Counter(word for text in texts for word in _WORD.findall(text.lower()) if word not in STOPWORDS)
    best: dict[str, str] = {}
    for word, _ in sorted(counts.items(), key=lambda item: (-item[1], len(item[0]), item[0])):
        best.setdefault(stem_word(word), word)
    return best


@dataclass(frozen=True)
class WordVectors:
    """Stems, their written words and unit vectors (row i belongs to stem i)."""

    stems: tuple[str, ...]
    words: tuple[str, ...]
    vectors: np.ndarray

    @classmethod
    def empty(cls, dimension: int) -> WordVectors:
        return cls((), (), np.zeros((0, dimension), dtype=np.float32))

    @classmethod
    def load(cls, version: Path, dimension: int) -> WordVectors:
        """The word vectors of a published version (none for a version written before they existed)."""
        path = Path(version) / WORDS_FILE
        if not path.is_file():
            return cls.empty(dimension)
        with np.load(path, allow_pickle=False) as data:
            return cls(tuple(data["stems"].tolist()), tuple(data["words"].tolist()),
                       data["vectors"].astype(np.float32))

    def save(self, path: Path) -> None:
        with open(path, "wb") as handle:
            np.savez(handle, stems=np.array(self.stems, dtype=str), words=np.array(self.words, dtype=str),
                     vectors=self.vectors.astype(np.float16))

    def restricted_to(self, stems: dict[str, int]) -> WordVectors:
        """Only the words whose stem is in ``stems`` (a version's vocabulary: an edit may leave dead stems)."""
        rows = [i for i, s in enumerate(self.stems) if s in stems]
        return WordVectors(tuple(self.stems[i] for i in rows), tuple(self.words[i] for i in rows), self.vectors[rows])

    def nearest(self, vectors: np.ndarray) -> list[tuple[str, str, float]]:
        """For each row of ``vectors``, the closest term as (stem, word, cosine); ("", "", 0.0) when there are
        no words."""
        if len(self.stems) == 0:
            return [("", "", 0.0)] * len(vectors)
        similarity = np.atleast_2d(vectors) @ self.vectors.T
        best = similarity.argmax(axis=1)
        return [(self.stems[i], self.words[i], float(row[i])) for i, row in zip(best, similarity)]


class WordsUpdate:
    """The next version's word vectors: the parent version's, plus the stems of ``words`` (stem -> written word) it
    lacks. ``missing`` lists the words to encode (vectors are reused by word, so an unchanged vocabulary
    encodes nothing); ``write`` saves the result once they are encoded.

    ``complete``: ``words`` holds every stem of the new version (a rebuild), so the parent's other stems are
    dropped. Otherwise they are kept: an edit sees only the words of the articles it changed, and a stem no
    article uses any more is left out when an index loads (``WordVectors.restricted_to``). The parent's vectors
    are read only when a new file is written: an edit that brings no new word links the parent's file.
    """

    def __init__(self, words: dict[str, str], dimension: int, *, parent: Path | None = None,
                 complete: bool = False) -> None:
        self.source = Path(parent) / WORDS_FILE if parent is not None else None
        if self.source is not None and self.source.is_file():
            with np.load(self.source, allow_pickle=False) as data:
                stems, written = data["stems"].tolist(), data["words"].tolist()
        else:
            self.source, stems, written = None, [], []
        self.dimension = dimension
        self.rows = [i for i, stem in enumerate(stems) if not complete or stem in words]  # the parent's rows kept
        self.dropped = len(self.rows) < len(stems)
        self.stems = [stems[i] for i in self.rows]
        self.words = [written[i] for i in self.rows]
        kept = set(self.stems)
        self.new = {stem: word for stem, word in sorted(words.items()) if stem not in kept}
        known = set(self.words)
        self.missing = sorted({word for word in self.new.values() if word not in known})

    def write(self, build: Path, encoded: dict[str, np.ndarray]) -> None:
        """Save the word vectors into version directory ``build``; ``encoded`` holds a vector for each ``missing``
        word."""
        target = Path(build) / WORDS_FILE
        if self.source is not None and not self.new and not self.dropped:
            os.link(self.source, target)  # nothing changed: share the parent's file
            return
        kept = np.zeros((0, self.dimension), dtype=np.float16)
        if self.source is not None:
            with np.load(self.source, allow_pickle=False) as data:
                kept = data["vectors"][self.rows]
        row_of = {word: row for row, word in enumerate(self.words)}
        added = [kept[row_of[w]] if w in row_of else np.asarray(encoded[w], dtype=np.float16) for w in self.new.values()]
        vectors = np.vstack([kept, *added]) if added else kept
        WordVectors(tuple(self.stems) + tuple(self.new), tuple(self.words) + tuple(self.new.values()),
                    vectors).save(target)
