#!/usr/bin/env bash
# Front-end benchmark: `GET /health/live` on sluice versus nginx returning the same JSON body.
#
# Measures requests/s, p50/p99 latency (wrk --latency) and the server's CPU time per request
# (utime+stime from /proc/PID/stat, summed over the server's process tree) at several connection
# counts, alternating the two servers inside each run so that machine drift hits both. Prints a
# markdown table on stdout; progress goes to stderr. See bench/README.md.
#
# Builds nothing. Build the release binary first:
#   cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
#   cmake --build build-release --target sluice
#
# Environment (all optional):
#   SLUICE_BIN     sluice executable        (default: <repo>/build-release/app/sluice)
#   NGINX_BIN      nginx executable         (default: nginx from PATH, else /usr/sbin/nginx)
#   WRK_BIN        wrk executable           (default: wrk from PATH)
#   WORKERS        sluice --workers and nginx worker_processes (default: nproc)
#   CONNECTIONS    wrk connection counts    (default: "1 16 64")
#   DURATION       seconds per wrk run      (default: 10)
#   RUNS           repetitions              (default: 3)
#   WARMUP         seconds of warm-up per server before the first run (default: 2; 0 = none)
#   WRK_THREADS    wrk threads              (default: 2, or the connection count if smaller)
#   SLUICE_PORT    (default 28380)          NGINX_PORT (default 28381)
#   GATEWAY_CPUS   taskset CPU list for both servers, e.g. "1"   (default: no pinning)
#   LOADGEN_CPUS   taskset CPU list for wrk, e.g. "0"            (default: no pinning)
#   KEEP_TMP=1     keep the temp dir (configs, logs, raw wrk output) and print its path
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build-release/app/sluice}
NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
WRK_BIN=${WRK_BIN:-$(command -v wrk || echo wrk)}
WORKERS=${WORKERS:-$(nproc)}
CONNECTIONS=${CONNECTIONS:-1 16 64}
DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-2}
WRK_THREADS=${WRK_THREADS:-2}
SLUICE_PORT=${SLUICE_PORT:-28380}
NGINX_PORT=${NGINX_PORT:-28381}
GATEWAY_CPUS=${GATEWAY_CPUS:-}
LOADGEN_CPUS=${LOADGEN_CPUS:-}
KEEP_TMP=${KEEP_TMP:-0}
BODY='{"status":"alive"}'
PATH_UNDER_TEST=/health/live

BENCH_NAME=frontend.sh
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"  # say, die, port_busy, stop_pid, pin, tree_ticks, machine_ticks

# ---- preconditions --------------------------------------------------------------------------

if [[ ! -x $SLUICE_BIN ]]; then
    die "no sluice executable at $SLUICE_BIN
Build it first (from the repository root):
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
  cmake --build build-release --target sluice
or point SLUICE_BIN at an existing build."
fi
[[ -x $NGINX_BIN ]] || die "nginx not found (apt-get install -y nginx, or set NGINX_BIN)"
command -v "$WRK_BIN" >/dev/null || die "wrk not found (apt-get install -y wrk, or set WRK_BIN)"
for tool in curl awk python3; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
if [[ -n $GATEWAY_CPUS || -n $LOADGEN_CPUS ]]; then
    command -v taskset >/dev/null || die "taskset not found (util-linux) but GATEWAY_CPUS/LOADGEN_CPUS set"
fi
[[ $WORKERS =~ ^[1-9][0-9]*$ ]] || die "WORKERS must be a positive integer"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "DURATION must be a whole number of seconds"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a whole number of seconds"
for c in $CONNECTIONS; do
    [[ $c =~ ^[1-9][0-9]*$ ]] || die "CONNECTIONS must be positive integers, got '$c'"
done

for p in "$SLUICE_PORT" "$NGINX_PORT"; do
    if port_busy "$p"; then
        die "port $p is busy; stop whatever listens there or choose SLUICE_PORT/NGINX_PORT"
    fi
done
[[ $SLUICE_PORT != "$NGINX_PORT" ]] || die "SLUICE_PORT and NGINX_PORT must differ"

# ---- processes and cleanup -----------------------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-frontend.XXXXXX")
SLUICE_PID=""
NGINX_PID=""
WRK_PID=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$WRK_PID" TERM
    stop_pid "$SLUICE_PID" TERM   # drains (nothing in flight at this point) and exits
    stop_pid "$NGINX_PID" TERM    # fast shutdown; the master takes its workers along
    if [[ $KEEP_TMP == 1 ]]; then
        say "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'say "frontend.sh: command failed at line $LINENO"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

wait_ready() {  # wait_ready NAME PID PORT: until GET /health/live answers 200
    local name=$1 pid=$2 port=$3 i
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || die "$name exited during startup; its log is in $TMP (run with KEEP_TMP=1)"
        if [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$PATH_UNDER_TEST") == 200 ]]; then
            return 0
        fi
        sleep 0.1
    done
    die "$name did not answer $PATH_UNDER_TEST on port $port within 20 s"
}

# sluice: access log lines are info level; --log-level warning switches them off, like
# `access_log off` on the nginx side. An admin listener (newer builds) goes to a free port.
sluice_args=(--headless --listen "127.0.0.1:$SLUICE_PORT" --workers "$WORKERS"
    --data-dir "$TMP/sluice-data" --log-level warning)
if "$SLUICE_BIN" --help 2>/dev/null | grep -q -- '--admin-listen'; then
    sluice_args+=(--admin-listen 127.0.0.1:0)
fi
(pin "$GATEWAY_CPUS" "$SLUICE_BIN" "${sluice_args[@]}") </dev/null >"$TMP/sluice.log" 2>&1 &
SLUICE_PID=$!

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
    # nginx closes a keep-alive connection after 1000 requests by default; sluice has no such
    # limit, so lift it: both sides then keep every connection for the whole run.
    keepalive_requests 100000000;
    keepalive_timeout 75s;
    client_body_temp_path $TMP/nginx/client_body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            default_type application/json;
            # sluice sends Cache-Control: no-store on health answers; send it here too.
            add_header Cache-Control no-store always;
            return 200 '$BODY';
        }
    }
}
EOF
"$NGINX_BIN" -t -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" \
    >"$TMP/nginx/configtest.log" 2>&1 || { cat "$TMP/nginx/configtest.log" >&2; die "nginx rejected its configuration"; }
(pin "$GATEWAY_CPUS" "$NGINX_BIN" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" \
    -e "$TMP/nginx/logs/error.log") </dev/null >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!

wait_ready sluice "$SLUICE_PID" "$SLUICE_PORT"
wait_ready nginx "$NGINX_PID" "$NGINX_PORT"

for pair in "sluice:$SLUICE_PORT" "nginx:$NGINX_PORT"; do
    got=$(curl -s "http://127.0.0.1:${pair#*:}$PATH_UNDER_TEST")
    [[ $got == "$BODY" ]] || die "${pair%%:*} answered '$got', expected '$BODY'"
done
response_bytes() { curl -s -o /dev/null -w '%{size_header}+%{size_download}' "http://127.0.0.1:$1$PATH_UNDER_TEST"; }

# ---- measuring -----------------------------------------------------------------------------

CLK_TCK=$(getconf CLK_TCK)

server_pid() { [[ $1 == sluice ]] && echo "$SLUICE_PID" || echo "$NGINX_PID"; }
server_port() { [[ $1 == sluice ]] && echo "$SLUICE_PORT" || echo "$NGINX_PORT"; }

# wrk's own CPU time comes from /usr/bin/time when it is installed (Debian package "time").
TIME_BIN=/usr/bin/time
[[ -x $TIME_BIN ]] || TIME_BIN=""

run_wrk() {  # run_wrk PORT CONNECTIONS SECONDS OUTFILE: wrk output in OUTFILE, its CPU in OUTFILE.cpu
    local port=$1 conns=$2 secs=$3 out=$4 threads=$WRK_THREADS
    local -a timed=()
    ((threads > conns)) && threads=$conns
    [[ -n $TIME_BIN ]] && timed=("$TIME_BIN" -f '%U %S' -o "$out.cpu")
    (pin "$LOADGEN_CPUS" "${timed[@]}" "$WRK_BIN" -t "$threads" -c "$conns" -d "${secs}s" --latency \
        "http://127.0.0.1:$port$PATH_UNDER_TEST") >"$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || die "wrk failed: $(cat "$out")"
    WRK_PID=""
}

RESULTS=$TMP/results.tsv
printf 'run\tconnections\tserver\tcpu_seconds\tother_percent\twrk_output\n' >"$RESULTS"

measure() {  # measure RUN SERVER CONNECTIONS
    local run=$1 server=$2 conns=$3 pid port out t0 t1 m0 m1 cpu other
    pid=$(server_pid "$server")
    port=$(server_port "$server")
    out=$TMP/wrk-r$run-c$conns-$server.txt
    kill -0 "$pid" 2>/dev/null || die "$server is no longer running"
    m0=$(machine_ticks)
    t0=$(tree_ticks "$pid")
    run_wrk "$port" "$conns" "$DURATION" "$out"
    t1=$(tree_ticks "$pid")
    m1=$(machine_ticks)
    cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }')
    # Everything else that ran meanwhile: machine busy time minus the server's and wrk's, as a
    # share of all CPUs. Includes kernel threads and hypervisor steal; "-" without /usr/bin/time.
    other=-
    if [[ -s $out.cpu ]]; then
        other=$(awk -v m0="$m0" -v m1="$m1" -v hz="$CLK_TCK" -v srv="$cpu" '
            BEGIN { split(m0, a, " "); split(m1, b, " ") }
            { wrk = $1 + $2 }
            END {
                total = (b[2] - a[2]) / hz
                o = (b[1] - a[1]) / hz - srv - wrk
                printf "%.0f", (total > 0 && o > 0) ? 100 * o / total : 0
            }' "$out.cpu")
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$conns" "$server" "$cpu" "$other" "$out" >>"$RESULTS"
    awk -v srv="$server" -v c="$conns" -v r="$run" -v cpu="$cpu" -v other="$other" '
        /requests in/ { n = $1 }
        /^Requests\/sec:/ { rps = $2 }
        END { printf "run %d  c=%-3d %-6s %10.0f req/s  %6.1f us CPU/req  other load %s%%\n", r, c, srv, rps, (n > 0 ? cpu * 1e6 / n : 0), other }
    ' "$out" >&2
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "sluice pid $SLUICE_PID, nginx pid $NGINX_PID; $WORKERS workers each; load before: $LOAD_BEFORE"
if ((WARMUP > 0)); then
    for server in sluice nginx; do
        run_wrk "$(server_port "$server")" 16 "$WARMUP" "$TMP/warmup-$server.txt"
    done
fi

for ((run = 1; run <= RUNS; run++)); do
    if ((run % 2 == 1)); then order=(sluice nginx); else order=(nginx sluice); fi
    for conns in $CONNECTIONS; do
        for server in "${order[@]}"; do
            measure "$run" "$server" "$conns"
        done
    done
done

# ---- report --------------------------------------------------------------------------------

{
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
    echo "- Load average (1/5/15 min) before starting: $LOAD_BEFORE"
    echo "- $("$SLUICE_BIN" --version 2>/dev/null | head -1) ($SLUICE_BIN), $({ "$NGINX_BIN" -v 2>&1 || true; } | sed 's/^nginx version: //'), $({ "$WRK_BIN" -v 2>&1 || true; } | head -1 | awk '{ print $1, $2 }')"
    echo "- $WORKERS workers each, ${DURATION} s per measurement, $RUNS runs (server order alternating), wrk threads: min($WRK_THREADS, connections)"
    echo "- Pinning: servers ${GATEWAY_CPUS:-not pinned}, wrk ${LOADGEN_CPUS:-not pinned}"
    echo "- Response size (head+body bytes): sluice $(response_bytes "$SLUICE_PORT"), nginx $(response_bytes "$NGINX_PORT")"
    if [[ -n ${QT_NO_GLIB:-} ]]; then
        echo "- QT_NO_GLIB=$QT_NO_GLIB in the environment: sluice ran on Qt's own poll dispatcher, not glib's"
    fi
    echo
} >"$TMP/header.md"

python3 - "$RESULTS" "$TMP/header.md" <<'PY'
import csv
import re
import statistics
import sys

results_path, header_path = sys.argv[1], sys.argv[2]
UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"unknown wrk latency {text!r}")
    return float(m.group(1)) * UNITS_MS[m.group(2)]


def parse_wrk(path):
    out = {"errors": 0, "non2xx": 0}
    with open(path) as f:
        for line in f:
            s = line.strip()
            if m := re.match(r"(\d+) requests in", s):
                out["requests"] = int(m.group(1))
            elif s.startswith("Requests/sec:"):
                out["rps"] = float(s.split()[1])
            elif m := re.fullmatch(r"(50|99)(?:\.000)?%\s+(\S+)", s):
                out["p" + m.group(1)] = to_ms(m.group(2))
            elif s.startswith("Socket errors:"):
                out["errors"] = sum(int(n) for n in re.findall(r"\d+", s))
            elif s.startswith("Non-2xx or 3xx responses:"):
                out["non2xx"] = int(s.split(":")[1])
    for key in ("requests", "rps", "p50", "p99"):
        if key not in out:
            raise SystemExit(f"frontend.sh: cannot read {key} from {path}")
    return out


rows = {}  # (connections, server) -> list of per-run dicts, in run order
other = []  # share of the machine used by other processes, per measurement
with open(results_path) as f:
    for rec in csv.DictReader(f, delimiter="\t"):
        if rec["other_percent"] != "-":
            other.append(int(rec["other_percent"]))
        w = parse_wrk(rec["wrk_output"])
        w["run"] = int(rec["run"])
        w["cpu_us"] = float(rec["cpu_seconds"]) * 1e6 / w["requests"] if w["requests"] else 0.0
        rows.setdefault((int(rec["connections"]), rec["server"]), []).append(w)

METRICS = [("rps", "req/s", "{:,.0f}"), ("p50", "p50 ms", "{:.3f}"), ("p99", "p99 ms", "{:.3f}"),
           ("cpu_us", "CPU µs/req", "{:.1f}")]


def med(values):
    return statistics.median(values)


print(open(header_path).read(), end="")
print("| Connections | Server | " + " | ".join(label for _, label, _ in METRICS) + " |")
print("|---:|---|" + "---:|" * len(METRICS))
problems = []
for conns in sorted({c for c, _ in rows}):
    s_runs, n_runs = rows[(conns, "sluice")], rows[(conns, "nginx")]
    for name, runs in (("sluice", s_runs), ("nginx", n_runs)):
        cells = [fmt.format(med([r[key] for r in runs])) for key, _, fmt in METRICS]
        print(f"| {conns} | {name} | " + " | ".join(cells) + " |")
        for r in runs:
            if r["errors"] or r["non2xx"]:
                problems.append(f"{name} c={conns} run {r['run']}: {r['errors']} socket errors, "
                                f"{r['non2xx']} non-2xx answers")
    cells = []
    for key, _, _ in METRICS:
        ratios = [s[key] / n[key] for s, n in zip(s_runs, n_runs) if n[key] > 0]
        if not ratios:
            cells.append("–")
        elif len(ratios) == 1:
            cells.append(f"{ratios[0]:.2f}×")
        else:
            cells.append(f"**{med(ratios):.2f}×** ({min(ratios):.2f}–{max(ratios):.2f})")
    print(f"| {conns} | **sluice/nginx** | " + " | ".join(cells) + " |")
print()
print("Server rows: median over runs. Ratio rows: median (min–max) of the per-run ratios, each run "
      "pairing the two servers measured back to back. req/s: higher is better for sluice; latency "
      "and CPU: lower is better. CPU = utime+stime of the server's process tree during the wrk run.")
if other:
    print(f"\nOther work on the machine during the measurements (CPU time used by neither the "
          f"server nor wrk, as a share of all CPUs): median {med(other):.0f} %, "
          f"max {max(other)} %, above 10 % in {sum(o > 10 for o in other)} of {len(other)} "
          f"measurements.")
for p in problems:
    print(f"\nWarning: {p}")
PY
