#!/usr/bin/env python3
"""End-to-end flow through the official Python SDK (PyPI `sailpoint==1.4.2`).

Drives the five access-request operations exactly as an SDK user would: one
`sailpoint.configuration.Configuration` per OAuth client of the demo seed, the
SDK fetching its own token from `<base-url>/oauth/token`, and the generated
`sailpoint.v3` / `sailpoint.beta` API classes for every call.

Any Python warning is an error (`warnings.simplefilter("error")`: the SDK
reports unknown values of inline enums with `warnings.warn`), any record of
level WARNING or above logged by the SDK or urllib3 fails the step that
produced it, and anything the SDK prints while fetching a token (it prints
instead of raising when the token call fails) fails too.

Usage (against a freshly started server loaded with the demo seed):

    python tests/sdk/sdk_flow.py --base-url http://127.0.0.1:3000 [--seed seed/demo.json]

Where the API is served without the token endpoint (the functions under
`sam local start-api`, like a tenant whose tokens come from elsewhere), give
the client-credentials endpoint separately: each client's token is fetched
from it with the same grant the SDK sends and handed to the SDK as its
`access_token`:

    python tests/sdk/sdk_flow.py --base-url http://127.0.0.1:3001 \
        --token-url http://127.0.0.1:3000/oauth/token

Prints `ok <step>` per step, then `sdk_flow: N passed, 0 failed` and exits 0;
on the first failure prints the failure and `sdk_flow: N passed, 1 failed`
and exits 1.
"""

import sys
import uuid
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

ENGINEERING_ACCESS = "2c9180835d2e5168015d32f890ca1581"
AUDITOR_ROLE = "2c918086771c86df0177401efcdf0002"
EMPLOYEE = "2c9180835d191a86015d28455b4a0003"
MANAGER = "2c9180835d191a86015d28455b4a0002"
REPORT = "2c9180835d191a86015d28455b4a0004"
SOURCE_OWNER = "2c9180835d191a86015d28455b4a0006"
NE_ITEM_MANAGER = "2c1e388b-1e55-4b0a-ab5c-897f12040001"
NE_ITEM_GROUP = "2c1e388b-1e55-4b0a-ab5c-897f12040003"

CANCEL_COMMENT = "No longer needed: moved to another team."
REJECT_COMMENT_V3 = "Contract not signed yet."
REJECT_COMMENT_BETA = "Duplicate of an existing contractor."
BETA_REJECT_DEPRECATION = "POST /non-employee-approvals/{id}/reject is deprecated."


class Flow(SdkFlow):
    NAME = "sdk_flow"

    def __init__(self, base_url, seed, token_url=None):
        super().__init__(base_url, seed, token_url)
        self.catalog = {c["id"]: c for c in self.tenant["catalog"]}
        # state carried between steps
        self.employee_request_id = None
        self.manager_request_id = None

    # ---- SDK plumbing -------------------------------------------------------

    def v3_requests(self, client_id):
        return v3.AccessRequestsApi(self.clients(client_id)[0])

    def beta_requests(self, client_id):
        return beta.AccessRequestsApi(self.clients(client_id)[1])

    def status(self, api, request_id, requested_for="me"):
        """One status listing filtered on one access request id, as a user would page it."""
        resp = api.list_access_request_status_with_http_info(
            requested_for=requested_for,
            count=True,
            limit=10,
            offset=0,
            filters=f'accessRequestId in ("{request_id}")',
            sorters="-created",
        )
        eq(resp.status_code, 200, "status code")
        check(isinstance(resp.data, list), f"status data is not a list: {resp.data!r}")
        eq(header(resp.headers, "X-Total-Count"), "1", "X-Total-Count header")
        eq(len(resp.data), 1, "number of status items")
        return resp.data[0]


    # ---- checks on returned models ------------------------------------------

    def check_pending_item(self, item, models, request_id):
        check(isinstance(item, models.RequestedItemStatus), f"not a RequestedItemStatus: {item!r}")
        eq(item.state, "EXECUTING", "state")
        eq(item.cancelable, True, "cancelable")
        eq(item.access_request_id, request_id, "accessRequestId")
        eq(item.id, ENGINEERING_ACCESS, "item id")
        eq(item.type, "ACCESS_PROFILE", "item type")
        eq(item.name, self.catalog[ENGINEERING_ACCESS]["name"], "item name")
        eq(item.name, "Engineering Access", "item name")
        eq(item.request_type, "GRANT_ACCESS", "requestType")
        check(item.requester is not None, "requester missing")
        eq(item.requester.id, EMPLOYEE, "requester.id")
        eq(item.requester.name, "Eve Employee", "requester.name")
        check(item.requested_for is not None, "requestedFor missing")
        eq(item.requested_for.id, EMPLOYEE, "requestedFor.id")
        eq(item.requested_for.name, self.names[EMPLOYEE], "requestedFor.name")
        check(item.created is not None, "created missing")
        check(item.account_activity_item_id, "accountActivityItemId missing")
        # Steps are taken in order: the manager's is the one reached; the
        # access profile owner's comes once it is approved (approvals_flow.py).
        details = item.approval_details or []
        eq(len(details), 1, "number of approvalDetails")
        eq(item.approval_ids, [details[0].approval_id], "approvalIds")
        expected = [("MANAGER", MANAGER, "Maria Manager")]
        for d, (scheme, owner_id, owner_name) in zip(details, expected):
            eq(d.scheme, scheme, "approvalDetails scheme")
            eq(d.status, "PENDING", f"approvalDetails[{scheme}].status")
            check(d.current_owner is not None, f"approvalDetails[{scheme}].currentOwner missing")
            eq(d.current_owner.id, owner_id, f"approvalDetails[{scheme}].currentOwner.id")
            eq(d.current_owner.name, owner_name, f"approvalDetails[{scheme}].currentOwner.name")
            if d.original_owner is not None:
                eq(d.original_owner.name, owner_name, f"approvalDetails[{scheme}].originalOwner.name")

    def check_rejected(self, item, models, item_id, comment):
        check(isinstance(item, models.NonEmployeeApprovalItem), f"not a NonEmployeeApprovalItem: {item!r}")
        eq(item.id, item_id, "approval item id")
        eq(item.approval_status, "REJECTED", "approvalStatus")
        eq(item.comment, comment, "comment")
        check(item.modified is not None, "modified missing")

    # ---- steps ----------------------------------------------------------------

    def step_tokens(self):
        for cid in ("acme-employee", "acme-manager", "acme-admin", "acme-source-admin", "acme-api"):
            self.clients(cid)

    def step_create_employee_self(self):
        req = v3.AccessRequest(
            requested_for=[EMPLOYEE],
            request_type=v3.AccessRequestType.GRANT_ACCESS,
            requested_items=[v3.AccessRequestItem(
                type="ACCESS_PROFILE", id=ENGINEERING_ACCESS,
                comment="Needed for onboarding.", client_metadata={"source": "sdk-flow"})],
        )
        resp = self.v3_requests("acme-employee").create_access_request_with_http_info(req)
        eq(resp.status_code, 202, "status code")
        check(isinstance(resp.data, v3.AccessRequestResponse), f"not an AccessRequestResponse: {resp.data!r}")
        check(resp.data.new_requests, f"newRequests empty: {resp.data!r}")
        eq(len(resp.data.new_requests), 1, "number of newRequests")
        check(not resp.data.existing_requests, f"existingRequests not empty: {resp.data!r}")
        tracking = resp.data.new_requests[0]
        eq(tracking.requested_for, EMPLOYEE, "newRequests[0].requestedFor")
        eq([(d.type, d.id) for d in tracking.requested_items_details or []],
           [("ACCESS_PROFILE", ENGINEERING_ACCESS)], "newRequests[0].requestedItemsDetails")
        ids = tracking.access_request_ids or []
        eq(len(ids), 1, "number of accessRequestIds")
        check(isinstance(ids[0], str) and ids[0], f"bad access request id {ids[0]!r}")
        self.employee_request_id = ids[0]

    def step_create_duplicate(self):
        # Same identity, item and (defaulted) type while the first is pending:
        # reported under existingRequests, nothing new. No requestType: GRANT by default.
        req = v3.AccessRequest(
            requested_for=[EMPLOYEE],
            requested_items=[v3.AccessRequestItem(type="ACCESS_PROFILE", id=ENGINEERING_ACCESS)],
        )
        resp = self.v3_requests("acme-employee").create_access_request_with_http_info(req)
        eq(resp.status_code, 202, "status code")
        check(not resp.data.new_requests, f"newRequests not empty: {resp.data!r}")
        check(resp.data.existing_requests, f"existingRequests empty: {resp.data!r}")
        eq(len(resp.data.existing_requests), 1, "number of existingRequests")
        tracking = resp.data.existing_requests[0]
        eq(tracking.requested_for, EMPLOYEE, "existingRequests[0].requestedFor")
        eq(tracking.access_request_ids, [self.employee_request_id], "existingRequests[0].accessRequestIds")

    def step_create_manager_for_report(self):
        req = v3.AccessRequest(
            requested_for=[REPORT],
            request_type=v3.AccessRequestType.GRANT_ACCESS,
            requested_items=[v3.AccessRequestItem(type="ROLE", id=AUDITOR_ROLE,
                                                  comment="Joins the audit rotation.")],
        )
        resp = self.v3_requests("acme-manager").create_access_request_with_http_info(req)
        eq(resp.status_code, 202, "status code")
        check(resp.data.new_requests, f"newRequests empty: {resp.data!r}")
        eq(len(resp.data.new_requests), 1, "number of newRequests")
        tracking = resp.data.new_requests[0]
        eq(tracking.requested_for, REPORT, "newRequests[0].requestedFor")
        ids = tracking.access_request_ids or []
        eq(len(ids), 1, "number of accessRequestIds")
        check(ids[0] != self.employee_request_id, "manager's request reuses the employee's id")
        self.manager_request_id = ids[0]

    def step_admin_lists_and_pages(self):
        """An admin lists the whole tenant with count, filters by accessRequestId
        in (...), sorts by -created and pages with limit/offset consistently."""
        api = self.v3_requests("acme-admin")
        full = api.list_access_request_status_with_http_info(count=True, sorters="-created")
        eq(full.status_code, 200, "status code")
        total = int(header(full.headers, "X-Total-Count") or -1)
        everything = full.data or []
        eq(total, len(everything), "X-Total-Count of the unpaged listing")
        check(total >= 2, f"tenant listing has {total} items")
        created = [i.created for i in everything]
        check(created == sorted(created, reverse=True), "items not sorted by -created")
        paged = []
        for offset in range(0, total, 2):
            page = api.list_access_request_status_with_http_info(
                count=True, limit=2, offset=offset, sorters="-created")
            eq(header(page.headers, "X-Total-Count"), str(total), f"X-Total-Count at offset {offset}")
            paged.extend(page.data or [])
        eq([i.account_activity_item_id for i in paged],
           [i.account_activity_item_id for i in everything], "pages concatenated")
        ids = [self.employee_request_id, self.manager_request_id]
        flt = 'accessRequestId in ("%s","%s")' % tuple(ids)
        both = api.list_access_request_status_with_http_info(count=True, filters=flt, sorters="-created")
        eq(header(both.headers, "X-Total-Count"), "2", "X-Total-Count of the filtered listing")
        # Same order as in the full listing (newest first, ties on accountActivityItemId).
        expected = [i.access_request_id for i in everything if i.access_request_id in ids]
        eq([i.access_request_id for i in both.data], expected, "filtered ids in listing order")
        eq(sorted(expected), sorted(ids), "filtered ids")
        first = api.list_access_request_status(filters=flt, sorters="-created", limit=1, offset=0)
        second = api.list_access_request_status(filters=flt, sorters="-created", limit=1, offset=1)
        eq([first[0].access_request_id, second[0].access_request_id], expected, "filtered pages of one")

    def step_status_v3(self):
        item = self.status(self.v3_requests("acme-employee"), self.employee_request_id)
        self.check_pending_item(item, v3, self.employee_request_id)

    def step_status_beta(self):
        item = self.status(self.beta_requests("acme-employee"), self.employee_request_id)
        self.check_pending_item(item, beta, self.employee_request_id)

    def step_cancel(self):
        resp = self.v3_requests("acme-employee").cancel_access_request_with_http_info(
            v3.CancelAccessRequest(account_activity_id=self.employee_request_id, comment=CANCEL_COMMENT))
        eq(resp.status_code, 202, "status code")

    def step_status_after_cancel(self):
        item = self.status(self.v3_requests("acme-employee"), self.employee_request_id)
        eq(item.state, "CANCELLED", "state")
        eq(item.cancelable, False, "cancelable")
        crd = item.cancelled_request_details
        check(crd is not None, "cancelledRequestDetails missing")
        eq(crd.comment, CANCEL_COMMENT, "cancelledRequestDetails.comment")
        check(crd.owner is not None, "cancelledRequestDetails.owner missing")
        eq(crd.owner.id, EMPLOYEE, "cancelledRequestDetails.owner.id")
        check(crd.modified is not None, "cancelledRequestDetails.modified missing")
        for d in item.approval_details or []:
            check(d.status != "PENDING", f"approval {d.scheme} still PENDING after cancel")

    def step_close(self):
        resp = self.beta_requests("acme-admin").close_access_request_with_http_info(
            beta.CloseAccessRequest(access_request_ids=[self.manager_request_id]))
        eq(resp.status_code, 202, "status code")

    def step_status_after_close(self):
        item = self.status(self.v3_requests("acme-admin"), self.manager_request_id, requested_for=REPORT)
        eq(item.state, "TERMINATED", "state")
        eq(item.cancelable, False, "cancelable")
        eq(item.id, AUDITOR_ROLE, "item id")
        eq(item.type, "ROLE", "item type")
        eq(item.requested_for.id if item.requested_for else None, REPORT, "requestedFor.id")
        eq(item.requester.id if item.requester else None, MANAGER, "requester.id")

    def step_reject_v3(self):
        api = v3.NonEmployeeLifecycleManagementApi(self.clients("acme-manager")[0])
        resp = api.reject_non_employee_request_with_http_info(
            NE_ITEM_MANAGER, v3.NonEmployeeRejectApprovalDecision(comment=REJECT_COMMENT_V3))
        eq(resp.status_code, 200, "status code")
        self.check_rejected(resp.data, v3, NE_ITEM_MANAGER, REJECT_COMMENT_V3)

    def step_reject_beta(self):
        api = beta.NonEmployeeLifecycleManagementApi(self.clients("acme-source-admin")[1])
        # SDK 1.4.2 itself warns on every call of this beta method, before sending anything
        # (beta/api/non_employee_lifecycle_management_api.py: `warnings.warn("POST
        # /non-employee-approvals/{id}/reject is deprecated.", DeprecationWarning)`).
        # That one warning is expected; any other warning raised during the call fails.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            resp = api.reject_non_employee_request_with_http_info(
                NE_ITEM_GROUP, beta.NonEmployeeRejectApprovalDecision(comment=REJECT_COMMENT_BETA))
        unexpected = [w for w in caught if not (
            issubclass(w.category, DeprecationWarning)
            and str(w.message) == BETA_REJECT_DEPRECATION)]
        check(not unexpected, "warnings: " + "; ".join(
            f"{w.category.__name__}: {w.message}" for w in unexpected))
        eq(resp.status_code, 200, "status code")
        self.check_rejected(resp.data, beta, NE_ITEM_GROUP, REJECT_COMMENT_BETA)

    def step_api_only_create_forbidden(self):
        req = v3.AccessRequest(
            requested_for=[EMPLOYEE],
            requested_items=[v3.AccessRequestItem(type="ACCESS_PROFILE", id=ENGINEERING_ACCESS)],
        )
        api = self.v3_requests("acme-api")
        self.expect_api_error(403, lambda: api.create_access_request_with_http_info(req), "403 Forbidden")

    def step_status_other_forbidden(self):
        api = self.v3_requests("acme-employee")
        self.expect_api_error(403, lambda: api.list_access_request_status_with_http_info(
            requested_for=REPORT, limit=10, offset=0), "403 Forbidden")

    def step_cancel_unknown_not_found(self):
        api = self.v3_requests("acme-employee")
        unknown = uuid.uuid4().hex
        self.expect_api_error(404, lambda: api.cancel_access_request_with_http_info(
            v3.CancelAccessRequest(account_activity_id=unknown, comment="Cancel please.")), "404 Not found")

    def step_bad_filter(self):
        api = self.v3_requests("acme-employee")
        e = self.expect_api_error(400, lambda: api.list_access_request_status_with_http_info(
            requested_for="me", filters='name eq "Engineering Access"'), "400.1 Bad Request Content")
        check(e.data.causes, f"causes empty: {e.body}")
        check(all(c.text for c in e.data.causes), f"a cause has no text: {e.body}")

    STEPS = [
        ("tokens", step_tokens),
        ("create v3 employee self", step_create_employee_self),
        ("create v3 duplicate -> existingRequests", step_create_duplicate),
        ("create v3 manager for report", step_create_manager_for_report),
        ("status v3 admin lists, filters, sorts and pages", step_admin_lists_and_pages),
        ("status v3 employee", step_status_v3),
        ("status beta employee", step_status_beta),
        ("cancel v3 employee", step_cancel),
        ("status v3 after cancel", step_status_after_cancel),
        ("close beta admin", step_close),
        ("status v3 admin after close", step_status_after_close),
        ("reject v3 manager", step_reject_v3),
        ("reject beta source-admin", step_reject_beta),
        ("create v3 api-only client -> 403", step_api_only_create_forbidden),
        ("status v3 employee for another -> 403", step_status_other_forbidden),
        ("cancel v3 unknown id -> 404", step_cancel_unknown_not_found),
        ("status v3 bad filter -> 400", step_bad_filter),
    ]

if __name__ == "__main__":
    sys.exit(main(Flow, __doc__))
