"""Events the engine is fed: facts about contacts and advisers, configuration, and ticks.

Times are floats of seconds on the driver's clock (epoch seconds live, virtual time in the
simulator); the time of an event is the `now` passed with it to `RoutingEngine.handle`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from allo.domain.advisers import Adviser
from allo.domain.channels import Channel
from allo.domain.contacts import Contact
from allo.domain.queues import Queue
from allo.domain.sites import Site
from allo.routing.policy import ANY_SITE, CapacityRules, RoutingPolicy, SiteOption

# --- configuration ---


@dataclass(frozen=True, slots=True)
class SiteConfigured:
    site: Site


@dataclass(frozen=True, slots=True)
class QueueConfigured:
    """A new queue, or a queue whose requirements or routing policy changed."""

    queue: Queue
    policy: RoutingPolicy = field(default_factory=RoutingPolicy)


@dataclass(frozen=True, slots=True)
class AdviserUpdated:
    """A new adviser, or one whose site, skills, languages or capacity changed.

    `adviser.state` READY makes a newly known adviser ready at once (useful when rebuilding
    from the database); later changes of state come as AdviserReady/NotReady/LoggedOut.
    """

    adviser: Adviser


@dataclass(frozen=True, slots=True)
class CapacityChanged:
    rules: CapacityRules


# --- contacts ---


@dataclass(frozen=True, slots=True)
class ContactArrived:
    contact_id: int
    queue_id: int
    channel: Channel = Channel.VOICE
    # None: the queue's language.
    language: str | None = None
    priority: int = 0
    option: SiteOption = ANY_SITE
    # When the contact really arrived, if earlier than `now` (rebuilding after a restart).
    arrived_at: float | None = None

    @classmethod
    def of(
        cls, contact: Contact, option: SiteOption = ANY_SITE, arrived_at: float | None = None
    ) -> ContactArrived:
        return cls(
            contact_id=contact.id,
            queue_id=contact.queue_id,
            channel=contact.channel,
            language=contact.language,
            priority=contact.priority,
            option=option,
            arrived_at=arrived_at,
        )


@dataclass(frozen=True, slots=True)
class ContactInProgress:
    """A contact already being handled (rebuilding after a restart): it takes capacity."""

    contact_id: int
    queue_id: int
    channel: Channel
    adviser_id: int
    started_at: float
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ContactAbandoned:
    contact_id: int


@dataclass(frozen=True, slots=True)
class ContactFinished:
    """Handling (talk and wrap-up) is over; outcomes feed the adviser's quality for the queue."""

    contact_id: int
    resolved: bool | None = None
    # 1 (very unhappy) to 5 (very happy).
    satisfaction: int | None = None


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """The customer leaves the line and keeps their place, or books a slot at `at`."""

    contact_id: int
    at: float | None = None


@dataclass(frozen=True, slots=True)
class ContactTransferred:
    """A contact in progress leaves its adviser for `queue_id` (blind transfer): it is routed
    there afresh, offered to `adviser_id` first when that adviser can take it. With
    `answered` the target adviser has the contact already (a warm transfer, completed)."""

    contact_id: int
    queue_id: int
    adviser_id: int | None = None
    answered: bool = False


# --- offers ---


@dataclass(frozen=True, slots=True)
class OfferAccepted:
    contact_id: int
    adviser_id: int


@dataclass(frozen=True, slots=True)
class OfferDeclined:
    contact_id: int
    adviser_id: int


@dataclass(frozen=True, slots=True)
class OfferTimedOut:
    """The driver saw the offer expire; the engine also expires offers on its own timers."""

    contact_id: int
    adviser_id: int


# --- advisers ---


@dataclass(frozen=True, slots=True)
class AdviserReady:
    adviser_id: int


@dataclass(frozen=True, slots=True)
class AdviserNotReady:
    """Break, wrap-up, training…: no new offers; work in hand continues."""

    adviser_id: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AdviserLoggedOut:
    """No new offers and pending offers are withdrawn; work in hand still has to finish."""

    adviser_id: int


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed: fire the timers due by now (offer expiries, tier openings, callbacks)."""


RoutingEvent = (
    SiteConfigured
    | QueueConfigured
    | AdviserUpdated
    | CapacityChanged
    | ContactArrived
    | ContactInProgress
    | ContactAbandoned
    | ContactFinished
    | CallbackRequested
    | ContactTransferred
    | OfferAccepted
    | OfferDeclined
    | OfferTimedOut
    | AdviserReady
    | AdviserNotReady
    | AdviserLoggedOut
    | Tick
)
