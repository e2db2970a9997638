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
    (dest / "local" / "src").mkdir(parents=True)
    shutil.copy(ROOT / "local" / "Cargo.toml", dest / "local" / "Cargo.toml")
    shutil.copy(ROOT / "local" / "src" / "lib.rs", dest / "local" / "src" / "lib.rs")


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
            "its line is missing from handlers! in local/src/lib.rs",
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

        # A handler line gone from the local server's table.
        lib = root / "local" / "src" / "lib.rs"
        text = lib.read_text(encoding="utf-8")
        lib.write_text(text.replace('    "cancel-access-request" => cancel_access_request,\n', ""),
                       encoding="utf-8")
        expect(check_routes.check(root),
               "routes.toml names cancel-access-request: its line is missing from handlers!")
        lib.write_text(text, encoding="utf-8")
        assert check_routes.check(root) == []
    print("check_routes: names each missing piece (a row alone, a crate alone, a handler line gone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
