"""The twin: determinism, the books after outages, callbacks, repeats, tiers, quality."""

from __future__ import annotations

from dataclasses import replace

from allo.simulation.model import CallbackOffer, Outage, OutagePolicy, QualityModel
from allo.simulation.twin import Twin, run_replication
from tests.unit.simulation.helpers import single_queue, two_sites

NAMES = ["Paris", "Rabat"]


def test_same_seed_same_result_and_another_seed_differs() -> None:
    scenario = two_sites()
    first = run_replication(scenario, 7).metrics(NAMES)
    assert run_replication(scenario, 7).metrics(NAMES) == first
    assert run_replication(scenario, 8).metrics(NAMES) != first


def _books_balance(twin: Twin) -> None:
    result = twin.run()
    assert sum(result.books.values()) == result.arrivals == len(twin.c_state)
    assert result.arrivals > 0


def test_an_outage_that_requeues_loses_no_contact_from_the_books() -> None:
    outage = Outage("Paris", 11 * 3600.0, 12 * 3600.0, OutagePolicy.REQUEUE)
    twin = Twin(two_sites((outage,)), 3)
    _books_balance(twin)
    assert twin.requeued > 0
    assert twin.c_state.count(6) == 0  # nobody dropped


def test_an_outage_that_drops_counts_the_dropped_calls() -> None:
    outage = Outage("Rabat", 10 * 3600.0, 10.5 * 3600.0, OutagePolicy.DROP)
    twin = Twin(two_sites((outage,), overflow_after=0.0), 4)
    result = twin.run()
    assert result.books["dropped"] > 0
    assert sum(result.books.values()) == result.arrivals


def test_no_contact_starts_at_a_dark_site() -> None:
    outage = Outage("Paris", 11 * 3600.0, 12 * 3600.0)
    twin = Twin(two_sites((outage,)), 5)
    twin.run()
    starts = [
        twin.c_start[cid]
        for cid in range(len(twin.c_state))
        if twin.c_site[cid] == 0 and twin.c_state[cid] == 4
    ]
    assert starts and not any(11 * 3600.0 <= t < 12 * 3600.0 for t in starts)


def test_overflow_after_the_tier_opens_and_not_before() -> None:
    twin = Twin(two_sites(overflow_after=30.0), 1)
    twin.run()
    rabat_waits = [
        twin.c_answered[cid] - twin.c_arrived[cid]
        for cid in range(len(twin.c_state))
        if twin.c_site[cid] == 1 and twin.c_answered[cid] >= 0
    ]
    assert rabat_waits and min(rabat_waits) >= 30.0 - 1e-6
    assert twin.overflows > 0


def test_callbacks_keep_the_customer_off_the_line() -> None:
    base = single_queue(9, 100.0, 4, patience=120.0)
    queue = replace(base.queues[0], callback=CallbackOffer(after=30.0, accept=1.0))
    result = run_replication(replace(base, queues=(queue,)), 2)
    assert result.callbacks > 0
    assert result.books["abandoned"] < run_replication(base, 2).books["abandoned"]


def test_unresolved_contacts_come_back_and_poor_quality_costs_volume() -> None:
    base = two_sites()
    poor = QualityModel(fcr=0.3, repeat_probability=0.9, repeat_delay=1800.0)
    good = QualityModel(fcr=0.9, repeat_probability=0.9, repeat_delay=1800.0)
    volumes = {}
    for name, quality in (("poor", poor), ("good", good)):
        sites = tuple(replace(model, quality=quality) for model in base.sites)
        result = run_replication(replace(base, sites=sites), 1)
        volumes[name] = (result.arrivals, result.repeat_arrivals)
    assert volumes["poor"][1] > volumes["good"][1] > 0
    assert volumes["poor"][0] > volumes["good"][0]


def test_language_level_lengthens_handling() -> None:
    twin = Twin(two_sites(), 1)
    # Rabat's advisers speak French at level 4: the default factor is 1.08.
    paris, rabat = twin.handling_sampler(0, 1), twin.handling_sampler(0, 7)
    assert twin.adviser_site[7] == 1
    assert sum(rabat() for _ in range(4000)) > sum(paris() for _ in range(4000))


def test_cost_and_occupancy_per_site() -> None:
    result = run_replication(two_sites(), 1)
    metrics = result.metrics(NAMES)
    # 6 advisers × 9 h at 28 €/h in Paris, 6 × 9 h at 14.5 €/h in Rabat.
    assert metrics["cost"] == 6 * 9 * (28.0 + 14.5)
    assert 0 < metrics["occupancy[Rabat]"] < metrics["occupancy[Paris]"] <= 1.0
    assert metrics["cost_per_resolved"] > metrics["cost_per_contact"] > 0
    assert 1 <= metrics["satisfaction"] <= 5
