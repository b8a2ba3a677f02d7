"""Text normalisation shared by the classifiers, the topic finder and the moderation screen."""

from __future__ import annotations

import re
import unicodedata

_REPEATS = re.compile(r"(.)\1{2,}")
_MARKS = re.compile(r"([?!])[?!1]*")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)?")


def fold(text: str) -> str:
    """Lowercase without accents: 'Énergie' → 'energie'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def normalise(text: str) -> str:
    """Customer spelling evened out: 'NUUUL !!!!' → 'nuul ! ', accents folded, marks spaced."""
    text = _REPEATS.sub(r"\1\1", fold(text))
    return _MARKS.sub(r" \1 ", text)


def word_set(text: str) -> frozenset[str]:
    """A set of words written as one string, one or more a line."""
    return frozenset(text.split())


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))
