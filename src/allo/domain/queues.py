"""Queues: where contacts wait for a kind of adviser, with a service-level target and hours."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from allo.domain.errors import InvalidValue
from allo.domain.values import check_language, check_level, check_levels, check_timezone

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class ServiceLevelTarget:
    """E.g. 80 % of contacts answered within 20 s."""

    percent: float = 80.0
    seconds: int = 20

    def __post_init__(self) -> None:
        if not 0 < self.percent <= 100:
            raise InvalidValue("sl_target.percent", "must be in (0, 100]")
        if self.seconds <= 0:
            raise InvalidValue("sl_target.seconds", "must be positive")


def _parse_hhmm(field_name: str, text: str) -> time | None:
    """Parse 'HH:MM'; '24:00' is returned as None, meaning end of day."""
    if not _HHMM.match(text):
        raise InvalidValue(field_name, f"{text!r} is not a time HH:MM")
    if text == "24:00":
        return None
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Weekly windows in a time zone, e.g. {"mon": [["08:00", "20:00"]], ...}."""

    timezone: str = "Europe/Paris"
    weekly: Mapping[str, Sequence[Sequence[str]]] = field(
        default_factory=lambda: {day: [["08:00", "20:00"]] for day in WEEKDAYS[:6]}
    )

    def __post_init__(self) -> None:
        check_timezone("opening_hours.timezone", self.timezone)
        for day, windows in self.weekly.items():
            if day not in WEEKDAYS:
                raise InvalidValue(f"opening_hours.weekly.{day}", "is not a day (mon…sun)")
            for index, window in enumerate(windows):
                where = f"opening_hours.weekly.{day}[{index}]"
                if len(window) != 2:
                    raise InvalidValue(where, "must be a pair [start, end]")
                start, end = _parse_hhmm(where, window[0]), _parse_hhmm(where, window[1])
                if start is None or (end is not None and end <= start):
                    raise InvalidValue(where, "must end after it starts")

    def is_open(self, at: datetime) -> bool:
        """Whether the queue is open at an aware instant, judged in the queue's own zone."""
        if at.tzinfo is None:
            raise InvalidValue("at", "must be timezone-aware")
        local = at.astimezone(ZoneInfo(self.timezone))
        windows = self.weekly.get(WEEKDAYS[local.weekday()], [])
        now = local.time().replace(tzinfo=None)
        for start_text, end_text in windows:
            start, end = _parse_hhmm("start", start_text), _parse_hhmm("end", end_text)
            assert start is not None
            if start <= now and (end is None or now < end):
                return True
        return False


@dataclass(frozen=True, slots=True)
class Queue:
    id: int
    tenant_id: int
    name: str
    required_skills: Mapping[str, int]
    language: str = "fr"
    min_language_level: int = 3
    sl_target: ServiceLevelTarget = field(default_factory=ServiceLevelTarget)
    opening_hours: OpeningHours = field(default_factory=OpeningHours)
    priority: int = 0

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidValue("name", "must not be empty")
        check_levels("required_skills", self.required_skills, languages=False)
        check_language("language", self.language)
        check_level("min_language_level", self.min_language_level)
        if not -100 <= self.priority <= 100:
            raise InvalidValue("priority", "must be between -100 and 100")
