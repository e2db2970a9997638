"""Responses checked against the official OpenAPI fragments (`openapi/`).

Every operation of the API, for `v3` and `beta`, is looked up by method and
path in the fragments, and a response is validated against the schema its
operation documents for the response's status code, with
openapi-schema-validator's OpenAPI 3.0 validator (the one openapi-core uses),
formats included. That validator takes `nullable` as OpenAPI 3.0.3 defines
it: `null` is valid only where a schema with a `type` says `nullable: true`.
A fragment's `allOf: [$ref, {nullable: true}]` therefore does not admit
`null` (the referenced schema's `type` still applies), so the API leaves such
a field out when it has no value, which every reading of the schema accepts.

A status the operation does not document (e.g. a 404 of a list, or a 400 of
beta's approval lists) must still be a SailPoint error: its body is checked
against the fragment's `ErrorResponseDto`.

    from openapi_check import Spec
    spec = Spec()
    problems = spec.check("GET", "/v3/access-request-status", 200, body)

Used by tests/spec/check_fixtures.py (the expected bodies under events/),
tests/sdk/flowkit.py (every response of the SDK flows) and
tests/spec/schemathesis_run.py (the merged documents it fuzzes).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

ROOT = Path(__file__).resolve().parents[2]
FRAGMENTS = ROOT / "openapi"
VERSIONS = ("v3", "beta")
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
# The body of an undocumented error status.
ERROR_SCHEMA_REF = "#/components/schemas/ErrorResponseDto"


def resolve(document: dict, node):
    """`node` with a local `$ref` followed (`#/components/responses/400`)."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported: {ref}")
        node = document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def unnamed(template: str) -> str:
    """`template` with its parameters' names left out: `/a/{}/b`."""
    return re.sub(r"\{[^}]+\}", "{}", template)


@dataclass
class Operation:
    """One operation of one fragment, under one version prefix."""

    version: str
    method: str  # upper case
    template: str  # path after the version prefix, with `{name}` parameters
    operation_id: str
    fragment: str  # file name under openapi/
    document: dict = field(repr=False)
    pattern: re.Pattern = field(repr=False, default=None)

    def __post_init__(self):
        parts = re.split(r"(\{[^}]+\})", self.template)
        regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        self.pattern = re.compile(f"^/{re.escape(self.version)}{regex}$")

    @property
    def raw(self) -> dict:
        return self.document["paths"][self.template][self.method.lower()]

    @property
    def literal_segments(self) -> int:
        """How specific the template is: `/summary/{x}` wins over `/{id}`."""
        return sum(1 for p in self.template.split("/") if p and not p.startswith("{"))

    def documented_statuses(self) -> list[str]:
        return sorted(self.raw.get("responses", {}))

    def response(self, status: int):
        """(documented, response object or None) for `status`."""
        responses = self.raw.get("responses", {})
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                return True, resolve(self.document, responses[key])
        return False, None


class Spec:
    """The operations of every fragment under `directory`."""

    def __init__(self, directory: Path = FRAGMENTS):
        self.directory = Path(directory)
        self.operations: list[Operation] = []
        self._validators: dict[tuple[str, str], OAS30Validator] = {}
        for path in sorted(self.directory.glob("*.yaml")):
            version = path.name.split("-", 1)[0]
            if version not in VERSIONS:
                raise ValueError(f"{path.name}: a fragment's name starts with v3- or beta-")
            with path.open(encoding="utf-8") as f:
                document = yaml.safe_load(f)
            for template, item in document.get("paths", {}).items():
                for method in HTTP_METHODS:
                    if method in item:
                        self.operations.append(Operation(
                            version, method.upper(), template, item[method]["operationId"],
                            path.name, document))
        seen = {}
        for op in self.operations:
            key = (op.version, op.method, op.template)
            if key in seen:
                raise ValueError(f"{key} is in both {seen[key]} and {op.fragment}")
            seen[key] = op.fragment
        # Most specific template first, so a literal segment beats a parameter.
        self.operations.sort(key=lambda o: -o.literal_segments)

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation serving `method` `path` (`/v3/...` or `/beta/...`, no query)."""
        for op in self.operations:
            if op.method == method.upper() and op.pattern.match(path):
                return op
        return None

    def find(self, version: str, method: str, template: str) -> Operation | None:
        """The operation of `template`, whatever its parameters are named."""
        key = (version, method.upper(), unnamed(template))
        for op in self.operations:
            if (op.version, op.method, unnamed(op.template)) == key:
                return op
        return None

    def _validator(self, op: Operation, schema: dict, pointer: str) -> OAS30Validator:
        key = (op.fragment, pointer)
        if key not in self._validators:
            # The schema's `#/components/...` references resolve against its
            # fragment: the fragment's components sit beside it at the root.
            root = dict(schema)
            root["components"] = op.document.get("components", {})
            OAS30Validator.check_schema(root)
            self._validators[key] = OAS30Validator(root, format_checker=oas30_format_checker)
        return self._validators[key]

    def check(self, method: str, path: str, status: int, body, *,
              content_type: str | None = None, has_body: bool | None = None) -> list[str]:
        """How the response `status` `body` (parsed JSON; None for none) of
        `method` `path` differs from the fragments; [] when it conforms.
        `has_body` tells an empty body from a JSON `null` (default: body is not None)."""
        if has_body is None:
            has_body = body is not None
        where = f"{method.upper()} {path} -> {status}"
        op = self.operation(method, path)
        if op is None:
            return [f"{where}: no operation in the fragments serves this path"]
        documented, response = op.response(status)
        if not documented:
            if status < 400:
                return [f"{where}: {op.operation_id} ({op.fragment}) documents no {status}; "
                        f"it documents {', '.join(op.documented_statuses())}"]
            # An undocumented error status is a SailPoint error all the same.
            response = {"content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}}
            pointer = f"undocumented {status}"
        else:
            pointer = f"{op.template} {op.method} {status}"
        content = response.get("content") or {}
        if not content:
            if has_body:
                return [f"{where}: {op.operation_id} documents no body for {status}, "
                        f"got {str(body)[:200]}"]
            return []
        if "application/json" not in content:
            raise ValueError(f"{op.fragment}: {op.operation_id} {status} is not application/json")
        problems = []
        if content_type is not None and content_type.split(";")[0].strip() != "application/json":
            problems.append(f"{where}: Content-Type {content_type!r}, "
                            "the fragment documents application/json")
        if not has_body:
            return problems + [f"{where}: no body, {op.operation_id} documents one"]
        schema = content["application/json"].get("schema")
        if schema is None:
            return problems
        validator = self._validator(op, schema, pointer)
        for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
            location = "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                               for p in error.absolute_path) or "(body)"
            problems.append(
                f"{where}: {op.operation_id} ({op.fragment}) {location}: {error.message}")
        return problems


class SdkResponseCheck:
    """Validates each raw response of an official SDK's `ApiClient` (v3 or
    beta, generated by openapi-generator: `call_api` returns the raw
    `RESTResponse`) against the fragment of its operation; keeps the
    violations (the caller clears them), the number of responses and the
    operations seen."""

    def __init__(self, base_url: str, spec: Spec | None = None):
        self.spec = spec or Spec()
        self.base_path = urllib.parse.urlsplit(base_url).path.rstrip("/")
        self.violations = []
        self.responses = 0
        self.operations = set()

    def watch(self, api_client):
        """Makes `api_client` (v3 or beta) hand every response to `check`."""
        call_api = api_client.call_api

        def checked_call_api(method, url, *args, **kwargs):
            response = call_api(method, url, *args, **kwargs)
            self.check(method, url, response)
            return response

        api_client.call_api = checked_call_api

    def check(self, method, url, response):
        path = urllib.parse.urlsplit(url).path
        if self.base_path and path.startswith(self.base_path):
            path = path[len(self.base_path):]
        raw = response.read() or b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self.violations.append(f"{method} {path} -> {response.status}: body is not JSON: "
                                   f"{raw[:200]!r}")
            return
        self.responses += 1
        op = self.spec.operation(method, path)
        if op is not None:
            self.operations.add((op.version, op.operation_id))
        self.violations += self.spec.check(
            method, path, response.status, body, has_body=bool(raw),
            content_type=response.getheader("Content-Type") if raw else None)
