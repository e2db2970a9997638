#!/usr/bin/env bash
# The official TypeScript SDK flow (tests/sdk-ts/sdk_flow.js, npm
# `sailpoint-api-client` as pinned in tests/sdk-ts/package-lock.json):
# installs it with `npm ci` into tests/sdk-ts/node_modules, then runs the flow
# against a fresh local API (scripts/local_api.sh; on DynamoDB when TABLE_NAME
# is set), or against a server already running when a base URL is given.
#
#   bash scripts/sdk_ts_flow.sh                                   # fresh local API
#   bash scripts/sdk_ts_flow.sh --base-url http://127.0.0.1:3000  # a running one (demo seed)
#
# Needs Node.js (18 or later) with npm.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
npm ci --prefix tests/sdk-ts --no-audit --no-fund --loglevel=error
if [ "$#" -gt 0 ]; then
    exec node tests/sdk-ts/sdk_flow.js "$@"
fi
exec bash scripts/local_api.sh sh -c 'node tests/sdk-ts/sdk_flow.js --base-url "$BASE_URL"'
