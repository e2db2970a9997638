#!/usr/bin/env bash
# Runs a command against a throwaway DynamoDB-compatible server (moto).
#
#   bash scripts/with-moto.sh cargo test -p shared --test store_conformance
#
# Ensures a Python venv at .venv (gitignored) with moto[server], starts
# `moto_server` on a free loopback port, exports the endpoint and dummy AWS
# settings (DYNAMODB_TEST_ENDPOINT, AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION,
# credentials, REQUIRE_DYNAMODB=1), runs the command, and always stops the
# server. Exits with the command's exit code.
#
# Needs only python3 (with venv/pip) on the machine. Environment knobs:
#   MOTO_VENV           venv location (default: <repo>/.venv)
#   MOTO_STARTUP_SECS   how long to wait for the server (default: 60)
#   MOTO_LOG            server log file (default: a temporary file)
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${MOTO_VENV:-$repo/.venv}"
startup_secs="${MOTO_STARTUP_SECS:-60}"

log() { echo "with-moto: $*" >&2; }

# 1. The venv and moto.
if [ ! -x "$venv/bin/python" ]; then
    log "creating a Python venv at $venv"
    python3 -m venv "$venv" || {
        log "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
        exit 1
    }
fi
if [ ! -x "$venv/bin/moto_server" ]; then
    log "installing moto[server] into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'moto[server]' || {
        log "pip install 'moto[server]' failed"
        exit 1
    }
fi

# 2. A free port on loopback.
port="$("$venv/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')"
endpoint="http://127.0.0.1:$port"

# 3. The server, stopped whatever happens next.
server_log="${MOTO_LOG:-$(mktemp "${TMPDIR:-/tmp}/moto-server.XXXXXX.log")}"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$server_log" 2>&1 &
server_pid=$!

stop_server() {
    if kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
    if [ -z "${MOTO_LOG:-}" ]; then rm -f "$server_log"; fi
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 4. Wait (bounded) until it answers a DynamoDB call.
ready=0
deadline=$((SECONDS + startup_secs))
while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        log "moto_server exited during start-up; its log:"
        cat "$server_log" >&2 || true
        exit 1
    fi
    if "$venv/bin/python" - "$endpoint" <<'EOF' 2>/dev/null
import sys, urllib.request
req = urllib.request.Request(
    sys.argv[1] + "/",
    data=b"{}",
    headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x",
    },
)
with urllib.request.urlopen(req, timeout=2) as r:
    sys.exit(0 if r.status == 200 and b"TableNames" in r.read() else 1)
EOF
    then
        ready=1
        break
    fi
    sleep 0.2
done
if [ "$ready" -ne 1 ]; then
    log "moto_server did not answer on $endpoint within ${startup_secs}s; its log:"
    cat "$server_log" >&2 || true
    exit 1
fi
log "moto_server ready on $endpoint (pid $server_pid)"

# 5. The command, with the endpoint and dummy AWS settings.
export DYNAMODB_TEST_ENDPOINT="$endpoint"
export AWS_ENDPOINT_URL_DYNAMODB="$endpoint"
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
unset AWS_SESSION_TOKEN AWS_PROFILE
export REQUIRE_DYNAMODB=1

status=0
"$@" || status=$?
exit "$status"
