"""Erlang C and Erlang A against published values, direct sums and a Monte-Carlo run."""

import heapq

import numpy as np
import pytest

from allo.domain.errors import InvalidValue
from allo.planning.erlang import (
    StaffingTarget,
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_asa,
    erlang_c_service_level,
    load_erlangs,
    occupancy,
    required_agents,
)

# The widely published Erlang C worked example (callcentrehelper.com "Erlang C formula –
# made simple", also DOMAIN.md): 100 calls in 30 min, AHT 180 s, 80 % in 20 s.
LOAD = 10.0
AHT = 180.0


def test_published_erlang_c_example() -> None:
    assert load_erlangs(100, AHT, 1800) == pytest.approx(LOAD)
    sl = erlang_c_service_level([13, 14], LOAD, AHT, 20)
    assert sl == pytest.approx([0.796, 0.888], abs=0.0006)
    assert required_agents(LOAD, AHT, StaffingTarget(0.8, 20))[0] == 14
    # With 14 agents: P(wait) 17.4 %, ASA = C × AHT / (N - a) ≈ 7.8 s, occupancy 71 %.
    assert erlang_c(14, LOAD) == pytest.approx(0.1741, abs=1e-4)
    assert erlang_c_asa(14, LOAD, AHT) == pytest.approx(7.8, abs=0.1)
    assert occupancy(14, LOAD) == pytest.approx(0.714, abs=1e-3)


def test_erlang_a_with_five_minutes_patience_needs_one_adviser_fewer() -> None:
    # DOMAIN.md; Mandelbaum & Zeltyn (2007) show Erlang C overstaffs when callers abandon.
    assert required_agents(LOAD, AHT, StaffingTarget(0.8, 20), patience=300)[0] == 13


def test_erlang_b_matches_the_classic_recursion() -> None:
    for n in (1, 5, 30):
        inverse = 1.0
        for k in range(1, n + 1):
            inverse = 1 + inverse * k / 7.5
        assert erlang_b(n, 7.5) == pytest.approx(1 / inverse, rel=1e-10)


def test_large_systems_stay_finite() -> None:
    agents = np.array([1500.5, 1550, 2000])
    assert np.all(np.isfinite(erlang_c(agents, 1500)))
    assert erlang_c(2000, 1500) < 1e-30
    sl = erlang_c_service_level(1560, 1500, AHT, 20)
    assert 0.5 < sl <= 1
    result = erlang_a(agents, 1500, AHT, 300)
    assert np.all(np.isfinite(result.service_level)) and np.all(result.p_abandon >= 0)
    n = required_agents(np.array([1500.0, 1.0]), AHT, StaffingTarget(0.8, 20))
    assert 1500 < n[0] < 1600 and n[1] == 3


def test_fractional_agents_interpolate() -> None:
    low, mid, high = erlang_c_service_level([13, 13.5, 14], LOAD, AHT, 20)
    assert low < mid < high
    fractional = required_agents(LOAD, AHT, StaffingTarget(0.8, 20), fractional=True)[0]
    assert 13 < fractional < 14


def _direct_erlang_a(n: int, a: float, aht: float, patience: float) -> tuple[float, float]:
    """P(wait), P(abandon) by summing the birth–death chain of M/M/n+M."""
    lam, mu, theta = a / aht, 1 / aht, 1 / patience
    weights = [1.0]
    for k in range(1, n + 400):
        weights.append(weights[-1] * lam / (min(k, n) * mu + max(k - n, 0) * theta))
    p = np.array(weights) / sum(weights)
    abandon_rate = sum(p[k] * (k - n) * theta for k in range(n, len(p)))
    return float(p[n:].sum()), abandon_rate / lam


@pytest.mark.parametrize(
    ("n", "a", "patience"), [(13, 10.0, 300.0), (8, 9.0, 120.0), (50, 48.0, 60.0)]
)
def test_erlang_a_matches_the_birth_death_chain(n: int, a: float, patience: float) -> None:
    wait, abandon = _direct_erlang_a(n, a, AHT, patience)
    result = erlang_a(n, a, AHT, patience)
    assert result.p_wait == pytest.approx(wait, rel=1e-6)
    assert result.p_abandon == pytest.approx(abandon, rel=1e-6)
    assert result.asa == pytest.approx(abandon * patience, rel=1e-6)


def _simulate(
    n: int, a: float, aht: float, patience: float | None, calls: int, t: float
) -> tuple[float, float]:
    """FCFS M/M/n(+M): share answered within t and share abandoned."""
    rng = np.random.default_rng(20260301)
    arrivals = np.cumsum(rng.exponential(aht / a, calls))
    services = rng.exponential(aht, calls)
    patiences = rng.exponential(patience, calls) if patience else np.full(calls, np.inf)
    free = [0.0] * n
    answered_in_t = abandoned = 0
    for arrival, service, limit in zip(arrivals, services, patiences, strict=True):
        wait = max(free[0] - arrival, 0.0)
        if wait > limit:
            abandoned += 1
            continue
        answered_in_t += wait <= t
        heapq.heapreplace(free, arrival + wait + service)
    return answered_in_t / calls, abandoned / calls


def test_monte_carlo_m_m_n() -> None:
    sl, _ = _simulate(13, LOAD, AHT, None, 60_000, 20)
    assert sl == pytest.approx(float(erlang_c_service_level(13, LOAD, AHT, 20)), abs=0.015)


def test_monte_carlo_m_m_n_plus_m() -> None:
    sl, abandon = _simulate(12, LOAD, AHT, 300, 60_000, 20)
    result = erlang_a(12, LOAD, AHT, 300, 20)
    assert sl == pytest.approx(float(result.service_level), abs=0.015)
    assert abandon == pytest.approx(float(result.p_abandon), abs=0.01)


def test_inverse_targets() -> None:
    loads = np.array([0.0, 2.0, 10.0, 40.0])
    by_asa = required_agents(loads, AHT, StaffingTarget(None, max_asa=15))
    assert by_asa[0] == 0 and np.all(erlang_c_asa(by_asa[1:], loads[1:], AHT) <= 15)
    assert np.all(erlang_c_asa(by_asa[1:] - 1, loads[1:], AHT) > 15)
    by_occ = required_agents(loads, AHT, StaffingTarget(None, max_occupancy=0.85))
    assert by_occ.tolist() == [0, 3, 12, 48]
    by_abandon = required_agents(loads, AHT, StaffingTarget(None, max_abandon=0.03), patience=300)
    assert np.all(erlang_a(by_abandon[1:], loads[1:], AHT, 300).p_abandon <= 0.03)
    assert np.all(erlang_a(by_abandon[1:] - 1, loads[1:], AHT, 300).p_abandon > 0.03)


def test_bad_inputs_name_the_field() -> None:
    with pytest.raises(InvalidValue, match=r"load\[1\]"):
        required_agents([1.0, -2.0], AHT, StaffingTarget())
    with pytest.raises(InvalidValue, match="service_level"):
        StaffingTarget(1.0)
    with pytest.raises(InvalidValue, match="patience"):
        required_agents(1.0, AHT, StaffingTarget(None, max_abandon=0.05))
    with pytest.raises(InvalidValue, match=r"aht\[0\]"):
        required_agents(1.0, 0.0, StaffingTarget())


def test_targets_beyond_the_agent_cap_are_reported_not_crashed() -> None:
    from allo.domain.errors import InvalidValue
    from allo.planning.erlang import MAX_AGENTS, StaffingTarget, required_agents

    with pytest.raises(InvalidValue, match=r"target\[0\]"):
        required_agents(4e6, 3600.0, StaffingTarget(0.8, 20))  # more load than MAX_AGENTS
    with pytest.raises(InvalidValue, match=r"target\[1\]"):
        # Only the loaded interval needs 10 / 1e-5 = 1,000,000 agents.
        required_agents([0.0, 10.0], 180.0, StaffingTarget(0.8, 20, max_occupancy=1e-5))
    assert required_agents(10.0, 180.0, StaffingTarget(0.8, 20, max_occupancy=0.001))[0] == 10_000
    assert MAX_AGENTS >= 2_000
