#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets with clang (address and undefined sanitizers)
# and runs each for SECONDS (default 30) on its committed corpus. CI runs a
# short pass (scripts/test.sh); run long ones by hand, e.g.
#   bash scripts/fuzz.sh 3600            # every target an hour
#   bash scripts/fuzz.sh 600 fuzz_json   # one target
# New interesting inputs go to build-fuzz/corpus/TARGET; a crash leaves
# crash-* in build-fuzz/ and fails the run: make it a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
CC=clang cmake -S . -B build-fuzz -DESTHUB_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j2 >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi
status=0
for t in "${targets[@]}"; do
    name=${t#fuzz_}
    work=build-fuzz/corpus/$name
    mkdir -p "$work"
    seeds=tests/fuzz/corpus/$name
    args=(-max_total_time="$seconds" -print_final_stats=0 -artifact_prefix=build-fuzz/"$t"-)
    [ -f tests/fuzz/"$name".dict ] && args+=(-dict=tests/fuzz/"$name".dict)
    corpora=("$work")
    [ -d "$seeds" ] && corpora+=("$seeds")
    echo "fuzz: $t for ${seconds}s"
    if ! ./build-fuzz/tests/fuzz/"$t" "${args[@]}" "${corpora[@]}" >build-fuzz/"$t".log 2>&1; then
        echo "fuzz: $t FAILED, see build-fuzz/$t.log:"
        tail -30 build-fuzz/"$t".log
        status=1
    fi
done
exit $status
