#!/usr/bin/env python3
"""Medians over every cold start of each build that bench/ab.sh ran.

    python bench/ab_summary.py --function F --memory MB LABEL=coldstart.json ...

Pools the starts of all the runs given for one label (bench/coldstart.py
keeps each start's figures under `samples`), and the floor's of the same
runs, so that two builds run in alternation are compared on the same
machine load.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict

FIGURES = [
    ("init_ms", "init"),
    ("cpu_init_ms", "CPU init"),
    ("first_request_ms", "1st request"),
    ("cpu_first_ms", "CPU 1st"),
    ("first_response_ms", "cold total"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--function", required=True)
    parser.add_argument("--memory", required=True)
    parser.add_argument("runs", nargs="+", metavar="LABEL=JSON")
    args = parser.parse_args()

    starts: dict[str, list[dict]] = defaultdict(list)
    floor: dict[str, list[dict]] = defaultdict(list)
    for run in args.runs:
        label, path = run.split("=", 1)
        with open(path) as f:
            cells = json.load(f)["cells"]
        for variant in cells.values():
            cell = variant[str(args.memory)]
            starts[label] += [s for s in cell[args.function]["samples"] if not s.get("error")]
            floor[label] += [s for s in cell["lambda-floor"]["samples"] if not s.get("error")]

    print(f"{args.function} at {args.memory} MB: medians over every start, ms")
    header = f"{'build':<12}{'starts':>7}" + "".join(f"{name:>13}" for _, name in FIGURES)
    print(header + f"{'floor init':>13}{'floor cold':>13}")
    for label, samples in starts.items():
        row = f"{label:<12}{len(samples):>7}"
        for key, _ in FIGURES:
            row += f"{statistics.median(s[key] for s in samples):>13.2f}"
        row += f"{statistics.median(s['init_ms'] for s in floor[label]):>13.2f}"
        row += f"{statistics.median(s['first_response_ms'] for s in floor[label]):>13.2f}"
        print(row)


if __name__ == "__main__":
    main()
