#!/usr/bin/env python3
"""The local server with a big seed, as a user meets it: starts `local-api
--seed FILE --port 0` (the in-process store), waits for its banner, reads
its resident memory, then times the list pages a tenant administrator opens
first, over HTTP with a token from its /oauth/token (median of REPEAT).

    python3 bench/scale_local.py target/release/local-api seed.json [REPEAT]

Prints one JSON line per seed: seconds to ready, resident and peak memory in
MB (before the pages), and each page's median milliseconds and status.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

EVE = "2c9180835d191a86015d28455b4a0003"

# The pages, limit 10: the tenant's status (ORG_ADMIN), with its count, one
# identity's, a created filter, and the admin's completed approvals.
PAGES = [
    ("status, tenant", "/v3/access-request-status", {}),
    ("status, tenant, count=true", "/v3/access-request-status", {"count": "true"}),
    ("status, requested-for one identity", "/v3/access-request-status", {"requested-for": EVE}),
    ("status, created gt", "/v3/access-request-status",
     {"filters": "created gt 2025-06-01T00:00:00Z"}),
    ("completed approvals (v3)", "/v3/access-request-approvals/completed", {}),
    ("completed approvals (beta)", "/beta/access-request-approvals/completed", {}),
]


def memory_mb(pid: int) -> dict:
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields


def token(base: str) -> str:
    body = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "acme-admin",
                                   "client_secret": "acme-admin-secret"}).encode()
    with urllib.request.urlopen(f"{base}/oauth/token", body, timeout=30) as r:
        return json.load(r)["access_token"]


def timed(base: str, bearer: str, path: str, query: dict, repeat: int) -> dict:
    url = f"{base}{path}?" + urllib.parse.urlencode({"limit": "10", **query})
    times, status = [], None
    for _ in range(repeat):
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {bearer}"})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            e.read()
            status = e.code
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "status": status}


def main() -> int:
    binary, seed = sys.argv[1], sys.argv[2]
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    started = time.perf_counter()
    proc = subprocess.Popen([binary, "--seed", seed, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if "http://" not in line:
                continue
            ready = time.perf_counter() - started
            mem = memory_mb(proc.pid)
            base = "http://" + line.split("http://", 1)[1].split()[0].rstrip("/.,")
            bearer = token(base)
            pages = {name: timed(base, bearer, path, query, repeat)
                     for name, path, query in PAGES}
            print(json.dumps({"seed": seed, "ready_s": round(ready, 2),
                              "rss_mb": round(mem.get("VmRSS", 0)),
                              "peak_rss_mb": round(mem.get("VmHWM", 0)),
                              "pages": pages}))
            return 0
        print(json.dumps({"seed": seed, "error": "exited before it was ready"}))
        return 1
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    sys.exit(main())
