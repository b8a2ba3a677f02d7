"""Redaction of personal data in free text, keeping the kind of what was removed.

'Mon IBAN FR76 3000 6000 0112 3456 7890 189, rappelez M. Dupont au 06 12 34 56 78'
becomes 'Mon IBAN [IBAN], rappelez [NOM] au [TÉL]'. Numbers are only taken for a card,
an IBAN or a social-security number when their checksum holds, so order numbers and
amounts stay readable. Person names come from an injected NameFinder (spaCy in
production) and from civilities ('Mme Martin').
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from allo.insights.checksums import iban_valid, luhn_valid, nir_valid
from allo.insights.names import NameFinder, Span


class Kind(StrEnum):
    CARD = "CARTE"
    IBAN = "IBAN"
    NIR = "NIR"
    EMAIL = "EMAIL"
    PHONE = "TÉL"
    ADDRESS = "ADRESSE"
    NAME = "NOM"

    @property
    def placeholder(self) -> str:
        return f"[{self.value}]"


PAYMENT_KINDS = frozenset({Kind.CARD, Kind.IBAN})

_NIR = re.compile(
    r"(?<![\dA-Za-z])[1-478] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[ABab]) ?"
    r"\d{3} ?\d{3} ?\d{2}(?![\dA-Za-z])"
)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])")
# Country code, check digits, then groups of letters/digits; trimmed until the checksum holds.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_SEP = r"[ .-]?"
_PHONES = (
    # France: 0X XX XX XX XX, +33 X XX XX XX XX, 0033…; also fits Moroccan and Algerian
    # numbers dialled inside their country (0 followed by 9 digits).
    rf"(?:\+|00) ?33 ?\(0\) ?[1-9](?:{_SEP}\d{{2}}){{4}}",
    rf"(?:(?:\+|00) ?33 ?|\b0)[1-9](?:{_SEP}\d{{2}}){{4}}",
    # Morocco +212 and Algeria +213: 9 digits after the country code.
    rf"(?:\+|00) ?21[23] ?\(?0?\)? ?[5-7](?:{_SEP}\d){{8}}",
    # Tunisia +216: 8 digits.
    rf"(?:\+|00) ?216 ?[2-9](?:{_SEP}\d){{7}}",
)
_PHONE = re.compile(r"(?<![\d+])(?:" + "|".join(_PHONES) + r")(?!\d)")
_STREET_TYPES = (
    r"rue|avenue|av\.|bd|boulevard|place|pl\.|allée|allee|impasse|chemin|route|quai|cours|"
    r"square|passage|résidence|residence|lotissement|lieu-dit|faubourg|sentier|voie|cité|cite"
)
_STREET_WORD = r"(?:d'|l'|de |du |des |la |le |les |saint-|sainte-)*[A-ZÉÈÎÔa-zéèêàâîôûç][\w'-]*"
_ADDRESS = re.compile(
    rf"\b\d{{1,4}}(?: ?(?:bis|ter|b))?,? (?i:{_STREET_TYPES}) {_STREET_WORD}"
    r"(?: [A-ZÉÈ][\w'-]*){0,3}"
    r"(?:,? \d{5}(?: [A-ZÉÈ][\w'-]+(?:[ -][A-ZÉÈ][\w'-]+)*)?)?"
)
_CIVILITY = re.compile(
    r"\b(?:M\.|Mr\.?|Mme|Mlle|Monsieur|Madame|Mademoiselle|Maître|Me|Dr|Docteur)"
    r" (?:[A-ZÉÈ][\w'-]+)(?: [A-ZÉÈ][\w'-]+)?"
)
_INTRODUCTION = re.compile(
    r"\b(?:je m'appelle|je suis|mon nom est|c'est) "
    r"((?:[A-ZÉÈ][a-zéèêëïîôç'-]+)(?: [A-ZÉÈ][\w'-]+)+)"
)


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    found: dict[str, int]  # kind → how many were removed

    @property
    def changed(self) -> bool:
        return bool(self.found)


Finder = Callable[[str], list[Span]]


def _spans(pattern: re.Pattern[str], check: Callable[[str], bool] | None = None) -> Finder:
    def find(text: str) -> list[Span]:
        return [m.span() for m in pattern.finditer(text) if check is None or check(m.group())]

    return find


def _iban_spans(text: str) -> list[Span]:
    """IBAN candidates run greedily into the next words; shorten them until one checks out."""
    spans: list[Span] = []
    for match in _IBAN.finditer(text):
        start, end = match.span()
        while end - start >= 15:
            candidate = text[start:end].rstrip()
            if iban_valid(candidate) and _looks_like_iban(candidate):
                spans.append((start, start + len(candidate)))
                break
            end -= 1
    return spans


def _looks_like_iban(candidate: str) -> bool:
    # The country code is written in capitals; 'le 12 …' must not count as an IBAN.
    return candidate[:2].isupper() and sum(c.isdigit() for c in candidate) >= 10


def _address_spans(text: str) -> list[Span]:
    return [m.span() for m in _ADDRESS.finditer(text)]


def _civility_spans(text: str) -> list[Span]:
    spans = [m.span() for m in _CIVILITY.finditer(text)]
    spans += [m.span(1) for m in _INTRODUCTION.finditer(text)]
    return spans


# Order matters when spans overlap: the first kind to claim characters wins.
PATTERNS: tuple[tuple[Kind, Finder], ...] = (
    (Kind.EMAIL, _spans(_EMAIL)),
    (Kind.IBAN, _iban_spans),
    (Kind.NIR, _spans(_NIR, nir_valid)),
    (Kind.CARD, _spans(_CARD, luhn_valid)),
    (Kind.PHONE, _spans(_PHONE)),
    (Kind.ADDRESS, _address_spans),
    (Kind.NAME, _civility_spans),
)


def _claim(claimed: list[tuple[int, int, Kind]], start: int, end: int, kind: Kind) -> None:
    if all(end <= s or start >= e for s, e, _ in claimed):
        claimed.append((start, end, kind))


def _apply(text: str, claimed: list[tuple[int, int, Kind]]) -> Redacted:
    out: list[str] = []
    found: Counter[str] = Counter()
    position = 0
    for start, end, kind in sorted(claimed):
        out.append(text[position:start])
        out.append(kind.placeholder)
        found[kind.value] += 1
        position = end
    out.append(text[position:])
    return Redacted("".join(out), dict(found))


class Redactor:
    """Finds personal data with the patterns above and, if given, a name finder."""

    def __init__(self, names: NameFinder | None = None, kinds: frozenset[Kind] | None = None):
        self.names = names
        self.kinds = kinds if kinds is not None else frozenset(Kind)

    def _pattern_claims(self, text: str) -> list[tuple[int, int, Kind]]:
        claimed: list[tuple[int, int, Kind]] = []
        for kind, finder in PATTERNS:
            if kind in self.kinds:
                for start, end in finder(text):
                    _claim(claimed, start, end, kind)
        return claimed

    def redact(self, text: str) -> Redacted:
        return self.redact_many([text])[0]

    def redact_many(self, texts: Sequence[str]) -> list[Redacted]:
        claims = [self._pattern_claims(text) for text in texts]
        if self.names is not None and Kind.NAME in self.kinds:
            for claimed, spans in zip(claims, self.names.find(texts), strict=True):
                for start, end in spans:
                    _claim(claimed, start, end, Kind.NAME)
        return [_apply(text, claimed) for text, claimed in zip(texts, claims, strict=True)]


PAYMENT_REDACTOR = Redactor(kinds=PAYMENT_KINDS)


def strip_payment_data(text: str) -> str:
    """Card numbers and IBANs replaced: payment data is never stored or shown in clear."""
    return PAYMENT_REDACTOR.redact(text).text
