#!/usr/bin/env python3
"""A mixed workload of every endpoint of routes.toml, driven through the
local API by a few concurrent clients while the fault proxy (proxy.py)
injects store faults; then, with faults off, the invariants checked through
the API and a table scan of the store behind the proxy.

Run by run.py inside scripts/local_api.sh, which sets BASE_URL. Also reads
FAULT_PROXY (the proxy's URL), DYNAMODB_TEST_ENDPOINT and TABLE_NAME (the
scan goes to the store directly, not through the proxy), REQUEST_BUDGET_MS.

Adding an endpoint: one entry in WORKLOAD below, keyed by the route's
`operation` in routes.toml, with a request generator (and, for a
state-changing operation, a `marker` that finds its effects in the scan).
The run fails at once when routes.toml names an operation WORKLOAD lacks.

Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import hashlib
import json
import os
import random
import re
import sys
import threading
import time
import tomllib
import urllib.parse
import urllib.request
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixtures  # noqa: E402  (the seed and the actors)

from fixtures import (  # noqa: E402
    ACME, EVE, GATED, IMMEDIATE, ITEMS, MARIA, NOT_REQUESTABLE, REPORTS_OF_MARIA, USERS,
)
from fixtures import SAM as SAM_ID  # noqa: E402

MARK = "fault-op "
# A client retries an answer of 429, 5xx or a failed connection this often.
MAX_ATTEMPTS = 4
TRACKING_ID = re.compile(r"^[0-9a-f]{32}$")
DETAIL_CODES = {400: "400.1", 403: "403 Forbidden", 404: "404 Not found", 500: "500.0 Internal Fault"}
CLOSE_STATES = {"TERMINATED", "PROVISIONING_FAILED", "NOT_ALL_ITEMS_PROVISIONED", "REQUEST_COMPLETED"}
EVENT_NAMES = {
    "started": "Close Identity Requests Started",
    "completed": "Close Identity Requests Completed",
    "provisioning": "Provisioning Completed",
    "decision": "Access Request Decision",
}


# ---------------------------------------------------------------- the calls
@dataclass
class Call:
    """One logical request a client makes (retried as one)."""

    operation: str
    actor: str  # an OAuth client id of the seed, or "bad-token"
    params: dict = field(default_factory=dict)  # path parameters
    query: list = field(default_factory=list)
    body: dict | None = None
    expect: set = field(default_factory=set)  # statuses the final answer may have besides 429/5xx
    what: str = ""
    marker: str = ""  # what finds this call's effects in the table
    stamp_attempt: bool = False  # submit: mark each attempt in clientMetadata (runs without keys)
    # filled in by the client
    method: str = ""
    path: str = ""
    key: str | None = None
    attempts: list = field(default_factory=list)  # Attempt


@dataclass
class Attempt:
    number: int
    status: int | None
    headers: dict
    text: str
    elapsed: float
    error: str = ""
    body_sent: bytes = b""

    def json(self):
        try:
            return json.loads(self.text)
        except ValueError:
            return None


class World:
    """What the clients learned and share: the requests they created."""

    def __init__(self, seed: int) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict] = []  # {id, requester, target}
        self.ne_items = list(fixtures.NE_ITEMS)  # (item id, a possible approver's client)
        self.ne_requests = list(fixtures.NE_REQUESTS)  # (request id, a client who may read it)
        self.account_names: list[tuple[str, str]] = []  # (source, name) taken
        self.approvals: list[tuple[str, str]] = []  # (approval id, a client that listed it pending)
        self.seed = seed

    def add_approvals(self, lister: str, answer) -> None:
        if isinstance(answer, list):
            with self.lock:
                self.approvals.extend((a["id"], lister) for a in answer if isinstance(a, dict) and a.get("id"))

    def add_non_employee(self, sponsor: str, answer) -> None:
        if not isinstance(answer, dict) or not answer.get("id"):
            return
        _, approvers = fixtures.SOURCES.get((answer.get("source") or {}).get("id") or answer.get("sourceId", ""),
                                            ([], []))
        with self.lock:
            self.ne_requests.append((answer["id"], sponsor))
            for item, approver in zip(answer.get("approvalItems") or [], approvers or ["acme-admin"] * 9):
                self.ne_items.append((item["id"], approver))
            self.account_names.append((answer.get("sourceId", ""), answer.get("accountName", "")))

    def add_requests(self, requester: str, answer) -> None:
        if not isinstance(answer, dict):
            return
        with self.lock:
            for tracking in answer.get("newRequests") or []:
                for rid in tracking.get("accessRequestIds") or []:
                    self.requests.append({"id": rid, "requester": requester, "target": tracking.get("requestedFor")})

    def some_requests(self, rng: random.Random, n: int) -> list[dict]:
        with self.lock:
            if not self.requests:
                return []
            return [rng.choice(self.requests) for _ in range(n)]


def new_marker() -> str:
    return MARK + uuid.uuid4().hex


# ------------------------------------------------------- request generators
def gen_create(world: World, rng: random.Random) -> Call:
    marker = new_marker()
    meta = {"faultOp": marker}
    r = rng.random()
    if r < 0.55:
        actor = rng.choice(USERS)
        items = rng.sample(list(GATED + IMMEDIATE), rng.randint(1, 2))
        body = {"requestedFor": [fixtures.identity_of(actor)], "requestType": "GRANT_ACCESS",
                "requestedItems": [ITEMS[i] for i in items], "clientMetadata": meta}
        return Call("createAccessRequest", actor, body=body, expect={202}, what="grant for oneself",
                    marker=marker, stamp_attempt=True)
    if r < 0.70:
        targets = rng.sample(REPORTS_OF_MARIA, rng.randint(1, 2))
        item = rng.choice(GATED + IMMEDIATE)
        body = {"requestedFor": targets, "requestedItems": [ITEMS[item]], "clientMetadata": meta}
        return Call("createAccessRequest", "acme-manager", body=body, expect={202},
                    what="manager grants for reports", marker=marker, stamp_attempt=True)
    if r < 0.80:
        targets = rng.sample(REPORTS_OF_MARIA + [MARIA], rng.randint(1, 3))
        body = {"requestedFor": targets, "requestedItems": [ITEMS[rng.choice(GATED)]], "clientMetadata": meta}
        return Call("createAccessRequest", "acme-admin", body=body, expect={202},
                    what="admin grants for others", marker=marker, stamp_attempt=True)
    if r < 0.85:
        target = rng.choice(REPORTS_OF_MARIA)
        item = dict(ITEMS[rng.choice(GATED)], comment="no longer needed")
        body = {"requestedFor": [target], "requestType": "REVOKE_ACCESS", "requestedItems": [item],
                "clientMetadata": meta}
        return Call("createAccessRequest", "acme-manager", body=body, expect={202},
                    what="manager revokes", marker=marker, stamp_attempt=True)
    if r < 0.90:
        actor = rng.choice(USERS)
        body = {"requestedFor": [fixtures.identity_of(actor)], "requestedItems": [NOT_REQUESTABLE],
                "clientMetadata": meta}
        return Call("createAccessRequest", actor, body=body, expect={400}, what="not requestable",
                    marker=marker, stamp_attempt=True)
    if r < 0.95:
        actor = rng.choice(USERS)
        other = rng.choice([u for u in REPORTS_OF_MARIA if u != fixtures.identity_of(actor)])
        body = {"requestedFor": [other], "requestedItems": [ITEMS[GATED[0]]], "clientMetadata": meta}
        return Call("createAccessRequest", actor, body=body, expect={403}, what="grant for a peer",
                    marker=marker, stamp_attempt=True)
    if r < 0.975:
        body = {"requestedFor": [EVE], "requestedItems": [ITEMS[GATED[0]]], "clientMetadata": meta}
        return Call("createAccessRequest", "acme-api", body=body, expect={403}, what="API token submits",
                    marker=marker, stamp_attempt=True)
    body = {"requestedFor": [EVE], "requestedItems": [ITEMS[GATED[0]]], "clientMetadata": meta}
    return Call("createAccessRequest", "bad-token", body=body, expect={401}, what="bad token",
                marker=marker, stamp_attempt=True)


def gen_cancel(world: World, rng: random.Random) -> Call:
    marker = new_marker()
    known = world.some_requests(rng, 1)
    r = rng.random()
    if known and r < 0.70:
        req = known[0]
        return Call("cancelAccessRequest", req["requester"], body={"accountActivityId": req["id"], "comment": marker},
                    expect={202, 400}, what="requester cancels", marker=marker)
    if known and r < 0.80:
        return Call("cancelAccessRequest", "acme-admin", body={"accountActivityId": known[0]["id"], "comment": marker},
                    expect={202, 400}, what="admin cancels", marker=marker)
    if known and r < 0.88:
        req = known[0]
        other = rng.choice([u for u in USERS if u != req["requester"]])
        return Call("cancelAccessRequest", other, body={"accountActivityId": req["id"], "comment": marker},
                    expect={403}, what="someone else cancels", marker=marker)
    if r < 0.95:
        return Call("cancelAccessRequest", rng.choice(USERS),
                    body={"accountActivityId": uuid.uuid4().hex, "comment": marker},
                    expect={404}, what="unknown id", marker=marker)
    target = known[0]["id"] if known else uuid.uuid4().hex
    return Call("cancelAccessRequest", "acme-admin", body={"accountActivityId": target, "comment": "  "},
                expect={400}, what="blank comment", marker=marker)


def gen_close(world: World, rng: random.Random) -> Call:
    marker = new_marker()
    r = rng.random()
    if r < 0.80:
        ids = sorted({k["id"] for k in world.some_requests(rng, rng.randint(1, 4))})
        if rng.random() < 0.3 or not ids:
            ids.append(uuid.uuid4().hex)
        execution, completion = rng.choice(
            [("Terminated", "Failure"), ("Completed", "Success"), ("Completed", "Incomplete"), ("Completed", "Failure")])
        body = {"accessRequestIds": ids, "message": marker, "executionStatus": execution,
                "completionStatus": completion}
        return Call("closeAccessRequest", "acme-admin", body=body, expect={202}, what="admin closes", marker=marker)
    if r < 0.90:
        ids = [k["id"] for k in world.some_requests(rng, 1)] or [uuid.uuid4().hex]
        return Call("closeAccessRequest", rng.choice(USERS), body={"accessRequestIds": ids, "message": marker},
                    expect={403}, what="non-admin closes", marker=marker)
    return Call("closeAccessRequest", "acme-admin", body={"accessRequestIds": [], "message": marker},
                expect={400}, what="no ids", marker=marker)


def gen_status(world: World, rng: random.Random) -> Call:
    r = rng.random()
    if r < 0.30:
        return Call("listAccessRequestStatus", rng.choice(USERS),
                    query=[("requested-for", "me"), ("count", "true"), ("limit", "20"), ("sorters", "-created")],
                    expect={200}, what="own requests")
    if r < 0.50:
        return Call("listAccessRequestStatus", "acme-admin", query=[("count", "true"), ("limit", "50")],
                    expect={200}, what="admin, tenant-wide")
    if r < 0.65:
        return Call("listAccessRequestStatus", "acme-manager", query=[("assigned-to", "me"), ("limit", "50")],
                    expect={200}, what="assigned to the manager")
    if r < 0.80:
        ids = [k["id"] for k in world.some_requests(rng, 3)] or [uuid.uuid4().hex]
        filters = "accessRequestId in (" + ",".join(f'"{i}"' for i in ids) + ")"
        return Call("listAccessRequestStatus", "acme-admin", query=[("filters", filters)], expect={200},
                    what="admin filters by id")
    if r < 0.90:
        return Call("listAccessRequestStatus", rng.choice(USERS), query=[("limit", "251")], expect={400},
                    what="limit too large")
    actor = rng.choice(USERS)
    other = rng.choice([u for u in REPORTS_OF_MARIA if u != fixtures.identity_of(actor)])
    return Call("listAccessRequestStatus", actor, query=[("requested-for", other)], expect={403},
                what="another identity's requests")


def gen_reject(world: World, rng: random.Random) -> Call:
    marker = new_marker()
    r = rng.random()
    item, approver = rng.choice(world.ne_items)
    if r < 0.60:
        return Call("rejectNonEmployeeRequest", approver, params={"id": item}, body={"comment": marker},
                    expect={200, 400, 403, 404}, what="approver rejects", marker=marker)
    if r < 0.75:
        return Call("rejectNonEmployeeRequest", "acme-admin", params={"id": item}, body={"comment": marker},
                    expect={200, 400, 404}, what="admin rejects", marker=marker)
    if r < 0.85:
        return Call("rejectNonEmployeeRequest", rng.choice(USERS[1:]), params={"id": item}, body={"comment": marker},
                    expect={403, 404}, what="not the approver", marker=marker)
    if r < 0.95:
        return Call("rejectNonEmployeeRequest", "acme-manager", params={"id": str(uuid.uuid4())},
                    body={"comment": marker}, expect={404}, what="unknown item", marker=marker)
    return Call("rejectNonEmployeeRequest", approver, params={"id": item}, body={"comment": "x" * 4001},
                expect={400, 403, 404}, what="comment too long", marker=marker)


def gen_ne_create(world: World, rng: random.Random) -> Call:
    marker = new_marker()
    source = rng.choice(list(fixtures.SOURCES))
    managers, _ = fixtures.SOURCES[source]
    name = "fault." + marker.rsplit(" ", 1)[1][:20]
    body = fixtures.non_employee_body(source, name, {"faultOp": marker})
    r = rng.random()
    if r < 0.70:
        return Call("createNonEmployeeRequest", rng.choice(managers + ["acme-admin"]), body=body, expect={200},
                    what="an account manager sponsors", marker=marker)
    if r < 0.80:
        with world.lock:
            taken = rng.choice(world.account_names) if world.account_names else None
        if taken and taken[0]:
            body = fixtures.non_employee_body(taken[0], taken[1].upper(), {"faultOp": marker})
            return Call("createNonEmployeeRequest", "acme-admin", body=body, expect={400, 200},
                        what="an account name taken (unless since rejected)", marker=marker)
    if r < 0.90:
        return Call("createNonEmployeeRequest", rng.choice(USERS[1:]), body=body, expect={403},
                    what="not an account manager", marker=marker)
    body["endDate"], body["startDate"] = body["startDate"], body["endDate"]
    return Call("createNonEmployeeRequest", managers[0], body=body, expect={400}, what="ends before it starts",
                marker=marker)


def _ne_request(world: World, rng: random.Random) -> tuple[str, str]:
    with world.lock:
        return rng.choice(world.ne_requests)


def gen_ne_list(world: World, rng: random.Random) -> Call:
    r = rng.random()
    if r < 0.8:
        return Call("listNonEmployeeRequests", rng.choice(["acme-manager", "acme-employee", "acme-admin"]),
                    query=[("requested-for", "me"), ("count", "true"), ("sorters", "-created")], expect={200},
                    what="own list")
    if r < 0.9:
        return Call("listNonEmployeeRequests", rng.choice(USERS[1:]), query=[("requested-for", MARIA)],
                    expect={403}, what="another identity's list")
    return Call("listNonEmployeeRequests", "acme-manager", query=[], expect={400}, what="requested-for missing")


def gen_ne_get(world: World, rng: random.Random) -> Call:
    if rng.random() < 0.85:
        rid, reader = _ne_request(world, rng)
        return Call("getNonEmployeeRequest", reader, params={"id": rid}, expect={200, 404}, what="a sponsor reads")
    return Call("getNonEmployeeRequest", "acme-admin", params={"id": str(uuid.uuid4())}, expect={404},
                what="unknown id")


def gen_ne_delete(world: World, rng: random.Random) -> Call:
    marker = new_marker()
    r = rng.random()
    if r < 0.75:
        rid, _ = _ne_request(world, rng)
        return Call("deleteNonEmployeeRequest", "acme-admin", params={"id": rid}, expect={204, 404},
                    what="admin deletes", marker=marker)
    if r < 0.9:
        rid, _ = _ne_request(world, rng)
        return Call("deleteNonEmployeeRequest", rng.choice(["acme-manager", "acme-employee"]), params={"id": rid},
                    expect={403, 404}, what="not an admin deletes", marker=marker)
    return Call("deleteNonEmployeeRequest", "acme-admin", params={"id": str(uuid.uuid4())}, expect={404},
                what="unknown id", marker=marker)


def gen_ne_request_summary(world: World, rng: random.Random) -> Call:
    if rng.random() < 0.85:
        return Call("getNonEmployeeRequestSummary", rng.choice(["acme-manager", "acme-employee", "acme-admin"]),
                    params={"requestedFor": "me"}, expect={200}, what="own summary")
    return Call("getNonEmployeeRequestSummary", rng.choice(USERS[1:]), params={"requestedFor": MARIA},
                expect={403}, what="another identity's summary")


def gen_ne_approvals(world: World, rng: random.Random) -> Call:
    if rng.random() < 0.85:
        query = [("requested-for", "me"), ("count", "true")]
        if rng.random() < 0.5:
            query.append(("filters", 'approvalStatus eq "PENDING"'))
        return Call("listNonEmployeeApprovals", rng.choice(["acme-manager", "acme-source-admin"]), query=query,
                    expect={200}, what="own approvals")
    return Call("listNonEmployeeApprovals", rng.choice(USERS[1:]), query=[("requested-for", SAM_ID)],
                expect={403}, what="another identity's approvals")


def gen_ne_approval(world: World, rng: random.Random) -> Call:
    with world.lock:
        item, approver = rng.choice(world.ne_items)
    if rng.random() < 0.85:
        return Call("getNonEmployeeApproval", approver, params={"id": item},
                    query=[("include-detail", rng.choice(["true", "false"]))], expect={200, 403, 404},
                    what="an approver reads an item")
    return Call("getNonEmployeeApproval", "acme-admin", params={"id": str(uuid.uuid4())}, expect={404},
                what="unknown item")


def gen_ne_approval_summary(world: World, rng: random.Random) -> Call:
    if rng.random() < 0.85:
        return Call("getNonEmployeeApprovalSummary", rng.choice(["acme-manager", "acme-source-admin"]),
                    params={"requestedFor": "me"}, expect={200}, what="own approval counts")
    return Call("getNonEmployeeApprovalSummary", rng.choice(USERS[1:]), params={"requestedFor": SAM_ID},
                expect={403}, what="another identity's approval counts")


def gen_ne_approve(world: World, rng: random.Random) -> Call:
    marker = new_marker()
    with world.lock:
        item, approver = rng.choice(world.ne_items)
    r = rng.random()
    if r < 0.70:
        return Call("approveNonEmployeeRequest", approver, params={"id": item}, body={"comment": marker},
                    expect={200, 400, 403, 404}, what="an approver approves", marker=marker)
    if r < 0.85:
        return Call("approveNonEmployeeRequest", "acme-admin", params={"id": item}, body={"comment": marker},
                    expect={200, 400, 404}, what="admin approves", marker=marker)
    if r < 0.95:
        return Call("approveNonEmployeeRequest", rng.choice(USERS[1:]), params={"id": item},
                    body={"comment": marker}, expect={403, 404}, what="not an approver", marker=marker)
    return Call("approveNonEmployeeRequest", approver, params={"id": item}, body={"comment": "x" * 4001},
                expect={400, 403, 404}, what="comment too long", marker=marker)


APPROVERS = ["acme-manager", "acme-source-admin", "acme-admin"]


def gen_pending(world: World, rng: random.Random) -> Call:
    r = rng.random()
    if r < 0.75:
        return Call("listPendingApprovals", rng.choice(APPROVERS), query=[("owner-id", "me"), ("count", "true")],
                    expect={200}, what="own pending approvals")
    if r < 0.85:
        return Call("listPendingApprovals", "acme-admin", query=[("count", "true"), ("limit", "50")],
                    expect={200}, what="admin, tenant-wide")
    if r < 0.95:
        return Call("listPendingApprovals", rng.choice(USERS[1:]), query=[("owner-id", MARIA)], expect={403},
                    what="another owner's")
    return Call("listPendingApprovals", "acme-manager", query=[("limit", "251")], expect={400},
                what="limit too large")


def gen_completed(world: World, rng: random.Random) -> Call:
    if rng.random() < 0.85:
        return Call("listCompletedApprovals", rng.choice(APPROVERS),
                    query=[("owner-id", "me"), ("count", "true"), ("sorters", "-modified")], expect={200},
                    what="own decided approvals")
    return Call("listCompletedApprovals", rng.choice(USERS[1:]), query=[("owner-id", MARIA)], expect={403},
                what="another owner's")


def gen_approval_summary(world: World, rng: random.Random) -> Call:
    r = rng.random()
    if r < 0.85:
        return Call("getAccessRequestApprovalSummary", rng.choice(APPROVERS), query=[("owner-id", "me")],
                    expect={200}, what="own counts")
    if r < 0.93:
        return Call("getAccessRequestApprovalSummary", "acme-manager", query=[("from-date", "yesterday")],
                    expect={400}, what="from-date not a date")
    return Call("getAccessRequestApprovalSummary", rng.choice(USERS[1:]), query=[("owner-id", MARIA)],
                expect={403}, what="another owner's counts")


def _decision(operation: str, world: World, rng: random.Random, body_for) -> Call:
    marker = new_marker()
    with world.lock:
        known = rng.choice(world.approvals) if world.approvals else None
    r = rng.random()
    if known and r < 0.85:
        approval, lister = known
        actor = lister if r < 0.7 else "acme-admin"
        return Call(operation, actor, params={"approvalId": approval}, body=body_for(marker),
                    expect={202, 400, 403}, what="an owner decides", marker=marker)
    if known and r < 0.92:
        return Call(operation, rng.choice(USERS[1:]), params={"approvalId": known[0]}, body=body_for(marker),
                    expect={403, 400}, what="not an owner", marker=marker)
    return Call(operation, "acme-manager", params={"approvalId": uuid.uuid4().hex}, body=body_for(marker),
                expect={404}, what="unknown approval", marker=marker)


def gen_approve(world: World, rng: random.Random) -> Call:
    return _decision("approveAccessRequest", world, rng, lambda m: {"comment": m})


def gen_reject_approval(world: World, rng: random.Random) -> Call:
    return _decision("rejectAccessRequest", world, rng, lambda m: {"comment": m})


def gen_forward(world: World, rng: random.Random) -> Call:
    target = rng.choice(fixtures.FAULT_USERS)
    return _decision("forwardAccessRequest", world, rng, lambda m: {"newOwnerId": target, "comment": m})


# Shapes of the 2xx bodies.
def ok_submit(body) -> str:
    if not isinstance(body, dict) or not isinstance(body.get("newRequests"), list) \
            or not isinstance(body.get("existingRequests"), list):
        return "not an AccessRequestResponse"
    return ""


def ok_empty(body) -> str:
    return "" if body == {} else "not {}"


def ok_status(body) -> str:
    if not isinstance(body, list):
        return "not a list"
    for s in body:
        if not {"accessRequestId", "state", "accountActivityItemId", "requester", "requestedFor"} <= set(s):
            return "a RequestedItemStatus lacks fields"
    return ""


def ok_ne_item(body) -> str:
    if not isinstance(body, dict) or not {"id", "approvalStatus", "nonEmployeeRequest"} <= set(body):
        return "not a NonEmployeeApprovalItem"
    return ""


def ok_ne_request(body) -> str:
    if not isinstance(body, dict) or not {"id", "accountName", "approvalStatus", "approvalItems"} <= set(body):
        return "not a NonEmployeeRequest"
    return ""


def ok_list_of(check: Callable[[object], str]) -> Callable[[object], str]:
    def ok(body) -> str:
        if not isinstance(body, list):
            return "not a list"
        return next((p for p in map(check, body) if p), "")
    return ok


def ok_summary(body) -> str:
    if not isinstance(body, dict) or not body or not all(isinstance(v, int) for v in body.values()):
        return "not a summary of counts"
    return ""


def ok_approval(body) -> str:
    if not isinstance(body, dict) or not {"id", "name", "created", "requester"} <= set(body):
        return "not an approval"
    return ""


def ok_no_body(body) -> str:
    return "" if body is None else "a body"


@dataclass
class Endpoint:
    generate: Callable[[World, random.Random], Call]
    weight: int
    ok: Callable[[object], str]
    writes: bool  # a state-changing POST (takes an Idempotency-Key)


# Every operation of routes.toml: its generator, how often it is drawn, the
# shape of its success. A route without an entry here fails the run.
WORKLOAD: dict[str, Endpoint] = {
    "createAccessRequest": Endpoint(gen_create, 6, ok_submit, True),
    "cancelAccessRequest": Endpoint(gen_cancel, 3, ok_empty, True),
    "closeAccessRequest": Endpoint(gen_close, 1, ok_empty, True),
    "listAccessRequestStatus": Endpoint(gen_status, 3, ok_status, False),
    "rejectNonEmployeeRequest": Endpoint(gen_reject, 1, ok_ne_item, True),
    "createNonEmployeeRequest": Endpoint(gen_ne_create, 2, ok_ne_request, True),
    "listNonEmployeeRequests": Endpoint(gen_ne_list, 1, ok_list_of(ok_ne_request), False),
    "getNonEmployeeRequest": Endpoint(gen_ne_get, 1, ok_ne_request, False),
    "deleteNonEmployeeRequest": Endpoint(gen_ne_delete, 1, ok_no_body, False),
    "getNonEmployeeRequestSummary": Endpoint(gen_ne_request_summary, 1, ok_summary, False),
    "listNonEmployeeApprovals": Endpoint(gen_ne_approvals, 1, ok_list_of(ok_ne_item), False),
    "getNonEmployeeApproval": Endpoint(gen_ne_approval, 1, ok_ne_item, False),
    "approveNonEmployeeRequest": Endpoint(gen_ne_approve, 2, ok_ne_item, True),
    "getNonEmployeeApprovalSummary": Endpoint(gen_ne_approval_summary, 1, ok_summary, False),
    "listPendingApprovals": Endpoint(gen_pending, 2, ok_list_of(ok_approval), False),
    "listCompletedApprovals": Endpoint(gen_completed, 1, ok_list_of(ok_approval), False),
    "approveAccessRequest": Endpoint(gen_approve, 3, ok_empty, True),
    "rejectAccessRequest": Endpoint(gen_reject_approval, 1, ok_empty, True),
    "forwardAccessRequest": Endpoint(gen_forward, 1, ok_empty, True),
    "getAccessRequestApprovalSummary": Endpoint(gen_approval_summary, 1, ok_summary, False),
}


def load_routes() -> dict[str, dict]:
    with open(ROOT / "routes.toml", "rb") as f:
        routes = {r["operation"]: r for r in tomllib.load(f)["route"]}
    missing = sorted(set(routes) - set(WORKLOAD))
    stale = sorted(set(WORKLOAD) - set(routes))
    if missing or stale:
        raise SystemExit(
            "tests/faults/workload.py: the fault workload must cover every endpoint of routes.toml; "
            + (f"no generator for {missing} (add it to WORKLOAD)" if missing else "")
            + (f"; WORKLOAD names operations routes.toml lacks: {stale}" if stale else "")
        )
    return routes


# --------------------------------------------------------------- the client
class Client:
    def __init__(self, base_url: str, tokens: dict[str, str], routes: dict, keys: bool, timeout: float) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        self.host, self.port = parsed.hostname, parsed.port
        self.tokens = tokens
        self.routes = routes
        self.keys = keys
        self.timeout = timeout

    def prepare(self, call: Call, rng: random.Random) -> None:
        route = self.routes[call.operation]
        version = rng.choice(route["versions"])
        path = f"/{version}{route['path']}"
        for name, value in call.params.items():
            path = path.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
        if "{" in path:
            raise SystemExit(f"tests/faults/workload.py: {call.operation} ({call.what}) leaves a path parameter "
                             f"of {route['path']} unset (it sets {sorted(call.params)})")
        if call.query:
            path += "?" + urllib.parse.urlencode(call.query)
        call.method, call.path = route["method"], path
        if self.keys and WORKLOAD[call.operation].writes:
            call.key = "fault-" + uuid.uuid4().hex
            call.stamp_attempt = False  # a retry with a key sends the very same request

    def send_once(self, call: Call, number: int) -> Attempt:
        body = None
        if call.body is not None:
            sent = call.body
            if call.stamp_attempt:
                sent = json.loads(json.dumps(sent))
                sent.setdefault("clientMetadata", {})["faultAttempt"] = str(number)
            body = json.dumps(sent).encode()
        headers = {"Accept": "application/json"}
        token = self.tokens.get(call.actor, "not-a-jwt")
        headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        if call.key:
            headers["Idempotency-Key"] = call.key
        started = time.monotonic()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(call.method, call.path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            return Attempt(number, response.status, dict(response.getheaders()), text,
                           time.monotonic() - started, body_sent=body or b"")
        except (OSError, http.client.HTTPException) as e:
            return Attempt(number, None, {}, "", time.monotonic() - started, error=repr(e), body_sent=body or b"")
        finally:
            conn.close()

    def execute(self, call: Call, rng: random.Random) -> Call:
        """Sends `call`, retrying 429, 5xx and failed connections as the
        SDKs' users do (the same request; Retry-After honoured)."""
        for number in range(1, MAX_ATTEMPTS + 1):
            attempt = self.send_once(call, number)
            call.attempts.append(attempt)
            if attempt.status == 429:
                try:
                    wait = float(attempt.headers.get("Retry-After", "1"))
                except ValueError:
                    wait = 1.0
                time.sleep(min(wait, 2.0))
            elif attempt.status is None or attempt.status >= 500:
                time.sleep(0.05 * 2 ** number * (0.5 + rng.random()))
            else:
                break
        return call


# ------------------------------------------------------------- the findings
class Findings:
    def __init__(self) -> None:
        self.checked = Counter()
        self.violations: list[str] = []
        self.notes = Counter()

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checked[name] += 1
        if not ok:
            self.violations.append(f"{name}: {detail}")
        return ok


def check_envelope(f: Findings, call: Call, attempt: Attempt, budget_ms: int, margin_ms: int, keys: bool) -> None:
    where = f"{call.operation} ({call.what}) attempt {attempt.number}"
    f.check("answered within budget", attempt.elapsed * 1000 <= budget_ms + margin_ms,
            f"{where} took {attempt.elapsed * 1000:.0f} ms > {budget_ms} + {margin_ms} ms")
    if attempt.status is None:
        f.check("an answer, not a dropped connection", False, f"{where}: {attempt.error}")
        return
    status = attempt.status
    body = attempt.json()
    ctype = attempt.headers.get("Content-Type", "")
    if status != 204:
        f.check("JSON content type", ctype.startswith("application/json"), f"{where}: {status} {ctype!r}")
    if 200 <= status < 300:
        problem = WORKLOAD[call.operation].ok(body)
        f.check("2xx body shape", not problem, f"{where}: {problem}: {attempt.text[:200]}")
    elif status in DETAIL_CODES:
        good = (
            isinstance(body, dict)
            and str(body.get("detailCode", "")).startswith(DETAIL_CODES[status])
            and TRACKING_ID.match(str(body.get("trackingId", "")))
            and isinstance(body.get("messages"), list) and body["messages"]
            and all({"locale", "localeOrigin", "text"} <= set(m) for m in body["messages"])
            and isinstance(body.get("causes"), list)
        )
        f.check("ErrorResponseDto for 400/403/404/500", bool(good), f"{where}: {status} {attempt.text[:300]}")
        if status == 500:
            f.check("500 leaks no internals", "Exception" not in attempt.text and "dispatch" not in attempt.text,
                    f"{where}: {attempt.text[:300]}")
    elif status == 401:
        good = isinstance(body, dict) and set(body) == {"error"} \
            and str(body["error"]).startswith("JWT validation failed: ")
        f.check("{error} for 401", good, f"{where}: {attempt.text[:200]}")
    elif status == 429:
        retry_after = attempt.headers.get("Retry-After", "")
        f.check("{message} and Retry-After for 429",
                body == {"message": " Rate Limit Exceeded "} and retry_after.isdigit(),
                f"{where}: Retry-After {retry_after!r} {attempt.text[:200]}")
    else:
        f.check("a status of the API's", False, f"{where}: {status} {attempt.text[:200]}")
    allowed = call.expect | {429, 500}
    earlier = call.attempts[:attempt.number - 1]
    if not call.key and any(a.status is None or a.status >= 500 for a in earlier):
        # Without a key, a retry of a call whose write may have landed can
        # meet that write: a 400 (cancelled, decided, name taken) or a 404.
        allowed |= {400, 404}
        if status in (400, 404) and status not in call.expect:
            f.notes["retries without a key refused because their first attempt had landed"] += 1
    f.check("expected status", status in allowed, f"{where}: {status} not in {sorted(allowed)}: {attempt.text[:300]}")


# ---------------------------------------------------------------- the scan
def _value(av: dict):
    (kind, v), = av.items()
    if kind == "S":
        return v
    if kind == "N":
        return int(v) if re.fullmatch(r"-?\d+", v) else float(v)
    if kind == "BOOL":
        return v
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: _value(x) for k, x in v.items()}
    if kind == "L":
        return [_value(x) for x in v]
    if kind in ("SS", "BS"):
        return set(v)
    if kind == "NS":
        return {float(x) for x in v}
    return v


def dynamo(endpoint: str, operation: str, payload: dict) -> dict:
    request = urllib.request.Request(
        endpoint + "/", data=json.dumps(payload).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20200101/us-east-1/dynamodb/aws4_request, "
                             "SignedHeaders=host, Signature=x",
        })
    with urllib.request.urlopen(request, timeout=60) as r:
        return json.loads(r.read())


def scan(endpoint: str, table: str) -> list[dict]:
    """Every item of the table (a test may Scan; the product never does)."""
    items, start = [], None
    while True:
        payload = {"TableName": table, "ConsistentRead": True}
        if start:
            payload["ExclusiveStartKey"] = start
        page = dynamo(endpoint, "Scan", payload)
        items.extend({k: _value(v) for k, v in i.items()} for i in page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


# ----------------------------------------------------------- the invariants
def check_table(f: Findings, items: list[dict]) -> dict:
    """Invariants of the stored records alone; returns them indexed."""
    by_key = {(i["PK"], i["SK"]): i for i in items}
    requests = {}
    for i in items:
        if i.get("kind") == "accessRequest" and "#AR#" in i["PK"]:
            requests[i["id"]] = i
    events = [i for i in items if i.get("kind") == "event"]
    claims = [i for i in items if i.get("kind") == "pointer" and "#PENDING#" in i["PK"]]
    assignments = [i for i in items if i.get("kind") == "pointer" and "#ASSIGNEE#" in i["PK"]]
    f.notes["records scanned"] += len(items)
    known = {"identity", "catalogItem", "accessRequest", "nonEmployeeRequest", "event", "pointer", "idempotency",
             "nonEmployeeSource", "nonEmployeeApproval", "approval", "approvalEntry", "counter"}
    for i in items:
        if i.get("kind") not in known:
            f.notes[f"records of kind {i.get('kind')} (no invariant here yet)"] += 1
    for kind, n in Counter(i.get("kind", "?") for i in items).items():
        f.notes[f"records: {kind}"] += n

    for rid, r in requests.items():
        tenant = r["PK"].split("#")[1]
        where = f"access request {rid} ({r['state']})"
        sort = r.get("GSI1SK", "")
        f.check("request indexed under requester, target and tenant",
                r.get("GSI1PK") == f"T#{tenant}#REQUESTER#{r['requester']['id']}"
                and r.get("GSI2PK") == f"T#{tenant}#FOR#{r['requestedFor']['id']}"
                and r.get("GSI3PK") == f"T#{tenant}#REQUESTS#{shard(rid, 16):02}"
                and sort.endswith("#" + rid) and r.get("GSI2SK") == sort and r.get("GSI3SK") == sort, where)
        approvals = [a for it in r["items"] for a in it.get("approvals", [])]
        statuses = {a["status"] for a in approvals}
        if r["state"] == "EXECUTING":
            f.check("an executing request is not cancelled", not r.get("cancellation")
                    and "CANCELLED" not in statuses, where)
            for it in r["items"]:
                if (it.get("state") or r["state"]) not in ("EXECUTING", "PROVISIONING_VERIFICATION_PENDING"):
                    continue  # an item decided within an executing request no longer guards
                claim = by_key.get((f"T#{tenant}#PENDING#{r['requestedFor']['id']}#{it['type']}#{it['itemId']}"
                                    f"#{r['requestType']}", "#"))
                f.check("an executing request holds its claims", bool(claim) and claim.get("target") == rid,
                        f"{where}: claim of {it['type']} {it['itemId']} is {claim and claim.get('target')}")
        else:
            f.check("a final request has no pending approval", "PENDING" not in statuses, where)
        if r["state"] == "CANCELLED":
            f.check("a cancelled request has its details and no live approval",
                    bool(r.get("cancellation")) and statuses <= {"CANCELLED"}, where)
        for who in sorted({m for a in approvals for m in _acting(a["approver"])}):
            pointer = by_key.get((f"T#{tenant}#ASSIGNEE#{who}", sort))
            f.check("each approver is assigned the request", bool(pointer) and pointer.get("target") == rid,
                    f"{where}: assignment of {who}")
        if r.get("warnings"):
            f.check("a closed request is in a close state", r["state"] in CLOSE_STATES, where)
            closing = [e for e in events if e["name"] == EVENT_NAMES["provisioning"]
                       and e.get("accessRequestIds") == [rid]]
            f.check("a closed request has its Provisioning Completed event",
                    any(e.get("attributes", {}).get("message") == r["warnings"][-1] for e in closing), where)

    for c in claims:
        target = requests.get(c.get("target"))
        f.check("a claim names a stored request", target is not None, f"claim {c['PK']} -> {c.get('target')}")
    for a in assignments:
        f.check("an assignment names a stored request", a.get("target") in requests,
                f"assignment {a['PK']} {a['SK']} -> {a.get('target')}")

    for e in events:
        name = e.get("name")
        where = f"event {name} {e.get('id')}"
        f.check("a known event", name in EVENT_NAMES.values(), where)
        if name == EVENT_NAMES["provisioning"]:
            ids = e.get("accessRequestIds") or []
            f.check("Provisioning Completed names one closed request",
                    len(ids) == 1 and ids[0] in requests and bool(requests[ids[0]].get("warnings")), where)
        if name == EVENT_NAMES["completed"]:
            f.check("a completion lists errors among its ids",
                    set(e.get("erroredIds") or []) <= set(e.get("accessRequestIds") or []), where)
            started = [s for s in events if s["name"] == EVENT_NAMES["started"]
                       and s.get("attributes") == e.get("attributes")
                       and s.get("accessRequestIds") == e.get("accessRequestIds")]
            f.check("a close's completion follows its start", bool(started), where)

    check_counts(f, items, requests)
    approvals = check_approvals(f, items, requests, by_key)
    ne, ne_entries = check_non_employee(f, items, by_key)

    for i in items:
        if i.get("kind") == "idempotency":
            try:
                json.loads(i["body"])
                body_ok = True
            except (ValueError, KeyError):
                body_ok = False
            f.check("an idempotency record holds a 2xx answer", body_ok and 200 <= i.get("status", 0) < 300
                    and isinstance(i.get("expiresAt"), int), i["PK"])
    return {"requests": requests, "events": events, "ne": ne, "ne_entries": ne_entries, "by_key": by_key,
            "approvals": approvals}


def shard(id_: str, shards: int) -> int:
    """The shard of a tenant-wide key a record with this id is in
    (shared::store::keys::shard): the first four bytes of its SHA-256."""
    return int.from_bytes(hashlib.sha256(id_.encode()).digest()[:4], "big") % shards


def check_counts(f: Findings, items: list[dict], requests: dict) -> None:
    """The counts kept beside the lists say what the lists hold: each
    identity's and (summed over its counter items) each tenant's, counted
    here from the stored rows themselves, however the calls that wrote them
    were retried."""
    expected: Counter = Counter()

    def add(scope: tuple, name: str, n: int = 1) -> None:
        expected[(*scope, name)] += n

    for r in requests.values():
        tenant = r["PK"].split("#")[1]
        rows = len(r["items"])
        executing = sum(1 for it in r["items"] if (it.get("state") or r["state"]) == "EXECUTING")
        scopes = [((tenant, r["requester"]["id"]), "requested"), ((tenant, r["requestedFor"]["id"]), "for"),
                  ((tenant,), "items")]
        if r["requester"]["id"] == r["requestedFor"]["id"]:
            scopes.append(((tenant, r["requester"]["id"]), "self"))
        for scope, name in scopes:
            add(scope, name, rows)
            add(scope, name + "Executing", executing)
        # `assigned-to`: each item counts once for every identity that owns
        # or owned one of its reached steps.
        for it in r["items"]:
            assigned = set()
            for a in it.get("approvals") or []:
                for owner in (a["approver"], a.get("currentOwner") or a["approver"]):
                    if owner["type"] == "GOVERNANCE_GROUP":
                        assigned.update(owner.get("memberIds") or [])
                    else:
                        assigned.add(owner["id"])
            for who in assigned:
                add((tenant, who), "assigned")
    decided = {"APPROVED": "approvalsApproved", "REJECTED": "approvalsRejected"}
    for i in items:
        pk, sk, kind = i["PK"], i["SK"], i.get("kind")
        tenant = pk.split("#")[1]
        if kind == "approvalEntry" and "#APPROVER#" in pk:
            who = pk.split("#APPROVER#", 1)[1]
            status = (i["item"]["approvals"] or [{}])[-1].get("status")
            if sk.startswith("P#"):
                add((tenant, who), "approvalsPending")
            elif sk.startswith("D#") and status in decided:
                add((tenant, who), decided[status])
        elif kind == "approval":
            status = _approvals_in(i.get("request") or {}).get(i.get("approvalId"), {}).get("status")
            if str(i.get("GSI3SK", "")).startswith("P#"):
                add((tenant,), "approvalsPending")
            elif str(i.get("GSI3SK", "")).startswith("D#") and status in decided:
                add((tenant,), decided[status])
        elif kind == "nonEmployeeRequest" and "#NEREQUESTLIST#" in pk:
            add((tenant, pk.split("#NEREQUESTLIST#", 1)[1]), "neRequests" + i["approvalStatus"])
        elif kind == "nonEmployeeApproval" and "#NEAPPROVALLIST#" in pk:
            add((tenant, pk.split("#NEAPPROVALLIST#", 1)[1]), "neApprovals" + i["item"]["approvalStatus"])
    kept: Counter = Counter()
    for i in items:
        if i.get("kind") != "counter":
            continue
        tenant = i["PK"].split("#")[1]
        scope = (tenant,) if "#COUNTS#TENANT#" in i["PK"] else (tenant, i["PK"].split("#COUNTS#IDENTITY#", 1)[1])
        for name, n in i.items():
            if name.startswith("c_"):
                kept[(*scope, name[2:])] += n
    f.notes["counts kept"] += sum(1 for n in kept.values() if n)
    for key in sorted(set(expected) | set(kept)):
        f.check("the counts kept beside the lists say what the lists hold",
                expected[key] == kept[key], f"{key}: lists hold {expected[key]}, counts say {kept[key]}")


def _approvals_in(request: dict) -> dict:
    return {a["approvalId"]: a for it in request.get("items", []) for a in it.get("approvals", [])}


def check_approvals(f: Findings, items: list[dict], requests: dict, by_key: dict) -> dict:
    """An approval's own item holds its request as it was when the approval
    was last current: the same state of that approval as the request, and
    the request itself while the approval is pending. Returns every
    approval of the stored requests by id."""
    approvals = {}
    for rid, r in requests.items():
        tenant = r["PK"].split("#")[1]
        for aid, a in _approvals_in(r).items():
            approvals[aid] = (r, a)
            if a["status"] == "PENDING":
                own = by_key.get((f"T#{tenant}#APPROVAL#{aid}", "#"))
                f.check("a pending approval has its own item, holding its request as stored",
                        own is not None and own.get("request") == {k: v for k, v in r.items()
                                                                   if k in own.get("request", {})},
                        f"approval {aid} of {rid}")
    for i in items:
        if i.get("kind") != "approval":
            continue
        aid, embedded = i.get("approvalId"), i.get("request") or {}
        stored = requests.get(embedded.get("id"))
        shown = _approvals_in(embedded).get(aid)
        f.check("an approval's own item names a stored request", stored is not None, f"approval {aid}")
        if stored is not None and shown is not None:
            f.check("an approval's own item shows the approval's state as stored",
                    shown["status"] == _approvals_in(stored).get(aid, {}).get("status"),
                    f"approval {aid}: {shown['status']} vs {_approvals_in(stored).get(aid, {}).get('status')}")
    return approvals


def check_non_employee(f: Findings, items: list[dict], by_key: dict) -> tuple[dict, dict]:
    """A non-employee request is one record stored under several keys (its
    own, one per approval item, one per identity that lists it), its items
    have entries in the approvals lists, and it holds its account name
    through a guard until rejected: all written together, so all agree.
    Returns the requests by id, and the approval-list entries by item id."""
    own, copies, entries = {}, [], defaultdict(list)
    for i in items:
        if i.get("kind") == "nonEmployeeRequest":
            (own.__setitem__(i["id"], i) if "#NEREQUEST#" in i["PK"] else copies.append(i))
        elif i.get("kind") == "nonEmployeeApproval":
            entries[(i.get("item") or {}).get("id")].append(i)
    body = lambda r: {k: v for k, v in r.items() if k not in ("PK", "SK")}  # noqa: E731
    for c in copies:
        r = own.get(c["id"])
        f.check("a non-employee request's copies are those of a stored request, alike",
                r is not None and body(r) == body(c), f"{c['PK']} {c['SK']}: request {c['id']} "
                + ("missing" if r is None else f"at version {r.get('version')}, the copy at {c.get('version')}"))
    for rid, r in own.items():
        tenant = r["PK"].split("#")[1]
        where = f"non-employee request {rid} ({r['approvalStatus']})"
        for item in r["approvalItems"]:
            copy = by_key.get((f"T#{tenant}#NEAPPROVAL#{item['id']}", "#"))
            f.check("a non-employee request is stored under each of its items", copy is not None, where)
        listed = set((r.get("source") or {}).get("accountManagerIds") or []) | {r["requester"]["id"]}
        for identity in listed:
            found = [c for c in copies if c["PK"] == f"T#{tenant}#NEREQUESTLIST#{identity}" and c["id"] == rid]
            f.check("a non-employee request is in the list of each identity that lists it", len(found) == 1,
                    f"{where}: {identity}")
        statuses = [a["approvalStatus"] for a in r["approvalItems"]]
        status = r["approvalStatus"]
        if status == "REJECTED":
            good = statuses.count("REJECTED") == 1 and not {"PENDING", "NOT_READY"} & set(statuses)
        elif status == "APPROVED":
            good = set(statuses) == {"APPROVED"} and bool(r.get("completionDate"))
        elif status == "PENDING":
            at = statuses.index("PENDING") if "PENDING" in statuses else -1
            good = at >= 0 and set(statuses[:at]) <= {"APPROVED"} and set(statuses[at + 1:]) <= {"NOT_READY"}
        else:
            good = True
        f.check("a non-employee request's items agree with its status", good, f"{where}: {statuses}")
        guard = by_key.get((f"T#{tenant}#NEACCOUNT#{r['source']['id']}#{r['accountName'].lower()}", "#"))
        if status != "REJECTED":
            f.check("a non-employee request holds its account name", bool(guard) and guard.get("target") == rid,
                    f"{where}: guard {guard and guard.get('target')}")
        for item in r["approvalItems"]:
            for e in entries.get(item["id"], []):
                f.check("an approvals list entry shows its item as stored", e.get("item") == item,
                        f"{where}: {e['PK']} shows {e.get('item', {}).get('approvalStatus')}, "
                        f"stored {item['approvalStatus']}")
    for (pk, _), g in by_key.items():
        if g.get("kind") == "pointer" and "#NEACCOUNT#" in pk:
            r = own.get(g.get("target"))
            f.check("an account-name guard names a request that holds the name",
                    r is not None and r["approvalStatus"] != "REJECTED", f"{pk} -> {g.get('target')}")
    for item_id, es in entries.items():
        for e in es:
            if e.get("requestId") not in own:
                f.check("a deleted request leaves only its decided items' entries",
                        (e.get("item") or {}).get("approvalStatus") in ("APPROVED", "REJECTED"), e["PK"])
    return own, entries


def _acting(approver: dict) -> list[str]:
    if approver.get("type") == "GOVERNANCE_GROUP":
        return list(approver.get("memberIds") or [])
    return [approver["id"]]


def landed_possible(call: Call, attempts=None) -> bool:
    """Whether an attempt may have changed something: any answer but a 4xx."""
    return any(a.status is None or a.status >= 500 or a.status < 300 for a in (attempts or call.attempts))


def check_calls(f: Findings, calls: list[Call], table: dict, keys: bool) -> None:
    requests, events, ne = table["requests"], table["events"], table["ne"]
    by_marker = defaultdict(list)
    for r in requests.values():
        meta = r.get("clientMetadata") or {}
        if meta.get("faultOp"):
            by_marker[meta["faultOp"]].append(r)

    # Non-employee requests a delete may have removed, and their items.
    deleted = {c.params["id"] for c in calls if c.operation == "deleteNonEmployeeRequest" and landed_possible(c)}
    deleted_items = {item for item, es in table["ne_entries"].items() if any(e.get("requestId") in deleted for e in es)}
    stored_answers = {}
    for (pk, _), item in table["by_key"].items():
        if item.get("kind") == "idempotency":
            stored_answers[pk.rsplit("#", 1)[1]] = item

    for call in calls:
        final = call.attempts[-1]
        where = f"{call.operation} ({call.what}) {call.marker}"
        ok = final.status is not None and 200 <= final.status < 300
        stored = stored_answers.get(call.key or "")
        if stored and final.status is not None and final.status < 429:
            f.check("with Idempotency-Key, a call whose answer is stored ends with that answer",
                    final.status == stored["status"] and final.json() == json.loads(stored["body"]),
                    f"{where}: {final.status} {final.text[:200]} vs stored {stored['status']} {stored['body'][:200]}")
        if call.operation == "createAccessRequest":
            mine = by_marker.get(call.marker, [])
            groups = defaultdict(list)
            for r in mine:
                attempt = (r.get("clientMetadata") or {}).get("faultAttempt", "") if not keys else ""
                gated = any(it.get("approvals") for it in r["items"])
                groups[(attempt, r["requestedFor"]["id"], gated)].append(r["id"])
            dup = {k: v for k, v in groups.items() if len(v) > 1}
            # Without a key each attempt is marked, and one attempt may not
            # duplicate; with a key, no retry may add anything either.
            f.check("with Idempotency-Key: one request per target and kind, however retried" if keys
                    else "one attempt creates one request per target and kind", not dup, f"{where}: {dup}")
            if not keys:
                attempts_that_created = {a for (a, _, _) in groups}
                if len(attempts_that_created) > 1:
                    f.notes["duplicates by client retries without a key"] += 1
            if keys:
                if not landed_possible(call):
                    f.check("a 4xx changes nothing", not mine, f"{where}: {final.status} yet {len(mine)} requests")
            else:
                # Each attempt is marked: a 4xx attempt must have created nothing.
                for a in call.attempts:
                    if a.status is not None and 400 <= a.status < 500:
                        created = [r["id"] for r in mine
                                   if (r.get("clientMetadata") or {}).get("faultAttempt") == str(a.number)]
                        f.check("a 4xx changes nothing", not created,
                                f"{where} attempt {a.number}: {a.status} yet {created}")
            if ok:
                answer = final.json() or {}
                for tracking in answer.get("newRequests", []):
                    for rid in tracking.get("accessRequestIds", []):
                        r = requests.get(rid)
                        f.check("a 2xx submit's requests are stored", r is not None, f"{where}: {rid}")
                        if r:
                            f.check("a 2xx submit's request is its own",
                                    r["requestedFor"]["id"] == tracking.get("requestedFor")
                                    and (r.get("clientMetadata") or {}).get("faultOp") == call.marker,
                                    f"{where}: {rid}")
                for tracking in answer.get("existingRequests", []):
                    for rid in tracking.get("accessRequestIds", []):
                        r = requests.get(rid)
                        f.check("an existing request reported is stored", r is not None, f"{where}: {rid}")
                        if r is not None:
                            meta = r.get("clientMetadata") or {}
                            same_call = meta.get("faultOp") == call.marker and (
                                keys or meta.get("faultAttempt") == str(final.number))
                            f.check("a submit never reports its own new request as existing", not same_call,
                                    f"{where}: {rid}")
        elif call.operation == "cancelAccessRequest":
            cancelled = [r for r in requests.values() if (r.get("cancellation") or {}).get("comment") == call.marker]
            if not landed_possible(call):
                f.check("a 4xx changes nothing", not cancelled, f"{where}: {[r['id'] for r in cancelled]}")
            f.check("a request is cancelled once", len(cancelled) <= 1, f"{where}")
            if ok:
                rid = call.body["accountActivityId"]
                r = requests.get(rid)
                f.check("a 2xx cancel is visible", r is not None and r["state"] == "CANCELLED"
                        and r["cancellation"]["comment"] == call.marker, f"{where}: {rid} {r and r['state']}")
        elif call.operation == "closeAccessRequest":
            closed = [r for r in requests.values() if call.marker in (r.get("warnings") or [])]
            mine = [e for e in events if (e.get("attributes") or {}).get("message") == call.marker]
            if not landed_possible(call):
                f.check("a 4xx changes nothing", not closed and not mine, f"{where}: {len(closed)} closed, "
                        f"{len(mine)} events")
            for r in closed:
                pcs = [e for e in mine if e["name"] == EVENT_NAMES["provisioning"] and e["accessRequestIds"] == [r["id"]]]
                f.check("a request closed by a call has one Provisioning Completed event", len(pcs) == 1,
                        f"{where}: {r['id']} has {len(pcs)}")
            if ok:
                started = [e for e in mine if e["name"] == EVENT_NAMES["started"]]
                completed = [e for e in mine if e["name"] == EVENT_NAMES["completed"]]
                f.check("a 2xx close has its Started and Completed events", started and completed, where)
                for rid in call.body["accessRequestIds"]:
                    r = requests.get(rid)
                    f.check("every id of a 2xx close is final (or unknown)", r is None or r["state"] != "EXECUTING",
                            f"{where}: {rid}")
        elif call.operation in ("approveAccessRequest", "rejectAccessRequest", "forwardAccessRequest"):
            forward = call.operation == "forwardAccessRequest"
            mine = [(aid, a) for aid, (_, a) in table["approvals"].items()
                    if (any(h.get("comment") == call.marker for h in a.get("forwardHistory", [])) if forward
                        else a.get("comment") == call.marker)]
            if not landed_possible(call):
                f.check("a 4xx changes nothing", not mine, f"{where}: {[m[0] for m in mine]}")
            f.check("a decision takes effect once", len(mine) <= 1, f"{where}: {[m[0] for m in mine]}")
            if ok:
                aid = call.params["approvalId"]
                _, a = table["approvals"].get(aid, (None, {}))
                if forward:
                    good = any(h.get("comment") == call.marker for h in a.get("forwardHistory", []))
                else:
                    good = a.get("comment") == call.marker and a.get("status") == (
                        "APPROVED" if call.operation == "approveAccessRequest" else "REJECTED")
                f.check("a 2xx decision is visible", good, f"{where}: {aid} {a.get('status')}")
                decisions = [e for e in events if e["name"] == EVENT_NAMES["decision"]
                             and call.marker in json.dumps(e)]
                f.check("a 2xx decision has its Access Request Decision event", len(decisions) == 1,
                        f"{where}: {len(decisions)}")
        elif call.operation == "createNonEmployeeRequest":
            mine = [n for n in ne.values() if (n.get("data") or {}).get("faultOp") == call.marker]
            if not landed_possible(call):
                f.check("a 4xx changes nothing", not mine, f"{where}: {[n['id'] for n in mine]}")
            f.check("one non-employee request per call, however retried", len(mine) <= 1,
                    f"{where}: {[n['id'] for n in mine]}")
            if ok:
                answer = final.json() or {}
                f.check("a 2xx non-employee create is stored (or deleted since)",
                        answer.get("id") in deleted or any(n["id"] == answer.get("id") for n in mine), f"{where}: {answer.get('id')}")
        elif call.operation == "approveNonEmployeeRequest":
            touched = [(n, a) for n in ne.values() for a in n["approvalItems"] if a.get("comment") == call.marker]
            if not landed_possible(call):
                f.check("a 4xx changes nothing", not touched, where)
            f.check("an item is approved once", len(touched) <= 1, where)
            if ok:
                item_id = call.params["id"]
                n = next((n for n in ne.values() if any(a["id"] == item_id for a in n["approvalItems"])), None)
                item = n and next(a for a in n["approvalItems"] if a["id"] == item_id)
                f.check("a 2xx approve is visible (or its request deleted since)",
                        (n is None and item_id in deleted_items)
                        or (bool(item) and item["approvalStatus"] == "APPROVED" and item.get("comment") == call.marker),
                        f"{where}: {item and item['approvalStatus']}")
        elif call.operation == "deleteNonEmployeeRequest":
            if ok:
                rid = call.params["id"]
                f.check("a 2xx delete is visible", rid not in ne, f"{where}: {rid} still stored")
        elif call.operation == "rejectNonEmployeeRequest":
            touched = [n for n in ne.values() if any(a.get("comment") == call.marker for a in n["approvalItems"])]
            if not landed_possible(call):
                f.check("a 4xx changes nothing", not touched, where)
            if ok:
                item_id = call.params["id"]
                n = next((n for n in ne.values() if any(a["id"] == item_id for a in n["approvalItems"])), None)
                item = n and next(a for a in n["approvalItems"] if a["id"] == item_id)
                f.check("a 2xx reject is visible (or its request deleted since)",
                        (n is None and item_id in deleted_items)
                        or (bool(item) and item["approvalStatus"] == "REJECTED"
                            and item.get("comment") == call.marker and n["approvalStatus"] == "REJECTED"), where)


# ------------------------------------------------------------------ the API
def api(client: Client, actor: str, method: str, path: str, body=None, key: str | None = None) -> Attempt:
    call = Call("-", actor, body=body)
    call.method, call.path, call.key = method, path, key
    return client.send_once(call, 1)


def check_through_api(f: Findings, client: Client, table: dict, calls: list[Call], keys: bool, base_tenant=ACME):
    # Every stored request of the tenant, as the status endpoint lists it.
    seen: dict[str, set] = defaultdict(set)
    seen_items: dict[str, str] = {}
    offset, total = 0, None
    while True:
        a = api(client, "acme-admin", "GET", f"/v3/access-request-status?count=true&limit=250&offset={offset}"
                                            "&sorters=created")
        if not f.check("status listing answers 200 with faults off", a.status == 200, f"{a.status} {a.text[:200]}"):
            return
        page = a.json()
        total = int(a.headers.get("X-Total-Count", "-1"))
        for s in page:
            seen[s["accessRequestId"]].add(s["state"])
            seen_items[s["accountActivityItemId"]] = s["state"]
        offset += len(page)
        if not page or offset >= total:
            break
    stored = {rid: r for rid, r in table["requests"].items() if r["PK"].startswith(f"T#{base_tenant}#")}
    f.check("the API lists exactly the stored requests", set(seen) == set(stored),
            f"listed {len(seen)}, stored {len(stored)}: "
            f"{sorted(set(seen) ^ set(stored))[:5]}")
    for rid, r in stored.items():
        for it in r["items"]:
            state = it.get("state") or r["state"]  # an item's own state, else its request's
            shown = seen_items.get(it["accountActivityItemId"])
            f.check("the API shows each requested item's stored state", shown == state,
                    f"{rid} item {it['accountActivityItemId']}: {shown} vs {state}")

    # A rejected item answers so when rejected again; nothing changes.
    for n in table["ne"].values():
        for item in n["approvalItems"]:
            if item["approvalStatus"] == "REJECTED" and str(item.get("comment", "")).startswith(MARK):
                a = api(client, "acme-admin", "POST", f"/v3/non-employee-approvals/{item['id']}/reject",
                        {"comment": "again"})
                f.check("a 2xx reject is visible through the API", a.status == 400 and "REJECTED" in a.text,
                        f"{item['id']}: {a.status} {a.text[:200]}")

    # Every stored non-employee request reads as stored; every deleted one is gone.
    for rid, n in table["ne"].items():
        if not n["PK"].startswith(f"T#{base_tenant}#"):
            continue
        a = api(client, "acme-admin", "GET", f"/v3/non-employee-requests/{rid}")
        f.check("the API shows each non-employee request as stored",
                a.status == 200 and (a.json() or {}).get("approvalStatus") == n["approvalStatus"]
                and (a.json() or {}).get("accountName") == n["accountName"], f"{rid}: {a.status} {a.text[:200]}")
    for call in calls:
        if call.operation == "deleteNonEmployeeRequest" and call.attempts[-1].status == 204:
            a = api(client, "acme-admin", "GET", f"/v3/non-employee-requests/{call.params['id']}")
            f.check("a 2xx delete is visible through the API", a.status == 404, f"{call.params['id']}: {a.status}")

    # With keys: a repeat of a call that succeeded answers its answer again.
    if keys:
        # (A call that stored nothing — it found the work done — has no
        # answer to replay: a repeat is evaluated afresh, safely.)
        stored = {pk.rsplit("#", 1)[1] for (pk, _), i in table["by_key"].items() if i.get("kind") == "idempotency"}
        for call in [c for c in calls if c.key in stored and c.attempts[-1].status in (200, 202)][:15]:
            last = call.attempts[-1]
            again = Call(call.operation, call.actor, body=call.body)
            again.method, again.path, again.key = call.method, call.path, call.key
            a = client.send_once(again, 1)
            f.check("a repeated Idempotency-Key answers the stored answer",
                    a.status == last.status and a.json() == last.json()
                    and a.headers.get("Idempotent-Replayed") == "true",
                    f"{call.operation} {call.key}: {a.status} {a.text[:200]} vs {last.status} {last.text[:200]}")


def check_stale_claims_free(f: Findings, client: Client, table: dict) -> None:
    """A claim naming a final request no longer guards: a new submission of
    that identity and item creates a request (run last: it writes)."""
    done = 0
    for (pk, sk), c in table["by_key"].items():
        if c.get("kind") != "pointer" or "#PENDING#" not in pk or not pk.startswith(f"T#{ACME}#"):
            continue
        target = table["requests"].get(c.get("target"))
        if target is None or target["state"] == "EXECUTING":
            continue
        _, _, _, identity, item_type, item_id, request_type = pk.split("#")
        if request_type != "GRANT_ACCESS":
            continue
        a = api(client, "acme-admin", "POST", "/v3/access-requests",
                {"requestedFor": [identity], "requestedItems": [{"type": item_type, "id": item_id}]})
        body = a.json() or {}
        f.check("a claim of a final request no longer guards",
                a.status == 202 and body.get("newRequests") and not body.get("existingRequests"),
                f"{pk}: {a.status} {a.text[:200]}")
        done += 1
        if done >= 5:
            return


# ---------------------------------------------------------------- the run
def proxy_control(proxy: str, **changes) -> dict:
    data = json.dumps(changes).encode() if changes else None
    request = urllib.request.Request(proxy + "/__faults", data=data, method="POST" if changes else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read())


def tokens(base_url: str) -> dict[str, str]:
    out = {}
    for client_id, secret in fixtures.OAUTH_CLIENTS.items():
        data = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id,
                                       "client_secret": secret}).encode()
        with urllib.request.urlopen(base_url + "/oauth/token", data=data, timeout=10) as r:
            out[client_id] = json.loads(r.read())["access_token"]
    return out


# Forced faults of the directed calls: every answer of the store to the
# write is lost (the write landed; the function answers 500, and with a key
# its look-up of the key's answer fails too, so that the client retries)...
LOST_TO_THE_CLIENT = {"write": ["drop_after"] * 3, "GetItem": ["pass"] + ["internal"] * 3}
# ... or only the first answer, which the store client's own retry runs into.
LOST_TO_THE_SDK = {"write": ["drop_after"]}


def directed(client: Client, proxy: str, rng: random.Random) -> list[Call]:
    """Lost answers, forced, one call at a time with faults otherwise off:
    a submit (without and with approval steps) and a cancel whose write
    landed while the client was told 500, and submits whose lost answer the
    store client's retry runs into."""
    out = []

    def run(call: Call, force: dict) -> Call:
        client.prepare(call, rng)
        proxy_control(proxy, force=force)
        try:
            return client.execute(call, rng)
        finally:
            proxy_control(proxy, force={})

    # Each submit asks for what the directed user does not have pending.
    for item, force, how in ((IMMEDIATE[0], LOST_TO_THE_CLIENT, "client"), (GATED[0], LOST_TO_THE_CLIENT, "client"),
                             (IMMEDIATE[0], LOST_TO_THE_SDK, "SDK"), (GATED[1], LOST_TO_THE_SDK, "SDK")):
        actor = fixtures.DIRECTED_CLIENT
        marker = new_marker()
        call = Call("createAccessRequest", actor,
                    body={"requestedFor": [fixtures.identity_of(actor)], "requestedItems": [ITEMS[item]],
                          "clientMetadata": {"faultOp": marker}},
                    expect={202}, what=f"directed: submit of {item}, answer lost to the {how}", marker=marker,
                    stamp_attempt=True)
        out.append(run(call, force))
        answer = call.attempts[-1].json() or {}
        new = [i for t in answer.get("newRequests", []) for i in t.get("accessRequestIds", [])]
        if how == "client" and item in GATED and call.attempts[-1].status == 202:
            # Its request (new, or found existing by the retry) is cancelled, answer lost too.
            ids = new or [i for t in answer.get("existingRequests", []) for i in t.get("accessRequestIds", [])]
            marker = new_marker()
            cancel = Call("cancelAccessRequest", actor, body={"accountActivityId": ids[0], "comment": marker},
                          expect={202, 400}, what="directed: cancel, answer lost to the client", marker=marker)
            out.append(run(cancel, LOST_TO_THE_CLIENT))
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--keys", action="store_true", help="send Idempotency-Key on POSTs")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--calls", type=int, default=40, help="calls per client")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--margin-ms", type=int, default=300)
    parser.add_argument("--result", required=True)
    args = parser.parse_args(argv)

    base_url = os.environ["BASE_URL"]
    proxy = os.environ["FAULT_PROXY"]
    endpoint = os.environ["DYNAMODB_TEST_ENDPOINT"]
    table_name = os.environ["TABLE_NAME"]
    budget_ms = int(os.environ.get("REQUEST_BUDGET_MS", "9700"))
    routes = load_routes()
    tokens_by_client = tokens(base_url)
    client = Client(base_url, tokens_by_client, routes, args.keys, timeout=budget_ms / 1000 + 10)
    world = World(args.seed)
    names = list(WORKLOAD)
    weights = [WORKLOAD[n].weight for n in names]

    calls: list[Call] = []
    calls_lock = threading.Lock()
    deadline = time.monotonic() + 120

    def run_client(index: int) -> None:
        rng = random.Random(args.seed * 1000 + index)
        # Every endpoint first, then drawn by weight.
        first = rng.sample(names, len(names))
        for n in range(max(args.calls, len(names))):
            if time.monotonic() > deadline:
                return
            operation = first[n] if n < len(first) else rng.choices(names, weights)[0]
            call = WORKLOAD[operation].generate(world, rng)
            client.prepare(call, rng)
            client.execute(call, rng)
            if call.operation == "createAccessRequest" and call.attempts[-1].status == 202:
                world.add_requests(call.actor, call.attempts[-1].json())
            if call.operation == "listPendingApprovals" and call.attempts[-1].status == 200 \
                    and ("owner-id", "me") in call.query:
                world.add_approvals(call.actor, call.attempts[-1].json())
            if call.operation == "createNonEmployeeRequest" and call.attempts[-1].status == 200:
                world.add_non_employee(call.actor, call.attempts[-1].json())
            with calls_lock:
                calls.append(call)

    started = time.monotonic()
    proxy_control(proxy, enabled=True)
    threads = [threading.Thread(target=run_client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    proxy_control(proxy, enabled=False)
    mixed_secs = time.monotonic() - started
    directed_calls = directed(client, proxy, random.Random(args.seed))
    calls.extend(directed_calls)
    # Writes held back by injected latency land within its longest delay.
    time.sleep(2.0)
    stats = proxy_control(proxy)

    f = Findings()
    covered = {c.operation for c in calls}
    f.check("the workload called every endpoint", covered == set(routes), f"missing {set(routes) - covered}")
    for call in calls:
        for attempt in call.attempts:
            check_envelope(f, call, attempt, budget_ms, args.margin_ms, args.keys)
    table = check_table(f, scan(endpoint, table_name))
    check_calls(f, calls, table, args.keys)
    check_through_api(f, client, table, calls, args.keys)
    check_stale_claims_free(f, client, table)

    attempts = [a for c in calls for a in c.attempts]
    directed_outcomes = []
    for c in directed_calls:
        if c.operation == "createAccessRequest":
            stored = sum(1 for r in table["requests"].values()
                         if (r.get("clientMetadata") or {}).get("faultOp") == c.marker)
            effect = f"{stored} request{'s' if stored != 1 else ''} stored"
        else:
            r = table["requests"].get(c.body["accountActivityId"]) or {}
            effect = f"request {r.get('state')}"
        answers = "→".join(str(a.status) + (" replayed" if a.headers.get("Idempotent-Replayed") else "")
                           for a in c.attempts)
        directed_outcomes.append({"what": c.what, "answers": answers, "effect": effect})
    result = {
        "config": args.config,
        "keys": args.keys,
        "seed": args.seed,
        "clients": args.clients,
        "logical_calls": len(calls),
        "http_calls": len(attempts),
        "by_operation": dict(Counter(c.operation for c in calls)),
        "statuses": dict(Counter(str(a.status) for a in attempts)),
        "answers_5xx": sum(1 for a in attempts if a.status is not None and a.status >= 500),
        "answers_429": sum(1 for a in attempts if a.status == 429),
        "client_retries": sum(len(c.attempts) - 1 for c in calls),
        "max_ms": round(max(a.elapsed for a in attempts) * 1000),
        "budget_ms": budget_ms,
        "mixed_secs": round(mixed_secs, 1),
        "proxy": stats,
        "invariants_checked": sum(f.checked.values()),
        "checks": dict(f.checked),
        "notes": dict(f.notes),
        "violations": f.violations,
        "directed": directed_outcomes,
    }
    Path(args.result).write_text(json.dumps(result, indent=1))
    for v in f.violations[:40]:
        print(f"VIOLATION [{args.config}] {v}", file=sys.stderr)
    return 1 if f.violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
