"""Insights (messages, analyses, topics, voice of the customer), staff side of the idea board,
and the public idea-board API customers use without logging in."""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated, Any

from fastapi import Query, Request, Response
from itsdangerous import BadSignature, URLSafeSerializer

from allo.api.deps import Actor, Uow, api_router
from allo.api.schemas_insights import (
    AnalyseIn,
    AnalyseOut,
    IdeaOut,
    IdeaPage,
    IdeaPatch,
    IdeaSubmission,
    InsightOut,
    InsightPage,
    PublicBoardOut,
    PublicIdeaOut,
    TopicOut,
    TopicsIn,
    VocOut,
)
from allo.insights.ideas import IdeaStatus
from allo.insights.labels import Intent, Sentiment
from allo.services import ideas, insights

router = api_router(prefix="/api/v1", tags=["insights"])
public = api_router(prefix="/api/public", tags=["idea board"])
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=500)]
VOTER_COOKIE = "allo_voter"


@router.get("/contacts/{contact_id}/insight", response_model=InsightOut)
def read_insight(contact_id: int, uow: Uow, actor: Actor) -> Any:
    return insights.read_contact_insight(uow, actor, contact_id)


@router.get("/insights/contacts", response_model=InsightPage)
def list_insights(
    uow: Uow,
    actor: Actor,
    offset: Offset = 0,
    limit: Limit = 100,
    intent: Intent | None = None,
    sentiment: Sentiment | None = None,
    topic_id: int | None = None,
    queue_id: int | None = None,
    site_id: int | None = None,
) -> Any:
    """Analysed contacts, filtered by intent, sentiment, topic, queue or site."""
    filters = {
        "intent": intent.value if intent else None,
        "sentiment": sentiment.value if sentiment else None,
        "topic_id": topic_id,
        "queue_id": queue_id,
        "site_id": site_id,
    }
    rows, total = insights.list_contact_insights(uow, actor, offset, limit, filters)
    return {"items": rows, "total": total, "offset": offset, "limit": limit}


@router.post("/insights/analyse", response_model=AnalyseOut)
def analyse_pending(body: AnalyseIn, uow: Uow, actor: Actor) -> Any:
    """Analyse the contacts that have a subject or messages but no analysis yet."""
    return {"analysed": insights.analyse_pending(uow, actor, body.limit)}


@router.post("/insights/topics/refresh", response_model=list[TopicOut])
def refresh_topics(body: TopicsIn, uow: Uow, actor: Actor) -> Any:
    return insights.refresh_topics(uow, actor, body.k)


@router.get("/insights/topics", response_model=list[TopicOut])
def list_topics(uow: Uow, actor: Actor) -> Any:
    return insights.list_topics(uow, actor)


@router.get("/insights/voc", response_model=VocOut)
def voice_of_customer(
    uow: Uow, actor: Actor, days: Annotated[int, Query(ge=1, le=366)] = 14
) -> Any:
    """Counts of questions, problems, ideas and praise per queue, site, topic and day."""
    return insights.voice_of_customer(uow, actor, days)


@router.get("/ideas", response_model=IdeaPage, tags=["idea board"])
def list_ideas(
    uow: Uow,
    actor: Actor,
    status: IdeaStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Any:
    rows, total = ideas.list_ideas(uow, actor, status, offset, limit)
    return {"items": rows, "total": total, "offset": offset, "limit": limit}


@router.patch("/ideas/{idea_id}", response_model=IdeaOut, tags=["idea board"])
def update_idea(idea_id: int, body: IdeaPatch, uow: Uow, actor: Actor) -> Any:
    """Publish, answer (planned, done, declined) or withdraw an idea, or edit its title."""
    return ideas.update_idea(uow, actor, idea_id, body.status, body.title, body.answer)


# --- public, no login -----------------------------------------------------------------------


def _secret(request: Request) -> str:
    secret: str = request.app.state.settings.secret_key
    return secret


def identity_hash(request: Request, kind: str, value: str) -> str:
    """Salted hash: lets us count per address or voter without storing either."""
    return hashlib.sha256(f"{_secret(request)}:{kind}:{value}".encode()).hexdigest()


def address_hash(request: Request) -> str:
    host = request.client.host if request.client else "unknown"
    return identity_hash(request, "ip", host)


def voter_token(request: Request, response: Response) -> str:
    """The voter token kept in a signed cookie; a new one is issued when absent or forged."""
    signer = URLSafeSerializer(_secret(request), salt="allo-voter")
    cookie = request.cookies.get(VOTER_COOKIE)
    if cookie:
        try:
            token = signer.loads(cookie)
            if isinstance(token, str):
                return token
        except BadSignature:
            pass
    token = secrets.token_urlsafe(18)
    response.set_cookie(
        VOTER_COOKIE,
        signer.dumps(token),
        max_age=365 * 24 * 3600,
        httponly=True,
        secure=request.app.state.settings.cookie_secure,
        samesite="strict",
    )
    return token


def voter_hash(request: Request, tenant_id: int, token: str) -> str:
    return identity_hash(request, f"voter:{tenant_id}", token)


@public.get("/ideas/{key}", response_model=PublicBoardOut)
def public_board(key: str, request: Request, response: Response, uow: Uow) -> Any:
    """The board of a tenant, by slug or widget key: ideas with votes and answers."""
    tenant = ideas.board_tenant(uow, key)
    voter = voter_hash(request, tenant.id, voter_token(request, response))
    voted = ideas.voted_ideas(uow, tenant, voter)
    return {"tenant": tenant.name, "ideas": ideas.public_ideas(uow, tenant), "voted": sorted(voted)}


@public.post("/ideas/{key}", response_model=PublicIdeaOut, status_code=201)
def submit_idea(key: str, body: IdeaSubmission, request: Request, uow: Uow) -> Any:
    """A customer's idea: screened (no insult, no health data), redacted, then published."""
    tenant = ideas.board_tenant(uow, key)
    return ideas.submit_idea(uow, tenant, body.text, address_hash(request))


@public.post("/ideas/{key}/{idea_id}/vote", response_model=PublicIdeaOut)
def vote(key: str, idea_id: int, request: Request, response: Response, uow: Uow) -> Any:
    """One vote per customer (voter cookie) and idea; votes are rate-limited per address."""
    tenant = ideas.board_tenant(uow, key)
    voter = voter_hash(request, tenant.id, voter_token(request, response))
    return ideas.vote(uow, tenant, idea_id, voter, address_hash(request))
