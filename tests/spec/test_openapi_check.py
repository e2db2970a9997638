"""The response validator (openapi_check.py) catches what it is there for:
`null` where the fragment does not allow it, wrong types and formats,
undocumented statuses and bodies; and accepts what the fragments allow.

    python -m pytest tests/spec -q
"""

import pytest

from openapi_check import SdkResponseCheck, Spec, unnamed
from check_fixtures import check_routes

PENDING_V3 = "/v3/access-request-approvals/pending"
PENDING_BETA = "/beta/access-request-approvals/pending"
IDENTITY = {"type": "IDENTITY", "id": "2c9180835d191a86015d28455b4a0003", "name": "Eve"}
STAMP = "2026-12-10T09:30:00.000Z"


@pytest.fixture(scope="module")
def spec():
    return Spec()


def pending(**fields):
    body = {"id": "2c91808e00000000000000000000b0101", "name": "Engineering Access",
            "created": STAMP, "modified": STAMP, "requestCreated": STAMP,
            "requestType": "GRANT_ACCESS", "requester": IDENTITY, "requestedFor": IDENTITY,
            "commentRequiredWhenRejected": True}
    body.update(fields)
    return [body]


def test_a_conforming_body_passes(spec):
    assert spec.check("GET", PENDING_V3, 200, pending()) == []


def test_null_in_a_non_nullable_enum_fails(spec):
    for path in (PENDING_V3, PENDING_BETA):
        problems = spec.check("GET", path, 200, pending(actionInProcess=None))
        assert problems, path
        assert all("[0].actionInProcess" in p for p in problems), problems


def test_null_in_a_non_nullable_string_fails(spec):
    item = {"id": "2c1e388b-1e55-4b0a-ab5c-897f12040001", "accountName": "contractor.one",
            "approvalStatus": "PENDING", "approvalOrder": 1, "comment": None,
            "created": STAMP, "modified": STAMP}
    problems = spec.check("GET", "/v3/non-employee-approvals", 200, [item])
    assert any("[0].comment" in p for p in problems), problems
    del item["comment"]
    assert spec.check("GET", "/v3/non-employee-approvals", 200, [item]) == []


def test_null_where_the_fragment_says_nullable_passes(spec):
    # PendingApproval.clientMetadata: {type: object, nullable: true}
    assert spec.check("GET", PENDING_V3, 200, pending(clientMetadata=None)) == []


def test_null_in_an_all_of_with_a_nullable_member_fails(spec):
    # `allOf: [$ref, {nullable: true}]`: OpenAPI 3.0.3's `nullable` has no
    # effect without a `type` beside it, and the referenced object's type
    # still applies, so the API leaves such a field out instead.
    status = [{"id": "2c9180857b2e0001a1b2c3d4e5f60001", "cancelledRequestDetails": None}]
    problems = spec.check("GET", "/v3/access-request-status", 200, status)
    assert any("[0].cancelledRequestDetails" in p for p in problems), problems
    del status[0]["cancelledRequestDetails"]
    assert spec.check("GET", "/v3/access-request-status", 200, status) == []


def test_wrong_types_enum_values_and_formats_fail(spec):
    assert spec.check("GET", PENDING_V3, 200, pending(commentRequiredWhenRejected="yes"))
    assert spec.check("GET", PENDING_V3, 200, pending(requestType="GRANT"))
    assert spec.check("GET", PENDING_V3, 200, pending(created="10/Dec/2026"))
    assert spec.check("GET", PENDING_V3, 200, {"id": "not a list"})


def test_error_bodies_are_checked_documented_or_not(spec):
    error = {"detailCode": "404 Not found", "trackingId": "0" * 32,
             "messages": [{"locale": "en-US", "localeOrigin": "DEFAULT", "text": "Not found"}],
             "causes": []}
    approve = "/v3/access-request-approvals/x/approve"
    assert spec.check("POST", approve, 404, error) == []
    # beta's pending list documents no 400: still an ErrorResponseDto.
    assert spec.check("GET", PENDING_BETA, 400, error) == []
    bad = dict(error, messages=[{"locale": "en-US", "localeOrigin": "SOMEWHERE", "text": "x"}])
    assert spec.check("POST", approve, 404, bad)
    assert spec.check("GET", PENDING_BETA, 400, bad)
    assert spec.check("POST", approve, 401, {"error": "JWT validation failed: JWT is expired"}) == []


def test_undocumented_success_statuses_and_bodies_fail(spec):
    assert spec.check("POST", "/v3/access-request-approvals/x/approve", 200, {})
    assert spec.check("DELETE", "/v3/non-employee-requests/x", 204, None) == []
    assert spec.check("DELETE", "/v3/non-employee-requests/x", 204, {})
    assert spec.check("POST", "/v3/access-request-approvals/x/approve", 202, None)


def test_unknown_paths_fail(spec):
    assert spec.check("POST", "/v3/access-requests/close", 202, {})  # beta only
    assert spec.check("GET", "/v2/access-request-status", 200, [])


def test_a_literal_segment_beats_a_parameter(spec):
    op = spec.operation("GET", "/v3/non-employee-requests/summary/me")
    assert op.operation_id == "getNonEmployeeRequestSummary"
    assert spec.operation("GET", "/v3/non-employee-requests/abc").operation_id == \
        "getNonEmployeeRequest"


def test_every_route_is_an_operation_of_the_fragments_and_back(spec):
    assert check_routes(spec) == []
    assert len({(o.version, o.method, unnamed(o.template)) for o in spec.operations}) == 39


class _RawResponse:
    """The part of the SDK's RESTResponse the check reads."""

    def __init__(self, status, body, content_type="application/json"):
        self.status = status
        self.data = body
        self.headers = {"Content-Type": content_type} if body else {}

    def read(self):
        return self.data

    def getheader(self, name, default=None):
        return self.headers.get(name, default)


class _ApiClient:
    """Stands for the SDK's ApiClient: `call_api` answers what it is told."""

    def __init__(self, response):
        self.response = response

    def call_api(self, method, url, header_params=None, body=None, post_params=None,
                 _request_timeout=None):
        return self.response


def test_the_sdk_hook_reports_each_response_that_differs(spec):
    client = _ApiClient(_RawResponse(200, b'[{"id": "x", "actionInProcess": null}]'))
    check = SdkResponseCheck("http://127.0.0.1:3000", spec)
    check.watch(client)
    response = client.call_api("GET", "http://127.0.0.1:3000/beta/access-request-approvals/pending")
    assert response is client.response  # the SDK still gets its response
    assert check.violations and "actionInProcess" in check.violations[0]
    assert check.operations == {("beta", "listPendingApprovals")}

    check.violations.clear()
    client.response = _RawResponse(200, b'[{"id": "x"}]')
    client.call_api("GET", "http://127.0.0.1:3000/v3/access-request-approvals/pending?limit=1")
    client.response = _RawResponse(204, b"")
    client.call_api("DELETE", "http://127.0.0.1:3000/v3/non-employee-requests/abc")
    assert check.violations == []
    assert check.responses == 3

    client.response = _RawResponse(202, b"{}", content_type="text/plain")
    client.call_api("POST", "http://127.0.0.1:3000/v3/access-requests/cancel")
    client.response = _RawResponse(400, b"<html>")
    client.call_api("POST", "http://127.0.0.1:3000/v3/access-requests/cancel")
    assert len(check.violations) == 2, check.violations
