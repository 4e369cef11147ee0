#!/usr/bin/env bash
# Configures and builds one flavour of wgate into build/<flavour>.
#   release  optimised, what the demo and the container image run
#   debug    unoptimised with debug info, for gdb
#   asan     debug + AddressSanitizer + UndefinedBehaviorSanitizer, what the tests run
#   fuzz     clang + libFuzzer targets (fuzz/*_fuzz.cc)
#   bench    optimised + Google Benchmark targets (bench/*_bench.cc)
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
shift || true
case "$flavour" in
  release) args=(-DCMAKE_BUILD_TYPE=Release -DWGATE_TESTS=OFF) ;;
  debug)   args=(-DCMAKE_BUILD_TYPE=Debug) ;;
  asan)    args=(-DCMAKE_BUILD_TYPE=Debug -DWGATE_SANITIZE=ON) ;;
  fuzz)    args=(-DCMAKE_BUILD_TYPE=Debug -DWGATE_FUZZ=ON -DWGATE_TESTS=OFF
                 -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
  bench)   args=(-DCMAKE_BUILD_TYPE=Release -DWGATE_BENCH=ON -DWGATE_TESTS=OFF) ;;
  *) echo "build.sh: unknown flavour \"$flavour\" (release, debug, asan, fuzz, bench)" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavour" -G Ninja -DWGATE_WERROR=ON "${args[@]}" >/dev/null
ninja -C "build/$flavour" "$@"
