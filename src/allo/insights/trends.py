"""Trends over analysed contacts: topics rising fastest, and jumps of a topic's problem rate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AlertRule:
    """A topic's problem rate 'jumps' when, over the recent window, it has at least
    `min_contacts` contacts, its problem rate is at least `min_rate`, and it exceeds the
    baseline rate by `min_rise` (absolute) and by a factor `min_ratio`."""

    recent_hours: int = 24
    baseline_days: int = 7
    min_contacts: int = 5
    min_rate: float = 0.5
    min_rise: float = 0.25
    min_ratio: float = 1.5


@dataclass(frozen=True, slots=True)
class ProblemRate:
    recent_contacts: int
    recent_problems: int
    baseline_contacts: int
    baseline_problems: int

    @property
    def recent(self) -> float:
        return self.recent_problems / self.recent_contacts if self.recent_contacts else 0.0

    @property
    def baseline(self) -> float:
        return self.baseline_problems / self.baseline_contacts if self.baseline_contacts else 0.0


def problem_rate_jumped(rate: ProblemRate, rule: AlertRule) -> bool:
    if rate.recent_contacts < rule.min_contacts or rate.recent < rule.min_rate:
        return False
    return rate.recent - rate.baseline >= rule.min_rise and rate.recent >= (
        rate.baseline * rule.min_ratio
    )


@dataclass(frozen=True, slots=True)
class Rise:
    topic_id: int
    recent: int
    before: int
    growth: float  # (recent + 1) / (before + 1): smoothed so that 0 → 3 ranks below 10 → 40


def rising_topics(
    recent: Mapping[int, int], before: Mapping[int, int], top: int = 5, min_recent: int = 2
) -> list[Rise]:
    rises = [
        Rise(topic, count, before.get(topic, 0), (count + 1) / (before.get(topic, 0) + 1))
        for topic, count in recent.items()
        if count >= min_recent and count > before.get(topic, 0)
    ]
    rises.sort(key=lambda r: (-r.growth, -r.recent, r.topic_id))
    return rises[:top]
