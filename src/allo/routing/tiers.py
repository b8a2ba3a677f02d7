"""Site tiers (bullseye): which sites may answer a contact after it has waited so long."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from allo.routing.policy import SiteOption, SiteTier

# A set of site ids, or None for every site (also the ones configured later).
SiteSet = frozenset[int] | None


class TierStep:
    """From `after` seconds of waiting on, the sites in `sites` may answer (tier `number`)."""

    __slots__ = ("after", "number", "sites")

    def __init__(self, after: float, sites: SiteSet, number: int) -> None:
        self.after = after
        self.sites = sites
        self.number = number


# Placeholder for a step not computed yet (never used as one: its generation is -1).
UNCACHED_STEP = TierStep(0.0, frozenset(), 0)


def union(a: SiteSet, b: SiteSet) -> SiteSet:
    return None if a is None or b is None else a | b


def intersect(a: SiteSet, b: SiteSet) -> SiteSet:
    if a is None:
        return b
    return a if b is None else a & b


def tier_sites(tier: SiteTier, option: SiteOption, groups: Mapping[str, frozenset[int]]) -> SiteSet:
    if tier.chosen:
        return None if option.group is None else groups.get(option.group, frozenset())
    if not tier.groups:
        return None
    return frozenset().union(*(groups.get(name, frozenset()) for name in sorted(tier.groups)))


def tier_table(
    tiers: Sequence[SiteTier], option: SiteOption, groups: Mapping[str, frozenset[int]]
) -> tuple[TierStep, ...]:
    """The cumulative steps of allowed sites for one option; steps that add no site are dropped.

    "Only" options are cut to their group at every step, so they never overflow beyond it.
    """
    limit: SiteSet = groups.get(option.group, frozenset()) if option.only and option.group else None
    steps: list[TierStep] = []
    allowed: SiteSet = frozenset()
    for number, tier in enumerate(tiers, start=1):
        allowed = intersect(union(allowed, tier_sites(tier, option, groups)), limit)
        if not steps or allowed != steps[-1].sites:
            steps.append(TierStep(tier.after, allowed, number))
    return tuple(steps)


def step_at(table: Sequence[TierStep], since: float, now: float) -> TierStep:
    """The step in force at `now` for a contact whose tiers count from `since`.

    Compared as `since + after <= now`, the very sum a tier timer is due at, so that a timer
    firing at its due time always finds its tier open (`now - since` may round below it).
    Tables are short: a reverse scan is fastest.
    """
    for step in reversed(table):
        if since + step.after <= now:
            return step
    return table[0]


def step_span(table: Sequence[TierStep], since: float, now: float) -> tuple[TierStep, float]:
    """The step in force at `now` (as `step_at`) and the time the next one opens (inf if none):
    the step stays in force for every `now` before that time."""
    for number in range(len(table) - 1, -1, -1):
        if since + table[number].after <= now or number == 0:
            until = since + table[number + 1].after if number + 1 < len(table) else math.inf
            return table[number], until
    raise ValueError("empty tier table")


def allows(sites: SiteSet, site_id: int) -> bool:
    return sites is None or site_id in sites
