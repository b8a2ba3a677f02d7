"""Calibration of wait estimates against the waits a queue actually sees.

The model in `ewt.py` is biased in a multi-skill centre: advisers shared with other queues
turn to a queue as soon as its contact is the oldest they can see, so more capacity reaches
it than its own service counts show (waits were over-estimated about 2x). Each queue and
channel keeps exponentially weighted means of the model's estimate and of the wait
experienced, over the contacts that were announced a wait and then reached an adviser, and
scales later estimates by their ratio. Pure and deterministic: the samples are the engine's
own events.
"""

from __future__ import annotations

# Weight of one sample in the means (a memory of about 1/ALPHA contacts), and the number of
# samples before a queue's own correction applies in full: before that it is phased in from
# the correction of every queue on the channel, so that quiet queues are calibrated too.
CALIBRATION_ALPHA = 0.02
CALIBRATION_WARMUP = 30
# However wrong the model, the correction stays within these bounds.
CALIBRATION_BOUNDS = (0.05, 20.0)


class WaitCalibration:
    """Correction factor: the mean wait seen / the mean of the model's estimates."""

    __slots__ = ("actual", "predicted", "samples")

    def __init__(self) -> None:
        self.predicted = 0.0
        self.actual = 0.0
        self.samples = 0

    def record(self, predicted: float, actual: float) -> None:
        if self.samples == 0:
            self.predicted, self.actual = predicted, actual
        else:
            self.predicted += CALIBRATION_ALPHA * (predicted - self.predicted)
            self.actual += CALIBRATION_ALPHA * (actual - self.actual)
        self.samples += 1

    def ratio(self) -> float:
        if self.samples == 0 or self.predicted <= 0.0:
            return 1.0
        low, high = CALIBRATION_BOUNDS
        return min(max(self.actual / self.predicted, low), high)

    def factor(self, fallback: WaitCalibration | None = None) -> float:
        """This correction, phased in from `fallback`'s while samples are few."""
        prior = 1.0 if fallback is None else fallback.ratio()
        phase_in = min(1.0, self.samples / CALIBRATION_WARMUP)
        return prior + (self.ratio() - prior) * phase_in
