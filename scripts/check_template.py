#!/usr/bin/env python3
"""Structural checks of template.yaml against the project's own definitions.

  python3 scripts/check_template.py [--template PATH] [--table-definition PATH]

Checks, each counted as one pass or failure:
  (a) the DynamoDB table resource has exactly the AttributeDefinitions, KeySchema,
      GlobalSecondaryIndexes and BillingMode of shared/src/store/table-definition.json
      (the definition the Rust code creates local tables from); lists compare
      order-insensitively;
  (b) the functions and routes are exactly those of the route table (routes.toml):
      every route (method, path) under each of its versions exists under its function,
      on the one REST API, and there is no other route or function; each function
      builds its own cargo binary;
  (c) every function's environment (Globals merged with its own) has TABLE_NAME
      referencing the table, plus the other variables the code reads;
  (d) every function's IAM policy grants exactly the DynamoDB actions of its row
      in routes.toml (`dynamodb_actions`), on exactly the table and the indexes of
      the row (`dynamodb_indexes`), and nothing else; the row's actions are IAM
      actions (there is no TransactWriteItems action: IAM authorizes a
      transaction's items as PutItem, DeleteItem, UpdateItem, ConditionCheckItem);
  (e) every function logs to a log group of its own (LoggingConfig.LogGroup),
      kept LogRetentionDays (a parameter, default 30), and answers within API
      Gateway's 29 s integration limit (Timeout below 29);
  (f) the table has deletion protection;
  plus the gateway responses: each template, once API Gateway has substituted its
  $context variables, is JSON of the shape SailPoint clients parse.

Needs Python 3.11 and PyYAML only. Exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

from routes import logical_id, routes

ROOT = Path(__file__).resolve().parent.parent

# API Gateway ends a REST integration after 29 s; a function must answer before.
GATEWAY_TIMEOUT_SECONDS = 29
LOG_RETENTION_DEFAULT_DAYS = 30

# The DynamoDB IAM actions a row of routes.toml may name: those the item API's
# calls are authorized by.
DYNAMODB_ITEM_ACTIONS = {
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "PutItem",
    "DeleteItem",
    "UpdateItem",
    "ConditionCheckItem",
    "BatchWriteItem",
}


def expected_grants() -> dict[str, tuple[list[str], list[str]]]:
    """logical id -> (DynamoDB actions, indexes) of its row in routes.toml."""
    return {
        logical_id(r["function"]): (r["dynamodb_actions"], r["dynamodb_indexes"]) for r in routes()
    }


def expected_functions() -> dict[str, tuple[str, set[tuple[str, str]]]]:
    """logical id -> (cargo binary = folder under functions/, {(METHOD, path)}), from
    the route table routes.toml: every route under each of its versions."""
    return {
        logical_id(r["function"]): (
            r["function"],
            {(r["method"], f"/{v}{r['path']}") for v in r["versions"]},
        )
        for r in routes()
    }


EXPECTED_FUNCTIONS = expected_functions()
EXPECTED_GRANTS = expected_grants()

# Table properties that define the schema; the template may hold these only as the
# JSON says (TableName, encryption, PITR and the like are the template's own business).
SCHEMA_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
    "TimeToLiveSpecification",
)

# Environment variables every function must have: name -> expected value, where a
# string is a literal and ("Ref", X) a reference to parameter or resource X.
def expected_env(table_id: str) -> dict:
    return {
        "TABLE_NAME": ("Ref", table_id),
        "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH": "true",
        "JWT_HS256_SECRET": ("Ref", "JwtHs256Secret"),
        "JWT_PUBLIC_KEY_PEM": ("Ref", "JwtPublicKeyPem"),
        "JWT_JWKS": ("Ref", "JwtJwks"),
        "JWT_ISSUER": ("Ref", "JwtIssuer"),
        "JWT_AUDIENCE": ("Ref", "JwtAudience"),
        "RUST_LOG": "info",
    }


# --------------------------------------------------------------------------- YAML


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags into their long form."""


def _construct_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {"Fn::" + tag_suffix: value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass


# --------------------------------------------------------------------------- checks


class Checker:
    def __init__(self, quiet: bool = False) -> None:
        self.passed = 0
        self.failed = 0
        self.failures: list[str] = []
        self.quiet = quiet

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(what)
            if not self.quiet:
                print(f"FAIL: {what}" + (f"\n      {detail}" if detail else ""), file=sys.stderr)
        return ok


def canonical(value):
    """A hashable form in which lists compare as multisets and dicts by content."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, canonical(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("list", tuple(sorted((canonical(v) for v in value), key=repr)))
    return ("scalar", repr(value))


def is_ref(value, target: str) -> bool:
    return isinstance(value, dict) and value == {"Ref": target}


def references_table(value, table_id: str) -> bool:
    """True if an IAM Resource entry is the table's ARN or an ARN under it."""
    if value == {"Fn::GetAtt": [table_id, "Arn"]}:
        return True
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text = sub if isinstance(sub, str) else sub[0]
        return text.startswith("${" + table_id + ".Arn}")
    return False


def check_table(c: Checker, resources: dict, definition: dict) -> str | None:
    tables = [k for k, v in resources.items() if v.get("Type") == "AWS::DynamoDB::Table"]
    if not c.check(len(tables) == 1, "exactly one AWS::DynamoDB::Table", f"found {tables}"):
        return tables[0] if tables else None
    table_id = tables[0]
    props = resources[table_id].get("Properties", {})
    for key in SCHEMA_KEYS:
        want = definition.get(key)
        got = props.get(key)
        if want is None and got is None:
            continue
        if key == "GlobalSecondaryIndexes" and want is not None and got is not None:
            want_by_name = {g["IndexName"]: g for g in want}
            got_by_name = {g.get("IndexName"): g for g in got}
            c.check(
                sorted(want_by_name) == sorted(got_by_name) and len(got) == len(got_by_name),
                f"{table_id}.GlobalSecondaryIndexes names",
                f"template {sorted(map(str, got_by_name))}, definition {sorted(want_by_name)}",
            )
            for name in sorted(want_by_name):
                g_want, g_got = want_by_name[name], got_by_name.get(name, {})
                for part in sorted(set(g_want) | set(g_got)):
                    c.check(
                        canonical(g_want.get(part)) == canonical(g_got.get(part)),
                        f"{table_id} index {name} {part}",
                        f"template {json.dumps(g_got.get(part))}\n      "
                        f"definition {json.dumps(g_want.get(part))}",
                    )
            continue
        c.check(
            canonical(want) == canonical(got),
            f"{table_id}.{key} equals table-definition.json",
            f"template {json.dumps(got)}\n      definition {json.dumps(want)}",
        )
    unknown = sorted(set(definition) - set(SCHEMA_KEYS) - {"TableName"})
    c.check(not unknown, "table-definition.json has only keys this check knows", f"unchecked: {unknown}")
    # (f)
    c.check(
        props.get("DeletionProtectionEnabled") is True,
        f"{table_id} has DeletionProtectionEnabled: true",
        f"DeletionProtectionEnabled {props.get('DeletionProtectionEnabled')!r}",
    )
    return table_id


def check_functions(c: Checker, template: dict, table_id: str | None) -> None:
    resources = template["Resources"]
    apis = [k for k, v in resources.items() if v.get("Type") == "AWS::Serverless::Api"]
    c.check(len(apis) == 1, "exactly one AWS::Serverless::Api", f"found {apis}")
    api_id = apis[0] if apis else None
    c.check(
        not [k for k, v in resources.items() if v.get("Type") == "AWS::Serverless::HttpApi"],
        "no AWS::Serverless::HttpApi (the routes live on the REST API)",
    )

    functions = sorted(k for k, v in resources.items() if v.get("Type") == "AWS::Serverless::Function")
    c.check(
        functions == sorted(EXPECTED_FUNCTIONS),
        "functions are exactly the routes of routes.toml",
        f"missing {sorted(set(EXPECTED_FUNCTIONS) - set(functions))}, "
        f"unexpected {sorted(set(functions) - set(EXPECTED_FUNCTIONS))}",
    )

    global_fn = (template.get("Globals") or {}).get("Function") or {}
    global_env = ((global_fn.get("Environment") or {}).get("Variables")) or {}
    seen_routes: dict = {}
    log_groups_used: dict[str, str] = {}

    for fid in functions:
        res = resources[fid]
        props = res.get("Properties") or {}
        binary, want_routes = EXPECTED_FUNCTIONS.get(fid, (None, set()))

        # (b) routes
        got_routes = set()
        for name, event in (props.get("Events") or {}).items():
            ep = event.get("Properties") or {}
            ok = c.check(
                event.get("Type") == "Api",
                f"{fid} event {name} is a REST API (Type: Api) event",
                f"Type is {event.get('Type')!r}",
            )
            if not ok:
                continue
            c.check(
                api_id is not None and is_ref(ep.get("RestApiId"), api_id),
                f"{fid} event {name} is on {api_id}",
                f"RestApiId is {ep.get('RestApiId')!r}",
            )
            route = (str(ep.get("Method", "")).upper(), ep.get("Path"))
            c.check(route not in got_routes, f"{fid} route {route} listed once")
            got_routes.add(route)
            c.check(
                route not in seen_routes,
                f"route {route} served by one function only",
                f"also under {seen_routes.get(route)}",
            )
            seen_routes.setdefault(route, fid)
        if fid in EXPECTED_FUNCTIONS:
            for route in sorted(want_routes):
                c.check(route in got_routes, f"{fid} serves {route[0]} {route[1]}")
            for route in sorted(got_routes - want_routes):
                c.check(False, f"{fid} has no route beyond the spec", f"unexpected {route[0]} {route[1]}")

        # build: one cargo-lambda build of the workspace, one binary per function
        meta = res.get("Metadata") or {}
        c.check(
            meta.get("BuildMethod") == "rust-cargolambda"
            and (meta.get("BuildProperties") or {}).get("Binary") == binary
            and props.get("CodeUri", global_fn.get("CodeUri")) == ".",
            f"{fid} builds binary {binary} with rust-cargolambda from CodeUri '.'",
            f"Metadata {json.dumps(meta)}, CodeUri {props.get('CodeUri')!r}",
        )
        if binary:
            manifest = ROOT / "functions" / binary / "Cargo.toml"
            text = manifest.read_text(encoding="utf-8") if manifest.exists() else ""
            m = re.search(r'(?ms)^\[package\].*?^name\s*=\s*"([^"]+)"', text)
            c.check(
                bool(m) and m.group(1) == binary,
                f"functions/{binary}/Cargo.toml declares package {binary}",
                f"found {m.group(1) if m else 'no manifest or no [package] name'}",
            )

        # (c) environment: Globals merged with the function's own
        env = dict(global_env)
        env.update(((props.get("Environment") or {}).get("Variables")) or {})
        if table_id:
            for var, want in expected_env(table_id).items():
                got = env.get(var)
                ok = is_ref(got, want[1]) if isinstance(want, tuple) else got == want
                shown = f"!Ref {want[1]}" if isinstance(want, tuple) else repr(want)
                c.check(ok, f"{fid} env {var} = {shown}", f"got {got!r}")

        # (d) IAM: inline statements only, every resource the table or its indexes
        policies = props.get("Policies") or []
        c.check(
            all(isinstance(p, dict) for p in policies),
            f"{fid} has inline policy statements only (no managed or SAM policy templates)",
            f"Policies {json.dumps(policies)}",
        )
        statements = [
            s
            for p in policies
            if isinstance(p, dict)
            for s in (p.get("Statement") or [])
        ]
        resources_ok = bool(statements) and table_id is not None and all(
            references_table(r, table_id)
            for s in statements
            for r in as_list(s.get("Resource"))
        )
        c.check(resources_ok, f"{fid} IAM statements are scoped to {table_id} and its indexes")
        if fid in EXPECTED_FUNCTIONS and table_id is not None:
            check_grants(c, fid, statements, table_id)

        # (e) logs and timeout
        logging = dict(global_fn.get("LoggingConfig") or {})
        logging.update(props.get("LoggingConfig") or {})
        group = logging.get("LogGroup")
        group_id = group.get("Ref") if isinstance(group, dict) else None
        group_res = resources.get(group_id) if isinstance(group_id, str) else None
        if c.check(
            group_res is not None and group_res.get("Type") == "AWS::Logs::LogGroup",
            f"{fid} logs to a log group of the template (LoggingConfig.LogGroup: !Ref <LogGroup>)",
            f"LogGroup {group!r}",
        ):
            c.check(
                group_id not in log_groups_used,
                f"{fid} has a log group of its own",
                f"{group_id} is also {log_groups_used.get(group_id)}'s",
            )
            log_groups_used.setdefault(group_id, fid)
            c.check(
                is_ref((group_res.get("Properties") or {}).get("RetentionInDays"), "LogRetentionDays"),
                f"{group_id} keeps its events LogRetentionDays",
                f"RetentionInDays {(group_res.get('Properties') or {}).get('RetentionInDays')!r}",
            )
        timeout = props.get("Timeout", global_fn.get("Timeout", 3))
        c.check(
            isinstance(timeout, int) and timeout < GATEWAY_TIMEOUT_SECONDS,
            f"{fid} times out before API Gateway's {GATEWAY_TIMEOUT_SECONDS} s integration limit",
            f"Timeout {timeout!r}",
        )

    log_groups = sorted(k for k, v in resources.items() if v.get("Type") == "AWS::Logs::LogGroup")
    c.check(
        sorted(log_groups_used) == log_groups,
        "every log group is a function's",
        f"unused: {sorted(set(log_groups) - set(log_groups_used))}",
    )
    parameter = (template.get("Parameters") or {}).get("LogRetentionDays") or {}
    c.check(
        parameter.get("Type") == "Number" and parameter.get("Default") == LOG_RETENTION_DEFAULT_DAYS,
        f"parameter LogRetentionDays is a Number, default {LOG_RETENTION_DEFAULT_DAYS}",
        f"{parameter!r}",
    )


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def check_grants(c: Checker, fid: str, statements: list, table_id: str) -> None:
    """(d): the policy's DynamoDB actions and resources are exactly the row's."""
    want_actions, want_indexes = EXPECTED_GRANTS[fid]
    unknown = sorted(set(want_actions) - DYNAMODB_ITEM_ACTIONS)
    c.check(
        not unknown,
        f"routes.toml dynamodb_actions of {fid} are DynamoDB IAM actions",
        f"not IAM actions: {unknown}"
        + (
            " (a transaction is authorized by its items' actions: PutItem, DeleteItem, "
            "UpdateItem, ConditionCheckItem)"
            if "TransactWriteItems" in unknown
            else ""
        ),
    )
    c.check(
        all(s.get("Effect") == "Allow" and "NotAction" not in s and "NotResource" not in s for s in statements),
        f"{fid} IAM statements are plain Allow statements",
    )
    granted = [a for s in statements for a in as_list(s.get("Action"))]
    got = sorted(a.removeprefix("dynamodb:") for a in granted if isinstance(a, str))
    want = sorted(want_actions)
    c.check(
        got == want and all(isinstance(a, str) and a.startswith("dynamodb:") for a in granted),
        f"{fid} is granted exactly the DynamoDB actions of its row in routes.toml",
        f"template {got}, routes.toml {want}"
        f"\n      missing {sorted(set(want) - set(got))}, beyond the code {sorted(set(got) - set(want))}",
    )
    want_resources = [{"Fn::GetAtt": [table_id, "Arn"]}] + [
        {"Fn::Sub": "${" + table_id + ".Arn}/index/" + index} for index in want_indexes
    ]
    for s in statements:
        got_resources = as_list(s.get("Resource"))
        c.check(
            canonical(got_resources) == canonical(want_resources) and len(got_resources) == len(want_resources),
            f"{fid} statement {s.get('Sid')} names the table and exactly the indexes of its row in routes.toml",
            f"template {json.dumps(got_resources)}\n      routes.toml {json.dumps(want_resources)}",
        )


# Values API Gateway substitutes into gateway-response templates, for the JSON check.
# $context.error.messageString arrives already quoted.
SAMPLE_CONTEXT = {
    "$context.error.messageString": '"Internal server error"',
    "$context.error.message": "Internal server error",
    "$context.requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "$context.path": "/prod/v3/unknown",
    "$context.httpMethod": "GET",
}


def check_gateway_responses(c: Checker, resources: dict) -> None:
    apis = [v for v in resources.values() if v.get("Type") == "AWS::Serverless::Api"]
    if not apis:
        return
    responses = (apis[0].get("Properties") or {}).get("GatewayResponses") or {}
    want_status = {"THROTTLED": 429, "MISSING_AUTHENTICATION_TOKEN": 404, "DEFAULT_5XX": None}
    for rtype, status in want_status.items():
        c.check(rtype in responses, f"gateway response {rtype} is customised")
        if status is not None and rtype in responses:
            c.check(
                str(responses[rtype].get("StatusCode")) == str(status),
                f"gateway response {rtype} answers {status}",
                f"StatusCode {responses[rtype].get('StatusCode')!r}",
            )
    throttled = (responses.get("THROTTLED") or {}).get("ResponseParameters") or {}
    c.check(
        (throttled.get("Headers") or {}).get("Retry-After") not in (None, ""),
        "THROTTLED sends a Retry-After header",
    )
    for rtype, response in sorted(responses.items()):
        headers = (response.get("ResponseParameters") or {}).get("Headers") or {}
        c.check(
            headers.get("Content-Type") == "'application/json'",
            f"gateway response {rtype} sets Content-Type: application/json",
        )
        templates = response.get("ResponseTemplates") or {}
        body_template = templates.get("application/json")
        if not c.check(isinstance(body_template, str), f"gateway response {rtype} has an application/json template"):
            continue
        body_text = body_template
        for var in sorted(SAMPLE_CONTEXT, key=len, reverse=True):
            body_text = body_text.replace(var, SAMPLE_CONTEXT[var])
        try:
            body = json.loads(body_text)
        except json.JSONDecodeError as e:
            c.check(False, f"gateway response {rtype} body is JSON after substitution", f"{e}: {body_text}")
            continue
        c.check(
            "$" not in body_text,
            f"gateway response {rtype} uses only known $context variables",
            body_text,
        )
        if rtype in ("THROTTLED", "QUOTA_EXCEEDED"):
            c.check(body == {"message": " Rate Limit Exceeded "}, f"{rtype} body is SailPoint's 429 body", body_text)
            continue
        msg_ok = lambda items: isinstance(items, list) and all(  # noqa: E731
            isinstance(m, dict) and set(m) == {"locale", "localeOrigin", "text"} for m in items
        )
        c.check(
            isinstance(body, dict)
            and set(body) == {"detailCode", "trackingId", "messages", "causes"}
            and isinstance(body["detailCode"], str)
            and msg_ok(body["messages"])
            and len(body["messages"]) >= 1
            and msg_ok(body["causes"]),
            f"gateway response {rtype} body is an ErrorResponseDto",
            body_text,
        )


def check_all(template: dict, definition: dict, quiet: bool = False) -> Checker:
    """Every check of the template against the table definition and routes.toml."""
    c = Checker(quiet)
    c.check(
        template.get("Transform") == "AWS::Serverless-2016-10-31",
        "Transform is AWS::Serverless-2016-10-31",
    )
    resources = template.get("Resources") or {}
    table_id = check_table(c, resources, definition)
    check_functions(c, template, table_id)
    check_gateway_responses(c, resources)
    return c


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument(
        "--table-definition",
        type=Path,
        default=ROOT / "shared" / "src" / "store" / "table-definition.json",
    )
    args = parser.parse_args()

    try:
        template = load_template(args.template)
        definition = json.loads(args.table_definition.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, json.JSONDecodeError) as e:
        print(f"template check: cannot load inputs: {e}", file=sys.stderr)
        return 1

    c = check_all(template, definition)
    print(f"template check: {c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
