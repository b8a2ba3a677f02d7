"""Adviser choice per queue and channel capacity with weights."""

from allo.domain.channels import Channel
from allo.routing import (
    AdviserSelection,
    CapacityRules,
    ContactArrived,
    ContactFinished,
    OfferAccepted,
    RoutingEngine,
    RoutingPolicy,
)

from .factory import SITES, adviser, engine, offers, queue, ready


def policy(selection: AdviserSelection) -> RoutingPolicy:
    return RoutingPolicy(selection=selection)


def test_longest_idle_adviser_first() -> None:
    e = engine([adviser(1), adviser(2)])
    ready(e, 2, now=0.0)
    ready(e, 1, now=5.0)
    assert offers(e.handle(ContactArrived(1, 1), 10.0)) == [(1, 2)]


def test_most_skilled_adviser_first() -> None:
    e = engine(
        [adviser(1, skills={"billing": 3}), adviser(2, skills={"billing": 5})],
        policy=policy(AdviserSelection.MOST_SKILLED),
    )
    ready(e, 1, 2)
    assert offers(e.handle(ContactArrived(1, 1), 10.0)) == [(1, 2)]


def test_best_quality_adviser_first_after_outcomes() -> None:
    e = engine([adviser(1), adviser(2)], policy=policy(AdviserSelection.BEST_QUALITY))
    ready(e, 1, 2)
    # Adviser 1 is chosen first (equal quality, longest idle) and resolves nothing.
    for n, now in enumerate((10.0, 20.0, 30.0)):
        contact_id = 100 + n
        assert offers(e.handle(ContactArrived(contact_id, 1), now))[0][1] in {1, 2}
        adviser_id = e.contact_adviser(contact_id)
        assert adviser_id is not None
        e.handle(OfferAccepted(contact_id, adviser_id), now + 1)
        good = adviser_id == 2
        e.handle(ContactFinished(contact_id, resolved=good, satisfaction=5 if good else 1), now + 5)
    # Whatever the history, adviser 2 (never bad) now ranks first.
    assert offers(e.handle(ContactArrived(1, 1), 100.0)) == [(1, 2)]


def test_least_occupied_adviser_first() -> None:
    chat = RoutingPolicy(selection=AdviserSelection.LEAST_OCCUPIED)
    e = engine([adviser(1), adviser(2)], policy=chat)
    ready(e, 1, 2)
    first = offers(e.handle(ContactArrived(1, 1, channel=Channel.CHAT), 1.0))
    second = offers(e.handle(ContactArrived(2, 1, channel=Channel.CHAT), 2.0))
    assert {first[0][1], second[0][1]} == {1, 2}


def test_voice_blocks_the_adviser() -> None:
    e = engine([adviser(1)])
    ready(e, 1)
    e.handle(ContactArrived(1, 1), 0.0)
    for contact_id, channel in ((2, Channel.CHAT), (3, Channel.EMAIL), (4, Channel.VOICE)):
        assert offers(e.handle(ContactArrived(contact_id, 1, channel=channel), 1.0)) == []


def test_chats_up_to_capacity_then_no_voice() -> None:
    e = engine([adviser(1)])
    ready(e, 1)
    for contact_id in (1, 2, 3):
        assert offers(e.handle(ContactArrived(contact_id, 1, channel=Channel.CHAT), 1.0))
    assert offers(e.handle(ContactArrived(4, 1, channel=Channel.CHAT), 2.0)) == []
    assert offers(e.handle(ContactArrived(5, 1, channel=Channel.VOICE), 2.0)) == []
    assert e.adviser_work(1)[Channel.CHAT] == 3


def test_adviser_capacity_overrides_the_weights() -> None:
    e = engine([adviser(1, capacity={Channel.VOICE: 1, Channel.CHAT: 1})])
    ready(e, 1)
    assert offers(e.handle(ContactArrived(1, 1, channel=Channel.CHAT), 1.0))
    assert offers(e.handle(ContactArrived(2, 1, channel=Channel.CHAT), 1.0)) == []
    assert offers(e.handle(ContactArrived(3, 1, channel=Channel.EMAIL), 1.0)) == []


def test_emails_fill_gaps_and_do_not_block_a_call() -> None:
    e = engine([adviser(1)])
    ready(e, 1)
    e.handle(ContactArrived(1, 1, channel=Channel.VOICE), 0.0)
    e.handle(OfferAccepted(1, 1), 1.0)
    e.handle(ContactArrived(2, 1, channel=Channel.EMAIL), 2.0)
    e.handle(ContactArrived(3, 1, channel=Channel.CHAT), 3.0)
    # The chat came later but is live: it goes first; the email fills the gap after it.
    assert offers(e.handle(ContactFinished(1), 10.0)) == [(3, 1), (2, 1)]
    e.handle(OfferAccepted(3, 1), 11.0)
    e.handle(OfferAccepted(2, 1), 11.0)
    e.handle(ContactFinished(3), 12.0)
    # Only an email in hand: a call may still be offered.
    assert offers(e.handle(ContactArrived(4, 1, channel=Channel.VOICE), 13.0)) == [(4, 1)]


def test_weights_are_configurable() -> None:
    rules = CapacityRules(
        weights={Channel.VOICE: 100, Channel.CALLBACK: 100, Channel.CHAT: 50, Channel.EMAIL: 20}
    )
    e = RoutingEngine(
        sites=SITES, queues=[(queue(), RoutingPolicy())], advisers=[adviser(1)], capacity=rules
    )
    ready(e, 1)
    assert offers(e.handle(ContactArrived(1, 1, channel=Channel.CHAT), 1.0))
    assert offers(e.handle(ContactArrived(2, 1, channel=Channel.CHAT), 1.0))
    assert offers(e.handle(ContactArrived(3, 1, channel=Channel.CHAT), 1.0)) == []
