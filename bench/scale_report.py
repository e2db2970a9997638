#!/usr/bin/env python3
"""Writes bench/results-scale.md from the scale benchmark's outputs in a
folder (bench/scale.sh): memory.jsonl and dynamodb.jsonl (bench-scale run,
one JSON line per history size), rss.json (bench/scale_rss.py) and
local.jsonl (bench/scale_local.py).

    python3 bench/scale_report.py target/bench/scale > bench/results-scale.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# The calls whose time must not grow with the history: every list's first
# page in its default order, and its total without filters.
BOUNDED = ("first page", "count=true")
RATIO_BOUND = 1.5


def load_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def table(runs: list[dict], store: str) -> list[str]:
    if not runs:
        return [f"No {store} run.", ""]
    sizes = [r["n"] for r in runs]
    out = [f"### {store}", ""]
    out.append("| history | load | RSS after load |")
    out.append("|---|---|---|")
    for r in runs:
        out.append(f"| {r['n']:,} | {r['load_s']:.1f} s | {r['rss_mb_after_load']:.0f} MB |")
    out.append("")
    head = "| call | " + " | ".join(f"{n:,}: ms / items / calls" for n in sizes)
    head += f" | {sizes[-1]:,} ÷ {sizes[0]:,} |"
    out.append(head)
    out.append("|---" * (len(sizes) + 2) + "|")
    calls = [c["call"] for c in runs[0]["results"]]
    worst = []
    for name in calls:
        cells = []
        times = []
        for r in runs:
            c = next(c for c in r["results"] if c["call"] == name)
            times.append(c["median_ms"])
            status = "" if c["status"] == "200" else f" ({c['status']})"
            cells.append(f"{c['median_ms']:.2f} / {c['items_read']} / {c['calls']}{status}")
        ratio = times[-1] / times[0] if times[0] > 0 else float("inf")
        bounded = name.endswith(BOUNDED) and "filter" not in name and "not the key order" not in name
        mark = ""
        if bounded:
            worst.append((ratio, name))
            mark = " ✓" if ratio <= RATIO_BOUND else " ✗"
        out.append(f"| {name} | " + " | ".join(cells) + f" | {ratio:.2f}×{mark} |")
    out.append("")
    if worst:
        ratio, name = max(worst)
        held = sum(1 for r, _ in worst if r <= RATIO_BOUND)
        out.append(f"Default-order first pages and unfiltered totals: {held} of {len(worst)} "
                   f"within {RATIO_BOUND}× from {sizes[0]:,} to {sizes[-1]:,}; "
                   f"the largest ratio is {ratio:.2f}× ({name}).")
        out.append("")
    return out


def main() -> int:
    folder = Path(sys.argv[1])
    lines = ["# Scale benchmark results", "",
             "Made by `bash bench/scale.sh` (see bench/README.md, \"Scale\"). Each cell: the median",
             "time of the call (ms), the items the store read for it, and its store calls.",
             "Items read are DynamoDB's `ScannedCount` and the items a read found (the",
             "in-process store counts the same). ✓/✗: within 1.5× of the smallest history.",
             ""]
    lines += table(load_lines(folder / "memory.jsonl"), "In-process store")
    lines += table(load_lines(folder / "dynamodb.jsonl"), "DynamoDB (moto_server)")
    rss_path = folder / "rss.json"
    if rss_path.exists():
        rss = json.loads(rss_path.read_text())
        lines += ["### Peak memory of the function binaries serving the largest pages", "",
                  "| function | query | history | peak RSS | error |", "|---|---|---|---|---|"]
        for r in rss:
            query = "&".join(f"{k}={v}" for k, v in r["query"].items())
            peak = f"{r['peak_rss_kb'] / 1024:.1f} MB" if r.get("peak_rss_kb") else "–"
            lines.append(f"| {r['function']} | `{query}` | {r['n']:,} | {peak} | {r['error'] or ''} |")
        lines.append("")
    local = load_lines(folder / "local.jsonl")
    if local:
        lines += ["### The local server with a big seed (`cargo run -p local-api -- --seed FILE`)", "",
                  "Load time and memory, then each page (limit 10) over HTTP as ORG_ADMIN, "
                  "median of 21 (bench/scale_local.py):", ""]
        names = list(local[0].get("pages", {}))
        lines += ["| | " + " | ".join(f"{Path(r['seed']).stem}" for r in local) + " |",
                  "|---|" + "---|" * len(local)]
        lines.append("| ready | " + " | ".join(f"{r.get('ready_s', '–')} s" for r in local) + " |")
        lines.append("| resident memory | " + " | ".join(f"{r.get('rss_mb', '–')} MB" for r in local) + " |")
        for name in names:
            cells = []
            for r in local:
                page = r.get("pages", {}).get(name)
                cells.append("–" if page is None else
                             f"{page['median_ms']} ms" + ("" if page["status"] == 200 else f" ({page['status']})"))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
