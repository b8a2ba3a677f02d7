"""In-band DTMF: keypad tones detected in the caller's decoded audio.

Why in-band: aiortc (1.16) negotiates no `telephone-event` codec (RFC 4733), so a browser's
RTCDTMFSender has nothing to send on (`canInsertDTMF` is false) and a gateway's RFC 4733
events would be dropped. Tones played into the audio itself survive Opus well enough, so
the switchboard looks for them there, 20 ms at a time: the power at the eight DTMF
frequencies (a single-bin DFT per frequency, which is what the Goertzel filter computes,
done as one NumPy product), one row and one column tone clearly above the others, and
the pair carrying most of the chunk's power. A digit counts once it holds for 40 ms (the
ITU-T Q.24 minimum tone length), and again only after a gap.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from allo.channels.voice.audio import CHUNK, RATE, Samples

ROWS = (697.0, 770.0, 852.0, 941.0)
COLUMNS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
MIN_RMS = 300.0  # quieter than this is line noise, not a key press
DOMINANCE = 4.0  # the winning tone of a group has 4× the power of the group's runner-up
SHARE = 0.6  # the two tones carry at least 60 % of the chunk's power
HOLD_CHUNKS = 2  # 40 ms

_t = np.arange(CHUNK) / RATE
_BINS: NDArray[np.complex128] = np.exp(-2j * np.pi * np.outer(ROWS + COLUMNS, _t))


def tone_powers(chunk: Samples) -> NDArray[np.float64]:
    """Mean power at each DTMF frequency (rows then columns), in sample units squared."""
    values = _BINS @ chunk.astype(np.float64)
    powers: NDArray[np.float64] = 2 * np.abs(values) ** 2 / len(chunk) ** 2
    return powers


def _winner(powers: NDArray[np.float64]) -> int | None:
    order = np.argsort(powers)
    best, second = powers[order[-1]], powers[order[-2]]
    return int(order[-1]) if best > DOMINANCE * second else None


def digit_in(chunk: Samples) -> str | None:
    """The key whose tone pair fills this 20 ms chunk, if any."""
    signal = chunk.astype(np.float64)
    total = float(np.mean(signal**2))
    if total < MIN_RMS**2:
        return None
    powers = tone_powers(chunk)
    row, column = _winner(powers[:4]), _winner(powers[4:])
    if row is None or column is None:
        return None
    if powers[row] + powers[4 + column] < SHARE * total:
        return None
    return KEYS[row][column]


class DtmfDetector:
    """Feed it the caller's chunks; it reports each key press once."""

    def __init__(self) -> None:
        self._candidate: str | None = None
        self._held = 0
        self._reported = False

    def feed(self, chunk: Samples) -> str | None:
        digit = digit_in(chunk)
        if digit != self._candidate:
            self._candidate, self._held, self._reported = digit, 0, False
        if digit is None:
            return None
        self._held += 1
        if self._held >= HOLD_CHUNKS and not self._reported:
            self._reported = True
            return digit
        return None


def dtmf_tone(key: str, seconds: float = 0.2, level: float = 6000.0) -> Samples:
    """The tone pair of a key, e.g. for a keypad or a test caller."""
    where = [(row, keys.index(key)) for row, keys in enumerate(KEYS) if key in keys]
    if len(key) != 1 or not where:
        raise ValueError(f"not a DTMF key: {key!r}")
    [(row, column)] = where
    t = np.arange(int(RATE * seconds)) / RATE
    pair = np.sin(2 * np.pi * ROWS[row] * t) + np.sin(2 * np.pi * COLUMNS[column] * t)
    return (pair * level / 2).astype(np.int16)
