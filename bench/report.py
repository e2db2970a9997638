#!/usr/bin/env python3
"""Prints the performance table of issue 6 from the last runs of the
cold-start harness (target/bench/coldstart.json) and the warm-path criterion
benches (target/criterion/warm/<function>/new/estimates.json), checks the
targets, and writes the same text to bench/results.md.

    python3 bench/report.py [--out bench/results.md]

`bash bench/run.sh` runs everything and then this. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "lambda-floor"
FUNCTIONS = [
    "create-access-request",
    "cancel-access-request",
    "close-access-request",
    "list-access-request-status",
    "reject-non-employee-request",
]
# Warm handler targets, in microseconds.
WARM_TARGET_US = {f: 100.0 for f in FUNCTIONS} | {"list-access-request-status": 1000.0}
WARM_WHAT = {
    "create-access-request": "submit, 1 identity x 1 item",
    "cancel-access-request": "cancel",
    "close-access-request": "close, 1 id",
    "list-access-request-status": "status, page of 250",
    "reject-non-employee-request": "reject",
}
INIT_RATIO_TARGET = 1.5
RSS_TARGET_MB = 32.0
ZIP_TARGET_MB = 4.0


def warm_median_us(criterion_dir: Path, function: str) -> float | None:
    path = criterion_dir / "warm" / function / "new" / "estimates.json"
    try:
        return json.loads(path.read_text())["median"]["point_estimate"] / 1000.0
    except (OSError, KeyError, ValueError):
        return None


def fmt_us(us: float | None) -> str:
    if us is None:
        return "n/a"
    return f"{us:.1f} µs" if us < 1000 else f"{us / 1000:.2f} ms"


def zipped_note(name: str) -> str:
    """Flags a cargo-lambda bootstrap older than the release binary just measured."""
    bootstrap = ROOT / "target/lambda" / name / "bootstrap"
    binary = ROOT / "target/release" / name
    try:
        if bootstrap.stat().st_mtime < binary.stat().st_mtime:
            return " (stale? older than target/release)"
    except OSError:
        pass
    return ""


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return out + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--coldstart", type=Path, default=ROOT / "target/bench/coldstart.json")
    ap.add_argument("--criterion", type=Path, default=ROOT / "target/criterion")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results.md")
    args = ap.parse_args()

    try:
        cold = json.loads(args.coldstart.read_text())
    except OSError:
        cold = {"functions": {}, "modes": []}
        print(f"report: no {args.coldstart}: run bench/coldstart.py", file=sys.stderr)
    fns = cold["functions"]
    has_on = "on" in cold.get("modes", [])

    def m(name: str, mode: str, key: str):
        return fns.get(name, {}).get(f"warmup_{mode}", {}).get(key)

    def ms(v):
        return "n/a" if v is None else f"{v:.1f}"

    header = ["function", "init ms", "× floor", "first response ms", "peak RSS MB",
              "zipped arm64 bootstrap", "warm median"]
    if has_on:
        header += ["init ms, warm-up on", "first response ms, warm-up on"]
    rows = []
    for name in [FLOOR, *FUNCTIONS]:
        if name not in fns and name != FLOOR and warm_median_us(args.criterion, name) is None:
            continue
        zipped = fns.get(name, {}).get("zipped_bytes")
        rss = m(name, "off", "peak_rss_kb")
        ratio = m(name, "off", "init_ratio")
        warm = "—" if name == FLOOR else (
            f"{fmt_us(warm_median_us(args.criterion, name))} ({WARM_WHAT[name]})")
        row = [
            name + (" (floor)" if name == FLOOR else ""),
            ms(m(name, "off", "init_ms")),
            "n/a" if ratio is None else f"{ratio:.2f}",
            ms(m(name, "off", "first_response_ms")),
            "n/a" if rss is None else f"{rss / 1024:.1f}",
            "n/a — run scripts/lambda_build.sh" if zipped is None
            else f"{zipped / 1e6:.2f} MB{zipped_note(name)}",
            warm,
        ]
        if has_on:
            row += [ms(m(name, "on", "init_ms")), ms(m(name, "on", "first_response_ms"))]
        rows.append(row)

    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    table = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    table += [line(r) for r in rows]

    # Targets.
    checks = []
    rtt = cold.get("store_round_trip_ms")
    floor_init = m(FLOOR, "off", "init_ms")
    floor_first = m(FLOOR, "off", "first_response_ms")
    for name in FUNCTIONS:
        if name not in fns:
            continue
        ratio = m(name, "off", "init_ratio")
        if ratio is not None:
            checks.append((ratio <= INIT_RATIO_TARGET,
                           f"{name}: init {ratio:.2f}× floor (≤ {INIT_RATIO_TARGET}×)"))
        first = m(name, "off", "first_response_ms")
        store = m(name, "off", "warm_response_ms")
        if first is not None and floor_first is not None and store is not None:
            budget = 2 * floor_first + store
            literal = f"; 2× floor + one GetItem = {2 * floor_first + rtt:.1f} ms" if rtt else ""
            checks.append((first <= budget,
                           f"{name}: first response {first:.1f} ms (≤ 2 × floor {floor_first:.1f} "
                           f"+ its store round trips {store:.1f} = {budget:.1f} ms{literal})"))
        rss = m(name, "off", "peak_rss_kb")
        if rss is not None:
            checks.append((rss / 1024 <= RSS_TARGET_MB,
                           f"{name}: peak RSS {rss / 1024:.1f} MB (≤ {RSS_TARGET_MB:.0f} MB)"))
        zipped = fns[name].get("zipped_bytes")
        if zipped is not None:
            checks.append((zipped / 1e6 <= ZIP_TARGET_MB,
                           f"{name}: zipped bootstrap {zipped / 1e6:.2f} MB (≤ {ZIP_TARGET_MB:.0f} MB)"))
    for name in FUNCTIONS:
        us = warm_median_us(args.criterion, name)
        if us is not None:
            checks.append((us <= WARM_TARGET_US[name],
                           f"{name}: warm median {fmt_us(us)} (≤ {fmt_us(WARM_TARGET_US[name])})"))

    load = cold.get("load_average_before")
    load_after = cold.get("load_average_after")
    lines = [
        "# Performance figures (issue 6)",
        "",
        "Produced by `bash bench/run.sh` "
        f"on {datetime.date.today().isoformat()}, commit {git_commit()}, "
        f"{platform.machine()} with {cold.get('cpus') or os.cpu_count()} CPUs"
        + (f", 1-minute load average {load[0]:.1f} before the cold starts and "
           f"{load_after[0]:.1f} after" if load and load_after else "")
        + ".",
        "",
        f"Cold starts: median of {cold.get('starts', 'n/a')} starts per binary, interleaved with the "
        "floor (a bare `lambda_http` function, same profile) in the same run, on DynamoDB "
        "(moto_server)"
        + (f"; one store round trip (GetItem, new connection) took {rtt:.1f} ms" if rtt else "")
        + ". Init = process start → first `GET /runtime/invocation/next`; first response = "
        "process start → the response to the function's success fixture; its store round trips = "
        "the same request again on the now-warm process (table restored), from event to "
        "response; peak RSS = VmHWM after the first response. The first columns are as deployed (`DYNAMODB_WARMUP` unset: the "
        "DynamoDB client is built on the first request); the last two with `DYNAMODB_WARMUP=true` (the "
        "client built and one GetItem sent during init). Warm median: the handler end "
        "to end on the in-process store (criterion, `cargo bench -p bench-warm`).",
        "",
        *table,
        "",
        "Targets:",
        "",
        *[f"- {'holds' if ok else '**MISSED**'}: {text}" for ok, text in checks],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.write_text(text)
    print(f"(written to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
