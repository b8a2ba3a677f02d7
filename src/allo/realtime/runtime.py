"""What runs beside the API in one server process: hub fan-out, event tail, chat reaper,
the live router and (for the demo) the traffic bots."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from anyio import to_thread
from starlette.concurrency import run_in_threadpool

from allo.channels.voice.call import Call
from allo.channels.voice.media import MediaService
from allo.domain.errors import DomainError
from allo.domain.events import Event
from allo.realtime.hub import Hub
from allo.realtime.tail import EventTail
from allo.services import chat
from allo.services.insights import InsightsWorker
from allo.settings import Settings
from allo.store.uow import Store

log = logging.getLogger(__name__)
T = TypeVar("T")
ENDING_EVENTS = frozenset({"contact.abandoned", "contact.closed"})
# A contact in progress sent back to a queue keeps its call; only the adviser's leg closes.
RELEASING_EVENTS = frozenset({"contact.transferred", "contact.queued"})
REAP_EVERY = 5.0
# The insights worker of each store, so that tests can wait for it (`insights_worker`).
app_state_insights: dict[int, InsightsWorker] = {}


def insights_worker(store: Store) -> InsightsWorker:
    return app_state_insights[id(store)]


@dataclass
class Background:
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def thread(self, name: str, target: Callable[[threading.Event], None]) -> None:
        worker = threading.Thread(target=target, args=(self.stop,), name=name, daemon=True)
        worker.start()
        self.threads.append(worker)

    async def close(self) -> None:
        self.stop.set()
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for cleanup in self.cleanups:
            cleanup()
        for worker in self.threads:
            await run_in_threadpool(worker.join, 5)


async def finish_in_thread(work: Callable[[], T]) -> T:
    """`work` on a worker thread. Cancelling a task does not stop the thread it waits for, so
    on cancellation (shutdown) this still waits for the thread: database work must not
    outlive the store, or its connection is returned to a disposed pool and deleted open."""
    future = asyncio.ensure_future(run_in_threadpool(work))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await future
        raise


async def _reap_left_chats(store: Store) -> None:
    def reap() -> int:
        with store.unit_of_work() as uow:
            return chat.abandon_left_chats(uow)

    while True:
        await asyncio.sleep(REAP_EVERY)
        try:
            await finish_in_thread(reap)
        except Exception:
            log.exception("chat reaper failed")


async def _purge_recordings(store: Store, every: float) -> None:
    from allo.services.voice import purge_recordings

    def purge() -> int:
        with store.unit_of_work() as uow:
            return purge_recordings(uow)

    while True:
        try:
            await finish_in_thread(purge)
        except Exception:
            log.exception("recording purge failed")
        await asyncio.sleep(every)


async def start(
    settings: Settings,
    store: Store,
    hub: Hub,
    voice: MediaService | None = None,
    tail_listeners: Sequence[Callable[[Sequence[Event]], None]] = (),
) -> Background:
    background = Background()
    # Request threads share one interpreter lock with the event loop and the router: each
    # runnable thread lengthens every other one's wait for it after a database round trip,
    # and past a point slower requests pile up more threads. A few instead of anyio's 40 (one
    # on SQLite, whose writes take turns anyway) cut the offer and message p99 of
    # bench/live.py tenfold (docs/chat-desk-wall.md).
    limiter = to_thread.current_default_thread_limiter()
    limiter.total_tokens = settings.request_thread_count()
    hub.bind(asyncio.get_running_loop())
    if voice is not None:
        prompts = Path(settings.data_dir) / "prompts"
        background.cleanups.extend(bind_voice(voice, store, prompts))
        background.tasks.append(
            asyncio.create_task(_purge_recordings(store, settings.recording_purge_seconds))
        )
    background.cleanups.append(store.bus.subscribe(hub.publish_from_thread))
    background.thread("allo-event-tail", EventTail(store, hub, listeners=tail_listeners).run)
    background.tasks.append(asyncio.create_task(_reap_left_chats(store)))
    if settings.run_router:
        from allo.services.router import RouterHost

        host = RouterHost(store)
        background.cleanups.append(store.bus.subscribe(host.notify))
        background.thread("allo-router", host.run)
    if settings.run_mail:
        from allo.channels.email.worker import MailWorker

        mail = MailWorker(store, settings)
        mail.start()
        background.cleanups.append(mail.stop)
    if settings.run_insights:
        worker = InsightsWorker(store)
        background.cleanups.append(store.bus.subscribe(worker.hear))
        background.thread("allo-insights", worker.run)
        app_state_insights[id(store)] = worker
    if settings.demo_bots:
        from allo.demo_bots import DemoBots

        background.thread("allo-demo-bots", DemoBots(store).run)
    return background


def bind_voice(voice: MediaService, store: Store, prompts: Path) -> list[Callable[[], None]]:
    """A call ends when its contact is abandoned or closed; its end is filed. A contact sent
    back to a queue by a transfer keeps its call (the caller hears hold audio). A waiting
    caller's DTMF "1" asks for a callback."""
    from allo.channels.voice.virtual_hold import CALLBACK_KEY, leave_for_callback
    from allo.services import voice as voice_service

    loop = asyncio.get_running_loop()

    async def ended(call: Call, reason: str, recording: dict[str, Any] | None) -> None:
        def file() -> None:
            with store.unit_of_work() as uow:
                voice_service.call_ended(uow, call.tenant_id, call.contact_id, reason, recording)

        await finish_in_thread(file)

    async def key_pressed(call: Call, digit: str) -> None:
        if digit != CALLBACK_KEY:
            return

        def register() -> voice_service.Farewell:
            with store.unit_of_work() as uow:
                return voice_service.call_back_later(uow, call.tenant_id, call.contact_id)

        try:
            await leave_for_callback(voice, register, prompts)
        except DomainError as error:  # answered meanwhile, or no callbacks on this queue
            log.info("callback key ignored on call %s: %s", call.contact_id, error)

    def hear(events: Sequence[Event]) -> None:
        for event in events:
            if event.subject_id is None:
                continue
            if event.type in ENDING_EVENTS:
                voice.hang_up_soon(loop, event.subject_id, event.type.removeprefix("contact."))
            elif event.type in RELEASING_EVENTS and event.payload.get("to") == "queued":
                voice.release_adviser_soon(loop, event.subject_id)

    voice.on_ended = ended
    voice.on_key = key_pressed
    return [store.bus.subscribe(hear)]
