#!/usr/bin/env bash
# Redis rate-limit store: Sluice's decisions/s (bench/redis_bench.cpp: Limiter::rulesFor +
# RedisLimitStore::decide, 4 rules) against redis-benchmark running the same EVALSHA of the same
# script with the same keys and arguments, side by side in one run, and the ratio of the two.
#
# Builds bench_redis (Release) in a build directory of its own, starts a redis-server of its own
# on a free loopback port (no persistence), loads the decide script with SCRIPT LOAD, checks that
# one EVALSHA of redis-benchmark's arguments is allowed, decides every key once (--fill), then
# for each repetition and each CONFIG runs Sluice and then redis-benchmark. For each run it
# records decisions/s, the client's CPU and redis-server's CPU (/proc/PID/stat utime+stime) per
# decision. Markdown tables go to stdout (every run, then medians); build output and progress to
# stderr. See bench/README.md and docs/performance.md ("Rate limiter: Redis store").
#
# Needs redis-server, redis-cli and redis-benchmark (Debian: redis-server, redis-tools).
#
# Environment (all optional):
#   BUILD_DIR    build directory                               (default: /tmp/sluice-bench-redis)
#   JOBS         parallel compile jobs                         (default: 1)
#   DECISIONS    timed decisions per run                       (default: 100000)
#   KEYS         distinct API keys (each with its own user)    (default: 100000)
#   REPS         repetitions; the summary shows medians        (default: 3)
#   CONFIGS      connections x depth pairs                     (default: "1x1 1x16 2x16")
#   SERVER_CPUS  taskset CPU list for redis-server, e.g. "0"   (default: no pinning)
#   CLIENT_CPUS  taskset CPU list for the clients, e.g. "1"    (default: no pinning)
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=redis.sh
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

BUILD_DIR=${BUILD_DIR:-/tmp/sluice-bench-redis}
JOBS=${JOBS:-1}
DECISIONS=${DECISIONS:-100000}
KEYS=${KEYS:-100000}
REPS=${REPS:-3}
CONFIGS=${CONFIGS:-1x1 1x16 2x16}
SERVER_CPUS=${SERVER_CPUS:-}
CLIENT_CPUS=${CLIENT_CPUS:-}

for v in JOBS DECISIONS KEYS REPS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done
for c in $CONFIGS; do
    [[ $c =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || die "CONFIGS: '$c' is not CONNECTIONSxDEPTH"
done
for tool in redis-server redis-cli redis-benchmark; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y redis-server)"
done
if [[ -n $SERVER_CPUS$CLIENT_CPUS ]]; then
    command -v taskset >/dev/null || die "taskset not found (util-linux) but CPUs set"
fi

WORK=$(mktemp -d /tmp/sluice-bench-redis.XXXXXX)
RPID=
cleanup() {
    stop_pid "$RPID" TERM
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'say "redis.sh: command failed at line $LINENO"' ERR

say "configuring and building bench_redis in $BUILD_DIR (Release, -j$JOBS)"
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DSLUICE_BENCH=ON >&2
cmake --build "$BUILD_DIR" --target bench_redis -j "$JOBS" >&2
BIN=$BUILD_DIR/bench/bench_redis

# A free port, and a redis-server on it without persistence.
PORT=
for ((i = 0; i < 50; i++)); do
    p=$((20000 + RANDOM % 20000))
    if ! port_busy "$p"; then
        PORT=$p
        break
    fi
done
[[ -n $PORT ]] || die "no free port found"
cli() { redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }
say "starting redis-server on 127.0.0.1:$PORT"
(pin "$SERVER_CPUS" redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no \
    --dir "$WORK" --logfile "$WORK/redis.log" --daemonize no) &
RPID=$!
for ((i = 0; i < 100; i++)); do
    [[ $(cli PING 2>/dev/null) == PONG ]] && break
    kill -0 "$RPID" 2>/dev/null || die "redis-server exited: $(cat "$WORK/redis.log")"
    sleep 0.1
done
[[ $(cli PING 2>/dev/null) == PONG ]] || die "redis-server does not answer PING"

# The decide script, loaded as every gateway's first EVALSHA would find it.
sha=$("$BIN" --dump-script "$WORK/decide.lua")
loaded=$(cli -x SCRIPT LOAD <"$WORK/decide.lua")
[[ $loaded == "$sha" ]] || die "SCRIPT LOAD gave $loaded, bench_redis says $sha"
mapfile -t CMD < <("$BIN" --print-command)
[[ ${CMD[0]} == EVALSHA && ${CMD[1]} == "$sha" ]] || die "unexpected --print-command output"
# One decision through redis-cli with redis-benchmark's arguments: allowed, 2 + 5 x 4 fields.
mapfile -t reply < <(cli "${CMD[@]//__rand_int__/000000000000}")
if ((${#reply[@]} != 22)) || [[ ${reply[0]} != 1 ]]; then
    die "EVALSHA with redis-benchmark's arguments: expected an allowed 22-field reply, got: ${reply[*]}"
fi

say "filling $KEYS keys (each decided once)"
"$BIN" --url "redis://127.0.0.1:$PORT" --keys "$KEYS" --fill --warmup 0 --decisions 1 >/dev/null

HZ=$(getconf CLK_TCK)
CLIENT=()
[[ -z $CLIENT_CPUS ]] || CLIENT=(taskset -c "$CLIENT_CPUS")
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$({ git -C "$ROOT" status --porcelain -- core/limiter core/redis bench 2>/dev/null || true; } |
    awk '{ printf "%s%s", sep, $2; sep = ", " }')
echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit${dirty:+, uncommitted: $dirty}"
echo "- Host: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(redis-server --version | cut -d' ' -f1-3), $(redis-benchmark --version); script $sha"
echo "- $DECISIONS decisions per run, $KEYS keys, $REPS repetitions; pinning: server ${SERVER_CPUS:-none}, clients ${CLIENT_CPUS:-none}"
echo
echo "| rep | connections x depth | tool | decisions/s | client CPU µs/decision | redis-server CPU µs/decision |"
echo "|---:|---|---|---:|---:|---:|"

RESULTS=$WORK/results  # lines: config tool rate client_us server_us
: >"$RESULTS"
# measure TOOL C P: one timed run; appends "config tool rate client_us server_us" to $RESULTS
# and prints a table row. bench_redis reports its own and the server's CPU over its timed phase
# (warm-up excluded); for redis-benchmark (no warm-up) they are the whole process's CPU (bash
# `time`) and the server's CPU around it.
measure() {
    local tool=$1 c=$2 d=$3 s0 s1 rate cu su
    if [[ $tool == sluice ]]; then
        "${CLIENT[@]}" "$BIN" --url "redis://127.0.0.1:$PORT" --keys "$KEYS" --connections "$c" \
            --depth "$d" --decisions "$DECISIONS" --server-pid "$RPID" >"$WORK/out"
        rate=$(sed -n 's/.*decisions_per_s=\([0-9]*\).*/\1/p' "$WORK/out")
        cu=$(sed -n 's/.*client_cpu_us_per_decision=\([0-9.]*\).*/\1/p' "$WORK/out")
        su=$(sed -n 's/.*server_cpu_us_per_decision=\([0-9.]*\).*/\1/p' "$WORK/out")
    else
        s0=$(tree_ticks "$RPID")
        { time "${CLIENT[@]}" redis-benchmark -h 127.0.0.1 -p "$PORT" -n "$DECISIONS" -c "$c" \
            -P "$d" -r "$KEYS" --csv "${CMD[@]}" >"$WORK/out"; } 2>"$WORK/time"
        s1=$(tree_ticks "$RPID")
        rate=$(tail -n 1 "$WORK/out" | awk -F'","' '{ printf "%.0f", $2 }')
        cu=$(awk -v n="$DECISIONS" '/^cpu / { printf "%.2f", ($2 + $3) * 1e6 / n }' "$WORK/time")
        su=$(awk -v n="$DECISIONS" -v hz="$HZ" -v t="$((s1 - s0))" \
            'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    fi
    [[ $rate =~ ^[0-9]+$ && -n $cu && -n $su ]] ||
        die "$tool ${c}x$d: no figures in: $(cat "$WORK/out" "$WORK/time" 2>/dev/null)"
    echo "${c}x$d $tool $rate $cu $su" >>"$RESULTS"
    echo "| $rep | ${c}x$d | $tool | $rate | $cu | $su |"
}

TIMEFORMAT='cpu %U %S'
for ((rep = 1; rep <= REPS; rep++)); do
    for cfg in $CONFIGS; do
        say "rep $rep/$REPS, $cfg: sluice, then redis-benchmark"
        measure sluice "${cfg%x*}" "${cfg#*x}"
        measure redis-benchmark "${cfg%x*}" "${cfg#*x}"
    done
done

echo
echo "Medians of $REPS runs (ratio = sluice / redis-benchmark decisions/s):"
echo
echo "| connections x depth | Sluice decisions/s | redis-benchmark decisions/s | ratio | Sluice client CPU µs | redis-benchmark CPU µs | redis-server CPU µs, Sluice | redis-server CPU µs, redis-benchmark |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$1" -v t="$2" -v f="$3" '$1 == c && $2 == t { print $f }' "$RESULTS" | median; }
for cfg in $CONFIGS; do
    s=$(col "$cfg" sluice 3)
    r=$(col "$cfg" redis-benchmark 3)
    awk -v cfg="$cfg" -v s="$s" -v r="$r" -v sc="$(col "$cfg" sluice 4)" \
        -v rc="$(col "$cfg" redis-benchmark 4)" -v ss="$(col "$cfg" sluice 5)" \
        -v rs="$(col "$cfg" redis-benchmark 5)" \
        'BEGIN { printf "| %s | %d | %d | %.2f | %s | %s | %s | %s |\n", cfg, s, r, s / r, sc, rc, ss, rs }'
done
echo
echo "- redis-server keys after the runs: $(cli DBSIZE)"
