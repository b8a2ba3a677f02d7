"""Transfers: a contact in progress leaves its adviser for a queue or a named adviser."""

from allo.domain.channels import Channel
from allo.routing import (
    ContactArrived,
    ContactPhase,
    ContactTransferred,
    Ignored,
    OfferAccepted,
    RoutingEngine,
)

from .factory import adviser, engine, offers, queue, ready


def _answered_by(e: RoutingEngine, adviser_id: int, contact_id: int = 1) -> None:
    e.handle(ContactArrived(contact_id, 1), 0.0)
    e.handle(OfferAccepted(contact_id, adviser_id), 1.0)


def test_a_blind_transfer_to_a_queue_routes_the_contact_afresh_and_frees_the_adviser() -> None:
    e = engine(
        [adviser(1), adviser(2, skills={"claims": 3})], queues=[queue(1), queue(2, {"claims": 2})]
    )
    ready(e, 1)
    _answered_by(e, 1)
    ready(e, 2, now=2.0)
    decisions = e.handle(ContactTransferred(1, 2), 3.0)
    assert offers(decisions) == [(1, 2)]
    assert e.adviser_work(1).get(Channel.VOICE, 0) == 0


def test_a_named_transfer_is_offered_to_that_adviser_even_if_others_are_free() -> None:
    e = engine([adviser(1), adviser(2), adviser(3)])
    ready(e, 1)
    _answered_by(e, 1)
    ready(e, 2, 3, now=2.0)
    assert offers(e.handle(ContactTransferred(1, 1, adviser_id=3), 3.0)) == [(1, 3)]


def test_a_completed_warm_transfer_is_in_progress_with_the_second_adviser() -> None:
    e = engine([adviser(1), adviser(2)])
    ready(e, 1, 2)
    _answered_by(e, 1)
    e.handle(ContactTransferred(1, 1, adviser_id=2, answered=True), 3.0)
    assert e.contact_phase(1) is ContactPhase.IN_PROGRESS
    assert e.contact_adviser(1) == 2
    # The first adviser is free again: the next contact goes to them.
    assert offers(e.handle(ContactArrived(2, 1), 4.0)) == [(2, 1)]


def test_a_contact_not_in_progress_cannot_be_transferred() -> None:
    e = engine([adviser(1)])
    e.handle(ContactArrived(1, 1), 0.0)
    [decision] = e.handle(ContactTransferred(1, 1), 1.0)
    assert isinstance(decision, Ignored)
