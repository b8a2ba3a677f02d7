"""Server-rendered pages: login and home. Other pages (desk, wall, planner) plug in here."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from allo.api.deps import CSRF_COOKIE, SESSION_COOKIE, Lang, Uow, api_router
from allo.api.routes_auth import set_session_cookies
from allo.i18n import t, texts
from allo.services import accounts
from allo.services.errors import Unauthenticated
from allo.store.tables import SiteRow, TenantRow

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "web" / "templates"))
LOGIN_FORM_COOKIE = "allo_login_csrf"
router = api_router(include_in_schema=False)


def render(request: Request, name: str, lang: str, status: int = 200, **context: Any) -> Response:
    def translate(key: str, **values: object) -> str:
        return t(key, lang, **values)

    context.update(request=request, t=translate, lang=lang)
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, lang: Lang) -> Response:
    # Double-submit token against login CSRF: the form must echo the cookie.
    form_token = secrets.token_urlsafe(24)
    response = render(request, "login.html", lang, form_token=form_token, failed=False)
    secure = request.app.state.settings.cookie_secure
    response.set_cookie(
        LOGIN_FORM_COOKIE, form_token, httponly=True, secure=secure, samesite="strict"
    )
    return response


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    uow: Uow,
    lang: Lang,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=200)],
    form_token: Annotated[str, Form(max_length=100)],
) -> Response:
    expected = request.cookies.get(LOGIN_FORM_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, form_token):
        return render(request, "login.html", lang, 403, form_token=expected, failed=True)
    try:
        user = accounts.check_password(uow, email, password)
    except Unauthenticated:
        return render(request, "login.html", lang, 401, form_token=expected, failed=True)
    token, csrf = accounts.open_session(uow, user, request.app.state.settings.session_hours)
    response = RedirectResponse("/", status_code=303)
    set_session_cookies(request, response, token, csrf)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, uow: Uow, lang: Lang) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        user, _ = accounts.session_user(uow, cookie or "")
    except Unauthenticated:
        return RedirectResponse("/login", status_code=303)
    tenant = uow.session.get(TenantRow, user.tenant_id)
    site = uow.session.get(SiteRow, user.site_id) if user.site_id else None
    return render(
        request, "home.html", lang, user=user, tenant=tenant, site=site, nav_role=user.role
    )


@router.post("/logout")
def logout(request: Request, uow: Uow) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.close_session(uow, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


STAFF_TEXTS = (
    "desk.",
    "state.",
    "channel.",
    "status.",
    "field.",
    "wrap.",
    "system.",
    "wall.",
    "selection.",
)


def _staff_page(request: Request, uow: Uow, lang: str, name: str, roles: set[str]) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        user, _ = accounts.session_user(uow, cookie or "")
    except Unauthenticated:
        return RedirectResponse("/login", status_code=303)
    if user.role not in roles:
        return render(
            request,
            "home.html",
            lang,
            403,
            user=user,
            tenant=uow.session.get(TenantRow, user.tenant_id),
            site=None,
            nav_role=user.role,
        )
    page_texts = texts(STAFF_TEXTS[0], lang, *STAFF_TEXTS[1:])
    # Short keys for the scripts: "wall.save" → "save" too, without clobbering others.
    for key, value in list(page_texts.items()):
        page_texts.setdefault(key.split(".", 1)[1], value)
    from allo.api.routes_desk import WRAP_CODES
    from allo.channels.voice.media import browser_ice_servers

    ice = browser_ice_servers(request.app.state.settings)
    return render(
        request,
        name,
        lang,
        texts=page_texts,
        wrap_codes=WRAP_CODES,
        ice_servers=ice,
        nav_role=user.role,
    )


@router.get("/desk", response_class=HTMLResponse)
def desk_page(request: Request, uow: Uow, lang: Lang) -> Response:
    return _staff_page(request, uow, lang, "desk.html", {"adviser"})


@router.get("/wall", response_class=HTMLResponse)
def wall_page(request: Request, uow: Uow, lang: Lang) -> Response:
    return _staff_page(request, uow, lang, "wall.html", {"admin", "supervisor"})
