"""Compile the hot pure modules (routing engine, simulation twin) to C with mypyc.

The modules stay plain, strictly typed Python: mypyc turns each into an extension module
built in place, next to its source (`src/allo/routing/engine.cpython-311-….so` beside
`engine.py`), which Python imports in preference to the source. The routing engine and the
twin then run about twice as fast, with the same decisions (the same test suite passes
either way). `allo/__init__.py` refuses to import a compiled module older than its source,
so an edit is never shadowed by a stale build: run `make compile` again, or
`make interpreted` to remove the compiled modules and run the sources.

Usage: python scripts/compile.py            # build in place
       python scripts/compile.py --clean    # remove every compiled module
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
BUILD = ROOT / "build" / "mypyc"

# What runs per event or per simulated call; nothing here may do I/O (they are pure
# packages), and nothing else is worth the build time.
MODULES = [
    "allo/routing",
    "allo/simulation/kernel.py",
    "allo/simulation/model.py",
    "allo/simulation/twin.py",
    "allo/domain/advisers.py",
    "allo/domain/channels.py",
]


def compiled_files() -> list[Path]:
    """Every extension module mypyc left under src/ (the modules and their shared runtime)."""
    return sorted(SRC.rglob("*.so"))  # src/ holds no other extension module


def sources() -> list[Path]:
    """The Python files compiled (what a rebuild depends on)."""
    found: list[Path] = []
    for module in MODULES:
        path = SRC / module
        found.extend(sorted(path.glob("*.py")) if path.is_dir() else [path])
    return found


def missing_toolchain() -> str | None:
    """Why this machine cannot build C extensions, or None when it can."""
    compiler = sysconfig.get_config_var("CC") or "cc"
    if shutil.which(compiler.split()[0]) is None:
        return f"no C compiler ({compiler.split()[0]})"
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        return "no Python headers (Debian: apt-get install python3-dev)"
    return None


def clean() -> None:
    for path in compiled_files():
        path.unlink()
    shutil.rmtree(BUILD, ignore_errors=True)


def build() -> None:
    from mypyc.build import mypycify
    from setuptools import setup

    clean()
    os.chdir(SRC)  # mypyc names modules from paths relative to the working directory
    extensions = mypycify(MODULES, opt_level="3", target_dir=str(BUILD / "c"))
    setup(
        name="allo-compiled",
        ext_modules=extensions,
        script_args=[
            "--quiet",
            "build_ext",
            "--inplace",
            "--build-temp",
            str(BUILD / "temp"),
            "--build-lib",
            str(BUILD / "lib"),
            "--parallel",
            str(os.cpu_count() or 1),
        ],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true", help="remove every compiled module")
    parser.add_argument("--list", action="store_true", help="print the sources compiled")
    args = parser.parse_args()
    if args.list:
        print(" ".join(str(path.relative_to(ROOT)) for path in sources()))
        return 0
    if args.clean:
        clean()
        print("compiled modules removed: Allo runs from its sources")
        return 0
    reason = missing_toolchain()
    if reason:
        clean()
        print(f"not compiled, {reason}: Allo runs from its sources (slower engine and twin)")
        return 0
    build()
    print(f"compiled {len(compiled_files())} modules with mypyc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
