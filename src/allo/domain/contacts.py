"""Contacts: one customer interaction on one channel, with its lifecycle."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from allo.domain.channels import Channel
from allo.domain.errors import IllegalTransition


class ContactStatus(StrEnum):
    QUEUED = "queued"
    OFFERED = "offered"
    IN_PROGRESS = "in_progress"
    WRAP_UP = "wrap_up"
    CLOSED = "closed"
    ABANDONED = "abandoned"


S = ContactStatus
CONTACT_TRANSITIONS: dict[ContactStatus, frozenset[ContactStatus]] = {
    # An offer that is declined or times out puts the contact back in the queue.
    S.QUEUED: frozenset({S.OFFERED, S.ABANDONED}),
    S.OFFERED: frozenset({S.IN_PROGRESS, S.QUEUED, S.ABANDONED}),
    # A transfer sends a contact in progress back to a queue.
    S.IN_PROGRESS: frozenset({S.WRAP_UP, S.CLOSED, S.QUEUED}),
    S.WRAP_UP: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.ABANDONED: frozenset(),
}
FINAL_STATUSES = frozenset({S.CLOSED, S.ABANDONED})
# An adviser holds the contact (their capacity is taken).
BUSY_STATUSES = frozenset({S.OFFERED, S.IN_PROGRESS, S.WRAP_UP})


def check_contact_transition(current: ContactStatus, target: ContactStatus) -> None:
    if target not in CONTACT_TRANSITIONS[current]:
        raise IllegalTransition("contact", current.value, target.value)


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    tenant_id: int
    channel: Channel
    queue_id: int
    customer_id: int | None
    language: str
    created_at: datetime
    status: ContactStatus = ContactStatus.QUEUED
    adviser_id: int | None = None
    priority: int = 0

    def moved_to(self, target: ContactStatus, adviser_id: int | None = None) -> Contact:
        """The contact in its next state; raises IllegalTransition if it cannot go there."""
        check_contact_transition(self.status, target)
        keeps_adviser = target in {S.OFFERED, S.IN_PROGRESS, S.WRAP_UP, S.CLOSED}
        new_adviser = adviser_id if adviser_id is not None else self.adviser_id
        return replace(self, status=target, adviser_id=new_adviser if keeps_adviser else None)
