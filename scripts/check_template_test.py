#!/usr/bin/env python3
"""The template check (scripts/check_template.py) catches what it is there for:
each case changes one thing in template.yaml (or in a row of routes.toml) and
expects the check to fail, naming it; the template as committed passes.

    python3 scripts/check_template_test.py

Needs Python 3.11 and PyYAML only (run by the test command).
"""

from __future__ import annotations

import copy
import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import check_template  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = check_template.load_template(ROOT / "template.yaml")
DEFINITION = json.loads((ROOT / "shared/src/store/table-definition.json").read_text(encoding="utf-8"))


def statement(template: dict, function: str) -> dict:
    return template["Resources"][function]["Properties"]["Policies"][0]["Statement"][0]


class TemplateCheck(unittest.TestCase):
    def failures(self, template: dict) -> list[str]:
        return check_template.check_all(template, DEFINITION, quiet=True).failures

    def assert_fails(self, template: dict, expected: str) -> None:
        failures = self.failures(template)
        self.assertTrue(
            any(expected in f for f in failures),
            f"expected a failure naming {expected!r}; got {failures}",
        )

    def test_the_committed_template_passes(self) -> None:
        self.assertEqual(self.failures(copy.deepcopy(TEMPLATE)), [])

    def test_an_action_the_code_does_not_call_fails(self) -> None:
        t = copy.deepcopy(TEMPLATE)
        statement(t, "CloseAccessRequestFunction")["Action"].append("dynamodb:UpdateItem")
        self.assert_fails(t, "CloseAccessRequestFunction is granted exactly the DynamoDB actions")

    def test_a_missing_action_fails(self) -> None:
        t = copy.deepcopy(TEMPLATE)
        statement(t, "ApproveNonEmployeeRequestFunction")["Action"].remove("dynamodb:DeleteItem")
        self.assert_fails(t, "ApproveNonEmployeeRequestFunction is granted exactly the DynamoDB actions")

    def test_an_action_outside_dynamodb_fails(self) -> None:
        t = copy.deepcopy(TEMPLATE)
        statement(t, "GetNonEmployeeRequestFunction")["Action"].append("s3:GetObject")
        self.assert_fails(t, "GetNonEmployeeRequestFunction is granted exactly the DynamoDB actions")

    def test_every_index_instead_of_the_one_queried_fails(self) -> None:
        t = copy.deepcopy(TEMPLATE)
        statement(t, "ListPendingApprovalsFunction")["Resource"][1] = {
            "Fn::Sub": "${AccessRequestTable.Arn}/index/*"
        }
        self.assert_fails(t, "ListPendingApprovalsFunction statement ReadApprovalLists names the table")

    def test_a_row_naming_transact_write_items_fails(self) -> None:
        grants = check_template.EXPECTED_GRANTS
        actions, indexes = grants["CreateAccessRequestFunction"]
        try:
            check_template.EXPECTED_GRANTS = {
                **grants,
                "CreateAccessRequestFunction": (actions + ["TransactWriteItems"], indexes),
            }
            self.assert_fails(
                copy.deepcopy(TEMPLATE), "routes.toml dynamodb_actions of CreateAccessRequestFunction"
            )
        finally:
            check_template.EXPECTED_GRANTS = grants

    def test_a_timeout_of_29_seconds_fails(self) -> None:
        t = copy.deepcopy(TEMPLATE)
        t["Resources"]["CloseAccessRequestFunction"]["Properties"]["Timeout"] = 29
        self.assert_fails(t, "CloseAccessRequestFunction times out before API Gateway's 29 s")

    def test_a_function_without_its_log_group_fails(self) -> None:
        t = copy.deepcopy(TEMPLATE)
        del t["Resources"]["ForwardAccessRequestFunction"]["Properties"]["LoggingConfig"]
        self.assert_fails(t, "ForwardAccessRequestFunction logs to a log group of the template")
        self.assert_fails(t, "every log group is a function's")

    def test_two_functions_sharing_a_log_group_fails(self) -> None:
        t = copy.deepcopy(TEMPLATE)
        t["Resources"]["RejectAccessRequestFunction"]["Properties"]["LoggingConfig"] = {
            "LogGroup": {"Ref": "ApproveAccessRequestLogGroup"}
        }
        self.assert_fails(t, "RejectAccessRequestFunction has a log group of its own")

    def test_a_log_group_kept_forever_fails(self) -> None:
        t = copy.deepcopy(TEMPLATE)
        del t["Resources"]["CancelAccessRequestLogGroup"]["Properties"]["RetentionInDays"]
        self.assert_fails(t, "CancelAccessRequestLogGroup keeps its events LogRetentionDays")

    def test_another_retention_default_fails(self) -> None:
        t = copy.deepcopy(TEMPLATE)
        t["Parameters"]["LogRetentionDays"]["Default"] = 3653
        self.assert_fails(t, "parameter LogRetentionDays")

    def test_a_table_without_deletion_protection_fails(self) -> None:
        t = copy.deepcopy(TEMPLATE)
        del t["Resources"]["AccessRequestTable"]["Properties"]["DeletionProtectionEnabled"]
        self.assert_fails(t, "AccessRequestTable has DeletionProtectionEnabled: true")


if __name__ == "__main__":
    unittest.main(verbosity=2)
