#!/usr/bin/env bash
# Proxy benchmark: chat completions through sluice, through nginx as a plain reverse proxy, and
# straight to the mock upstream (sluice-mock-llm), side by side in the same run.
#
# For each scenario (JSON, SSE stream, SSE stream with one TCP write per event) and connection
# count, measures requests/s, p50/p99 latency (wrk --latency) and CPU time per request of the
# proxy (sluice or nginx: utime+stime from /proc/PID/stat, summed over its process tree) and of
# the mock, alternating the order of the three targets from run to run. Before measuring, checks
# that sluice and nginx answer exactly what the mock answers. Prints markdown tables on stdout;
# progress goes to stderr. See bench/README.md.
#
# Builds nothing. Build the release binaries first (the mock needs BUILD_TESTING=ON, the default):
#   cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-release --target sluice mock_llm
#
# Environment (all optional):
#   SLUICE_BIN     sluice executable        (default: <repo>/build-release/app/sluice)
#   MOCK_BIN       mock upstream            (default: <repo>/build-release/tests/mock/sluice-mock-llm)
#   NGINX_BIN      nginx executable         (default: nginx from PATH, else /usr/sbin/nginx)
#   WRK_BIN        wrk executable           (default: wrk from PATH)
#   WORKERS        sluice --workers and nginx worker_processes (default: nproc)
#   SCENARIOS      any of "json stream stream-split" (default: all three)
#   CONNECTIONS    wrk connection counts    (default: "1 16 64")
#   DURATION       seconds per wrk run      (default: 10)
#   RUNS           repetitions              (default: 3)
#   WARMUP         seconds of warm-up per target before the first run (default: 2; 0 = none)
#   WRK_THREADS    wrk threads              (default: 2, or the connection count if smaller)
#   KEYS           users and API keys created in sluice and rotated by wrk (default: 100)
#   SPLIT_DELAY_MS x-mock-chunk-delay-ms of stream-split (default: 1)
#   MOCK_PORT      (default 28385)  NGINX_PORT (default 28386)  SLUICE_PORT (default 28387)
#   GATEWAY_CPUS   taskset CPU list for sluice and nginx (default: no pinning)
#   MOCK_CPUS      taskset CPU list for the mock         (default: no pinning)
#   LOADGEN_CPUS   taskset CPU list for wrk              (default: no pinning)
#   KEEP_TMP=1     keep the temp dir (configs, keys, logs, raw wrk output) and print its path
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=proxy.sh
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

SLUICE_BIN=${SLUICE_BIN:-$ROOT/build-release/app/sluice}
MOCK_BIN=${MOCK_BIN:-$ROOT/build-release/tests/mock/sluice-mock-llm}
NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
WRK_BIN=${WRK_BIN:-$(command -v wrk || echo wrk)}
WORKERS=${WORKERS:-$(nproc)}
SCENARIOS=${SCENARIOS:-json stream stream-split}
CONNECTIONS=${CONNECTIONS:-1 16 64}
DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-2}
WRK_THREADS=${WRK_THREADS:-2}
KEYS=${KEYS:-100}
SPLIT_DELAY_MS=${SPLIT_DELAY_MS:-1}
MOCK_PORT=${MOCK_PORT:-28385}
NGINX_PORT=${NGINX_PORT:-28386}
SLUICE_PORT=${SLUICE_PORT:-28387}
GATEWAY_CPUS=${GATEWAY_CPUS:-}
MOCK_CPUS=${MOCK_CPUS:-}
LOADGEN_CPUS=${LOADGEN_CPUS:-}
KEEP_TMP=${KEEP_TMP:-0}
TARGETS=(direct nginx sluice)
API_PATH=/v1/chat/completions

# ---- preconditions --------------------------------------------------------------------------

build_hint="Build them first (from the repository root):
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build build-release --target sluice mock_llm
or point SLUICE_BIN / MOCK_BIN at existing builds."
[[ -x $SLUICE_BIN ]] || die "no sluice executable at $SLUICE_BIN
$build_hint"
[[ -x $MOCK_BIN ]] || die "no mock upstream at $MOCK_BIN (it is built with BUILD_TESTING=ON)
$build_hint"
[[ -x $NGINX_BIN ]] || die "nginx not found (apt-get install -y nginx, or set NGINX_BIN)"
command -v "$WRK_BIN" >/dev/null || die "wrk not found (apt-get install -y wrk, or set WRK_BIN)"
for tool in curl awk python3; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
if [[ -n $GATEWAY_CPUS || -n $MOCK_CPUS || -n $LOADGEN_CPUS ]]; then
    command -v taskset >/dev/null || die "taskset not found (util-linux) but a *_CPUS variable is set"
fi
[[ $WORKERS =~ ^[1-9][0-9]*$ ]] || die "WORKERS must be a positive integer"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "DURATION must be a whole number of seconds"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a whole number of seconds"
[[ $KEYS =~ ^[1-9][0-9]*$ ]] || die "KEYS must be a positive integer"
[[ $SPLIT_DELAY_MS =~ ^[1-9][0-9]*$ ]] || die "SPLIT_DELAY_MS must be a positive integer"
[[ $WRK_THREADS =~ ^[1-9][0-9]*$ ]] || die "WRK_THREADS must be a positive integer"
for c in $CONNECTIONS; do
    [[ $c =~ ^[1-9][0-9]*$ ]] || die "CONNECTIONS must be positive integers, got '$c'"
done
for s in $SCENARIOS; do
    [[ $s =~ ^(json|stream|stream-split)$ ]] || die "unknown scenario '$s' (json, stream, stream-split)"
done
[[ -n ${SCENARIOS// /} && -n ${CONNECTIONS// /} ]] || die "SCENARIOS and CONNECTIONS must not be empty"

for p in "$MOCK_PORT" "$NGINX_PORT" "$SLUICE_PORT"; do
    [[ $p =~ ^[1-9][0-9]*$ ]] || die "ports must be numbers, got '$p'"
    if port_busy "$p"; then
        die "port $p is busy; stop whatever listens there or choose MOCK_PORT/NGINX_PORT/SLUICE_PORT"
    fi
done
[[ $(printf '%s\n' "$MOCK_PORT" "$NGINX_PORT" "$SLUICE_PORT" | sort -u | wc -l) == 3 ]] ||
    die "MOCK_PORT, NGINX_PORT and SLUICE_PORT must differ"

# ---- processes and cleanup -----------------------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-proxy.XXXXXX")
MOCK_PID=""
NGINX_PID=""
SLUICE_PID=""
WRK_PID=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$WRK_PID" TERM
    stop_pid "$SLUICE_PID" TERM   # drains (nothing in flight at this point), flushes the ledger, exits
    stop_pid "$NGINX_PID" TERM    # fast shutdown; the master takes its workers along
    stop_pid "$MOCK_PID" TERM
    if [[ $KEEP_TMP == 1 ]]; then
        say "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'say "proxy.sh: command failed at line $LINENO"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

wait_ready() {  # wait_ready NAME PID PORT PATH: until GET PATH answers 200
    local name=$1 pid=$2 port=$3 path=$4 i
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || die "$name exited during startup; its log is in $TMP (run with KEEP_TMP=1)"
        if [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path") == 200 ]]; then
            return 0
        fi
        sleep 0.1
    done
    die "$name did not answer $path on port $port within 30 s"
}

# The mock: one thread; --record-limit 0 so that it does not keep the requests it receives.
(pin "$MOCK_CPUS" "$MOCK_BIN" --host 127.0.0.1 --port "$MOCK_PORT" --record-limit 0) \
    </dev/null >"$TMP/mock.log" 2>&1 &
MOCK_PID=$!
wait_ready mock "$MOCK_PID" "$MOCK_PORT" /mock/stats

# sluice: both API families on the mock; KEYS users with one key each, every limit set high so
# that no request is refused but every limit is a real one (nothing "unlimited" to skip).
mkdir -p "$TMP/sluice-data"
cat >"$TMP/sluice.ini" <<EOF
[upstream.openai]
kind = openai
base_url = http://127.0.0.1:$MOCK_PORT/v1
api_key = sk-upstream-bench-openai

[upstream.anthropic]
kind = anthropic
base_url = http://127.0.0.1:$MOCK_PORT
api_key = sk-upstream-bench-anthropic
EOF
say "creating $KEYS users and keys with sluice keys create ..."
# Users get their limits from their tier (free: 100 requests a minute per user), so lift the free
# tier's to the same high values first; otherwise most requests of a run are 429s.
"$SLUICE_BIN" tiers set free --config "$TMP/sluice.ini" --data-dir "$TMP/sluice-data" \
    --rps 1000000 --burst 1000000 --rpm 1000000000 --tpm 1000000000000 \
    --monthly-requests 1000000000000 --monthly-tokens 1000000000000 \
    --concurrent-requests 1000000 >>"$TMP/keys-create.log" 2>&1 ||
    die "sluice tiers set failed: $(tail -3 "$TMP/keys-create.log")"
: >"$TMP/keys.txt"
for ((i = 1; i <= KEYS; i++)); do
    key=$("$SLUICE_BIN" keys create --config "$TMP/sluice.ini" --data-dir "$TMP/sluice-data" \
        --user "$(printf 'bench%03d' "$i")" --create-user --name bench \
        --rps 1000000 --burst 1000000 --rpm 1000000000 --tpm 1000000000000 \
        --monthly-requests 1000000000000 --monthly-tokens 1000000000000 \
        --concurrent-requests 1000000 2>>"$TMP/keys-create.log" | tail -1) || die "sluice keys create failed: $(tail -3 "$TMP/keys-create.log")"
    [[ $key =~ ^sk-[A-Za-z0-9_-]+$ ]] || die "sluice keys create printed '$key', not a key"
    printf '%s\n' "$key" >>"$TMP/keys.txt"
done
FIRST_KEY=$(head -1 "$TMP/keys.txt")

# Access log lines are info level; --log-level warning switches them off, like access_log off.
(pin "$GATEWAY_CPUS" "$SLUICE_BIN" --headless --config "$TMP/sluice.ini" --data-dir "$TMP/sluice-data" \
    --listen "127.0.0.1:$SLUICE_PORT" --admin-listen 127.0.0.1:0 --workers "$WORKERS" \
    --log-level warning) </dev/null >"$TMP/sluice.log" 2>&1 &
SLUICE_PID=$!

# nginx: a plain reverse proxy with a keep-alive pool to the mock, SSE unbuffered, and a per-key
# limit_req (rate far above what is reached) as the limiter counterpart, like DESIGN.md's reference.
mkdir -p "$TMP/nginx/logs"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes $WORKERS;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 75s;
    client_body_temp_path $TMP/nginx/client_body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    limit_req_zone \$http_authorization zone=perkey:10m rate=1000000r/s;
    limit_req_status 429;
    upstream mock {
        server 127.0.0.1:$MOCK_PORT;
        keepalive 256;
        keepalive_requests 100000000;
        keepalive_timeout 75s;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location /v1/ {
            limit_req zone=perkey burst=1000000 nodelay;
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 300s;
        }
        location = /ready {
            return 200 'ok';
        }
    }
}
EOF
"$NGINX_BIN" -t -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" \
    >"$TMP/nginx/configtest.log" 2>&1 || { cat "$TMP/nginx/configtest.log" >&2; die "nginx rejected its configuration"; }
(pin "$GATEWAY_CPUS" "$NGINX_BIN" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" \
    -e "$TMP/nginx/logs/error.log") </dev/null >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!

wait_ready sluice "$SLUICE_PID" "$SLUICE_PORT" /health/live
wait_ready nginx "$NGINX_PID" "$NGINX_PORT" /ready

target_port() {
    case $1 in
        direct) echo "$MOCK_PORT" ;;
        nginx) echo "$NGINX_PORT" ;;
        sluice) echo "$SLUICE_PORT" ;;
    esac
}
proxy_pid() {  # the process tree whose CPU is the proxy's; none for direct
    case $1 in
        direct) echo "" ;;
        nginx) echo "$NGINX_PID" ;;
        sluice) echo "$SLUICE_PID" ;;
    esac
}

# ---- requests: one body and header set per scenario, used by the check and by wrk ------------

MESSAGES='"messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":"Say hello in three words."}]'
printf '{"model":"gpt-4o-mini",%s,"max_tokens":32}' "$MESSAGES" >"$TMP/body-json.json"
# include_usage as a client that wants usage sends it: sluice then forwards the body unchanged and
# the mock sends the same events to all three targets.
printf '{"model":"gpt-4o-mini",%s,"max_tokens":32,"stream":true,"stream_options":{"include_usage":true}}' \
    "$MESSAGES" >"$TMP/body-stream.json"
cp "$TMP/body-stream.json" "$TMP/body-stream-split.json"
: >"$TMP/headers-json.txt"
: >"$TMP/headers-stream.txt"
# A pause between events makes the mock write each SSE event on its own (it coalesces them otherwise).
printf 'x-mock-chunk-delay-ms: %s\n' "$SPLIT_DELAY_MS" >"$TMP/headers-stream-split.txt"

cat >"$TMP/chat.lua" <<'LUA'
-- POST BODY_FILE to the URL's path with the "Name: value" lines of HEADERS_FILE, rotating the
-- API keys of KEYS_FILE (one a line) as "Authorization: Bearer KEY". Requests are formatted once.
local requests = {}
local next_index = 1
local threads = 0

function setup(thread)
    threads = threads + 1
    thread:set("thread_number", threads)
end

local function read_all(path)
    local f = assert(io.open(path, "rb"))
    local data = f:read("*a")
    f:close()
    return data
end

function init(args)
    local body = read_all(os.getenv("BODY_FILE"))
    local headers = { ["Content-Type"] = "application/json" }
    for line in io.lines(os.getenv("HEADERS_FILE")) do
        local name, value = line:match("^([^:]+):%s*(.-)%s*$")
        if name then headers[name] = value end
    end
    for key in io.lines(os.getenv("KEYS_FILE")) do
        if key ~= "" then
            headers["Authorization"] = "Bearer " .. key
            requests[#requests + 1] = wrk.format("POST", nil, headers, body)
        end
    end
    -- threads start at different keys
    next_index = ((thread_number or 1) - 1) * 37 % #requests + 1
end

function request()
    local r = requests[next_index]
    next_index = next_index % #requests + 1
    return r
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d "
        .. "connect=%d read=%d write=%d status=%d timeout=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect, e.read, e.write, e.status, e.timeout))
end
LUA

# ---- the answers must be the mock's own ------------------------------------------------------

fetch() {  # fetch TARGET SCENARIO OUTPREFIX: status in OUT.status, headers in OUT.head, body in OUT.body
    local target=$1 scenario=$2 out=$3
    local -a hdr=(-H 'Content-Type: application/json' -H "Authorization: Bearer $FIRST_KEY")
    local line
    while IFS= read -r line; do
        [[ -n $line ]] && hdr+=(-H "$line")
    done <"$TMP/headers-$scenario.txt"
    curl -s --max-time 20 -o "$out.body" -D "$out.head" -w '%{http_code}' "${hdr[@]}" \
        --data-binary "@$TMP/body-$scenario.json" \
        "http://127.0.0.1:$(target_port "$target")$API_PATH" >"$out.status" || echo 000 >"$out.status"
}

check_answers() {
    local scenario target
    for scenario in $SCENARIOS; do
        for target in "${TARGETS[@]}"; do
            fetch "$target" "$scenario" "$TMP/check-$scenario-$target"
        done
        python3 - "$TMP" "$scenario" "${TARGETS[@]}" <<'PY' || die "the answers differ (scenario $scenario); see above"
import json
import sys

tmp, scenario, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
stream = scenario != "json"


def normalized(target):
    prefix = f"{tmp}/check-{scenario}-{target}"
    status = open(prefix + ".status").read().strip()
    head = open(prefix + ".head", encoding="latin-1").read().lower()
    body = open(prefix + ".body", encoding="utf-8", errors="replace").read()
    if status != "200":
        raise SystemExit(f"{target}: HTTP {status}, expected 200: {body[:300]}")
    wanted = "content-type: text/event-stream" if stream else "content-type: application/json"
    if wanted not in head:
        raise SystemExit(f"{target}: no '{wanted}' header")

    def strip_ids(obj):
        # The mock numbers its answers (id) and stamps them (created); nothing else may differ.
        obj.pop("id", None)
        obj.pop("created", None)
        return obj

    if not stream:
        return strip_ids(json.loads(body))
    events = []
    for block in body.split("\n\n"):
        if not block.strip():
            continue
        if not block.startswith("data: "):
            raise SystemExit(f"{target}: unexpected SSE block {block[:200]!r}")
        data = block[len("data: "):]
        events.append(data if data == "[DONE]" else strip_ids(json.loads(data)))
    if not events or events[-1] != "[DONE]":
        raise SystemExit(f"{target}: the stream does not end with data: [DONE]")
    if not any(isinstance(e, dict) and e.get("usage") for e in events):
        raise SystemExit(f"{target}: no usage chunk in the stream")
    return events


def checked(target):
    try:
        return normalized(target)
    except ValueError as e:  # json.JSONDecodeError
        raise SystemExit(f"{target}: the answer is not the JSON expected ({e})")


reference = checked(targets[0])
for target in targets[1:]:
    got = checked(target)
    if got != reference:
        print(f"proxy.sh: {target} answered differently from {targets[0]} ({scenario}):", file=sys.stderr)
        print(f"  {targets[0]}: {json.dumps(reference)[:600]}", file=sys.stderr)
        print(f"  {target}: {json.dumps(got)[:600]}", file=sys.stderr)
        raise SystemExit(1)
PY
        say "check $scenario: sluice and nginx answer 200 with the mock's body (ids and timestamps aside)"
    done
}
check_answers

# ---- measuring -----------------------------------------------------------------------------

CLK_TCK=$(getconf CLK_TCK)
# wrk's own CPU time comes from /usr/bin/time when it is installed (Debian package "time").
TIME_BIN=/usr/bin/time
[[ -x $TIME_BIN ]] || TIME_BIN=""

run_wrk() {  # run_wrk TARGET SCENARIO CONNECTIONS SECONDS OUTFILE: wrk output in OUTFILE, its CPU in OUTFILE.cpu
    local target=$1 scenario=$2 conns=$3 secs=$4 out=$5 threads=$WRK_THREADS
    local -a timed=()
    ((threads > conns)) && threads=$conns
    [[ -n $TIME_BIN ]] && timed=("$TIME_BIN" -f '%U %S' -o "$out.cpu")
    (
        export BODY_FILE=$TMP/body-$scenario.json HEADERS_FILE=$TMP/headers-$scenario.txt KEYS_FILE=$TMP/keys.txt
        pin "$LOADGEN_CPUS" "${timed[@]}" "$WRK_BIN" -t "$threads" -c "$conns" -d "${secs}s" --latency \
            -s "$TMP/chat.lua" "http://127.0.0.1:$(target_port "$target")$API_PATH"
    ) >"$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || die "wrk failed: $(cat "$out")"
    WRK_PID=""
    grep -q '^RESULT ' "$out" || die "wrk printed no result: $(cat "$out")"
}

RESULTS=$TMP/results.tsv
printf 'run\tscenario\tconnections\ttarget\tproxy_cpu_s\tmock_cpu_s\tother_percent\twrk_output\n' >"$RESULTS"

measure() {  # measure RUN SCENARIO CONNECTIONS TARGET
    local run=$1 scenario=$2 conns=$3 target=$4 pid p out p0 p1 k0 k1 m0 m1 pcpu mcpu other
    pid=$(proxy_pid "$target")
    out=$TMP/wrk-r$run-$scenario-c$conns-$target.txt
    for p in "$MOCK_PID" "$pid"; do
        [[ -z $p ]] || kill -0 "$p" 2>/dev/null || die "a server exited (pid $p); logs in $TMP (KEEP_TMP=1)"
    done
    m0=$(machine_ticks)
    k0=$(tree_ticks "$MOCK_PID")
    p0=0
    [[ -n $pid ]] && p0=$(tree_ticks "$pid")
    run_wrk "$target" "$scenario" "$conns" "$DURATION" "$out"
    p1=0
    [[ -n $pid ]] && p1=$(tree_ticks "$pid")
    k1=$(tree_ticks "$MOCK_PID")
    m1=$(machine_ticks)
    pcpu=$(awk -v a="$p0" -v b="$p1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }')
    mcpu=$(awk -v a="$k0" -v b="$k1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }')
    # Everything else that ran meanwhile: machine busy time minus the proxy's, the mock's and
    # wrk's, as a share of all CPUs. Includes kernel threads and hypervisor steal; "-" without
    # /usr/bin/time.
    other=-
    if [[ -s $out.cpu ]]; then
        other=$(awk -v m0="$m0" -v m1="$m1" -v hz="$CLK_TCK" -v used="$pcpu $mcpu" '
            BEGIN { split(m0, a, " "); split(m1, b, " "); split(used, u, " ") }
            { wrk = $1 + $2 }
            END {
                total = (b[2] - a[2]) / hz
                o = (b[1] - a[1]) / hz - u[1] - u[2] - wrk
                printf "%.0f", (total > 0 && o > 0) ? 100 * o / total : 0
            }' "$out.cpu")
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$scenario" "$conns" "$target" "$pcpu" "$mcpu" \
        "$other" "$out" >>"$RESULTS"
    awk -v t="$target" -v s="$scenario" -v c="$conns" -v r="$run" -v pcpu="$pcpu" -v mcpu="$mcpu" \
        -v other="$other" -v secs="$DURATION" '
        /^RESULT / {
            for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            n = v["requests"]
            errs = v["connect"] + v["read"] + v["write"] + v["status"] + v["timeout"]
            printf "run %d  %-12s c=%-3d %-6s %9.0f req/s  p50 %7.3f ms  proxy %6.1f us/req  mock %5.1f us/req  errors %d  other load %s%%\n",
                r, s, c, t, n * 1e6 / v["duration_us"], v["p50_us"] / 1000, (n > 0 ? pcpu * 1e6 / n : 0),
                (n > 0 ? mcpu * 1e6 / n : 0), errs, other
        }' "$out" >&2
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "mock pid $MOCK_PID, nginx pid $NGINX_PID, sluice pid $SLUICE_PID; $WORKERS workers each; load before: $LOAD_BEFORE"
if ((WARMUP > 0)); then
    for target in "${TARGETS[@]}"; do
        for scenario in $SCENARIOS; do
            run_wrk "$target" "$scenario" 16 "$WARMUP" "$TMP/warmup-$target-$scenario.txt"
        done
    done
fi

for ((run = 1; run <= RUNS; run++)); do
    if ((run % 2 == 1)); then order=(direct nginx sluice); else order=(sluice nginx direct); fi
    for scenario in $SCENARIOS; do
        for conns in $CONNECTIONS; do
            for target in "${order[@]}"; do
                measure "$run" "$scenario" "$conns" "$target"
            done
        done
    done
done

# ---- report --------------------------------------------------------------------------------

{
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
    echo "- Load average (1/5/15 min) before starting: $LOAD_BEFORE"
    echo "- $("$SLUICE_BIN" --version 2>/dev/null | head -1) ($SLUICE_BIN), $({ "$NGINX_BIN" -v 2>&1 || true; } | sed 's/^nginx version: //'), $({ "$WRK_BIN" -v 2>&1 || true; } | head -1 | awk '{ print $1, $2 }'), mock $MOCK_BIN"
    echo "- $WORKERS workers for sluice and nginx, the mock on one thread; ${DURATION} s per measurement, $RUNS runs (target order alternating), wrk threads: min($WRK_THREADS, connections), $KEYS keys rotated"
    echo "- Pinning: proxies ${GATEWAY_CPUS:-not pinned}, mock ${MOCK_CPUS:-not pinned}, wrk ${LOADGEN_CPUS:-not pinned}"
    echo "- Scenarios: json = POST $API_PATH, $(wc -c <"$TMP/body-json.json")-byte body, $(wc -c <"$TMP/check-json-direct.body" 2>/dev/null || echo '?')-byte JSON answer; stream = the same with \"stream\": true and include_usage, the mock's default $(grep -c '^data: ' "$TMP/check-stream-direct.body" 2>/dev/null || echo '?') SSE events written at once; stream-split = the same stream with x-mock-chunk-delay-ms: $SPLIT_DELAY_MS (each event its own TCP write, $SPLIT_DELAY_MS ms apart)"
    echo
} >"$TMP/header.md"

python3 - "$RESULTS" "$TMP/header.md" <<'PY'
import csv
import re
import statistics
import sys

results_path, header_path = sys.argv[1], sys.argv[2]
TARGETS = ["direct", "nginx", "sluice"]


def parse_wrk(path):
    with open(path) as f:
        for line in f:
            if line.startswith("RESULT "):
                v = dict(kv.split("=", 1) for kv in line.split()[1:])
                v = {k: int(x) for k, x in v.items()}
                return {
                    "requests": v["requests"],
                    "rps": v["requests"] * 1e6 / v["duration_us"],
                    "p50": v["p50_us"] / 1000,
                    "p99": v["p99_us"] / 1000,
                    "errors": v["connect"] + v["read"] + v["write"] + v["timeout"],
                    "timeouts": v["timeout"],
                    "non2xx": v["status"],
                }
    raise SystemExit(f"proxy.sh: no RESULT line in {path}")


rows = {}  # (scenario, connections, target) -> per-run dicts, in run order
other = []
scenarios = []
with open(results_path) as f:
    for rec in csv.DictReader(f, delimiter="\t"):
        if rec["scenario"] not in scenarios:
            scenarios.append(rec["scenario"])
        if rec["other_percent"] != "-":
            other.append(int(rec["other_percent"]))
        w = parse_wrk(rec["wrk_output"])
        w["run"] = int(rec["run"])
        n = w["requests"]
        w["proxy_us"] = float(rec["proxy_cpu_s"]) * 1e6 / n if n and rec["target"] != "direct" else None
        w["mock_us"] = float(rec["mock_cpu_s"]) * 1e6 / n if n else None
        rows.setdefault((rec["scenario"], int(rec["connections"]), rec["target"]), []).append(w)

med = statistics.median


def cell(values, fmt):
    values = [v for v in values if v is not None]
    return fmt.format(med(values)) if values else "–"


def ratio_cell(num, den, key):
    ratios = [a[key] / b[key] for a, b in zip(num, den) if b[key]]
    if not ratios:
        return "–"
    if len(ratios) == 1:
        return f"{ratios[0]:.2f}×"
    return f"**{med(ratios):.2f}×** ({min(ratios):.2f}–{max(ratios):.2f})"


def diff_cell(num, den, key):
    diffs = [a[key] - b[key] for a, b in zip(num, den)]
    if len(diffs) == 1:
        return f"{diffs[0]:+.3f}"
    return f"{med(diffs):+.3f} ({min(diffs):+.3f}…{max(diffs):+.3f})"


print(open(header_path).read(), end="")
problems = []
TITLES = {"json": "Chat, JSON answer", "stream": "Chat, SSE stream (events coalesced by the mock)",
          "stream-split": "Chat, SSE stream, one TCP write per event"}
for scenario in scenarios:
    conns_list = sorted({c for s, c, _ in rows if s == scenario})
    print(f"#### {scenario}: {TITLES.get(scenario, scenario)}\n")
    print("| Connections | Target | req/s | p50 ms | p99 ms | proxy CPU µs/req | mock CPU µs/req |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for conns in conns_list:
        runs = {t: rows[(scenario, conns, t)] for t in TARGETS}
        for t in TARGETS:
            r = runs[t]
            print(f"| {conns} | {t} | {cell([x['rps'] for x in r], '{:,.0f}')} | "
                  f"{cell([x['p50'] for x in r], '{:.3f}')} | {cell([x['p99'] for x in r], '{:.3f}')} | "
                  f"{cell([x['proxy_us'] for x in r], '{:.1f}')} | {cell([x['mock_us'] for x in r], '{:.1f}')} |")
            for x in r:
                if x["errors"] or x["non2xx"]:
                    problems.append(f"{scenario} c={conns} {t} run {x['run']}: {x['errors']} socket "
                                    f"errors ({x['timeouts']} of them no answer within wrk's 2 s "
                                    f"timeout), {x['non2xx']} non-2xx answers")
        for num, den in (("sluice", "direct"), ("sluice", "nginx"), ("nginx", "direct")):
            a, b = runs[num], runs[den]
            cpu = ratio_cell(a, b, "proxy_us") if den == "nginx" else "–"
            print(f"| {conns} | **{num}/{den}** | {ratio_cell(a, b, 'rps')} | {ratio_cell(a, b, 'p50')} | "
                  f"{ratio_cell(a, b, 'p99')} | {cpu} | |")
    print()

print("#### Against the budgets\n")
print("| Scenario | Connections | sluice/nginx req/s | sluice/direct req/s | nginx/direct req/s | "
      "p50 added by sluice, ms | p50 added by nginx, ms | sluice CPU µs/req | nginx CPU µs/req |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for scenario in scenarios:
    for conns in sorted({c for s, c, _ in rows if s == scenario}):
        d, n, s = (rows[(scenario, conns, t)] for t in TARGETS)
        print(f"| {scenario} | {conns} | {ratio_cell(s, n, 'rps')} | {ratio_cell(s, d, 'rps')} | "
              f"{ratio_cell(n, d, 'rps')} | {diff_cell(s, d, 'p50')} | {diff_cell(n, d, 'p50')} | "
              f"{cell([x['proxy_us'] for x in s], '{:.1f}')} | {cell([x['proxy_us'] for x in n], '{:.1f}')} |")
print()
print("Target rows: median over runs. Ratio rows and columns: median (min–max) of the per-run ratios, "
      "each run measuring the three targets back to back; p50 added: median (min…max) of the per-run "
      "differences from direct. CPU = utime+stime of the process tree during the wrk run divided by "
      "the requests completed; \"proxy\" is nginx's master and workers or the sluice process (all its "
      "threads, ledger included), \"mock\" the mock upstream.")
if other:
    print(f"\nOther work on the machine during the measurements (CPU time used by none of wrk, the "
          f"mock and the proxy, as a share of all CPUs): median {med(other):.0f} %, max {max(other)} %, "
          f"above 10 % in {sum(o > 10 for o in other)} of {len(other)} measurements.")
for p in problems:
    print(f"\nWarning: {p}")
PY
