#!/usr/bin/env python3
"""The peak memory of the function binaries serving the largest list pages,
at each history size the scale benchmark left a table for (`scale-<n>`, on
the DynamoDB-compatible server named by DYNAMODB_TEST_ENDPOINT).

    python3 bench/scale_rss.py --sizes 1000,10000,100000 --out rss.json

Each function binary (release, target/release/<function>) runs under the
Runtime API harness of bench/coldstart.py, as Lambda runs it, and answers
its page a few times; the peak RSS is VmHWM of /proc/<pid>/status. Prints
and writes one entry per (function, page, size).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import coldstart  # noqa: E402  (the Runtime API harness)

# The local development secret the fixtures' tokens are signed with
# (shared::state::LOCAL_HS256_SECRET).
SECRET = "local-development-secret-not-for-production"

# (function, fixture to start from, its query string): the largest pages.
PAGES = [
    ("list-access-request-status", "admin-count-paged",
     {"limit": "250", "count": "true"}),
    ("list-access-request-status", "admin-count-paged",
     {"limit": "250", "count": "true", "filters": "created gt 2025-06-01T12:00:00Z"}),
    ("list-completed-approvals", "admin-filters", {"limit": "250", "count": "true"}),
]


def event(function: str, case: str, query: dict) -> bytes:
    e = json.loads(coldstart.load_event(function, case))
    e["queryStringParameters"] = dict(query)
    e["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return json.dumps(e).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--answers", type=int, default=3)
    args = parser.parse_args()
    endpoint = os.environ["DYNAMODB_TEST_ENDPOINT"]
    results = []
    with tempfile.TemporaryFile() as log:
        for n in [int(s) for s in args.sizes.split(",")]:
            for function, case, query in PAGES:
                binary = ROOT / "target" / "release" / function
                config = {
                    "TABLE_NAME": f"scale-{n}",
                    "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                    "AWS_REGION": "us-east-1",
                    "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing",
                    "JWT_HS256_SECRET": SECRET,
                    "RUST_LOG": "info",
                }
                env = coldstart.lambda_env(function, "", binary, 256, config)
                result = coldstart.run_start(
                    function, binary, event(function, case, query), env, log,
                    quota=None, warm=args.answers - 1, warm_gap_s=0.0)
                entry = {
                    "n": n,
                    "function": function,
                    "query": query,
                    "peak_rss_kb": result.get("peak_rss_kb"),
                    "first_request_ms": result.get("first_request_ms"),
                    "warm_ms": result.get("warm_ms"),
                    "error": result.get("error"),
                }
                print(json.dumps(entry), flush=True)
                results.append(entry)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    return 1 if any(r["error"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
