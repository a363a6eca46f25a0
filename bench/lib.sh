# shellcheck shell=bash
# Shell helpers shared by the benchmark scripts in bench/. Source it (bash only):
#   BENCH_NAME=proxy.sh; . "$ROOT/bench/lib.sh"
# It defines functions and nothing else: no traps, no variables beyond BENCH_NAME's default.

BENCH_NAME=${BENCH_NAME:-bench}

say() { printf '%s\n' "$*" >&2; }
die() { say "$BENCH_NAME: $*"; exit 1; }

port_busy() {  # port_busy PORT: true when something listens on PORT (127.0.0.1 or a wildcard address)
    if command -v ss >/dev/null; then
        [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]] && return 0
    fi
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_pid() {  # stop_pid PID SIGNAL: signal PID and its direct children, wait up to 5 s, then SIGKILL
    local pid=$1 sig=$2 i child children
    [[ -n $pid ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    # A command run under /usr/bin/time or a subshell does not get the signal: send it to the
    # children as well.
    children=$(cat "/proc/$pid/task/"*/children 2>/dev/null || true)
    kill "-$sig" "$pid" 2>/dev/null || true
    for child in $children; do
        kill "-$sig" "$child" 2>/dev/null || true
    done
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

pin() {  # pin CPULIST CMD...: exec CMD, under taskset when a CPU list is given
    local cpus=$1
    shift
    if [[ -n $cpus ]]; then
        exec taskset -c "$cpus" "$@"
    else
        exec "$@"
    fi
}

tree_ticks() {  # tree_ticks PID: CPU ticks (utime+stime+cutime+cstime) of PID and all its descendants
    # /proc/PID/stat of a process already covers all its threads; nginx's workers are separate
    # processes, hence the tree. Processes may vanish between the glob and the read: cat then
    # fails, which is fine here.
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$1" '
        {
            pid = $1
            rest = $0
            sub(/^[0-9]+ \(.*\) /, "", rest)   # comm may contain spaces and parentheses
            split(rest, f, " ")
            parent[pid] = f[2]
            ticks[pid] = f[12] + f[13] + f[14] + f[15]
        }
        END {
            inTree[root] = 1
            do {
                grew = 0
                for (p in parent)
                    if (!(p in inTree) && (parent[p] in inTree)) { inTree[p] = 1; grew = 1 }
            } while (grew)
            total = 0
            for (p in inTree) total += ticks[p]
            printf "%d\n", total
        }'
}

machine_ticks() {  # machine_ticks: "BUSY TOTAL" ticks of the whole machine (all CPUs), from /proc/stat
    awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6; exit }' /proc/stat
}
