#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root): installs what it needs, builds
# with ASan+UBSan, runs every unit and network-namespace test, then every fuzz target over its
# seed corpus. Prints "N passed, M failed" last; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${WGATE_FUZZ_SECONDS:-10}

if [ "$(id -u)" != 0 ]; then
  echo "test.sh: run as root (the network tests create namespaces and firewall rules)" >&2
  exit 2
fi
scripts/setup.sh || exit 1

passed=0
failed=0
echo "== build (asan)"
scripts/build.sh asan || { echo "0 passed, 1 failed"; exit 1; }

echo "== unit and namespace tests (ctest)"
ctest_log=$(mktemp)
ctest --test-dir build/asan --output-on-failure -j2 --timeout 600 2>&1 | tee "$ctest_log"
ctest_rc=${PIPESTATUS[0]}
total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$ctest_log" | tail -1)
bad=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$ctest_log" | tail -1)
rm -f "$ctest_log"
if [ -z "$total" ]; then total=0; bad=1; fi
passed=$((passed + total - bad))
failed=$((failed + bad))
[ "$ctest_rc" = 0 ] || [ "$bad" != 0 ] || failed=$((failed + 1))

echo "== fuzz targets (${fuzz_seconds}s each)"
if scripts/build.sh fuzz; then
  for bin in build/fuzz/fuzz/*_fuzz; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    work=$(mktemp -d)
    [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$work/"
    # The config parser also starts from every test config.
    [ "$name" = config_fuzz ] && cp src/config/testdata/*.conf "$work/"
    if "$bin" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
        "$work" >"$work.log" 2>&1; then
      echo "fuzz $name: ok ($(grep -c . "$work.log") log lines, $(find "$work" -type f | wc -l) corpus files)"
      passed=$((passed + 1))
    else
      echo "fuzz $name: FAILED"; tail -40 "$work.log"
      failed=$((failed + 1))
    fi
    rm -rf "$work" "$work.log"
  done
else
  echo "fuzz build: FAILED"; failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
