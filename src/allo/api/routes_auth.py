"""Login and logout (browser sessions), the current user, users and API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from allo.api.deps import CSRF_COOKIE, SESSION_COOKIE, Actor, Uow, api_router
from allo.api.schemas import LoginIn, MeOut, TokenIn, TokenOut, UserIn, UserOut
from allo.services import accounts
from allo.store.repository import get_for_tenant
from allo.store.tables import TenantRow, UserRow
from allo.store.uow import UnitOfWork

router = api_router(prefix="/api/v1", tags=["auth"])


def set_session_cookies(request: Request, response: Response, token: str, csrf: str) -> None:
    settings = request.app.state.settings
    max_age = settings.session_hours * 3600
    secure = settings.cookie_secure
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=secure, samesite="lax"
    )
    # Readable by the page's scripts, which echo it in the X-CSRF-Token header.
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, secure=secure, samesite="strict")


def _me(uow: UnitOfWork, user: UserRow, csrf: str | None) -> dict[str, Any]:
    tenant = uow.session.get(TenantRow, user.tenant_id)
    return {"user": user, "tenant": tenant.slug if tenant else "", "csrf_token": csrf}


@router.post("/auth/login", response_model=MeOut)
def login(body: LoginIn, request: Request, response: Response, uow: Uow) -> Any:
    user = accounts.check_password(uow, body.email, body.password)
    token, csrf = accounts.open_session(uow, user, request.app.state.settings.session_hours)
    set_session_cookies(request, response, token, csrf)
    return _me(uow, user, csrf)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, uow: Uow, actor: Actor) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.close_session(uow, cookie)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


@router.get("/auth/me", response_model=MeOut)
def me(uow: Uow, actor: Actor) -> Any:
    assert actor.user_id is not None
    user = get_for_tenant(uow.session, UserRow, actor.tenant_id, actor.user_id)
    return _me(uow, user, None)


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, uow: Uow, actor: Actor) -> Any:
    return accounts.create_user(
        uow,
        actor,
        email=body.email,
        password=body.password,
        role=body.role,
        display_name=body.display_name,
        site_id=body.site_id,
        adviser_id=body.adviser_id,
    )


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(body: TokenIn, uow: Uow, actor: Actor) -> Any:
    return {"token": accounts.create_token(uow, actor, body.user_id, body.name)}
