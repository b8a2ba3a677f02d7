"""A waiting caller asks to be called back (widget button or DTMF "1"): the contact becomes
a callback that keeps its place (services.voice), the caller hears "nous vous rappelons…",
then the line closes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from allo.channels.voice.audio import speak
from allo.channels.voice.media import MediaService
from allo.services.voice import Farewell

CALLBACK_KEY = "1"


async def leave_for_callback(
    media: MediaService, register: Callable[[], Farewell], prompts: Path
) -> Farewell:
    """`register` writes the callback (it raises, and nothing changes, when it is too late);
    the farewell prompt is then played in the background and the call hung up."""
    farewell = await run_in_threadpool(register)
    samples = await run_in_threadpool(speak, farewell.text, farewell.language, prompts)
    media.spawn(media.say_goodbye(farewell.contact_id, samples, "callback"))
    return farewell
