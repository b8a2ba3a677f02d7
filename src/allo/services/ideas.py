"""The idea board: staff publish and answer ideas; customers read, submit and vote (no login).

Customers are not principals: the public functions take the tenant found from the board's
key, a salted hash of the caller's address, and for votes a salted hash of the voter token
kept in the customer's browser. Raw addresses and tokens are never stored.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from allo.domain.errors import InvalidValue
from allo.domain.roles import Permission
from allo.insights.engine import Analyser, default_analyser
from allo.insights.ideas import (
    ANSWERS,
    PUBLIC_STATUSES,
    VOTABLE_STATUSES,
    IdeaOrigin,
    IdeaStatus,
    check_idea_transition,
    make_title,
)
from allo.insights.moderation import Concern, screen
from allo.services.common import check_page
from allo.services.errors import Conflict, NotFound, TooManyRequests
from allo.services.principal import Principal
from allo.store.repository import get_for_tenant
from allo.store.tables import IdeaRow, IdeaVoteRow, TenantRow
from allo.store.uow import UnitOfWork

SUBMISSIONS_PER_HOUR = 5
VOTES_PER_HOUR = 30
MIN_IDEA, MAX_IDEA = 10, 1000
MAX_ANSWER = 2000


class Refused(InvalidValue):
    """A text that may not be published: it insults someone or tells about health."""

    def __init__(self, field: str, concerns: frozenset[Concern]) -> None:
        names = ", ".join(sorted(c.value for c in concerns))
        super().__init__(field, f"refused by moderation ({names})")
        self.concerns = concerns


def _clean(field: str, text: str, analyser: Analyser | None) -> str:
    """Screened first (a refusal names why), then redacted so no personal datum is published."""
    screening = screen(text)
    if not screening.acceptable:
        raise Refused(field, screening.concerns)
    engine = analyser if analyser is not None else default_analyser()
    return engine.redact([text.strip()])[0].text


# --- staff ----------------------------------------------------------------------------------


def list_ideas(
    uow: UnitOfWork,
    actor: Principal,
    status: IdeaStatus | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[IdeaRow], int]:
    actor.require(Permission.READ_INSIGHTS)
    check_page(offset, limit)
    query = select(IdeaRow).where(IdeaRow.tenant_id == actor.tenant_id)
    if status is not None:
        query = query.where(IdeaRow.status == status.value)
    total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = uow.session.scalars(
        query.order_by(IdeaRow.votes.desc(), IdeaRow.id.desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def update_idea(
    uow: UnitOfWork,
    actor: Principal,
    idea_id: int,
    status: IdeaStatus | None = None,
    title: str | None = None,
    answer: str | None = None,
    analyser: Analyser | None = None,
) -> IdeaRow:
    """Publish, answer (planned, done, declined) or withdraw an idea; edit its title."""
    actor.require(Permission.MANAGE_INSIGHTS)
    row = get_for_tenant(uow.session, IdeaRow, actor.tenant_id, idea_id)
    changed: list[str] = []
    if title is not None and title.strip() != row.title:
        if not 3 <= len(title.strip()) <= 200:
            raise InvalidValue("title", "must hold 3 to 200 characters")
        row.title = _clean("title", title, analyser)[:200]
        changed.append("title")
    if answer is not None:
        if len(answer) > MAX_ANSWER:
            raise InvalidValue("answer", f"must hold at most {MAX_ANSWER} characters")
        row.answer = _clean("answer", answer, analyser) if answer.strip() else None
        changed.append("answer")
    current = IdeaStatus(row.status)
    if status is not None and status is not current:
        check_idea_transition(current, status)
        row.status = status.value
        changed.append("status")
    if changed:
        row.updated_at = uow.now()
        payload = {"changed": changed, "status": row.status, "answered": status in ANSWERS}
        uow.record("idea.updated", actor.tenant_id, "idea", row.id, payload)
    uow.commit()
    return row


# --- customers ------------------------------------------------------------------------------


def board_tenant(uow: UnitOfWork, key: str) -> TenantRow:
    """The tenant whose board this is, by slug or by widget key."""
    tenant = uow.session.scalar(
        select(TenantRow).where(or_(TenantRow.slug == key, TenantRow.widget_key == key))
    )
    if tenant is None:
        raise NotFound("board", key)
    return tenant


def public_ideas(uow: UnitOfWork, tenant: TenantRow, limit: int = 100) -> list[IdeaRow]:
    return list(
        uow.session.scalars(
            select(IdeaRow)
            .where(
                IdeaRow.tenant_id == tenant.id,
                IdeaRow.status.in_([s.value for s in PUBLIC_STATUSES]),
            )
            .order_by(IdeaRow.votes.desc(), IdeaRow.id.desc())
            .limit(limit)
        )
    )


def voted_ideas(uow: UnitOfWork, tenant: TenantRow, voter_hash: str) -> set[int]:
    rows = uow.session.scalars(
        select(IdeaVoteRow.idea_id).where(
            IdeaVoteRow.tenant_id == tenant.id, IdeaVoteRow.voter_hash == voter_hash
        )
    )
    return set(rows)


def _submissions_last_hour(uow: UnitOfWork, ip_hash: str) -> int:
    since = uow.now() - timedelta(hours=1)
    query = select(func.count(IdeaRow.id)).where(
        IdeaRow.submitter_hash == ip_hash, IdeaRow.created_at >= since
    )
    return uow.session.scalar(query) or 0


def _votes_last_hour(uow: UnitOfWork, ip_hash: str) -> int:
    since = uow.now() - timedelta(hours=1)
    query = select(func.count(IdeaVoteRow.id)).where(
        IdeaVoteRow.ip_hash == ip_hash, IdeaVoteRow.created_at >= since
    )
    return uow.session.scalar(query) or 0


def submit_idea(
    uow: UnitOfWork,
    tenant: TenantRow,
    text: str,
    ip_hash: str,
    analyser: Analyser | None = None,
) -> IdeaRow:
    """A customer's idea: rate-limited per address, screened, redacted, then published."""
    if _submissions_last_hour(uow, ip_hash) >= SUBMISSIONS_PER_HOUR:
        raise TooManyRequests("ideas", 3600)
    if not MIN_IDEA <= len(text.strip()) <= MAX_IDEA:
        raise InvalidValue("text", f"must hold {MIN_IDEA} to {MAX_IDEA} characters")
    body = _clean("text", text, analyser)
    now = uow.now()
    row = IdeaRow(
        tenant_id=tenant.id,
        title=make_title(body),
        body=body,
        origin=IdeaOrigin.CUSTOMER.value,
        status=IdeaStatus.PUBLISHED.value,
        votes=0,
        submitter_hash=ip_hash,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.record("idea.submitted", tenant.id, "idea", row.id, {"origin": row.origin})
    uow.commit()
    return row


def vote(
    uow: UnitOfWork, tenant: TenantRow, idea_id: int, voter_hash: str, ip_hash: str
) -> IdeaRow:
    """One vote per voter and idea, at most VOTES_PER_HOUR per address."""
    row = get_for_tenant(uow.session, IdeaRow, tenant.id, idea_id)
    if IdeaStatus(row.status) not in PUBLIC_STATUSES:
        raise NotFound("idea", idea_id)
    if IdeaStatus(row.status) not in VOTABLE_STATUSES:
        raise InvalidValue("idea", f"an idea {row.status} takes no more votes")
    if _votes_last_hour(uow, ip_hash) >= VOTES_PER_HOUR:
        raise TooManyRequests("votes", 3600)
    if idea_id in voted_ideas(uow, tenant, voter_hash):
        raise Conflict("vote", "this voter already voted for this idea")
    uow.session.add(
        IdeaVoteRow(
            tenant_id=tenant.id,
            idea_id=row.id,
            voter_hash=voter_hash,
            ip_hash=ip_hash,
            created_at=uow.now(),
        )
    )
    try:
        uow.session.flush()
    except IntegrityError:  # a concurrent vote of the same voter got there first
        uow.session.rollback()
        raise Conflict("vote", "this voter already voted for this idea") from None
    # Counted in SQL so that concurrent votes on several workers add up.
    uow.session.execute(update(IdeaRow).where(IdeaRow.id == row.id).values(votes=IdeaRow.votes + 1))
    uow.record("idea.voted", tenant.id, "idea", row.id, {})
    uow.commit()
    uow.session.refresh(row)
    return row
