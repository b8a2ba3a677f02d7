"""A headless softphone: an aiortc peer that sends a looped source and notes what it hears.

The integration tests and `bench/voice.py` use it as the caller and the advisers, against
the real media service. `PeerThread` runs peers on an event loop of their own thread, so a
test's synchronous code (and Playwright's loop) never block them.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine
from fractions import Fraction
from typing import Any, TypeVar

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from allo.channels.voice.audio import CHUNK, RATE, Samples, chunks, energy, silence

T = TypeVar("T")


class SourceTrack(MediaStreamTrack):
    """Plays `source` in a loop at real-time pace; `play` swaps in other audio once."""

    kind = "audio"

    def __init__(self, source: Samples | None = None) -> None:
        super().__init__()
        self._source = chunks(source) if source is not None and len(source) else [silence()]
        self._at = 0
        self._once: list[Samples] = []
        self._start: float | None = None
        self._pts = 0
        self.sent_at: list[float] = []  # wall time each chunk was handed to the encoder

    def play(self, samples: Samples) -> None:
        self._once.extend(chunks(samples))

    def _next(self) -> Samples:
        if self._once:
            return self._once.pop(0)
        chunk = self._source[self._at % len(self._source)]
        self._at += 1
        return chunk

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._pts / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        samples = self._next()
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = Fraction(1, RATE)
        self._pts += CHUNK
        self.sent_at.append(time.monotonic())
        return frame


class Softphone:
    """One peer connection; `heard` holds (arrival time, RMS) of every 20 ms received."""

    def __init__(self, source: Samples | None = None, keep_audio: bool = False) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.track = SourceTrack(source)
        self.pc.addTrack(self.track)
        self.heard: list[tuple[float, float]] = []
        self.audio: list[Samples] = []
        self._keep_audio = keep_audio
        self._reader: asyncio.Task[None] | None = None

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._reader = asyncio.ensure_future(self._read(track))

    async def _read(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            arrived = time.monotonic()
            for part in resampler.resample(frame):  # type: ignore[arg-type]
                samples = part.to_ndarray().reshape(-1).astype(np.int16)
                self.heard.append((arrived, energy(samples)))
                if self._keep_audio:
                    self.audio.append(samples)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    def recent(self, seconds: float) -> Samples:
        """The last `seconds` of what was heard (needs `keep_audio`)."""
        wanted = int(seconds * RATE)
        kept = np.concatenate(self.audio[-(wanted // CHUNK + 2) :]) if self.audio else silence(0)
        return kept[-wanted:]

    def energy_since(self, moment: float) -> float:
        """Mean RMS of what was heard after `moment` (time.monotonic())."""
        values = [rms for at, rms in self.heard if at >= moment]
        return float(np.mean(values)) if values else 0.0

    async def close(self) -> None:
        self.track.stop()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.pc.close()


class PeerThread:
    """An event loop on a thread of its own, for softphones driven from synchronous code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def phone(self, source: Samples | None = None, keep_audio: bool = True) -> Softphone:
        async def make() -> Softphone:
            return Softphone(source, keep_audio)

        return self.run(make())

    def close(self, phones: list[Softphone]) -> None:
        for phone in phones:
            self.run(phone.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()
