#!/usr/bin/env bash
# Two builds of one function, cold-started in alternation under the Lambda
# CPU model: what a change does to init, the first request and their CPU,
# when the difference is smaller than the spread between runs.
#
#   bash bench/ab.sh REV_A REV_B [FUNCTION] [ROUNDS] [MEMORY_MB]
#
# Builds FUNCTION (default get-non-employee-request) and the floor with the
# release profile at each git revision (a worktree under target/ab, one
# target folder for both, so the dependencies build once), then runs
# bench/coldstart.py ROUNDS times (default 6) for each build in turn, 7 cold
# starts and 3 warm requests each, at MEMORY_MB (default 128), against
# moto_server behind the TLS front; and prints the medians over every start
# of each build (bench/ab_summary.py). AB_STORE_RTT_MS puts a network round
# trip between the functions and the store (bench/tls_front.py --rtt-ms;
# default 0, loopback's). Needs root (cgroup v1), like
# bench/run.sh. 9 min the first time (the dependencies build once, in
# target/ab), then ~2 min per function and revision and ~2 min of rounds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

a="$(git rev-parse --short "${1:?REV_A}")"
b="$(git rev-parse --short "${2:?REV_B}")"
function="${3:-get-non-employee-request}"
rounds="${4:-6}"
memory="${5:-128}"
set --  # venv.sh would take the arguments for pip requirements
source scripts/venv.sh
out="$root/target/ab"
mkdir -p "$out"

git worktree prune  # a worktree whose folder was deleted with target/
for commit in "$a" "$b"; do
    tree="$out/tree-$commit"
    [ -d "$tree" ] || git worktree add --detach "$tree" "$commit" >/dev/null
    echo "== release build of $function and lambda-floor at $commit"
    (cd "$tree" && CARGO_TARGET_DIR="$out/target" cargo build --release -q \
        -p "$function" -p lambda-floor)
    mkdir -p "$out/bin-$commit"
    cp "$out/target/release/$function" "$out/target/release/lambda-floor" "$out/bin-$commit/"
done

runs=()
for round in $(seq "$rounds"); do
    for commit in "$a" "$b"; do
        echo "== round $round/$rounds: $commit"
        json="$out/$commit-$round.json"
        bash scripts/with-moto.sh python bench/coldstart.py --bin-dir "$out/bin-$commit" \
            --functions "$function" --memory "$memory" --starts 7 --warm 3 \
            --variants default-builtin --store-rtt-ms "${AB_STORE_RTT_MS:-0}" \
            --json "$json" >/dev/null
        runs+=("$commit=$json")
    done
done
python bench/ab_summary.py --function "$function" --memory "$memory" "${runs[@]}"
