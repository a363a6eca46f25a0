#!/usr/bin/env bash
# Memory rate-limit store micro-benchmarks (bench/limiter_bench.cpp on Google Benchmark):
# decisions/s with the default rules on one key and on 100,000 keys (1 and 2 threads), one
# decision's latency with a single GCRA rule, and bytes per key at a million keys.
#
# Builds bench_limiter (Release) in a build directory of its own, then runs it: each memory
# benchmark in a fresh process (memory freed by an earlier benchmark would hide growth), then
# the others with repetitions. Google Benchmark's tables go to stdout; build output and
# progress to stderr. See bench/README.md and docs/performance.md ("Rate limiter: memory store").
#
# Needs Google Benchmark: apt-get install -y libbenchmark-dev (Debian 12: 1.7.1).
#
# Environment (all optional):
#   BUILD_DIR  build directory                          (default: /tmp/sluice-bench-limiter)
#   JOBS       parallel compile jobs                    (default: 1; these machines have 2 CPUs)
#   MIN_TIME   seconds per timed benchmark and run      (default: 1)
#   REPS       repetitions; mean/median/stddev/cv shown (default: 3)
#   FILTER     run only the benchmarks matching this regex, once each (default: all, as above)
#   CPUS       taskset CPU list for the benchmark, e.g. "1" (default: no pinning)
# Further arguments go to bench_limiter, e.g. --benchmark_format=json.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=limiter.sh
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

BUILD_DIR=${BUILD_DIR:-/tmp/sluice-bench-limiter}
JOBS=${JOBS:-1}
MIN_TIME=${MIN_TIME:-1}
REPS=${REPS:-3}
FILTER=${FILTER:-}
CPUS=${CPUS:-}

[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "JOBS must be a positive integer"
[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer"
[[ $MIN_TIME =~ ^[0-9]*\.?[0-9]+$ ]] || die "MIN_TIME must be a number of seconds"
if [[ -n $CPUS ]]; then
    command -v taskset >/dev/null || die "taskset not found (util-linux) but CPUS set"
fi
trap 'say "limiter.sh: command failed at line $LINENO"' ERR

say "configuring and building bench_limiter in $BUILD_DIR (Release, -j$JOBS)"
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DSLUICE_BENCH=ON >&2
if grep -q '^benchmark_DIR:PATH=.*NOTFOUND' "$BUILD_DIR/CMakeCache.txt"; then
    die "Google Benchmark not found: apt-get install -y libbenchmark-dev"
fi
cmake --build "$BUILD_DIR" --target bench_limiter -j "$JOBS" >&2
BIN=$BUILD_DIR/bench/bench_limiter

bench() { (pin "$CPUS" "$BIN" "$@"); }

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$({ git -C "$ROOT" status --porcelain -- core/limiter bench 2>/dev/null || true; } |
    awk '{ printf "%s%s", sep, $2; sep = ", " }')
echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit${dirty:+, uncommitted: $dirty}"
echo "- Host: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- Pinning: ${CPUS:-none}"
echo

if [[ -n $FILTER ]]; then
    bench --benchmark_filter="$FILTER" --benchmark_min_time="$MIN_TIME" "$@"
    exit 0
fi
for what in single_gcra default_rules; do
    say "memory: 1M keys, $what (fresh process)"
    bench --benchmark_filter="^BM_Memory_1MKeys/$what/" --benchmark_counters_tabular=true "$@"
done
say "decisions and latency: $REPS x ${MIN_TIME} s each"
bench --benchmark_filter=-BM_Memory --benchmark_min_time="$MIN_TIME" \
    --benchmark_repetitions="$REPS" --benchmark_display_aggregates_only=true "$@"
