"""Opus frames in the relay: their length from the TOC byte, the no-wait receive buffer, and
the switchboard's encoder (decoded back by libopus)."""

from __future__ import annotations

import av
import numpy as np
from aiortc.rtp import RtpPacket

from allo.channels.voice.audio import CHUNK, RATE
from allo.channels.voice.opus import Encoder, NoWaitBuffer, packet_samples


def test_packet_lengths_follow_the_toc_byte() -> None:
    assert packet_samples(b"") == 0
    assert packet_samples(bytes([(1 << 3) | 0])) == 960  # SILK NB 20 ms, one frame
    assert packet_samples(bytes([(3 << 3) | 1])) == 2 * 2880  # SILK 60 ms, two frames
    assert packet_samples(bytes([(31 << 3) | 2])) == 2 * 960  # CELT FB 20 ms, two frames
    assert packet_samples(bytes([(16 << 3) | 3, 5])) == 5 * 120  # CELT 2.5 ms, five frames


def rtp(sequence: int, data: bytes) -> RtpPacket:
    packet = RtpPacket(payload_type=111, sequence_number=sequence, timestamp=sequence * CHUNK)
    packet._data = data  # type: ignore[attr-defined]  # what aiortc's depayload sets
    return packet


def test_the_buffer_hands_each_packet_at_once_in_order_and_drops_late_ones() -> None:
    buffer, forwarded = NoWaitBuffer(), []
    _, frame = buffer.add(rtp(65535, b"a"))
    assert frame is not None and frame.data == b"a"
    assert buffer.add(rtp(0, b"b"))[1] is not None  # across the 16-bit wrap
    assert buffer.add(rtp(65535, b"a"))[1] is None  # a duplicate, or late: dropped
    buffer.sink, buffer.decode = forwarded.append, False
    assert buffer.add(rtp(1, b"c")) == (False, None)  # forwarded, not decoded
    assert forwarded == [b"c"]


def test_the_switchboards_encoder_makes_opus_that_decodes_to_the_same_tone() -> None:
    encoder, decoder = Encoder(), av.CodecContext.create("libopus", "r")
    decoder.format, decoder.layout, decoder.sample_rate = "s16", "mono", RATE  # type: ignore[attr-defined]
    t = np.arange(CHUNK * 20) / RATE
    tone = (np.sin(2 * np.pi * 1000 * t) * 8000).astype(np.int16)
    payloads = [p for i in range(20) for p in encoder.encode(tone[i * CHUNK : (i + 1) * CHUNK])]
    assert len(payloads) >= 18 and all(packet_samples(p) == CHUNK for p in payloads)
    decoded = np.concatenate(
        [f.to_ndarray().reshape(-1) for p in payloads for f in decoder.decode(av.Packet(p))]
    )
    spectrum = np.abs(np.fft.rfft(decoded[-RATE // 10 :].astype(np.float64)))
    assert abs(np.fft.rfftfreq(RATE // 10, 1 / RATE)[int(np.argmax(spectrum))] - 1000) < 20
