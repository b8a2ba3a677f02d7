"""The analyser services use: redaction (patterns and spaCy names) then intent and sentiment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from allo.insights.classify import MODEL_VERSION, Reader, Reading, default_reader
from allo.insights.names import spacy_names
from allo.insights.redaction import Redacted, Redactor


@dataclass(frozen=True, slots=True)
class Analysis:
    redacted: Redacted
    reading: Reading


class Analyser:
    def __init__(self, redactor: Redactor, reader: Reader, version: str = MODEL_VERSION):
        self.redactor = redactor
        self.reader = reader
        self.version = version

    def redact(self, texts: Sequence[str]) -> list[Redacted]:
        return self.redactor.redact_many(texts)

    def read(self, redacted_texts: Sequence[str]) -> list[Reading]:
        return self.reader.read(redacted_texts)

    def analyse(self, texts: Sequence[str]) -> list[Analysis]:
        """Redact first: the classifiers, and whatever they store, never see personal data."""
        redacted = self.redact(texts)
        readings = self.read([r.text for r in redacted])
        return [Analysis(r, reading) for r, reading in zip(redacted, readings, strict=True)]


@lru_cache(maxsize=1)
def default_analyser() -> Analyser:
    return Analyser(Redactor(spacy_names()), default_reader())
