"""Scenario files: the shipped examples load; bad input names its line and field."""

from __future__ import annotations

from importlib import resources

import pytest

from allo.simulation.roster import build_roster
from allo.simulation.scenario import ScenarioError, load_scenario

SHIPPED = ("france", "offshore", "hybrid")


def shipped(name: str) -> str:
    return (resources.files("allo.simulation") / "scenarios" / f"{name}.yaml").read_text("utf-8")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_load(name: str) -> None:
    scenario = load_scenario(shipped(name))
    assert scenario.queues[0].demand.total == pytest.approx(2400)
    assert build_roster(scenario)


def test_hybrid_routes_france_first_and_overflows_after_60_s() -> None:
    policy = load_scenario(shipped("hybrid")).queues[0].policy
    assert [tier.after for tier in policy.tiers] == [0.0, 60.0]
    assert policy.tiers[0].groups == frozenset({"france"})


MINIMAL = """\
name: t
date: 2026-03-02
sites:
  - name: Paris
    country: FR
    timezone: Europe/Paris
    hourly_cost: 28
    groups: [france]
    teams:
      - skills: {support: 3}
        languages: {fr: 5}
        shifts: [{start: "08:00", end: "16:00", advisers: 5}]
queues:
  - name: support
    skills: {support: 2}
    handling: {law: lognormal, mean: 300, cv: 0.8}
    demand: {start: "08:00", volumes: [10, 10]}
"""


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(text)
    return caught.value


def test_minimal_scenario_loads_with_local_times() -> None:
    scenario = load_scenario(MINIMAL)
    shift = scenario.sites[0].teams[0].shifts[0]
    assert (shift.start, shift.end) == (8 * 3600, 16 * 3600)
    assert scenario.queues[0].demand.start == 8 * 3600


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        (
            "    hourly_cost: 28",
            "    hourly_cost: 28\n    hourly_kost: 3",
            8,
            "sites[0].hourly_kost",
        ),
        ("    hourly_cost: 28", "    hourly_cost: -5", 7, "sites[0].hourly_cost"),
        ("advisers: 5", "advisers: many", 12, "sites[0].teams[0].shifts[0].advisers"),
        ("mean: 300", "mean: 0", 16, "queues[0].handling.mean"),
        ("law: lognormal", "law: gaussian", 16, "queues[0].handling.law"),
        ("volumes: [10, 10]", "volumes: [10, -1]", 17, "queues[0].demand.volumes[1]"),
        ("date: 2026-03-02", "date: tomorrow", 2, "date"),
        ("country: FR", "country: XX", 4, "sites[0]"),
        ("skills: {support: 2}", "skills: {support: 4}", 14, "queues[0]"),
    ],
)
def test_bad_values_name_line_and_field(old: str, new: str, line: int, field: str) -> None:
    error = error_of(MINIMAL.replace(old, new, 1))
    assert (error.line, error.field) == (line, field), str(error)
    assert str(error).startswith(f"line {line}, {field}: ")


def test_inconsistent_sites_are_refused() -> None:
    outage = MINIMAL + "outages:\n  - {site: Rabat, start: '10:00', end: '11:00'}\n"
    error = error_of(outage)
    assert error.line == 19 and "Rabat" in str(error) and error.field == "outages[0].site"
    tiers = MINIMAL.replace(
        "    demand:", "    routing: {tiers: [{after: 0, groups: [offshore]}]}\n    demand:"
    )
    assert "'offshore' is not a group" in str(error_of(tiers))
    twice = MINIMAL.replace("queues:", MINIMAL.split("sites:\n")[1].split("queues:")[0] + "queues:")
    assert "used twice" in str(error_of(twice.replace("sites:\n", "sites:\n", 1)))
    by_site = MINIMAL.replace(
        "    demand:", "    handling_by_site: {Tunis: {law: fixed, mean: 200}}\n    demand:"
    )
    assert "'Tunis' is not a site" in str(error_of(by_site))
    auto = MINIMAL.replace("    demand:", "    staffing: auto\n    demand:")
    assert "auto_share" in str(error_of(auto))


def test_yaml_errors_and_duplicate_keys_have_a_line() -> None:
    assert error_of("name: [unclosed\n").field == "yaml"
    duplicate = MINIMAL.replace("name: t\n", "name: t\nname: u\n")
    assert (error_of(duplicate).line, error_of(duplicate).field) == (2, "name")
    assert error_of("").field == "scenario"
