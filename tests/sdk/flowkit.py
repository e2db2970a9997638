"""What the official Python SDK flows share: strict warnings, the checks, the
SDK's clients per OAuth client, the step runner and the command line.

Importing it turns every Python warning into an error and records every log
record of level WARNING or above: the SDK logs (and pydantic warns) when a
response does not match its models, which must fail a flow. A flow module
imports it before `sailpoint`.

Every raw HTTP response the SDK's clients receive is also validated against
the official OpenAPI fragment of its operation (tests/spec/openapi_check.py),
errors included: the SDK tolerates a `null` the schema does not allow, and
schema-checking or generated clients in other languages do not. A violation
fails its step.
"""

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import traceback
import urllib.parse
import urllib.request
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "spec"))
from openapi_check import SdkResponseCheck  # noqa: E402

warnings.simplefilter("error")


class _RecordWarnings(logging.Handler):
    """Collects every log record of level WARNING or above."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


LOG_WARNINGS = _RecordWarnings()
logging.getLogger().addHandler(LOG_WARNINGS)
logging.getLogger().setLevel(logging.WARNING)


import sailpoint.beta as beta  # noqa: E402
import sailpoint.v3 as v3  # noqa: E402
from sailpoint.configuration import Configuration, ConfigurationParams  # noqa: E402

ACME = "acme"


class StepFailed(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise StepFailed(msg)


def eq(actual, expected, what):
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def header(headers, name):
    """A header of an ApiResponse/ApiException, by its exact name, as the SDK's
    users read it: `ApiResponse.headers` is a plain, case-sensitive dict."""
    if not headers:
        return None
    return dict(headers).get(name)


def total_count(resp):
    """The X-Total-Count header, by its exact name, as an int."""
    value = header(resp.headers, "X-Total-Count")
    check(value is not None, f"no X-Total-Count header in {dict(resp.headers or {})!r}")
    return int(value)


class SdkFlow:
    """A flow of steps through the SDK for the seed's `acme` tenant. A
    subclass names itself (`NAME`) and lists its `STEPS` as (name, function)."""

    NAME = "flow"
    STEPS = []

    def __init__(self, base_url, seed, token_url=None):
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self.tenant = next((t for t in seed["tenants"] if t.get("name") == ACME), None)
        if self.tenant is None:
            raise SystemExit(f"seed has no tenant named {ACME!r}")
        self.names = {i["id"]: i["name"] for i in self.tenant["identities"]}
        self.secrets = {c["clientId"]: c["clientSecret"] for c in self.tenant["oauthClients"]}
        self._clients = {}
        self.passed = 0
        self.spec_check = SdkResponseCheck(self.base_url)

    def fetch_token(self, client_id):
        """A token from the token URL by the client-credentials grant, as the SDK asks for one."""
        form = urllib.parse.urlencode({
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": self.secrets[client_id],
        }).encode()
        with urllib.request.urlopen(urllib.request.Request(self.token_url, data=form), timeout=30) as r:
            eq(r.status, 200, f"token endpoint status for {client_id}")
            return json.load(r)["access_token"]

    def clients(self, client_id):
        """(v3.ApiClient, beta.ApiClient) for one OAuth client; its token fetched
        by the SDK (or from the token URL, when one is given)."""
        if client_id not in self._clients:
            params = ConfigurationParams()
            params.base_url = self.base_url
            params.client_id = client_id
            params.client_secret = self.secrets[client_id]
            if self.token_url:
                params.access_token = self.fetch_token(client_id)
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                config = Configuration(params)
            check(printed.getvalue() == "",
                  f"SDK printed while fetching the token of {client_id}: {printed.getvalue().strip()}")
            check(isinstance(config.access_token, str) and config.access_token,
                  f"SDK obtained no access token for {client_id}")
            pair = (v3.ApiClient(config), beta.ApiClient(config))
            for api_client in pair:
                self.spec_check.watch(api_client)
            self._clients[client_id] = pair
        return self._clients[client_id]

    def expect_api_error(self, status, call, detail_code=None, documented=True):
        """Runs `call`, which must raise ApiException (v3 or beta) with `status`
        and a whole SailPoint error body (trackingId, messages, causes).
        `documented=False`: the fragment lists no such response for the
        operation, so the SDK leaves the body undeserialized (it is still an
        ErrorResponseDto)."""
        try:
            call()
        except (v3.ApiException, beta.ApiException) as e:
            eq(e.status, status, "HTTP status of the ApiException")
            try:
                body = json.loads(e.body) if e.body else None
            except ValueError:
                raise StepFailed(f"error body is not JSON: {e.body!r}")
            check(isinstance(body, dict), f"error body is not an object: {e.body!r}")
            if not documented:
                e.data = v3.ErrorResponseDto.from_dict(body)
            check(isinstance(e.data, (v3.ErrorResponseDto, beta.ErrorResponseDto)),
                  f"error body did not deserialize into ErrorResponseDto: {e.data!r}")
            if detail_code is not None:
                eq(e.data.detail_code, detail_code, "detailCode")
            check(isinstance(e.data.tracking_id, str) and e.data.tracking_id,
                  f"trackingId missing: {e.body}")
            check(e.data.messages, f"messages empty: {e.body}")
            check(e.data.causes, f"causes empty: {e.body}")
            return e
        raise StepFailed(f"expected ApiException {status}, the call succeeded")

    def run(self):
        """Runs the steps in order; the first failure ends the flow. Prints
        `ok <step>` per step and `<NAME>: N passed, F failed`; 0 or 1."""
        spec_check = self.spec_check
        for name, fn in self.STEPS:
            LOG_WARNINGS.records.clear()
            spec_check.violations.clear()
            try:
                fn(self)
                if LOG_WARNINGS.records:
                    raise StepFailed("logged warnings: " + "; ".join(
                        f"{r.name}: {r.getMessage()}" for r in LOG_WARNINGS.records))
                if spec_check.violations:
                    raise StepFailed(f"{len(spec_check.violations)} responses differ from "
                                     "the official schemas")
            except Exception as e:  # noqa: BLE001 - any failure ends the flow
                print(f"FAIL {name}: {type(e).__name__}: {e}")
                if not isinstance(e, StepFailed):
                    traceback.print_exc(file=sys.stdout)
                for v in spec_check.violations:
                    print(f"  VIOLATION {v}")
                print(f"{self.NAME}: {self.passed} passed, 1 failed")
                return 1
            self.passed += 1
            print(f"ok {name}")
        print(f"{self.NAME}: {spec_check.responses} responses of {len(spec_check.operations)} "
              "operations (v3 and beta) conform to the official fragments")
        print(f"{self.NAME}: {self.passed} passed, 0 failed")
        return 0


def main(flow_class, doc):
    """The command line every flow takes; runs `flow_class` and returns its exit status."""
    here = os.path.dirname(os.path.abspath(__file__))
    default_seed = os.path.normpath(os.path.join(here, "..", "..", "seed", "demo.json"))
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:3000 (no /v3 suffix)")
    ap.add_argument("--seed", default=default_seed, help="seed file the server was started with")
    ap.add_argument("--token-url", help="client-credentials endpoint to fetch the tokens from "
                    "(default: the SDK fetches them from <base-url>/oauth/token)")
    args = ap.parse_args()
    with open(args.seed, encoding="utf-8") as f:
        seed = json.load(f)
    return flow_class(args.base_url, seed, args.token_url).run()
