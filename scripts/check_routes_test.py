#!/usr/bin/env python3
"""scripts/check_routes.py fails, naming the missing piece, on a copy of
the project with: a throwaway route row that has nothing else; a crate
without a row (the reverse); a row whose handler line is gone. It passes
on the copy as it is.

  python3 scripts/check_routes_test.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_routes  # noqa: E402

ROOT = check_routes.ROOT
THROWAWAY = """
[[route]]
operation = "frobnicateWidget"
function = "frobnicate-widget"
method = "POST"
path = "/widgets/frobnicate"
status = 202
idempotent = true
versions = ["v3", "beta"]
scopes = { v3 = ["sp:scopes:all"], beta = ["sp:scopes:all"] }
smoke = ["ok"]
dynamodb_actions = []
dynamodb_indexes = []
"""


def copy(dest: Path) -> None:
    for name in ("routes.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "functions", dest / "functions",
                    ignore=shutil.ignore_patterns("target"))
    shutil.copytree(ROOT / "events", dest / "events")
    (dest / "local").mkdir()
    shutil.copy(ROOT / "local" / "Cargo.toml", dest / "local" / "Cargo.toml")


def expect(problems: list[str], *needles: str) -> None:
    for needle in needles:
        assert any(needle in p for p in problems), f"no problem names {needle!r}: {problems}"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        copy(root)
        assert check_routes.check(root) == [], check_routes.check(root)

        # A row with nothing else: every missing piece is named.
        routes = (root / "routes.toml").read_text(encoding="utf-8")
        (root / "routes.toml").write_text(routes + THROWAWAY, encoding="utf-8")
        expect(
            check_routes.check(root),
            "functions/frobnicate-widget/ (its crate) is missing",
            "local/Cargo.toml lacks its path dependency",
            "events/frobnicate-widget/ (its fixtures) is missing",
            "README.md: the operation table has 0 rows for frobnicateWidget",
        )
        (root / "routes.toml").write_text(routes, encoding="utf-8")

        # The reverse: a crate and fixtures without a row.
        crate = root / "functions" / "orphan-endpoint"
        (crate / "src").mkdir(parents=True)
        (crate / "Cargo.toml").write_text('[package]\nname = "orphan-endpoint"\n', encoding="utf-8")
        (crate / "src" / "lib.rs").write_text("pub async fn handler() {}\n", encoding="utf-8")
        (root / "events" / "orphan-endpoint").mkdir()
        expect(
            check_routes.check(root),
            "functions/orphan-endpoint/ has no row in routes.toml",
            "events/orphan-endpoint/ has no row in routes.toml",
        )
        shutil.rmtree(crate)
        shutil.rmtree(root / "events" / "orphan-endpoint")

        # A path dependency gone from the local server.
        manifest = root / "local" / "Cargo.toml"
        text = manifest.read_text(encoding="utf-8")
        line = next(l for l in text.splitlines(keepends=True) if l.startswith("cancel-access-request"))
        manifest.write_text(text.replace(line, ""), encoding="utf-8")
        expect(check_routes.check(root),
               "routes.toml names cancel-access-request: local/Cargo.toml lacks its path dependency")
        manifest.write_text(text, encoding="utf-8")
        assert check_routes.check(root) == []

        # A function that would carry the set-up tools into its binary.
        manifest = root / "functions" / "cancel-access-request" / "Cargo.toml"
        text = manifest.read_text(encoding="utf-8")
        assert "shared.workspace = true" in text
        manifest.write_text(text.replace(
            "shared.workspace = true",
            'shared = { workspace = true, features = ["dev-tools"] }'), encoding="utf-8")
        expect(check_routes.check(root),
               "functions/cancel-access-request/Cargo.toml: shared with features ['dev-tools']")
        manifest.write_text(text, encoding="utf-8")

        # A status that the README's table does not show.
        (root / "routes.toml").write_text(
            routes.replace('path = "/access-requests/cancel"\nstatus = 202',
                           'path = "/access-requests/cancel"\nstatus = 200'),
            encoding="utf-8")
        expect(check_routes.check(root), "README.md: cancelAccessRequest's row answers '202 `{}`'")
        (root / "routes.toml").write_text(routes, encoding="utf-8")
    print("check_routes: names each missing piece (a row alone, a crate alone, a dependency gone, shared's set-up tools in a function, a status)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
