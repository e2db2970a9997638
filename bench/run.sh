#!/usr/bin/env bash
# The performance figures of issue 6, in one command:
#
#   bash bench/run.sh
#
# 1. builds the five functions and the floor (a bare lambda_http function,
#    bench/lambda-floor) with the release profile, the arm64 Lambda bundle
#    (scripts/lambda_build.sh: the zipped sizes), and the local server that
#    seeds the table;
# 2. runs the warm-path benches (criterion: each handler end to end on the
#    in-process store; bench/warm/benches/handlers.rs);
# 3. starts moto_server (scripts/with-moto.sh) and runs the cold-start
#    harness (bench/coldstart.py: a Lambda Runtime API on loopback, each
#    binary started as Lambda would, interleaved with the floor);
# 4. prints one table (bench/report.py) and writes it to bench/results.md.
#
# Knobs: COLDSTART_STARTS (starts per binary and mode, default 15),
# BENCH_SKIP_WARM=1 / BENCH_SKIP_COLD=1 (reuse the last results of a step),
# BENCH_LAMBDA_BUILD=0 (skip scripts/lambda_build.sh, the arm64 build that
# gives the zipped sizes; reuse the last one).
# Zipped sizes come from target/lambda/<fn>/bootstrap (cargo lambda build
# --release --arm64) when present; the table flags one older than the release
# binary. Timings move with machine load: the table
# notes the load average.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/venv.sh

functions=(
    create-access-request
    cancel-access-request
    close-access-request
    list-access-request-status
    reject-non-employee-request
)
packages=()
for f in "${functions[@]}" lambda-floor; do packages+=(-p "$f"); done

echo "== release build: ${functions[*]} lambda-floor"
cargo build --release "${packages[@]}"
if [ "${BENCH_LAMBDA_BUILD:-1}" = 1 ]; then
    echo "== arm64 Lambda build (zipped sizes)"
    bash scripts/lambda_build.sh
fi
echo "== local-api (creates and seeds the table)"
cargo build -p local-api

status=0
if [ "${BENCH_SKIP_WARM:-0}" != 1 ]; then
    echo "== warm-path benches (criterion)"
    cargo bench -p bench-warm --bench handlers -- --noplot || status=$?
fi
if [ "${BENCH_SKIP_COLD:-0}" != 1 ]; then
    echo "== cold starts (moto_server)"
    bash scripts/with-moto.sh python bench/coldstart.py \
        --starts "${COLDSTART_STARTS:-15}" --local-api target/debug/local-api || status=$?
fi

echo "== results"
python bench/report.py --out bench/results.md
exit "$status"
