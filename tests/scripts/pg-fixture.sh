#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the tests (ctest fixture "postgres").
#
#   pg-fixture.sh start DIR   initdb + start on a free 127.0.0.1 port, create role "sluice"
#                             (LOGIN CREATEDB) and database "sluice_test", write the URL to DIR/url
#   pg-fixture.sh stop DIR    stop the cluster and delete its data
#
# As root the server runs as the "postgres" user (PostgreSQL refuses to run as root); otherwise as
# the current user. The cluster lives in DIR unless the postgres user cannot reach DIR or the unix
# socket path would be too long; then it lives in a mktemp directory under /tmp whose path is
# recorded in DIR/base.
set -euo pipefail
set -E # the ERR trap below fires inside functions too

readonly SUPER_ROLE=sluice_admin
readonly TEST_ROLE=sluice
readonly TEST_DB=sluice_test

step="starting"
die() {
    echo "pg-fixture: $*" >&2
    exit 1
}
on_error() {
    echo "pg-fixture: FAILED while ${step}" >&2
    if [[ -n "${BASE:-}" && -f "${BASE}/postgres.log" ]]; then
        echo "pg-fixture: last lines of ${BASE}/postgres.log:" >&2
        tail -n 30 "${BASE}/postgres.log" >&2 || true
    fi
}
trap on_error ERR

usage() {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
ACTION=$1
DIR=$2
case "${DIR}" in
/*) ;;
*) DIR="$(pwd)/${DIR}" ;;
esac

AS_ROOT=0
[[ $(id -u) -eq 0 ]] && AS_ROOT=1

# Runs a PostgreSQL program as the cluster's owner, from a directory that user can enter.
as_owner() {
    if [[ ${AS_ROOT} -eq 1 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

find_bin() {
    local d
    d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    [[ -n "${d}" && -x "${d}/initdb" && -x "${d}/pg_ctl" ]] ||
        die "no PostgreSQL server found under /usr/lib/postgresql/*/bin (install postgresql-15)"
    echo "${d}"
}

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    # Fallback: probe random high ports until nothing answers.
    local p _
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/${p}") 2>/dev/null; then
            echo "${p}"
            return
        fi
    done
    die "no free TCP port found on 127.0.0.1"
}

# Stops whatever cluster a previous run left behind (crashed ctest, killed build) and removes it.
stop_cluster() {
    local bin=$1 base
    base=$(cat "${DIR}/base" 2>/dev/null || true)
    [[ -n "${base}" ]] || base="${DIR}"
    if [[ -f "${base}/data/postmaster.pid" ]]; then
        step="stopping the cluster in ${base}/data"
        as_owner "${bin}/pg_ctl" -D "${base}/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            as_owner "${bin}/pg_ctl" -D "${base}/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
            echo "pg-fixture: warning: could not stop the cluster in ${base}/data" >&2
    fi
    rm -rf "${base}/data" "${base}/postgres.log" "${base}/initdb.log" "${DIR}/url" "${DIR}/base"
    if [[ "${base}" != "${DIR}" ]]; then
        rm -rf "${base}"
    fi
}

# True when the cluster owner can create files in $1 (every parent must be traversable).
owner_can_write() {
    if [[ ${AS_ROOT} -eq 1 ]]; then
        runuser -u postgres -- test -w "$1" -a -x "$1"
    else
        test -w "$1" -a -x "$1"
    fi
}

start() {
    local bin port base data sockpath attempt started=0
    bin=$(find_bin)
    step="creating ${DIR}"
    mkdir -p "${DIR}"
    stop_cluster "${bin}"

    base="${DIR}"
    [[ ${AS_ROOT} -eq 1 ]] && chown postgres: "${DIR}"
    # .s.PGSQL.NNNNN must fit in sun_path (108 bytes).
    sockpath="${DIR}/data/.s.PGSQL.65535"
    if ! owner_can_write "${DIR}" || [[ ${#sockpath} -gt 100 ]]; then
        step="creating a directory under /tmp"
        base=$(mktemp -d /tmp/sluice-pg.XXXXXX)
        chmod 755 "${base}"
        [[ ${AS_ROOT} -eq 1 ]] && chown postgres: "${base}"
        echo "${base}" >"${DIR}/base"
    fi
    BASE="${base}"
    data="${base}/data"

    step="running initdb in ${data}"
    as_owner "${bin}/initdb" -D "${data}" -U "${SUPER_ROLE}" -A trust -E UTF8 --locale=C.UTF-8 \
        >"${base}/initdb.log" 2>&1 || {
        cat "${base}/initdb.log" >&2
        false
    }

    # Another process may take the port between the probe and the bind: retry a few times.
    for attempt in 1 2 3; do
        port=$(free_port)
        step="starting postgres on 127.0.0.1:${port} (attempt ${attempt})"
        if as_owner "${bin}/pg_ctl" -D "${data}" -l "${base}/postgres.log" -w -t 60 \
            -o "-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null; then
            started=1
            break
        fi
    done
    [[ ${started} -eq 1 ]] || false

    step="waiting for postgres to accept connections on 127.0.0.1:${port}"
    local ready=0 _
    for _ in $(seq 1 60); do
        if "${bin}/pg_isready" -q -h 127.0.0.1 -p "${port}" -d postgres -U "${SUPER_ROLE}"; then
            ready=1
            break
        fi
        sleep 0.5
    done
    [[ ${ready} -eq 1 ]] || false

    step="creating role ${TEST_ROLE} and database ${TEST_DB}"
    as_owner "${bin}/psql" -X -q -v ON_ERROR_STOP=1 -h "${data}" -p "${port}" -U "${SUPER_ROLE}" \
        -d postgres \
        -c "CREATE ROLE ${TEST_ROLE} LOGIN CREATEDB" \
        -c "CREATE DATABASE ${TEST_DB} OWNER ${TEST_ROLE}" >/dev/null

    step="writing ${DIR}/url"
    echo "postgres://${TEST_ROLE}@127.0.0.1:${port}/${TEST_DB}" >"${DIR}/url.tmp"
    mv "${DIR}/url.tmp" "${DIR}/url"
    echo "pg-fixture: PostgreSQL $("${bin}/pg_ctl" --version | awk '{print $3}') ready:" \
        "$(cat "${DIR}/url") (data in ${data})"
}

stop() {
    local bin
    bin=$(find_bin)
    if [[ ! -d "${DIR}" ]]; then
        echo "pg-fixture: nothing to stop in ${DIR}"
        return
    fi
    stop_cluster "${bin}"
    echo "pg-fixture: stopped and removed the cluster of ${DIR}"
}

case "${ACTION}" in
start) start ;;
stop) stop ;;
*) usage ;;
esac
