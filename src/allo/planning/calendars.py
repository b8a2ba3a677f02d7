"""Calendars per site: public holidays, Ramadan, reduced hours, prayer breaks, legal limits, clocks.

Islamic dates in `holidays` are estimates (moon sighting decides), so a site carries an
``islamic_shift_days`` override of -1, 0 or +1 applied to Ramadan and to every holiday the
library marks "(estimated)", plus explicit per-date overrides.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import holidays
import numpy as np
import numpy.typing as npt
from hijridate import Gregorian, Hijri

from allo.domain.errors import InvalidValue

SUPPORTED_COUNTRIES = ("FR", "MA", "TN", "SN", "MG", "RO", "MU")


@dataclass(frozen=True, slots=True)
class LegalLimits:
    """Maximum working time; values are defaults from the labour codes, configurable per site."""

    max_day_hours: float
    max_week_hours: float
    max_days_per_week: int = 6  # one weekly rest day everywhere listed here


# FR: Code du travail L3121-18/20; MA: Code du travail art. 184 (44 h/week, 10 h/day);
# TN: Code du travail art. 79 (48 h/week). SN, MG, MU, RO daily caps are unverified
# (DOMAIN.md): keep them configurable through Site.legal_limits.
LEGAL_LIMITS: dict[str, LegalLimits] = {
    "FR": LegalLimits(10, 48),
    "MA": LegalLimits(10, 44),
    "TN": LegalLimits(10, 48),
    "SN": LegalLimits(10, 48),
    "MG": LegalLimits(10, 48),
    "RO": LegalLimits(12, 48),
    "MU": LegalLimits(10, 45),
}


def legal_limits(country: str) -> LegalLimits:
    if country not in LEGAL_LIMITS:
        known = ", ".join(SUPPORTED_COUNTRIES)
        raise InvalidValue("country", f"{country!r} has no legal limits in Allo (known: {known})")
    return LEGAL_LIMITS[country]


def zone(name: str, field_name: str = "timezone") -> zoneinfo.ZoneInfo:
    """The IANA zone, or InvalidValue naming the field."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(field_name, f"{name!r} is not an IANA time zone") from None


@dataclass(frozen=True, slots=True)
class SiteCalendar:
    """Everything about a site's days and clock that planning needs.

    ``ramadan_hours``: (open, close) local times the site works during Ramadan, or None for
    normal hours. ``friday_prayer``: (start, end) local times advisers are off the phones
    every Friday (e.g. 12:30–14:00), or None. ``holiday_overrides`` maps a date to a holiday
    name (added) or to None (removed), applied after the Islamic shift.
    """

    country: str
    timezone: str
    subdiv: str | None = None
    islamic_shift_days: int = 0
    ramadan_hours: tuple[time, time] | None = None
    friday_prayer: tuple[time, time] | None = None
    holiday_overrides: Mapping[date, str | None] = field(default_factory=dict)
    limits: LegalLimits | None = None

    def __post_init__(self) -> None:
        if self.country not in SUPPORTED_COUNTRIES:
            known = ", ".join(SUPPORTED_COUNTRIES)
            raise InvalidValue("country", f"{self.country!r} is not supported (known: {known})")
        zone(self.timezone)
        if self.islamic_shift_days not in (-1, 0, 1):
            raise InvalidValue("islamic_shift_days", "must be -1, 0 or +1")
        if self.subdiv is not None:
            subdivs = holidays.country_holidays(self.country).subdivisions
            if self.subdiv not in subdivs:
                raise InvalidValue(
                    "subdiv", f"{self.subdiv!r} is not a subdivision of {self.country}"
                )
        for name, hours in (
            ("ramadan_hours", self.ramadan_hours),
            ("friday_prayer", self.friday_prayer),
        ):
            if hours is not None and not hours[0] < hours[1]:
                raise InvalidValue(name, "start must be before end")

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zone(self.timezone)

    @property
    def legal_limits(self) -> LegalLimits:
        return self.limits or legal_limits(self.country)


def public_holidays(calendar: SiteCalendar, years: Sequence[int]) -> dict[date, str]:
    """Public holidays of the site, with Islamic estimates shifted and admin overrides applied."""
    found = holidays.country_holidays(calendar.country, subdiv=calendar.subdiv, years=list(years))
    shift = timedelta(days=calendar.islamic_shift_days)
    result: dict[date, str] = {}
    for day, name in sorted(found.items()):
        moved = day + shift if "estimated" in name else day
        result[moved] = name if moved not in result else f"{result[moved]}; {name}"
    for day, override in calendar.holiday_overrides.items():
        if override is None:
            result.pop(day, None)
        else:
            result[day] = override
    return result


def ramadan(year: int, shift_days: int = 0) -> list[tuple[date, date]]:
    """The Ramadan periods (first day, last day) overlapping Gregorian ``year`` (Umm al-Qura)."""
    periods = []
    first_hijri = Gregorian(year, 1, 1).to_hijri().year
    shift = timedelta(days=shift_days)
    for hijri_year in (first_hijri, first_hijri + 1):
        start = Hijri(hijri_year, 9, 1).to_gregorian()
        end = Hijri(hijri_year, 10, 1).to_gregorian()
        first = date(start.year, start.month, start.day) + shift
        last = date(end.year, end.month, end.day) - timedelta(days=1) + shift
        if first.year == year or last.year == year:
            periods.append((first, last))
    return periods


def in_ramadan(calendar: SiteCalendar, day: date) -> bool:
    return any(
        first <= day <= last for first, last in ramadan(day.year, calendar.islamic_shift_days)
    )


@dataclass(frozen=True, slots=True)
class Timeline:
    """Regular intervals of ``minutes`` from ``start`` (aware); the plan's common clock."""

    start: datetime
    count: int
    minutes: int

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise InvalidValue("start", "must carry a time zone")
        if self.minutes <= 0 or 1440 % self.minutes:
            raise InvalidValue("minutes", "must divide a day (15, 30, 60...)")
        if self.count <= 0:
            raise InvalidValue("count", "must be positive")

    def instant(self, index: int) -> datetime:
        """Interval start in UTC (arithmetics on aware datetimes must happen in UTC)."""
        return self.start.astimezone(UTC) + timedelta(minutes=self.minutes * index)

    def index_of(self, moment: datetime) -> float:
        delta = moment.astimezone(UTC) - self.start.astimezone(UTC)
        return delta.total_seconds() / 60 / self.minutes

    def local_starts(self, tz: str) -> list[datetime]:
        where = zone(tz)
        return [self.instant(i).astimezone(where) for i in range(self.count)]


def local_clock_table(
    timeline: Timeline, queue_tz: str, site_tzs: Mapping[str, str]
) -> list[dict[str, str]]:
    """One row per interval: its start in the queue's zone and in each site's local time."""
    columns = {"queue": timeline.local_starts(queue_tz)}
    columns.update({name: timeline.local_starts(tz) for name, tz in site_tzs.items()})
    return [
        {name: starts[i].strftime("%Y-%m-%d %H:%M %Z") for name, starts in columns.items()}
        for i in range(timeline.count)
    ]


BoolArray = npt.NDArray[np.bool_]


def _within(local: datetime, window: tuple[time, time]) -> bool:
    return window[0] <= local.time() < window[1]


def site_availability(calendar: SiteCalendar, timeline: Timeline) -> tuple[BoolArray, BoolArray]:
    """(open, paused) per interval of the timeline for this site.

    ``open`` is False on the site's public holidays and, during Ramadan, outside the
    reduced hours; ``paused`` is True during the Friday prayer break: advisers are on shift
    but off the phones, like a break.
    """
    starts = timeline.local_starts(calendar.timezone)
    years = sorted({s.year for s in starts})
    days_off = public_holidays(calendar, years)
    open_ = np.ones(timeline.count, dtype=bool)
    paused = np.zeros(timeline.count, dtype=bool)
    for i, local in enumerate(starts):
        day = local.date()
        if day in days_off:
            open_[i] = False
        elif calendar.ramadan_hours and in_ramadan(calendar, day):
            open_[i] = _within(local, calendar.ramadan_hours)
        if calendar.friday_prayer and local.weekday() == 4:
            paused[i] = _within(local, calendar.friday_prayer)
    return open_, paused
