"""FastAPI dependencies: the unit of work, the authenticated principal, the language."""

from __future__ import annotations

import functools
import inspect
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from anyio import CancelScope, CapacityLimiter, to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from allo.i18n import pick_language
from allo.services.accounts import digest, principal_for, session_user, token_user
from allo.services.errors import Unauthenticated
from allo.services.principal import Principal
from allo.services.principal_cache import Credential, PrincipalCache
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


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """The request's unit of work, opened and closed on the event loop (no thread hop):
    only a transaction still open at the end costs a round trip, so that one is closed in
    a worker thread."""
    uow = get_store(request).unit_of_work().__enter__()
    try:
        yield uow
    finally:
        if uow.session.in_transaction():
            # Shielded, so that a client gone mid-request cannot leave the connection checked
            # out; and outside the request threads' limit (a limiter of its own), so that
            # closing never waits for a thread held by a request waiting for a connection.
            with CancelScope(shield=True):
                await to_thread.run_sync(uow.session.close, limiter=CapacityLimiter(1))
        else:
            uow.session.close()


Uow = Annotated[UnitOfWork, Depends(get_uow)]


def ending_transaction(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A sync endpoint that ends, in its own thread, the read transaction it left open.

    A service that reads after its commit (a refresh, a list to return) leaves a connection
    checked out; FastAPI then waits for a request thread again to validate the response.
    Held across that wait, connections run out on a busy server: every queued request holds
    one while the thread's request waits for one (bench/live.py stalled on the pool timeout).
    """
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    def call(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        # Only on success: after an error, get_uow rolls back whatever was flushed.
        for value in kwargs.values():
            if isinstance(value, UnitOfWork):
                value.release()
        return result

    return call


class ReleasingRoute(APIRoute):
    """The route class of every router here (see `ending_transaction`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, ending_transaction(endpoint), **kwargs)


def api_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=ReleasingRoute, **kwargs)


async def language(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"))


async def get_principal(request: Request, uow: Uow) -> Principal:
    """A bearer token (machines) or a session cookie (browsers, with a CSRF header on writes).

    Resolved credentials are cached for a few seconds (`services.principal_cache`), so most
    requests authenticate without a query or a thread hop. On a miss, the connection goes
    back to the pool before the endpoint waits for its thread: holding it across that wait
    deadlocks a busy server (every thread waiting for a connection that a request queued
    behind them holds).
    """
    cache: PrincipalCache = request.app.state.principals
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
        known = cache.get("bearer:" + digest(token))
        if known is not None:
            return known.principal
        return await run_in_threadpool(_bearer, cache, uow, token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthenticated("no session")
    credential = cache.get("session:" + digest(cookie))
    if credential is None:
        credential = await run_in_threadpool(_session, cache, uow, cookie)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent, credential.csrf_token or ""):
            raise CsrfFailed()
    return credential.principal


def _bearer(cache: PrincipalCache, uow: UnitOfWork, token: str) -> Principal:
    key = "bearer:" + digest(token)
    try:
        principal = principal_for(uow, token_user(uow, token), via_token=True)
    finally:
        uow.release()
    cache.put(key, Credential(principal))
    return principal


def _session(cache: PrincipalCache, uow: UnitOfWork, cookie: str) -> Credential:
    key = "session:" + digest(cookie)
    try:
        user, session = session_user(uow, cookie)
        credential = Credential(principal_for(uow, user), session.csrf_token)
        left = (session.expires_at - uow.now()).total_seconds()
    finally:
        uow.release()
    cache.put(key, credential, valid_for=left)
    return credential


Actor = Annotated[Principal, Depends(get_principal)]
Lang = Annotated[str, Depends(language)]
