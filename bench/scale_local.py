#!/usr/bin/env python3
"""How long the local server takes to load a seed, and the memory it holds:
starts `local-api --seed FILE --port 0` (the in-process store), waits for
its banner, and reads its resident memory then.

    python3 bench/scale_local.py target/release/local-api seed.json

Prints one JSON line: seconds to ready, resident and peak memory in MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time


def memory_mb(pid: int) -> dict:
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields


def main() -> int:
    binary, seed = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    proc = subprocess.Popen([binary, "--seed", seed, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if "listening" in line.lower() or "http://" in line:
                ready = time.perf_counter() - started
                mem = memory_mb(proc.pid)
                print(json.dumps({"seed": seed, "ready_s": round(ready, 2),
                                  "rss_mb": round(mem.get("VmRSS", 0)),
                                  "peak_rss_mb": round(mem.get("VmHWM", 0))}))
                return 0
        print(json.dumps({"seed": seed, "error": "exited before it was ready"}))
        return 1
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    sys.exit(main())
