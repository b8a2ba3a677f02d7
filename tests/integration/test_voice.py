"""Web voice over the public API and the recordings' retention, on both databases."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from allo.api.app import create_app
from allo.channels.voice.dtmf import dtmf_tone
from allo.channels.voice.peer import PeerThread, Softphone
from allo.domain.advisers import AdviserState
from allo.domain.roles import Role
from allo.services import offers
from allo.services.router import RouterHost
from allo.services.voice import purge_recordings
from allo.settings import Settings
from allo.store.tables import ContactRow, EventRow, QueueRow, RecordingRow
from allo.store.uow import Store
from tests.conftest import FakeClock
from tests.integration.conftest import Tenant
from tests.integration.test_chat import widget_key
from tests.integration.test_live_router import adviser_actor, set_ready


@pytest.fixture
def voice_client(settings: Settings, store: Store, tmp_path: Path) -> Iterator[TestClient]:
    local = settings.model_copy(update={"data_dir": str(tmp_path)})
    with TestClient(create_app(local, store), base_url="https://testserver") as client:
        yield client


def _voice_contacts(store: Store) -> int:
    with store.unit_of_work() as uow:
        query = select(func.count()).where(ContactRow.channel == "voice")
        return int(uow.session.scalar(query) or 0)


def _message(body: dict[str, Any]) -> str:
    detail = body["detail"]
    return detail if isinstance(detail, str) else " ".join(d["msg"] for d in detail)


def browser_like_offer() -> str:
    """An aiortc offer, made on a loop of its own thread (Playwright may hold this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(_browser_like_offer())).result()


async def _browser_like_offer() -> str:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    track = AudioStreamTrack()
    pc.addTrack(track)
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    track.stop()
    await pc.close()
    return sdp


def test_a_call_is_answered_and_hanging_up_while_waiting_abandons_it(
    voice_client: TestClient, store: Store, acme: Tenant
) -> None:
    offer = browser_like_offer()
    key = widget_key(store, acme)
    answer = voice_client.post(
        f"/public/v1/widget/{key}/calls",
        json={"name": "Jeanne Appel", "queue_id": acme.ids["queue"], "sdp": offer},
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["sdp"].startswith("v=0") and "m=audio" in body["sdp"]
    hung = voice_client.post("/public/v1/call/hangup", headers={"X-Chat-Token": body["token"]})
    assert hung.status_code == 204
    with store.unit_of_work() as uow:
        contact = uow.session.get(ContactRow, body["contact_id"])
        assert contact is not None and contact.status == "abandoned"
        ended = uow.session.scalars(select(EventRow).where(EventRow.type == "call.ended")).all()
        assert [e.payload["reason"] for e in ended] == ["customer_hung_up"]


def test_bad_offers_and_closed_lines_get_a_clear_message_and_no_contact(
    voice_client: TestClient, store: Store, acme: Tenant, clock: FakeClock
) -> None:
    key = widget_key(store, acme)
    call = {"name": "Jeanne", "queue_id": acme.ids["queue"]}
    fr = {"Accept-Language": "fr"}
    for sdp in ("bonjour", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"):
        bad = voice_client.post(f"/public/v1/widget/{key}/calls", json={**call, "sdp": sdp})
        assert bad.status_code == 422, bad.text
        assert "offre audio invalide" in _message(bad.json())
    clock.current = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # a Sunday: the queue is closed
    offer = browser_like_offer()
    closed = voice_client.post(
        f"/public/v1/widget/{key}/calls", json={**call, "sdp": offer}, headers=fr
    )
    assert closed.status_code == 422
    assert "fermée" in _message(closed.json())
    assert _voice_contacts(store) == 0


def test_recordings_are_purged_after_their_retention(
    store: Store, acme: Tenant, tmp_path: Path, clock: FakeClock
) -> None:
    with store.unit_of_work() as uow:
        queue = uow.session.get(QueueRow, acme.ids["queue"])
        assert queue is not None
        assert (queue.recording, queue.recording_retention_days) == (False, 183)
        contact = ContactRow(
            tenant_id=acme.id,
            channel="voice",
            queue_id=queue.id,
            language="fr",
            status="closed",
            priority=0,
            created_at=uow.now(),
            updated_at=uow.now(),
        )
        uow.session.add(contact)
        uow.session.flush()
        file = tmp_path / "call.wav"
        file.write_bytes(b"RIFF")
        uow.session.add(
            RecordingRow(
                tenant_id=acme.id,
                contact_id=contact.id,
                path=str(file),
                duration_seconds=1.0,
                paused_spans=[],
                created_at=uow.now(),
                expires_at=uow.now() + timedelta(days=183),
            )
        )
        uow.commit()
    with store.unit_of_work() as uow:
        assert purge_recordings(uow, clock() + timedelta(days=182)) == 0
        assert file.exists()
        assert purge_recordings(uow, clock() + timedelta(days=183)) == 1
    assert not file.exists()
    with store.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(RecordingRow)) == 0


# -- calls between real aiortc peers through the media service


@pytest.fixture
def peers() -> Iterator[PeerThread]:
    thread = PeerThread()
    phones: list[Softphone] = []
    thread.phone = _tracked(thread.phone, phones)  # type: ignore[method-assign]
    yield thread
    thread.close(phones)


def _tracked(make: Any, phones: list[Softphone]) -> Any:
    def phone(source: Any = None) -> Softphone:
        made: Softphone = make(source)
        phones.append(made)
        return made

    return phone


@pytest.fixture
def router(store: Store, acme: Tenant) -> Iterator[RouterHost]:
    host = RouterHost(store, claim_interval=0)
    host.step()
    yield host
    host.leadership.release_all()


def wait_until(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def dial(client: TestClient, peers: PeerThread, key: str, tenant: Tenant, **extra: Any) -> Any:
    """A caller's softphone calls the tenant's queue; the media service answers."""
    phone = peers.phone(extra.pop("source", None))
    body = {
        "name": "Jeanne Appel",
        "queue_id": tenant.ids["queue"],
        "sdp": peers.run(phone.offer()),
    }
    answer = client.post(f"/public/v1/widget/{key}/calls", json={**body, **extra})
    assert answer.status_code == 201, answer.text
    peers.run(phone.accept(answer.json()["sdp"]))
    wait_until(lambda: phone.pc.connectionState == "connected")
    return phone, answer.json()


def _contact(store: Store, contact_id: int) -> ContactRow:
    with store.unit_of_work() as uow:
        row = uow.session.get(ContactRow, contact_id)
        assert row is not None
        return row


def _ended_reasons(store: Store, contact_id: int) -> list[str]:
    with store.unit_of_work() as uow:
        rows = uow.session.scalars(
            select(EventRow).where(EventRow.type == "call.ended", EventRow.subject_id == contact_id)
        ).all()
        return [r.payload["reason"] for r in rows]


def step(router: RouterHost, times: int = 3) -> None:
    for _ in range(times):
        router.step()


def test_dtmf_1_and_the_widget_button_turn_a_waiting_call_into_a_callback_that_keeps_its_place(
    voice_client: TestClient,
    store: Store,
    acme: Tenant,
    clock: FakeClock,
    peers: PeerThread,
    router: RouterHost,
) -> None:
    key = widget_key(store, acme)
    first, first_call = dial(voice_client, peers, key, acme)
    clock.advance(5)
    _, second_call = dial(voice_client, peers, key, acme)
    clock.advance(5)
    _, third_call = dial(voice_client, peers, key, acme)
    step(router)
    # The first caller presses "1" on their keypad: in-band DTMF through Opus.
    peers.run(_play(first, dtmf_tone("1", 0.3)))
    wait_until(lambda: _contact(store, first_call["contact_id"]).channel == "callback")
    wait_until(lambda: _ended_reasons(store, first_call["contact_id"]) == ["callback"])
    # The third one clicks "Être rappelé" in the widget.
    token = {"X-Chat-Token": third_call["token"]}
    clicked = voice_client.post("/public/v1/call/callback", headers=token)
    assert clicked.status_code == 202, clicked.text
    wait_until(lambda: _ended_reasons(store, third_call["contact_id"]) == ["callback"])
    again = voice_client.post(
        "/public/v1/call/callback", headers={**token, "Accept-Language": "fr"}
    )
    assert again.status_code == 409 and "déjà enregistré" in again.json()["detail"]
    for call in (first_call, third_call):
        assert _contact(store, call["contact_id"]).status == "queued"  # not abandoned
    # An adviser comes: the first caller's callback is offered before the later call.
    clock.advance(5)
    set_ready(store, acme, "paris_adviser", AdviserState.READY)
    step(router)
    offered = _contact(store, first_call["contact_id"])
    assert (offered.status, offered.adviser_id) == ("offered", acme.ids["paris_adviser"])
    assert _contact(store, second_call["contact_id"]).status == "queued"


async def _play(phone: Softphone, samples: Any) -> None:
    phone.track.play(samples)


def sine(frequency: float, seconds: float = 1.0, level: float = 4000.0) -> Any:
    t = np.arange(int(48_000 * seconds)) / 48_000
    return (np.sin(2 * np.pi * frequency * t) * level).astype(np.int16)


def pitch(phone: Softphone, seconds: float = 0.4) -> float:
    """The loudest frequency of what the phone heard last (0 for silence)."""
    heard = phone.recent(seconds).astype(np.float64)
    if len(heard) < 4800 or np.sqrt(np.mean(heard**2)) < 100:
        return 0.0
    spectrum = np.abs(np.fft.rfft(heard * np.hanning(len(heard))))
    return float(np.fft.rfftfreq(len(heard), 1 / 48_000)[int(np.argmax(spectrum))])


def hears(phone: Softphone, frequency: float) -> bool:
    return abs(pitch(phone) - frequency) < 40


CALLER, PARIS, TANA = 1000.0, 1500.0, 2000.0


def join(client: TestClient, peers: PeerThread, path: str, token: str, source: Any) -> Softphone:
    phone = peers.phone(source)
    auth = {"Authorization": f"Bearer {token}"}
    answer = client.post(path, json={"sdp": peers.run(phone.offer())}, headers=auth)
    assert answer.status_code == 200, answer.text
    peers.run(phone.accept(answer.json()["sdp"]))
    return phone


def accept(store: Store, tenant: Tenant, key: str, contact_id: int) -> None:
    with store.unit_of_work() as uow:
        offers.accept_offer(uow, adviser_actor(tenant, key), contact_id)


def test_blind_then_warm_transfer_keep_the_caller_on_the_line_and_the_audio_follows(
    voice_client: TestClient,
    store: Store,
    acme: Tenant,
    peers: PeerThread,
    router: RouterHost,
) -> None:
    paris_token, tana_token = acme.tokens[Role.ADVISER], acme.extra_tokens["tana"]
    set_ready(store, acme, "paris_adviser", AdviserState.READY)
    caller, call = dial(voice_client, peers, widget_key(store, acme), acme, source=sine(CALLER))
    contact_id = call["contact_id"]
    step(router)
    accept(store, acme, "paris_adviser", contact_id)
    voice_path = f"/api/v1/contacts/{contact_id}/voice"
    paris = join(voice_client, peers, voice_path, paris_token, sine(PARIS))
    wait_until(lambda: hears(paris, CALLER) and hears(caller, PARIS), timeout=30)

    # Blind transfer to the Antananarivo adviser by name: the caller hears hold audio.
    set_ready(store, acme, "tana_adviser", AdviserState.READY)
    moved = voice_client.post(
        f"/api/v1/contacts/{contact_id}/transfer",
        json={"adviser_id": acme.ids["tana_adviser"]},
        headers={"Authorization": f"Bearer {paris_token}"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "queued"
    wait_until(lambda: paris.pc.connectionState == "closed" or pitch(paris) == 0.0)
    wait_until(lambda: 0 < pitch(caller) < CALLER - 100)  # the arpeggio, nobody's voice
    assert caller.pc.connectionState == "connected"
    step(router)
    assert _contact(store, contact_id).adviser_id == acme.ids["tana_adviser"]
    accept(store, acme, "tana_adviser", contact_id)
    tana = join(voice_client, peers, voice_path, tana_token, sine(TANA))
    wait_until(lambda: hears(tana, CALLER) and hears(caller, TANA), timeout=30)

    # Warm transfer back to Paris: Tana consults, the caller is on hold meanwhile.
    tana_auth = {"Authorization": f"Bearer {tana_token}"}
    asked = voice_client.post(
        f"{voice_path}/consult", json={"adviser_id": acme.ids["paris_adviser"]}, headers=tana_auth
    )
    assert asked.status_code == 204, asked.text
    colleague = join(voice_client, peers, f"{voice_path}/consult/join", paris_token, sine(PARIS))
    wait_until(lambda: hears(colleague, TANA) and hears(tana, PARIS), timeout=30)
    wait_until(lambda: 0 < pitch(caller) < CALLER - 100)
    done = voice_client.post(f"{voice_path}/consult/complete", headers=tana_auth)
    assert done.status_code == 204, done.text
    handed = _contact(store, contact_id)
    assert (handed.status, handed.adviser_id) == ("in_progress", acme.ids["paris_adviser"])
    wait_until(lambda: hears(colleague, CALLER) and hears(caller, PARIS), timeout=30)
    step(router)  # the engine agrees: the contact stays with Paris
    assert _contact(store, contact_id).adviser_id == acme.ids["paris_adviser"]
    with store.unit_of_work() as uow:
        kinds = [
            e.payload["kind"]
            for e in uow.session.scalars(
                select(EventRow).where(EventRow.type == "contact.transferred")
            )
        ]
    assert kinds == ["blind", "warm"]
