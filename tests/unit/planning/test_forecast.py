"""History validation, baselines, the smoothing model and backtests on small data."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from allo.domain.errors import InvalidValue
from allo.planning.forecast import (
    backtest,
    forecast,
    holiday_mask,
    last_week,
    mean_4_weeks,
    methods,
    wape,
)
from allo.planning.history import HistoryRow, InvalidRow, history_from_rows

PARIS = ZoneInfo("Europe/Paris")


def _rows(days: int, growth: float = 0.0, seed: int = 7) -> list[HistoryRow]:
    """Weekdays 8:00–18:00 in 30-min slots, a midday peak, Monday busier, a slow trend."""
    rng = np.random.default_rng(seed)
    rows, start = [], date(2026, 1, 5)
    for d in range(days):
        day = start + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        level = 100 * (1 + growth * d) * (1.3 if day.weekday() == 0 else 1.0)
        for slot in range(20):
            mean = level * (1 + np.sin(np.pi * slot / 20))
            moment = datetime(day.year, day.month, day.day, 8, tzinfo=PARIS) + timedelta(
                minutes=30 * slot
            )
            rows.append(HistoryRow(len(rows) + 2, moment, float(rng.poisson(mean)), 240.0))
    return rows


def test_history_grid_and_baselines() -> None:
    history = history_from_rows(_rows(42), 30, "Europe/Paris")
    assert history.days == 40 and history.slots == 48
    assert history.has_data().sum() == 30
    target, origin = 35, 34  # a Monday forecast the Sunday before... day 35 is a Monday
    assert history.day(target).weekday() == 0
    mask = holiday_mask(history, [])
    assert np.array_equal(
        last_week(history, mask, target, origin), np.nan_to_num(history.volume[28])
    )
    mean = mean_4_weeks(history, mask, target, origin)
    assert mean[16] == pytest.approx(np.mean(history.volume[[28, 21, 14, 7], 16]))


def test_smoothing_beats_the_baselines_on_a_trend() -> None:
    history = history_from_rows(_rows(91, growth=0.004), 30, "Europe/Paris")
    mask = holiday_mask(history, [])
    test = [d for d in range(70, history.days) if history.has_data()[d]]
    scores = {name: backtest(history, model, mask, test, 1) for name, model in methods().items()}
    best = min(scores, key=scores.__getitem__)
    assert best.startswith(("seasonal", "blend"))
    assert scores[best] < scores["mean_4_weeks"] < 0.2


def test_forecast_chooses_by_backtest_and_handles_holidays() -> None:
    rows = _rows(63)
    history = history_from_rows(rows, 30, "Europe/Paris")
    next_monday = history.day(history.days - 1) + timedelta(days=3)
    result = forecast(history, [next_monday], days_ahead=7)
    assert result.volume.shape == (7, 48) and result.method in result.validation_wape
    weekend = [k for k in range(7) if (result.first_day + timedelta(days=k)).weekday() >= 5]
    assert len(weekend) == 2 and result.volume[weekend].sum() == 0  # weekends never opened
    assert result.volume[:, :16].sum() == 0  # nor before 8:00
    assert result.aht[0, 20] == pytest.approx(240.0)
    assert wape(np.array([1.0, 3.0]), np.array([2.0, 2.0])) == pytest.approx(0.5)


def test_bad_history_rows_are_named() -> None:
    rows = _rows(7)
    with pytest.raises(InvalidRow, match=r"row 5, start: duplicates row 4"):
        history_from_rows([*rows[:3], HistoryRow(5, rows[2].start, 1.0)], 30, "Europe/Paris")
    with pytest.raises(InvalidRow, match=r"row 9, volume"):
        history_from_rows([*rows[:3], HistoryRow(9, rows[3].start, -1.0)], 30, "Europe/Paris")
    with pytest.raises(InvalidRow, match=r"row 3, start: the next interval .* is missing"):
        history_from_rows([rows[0], rows[1], rows[3]], 30, "Europe/Paris")
    with pytest.raises(InvalidRow, match="boundary"):
        history_from_rows(
            [HistoryRow(2, rows[0].start + timedelta(minutes=10), 1.0)], 30, "Europe/Paris"
        )
    with pytest.raises(InvalidRow, match="time zone"):
        history_from_rows([HistoryRow(2, datetime(2026, 1, 5, 8), 1.0)], 30, "Europe/Paris")
    with pytest.raises(InvalidRow, match="aht"):
        history_from_rows([HistoryRow(2, rows[0].start, 1.0, -3.0)], 30, "Europe/Paris")
    with pytest.raises(InvalidValue, match="queue_timezone"):
        history_from_rows(rows, 30, "Mars/Olympus")
