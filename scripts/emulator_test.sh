#!/usr/bin/env bash
# Runs the real function binaries (their main.rs, lambda_http's runtime client)
# under cargo-lambda's Lambda Runtime API emulator, `cargo lambda watch`,
# invokes event fixtures of every function through it with
# `cargo lambda invoke --data-file`, and checks each response against the
# fixture's expected file with the replay test's own matcher
# (`local/tests/event_fixtures.rs`, test `emulator_responses`).
#
#   bash scripts/emulator_test.sh                      # every route's smoke fixtures
#   bash scripts/emulator_test.sh cancel-access-request/final-state ...
#
# TABLE_NAME and the JWT_* variables are removed from the functions'
# environment, so each one serves the embedded demo store and accepts the
# fixtures' tokens (signed with the local secret). Each function process keeps
# its store for the whole run: the cases of one function run in the order
# given, and the defaults are chosen so that no answer depends on an earlier
# case. Installs cargo-lambda into .venv when it is missing. Honours
# CARGO_TARGET_DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cases=("$@")
custom=$#
set --  # venv.sh takes its arguments as pip requirements
source scripts/venv.sh
if ! cargo lambda --help >/dev/null 2>&1; then
    echo "== installing cargo-lambda into .venv"
    python -m pip install --quiet --disable-pip-version-check cargo-lambda
fi

if [ "${#cases[@]}" -eq 0 ]; then
    # Each route's smoke fixtures (routes.toml): a success and rejections,
    # none of whose answers depends on an earlier case.
    mapfile -t cases < <(python scripts/routes.py smoke)
fi
# Chosen cases need not cover every function; the defaults must.
partial=()
if [ "$custom" -gt 0 ]; then partial=(EMULATOR_PARTIAL=1); fi
declare -A seen=()
for c in "${cases[@]}"; do
    [ -f "events/$c.json" ] || { echo "no fixture events/$c.json" >&2; exit 2; }
    [ -z "${seen[$c]:-}" ] || { echo "$c is listed twice" >&2; exit 2; }
    seen[$c]=1
done

# The functions of the route table; built up front so that the first
# invocation does not wait for a compiler.
mapfile -t functions < <(python scripts/routes.py functions)
bins=()
for f in "${functions[@]}"; do bins+=(--bin "$f"); done
echo "== cargo build ${bins[*]}"
cargo build --quiet "${bins[@]}"

port="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
work="$(mktemp -d)"
log="$work/watch.log"
responses="$work/responses"
watch_pid=""
cleanup() {
    if [ -n "$watch_pid" ] && kill -0 "$watch_pid" 2>/dev/null; then
        # The watcher and the function processes it spawned share its session.
        kill -TERM -- "-$watch_pid" 2>/dev/null || kill -TERM "$watch_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$watch_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== cargo lambda watch on 127.0.0.1:$port (log: $log)"
setsid env -u TABLE_NAME -u SEED_FILE -u JWT_HS256_SECRET -u JWT_PUBLIC_KEY_PEM -u JWT_JWKS \
    -u JWT_ISSUER -u JWT_AUDIENCE \
    cargo lambda watch --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$port" \
    --env-var AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH=true,RUST_LOG=info \
    >"$log" 2>&1 &
watch_pid=$!
ready=""
for _ in $(seq 300); do
    if ! kill -0 "$watch_pid" 2>/dev/null; then break; fi
    if python -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
        "$port" 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.2
done
if [ -z "$ready" ]; then
    echo "cargo lambda watch did not start:" >&2
    cat "$log" >&2
    exit 1
fi

printf '%-62s %s\n' "case" "status"
for c in "${cases[@]}"; do
    fn="${c%%/*}"
    mkdir -p "$responses/$fn"
    out="$responses/$c.json"
    if ! cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$port" "$fn" \
        --data-file "events/$c.json" >"$out" 2>"$work/invoke.err"; then
        echo "cargo lambda invoke $fn --data-file events/$c.json failed:" >&2
        cat "$work/invoke.err" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
    status="$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["statusCode"])' "$out" \
        2>/dev/null || echo "not a proxy response")"
    printf '%-62s %s\n' "$c" "$status"
done

echo "== comparing with the expected files (event_fixtures::emulator_responses)"
env EMULATOR_RESPONSES_DIR="$responses" "${partial[@]}" cargo test --quiet -p local-api --test event_fixtures \
    emulator_responses -- --ignored --exact
echo "== emulator test passed: ${#cases[@]} invocations through the real binaries"
