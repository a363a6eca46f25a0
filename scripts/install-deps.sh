#!/usr/bin/env bash
# Installs the Debian 12 packages Sluice needs to build, run and test; only what is missing,
# so a second run does nothing. Needs root (or sudo) when something is missing.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also the servers and tools the test suite uses
set -euo pipefail

packages=(
    cmake ninja-build g++ pkg-config
    qt6-base-dev qt6-base-dev-tools qt6-httpserver-dev qt6-websockets-dev qt6-charts-dev
    qt6-declarative-dev qml6-module-qtquick qml6-module-qtquick-controls
    qml6-module-qtquick-layouts qml6-module-qtquick-templates qml6-module-qtquick-window
    qml6-module-qtqml-workerscript qml6-module-qtcharts qml6-module-qttest
    # The dashboard: Qt Quick Controls (Fusion style), Charts, Widgets (tray, QApplication),
    # the offscreen/xcb platform plugins and a font, so it renders headless in CI too.
    qt6-qpa-plugins libqt6quickcontrols2-6 libqt6charts6 libqt6widgets6 fonts-dejavu-core
    libqt6sql6-sqlite libqt6sql6-psql libhttp-parser-dev libhiredis-dev
    libsqlite3-dev  # the ledger writes its batches through SQLite's own API (SqliteStatement)
    libbenchmark-dev  # Google Benchmark: bench/ micro-benchmarks (SLUICE_BENCH, on by default)
)
if [[ "${1:-}" == "--test" ]]; then
    # PostgreSQL for the storage tests, promtool (package prometheus) for the exposition
    # check, redis-server for the limiter tests, python3 for the test helpers, openssl for the
    # upstream TLS test's throwaway CA.
    packages+=(postgresql prometheus redis-server python3 curl openssl)
    # node and npm for the end-to-end test with the official SDKs (tests/e2e). A node that is
    # already there (e.g. NodeSource's, which bundles npm and conflicts with Debian's) is kept.
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        packages+=(nodejs npm)
    fi
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if (( ${#missing[@]} == 0 )); then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# Services that the packages would start (PostgreSQL, Redis, Prometheus) are not wanted: the
# tests start their own throwaway instances. policy-rc.d keeps apt from starting them.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod +x "$policy"
    created_policy=1
fi
trap '[[ $created_policy == 1 ]] && "${sudo[@]}" rm -f "$policy"' EXIT
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
