#!/usr/bin/env bash
# Starts the local API (target/debug/local-api) on a free loopback port,
# waits until it answers, runs the given command with BASE_URL set, and
# stops the server. With TABLE_NAME set the server runs on DynamoDB and
# creates and seeds that table first (--init-table).
# Usage: scripts/local_api.sh CMD [ARGS...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build --quiet -p local-api
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
args=(--port "$port")
if [ -n "${TABLE_NAME:-}" ]; then args+=(--init-table); fi
log=$(mktemp)
./target/debug/local-api "${args[@]}" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/v3/access-request-status"; then break; fi
    if ! kill -0 $server 2>/dev/null; then cat "$log"; echo "local-api exited" >&2; exit 1; fi
    sleep 0.1
done
export BASE_URL="http://127.0.0.1:$port"
set +e
"$@"
status=$?
set -e
if [ $status -ne 0 ]; then echo "--- local-api log ---"; tail -50 "$log"; fi
exit $status
