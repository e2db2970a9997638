#!/usr/bin/env bash
# `sam local`, for real: the function binaries in Lambda containers run by the
# SAM CLI, as `sam local invoke` and `sam local start-api` run them.
#
#   bash scripts/sam_local_test.sh            # both stages
#   bash scripts/sam_local_test.sh invoke     # sam local invoke of every smoke fixture
#   bash scripts/sam_local_test.sh start-api  # sam local start-api on DynamoDB + the Python SDK flow
#
# 1. A container engine: uses the one `docker info` reaches; otherwise starts
#    `dockerd` (Debian's docker.io, installed with apt-get when missing) and
#    stops it on exit.
# 2. The Lambda base image `public.ecr.aws/lambda/provided:al2023-<arch>`: where
#    the public image registry is unreachable, a local stand-in is built once
#    (cached under that name): a `debootstrap --variant=minbase
#    --include=ca-certificates bookworm` root file system (debootstrap
#    installed with apt-get when missing) with /var/task, /var/runtime and
#    /opt, imported with `docker import`. SAM
#    builds its emulation image from it (adding the Runtime Interface Emulator
#    that ships in the aws-sam-cli wheel) when run with --skip-pull-image.
#    The bootstraps built here link against this machine's glibc (Debian
#    bookworm), which the stand-in has.
# 3. The build SAM runs: the debug binaries of the test run, laid out as a SAM
#    build directory by scripts/sam_local_template.py (target/sam-local), not
#    `sam build`. Measured on a 2-core machine shared with other builds:
#    `sam build --parameter-overrides Architecture=x86_64` from clean
#    (cargo-lambda: a release build for x86_64 with the profile's fat LTO, one
#    LTO link per function; cargo at -j1) took 21 min 54 s, 680 s of CPU, for
#    the five functions, and 76 s again with nothing changed; laying out the
#    debug binaries that the test run's earlier stages have already built takes
#    under a second (a clean debug build of the five: about 190 s). The release
#    bootstraps are built by scripts/lambda_build.sh (arm64, in CI).
#    SAM_LOCAL_BUILD=sam uses `sam build` instead.
# 4. invoke: for every function of routes.toml, `sam local invoke` with each of
#    its `smoke` fixtures (events/<function>/<case>.json; events/env.json: the
#    embedded demo store, a fresh one per invocation), each response compared
#    with <case>.expected.json by the fixture replay's matcher
#    (local/tests/event_fixtures.rs, test `emulator_responses`).
#    SAM_LOCAL_SMOKE=pair invokes only the first (a success) and the first
#    rejection of each function; an invocation takes about 2.5 s here.
# 5. start-api: moto_server (scripts/with-moto.sh) listening on the Docker
#    bridge's address on this machine, so that both this machine and the
#    containers reach it (scripts/docker_bridge.sh: the bridge network's
#    gateway, else the docker0 interface's address, which a daemon's first
#    start leaves as the only source; waited for up to 30 s, then Docker's
#    own error); the table created and seeded by the local API
#    (scripts/local_api.sh, --init-table), whose /oauth/token also issues the
#    tokens; `sam local start-api --env-vars` pointing the functions at that
#    table; then tests/sdk/sdk_flow.py against the SAM API, with its tokens
#    from the local API (--token-url).
#
# Needs root (or sudo) for apt-get, dockerd and debootstrap; Python 3 with pip
# (aws-sam-cli goes into .venv), cargo. Honours CARGO_TARGET_DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/docker_bridge.sh

SAM_CLI_VERSION="1.170.0"
STAND_IN_LABEL="access-request-api.lambda-base-stand-in"
# What the stand-in is made of; a stand-in built by another recipe is rebuilt.
# ca-certificates: the AWS base image has a CA bundle, and the functions'
# DynamoDB client loads the system's roots before its first request.
STAND_IN_RECIPE="bookworm-minbase+ca-certificates+var-task-var-runtime-opt"
export SAM_CLI_TELEMETRY=0
# How long SAM waits for a container's emulator to answer (default 20 s): room
# for a machine busy with builds.
export SAM_CLI_CONTAINER_CONNECTION_TIMEOUT="${SAM_CLI_CONTAINER_CONNECTION_TIMEOUT:-60}"

case "$(uname -m)" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "sam_local_test: no Lambda architecture for $(uname -m)" >&2; exit 2 ;;
esac
base_image="public.ecr.aws/lambda/provided:al2023-$arch"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
build_dir="$target_dir/sam-local"

# ---------------------------------------------------------------- internal
# `start-api-flow` runs inside with-moto.sh and local_api.sh (see run_start_api).
if [ "${1:-}" = "start-api-flow" ]; then
    set --  # venv.sh takes its arguments as pip requirements
    source scripts/venv.sh
    port="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    work="$(mktemp -d)"
    python - "$work/env.json" <<'EOF'
import json, os, sys
variables = {
    "TABLE_NAME": os.environ["TABLE_NAME"],
    "AWS_ENDPOINT_URL_DYNAMODB": os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
    "JWT_HS256_SECRET": os.environ["JWT_HS256_SECRET"],
    "JWT_PUBLIC_KEY_PEM": "", "JWT_JWKS": "", "JWT_ISSUER": "", "JWT_AUDIENCE": "",
    "RUST_LOG": "info",
}
json.dump({"Parameters": variables}, open(sys.argv[1], "w"), indent=2)
EOF
    sam_pid=""
    stop_sam() {
        if [ -n "$sam_pid" ] && kill -0 "$sam_pid" 2>/dev/null; then
            kill -TERM "$sam_pid" 2>/dev/null || true
            for _ in $(seq 100); do kill -0 "$sam_pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$sam_pid" 2>/dev/null || true
        fi
        wait "$sam_pid" 2>/dev/null || true
        rm -rf "$work"
    }
    trap stop_sam EXIT
    echo "== sam local start-api on 127.0.0.1:$port (functions on DynamoDB table $TABLE_NAME at $AWS_ENDPOINT_URL_DYNAMODB)"
    # AWS_REGION and the credentials reach the functions from this environment
    # (with-moto.sh's); SAM passes them itself.
    sam local start-api -t "$SAM_LOCAL_TEMPLATE" --skip-pull-image \
        --parameter-overrides "Architecture=$SAM_LOCAL_ARCH" --env-vars "$work/env.json" \
        --host 127.0.0.1 --port "$port" --warm-containers LAZY >"$work/sam.log" 2>&1 &
    sam_pid=$!
    # Each function's container starts on its first request (LAZY) and is
    # kept for the next: starting all of them up front (EAGER) takes minutes
    # with twenty functions, most of which the flow does not call.
    ready=""
    deadline=$((SECONDS + 300))
    while [ "$SECONDS" -lt "$deadline" ]; do
        kill -0 "$sam_pid" 2>/dev/null || break
        # A function's answer (401 without a token) means the API is up.
        if python - "http://127.0.0.1:$port/v3/access-request-status" 2>/dev/null <<'PY'
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=30)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code == 401 else 1)
sys.exit(1)
PY
        then
            ready=1
            break
        fi
        sleep 0.2
    done
    if [ -z "$ready" ]; then
        echo "sam local start-api did not come up:" >&2
        cat "$work/sam.log" >&2
        exit 1
    fi
    status=0
    python tests/sdk/sdk_flow.py --base-url "http://127.0.0.1:$port" --token-url "$BASE_URL/oauth/token" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "--- sam local start-api log (last 80 lines) ---"
        tail -n 80 "$work/sam.log"
    fi
    exit "$status"
fi

stages=("$@")
[ "${#stages[@]}" -gt 0 ] || stages=(invoke start-api)
for s in "${stages[@]}"; do
    case "$s" in invoke | start-api) ;; *) echo "usage: $0 [invoke] [start-api]" >&2; exit 2 ;; esac
done

cat <<EOF
========================================================================
NOTE: the Lambda base image these containers run, $base_image,
is a LOCAL STAND-IN unless it was pulled from the registry: the public image
registry is unreachable from this machine, so a Debian bookworm root file
system (debootstrap --variant=minbase) is imported under that name, and SAM
adds its own Runtime Interface Emulator on top (--skip-pull-image). On a
machine with Docker and the registry, the README's ordinary sam local
commands apply and SAM pulls the real image.
========================================================================
EOF

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "sam_local_test: needs root or sudo" >&2; exit 1; }
    as_root=(sudo)
fi

timer_start=$SECONDS
lap() { echo "== $1: $((SECONDS - timer_start)) s"; timer_start=$SECONDS; }

apt_install() {
    echo "== apt-get install $*"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

work="$(mktemp -d)"
dockerd_pid=""
cleanup() {
    if [ -n "$dockerd_pid" ]; then
        echo "== stopping the dockerd this script started (pid $dockerd_pid)"
        "${as_root[@]}" kill -TERM "$dockerd_pid" 2>/dev/null || true
        for _ in $(seq 200); do "${as_root[@]}" kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
        "${as_root[@]}" kill -KILL "$dockerd_pid" 2>/dev/null || true
    fi
    "${as_root[@]}" rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. The container engine.
if docker info >/dev/null 2>&1; then
    echo "== using the running container engine"
else
    if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
        apt_install docker.io
    fi
    echo "== starting dockerd (log: $work/dockerd.log)"
    "${as_root[@]}" dockerd >"$work/dockerd.log" 2>&1 &
    dockerd_pid=$!
    for _ in $(seq 300); do
        docker info >/dev/null 2>&1 && break
        if ! "${as_root[@]}" kill -0 "$dockerd_pid" 2>/dev/null; then
            dockerd_pid=""
            echo "dockerd exited:" >&2
            cat "$work/dockerd.log" >&2
            exit 1
        fi
        sleep 0.2
    done
    docker info >/dev/null 2>&1 || { echo "dockerd did not answer:" >&2; tail -40 "$work/dockerd.log" >&2; exit 1; }
fi
lap "container engine"

# 2. The base image: present (pulled, or a stand-in built earlier by this
#    recipe), or built now.
rapid_image="${base_image%%:*}:al2023-rapid-$arch"  # SAM's emulation image on top of it
recipe=""
if docker image inspect "$base_image" >/dev/null 2>&1; then
    recipe="$(docker image inspect -f "{{index .Config.Labels \"$STAND_IN_LABEL\"}}" "$base_image")"
    if [ -z "$recipe" ]; then
        echo "== $base_image: present, not a stand-in (pulled from the registry)"
    elif [ "$recipe" = "$STAND_IN_RECIPE" ]; then
        echo "== $base_image: the local stand-in built earlier ($recipe)"
    else
        echo "== $base_image: a stand-in of another recipe ($recipe): rebuilding it"
        docker image rm -f "$base_image" "$rapid_image" >/dev/null 2>&1 || true
    fi
fi
if ! docker image inspect "$base_image" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    echo "== building the stand-in $base_image: debootstrap --variant=minbase --include=ca-certificates bookworm"
    rootfs="$work/rootfs"
    # The mirror: debootstrap's default unless DEBOOTSTRAP_MIRROR says otherwise.
    "${as_root[@]}" debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" \
        ${DEBOOTSTRAP_MIRROR:-} >"$work/debootstrap.log" 2>&1 || {
        tail -40 "$work/debootstrap.log" >&2
        exit 1
    }
    "${as_root[@]}" mkdir -p "$rootfs/var/task" "$rootfs/var/runtime" "$rootfs/opt"
    "${as_root[@]}" sh -c 'rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb' sh "$rootfs"
    "${as_root[@]}" tar --numeric-owner -C "$rootfs" -c . | docker import \
        --change "LABEL $STAND_IN_LABEL=$STAND_IN_RECIPE" \
        --change 'ENV LAMBDA_TASK_ROOT=/var/task' \
        --change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
        --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/opt/bin' \
        --change 'WORKDIR /var/task' \
        --message "stand-in for the AWS Lambda provided.al2023 base image: Debian bookworm minbase" \
        - "$base_image" >/dev/null
    "${as_root[@]}" rm -rf "$rootfs"
    # SAM would keep using an emulation image built on an earlier base.
    docker image rm -f "$rapid_image" >/dev/null 2>&1 || true
    echo "== built $base_image ($(docker image inspect -f '{{.Size}}' "$base_image" | awk '{printf "%.0f MB", $1 / 1e6}'))"
fi
lap "base image"

# 3. SAM CLI and the build.
set --  # venv.sh takes its arguments as pip requirements
source scripts/venv.sh
if [ "$(python -c 'import importlib.metadata as m; print(m.version("aws-sam-cli"))' 2>/dev/null)" != "$SAM_CLI_VERSION" ]; then
    echo "== installing aws-sam-cli $SAM_CLI_VERSION into .venv"
    python -m pip install --quiet --disable-pip-version-check "aws-sam-cli==$SAM_CLI_VERSION"
fi
mapfile -t functions < <(python scripts/routes.py functions)
declare -A logical_ids=()
while read -r fn rid; do logical_ids[$fn]="$rid"; done < <(python scripts/routes.py logical-ids)
if [ "${SAM_LOCAL_BUILD:-prebuilt}" = sam ]; then
    echo "== sam build --parameter-overrides Architecture=$arch"
    sam build --parameter-overrides "Architecture=$arch" --build-dir "$build_dir" >"$work/sam-build.log" 2>&1 || {
        tail -60 "$work/sam-build.log" >&2
        exit 1
    }
    python scripts/sam_local_template.py --built-template "$build_dir/template.yaml"
else
    bins=()
    for f in "${functions[@]}"; do bins+=(--bin "$f"); done
    echo "== cargo build --locked ${bins[*]} (debug, as the test run builds them)"
    cargo build --quiet --locked "${bins[@]}"
    python scripts/sam_local_template.py --bin-dir "$target_dir/debug" --out "$build_dir"
fi
template="$build_dir/template.yaml"
lap "build (${SAM_LOCAL_BUILD:-prebuilt})"

# 4. sam local invoke, every smoke fixture of every function.
run_invoke() {
    local responses="$work/responses" count=0 fn rid c out
    mkdir -p "$responses"
    printf '%-62s %s\n' "case" "status"
    for fn in "${functions[@]}"; do
        rid="${logical_ids[$fn]}"
        mkdir -p "$responses/$fn"
        # The smoke cases: all, or (SAM_LOCAL_SMOKE=pair) the first, a success,
        # and the first whose expected status is an error.
        python - "$fn" "${SAM_LOCAL_SMOKE:-all}" >"$work/cases" <<'PY'
import json, sys
sys.path.insert(0, "scripts")
from routes import routes
function, which = sys.argv[1], sys.argv[2]
cases = next(r for r in routes() if r["function"] == function).get("smoke", [])
for case in cases:
    for suffix in (".json", ".expected.json"):
        try:
            open(f"events/{function}/{case}{suffix}").close()
        except OSError:
            sys.exit(f"routes.toml: smoke case {case} of {function} has no events/{function}/{case}{suffix}")
status = {c: json.load(open(f"events/{function}/{c}.expected.json"))["statusCode"] for c in cases}
rejections = [c for c in cases if status[c] >= 400]
if not cases or status[cases[0]] >= 400 or not rejections:
    sys.exit(f"routes.toml: the smoke cases of {function} must start with a success and hold a rejection")
print("\n".join(cases if which == "all" else [cases[0], rejections[0]]))
PY
        mapfile -t cases <"$work/cases"
        for c in "${cases[@]}"; do
            out="$responses/$fn/$c.json"
            if ! sam local invoke "$rid" -t "$template" -e "events/$fn/$c.json" --env-vars events/env.json \
                --skip-pull-image --parameter-overrides "Architecture=$arch" >"$out" 2>"$work/invoke.log"; then
                echo "sam local invoke $rid -e events/$fn/$c.json failed:" >&2
                cat "$work/invoke.log" >&2
                exit 1
            fi
            printf '%-62s %s\n' "$fn/$c" "$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["statusCode"])' \
                "$out" 2>/dev/null || echo "not a proxy response")"
            count=$((count + 1))
        done
    done
    echo "== comparing with the expected files (event_fixtures::emulator_responses)"
    EMULATOR_RESPONSES_DIR="$responses" cargo test --quiet --locked -p local-api --test event_fixtures \
        emulator_responses -- --ignored --exact
    echo "== sam local invoke: $count fixtures of ${#functions[@]} functions answered as expected"
}

# 5. sam local start-api on DynamoDB, and the Python SDK flow through it.
run_start_api() {
    local gateway
    # The bridge's gateway, else docker0's address; else Docker's own error.
    if ! gateway="$(docker_bridge_address)"; then
        echo "sam_local_test: no Docker bridge address to serve DynamoDB on (see above)" >&2
        exit 1
    fi
    echo "== DynamoDB (moto_server) for the containers on the Docker bridge address $gateway"
    cargo build --quiet --locked -p local-api
    SAM_LOCAL_TEMPLATE="$template" SAM_LOCAL_ARCH="$arch" MOTO_HOST="$gateway" \
        bash scripts/with-moto.sh env TABLE_NAME="sam-local-$$" JWT_HS256_SECRET="sam-local-secret-$$" \
        bash scripts/local_api.sh bash scripts/sam_local_test.sh start-api-flow
}

for s in "${stages[@]}"; do
    case "$s" in
        invoke) run_invoke; lap "sam local invoke" ;;
        start-api) run_start_api; lap "sam local start-api + SDK flow" ;;
    esac
done
