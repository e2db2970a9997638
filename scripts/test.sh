#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs the Python tools it needs
# into .venv, starts moto_server (a DynamoDB-compatible server on loopback),
# and runs
#   1. every Rust test, each store rule on the in-process store AND DynamoDB;
#   2. the official Python SDK flows (access requests, approvals) against the
#      local API, each on a fresh in-process store and on a fresh DynamoDB table;
#   3. the template check (routes, table definition, IAM resources);
#   4. the DynamoDB client over TLS (every other test uses plain HTTP);
#   5. the real function binaries under cargo-lambda's Runtime API emulator,
#      invoked with the event fixtures.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/venv.sh

echo "== template check"
python scripts/check_template.py

echo "== Rust tests (in-process store and DynamoDB via moto_server)"
bash scripts/with-moto.sh cargo test --workspace --locked

echo "== DynamoDB client over TLS (a local HTTPS endpoint, trusted and not)"
cargo build -p local-api --locked
python tests/tls/https_store.py "${CARGO_TARGET_DIR:-target}/debug/local-api"

echo "== official Python SDK against the local API (in-process store)"
bash scripts/local_api.sh sh -c 'python tests/sdk/sdk_flow.py --base-url "$BASE_URL"'
bash scripts/local_api.sh sh -c 'python tests/sdk/approvals_flow.py --base-url "$BASE_URL"'

echo "== official Python SDK against the local API on DynamoDB (moto_server)"
bash scripts/with-moto.sh env TABLE_NAME="sdk-e2e-$$" JWT_HS256_SECRET=sdk-e2e-secret \
    bash scripts/local_api.sh sh -c 'python tests/sdk/sdk_flow.py --base-url "$BASE_URL"'
bash scripts/with-moto.sh env TABLE_NAME="approvals-e2e-$$" JWT_HS256_SECRET=sdk-e2e-secret \
    bash scripts/local_api.sh sh -c 'python tests/sdk/approvals_flow.py --base-url "$BASE_URL"'

echo "== function binaries under the Lambda Runtime API emulator (cargo lambda watch)"
bash scripts/emulator_test.sh

echo "== all tests passed"
