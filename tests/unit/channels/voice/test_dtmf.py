"""In-band DTMF detection on 20 ms chunks."""

from __future__ import annotations

import numpy as np

from allo.channels.voice.audio import chunks, hold_music
from allo.channels.voice.dtmf import KEYS, DtmfDetector, digit_in, dtmf_tone


def test_every_key_is_recognised_once_per_press() -> None:
    for key in "".join(KEYS):
        detector = DtmfDetector()
        press = chunks(dtmf_tone(key, 0.2))
        found = [d for c in press for d in [detector.feed(c)] if d is not None]
        assert found == [key]


def test_music_noise_and_a_blip_are_not_keys() -> None:
    rng = np.random.default_rng(7)
    noise = (rng.normal(0, 3000, 48_000)).astype(np.int16)
    detector = DtmfDetector()
    for chunk in chunks(hold_music()) + chunks(noise):
        assert detector.feed(chunk) is None
    blip = chunks(dtmf_tone("1", 0.02))  # 20 ms: shorter than a key press
    assert [DtmfDetector().feed(c) for c in blip] == [None]
    assert digit_in(chunks(dtmf_tone("5", 0.02, level=200))[0]) is None  # too quiet
