"""The twin against queueing theory: Erlang C (M/M/N) and Erlang A (M/M/N+M) of planning."""

from __future__ import annotations

import functools
import random

import pytest

from allo.planning.erlang import erlang_a, erlang_c_asa, erlang_c_service_level
from allo.simulation.kernel import single_skill
from allo.simulation.results import Estimate, estimate, summarise
from allo.simulation.twin import run_replication
from tests.unit.simulation.helpers import single_queue

# DOMAIN.md worked example: 100 calls per 30 min, AHT 180 s (10 Erlangs), 14 advisers.
ADVISERS, CALLS, AHT, PATIENCE = 14, 100.0, 180.0, 300.0


def replications(patience: float | None, count: int = 8, hours: int = 12) -> dict[str, Estimate]:
    scenario = single_queue(ADVISERS, CALLS, hours, AHT, patience)
    return summarise([run_replication(scenario, seed).metrics(["Paris"]) for seed in range(count)])


def test_mmn_through_the_engine_agrees_with_erlang_c() -> None:
    summary = replications(None)
    sl = float(erlang_c_service_level(ADVISERS, 10.0, AHT, 20.0))
    asa = float(erlang_c_asa(ADVISERS, 10.0, AHT))
    assert summary["service_level"].covers(sl), (summary["service_level"], sl)
    assert summary["asa"].covers(asa), (summary["asa"], asa)
    assert summary["abandon_rate"].mean == 0


def test_mmn_plus_m_through_the_engine_agrees_with_erlang_a() -> None:
    summary = replications(PATIENCE)
    theory = erlang_a(ADVISERS, 10.0, AHT, PATIENCE, 20.0)
    assert summary["service_level"].covers(float(theory.service_level))
    assert summary["abandon_rate"].covers(float(theory.p_abandon))
    assert summary["mean_wait"].covers(float(theory.asa))


@pytest.mark.parametrize("patience", [None, PATIENCE])
def test_single_skill_kernel_agrees_with_erlang(patience: float | None) -> None:
    rate = 100 / 1800
    results = []
    for seed in range(10):
        rng = random.Random(seed)
        handling = functools.partial(rng.expovariate, 1 / AHT)
        wait_for = None if patience is None else functools.partial(rng.expovariate, 1 / patience)
        results.append(single_skill(ADVISERS, rate, handling, wait_for, 20_000, rng, warmup=1000))
    sl = estimate([r.service_level for r in results])
    if patience is None:
        assert sl.covers(float(erlang_c_service_level(ADVISERS, 10.0, AHT, 20.0)))
        assert estimate([r.asa for r in results]).covers(float(erlang_c_asa(ADVISERS, 10.0, AHT)))
    else:
        theory = erlang_a(ADVISERS, 10.0, AHT, patience, 20.0)
        assert sl.covers(float(theory.service_level))
        assert estimate([r.abandon_rate for r in results]).covers(float(theory.p_abandon))
        assert estimate([r.mean_wait for r in results]).covers(float(theory.asa))
