"""Pages of the insights: the public idea board (no login) and the voice of the customer (staff).

Pages work without JavaScript: plain forms posting back and redirecting (303). The board's
forms carry a token derived from the voter cookie; staff forms carry the session's CSRF token.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from allo.api.deps import SESSION_COOKIE, Lang, Uow, api_router
from allo.api.routes_insights import (
    VOTER_COOKIE,
    address_hash,
    identity_hash,
    voter_hash,
    voter_token,
)
from allo.api.web import render
from allo.domain.errors import IllegalTransition, InvalidValue
from allo.domain.roles import Permission, can
from allo.i18n import t
from allo.insights.ideas import ANSWERS, IDEA_TRANSITIONS, IdeaStatus
from allo.services import accounts, ideas, insights
from allo.services.errors import Conflict, TooManyRequests, Unauthenticated
from allo.services.principal import Principal
from allo.store.tables import SessionRow
from allo.store.uow import UnitOfWork

router = api_router(include_in_schema=False)
NOTICES = frozenset(
    {"submitted", "voted", "already", "insult", "health", "too_many", "invalid", "bad_form"}
)


def _form_token(request: Request, token: str) -> str:
    return identity_hash(request, "form", token)[:32]


def _board_redirect(key: str, notice: str) -> Response:
    return RedirectResponse(f"/ideas/{key}?notice={notice}#board", status_code=303)


@router.get("/ideas/{key}", response_class=HTMLResponse)
def board_page(key: str, request: Request, uow: Uow, lang: Lang, notice: str = "") -> Response:
    tenant = ideas.board_tenant(uow, key)
    probe = Response()  # collects the voter cookie when a new one is issued
    token = voter_token(request, probe)
    response = render(
        request,
        "ideas_board.html",
        lang,
        key=key,
        tenant=tenant,
        ideas=ideas.public_ideas(uow, tenant),
        voted=ideas.voted_ideas(uow, tenant, voter_hash(request, tenant.id, token)),
        form_token=_form_token(request, token),
        notice=notice if notice in NOTICES else "",
    )
    for header, value in probe.headers.items():
        if header == "set-cookie":
            response.headers.append(header, value)
    return response


def _known_voter(request: Request) -> str | None:
    """The voter token of a browser that loaded the board before (forms need one)."""
    if not request.cookies.get(VOTER_COOKIE):
        return None
    return voter_token(request, Response())


def _form_ok(request: Request, token: str | None, form_token: str) -> bool:
    return token is not None and hmac.compare_digest(_form_token(request, token), form_token)


@router.post("/ideas/{key}")
def board_submit(
    key: str,
    request: Request,
    uow: Uow,
    text: Annotated[str, Form(max_length=1000)],
    form_token: Annotated[str, Form(max_length=100)],
) -> Response:
    tenant = ideas.board_tenant(uow, key)
    if not _form_ok(request, _known_voter(request), form_token):
        return _board_redirect(key, "bad_form")
    try:
        ideas.submit_idea(uow, tenant, text, address_hash(request))
    except ideas.Refused as refused:
        return _board_redirect(key, sorted(c.value for c in refused.concerns)[0])
    except TooManyRequests:
        return _board_redirect(key, "too_many")
    except InvalidValue:
        return _board_redirect(key, "invalid")
    return _board_redirect(key, "submitted")


@router.post("/ideas/{key}/{idea_id}/vote")
def board_vote(
    key: str,
    idea_id: int,
    request: Request,
    uow: Uow,
    form_token: Annotated[str, Form(max_length=100)],
) -> Response:
    tenant = ideas.board_tenant(uow, key)
    token = _known_voter(request)
    if token is None or not _form_ok(request, token, form_token):
        return _board_redirect(key, "bad_form")
    try:
        voter = voter_hash(request, tenant.id, token)
        ideas.vote(uow, tenant, idea_id, voter, address_hash(request))
    except Conflict:
        return _board_redirect(key, "already")
    except TooManyRequests:
        return _board_redirect(key, "too_many")
    except InvalidValue:
        return _board_redirect(key, "invalid")
    return _board_redirect(key, "voted")


def _staff(uow: UnitOfWork, request: Request) -> tuple[Principal, SessionRow] | None:
    try:
        user, session = accounts.session_user(uow, request.cookies.get(SESSION_COOKIE) or "")
    except Unauthenticated:
        return None
    return accounts.principal_for(uow, user), session


def _intent_labels(lang: str) -> dict[str, str]:
    return {intent: t(f"intent.{intent}", lang) for intent in insights.INTENTS}


@router.get("/insights", response_class=HTMLResponse)
def voc_page(request: Request, uow: Uow, lang: Lang, days: int = 14) -> Response:
    staff = _staff(uow, request)
    if staff is None:
        return RedirectResponse("/login", status_code=303)
    actor, session = staff
    if not can(actor.role, Permission.READ_INSIGHTS):
        return render(request, "forbidden.html", lang, 403)
    days = min(max(days, 1), 366)
    voc = insights.voice_of_customer(uow, actor, days)
    labels = _intent_labels(lang)
    board, _ = ideas.list_ideas(uow, actor, limit=50)
    return render(
        request,
        "voc.html",
        lang,
        voc=voc,
        days=days,
        intents=insights.INTENTS,
        labels=labels,
        chart=insights.voc_chart(voc, labels, t("voc.chart_title", lang, days=days)),
        ideas=board,
        nav_role=actor.role,
        transitions={s.value: sorted(v.value for v in IDEA_TRANSITIONS[s]) for s in IdeaStatus},
        answers={s.value for s in ANSWERS},
        can_manage=can(actor.role, Permission.MANAGE_INSIGHTS),
        csrf_token=session.csrf_token,
        board_key=_tenant_slug(uow, actor.tenant_id),
    )


def _tenant_slug(uow: UnitOfWork, tenant_id: int) -> str:
    from allo.store.tables import TenantRow

    tenant = uow.session.get(TenantRow, tenant_id)
    return tenant.slug if tenant else ""


@router.post("/insights/ideas/{idea_id}")
def voc_idea_update(
    idea_id: int,
    request: Request,
    uow: Uow,
    lang: Lang,
    csrf_token: Annotated[str, Form(max_length=100)],
    status: Annotated[IdeaStatus, Form()],
    answer: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    staff = _staff(uow, request)
    if staff is None:
        return RedirectResponse("/login", status_code=303)
    actor, session = staff
    if not hmac.compare_digest(csrf_token, session.csrf_token):
        return render(request, "forbidden.html", lang, 403)
    try:
        ideas.update_idea(uow, actor, idea_id, status, answer=answer if answer else None)
    except (InvalidValue, IllegalTransition):
        return RedirectResponse("/insights?notice=invalid#ideas", status_code=303)
    return RedirectResponse("/insights#ideas", status_code=303)
