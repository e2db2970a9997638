"""DynamoDB on-demand request units of the calls one request makes, counted
from item sizes, for the bench's cost table (bench/coldstart.py, bench/report.py).

Input: the calls the TLS front logged (operation, request and response
bodies, bench/tls_front.py) while a function served one request on a table
in a known state (the bench's snapshot, restored before the request). The
rules, from DynamoDB's documentation on item sizes and capacity:

  item size   sum over attributes of len(name) + value size: string and
              binary by length, number ~1 byte per 2 significant digits + 1,
              boolean and null 1, list and map 3 + their elements (+1 each)
  reads       GetItem and each key of BatchGetItem: the item's size rounded
              up to 4 KB (a missing item: the minimum, one unit); Query: the
              items it read, added up, then rounded up to 4 KB (at least one
              unit); a unit is 1 RRU strongly consistent, 0.5 RRU eventually
              consistent (every index read); transactional reads 2 RRU
  writes      PutItem: the larger of the old and the new item, rounded up to
              1 KB, 1 WRU each; in TransactWriteItems 2 WRU each (ConditionCheck
              too); each global secondary index whose entry the write adds,
              changes or removes: its projected entry rounded up to 1 KB, 1 WRU
              (index updates propagate after a transaction, as standard writes)

Standard library only.
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE_DEFINITION = ROOT / "shared/src/store/table-definition.json"


def number_size(text: str) -> int:
    digits = text.lstrip("+-").replace(".", "").split("e")[0].split("E")[0]
    significant = digits.strip("0") or "0"
    return 1 + math.ceil(len(significant) / 2)


def value_size(value: dict) -> int:
    (kind, x), = value.items()
    if kind == "S":
        return len(x.encode())
    if kind == "N":
        return number_size(x)
    if kind == "B":
        return len(base64.b64decode(x))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in x)
    if kind == "NS":
        return sum(number_size(n) for n in x)
    if kind == "BS":
        return sum(len(base64.b64decode(b)) for b in x)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in x)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in x.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


class Table:
    """The table's keys and indexes (shared/src/store/table-definition.json)."""

    def __init__(self, definition: dict | None = None):
        d = definition or json.loads(TABLE_DEFINITION.read_text())
        self.keys = [k["AttributeName"] for k in d["KeySchema"]]
        self.indexes = {}
        for g in d.get("GlobalSecondaryIndexes", []):
            keys = [k["AttributeName"] for k in g["KeySchema"]]
            projection = g["Projection"]
            self.indexes[g["IndexName"]] = (keys, projection["ProjectionType"],
                                            projection.get("NonKeyAttributes", []))

    def key_of(self, item: dict) -> str:
        return json.dumps([item.get(k) for k in self.keys], sort_keys=True)

    def index_entry(self, index: str, item: dict | None) -> dict | None:
        """The item as `index` holds it, or None when it is not in the index."""
        if item is None:
            return None
        keys, kind, extra = self.indexes[index]
        if any(k not in item for k in keys):
            return None
        if kind == "ALL":
            return item
        names = set(keys) | set(self.keys) | (set(extra) if kind == "INCLUDE" else set())
        return {k: v for k, v in item.items() if k in names}


def read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def write_units(old: dict | None, new: dict | None) -> int:
    size = max(item_size(old) if old else 0, item_size(new) if new else 0)
    return max(1, math.ceil(size / 1024))


def index_write_units(table: Table, old: dict | None, new: dict | None) -> int:
    units = 0
    for index in table.indexes:
        before, after = table.index_entry(index, old), table.index_entry(index, new)
        if before is None and after is None:
            continue
        same_key = (before is not None and after is not None
                    and all(before[k] == after[k] for k in table.indexes[index][0]))
        if same_key or before is None or after is None:
            units += write_units(before, after)
        else:  # moved: the old entry is deleted, the new one written
            units += write_units(before, None) + write_units(None, after)
    return units


def call_units(call: dict, items: dict[str, dict], table: Table) -> dict:
    """Request units of one logged call, the table holding `items` (key -> item)."""
    op, req, resp = call["operation"], call.get("request") or {}, call.get("response") or {}
    rru, wru = 0.0, 0
    if op == "GetItem":
        rru = read_units(item_size(items.get(table.key_of(req["Key"])) or {}),
                         bool(req.get("ConsistentRead")))
    elif op == "BatchGetItem":
        for spec in req.get("RequestItems", {}).values():
            for key in spec.get("Keys", []):
                rru += read_units(item_size(items.get(table.key_of(key)) or {}),
                                  bool(spec.get("ConsistentRead")))
    elif op == "Query":
        index = req.get("IndexName")
        size = 0
        for returned in resp.get("Items", []):
            full = items.get(table.key_of(returned), returned)
            size += item_size(table.index_entry(index, full) or returned if index else full)
        rru = read_units(size, bool(req.get("ConsistentRead")) and not index)
    elif op == "PutItem":
        new = req["Item"]
        old = items.get(table.key_of(new))
        wru = write_units(old, new) + index_write_units(table, old, new)
    elif op == "TransactWriteItems":
        for entry in req.get("TransactItems", []):
            (kind, spec), = entry.items()
            if kind == "Put":
                new = spec["Item"]
                old = items.get(table.key_of(new))
                wru += 2 * write_units(old, new) + index_write_units(table, old, new)
            elif kind == "ConditionCheck":
                wru += 2 * write_units(items.get(table.key_of(spec["Key"])), None)
            else:  # Update / Delete: the new item is not in the request
                old = items.get(table.key_of(spec["Key"]))
                wru += 2 * write_units(old, None) + index_write_units(table, old, None)
    return {"operation": op, "rru": rru, "wru": wru}


def request_units(calls: list[dict], items: dict[str, dict], table: Table | None = None) -> dict:
    """Request units of the calls one request made, per call and in total."""
    table = table or Table()
    per_call = [call_units(c, items, table) for c in calls]
    return {
        "calls": per_call,
        "rru": sum(c["rru"] for c in per_call),
        "wru": sum(c["wru"] for c in per_call),
    }
