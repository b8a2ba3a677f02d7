"""Contact order (priority, FIFO, callbacks keep their place) and offers (timeouts, declines)."""

from allo.routing import (
    AdviserMissed,
    AdviserNotReady,
    AdviserReady,
    CallbackRequested,
    ContactAbandoned,
    ContactArrived,
    ContactFinished,
    ContactPhase,
    OfferAccepted,
    OfferDeclined,
    OfferTimedOut,
    OfferWithdrawn,
    RoutingPolicy,
    Tick,
)

from .factory import PARIS, adviser, engine, offers, queue, ready


def test_fifo_among_equals() -> None:
    e = engine([adviser(1)])
    ready(e, 1)
    e.handle(ContactArrived(1, 1), 0.0)
    e.handle(OfferAccepted(1, 1), 1.0)
    for contact_id in (2, 3, 4):
        e.handle(ContactArrived(contact_id, 1), float(contact_id))
    assert offers(e.handle(ContactFinished(1), 10.0)) == [(2, 1)]


def test_priority_before_time_waited() -> None:
    e = engine([adviser(1)])
    ready(e, 1)
    e.handle(ContactArrived(1, 1), 0.0)
    e.handle(OfferAccepted(1, 1), 1.0)
    e.handle(ContactArrived(2, 1), 2.0)
    e.handle(ContactArrived(3, 1, priority=5), 3.0)
    assert offers(e.handle(ContactFinished(1), 10.0)) == [(3, 1)]


def test_queue_priority_counts_across_queues() -> None:
    vip = queue(2, priority=10)
    e = engine([adviser(1)], queues=[queue(1), vip])
    ready(e, 1)
    e.handle(ContactArrived(1, 1), 0.0)
    e.handle(OfferAccepted(1, 1), 1.0)
    e.handle(ContactArrived(2, 1), 2.0)
    e.handle(ContactArrived(3, 2), 3.0)
    assert offers(e.handle(ContactFinished(1), 10.0)) == [(3, 1)]


def test_a_callback_keeps_the_place_of_its_arrival() -> None:
    e = engine([adviser(1)])
    ready(e, 1)
    e.handle(ContactArrived(1, 1), 0.0)
    e.handle(OfferAccepted(1, 1), 1.0)
    e.handle(ContactArrived(2, 1), 2.0)
    e.handle(ContactArrived(3, 1), 3.0)
    e.handle(CallbackRequested(2), 4.0)
    assert e.contact_phase(2) is ContactPhase.WAITING
    decisions = e.handle(ContactFinished(1), 10.0)
    assert offers(decisions) == [(2, 1)]
    assert type(decisions[0]).__name__ == "StartCallback"


def test_a_missed_offer_goes_back_to_the_head_and_the_adviser_is_not_ready() -> None:
    e = engine([adviser(1), adviser(2)])
    ready(e, 1)
    assert offers(e.handle(ContactArrived(1, 1), 0.0)) == [(1, 1)]
    e.handle(ContactArrived(2, 1), 5.0)
    assert e.next_timer_at() == 15.0
    decisions = e.handle(Tick(), 15.0)
    assert AdviserMissed(1, 1) in decisions
    assert not e.adviser_ready(1)
    assert e.contact_phase(1) is ContactPhase.WAITING
    # Contact 1 is still ahead of contact 2, who came later.
    assert offers(e.handle(AdviserReady(2), 16.0)) == [(1, 2)]


def test_a_timeout_reported_by_the_driver_is_the_same_as_the_engine_timer() -> None:
    e = engine([adviser(1)])
    ready(e, 1)
    e.handle(ContactArrived(1, 1), 0.0)
    assert AdviserMissed(1, 1) in e.handle(OfferTimedOut(1, 1), 3.0)
    assert e.handle(OfferAccepted(1, 1), 4.0)[0].__class__.__name__ == "Ignored"


def test_a_declined_offer_goes_to_another_adviser_and_not_back_to_the_decliner() -> None:
    e = engine([adviser(1), adviser(2)])
    ready(e, 1)
    ready(e, 2, now=1.0)
    assert offers(e.handle(ContactArrived(1, 1), 2.0)) == [(1, 1)]
    assert offers(e.handle(OfferDeclined(1, 1), 3.0)) == [(1, 2)]
    assert e.adviser_ready(1)
    e.handle(OfferDeclined(1, 2), 4.0)
    assert e.contact_phase(1) is ContactPhase.WAITING
    assert offers(e.handle(ContactArrived(2, 1), 5.0)) == [(2, 1)]


def test_offer_timeout_is_per_queue() -> None:
    e = engine([adviser(1)], policy=RoutingPolicy(offer_timeout=30.0))
    ready(e, 1)
    decisions = e.handle(ContactArrived(1, 1), 0.0)
    assert decisions[0].expires_at == 30.0  # type: ignore[union-attr]


def test_abandon_during_an_offer_withdraws_it_and_frees_the_adviser() -> None:
    e = engine([adviser(1)])
    ready(e, 1)
    e.handle(ContactArrived(1, 1), 0.0)
    assert OfferWithdrawn(1, 1, "abandoned") in e.handle(ContactAbandoned(1), 2.0)
    assert e.contact_phase(1) is None
    assert offers(e.handle(ContactArrived(2, 1), 3.0)) == [(2, 1)]


def test_not_ready_adviser_gets_nothing_and_ready_again_takes_the_head() -> None:
    e = engine([adviser(1, PARIS)])
    ready(e, 1)
    e.handle(AdviserNotReady(1, "break"), 1.0)
    assert offers(e.handle(ContactArrived(1, 1), 2.0)) == []
    assert offers(e.handle(AdviserReady(1), 3.0)) == [(1, 1)]


def test_a_callback_keeps_its_place_against_a_later_call_arrived_at_the_same_time() -> None:
    # The live router's clock may give both arrivals the same time: FIFO among equals is the
    # order of arrival, and turning into a callback does not lose it.
    e = engine([adviser(1)])
    e.handle(ContactArrived(1, 1), 5.0)
    e.handle(ContactArrived(2, 1), 5.0)
    e.handle(CallbackRequested(1), 5.0)
    decisions = e.handle(AdviserReady(1), 5.0)
    assert offers(decisions) == [(1, 1)]
    assert type(decisions[0]).__name__ == "StartCallback"


def test_order_across_channel_classes_is_priority_then_original_arrival() -> None:
    e = engine([adviser(1)])
    e.handle(ContactArrived(1, 1), 1.0)
    e.handle(ContactArrived(2, 1), 2.0)
    e.handle(ContactArrived(3, 1, priority=1), 3.0)
    e.handle(CallbackRequested(2), 4.0)
    e.handle(CallbackRequested(1), 4.0)
    ready(e, 1, now=5.0)
    served = []
    for now in (6.0, 7.0, 8.0):
        offered = [c for c in (1, 2, 3) if e.contact_phase(c) is ContactPhase.OFFERED]
        assert len(offered) == 1
        served.append(offered[0])
        e.handle(OfferAccepted(offered[0], 1), now)
        e.handle(ContactFinished(offered[0]), now)
    assert served == [3, 1, 2]


def test_a_missed_offer_keeps_its_place_against_a_call_arrived_at_the_same_time() -> None:
    e = engine([adviser(1), adviser(2)])
    ready(e, 1)
    assert offers(e.handle(ContactArrived(1, 1), 0.0)) == [(1, 1)]
    e.handle(ContactArrived(2, 1), 0.0)
    e.handle(Tick(), 15.0)
    assert offers(e.handle(AdviserReady(2), 16.0)) == [(1, 2)]
