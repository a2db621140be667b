"""Reading level, offline: Flesch-Kincaid grade and SMOG, with syllables from pyphen."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pyphen

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


@dataclass(frozen=True)
class Score:
    """Reading level of a body of prose."""

    grade: float
    smog: float
    sentences: int
    words: int
    worst: tuple[tuple[float, str], ...]


@lru_cache(maxsize=1)
def _dictionary() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_US")


def syllables(word: str, terms: frozenset[str] = frozenset()) -> int:
    """Count a word's syllables: the larger of pyphen's split and the vowel groups."""
    lower = word.lower().strip("'’-")
    if lower in terms:
        return 1
    parts = sum(syllables(p, terms) for p in lower.split("-") if p) if "-" in lower else 0
    if parts:
        return parts
    by_pyphen = len(_dictionary().positions(lower)) + 1
    groups = re.findall(r"[aeiouy]+", lower)
    by_vowels = len(groups) - (1 if lower.endswith("e") and len(groups) > 1 and not lower.endswith("le") else 0)
    return max(1, by_pyphen, by_vowels)


def sentences(text: str) -> list[str]:
    """Split prose into sentences."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if _WORD.search(s)]


def score(texts: Iterable[str], terms: Iterable[str] = ()) -> Score:
    """Score prose; `terms` are explained words counted as one syllable."""
    known = frozenset(t.lower() for t in terms)
    all_sentences = [s for text in texts for s in sentences(text)]
    words = [w for s in all_sentences for w in _WORD.findall(s)]
    if not all_sentences or not words:
        return Score(0.0, 0.0, 0, 0, ())
    syl = sum(syllables(w, known) for w in words)
    poly = sum(1 for w in words if syllables(w, known) >= 3)
    grade = 0.39 * len(words) / len(all_sentences) + 11.8 * syl / len(words) - 15.59
    smog = 1.043 * math.sqrt(poly * 30 / len(all_sentences)) + 3.1291
    worst = sorted(((sentence_grade(s, known), s) for s in all_sentences), reverse=True)[:5]
    return Score(round(grade, 1), round(smog, 1), len(all_sentences), len(words), tuple(worst))


def sentence_grade(sentence: str, terms: frozenset[str] = frozenset()) -> float:
    """Flesch-Kincaid grade of one sentence, to point an editor at what to rewrite."""
    words = _WORD.findall(sentence)
    if not words:
        return 0.0
    syl = sum(syllables(w, terms) for w in words)
    return round(0.39 * len(words) + 11.8 * syl / len(words) - 15.59, 1)
