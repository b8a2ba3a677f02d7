"""Routing policies as stored on a queue (JSON), to and from the engine's `RoutingPolicy`."""

from __future__ import annotations

from typing import Any

from allo.domain.channels import Channel
from allo.domain.errors import InvalidValue
from allo.routing import AdviserSelection, RoutingPolicy, SiteOption, SiteTier

# `site_choice` names the site group the customer may ask for ("un conseiller en France").
POLICY_KEYS = {"tiers", "selection", "offer_timeout", "channels", "default_aht", "site_choice"}
TIER_KEYS = {"after", "chosen", "groups"}


def _tier(index: int, data: Any) -> SiteTier:
    where = f"routing_policy.tiers[{index}]"
    if not isinstance(data, dict):
        raise InvalidValue(where, "must be an object {after, chosen, groups}")
    unknown = set(data) - TIER_KEYS
    if unknown:
        raise InvalidValue(f"{where}.{sorted(unknown)[0]}", "is not a tier setting")
    after = data.get("after", 0)
    if isinstance(after, bool) or not isinstance(after, int | float):
        raise InvalidValue(f"{where}.after", "must be a number of seconds")
    groups = data.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise InvalidValue(f"{where}.groups", "must be a list of site group names")
    try:
        return SiteTier(float(after), bool(data.get("chosen", False)), frozenset(groups))
    except InvalidValue as error:
        raise InvalidValue(f"{where}.{error.field.split('.')[-1]}", error.message) from None


def _number(data: dict[str, Any], key: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(f"routing_policy.{key}", "must be a number")
    return float(value)


def policy_from_json(data: dict[str, Any] | None) -> RoutingPolicy:
    """Parse a stored policy; an empty one is the default (chosen group, everyone after 90 s)."""
    if not data:
        return RoutingPolicy()
    unknown = set(data) - POLICY_KEYS
    if unknown:
        raise InvalidValue(f"routing_policy.{sorted(unknown)[0]}", "is not a policy setting")
    defaults = RoutingPolicy()
    tiers = data.get("tiers")
    try:
        selection = AdviserSelection(data.get("selection", defaults.selection.value))
    except ValueError:
        choices = ", ".join(s.value for s in AdviserSelection)
        raise InvalidValue("routing_policy.selection", f"must be one of {choices}") from None
    try:
        channels = frozenset(Channel(c) for c in data.get("channels", [c.value for c in Channel]))
    except ValueError:
        raise InvalidValue("routing_policy.channels", "lists an unknown channel") from None
    choice = data.get("site_choice")
    if choice is not None and (not isinstance(choice, str) or not choice):
        raise InvalidValue("routing_policy.site_choice", "must be a site group name or null")
    announce = (SiteOption(choice, only=True), SiteOption(choice)) if choice else ()
    try:
        return RoutingPolicy(
            tiers=tuple(_tier(i, t) for i, t in enumerate(tiers)) if tiers else defaults.tiers,
            selection=selection,
            offer_timeout=_number(data, "offer_timeout", defaults.offer_timeout),
            channels=channels,
            default_aht=_number(data, "default_aht", defaults.default_aht),
            announce_options=announce,
        )
    except InvalidValue as error:
        if error.field.startswith("routing_policy."):
            raise
        raise InvalidValue(f"routing_policy.{error.field}", error.message) from None


def policy_to_json(policy: RoutingPolicy) -> dict[str, Any]:
    return {
        "tiers": [
            {"after": tier.after, "chosen": tier.chosen, "groups": sorted(tier.groups)}
            for tier in policy.tiers
        ],
        "selection": policy.selection.value,
        "offer_timeout": policy.offer_timeout,
        "channels": sorted(c.value for c in policy.channels),
        "default_aht": policy.default_aht,
        "site_choice": site_choice(policy),
    }


def site_choice(policy: RoutingPolicy) -> str | None:
    """The site group customers of this queue may choose, if any."""
    return next((o.group for o in policy.announce_options if o.group), None)
