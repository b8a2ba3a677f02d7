"""Volume and AHT forecasts per queue and slot, with baselines, a smoothing model and backtests.

Methods, all forecasting day ``d`` from data up to an origin day ``o < d``:

- ``last_week``: the same slot 7 days before ``d`` (the latest such day not after ``o``);
- ``mean_4_weeks``: the mean of the same slot on the last 4 same weekdays not after ``o``;
- ``seasonal_smoothing``: level × weekday factor × intraday profile, each updated by
  exponential smoothing day after day (Holt–Winters style, multiplicative weekly season),
  with a few smoothing constants tried; holidays are left out of the updates and forecast
  with the ratio observed on past holidays (0 when the queue was closed on them).

The method is chosen per queue by backtest (lowest WAPE on validation days before the
held-out days); WAPE = Σ|forecast - actual| / Σ actual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from allo.domain.errors import InvalidValue
from allo.planning.history import SlotHistory

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
# (history, holiday mask over history+future days, target day index, origin index) → slots
Model = Callable[[SlotHistory, BoolArray, int, int], FloatArray]

SMOOTHING_GRID = ((0.1, 0.05, 0.05), (0.3, 0.1, 0.1), (0.5, 0.1, 0.2), (0.2, 0.02, 0.1))


def _same_weekday_days(history: SlotHistory, target: int, origin: int, weeks: int) -> list[int]:
    """Indexes of the last ``weeks`` days with data on target's weekday, not after origin."""
    has = history.has_data()
    found: list[int] = []
    day = target - 7 * ((target - origin + 6) // 7)
    while day >= 0 and len(found) < weeks:
        if has[day]:
            found.append(day)
        day -= 7
    return found


def last_week(history: SlotHistory, holidays: BoolArray, target: int, origin: int) -> FloatArray:
    days = _same_weekday_days(history, target, origin, 1)
    return np.nan_to_num(history.volume[days[0]]) if days else np.zeros(history.slots)


def mean_4_weeks(history: SlotHistory, holidays: BoolArray, target: int, origin: int) -> FloatArray:
    days = _same_weekday_days(history, target, origin, 4)
    if not days:
        return np.zeros(history.slots)
    # Slots closed on every one of those days stay at 0 (no "mean of empty slice").
    values = history.volume[days]
    counts = np.maximum(np.sum(~np.isnan(values), axis=0), 1)
    return np.asarray(np.nansum(values, axis=0) / counts, dtype=np.float64)


@dataclass(slots=True)
class _SmoothingState:
    level: float
    weekday: FloatArray  # factor per weekday, NaN when that weekday never had data
    profile: FloatArray  # 7 × slots intraday shares
    holiday_ratios: list[float]


def _initial_state(history: SlotHistory, ok: BoolArray, weeks: int = 2) -> _SmoothingState:
    first_days = np.flatnonzero(ok)[: 5 * weeks + 2 * weeks]
    totals = np.nansum(history.volume, axis=1)
    level = float(np.mean(totals[first_days])) if first_days.size else 0.0
    weekday = np.full(7, np.nan)
    profile = np.full((7, history.slots), 1.0 / history.slots)
    dows = history.weekdays()
    for dow in range(7):
        days = first_days[dows[first_days] == dow]
        if days.size and level > 0:
            weekday[dow] = float(np.mean(totals[days])) / level
            shares = np.nan_to_num(history.volume[days]) / np.maximum(totals[days, None], 1e-9)
            profile[dow] = shares.mean(axis=0)
    return _SmoothingState(level, weekday, profile, [])


def _update(
    state: _SmoothingState, values: FloatArray, dow: int, params: tuple[float, float, float]
) -> None:
    alpha, gamma, beta = params
    total = float(np.nansum(values))
    if np.isnan(state.weekday[dow]):
        state.weekday[dow] = total / state.level if state.level > 0 else 1.0
    factor = state.weekday[dow]
    if factor > 0:
        state.level = alpha * total / factor + (1 - alpha) * state.level
    if state.level > 0:
        state.weekday[dow] = gamma * total / state.level + (1 - gamma) * factor
    if total > 0:
        state.profile[dow] = beta * np.nan_to_num(values) / total + (1 - beta) * state.profile[dow]


def _predict(state: _SmoothingState, dow: int, holiday: bool) -> FloatArray:
    factor = state.weekday[dow]
    if np.isnan(factor):
        return np.zeros(state.profile.shape[1])  # this weekday never opened
    forecast = state.level * factor * state.profile[dow]
    if holiday:
        ratio = float(np.median(state.holiday_ratios)) if state.holiday_ratios else 1.0
        forecast = forecast * ratio
    return np.asarray(forecast, dtype=np.float64)


def smoothing_paths(
    history: SlotHistory, holidays: BoolArray, params: tuple[float, float, float]
) -> list[_SmoothingState]:
    """The smoothing state after each day (index o = state knowing days 0..o)."""
    has = history.has_data()
    ok = has & ~holidays[: history.days]
    state = _initial_state(history, ok)
    dows = history.weekdays()
    states: list[_SmoothingState] = []
    for day in range(history.days):
        if holidays[day]:
            expected = float(_predict(state, int(dows[day]), holiday=False).sum())
            actual = float(np.nansum(history.volume[day]))
            if expected > 0:
                state.holiday_ratios.append(actual / expected)
        elif ok[day]:
            _update(state, history.volume[day], int(dows[day]), params)
        states.append(
            _SmoothingState(
                state.level, state.weekday.copy(), state.profile.copy(), list(state.holiday_ratios)
            )
        )
    return states


def _weekday_of(history: SlotHistory, day_index: int) -> int:
    return (history.first_day.weekday() + day_index) % 7


def smoothing_model(params: tuple[float, float, float]) -> Model:
    # The states of the last (history, holidays) seen: a backtest asks for many origins.
    cache: list[tuple[SlotHistory, BoolArray, list[_SmoothingState]]] = []

    def model(history: SlotHistory, holidays: BoolArray, target: int, origin: int) -> FloatArray:
        if not cache or cache[0][0] is not history or cache[0][1] is not holidays:
            cache[:] = [(history, holidays, smoothing_paths(history, holidays, params))]
        state = cache[0][2][min(origin, history.days - 1)]
        return _predict(state, _weekday_of(history, target), bool(holidays[target]))

    return model


def blend(first: Model, second: Model) -> Model:
    """Equal-weight average of two forecasts: combining usually beats either alone."""

    def model(history: SlotHistory, holidays: BoolArray, target: int, origin: int) -> FloatArray:
        both = first(history, holidays, target, origin) + second(history, holidays, target, origin)
        return np.asarray(both / 2, dtype=np.float64)

    return model


def methods() -> dict[str, Model]:
    """Every method a backtest may choose from, by name."""
    found: dict[str, Model] = {"last_week": last_week, "mean_4_weeks": mean_4_weeks}
    for alpha, gamma, beta in SMOOTHING_GRID:
        name = f"seasonal_smoothing(a={alpha},g={gamma},b={beta})"
        found[name] = smoothing_model((alpha, gamma, beta))
        found[f"blend(mean_4_weeks,{name})"] = blend(
            mean_4_weeks, smoothing_model((alpha, gamma, beta))
        )
    return found


def wape(forecast: FloatArray, actual: FloatArray) -> float:
    """Weighted absolute percentage error over cells that have an actual value."""
    known = ~np.isnan(actual)
    total = float(np.sum(actual[known]))
    if total <= 0:
        return float("nan")
    return float(np.sum(np.abs(forecast[known] - actual[known])) / total)


def holiday_mask(history: SlotHistory, holidays: Iterable[date], extra_days: int = 0) -> BoolArray:
    days = set(holidays)
    return np.array(
        [history.day(i) in days for i in range(history.days + extra_days)], dtype=np.bool_
    )


def backtest(
    history: SlotHistory,
    model: Model,
    holidays: BoolArray,
    test_days: list[int],
    horizon_days: int,
) -> float:
    """WAPE of ``model`` over ``test_days``, each forecast ``horizon_days`` ahead."""
    forecasts = [model(history, holidays, d, d - horizon_days) for d in test_days]
    actual = history.volume[test_days]
    return wape(np.array(forecasts), actual)


def open_days(history: SlotHistory, holidays: BoolArray) -> list[int]:
    return [int(d) for d in np.flatnonzero(history.has_data() & ~holidays[: history.days])]


@dataclass(frozen=True, slots=True)
class MethodChoice:
    method: str
    validation_wape: dict[str, float]


def choose_method(
    history: SlotHistory, holidays: BoolArray, horizon_days: int, validation: list[int]
) -> MethodChoice:
    """The method with the lowest WAPE on ``validation`` day indexes."""
    if not validation:
        raise InvalidValue("history", "too short to choose a forecast method by backtest")
    scores = {
        name: backtest(history, model, holidays, validation, horizon_days)
        for name, model in methods().items()
    }
    best = min(scores, key=lambda name: (np.nan_to_num(scores[name], nan=np.inf), name))
    return MethodChoice(best, scores)


@dataclass(frozen=True, slots=True)
class Forecast:
    """Forecast volume and AHT per day and slot, from ``first_day``, with the method used."""

    first_day: date
    slot_minutes: int
    volume: FloatArray
    aht: FloatArray
    method: str
    validation_wape: dict[str, float]


def forecast_aht(history: SlotHistory, weeks: int = 4) -> FloatArray:
    """Per weekday and slot, the volume-weighted AHT of the last ``weeks`` same weekdays."""
    result = np.full((7, history.slots), np.nan)
    dows = history.weekdays()
    work = np.nan_to_num(history.volume * history.aht)
    overall = float(np.nansum(work) / max(np.nansum(history.volume[~np.isnan(history.aht)]), 1e-9))
    for dow in range(7):
        days = np.flatnonzero((dows == dow) & history.has_data())[-weeks:]
        if days.size:
            vol = np.nansum(np.where(np.isnan(history.aht[days]), 0, history.volume[days]), axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                result[dow] = np.where(vol > 0, work[days].sum(axis=0) / vol, np.nan)
    return np.asarray(np.where(np.isnan(result), overall if overall > 0 else np.nan, result))


def forecast(
    history: SlotHistory,
    holidays: Iterable[date],
    days_ahead: int,
    *,
    validation_days: int = 14,
) -> Forecast:
    """Forecast the ``days_ahead`` days after the history, method chosen by backtest.

    The backtest forecasts each of the last ``validation_days`` open days from one day
    before (day-ahead), scoring every method.
    """
    if days_ahead <= 0:
        raise InvalidValue("days_ahead", "must be positive")
    mask = holiday_mask(history, holidays, days_ahead)
    validation = open_days(history, mask)[-validation_days:]
    validation = [d for d in validation if d >= 28]
    choice = choose_method(history, mask, 1, validation)
    model = methods()[choice.method]
    last = history.days - 1
    rows = [model(history, mask, last + k, last) for k in range(1, days_ahead + 1)]
    aht = forecast_aht(history)
    first = history.day(last) + timedelta(days=1)
    dows = [(first.weekday() + k) % 7 for k in range(days_ahead)]
    return Forecast(
        first,
        history.slot_minutes,
        np.array(rows),
        aht[dows],
        choice.method,
        choice.validation_wape,
    )
