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

# Non-employee approval items the workload rejects: (item id, a client of
# its approver). Those of the demo seed that are pending, and the added ones.
NE_ITEMS: list[tuple[str, str]] = [
    ("2c1e388b-1e55-4b0a-ab5c-897f12040001", "acme-manager"),
    ("2c1e388b-1e55-4b0a-ab5c-897f12040003", "acme-source-admin"),
]


def identity_of(client_id: str) -> str:
    return _CLIENT_IDENTITY[client_id]


def _added_non_employee_requests() -> list[dict]:
    out = []
    for n in range(1, 25):
        group = n % 3 == 0
        first = {
            "id": f"fa0e0000-0000-4000-8000-{n:012d}",
            "approverType": "GOVERNANCE_GROUP" if group else "IDENTITY",
            "approverId": FINANCE if group else MARIA,
            "approvalOrder": 1,
            "approvalStatus": "PENDING",
        }
        items = [first]
        if n % 2 == 0:
            items.append({
                "id": f"fa0e0000-0000-4000-9000-{n:012d}",
                "approverType": "IDENTITY",
                "approverId": ADMIN,
                "approvalOrder": 2,
                "approvalStatus": "NOT_READY",
            })
        out.append({
            "id": f"fa0e0000-0000-4000-a000-{n:012d}",
            "requesterId": MARIA,
            "accountName": f"fault.contractor.{n}",
            "created": f"2026-11-{n % 28 + 1:02d}T09:00:00Z",
            "approvalItems": items,
        })
    return out


for _r in _added_non_employee_requests():
    _first = _r["approvalItems"][0]
    NE_ITEMS.append((_first["id"], "acme-source-admin" if _first["approverType"] == "GOVERNANCE_GROUP"
                     else "acme-manager"))


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
