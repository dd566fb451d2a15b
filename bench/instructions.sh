#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/instructions.sh: the hub's instructions a report, counted by
# valgrind's callgrind rather than timed, so that two builds can be told
# apart by a few percent where the timed runs on a shared machine cannot
# (their spread is ±10%). One hub under callgrind, counting off; bench-load
# sends a warm-up, then counting is switched on (callgrind_control) for the
# measured reports and off again; the hub stops with SIGTERM and writes its
# counts. Prints the instructions a report, all threads of the hub (the
# ZeroMQ I/O threads and the checkpointer too), by library.
#
#   bash bench/instructions.sh [A B] [--reference] [--reports N]
#                              [--load window|wait]
#
#   A, B: two commits (anything git rev-parse takes), measured in turn and
#   compared (B against A); without them, the working tree (build-bench/).
#   --reference: the reference loop (bench-ref) counted the same way beside.
#   --reports: reports measured (default 20000, after 2,000 of warm-up).
#   window: 4 senders x 100 in flight (default); wait: 1 sender waiting for
#   each ack. (rate is not offered: under valgrind the hub is about 50 times
#   slower and a paced load would measure the backlog.)
#
# What it leaves out: the kernel's work (system calls count as one
# instruction each), and time itself: cache misses, waits, preemption.
# Valgrind's virtual CPU has no SHA extensions, so OpenSSL's SHA-256 runs its
# portable code here, several times the instructions it takes on this
# machine; the table gives the total with and without libcrypto. Batches are
# larger under valgrind than at full speed, so per-batch costs weigh less.
# Two runs of the same hub agreed within 0.2% in total (libsqlite3 1.2%).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/build-bench
PROG=instructions
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
LOAD=window
REPORTS=20000
WARMUP=2000
REFERENCE=0

REVS=()
while [ $# -gt 0 ]; do
	case $1 in
	--reports)
		REPORTS=${2:-}
		shift
		;;
	--load)
		LOAD=${2:-}
		shift
		;;
	--reference)
		REFERENCE=1
		;;
	-h | --help)
		usage
		exit 0
		;;
	-*)
		echo "instructions: unknown option $1 (bench/instructions.sh --help)" >&2
		exit 1
		;;
	*) REVS+=("$1") ;;
	esac
	shift
done
case $LOAD in
window | wait) load_args "$LOAD" ;;
*)
	echo "instructions: --load wants window or wait, not '$LOAD'" >&2
	exit 1
	;;
esac
case $REPORTS in '' | *[!0-9]* | 0)
	echo "instructions: --reports wants a whole number above 0" >&2
	exit 1
	;;
esac
if [ ${#REVS[@]} -ne 0 ] && [ ${#REVS[@]} -ne 2 ]; then
	echo "instructions: two commits or none (bench/instructions.sh --help)" >&2
	exit 1
fi
for tool in valgrind callgrind_control callgrind_annotate; do
	command -v "$tool" >/dev/null || {
		echo "instructions: $tool not found (bash scripts/install-deps.sh installs valgrind)" >&2
		exit 1
	}
done
SENDERS=${ARGS[1]}
if [ $((REPORTS % SENDERS)) -ne 0 ] || [ $((WARMUP % SENDERS)) -ne 0 ]; then
	echo "instructions: --reports must divide among $SENDERS senders" >&2
	exit 1
fi

work_dir "$BUILD"
build_release "$REPO" "$BUILD" "$WORK/load-build.log" esthub estctl bench-load bench-ref

# load EP DIR COUNT: COUNT reports in all from bench-load; fails unless all are accepted.
load() {
	local line
	line=$("$BUILD/bench/bench-load" --hub "$1" --hub-cert "$2/keys/hub" \
		--cert "$2/clients/bench-adapter_secret" "${ARGS[@]}" --count $(($3 / SENDERS)) \
		--timeout 300 2>&1 | grep '^bench-load:' | tail -1)
	if ! grep -q " acked=$3 .*rejected=0 lost=0" <<<"$line"; then
		echo "instructions: not every report was accepted: $line" >&2
		exit 1
	fi
}

# count TAG CERTDIR CMD...: CMD (a server that prints ingest=ENDPOINT once
# ready) under callgrind, driven with CERTDIR's certificates; writes
# "object instructions" lines (a report) into $WORK/TAG.counts.
count() {
	local tag=$1 certs=$2 out pid ep
	shift 2
	mkdir -p "$WORK/$tag"
	out=$WORK/$tag/callgrind.out
	valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
		"$@" >"$WORK/$tag/server.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	ep=$(endpoint "$WORK/$tag/server.out" 120) || exit 1 # valgrind starts it slowly
	load "$ep" "$certs" "$WARMUP"
	callgrind_control -i on "$pid" >/dev/null 2>&1
	load "$ep" "$certs" "$REPORTS"
	callgrind_control -i off "$pid" >/dev/null 2>&1
	kill -TERM "$pid"
	wait "$pid" || {
		echo "instructions: $tag did not stop cleanly:" >&2
		tail -20 "$WORK/$tag/server.out" >&2
		exit 1
	}
	# Self counts by library (the bracketed object of each function line).
	callgrind_annotate --threshold=100 "$out" 2>/dev/null | awk -v n="$REPORTS" '
		/PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
		/^ *[0-9,]+ \(.*\[/ {
			c = $1
			gsub(",", "", c)
			o = $0
			sub(/.*\[/, "", o)
			sub(/\].*/, "", o)
			sub(/.*\//, "", o)
			sub(/\.so.*/, "", o)
			by[o] += c
		}
		END {
			printf "all %.0f\n", total / n
			printf "without-libcrypto %.0f\n", (total - by["libcrypto"]) / n
			for (o in by)
				printf "%s %.0f\n", o, by[o] / n
		}' >"$WORK/$tag.counts"
}

# measure TAG HUBBUILD: a new instance of HUBBUILD's hub, counted.
measure() {
	local dir=$WORK/$1/hub
	mkdir -p "$WORK/$1"
	"$2/hub/esthub" init "$dir" --ingest 'tcp://127.0.0.1:*' --feed 'tcp://127.0.0.1:*' >/dev/null
	"$2/hub/ctl/estctl" -d "$dir" client add bench-adapter --role adapter \
		--org municipality >/dev/null
	count "$1" "$dir" "$2/hub/esthub" run "$dir"
}

# measure_reference CERTDIR: bench-ref (ROUTER + SQLite) on CERTDIR's keys, counted.
measure_reference() {
	count ref "$1" "$BUILD/bench/bench-ref" --bind 'tcp://127.0.0.1:*' \
		--cert "$1/keys/hub_secret" --certs "$1/certs" --db "$WORK/ref.db"
}

if [ ${#REVS[@]} -eq 0 ]; then
	TAGS=(tree)
	NAMES=(tree)
	echo "instructions: the working tree ($(git -C "$REPO" log -1 --format=%h) with $(git -C "$REPO" status --porcelain -- hub proto | wc -l) uncommitted change(s) in hub/ and proto/)"
	measure tree "$BUILD"
else
	TAGS=(a b)
	NAMES=("a ${REVS[0]}" "b ${REVS[1]}")
	build_commit a "${REVS[0]}"
	build_commit b "${REVS[1]}"
	measure a "$WORK/a/build"
	measure b "$WORK/b/build"
fi
if [ "$REFERENCE" = 1 ]; then
	measure_reference "$WORK/${TAGS[0]}/hub"
	TAGS+=(ref)
	NAMES+=(reference)
fi

# The counts side by side, one column a server (0 where a library ran nothing;
# rows where every server ran less than one left out), largest first, and B/A
# where two commits were measured.
COUNTS=()
for t in "${TAGS[@]}"; do COUNTS+=("$WORK/$t.counts"); done
echo "instructions a report ($LOAD, $REPORTS reports after $WARMUP of warm-up), all threads of each server:"
{
	printf '%s' object
	printf '\t%s' "${NAMES[@]}"
	[ ${#REVS[@]} -eq 2 ] && printf '\t%s' 'b/a'
	printf '\n'
	awk -v ab="${#REVS[@]}" '
		FNR == 1 { files++ }
		{ n[$1, files] = $2; seen[$1] = 1 }
		END {
			for (o in seen) {
				line = o
				keep = 0
				for (f = 1; f <= files; f++) {
					v = (o, f) in n ? n[o, f] : 0
					line = line "\t" v
					keep = keep || v >= 1
				}
				if (ab == 2)
					line = line "\t" (n[o, 1] > 0 ? sprintf("%.3f", n[o, 2] / n[o, 1]) : "-")
				if (keep)
					print line
			}
		}' "${COUNTS[@]}" | sort -t "$(printf '\t')" -k2,2nr
} | column -t -s "$(printf '\t')" | sed 's/^/  /'
