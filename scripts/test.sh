#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs the Python tools it needs
# into .venv, starts moto_server (a DynamoDB-compatible server on loopback),
# and runs
#   1. every Rust test, each store rule on the in-process store AND DynamoDB;
#   2. the official Python SDK flows (access requests; approvals; non-employee
#      requests and approvals) against the local API, each on a fresh
#      in-process store and on a fresh DynamoDB table, every response
#      validated against the official OpenAPI fragments (openapi/);
#   2b. the responses against those fragments: every expected response under
#      events/, and a short schemathesis run over every operation, v3 and beta
#      (scripts/spec_test.sh);
#   3. the template check (routes, table definition, each function's IAM grant
#      against routes.toml, log groups, timeouts) and its own test, the
#      scopes of routes.toml against the official fragments, routes.toml
#      against the function crates, the local server's handler table, the
#      fixtures and the README's operation table (scripts/check_routes.py,
#      with its test), and no circle
#      among shared/src's modules (scripts/check_module_cycles.py, with its test);
#   4. the DynamoDB client over TLS (every other test uses plain HTTP);
#   5. the real function binaries under cargo-lambda's Runtime API emulator,
#      invoked with the event fixtures;
#   6. the official TypeScript SDK flow against the local API
#      (scripts/sdk_ts_flow.sh: npm ci into tests/sdk-ts/node_modules);
#   7. the function binaries under `sam local invoke` (every smoke fixture of
#      routes.toml) and `sam local start-api` on DynamoDB with the Python SDK
#      flow (scripts/sam_local_test.sh: Docker from apt, and a local stand-in
#      for the Lambda base image where the registry is unreachable; before it,
#      scripts/docker_bridge_test.sh, its Docker bridge address lookup);
#   8. faults: a mixed workload of every endpoint through the local API on
#      DynamoDB behind a fault-injecting proxy (tests/faults), in three
#      configurations, then its invariants (prints the figure bench/README.md quotes).
# Each stage prints its time in seconds when it ends.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/venv.sh

# timed NAME CMD...: runs a stage and prints how long it took.
timed() {
    local name="$1" start=$SECONDS
    shift
    echo "== $name"
    "$@"
    echo "== $name: $((SECONDS - start)) s"
}

timed "template check" python scripts/check_template.py
timed "template check catches what it is for" python scripts/check_template_test.py

timed "scopes of routes.toml against the official fragments (openapi/)" \
    python scripts/check_scopes.py
timed "routes.toml against the crates, the local server, the fixtures and the README" \
    python scripts/check_routes.py
timed "the routes check catches what it is for" python scripts/check_routes_test.py
timed "no circle among shared/src's modules" python scripts/check_module_cycles.py
timed "the circle check catches what it is for" python scripts/check_module_cycles_test.py

timed "Rust tests (in-process store and DynamoDB via moto_server)" \
    bash scripts/with-moto.sh cargo test --workspace --locked

timed "DynamoDB client over TLS (a local HTTPS endpoint, trusted and not)" \
    sh -c 'cargo build -p local-api --locked &&
        python tests/tls/https_store.py "${CARGO_TARGET_DIR:-target}/debug/local-api"'

for flow in sdk_flow approvals_flow non_employee_flow; do
    timed "official Python SDK, $flow, against the local API (in-process store)" \
        bash scripts/local_api.sh sh -c "python tests/sdk/$flow.py --base-url \"\$BASE_URL\""
    timed "official Python SDK, $flow, against the local API on DynamoDB (moto_server)" \
        bash scripts/with-moto.sh env TABLE_NAME="$flow-$$" JWT_HS256_SECRET=sdk-e2e-secret \
        bash scripts/local_api.sh sh -c "python tests/sdk/$flow.py --base-url \"\$BASE_URL\""
done

timed "responses against the official OpenAPI fragments (event fixtures; schemathesis, short)" \
    bash scripts/spec_test.sh short

timed "function binaries under the Lambda Runtime API emulator (cargo lambda watch)" \
    bash scripts/emulator_test.sh

timed "official TypeScript SDK against the local API (in-process store)" \
    bash scripts/sdk_ts_flow.sh

timed "the Docker bridge address lookup of the sam local stage (stand-in docker and ip)" \
    bash scripts/docker_bridge_test.sh

# Under sam local every function answers a success and a rejection of its
# smoke fixtures (each invocation starts a container: seconds apiece); the
# emulator stage above runs all of them.
timed "sam local invoke and sam local start-api (function binaries in Lambda containers)" \
    env SAM_LOCAL_SMOKE="${SAM_LOCAL_SMOKE:-pair}" bash scripts/sam_local_test.sh

timed "faults: every endpoint under injected store faults, then the invariants (tests/faults)" \
    bash scripts/with-moto.sh python tests/faults/run.py

echo "== all tests passed"
