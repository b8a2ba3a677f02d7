"""Domain and service errors mapped to HTTP answers with a message naming what is wrong."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from allo.api.deps import CsrfFailed
from allo.api.ratelimit import RateLimited
from allo.domain.errors import IllegalTransition, InvalidValue
from allo.i18n import pick_language, t
from allo.services.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthenticated

log = logging.getLogger(__name__)


def _lang(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"))


def _field_of(location: tuple[object, ...] | list[object]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


PLAIN_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (Forbidden, "error.forbidden"),
    (Unauthenticated, "error.unauthenticated"),
    (RateLimited, "error.rate_limited"),
)


def error_text(exc: Exception, lang: str) -> tuple[str | None, str]:
    """The field an error names (if any) and its message in `lang`, as the HTTP answers give
    them; used for errors sent over a WebSocket too."""
    if isinstance(exc, InvalidValue):
        if exc.key:
            return exc.field, t(exc.key, lang)
        return exc.field, t("error.invalid", lang, field=exc.field, message=exc.message)
    if isinstance(exc, Conflict):
        if exc.key:
            return exc.field, t(exc.key, lang)
        return exc.field, t("error.conflict", lang, field=exc.field, message=exc.message)
    if isinstance(exc, IllegalTransition):
        text = t(
            "error.illegal_transition",
            lang,
            subject=exc.subject,
            current=exc.current,
            target=exc.target,
        )
        return None, text
    if isinstance(exc, NotFound):
        kind = t(f"kind.{exc.kind}", lang)
        return None, t("error.not_found", lang, kind=kind.capitalize(), ident=exc.ident)
    for error_type, key in PLAIN_ERRORS:
        if isinstance(exc, error_type):
            return None, t(key, lang)
    return None, t("error.internal", lang)


async def on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    lang = _lang(request)
    detail = [
        {
            "field": _field_of(error["loc"]),
            "loc": list(error["loc"]),
            "msg": t("error.invalid", lang, field=_field_of(error["loc"]), message=error["msg"]),
            "type": error["type"],
        }
        for error in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidValue)
    _, message = error_text(exc, _lang(request))
    detail = [{"field": exc.field, "loc": ["body", exc.field], "msg": message, "type": "value"}]
    return JSONResponse({"detail": detail}, status_code=422)


async def on_transition(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IllegalTransition)
    _, message = error_text(exc, _lang(request))
    return JSONResponse({"detail": message}, status_code=409)


async def on_conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Conflict)
    _, message = error_text(exc, _lang(request))
    return JSONResponse({"detail": message, "field": exc.field}, status_code=409)


async def on_not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFound)
    _, message = error_text(exc, _lang(request))
    return JSONResponse({"detail": message}, status_code=404)


async def on_forbidden(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": t("error.forbidden", _lang(request))}, status_code=403)


async def on_csrf(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": t("error.csrf", _lang(request))}, status_code=403)


async def on_unauthenticated(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": t("error.unauthenticated", _lang(request))},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def on_rate_limited(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": t("error.rate_limited", _lang(request))}, status_code=429)


async def on_too_many(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TooManyRequests)
    return JSONResponse(
        {"detail": t("error.too_many", _lang(request), seconds=exc.retry_after)},
        status_code=429,
        headers={"Retry-After": str(exc.retry_after)},
    )


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": t("error.internal", _lang(request))}, status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(InvalidValue, on_invalid)
    app.add_exception_handler(IllegalTransition, on_transition)
    app.add_exception_handler(Conflict, on_conflict)
    app.add_exception_handler(NotFound, on_not_found)
    app.add_exception_handler(Forbidden, on_forbidden)
    app.add_exception_handler(CsrfFailed, on_csrf)
    app.add_exception_handler(Unauthenticated, on_unauthenticated)
    app.add_exception_handler(RateLimited, on_rate_limited)
    app.add_exception_handler(TooManyRequests, on_too_many)
    app.add_exception_handler(Exception, on_unexpected)
