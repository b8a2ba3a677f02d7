"""Bodies of the insights and idea-board endpoints. Unknown fields are refused (422)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from allo.api.schemas import Out, Strict
from allo.insights.ideas import IdeaStatus
from allo.insights.labels import Intent, Sentiment


class MessageIn(Strict):
    author: Literal["customer", "adviser"]
    body: Annotated[str, Field(min_length=1, max_length=4000)]


class MessageOut(BaseModel):
    """`body` is null for roles that do not read customer files, redacted for a site
    without transfer basis; payment data never appears in clear."""

    id: int
    author: str
    body: str | None
    redacted: bool
    created_at: datetime
    intent: Intent | None = None
    sentiment: Sentiment | None = None


class MessageCreated(Out):
    id: int
    author: str
    created_at: datetime


class InsightOut(BaseModel):
    contact_id: int
    queue_id: int
    site_id: int | None
    channel: str
    intent: Intent
    intent_score: float
    sentiment: Sentiment
    sentiment_score: float
    topic_id: int | None
    model_version: str
    contact_at: datetime
    analysed_at: datetime
    text_redacted: str | None = None


class InsightPage(BaseModel):
    items: list[InsightOut]
    total: int
    offset: int
    limit: int


class AnalyseIn(Strict):
    limit: Annotated[int, Field(ge=1, le=5000)] = 500


class AnalyseOut(BaseModel):
    analysed: int


class TopicsIn(Strict):
    k: Annotated[int, Field(ge=1, le=50)] | None = None


class TopicOut(Out):
    id: int
    label: str
    terms: list[str]
    size: int
    created_at: datetime


class CountRow(BaseModel):
    id: int | None
    name: str | None
    counts: dict[str, int]
    total: int


class RiseOut(BaseModel):
    topic_id: int
    label: str
    recent: int
    before: int
    growth: float


class VocOut(BaseModel):
    since: datetime
    until: datetime
    totals: dict[str, int]
    by_queue: list[CountRow]
    by_site: list[CountRow]
    by_topic: list[CountRow]
    days: list[str]
    by_day: dict[str, dict[str, int]]
    rising: list[RiseOut]
    alerts: list[dict[str, Any]]


class IdeaOut(Out):
    id: int
    title: str
    body: str
    origin: str
    contact_id: int | None
    status: IdeaStatus
    answer: str | None
    votes: int
    created_at: datetime
    updated_at: datetime


class IdeaPage(BaseModel):
    items: list[IdeaOut]
    total: int
    offset: int
    limit: int


class IdeaPatch(Strict):
    status: IdeaStatus | None = None
    title: Annotated[str, Field(min_length=3, max_length=200)] | None = None
    answer: Annotated[str, Field(max_length=2000)] | None = None


class PublicIdeaOut(Out):
    """What customers see: no contact link, no origin details."""

    id: int
    title: str
    body: str
    status: IdeaStatus
    answer: str | None
    votes: int
    created_at: datetime


class PublicBoardOut(BaseModel):
    tenant: str
    ideas: list[PublicIdeaOut]
    voted: list[int]


class IdeaSubmission(Strict):
    text: Annotated[str, Field(min_length=10, max_length=1000)]
