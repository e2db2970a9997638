#!/usr/bin/env python3
"""Checks the `scopes` of every row of the route table (routes.toml) against the
official OpenAPI fragments (openapi/{v3,beta}-*.yaml).

  python3 scripts/check_scopes.py          # exit 1 on any difference
  python3 scripts/check_scopes.py --print  # the scopes the fragments give, as TOML

For each route and each version it serves, the fragment of that version whose
`paths` hold the route's method and path (path parameter names aside) gives the
operation's scopes: those of its own `security` (every requirement's `userAuth`
and `applicationAuth` lists, in order, each scope once), or, when the operation
names none, the document's top-level `security`. The row's `scopes.<version>`
must be that list exactly; a route, version or fragment missing on either side
is a failure. The edge (shared::http) enforces what the row says (the function
crates get it at build time from the same table), so this check is what keeps
the enforced scopes those of the spec.

Needs Python 3.11 and PyYAML only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from routes import routes

ROOT = Path(__file__).resolve().parent.parent
FRAGMENTS = ROOT / "openapi"
METHODS = ("get", "put", "post", "delete", "patch")


def normalized(path: str) -> str:
    """A path with its parameter names blanked: `/x/{id}` and `/x/{approvalId}` match."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def requirement_scopes(security: list[dict]) -> list[str]:
    scopes: list[str] = []
    for requirement in security:
        for scheme in ("userAuth", "applicationAuth"):
            for scope in requirement.get(scheme) or []:
                if scope not in scopes:
                    scopes.append(scope)
    return scopes


def fragment_scopes() -> dict[tuple[str, str, str], tuple[list[str], str]]:
    """(version, METHOD, normalized path) -> (scopes, fragment file name)."""
    found: dict[tuple[str, str, str], tuple[list[str], str]] = {}
    for path in sorted(FRAGMENTS.glob("*.yaml")):
        version = path.name.split("-", 1)[0]
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        top = document.get("security") or []
        for route, operations in (document.get("paths") or {}).items():
            for method, operation in operations.items():
                if method not in METHODS or not isinstance(operation, dict):
                    continue
                security = operation.get("security")
                scopes = requirement_scopes(security if security is not None else top)
                found[(version, method.upper(), normalized(route))] = (scopes, path.name)
    return found


def main(argv: list[str]) -> int:
    spec = fragment_scopes()
    if argv[1:] == ["--print"]:
        for r in routes():
            by_version = ", ".join(
                f"{v} = {spec.get((v, r['method'], normalized(r['path'])), ([], ''))[0]!r}".replace("'", '"')
                for v in r["versions"]
            )
            print(f"# {r['function']}\nscopes = {{ {by_version} }}")
        return 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    failures = 0
    checked = 0
    for r in routes():
        row = r.get("scopes")
        if not isinstance(row, dict):
            print(f"FAIL {r['function']}: no `scopes` table (one list per version)")
            failures += 1
            continue
        extra = sorted(set(row) - set(r["versions"]))
        if extra:
            print(f"FAIL {r['function']}: scopes for versions it does not serve: {extra}")
            failures += 1
        for version in r["versions"]:
            key = (version, r["method"], normalized(r["path"]))
            if key not in spec:
                print(f"FAIL {r['function']}: no {version} fragment has {r['method']} {r['path']}")
                failures += 1
                continue
            want, fragment = spec[key]
            got = row.get(version)
            checked += 1
            if got != want:
                print(
                    f"FAIL {r['function']} ({version}): routes.toml says {got}, "
                    f"{fragment} says {want}"
                )
                failures += 1
    print(f"scopes: {checked} operation versions match their fragments, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
