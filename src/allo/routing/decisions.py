"""Decisions the engine returns; the driver applies them (push an offer, dial, announce…)."""

from __future__ import annotations

from dataclasses import dataclass

from allo.domain.channels import Channel
from allo.routing.policy import SiteOption


@dataclass(frozen=True, slots=True)
class OfferContact:
    """Propose the contact to the adviser until `expires_at`; the adviser's capacity is held."""

    contact_id: int
    adviser_id: int
    queue_id: int
    channel: Channel
    expires_at: float


@dataclass(frozen=True, slots=True)
class StartCallback:
    """Give the adviser the callback work item (dial the customer) until `expires_at`."""

    contact_id: int
    adviser_id: int
    queue_id: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    option: SiteOption
    # None: no adviser who could answer is logged in.
    seconds: float | None


@dataclass(frozen=True, slots=True)
class AnnounceWait:
    """Tell a contact who has to wait how long, for its own option first, then the others."""

    contact_id: int
    queue_id: int
    estimates: tuple[WaitEstimate, ...]


@dataclass(frozen=True, slots=True)
class Overflowed:
    """The contact has waited long enough for the next tier: more sites may answer it."""

    contact_id: int
    queue_id: int
    tier: int  # 1-based, the tier now open
    site_ids: frozenset[int] | None  # None: every site


@dataclass(frozen=True, slots=True)
class OfferWithdrawn:
    """An offer ends without an answer (the customer hung up, the adviser logged out)."""

    contact_id: int
    adviser_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class AdviserMissed:
    """The adviser let an offer time out: set them not ready."""

    adviser_id: int
    contact_id: int


@dataclass(frozen=True, slots=True)
class CallbackConfirmed:
    """The callback is registered: at the contact's place in line (`at` None) or for `at`."""

    contact_id: int
    at: float | None


@dataclass(frozen=True, slots=True)
class Ignored:
    """The event could not apply to the current state (a race, or an unknown id)."""

    event_type: str
    reason: str


Decision = (
    OfferContact
    | StartCallback
    | AnnounceWait
    | Overflowed
    | OfferWithdrawn
    | AdviserMissed
    | CallbackConfirmed
    | Ignored
)
