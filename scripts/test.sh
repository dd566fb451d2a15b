#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs every test: installs the dependencies, builds build/ (warnings are
# errors) and runs ctest (unit and integration tests), then does the same in
# build-asan/ with AddressSanitizer and UndefinedBehaviorSanitizer, then runs
# every fuzz target briefly (scripts/fuzz.sh). Exits
# non-zero when anything fails; both builds run even when the first fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOBS="${ESTHUB_JOBS:-2}"

bash "$ROOT/scripts/install-deps.sh"

status=0

echo "== build/ (Release, -Werror)"
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=Release -DESTHUB_WERROR=ON
cmake --build "$ROOT/build" -j"$JOBS"
(cd "$ROOT/build" && ctest --output-on-failure -j"$JOBS") || status=1

echo "== build-asan/ (address and undefined behaviour sanitizers, -Werror)"
cmake -S "$ROOT" -B "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DESTHUB_SANITIZE=ON -DESTHUB_WERROR=ON
cmake --build "$ROOT/build-asan" -j"$JOBS"
# Sanitized programs are slower: the integration tests stretch their waits.
(cd "$ROOT/build-asan" &&
	ESTHUB_IT_SLOW=2 \
	ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:strict_string_checks=1" \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
	ctest --output-on-failure -j"$JOBS") || status=1

echo "== fuzz: every libFuzzer target briefly (bash scripts/fuzz.sh SECONDS runs them long)"
bash "$ROOT/scripts/fuzz.sh" "${ESTHUB_FUZZ_SECONDS:-10}" || status=1

if [ "$status" -eq 0 ]; then
	echo "test: all tests passed in build/ and build-asan/, fuzz targets clean"
else
	echo "test: FAILED (see the output above)" >&2
fi
exit "$status"
