#!/usr/bin/env bash
# Builds the C++ core's Google Benchmark micro-benchmarks (Release) and runs them; the whole run
# takes well under a minute. Extra arguments go to core_bench, e.g.
#   scripts/bench-cpp.sh --benchmark_filter=Bridge
#   scripts/bench-cpp.sh --benchmark_format=json --benchmark_out=/tmp/core_bench.json
set -euo pipefail
cd "$(dirname "$0")/.."

python="${NODE_ASGI_PYTHON:-/usr/bin/python3}"
cmake -S . -B build-cpp -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE="$python" >/dev/null
cmake --build build-cpp -j2 --target core_bench
exec build-cpp/core_bench --benchmark_min_time=0.1 "$@"
