#!/usr/bin/env python3
"""Prints what the shell scripts need from the route table (routes.toml).

    python3 scripts/routes.py functions     # one function crate per line
    python3 scripts/routes.py smoke         # <function>/<case> per line, each route's smoke fixtures
    python3 scripts/routes.py logical-ids   # <function> <template logical id> per line

Standard library only (Python 3.11+).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def routes() -> list[dict]:
    with open(ROOT / "routes.toml", "rb") as f:
        return tomllib.load(f)["route"]


def logical_id(function: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in function.split("-")) + "Function"


def main(argv: list[str]) -> int:
    what = argv[1] if len(argv) == 2 else ""
    if what == "functions":
        lines = [r["function"] for r in routes()]
    elif what == "smoke":
        lines = [f"{r['function']}/{case}" for r in routes() for case in r["smoke"]]
    elif what == "logical-ids":
        lines = [f"{r['function']} {logical_id(r['function'])}" for r in routes()]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
