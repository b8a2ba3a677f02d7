"""Eligibility (skills, language) and site tiers (bullseye with overflow timers)."""

from allo.domain.channels import Channel
from allo.routing import (
    AdviserReady,
    ContactArrived,
    Overflowed,
    RoutingPolicy,
    SiteOption,
    SiteTier,
    Tick,
)
from allo.routing.tiers import step_at, tier_table

from .factory import (
    FRANCE,
    FRANCE_ONLY,
    LILLE,
    PARIS,
    RABAT,
    TUNIS,
    adviser,
    engine,
    offers,
    queue,
    ready,
)


def test_adviser_below_the_minimum_skill_level_is_not_offered() -> None:
    e = engine([adviser(1, skills={"billing": 1}), adviser(2, skills={"billing": 2})])
    ready(e, 1, 2)
    assert offers(e.handle(ContactArrived(10, 1), 1.0)) == [(10, 2)]


def test_adviser_missing_a_required_skill_is_not_offered() -> None:
    q = queue(skills={"billing": 2, "fibre": 1})
    e = engine([adviser(1), adviser(2, skills={"billing": 5, "fibre": 1})], queues=[q])
    ready(e, 1, 2)
    assert offers(e.handle(ContactArrived(10, 1), 1.0)) == [(10, 2)]


def test_language_must_reach_the_queue_minimum_level() -> None:
    weak = adviser(1, languages={"fr": 2})
    e = engine([weak, adviser(2, languages={"fr": 3})])
    ready(e, 1, 2)
    assert offers(e.handle(ContactArrived(10, 1), 1.0)) == [(10, 2)]


def test_a_contact_in_another_language_goes_to_an_adviser_speaking_it() -> None:
    e = engine([adviser(1), adviser(2, languages={"fr": 5, "en": 4})])
    ready(e, 1, 2)
    assert offers(e.handle(ContactArrived(10, 1, language="en"), 1.0)) == [(10, 2)]
    assert offers(e.handle(ContactArrived(11, 1, language="de"), 2.0)) == []


def test_france_preference_waits_for_france_then_overflows_after_90_s() -> None:
    e = engine([adviser(1, RABAT)])
    ready(e, 1)
    assert offers(e.handle(ContactArrived(10, 1, option=FRANCE), 0.0)) == []
    assert e.next_timer_at() == 90.0
    assert offers(e.handle(Tick(), 89.9)) == []
    decisions = e.handle(Tick(), 90.0)
    assert Overflowed(10, 1, 2, None) in decisions
    assert offers(decisions) == [(10, 1)]


def test_france_only_never_overflows() -> None:
    e = engine([adviser(1, RABAT), adviser(2, TUNIS)])
    ready(e, 1, 2)
    assert offers(e.handle(ContactArrived(10, 1, option=FRANCE_ONLY), 0.0)) == []
    assert offers(e.handle(Tick(), 10_000.0)) == []
    assert e.allowed_sites(10) == frozenset({PARIS, LILLE})
    e.handle(AdviserReady(3), 10_001.0)  # unknown adviser: ignored
    assert offers(e.handle(ContactArrived(11, 1, option=SiteOption()), 10_002.0)) == [(11, 1)]


def test_the_fastest_option_takes_any_site_at_once() -> None:
    e = engine([adviser(1, RABAT)])
    ready(e, 1)
    assert offers(e.handle(ContactArrived(10, 1), 0.0)) == [(10, 1)]


def test_france_adviser_is_preferred_within_tier_one() -> None:
    e = engine([adviser(1, RABAT), adviser(2, LILLE)])
    ready(e, 1, 2)
    assert offers(e.handle(ContactArrived(10, 1, option=FRANCE), 0.0)) == [(10, 2)]


def test_named_group_tiers_build_a_three_ring_bullseye() -> None:
    tiers = (SiteTier(0, chosen=True), SiteTier(30, groups=frozenset({"maghreb"})), SiteTier(60))
    groups = {"france": frozenset({PARIS, LILLE}), "maghreb": frozenset({RABAT, TUNIS})}
    table = tier_table(tiers, FRANCE, groups)
    assert [step.sites for step in table] == [
        frozenset({PARIS, LILLE}),
        frozenset({PARIS, LILLE, RABAT, TUNIS}),
        None,
    ]
    assert step_at(table, 1000.0, 1045.0).number == 2
    only = tier_table(tiers, FRANCE_ONLY, groups)
    assert [step.sites for step in only] == [frozenset({PARIS, LILLE})]


def test_a_queue_only_indexes_its_channels() -> None:
    policy = RoutingPolicy(channels=frozenset({Channel.CHAT}))
    e = engine([adviser(1)], policy=policy)
    ready(e, 1)
    decisions = e.handle(ContactArrived(10, 1, channel=Channel.VOICE), 0.0)
    assert decisions[0].__class__.__name__ == "Ignored"
    assert offers(e.handle(ContactArrived(11, 1, channel=Channel.CHAT), 1.0)) == [(11, 1)]
