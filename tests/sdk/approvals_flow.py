#!/usr/bin/env python3
"""The approvals lifecycle through the official Python SDK (PyPI `sailpoint==1.4.2`).

An employee submits a request for an item with two approval steps; the
manager finds it with `AccessRequestApprovalsApi.list_pending_approvals(owner_id="me")`
and approves; the owner of the second step sees it and approves; the
employee's status shows `REQUEST_COMPLETED` with both approvals. Two more
requests are forwarded, then rejected (one through /v3, one through /beta).
`list_completed_approvals` and `get_access_request_approval_summary` must
agree with what happened, and refusals come back as `ApiException`s with an
`ErrorResponseDto`. Every approvals operation is called through both the
`sailpoint.v3` and the `sailpoint.beta` API classes.

As in `sdk_flow.py`: one `Configuration` per OAuth client of the demo seed
(the SDK fetches its own token from `<base-url>/oauth/token`), any Python
warning is an error (the SDK warns on unknown values of inline enums), any
log record of level WARNING or above fails its step, and headers are read
by their exact names (`X-Total-Count`).

    python tests/sdk/approvals_flow.py --base-url http://127.0.0.1:3000 [--seed seed/demo.json]

Run it against a freshly started server: it expects the demo seed's state.
Prints `ok <step>` per step, then `approvals_flow: N passed, 0 failed`.
"""

import sys
import uuid

from flowkit import (  # first: it makes warnings errors before sailpoint loads
    SdkFlow,
    beta,
    check,
    eq,
    main,
    total_count,
    v3,
)

EMPLOYEE = "2c9180835d191a86015d28455b4a0003"
MANAGER = "2c9180835d191a86015d28455b4a0002"
ADMIN = "2c9180835d191a86015d28455b4a0001"
SOURCE_OWNER = "2c9180835d191a86015d28455b4a0006"
# Engineering Access: MANAGER, then ACCESS_PROFILE_OWNER (Sam Source).
ENGINEERING_ACCESS = "2c9180835d2e5168015d32f890ca1581"
# GitHub Admin: MANAGER, then SOURCE_OWNER (Sam Source).
GITHUB_ADMIN = "779c6fd7171540bba1184e5946110001"
# Jira User: MANAGER only.
JIRA_USER = "779c6fd7171540bba1184e5946110002"

MANAGER_COMMENT = "Approved: part of the onboarding plan."
OWNER_COMMENT = "Granted by the access profile owner."
FORWARD_V3_COMMENT = "Ada decides GitHub administrators."
REJECT_BETA_COMMENT = "Use the read-only role instead."
FORWARD_BETA_COMMENT = "Sam manages the Jira licences."
REJECT_V3_COMMENT = "No licence left this quarter."


class Flow(SdkFlow):
    NAME = "approvals_flow"

    def __init__(self, base_url, seed, token_url=None):
        super().__init__(base_url, seed, token_url)
        # state carried between steps
        self.summary_before = {}
        self.granted_request = None
        self.manager_step = None
        self.owner_step = None
        self.forwarded_v3_request = None
        self.forwarded_v3_step = None
        self.forwarded_beta_request = None
        self.forwarded_beta_step = None

    # ---- SDK plumbing -------------------------------------------------------

    def v3_approvals(self, client_id):
        return v3.AccessRequestApprovalsApi(self.clients(client_id)[0])

    def beta_approvals(self, client_id):
        return beta.AccessRequestApprovalsApi(self.clients(client_id)[1])

    def v3_requests(self, client_id):
        return v3.AccessRequestsApi(self.clients(client_id)[0])

    def submit(self, item_type, item_id, comment):
        """Eve requests an item for herself; the new access request id."""
        req = v3.AccessRequest(
            requested_for=[EMPLOYEE],
            request_type=v3.AccessRequestType.GRANT_ACCESS,
            requested_items=[v3.AccessRequestItem(type=item_type, id=item_id, comment=comment)],
        )
        resp = self.v3_requests("acme-employee").create_access_request_with_http_info(req)
        eq(resp.status_code, 202, "create status code")
        check(resp.data.new_requests, f"newRequests empty: {resp.data!r}")
        ids = resp.data.new_requests[0].access_request_ids or []
        eq(len(ids), 1, "number of accessRequestIds")
        return ids[0]

    def status(self, request_id):
        """Eve's status item of one request (v3)."""
        resp = self.v3_requests("acme-employee").list_access_request_status_with_http_info(
            requested_for="me", count=True, limit=10, offset=0,
            filters=f'accessRequestId eq "{request_id}"')
        eq(resp.status_code, 200, "status code")
        eq(total_count(resp), 1, "X-Total-Count of the status")
        eq(len(resp.data), 1, "status items")
        return resp.data[0]

    def pending_v3(self, client_id, request_id):
        """The caller's pending approvals of one request, through /v3 (owner-id=me)."""
        resp = self.v3_approvals(client_id).list_pending_approvals_with_http_info(
            owner_id="me", count=True, limit=250, offset=0,
            filters=f'accessRequestId eq "{request_id}"', sorters="-created")
        eq(resp.status_code, 200, "pending status code")
        check(isinstance(resp.data, list), f"pending data is not a list: {resp.data!r}")
        eq(total_count(resp), len(resp.data), "X-Total-Count of a one-page list")
        for p in resp.data:
            check(isinstance(p, v3.PendingApproval), f"not a v3 PendingApproval: {p!r}")
        return resp.data

    def pending_beta(self, client_id, approval_id):
        """The caller's pending approval `approval_id` through /beta (no accessRequestId filter there)."""
        resp = self.beta_approvals(client_id).list_pending_approvals_with_http_info(
            owner_id="me", count=True, filters=f'id eq "{approval_id}"')
        eq(resp.status_code, 200, "pending status code")
        for p in resp.data:
            check(isinstance(p, beta.PendingApproval), f"not a beta PendingApproval: {p!r}")
        eq(total_count(resp), len(resp.data), "X-Total-Count")
        return resp.data

    def completed(self, api, **kwargs):
        resp = api.list_completed_approvals_with_http_info(count=True, limit=250, **kwargs)
        eq(resp.status_code, 200, "completed status code")
        eq(total_count(resp), len(resp.data), "X-Total-Count of the completed list")
        return resp.data

    def summary(self, api, **kwargs):
        resp = api.get_access_request_approval_summary_with_http_info(**kwargs)
        eq(resp.status_code, 200, "summary status code")
        s = resp.data
        return (s.pending, s.approved, s.rejected)


    # ---- steps ----------------------------------------------------------------

    def step_tokens(self):
        for cid in ("acme-employee", "acme-manager", "acme-admin", "acme-source-admin"):
            self.clients(cid)

    def step_summaries_before(self):
        for cid in ("acme-manager", "acme-source-admin", "acme-admin"):
            self.summary_before[cid] = self.summary(self.v3_approvals(cid), owner_id="me")

    def step_submit_two_step_item(self):
        self.granted_request = self.submit("ACCESS_PROFILE", ENGINEERING_ACCESS, "Onboarding.")
        item = self.status(self.granted_request)
        eq(item.state, "EXECUTING", "state")
        eq(item.cancelable, True, "cancelable")
        details = item.approval_details or []
        eq([(d.scheme, d.status) for d in details], [("MANAGER", "PENDING")],
           "only the first step is reached")
        eq(item.approval_ids, [details[0].approval_id], "approvalIds")
        self.manager_step = details[0].approval_id

    def step_manager_lists_pending(self):
        pending = self.pending_v3("acme-manager", self.granted_request)
        eq([p.id for p in pending], [self.manager_step], "the manager's pending approvals")
        p = pending[0]
        eq(p.access_request_id, self.granted_request, "accessRequestId")
        eq(p.name, "Engineering Access", "name")
        eq(p.request_type, "GRANT_ACCESS", "requestType")
        eq((p.requester.id, p.requester.name), (EMPLOYEE, "Eve Employee"), "requester")
        eq(p.requested_for.id, EMPLOYEE, "requestedFor.id")
        eq((p.owner.type, p.owner.id, p.owner.name), ("IDENTITY", MANAGER, "Maria Manager"), "owner")
        eq((p.requested_object.type, p.requested_object.id),
           ("ACCESS_PROFILE", ENGINEERING_ACCESS), "requestedObject")
        eq(p.requester_comment.comment if p.requester_comment else None, "Onboarding.", "requesterComment")
        eq(p.comment_required_when_rejected, True, "commentRequiredWhenRejected")
        eq(p.action_in_process, None, "actionInProcess")
        eq(p.forward_history, [], "forwardHistory")
        # The whole list, as the SDK user pages it, holds it too.
        everything = self.v3_approvals("acme-manager").list_pending_approvals(owner_id="me")
        check(self.manager_step in [a.id for a in everything], "not in the unfiltered list")
        # The owner of the next step has nothing of it yet.
        eq(self.pending_v3("acme-source-admin", self.granted_request), [], "Sam's list before")

    def step_manager_approves(self):
        resp = self.v3_approvals("acme-manager").approve_access_request_with_http_info(
            self.manager_step, v3.CommentDto(comment=MANAGER_COMMENT))
        eq(resp.status_code, 202, "approve status code")
        eq(self.pending_v3("acme-manager", self.granted_request), [], "the manager's list after")
        item = self.status(self.granted_request)
        eq(item.state, "EXECUTING", "state")
        eq(item.cancelable, False, "cancelable after a decision")
        details = item.approval_details or []
        eq([(d.scheme, d.status) for d in details],
           [("MANAGER", "APPROVED"), ("ACCESS_PROFILE_OWNER", "PENDING")], "approvalDetails")
        eq(details[0].comment, MANAGER_COMMENT, "the manager's comment")
        check(details[0].modified is not None, "modified of the decided step")
        eq(details[1].current_owner.id if details[1].current_owner else None, SOURCE_OWNER,
           "currentOwner of the next step")
        self.owner_step = details[1].approval_id
        eq(item.approval_ids, [self.manager_step, self.owner_step], "approvalIds")

    def step_owner_sees_and_approves_beta(self):
        pending = self.pending_beta("acme-source-admin", self.owner_step)
        eq([p.id for p in pending], [self.owner_step], "Sam's pending approvals (beta)")
        p = pending[0]
        eq(p.owner.id, SOURCE_OWNER, "owner")
        eq([c.comment for c in p.previous_reviewers_comments or []], [MANAGER_COMMENT],
           "previousReviewersComments")
        resp = self.beta_approvals("acme-source-admin").approve_access_request_with_http_info(
            self.owner_step, beta.CommentDto(comment=OWNER_COMMENT))
        eq(resp.status_code, 202, "approve status code")
        eq(self.pending_beta("acme-source-admin", self.owner_step), [], "Sam's list after")

    def step_status_completed(self):
        item = self.status(self.granted_request)
        eq(item.state, "REQUEST_COMPLETED", "state")
        eq(item.cancelable, False, "cancelable")
        details = item.approval_details or []
        eq([(d.scheme, d.status, d.comment) for d in details],
           [("MANAGER", "APPROVED", MANAGER_COMMENT),
            ("ACCESS_PROFILE_OWNER", "APPROVED", OWNER_COMMENT)], "both approvals")
        phases = {p.name: (p.state, p.result) for p in item.access_request_phases or []}
        eq(phases.get("APPROVAL_PHASE"), ("COMPLETED", "SUCCESSFUL"), "APPROVAL_PHASE")
        eq(phases.get("PROVISIONING_PHASE"), ("COMPLETED", "SUCCESSFUL"), "PROVISIONING_PHASE")

    def step_forward_v3_then_reject_beta(self):
        self.forwarded_v3_request = self.submit("ENTITLEMENT", GITHUB_ADMIN, "Repository admin.")
        pending = self.pending_v3("acme-manager", self.forwarded_v3_request)
        eq(len(pending), 1, "the manager's pending approvals")
        self.forwarded_v3_step = pending[0].id
        resp = self.v3_approvals("acme-manager").forward_access_request_with_http_info(
            self.forwarded_v3_step,
            v3.ForwardApprovalDto(new_owner_id=ADMIN, comment=FORWARD_V3_COMMENT))
        eq(resp.status_code, 202, "forward status code")
        # It leaves Maria's list and enters Ada's at once.
        eq(self.pending_v3("acme-manager", self.forwarded_v3_request), [], "Maria's list")
        moved = self.pending_v3("acme-admin", self.forwarded_v3_request)
        eq([p.id for p in moved], [self.forwarded_v3_step], "Ada's list")
        history = moved[0].forward_history or []
        eq([(h.old_approver_name, h.new_approver_name, h.forwarder_name, h.comment, h.reassignment_type)
            for h in history],
           [("Maria Manager", "Ada Admin", "Maria Manager", FORWARD_V3_COMMENT, "MANUAL_REASSIGNMENT")],
           "forwardHistory")
        item = self.status(self.forwarded_v3_request)
        d = item.approval_details[0]
        eq((d.status, d.forwarded), ("PENDING", True), "status and forwarded")
        eq(d.original_owner.id, MANAGER, "originalOwner")
        eq(d.current_owner.id, ADMIN, "currentOwner")
        resp = self.beta_approvals("acme-admin").reject_access_request_with_http_info(
            self.forwarded_v3_step, beta.CommentDto(comment=REJECT_BETA_COMMENT))
        eq(resp.status_code, 202, "reject status code")
        item = self.status(self.forwarded_v3_request)
        eq(item.state, "REJECTED", "state")
        eq(len(item.approval_details), 1, "no later step after a rejection")
        phases = {p.name: (p.state, p.result) for p in item.access_request_phases or []}
        eq(phases.get("APPROVAL_PHASE"), ("COMPLETED", "FAILED"), "APPROVAL_PHASE")
        eq(phases.get("PROVISIONING_PHASE"), ("NOT_EXECUTED", None), "PROVISIONING_PHASE")

    def step_forward_beta_then_reject_v3(self):
        self.forwarded_beta_request = self.submit("ENTITLEMENT", JIRA_USER, "A Jira licence.")
        pending = self.pending_v3("acme-manager", self.forwarded_beta_request)
        eq(len(pending), 1, "the manager's pending approvals")
        self.forwarded_beta_step = pending[0].id
        resp = self.beta_approvals("acme-manager").forward_access_request_with_http_info(
            self.forwarded_beta_step,
            beta.ForwardApprovalDto(new_owner_id=SOURCE_OWNER, comment=FORWARD_BETA_COMMENT))
        eq(resp.status_code, 202, "forward status code")
        eq([p.id for p in self.pending_beta("acme-source-admin", self.forwarded_beta_step)],
           [self.forwarded_beta_step], "Sam's list (beta)")
        # The original owner may no longer decide it.
        self.expect_api_error(403, lambda: self.v3_approvals("acme-manager").approve_access_request(
            self.forwarded_beta_step), "403 Forbidden")
        resp = self.v3_approvals("acme-source-admin").reject_access_request_with_http_info(
            self.forwarded_beta_step, v3.CommentDto(comment=REJECT_V3_COMMENT))
        eq(resp.status_code, 202, "reject status code")
        eq(self.status(self.forwarded_beta_request).state, "REJECTED", "state")

    def step_completed_lists_agree(self):
        ours = {self.manager_step, self.owner_step, self.forwarded_v3_step, self.forwarded_beta_step}
        # Maria decided her manager step; Ada and Sam the forwarded ones.
        expected = {
            "acme-manager": {self.manager_step: ("APPROVED", MANAGER, MANAGER_COMMENT)},
            "acme-source-admin": {
                self.owner_step: ("APPROVED", SOURCE_OWNER, OWNER_COMMENT),
                self.forwarded_beta_step: ("REJECTED", SOURCE_OWNER, REJECT_V3_COMMENT),
            },
            "acme-admin": {self.forwarded_v3_step: ("REJECTED", ADMIN, REJECT_BETA_COMMENT)},
        }
        for cid, want in expected.items():
            for api, models in ((self.v3_approvals(cid), v3), (self.beta_approvals(cid), beta)):
                done = self.completed(api, owner_id="me")
                for c in done:
                    check(isinstance(c, models.CompletedApproval), f"not a CompletedApproval: {c!r}")
                got = {c.id: (c.state, c.reviewed_by.id if c.reviewed_by else None,
                              c.reviewer_comment.comment if c.reviewer_comment else None)
                       for c in done if c.id in ours}
                eq(got, want, f"{cid}'s completed approvals")
        # A filter as the fragment allows it: the rejected ones of the tenant.
        admin = self.v3_approvals("acme-admin")
        rejected = self.completed(admin, filters=f'id in ("{self.forwarded_v3_step}","{self.forwarded_beta_step}")',
                                  sorters="modified")
        eq([c.id for c in rejected], [self.forwarded_v3_step, self.forwarded_beta_step],
           "filtered and sorted by modified")
        eq([c.state for c in rejected], ["REJECTED", "REJECTED"], "states")
        forwarded = next(c for c in rejected if c.id == self.forwarded_beta_step)
        eq(len(forwarded.forward_history or []), 1, "forwardHistory of the completed approval")

    def step_summaries_agree(self):
        # What happened, per approver: Maria approved one; Sam approved one
        # and rejected one; Ada rejected one. Nothing of ours is pending.
        deltas = {"acme-manager": (0, 1, 0), "acme-source-admin": (0, 1, 1), "acme-admin": (0, 0, 1)}
        for cid, delta in deltas.items():
            before = self.summary_before[cid]
            for api in (self.v3_approvals(cid), self.beta_approvals(cid)):
                now = self.summary(api, owner_id="me")
                eq(tuple(n - b for n, b in zip(now, before)), delta, f"{cid}'s summary change")
                # The summary agrees with the lists.
                pending = api.list_pending_approvals_with_http_info(owner_id="me", count=True, limit=1)
                eq(total_count(pending), now[0], f"{cid}: pending count")
                done = self.completed(api, owner_id="me")
                eq(sum(c.state == "APPROVED" for c in done), now[1], f"{cid}: approved count")
                eq(sum(c.state == "REJECTED" for c in done), now[2], f"{cid}: rejected count")
        # The tenant, for ORG_ADMIN without owner-id.
        admin = self.v3_approvals("acme-admin")
        pending, approved, rejected = self.summary(admin)
        all_pending = admin.list_pending_approvals_with_http_info(count=True, limit=0)
        eq(total_count(all_pending), pending, "tenant pending count")
        done = self.completed(admin)
        eq((sum(c.state == "APPROVED" for c in done), sum(c.state == "REJECTED" for c in done)),
           (approved, rejected), "tenant decided counts")
        # from-date: decisions made since our first one include all four.
        since = self.status(self.granted_request).approval_details[0].modified
        _, a, r = self.summary(admin, from_date=since.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
        check(a >= 2 and r >= 2, f"summary from {since}: approved {a}, rejected {r}")

    def step_refusals(self):
        v3api = self.v3_approvals("acme-manager")
        betaapi = self.beta_approvals("acme-manager")
        # Decided: 400 naming the state.
        e = self.expect_api_error(400, lambda: v3api.approve_access_request(
            self.manager_step, v3.CommentDto(comment="again")), "400.1 Bad Request Content")
        check("APPROVED" in e.body, f"400 does not name the state: {e.body}")
        admin_beta = self.beta_approvals("acme-admin")
        e = self.expect_api_error(400, lambda: admin_beta.reject_access_request(
            self.forwarded_beta_step, beta.CommentDto(comment="again")), "400.1 Bad Request Content")
        check("REJECTED" in e.body, f"400 does not name the state: {e.body}")
        # Not the owner: 403; unknown: 404.
        employee = self.v3_approvals("acme-employee")
        seeded_pending = v3api.list_pending_approvals(owner_id="me", limit=1)
        check(seeded_pending, "the demo seed leaves the manager something pending")
        self.expect_api_error(403, lambda: employee.forward_access_request(
            seeded_pending[0].id, v3.ForwardApprovalDto(new_owner_id=EMPLOYEE, comment="mine")),
            "403 Forbidden")
        self.expect_api_error(404, lambda: v3api.approve_access_request(uuid.uuid4().hex),
                              "404 Not found")
        # A filter outside the fragment (beta's lists no 400), another identity's list.
        self.expect_api_error(400, lambda: betaapi.list_pending_approvals(
            filters=f'accessRequestId eq "{self.granted_request}"'), "400.1 Bad Request Content",
            documented=False)
        self.expect_api_error(403, lambda: v3api.list_completed_approvals(owner_id=SOURCE_OWNER),
                              "403 Forbidden")
        self.expect_api_error(400, lambda: v3api.get_access_request_approval_summary(
            from_date="last week"), "400.1 Bad Request Content")

    STEPS = [
        ("tokens", step_tokens),
        ("summaries before", step_summaries_before),
        ("create v3: an item with two steps", step_submit_two_step_item),
        ("pending v3: the manager lists owner-id=me", step_manager_lists_pending),
        ("approve v3: the manager; the next step is reached", step_manager_approves),
        ("pending + approve beta: the second step's owner", step_owner_sees_and_approves_beta),
        ("status v3: REQUEST_COMPLETED with both approvals", step_status_completed),
        ("forward v3, then reject beta", step_forward_v3_then_reject_beta),
        ("forward beta, then reject v3", step_forward_beta_then_reject_v3),
        ("completed v3 + beta agree with what happened", step_completed_lists_agree),
        ("approval-summary v3 + beta agree with the lists", step_summaries_agree),
        ("refusals: 400, 403, 404", step_refusals),
    ]

if __name__ == "__main__":
    sys.exit(main(Flow, __doc__))
