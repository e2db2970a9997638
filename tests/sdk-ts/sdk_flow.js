#!/usr/bin/env node
// End-to-end flow through the official TypeScript SDK (npm `sailpoint-api-client`,
// the version package.json pins), the counterpart of tests/sdk/sdk_flow.py.
//
// Drives the five access-request operations as an SDK user would: one
// `Configuration` per OAuth client of the demo seed, the SDK fetching its own
// token from `<base-url>/oauth/token` (client credentials, posted as
// multipart/form-data by the SDK), and the generated v3 / beta API classes for
// every call. The SDK checks nothing at run time, so the flow checks what a
// TypeScript user relies on: each enum value is one of the SDK's own enum
// objects, dates parse, `X-Total-Count` is there (axios exposes response
// headers under lower-case names) and error bodies have the
// ErrorResponseDto shape. Anything the SDK writes to console.error or
// console.warn fails the step that caused it.
//
//   node tests/sdk-ts/sdk_flow.js --base-url http://127.0.0.1:3000 [--seed seed/demo.json]
//
// Against a freshly started server loaded with the demo seed. Prints
// `ok <step>` per step, then `sdk_flow_ts: N passed, 0 failed` and exits 0; on
// the first failure prints it and `sdk_flow_ts: N passed, 1 failed`, exits 1.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const util = require("util");

const sdk = require("sailpoint-api-client");

const ACME = "acme";
const ENGINEERING_ACCESS = "2c9180835d2e5168015d32f890ca1581";
const AUDITOR_ROLE = "2c918086771c86df0177401efcdf0002";
const EMPLOYEE = "2c9180835d191a86015d28455b4a0003";
const MANAGER = "2c9180835d191a86015d28455b4a0002";
const REPORT = "2c9180835d191a86015d28455b4a0004";
const NE_ITEM_MANAGER = "2c1e388b-1e55-4b0a-ab5c-897f12040001";
const NE_ITEM_GROUP = "2c1e388b-1e55-4b0a-ab5c-897f12040003";

const CANCEL_COMMENT = "Not needed after all: the project moved.";
const REJECT_COMMENT_V3 = "Badge request incomplete.";
const REJECT_COMMENT_BETA = "Already onboarded through another agency.";

class StepFailed extends Error {}

function check(cond, msg) {
  if (!cond) throw new StepFailed(msg);
}

function eq(actual, expected, what) {
  const same = util.isDeepStrictEqual(actual, expected);
  check(same, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** `value` is one of the values of one of the SDK's enum objects. */
function oneOf(value, enumObject, what) {
  const allowed = Object.values(enumObject);
  check(allowed.includes(value), `${what}: ${JSON.stringify(value)} is not one of ${allowed.join(", ")}`);
}

/** An RFC 3339 date-time that JavaScript's Date parses. */
function date(value, what) {
  check(typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(value),
    `${what}: not an RFC 3339 date-time: ${JSON.stringify(value)}`);
  const ms = Date.parse(value);
  check(!Number.isNaN(ms), `${what}: Date.parse cannot read ${value}`);
  return ms;
}

function jsonBody(resp, what) {
  const type = resp.headers["content-type"] || "";
  check(/^application\/json/i.test(type), `${what}: content-type ${JSON.stringify(type)}`);
}

/** The total of a listing called with count=true, as axios exposes the header. */
function total(resp, what) {
  const value = resp.headers["x-total-count"];
  check(typeof value === "string" && /^\d+$/.test(value), `${what}: X-Total-Count is ${JSON.stringify(value)}`);
  return Number(value);
}

class Flow {
  constructor(baseUrl, seed) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    const tenant = seed.tenants.find((t) => t.name === ACME);
    if (!tenant) throw new Error(`seed has no tenant named ${ACME}`);
    this.names = Object.fromEntries(tenant.identities.map((i) => [i.id, i.name]));
    this.catalog = Object.fromEntries(tenant.catalog.map((c) => [c.id, c]));
    this.secrets = Object.fromEntries(tenant.oauthClients.map((c) => [c.clientId, c.clientSecret]));
    this.configs = {};
    this.passed = 0;
    this.consoleOutput = [];
    this.employeeRequestId = null;
    this.managerRequestId = null;
  }

  // ---- SDK plumbing --------------------------------------------------------

  /** A Configuration for one OAuth client; the SDK fetches the token itself. */
  async config(clientId) {
    if (!this.configs[clientId]) {
      const config = new sdk.Configuration({
        baseurl: this.baseUrl,
        tokenUrl: `${this.baseUrl}/oauth/token`,
        clientId,
        clientSecret: this.secrets[clientId],
      });
      await this.expectToken(config, clientId);
      this.configs[clientId] = config;
    }
    return this.configs[clientId];
  }

  async expectToken(config, clientId) {
    let token;
    try {
      token = await config.accessToken;
    } catch (e) {
      throw new StepFailed(`the SDK obtained no token for ${clientId}: ${e.message}`);
    }
    check(typeof token === "string" && token.split(".").length === 3,
      `the SDK's token for ${clientId} is not a JWT: ${JSON.stringify(token)}`);
  }

  async v3Requests(clientId) {
    return new sdk.AccessRequestsApi(await this.config(clientId));
  }

  async betaRequests(clientId) {
    return new sdk.AccessRequestsBetaApi(await this.config(clientId));
  }

  /** One status listing filtered on one access request id, as a user would page it. */
  async status(api, requestId, requestedFor = "me") {
    const resp = await api.listAccessRequestStatus({
      requestedFor,
      count: true,
      limit: 10,
      offset: 0,
      filters: `accessRequestId in ("${requestId}")`,
      sorters: "-created",
    });
    eq(resp.status, 200, "status code");
    jsonBody(resp, "status listing");
    check(Array.isArray(resp.data), `status data is not an array: ${JSON.stringify(resp.data)}`);
    eq(total(resp, "status listing"), 1, "X-Total-Count");
    eq(resp.data.length, 1, "number of status items");
    return resp.data[0];
  }

  /** Runs `call`, which must fail with an HTTP `status` and an ErrorResponseDto body. */
  async expectApiError(status, call, detailCode) {
    let resp;
    try {
      resp = await call();
    } catch (e) {
      check(e.response, `no HTTP response: ${e.message}`);
      eq(e.response.status, status, "HTTP status");
      jsonBody(e.response, "error");
      const body = e.response.data;
      check(body && typeof body === "object", `error body is not an object: ${JSON.stringify(body)}`);
      eq(body.detailCode, detailCode, "detailCode");
      check(typeof body.trackingId === "string" && body.trackingId, `trackingId missing: ${JSON.stringify(body)}`);
      check(Array.isArray(body.messages) && body.messages.length > 0, `messages empty: ${JSON.stringify(body)}`);
      for (const m of [...body.messages, ...(body.causes || [])]) {
        oneOf(m.localeOrigin, sdk.LocaleOrigin, "localeOrigin");
        check(typeof m.text === "string" && m.text, `a message has no text: ${JSON.stringify(body)}`);
      }
      return body;
    }
    throw new StepFailed(`expected HTTP ${status}, got ${resp.status}`);
  }

  // ---- checks on returned models -------------------------------------------

  checkItemEnums(item, enums) {
    oneOf(item.state, enums.state, "state");
    oneOf(item.type, enums.type, "type");
    oneOf(item.requestType, enums.requestType, "requestType");
    for (const d of item.approvalDetails || []) {
      oneOf(d.status, enums.approvalState, `approvalDetails[${d.scheme}].status`);
      oneOf(d.scheme, enums.scheme, "approvalDetails scheme");
    }
    date(item.created, "created");
    if (item.modified != null) date(item.modified, "modified");
  }

  checkPendingItem(item, enums, requestId) {
    this.checkItemEnums(item, enums);
    eq(item.state, enums.state.Executing, "state");
    eq(item.cancelable, true, "cancelable");
    eq(item.accessRequestId, requestId, "accessRequestId");
    eq(item.id, ENGINEERING_ACCESS, "item id");
    eq(item.type, "ACCESS_PROFILE", "item type");
    eq(item.name, this.catalog[ENGINEERING_ACCESS].name, "item name");
    eq(item.requestType, "GRANT_ACCESS", "requestType");
    eq(item.requester && item.requester.id, EMPLOYEE, "requester.id");
    eq(item.requester && item.requester.name, this.names[EMPLOYEE], "requester.name");
    eq(item.requestedFor && item.requestedFor.id, EMPLOYEE, "requestedFor.id");
    eq(item.requestedFor && item.requestedFor.name, this.names[EMPLOYEE], "requestedFor.name");
    check(item.accountActivityItemId, "accountActivityItemId missing");
    // Steps are taken in order: the manager's is the one reached; the access
    // profile owner's comes once it is approved.
    const expected = [["MANAGER", MANAGER]];
    eq(item.approvalIds, (item.approvalDetails || []).map((d) => d.approvalId), "approvalIds");
    eq((item.approvalDetails || []).map((d) => [d.scheme, d.status, d.currentOwner && d.currentOwner.id,
      d.currentOwner && d.currentOwner.name]),
    expected.map(([scheme, owner]) => [scheme, "PENDING", owner, this.names[owner]]), "approvalDetails");
  }

  checkRejected(item, statusEnum, itemId, comment) {
    eq(item.id, itemId, "approval item id");
    oneOf(item.approvalStatus, statusEnum, "approvalStatus");
    eq(item.approvalStatus, statusEnum.Rejected, "approvalStatus");
    eq(item.comment, comment, "comment");
    date(item.modified, "modified");
  }

  // ---- steps -----------------------------------------------------------------

  async stepTokens() {
    for (const cid of ["acme-employee", "acme-manager", "acme-admin", "acme-source-admin", "acme-api"]) {
      await this.config(cid);
    }
  }

  async stepTokenFromEnvironment() {
    // The SDK's documented set-up: `new Configuration()` reads SAIL_BASE_URL,
    // SAIL_CLIENT_ID and SAIL_CLIENT_SECRET.
    const saved = { ...process.env };
    Object.assign(process.env, {
      SAIL_BASE_URL: this.baseUrl,
      SAIL_CLIENT_ID: "acme-manager",
      SAIL_CLIENT_SECRET: this.secrets["acme-manager"],
    });
    let config;
    try {
      config = new sdk.Configuration();
    } finally {
      for (const k of ["SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET"]) {
        if (k in saved) process.env[k] = saved[k];
        else delete process.env[k];
      }
    }
    await this.expectToken(config, "acme-manager (SAIL_* environment)");
    const resp = await new sdk.AccessRequestsApi(config).listAccessRequestStatus({ requestedFor: "me" });
    eq(resp.status, 200, "status code with the environment's token");
  }

  async stepCreateEmployeeSelf() {
    const resp = await (await this.v3Requests("acme-employee")).createAccessRequest({
      accessRequest: {
        requestedFor: [EMPLOYEE],
        requestType: sdk.AccessRequestType.GrantAccess,
        requestedItems: [{
          type: sdk.AccessRequestItemTypeV3.AccessProfile,
          id: ENGINEERING_ACCESS,
          comment: "Needed for the build farm.",
          clientMetadata: { source: "sdk-flow-ts" },
        }],
      },
    });
    eq(resp.status, 202, "status code");
    jsonBody(resp, "create");
    const { newRequests, existingRequests } = resp.data;
    eq((newRequests || []).length, 1, "number of newRequests");
    eq((existingRequests || []).length, 0, "number of existingRequests");
    const tracking = newRequests[0];
    eq(tracking.requestedFor, EMPLOYEE, "newRequests[0].requestedFor");
    eq((tracking.requestedItemsDetails || []).map((d) => [d.type, d.id]), [["ACCESS_PROFILE", ENGINEERING_ACCESS]],
      "newRequests[0].requestedItemsDetails");
    eq((tracking.accessRequestIds || []).length, 1, "number of accessRequestIds");
    check(typeof tracking.accessRequestIds[0] === "string" && tracking.accessRequestIds[0],
      `bad access request id ${JSON.stringify(tracking.accessRequestIds[0])}`);
    this.employeeRequestId = tracking.accessRequestIds[0];
  }

  async stepCreateDuplicate() {
    // Same identity and item while the first is pending, no requestType (GRANT by default).
    const resp = await (await this.v3Requests("acme-employee")).createAccessRequest({
      accessRequest: {
        requestedFor: [EMPLOYEE],
        requestedItems: [{ type: "ACCESS_PROFILE", id: ENGINEERING_ACCESS }],
      },
    });
    eq(resp.status, 202, "status code");
    eq((resp.data.newRequests || []).length, 0, "number of newRequests");
    eq((resp.data.existingRequests || []).length, 1, "number of existingRequests");
    const tracking = resp.data.existingRequests[0];
    eq(tracking.requestedFor, EMPLOYEE, "existingRequests[0].requestedFor");
    eq(tracking.accessRequestIds, [this.employeeRequestId], "existingRequests[0].accessRequestIds");
  }

  async stepCreateManagerForReport() {
    const resp = await (await this.v3Requests("acme-manager")).createAccessRequest({
      accessRequest: {
        requestedFor: [REPORT],
        requestType: "GRANT_ACCESS",
        requestedItems: [{ type: "ROLE", id: AUDITOR_ROLE, comment: "Joins the audit rotation." }],
      },
    });
    eq(resp.status, 202, "status code");
    eq((resp.data.newRequests || []).length, 1, "number of newRequests");
    const tracking = resp.data.newRequests[0];
    eq(tracking.requestedFor, REPORT, "newRequests[0].requestedFor");
    eq((tracking.accessRequestIds || []).length, 1, "number of accessRequestIds");
    check(tracking.accessRequestIds[0] !== this.employeeRequestId, "the manager's request reuses the employee's id");
    this.managerRequestId = tracking.accessRequestIds[0];
  }

  async stepAdminListsAndPages() {
    const api = await this.v3Requests("acme-admin");
    const full = await api.listAccessRequestStatus({ count: true, sorters: "-created" });
    eq(full.status, 200, "status code");
    const everything = full.data;
    const count = total(full, "unpaged listing");
    eq(count, everything.length, "X-Total-Count of the unpaged listing");
    check(count >= 2, `the tenant listing has ${count} items`);
    for (const item of everything) {
      this.checkItemEnums(item, V3_ENUMS);
    }
    const created = everything.map((i) => date(i.created, "created"));
    check(created.every((t, i) => i === 0 || created[i - 1] >= t), "items not sorted by -created");
    // The SDK's own Paginator, two items a page (it logs each page on console.log).
    const pages = await this.quietly(() => sdk.Paginator.paginate(api, api.listAccessRequestStatus,
      { count: true, sorters: "-created" }, 2));
    eq(pages.data.map((i) => i.accountActivityItemId), everything.map((i) => i.accountActivityItemId),
      "the Paginator's pages concatenated");
    eq(total(pages, "last page"), count, "X-Total-Count of the last page");
    const ids = [this.employeeRequestId, this.managerRequestId];
    const filters = `accessRequestId in ("${ids[0]}","${ids[1]}")`;
    const both = await api.listAccessRequestStatus({ count: true, filters, sorters: "-created" });
    eq(total(both, "filtered listing"), 2, "X-Total-Count of the filtered listing");
    const expected = everything.map((i) => i.accessRequestId).filter((id) => ids.includes(id));
    eq(both.data.map((i) => i.accessRequestId), expected, "filtered ids in listing order");
    eq([...expected].sort(), [...ids].sort(), "filtered ids");
  }

  async stepStatusV3() {
    const item = await this.status(await this.v3Requests("acme-employee"), this.employeeRequestId);
    this.checkPendingItem(item, V3_ENUMS, this.employeeRequestId);
  }

  async stepStatusBeta() {
    const item = await this.status(await this.betaRequests("acme-employee"), this.employeeRequestId);
    this.checkPendingItem(item, BETA_ENUMS, this.employeeRequestId);
  }

  async stepCancel() {
    const resp = await (await this.v3Requests("acme-employee")).cancelAccessRequest({
      cancelAccessRequest: { accountActivityId: this.employeeRequestId, comment: CANCEL_COMMENT },
    });
    eq(resp.status, 202, "status code");
  }

  async stepStatusAfterCancel() {
    const item = await this.status(await this.v3Requests("acme-employee"), this.employeeRequestId);
    this.checkItemEnums(item, V3_ENUMS);
    eq(item.state, sdk.RequestedItemStatusRequestState.Cancelled, "state");
    eq(item.cancelable, false, "cancelable");
    const crd = item.cancelledRequestDetails;
    check(crd, "cancelledRequestDetails missing");
    eq(crd.comment, CANCEL_COMMENT, "cancelledRequestDetails.comment");
    eq(crd.owner && crd.owner.id, EMPLOYEE, "cancelledRequestDetails.owner.id");
    date(crd.modified, "cancelledRequestDetails.modified");
    for (const d of item.approvalDetails || []) {
      check(d.status !== "PENDING", `approval ${d.scheme} still PENDING after cancel`);
    }
  }

  async stepClose() {
    const resp = await (await this.betaRequests("acme-admin")).closeAccessRequest({
      closeAccessRequestBeta: { accessRequestIds: [this.managerRequestId] },
    });
    eq(resp.status, 202, "status code");
  }

  async stepStatusAfterClose() {
    const item = await this.status(await this.v3Requests("acme-admin"), this.managerRequestId, REPORT);
    this.checkItemEnums(item, V3_ENUMS);
    eq(item.state, sdk.RequestedItemStatusRequestState.Terminated, "state");
    eq(item.cancelable, false, "cancelable");
    eq([item.id, item.type], [AUDITOR_ROLE, "ROLE"], "item");
    eq(item.requestedFor && item.requestedFor.id, REPORT, "requestedFor.id");
    eq(item.requester && item.requester.id, MANAGER, "requester.id");
  }

  async stepRejectV3() {
    const api = new sdk.NonEmployeeLifecycleManagementApi(await this.config("acme-manager"));
    const resp = await api.rejectNonEmployeeRequest({
      id: NE_ITEM_MANAGER,
      nonEmployeeRejectApprovalDecision: { comment: REJECT_COMMENT_V3 },
    });
    eq(resp.status, 200, "status code");
    jsonBody(resp, "reject");
    this.checkRejected(resp.data, sdk.ApprovalStatus, NE_ITEM_MANAGER, REJECT_COMMENT_V3);
  }

  async stepRejectBeta() {
    const api = new sdk.NonEmployeeLifecycleManagementBetaApi(await this.config("acme-source-admin"));
    const resp = await api.rejectNonEmployeeRequest({
      id: NE_ITEM_GROUP,
      nonEmployeeRejectApprovalDecisionBeta: { comment: REJECT_COMMENT_BETA },
    });
    eq(resp.status, 200, "status code");
    this.checkRejected(resp.data, sdk.ApprovalStatusBeta, NE_ITEM_GROUP, REJECT_COMMENT_BETA);
  }

  async stepRejectAgainConflicts() {
    const api = new sdk.NonEmployeeLifecycleManagementApi(await this.config("acme-manager"));
    await this.expectApiError(400, () => api.rejectNonEmployeeRequest({
      id: NE_ITEM_MANAGER,
      nonEmployeeRejectApprovalDecision: { comment: "Once more." },
    }), "400.1 Bad Request Content");
  }

  async stepApiOnlyCreateForbidden() {
    const api = await this.v3Requests("acme-api");
    await this.expectApiError(403, () => api.createAccessRequest({
      accessRequest: { requestedFor: [EMPLOYEE], requestedItems: [{ type: "ACCESS_PROFILE", id: ENGINEERING_ACCESS }] },
    }), "403 Forbidden");
  }

  async stepStatusOtherForbidden() {
    const api = await this.v3Requests("acme-employee");
    await this.expectApiError(403, () => api.listAccessRequestStatus({ requestedFor: REPORT, limit: 10, offset: 0 }),
      "403 Forbidden");
  }

  async stepCancelUnknownNotFound() {
    const api = await this.v3Requests("acme-employee");
    const unknown = crypto.randomBytes(16).toString("hex");
    await this.expectApiError(404, () => api.cancelAccessRequest({
      cancelAccessRequest: { accountActivityId: unknown, comment: "Cancel please." },
    }), "404 Not found");
  }

  async stepBadFilter() {
    const api = await this.v3Requests("acme-employee");
    const body = await this.expectApiError(400, () => api.listAccessRequestStatus({
      requestedFor: "me", filters: 'name eq "Engineering Access"',
    }), "400.1 Bad Request Content");
    check(Array.isArray(body.causes) && body.causes.length > 0, `causes empty: ${JSON.stringify(body)}`);
  }

  /** Runs `fn` with console.log held back (the Paginator logs every page). */
  async quietly(fn) {
    const log = console.log;
    console.log = () => {};
    try {
      return await fn();
    } finally {
      console.log = log;
    }
  }

  async run() {
    const steps = [
      ["tokens (SDK client-credentials fetch)", this.stepTokens],
      ["token from SAIL_* environment", this.stepTokenFromEnvironment],
      ["create v3 employee self", this.stepCreateEmployeeSelf],
      ["create v3 duplicate -> existingRequests", this.stepCreateDuplicate],
      ["create v3 manager for report", this.stepCreateManagerForReport],
      ["status v3 admin lists, counts, sorts and pages (Paginator)", this.stepAdminListsAndPages],
      ["status v3 employee with count", this.stepStatusV3],
      ["status beta employee with count", this.stepStatusBeta],
      ["cancel v3 employee", this.stepCancel],
      ["status v3 after cancel", this.stepStatusAfterCancel],
      ["close beta admin", this.stepClose],
      ["status v3 admin after close", this.stepStatusAfterClose],
      ["reject v3 manager", this.stepRejectV3],
      ["reject beta source-admin", this.stepRejectBeta],
      ["reject v3 again -> 400", this.stepRejectAgainConflicts],
      ["create v3 api-only client -> 403", this.stepApiOnlyCreateForbidden],
      ["status v3 employee for another -> 403", this.stepStatusOtherForbidden],
      ["cancel v3 unknown id -> 404", this.stepCancelUnknownNotFound],
      ["status v3 bad filter -> 400", this.stepBadFilter],
    ];
    const write = { error: console.error, warn: console.warn };
    for (const [name, fn] of steps) {
      const printed = [];
      console.error = (...args) => printed.push(util.format(...args));
      console.warn = console.error;
      try {
        await fn.call(this);
        check(printed.length === 0, `the SDK printed: ${printed.join(" | ")}`);
      } catch (e) {
        Object.assign(console, write);
        const detail = e instanceof StepFailed ? e.message
          : `${e.name}: ${e.message}${e.response ? ` (HTTP ${e.response.status} ${JSON.stringify(e.response.data)})` : ""}`;
        console.log(`FAIL ${name}: ${detail}`);
        if (!(e instanceof StepFailed) && !e.response) console.log(e.stack);
        if (printed.length) console.log(`the SDK printed: ${printed.join(" | ")}`);
        console.log(`sdk_flow_ts: ${this.passed} passed, 1 failed`);
        return 1;
      } finally {
        Object.assign(console, write);
      }
      this.passed += 1;
      console.log(`ok ${name}`);
    }
    console.log(`sdk_flow_ts: ${this.passed} passed, 0 failed`);
    return 0;
  }
}

const V3_ENUMS = {
  state: sdk.RequestedItemStatusRequestState,
  type: sdk.RequestedItemStatusTypeV3,
  requestType: sdk.AccessRequestType,
  approvalState: sdk.ManualWorkItemState,
  scheme: sdk.ApprovalScheme,
};
const BETA_ENUMS = {
  state: sdk.RequestedItemStatusRequestStateBeta,
  type: sdk.RequestedItemStatusBetaTypeBeta,
  requestType: sdk.AccessRequestTypeBeta,
  approvalState: sdk.ManualWorkItemStateBeta,
  scheme: sdk.ApprovalSchemeBeta,
};

function parseArgs(argv) {
  const args = { seed: path.join(__dirname, "..", "..", "seed", "demo.json") };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === "--base-url") args.baseUrl = argv[++i];
    else if (argv[i] === "--seed") args.seed = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!args.baseUrl) throw new Error("usage: sdk_flow.js --base-url URL [--seed FILE]");
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  for (const [models, enums] of [["v3", V3_ENUMS], ["beta", BETA_ENUMS]]) {
    for (const [name, value] of Object.entries(enums)) {
      if (!value) throw new Error(`the SDK has no ${models} enum for ${name}`);
    }
  }
  const seed = JSON.parse(fs.readFileSync(args.seed, "utf8"));
  return new Flow(args.baseUrl, seed).run();
}

main().then((code) => { process.exitCode = code; }, (e) => {
  console.error(e.stack || String(e));
  process.exitCode = 2;
});
