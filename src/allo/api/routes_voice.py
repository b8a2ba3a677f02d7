"""Web voice: the caller's and the adviser's WebRTC offers, call controls, recordings.

Signalling is plain HTTP: each browser posts its SDP offer (ICE candidates gathered) and
gets the media service's answer. Endpoints are async because the media runs on this loop.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from allo.api.deps import Actor, Lang, Uow, api_router
from allo.api.ratelimit import limit
from allo.api.routes_public import ChatToken
from allo.api.schemas import ContactOut, Strict
from allo.channels.voice.audio import speak
from allo.channels.voice.media import BadOffer, MediaService, NoCall, NoConsultation
from allo.channels.voice.virtual_hold import leave_for_callback
from allo.domain.errors import InvalidValue
from allo.services import offers, voice
from allo.services.errors import Conflict
from allo.store.uow import Store

T = TypeVar("T")

public = api_router(prefix="/public/v1", tags=["public voice"])
router = api_router(prefix="/api/v1", tags=["voice"])
Sdp = Annotated[str, Field(min_length=1, max_length=20_000)]


class CallIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    queue_id: int
    sdp: Sdp
    site_group: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    site_only: bool = False


class CallOut(BaseModel):
    token: str
    contact_id: int
    sdp: str


class OfferIn(Strict):
    sdp: Sdp


class AnswerOut(BaseModel):
    sdp: str


class SwitchIn(Strict):
    on: bool


class TransferIn(Strict):
    queue_id: int | None = None
    adviser_id: int | None = None


class ConsultIn(Strict):
    adviser_id: int


def media(request: Request) -> MediaService:
    service: MediaService = request.app.state.voice
    return service


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _dirs(request: Request) -> tuple[Path, Path]:
    base = Path(request.app.state.settings.data_dir)
    return base / "recordings", base / "prompts"


def _bad_offer(error: BadOffer) -> InvalidValue:
    return InvalidValue("sdp", str(error), key="error.bad_offer")


@public.post("/widget/{key}/calls", response_model=CallOut, status_code=201)
async def start_call(key: str, body: CallIn, request: Request, lang: Lang) -> Any:
    """A caller from the widget: a voice contact, answered at once by the media service."""
    from allo.channels.voice.media import check_offer

    limit(request, "starts")
    try:
        check_offer(body.sdp)
    except BadOffer as error:
        raise _bad_offer(error) from None
    recordings, prompts_dir = _dirs(request)

    def plan() -> voice.CallPlan:
        with _store(request).unit_of_work() as uow:
            return voice.start_call(
                uow,
                key,
                name=body.name,
                queue_id=body.queue_id,
                language=lang,
                recordings_dir=recordings,
                site_group=body.site_group,
                site_only=body.site_only,
            )

    call = await run_in_threadpool(plan)
    prompts = [await run_in_threadpool(speak, p, lang, prompts_dir) for p in call.prompts]
    waiting = [await run_in_threadpool(speak, p, lang, prompts_dir) for p in call.waiting]
    try:
        answer = await media(request).start_call(
            call.contact_id, call.tenant_id, body.sdp, prompts, waiting, call.recording_path
        )
    except BadOffer as error:
        await run_in_threadpool(_ended, request, call.tenant_id, call.contact_id, "bad_offer")
        raise _bad_offer(error) from None
    return {"token": call.token, "contact_id": call.contact_id, "sdp": answer}


async def _in_thread(request: Request, service: Callable[..., T], *args: Any) -> T:
    """`service(uow, *args)` in a unit of work of its own, on a worker thread: these
    endpoints are async because the media runs on the event loop."""

    def run() -> T:
        with _store(request).unit_of_work() as uow:
            return service(uow, *args)

    return await run_in_threadpool(run)


def _ended(request: Request, tenant_id: int, contact_id: int, reason: str) -> None:
    with _store(request).unit_of_work() as uow:
        voice.call_ended(uow, tenant_id, contact_id, reason, None)


@public.post("/call/callback", status_code=202)
async def customer_asks_callback(token: ChatToken, request: Request) -> Any:
    """The widget's "Être rappelé": the caller keeps their place, hears the farewell, leaves."""

    def register() -> voice.Farewell:
        with _store(request).unit_of_work() as uow:
            return voice.customer_asks_callback(uow, token)

    farewell = await leave_for_callback(media(request), register, _dirs(request)[1])
    return {"contact_id": farewell.contact_id, "channel": "callback"}


@public.post("/call/hangup", status_code=204)
async def customer_hangs_up(token: ChatToken, request: Request) -> None:
    contact_id = (await _in_thread(request, voice.customer_call, token)).id
    await media(request).hang_up(contact_id, "customer_hung_up")


def _handled(request: Request, actor: Actor, contact_id: int) -> None:
    with _store(request).unit_of_work() as uow:
        voice.handled_call(uow, actor, contact_id)


@router.post("/contacts/{contact_id}/voice", response_model=AnswerOut)
async def adviser_joins(contact_id: int, body: OfferIn, request: Request, actor: Actor) -> Any:
    """The adviser's softphone connects to the call it accepted."""
    await run_in_threadpool(_handled, request, actor, contact_id)
    try:
        return {"sdp": await media(request).join_adviser(contact_id, body.sdp)}
    except BadOffer as error:
        raise _bad_offer(error) from None
    except NoCall:
        raise Conflict("call", "the caller is no longer on the line") from None


@router.post("/contacts/{contact_id}/transfer", response_model=ContactOut)
def transfer(contact_id: int, body: TransferIn, uow: Uow, actor: Actor) -> Any:
    """Blind transfer to a queue and/or an adviser. A call stays up: the caller hears hold
    audio until the next adviser answers (the media follows the `contact.transferred` event)."""
    return offers.transfer_contact(
        uow, actor, contact_id, queue_id=body.queue_id, adviser_id=body.adviser_id
    )


@router.post("/contacts/{contact_id}/voice/consult", status_code=204)
async def consult(contact_id: int, body: ConsultIn, request: Request, actor: Actor) -> None:
    """Warm transfer: the caller goes on hold and the colleague's desk rings."""

    await _in_thread(request, voice.start_consultation, actor, contact_id, body.adviser_id)
    _on_the_line(lambda: media(request).consult(contact_id, body.adviser_id))


@router.post("/contacts/{contact_id}/voice/consult/join", response_model=AnswerOut)
async def join_consultation(contact_id: int, body: OfferIn, request: Request, actor: Actor) -> Any:
    """The consulted colleague's softphone joins; only the first adviser hears them."""

    await _in_thread(request, voice.consulted_call, actor, contact_id)
    assert actor.adviser_id is not None  # consulted_call refuses anyone else
    try:
        sdp = await media(request).join_consultant(contact_id, actor.adviser_id, body.sdp)
    except BadOffer as error:
        raise _bad_offer(error) from None
    except (NoCall, NoConsultation):
        raise Conflict("call", "no consultation waits for you", key="error.consult_over") from None
    return {"sdp": sdp}


@router.post("/contacts/{contact_id}/voice/consult/{outcome}", status_code=204)
async def end_consultation(
    contact_id: int, outcome: Literal["complete", "cancel"], request: Request, actor: Actor
) -> None:
    """`complete`: the colleague has the caller, the first adviser leaves (free again);
    `cancel`: back to the caller."""
    await run_in_threadpool(_handled, request, actor, contact_id)
    service = media(request)
    call = _on_the_line(lambda: service.call(contact_id))
    colleague = call.consult_adviser_id
    if colleague is None or (outcome == "complete" and call.consultant is None):
        raise Conflict("call", "no colleague is on the line", key="error.consult_over")
    done = "completed" if outcome == "complete" else "cancelled"

    await _in_thread(request, voice.end_consultation, actor, contact_id, colleague, done)
    if outcome == "complete":
        await service.complete_consultation(contact_id)
    else:
        await service.cancel_consultation(contact_id)


def _on_the_line(action: Callable[[], T]) -> T:
    try:
        return action()
    except NoCall:
        raise Conflict("call", "the caller is no longer on the line") from None


@router.post("/contacts/{contact_id}/voice/listen", response_model=AnswerOut)
async def listen_in(contact_id: int, body: OfferIn, request: Request, actor: Actor) -> Any:
    """A supervisor listens in silently (audited); nobody hears them."""

    await _in_thread(request, voice.listened_call, actor, contact_id)
    try:
        return {"sdp": await media(request).listen_in(contact_id, body.sdp)}
    except BadOffer as error:
        raise _bad_offer(error) from None
    except NoCall:
        raise Conflict("call", "the caller is no longer on the line") from None


def _control(request: Request, contact_id: int, action: str, on: bool) -> dict[str, Any]:
    service = media(request)
    try:
        if action == "hold":
            service.hold(contact_id, on)
            return {"held": on}
        recorded = service.pause_recording(contact_id, on)
        return {"recording_paused": on, "recorded": recorded}
    except NoCall:
        raise Conflict("call", "the caller is no longer on the line") from None


@router.post("/contacts/{contact_id}/voice/hold")
async def hold(contact_id: int, body: SwitchIn, request: Request, actor: Actor) -> Any:
    """On hold the caller hears hold audio and the adviser hears nothing."""
    await run_in_threadpool(_handled, request, actor, contact_id)
    return _control(request, contact_id, "hold", body.on)


@router.post("/contacts/{contact_id}/voice/recording-pause")
async def pause_recording(contact_id: int, body: SwitchIn, request: Request, actor: Actor) -> Any:
    """While paused (e.g. a card number is given) the recording is silent."""
    await run_in_threadpool(_handled, request, actor, contact_id)
    return _control(request, contact_id, "pause", body.on)


@router.post("/contacts/{contact_id}/voice/hangup", status_code=204)
async def adviser_hangs_up(contact_id: int, request: Request, actor: Actor) -> None:
    """End the call; the contact goes to wrap-up."""
    await run_in_threadpool(_handled, request, actor, contact_id)
    await media(request).hang_up(contact_id, "adviser_hung_up")


@router.get("/contacts/{contact_id}/recordings")
def recordings(contact_id: int, request: Request, actor: Actor) -> Any:
    with _store(request).unit_of_work() as uow:
        return voice.list_recordings(uow, actor, contact_id)


@router.get("/recordings")
def latest_recordings(uow: Uow, actor: Actor) -> Any:
    """The latest recordings (metadata only; listening is `…/audio`, audited)."""
    return voice.recent_recordings(uow, actor)


@router.get("/recordings/{recording_id}/audio")
def play(recording_id: int, request: Request, actor: Actor) -> Any:
    """The WAV file; every playback is audited first."""
    with _store(request).unit_of_work() as uow:
        path = voice.play_recording(uow, actor, recording_id)
    return FileResponse(path, media_type="audio/wav")
