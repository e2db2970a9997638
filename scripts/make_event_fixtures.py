#!/usr/bin/env python3
"""Writes the API Gateway proxy events under events/<function>/<case>.json.

Every event is what the template's REST API (payload format 1.0, stage `prod`)
sends to the function for one request, or, for the `http-api-v2-*` cases, what
an HTTP API (payload format 2.0, stage `$default`) would send. The bearer
tokens inside are HS256 JWTs signed with the local secret
(`shared::state::LOCAL_HS256_SECRET`) that expire in 2100, carrying the claims
SailPoint issues, for the identities of `seed/demo.json`.

The expected responses (`<case>.expected.json`) are written by hand, never by
this script; `local/tests/event_fixtures.rs` fails for a case without one.

    python3 scripts/make_event_fixtures.py            # (re)write events/*/*.json
    python3 scripts/make_event_fixtures.py --check    # exit 1 if a file differs
    python3 scripts/make_event_fixtures.py --tokens   # print the tokens (curl, SDKs)

Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

from routes import routes

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

# shared::state::LOCAL_HS256_SECRET; the test fails if the two drift apart.
LOCAL_HS256_SECRET = "local-development-secret-not-for-production"
WRONG_SECRET = "not-the-local-secret"
EXP_2100 = 4102444800  # 2100-01-01T00:00:00Z
EXP_PAST = 1767229200  # 2026-01-01T01:00:00Z: expired long ago

STAGE = "prod"
API_ID = "a1b2c3d4e5"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
DOMAIN = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
REQUEST_TIME = "10/Dec/2026:09:30:00 +0000"
REQUEST_TIME_EPOCH_MS = 1797154200000
SOURCE_IP = "203.0.113.10"
USER_AGENT = "sailpoint-api-client/1.4.0 (python)"
# Fixed namespace so request ids are stable across regenerations.
NAMESPACE = uuid.UUID("5a1e0b1c-0000-4000-8000-00000000e5e5")

ACME = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
GLOBEX = "9b2c1f0e-0d4e-4f7a-8e51-0c7d2f1a9e11"
INITECH = "5d2f8a9c-1b3e-4c6d-9e8f-7a6b5c4d3e2f"

# acme directory
ADA, MARIA, EVE, EVAN, OSCAR, SAM = (f"2c9180835d191a86015d28455b4a000{i}" for i in range(1, 7))
# acme catalog
ENGINEERING_ACCESS = "2c9180835d2e5168015d32f890ca1581"
WIKI_READER = "2c9180835d2e5168015d32f890ca1582"
BREAK_GLASS = "2c9180835d2e5168015d32f890ca1583"
FINANCE_ANALYST = "2c918086771c86df0177401efcdf0001"
GITHUB_ADMIN = "779c6fd7171540bba1184e5946110001"
JIRA_USER = "779c6fd7171540bba1184e5946110002"
# acme: Nina, whose seeded requests wait at every kind of approval step
NINA = "2c9180835d191a86015d28455b4a0007"
AUDITOR = "2c918086771c86df0177401efcdf0002"
# ... the requests: manager step, owner step, group step, forwarded, approved, rejected, cancelled
NINA_REQUESTS = {n: f"2c9180857b2e0001a1b2c3d4e5f600{n:02d}" for n in range(1, 8)}
# ... their approvals: request n, step s
def nina_approval(n: int, s: int) -> str:
    return f"2c91808e0000000000000000000b{n:02d}{s:02d}"
AP_MANAGER_PENDING = nina_approval(1, 1)      # Maria's, then Sam's (SOURCE_OWNER)
AP_MANAGER_APPROVED = nina_approval(2, 1)     # Maria approved ...
AP_OWNER_PENDING = nina_approval(2, 2)        # ... and Sam's step waits
AP_GROUP_MANAGER_APPROVED = nina_approval(3, 1)
AP_GROUP_PENDING = nina_approval(3, 2)        # Finance Approvers: Maria, Sam
AP_FORWARDED = nina_approval(4, 1)            # Maria's, forwarded to Sam
AP_APPROVED = nina_approval(5, 1)             # Ada approved: completed
AP_REJECTED = nina_approval(6, 1)             # Maria rejected
AP_CANCELLED = nina_approval(7, 1)            # Nina cancelled her request
# acme non-employee approval items
NE_MARIA_PENDING = "2c1e388b-1e55-4b0a-ab5c-897f12040001"
NE_GROUP_NOT_READY = "2c1e388b-1e55-4b0a-ab5c-897f12040002"
NE_GROUP_PENDING = "2c1e388b-1e55-4b0a-ab5c-897f12040003"
NE_APPROVED = "2c1e388b-1e55-4b0a-ab5c-897f12040004"
# acme non-employee sources and requests
FINANCE_GROUP = "2c9180835d191a86015d28455b4a0f01"
NE_CONTRACTORS = "a0303682-5e4a-44f7-bdc2-6ce611250001"  # managers Maria, Eve; approvers Maria, Finance group
NE_FINANCE_TEMPS = "a0303682-5e4a-44f7-bdc2-6ce611250002"  # manager Maria; approver Finance group
NE_LAB_VISITORS = "a0303682-5e4a-44f7-bdc2-6ce611250003"  # manager Eve; approver Sam
NE_REQUEST_ONE = "ac110005-7156-1150-8171-5b292e3e0001"  # contractor.one, pending (Maria, then the group)
NE_REQUEST_TWO = "ac110005-7156-1150-8171-5b292e3e0002"  # contractor.two, pending (the group)
NE_REQUEST_THREE = "ac110005-7156-1150-8171-5b292e3e0003"  # contractor.three, approved (Sam)
# initech
IVY, PETER, BILL = (f"7c9180835d191a86015d28455b4b000{i}" for i in range(1, 4))
TPS_REPORTS = "7c918086771c86df0177401efcd00001"
STAPLER = "7c918086771c86df0177401efcd00002"
PRINTER_ADMIN = "7c918086771c86df0177401efcd00003"
# initech access requests: pending, approved (executing), completed, pending (Bill for Peter)
AR_PENDING = "7c9180857a1f0001a1b2c3d4e5f60001"
AR_APPROVED = "7c9180857a1f0001a1b2c3d4e5f60002"
AR_COMPLETED = "7c9180857a1f0001a1b2c3d4e5f60003"
AR_BILL_FOR_PETER = "7c9180857a1f0001a1b2c3d4e5f60004"
ITEM_PENDING = "7c9180857a1f0002a1b2c3d4e5f60001"
NE_BILL_PENDING = "2c1e388b-1e55-4b0a-ab5c-897f12040101"
NE_CONSULTANTS = "b1404793-6f5b-45a8-9ed3-7df722360001"
UNKNOWN_ID = "ffffffffffffffffffffffffffffffff"
# A scope that reads status only: the 403-by-scope cases' tokens.
STATUS_READ = "idn:access-request-status:read"


# --- tokens -----------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims: dict, secret: str = LOCAL_HS256_SECRET, alg: str = "HS256") -> str:
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    if alg == "none":
        return f"{header}.{payload}."
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def claims(client_id: str, tenant: str, identity: str | None, user: str | None,
           authorities: list[str], exp: int = EXP_2100,
           scope: list[str] | None = None) -> dict:
    """The claims, in the order, of a SailPoint access token (see
    reference/jwt-claims.md): client-credentials tokens of an API client carry
    no identity_id / user_name. `scope` narrows the token's scopes (default
    sp:scopes:all)."""
    c = {"tenant_id": tenant, "internal": True, "pod": "local", "org": client_id.split("-")[0]}
    if identity is not None:
        c.update({"identity_id": identity, "user_name": user, "strong_auth": False})
    c.update({
        "authorities": authorities,
        "client_id": client_id,
        "strong_auth_supported": False,
        "scope": scope or ["sp:scopes:all"],
        "exp": exp,
        "jti": str(uuid.uuid5(NAMESPACE, f"jti:{client_id}:{exp}")),
    })
    return c


CLIENTS = {
    # name: (tenant, identity, user_name, authorities) -- the seed's OAuth clients
    "acme-admin": (ACME, ADA, "ada.admin", ["ORG_ADMIN"]),
    "acme-manager": (ACME, MARIA, "maria.manager", ["USER"]),
    "acme-employee": (ACME, EVE, "eve.employee", ["USER"]),
    "acme-source-admin": (ACME, SAM, "sam.source", ["SOURCE_ADMIN"]),
    "acme-api": (ACME, None, None, ["API"]),
    "globex-admin": (GLOBEX, "8a8a8a8a5d191a86015d28455b4a0001", "greta.globex", ["ORG_ADMIN"]),
    "initech-admin": (INITECH, IVY, "ivy.admin", ["ORG_ADMIN"]),
    "initech-peter": (INITECH, PETER, "peter.gibbons", ["USER"]),
    "initech-bill": (INITECH, BILL, "bill.lumbergh", ["USER"]),
}


def token(name: str, scope: list[str] | None = None) -> str:
    """A valid token of a seed client (with only `scope`, when given), or one
    of the broken ones."""
    if name in CLIENTS:
        return jwt(claims(name, *CLIENTS[name], scope=scope))
    base = claims("acme-employee", *CLIENTS["acme-employee"])
    if name == "expired":
        return jwt(claims("acme-employee", *CLIENTS["acme-employee"], exp=EXP_PAST))
    if name == "bad-signature":
        return jwt(base, secret=WRONG_SECRET)
    if name == "alg-none":
        return jwt(base, alg="none")
    if name == "malformed":
        return "not-a-jwt"
    raise KeyError(name)


# --- events -----------------------------------------------------------------

# function -> (method, resource under /v3 or /beta, versions), from routes.toml.
ROUTES = {r["function"]: (r["method"], r["path"], tuple(r["versions"])) for r in routes()}


def path_parameters(resource: str, path_id: str | None) -> tuple[str, dict | None]:
    """The concrete path of `resource` and its path parameters: `path_id` fills
    the route's one `{name}` parameter."""
    names = re.findall(r"\{([^}]+)\}", resource)
    if path_id is None or not names:
        return resource, None
    if len(names) != 1:
        raise SystemExit(f"{resource}: give each of {names} a value")
    return resource.replace("{" + names[0] + "}", path_id), {names[0]: path_id}


def request_headers(auth: str | None, has_body: bool, extra: dict) -> list[tuple[str, str]]:
    """Headers as a client sends them through CloudFront to API Gateway."""
    headers = [
        ("Accept", "application/json"),
        ("Accept-Encoding", "gzip, deflate"),
    ]
    if auth is not None:
        headers.append(("Authorization", auth))
    if has_body:
        headers.append(("Content-Type", "application/json"))
    headers += [
        ("Host", DOMAIN),
        ("User-Agent", USER_AGENT),
        ("X-Amzn-Trace-Id", "Root=1-6758c7e8-3f1c5a2b9d8e7f6a5b4c3d2e"),
        ("X-Forwarded-For", SOURCE_IP),
        ("X-Forwarded-Port", "443"),
        ("X-Forwarded-Proto", "https"),
    ]
    headers += list(extra.items())
    return headers


def rest_v1_event(function: str, case: str, *, version: str, auth: str | None,
                  body: str | None, query: list[tuple[str, str]], path_id: str | None,
                  headers: dict, base64_body: bool) -> dict:
    method, resource_tail, _ = ROUTES[function]
    resource = f"/{version}{resource_tail}"
    path, path_params = path_parameters(resource, path_id)
    hdrs = request_headers(auth, body is not None, headers)
    single_q: dict[str, str] = {}
    multi_q: dict[str, list[str]] = {}
    for k, v in query:
        single_q[k] = v  # API Gateway keeps the last value in the single-value map
        multi_q.setdefault(k, []).append(v)
    request_id = str(uuid.uuid5(NAMESPACE, f"{function}/{case}"))
    if base64_body and body is not None:
        body = base64.b64encode(body.encode()).decode()
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {k: v for k, v in hdrs},
        "multiValueHeaders": {k: [v] for k, v in hdrs},
        "queryStringParameters": single_q or None,
        "multiValueQueryStringParameters": multi_q or None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "resourceId": hashlib.sha1(resource.encode()).hexdigest()[:6],
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": b64url(hashlib.sha1(request_id.encode()).digest())[:15] + "=",
            "requestTime": REQUEST_TIME,
            "path": f"/{STAGE}{path}",
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": API_ID,
            "requestTimeEpoch": REQUEST_TIME_EPOCH_MS,
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": SOURCE_IP,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": USER_AGENT,
                "user": None,
            },
            "domainName": DOMAIN,
            "deploymentId": "d3pl0y",
            "apiId": API_ID,
        },
        "body": body,
        "isBase64Encoded": base64_body and body is not None,
    }


def http_v2_event(function: str, case: str, *, version: str, auth: str | None,
                  body: str | None, query: list[tuple[str, str]], path_id: str | None,
                  headers: dict, base64_body: bool) -> dict:
    method, resource_tail, _ = ROUTES[function]
    resource = f"/{version}{resource_tail}"
    path, path_params = path_parameters(resource, path_id)
    hdrs: dict[str, str] = {}
    for k, v in request_headers(auth, body is not None, headers):
        # HTTP APIs lower-case header names and join repeated ones with commas.
        k = k.lower()
        hdrs[k] = f"{hdrs[k]},{v}" if k in hdrs else v
    hdrs["content-length"] = str(len(body.encode())) if body is not None else "0"
    raw_query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
    joined: dict[str, str] = {}
    for k, v in query:
        joined[k] = f"{joined[k]},{v}" if k in joined else v
    request_id = str(uuid.uuid5(NAMESPACE, f"{function}/{case}"))
    route_key = f"{method} {resource}"
    event = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": hdrs,
    }
    if joined:
        event["queryStringParameters"] = joined
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": DOMAIN,
        "domainPrefix": API_ID,
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": SOURCE_IP,
            "userAgent": USER_AGENT,
        },
        "requestId": b64url(hashlib.sha1(request_id.encode()).digest())[:15] + "=",
        "routeKey": route_key,
        "stage": "$default",
        "time": REQUEST_TIME,
        "timeEpoch": REQUEST_TIME_EPOCH_MS,
    }
    if path_params is not None:
        event["pathParameters"] = path_params
    if body is not None:
        event["body"] = base64.b64encode(body.encode()).decode() if base64_body else body
    event["isBase64Encoded"] = base64_body and body is not None
    return event


def case(name: str, *, client: str | None = None, auth: str | None = None, body=None,
         raw_body: str | None = None, query: list[tuple[str, str]] | None = None,
         path_id: str | None = None, version: str | None = None, headers: dict | None = None,
         base64_body: bool = False, payload: str = "v1", scope: list[str] | None = None) -> dict:
    """One fixture: `client` names a token (see `token`; `scope` narrows its
    scopes), `auth` overrides the whole Authorization header, `body` is
    JSON-encoded, `raw_body` sent as is."""
    if client is not None:
        auth = f"Bearer {token(client, scope)}"
    if raw_body is None and body is not None:
        raw_body = json.dumps(body, separators=(",", ":"))
    return {
        "name": name, "auth": auth, "body": raw_body, "query": query or [],
        "path_id": path_id, "version": version, "headers": headers or {},
        "base64_body": base64_body, "payload": payload,
    }


def v2(c: dict) -> dict:
    """The same request delivered by an HTTP API (payload format 2.0)."""
    return {**c, "name": f"http-api-v2-{c['name']}", "payload": "v2"}


def item(kind: str, id_: str, **extra) -> dict:
    return {"type": kind, "id": id_, **extra}


def create_cases() -> list[dict]:
    eng = item("ACCESS_PROFILE", ENGINEERING_ACCESS, comment="I build things.")
    grant_self = case("grant-self", client="acme-employee",
                      body={"requestedFor": [EVE], "requestType": "GRANT_ACCESS",
                            "requestedItems": [eng],
                            "clientMetadata": {"requestedAppName": "fixtures"}})
    no_token = case("no-token", body={"requestedFor": [EVE], "requestedItems": [eng]})
    return [
        grant_self,
        case("grant-self-beta", client="acme-employee", version="beta",
             body={"requestedFor": [EVE], "requestedItems": [item("ROLE", FINANCE_ANALYST)]}),
        case("grant-self-without-approval", client="acme-employee",
             body={"requestedFor": [EVE], "requestType": None,
                   "requestedItems": [item("ACCESS_PROFILE", WIKI_READER)]}),
        case("grant-manager-for-reports", client="acme-manager",
             body={"requestedFor": [EVE, EVAN], "requestType": "GRANT_ACCESS",
                   "requestedItems": [item("ENTITLEMENT", JIRA_USER, comment="Team licence")]}),
        case("grant-admin-for-others", client="acme-admin",
             body={"requestedFor": [OSCAR, EVAN],
                   "requestedItems": [item("ROLE", FINANCE_ANALYST,
                                           removeDate="2099-12-31T00:00:00Z"),
                                      item("ACCESS_PROFILE", ENGINEERING_ACCESS)]}),
        case("revoke-by-manager", client="acme-manager",
             body={"requestedFor": [EVE], "requestType": "REVOKE_ACCESS",
                   "requestedItems": [item("ENTITLEMENT", JIRA_USER, comment="Left the team")]}),
        case("existing-pending-request", client="initech-peter",
             body={"requestedFor": [PETER], "requestType": "GRANT_ACCESS",
                   "requestedItems": [item("ROLE", TPS_REPORTS, comment="Again")]}),
        case("existing-and-new", client="initech-bill",
             body={"requestedFor": [PETER],
                   "requestedItems": [item("ROLE", TPS_REPORTS), item("ROLE", STAPLER)]}),
        case("base64-body", client="acme-employee", base64_body=True,
             body={"requestedFor": [EVE], "requestedItems": [item("ROLE", FINANCE_ANALYST)]}),
        # 400
        case("invalid-json", client="acme-employee", raw_body='{"requestedFor": ['),
        case("empty-body", client="acme-employee", raw_body=""),
        case("missing-requested-for", client="acme-employee",
             body={"requestedItems": [eng]}),
        case("wrong-json-type", client="acme-employee",
             body={"requestedFor": EVE, "requestedItems": [eng]}),
        case("unknown-request-type", client="acme-employee",
             body={"requestedFor": [EVE], "requestType": "GRANT", "requestedItems": [eng]}),
        case("unknown-item-type", client="acme-employee",
             body={"requestedFor": [EVE], "requestedItems": [item("APP", ENGINEERING_ACCESS)]}),
        case("empty-requested-for", client="acme-employee",
             body={"requestedFor": [], "requestedItems": [eng]}),
        case("empty-requested-items", client="acme-employee",
             body={"requestedFor": [EVE], "requestedItems": []}),
        case("too-many-items", client="acme-employee",
             body={"requestedFor": [EVE],
                   "requestedItems": [item("ENTITLEMENT", f"{i:032x}") for i in range(1, 27)]}),
        case("duplicate-requested-for", client="acme-manager",
             body={"requestedFor": [EVE, EVE], "requestedItems": [eng]}),
        case("unknown-identity", client="acme-admin",
             body={"requestedFor": [UNKNOWN_ID], "requestedItems": [eng]}),
        case("other-tenant-identity", client="globex-admin",
             body={"requestedFor": [EVE],
                   "requestedItems": [item("ROLE", "8a8a8a8a771c86df0177401efcdf0001")]}),
        case("unknown-item", client="acme-employee",
             body={"requestedFor": [EVE], "requestedItems": [item("ROLE", UNKNOWN_ID)]}),
        case("not-requestable", client="acme-employee",
             body={"requestedFor": [EVE], "requestedItems": [item("ACCESS_PROFILE", BREAK_GLASS)]}),
        case("revoke-self", client="acme-manager",
             body={"requestedFor": [MARIA], "requestType": "REVOKE_ACCESS",
                   "requestedItems": [item("ENTITLEMENT", JIRA_USER, comment="Not needed")]}),
        case("revoke-without-comment", client="acme-manager",
             body={"requestedFor": [EVE], "requestType": "REVOKE_ACCESS",
                   "requestedItems": [item("ENTITLEMENT", JIRA_USER)]}),
        case("revoke-two-identities", client="acme-manager",
             body={"requestedFor": [EVE, EVAN], "requestType": "REVOKE_ACCESS",
                   "requestedItems": [item("ROLE", FINANCE_ANALYST, comment="Moved on")]}),
        case("remove-date-in-past", client="acme-employee",
             body={"requestedFor": [EVE],
                   "requestedItems": [item("ROLE", FINANCE_ANALYST,
                                           removeDate="2020-01-01T00:00:00Z")]}),
        case("remove-date-empty", client="acme-employee",
             body={"requestedFor": [EVE],
                   "requestedItems": [item("ROLE", FINANCE_ANALYST, removeDate="")]}),
        case("remove-date-on-entitlement", client="acme-employee",
             body={"requestedFor": [EVE],
                   "requestedItems": [item("ENTITLEMENT", JIRA_USER,
                                           removeDate="2099-12-31T00:00:00Z")]}),
        case("accept-language", client="acme-employee", headers={"Accept-Language": "en-US"},
             body={"requestedFor": [], "requestedItems": [eng]}),
        # 401
        no_token,
        case("expired-token", client="expired", body={"requestedFor": [EVE], "requestedItems": [eng]}),
        case("bad-signature", client="bad-signature",
             body={"requestedFor": [EVE], "requestedItems": [eng]}),
        case("alg-none", client="alg-none", body={"requestedFor": [EVE], "requestedItems": [eng]}),
        case("malformed-token", client="malformed",
             body={"requestedFor": [EVE], "requestedItems": [eng]}),
        case("not-bearer", auth="Basic YWNtZS1hZG1pbjphY21lLWFkbWluLXNlY3JldA==",
             body={"requestedFor": [EVE], "requestedItems": [eng]}),
        # 403
        case("api-token", client="acme-api", body={"requestedFor": [EVE], "requestedItems": [eng]}),
        case("not-manager", client="acme-employee",
             body={"requestedFor": [EVAN], "requestedItems": [eng]}),
        case("revoke-not-manager", client="acme-employee",
             body={"requestedFor": [EVAN], "requestType": "REVOKE_ACCESS",
                   "requestedItems": [item("ENTITLEMENT", JIRA_USER, comment="Not needed")]}),
        case("read-only-scope", client="acme-employee", scope=[STATUS_READ],
             body={"requestedFor": [EVE], "requestedItems": [eng]}),
        v2(grant_self),
        v2(no_token),
    ]


def cancel_cases() -> list[dict]:
    own = case("cancel-own-pending", client="initech-peter",
               body={"accountActivityId": AR_PENDING, "comment": "No longer needed"})
    return [
        own,
        case("admin-cancels", client="initech-admin", version="beta",
             body={"accountActivityId": AR_BILL_FOR_PETER, "comment": "Printer replaced"}),
        case("passed-approval", client="initech-peter",
             body={"accountActivityId": AR_APPROVED, "comment": "Too late?"}),
        case("final-state", client="initech-peter",
             body={"accountActivityId": AR_COMPLETED, "comment": "Already done"}),
        case("not-requester", client="initech-peter",
             body={"accountActivityId": AR_BILL_FOR_PETER, "comment": "Not mine"}),
        case("unknown-id", client="initech-admin",
             body={"accountActivityId": UNKNOWN_ID, "comment": "Who?"}),
        case("other-tenant", client="acme-admin",
             body={"accountActivityId": AR_PENDING, "comment": "Not our tenant"}),
        case("missing-comment", client="initech-peter", body={"accountActivityId": AR_PENDING}),
        case("blank-comment", client="initech-peter",
             body={"accountActivityId": AR_PENDING, "comment": "   "}),
        case("missing-account-activity-id", client="initech-peter", body={"comment": "Which?"}),
        case("invalid-json", client="initech-peter", raw_body="accountActivityId=1"),
        case("no-token", body={"accountActivityId": AR_PENDING, "comment": "No token"}),
        v2(own),
    ]


def close_cases() -> list[dict]:
    defaults = case("close-defaults", client="initech-admin",
                    body={"accessRequestIds": [AR_PENDING]})
    return [
        defaults,
        case("close-completed-success", client="initech-admin",
             body={"accessRequestIds": [AR_APPROVED, AR_BILL_FOR_PETER],
                   "message": "Provisioned by hand", "executionStatus": "Completed",
                   "completionStatus": "Success"}),
        case("unknown-ids", client="initech-admin",
             body={"accessRequestIds": [UNKNOWN_ID, AR_PENDING, AR_PENDING]}),
        case("final-state", client="initech-admin", body={"accessRequestIds": [AR_COMPLETED]}),
        case("not-admin", client="initech-peter", body={"accessRequestIds": [AR_PENDING]}),
        case("read-only-scope", client="initech-admin", scope=[STATUS_READ],
             body={"accessRequestIds": [AR_PENDING]}),
        case("no-ids", client="initech-admin", body={"accessRequestIds": []}),
        case("missing-ids", client="initech-admin", body={"message": "Close what?"}),
        case("too-many-ids", client="initech-admin",
             body={"accessRequestIds": [f"{i:032x}" for i in range(501)]}),
        case("wrong-case-execution-status", client="initech-admin",
             body={"accessRequestIds": [AR_PENDING], "executionStatus": "terminated"}),
        case("no-token", body={"accessRequestIds": [AR_PENDING]}),
        v2(defaults),
    ]


def status_cases() -> list[dict]:
    filters = case("admin-filters", client="initech-admin",
                   query=[("filters", f'accessRequestId eq "{AR_APPROVED}"')])
    admin_count = case("admin-count-paged", client="initech-admin",
                       query=[("count", "true"), ("limit", "2"), ("offset", "1"),
                              ("sorters", "created")])
    return [
        case("requested-for-me", client="initech-peter", query=[("requested-for", "me")]),
        case("no-parameters", client="initech-peter", version="beta"),
        admin_count,
        filters,
        case("admin-filters-in-and-created", client="initech-admin",
             query=[("filters", f'accountActivityItemId in ("{ITEM_PENDING}","{UNKNOWN_ID}") '
                                f'or created ge 2026-11-12T00:00:00Z'),
                    ("sorters", "-name")]),
        case("request-state-executing", client="initech-admin",
             query=[("requested-for", PETER), ("request-state", "EXECUTING"), ("count", "true")]),
        case("assigned-to-me", client="initech-bill", query=[("assigned-to", "me")]),
        case("regarding-identity-me", client="initech-bill", query=[("regarding-identity", "me")]),
        case("empty-result", client="acme-employee", query=[("requested-for", "me")]),
        # 400
        case("limit-too-large", client="initech-peter", query=[("limit", "251")]),
        case("limit-not-integer", client="initech-peter", query=[("limit", "ten")]),
        case("negative-offset", client="initech-peter", query=[("offset", "-1")]),
        case("limit-given-twice", client="initech-peter", query=[("limit", "1"), ("limit", "2")]),
        case("regarding-identity-with-requested-for", client="initech-admin",
             query=[("regarding-identity", PETER), ("requested-for", PETER)]),
        case("unknown-filter-field", client="initech-admin", query=[("filters", 'name eq "x"')]),
        case("filter-syntax-error", client="initech-admin",
             query=[("filters", 'accessRequestId eq "unterminated')]),
        case("unknown-sorter", client="initech-admin", query=[("sorters", "-priority")]),
        case("bad-request-state", client="initech-admin", query=[("request-state", "CANCELLED")]),
        # 403
        case("other-identity", client="initech-peter", query=[("requested-for", BILL)]),
        # 401
        case("no-token", query=[("requested-for", "me")]),
        case("expired-token", client="expired"),
        v2(filters),
        v2(admin_count),
    ]


def reject_cases() -> list[dict]:
    approver = case("approver-rejects", client="acme-manager", path_id=NE_MARIA_PENDING,
                    body={"comment": "No budget for contractors this quarter."})
    return [
        approver,
        case("group-member-rejects", client="acme-manager", path_id=NE_GROUP_PENDING,
             version="beta", body={"comment": "Rejected by Finance Approvers."}),
        case("source-admin-rejects", client="acme-source-admin", path_id=NE_MARIA_PENDING,
             body={"comment": "Source policy forbids this account."}),
        case("initech-approver-rejects", client="initech-bill", path_id=NE_BILL_PENDING,
             body={"comment": "Yeah, we're going to have to reject this."}),
        # 400
        case("already-approved", client="acme-admin", path_id=NE_APPROVED,
             body={"comment": "Changed my mind"}),
        case("not-ready", client="acme-admin", path_id=NE_GROUP_NOT_READY,
             body={"comment": "Too early"}),
        case("comment-too-long", client="acme-manager", path_id=NE_MARIA_PENDING,
             body={"comment": "x" * 4001}),
        case("comment-max-length", client="acme-manager", path_id=NE_MARIA_PENDING,
             body={"comment": "y" * 4000}),
        case("blank-comment", client="acme-manager", path_id=NE_MARIA_PENDING,
             body={"comment": " \t "}),
        case("missing-comment", client="acme-manager", path_id=NE_MARIA_PENDING, body={}),
        # 403
        case("not-approver", client="acme-employee", path_id=NE_MARIA_PENDING,
             body={"comment": "Not my call"}),
        # 404
        case("unknown-id", client="acme-admin", path_id="00000000-0000-0000-0000-000000000000",
             body={"comment": "Who?"}),
        case("other-tenant", client="initech-admin", path_id=NE_MARIA_PENDING,
             body={"comment": "Not our tenant"}),
        # 401
        case("no-token", path_id=NE_MARIA_PENDING, body={"comment": "No token"}),
        v2(approver),
    ]


def new_contractor(**changes) -> dict:
    """A NonEmployeeRequestBody on acme's Contractors source."""
    body = {
        "accountName": "dana.scully",
        "firstName": "Dana",
        "lastName": "Scully",
        "email": "dana.scully@contractors.example.com",
        "phone": "5125550142",
        "manager": MARIA,
        "sourceId": NE_CONTRACTORS,
        "data": {"project": "Build farm", "badge": "B-1042"},
        "startDate": "2026-12-14T00:00:00Z",
        "endDate": "2027-06-30T00:00:00Z",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def create_ne_cases() -> list[dict]:
    sponsor = case("sponsor-creates", client="acme-employee", body=new_contractor())
    return [
        sponsor,
        case("manager-creates-beta", client="acme-manager", version="beta",
             body=new_contractor(accountName="fox.mulder", firstName="Fox", lastName="Mulder",
                                 email="fox.mulder@contractors.example.com",
                                 sourceId=NE_FINANCE_TEMPS, data=None)),
        case("admin-creates-with-offsets", client="acme-admin",
             body=new_contractor(accountName="walter.skinner", firstName="Walter", lastName="Skinner",
                                 email="walter.skinner@lab.example.com", sourceId=NE_LAB_VISITORS,
                                 manager=EVE, startDate="2026-12-14T08:30:00-05:00",
                                 endDate="2027-01-15", data={"lab": "Optics"})),
        # 400: one cause per problem
        case("missing-fields", client="acme-employee", body={}),
        case("first-and-account-name-missing", client="acme-employee",
             body=new_contractor(accountName=None, firstName=None)),
        case("blank-and-wrong-types", client="acme-employee",
             body=new_contractor(lastName="  ", phone=5125550142, data=["not", "a", "map"])),
        case("bad-email", client="acme-employee", body=new_contractor(email="dana.scully(at)example")),
        case("start-not-before-end", client="acme-employee",
             body=new_contractor(startDate="2027-06-30T00:00:00Z", endDate="2026-12-14T00:00:00Z")),
        case("bad-dates", client="acme-employee",
             body=new_contractor(startDate="next monday", endDate="")),
        case("too-much-data", client="acme-employee",
             body=new_contractor(data={f"attribute{i:02}": str(i) for i in range(11)})),
        case("unknown-source-and-manager", client="acme-admin",
             body=new_contractor(sourceId=UNKNOWN_ID, manager=UNKNOWN_ID)),
        case("other-tenant-source", client="initech-admin",
             body=new_contractor(manager=BILL)),
        case("invalid-json", client="acme-employee", raw_body='{"accountName": "dana.scully",'),
        case("not-an-object", client="acme-employee", raw_body='["dana.scully"]'),
        # 400.1.409
        case("account-name-taken", client="acme-employee",
             body=new_contractor(accountName="contractor.one")),
        case("account-name-taken-other-case", client="acme-manager",
             body=new_contractor(accountName="Contractor.One")),
        # 403
        case("not-account-manager", client="acme-source-admin", body=new_contractor()),
        case("api-token", client="acme-api", body=new_contractor()),
        # 401
        case("no-token", body=new_contractor()),
        v2(sponsor),
    ]


def list_ne_requests_cases() -> list[dict]:
    sponsor = case("sponsor-me", client="acme-employee", query=[("requested-for", "me")])
    paged = case("manager-count-paged", client="acme-manager",
                 query=[("requested-for", "me"), ("count", "true"), ("limit", "1"), ("offset", "1"),
                        ("sorters", "accountName")])
    return [
        sponsor,
        paged,
        case("filter-source", client="acme-manager",
             query=[("requested-for", MARIA), ("filters", f'sourceId eq "{NE_FINANCE_TEMPS}"')]),
        case("admin-for-other-beta", client="acme-admin", version="beta",
             query=[("requested-for", EVE), ("sorters", "-created"), ("count", "true")]),
        case("sorted-by-status-then-name", client="acme-manager",
             query=[("requested-for", "me"), ("sorters", "approvalStatus,-lastName")]),
        case("empty-result", client="acme-source-admin", query=[("requested-for", "me"), ("count", "true")]),
        # 400
        case("missing-requested-for", client="acme-employee"),
        case("unsupported-filter", client="acme-employee",
             query=[("requested-for", "me"), ("filters", 'accountName eq "contractor.one"')]),
        case("unsupported-operator", client="acme-employee",
             query=[("requested-for", "me"), ("filters", f'sourceId ne "{NE_CONTRACTORS}"')]),
        case("unknown-sorter", client="acme-employee", query=[("requested-for", "me"), ("sorters", "modified")]),
        case("limit-too-large", client="acme-employee", query=[("requested-for", "me"), ("limit", "251")]),
        # 403
        case("other-identity", client="acme-employee", query=[("requested-for", MARIA)]),
        # 401
        case("no-token", query=[("requested-for", "me")]),
        v2(sponsor),
        v2(paged),
    ]


def get_ne_request_cases() -> list[dict]:
    sponsor = case("sponsor-reads", client="acme-employee", path_id=NE_REQUEST_THREE)
    return [
        sponsor,
        case("account-manager-reads", client="acme-employee", path_id=NE_REQUEST_ONE),
        case("group-member-reads-beta", client="acme-source-admin", version="beta", path_id=NE_REQUEST_TWO),
        case("admin-reads", client="acme-admin", path_id=NE_REQUEST_TWO),
        # 403
        case("not-visible", client="acme-employee", path_id=NE_REQUEST_TWO),
        # 404
        case("unknown-id", client="acme-admin", path_id=UNKNOWN_ID),
        case("other-tenant", client="initech-admin", path_id=NE_REQUEST_ONE),
        # 401
        case("no-token", path_id=NE_REQUEST_THREE),
        v2(sponsor),
    ]


def delete_ne_request_cases() -> list[dict]:
    admin = case("admin-deletes", client="acme-admin", path_id=NE_REQUEST_ONE)
    return [
        admin,
        case("admin-deletes-approved-beta", client="acme-admin", version="beta", path_id=NE_REQUEST_THREE),
        # 403
        case("not-admin", client="acme-manager", path_id=NE_REQUEST_TWO),
        case("source-admin", client="acme-source-admin", path_id=NE_REQUEST_TWO),
        # 404
        case("unknown-id", client="acme-admin", path_id=UNKNOWN_ID),
        case("other-tenant", client="initech-admin", path_id=NE_REQUEST_TWO),
        # 401
        case("no-token", path_id=NE_REQUEST_TWO),
        v2(admin),
    ]


def ne_request_summary_cases() -> list[dict]:
    sponsor = case("sponsor-me", client="acme-employee", path_id="me")
    return [
        sponsor,
        case("manager-me", client="acme-manager", path_id="me"),
        case("admin-for-other-beta", client="acme-admin", version="beta", path_id=MARIA),
        case("initech-sponsor", client="initech-bill", path_id=BILL),
        # 400
        case("api-token-me", client="acme-api", path_id="me"),
        # 403
        case("other-identity", client="acme-employee", path_id=MARIA),
        # 401
        case("no-token", path_id="me"),
        v2(sponsor),
    ]


def list_ne_approvals_cases() -> list[dict]:
    pending = case("approver-pending", client="acme-manager",
                   query=[("requested-for", "me"), ("filters", 'approvalStatus eq "PENDING"')])
    return [
        pending,
        case("approver-all-count", client="acme-manager",
             query=[("requested-for", "me"), ("count", "true"), ("sorters", "-created")]),
        case("status-any-case", client="acme-source-admin",
             query=[("requested-for", "me"), ("filters", 'approvalStatus eq "approved"')]),
        case("default-me", client="acme-source-admin"),
        case("admin-for-other-paged-beta", client="acme-admin", version="beta",
             query=[("requested-for", SAM), ("count", "true"), ("limit", "1"), ("offset", "1"),
                    ("sorters", "modified")]),
        # 400
        case("unknown-status", client="acme-manager",
             query=[("requested-for", "me"), ("filters", 'approvalStatus eq "DONE"')]),
        case("unsupported-filter", client="acme-manager",
             query=[("filters", 'accountName eq "contractor.one"')]),
        case("unknown-sorter", client="acme-manager", query=[("sorters", "approvalStatus")]),
        case("negative-offset", client="acme-manager", query=[("offset", "-1")]),
        # 403
        case("other-identity", client="acme-employee", query=[("requested-for", MARIA)]),
        # 401
        case("no-token", query=[("requested-for", "me")]),
        v2(pending),
    ]


def get_ne_approval_cases() -> list[dict]:
    approver = case("approver-reads", client="acme-manager", path_id=NE_MARIA_PENDING)
    return [
        approver,
        case("without-detail", client="acme-manager", path_id=NE_MARIA_PENDING,
             query=[("include-detail", "false")]),
        case("group-member-reads-beta", client="acme-source-admin", version="beta",
             path_id=NE_GROUP_PENDING, query=[("include-detail", "true")]),
        case("admin-reads-approved", client="acme-admin", path_id=NE_APPROVED),
        case("initech-offset-dates", client="initech-bill", path_id=NE_BILL_PENDING),
        # 400
        case("bad-include-detail", client="acme-manager", path_id=NE_MARIA_PENDING,
             query=[("include-detail", "maybe")]),
        # 403
        case("not-visible", client="acme-employee", path_id=NE_GROUP_PENDING),
        # 404
        case("unknown-id", client="acme-admin", path_id=UNKNOWN_ID),
        case("other-tenant", client="initech-admin", path_id=NE_MARIA_PENDING),
        # 401
        case("no-token", path_id=NE_MARIA_PENDING),
        v2(approver),
    ]


def pending_cases() -> list[dict]:
    group_member = case("group-member", client="acme-source-admin",
                        query=[("owner-id", "me"), ("count", "true")])
    return [
        case("manager-me", client="acme-manager", query=[("owner-id", "me")]),
        group_member,
        case("beta-no-owner-id", client="acme-manager", version="beta"),
        case("admin-tenant-count-paged", client="acme-admin",
             query=[("count", "true"), ("limit", "2"), ("offset", "1"), ("sorters", "created")]),
        case("admin-owner-id", client="acme-admin", query=[("owner-id", SAM), ("count", "true")]),
        case("admin-nothing-pending", client="acme-admin",
             query=[("owner-id", EVE), ("count", "true")]),
        case("filters", client="acme-source-admin",
             query=[("filters", f'accessRequestId eq "{NINA_REQUESTS[2]}" '
                                f'or created ge 2026-11-19T00:00:00Z')]),
        case("beta-filters", client="acme-manager", version="beta",
             query=[("filters", f'requestedFor.id in ("{NINA}") and modified gt 2026-11-18T00:00:00Z'),
                    ("count", "true")]),
        case("sorters-modified", client="acme-source-admin", query=[("sorters", "-modified")]),
        # 400
        case("beta-access-request-id-filter", client="acme-manager", version="beta",
             query=[("filters", f'accessRequestId eq "{NINA_REQUESTS[1]}"')]),
        case("unsupported-operator", client="acme-manager", query=[("filters", 'id sw "2c91"')]),
        case("limit-too-large", client="acme-manager", query=[("limit", "251")]),
        case("unknown-sorter", client="acme-manager", query=[("sorters", "-priority")]),
        case("empty-owner-id", client="acme-manager", query=[("owner-id", "")]),
        # 403
        case("other-owner", client="acme-manager", query=[("owner-id", SAM)]),
        case("api-token", client="acme-api"),
        # 401
        case("no-token", query=[("owner-id", "me")]),
        v2(group_member),
    ]


def completed_cases() -> list[dict]:
    manager = case("manager-me", client="acme-manager", query=[("owner-id", "me")])
    return [
        manager,
        case("admin-me", client="acme-admin", query=[("owner-id", "me")]),
        case("admin-tenant", client="acme-admin", query=[("count", "true")]),
        case("admin-filters", client="acme-admin",
             query=[("filters", f'not id isnull and modified sw "2026-11-1" and requestedFor.id eq "{NINA}"'),
                    ("sorters", "modified"), ("count", "true")]),
        case("beta-filters-ne", client="acme-manager", version="beta",
             query=[("filters", f'id ne "{AP_REJECTED}"')]),
        case("paged", client="acme-manager",
             query=[("limit", "1"), ("offset", "2"), ("count", "true")]),
        # 400
        case("pending-only-filter", client="acme-manager",
             query=[("filters", f'accessRequestId eq "{NINA_REQUESTS[2]}"')]),
        case("filter-syntax-error", client="acme-manager", query=[("filters", "id isnull (")]),
        # 403
        case("other-owner", client="acme-source-admin", query=[("owner-id", MARIA)]),
        # 401
        case("no-token"),
        v2(manager),
    ]


def approve_cases() -> list[dict]:
    approver = case("approver-approves", client="acme-manager", path_id=NE_MARIA_PENDING,
                    body={"comment": "Budget confirmed."})
    return [
        approver,
        case("group-member-approves-last-beta", client="acme-source-admin", version="beta",
             path_id=NE_GROUP_PENDING, body={"comment": "Finance agrees."}),
        case("admin-approves-without-body", client="acme-admin", path_id=NE_MARIA_PENDING),
        case("approver-approves-without-comment", client="acme-manager", path_id=NE_MARIA_PENDING, body={}),
        case("initech-approver-approves", client="initech-bill", path_id=NE_BILL_PENDING,
             body={"comment": "Mmm, yeah."}),
        # 400
        case("already-approved", client="acme-admin", path_id=NE_APPROVED, body={"comment": "Again"}),
        case("not-ready", client="acme-admin", path_id=NE_GROUP_NOT_READY, body={"comment": "Too early"}),
        case("comment-too-long", client="acme-manager", path_id=NE_MARIA_PENDING,
             body={"comment": "x" * 4001}),
        case("wrong-comment-type", client="acme-manager", path_id=NE_MARIA_PENDING, body={"comment": 5}),
        # 403
        case("not-approver", client="acme-employee", path_id=NE_MARIA_PENDING, body={"comment": "Fine"}),
        case("source-admin-not-approver", client="acme-source-admin", path_id=NE_MARIA_PENDING,
             body={"comment": "Fine"}),
        # 404
        case("unknown-id", client="acme-admin", path_id=UNKNOWN_ID, body={"comment": "Who?"}),
        case("other-tenant", client="initech-admin", path_id=NE_MARIA_PENDING, body={"comment": "Not ours"}),
        # 401
        case("no-token", path_id=NE_MARIA_PENDING, body={"comment": "No token"}),
        v2(approver),
    ]


def ne_approval_summary_cases() -> list[dict]:
    approver = case("approver-me", client="acme-manager", path_id="me")
    return [
        approver,
        case("group-member-me", client="acme-source-admin", path_id="me"),
        case("admin-for-other-beta", client="acme-admin", version="beta", path_id=MARIA),
        # 403
        case("other-identity", client="acme-employee", path_id=MARIA),
        # 401
        case("no-token", path_id="me"),
        v2(approver),
    ]


def approve_approval_cases() -> list[dict]:
    manager = case("manager-approves", client="acme-manager", path_id=AP_MANAGER_PENDING,
                   body={"comment": "Approved for onboarding."})
    return [
        manager,
        case("group-member-approves-without-body", client="acme-source-admin",
             path_id=AP_GROUP_PENDING),
        case("owner-approves-beta", client="acme-source-admin", version="beta",
             path_id=AP_OWNER_PENDING, body={"comment": "Tools granted."}),
        case("forwarded-owner-approves", client="acme-source-admin", path_id=AP_FORWARDED,
             body={}),
        case("admin-approves", client="acme-admin", path_id=AP_MANAGER_PENDING,
             body={"comment": None}),
        case("null-body", client="acme-manager", path_id=AP_MANAGER_PENDING, raw_body="null"),
        # 400
        case("beta-no-body", client="acme-manager", version="beta", path_id=AP_MANAGER_PENDING),
        case("already-approved", client="acme-admin", path_id=AP_APPROVED, body={"comment": "again"}),
        case("rejected", client="acme-admin", path_id=AP_REJECTED, body={}),
        case("cancelled-request", client="acme-admin", path_id=AP_CANCELLED, body={}),
        case("invalid-json", client="acme-manager", path_id=AP_MANAGER_PENDING, raw_body="{"),
        case("wrong-comment-type", client="acme-manager", path_id=AP_MANAGER_PENDING,
             body={"comment": 5}),
        # 403
        case("not-owner", client="acme-employee", path_id=AP_MANAGER_PENDING, body={}),
        case("original-owner-after-forward", client="acme-manager", path_id=AP_FORWARDED,
             body={}),
        case("api-token", client="acme-api", path_id=AP_MANAGER_PENDING, body={}),
        case("read-only-scope", client="acme-manager", scope=[STATUS_READ, "idn:access-request-approvals:read"],
             path_id=AP_MANAGER_PENDING, body={"comment": "Approved for onboarding."}),
        # 404
        case("unknown-id", client="acme-admin", path_id=UNKNOWN_ID, body={}),
        case("other-tenant", client="initech-admin", path_id=AP_MANAGER_PENDING, body={}),
        # 401
        case("no-token", path_id=AP_MANAGER_PENDING, body={}),
        v2(manager),
    ]


def reject_approval_cases() -> list[dict]:
    manager = case("manager-rejects", client="acme-manager", path_id=AP_MANAGER_PENDING,
                   body={"comment": "GitHub admin is not for new hires."})
    return [
        manager,
        case("group-member-rejects-beta", client="acme-manager", version="beta",
             path_id=AP_GROUP_PENDING, body={"comment": "Budget review is done."}),
        case("admin-rejects", client="acme-admin", path_id=AP_OWNER_PENDING,
             body={"comment": "Engineering Access is being reorganised."}),
        # 400
        case("missing-comment", client="acme-manager", path_id=AP_MANAGER_PENDING, body={}),
        case("blank-comment", client="acme-manager", path_id=AP_MANAGER_PENDING,
             body={"comment": "  "}),
        case("no-body", client="acme-manager", path_id=AP_MANAGER_PENDING),
        case("already-approved", client="acme-admin", path_id=AP_APPROVED,
             body={"comment": "Changed my mind."}),
        # 403
        case("not-owner", client="acme-employee", path_id=AP_MANAGER_PENDING,
             body={"comment": "Not my call."}),
        # 404
        case("unknown-id", client="acme-admin", path_id=UNKNOWN_ID, body={"comment": "Who?"}),
        # 401
        case("no-token", path_id=AP_MANAGER_PENDING, body={"comment": "No token."}),
        v2(manager),
    ]


def forward_cases() -> list[dict]:
    manager = case("manager-forwards", client="acme-manager", path_id=AP_MANAGER_PENDING,
                   body={"newOwnerId": EVAN, "comment": "Evan runs the GitHub organisation."})
    return [
        manager,
        case("group-member-forwards-beta", client="acme-source-admin", version="beta",
             path_id=AP_GROUP_PENDING,
             body={"newOwnerId": ADA, "comment": "Ada signs off finance roles this week."}),
        case("admin-forwards-back", client="acme-admin", path_id=AP_FORWARDED,
             body={"newOwnerId": MARIA, "comment": "Maria is back."}),
        # 400
        case("to-current-owner", client="acme-source-admin", path_id=AP_FORWARDED,
             body={"newOwnerId": SAM, "comment": "To myself."}),
        case("to-unknown-identity", client="acme-manager", path_id=AP_GROUP_PENDING,
             body={"newOwnerId": UNKNOWN_ID, "comment": "Who is this?"}),
        case("to-other-tenant-identity", client="acme-manager", path_id=AP_GROUP_PENDING,
             body={"newOwnerId": PETER, "comment": "Peter at Initech."}),
        case("missing-new-owner", client="acme-manager", path_id=AP_MANAGER_PENDING,
             body={"comment": "To whom?"}),
        case("comment-too-long", client="acme-manager", path_id=AP_MANAGER_PENDING,
             body={"newOwnerId": EVAN, "comment": "x" * 256}),
        case("blank-comment", client="acme-manager", path_id=AP_MANAGER_PENDING,
             body={"newOwnerId": EVAN, "comment": " "}),
        case("already-decided", client="acme-admin", path_id=AP_APPROVED,
             body={"newOwnerId": EVE, "comment": "Too late."}),
        # 403
        case("not-owner", client="acme-employee", path_id=AP_OWNER_PENDING,
             body={"newOwnerId": EVAN, "comment": "Not mine."}),
        # 404
        case("unknown-id", client="acme-admin", path_id=UNKNOWN_ID,
             body={"newOwnerId": EVAN, "comment": "Who?"}),
        # 401
        case("no-token", path_id=AP_MANAGER_PENDING, body={"newOwnerId": EVAN, "comment": "x"}),
        v2(manager),
    ]


def summary_cases() -> list[dict]:
    manager = case("manager-me", client="acme-manager", query=[("owner-id", "me")])
    return [
        manager,
        case("admin-tenant", client="acme-admin"),
        case("admin-owner-id", client="acme-admin", query=[("owner-id", MARIA)]),
        case("from-date", client="acme-manager", query=[("from-date", "2026-11-15T00:00:00Z")]),
        case("admin-tenant-from-date", client="acme-admin",
             query=[("from-date", "2026-11-15T00:00:00Z")]),
        case("group-member-beta", client="acme-source-admin", version="beta"),
        # 400
        case("bad-from-date", client="acme-manager", query=[("from-date", "yesterday")]),
        # 403
        case("other-owner", client="acme-manager", query=[("owner-id", SAM)]),
        case("api-token", client="acme-api"),
        # 401
        case("no-token"),
        v2(manager),
    ]


CASES = {
    "create-access-request": create_cases,
    "cancel-access-request": cancel_cases,
    "close-access-request": close_cases,
    "list-access-request-status": status_cases,
    "reject-non-employee-request": reject_cases,
    "create-non-employee-request": create_ne_cases,
    "list-non-employee-requests": list_ne_requests_cases,
    "get-non-employee-request": get_ne_request_cases,
    "delete-non-employee-request": delete_ne_request_cases,
    "get-non-employee-request-summary": ne_request_summary_cases,
    "list-non-employee-approvals": list_ne_approvals_cases,
    "get-non-employee-approval": get_ne_approval_cases,
    "approve-non-employee-request": approve_cases,
    "get-non-employee-approval-summary": ne_approval_summary_cases,
    "list-pending-approvals": pending_cases,
    "list-completed-approvals": completed_cases,
    "approve-access-request": approve_approval_cases,
    "reject-access-request": reject_approval_cases,
    "forward-access-request": forward_cases,
    "get-access-request-approval-summary": summary_cases,
}


def build_events() -> dict[Path, str]:
    files: dict[Path, str] = {}
    unknown = sorted(set(CASES) - set(ROUTES))
    if unknown:
        raise SystemExit(f"case tables for functions routes.toml does not list: {unknown}")
    for function, make in CASES.items():
        versions = ROUTES[function][2]
        for c in make():
            c["version"] = c["version"] or versions[0]
            if c["version"] not in versions:
                raise SystemExit(f"{function}/{c['name']}: no /{c['version']} route")
            build = rest_v1_event if c["payload"] == "v1" else http_v2_event
            event = build(function, c["name"], version=c["version"], auth=c["auth"],
                          body=c["body"], query=c["query"], path_id=c["path_id"],
                          headers=c["headers"], base64_body=c["base64_body"])
            path = EVENTS / function / f"{c['name']}.json"
            if path in files:
                raise SystemExit(f"duplicate case {path}")
            files[path] = json.dumps(event, indent=2) + "\n"
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the files on disk instead of writing")
    parser.add_argument("--tokens", action="store_true", help="print the fixture tokens")
    args = parser.parse_args()
    if args.tokens:
        for name in [*CLIENTS, "expired", "bad-signature", "alg-none"]:
            print(f"{name}\t{token(name)}")
        return 0
    files = build_events()
    stale = []
    for path, text in files.items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    # Events on disk that no case produces (expected files are not events).
    known = set(files)
    for path in sorted(EVENTS.glob("*/*.json")):
        if path.name.endswith(".expected.json") or path in known:
            continue
        print(f"not produced by this script: {path.relative_to(ROOT)}", file=sys.stderr)
        stale.append(path)
    missing = [p for p in files if not p.with_name(p.stem + ".expected.json").exists()]
    for p in missing:
        print(f"no expected response yet: {p.relative_to(ROOT)}", file=sys.stderr)
    if args.check and stale:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)}", file=sys.stderr)
        return 1
    if not args.check:
        print(f"wrote {len(files)} events under {EVENTS.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
