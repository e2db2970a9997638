#!/usr/bin/env python3
"""Prints the performance figures from the last cold-start run under the
Lambda CPU model (target/bench/coldstart.json, bench/coldstart.py): per memory
size, each function and the floor (init, first response, warm p50/p99, peak
RSS), the comparison of start-up set-ups when the run had several, the cost
of a million requests per function and memory size, the memory size with the
best latency per dollar, and the cold-start target at 128 MB. Writes the same
text to bench/results.md.

    python3 bench/report.py [--out bench/results.md]

`bash bench/run.sh` runs everything and then this. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "lambda-floor"

# Prices, US East (N. Virginia), as listed on the AWS pricing pages on the
# date below (the bench does not fetch them).
PRICES_AS_OF = "2026-11-25"
LAMBDA_ARM64_PER_GB_S = 0.0000133334  # first 7.5 billion GB-s a month
LAMBDA_PER_REQUEST = 0.20 / 1e6
DYNAMODB_PER_RRU = 0.125 / 1e6  # on-demand, Standard table class
DYNAMODB_PER_WRU = 0.625 / 1e6
# The cold-start target at 128 MB: cold total within 20% of the floor's cold
# total plus the function's own store round trips (its warm request).
TARGET_MEMORY = "128"
TARGET_SLACK = 1.2
INIT_BOUND = 1.5  # a function's init against the floor's
# The in-process warm-path target: 100 µs a request, 1 ms for the lists
# whose benched fixture asks for a page of 250.
WARM_TARGET_US = 100.0
WARM_TARGET_US_OVERRIDES = {"list-access-request-status": 1000.0, "list-pending-approvals": 1000.0}


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


def ms(v, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def table(header: list[str], rows: list[list]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
            *[line(r) for r in rows]]


def lambda_cost_per_million(billed_ms: float, memory_mb: int) -> float:
    """Lambda (arm64) for a million requests of `billed_ms` each, requests included."""
    return 1e6 * (billed_ms / 1000 * memory_mb / 1024 * LAMBDA_ARM64_PER_GB_S
                  + LAMBDA_PER_REQUEST)


def dynamodb_cost_per_million(units: dict | None) -> float | None:
    if not units:
        return None
    return 1e6 * (units["rru"] * DYNAMODB_PER_RRU + units["wru"] * DYNAMODB_PER_WRU)


def warm_median_us(criterion_dir: Path, function: str) -> float | None:
    path = criterion_dir / "warm" / function / "new" / "estimates.json"
    try:
        return json.loads(path.read_text())["median"]["point_estimate"] / 1000.0
    except (OSError, KeyError, ValueError):
        return None


def explained(log_dir: Path, function: str, error: str) -> str:
    """An error answer shortened to its status and tracking id, with the
    cause the function logged under that id (its log from the run, in
    `log_dir`, where bench/coldstart.py writes it beside its JSON)."""
    found = re.search(r'trackingId\W+([0-9a-f]{32})', error)
    if not found:
        return error[:240]
    tracking = found.group(1)
    head = error.split(":", 2)
    short = f"{':'.join(head[:2])}, tracking id {tracking}"
    try:
        with open(log_dir / f"{function}.log") as log:
            for line in log:
                if tracking in line:
                    record = json.loads(line)
                    return (f"{short}; the function logged {record.get('status')} after "
                            f"{record.get('latency_ms', 0):.0f} ms: {record.get('error')}")
    except (OSError, ValueError):
        pass
    return short


def failures(cold: dict, log_dir: Path) -> list[str]:
    """What failed in the run, and the store calls that were slower than the
    functions' client waits for an attempt: a failed start is left out of
    the medians, so the report says what it was."""
    out = []
    for variant, by_memory in cold["cells"].items():
        for memory, by_name in by_memory.items():
            for name, s in by_name.items():
                # The floor runs once per memory size; its cell is copied
                # into every variant's.
                if name == FLOOR and variant != cold["variants"][0]:
                    continue
                for error in s.get("errors", []):
                    out.append(f"- {name} ({variant}, {memory} MB): "
                               f"{explained(log_dir, name, error)}")
    slow = cold.get("slow_store_calls") or {}
    if slow.get("count"):
        out.append(
            f"- moto_server took longer than the functions' {slow['over_ms']} ms attempt "
            f"timeout to answer {slow['count']} store call(s), the slowest "
            f"{slow['slowest_ms']:.0f} ms (`bench/tls_front.py`'s log): each such attempt is "
            "given up and retried, and the request fails (a 500, a dependency failure) when "
            "the slowness outlasts its budget.")
    if not out:
        return []
    return ["Failures (left out of the medians):", "", *out, ""]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--coldstart", type=Path, default=ROOT / "target/bench/coldstart.json")
    ap.add_argument("--tls-check", type=Path, default=ROOT / "target/bench/tls-check.txt")
    ap.add_argument("--criterion", type=Path, default=ROOT / "target/criterion")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results.md")
    args = ap.parse_args()

    try:
        cold = json.loads(args.coldstart.read_text())
    except OSError:
        print(f"report: no {args.coldstart}: run bench/run.sh", file=sys.stderr)
        return 1
    functions = cold["functions"]
    default = cold["default_variant"] if cold["default_variant"] in cold["cells"] \
        else cold["variants"][0]
    cells = cold["cells"][default]
    memories = [str(m) for m in cold["memory_sizes"]]
    units = cold.get("capacity", {})

    def cell(memory: str, name: str, variant: str = default) -> dict:
        return cold["cells"].get(variant, {}).get(memory, {}).get(name, {})

    out: list[str] = []
    load, load_after = cold["load_average_before"], cold["load_average_after"]
    knobs = []
    if cold["variants"] != [cold["default_variant"]]:
        knobs.append("COLDSTART_VARIANTS=" + (
            "all" if len(cold["variants"]) == 4 else ",".join(cold["variants"])))
    if cold["memory_sizes"] != [128, 256, 512, 1024]:
        knobs.append("COLDSTART_MEMORY=" + ",".join(map(str, cold["memory_sizes"])))
    if cold["starts"] != 5:
        knobs.append(f"COLDSTART_STARTS={cold['starts']}")
    if cold["warm"] != 20:
        knobs.append(f"COLDSTART_WARM={cold['warm']}")
    command = " ".join([*knobs, "bash bench/run.sh"])
    out += [
        "# Performance figures: cold starts under the Lambda CPU model, and cost",
        "",
        f"Produced by `{command}` on {cold.get('date') or datetime.date.today().isoformat()}, "
        f"commit {cold.get('commit') or git_commit()}, {platform.machine()} with {cold['cpus']} "
        "CPUs shared with other "
        f"work (1-minute load average {load[0]:.1f} before the cold starts, "
        f"{load_after[0]:.1f} after); the cold starts took {cold['run_seconds'] / 60:.1f} min "
        f"for {len(functions)} functions, {len(memories)} memory sizes and "
        f"{len(cold['variants'])} set-up(s).",
        "",
        "Method (`bench/coldstart.py`): each binary is started as Lambda starts a "
        "`provided.al2023` function, against a Runtime API on loopback. Init runs at full CPU; "
        "from its first `GET /runtime/invocation/next` the process runs in the cgroup of its "
        f"memory size, with a CPU quota of memory/1769 of one core per "
        f"{cold['period_us'] // 1000} ms period "
        "(128 MB: 7.2%). The store is moto_server behind a TLS front on loopback "
        "(`bench/tls_front.py`: an RSA-2048 chain like DynamoDB's, connections kept alive as "
        "DynamoDB keeps them), with a table seeded by the local server and restored after each "
        f"request that wrote ({cold['table_items']} items)"
        + (f"; one GetItem through the front on a kept-alive connection took "
           f"{cold['store_round_trip_ms'][0]:.1f} ms before the run and "
           f"{cold['store_round_trip_ms'][1]:.1f} ms after (DynamoDB: a few ms)"
           if cold.get("store_round_trip_ms") else "")
        + f". Per cell (binary x memory size): "
        f"{cold['starts']} cold starts, medians; {cold['starts'] * cold['warm']} warm requests "
        f"(the same fixture again, {cold['warm_gap_ms']:.0f} ms apart), p50 and p99. "
        "Init = process start → first `next`; first response = process start → the response "
        "to the function's success fixture (routes.toml `smoke[0]`), the cold total; warm = "
        "event handed out → response; CPU = the process's CPU time (schedstat) in init, in "
        "the first request and (p50) in a warm request; peak RSS = VmHWM.",
        "",
    ]
    try:
        check = args.tls_check.read_text().strip()
        out += ["Connections (`bench/tls_front.py --check`, same run):", "",
                *[f"    {line}" for line in check.splitlines()], ""]
    except OSError:
        pass

    # 1. Each function and the floor, at each memory size, as deployed.
    # Page faults per phase: runs from before the harness counted them have none.
    faults = any("faults_init" in c for v in cold["cells"].values()
                 for m in v.values() for c in m.values())
    out += [f"## Each function at each memory size (`{default}`, the default)", ""]
    rows = []
    for memory in memories:
        for name in [FLOOR, *functions]:
            s = cell(memory, name)
            rss = s.get("peak_rss_kb")
            rows.append([
                memory, name + (" (floor)" if name == FLOOR else ""),
                ms(s.get("init_ms")), ms(s.get("first_response_ms")),
                ms(s.get("first_request_ms")),
                ms(s.get("cpu_init_ms"), 2), ms(s.get("cpu_first_ms"), 2),
                ms(s.get("cpu_warm_p50_ms"), 2),
                ms(s.get("warm_p50_ms")), ms(s.get("warm_p99_ms")),
                "n/a" if rss is None else f"{rss / 1024:.1f}",
                *([f"{ms(s.get('faults_init'), 0)} / {ms(s.get('faults_first'), 0)} / "
                   f"{ms(s.get('faults_warm_p50'), 0)}"] if faults else []),
                f"{s.get('failed', 'n/a')}/{s.get('starts', 'n/a')}",
            ])
    out += table(["MB", "binary", "init ms", "first response ms", "first request ms",
                  "CPU init ms", "CPU 1st request ms", "CPU warm request ms", "warm p50 ms",
                  "warm p99 ms", "peak RSS MB",
                  *(["minor faults: init / 1st / warm"] if faults else []),
                  "failed"], rows) + [""]
    out += failures(cold, args.coldstart.parent / "coldstart-logs")

    # 2. The set-ups compared, when the run had several.
    if len(cold["variants"]) > 1:
        out += ["## Start-up set-ups compared (same run, interleaved)", "",
                "Cold total (process start → first response, ms, median) per set-up; "
                "`default` = `DYNAMODB_WARMUP` unset (the warm-up); "
                "`warmup` = DynamoDB client built and connection opened "
                "during init (`DYNAMODB_WARMUP=true`), `lazy` = on the first request "
                "(`DYNAMODB_WARMUP=false`); `builtin` = the compiled-in roots, `bundle` = "
                "the system CA bundle (SSL_CERT_FILE). In brackets: CPU ms of the first "
                "request.", ""]
        rows = []
        for memory in memories:
            for name in functions:
                row = [memory, name]
                for v in cold["variants"]:
                    s = cell(memory, name, v)
                    row.append(f"{ms(s.get('first_response_ms'))} "
                               f"({ms(s.get('cpu_first_ms'), 2)})")
                rows.append(row)
            row = [memory, "**median of functions**"]
            for v in cold["variants"]:
                values = [cell(memory, f, v).get("first_response_ms") for f in functions]
                values = [x for x in values if x is not None]
                row.append(f"**{ms(statistics.median(values))}**" if values else "n/a")
            rows.append(row)
        out += table(["MB", "function", *cold["variants"]], rows) + [""]

    # 3. Request units and cost.
    out += ["## DynamoDB request units per request", "",
            "Counted by `bench/capacity.py` from the calls each function's success request "
            "made (logged by the TLS front) and the sizes of the items they read and wrote; "
            "the calls match the round trips `shared/tests/round_trips.rs` asserts.", ""]
    rows = []
    for name in functions:
        u = units.get(name)
        if not u:
            rows.append([name, "n/a", "n/a", "n/a"])
            continue
        calls = ", ".join(f"{c['operation']} {c['rru']:g} RRU / {c['wru']} WRU"
                          for c in u["calls"])
        rows.append([name, calls, f"{u['rru']:g}", f"{u['wru']}"])
    out += table(["function", "calls", "RRU", "WRU"], rows) + [""]

    out += ["## Cost of a million requests", "",
            f"Prices (US East, N. Virginia, as listed on {PRICES_AS_OF}): Lambda arm64 "
            f"${LAMBDA_ARM64_PER_GB_S:.10f} per GB-second and ${LAMBDA_PER_REQUEST * 1e6:.2f} per "
            "million requests; DynamoDB on-demand (Standard) "
            f"${DYNAMODB_PER_RRU * 1e6:.3f} per million read and ${DYNAMODB_PER_WRU * 1e6:.3f} per "
            "million write request units. Lambda time = the warm p50 rounded up to the "
            "millisecond (Lambda bills by the millisecond). A cold start adds its cold total "
            "less the warm p50 (init is billed for custom runtimes).", ""]
    rows = []
    per_memory = {}
    for memory in memories:
        lat, costs, p99s, colds = [], [], [], []
        for name in functions:
            s = cell(memory, name)
            p50 = s.get("warm_p50_ms")
            ddb = dynamodb_cost_per_million(units.get(name))
            if p50 is None:
                continue
            lam = lambda_cost_per_million(math.ceil(p50), int(memory))
            total = lam + (ddb or 0.0)
            extra = None
            if s.get("first_response_ms") is not None:
                extra = (math.ceil(s["first_response_ms"]) - math.ceil(p50)) / 1000 \
                    * int(memory) / 1024 * LAMBDA_ARM64_PER_GB_S
            rows.append([memory, name, ms(p50), ms(s.get("warm_p99_ms")),
                         f"{lam:.3f}", "n/a" if ddb is None else f"{ddb:.3f}", f"{total:.3f}",
                         "n/a" if extra is None else f"{extra * 1e6:.2f}"])
            lat.append(p50)
            costs.append(total)
            p99s.append(s.get("warm_p99_ms") or p50)
            colds.append(s.get("first_response_ms") or 0.0)
        if lat:
            per_memory[memory] = {
                "p50": statistics.mean(lat), "p99": statistics.mean(p99s),
                "cost": statistics.mean(costs), "cold": statistics.mean(colds),
            }
    out += table(["MB", "function", "warm p50 ms", "warm p99 ms", "Lambda $/1M",
                  "DynamoDB $/1M", "total $/1M", "cold start adds $/1M cold starts"], rows)
    out += [""]

    if per_memory:
        best = min(per_memory, key=lambda m: per_memory[m]["p50"] * per_memory[m]["cost"])
        rows = []
        for memory, v in per_memory.items():
            rows.append([memory + (" ←" if memory == best else ""), ms(v["cold"]),
                         ms(v["p50"]), ms(v["p99"]), f"{v['cost']:.3f}",
                         f"{v['p50'] * v['cost']:.2f}", f"{v['p99'] * v['cost']:.2f}"])
        out += ["## Latency per dollar", "",
                "Means over the functions. Score = warm p50 × total cost of a million "
                "requests (lower is better: latency bought per dollar); the p99 score for "
                "comparison.", ""]
        out += table(["MB", "cold total ms", "warm p50 ms", "warm p99 ms", "$/1M requests",
                      "p50 × $ (score)", "p99 × $"], rows)
        out += ["", f"Best latency per dollar: **{best} MB**.", ""]

    # 4. The bounds at 128 MB, for every set-up of the run.
    if TARGET_MEMORY in cells:
        floor = cell(TARGET_MEMORY, FLOOR)
        floor_cold, floor_init = floor.get("first_response_ms"), floor.get("init_ms")
        out += [f"## Target at {TARGET_MEMORY} MB", "",
                "Cold total ≤ (the floor's cold total + the function's own store round trips, "
                f"its warm p50 at the same size) × {TARGET_SLACK}; and, beside it, init against "
                f"the floor's (bound: ≤ {INIT_BOUND}×). The floor: cold total "
                f"{ms(floor_cold)} ms, init {ms(floor_init)} ms.", ""]
        for variant in cold["variants"]:
            rows, holds, init_holds, misses = [], 0, 0, []
            for name in functions:
                s = cell(TARGET_MEMORY, name, variant)
                first, warm, init = (s.get("first_response_ms"), s.get("warm_p50_ms"),
                                     s.get("init_ms"))
                if None in (first, warm, init, floor_cold, floor_init):
                    rows.append([name, "n/a", "n/a", "n/a", "n/a"])
                    continue
                budget = (floor_cold + warm) * TARGET_SLACK
                ratio = init / floor_init
                within, init_within = first <= budget, ratio <= INIT_BOUND
                holds += within
                init_holds += init_within
                if not within:
                    misses.append(first - budget)
                rows.append([name,
                             f"{first:.1f} {'≤' if within else '>'} {budget:.1f}",
                             "holds" if within else "**missed**",
                             f"{init:.1f} ({ratio:.1f}×)",
                             "holds" if init_within else "**missed**"])
            summary = (f"The cold total holds for {holds} of {len(functions)}"
                       + (f" (misses {min(misses):.1f}–{max(misses):.1f} ms, median "
                          f"{statistics.median(misses):.1f} ms)" if misses else "")
                       + f"; init within {INIT_BOUND}× the floor's for {init_holds} of "
                       f"{len(functions)}.")
            out += [f"### {variant}", "", summary, ""]
            out += table(["function", "cold total ms ≤ budget", "cold total",
                          "init ms (× floor's)", "init"], rows) + [""]

    # 5. Sizes and the in-process warm path, when measured.
    rows = []
    for name in functions:
        zipped = cold.get("zipped_bytes", {}).get(name)
        us = warm_median_us(args.criterion, name)
        target = WARM_TARGET_US_OVERRIDES.get(name, WARM_TARGET_US)
        rows.append([name, "n/a" if zipped is None else f"{zipped / 1e6:.2f} MB",
                     "n/a" if us is None else f"{us:.1f} µs (≤ {target:.0f} µs)"])
    out += ["## Bundle size and in-process handler time", "",
            "Zipped arm64 bootstrap (`BENCH_LAMBDA_BUILD=1`, ≤ 4 MB) and the handler's median "
            "on the in-process store (criterion, `BENCH_WARM=1`); n/a when not run.", ""]
    out += table(["function", "zipped arm64", "in-process median"], rows) + [""]

    text = "\n".join(out)
    print(text)
    args.out.write_text(text)
    shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"(written to {shown}; load average now {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
