"""Routing policies: how one queue routes, and how much work an adviser can carry at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from allo.domain.channels import Channel
from allo.domain.errors import InvalidValue

ALL_CHANNELS = frozenset(Channel)


@dataclass(frozen=True, slots=True)
class SiteOption:
    """What the customer chose about where their adviser sits.

    `SiteOption()` is "the fastest, any site"; `SiteOption("france")` prefers the sites of the
    group "france" and overflows by the queue's tiers; `SiteOption("france", only=True)` is
    "France only", honoured whatever the wait.
    """

    group: str | None = None
    only: bool = False

    def __post_init__(self) -> None:
        if self.only and self.group is None:
            raise InvalidValue("option.only", "needs a site group to be limited to")

    def __hash__(self) -> int:
        # The same as the one dataclasses would write, but compiled with the engine (make
        # compile): options key the engine's tier tables, hashed at every lookup.
        return hash((self.group, self.only))


ANY_SITE = SiteOption()


@dataclass(frozen=True, slots=True)
class SiteTier:
    """One ring of the bullseye: which sites may answer once a contact has waited `after` s.

    `chosen=True` means the sites of the group the customer chose (every site if they chose
    none); otherwise `groups` names site groups, and no groups means every site.
    """

    after: float
    chosen: bool = False
    groups: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.after < 0:
            raise InvalidValue("tiers.after", "must not be negative")
        if self.chosen and self.groups:
            raise InvalidValue("tiers.groups", "a chosen-group tier names no other groups")


# Tier 1: the customer's chosen group at once; tier 2: every site after 90 s.
DEFAULT_TIERS = (SiteTier(0.0, chosen=True), SiteTier(90.0))


class AdviserSelection(StrEnum):
    """Which free adviser gets a contact when several could take it."""

    LONGEST_IDLE = "longest_idle"
    MOST_SKILLED = "most_skilled"
    BEST_QUALITY = "best_quality"
    LEAST_OCCUPIED = "least_occupied"


@dataclass(frozen=True, slots=True)
class QualityWeights:
    """How first-contact resolution and satisfaction mix into one quality score (0–1).

    `prior_weight` pseudo-contacts at `prior` keep a newcomer from being ranked first or last
    on the strength of one or two outcomes.
    """

    fcr: float = 0.5
    satisfaction: float = 0.5
    prior: float = 0.5
    prior_weight: float = 5.0


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    """How one queue routes; see docs/routing.md."""

    tiers: tuple[SiteTier, ...] = DEFAULT_TIERS
    selection: AdviserSelection = AdviserSelection.LONGEST_IDLE
    offer_timeout: float = 15.0
    # Channels this queue receives; advisers are indexed only for these.
    channels: frozenset[Channel] = ALL_CHANNELS
    quality: QualityWeights = field(default_factory=QualityWeights)
    # Handling time assumed before any contact of the queue has finished (seconds).
    default_aht: float = 180.0
    # Extra options whose wait is announced next to the customer's own choice.
    announce_options: tuple[SiteOption, ...] = ()

    def __post_init__(self) -> None:
        if not self.tiers or self.tiers[0].after != 0:
            raise InvalidValue("tiers", "the first tier must open at 0 s")
        afters = [tier.after for tier in self.tiers]
        if afters != sorted(afters):
            raise InvalidValue("tiers", "must be in increasing order of `after`")
        if self.offer_timeout <= 0:
            raise InvalidValue("offer_timeout", "must be positive")
        if not self.channels:
            raise InvalidValue("channels", "a queue receives at least one channel")
        if self.default_aht <= 0:
            raise InvalidValue("default_aht", "must be positive")


# Loads are integer units out of CAPACITY_BUDGET so that three chats fill an adviser exactly.
CAPACITY_BUDGET = 100
DEFAULT_WEIGHTS: dict[Channel, int] = {
    Channel.VOICE: 100,
    Channel.CALLBACK: 100,
    Channel.CHAT: 33,
    Channel.EMAIL: 20,
}


@dataclass(frozen=True, slots=True)
class CapacityRules:
    """How much of an adviser each piece of work takes (engine-wide, since load is per adviser).

    An adviser may take a contact when the channel's count stays within the adviser's own
    capacity and the load stays within the budget. Gap-filler channels (email) are offered
    only when no live contact waits for the adviser, and do not count against live channels:
    a call may be offered to an adviser in the middle of an email, which waits.
    """

    weights: Mapping[Channel, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    budget: int = CAPACITY_BUDGET
    gap_fillers: frozenset[Channel] = frozenset({Channel.EMAIL})

    def __post_init__(self) -> None:
        for channel in Channel:
            weight = self.weights.get(channel)
            if weight is None or not 0 < weight <= self.budget:
                raise InvalidValue(f"weights.{channel}", f"must be between 1 and {self.budget}")
