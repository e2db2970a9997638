#!/usr/bin/env python3
"""Everything an endpoint is made of, against its row in routes.toml.

  python3 scripts/check_routes.py [--root DIR]

routes.toml is the one list of endpoints. Beside it, these must name the
same functions, no more and no fewer:
  - the crate `functions/<function>/` (its package named after the folder),
    with a handler (`pub async fn handler`), depending on `shared` with no
    features: `dev-tools` and `test-support` (the table's creation, token
    issuing, request counting) stay out of Lambda binaries, which
    scripts/lambda_build.sh builds from these crates alone;
  - the local server's dependency on it (local/Cargo.toml; its handler
    table is written from routes.toml by local/build.rs);
  - the fixtures folder `events/<function>/`, holding every `smoke` case
    of the row (and its expected answer, `<case>.expected.json`);
  - the README's operation table: one row per operation, with the row's
    method, path and function, the status of its success first in its
    answer column, and "`/beta` only" when beta alone serves it.
The template (scripts/check_template.py), the scopes
(scripts/check_scopes.py), the IAM actions (local/tests/iam_actions.rs) and
the fault workload (tests/faults, which refuses to start without a
generator for each operation) are checked where they are read.

Each missing or extra piece is one line naming it and what to add or
remove. Exits 1 on any.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def routes(root: Path) -> list[dict]:
    with open(root / "routes.toml", "rb") as f:
        return tomllib.load(f)["route"]


def crate_name(root: Path, folder: Path) -> str | None:
    try:
        with open(folder / "Cargo.toml", "rb") as f:
            return tomllib.load(f)["package"]["name"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None


def shared_features(folder: Path) -> list[str] | None:
    """The features a crate's dependency on `shared` turns on (None: no
    such dependency)."""
    try:
        with open(folder / "Cargo.toml", "rb") as f:
            spec = tomllib.load(f).get("dependencies", {}).get("shared")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    if spec is None:
        return None
    return list(spec.get("features", [])) if isinstance(spec, dict) else []


def local_dependencies(root: Path) -> set[str]:
    with open(root / "local" / "Cargo.toml", "rb") as f:
        deps = tomllib.load(f).get("dependencies", {})
    return {
        name
        for name, spec in deps.items()
        if isinstance(spec, dict) and str(spec.get("path", "")).startswith("../functions/")
    }


def readme_rows(root: Path) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in (root / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `([a-zA-Z]+)` \|(.*)\|\s*$", line)
        if m:
            rows.setdefault(m.group(1), []).append(m.group(2))
    return rows


def check(root: Path) -> list[str]:
    problems: list[str] = []
    rows = routes(root)
    functions = [r["function"] for r in rows]
    named = set(functions)
    for f in sorted({f for f in functions if functions.count(f) > 1}):
        problems.append(f"routes.toml: {f} has more than one row")

    # Crates under functions/.
    folders = {p.name: p for p in (root / "functions").iterdir() if p.is_dir()}
    for f in sorted(named - set(folders)):
        problems.append(f"routes.toml names {f}: functions/{f}/ (its crate) is missing")
    for f in sorted(set(folders) - named):
        problems.append(f"functions/{f}/ has no row in routes.toml: add its row, or remove the crate")
    for f in sorted(named & set(folders)):
        package = crate_name(root, folders[f])
        if package != f:
            problems.append(f"functions/{f}/Cargo.toml: package name {package!r}, expected {f!r}")
        lib = folders[f] / "src" / "lib.rs"
        if not lib.exists() or "pub async fn handler" not in lib.read_text(encoding="utf-8"):
            problems.append(f"functions/{f}/src/lib.rs: no `pub async fn handler`")
        features = shared_features(folders[f])
        if features is None:
            problems.append(f"functions/{f}/Cargo.toml: no dependency on shared")
        elif features:
            problems.append(
                f"functions/{f}/Cargo.toml: shared with features {features}; a Lambda binary "
                "takes shared without features (dev-tools and test-support are for the local "
                "server and the tests)"
            )

    # The local server.
    # (Its handler table is written from routes.toml by local/build.rs.)
    deps = local_dependencies(root)
    for f in sorted(named - deps):
        problems.append(f"routes.toml names {f}: local/Cargo.toml lacks its path dependency")
    for f in sorted(deps - named):
        problems.append(f"local/Cargo.toml depends on functions/{f}, which has no row in routes.toml")

    # Fixtures.
    events = {p.name for p in (root / "events").iterdir() if p.is_dir()}
    for f in sorted(named - events):
        problems.append(f"routes.toml names {f}: events/{f}/ (its fixtures) is missing")
    for f in sorted(events - named):
        problems.append(f"events/{f}/ has no row in routes.toml")
    for r in rows:
        f = r["function"]
        if not r.get("smoke"):
            problems.append(f"routes.toml: {f} lists no smoke fixture")
        for case in r.get("smoke", []):
            for name in (f"{case}.json", f"{case}.expected.json"):
                if f in events and not (root / "events" / f / name).exists():
                    problems.append(f"routes.toml: {f}'s smoke case {case}: events/{f}/{name} is missing")

    # The README's operation table.
    table = readme_rows(root)
    operations = {r["operation"] for r in rows}
    for r in rows:
        op, f = r["operation"], r["function"]
        found = table.get(op, [])
        if len(found) != 1:
            problems.append(
                f"README.md: the operation table has {len(found)} rows for {op} (routes.toml: one)"
            )
            continue
        cells = found[0]
        if f"`{r['method']} {r['path']}`" not in cells:
            problems.append(f"README.md: {op}'s row does not show `{r['method']} {r['path']}`")
        if f"`functions/{f}`" not in cells:
            problems.append(f"README.md: {op}'s row does not name `functions/{f}`")
        answer = cells.rsplit("|", 1)[-1].strip()
        if not answer.startswith(str(r.get("status"))):
            problems.append(f"README.md: {op}'s row answers {answer!r}, routes.toml status {r.get('status')}")
        beta_only = r["versions"] == ["beta"]
        if beta_only != ("`/beta` only" in cells):
            problems.append(
                f"README.md: {op}'s row {'lacks' if beta_only else 'has'} the \"`/beta` only\" mark"
            )
    for op in sorted(set(table) - operations):
        if re.match(r"^[a-z]+[A-Z]", op) and any("`functions/" in c for c in table[op]):
            problems.append(f"README.md: the operation table has {op}, which has no row in routes.toml")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args()
    problems = check(args.root)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"routes.toml: {len(routes(args.root))} routes, each with its crate, local handler, fixtures and README row")
    return 0


if __name__ == "__main__":
    sys.exit(main())
