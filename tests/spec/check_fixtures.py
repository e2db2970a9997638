#!/usr/bin/env python3
"""Validates every expected response under events/ against the official
fragments (openapi/), and the route table against the fragments.

- Every route of routes.toml, under each of its versions, is an operation of
  the fragments with the same operation id, and the fragments hold no other.
- Every `events/<function>/<case>.expected.json` is the response to the
  request of `<case>.json`: its body is validated against the schema that
  operation documents for its `statusCode` (errors included), with the
  placeholders (`<id>`, `<tracking-id>`, `<timestamp>`) replaced by values of
  their shape.

Prints each violation and a count per operation, then
`spec fixtures: N passed, F failed`; exits 1 on any violation.

    python tests/spec/check_fixtures.py
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from openapi_check import ROOT, Spec, unnamed  # noqa: E402
from routes import routes  # noqa: E402

EVENTS = ROOT / "events"
# A value of each placeholder's shape (events/README.md).
PLACEHOLDERS = {
    "<id>": "0123456789abcdef0123456789abcdef",
    "<tracking-id>": "fedcba9876543210fedcba9876543210",
    "<timestamp>": "2026-12-10T09:30:00.000Z",
}
PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))


def fill(value):
    """`value` with each placeholder string replaced by a value of its shape."""
    if isinstance(value, str):
        if value == "<any>":
            raise ValueError("an `<any>` value cannot be validated: write the value")
        return PLACEHOLDER.sub(lambda m: PLACEHOLDERS[m.group(0)], value)
    if isinstance(value, list):
        return [fill(v) for v in value]
    if isinstance(value, dict):
        return {k: fill(v) for k, v in value.items()}
    return value


def request_of(event: dict) -> tuple[str, str]:
    """(method, path without the stage) of an API Gateway proxy event, 1.0 or 2.0."""
    if event.get("version") == "2.0":
        return event["requestContext"]["http"]["method"], event["rawPath"]
    return event["httpMethod"], event["path"]


def check_routes(spec: Spec) -> list[str]:
    problems = []
    expected = set()
    for r in routes():
        for version in r["versions"]:
            expected.add((version, r["method"], unnamed(r["path"])))
            op = spec.find(version, r["method"], r["path"])
            if op is None:
                problems.append(f"routes.toml: {version} {r['method']} {r['path']} "
                                "is in no fragment")
            elif op.operation_id.rstrip("s") != r["operation"].rstrip("s"):
                # beta names its list `listNonEmployeeApproval`.
                problems.append(f"routes.toml: {version} {r['method']} {r['path']} is "
                                f"{op.operation_id} in {op.fragment}, not {r['operation']}")
    for op in spec.operations:
        if (op.version, op.method, unnamed(op.template)) not in expected:
            problems.append(f"{op.fragment}: {op.operation_id} is served by no route")
    return problems


def main() -> int:
    spec = Spec()
    route_problems = check_routes(spec)
    problems = list(route_problems)
    passed = failed = 0
    per_operation = Counter()
    for expected_file in sorted(EVENTS.glob("*/*.expected.json")):
        event_file = expected_file.with_name(expected_file.name.replace(".expected.json", ".json"))
        case = f"{expected_file.parent.name}/{event_file.stem}"
        event = json.loads(event_file.read_text(encoding="utf-8"))
        expected = json.loads(expected_file.read_text(encoding="utf-8"))
        method, path = request_of(event)
        op = spec.operation(method, path)
        found = spec.check(method, path, expected["statusCode"], fill(expected["body"]))
        if op is not None:
            per_operation[(op.version, op.operation_id)] += 1
        if found:
            failed += 1
            problems += [f"{case}: {p}" for p in found]
        else:
            passed += 1
    for p in problems:
        print(f"VIOLATION {p}")
    missing = [f"{op.version} {op.operation_id}" for op in spec.operations
               if not per_operation[(op.version, op.operation_id)]]
    print(f"validated the expected responses of {len(per_operation)} of "
          f"{len(spec.operations)} operations"
          + (f" (no fixture for: {', '.join(sorted(missing))})" if missing else ""))
    print(f"spec fixtures: {passed} passed, {failed + len(route_problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
