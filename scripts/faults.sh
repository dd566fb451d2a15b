#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The long fault runs (bash scripts/test.sh runs the same tests short). Each
# is a real hub, real adapters and real sockets on loopback:
#
#   kill9     the hub killed with SIGKILL at random moments under load from
#             three senders, 50 cycles: every acknowledged report in the log
#             exactly once, at the seq its ack named; estctl verify holds
#   powercut  the same 50 cycles as a power cut (tests/tools/powercut_vfs.c
#             preloaded: what the hub wrote and did not sync is lost with
#             it), and est-adapter's outbox cut 50 times while a partner
#             posts with the hub away: everything answered 2xx delivered once;
#             and the store's disk failing 30 times under load (syncs fail,
#             pages written do not land): refusals to retry, the hub stopping
#             (exit 2) after a failed sync of its database file, a cut after
#             each round, every acknowledged report in the log once; the disk
#             under est-adapter's outbox failing in its 50 cuts: 503 for what
#             it could not keep, everything answered 2xx delivered once
#   away      the hub stopped for 3 minutes while three adapters (drop
#             directory, HTTP, files) keep reading: everything delivered once
#   disk      the store's filesystem full (a small tmpfs): clear refusal with
#             retry_after_ms, nothing acknowledged lost, accepts again
#   damaged   a damaged store: esthub run refuses and says what is wrong
#   stalled   a subscriber that stops reading while a million reports arrive:
#             the hub's memory stays bounded, the subscriber catches up
#
# usage: bash scripts/faults.sh [kill9|powercut|away|disk|damaged|stalled ...]
#        (none: all). Builds build/ first. Writes build/faults.log.
# Figures can be changed: ESTHUB_FAULT_KILLS (50), ESTHUB_FAULT_ADAPTER_CUTS
# (50), ESTHUB_FAULT_DISK_FAILS (30), ESTHUB_FAULT_AWAY_S (180),
# ESTHUB_FAULT_ENTRIES (1000000);
# ESTHUB_IT_SEED repeats a kill9 or powercut run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"

export ESTHUB_FAULT_KILLS="${ESTHUB_FAULT_KILLS:-50}"
export ESTHUB_FAULT_ADAPTER_CUTS="${ESTHUB_FAULT_ADAPTER_CUTS:-50}"
export ESTHUB_FAULT_DISK_FAILS="${ESTHUB_FAULT_DISK_FAILS:-30}"
export ESTHUB_FAULT_AWAY_S="${ESTHUB_FAULT_AWAY_S:-180}"
export ESTHUB_FAULT_ENTRIES="${ESTHUB_FAULT_ENTRIES:-1000000}"

declare -A TESTS=(
	[kill9]="test_kill9"
	[powercut]="test_power_cut"
	[away]="test_adapter_modes.HubAwayWhileFeeding"
	[disk]="test_full_disk"
	[damaged]="test_damaged_store"
	[stalled]="test_stalled_subscriber"
)
ORDER=(damaged disk kill9 powercut away stalled)

if [ "$#" -eq 0 ]; then
	set -- "${ORDER[@]}"
fi
for f in "$@"; do
	if [ -z "${TESTS[$f]:-}" ]; then
		echo "faults: unknown fault run '$f' (one of: ${ORDER[*]})" >&2
		exit 2
	fi
done

bash "$ROOT/scripts/install-deps.sh"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"${ESTHUB_JOBS:-2}" >/dev/null

log="$BUILD/faults.log"
: >"$log"
status=0
for f in "$@"; do
	echo "== faults: $f (${TESTS[$f]})" | tee -a "$log"
	start=$(date +%s)
	part="$log.$f"
	if (cd "$ROOT/tests/integration" &&
		ESTHUB_BUILD_DIR="$BUILD" ESTHUB_SOURCE_DIR="$ROOT" \
			/usr/bin/python3 -m unittest -v "${TESTS[$f]}") >"$part" 2>&1; then
		result=passed
	else
		result=FAILED
		status=1
	fi
	cat "$part" >>"$log"
	# The figures the tests print (kills, acknowledged reports, memory).
	grep -oE '(kill9|power cut|adapter power cut|(adapter )?failing disk|stalled subscriber|full disk)[:,] .*' "$part" || true
	rm -f "$part"
	echo "faults: $f $result in $(($(date +%s) - start)) s" | tee -a "$log"
done
if [ "$status" -ne 0 ]; then
	echo "faults: FAILED; the whole output is in $log" >&2
fi
exit "$status"
