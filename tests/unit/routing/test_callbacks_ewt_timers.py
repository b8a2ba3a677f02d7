"""Callbacks (keep place, booked slot), wait estimates and the engine's timers."""

from datetime import UTC, datetime

import pytest

from allo.domain.queues import OpeningHours
from allo.routing import (
    AdviserLoggedOut,
    AdviserNotReady,
    AdviserReady,
    AnnounceWait,
    CallbackConfirmed,
    CallbackRequested,
    ContactAbandoned,
    ContactArrived,
    ContactFinished,
    ContactPhase,
    Ignored,
    OfferAccepted,
    RoutingPolicy,
    SiteOption,
    StartCallback,
    Tick,
)
from allo.routing.ewt import ewma

from .factory import FRANCE, FRANCE_ONLY, PARIS, RABAT, adviser, engine, offers, queue, ready

MONDAY_10H_PARIS = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()
OFFICE = OpeningHours(weekly={"mon": [["08:00", "20:00"]]})


def test_a_booked_callback_starts_at_its_slot() -> None:
    e = engine([adviser(1)], queues=[queue(hours=OFFICE)])
    start = MONDAY_10H_PARIS
    e.handle(ContactArrived(1, 1), start)
    slot = start + 3600
    assert e.handle(CallbackRequested(1, at=slot), start + 5) == [CallbackConfirmed(1, slot)]
    assert e.contact_phase(1) is ContactPhase.BOOKED
    ready(e, 1, now=start + 10)
    assert e.contact_phase(1) is ContactPhase.BOOKED
    assert e.next_timer_at() == slot
    decisions = e.handle(Tick(), slot)
    assert [type(d) for d in decisions] == [StartCallback]
    assert offers(decisions) == [(1, 1)]


def test_a_slot_outside_opening_hours_is_refused() -> None:
    e = engine([adviser(1)], queues=[queue(hours=OFFICE)])
    e.handle(ContactArrived(1, 1), MONDAY_10H_PARIS)
    late = MONDAY_10H_PARIS + 11 * 3600  # 21:00 in Paris
    decisions = e.handle(CallbackRequested(1, at=late), MONDAY_10H_PARIS + 1)
    assert isinstance(decisions[0], Ignored)
    assert e.contact_phase(1) is ContactPhase.WAITING


def test_a_callback_without_slot_is_started_when_an_adviser_is_free() -> None:
    e = engine([adviser(1)])
    ready(e, 1)
    e.handle(ContactArrived(1, 1), 0.0)
    e.handle(OfferAccepted(1, 1), 0.0)
    e.handle(ContactArrived(2, 1), 1.0)
    assert e.handle(CallbackRequested(2), 2.0) == [CallbackConfirmed(2, None)]
    decisions = e.handle(ContactFinished(1), 100.0)
    assert [type(d) for d in decisions] == [StartCallback]


def test_ewt_is_zero_with_a_free_adviser_and_grows_with_position() -> None:
    e = engine([adviser(1), adviser(2)])
    ready(e, 1, 2)
    assert e.estimate_wait(1) == 0.0
    e.handle(ContactArrived(1, 1), 0.0)
    e.handle(ContactArrived(2, 1), 0.0)
    e.handle(OfferAccepted(1, 1), 0.0)
    e.handle(OfferAccepted(2, 2), 0.0)
    first = e.handle(ContactArrived(3, 1), 1.0)[0]
    second = e.handle(ContactArrived(4, 1), 2.0)[0]
    assert isinstance(first, AnnounceWait) and isinstance(second, AnnounceWait)
    # Two in service at AHT 180 s: one leaves every 90 s on average.
    assert first.estimates[0].seconds == pytest.approx(90.0)
    assert second.estimates[0].seconds == pytest.approx(180.0)


def test_ewt_per_option_france_only_versus_any_site() -> None:
    options = (FRANCE_ONLY, SiteOption())
    e = engine(
        [adviser(1, PARIS), adviser(2, RABAT), adviser(3, RABAT)],
        policy=RoutingPolicy(announce_options=options),
    )
    ready(e, 1, 2, 3)
    for contact_id, adviser_id in ((1, 1), (2, 2), (3, 3)):
        e.handle(ContactArrived(contact_id, 1), 0.0)
        e.handle(OfferAccepted(contact_id, adviser_id), 0.0)
    # "France first": 90 s of France alone (half a departure), then all three sites.
    assert e.estimate_wait(1, FRANCE) == pytest.approx(90.0 + 0.5 * 60.0)
    announce = e.handle(ContactArrived(4, 1, option=FRANCE_ONLY), 1.0)[0]
    assert isinstance(announce, AnnounceWait)
    waits = {estimate.option: estimate.seconds for estimate in announce.estimates}
    assert waits[FRANCE_ONLY] == pytest.approx(180.0)
    assert waits[SiteOption()] == pytest.approx(60.0)


def test_handling_times_update_the_estimate() -> None:
    e = engine([adviser(1)])
    ready(e, 1)
    e.handle(ContactArrived(1, 1), 0.0)
    e.handle(OfferAccepted(1, 1), 0.0)
    e.handle(ContactFinished(1), 60.0)
    e.handle(ContactArrived(2, 1), 61.0)
    e.handle(OfferAccepted(2, 1), 61.0)
    # A first sample replaces the default: the next one waits one 60 s handling time.
    assert e.estimate_wait(1) == pytest.approx(60.0)
    assert ewma(60.0, 120.0, 0.5) == 90.0


def test_no_adviser_means_no_estimate() -> None:
    e = engine([])
    assert e.estimate_wait(1) is None
    assert e.estimate_wait(99) is None


def test_timers_report_offer_expiry_and_tier_opening() -> None:
    e = engine([adviser(1, RABAT), adviser(2, PARIS)])
    ready(e, 2)
    e.handle(ContactArrived(1, 1, option=FRANCE), 100.0)
    assert e.next_timer_at() == 115.0
    e.handle(OfferAccepted(1, 2), 101.0)
    assert e.next_timer_at() is None
    e.handle(ContactArrived(2, 1, option=FRANCE), 102.0)
    assert e.next_timer_at() == 192.0
    e.handle(AdviserReady(1), 103.0)
    assert offers(e.handle(Tick(), 192.0)) == [(2, 1)]


def test_estimates_are_calibrated_against_the_waits_seen() -> None:
    e = engine([adviser(1)])
    ready(e, 1)
    e.handle(ContactArrived(1, 1), 0.0)
    e.handle(OfferAccepted(1, 1), 0.0)
    announce = e.handle(ContactArrived(2, 1), 0.0)[0]
    assert isinstance(announce, AnnounceWait)
    assert announce.estimates[0].seconds == pytest.approx(180.0)  # the model, uncalibrated
    # The caller in service hangs up after 10 s (no handling sample): contact 2 waited 10 s
    # where the model said 180 s, and later estimates of the queue are scaled down to match.
    assert offers(e.handle(ContactAbandoned(1), 10.0)) == [(2, 1)]
    e.handle(OfferAccepted(2, 1), 10.0)
    calibrated = e.estimate_wait(1)
    assert calibrated is not None and 0.0 < calibrated <= 10.0


def test_a_site_whose_advisers_are_all_logged_out_promises_no_wait() -> None:
    # Paris's adviser exists but has not logged in: "France only" must not announce a wait
    # (before, any eligible member counted, logged in or not: "about 3 min").
    e = engine([adviser(1, PARIS), adviser(2, RABAT)])
    ready(e, 2)
    e.handle(ContactArrived(1, 1), 0.0)
    e.handle(OfferAccepted(1, 2), 0.0)
    assert e.estimate_wait(1, FRANCE_ONLY) is None
    assert e.estimate_wait(1) == pytest.approx(180.0)  # one in service at Rabat
    e.handle(AdviserNotReady(1), 1.0)  # logged in, on a break: will answer in time
    assert e.estimate_wait(1, FRANCE_ONLY) == pytest.approx(180.0)
    ready(e, 1, now=2.0)
    e.handle(ContactArrived(2, 1), 2.0)
    e.handle(OfferAccepted(2, 1), 2.0)
    e.handle(ContactFinished(2), 60.0)
    e.handle(AdviserLoggedOut(1), 61.0)  # the French site closes: what it did lately is over
    assert e.estimate_wait(1, FRANCE_ONLY) is None
