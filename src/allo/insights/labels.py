"""What the insights say about a message or a contact."""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    QUESTION = "question"
    PROBLEM = "problem"  # complaint or incident
    IDEA = "idea"  # suggestion
    PRAISE = "praise"


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"
