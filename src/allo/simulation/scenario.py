"""Scenario files (YAML) → `Scenario`, with errors naming the line and the field.

Pure: the text is given as a string. The format is documented in docs/simulation.md and
shown by the scenarios shipped in `allo/simulation/scenarios/`. Local times ("08:00") are
read in the site's own zone (shifts, breaks) or the scenario's zone (demand, outages) on
the scenario's day; an end at or before its start is on the next day.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import yaml

from allo.domain.errors import InvalidValue
from allo.domain.queues import Queue as DomainQueue
from allo.domain.queues import ServiceLevelTarget
from allo.domain.sites import Site, TransferBasis
from allo.domain.values import check_timezone
from allo.planning.calendars import SiteCalendar
from allo.planning.erlang import StaffingTarget
from allo.routing.policy import AdviserSelection, RoutingPolicy, SiteOption, SiteTier
from allo.simulation.model import (
    AutoStaffing,
    Break,
    CallbackOffer,
    Demand,
    Distribution,
    Law,
    Outage,
    OutagePolicy,
    QualityModel,
    QueueModel,
    Scenario,
    Shift,
    SiteModel,
    Team,
)

T = TypeVar("T")
TENANT = 1


class ScenarioError(InvalidValue):
    def __init__(self, line: int, field: str, message: str) -> None:
        super().__init__(field, message)
        self.line = line
        self.args = (f"line {line}, {field}: {message}",)

    def __str__(self) -> str:
        return str(self.args[0])


class Node:
    """A YAML value with where it was written: `value` is a dict/list of Nodes or a scalar."""

    __slots__ = ("key_lines", "line", "path", "value")

    def __init__(self, value: Any, line: int, path: str) -> None:
        self.value = value
        self.line = line
        self.path = path
        self.key_lines: dict[str, int] = {}

    def fail(self, message: str) -> ScenarioError:
        return ScenarioError(self.line, self.path, message)


def _tree(node: yaml.Node, loader: yaml.SafeLoader, path: str) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = Node({}, line, path)
        for key_node, value_node in node.value:
            key = str(loader.construct_object(key_node))
            if key in result.value:
                raise ScenarioError(key_node.start_mark.line + 1, _join(path, key), "appears twice")
            result.key_lines[key] = key_node.start_mark.line + 1
            result.value[key] = _tree(value_node, loader, _join(path, key))
        return result
    if isinstance(node, yaml.SequenceNode):
        items = [_tree(item, loader, f"{path}[{i}]") for i, item in enumerate(node.value)]
        return Node(items, line, path)
    return Node(loader.construct_object(node), line, path)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def parse_tree(text: str) -> Node:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise ScenarioError(1, "scenario", "the file is empty")
        return _tree(root, loader, "")
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise ScenarioError(line, "yaml", str(error.problem or error)) from None
    finally:
        loader.dispose()


# ---------------------------------------------------------------- typed access


class Obj:
    """A mapping node read key by key; `done()` rejects the keys nobody asked for."""

    def __init__(self, node: Node, allowed: set[str]) -> None:
        if not isinstance(node.value, dict):
            raise node.fail("must be a mapping of settings")
        self.node = node
        unknown = [key for key in node.value if key not in allowed]
        if unknown:
            key = unknown[0]
            known = ", ".join(sorted(allowed))
            raise ScenarioError(
                node.key_lines[key],
                _join(node.path, key),
                f"is not a setting here (known: {known})",
            )

    def has(self, key: str) -> bool:
        return key in self.node.value

    def sub(self, key: str) -> Node:
        if key not in self.node.value:
            raise self.node.fail(f"needs `{key}`")
        child: Node = self.node.value[key]
        return child

    def get(self, key: str, kind: Callable[[Node], T], default: T | None = None) -> T:
        if key not in self.node.value:
            if default is None:
                raise ScenarioError(self.node.line, _join(self.node.path, key), "is required")
            return default
        return kind(self.node.value[key])


def number(low: float = -math.inf, high: float = math.inf, *, strict_low: bool = False):  # type: ignore[no-untyped-def]
    def read(node: Node) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise node.fail(f"must be a number, got {value!r}")
        if value < low or value > high or (strict_low and value == low):
            bound = f"> {low}" if strict_low else f"≥ {low}"
            raise node.fail(f"must be {bound} and ≤ {high}, got {value}")
        return float(value)

    return read


def integer(low: int = 0, high: int = 10**9) -> Callable[[Node], int]:
    def read(node: Node) -> int:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise node.fail(f"must be an integer between {low} and {high}, got {value!r}")
        return value

    return read


def text(node: Node) -> str:
    if not isinstance(node.value, str) or not node.value.strip():
        raise node.fail(f"must be a non-empty text, got {node.value!r}")
    return node.value


def boolean(node: Node) -> bool:
    if not isinstance(node.value, bool):
        raise node.fail(f"must be true or false, got {node.value!r}")
    return node.value


def items(node: Node) -> list[Node]:
    if not isinstance(node.value, list):
        raise node.fail("must be a list")
    return list(node.value)


def texts(node: Node) -> list[str]:
    return [text(item) for item in items(node)]


def levels(node: Node) -> dict[str, int]:
    if not isinstance(node.value, dict):
        raise node.fail("must be a mapping of names to levels 1–5")
    return {key: integer(1, 5)(child) for key, child in node.value.items()}


def clock(node: Node) -> time:
    value = node.value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 08:00 as a sexagesimal number of minutes.
        value = f"{value // 60:02d}:{value % 60:02d}"
    if not isinstance(value, str):
        raise node.fail(f"must be a time HH:MM, got {value!r}")
    if value == "24:00":
        return time(0)
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise node.fail(f"{value!r} is not a time HH:MM") from None


def _guard(node: Node, build: Callable[[], T]) -> T:
    """Domain checks of the dataclasses, reported at the node they came from."""
    try:
        return build()
    except ScenarioError:
        raise
    except InvalidValue as error:
        raise node.fail(f"{error.field}: {error.message}") from None


# ---------------------------------------------------------------- the clock


class Clock:
    """Local times on the scenario's day → seconds since midnight in the scenario's zone."""

    def __init__(self, day: date, timezone: str) -> None:
        self.day = day
        self.origin = datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))
        self.timezone = timezone

    def at(self, moment: time, timezone: str | None = None, next_day: bool = False) -> float:
        day = self.day + timedelta(days=1) if next_day else self.day
        local = datetime.combine(day, moment, tzinfo=ZoneInfo(timezone or self.timezone))
        return (local - self.origin).total_seconds()

    def span(self, start: Node, end: Node, timezone: str | None = None) -> tuple[float, float]:
        first, last = clock(start), clock(end)
        begin = self.at(first, timezone)
        finish = self.at(last, timezone, next_day=last <= first)
        return begin, finish


# ---------------------------------------------------------------- sections

DISTRIBUTION_KEYS = {"law", "mean", "cv", "samples"}


def distribution(node: Node) -> Distribution:
    obj = Obj(node, DISTRIBUTION_KEYS)
    law_node = obj.sub("law")
    try:
        law = Law(text(law_node))
    except ValueError:
        choices = ", ".join(law.value for law in Law)
        raise law_node.fail(f"must be one of {choices}") from None
    samples = [number(0)(item) for item in items(obj.sub("samples"))] if obj.has("samples") else []
    if law is Law.EMPIRICAL:
        if not samples:
            raise node.fail("an empirical law needs `samples`")
        return Distribution(law, samples=tuple(samples))
    mean = obj.get("mean", number(0, strict_low=True))
    cv = obj.get("cv", number(0, 20, strict_low=True), 1.0)
    return _guard(node, lambda: Distribution(law, mean, cv))


QUALITY_KEYS = {
    "fcr", "satisfaction", "repeat_probability", "repeat_delay_minutes", "long_wait",
    "long_wait_penalty", "language_aht",
}  # fmt: skip


def quality(node: Node) -> QualityModel:
    obj = Obj(node, QUALITY_KEYS)
    base = QualityModel()
    satisfaction = base.satisfaction
    if obj.has("satisfaction"):
        shares = [number(0, 1)(item) for item in items(obj.sub("satisfaction"))]
        if len(shares) != 5 or abs(sum(shares) - 1) > 1e-6:
            raise obj.sub("satisfaction").fail("needs five shares (ratings 1–5) adding up to 1")
        satisfaction = (shares[0], shares[1], shares[2], shares[3], shares[4])
    language = dict(base.language_aht)
    if obj.has("language_aht"):
        sub = obj.sub("language_aht")
        if not isinstance(sub.value, dict):
            raise sub.fail("must map a language level 1–5 to a handling-time factor")
        for key, child in sub.value.items():
            if not str(key).isdigit() or not 1 <= int(key) <= 5:
                raise child.fail("keys are language levels 1–5")
            language[int(key)] = number(0, 10, strict_low=True)(child)
    return _guard(
        node,
        lambda: QualityModel(
            fcr=obj.get("fcr", number(0, 1), base.fcr),
            satisfaction=satisfaction,
            repeat_probability=obj.get("repeat_probability", number(0, 1), base.repeat_probability),
            repeat_delay=60
            * obj.get("repeat_delay_minutes", number(0, strict_low=True), base.repeat_delay / 60),
            long_wait=obj.get("long_wait", number(0), base.long_wait),
            long_wait_penalty=obj.get("long_wait_penalty", integer(0, 4), base.long_wait_penalty),
            language_aht=language,
        ),
    )


def _break(node: Node, clock_: Clock, timezone: str) -> Break:
    obj = Obj(node, {"earliest", "latest", "minutes", "paid"})
    earliest = clock_.at(obj.get("earliest", clock), timezone)
    latest = clock_.at(obj.get("latest", clock), timezone)
    minutes = obj.get("minutes", number(0, 240, strict_low=True))
    return _guard(node, lambda: Break(earliest, latest, minutes, obj.get("paid", boolean, True)))


def _shift(node: Node, clock_: Clock, timezone: str) -> Shift:
    obj = Obj(node, {"start", "end", "advisers", "breaks"})
    start, end = clock_.span(obj.sub("start"), obj.sub("end"), timezone)
    if end - start > 12 * 3600:
        raise obj.sub("end").fail("a shift lasts at most 12 hours")
    breaks = (
        [_break(b, clock_, timezone) for b in items(obj.sub("breaks"))] if obj.has("breaks") else []
    )
    for rule, item in zip(breaks, items(obj.sub("breaks")) if breaks else [], strict=True):
        if rule.earliest < start or rule.latest + rule.minutes * 60 > end:
            raise item.fail("the break window must lie within the shift")
    advisers = obj.get("advisers", integer(0, 10_000))
    return _guard(node, lambda: Shift(start, end, advisers, tuple(breaks)))


def _team(node: Node, clock_: Clock, timezone: str) -> Team:
    obj = Obj(node, {"skills", "languages", "shifts"})
    shifts = [_shift(s, clock_, timezone) for s in items(obj.sub("shifts"))]
    skills, languages = obj.get("skills", levels), obj.get("languages", levels)
    return Team(skills, languages, tuple(shifts))


SITE_KEYS = {
    "name", "country", "timezone", "hourly_cost", "currency", "groups", "languages",
    "transfer_basis", "aht_factor", "shrinkage", "language_level", "quality", "calendar",
    "auto_share", "teams",
}  # fmt: skip
CALENDAR_KEYS = {"subdiv", "islamic_shift_days", "ramadan_hours", "friday_prayer", "holidays"}


def _calendar(node: Node, country: str, timezone: str) -> SiteCalendar:
    obj = Obj(node, CALENDAR_KEYS)

    def hours(key: str) -> tuple[time, time] | None:
        if not obj.has(key):
            return None
        pair = items(obj.sub(key))
        if len(pair) != 2:
            raise obj.sub(key).fail("must be [start, end]")
        return clock(pair[0]), clock(pair[1])

    overrides: dict[date, str | None] = {}
    if obj.has("holidays"):
        for item in items(obj.sub("holidays")):
            if not isinstance(item.value, date):
                raise item.fail("must be a date YYYY-MM-DD")
            overrides[item.value] = "holiday (scenario)"
    return _guard(
        node,
        lambda: SiteCalendar(
            country=country,
            timezone=timezone,
            subdiv=obj.get("subdiv", text) if obj.has("subdiv") else None,
            islamic_shift_days=obj.get("islamic_shift_days", integer(-1, 1), 0),
            ramadan_hours=hours("ramadan_hours"),
            friday_prayer=hours("friday_prayer"),
            holiday_overrides=overrides,
        ),
    )


def _site(node: Node, index: int, clock_: Clock) -> SiteModel:
    obj = Obj(node, SITE_KEYS)
    name, country = obj.get("name", text), obj.get("country", text)
    timezone = obj.get("timezone", text)
    _guard(obj.sub("timezone"), lambda: check_timezone("timezone", timezone))
    basis_default = "eea" if country in {"FR", "RO", "BE", "ES", "DE", "IT", "PT"} else "scc"
    basis_node = obj.node.value.get("transfer_basis")
    try:
        basis = TransferBasis(obj.get("transfer_basis", text, basis_default))
    except ValueError:
        raise (basis_node or node).fail("must be eea, adequacy, scc or none") from None
    site = _guard(
        node,
        lambda: Site(
            id=index + 1,
            tenant_id=TENANT,
            name=name,
            country=country,
            timezone=timezone,
            languages=tuple(obj.get("languages", texts, ["fr"])),
            hourly_cost=obj.get("hourly_cost", number(0, 10_000)),
            currency=obj.get("currency", text, "EUR"),
            transfer_basis=basis,
            groups=tuple(obj.get("groups", texts, [])),
        ),
    )
    teams = (
        [_team(t, clock_, timezone) for t in items(obj.sub("teams"))] if obj.has("teams") else []
    )
    calendar = _calendar(obj.sub("calendar"), country, timezone) if obj.has("calendar") else None
    return _guard(
        node,
        lambda: SiteModel(
            site=site,
            teams=tuple(teams),
            quality=quality(obj.sub("quality")) if obj.has("quality") else QualityModel(),
            aht_factor=obj.get("aht_factor", number(0, 10, strict_low=True), 1.0),
            calendar=calendar,
            auto_share=obj.get("auto_share", number(0, 1), 0.0),
            shrinkage=obj.get("shrinkage", number(0, 0.95), 0.0),
            language_level=obj.get("language_level", integer(1, 5), 5),
        ),
    )


TIER_KEYS = {"after", "chosen", "groups"}
ROUTING_KEYS = {"tiers", "selection", "offer_timeout", "default_aht"}


def _routing(node: Node, groups: set[str]) -> RoutingPolicy:
    obj = Obj(node, ROUTING_KEYS)
    tiers: list[SiteTier] = []
    for item in items(obj.sub("tiers")) if obj.has("tiers") else []:
        tier = Obj(item, TIER_KEYS)
        names: list[str] = tier.get("groups", texts, [])
        for name, child in zip(names, items(tier.sub("groups")) if names else [], strict=True):
            if name not in groups:
                raise child.fail(f"{name!r} is not a group of any site")
        after = tier.get("after", number(0), 0.0)
        chosen = tier.get("chosen", boolean, False)
        tier_of = functools.partial(SiteTier, after, chosen, frozenset(names))
        tiers.append(_guard(item, tier_of))
    selection_node = node.value.get("selection")
    try:
        selection = AdviserSelection(obj.get("selection", text, "longest_idle"))
    except ValueError:
        choices = ", ".join(s.value for s in AdviserSelection)
        raise (selection_node or node).fail(f"must be one of {choices}") from None
    defaults = RoutingPolicy()
    return _guard(
        node,
        lambda: RoutingPolicy(
            tiers=tuple(tiers) if tiers else defaults.tiers,
            selection=selection,
            offer_timeout=obj.get("offer_timeout", number(0, 600, strict_low=True), 15.0),
            default_aht=obj.get("default_aht", number(0, strict_low=True), 180.0),
        ),
    )


def _demand(node: Node, clock_: Clock) -> Demand:
    obj = Obj(node, {"start", "interval_minutes", "volumes", "daily", "profile"})
    minutes = obj.get("interval_minutes", integer(5, 120), 30)
    if 1440 % minutes:
        raise obj.sub("interval_minutes").fail("must divide a day (15, 30, 60…)")
    start = clock_.at(obj.get("start", clock, time(0)))
    if obj.has("volumes") == obj.has("daily"):
        raise node.fail("give either `volumes` (per interval) or `daily` with a `profile`")
    if obj.has("volumes"):
        volumes = [number(0)(v) for v in items(obj.sub("volumes"))]
    else:
        daily = obj.get("daily", number(0))
        weights = [number(0)(w) for w in items(obj.sub("profile"))]
        if not weights or sum(weights) <= 0:
            raise obj.sub("profile").fail("needs positive weights, one per interval")
        volumes = [daily * w / sum(weights) for w in weights]
    if not volumes:
        raise node.fail("needs at least one interval")
    if start + minutes * 60 * len(volumes) > clock_.at(time(0), next_day=True) + 1:
        raise node.fail("the demand runs past the end of the day")
    return Demand(tuple(volumes), minutes * 60.0, start)


def _options(node: Node, groups: set[str]) -> tuple[tuple[SiteOption, float], ...]:
    options: list[tuple[SiteOption, float]] = []
    for item in items(node):
        obj = Obj(item, {"group", "only", "share"})
        group = obj.get("group", text) if obj.has("group") else None
        if group is not None and group not in groups:
            raise obj.sub("group").fail(f"{group!r} is not a group of any site")
        only = obj.get("only", boolean, False)
        share = obj.get("share", number(0, 1))
        options.append((_guard(item, functools.partial(SiteOption, group, only)), share))
    if not options or abs(sum(share for _, share in options) - 1) > 1e-6:
        raise node.fail("needs options whose shares add up to 1")
    return tuple(options)


QUEUE_KEYS = {
    "name", "skills", "language", "min_language_level", "service_level", "handling",
    "handling_by_site", "patience", "callback", "choice", "routing", "demand", "staffing",
    "priority",
}  # fmt: skip


def _staffing(node: Node) -> AutoStaffing | None:
    if node.value == "auto":
        return AutoStaffing()
    if node.value in ("shifts", None):
        return None
    obj = Obj(node, {"service_level", "answer_within", "max_abandon"})
    return _guard(
        node,
        lambda: AutoStaffing(
            StaffingTarget(
                service_level=obj.get("service_level", number(0, 1, strict_low=True), 0.8),
                answer_within=obj.get("answer_within", number(0, strict_low=True), 20.0),
            )
        ),
    )


def _queue(
    node: Node, index: int, clock_: Clock, sites: dict[str, int], groups: set[str]
) -> QueueModel:
    obj = Obj(node, QUEUE_KEYS)
    target = (
        Obj(obj.sub("service_level"), {"percent", "seconds"}) if obj.has("service_level") else None
    )
    sl = ServiceLevelTarget()
    if target is not None:
        percent = target.get("percent", number(0, 100, strict_low=True), 80.0)
        seconds = target.get("seconds", integer(1, 3600), 20)
        sl = ServiceLevelTarget(percent, seconds)
    queue = _guard(
        node,
        lambda: DomainQueue(
            id=index + 1,
            tenant_id=TENANT,
            name=obj.get("name", text),
            required_skills=obj.get("skills", levels),
            language=obj.get("language", text, "fr"),
            min_language_level=obj.get("min_language_level", integer(1, 5), 3),
            sl_target=sl,
            priority=obj.get("priority", integer(-100, 100), 0),
        ),
    )
    by_site: dict[str, Distribution] = {}
    if obj.has("handling_by_site"):
        sub = obj.sub("handling_by_site")
        if not isinstance(sub.value, dict):
            raise sub.fail("must map site names to handling laws")
        for name, child in sub.value.items():
            if name not in sites:
                raise ScenarioError(sub.key_lines[name], child.path, f"{name!r} is not a site")
            by_site[name] = distribution(child)
    callback = None
    if obj.has("callback"):
        cb = Obj(obj.sub("callback"), {"after", "accept"})
        callback = CallbackOffer(
            cb.get("after", number(0), 120.0), cb.get("accept", number(0, 1), 0.3)
        )
    return QueueModel(
        queue=queue,
        policy=_routing(obj.sub("routing"), groups) if obj.has("routing") else RoutingPolicy(),
        demand=_demand(obj.sub("demand"), clock_),
        handling=distribution(obj.sub("handling")),
        handling_by_site=by_site,
        patience=distribution(obj.sub("patience")) if obj.has("patience") else None,
        callback=callback,
        options=_options(obj.sub("choice"), groups)
        if obj.has("choice")
        else ((SiteOption(), 1.0),),
        auto_staffing=_staffing(obj.sub("staffing")) if obj.has("staffing") else None,
    )


def _outage(node: Node, clock_: Clock, sites: dict[str, int]) -> Outage:
    obj = Obj(node, {"site", "start", "end", "in_progress"})
    site = obj.get("site", text)
    if site not in sites:
        raise obj.sub("site").fail(f"{site!r} is not a site")
    start, end = clock_.span(obj.sub("start"), obj.sub("end"))
    try:
        policy = OutagePolicy(obj.get("in_progress", text, "requeue"))
    except ValueError:
        raise obj.sub("in_progress").fail("must be drop or requeue") from None
    return Outage(site, start, end, policy)


SCENARIO_KEYS = {
    "name", "date", "timezone", "sites", "queues", "outages", "drain_hours", "answer_delay",
    "description",
}  # fmt: skip


def load_scenario(source: str) -> Scenario:
    """Parse and check a scenario; raises ScenarioError (line and field) on bad input."""
    root = parse_tree(source)
    obj = Obj(root, SCENARIO_KEYS)
    day_node = obj.sub("date")
    if not isinstance(day_node.value, date) or isinstance(day_node.value, datetime):
        raise day_node.fail("must be a date YYYY-MM-DD")
    timezone = obj.get("timezone", text, "Europe/Paris")
    _guard(
        obj.sub("timezone") if obj.has("timezone") else root,
        lambda: check_timezone("timezone", timezone),
    )
    clock_ = Clock(day_node.value, timezone)
    site_nodes = items(obj.sub("sites"))
    if not site_nodes:
        raise obj.sub("sites").fail("needs at least one site")
    sites = [_site(n, i, clock_) for i, n in enumerate(site_nodes)]
    names: dict[str, int] = {}
    for model, site_node in zip(sites, site_nodes, strict=True):
        if model.site.name in names:
            raise site_node.fail(f"site name {model.site.name!r} is used twice")
        names[model.site.name] = model.site.id
    groups = {group for model in sites for group in model.site.groups}
    queue_nodes = items(obj.sub("queues"))
    if not queue_nodes:
        raise obj.sub("queues").fail("needs at least one queue")
    queues = [_queue(n, i, clock_, names, groups) for i, n in enumerate(queue_nodes)]
    outages = (
        [_outage(n, clock_, names) for n in items(obj.sub("outages"))] if obj.has("outages") else []
    )
    _check_staffed(sites, queues, queue_nodes)
    scenario = Scenario(
        name=obj.get("name", text),
        day=day_node.value,
        timezone=timezone,
        sites=tuple(sites),
        queues=tuple(queues),
        outages=tuple(outages),
        drain=3600 * obj.get("drain_hours", number(0, 24), 4.0),
        answer_delay=obj.get("answer_delay", number(0, 10), 0.0),
    )
    for queue, node in zip(queues, queue_nodes, strict=True):
        if scenario.answer_delay >= queue.policy.offer_timeout:
            raise node.fail("answer_delay must be shorter than the queue's offer_timeout")
    return scenario


def _check_staffed(sites: list[SiteModel], queues: list[QueueModel], nodes: list[Node]) -> None:
    """Every queue needs someone who may answer it: a team with its skills, or auto staffing."""
    auto_sites = sum(model.auto_share for model in sites)
    for queue, node in zip(queues, nodes, strict=True):
        if queue.auto_staffing is not None:
            if auto_sites <= 0:
                raise node.fail("staffing: auto needs a site with auto_share > 0")
            continue
        q = queue.queue
        eligible = any(
            all(team.skills.get(s, 0) >= level for s, level in q.required_skills.items())
            and team.languages.get(q.language, 0) >= q.min_language_level
            for model in sites
            for team in model.teams
        )
        if not eligible:
            raise node.fail(f"no team has the skills and language for queue {q.name!r}")
