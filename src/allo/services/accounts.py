"""Tenants, users, browser sessions and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from allo.domain.errors import InvalidValue
from allo.domain.roles import Permission, Role
from allo.services.errors import Conflict, Unauthenticated
from allo.services.principal import Principal
from allo.services.sites import site_basis
from allo.store.repository import get_for_tenant
from allo.store.tables import AdviserRow, ApiTokenRow, SessionRow, SiteRow, TenantRow, UserRow
from allo.store.uow import UnitOfWork

_hasher = PasswordHasher()
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
MIN_PASSWORD = 8


def digest(token: str) -> str:
    """Tokens are stored hashed: a leaked database does not leak working credentials."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_tenant(uow: UnitOfWork, slug: str, name: str) -> TenantRow:
    if not _SLUG.match(slug):
        raise InvalidValue("slug", "lowercase letters, digits and dashes, 2–63 characters")
    if uow.session.scalar(select(TenantRow.id).where(TenantRow.slug == slug)) is not None:
        raise Conflict("slug", f"a tenant {slug!r} already exists")
    row = TenantRow(
        slug=slug, name=name, widget_key=secrets.token_urlsafe(18), created_at=uow.now()
    )
    uow.session.add(row)
    uow.session.flush()
    uow.record("tenant.created", row.id, "tenant", row.id, {"slug": slug})
    uow.commit()
    return row


def tenant_by_slug(uow: UnitOfWork, slug: str) -> TenantRow | None:
    return uow.session.scalar(select(TenantRow).where(TenantRow.slug == slug))


def create_user(
    uow: UnitOfWork,
    actor: Principal,
    *,
    email: str,
    password: str,
    role: Role,
    display_name: str,
    site_id: int | None = None,
    adviser_id: int | None = None,
) -> UserRow:
    actor.require(Permission.CONFIGURE)
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email):
        raise InvalidValue("email", f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD:
        raise InvalidValue("password", f"must have at least {MIN_PASSWORD} characters")
    if uow.session.scalar(select(UserRow.id).where(UserRow.email == email)) is not None:
        raise Conflict("email", f"a user {email!r} already exists")
    if adviser_id is not None:
        adviser = get_for_tenant(uow.session, AdviserRow, actor.tenant_id, adviser_id)
        site_id = adviser.site_id
    if site_id is not None:
        get_for_tenant(uow.session, SiteRow, actor.tenant_id, site_id)
    row = UserRow(
        tenant_id=actor.tenant_id,
        email=email,
        display_name=display_name or email,
        password_hash=_hasher.hash(password),
        role=role.value,
        site_id=site_id,
        adviser_id=adviser_id,
        language="fr",
        active=True,
        created_at=uow.now(),
    )
    uow.session.add(row)
    uow.session.flush()
    payload = {"role": role.value, "site_id": site_id}
    uow.record("user.created", actor.tenant_id, "user", row.id, payload)
    uow.commit()
    return row


def principal_for(uow: UnitOfWork, user: UserRow, *, via_token: bool = False) -> Principal:
    basis = None
    if user.site_id is not None:
        site = uow.session.get(SiteRow, user.site_id)
        basis = site_basis(site, uow) if site is not None else None
    return Principal(
        user_id=user.id,
        tenant_id=user.tenant_id,
        role=Role(user.role),
        site_id=user.site_id,
        site_basis=basis,
        adviser_id=user.adviser_id,
        via_token=via_token,
    )


def check_password(uow: UnitOfWork, email: str, password: str) -> UserRow:
    user = uow.session.scalar(select(UserRow).where(UserRow.email == email.strip().lower()))
    if user is None or not user.active:
        _hasher.hash(password)  # same cost whether or not the user exists
        raise Unauthenticated("wrong email or password")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise Unauthenticated("wrong email or password") from None
    return user


def open_session(uow: UnitOfWork, user: UserRow, hours: int) -> tuple[str, str]:
    """A new browser session: returns the cookie token and the CSRF token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = uow.now()
    uow.session.add(
        SessionRow(
            token_hash=digest(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    uow.record("user.logged_in", user.tenant_id, "user", user.id, {})
    uow.commit()
    return token, csrf


def session_user(uow: UnitOfWork, token: str) -> tuple[UserRow, SessionRow]:
    row = uow.session.scalar(select(SessionRow).where(SessionRow.token_hash == digest(token)))
    if row is None or row.expires_at <= uow.now():
        raise Unauthenticated("session expired")
    user = uow.session.get(UserRow, row.user_id)
    if user is None or not user.active:
        raise Unauthenticated("session expired")
    return user, row


def close_session(uow: UnitOfWork, token: str) -> None:
    row = uow.session.scalar(select(SessionRow).where(SessionRow.token_hash == digest(token)))
    if row is not None:
        user = uow.session.get(UserRow, row.user_id)
        uow.session.delete(row)
        if user is not None:  # also tells cached credentials that this session is gone
            uow.record("user.logged_out", user.tenant_id, "user", user.id, {})
        uow.commit()


def create_token(uow: UnitOfWork, actor: Principal, user_id: int, name: str) -> str:
    actor.require(Permission.CONFIGURE)
    user = get_for_tenant(uow.session, UserRow, actor.tenant_id, user_id)
    token = "allo_" + secrets.token_urlsafe(32)
    uow.session.add(
        ApiTokenRow(
            tenant_id=user.tenant_id,
            user_id=user.id,
            name=name,
            token_hash=digest(token),
            created_at=uow.now(),
            revoked=False,
        )
    )
    uow.record("token.created", actor.tenant_id, "user", user.id, {"name": name})
    uow.commit()
    return token


def token_user(uow: UnitOfWork, token: str) -> UserRow:
    row = uow.session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest(token)))
    if row is None or row.revoked:
        raise Unauthenticated("unknown or revoked token")
    user = uow.session.get(UserRow, row.user_id)
    if user is None or not user.active:
        raise Unauthenticated("unknown or revoked token")
    return user
