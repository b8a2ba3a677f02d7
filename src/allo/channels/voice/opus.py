"""Opus frames as the relay handles them: encoded once by the relay, or forwarded untouched.

A plain two-party call needs neither decoding nor re-encoding: the relay passes each
party's Opus frames to the other as they arrive (no tick, no second jitter buffer), and only
decodes when it has to mix, record, listen for keys or play a prompt. aiortc has no public
setting for either half, so two small pieces stand in:

- `NoWaitBuffer` replaces aiortc's receive jitter buffer on the relay's legs. aiortc's audio
  buffer holds 4 frames (80 ms) before releasing one; the relay forwards to a browser that has
  its own jitter buffer, and its switchboard keeps a 60 ms buffer of its own, so that wait
  was pure added latency.
- `Encoder` encodes the switchboard's audio (mono, 32 kbit/s) so that `OutboundTrack` always
  hands aiortc's sender packets, whose timestamps it counts itself: switching between
  forwarded and encoded frames never makes the RTP clock jump back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_gt

from allo.channels.voice.audio import RATE, Samples

log = logging.getLogger(__name__)
TIME_BASE = Fraction(1, RATE)
BITRATE = 24_000  # speech, as media.OPUS_BITRATE; aiortc's own encoder defaults to 96 kbit/s
# Frame length in 48 kHz samples for each Opus configuration (RFC 6716, section 3.1):
# SILK 10/20/40/60 ms (configs 0-11), hybrid 10/20 ms (12-15), CELT 2.5/5/10/20 ms (16-31).
_SILK = (480, 960, 1920, 2880)
_HYBRID = (480, 960)
_CELT = (120, 240, 480, 960)
FRAME_SAMPLES = _SILK * 3 + _HYBRID * 2 + _CELT * 4
_RECEIVER_BUFFER = "_RTCRtpReceiver__jitter_buffer"  # aiortc 1.16's private attribute

Sink = Callable[[bytes], None]


def packet_samples(payload: bytes) -> int:
    """How many 48 kHz samples an Opus packet holds, from its table-of-contents byte."""
    if not payload:
        return 0
    toc = payload[0]
    per_frame = FRAME_SAMPLES[toc >> 3]
    code = toc & 0x03
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    else:
        frames = payload[1] & 0x3F if len(payload) > 1 else 0
    return per_frame * frames


class NoWaitBuffer:
    """Each received Opus packet at once, in order (late ones are dropped, Opus conceals
    them): to `sink` when forwarding, to aiortc's decoder when `decode` is on."""

    capacity = 1

    def __init__(self) -> None:
        self.sink: Sink | None = None
        self.decode = True
        self._last: int | None = None
        self.received = 0

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        if self._last is not None and not uint16_gt(packet.sequence_number, self._last):
            return False, None
        self._last = packet.sequence_number
        self.received += 1
        data: bytes = packet._data  # type: ignore[attr-defined]  # set by aiortc's depayload
        if self.sink is not None:
            self.sink(data)
        if not self.decode:
            return False, None
        return False, JitterFrame(data=data, timestamp=packet.timestamp)


def install(receiver: Any, buffer: NoWaitBuffer) -> bool:
    """Put `buffer` in place of aiortc's jitter buffer; False (and aiortc's own buffer kept,
    so no forwarding) if this aiortc keeps it elsewhere."""
    if not hasattr(receiver, _RECEIVER_BUFFER):
        log.warning("aiortc's receiver has no %s: relaying without passthrough", _RECEIVER_BUFFER)
        return False
    setattr(receiver, _RECEIVER_BUFFER, buffer)
    return True


class Encoder:
    """libopus for the switchboard's 20 ms mono chunks."""

    def __init__(self, bitrate: int = BITRATE) -> None:
        self.codec: Any = av.CodecContext.create("libopus", "w")
        self.codec.bit_rate = bitrate
        self.codec.format = "s16"
        self.codec.layout = "mono"
        self.codec.sample_rate = RATE
        self.codec.time_base = TIME_BASE
        self.codec.options = {"application": "voip"}
        self._pts = 0

    def encode(self, samples: Samples) -> list[bytes]:
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = TIME_BASE
        self._pts += len(samples)
        return [bytes(p) for p in self.codec.encode(frame)]


def packet(payload: bytes, pts: int) -> av.Packet[Any]:
    """What aiortc's sender packs as it is (`Encoder.pack`), stamped with our clock."""
    out = av.Packet(payload)
    out.pts = pts
    out.time_base = TIME_BASE
    return out
