"""Calibration of wait estimates against the waits contacts actually see.

The model in `ewt.py` is biased in a multi-skill centre, and not by one factor: advisers
shared with other queues turn to a queue as soon as its contact is the oldest they can see,
so more capacity reaches it than its own service shows (short estimates come true later than
said, long ones sooner: waits regress towards the mean). So each queue, channel and site
option keeps an affine correction, `wait ≈ offset + slope × model`, fitted by exponentially
weighted least squares over the contacts that were announced a wait and then reached an
adviser. Pure and deterministic: the samples are the engine's own events, and only earlier
contacts ever correct a later estimate.
"""

from __future__ import annotations

# Weight of one sample in the means (a memory of about 1/ALPHA contacts), and the number of
# samples before a class's own correction applies in full: before that it is phased in from
# the correction of every queue on the channel and option, so that quiet queues are
# calibrated too.
CALIBRATION_ALPHA = 0.02
CALIBRATION_WARMUP = 30
# However wrong the model, the slope stays within these bounds.
CALIBRATION_BOUNDS = (0.05, 20.0)


class WaitCalibration:
    """Exponentially weighted means of the model's estimate x and the wait seen y, of x² and
    x·y: the least-squares line through them is the correction."""

    __slots__ = ("mean_x", "mean_xx", "mean_xy", "mean_y", "offset", "samples", "slope")

    def __init__(self) -> None:
        self.mean_x = self.mean_y = self.mean_xx = self.mean_xy = 0.0
        self.samples = 0
        # The line, refitted at each sample (estimates are asked for more often than waits
        # are seen).
        self.offset, self.slope = 0.0, 1.0

    def record(self, predicted: float, actual: float) -> None:
        if self.samples == 0:
            self.mean_x, self.mean_y = predicted, actual
            self.mean_xx, self.mean_xy = predicted * predicted, predicted * actual
        else:
            a = CALIBRATION_ALPHA
            self.mean_x += a * (predicted - self.mean_x)
            self.mean_y += a * (actual - self.mean_y)
            self.mean_xx += a * (predicted * predicted - self.mean_xx)
            self.mean_xy += a * (predicted * actual - self.mean_xy)
        self.samples += 1
        self.offset, self.slope = self._fit()

    def line(self) -> tuple[float, float]:
        """(offset, slope) of the correction; the identity before any sample."""
        return self.offset, self.slope

    def _fit(self) -> tuple[float, float]:
        if self.samples == 0 or self.mean_x <= 0.0:
            return 0.0, 1.0
        low, high = CALIBRATION_BOUNDS
        variance = self.mean_xx - self.mean_x * self.mean_x
        if self.samples < 2 or variance <= 1e-6 * self.mean_xx:
            # One estimate seen (or all alike): a ratio is all the data can tell.
            return 0.0, min(max(self.mean_y / self.mean_x, low), high)
        slope = (self.mean_xy - self.mean_x * self.mean_y) / variance
        slope = min(max(slope, low), high)
        return max(0.0, self.mean_y - slope * self.mean_x), slope

    def correct(self, model: float, fallback: WaitCalibration | None = None) -> float:
        """The corrected estimate; this class's line is phased in from `fallback`'s."""
        offset, slope = self.offset, self.slope
        if fallback is not None and self.samples < CALIBRATION_WARMUP:
            prior_offset, prior_slope = fallback.offset, fallback.slope
            phase_in = self.samples / CALIBRATION_WARMUP
            offset = prior_offset + (offset - prior_offset) * phase_in
            slope = prior_slope + (slope - prior_slope) * phase_in
        return max(0.0, offset + slope * model)
