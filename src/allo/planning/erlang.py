"""Queueing maths for staffing: Erlang C (M/M/N) and Erlang A (M/M/N+M), vectorised.

Every function takes NumPy arrays (or scalars) and broadcasts, so one call covers every
interval of every queue. Agent counts may be fractional: Erlang B is extended to real N
through the incomplete gamma function, B(N, a) = Poisson_pmf(N; a) / Poisson_cdf(N; a),
computed in log space so that N = 2,000 agents and a = 1,500 Erlangs neither overflow nor
underflow (no factorials).

Notation: ``load`` a = arrival rate × AHT (Erlangs), ``agents`` N, ``aht`` and all times
in seconds, ``patience`` the mean of the exponential patience of callers (Erlang A).

Erlang A definitions (Mandelbaum & Zeltyn, "The Palm/Erlang-A queue, with applications to
call centers", 2007; Garnett, Mandelbaum & Reiman 2002):

- P(wait) is the probability that an arriving caller finds every agent busy;
- **service level** SL(t) = P(answered within t) over *all* offered calls: a caller who
  abandons, before or after t, counts as missed (the strictest usual definition);
- ASA = mean time spent in queue over all offered calls, abandoners included
  (E[W] = P(abandon) × mean patience, by Little's law on the abandoning flow).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from allo.domain.errors import InvalidValue

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

# Beyond this many agents a target is declared impossible rather than searched forever.
MAX_AGENTS = 100_000


def _f(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def erlang_b(agents: ArrayLike, load: ArrayLike) -> FloatArray:
    """Blocking probability of M/M/N/N, for real N ≥ 0 and load > 0."""
    n, a = np.broadcast_arrays(_f(agents), _f(load))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        log_pmf = n * np.log(a) - a - special.gammaln(n + 1.0)
        cdf = special.gammaincc(n + 1.0, a)  # P(Poisson(a) ≤ n), extended to real n
        blocking = np.exp(log_pmf - np.log(cdf))
        # When a ≫ N the Poisson cdf underflows; the fluid limit 1 - N/a is then exact enough.
        fluid = np.clip(1.0 - n / a, 0.0, 1.0)
        blocking = np.where(np.isfinite(blocking) & (cdf > 1e-280), blocking, fluid)
    return np.asarray(np.clip(blocking, 0.0, 1.0), dtype=np.float64)


def erlang_c(agents: ArrayLike, load: ArrayLike) -> FloatArray:
    """P(wait) of M/M/N: the probability that an arriving call has to queue (1 if a ≥ N)."""
    n, a = np.broadcast_arrays(_f(agents), _f(load))
    b = erlang_b(n, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        wait = n * b / (n - a * (1.0 - b))
    return np.asarray(np.where(n > a, np.clip(wait, 0.0, 1.0), 1.0), dtype=np.float64)


def erlang_c_service_level(
    agents: ArrayLike, load: ArrayLike, aht: ArrayLike, answer_within: ArrayLike
) -> FloatArray:
    """Share of calls answered within t seconds: 1 - C(N, a) exp(-(N - a) t / AHT)."""
    n, a, s, t = np.broadcast_arrays(_f(agents), _f(load), _f(aht), _f(answer_within))
    sl = 1.0 - erlang_c(n, a) * np.exp(-np.maximum(n - a, 0.0) * t / s)
    return np.asarray(np.where(n > a, sl, 0.0), dtype=np.float64)


def erlang_c_asa(agents: ArrayLike, load: ArrayLike, aht: ArrayLike) -> FloatArray:
    """Average speed of answer in seconds: C(N, a) AHT / (N - a); infinite when a ≥ N."""
    n, a, s = np.broadcast_arrays(_f(agents), _f(load), _f(aht))
    with np.errstate(divide="ignore", invalid="ignore"):
        asa = erlang_c(n, a) * s / (n - a)
    return np.asarray(np.where(n > a, asa, np.inf), dtype=np.float64)


def occupancy(agents: ArrayLike, load: ArrayLike) -> FloatArray:
    """Share of agents' time spent handling contacts, a / N (capped at 1)."""
    n, a = np.broadcast_arrays(_f(agents), _f(load))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(n > 0, np.minimum(a / n, 1.0), 1.0), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class ErlangA:
    """Erlang A measures for each interval (arrays of the broadcast shape)."""

    p_wait: FloatArray
    p_abandon: FloatArray
    service_level: FloatArray
    asa: FloatArray


def _log_a_function(x: FloatArray, y: FloatArray) -> FloatArray:
    """log A(x, y) with A(x, y) = x e^y y^-x γ(x, y) (Mandelbaum & Zeltyn), in log space."""
    with np.errstate(divide="ignore", under="ignore"):
        return np.asarray(
            special.gammaln(x + 1.0) + y - x * np.log(y) + np.log(special.gammainc(x, y)),
            dtype=np.float64,
        )


def erlang_a(
    agents: ArrayLike,
    load: ArrayLike,
    aht: ArrayLike,
    patience: ArrayLike,
    answer_within: ArrayLike = 20.0,
) -> ErlangA:
    """M/M/N+M measures: P(wait), P(abandon), SL(t) (answered within t / offered), ASA.

    With θ = 1/patience and μ = 1/AHT, x = Nμ/θ and y = λ/θ; the offered wait V satisfies
    P(V > t) = P(wait) · P(x, y e^{-θt}) / P(x, y) with P the regularised lower incomplete
    gamma, so P(answered within t) = 1 - P(wait) + P(wait) (x/y)
    [P(x+1, y) - P(x+1, y e^{-θt})] / P(x, y).
    """
    n, a, s, p, t = np.broadcast_arrays(
        _f(agents), _f(load), _f(aht), _f(patience), _f(answer_within)
    )
    x = n * p / s
    y = a * p / s
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        log_ab = _log_a_function(x, y) + np.log(erlang_b(n, a))
        ab = np.exp(np.minimum(log_ab, 700.0))
        b = erlang_b(n, a)
        p_wait = np.clip(ab / (1.0 + ab - b), 0.0, 1.0)
        rho = y / x
        log_a = _log_a_function(x, y)
        abandon_if_wait = 1.0 / (rho * np.exp(np.minimum(log_a, 700.0))) + 1.0 - 1.0 / rho
        p_abandon = p_wait * np.clip(abandon_if_wait, 0.0, 1.0)
        lower = special.gammainc(x, y)
        waited_and_answered = (
            (x / y) * (special.gammainc(x + 1.0, y) - special.gammainc(x + 1.0, y * np.exp(-t / p)))
        ) / lower
        sl = 1.0 - p_wait + p_wait * np.nan_to_num(waited_and_answered)
    # Where P(wait) underflowed the ratios above are 0/0: nobody waits, everyone is served.
    quiet = p_wait < 1e-300
    return ErlangA(
        p_wait=np.asarray(p_wait, dtype=np.float64),
        p_abandon=np.asarray(np.where(quiet, 0.0, p_abandon), dtype=np.float64),
        service_level=np.asarray(np.clip(np.where(quiet, 1.0, sl), 0.0, 1.0), dtype=np.float64),
        asa=np.asarray(np.where(quiet, 0.0, p_abandon * p), dtype=np.float64),
    )


@dataclass(frozen=True, slots=True)
class StaffingTarget:
    """What an interval must achieve; every target given must hold at once.

    ``service_level`` is a share in (0, 1) of calls answered within ``answer_within``
    seconds; ``max_asa`` in seconds; ``max_abandon`` a share (Erlang A only);
    ``max_occupancy`` a share in (0, 1].
    """

    service_level: float | None = 0.8
    answer_within: float = 20.0
    max_asa: float | None = None
    max_abandon: float | None = None
    max_occupancy: float | None = None

    def __post_init__(self) -> None:
        if self.service_level is not None and not 0 < self.service_level < 1:
            raise InvalidValue("service_level", "must be a share strictly between 0 and 1")
        if self.answer_within < 0:
            raise InvalidValue("answer_within", "must not be negative")
        if self.max_asa is not None and self.max_asa <= 0:
            raise InvalidValue("max_asa", "must be positive (seconds)")
        if self.max_abandon is not None and not 0 < self.max_abandon < 1:
            raise InvalidValue("max_abandon", "must be a share strictly between 0 and 1")
        if self.max_occupancy is not None and not 0 < self.max_occupancy <= 1:
            raise InvalidValue("max_occupancy", "must be a share in (0, 1]")


Check = Callable[[FloatArray], npt.NDArray[np.bool_]]


def _checks(
    target: StaffingTarget, a: FloatArray, s: FloatArray, patience: FloatArray | None
) -> list[Check]:
    """One monotone predicate per target: True where N agents are enough."""
    checks: list[Check] = []
    t = target.answer_within
    if patience is None:
        if target.max_abandon is not None:
            raise InvalidValue("max_abandon", "needs a patience (Erlang A)")
        if target.service_level is not None:
            level = target.service_level
            checks.append(lambda n: erlang_c_service_level(n, a, s, t) >= level)
        if target.max_asa is not None:
            asa = target.max_asa
            checks.append(lambda n: erlang_c_asa(n, a, s) <= asa)
    else:
        pat = patience
        if target.service_level is not None:
            level = target.service_level
            checks.append(lambda n: erlang_a(n, a, s, pat, t).service_level >= level)
        if target.max_asa is not None:
            asa = target.max_asa
            checks.append(lambda n: erlang_a(n, a, s, pat, t).asa <= asa)
        if target.max_abandon is not None:
            ab = target.max_abandon
            checks.append(lambda n: erlang_a(n, a, s, pat, t).p_abandon <= ab)
    if target.max_occupancy is not None:
        occ = target.max_occupancy
        checks.append(lambda n: a <= occ * n * (1 + 1e-12))
    return checks


def _smallest_integer(check: Check, low: FloatArray, high: FloatArray) -> FloatArray:
    """Vectorised bisection for the smallest integer n in (low, high] with check(n) True."""
    lo, hi = low.copy(), high.copy()  # invariant: check(lo) False (or lo is a floor), check(hi)
    while np.any(hi - lo > 1):
        mid = np.floor((lo + hi) / 2)
        ok = check(mid)
        active = hi - lo > 1
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid, lo)
    return hi


def _smallest_real(check: Check, low: FloatArray, high: FloatArray, tol: float) -> FloatArray:
    lo, hi = low.copy(), high.copy()
    while np.any(hi - lo > tol):
        mid = (lo + hi) / 2
        ok = check(mid)
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return hi


def _feasible_upper(check: Check, a: FloatArray) -> FloatArray:
    """An agent count meeting the check in every interval, found by doubling."""
    high: FloatArray = np.minimum(np.ceil(a + 4 * np.sqrt(a) + 10), MAX_AGENTS)
    for _ in range(40):
        ok = check(high)
        if ok.all():
            return high
        if np.all(ok | (high >= MAX_AGENTS)):
            break
        high = np.where(ok, high, np.minimum(high * 2, MAX_AGENTS))
    bad = int(np.flatnonzero(~check(high))[0])
    raise InvalidValue(f"target[{bad}]", f"cannot be met with {MAX_AGENTS} agents or fewer")


def required_agents(
    load: ArrayLike,
    aht: ArrayLike,
    target: StaffingTarget,
    patience: ArrayLike | None = None,
    *,
    fractional: bool = False,
) -> FloatArray:
    """Smallest N (on the phones, before shrinkage) meeting every target, per interval.

    Erlang C when ``patience`` is None, Erlang A otherwise. Intervals with zero load need
    0 agents. ``fractional=True`` returns the real-valued N (to 0.001) instead of an integer.
    Raises InvalidValue naming the interval index when a target cannot be met.
    """
    a = np.atleast_1d(_f(load))
    s = np.broadcast_to(_f(aht), a.shape).astype(np.float64)
    pat = None if patience is None else np.broadcast_to(_f(patience), a.shape).astype(np.float64)
    _check_inputs(a, s, pat)
    busy = a > 0
    result = np.zeros_like(a)
    if not busy.any():
        return result
    checks = _checks(target, a[busy], s[busy], None if pat is None else pat[busy])
    if not checks:
        raise InvalidValue("target", "give at least one staffing target")

    def every(n: FloatArray) -> npt.NDArray[np.bool_]:
        ok = np.ones(n.shape, dtype=bool)
        for check in checks:
            ok &= check(n)
        return ok

    ab = a[busy]
    # Erlang C needs N > a; Erlang A can be stable below a, so search from 0.
    low = np.floor(ab) if pat is None else np.zeros_like(ab)
    try:
        high = _feasible_upper(every, ab)
    except InvalidValue as error:  # name the interval among all, not among the busy ones
        busy_index = int(error.field.removeprefix("target[").rstrip("]"))
        where = int(np.flatnonzero(busy)[busy_index])
        raise InvalidValue(f"target[{where}]", error.message) from None
    found = (
        _smallest_real(every, low, high, 1e-3)
        if fractional
        else _smallest_integer(every, low, high)
    )
    result[busy] = found
    return result


def _check_inputs(a: FloatArray, s: FloatArray, patience: FloatArray | None) -> None:
    for name, values in (("load", a), ("aht", s), ("patience", patience)):
        if values is None:
            continue
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
        if bad.size:
            raise InvalidValue(f"{name}[{int(bad[0])}]", "must be a finite number ≥ 0")
    zero_aht = np.flatnonzero((s <= 0) & (a > 0))
    if zero_aht.size:
        raise InvalidValue(f"aht[{int(zero_aht[0])}]", "must be positive where there is load")
    if patience is not None and np.any(patience <= 0):
        raise InvalidValue(f"patience[{int(np.flatnonzero(patience <= 0)[0])}]", "must be > 0")


def load_erlangs(volume: ArrayLike, aht: ArrayLike, interval_seconds: float) -> FloatArray:
    """Offered load in Erlangs: contacts per interval × AHT / interval length."""
    if interval_seconds <= 0:
        raise InvalidValue("interval_seconds", "must be positive")
    return np.asarray(_f(volume) * _f(aht) / interval_seconds, dtype=np.float64)
