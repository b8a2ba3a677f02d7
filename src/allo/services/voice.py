"""Use cases of web voice calls: starting one, its end, recordings, their playback and purge.

The media itself lives in `channels.voice`; this module decides what the caller hears
(welcome, the recording notice when the queue records, the wait), whether the call is
recorded, and keeps the contact's lifecycle and the recordings table right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from allo.domain.channels import Channel
from allo.domain.contacts import ContactStatus
from allo.domain.errors import InvalidValue
from allo.domain.roles import Permission, Role
from allo.i18n import t
from allo.services import chat, offers
from allo.services.errors import Conflict, Forbidden
from allo.services.principal import Principal, system_principal
from allo.services.queues import to_domain
from allo.services.routing_policy import policy_from_json
from allo.store.repository import get_for_tenant
from allo.store.tables import (
    AuditRow,
    ContactRow,
    QueueRow,
    QueueStatusRow,
    RecordingRow,
    TenantRow,
)
from allo.store.uow import UnitOfWork


@dataclass(frozen=True)
class CallPlan:
    """What the media service needs to run a new call."""

    token: str
    contact_id: int
    tenant_id: int
    prompts: list[str]  # heard in full before the adviser is connected
    waiting: list[str]  # heard while nobody has answered yet
    recording_path: Path | None


def _wait_text(uow: UnitOfWork, queue_id: int, language: str) -> str:
    status = uow.session.get(QueueStatusRow, queue_id)
    estimates = [e for e in (status.estimates if status else []) if e.get("channel") == "voice"]
    seconds = estimates[0].get("seconds") if estimates else None
    if seconds is None:
        return t("voice.prompt.wait_unknown", language)
    minutes = max(1, round(seconds / 60))
    return t("voice.prompt.wait", language, minutes=minutes)


def start_call(
    uow: UnitOfWork,
    key: str,
    *,
    name: str,
    queue_id: int,
    language: str,
    recordings_dir: Path,
    site_group: str | None = None,
    site_only: bool = False,
) -> CallPlan:
    """A caller from the widget: a voice contact in the queue (refused if the queue is closed)."""
    tenant = chat.tenant_by_widget_key(uow, key)
    queue = get_for_tenant(uow.session, QueueRow, tenant.id, queue_id)
    if not to_domain(queue).opening_hours.is_open(uow.now()):
        raise InvalidValue("queue_id", "this line is closed now", key="error.queue_closed")
    started = chat.start_chat(
        uow,
        key,
        name=name,
        queue_id=queue_id,
        site_group=site_group,
        site_only=site_only,
        channel="voice",
    )
    prompts = [t("voice.prompt.welcome", language, tenant=tenant.name)]
    path = None
    if queue.recording:
        prompts.append(t("voice.prompt.recording_notice", language))
        stamp = uow.now().strftime("%Y%m%dT%H%M%S")
        path = recordings_dir / str(tenant.id) / f"contact-{started.contact_id}-{stamp}.wav"
    waiting = [_wait_text(uow, queue_id, language)]
    return CallPlan(started.token, started.contact_id, tenant.id, prompts, waiting, path)


def customer_call(uow: UnitOfWork, token: str) -> ContactRow:
    _, contact = chat.session_for(uow, token)
    if contact.channel != "voice":
        raise Conflict("channel", "this conversation is not a call", key="error.not_a_call")
    return contact


@dataclass(frozen=True)
class Farewell:
    """The last prompt of a call that ends on purpose (e.g. a callback was asked)."""

    contact_id: int
    text: str
    language: str


def call_back_later(uow: UnitOfWork, tenant_id: int, contact_id: int) -> Farewell:
    """The waiting caller leaves the line and keeps their place in it (virtual hold): the
    contact becomes a callback, through the same use case as chat's. Returns the farewell
    prompt's text, in the contact's language."""
    contact = get_for_tenant(uow.session, ContactRow, tenant_id, contact_id)
    if contact.status != ContactStatus.QUEUED.value:
        raise Conflict(
            "status",
            f"a call {contact.status} cannot become a callback",
            key="error.callback_too_late",
        )
    queue = get_for_tenant(uow.session, QueueRow, tenant_id, contact.queue_id)
    if Channel.CALLBACK not in policy_from_json(queue.routing_policy).channels:
        raise Conflict(
            "queue_id", "this queue takes no callbacks", key="error.callback_unavailable"
        )
    offers.request_callback(uow, system_principal(tenant_id), contact_id, None)
    return Farewell(contact_id, t("voice.prompt.callback", contact.language), contact.language)


def customer_asks_callback(uow: UnitOfWork, token: str) -> Farewell:
    """The widget's "Être rappelé" button."""
    _, contact = chat.session_for(uow, token)
    if contact.channel == Channel.CALLBACK.value:
        raise Conflict("channel", "the callback is already booked", key="error.callback_booked")
    contact = customer_call(uow, token)
    return call_back_later(uow, contact.tenant_id, contact.id)


def handled_call(uow: UnitOfWork, actor: Principal, contact_id: int) -> ContactRow:
    """The adviser's own call in progress (supervisors and admins may act on any)."""
    actor.require(Permission.WRITE_CONTACTS)
    contact = get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    if contact.channel != "voice":
        raise Conflict("channel", "this contact is not a call")
    if actor.role is Role.ADVISER and contact.adviser_id != actor.adviser_id:
        raise Forbidden("this call is handled by another adviser")
    if actor.role is Role.PLANNER:
        raise Forbidden("planners do not take calls")
    if contact.status != ContactStatus.IN_PROGRESS.value:
        raise Conflict("status", f"a call {contact.status} cannot be joined")
    return contact


def start_consultation(uow: UnitOfWork, actor: Principal, contact_id: int, adviser_id: int) -> None:
    """Warm transfer, first step: the adviser calls a colleague while the caller is on hold;
    the colleague's desk rings (the event names them)."""
    contact = handled_call(uow, actor, contact_id)
    offers.transfer_target(uow, actor.tenant_id, adviser_id, contact.adviser_id)
    payload = {"adviser_id": adviser_id, "handled_by": contact.adviser_id}
    uow.record("call.consult_requested", actor.tenant_id, "contact", contact_id, payload)
    uow.commit()


def consulted_call(uow: UnitOfWork, actor: Principal, contact_id: int) -> ContactRow:
    """The colleague answers the consultation (the media checks it is meant for them)."""
    actor.require(Permission.WRITE_CONTACTS)
    contact = get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    if actor.adviser_id is None:
        raise Forbidden("only an adviser can be consulted")
    if contact.channel != "voice" or contact.status != ContactStatus.IN_PROGRESS.value:
        raise Conflict("status", "only a call in progress can be joined", key="error.consult_over")
    payload = {"adviser_id": actor.adviser_id, "handled_by": contact.adviser_id}
    uow.record("call.consult_joined", actor.tenant_id, "contact", contact_id, payload)
    uow.commit()
    return contact


def end_consultation(
    uow: UnitOfWork, actor: Principal, contact_id: int, adviser_id: int, outcome: str
) -> None:
    """The consultation ends: `completed` hands the call to the colleague, `cancelled` brings
    the first adviser back to the caller."""
    contact = handled_call(uow, actor, contact_id)
    payload = {"adviser_id": adviser_id, "handled_by": contact.adviser_id, "outcome": outcome}
    if outcome == "completed":
        offers.hand_over(uow, actor, contact_id, adviser_id)
    uow.record("call.consult_ended", actor.tenant_id, "contact", contact_id, payload)
    uow.commit()


def listened_call(uow: UnitOfWork, actor: Principal, contact_id: int) -> ContactRow:
    actor.require(Permission.LISTEN_CALLS)
    contact = get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    if contact.channel != "voice" or contact.status != ContactStatus.IN_PROGRESS.value:
        raise Conflict("status", "only a call in progress can be listened to")
    _audit(uow, actor, "call.listened", "contact", contact_id, {})
    uow.commit()
    return contact


def call_ended(
    uow: UnitOfWork, tenant_id: int, contact_id: int, reason: str, recording: dict[str, Any] | None
) -> None:
    """The media is gone: file the recording, and move the contact along."""
    actor = system_principal(tenant_id)
    contact = get_for_tenant(uow.session, ContactRow, tenant_id, contact_id)
    if recording is not None:
        queue = get_for_tenant(uow.session, QueueRow, tenant_id, contact.queue_id)
        now = uow.now()
        row = RecordingRow(
            tenant_id=tenant_id,
            contact_id=contact_id,
            path=recording["path"],
            duration_seconds=round(recording["duration"], 3),
            paused_spans=recording["paused_spans"],
            created_at=now,
            expires_at=now + timedelta(days=queue.recording_retention_days),
        )
        uow.session.add(row)
        uow.session.flush()
        payload = {"recording_id": row.id, "duration": row.duration_seconds}
        uow.record("recording.stored", tenant_id, "contact", contact_id, payload)
    uow.record("call.ended", tenant_id, "contact", contact_id, {"reason": reason})
    uow.commit()
    if contact.channel == Channel.CALLBACK.value:
        return  # the caller keeps their place in line for the callback
    if contact.status in (ContactStatus.QUEUED.value, ContactStatus.OFFERED.value):
        offers.abandon_contact(uow, actor, contact_id)
    elif contact.status == ContactStatus.IN_PROGRESS.value:
        offers.wrap_up(uow, actor, contact_id)


def _audit(
    uow: UnitOfWork,
    actor: Principal,
    action: str,
    subject_type: str,
    subject_id: int,
    fields: dict[str, Any],
) -> None:
    uow.audit(
        AuditRow(
            tenant_id=actor.tenant_id,
            user_id=actor.user_id,
            site_id=actor.site_id,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            fields={"role": actor.role.value, **fields},
            at=uow.now(),
        )
    )


def recording_view(row: RecordingRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "contact_id": row.contact_id,
        "duration_seconds": row.duration_seconds,
        "paused_spans": row.paused_spans,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
    }


def list_recordings(uow: UnitOfWork, actor: Principal, contact_id: int) -> list[dict[str, Any]]:
    actor.require(Permission.LISTEN_CALLS)
    get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    rows = uow.session.scalars(
        select(RecordingRow)
        .where(RecordingRow.tenant_id == actor.tenant_id, RecordingRow.contact_id == contact_id)
        .order_by(RecordingRow.id)
    )
    return [recording_view(r) for r in rows]


def recent_recordings(uow: UnitOfWork, actor: Principal, limit: int = 50) -> list[dict[str, Any]]:
    """The latest recordings of the tenant, newest first (for the wall's player)."""
    actor.require(Permission.LISTEN_CALLS)
    rows = uow.session.scalars(
        select(RecordingRow)
        .where(RecordingRow.tenant_id == actor.tenant_id)
        .order_by(RecordingRow.id.desc())
        .limit(limit)
    )
    return [recording_view(r) for r in rows]


def play_recording(uow: UnitOfWork, actor: Principal, recording_id: int) -> Path:
    """The file to stream; the playback is audited (and committed) before any byte leaves."""
    actor.require(Permission.LISTEN_CALLS)
    row = get_for_tenant(uow.session, RecordingRow, actor.tenant_id, recording_id)
    path = Path(row.path)
    if not path.exists():
        raise Conflict("recording", "the recording file is missing")
    _audit(uow, actor, "recording.played", "recording", row.id, {"contact_id": row.contact_id})
    uow.commit()
    return path


def purge_recordings(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Delete recordings past their retention (file, then row); returns how many."""
    moment = now or uow.now()
    rows = uow.session.scalars(select(RecordingRow).where(RecordingRow.expires_at <= moment)).all()
    for row in rows:
        Path(row.path).unlink(missing_ok=True)
        payload = {"recording_id": row.id, "expired": row.expires_at.isoformat()}
        uow.record("recording.purged", row.tenant_id, "contact", row.contact_id, payload)
        uow.session.delete(row)
    uow.commit()
    return len(rows)


def tenant_name(uow: UnitOfWork, tenant_id: int) -> str:
    tenant = uow.session.get(TenantRow, tenant_id)
    return tenant.name if tenant else ""
