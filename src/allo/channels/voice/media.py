"""The media service: answers WebRTC offers with aiortc and keeps the live calls of this process.

Signalling is one HTTP exchange per peer (the browser posts its offer with all its ICE
candidates, the answer carries ours), so no socket is needed. The service knows nothing of
contacts or queues: `services.voice` tells it what to play and whether to record, and hears
back when a call ends (with the recording's facts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import SessionDescription

from allo.channels.voice.audio import RATE, Samples, hold_music
from allo.channels.voice.call import Call, Party

log = logging.getLogger(__name__)
MAX_SDP = 20_000
# Speech: aiortc's default (96 kbit/s, stereo) is music quality; RFC 7587 puts wideband
# to fullband speech at 16-40 kbit/s. The same cap is asked of the browsers in the answer.
OPUS_BITRATE = 24_000
OPUS_RTPMAP = re.compile(r"^a=rtpmap:(\d+) opus/48000[^\r\n]*", re.MULTILINE | re.IGNORECASE)


def limit_opus_bitrate(bitrate: int = OPUS_BITRATE) -> None:
    """aiortc has no setting for its Opus encoder's bitrate: set it after each encoder is
    made (libopus reads it when the codec opens, at the first frame)."""
    from aiortc.codecs import opus

    if getattr(opus.OpusEncoder, "allo_bitrate", None) == bitrate:
        return
    original = getattr(opus.OpusEncoder, "allo_original_init", opus.OpusEncoder.__init__)

    def init(self: Any) -> None:
        original(self)
        self.codec.bit_rate = bitrate

    opus.OpusEncoder.allo_original_init = original  # type: ignore[attr-defined]
    opus.OpusEncoder.__init__ = init  # type: ignore[method-assign]
    opus.OpusEncoder.allo_bitrate = bitrate  # type: ignore[attr-defined]


def cap_opus_bitrate(sdp: str, bitrate: int = OPUS_BITRATE) -> str:
    """Ask the other side to send Opus at no more than `bitrate` (RFC 7587
    `maxaveragebitrate`, honoured by browsers): the relay forwards their frames as they are."""
    found = OPUS_RTPMAP.search(sdp)
    if found is None:
        return sdp
    fmtp = re.compile(rf"^(a=fmtp:{found.group(1)} [^\r\n]*)", re.MULTILINE)
    if "maxaveragebitrate" in sdp:
        return sdp
    if fmtp.search(sdp):
        return fmtp.sub(rf"\1;maxaveragebitrate={bitrate}", sdp, count=1)
    line = found.group(0)
    return sdp.replace(line, f"{line}\r\na=fmtp:{found.group(1)} maxaveragebitrate={bitrate}", 1)


def asked_opus_bitrate(sdp: str) -> int | None:
    """The `maxaveragebitrate` an SDP asks of its peer, if any."""
    found = re.search(r"maxaveragebitrate=(\d+)", sdp)
    return int(found.group(1)) if found else None


Ended = Callable[[Call, str, dict[str, Any] | None], Awaitable[None]]
Key = Callable[[Call, str], Awaitable[None]]
FAREWELL_SLACK = 5.0  # seconds beyond the prompt's length before the line is cut anyway


async def first_of(*events: asyncio.Event) -> None:
    """Until one of `events` is set."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


class BadOffer(ValueError):
    """The SDP offer cannot be answered (malformed, no audio, too large)."""


class NoCall(LookupError):
    """No live call for this contact in this process."""


class NoConsultation(LookupError):
    """No consultation of this adviser is pending or going on in this call."""


def check_offer(sdp: str) -> None:
    """Refuse what aiortc would choke on, before anything is created for the call."""
    if not sdp or len(sdp) > MAX_SDP:
        raise BadOffer(f"the offer must be 1 to {MAX_SDP} characters of SDP")
    try:
        parsed = SessionDescription.parse(sdp)
    except (ValueError, IndexError, KeyError) as error:
        raise BadOffer(f"malformed SDP: {error}") from None
    if not any(m.kind == "audio" for m in parsed.media):
        raise BadOffer("the offer has no audio")
    if not any(m.ice and m.ice.usernameFragment for m in parsed.media):
        raise BadOffer("the offer has no ICE credentials")


def ice_servers(settings: Any) -> list[RTCIceServer]:
    """STUN/TURN servers from settings (none on a LAN); browsers get the same list."""
    if not settings.voice_ice_urls:
        return []
    return [
        RTCIceServer(
            urls=list(settings.voice_ice_urls),
            username=settings.voice_ice_username or None,
            credential=settings.voice_ice_credential.get_secret_value() or None,
        )
    ]


def browser_ice_servers(settings: Any) -> list[dict[str, Any]]:
    return [
        {"urls": s.urls, "username": s.username, "credential": s.credential}
        for s in ice_servers(settings)
    ]


class MediaService:
    def __init__(self, ice_servers: list[RTCIceServer] | None = None) -> None:
        limit_opus_bitrate()
        self.calls: dict[int, Call] = {}
        self._ice = ice_servers or []
        self._hold = hold_music()
        self.on_ended: Ended | None = None
        self.on_key: Key | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _peer(self) -> RTCPeerConnection:
        return RTCPeerConnection(RTCConfiguration(iceServers=list(self._ice)))

    async def _answer(self, party: Party, offer: str) -> str:
        party.pc.addTrack(party.out)

        @party.pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "audio":
                receiver = next((r for r in party.pc.getReceivers() if r.track is track), None)
                party.inbound.attach(track, receiver)

        try:
            await party.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            await party.pc.setLocalDescription(await party.pc.createAnswer())
        except (ValueError, KeyError, IndexError) as error:
            await party.close()
            raise BadOffer(f"the offer cannot be answered: {error}") from None
        return cap_opus_bitrate(str(party.pc.localDescription.sdp))

    async def start_call(
        self,
        contact_id: int,
        tenant_id: int,
        offer: str,
        prompts: list[Samples],
        waiting: list[Samples],
        recording_path: Path | None,
    ) -> str:
        check_offer(offer)
        party = Party(self._peer())
        answer = await self._answer(party, offer)
        call = Call(contact_id, tenant_id, party, prompts, waiting, self._hold, recording_path)
        call.on_digit = self._key_pressed
        self.calls[contact_id] = call
        self._watch(call, party, "customer_left")
        call.start()
        return answer

    def _watch(self, call: Call, party: Party, reason: str) -> None:
        @party.pc.on("connectionstatechange")
        def changed() -> None:
            if party.pc.connectionState in ("failed", "closed") and not call.ended.is_set():
                if party is call.customer:  # a task of ours: `close` waits for it
                    self.spawn(self.hang_up(call.contact_id, reason))
                elif party is call.adviser:
                    call.adviser = None  # the caller hears hold audio until someone rejoins
                elif party is call.consultant:
                    call.end_consultation()
                elif party in call.listeners:  # the call may forward directly again
                    call.remove_listener(party)
                    self.spawn(party.close())

    def _key_pressed(self, call: Call, digit: str) -> None:
        if self.on_key is not None:
            self.spawn(self.on_key(call, digit))

    def spawn(self, work: Awaitable[None]) -> None:
        """Run `work` on the media loop without waiting for it (a reference is kept)."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def call(self, contact_id: int) -> Call:
        call = self.calls.get(contact_id)
        if call is None or call.ended.is_set():
            raise NoCall(contact_id)
        return call

    async def join_adviser(self, contact_id: int, offer: str) -> str:
        call = self.call(contact_id)
        check_offer(offer)
        party = Party(self._peer())
        answer = await self._answer(party, offer)
        previous = call.adviser
        call.join_adviser(party)
        self._watch(call, party, "adviser_left")
        if previous is not None:
            await previous.close()
        return answer

    async def listen_in(self, contact_id: int, offer: str) -> str:
        call = self.call(contact_id)
        check_offer(offer)
        party = Party(self._peer())
        answer = await self._answer(party, offer)
        call.add_listener(party)
        self._watch(call, party, "listener_left")
        return answer

    async def release_adviser(self, contact_id: int) -> None:
        """Blind transfer: the adviser's leg closes, the caller stays on the line on hold."""
        party = self.call(contact_id).release_adviser()
        if party is not None:
            await party.close()

    def consult(self, contact_id: int, adviser_id: int) -> None:
        """Warm transfer, first step: the caller goes on hold; `adviser_id` may now join."""
        call = self.call(contact_id)
        if call.adviser is None:
            raise NoCall(contact_id)
        call.consult_adviser_id = adviser_id

    async def join_consultant(self, contact_id: int, adviser_id: int, offer: str) -> str:
        call = self.call(contact_id)
        if call.consult_adviser_id != adviser_id:
            raise NoConsultation(contact_id)
        check_offer(offer)
        party = Party(self._peer())
        answer = await self._answer(party, offer)
        previous, call.consultant = call.consultant, party
        self._watch(call, party, "consultant_left")
        if previous is not None:
            await previous.close()
        return answer

    async def complete_consultation(self, contact_id: int) -> None:
        """The consulted adviser takes the caller; the first adviser's leg closes."""
        call = self.call(contact_id)
        if call.consultant is None:
            raise NoConsultation(contact_id)
        previous = call.complete_consultation()
        if previous is not None:
            await previous.close()

    async def cancel_consultation(self, contact_id: int) -> None:
        party = self.call(contact_id).end_consultation()
        if party is not None:
            await party.close()

    async def say_goodbye(self, contact_id: int, prompt: Samples, reason: str) -> None:
        """Play a last prompt to the caller (e.g. "we will call you back"), then hang up."""
        call = self.call(contact_id)
        call.say_goodbye(prompt)
        with contextlib.suppress(TimeoutError):
            heard_or_gone = first_of(call.farewell_heard, call.ended)
            await asyncio.wait_for(heard_or_gone, len(prompt) / RATE + FAREWELL_SLACK)
        await self.hang_up(contact_id, reason)

    def hold(self, contact_id: int, on: bool) -> None:
        self.call(contact_id).held = on

    def pause_recording(self, contact_id: int, paused: bool) -> bool:
        call = self.call(contact_id)
        call.recording_paused = paused
        return call.recording_path is not None

    async def hang_up(self, contact_id: int, reason: str) -> None:
        call = self.calls.pop(contact_id, None)
        if call is None or call.ended.is_set():
            return
        recording = await call.stop()
        if self.on_ended is not None:
            try:
                await self.on_ended(call, reason, recording)
            except Exception:  # the call is over whatever the bookkeeping says
                log.exception("after the end of call %s", contact_id)

    def hang_up_soon(self, loop: asyncio.AbstractEventLoop, contact_id: int, reason: str) -> None:
        """From any thread (the event bus): end the call on the media loop."""
        if contact_id in self.calls:
            loop.call_soon_threadsafe(lambda: self.spawn(self.hang_up(contact_id, reason)))

    def release_adviser_soon(self, loop: asyncio.AbstractEventLoop, contact_id: int) -> None:
        """From any thread (the event bus): a blind transfer, on the media loop."""
        if contact_id in self.calls:
            loop.call_soon_threadsafe(lambda: self.spawn(self._release_quietly(contact_id)))

    async def _release_quietly(self, contact_id: int) -> None:
        with contextlib.suppress(NoCall):
            await self.release_adviser(contact_id)

    async def close(self) -> None:
        """End every call, then wait for the work still in flight (hang-ups filing their end,
        callbacks being registered): none of it may outlive the service and its store."""
        for contact_id in list(self.calls):
            await self.hang_up(contact_id, "shutdown")
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
