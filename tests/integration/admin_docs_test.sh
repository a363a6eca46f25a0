#!/usr/bin/env bash
# Runs every ```sh example of docs/admin-api.md, in order, against a real sluice on a fresh
# SQLite database, and checks each against the ```http block that follows it in the document:
# curl exits 0, the status is the one shown, the headers shown are sent (with the values shown),
# and the JSON body is the one shown. Timestamps, plaintext keys and display prefixes differ
# from run to run, and so do the live values of the monitoring routes (series, traffic,
# overview, health), so for those only the JSON type is compared. Afterwards the plaintext keys
# and the admin token must appear neither in the gateway's log nor in its data directory.
#
#   admin_docs_test.sh SLUICE_BINARY DOCS/admin-api.md
#
# Needs bash, curl and python3 (standard library only; scripts/install-deps.sh --test installs
# them); fails without them.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 SLUICE_BINARY ADMIN_API_MD" >&2
    exit 2
fi
sluice=$1
doc=$2
for tool in curl python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "FAIL: $tool is not installed (scripts/install-deps.sh --test installs it)"
        exit 1
    fi
done

work=$(mktemp -d)
pid=
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    echo "--- gateway log (tail) ---" >&2
    tail -n 40 "$work/log" >&2 || true
    exit 1
}

# The gateway: nothing of the caller's environment or home, a fresh data dir, ports of its own.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^SLUICE_' || true)
export HOME="$work/home" XDG_DATA_HOME="$work/home/.local/share"
SLUICE_ADMIN_TOKEN="docs-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
export SLUICE_ADMIN_TOKEN
"$sluice" --headless --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --data-dir "$work/data" \
    --workers 1 --log-level debug 2>"$work/log" &
pid=$!
port=
for _ in $(seq 150); do
    port=$(sed -n 's/.*admin API listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/log")
    if [[ -n $port ]] && grep -q 'startup complete' "$work/log"; then
        break
    fi
    kill -0 "$pid" 2>/dev/null || fail "sluice exited before it listened"
    port=
    sleep 0.1
done
[[ -n $port ]] || fail "sluice did not log \"admin API listening on\" within 15 s"

# Split the document: examples/N.sh (the command) and examples/N.http (the documented answer).
mkdir "$work/examples"
python3 - "$doc" "$work/examples" <<'EOF'
import re, sys
doc, out = sys.argv[1], sys.argv[2]
blocks = re.findall(r'^```(\w*)\n(.*?)^```$', open(doc, encoding='utf-8').read(), re.S | re.M)
n = 0
for i, (lang, body) in enumerate(blocks):
    if lang != 'sh':
        continue
    if i + 1 >= len(blocks) or blocks[i + 1][0] != 'http':
        sys.exit(f'{doc}: the sh block\n{body}is not followed by an http block with its answer')
    n += 1
    open(f'{out}/{n:03}.sh', 'w').write(body)
    open(f'{out}/{n:03}.http', 'w').write(blocks[i + 1][1])
if n < 20:
    sys.exit(f'{doc}: only {n} examples found')
EOF

# Compares one answer with its documented form; prints what differs.
cat >"$work/compare.py" <<'EOF'
import json, re, sys
documented, headers_file, body_file, code, command = sys.argv[1:6]
VOLATILE = {'created_at', 'updated_at', 'last_used_at', 'key', 'prefix'}
# The monitoring routes answer live values (times, ports, durations, the machine's health).
HEALTH = {'status', 'version', 'uptime_seconds', 'timestamp', 'message', 'latency_ms',
          'checked_at'}
for route, keys in {
        '/admin/v1/series': {'t'},
        '/admin/v1/traffic': {'at', 'request_id', 'duration_ms'},
        '/admin/v1/overview': {'version', 'listen', 'admin_listen', 'uptime_seconds', 'health'},
        '/admin/v1/health': HEALTH,
        '/admin/v1/health/check': HEALTH}.items():
    if re.search(re.escape(route) + r'(?![\w/])', command):
        VOLATILE |= keys
UNCHECKED_HEADERS = {'date', 'x-request-id', 'content-length'}
problems = []

doc_head, _, doc_body = open(documented).read().partition('\n\n')
doc_lines = doc_head.splitlines()
status = doc_lines[0].split()
if len(status) < 2 or status[1] != code:
    problems.append(f'status {code}, documented {doc_lines[0]}')

# curl -D: the last header block (after any 100 Continue).
raw = open(headers_file, newline='').read().replace('\r\n', '\n').strip('\n')
got = {}
for line in raw.split('\n\n')[-1].splitlines()[1:]:
    name, _, value = line.partition(':')
    got.setdefault(name.strip().lower(), value.strip())
for line in doc_lines[1:]:
    name, _, value = line.partition(':')
    name, value = name.strip().lower(), value.strip()
    if name not in got:
        problems.append(f'header {name} missing')
    elif name not in UNCHECKED_HEADERS and got[name] != value:
        problems.append(f'header {name}: {got[name]!r}, documented {value!r}')

def kind(v):
    # JSON has one number type: 12.0 may come back as 12.
    return 'number' if type(v) in (int, float) else type(v)

def same(doc, act, path):
    key = path.rsplit('.', 1)[-1]
    if key in VOLATILE:
        if kind(doc) != kind(act):
            problems.append(f'{path}: {act!r}, documented {doc!r} (type)')
    elif isinstance(doc, dict) and isinstance(act, dict):
        if set(doc) != set(act):
            problems.append(f'{path}: members {sorted(act)}, documented {sorted(doc)}')
        for k in set(doc) & set(act):
            same(doc[k], act[k], f'{path}.{k}')
    elif isinstance(doc, list) and isinstance(act, list):
        if len(doc) != len(act):
            problems.append(f'{path}: {len(act)} items, documented {len(doc)}')
        for i, (d, a) in enumerate(zip(doc, act)):
            same(d, a, f'{path}[{i}]')
    elif doc != act or type(doc) is not type(act):
        problems.append(f'{path}: {act!r}, documented {doc!r}')

actual_text = open(body_file, encoding='utf-8').read()
if doc_body.strip():
    try:
        doc_json = json.loads(doc_body)
    except ValueError as e:
        problems.append(f'the documented body is not JSON: {e}')
    else:
        try:
            same(doc_json, json.loads(actual_text), 'body')
        except ValueError:
            problems.append(f'the answer is not JSON: {actual_text[:300]}')
elif actual_text.strip():
    problems.append(f'undocumented body: {actual_text[:300]}')
print('\n'.join(problems))
EOF

count=0
for example in "$work"/examples/*.sh; do
    n=$(basename "$example" .sh)
    command=$(sed "s/127\.0\.0\.1:8082/127.0.0.1:$port/g" "$example")
    rm -f "$work/headers" "$work/body"
    # The example as written, plus where curl puts the headers, the body and the status.
    if ! code=$(bash -c "${command%$'\n'} -D '$work/headers' -o '$work/body' -w '%{http_code}'"); then
        fail "example $n exited with an error:"$'\n'"$command"
    fi
    problems=$(python3 "$work/compare.py" "${example%.sh}.http" "$work/headers" "$work/body" \
        "$code" "$command")
    if [[ -n $problems ]]; then
        fail "example $n does not answer as documented:"$'\n'"$command"$'\n'"$problems"
    fi
    # Collect the plaintext keys it created.
    python3 -c 'import json,sys
try: d = json.load(open(sys.argv[1]))
except ValueError: sys.exit()
if isinstance(d, dict) and isinstance(d.get("key"), str): print(d["key"])' \
        "$work/body" >>"$work/plaintexts"
    count=$((count + 1))
done

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[[ $status -eq 0 ]] || fail "sluice exited with $status after SIGTERM"

# Shown once, stored and logged nowhere.
[[ -s $work/plaintexts ]] || fail "no example created a key"
while IFS= read -r secret; do
    if grep -rqF -- "$secret" "$work/log" "$work/data"; then
        fail "a plaintext key is in the log or the data directory"
    fi
done < <(cat "$work/plaintexts"; echo "$SLUICE_ADMIN_TOKEN")
echo "PASS: $count examples of $(basename "$doc") answered as documented"
