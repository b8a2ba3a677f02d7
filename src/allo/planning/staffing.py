"""Staffing per interval and queue: from forecast to advisers needed, net and per site.

Net requirement: advisers on the phones (Erlang C, or Erlang A when the queue has a
patience) meeting the queue's targets in each interval. Each site then needs
net / (1 - shrinkage of that site) advisers paid, shrinkage being the share of paid time
off the phones (breaks not planned in the shift, training, absence).

Multi-skill approximation ("split time"): an adviser who can serve several queues counts
**once**, not once per skill. The scheduler splits each site's productive advisers across
the queues they can serve, interval by interval, so that the shares meet each queue's own
Erlang requirement (``shifts.schedule`` does it with continuous split variables). Because
each queue is sized alone, the economies of pooling cross-skilled advisers are ignored: the
approximation errs on the safe side, by at most the gap between the separate and the
pooled requirement (``pooling_gain`` measures it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from allo.domain.errors import InvalidValue
from allo.planning.erlang import StaffingTarget, load_erlangs, required_agents

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class QueueTarget:
    """How a queue is sized: targets and, for Erlang A, the mean patience in seconds."""

    target: StaffingTarget = field(default_factory=StaffingTarget)
    patience: float | None = None

    def __post_init__(self) -> None:
        if self.patience is not None and self.patience <= 0:
            raise InvalidValue("patience", "must be a positive number of seconds")


def net_requirement(
    volume: npt.ArrayLike, aht: npt.ArrayLike, interval_minutes: int, queue: QueueTarget
) -> FloatArray:
    """Advisers on the phones needed per interval (any array shape, e.g. days × slots)."""
    vol = np.asarray(volume, dtype=np.float64)
    handle = np.broadcast_to(np.asarray(aht, dtype=np.float64), vol.shape)
    handle = np.where(vol > 0, np.nan_to_num(handle, nan=0.0), 0.0)
    load = load_erlangs(vol, handle, interval_minutes * 60)
    flat = required_agents(load.ravel(), handle.ravel(), queue.target, queue.patience)
    return flat.reshape(vol.shape)


def check_shrinkage(field: str, shrinkage: float) -> float:
    if not 0 <= shrinkage < 1:
        raise InvalidValue(field, "must be a share in [0, 1)")
    return shrinkage


def gross_requirement(net: npt.ArrayLike, shrinkage: float) -> FloatArray:
    """Paid advisers a site needs to put ``net`` on the phones."""
    check_shrinkage("shrinkage", shrinkage)
    return np.asarray(np.asarray(net, dtype=np.float64) / (1 - shrinkage), dtype=np.float64)


def site_requirements(
    net: npt.ArrayLike, shrinkage_by_site: Mapping[str, float]
) -> dict[str, FloatArray]:
    """The gross requirement if each site alone served the whole net requirement."""
    return {
        site: gross_requirement(net, check_shrinkage(f"shrinkage.{site}", value))
        for site, value in shrinkage_by_site.items()
    }


def pooling_gain(
    volumes: Sequence[npt.ArrayLike],
    ahts: Sequence[npt.ArrayLike],
    interval_minutes: int,
    queue: QueueTarget,
) -> FloatArray:
    """Per interval, separate requirements summed minus the requirement of one pooled queue.

    It bounds what the split-time approximation overstaffs when advisers are fully
    cross-skilled on these queues (same target assumed).
    """
    separate = sum(
        (
            net_requirement(v, a, interval_minutes, queue)
            for v, a in zip(volumes, ahts, strict=True)
        ),
        start=np.zeros(np.shape(volumes[0])),
    )
    vol = np.sum([np.asarray(v, dtype=np.float64) for v in volumes], axis=0)
    work = np.sum(
        [
            np.asarray(v, dtype=np.float64) * np.asarray(a, dtype=np.float64)
            for v, a in zip(volumes, ahts, strict=True)
        ],
        axis=0,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled_aht = np.where(vol > 0, work / vol, 0.0)
    pooled = net_requirement(vol, pooled_aht, interval_minutes, queue)
    return np.asarray(separate - pooled, dtype=np.float64)
