"""SQL expressions that compute the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.roles import ExpressionElementRole


class seconds_between(FunctionElement[float]):
    """Seconds from the first timestamp to the second; NULL when either is NULL."""

    type = Float()
    inherit_cache = True

    def __init__(self, start: ExpressionElementRole[Any], end: ExpressionElementRole[Any]) -> None:
        super().__init__(start, end)


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    # Timestamps are stored as UTC text, which julianday() reads (days, as a real).
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"
