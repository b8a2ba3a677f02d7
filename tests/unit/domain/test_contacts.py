from datetime import UTC, datetime

import pytest

from allo.domain.channels import Channel
from allo.domain.contacts import CONTACT_TRANSITIONS, Contact, ContactStatus
from allo.domain.errors import IllegalTransition

S = ContactStatus


def make_contact(status: ContactStatus = S.QUEUED) -> Contact:
    return Contact(
        id=1,
        tenant_id=1,
        channel=Channel.CHAT,
        queue_id=1,
        customer_id=None,
        language="fr",
        created_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        status=status,
    )


def test_happy_lifecycle_keeps_the_adviser_once_offered() -> None:
    contact = make_contact().moved_to(S.OFFERED, adviser_id=7)
    assert contact.adviser_id == 7
    contact = contact.moved_to(S.IN_PROGRESS).moved_to(S.WRAP_UP).moved_to(S.CLOSED)
    assert contact.status is S.CLOSED
    assert contact.adviser_id == 7


def test_declined_offer_returns_to_queue_without_adviser() -> None:
    contact = make_contact().moved_to(S.OFFERED, adviser_id=7).moved_to(S.QUEUED)
    assert contact.status is S.QUEUED
    assert contact.adviser_id is None


@pytest.mark.parametrize(
    ("current", "target"),
    [(a, b) for a in S for b in S if b not in CONTACT_TRANSITIONS[a]],
)
def test_every_illegal_transition_raises(current: ContactStatus, target: ContactStatus) -> None:
    with pytest.raises(IllegalTransition) as raised:
        make_contact(current).moved_to(target)
    assert raised.value.current == current.value
    assert raised.value.target == target.value


def test_final_states_are_final() -> None:
    for final in (S.CLOSED, S.ABANDONED):
        assert CONTACT_TRANSITIONS[final] == frozenset()
