"""Web voice over the public API and the recordings' retention, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from allo.api.app import create_app
from allo.services.voice import purge_recordings
from allo.settings import Settings
from allo.store.tables import ContactRow, EventRow, QueueRow, RecordingRow
from allo.store.uow import Store
from tests.conftest import FakeClock
from tests.integration.conftest import Tenant
from tests.integration.test_chat import widget_key


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
