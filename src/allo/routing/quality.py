"""Quality per adviser and queue: first-contact resolution and satisfaction, from outcomes."""

from __future__ import annotations

from allo.routing.policy import QualityWeights


class QualityStats:
    __slots__ = ("resolved", "resolved_count", "satisfaction_count", "satisfaction_sum")

    def __init__(self) -> None:
        self.resolved = 0
        self.resolved_count = 0
        self.satisfaction_sum = 0.0
        self.satisfaction_count = 0


class QualityBook:
    """Outcome counts per (adviser, queue), turned into a smoothed score between 0 and 1."""

    def __init__(self) -> None:
        self._stats: dict[tuple[int, int], QualityStats] = {}

    def record(
        self, adviser_id: int, queue_id: int, resolved: bool | None, satisfaction: int | None
    ) -> bool:
        """Count one outcome; returns whether there was anything to count."""
        if resolved is None and satisfaction is None:
            return False
        stats = self._stats.setdefault((adviser_id, queue_id), QualityStats())
        if resolved is not None:
            stats.resolved_count += 1
            stats.resolved += int(resolved)
        if satisfaction is not None:
            stats.satisfaction_count += 1
            # 1..5 mapped onto 0..1 so that it mixes with a resolution rate.
            stats.satisfaction_sum += (min(max(satisfaction, 1), 5) - 1) / 4
        return True

    def score(self, adviser_id: int, queue_id: int, weights: QualityWeights) -> float:
        stats = self._stats.get((adviser_id, queue_id))
        if stats is None:
            return weights.prior
        prior, k = weights.prior, weights.prior_weight
        fcr = (stats.resolved + prior * k) / (stats.resolved_count + k)
        csat = (stats.satisfaction_sum + prior * k) / (stats.satisfaction_count + k)
        total = weights.fcr + weights.satisfaction
        if total <= 0:
            return prior
        return (weights.fcr * fcr + weights.satisfaction * csat) / total
