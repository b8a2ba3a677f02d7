"""History of a queue as a day × slot grid, built from rows with validation naming row and field."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from allo.domain.errors import InvalidValue
from allo.planning.calendars import zone

FloatArray = npt.NDArray[np.float64]


class InvalidRow(InvalidValue):
    """A bad input row: the message names the row number and the field."""

    def __init__(self, row: int, field: str, message: str) -> None:
        super().__init__(f"row {row}, {field}", message)
        self.row = row


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One interval of one queue: start (aware), contacts offered, average handling time (s)."""

    row: int
    start: datetime
    volume: float
    aht: float | None = None


@dataclass(frozen=True, slots=True)
class SlotHistory:
    """Volumes and AHT per local day and slot of the queue's zone; NaN means no data (closed)."""

    first_day: date
    slot_minutes: int
    volume: FloatArray
    aht: FloatArray

    @property
    def days(self) -> int:
        return int(self.volume.shape[0])

    @property
    def slots(self) -> int:
        return int(self.volume.shape[1])

    def day(self, index: int) -> date:
        return self.first_day + timedelta(days=index)

    def weekdays(self) -> npt.NDArray[np.int64]:
        first = self.first_day.weekday()
        return np.asarray((np.arange(self.days) + first) % 7, dtype=np.int64)

    def has_data(self) -> npt.NDArray[np.bool_]:
        return np.asarray(~np.all(np.isnan(self.volume), axis=1), dtype=np.bool_)


def _check_row(item: HistoryRow, slot_minutes: int) -> None:
    if item.start.tzinfo is None:
        raise InvalidRow(item.row, "start", "needs a time zone offset, e.g. 2026-03-02T08:00+01:00")
    if not np.isfinite(item.volume) or item.volume < 0:
        raise InvalidRow(item.row, "volume", f"must be a number ≥ 0, got {item.volume}")
    if item.aht is not None and (not np.isfinite(item.aht) or item.aht <= 0):
        raise InvalidRow(item.row, "aht", f"must be a positive number of seconds, got {item.aht}")
    utc = item.start.astimezone(UTC)
    if (utc.minute % slot_minutes) or utc.second or utc.microsecond:
        raise InvalidRow(item.row, "start", f"is not on a {slot_minutes}-minute boundary")


def _check_no_duplicates(rows: Sequence[HistoryRow]) -> None:
    seen: dict[datetime, int] = {}
    for item in rows:
        key = item.start.astimezone(UTC)
        if key in seen:
            raise InvalidRow(item.row, "start", f"duplicates row {seen[key]} ({item.start})")
        seen[key] = item.row


def _check_no_holes(
    volume: FloatArray, first_day: date, rows_by_cell: dict[tuple[int, int], int]
) -> None:
    """Within a day, every slot between its first and last observed slot must be present."""
    for day_index, day_values in enumerate(volume):
        present = np.flatnonzero(~np.isnan(day_values))
        if present.size == 0:
            continue
        holes = np.flatnonzero(np.isnan(day_values[present[0] : present[-1] + 1]))
        if holes.size:
            slot = int(present[0] + holes[0])
            after = rows_by_cell[(day_index, int(present[0] + holes[0] - 1))]
            day = first_day + timedelta(days=day_index)
            raise InvalidRow(after, "start", f"the next interval (slot {slot} of {day}) is missing")


def history_from_rows(
    rows: Iterable[HistoryRow], slot_minutes: int, queue_timezone: str
) -> SlotHistory:
    """Grid the rows by local day and slot of the queue's zone, validating each row."""
    if slot_minutes <= 0 or 1440 % slot_minutes:
        raise InvalidValue("slot_minutes", "must divide a day (15, 30, 60...)")
    items = list(rows)
    if not items:
        raise InvalidValue("history", "has no rows")
    for item in items:
        _check_row(item, slot_minutes)
    _check_no_duplicates(items)
    where = zone(queue_timezone, "queue_timezone")
    local = [item.start.astimezone(where) for item in items]
    first_day = min(moment.date() for moment in local)
    n_days = (max(moment.date() for moment in local) - first_day).days + 1
    slots = 1440 // slot_minutes
    volume = np.full((n_days, slots), np.nan)
    work = np.zeros((n_days, slots))
    rows_by_cell: dict[tuple[int, int], int] = {}
    for item, moment in zip(items, local, strict=True):
        cell = (
            (moment.date() - first_day).days,
            (moment.hour * 60 + moment.minute) // slot_minutes,
        )
        # The repeated hour of an autumn DST change lands twice on one local slot: add it up.
        volume[cell] = item.volume + (0.0 if np.isnan(volume[cell]) else volume[cell])
        work[cell] += item.volume * (item.aht if item.aht is not None else np.nan)
        rows_by_cell[cell] = item.row
    _check_no_holes(volume, first_day, rows_by_cell)
    with np.errstate(invalid="ignore", divide="ignore"):
        aht = np.where(volume > 0, work / volume, np.nan)
    return SlotHistory(first_day=first_day, slot_minutes=slot_minutes, volume=volume, aht=aht)


def rows_from_csv(text: str) -> dict[str, list[HistoryRow]]:
    """Rows of ``queue,start,volume[,aht]`` per queue; row numbers count the header as row 1."""
    by_queue: dict[str, list[HistoryRow]] = {}
    reader = csv.DictReader(io.StringIO(text))
    missing = {"queue", "start", "volume"} - set(reader.fieldnames or [])
    if missing:
        raise InvalidValue("header", f"missing column(s): {', '.join(sorted(missing))}")
    for number, record in enumerate(reader, start=2):
        by_queue.setdefault(record["queue"], []).append(_csv_row(number, record))
    if not by_queue:
        raise InvalidValue("history", "has no rows")
    return by_queue


def _number(row: int, field: str, text: str | None) -> float:
    try:
        return float(text or "")
    except ValueError:
        raise InvalidRow(row, field, f"{text!r} is not a number") from None


def _csv_row(number: int, record: dict[str, str]) -> HistoryRow:
    try:
        start = datetime.fromisoformat(record["start"] or "")
    except ValueError:
        raise InvalidRow(number, "start", f"{record['start']!r} is not an ISO date-time") from None
    aht_text = record.get("aht") or None
    aht = None if aht_text is None else _number(number, "aht", aht_text)
    return HistoryRow(number, start, _number(number, "volume", record["volume"]), aht)
