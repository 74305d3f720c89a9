#!/usr/bin/env bash
# Builds the Node-free C++ core with CMake and runs its GoogleTest unit tests under ctest.
#   scripts/test-cpp.sh            Release build in build-cpp/
#   scripts/test-cpp.sh --asan     AddressSanitizer + UBSan build in build-cpp/asan/
# Extra arguments go to ctest (e.g. -R Bridge). The embedded Python is $NODE_ASGI_PYTHON, else
# /usr/bin/python3 (never the pyenv python3 on PATH). Safe to re-run: configure and build are
# incremental. Exits non-zero when configuring, building or any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build-cpp
cmake_args=(-DCMAKE_BUILD_TYPE=Release)
if [[ "${1:-}" == "--asan" ]]; then
  shift
  build_dir=build-cpp/asan
  cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DNODE_ASGI_SANITIZE=address -DNODE_ASGI_BUILD_BENCH=OFF)
fi
python="${NODE_ASGI_PYTHON:-/usr/bin/python3}"

cmake -S . -B "$build_dir" "${cmake_args[@]}" -DPython3_EXECUTABLE="$python"
cmake --build "$build_dir" -j2
ctest --test-dir "$build_dir" --output-on-failure "$@"
