#!/usr/bin/env bash
# Installs what is missing, builds Sluice in Release and runs it on embedded defaults:
# a SQLite file in the data directory, in-memory rate limits, listening on 127.0.0.1:8081.
# Extra arguments go to sluice (e.g. scripts/run.sh --listen 0.0.0.0:8081).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build-release --target sluice
mode=()
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
    mode=(--headless)
fi
exec build-release/app/sluice "${mode[@]}" "$@"
