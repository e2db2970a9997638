#!/usr/bin/env python3
"""The fault stage of the test command: the mixed workload (workload.py)
against the local API on DynamoDB (moto_server) behind the fault proxy
(proxy.py), in three configurations:

    token-replay     the proxy replays ClientRequestToken as DynamoDB does;
                     clients retry without Idempotency-Key
    no-token-replay  it forwards every retry, as moto does; no key
    idempotency-key  no token replay; clients send Idempotency-Key on POSTs

then the figure: calls made, faults injected by kind, 5xx answered,
invariants checked, violations (must be 0). Run under scripts/with-moto.sh:

    bash scripts/with-moto.sh python tests/faults/run.py

Options: --rate (0.2), --seed (1), --clients (4), --calls per client (40),
--budget-ms (the local server's REQUEST_BUDGET_MS, 3000), --only CONFIG.
Bounded: each configuration stops after 150 s (CONFIG_SECS), the proxy after 300 s or
200,000 calls. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import fixtures  # noqa: E402
from proxy import KINDS, FaultProxy  # noqa: E402

# Each configuration ends within this (the workload's mixed phase within 120 s).
CONFIG_SECS = 150
CONFIGS = {
    "token-replay": {"replay_tokens": True, "keys": False},
    "no-token-replay": {"replay_tokens": False, "keys": False},
    "idempotency-key": {"replay_tokens": False, "keys": True},
}


def run_config(name: str, args, seed_file: Path, work: Path) -> dict:
    config = CONFIGS[name]
    moto = os.environ["DYNAMODB_TEST_ENDPOINT"]
    proxy = FaultProxy(moto, rate=args.rate, seed=args.seed, replay_tokens=config["replay_tokens"],
                       enabled=False, max_calls=200_000, max_seconds=300).start()
    result_file = work / f"{name}.json"
    env = dict(os.environ)
    env.update({
        "TABLE_NAME": f"faults-{name}-{os.getpid()}",
        "AWS_ENDPOINT_URL_DYNAMODB": proxy.url,
        "FAULT_PROXY": proxy.url,
        "SEED_FILE": str(seed_file),
        "JWT_HS256_SECRET": "fault-run-secret",
        "REQUEST_BUDGET_MS": str(args.budget_ms),
        "RUST_LOG": env.get("RUST_LOG", "warn"),
    })
    command = ["bash", "scripts/local_api.sh", sys.executable, str(HERE / "workload.py"),
               "--config", name, "--seed", str(args.seed), "--clients", str(args.clients),
               "--calls", str(args.calls), "--result", str(result_file)]
    if config["keys"]:
        command.append("--keys")
    # Its own process group: on timeout the script, the server and the
    # workload end together.
    child = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        status = child.wait(timeout=CONFIG_SECS)
    except subprocess.TimeoutExpired:
        status = f"timed out after {CONFIG_SECS} s"
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(child.pid, sig)
                child.wait(timeout=10)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue
    finally:
        proxy.stop()
    if not result_file.exists():
        return {"config": name, "error": f"the workload ended without a result ({status})", "violations": ["no result"]}
    result = json.loads(result_file.read_text())
    result["exit"] = status
    return result


def figure(results: list[dict], args, secs: float) -> str:
    lines = [
        f"fault figure: rate {args.rate}, seed {args.seed}, {args.clients} clients × {args.calls} calls, "
        f"budget {args.budget_ms} ms, {secs:.0f} s",
        "",
        "| configuration | API calls (retries) | store calls | faults injected | 5xx answered | 429 answered "
        "| slowest answer | invariants checked | violations |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    kinds = Counter()
    for r in results:
        if "error" in r:
            lines.append(f"| {r['config']} | {r['error']} | | | | | | | 1 |")
            continue
        p = r["proxy"]
        kinds.update(p["faults"])
        lines.append(
            f"| {r['config']} | {r['http_calls']} ({r['client_retries']}) | {p['calls_total']} "
            f"| {p['faults_total']} | {r['answers_5xx']} | {r['answers_429']} | {r['max_ms']} ms "
            f"| {r['invariants_checked']} | {len(r['violations'])} |")
    lines.append("")
    lines.append("faults by kind: " + ", ".join(f"{k} {kinds.get(k, 0)}" for k in KINDS))
    for r in results:
        if "error" in r:
            continue
        notes = r.get("notes", {})
        extra = [f"token replays {r['proxy']['token_replays']}"]
        if notes.get("duplicates by client retries without a key"):
            extra.append(f"submits duplicated by a client's retry without a key: "
                         f"{notes['duplicates by client retries without a key']}")
        refused = notes.get("retries without a key refused because their first attempt had landed")
        if refused:
            extra.append(f"retries without a key refused (400/404) by their own first attempt's effect: {refused}")
        lines.append(f"{r['config']}: " + "; ".join(extra))
        for d in r.get("directed", []):
            lines.append(f"    {d['what']}: {d['answers']}, {d['effect']}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--budget-ms", type=int, default=3000)
    parser.add_argument("--only", choices=sorted(CONFIGS))
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    # Before anything starts: every route of routes.toml has its generator.
    from workload import load_routes

    load_routes()
    if "DYNAMODB_TEST_ENDPOINT" not in os.environ:
        print("run under scripts/with-moto.sh (DYNAMODB_TEST_ENDPOINT is not set)", file=sys.stderr)
        return 2
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        work = Path(tmp)
        seed_file = work / "seed.json"
        seed_file.write_text(json.dumps(fixtures.seed()))
        names = [args.only] if args.only else list(CONFIGS)
        results = [run_config(name, args, seed_file, work) for name in names]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(figure(results, args, time.monotonic() - started))
    violations = sum(len(r["violations"]) for r in results)
    for r in results:
        for v in r["violations"][:20]:
            print(f"VIOLATION [{r['config']}] {v}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
