"""FastAPI dependencies: the unit of work, the authenticated principal, the language."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from allo.i18n import pick_language
from allo.services.accounts import principal_for, session_user, token_user
from allo.services.errors import Unauthenticated
from allo.services.principal import Principal
from allo.store.uow import Store, UnitOfWork

SESSION_COOKIE = "allo_session"
CSRF_COOKIE = "allo_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(Exception):
    """A cookie-authenticated write came without the session's CSRF token."""


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_uow(request: Request) -> Iterator[UnitOfWork]:
    with get_store(request).unit_of_work() as uow:
        yield uow


Uow = Annotated[UnitOfWork, Depends(get_uow)]


def language(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"))


def get_principal(request: Request, uow: Uow) -> Principal:
    """A bearer token (machines) or a session cookie (browsers, with a CSRF header on writes)."""
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        user = token_user(uow, authorization[7:].strip())
        return principal_for(uow, user, via_token=True)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthenticated("no session")
    user, session = session_user(uow, cookie)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent, session.csrf_token):
            raise CsrfFailed()
    return principal_for(uow, user)


Actor = Annotated[Principal, Depends(get_principal)]
Lang = Annotated[str, Depends(language)]
