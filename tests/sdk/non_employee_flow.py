#!/usr/bin/env python3
"""Non-employee flow through the official Python SDK (PyPI `sailpoint==1.4.2`).

Drives `NonEmployeeLifecycleManagementApi` exactly as an SDK user would: one
`sailpoint.configuration.Configuration` per OAuth client of the demo seed, the
SDK fetching its own token from `<base-url>/oauth/token`, the generated
`sailpoint.v3` / `sailpoint.beta` classes for every call.

A sponsor (Eve, an account manager of the Contractors source) requests a
contractor on a source with two approvers (Maria, then the Finance Approvers
group); Maria finds the item among her pending approvals and approves it; a
member of the group (Sam) approves the second; the request reads APPROVED
with its completion date. A second request is rejected by Maria and its later
item reads CANCELLED. The sponsor's request summary and Maria's approval
summary move alike. An administrator deletes a third request: 204, then 404.

Any Python warning is an error (`warnings.simplefilter("error")`), except the
one DeprecationWarning SDK 1.4.2 itself raises before each call of a beta
method of this API (the beta copies are deprecated); any record of level
WARNING or above logged by the SDK or urllib3 fails the step, and so does
anything the SDK prints while fetching a token.

Usage (against a freshly started server loaded with the demo seed):

    python tests/sdk/non_employee_flow.py --base-url http://127.0.0.1:3000

Prints `ok <step>` per step, then `non_employee_flow: N passed, 0 failed`
and exits 0; on the first failure prints it and exits 1.
"""

import contextlib
import datetime
import sys
import warnings

from flowkit import (  # first: it makes warnings errors before sailpoint loads
    SdkFlow,
    beta,
    check,
    eq,
    header,
    main,
    v3,
)

CONTRACTORS = "a0303682-5e4a-44f7-bdc2-6ce611250001"
MARIA = "2c9180835d191a86015d28455b4a0002"
EVE = "2c9180835d191a86015d28455b4a0003"
FINANCE_GROUP = "2c9180835d191a86015d28455b4a0f01"

SPONSOR = "acme-employee"  # Eve: an account manager of Contractors
FIRST_APPROVER = "acme-manager"  # Maria: Contractors' first approver
GROUP_MEMBER = "acme-source-admin"  # Sam: a member of Finance Approvers, the second
ADMIN = "acme-admin"

UTC = datetime.timezone.utc
PENDING_FILTER = 'approvalStatus eq "PENDING"'


@contextlib.contextmanager
def deprecated_beta(route):
    """SDK 1.4.2 warns once, before sending, on every call of a beta method of
    this API; that warning is expected, any other one fails."""
    message = f"{route} is deprecated."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    unexpected = [w for w in caught
                  if not (issubclass(w.category, DeprecationWarning) and str(w.message) == message)]
    check(not unexpected, "warnings: " + "; ".join(
        f"{w.category.__name__}: {w.message}" for w in unexpected))


class Flow(SdkFlow):
    NAME = "non_employee_flow"

    def __init__(self, base_url, seed, token_url=None):
        super().__init__(base_url, seed, token_url)
        source = next(s for s in self.tenant["nonEmployeeSources"] if s["id"] == CONTRACTORS)
        eq([(a["type"], a["id"]) for a in source["approvers"]],
           [("IDENTITY", MARIA), ("GOVERNANCE_GROUP", FINANCE_GROUP)], "the seed's Contractors approvers")
        check(EVE in source["accountManagerIds"], "Eve manages Contractors in the seed")
        # state carried between steps
        self.baseline = None
        self.approved = None
        self.rejected = None
        self.deleted = None

    # ---- SDK plumbing -------------------------------------------------------

    def v3(self, client_id):
        return v3.NonEmployeeLifecycleManagementApi(self.clients(client_id)[0])

    def beta(self, client_id):
        return beta.NonEmployeeLifecycleManagementApi(self.clients(client_id)[1])


    # ---- helpers ------------------------------------------------------------

    def sponsor_request(self, account_name):
        body = v3.NonEmployeeRequestBody(
            account_name=account_name,
            first_name="Dana",
            last_name="Scully",
            email=f"{account_name}@contractors.example.com",
            phone="5125550142",
            manager=MARIA,
            source_id=CONTRACTORS,
            data={"project": "Build farm"},
            start_date=datetime.datetime(2026, 12, 14, tzinfo=UTC),
            end_date=datetime.datetime(2027, 6, 30, tzinfo=UTC),
        )
        resp = self.v3(SPONSOR).create_non_employee_request_with_http_info(body)
        eq(resp.status_code, 200, "status code")
        r = resp.data
        check(isinstance(r, v3.NonEmployeeRequest), f"not a NonEmployeeRequest: {r!r}")
        check(r.id, "request id missing")
        eq(r.account_name, account_name, "accountName")
        eq(r.approval_status, "PENDING", "approvalStatus")
        eq(r.non_employee_source.id if r.non_employee_source else None, CONTRACTORS,
           "nonEmployeeSource.id")
        eq(r.start_date, datetime.datetime(2026, 12, 14, tzinfo=UTC), "startDate")
        eq(r.completion_date, None, "completionDate")
        items = r.approval_items or []
        eq([(i.approver.type, i.approver.id, i.approval_order, i.approval_status) for i in items],
           [("IDENTITY", MARIA, 1, "PENDING"), ("GOVERNANCE_GROUP", FINANCE_GROUP, 2, "NOT_READY")],
           "approval items")
        return r

    def pending_of(self, client_id):
        """The client's pending approval items (v3, filtered, counted)."""
        resp = self.v3(client_id).list_non_employee_approvals_with_http_info(
            requested_for="me", filters=PENDING_FILTER, count=True, limit=250, offset=0,
            sorters="-created")
        eq(resp.status_code, 200, "status code")
        items = resp.data or []
        eq(header(resp.headers, "X-Total-Count"), str(len(items)), "X-Total-Count")
        for i in items:
            check(isinstance(i, v3.NonEmployeeApprovalItem), f"not a NonEmployeeApprovalItem: {i!r}")
            eq(i.approval_status, "PENDING", f"status of listed item {i.id}")
        created = [i.created for i in items]
        check(created == sorted(created, reverse=True), "items not sorted by -created")
        return {i.id: i for i in items}

    def summaries(self):
        """(the sponsor's request summary, the first approver's approval summary)."""
        requests = self.v3(SPONSOR).get_non_employee_request_summary("me")
        check(isinstance(requests, v3.NonEmployeeRequestSummary), f"not a summary: {requests!r}")
        approvals = self.v3(FIRST_APPROVER).get_non_employee_approval_summary("me")
        check(isinstance(approvals, v3.NonEmployeeApprovalSummary), f"not a summary: {approvals!r}")
        return requests, approvals

    # ---- steps ----------------------------------------------------------------

    def step_tokens(self):
        for cid in (SPONSOR, FIRST_APPROVER, GROUP_MEMBER, ADMIN):
            self.clients(cid)

    def step_baseline_summaries(self):
        self.baseline = self.summaries()

    def step_sponsor_creates(self):
        self.approved = self.sponsor_request("dana.scully")
        fetched = self.v3(SPONSOR).get_non_employee_request(self.approved.id)
        eq(fetched, self.approved, "the request as read back")

    def step_taken_name_conflicts(self):
        self.expect_api_error(400, lambda: self.sponsor_request("Dana.Scully"),
                              "400.1.409 Reference conflict")

    def step_first_approver_approves(self):
        first = self.approved.approval_items[0].id
        pending = self.pending_of(FIRST_APPROVER)
        check(first in pending, f"{first} not among Maria's pending items {sorted(pending)}")
        eq(pending[first].non_employee_request.id, self.approved.id, "nonEmployeeRequest.id")
        eq(pending[first].account_name, "dana.scully", "accountName")
        resp = self.v3(FIRST_APPROVER).approve_non_employee_request_with_http_info(
            first, v3.NonEmployeeApprovalDecision(comment="Budget confirmed."))
        eq(resp.status_code, 200, "status code")
        item = resp.data
        check(isinstance(item, v3.NonEmployeeApprovalItem), f"not a NonEmployeeApprovalItem: {item!r}")
        eq(item.approval_status, "APPROVED", "approvalStatus")
        eq(item.comment, "Budget confirmed.", "comment")
        check(first not in self.pending_of(FIRST_APPROVER), "still pending after approval")

    def step_group_member_approves_beta(self):
        second = self.approved.approval_items[1].id
        check(second in self.pending_of(GROUP_MEMBER), "the group's item is not pending for Sam")
        detail = self.v3(GROUP_MEMBER).get_non_employee_approval(second, include_detail=True)
        check(isinstance(detail, v3.NonEmployeeApprovalItemDetail), f"not a detail: {detail!r}")
        request = detail.non_employee_request
        check(request is not None, "nonEmployeeRequest missing")
        eq(request.id, self.approved.id, "nonEmployeeRequest.id")
        eq(request.start_date, datetime.date(2026, 12, 14), "nonEmployeeRequest.startDate (a date)")
        eq(request.requester.id if request.requester else None, EVE, "nonEmployeeRequest.requester.id")
        with deprecated_beta("POST /non-employee-approvals/{id}/approve"):
            resp = self.beta(GROUP_MEMBER).approve_non_employee_request_with_http_info(
                second, beta.NonEmployeeApprovalDecision(comment="Finance agrees."))
        eq(resp.status_code, 200, "status code")
        check(isinstance(resp.data, beta.NonEmployeeApprovalItem), f"not an item: {resp.data!r}")
        eq(resp.data.approval_status, "APPROVED", "approvalStatus")

    def step_request_reads_approved(self):
        r = self.v3(SPONSOR).get_non_employee_request(self.approved.id)
        eq(r.approval_status, "APPROVED", "approvalStatus")
        check(isinstance(r.completion_date, datetime.datetime), f"completionDate: {r.completion_date!r}")
        check(r.completion_date >= r.created, "completionDate before created")
        eq([i.approval_status for i in r.approval_items], ["APPROVED", "APPROVED"], "item statuses")
        eq([i.comment for i in r.approval_items], ["Budget confirmed.", "Finance agrees."], "comments")

    def step_first_approver_rejects(self):
        self.rejected = self.sponsor_request("fox.mulder")
        first = self.rejected.approval_items[0].id
        check(first in self.pending_of(FIRST_APPROVER), "the new item is not pending for Maria")
        item = self.v3(FIRST_APPROVER).reject_non_employee_request(
            first, v3.NonEmployeeRejectApprovalDecision(comment="Not this quarter."))
        eq(item.approval_status, "REJECTED", "approvalStatus")

    def step_later_item_reads_cancelled(self):
        second = self.rejected.approval_items[1].id
        r = self.v3(SPONSOR).get_non_employee_request(self.rejected.id)
        eq(r.approval_status, "REJECTED", "approvalStatus")
        eq(r.completion_date, None, "completionDate")
        eq([i.approval_status for i in r.approval_items], ["REJECTED", "CANCELLED"], "item statuses")
        item = self.v3(GROUP_MEMBER).get_non_employee_approval(second, include_detail=False)
        eq(item.approval_status, "CANCELLED", "the later item's status")
        eq(item.non_employee_request.id, self.rejected.id, "nonEmployeeRequest.id")
        with deprecated_beta("GET /non-employee-approvals/{id}"):
            item = self.beta(GROUP_MEMBER).get_non_employee_approval(second)
        eq(item.approval_status, "CANCELLED", "the later item's status (beta)")
        # A cancelled item can no longer be decided.
        e = self.expect_api_error(400, lambda: self.v3(GROUP_MEMBER).approve_non_employee_request(
            second, v3.NonEmployeeApprovalDecision()), "400.1 Bad Request Content")
        check(e.data.causes and "CANCELLED" in e.data.causes[0].text, f"cause: {e.body}")

    def step_summaries_agree(self):
        (requests, approvals), (requests0, approvals0) = self.summaries(), self.baseline
        moved_requests = (requests.approved - requests0.approved, requests.rejected - requests0.rejected,
                          requests.pending - requests0.pending)
        moved_approvals = (approvals.approved - approvals0.approved,
                           approvals.rejected - approvals0.rejected, approvals.pending - approvals0.pending)
        eq(moved_requests, (1, 1, 0), "the sponsor's request summary (approved, rejected, pending)")
        eq(moved_approvals, moved_requests, "the first approver's approval summary")
        eq(requests.non_employee_count - requests0.non_employee_count, 1, "nonEmployeeCount")
        with deprecated_beta("GET /non-employee-requests/summary/{requested-for}"):
            beta_requests = self.beta(SPONSOR).get_non_employee_request_summary("me")
        eq(beta_requests.to_dict(), requests.to_dict(), "the beta request summary")
        with deprecated_beta("GET /non-employee-approvals/summary/{requested-for}"):
            beta_approvals = self.beta(ADMIN).get_non_employee_approval_summary(MARIA)
        eq(beta_approvals.to_dict(), approvals.to_dict(), "the admin's beta view of Maria's summary")

    def step_sponsor_lists_requests(self):
        resp = self.v3(SPONSOR).list_non_employee_requests_with_http_info(
            "me", count=True, limit=2, offset=0, sorters="-created",
            filters=f'sourceId eq "{CONTRACTORS}"')
        eq(resp.status_code, 200, "status code")
        total = int(header(resp.headers, "X-Total-Count") or -1)
        check(total >= 3, f"X-Total-Count {total}: the seed's request and the two made here")
        eq([r.id for r in resp.data], [self.rejected.id, self.approved.id], "newest first, a page of 2")
        rest = self.v3(SPONSOR).list_non_employee_requests(
            "me", limit=250, offset=2, sorters="-created", filters=f'sourceId eq "{CONTRACTORS}"')
        eq(len(rest), total - 2, "the rest of the pages")
        check(all(r.source_id == CONTRACTORS for r in resp.data + rest), "filtered on sourceId")

    def step_admin_deletes(self):
        self.deleted = self.sponsor_request("walter.skinner")
        first = self.deleted.approval_items[0].id
        resp = self.v3(ADMIN).delete_non_employee_request_with_http_info(self.deleted.id)
        eq(resp.status_code, 204, "status code")
        self.expect_api_error(404, lambda: self.v3(SPONSOR).get_non_employee_request(self.deleted.id),
                              "404 Not found")
        check(first not in self.pending_of(FIRST_APPROVER), "a deleted request's item is still pending")
        self.expect_api_error(404, lambda: self.v3(ADMIN).delete_non_employee_request(self.deleted.id),
                              "404 Not found")

    def step_refusals(self):
        api = self.v3(SPONSOR)
        self.expect_api_error(403, lambda: api.list_non_employee_approvals(requested_for=MARIA),
                              "403 Forbidden")
        e = self.expect_api_error(400, lambda: api.list_non_employee_requests(
            "me", filters='accountName eq "dana.scully"'), "400.1 Bad Request Content")
        check(e.data.causes and "accountName" in e.data.causes[0].text, f"cause: {e.body}")
        self.expect_api_error(403, lambda: self.v3(GROUP_MEMBER).delete_non_employee_request(
            self.approved.id), "403 Forbidden")
        with deprecated_beta("GET /non-employee-approvals"):
            listed = self.beta(FIRST_APPROVER).list_non_employee_approval(
                requested_for="me", filters='approvalStatus eq "approved"')
        check(self.approved.approval_items[0].id in [i.id for i in listed],
              "Maria's approved item (status compared in any case)")

    STEPS = [
        ("tokens", step_tokens),
        ("summaries before", step_baseline_summaries),
        ("create v3 sponsor on a source with two approvers", step_sponsor_creates),
        ("create v3 taken account name -> 400.1.409", step_taken_name_conflicts),
        ("first approver lists pending, approves (v3)", step_first_approver_approves),
        ("group member approves the second (beta)", step_group_member_approves_beta),
        ("request reads APPROVED with completionDate", step_request_reads_approved),
        ("second request rejected by its first approver", step_first_approver_rejects),
        ("its later item reads CANCELLED", step_later_item_reads_cancelled),
        ("request and approval summaries agree", step_summaries_agree),
        ("sponsor lists, filters, sorts and pages", step_sponsor_lists_requests),
        ("admin deletes: 204, then 404", step_admin_deletes),
        ("refusals: 403, 400, 403", step_refusals),
    ]

if __name__ == "__main__":
    sys.exit(main(Flow, __doc__))
