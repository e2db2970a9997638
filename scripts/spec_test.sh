#!/usr/bin/env bash
# Responses against the official OpenAPI fragments (openapi/), every
# operation under /v3 and /beta (see docs/decisions.md "Conformance to the official
# schemas"):
#   short (the test command): the validator's own tests, every expected
#     response under events/, and a short schemathesis run against the local
#     API (in-process store) as an ORG_ADMIN;
#   long (CI): longer schemathesis runs, as an ORG_ADMIN and as a manager,
#     each on a freshly started server.
# The SDK flows validate their responses themselves (tests/sdk/flowkit.py).
# Usage: scripts/spec_test.sh [short|long]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/venv.sh
mode="${1:-short}"
case "$mode" in
    short)
        python -m pytest -q -p no:cacheprovider tests/spec
        python tests/spec/check_fixtures.py
        clients=(acme-admin) examples=10 seed=1
        ;;
    long)
        clients=(acme-admin acme-manager) examples=100 seed=2
        ;;
    *)
        echo "usage: $0 [short|long]" >&2
        exit 2
        ;;
esac
for client in "${clients[@]}"; do
    bash scripts/local_api.sh sh -c "python tests/spec/schemathesis_run.py --base-url \"\$BASE_URL\" \
        --client $client --max-examples $examples --seed $seed"
done
