"""The pure packages import no web framework, ORM, settings or wall clock (DESIGN.md)."""

import ast
from pathlib import Path

import pytest

import allo

PURE_PACKAGES = ("domain", "routing", "planning", "simulation", "insights")
FORBIDDEN_MODULES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "pydantic_settings",
    "httpx",
    "requests",
    "allo.store",
    "allo.services",
    "allo.api",
    "allo.realtime",
    "allo.channels",
    "allo.settings",
    "allo.cli",
    "time",
    "socket",
)
# Reading the wall clock: datetime.now(), date.today(), time.time() and friends.
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}
ROOT = Path(allo.__file__).parent


def pure_files() -> list[Path]:
    return [path for package in PURE_PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]


def imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def clock_reads(tree: ast.AST) -> list[str]:
    reads = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CLOCK_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"datetime", "date", "time", "dt"}
        ):
            reads.append(f"{node.func.value.id}.{node.func.attr}()")
    return reads


@pytest.mark.parametrize("path", pure_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_has_no_forbidden_import_or_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [
        name
        for name in imported_modules(tree)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_MODULES)
    ]
    assert bad == [], f"{path.name} imports {bad}"
    assert clock_reads(tree) == [], f"{path.name} reads the wall clock"


def test_the_checker_catches_a_forbidden_import_and_a_clock_read() -> None:
    tree = ast.parse("import sqlalchemy\nfrom datetime import datetime\nx = datetime.now()\n")
    assert imported_modules(tree)[0] == "sqlalchemy"
    assert clock_reads(tree) == ["datetime.now()"]
