#!/usr/bin/env bash
# Tests docker_bridge_address (scripts/docker_bridge.sh) with stand-in `docker`
# and `ip` commands first on PATH, so that every path runs without touching
# this machine's Docker: the gateway at once; a gateway that appears only after
# a few tries; the IPv4 one of a dual-stack bridge; no gateway, and docker0's
# address instead; Docker failing and docker0 absent, which fails with Docker's
# own message; and no `ip` command at all.
#
#   bash scripts/docker_bridge_test.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/docker_bridge.sh"

fake="$(mktemp -d)"
trap 'rm -rf "$fake"' EXIT
mkdir -p "$fake/bin"

# ip: FAKE_IP says whether docker0 exists; calls counted in $fake/ip-calls.
# docker: FAKE_DOCKER says how it answers `network inspect bridge`; each call
# is counted in $fake/docker-calls.
cat >"$fake/bin/docker" <<'EOF'
#!/usr/bin/env bash
calls=$(( $(cat "$FAKE_DIR/docker-calls" 2>/dev/null || echo 0) + 1 ))
echo "$calls" >"$FAKE_DIR/docker-calls"
[ "$1 $2 $3" = "network inspect bridge" ] || { echo "unexpected: docker $*" >&2; exit 2; }
case "$FAKE_DOCKER" in
    ready) echo "172.17.0.1" ;;
    late) if [ "$calls" -ge 3 ]; then echo "172.17.0.1"; else echo; fi ;;
    dual-stack) printf 'fd00:dead:beef::1\n172.18.0.1\n' ;;
    no-gateway) echo ;;
    down) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1 ;;
esac
EOF
# ip: FAKE_IP says whether docker0 exists.
cat >"$fake/bin/ip" <<'EOF'
#!/usr/bin/env bash
calls=$(( $(cat "$FAKE_DIR/ip-calls" 2>/dev/null || echo 0) + 1 ))
echo "$calls" >"$FAKE_DIR/ip-calls"
[ "$*" = "-4 -o addr show dev docker0" ] || { echo "unexpected: ip $*" >&2; exit 2; }
docker0='3: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\       valid_lft forever preferred_lft forever'
case "$FAKE_IP" in
    docker0) echo "$docker0" ;;
    late) if [ "$calls" -ge 3 ]; then echo "$docker0"; else echo 'Device "docker0" does not exist.' >&2; exit 1; fi ;;
    absent) echo 'Device "docker0" does not exist.' >&2; exit 1 ;;
esac
EOF
chmod +x "$fake/bin/docker" "$fake/bin/ip"
# A PATH without any `ip`: the stand-in docker and the tools the function uses.
mkdir -p "$fake/no-ip"
ln -s "$fake/bin/docker" "$fake/no-ip/docker"
for tool in awk sed sleep cat bash env; do ln -s "$(command -v "$tool")" "$fake/no-ip/$tool"; done

export FAKE_DIR="$fake" DOCKER_BRIDGE_WAIT_SECS=2 DOCKER_BRIDGE_POLL_SECS=0.1
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# run NAME DOCKER IP [PATH]: sets $out, $err, $status, $calls.
run() {
    local name="$1"
    rm -f "$fake/docker-calls" "$fake/ip-calls"
    status=0
    out="$(FAKE_DOCKER="$2" FAKE_IP="$3" PATH="${4:-$fake/bin:$PATH}" \
        docker_bridge_address 2>"$fake/err")" || status=$?
    err="$(cat "$fake/err")"
    calls="$(cat "$fake/docker-calls" 2>/dev/null || echo 0)"
    echo "-- $name: status $status, address '${out}', docker asked $calls time(s)"
}

run "the gateway at once" ready absent
[ "$status" -eq 0 ] && [ "$out" = 172.17.0.1 ] && [ "$calls" -eq 1 ] || fail "gateway at once: $out / $err"

run "a gateway after two empty answers" late absent
[ "$status" -eq 0 ] && [ "$out" = 172.17.0.1 ] && [ "$calls" -eq 3 ] || fail "late gateway: $out / $err"

run "a dual-stack bridge" dual-stack absent
[ "$status" -eq 0 ] && [ "$out" = 172.18.0.1 ] || fail "dual stack: $out / $err"

run "no gateway (a daemon's first start): docker0's address" no-gateway docker0
[ "$status" -eq 0 ] && [ "$out" = 172.17.0.1 ] && [ "$calls" -eq 1 ] || fail "docker0 fallback: $out / $err"
grep -q "using the docker0 interface's address, 172.17.0.1" <<<"$err" || fail "the fallback is not reported: $err"

run "no gateway, docker0 only after two tries" no-gateway late
[ "$status" -eq 0 ] && [ "$out" = 172.17.0.1 ] && [ "$calls" -eq 3 ] || fail "late docker0: $out / $err ($calls calls)"

run "Docker down and no docker0: Docker's error" down absent
[ "$status" -eq 1 ] && [ -z "$out" ] || fail "both failing: status $status, '$out'"
grep -q "Cannot connect to the Docker daemon" <<<"$err" || fail "Docker's error is not shown: $err"
grep -q 'Device "docker0" does not exist' <<<"$err" || fail "ip's error is not shown: $err"
grep -q "(exit 1)" <<<"$err" || fail "Docker's exit status is not shown: $err"

run "no gateway and no ip command" no-gateway docker0 "$fake/no-ip"
[ "$status" -eq 1 ] || fail "without ip: status $status, '$out'"
grep -q "no ip command" <<<"$err" || fail "the missing ip command is not named: $err"
grep -q "named no IPv4 gateway" <<<"$err" || fail "the empty gateway is not explained: $err"

if [ "$failures" -ne 0 ]; then
    echo "docker_bridge_test: $failures failure(s)" >&2
    exit 1
fi
echo "docker_bridge_test: every path answered as expected"
