"""Books and measures of a replication, and 95 % confidence intervals across replications.

Definitions (the Erlang A ones of `allo.planning.erlang`, so that they can be checked):
contacts that took a callback are left out of the line measures; the service level is the
share of the other contacts *answered* within the queue's target (abandoners count as
missed); ASA is the mean wait of answered contacts; the abandon rate is abandoned over
answered plus abandoned. Cost is paid hours × hourly cost of every site.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scipy import stats

# End states of a contact; "waiting", "callback", "offered", "serving" are at the end of run.
END_STATES = ("done", "abandoned", "dropped", "waiting", "callback", "offered", "serving")


@dataclass(slots=True)
class SiteTotals:
    handled: int = 0
    resolved: int = 0
    satisfaction: int = 0
    busy: float = 0.0  # seconds of handling
    available: float = 0.0  # seconds advisers were on the phones by roster (not dark)
    paid: float = 0.0  # paid seconds
    hourly_cost: float = 0.0

    @property
    def cost(self) -> float:
        return self.paid / 3600 * self.hourly_cost

    @property
    def occupancy(self) -> float:
        return self.busy / self.available if self.available > 0 else 0.0


@dataclass(slots=True)
class ReplicationResult:
    sites: list[SiteTotals]
    overflows: int = 0
    requeued: int = 0
    repeats: int = 0
    missed: int = 0
    books: dict[str, int] = field(default_factory=lambda: dict.fromkeys(END_STATES, 0))
    arrivals: int = 0
    repeat_arrivals: int = 0
    callbacks: int = 0
    line: int = 0  # contacts that stayed on the line (no callback)
    answered: int = 0
    within: int = 0
    abandoned: int = 0
    answered_wait: float = 0.0
    line_wait: float = 0.0

    def count(
        self,
        state: str,
        callback: bool,
        repeat: bool,
        answer_wait: float | None,
        abandon_wait: float,
        target: float,
    ) -> None:
        self.arrivals += 1
        self.repeat_arrivals += repeat
        self.books[state] += 1
        if callback:
            self.callbacks += 1
            return
        self.line += 1
        if answer_wait is not None:
            self.answered += 1
            self.within += answer_wait <= target
            self.answered_wait += answer_wait
            self.line_wait += answer_wait
        elif state == "abandoned":
            self.abandoned += 1
            self.line_wait += abandon_wait
        else:
            self.line_wait += abandon_wait

    @property
    def handled(self) -> int:
        return sum(s.handled for s in self.sites)

    @property
    def resolved(self) -> int:
        return sum(s.resolved for s in self.sites)

    @property
    def cost(self) -> float:
        return sum(s.cost for s in self.sites)

    def metrics(self, site_names: Sequence[str]) -> dict[str, float]:
        handled, resolved = self.handled, self.resolved
        ended = self.answered + self.abandoned
        values = {
            "contacts": float(self.arrivals),
            "service_level": self.within / ended if ended else 1.0,
            "asa": self.answered_wait / self.answered if self.answered else 0.0,
            "mean_wait": self.line_wait / self.line if self.line else 0.0,
            "abandon_rate": self.abandoned / ended if ended else 0.0,
            "callback_rate": self.callbacks / self.arrivals if self.arrivals else 0.0,
            "fcr": resolved / handled if handled else 0.0,
            "satisfaction": (
                sum(s.satisfaction for s in self.sites) / handled if handled else math.nan
            ),
            "repeat_rate": self.repeats / handled if handled else 0.0,
            "cost": self.cost,
            "cost_per_contact": self.cost / handled if handled else math.nan,
            "cost_per_resolved": self.cost / resolved if resolved else math.nan,
            "overflow_rate": self.overflows / self.arrivals if self.arrivals else 0.0,
        }
        for name, site in zip(site_names, self.sites, strict=True):
            values[f"occupancy[{name}]"] = site.occupancy
            values[f"handled[{name}]"] = float(site.handled)
        return values


@dataclass(frozen=True, slots=True)
class Estimate:
    mean: float
    half_width: float  # of the 95 % confidence interval (Student t over replications)
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high


def estimate(values: Sequence[float], level: float = 0.95) -> Estimate:
    finite = [v for v in values if not math.isnan(v)]
    n = len(finite)
    if n == 0:
        return Estimate(math.nan, math.nan, 0)
    mean = sum(finite) / n
    if n == 1:
        return Estimate(mean, math.inf, 1)
    variance = sum((v - mean) ** 2 for v in finite) / (n - 1)
    quantile = float(stats.t.ppf((1 + level) / 2, n - 1))
    return Estimate(mean, quantile * math.sqrt(variance / n), n)


def summarise(runs: Sequence[Mapping[str, float]]) -> dict[str, Estimate]:
    """Mean and 95 % CI of every metric over independent replications."""
    names = list(runs[0]) if runs else []
    return {name: estimate([run[name] for run in runs]) for name in names}
