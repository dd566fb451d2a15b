#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/threads.sh: where a report's CPU time goes, thread by thread. One
# hub and the reference loop (bench-ref) side by side on the same
# certificates; bench-load drives each in turn with the same load, and
# /proc tells, for every thread of the server, its CPU time and its context
# switches (voluntary: it slept; involuntary: it was preempted) divided by
# the reports acknowledged, and the share of the run it spent on a CPU and
# runnable but waiting for one, and its minor page faults a thousand
# reports. The last lines add the load generator's CPU
# and say how busy the two kept the machine: where both servers leave the
# same share idle, their rates stand in the inverse ratio of the CPU a
# report (theirs plus the load generator's). Prints one block a server.
#
#   bash bench/threads.sh [--load window|wait|rate] [--seconds S] [--reps N]
#                         [--commit-thread auto|on|off] [--fill S]
#
#   window: 4 senders x 100 in flight; wait: 1 sender waiting for each ack;
#   rate: 4 senders x 2,500 a second (10,000/s). Default window, 5 s, 1 rep.
#   --commit-thread: the hub's limits.commit_thread (hub.conf; default auto).
#   --fill: first drive each server S seconds with 4 senders x 100 in flight
#   (default 0), so that what is measured runs on a store of millions of
#   reports, as bench/run.sh's one-sender and paced runs do.
#
# Builds Release into build-bench/ (as bench/run.sh does) and measures the
# working tree. Figures from a shared machine: compare within one run.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/build-bench
PROG=threads
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
LOAD=window
SECONDS_RUN=5
REPS=1
COMMIT_THREAD=auto
FILL_S=0

while [ $# -gt 0 ]; do
	case $1 in
	--load)
		LOAD=${2:-}
		shift
		;;
	--seconds)
		SECONDS_RUN=${2:-}
		shift
		;;
	--reps)
		REPS=${2:-}
		shift
		;;
	--commit-thread)
		COMMIT_THREAD=${2:-}
		shift
		;;
	--fill)
		FILL_S=${2:-}
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "threads: unknown argument $1 (bench/threads.sh --help)" >&2
		exit 1
		;;
	esac
	shift
done
load_args "$LOAD"
case $COMMIT_THREAD in auto | on | off) ;;
*)
	echo "threads: --commit-thread wants auto, on or off, not '$COMMIT_THREAD'" >&2
	exit 1
	;;
esac
case $SECONDS_RUN in '' | *[!0-9]*)
	echo "threads: --seconds wants a whole number" >&2
	exit 1
	;;
esac
case $REPS in '' | *[!0-9]*)
	echo "threads: --reps wants a whole number" >&2
	exit 1
	;;
esac
case $FILL_S in '' | *[!0-9]*)
	echo "threads: --fill wants a whole number of seconds" >&2
	exit 1
	;;
esac

mkdir -p "$BUILD"
build_release "$REPO" "$BUILD" "$BUILD/threads-build.log" esthub estctl bench-load bench-ref

work_dir "$BUILD"

DIR=$WORK/hub
"$BUILD/hub/esthub" init "$DIR" --ingest 'tcp://127.0.0.1:*' --feed 'tcp://127.0.0.1:*' >/dev/null
"$BUILD/hub/ctl/estctl" -d "$DIR" client add bench-adapter --role adapter --org municipality >/dev/null
sed -i "s/^commit_thread = .*/commit_thread = $COMMIT_THREAD/" "$DIR/hub.conf"
"$BUILD/hub/esthub" run "$DIR" >"$WORK/hub.out" 2>&1 &
HUB=$!
PIDS+=("$HUB")
"$BUILD/bench/bench-ref" --bind 'tcp://127.0.0.1:*' --cert "$DIR/keys/hub_secret" \
	--certs "$DIR/certs" --db "$WORK/ref.db" >"$WORK/ref.out" 2>&1 &
REF=$!
PIDS+=("$REF")

HUB_EP=$(endpoint "$WORK/hub.out")
REF_EP=$(endpoint "$WORK/ref.out")
# What the hub chose for limits.commit_thread, as it said at start.
grep -o 'ingest: every batch.*\|ingest: batches of.*' "$WORK/hub.out" || true

# snapshot PID: one line a thread: name, voluntary and involuntary switches,
# CPU ticks, from schedstat the nanoseconds on a CPU and waiting for one
# (runnable, in the run queue; 0 0 where the kernel keeps no schedstat), and
# its minor page faults (a fresh page of memory touched: about 10 us each
# on this project's virtual machines).
snapshot() {
	local t
	for t in /proc/"$1"/task/*; do
		printf '%s %s %s %s %s %s\n' "$(tr ' ' _ <"$t/comm")" \
			"$(awk '/^voluntary_ctxt_switches/ { print $2 }' "$t/status")" \
			"$(awk '/^nonvoluntary_ctxt_switches/ { print $2 }' "$t/status")" \
			"$(awk '{ print $14 + $15 }' "$t/stat")" \
			"$(awk '{ print $1, $2 }' "$t/schedstat" 2>/dev/null || echo 0 0)" \
			"$(awk '{ print $10 }' "$t/stat")"
	done
}

# drive NAME ARGS...: bench-load against the server NAME (esthub or reference)
# with ARGS; its result line in LINE and the reports it acknowledged in
# ACKED. Stops the script when it acknowledged nothing.
drive() {
	local name=$1 ep=$REF_EP
	shift
	if [ "$name" = esthub ]; then ep=$HUB_EP; fi
	local out
	out=$("$BUILD/bench/bench-load" --hub "$ep" --hub-cert "$DIR/keys/hub" \
		--cert "$DIR/clients/bench-adapter_secret" "$@" --timeout 30 2>&1) || true
	LINE=$(grep '^bench-load:' <<<"$out" | tail -1) || true
	ACKED=$(sed -n 's/.* acked=\([0-9]*\).*/\1/p' <<<"$LINE")
	if [ -z "$ACKED" ] || [ "$ACKED" -eq 0 ]; then
		echo "threads: $name acknowledged nothing: ${LINE:-$(tail -3 <<<"$out")}" >&2
		exit 1
	fi
}

if [ "$FILL_S" -gt 0 ]; then
	for name in esthub reference; do
		drive "$name" --senders 4 --window 100 --seconds "$FILL_S" --warmup 0
		echo "fill $name: $ACKED reports acknowledged in ${FILL_S} s of 4 x 100"
	done
fi

TICK_US=$((1000000 / $(getconf CLK_TCK)))
for rep in $(seq "$REPS"); do
	for name in esthub reference; do
		if [ "$name" = esthub ]; then pid=$HUB; else pid=$REF; fi
		sleep 1
		snapshot "$pid" >"$WORK/before"
		t0=$(date +%s%N)
		drive "$name" "${ARGS[@]}" --seconds "$SECONDS_RUN" --warmup 0
		t1=$(date +%s%N)
		snapshot "$pid" >"$WORK/after"
		line=$LINE acked=$ACKED
		per_s=$(sed -n 's/.* per_s=\([0-9.]*\).*/\1/p' <<<"$line")
		client_us=$(sed -n 's/.* client_cpu_us=\([0-9.]*\).*/\1/p' <<<"$line")
		sent=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<<"$line")
		echo "rep $rep $name ($LOAD): $acked acknowledged, $per_s/s"
		printf '  %-16s %14s %14s %12s %8s %8s %10s\n' thread 'slept/1k' 'preempted/1k' \
			'CPU us/rep' 'on CPU' 'runq' 'faults/1k'
		# on CPU, runq: the share of the run's wall time the thread ran, and
		# waited runnable for a CPU (both CPUs busy). The last line adds the
		# load generator (bench-load's CPU a message it sent) to the server's
		# threads: the share of the machine's CPUs the two kept busy.
		paste "$WORK/before" "$WORK/after" | awk -v n="$acked" -v tick="$TICK_US" \
			-v wall_ns="$((t1 - t0))" -v client="${client_us:-0}" -v sent="${sent:-0}" -v cpus="$(nproc)" '
			{
				cpu = ($11 - $4) * tick / n
				if ($9 - $2 + $10 - $3 == 0 && cpu == 0)
					next
				run = ($12 - $5) * 100 / wall_ns
				queued = ($13 - $6) * 100 / wall_ns
				faults = ($14 - $7) * 1000 / n
				printf "  %-16s %14.1f %14.1f %12.2f %7.1f%% %7.1f%% %10.1f\n", $1,
				       ($9 - $2) * 1000 / n, ($10 - $3) * 1000 / n, cpu, run, queued, faults
				total += cpu
				total_run += run
				total_faults += faults
			}
			END {
				printf "  %-16s %14s %14s %12.2f %7.1f%% %8s %10.1f\n", "all", "", "", total,
				       total_run, "", total_faults
				gen = client * sent * 100000 / wall_ns
				printf "  %-16s %14s %14s %12.2f %7.1f%%\n", "load generator", "", "",
				       client, gen
				printf "  busy: %.0f%% of %d CPUs (server and load generator)\n",
				       (total_run + gen) / cpus, cpus
			}'
	done
done
