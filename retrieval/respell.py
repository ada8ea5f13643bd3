"""Words as people say or jot them, written as the articles write them, before a question is parsed.

Four things a question transcribed from speech or typed in a hurry does that spelling correction (one word at a
time) cannot undo, each undone only when the result is a word the articles use:

- letters spelled out: "bee eff ess" or "a l s" for BFS and ALS;
- one word written as two: "eye lid" for eyelid, "clone us" for clonus;
- work shorthand: "pt" for patient, "meds" for medications;
- an acronym in capitals the articles never write, as the words of theirs it abbreviates: "LMN" -> "lower
  motor neurons" (``Index.initials``).
"""
from __future__ import annotations

import re
from collections.abc import Callable

from ingest.lexical import stem_word

# how each letter is said (and transcribed) when a name is spelled out
_LETTER_NAMES = {
    "a": "a ay", "b": "b bee be", "c": "c cee see sea", "d": "d dee", "e": "e ee", "f": "f ef eff", "g": "g gee",
    "h": "h aitch", "i": "i eye", "j": "j jay", "k": "k kay", "l": "l el ell", "m": "m em", "n": "n en",
    "o": "o oh", "p": "p pee pea", "q": "q cue queue", "r": "r ar", "s": "s es ess", "t": "t tee tea",
    "u": "u you", "v": "v vee", "w": "w", "x": "x ex", "y": "y why", "z": "z zee zed",
}
_LETTER = {said: letter for letter, names in _LETTER_NAMES.items() for said in names.split()}
# shorthand of notes and messages (not medical terms: those come from the articles' own aliases)
SHORTHAND = {
    "pt": "patient", "pts": "patients", "med": "medication", "meds": "medications", "prob": "problem",
    "probs": "problems", "dx": "diagnosis", "tx": "treatment", "sx": "symptoms", "hx": "history",
    "rx": "prescription", "w/": "with", "w/o": "without", "b/c": "because", "dr": "doctor", "drs": "doctors",
}
_TOKEN = re.compile(r"[a-z]+/[a-z]*|[a-z]+", re.IGNORECASE)


def respell(text: str, is_term: Callable[[str], bool], is_filler: Callable[[str], bool],
            initials: Callable[[str], str | None] = lambda acronym: None,
            misheard: Callable[[str], str | None] = lambda joined: None) -> str:
    """``text`` with spelled-out letters, split words, shorthand and acronyms rewritten where the articles use
    the result.

    ``is_term(stem)`` says whether the articles use a stem; ``is_filler(word)`` whether a lower-case word carries
    no topic ("does", "us"); ``initials(acronym)`` gives the articles' words an acronym abbreviates, or None;
    ``misheard(joined)`` the articles' word two words written together stand for ("cloneus" -> "clonus"), or None.
    Everything else in ``text`` is kept as it is.
    """
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    replaced: list[tuple[int, int, str]] = []  # (start, end, new text), in order, not overlapping
    i = 0
    while i < len(tokens):
        start, end, word = tokens[i]
        lower = word.lower()
        # letters spelled out: the longest run of two or more that makes a word the articles use
        letters = ""
        while i + len(letters) < len(tokens) and tokens[i + len(letters)][2].lower() in _LETTER and len(letters) < 6:
            letters += _LETTER[tokens[i + len(letters)][2].lower()]
        spelled = next((n for n in range(len(letters), 1, -1) if is_term(stem_word(letters[:n]))), 0)
        if spelled:
            replaced.append((start, tokens[i + spelled - 1][1], letters[:spelled].upper()))
            i += spelled
            continue
        if word.isupper() and word.isalpha() and 3 <= len(word) <= 5 and not is_term(stem_word(lower)):
            spelled_out = initials(lower)
            if spelled_out:
                replaced.append((start, end, spelled_out))
                i += 1
                continue
        if lower in SHORTHAND and not is_term(stem_word(lower)):
            replaced.append((start, end, SHORTHAND[lower]))
            i += 1
            continue
        # one word heard or typed as two ("eye lid"): joined, a word of the articles or one it misspells
        # ("clone us" -> clonus), where one half is a word they never use and no filler (never "does an")
        if i + 1 < len(tokens) and text[end:tokens[i + 1][0]] == " " and word.isalpha() and tokens[i + 1][2].isalpha():
            second = tokens[i + 1][2].lower()
            joined = lower + second
            whole = None
            if len(joined) >= 6 and min(len(lower), len(second)) >= 2 and any(
                    not is_term(stem_word(half)) and not is_filler(half) for half in (lower, second)):
                whole = joined if is_term(stem_word(joined)) else misheard(joined)
            if whole:
                replaced.append((start, tokens[i + 1][1], whole))
                i += 2
                continue
        i += 1
    if not replaced:
        return text
    out, at = [], 0
    for start, end, new in replaced:
        out += [text[at:start], new]
        at = end
    return "".join(out + [text[at:]])
