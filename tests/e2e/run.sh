#!/usr/bin/env bash
# End-to-end test with the official SDKs (openai, @anthropic-ai/sdk) from the npm registry:
# starts the mock LLM upstream and `sluice --headless` with upstreams pointing at it, creates a
# key, runs sdk_e2e.mjs against the gateway, stops everything and exits with the script's status.
#
#   tests/e2e/run.sh SLUICE_BINARY MOCK_BINARY     through the gateway (ctest: e2e_sdk)
#   tests/e2e/run.sh --direct MOCK_BINARY           the SDKs straight against the mock
#                                                   (checks the mock itself; ctest: e2e_sdk_mock)
#
# Installs Debian's nodejs and npm when node is missing (needs root or sudo) and runs `npm ci`
# with the committed package-lock.json in $E2E_NODE_DIR (default ./e2e-node: ctest runs it in the
# build tree's tests/). E2E_KEEP=1 keeps the temporary directory (config, database, logs, and
# mock-requests.json: what the upstream received).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
direct=0
if [[ "${1:-}" == "--direct" ]]; then
    direct=1
    shift
    [[ $# -eq 1 ]] || { echo "usage: $0 --direct MOCK_BINARY" >&2; exit 2; }
    mock_bin=$1
else
    [[ $# -eq 2 ]] || { echo "usage: $0 SLUICE_BINARY MOCK_BINARY" >&2; exit 2; }
    sluice_bin=$1
    mock_bin=$2
    [[ -x "$sluice_bin" ]] || { echo "e2e: $sluice_bin is not executable" >&2; exit 2; }
fi
[[ -x "$mock_bin" ]] || { echo "e2e: $mock_bin is not executable" >&2; exit 2; }

# No SLUICE_* setting of the caller's shell may reach the gateway.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^SLUICE_' || true)

log() { echo "e2e: $*" >&2; }

# ---- node and the SDKs ---------------------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    log "installing Debian's nodejs and npm"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    if command -v node >/dev/null; then
        "${sudo[@]}" apt-get install -y -qq --no-install-recommends npm
    else
        "${sudo[@]}" apt-get install -y -qq --no-install-recommends nodejs npm
    fi
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < 18 )); then
    log "node $(node --version) is too old: the SDKs need 18 or later"
    exit 1
fi
log "node $(node --version), npm $(npm --version 2>/dev/null)"
# The SDKs go into a directory of the caller's (ctest: the build tree's tests/), not the source
# tree, so that two build trees testing at once never share one node_modules. `npm ci` runs
# again whenever the committed lock file differs from the one installed there.
node_dir=${E2E_NODE_DIR:-$PWD/e2e-node}
mkdir -p "$node_dir"
cp "$here/sdk_e2e.mjs" "$here/package.json" "$node_dir/"
if ! cmp -s "$here/package-lock.json" "$node_dir/package-lock.json" ||
    [[ ! -f "$node_dir/node_modules/.package-lock.json" ]]; then
    cp "$here/package-lock.json" "$node_dir/"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

# ---- processes ------------------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ "${E2E_KEEP:-0}" == 1 ]]; then
        log "kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT

# Waits until file $1 has a line matching the extended regex $2 (or process $3 exits) and
# prints the first match.
wait_for_line() {
    local file=$1 pattern=$2 pid=$3 seconds=${4:-30} line
    for _ in $(seq $((seconds * 10))); do
        line=$(grep -Eo "$pattern" "$file" 2>/dev/null | head -1 || true)
        if [[ -n "$line" ]]; then
            echo "$line"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}

show_logs() {
    local f
    for f in "$tmp"/*.log; do
        [[ -s "$f" ]] || continue
        echo "---- $(basename "$f") (last 40 lines) ----" >&2
        tail -n 40 "$f" >&2
    done
}

upstream_openai_key=sk-upstream-openai
upstream_anthropic_key=sk-upstream-anthropic
if (( direct )); then
    client_key=sk-e2e-direct-key
    mock_keys=(--api-key "$client_key")
else
    # The mock takes only the upstream credentials: the SDKs' calls succeed only when the
    # gateway replaced the client's Sluice key.
    mock_keys=(--api-key "$upstream_openai_key" --api-key "$upstream_anthropic_key")
fi
# --gzip: JSON answers are compressed when the request accepts it, as the providers' are (the
# SDKs send Accept-Encoding: gzip, deflate).
"$mock_bin" --port 0 --gzip "${mock_keys[@]}" 2>"$tmp/mock.log" &
pids+=($!)
mock_pid=$!
if ! mock_line=$(wait_for_line "$tmp/mock.log" 'mock listening on [^ ]+:[0-9]+' "$mock_pid" 10); then
    log "the mock did not start"
    show_logs
    exit 1
fi
mock_port=${mock_line##*:}
log "mock upstream on 127.0.0.1:$mock_port"

if (( direct )); then
    url="http://127.0.0.1:$mock_port"
else
    cat >"$tmp/sluice.ini" <<EOF
[server]
listen = 127.0.0.1:0
admin_listen = 127.0.0.1:0
workers = 2

[storage]
data_dir = $tmp/data
db = sqlite://$tmp/sluice.db

[upstream.openai]
kind = openai
base_url = http://127.0.0.1:$mock_port/v1
api_key = $upstream_openai_key
models = "gpt-*, text-embedding-*"

[upstream.anthropic]
kind = anthropic
base_url = http://127.0.0.1:$mock_port
api_key = $upstream_anthropic_key
models = "claude-*"
EOF
    mkdir -p "$tmp/data"
    if ! client_key=$("$sluice_bin" keys create --user e2e --create-user \
            --db "sqlite://$tmp/sluice.db" --data-dir "$tmp/data" 2>"$tmp/keys.log" | tail -1) ||
        [[ -z "$client_key" ]]; then
        log "sluice keys create failed"
        show_logs
        exit 1
    fi
    log "created a key for user e2e (${client_key:0:12}...)"
    # A key whose bucket holds one request and takes 1000 s to refill: the rate-limit checks.
    if ! limited_key=$("$sluice_bin" keys create --user e2e --name limited --rps 0.001 --burst 1 \
            --db "sqlite://$tmp/sluice.db" --data-dir "$tmp/data" 2>>"$tmp/keys.log" | tail -1) ||
        [[ -z "$limited_key" ]]; then
        log "sluice keys create (limited) failed"
        show_logs
        exit 1
    fi

    "$sluice_bin" --headless --config "$tmp/sluice.ini" 2>"$tmp/sluice.log" >&2 &
    pids+=($!)
    sluice_pid=$!
    if ! gw_line=$(wait_for_line "$tmp/sluice.log" 'listening on [^ ]+:[0-9]+ with' "$sluice_pid" 30); then
        log "the gateway did not start"
        show_logs
        exit 1
    fi
    gw_line=${gw_line% with}
    gw_port=${gw_line##*:}
    url="http://127.0.0.1:$gw_port"
    log "gateway on $url"
fi

# ---- the SDKs -------------------------------------------------------------------------------
status=0
(cd "$node_dir" && GATEWAY_URL="$url" SLUICE_KEY="$client_key" \
    SLUICE_LIMITED_KEY="${limited_key:-}" node sdk_e2e.mjs) || status=$?

mock_get() {
    node -e 'fetch(process.argv[1]).then((r) => r.text()).then(console.log, () => console.log("?"))' \
        "http://127.0.0.1:$mock_port$1" 2>/dev/null || true
}
log "mock stats: $(mock_get /mock/stats)"
if [[ "${E2E_KEEP:-0}" == 1 ]]; then
    # What the upstream received (headers and bodies as the gateway rewrote them).
    mock_get /mock/requests >"$tmp/mock-requests.json"
fi
if (( status != 0 )); then
    show_logs
fi
exit "$status"
