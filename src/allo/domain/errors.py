"""Errors raised by domain rules; services map them to HTTP or CLI errors."""


class DomainError(Exception):
    """A business rule was broken."""


class InvalidValue(DomainError):
    """A value does not satisfy the rules of its field."""

    def __init__(self, field: str, message: str, key: str | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        # A message key for the texts shown to customers (translated by the outer layers).
        self.key = key


class IllegalTransition(DomainError):
    """A contact (or adviser) was asked to move to a state it cannot reach from its current one."""

    def __init__(self, subject: str, current: str, target: str) -> None:
        super().__init__(f"{subject} cannot go from {current} to {target}")
        self.subject = subject
        self.current = current
        self.target = target
