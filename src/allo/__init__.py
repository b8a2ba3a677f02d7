"""Allo: an open-source, self-hostable multi-site contact center."""

from pathlib import Path

__version__ = "0.1.0"


def _refuse_stale_compiled_modules() -> None:
    """Fail fast when a module compiled by `make compile` is older than its source.

    Python imports an extension module in preference to the source beside it, so an edit
    to a compiled module would silently not run. The check is a stat per compiled module.
    """
    package = Path(__file__).parent
    for compiled in package.glob("*/*.cpython-*.so"):
        source = compiled.with_name(compiled.name.split(".", 1)[0] + ".py")
        if source.exists() and source.stat().st_mtime > compiled.stat().st_mtime:
            raise ImportError(
                f"{compiled.relative_to(package.parent)} was compiled from an older "
                f"{source.name}: run `make compile` again, or `make interpreted` "
                "to run from the sources"
            )


def build() -> str:
    """How the hot pure modules run, for benchmark reports."""
    compiled = any(Path(__file__).parent.glob("routing/engine.cpython-*.so"))
    return "compiled with mypyc" if compiled else "interpreted (run `make compile`)"


_refuse_stale_compiled_modules()
