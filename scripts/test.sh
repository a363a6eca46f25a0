#!/usr/bin/env bash
# Installs what is missing, builds Sluice with its tests (warnings are errors) and runs the
# whole suite with ctest. Exits non-zero when any test fails. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --test
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_WERROR=ON >/dev/null
cmake --build build
cd build
# ctest prints its "N% tests passed, M tests failed out of T" summary line itself.
ctest --output-on-failure --timeout 600 "$@"
