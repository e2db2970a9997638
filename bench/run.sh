#!/usr/bin/env bash
# The performance figures, in one command:
#
#   bash bench/run.sh
#
# 1. builds, once, with the release profile (one fat-LTO link per binary; a
#    second run reuses them): every function of routes.toml and the floor (a
#    bare lambda_http function, bench/lambda-floor); and the local server that
#    seeds the table;
# 2. optionally the arm64 Lambda bundle (scripts/lambda_build.sh: the zipped
#    sizes) and the warm-path benches (criterion: each handler end to end on
#    the in-process store; bench/warm/benches/handlers.rs);
# 3. starts moto_server (scripts/with-moto.sh), shows that it closes every
#    connection and that the TLS front in front of it keeps them alive
#    (bench/tls_front.py --check), then runs the cold-start harness under
#    Lambda's CPU model (bench/coldstart.py: init at full CPU, invocations
#    under a cgroup quota of memory/1769 of a core; the store over TLS with
#    kept-alive connections), each function interleaved with the floor, at
#    each memory size;
# 4. prints the tables and the cost of a million requests (bench/report.py)
#    and writes them to bench/results.md.
#
# Knobs (environment):
#   COLDSTART_STARTS     cold starts per function, memory size and variant (5)
#   COLDSTART_WARM       warm requests per start (20: p50/p99 of 100 per cell)
#   COLDSTART_MEMORY     memory sizes in MB (128,256,512,1024)
#   COLDSTART_VARIANTS   set-ups to compare (default-builtin: DYNAMODB_WARMUP
#                        unset; 'all': warmup-builtin, lazy-builtin,
#                        warmup-bundle and lazy-bundle, the measurement that
#                        chose the default)
#   BENCH_JOBS           cargo -j for the release build (1: the machine is shared)
#   BENCH_LAMBDA_BUILD=1 also run scripts/lambda_build.sh (a second full build,
#                        arm64) for the zipped sizes; default: reuse the last one
#   BENCH_WARM=1         also run the criterion warm-path benches
#   BENCH_SKIP_COLD=1    reuse the last cold-start results (only the report)
#   BENCH_OUT            where the report goes (bench/results.md); a partial run
#                        (one memory size, another set-up) writes beside it
#   BENCH_CPU_SHARES     CPU weight of the cold starts' cgroup (4096; 1024 is
#                        everything else's)
# Needs root (cgroup v1 cpu controller). The cold starts take about
# (starts + 1) x memory sizes x (1 + functions x variants) x 1.6 s with 20 warm
# requests each: 14 min for 5 functions x 4 variants or for 20 functions x the
# default, at 4 sizes (the total is printed at the end). Timings move with
# machine load, which the report notes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/venv.sh

mapfile -t functions < <(python -c '
import tomllib
with open("routes.toml", "rb") as f:
    print("\n".join(r["function"] for r in tomllib.load(f)["route"]))')
packages=()
for f in "${functions[@]}" lambda-floor; do packages+=(-p "$f"); done

began=$SECONDS
# The same package set every time: cargo unifies features over the packages
# of one build, so another set would rebuild (and re-link) every binary.
echo "== release build: ${functions[*]} lambda-floor"
cargo build --release -j "${BENCH_JOBS:-1}" "${packages[@]}"
echo "== local-api (creates and seeds the table; dev profile)"
cargo build -j "${BENCH_JOBS:-1}" -p local-api
if [ "${BENCH_LAMBDA_BUILD:-0}" = 1 ]; then
    echo "== arm64 Lambda build (zipped sizes)"
    bash scripts/lambda_build.sh
fi

status=0
if [ "${BENCH_WARM:-0}" = 1 ]; then
    echo "== warm-path benches (criterion)"
    cargo bench -p bench-warm --bench handlers -- --noplot || status=$?
fi
if [ "${BENCH_SKIP_COLD:-0}" != 1 ]; then
    echo "== cold starts under the Lambda CPU model (moto_server behind TLS)"
    # Everything the cold starts run (moto_server, the TLS front, the
    # harness, the functions) goes into one cgroup with BENCH_CPU_SHARES
    # (default 4096: four times the weight of the machine's other work), so
    # that the store answers as promptly as DynamoDB does and the functions
    # get their quota; the quota groups of the CPU model sit inside it.
    group="/sys/fs/cgroup/cpu/bench-$$"
    mkdir "$group"
    trap 'rmdir "$group" 2>/dev/null || true' EXIT
    echo "${BENCH_CPU_SHARES:-4096}" >"$group/cpu.shares"
    (echo "$BASHPID" >"$group/cgroup.procs" && exec bash scripts/with-moto.sh bash -c '
        set -euo pipefail
        mkdir -p target/bench
        python bench/tls_front.py --upstream "$AWS_ENDPOINT_URL_DYNAMODB" --check \
            | tee target/bench/tls-check.txt
        python bench/coldstart.py --local-api target/debug/local-api') || status=$?
    for _ in 1 2 3 4 5; do rmdir "$group" 2>/dev/null && break || sleep 1; done
fi

echo "== results"
python bench/report.py --out "${BENCH_OUT:-bench/results.md}" || status=$?
echo "bench/run.sh: $(( (SECONDS - began) / 60 )) min $(( (SECONDS - began) % 60 )) s in all"
exit "$status"
