"""One call in the media service: the parties' peer connections and the switchboard between them.

A single 20 ms clock per call decides what each party hears: the caller hears the prompts,
then the adviser (or hold audio); the adviser hears the caller; a supervisor listening in
hears both and is heard by nobody; during a consultation (warm transfer) the caller is on
hold and the two advisers hear each other; the recorder writes the caller (left) and the adviser
(right) unless paused, in which case it writes silence. Browsers only ever see the media
service's address, never each other's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import wave
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError

from allo.channels.voice import opus
from allo.channels.voice.audio import CHUNK, RATE, Samples, chunks, silence
from allo.channels.voice.dtmf import DtmfDetector
from allo.channels.voice.opus import Encoder, NoWaitBuffer

log = logging.getLogger(__name__)
TICK = CHUNK / RATE
# At most 60 ms queued from a party (older audio is dropped): packets arrive in bursts, but
# a deeper backlog would stay for the whole call as added latency.
MAX_BUFFER = CHUNK * 3
RECORD_RATE = 16_000


class OutboundTrack(MediaStreamTrack):
    """What the media service sends to one party: the switchboard's audio, encoded here, or
    the other party's Opus frames forwarded as they are (a plain two-party call)."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        # Two items: the sender pulls at the clock's (or the network's) pace, so anything
        # queued beyond that (audio pushed before the peer connected) would only delay the call.
        self._queue: asyncio.Queue[Samples | bytes] = asyncio.Queue(maxsize=2)
        self._encoder: Encoder | None = None
        self._pending: list[bytes] = []
        self._pts = 0  # one RTP clock for encoded and forwarded frames alike
        self.forwarded = 0

    def _put(self, item: Samples | bytes) -> None:
        if self._queue.full():  # nobody is pulling yet: keep the newest audio
            self._queue.get_nowait()
        self._queue.put_nowait(item)

    def push(self, samples: Samples) -> None:
        self._put(samples)

    def forward(self, payload: bytes) -> None:
        self.forwarded += 1
        self._put(payload)

    def _payloads(self, item: Samples | bytes) -> list[bytes]:
        if isinstance(item, bytes):
            return [item]
        if self._encoder is None:
            self._encoder = Encoder()
        return self._encoder.encode(item)

    async def recv(self) -> av.Packet[Any]:
        # The encoder may hold a chunk back (look-ahead), so a chunk makes 0 or more packets.
        while not self._pending:
            if self.readyState != "live":
                raise MediaStreamError
            self._pending.extend(self._payloads(await self._queue.get()))
        payload = self._pending.pop(0)
        out = opus.packet(payload, self._pts)
        self._pts += opus.packet_samples(payload)
        return out


class Inbound:
    """Audio received from one party: its Opus frames forwarded to another party as they
    come, or decoded (by aiortc), resampled to 48 kHz mono and taken 20 ms at a time."""

    def __init__(self) -> None:
        self._buffer: Samples = silence(0)
        self._task: asyncio.Task[None] | None = None
        self.frames = 0
        self.packets = NoWaitBuffer()
        self.can_forward = False

    def attach(self, track: MediaStreamTrack, receiver: Any = None) -> None:
        if receiver is not None:
            self.can_forward = opus.install(receiver, self.packets)
        self._task = asyncio.ensure_future(self._read(track))

    def forward_to(self, out: OutboundTrack | None) -> None:
        """Forward untouched to `out` (nothing is decoded meanwhile), or back to decoding."""
        self.packets.sink = out.forward if out is not None else None
        self.packets.decode = out is None
        self._buffer = silence(0)

    async def _read(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.AudioFrame):
                continue
            self.frames += 1
            for part in resampler.resample(frame):
                data = part.to_ndarray().reshape(-1).astype(np.int16)
                self._buffer = np.concatenate([self._buffer, data])[-MAX_BUFFER:]

    def take(self) -> Samples:
        if len(self._buffer) < CHUNK:
            return silence()
        out, self._buffer = self._buffer[:CHUNK], self._buffer[CHUNK:]
        return out

    async def close(self) -> None:
        self.forward_to(None)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@dataclass
class Party:
    pc: RTCPeerConnection
    out: OutboundTrack = field(default_factory=OutboundTrack)
    inbound: Inbound = field(default_factory=Inbound)

    async def close(self) -> None:
        self.out.stop()
        await self.inbound.close()
        await self.pc.close()


class Recorder:
    """Stereo 16 kHz WAV: caller left, adviser right; paused time is written as silence."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._wav = wave.open(str(path), "wb")  # noqa: SIM115 - closed in close()
        self._wav.setnchannels(2)
        self._wav.setsampwidth(2)
        self._wav.setframerate(RECORD_RATE)
        self.frames = 0
        self.paused_spans: list[list[float]] = []
        self._paused_since: int | None = None

    def pause(self, paused: bool) -> None:
        if paused and self._paused_since is None:
            self._paused_since = self.frames
        elif not paused and self._paused_since is not None:
            self.paused_spans.append([self._paused_since / RECORD_RATE, self.frames / RECORD_RATE])
            self._paused_since = None

    @property
    def paused(self) -> bool:
        return self._paused_since is not None

    def write(self, caller: Samples, adviser: Samples) -> None:
        step = RATE // RECORD_RATE
        left = caller.reshape(-1, step).mean(axis=1)
        right = adviser.reshape(-1, step).mean(axis=1)
        if self.paused:
            left, right = left * 0, right * 0
        self._wav.writeframes(np.column_stack([left, right]).astype(np.int16).tobytes())
        self.frames += len(left)

    def close(self) -> float:
        self.pause(False)
        self._wav.close()
        return self.frames / RECORD_RATE


Digit = Callable[["Call", str], None]


class Call:
    """The switchboard of one call; `run` is its clock."""

    def __init__(
        self,
        contact_id: int,
        tenant_id: int,
        customer: Party,
        prompts: list[Samples],
        waiting: list[Samples],
        hold: Samples,
        recording_path: Path | None,
    ) -> None:
        self.contact_id = contact_id
        self.tenant_id = tenant_id
        # Set before any party: the properties below wake the clock out of direct forwarding.
        self._changed = asyncio.Event()
        self.customer = customer
        self._adviser: Party | None = None
        # A second adviser the first one consults before a warm transfer; the caller is on
        # hold meanwhile.
        self._consultant: Party | None = None
        self.consult_adviser_id: int | None = None
        self.listeners: list[Party] = []
        # Mandatory prompts (welcome, recording notice) are heard in full before the bridge.
        self._prompts: deque[Samples] = deque(c for p in prompts for c in chunks(p))
        self._waiting: deque[Samples] = deque(c for p in waiting for c in chunks(p))
        self._hold = chunks(hold)
        self._hold_at = 0
        self._farewell: deque[Samples] | None = None
        self.farewell_heard = asyncio.Event()
        self._held = False
        self.recording_path = recording_path
        self.recorder: Recorder | None = None
        self.recording_paused = False
        self.dtmf = DtmfDetector()
        self.on_digit: Digit | None = None
        self.ended = asyncio.Event()
        self.ticks = 0
        self.forwarding = False
        self._task: asyncio.Task[None] | None = None

    # Who hears whom depends on these; changing one ends direct forwarding (see `_run`).
    @property
    def adviser(self) -> Party | None:
        return self._adviser

    @adviser.setter
    def adviser(self, party: Party | None) -> None:
        self._adviser = party
        self._changed.set()

    @property
    def consultant(self) -> Party | None:
        return self._consultant

    @consultant.setter
    def consultant(self, party: Party | None) -> None:
        self._consultant = party
        self._changed.set()

    @property
    def held(self) -> bool:
        return self._held

    @held.setter
    def held(self, on: bool) -> None:
        self._held = on
        self._changed.set()

    def add_listener(self, party: Party) -> None:
        self.listeners.append(party)
        self._changed.set()

    def remove_listener(self, party: Party) -> None:
        self.listeners.remove(party)
        self._changed.set()

    @property
    def bridged(self) -> bool:
        return self.adviser is not None and not self._prompts

    @property
    def talking(self) -> bool:
        """Caller and adviser hear each other (not on hold, no consultation going on)."""
        return self.bridged and not self.held and self.consultant is None

    @property
    def direct(self) -> bool:
        """A plain two-party call (nothing to mix, record, play or listen for): the two legs'
        Opus frames can go across untouched."""
        return (
            self.talking
            and self.recording_path is None
            and not self.listeners
            and self._farewell is None
            and self.customer.inbound.can_forward
            and self._adviser is not None
            and self._adviser.inbound.can_forward
        )

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            if self.direct:
                await self._forward_until_changed()
                deadline = loop.time()
            self.tick()
            deadline += TICK
            delay = deadline - loop.time()
            if delay < -5 * TICK:  # fell far behind (a loaded machine): do not burst
                deadline = loop.time()
            await asyncio.sleep(max(0.0, delay))

    async def _forward_until_changed(self) -> None:
        """No clock, no decoding and no encoding while the frames go straight across; any
        change of who hears what (hold, a listener, a transfer, a last prompt) ends it."""
        caller, adviser = self.customer, self._adviser
        assert adviser is not None
        self._changed.clear()
        caller.inbound.forward_to(adviser.out)
        adviser.inbound.forward_to(caller.out)
        self.forwarding = True
        try:
            await self._changed.wait()
        finally:
            self.forwarding = False
            caller.inbound.forward_to(None)
            adviser.inbound.forward_to(None)

    def _hold_chunk(self) -> Samples:
        chunk = self._hold[self._hold_at % len(self._hold)]
        self._hold_at += 1
        return chunk

    def _to_caller(self, adviser: Samples) -> Samples:
        if self._farewell is not None:
            if not self._farewell:
                self.farewell_heard.set()
                return silence()
            return self._farewell.popleft()
        if self._prompts:
            return self._prompts.popleft()
        if self.talking:
            return adviser
        if self.adviser is None and self._waiting:
            return self._waiting.popleft()
        return self._hold_chunk()

    def _listen_for_keys(self, caller: Samples) -> None:
        """Keys count only while the caller waits (e.g. "1" for a callback)."""
        if self.adviser is not None or self._farewell is not None or self.on_digit is None:
            return
        digit = self.dtmf.feed(caller)
        if digit is not None:
            self.on_digit(self, digit)

    def tick(self) -> None:
        self.ticks += 1
        caller = self.customer.inbound.take()
        adviser = self.adviser.inbound.take() if self.adviser else silence()
        consultant = self.consultant.inbound.take() if self.consultant else silence()
        self._listen_for_keys(caller)
        talking = self.talking  # before the last prompt chunk is taken: the notice is heard first
        self.customer.out.push(self._to_caller(adviser))
        if self.adviser is not None:
            self.adviser.out.push(caller if talking else consultant)
        if self.consultant is not None:
            self.consultant.out.push(adviser)
        if talking:
            mixed = (caller.astype(np.int32) + adviser) // 2
        else:
            mixed = (consultant.astype(np.int32) + adviser) // 2
        for listener in self.listeners:
            listener.out.push(mixed.astype(np.int16))
        if talking and self.recording_path is not None:
            if self.recorder is None:
                self.recorder = Recorder(self.recording_path)
            self.recorder.pause(self.recording_paused)
            self.recorder.write(caller, adviser)

    def join_adviser(self, party: Party) -> None:
        self._waiting.clear()
        self.adviser = party

    def release_adviser(self) -> Party | None:
        """The adviser leaves (a blind transfer): the caller hears hold audio until the next
        adviser joins; the prompts are not played again."""
        party, self.adviser = self.adviser, None
        self._waiting.clear()
        return party

    def complete_consultation(self) -> Party | None:
        """Warm transfer done: the consulted adviser takes the call, the first one leaves."""
        previous, self.adviser = self.adviser, self.consultant
        self.consultant, self.consult_adviser_id = None, None
        return previous

    def end_consultation(self) -> Party | None:
        """Warm transfer cancelled: back to the caller and the first adviser."""
        party, self.consultant, self.consult_adviser_id = self.consultant, None, None
        return party

    def say_goodbye(self, prompt: Samples) -> None:
        """The caller hears this prompt instead of anything else; `farewell_heard` then."""
        self._farewell = deque(chunks(prompt))
        self._changed.set()

    async def stop(self) -> dict[str, Any] | None:
        """Stop the clock and every peer; the recording's facts if there was one."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for party in [self.customer, self.adviser, self.consultant, *self.listeners]:
            if party is not None:
                await party.close()
        self.ended.set()
        if self.recorder is None:
            return None
        duration = self.recorder.close()
        return {
            "path": str(self.recorder.path),
            "duration": duration,
            "paused_spans": self.recorder.paused_spans,
        }
