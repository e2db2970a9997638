"""The fault run's seed and actors: the demo seed (seed/demo.json) plus a few
users of acme who report to Maria, each with an OAuth client, and
non-employee requests pending with Maria or the Finance Approvers group, so
that every endpoint has work that can succeed as well as fail."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ACME = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
ADMIN = "2c9180835d191a86015d28455b4a0001"
MARIA = "2c9180835d191a86015d28455b4a0002"
EVE = "2c9180835d191a86015d28455b4a0003"
SAM = "2c9180835d191a86015d28455b4a0006"
FINANCE = "2c9180835d191a86015d28455b4a0f01"

# The catalog items the workload requests, by name.
ITEMS = {
    "engineering": {"type": "ACCESS_PROFILE", "id": "2c9180835d2e5168015d32f890ca1581"},
    "wiki": {"type": "ACCESS_PROFILE", "id": "2c9180835d2e5168015d32f890ca1582"},
    "finance": {"type": "ROLE", "id": "2c918086771c86df0177401efcdf0001"},
    "auditor": {"type": "ROLE", "id": "2c918086771c86df0177401efcdf0002"},
    "jira": {"type": "ENTITLEMENT", "id": "779c6fd7171540bba1184e5946110002"},
}
# With approval steps (the request executes, guarded by claims) ...
GATED = ["engineering", "finance", "auditor", "jira"]
# ... and without (the request completes at once).
IMMEDIATE = ["wiki"]
NOT_REQUESTABLE = {"type": "ACCESS_PROFILE", "id": "2c9180835d2e5168015d32f890ca1583"}

FAULT_USERS = [f"fa017a0000000000000000000000{n:04d}" for n in range(1, 7)]
# Submits and cancels only in the directed calls, so that each of them writes.
DIRECTED_USER = "fa017a00000000000000000000000d01"
DIRECTED_CLIENT = "fault-directed"
# OAuth client id -> identity (users who submit and cancel).
_USER_IDENTITY = {"acme-employee": EVE, **{f"fault-user-{n}": u for n, u in enumerate(FAULT_USERS, 1)}}
USERS = list(_USER_IDENTITY)
REPORTS_OF_MARIA = [EVE] + FAULT_USERS
_CLIENT_IDENTITY = {"acme-admin": ADMIN, "acme-manager": MARIA, "acme-source-admin": SAM,
                    DIRECTED_CLIENT: DIRECTED_USER, **_USER_IDENTITY}

OAUTH_CLIENTS = {
    "acme-admin": "acme-admin-secret",
    "acme-manager": "acme-manager-secret",
    "acme-employee": "acme-employee-secret",
    "acme-source-admin": "acme-source-admin-secret",
    "acme-api": "acme-api-secret",
    **{f"fault-user-{n}": f"fault-user-{n}-secret" for n in range(1, len(FAULT_USERS) + 1)},
    DIRECTED_CLIENT: f"{DIRECTED_CLIENT}-secret",
}

# Non-employee sources of acme (seed/demo.json): their account managers may
# create requests on them; their approvers decide in order.
CONTRACTORS = "a0303682-5e4a-44f7-bdc2-6ce611250001"  # managers Maria, Eve; Maria, then Finance
FINANCE_TEMPS = "a0303682-5e4a-44f7-bdc2-6ce611250002"  # manager Maria; Finance
LAB_VISITORS = "a0303682-5e4a-44f7-bdc2-6ce611250003"  # manager Eve; Sam
# Per source: clients of its account managers, and of a possible approver
# of each of its items in order.
SOURCES = {
    CONTRACTORS: (["acme-manager", "acme-employee"], ["acme-manager", "acme-source-admin"]),
    FINANCE_TEMPS: (["acme-manager"], ["acme-source-admin"]),
    LAB_VISITORS: (["acme-employee"], ["acme-source-admin"]),
}

# Non-employee approval items the workload decides: (item id, a client of
# a possible approver). Those of the demo seed that are pending, and the
# added ones.
NE_ITEMS: list[tuple[str, str]] = [
    ("2c1e388b-1e55-4b0a-ab5c-897f12040001", "acme-manager"),
    ("2c1e388b-1e55-4b0a-ab5c-897f12040002", "acme-source-admin"),
    ("2c1e388b-1e55-4b0a-ab5c-897f12040003", "acme-source-admin"),
]
# Non-employee requests the workload reads and deletes: (id, a client of an
# account manager of its source).
NE_REQUESTS: list[tuple[str, str]] = [
    ("ac110005-7156-1150-8171-5b292e3e0001", "acme-manager"),
    ("ac110005-7156-1150-8171-5b292e3e0002", "acme-manager"),
]


def identity_of(client_id: str) -> str:
    return _CLIENT_IDENTITY[client_id]


def non_employee_body(source: str, account_name: str, data: dict | None = None) -> dict:
    """A valid NonEmployeeRequestBody on `source`."""
    return {
        "accountName": account_name,
        "firstName": "Fault",
        "lastName": account_name.rsplit(".", 1)[-1].title(),
        "email": f"{account_name}@contractors.example.com",
        "phone": "5125550100",
        "manager": MARIA,
        "sourceId": source,
        "startDate": "2026-12-01T00:00:00Z",
        "endDate": "2027-06-30T00:00:00Z",
        "data": data or {},
    }


def _added_non_employee_requests() -> list[dict]:
    out = []
    sources = list(SOURCES)
    for n in range(1, 25):
        source = sources[n % len(sources)]
        items = [{"id": f"fa0e0000-0000-4000-8000-{n:012d}", "approvalStatus": "PENDING"}]
        if source == CONTRACTORS:
            items.append({"id": f"fa0e0000-0000-4000-9000-{n:012d}", "approvalStatus": "NOT_READY"})
        body = non_employee_body(source, f"fault.seeded.{n}")
        del body["data"]
        out.append({
            "id": f"fa0e0000-0000-4000-a000-{n:012d}",
            "requesterId": identity_of(SOURCES[source][0][0]),
            "created": f"2026-11-{n % 28 + 1:02d}T09:00:00Z",
            "approvalItems": items,
            **body,
        })
    return out


for _r in _added_non_employee_requests():
    _managers, _approvers = SOURCES[_r["sourceId"]]
    for _item, _approver in zip(_r["approvalItems"], _approvers):
        NE_ITEMS.append((_item["id"], _approver))
    NE_REQUESTS.append((_r["id"], _managers[0]))


def seed() -> dict:
    """The demo seed with the fault run's additions."""
    doc = json.loads((ROOT / "seed" / "demo.json").read_text())
    acme = next(t for t in doc["tenants"] if t["tenantId"] == ACME)
    for n, identity in enumerate(FAULT_USERS, 1):
        acme["identities"].append({"id": identity, "name": f"Fault User {n}", "managerId": MARIA})
        acme["oauthClients"].append({
            "clientId": f"fault-user-{n}",
            "clientSecret": f"fault-user-{n}-secret",
            "identityId": identity,
            "userName": f"fault.user.{n}",
            "authorities": ["USER"],
        })
    acme["identities"].append({"id": DIRECTED_USER, "name": "Fault Directed", "managerId": MARIA})
    acme["oauthClients"].append({
        "clientId": DIRECTED_CLIENT,
        "clientSecret": f"{DIRECTED_CLIENT}-secret",
        "identityId": DIRECTED_USER,
        "userName": "fault.directed",
        "authorities": ["USER"],
    })
    acme.setdefault("nonEmployeeRequests", []).extend(_added_non_employee_requests())
    return doc
