"""The switchboard of one call, tick by tick, with in-memory parties (no network)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from allo.channels.voice.audio import CHUNK, Samples
from allo.channels.voice.call import Call


def tone(level: int, chunks: int = 1) -> Samples:
    return np.full(CHUNK * chunks, level, dtype=np.int16)


@dataclass
class FakeInbound:
    level: int
    can_forward: bool = True

    def take(self) -> Samples:
        return tone(self.level)


@dataclass
class FakeOut:
    heard: list[Samples] = field(default_factory=list)

    def push(self, samples: Samples) -> None:
        self.heard.append(samples)


@dataclass
class FakeParty:
    level: int
    out: FakeOut = field(default_factory=FakeOut)

    def __post_init__(self) -> None:
        self.inbound = FakeInbound(self.level)


def last(party: Any) -> int:
    return int(party.out.heard[-1][0])


def test_prompts_then_wait_then_hold_then_the_adviser_and_hold_again(tmp_path: Path) -> None:
    caller, adviser = FakeParty(100), FakeParty(200)
    hold = tone(7, 2)
    call = Call(1, 1, caller, [tone(1, 2)], [tone(2)], hold, tmp_path / "r.wav")  # type: ignore[arg-type]
    heard = []
    for _ in range(4):
        call.tick()
        heard.append(last(caller))
    assert heard == [1, 1, 2, 7]  # welcome (2 chunks), wait announcement, hold audio
    call.join_adviser(adviser)  # type: ignore[arg-type]
    call.tick()
    assert (last(caller), last(adviser)) == (200, 100)
    call.held = True
    call.tick()
    assert (last(caller), last(adviser)) == (7, 0)


def test_the_adviser_waits_for_the_recording_notice_and_pauses_are_silent(
    tmp_path: Path,
) -> None:
    import wave

    caller, adviser = FakeParty(100), FakeParty(200)
    path = tmp_path / "r.wav"
    call = Call(1, 1, caller, [tone(1), tone(3)], [], tone(7), path)  # type: ignore[arg-type]
    call.join_adviser(adviser)  # type: ignore[arg-type]
    call.tick()
    call.tick()
    assert [int(h[0]) for h in caller.out.heard] == [1, 3]  # the notice is heard in full
    assert [int(h[0]) for h in adviser.out.heard] == [0, 0]
    assert call.recorder is None  # nothing recorded before the notice ended
    for paused in (False, True, True, False):
        call.recording_paused = paused
        call.tick()
    assert call.recorder is not None
    duration = call.recorder.close()
    assert duration == 4 * CHUNK / 48_000
    assert call.recorder.paused_spans == [[0.02, 0.06]]
    with wave.open(str(path)) as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).reshape(-1, 2)
    per_tick = len(frames) // 4
    assert (frames[:per_tick] == [100, 200]).all()
    assert (frames[per_tick : 3 * per_tick] == 0).all()
    assert (frames[3 * per_tick :] == [100, 200]).all()


def test_only_a_plain_two_party_call_forwards_its_frames_untouched(tmp_path: Path) -> None:
    caller, adviser = FakeParty(100), FakeParty(200)
    call = Call(1, 1, caller, [tone(1)], [], tone(7), None)  # type: ignore[arg-type]
    call.join_adviser(adviser)  # type: ignore[arg-type]
    assert not call.direct  # the welcome prompt is still to be heard
    call.tick()
    assert call.direct
    call.held = True
    assert not call.direct  # hold audio comes from the switchboard
    call.held = False
    supervisor = FakeParty(0)
    call.add_listener(supervisor)  # type: ignore[arg-type]
    assert not call.direct  # a supervisor hears the mix
    call.remove_listener(supervisor)  # type: ignore[arg-type]
    assert call.direct
    recorded = Call(2, 1, caller, [], [], tone(7), tmp_path / "r.wav")  # type: ignore[arg-type]
    recorded.join_adviser(adviser)  # type: ignore[arg-type]
    assert recorded.talking and not recorded.direct  # the recorder needs decoded audio
