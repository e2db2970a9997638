#!/usr/bin/env bash
# The scale benchmark (bench/README.md, "Scale"): every list call with a
# tenant history of 1,000 to 1,000,000 requests,
#   1. on the in-process store (each size in a process of its own);
#   2. on DynamoDB: moto_server, started by scripts/with-moto.sh, whose Query
#      is patched to read only a page, as DynamoDB does (the script says why);
#   3. the peak memory of the function binaries (release) serving the largest
#      pages from those tables, under the Runtime API harness of coldstart.py;
#   4. the local server with 1,000 and 100,000 requests of seed: its load
#      time and memory, and the first pages an administrator opens, over HTTP;
# then writes bench/results-scale.md. Sizes: SCALE_MEMORY_SIZES,
# SCALE_DYNAMODB_SIZES (comma-separated); SCALE_REPEAT calls per median.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
memory_sizes="${SCALE_MEMORY_SIZES:-1000,10000,100000,1000000}"
dynamodb_sizes="${SCALE_DYNAMODB_SIZES:-1000,10000,100000}"
repeat="${SCALE_REPEAT:-5}"
out="${CARGO_TARGET_DIR:-target}/bench/scale"
mkdir -p "$out"
release="${CARGO_TARGET_DIR:-target}/release"

timed() {
    local name="$1" start=$SECONDS
    shift
    echo "== $name"
    "$@"
    echo "== $name: $((SECONDS - start)) s"
}

timed "release build" cargo build --release --locked -p bench-scale -p local-api \
    -p list-access-request-status -p list-completed-approvals

: >"$out/memory.jsonl"
for n in ${memory_sizes//,/ }; do
    timed "in-process store, $n requests" \
        sh -c "\"$release/bench-scale\" run --store memory --sizes $n --repeat $repeat >>\"$out/memory.jsonl\""
done

timed "DynamoDB (moto_server), $dynamodb_sizes requests, and the functions' memory" \
    bash scripts/with-moto.sh sh -c "
        \"$release/bench-scale\" run --store dynamo --sizes $dynamodb_sizes --repeat $repeat --keep-tables >\"$out/dynamodb.jsonl\" &&
        python3 bench/scale_rss.py --sizes $dynamodb_sizes --out \"$out/rss.json\""

timed "the local server with 1,000 and 100,000 requests: load, memory, first pages over HTTP" sh -c "
    : >\"$out/local.jsonl\" &&
    for n in 1000 100000; do
        \"$release/bench-scale\" seed --n \$n --out \"$out/seed-\$n.json\" &&
        python3 bench/scale_local.py \"$release/local-api\" \"$out/seed-\$n.json\" 21 >>\"$out/local.jsonl\" || exit 1
    done"

python3 bench/scale_report.py "$out" >bench/results-scale.md
echo "== wrote bench/results-scale.md"
