#!/usr/bin/env bash
# Runs the JS test suite against an AddressSanitizer + UBSan build of the addon. Node and Python are
# not instrumented, so the ASan runtime is preloaded; leak checking is off (V8 and CPython keep
# process-lifetime allocations) and the quarantine is small, so that the RSS bounds the tests
# assert still hold. The normal build is restored afterwards.
#   scripts/test-asan.sh            the whole suite (test/), then the native-server run of the HTTP and
#                                   WebSocket tests (NODE_ASGI_TEST_HTTP=native: package.json's
#                                   "test:native" files), as `npm test` does
#   scripts/test-asan.sh FILE...    only these files, once (set NODE_ASGI_TEST_HTTP yourself)
set -euo pipefail
cd "$(dirname "$0")/.."
restore() { echo "test:asan: restoring the normal build"; node scripts/build.js >/dev/null; }
trap restore EXIT
NODE_ASGI_SANITIZE=address node scripts/build.js
ASAN_LIB=$(gcc -print-file-name=libasan.so)
UBSAN_LIB=$(gcc -print-file-name=libubsan.so)
export ASAN_OPTIONS="detect_leaks=0:quarantine_size_mb=8:abort_on_error=1:allow_user_segv_handler=1:handle_segv=0:detect_odr_violation=0:verify_asan_link_order=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
if [[ $# -gt 0 ]]; then
  LD_PRELOAD="$ASAN_LIB $UBSAN_LIB" node --test --test-concurrency=1 "$@"
  exit
fi
# The native run's files: the globs of package.json's "test:native" (expanded here, unquoted).
native_files=$(node -p "(require('./package.json').scripts['test:native'] || '').split(/\\s+/).filter((a) => a.startsWith('test/')).join(' ')")
[[ -n "$native_files" ]] || native_files="test/http_*.test.js test/websocket_*.test.js test/native_*.test.js"
status=0
LD_PRELOAD="$ASAN_LIB $UBSAN_LIB" node --test --test-concurrency=1 test/ || status=$?
echo "test:asan: the native-server run (NODE_ASGI_TEST_HTTP=native)"
# shellcheck disable=SC2086
NODE_ASGI_TEST_HTTP=native LD_PRELOAD="$ASAN_LIB $UBSAN_LIB" node --test --test-concurrency=1 $native_files || status=$?
exit "$status"
