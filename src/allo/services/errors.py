"""Errors of use cases, mapped to HTTP statuses by the API and to exit codes by the CLI."""

from allo.domain.errors import DomainError


class NotFound(DomainError):
    """Unknown id, or an object of another tenant (never reveal which)."""

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident


class Forbidden(DomainError):
    """The actor's role may not do this."""


class Conflict(DomainError):
    """The change clashes with stored data (e.g. a duplicate name)."""

    def __init__(self, field: str, message: str, key: str | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.key = key  # an i18n key for a message of its own, shown instead of the default


class Unauthenticated(DomainError):
    """No valid session or token."""


class TooManyRequests(DomainError):
    """The same voter or address acted too often in a short time (public pages)."""

    def __init__(self, action: str, retry_after: int) -> None:
        super().__init__(f"too many {action} from this address, retry in {retry_after} s")
        self.action = action
        self.retry_after = retry_after
