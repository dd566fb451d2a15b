#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/backup.sh: what `estctl backup` costs a running hub. A hub on a
# store of --count reports (bench-mklog --days 360, default 1,000,000)
# takes 4 x 1,000 reports a second (bench-load --rate) for --seconds
# (default 10), in turns with an `estctl backup` started 3 s in and
# without one, --reps times (default 3). Prints the acknowledgements'
# p50, p99 and max of every run, and how long each backup took (the copy
# and its check). Every run adds its reports to the store.
#
#   bash bench/backup.sh [--count N] [--seconds S] [--reps N]
#
# Builds Release into build-bench/ (as bench/run.sh does) and measures the
# working tree, on the repository's filesystem. Figures from a shared
# machine: compare within one run.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/build-bench
PROG=backup
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
COUNT=1000000
SECONDS_RUN=10
REPS=3

while [ $# -gt 0 ]; do
	case $1 in
	--count)
		COUNT=${2:-}
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
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "backup: unknown argument $1 (bench/backup.sh --help)" >&2
		exit 1
		;;
	esac
	shift
done
for v in "$COUNT" "$SECONDS_RUN" "$REPS"; do
	case $v in '' | *[!0-9]* | 0)
		echo "backup: --count, --seconds and --reps want a whole number above 0" >&2
		exit 1
		;;
	esac
done
if [ "$SECONDS_RUN" -lt 4 ]; then
	echo "backup: --seconds wants at least 4 (the backup starts 3 s in)" >&2
	exit 1
fi

mkdir -p "$BUILD"
build_release "$REPO" "$BUILD" "$BUILD/backup-build.log" esthub estctl bench-load bench-mklog
work_dir "$BUILD"

DIR=$WORK/hub
ESTCTL=$BUILD/hub/ctl/estctl
"$BUILD/hub/esthub" init "$DIR" --ingest 'tcp://127.0.0.1:*' --feed 'tcp://127.0.0.1:*' >/dev/null
"$ESTCTL" -d "$DIR" client add bench-adapter --role adapter --org municipality >/dev/null
rm -f "$DIR/data/log.db"
echo "backup: a store of $COUNT reports (bench-mklog)"
"$BUILD/bench/bench-mklog" --store "$DIR/data/log.db" --count "$COUNT" --days 360 \
	--batch 1000 >/dev/null
"$BUILD/hub/esthub" run "$DIR" >"$WORK/hub.out" 2>&1 &
PIDS+=("$!")
EP=$(endpoint "$WORK/hub.out" 120)

# run WITH: one run of the load, with a backup 3 s in when WITH is "backup".
run() {
	local took=- t0 line
	rm -f "$WORK/copy.db"
	sync
	"$BUILD/bench/bench-load" --hub "$EP" --hub-cert "$DIR/keys/hub" \
		--cert "$DIR/clients/bench-adapter_secret" --senders 4 --rate 1000 \
		--seconds "$SECONDS_RUN" --warmup 1 --timeout 60 >"$WORK/load.out" 2>&1 &
	local load=$!
	if [ "$1" = backup ]; then
		sleep 4 # the warm-up second, then 3 s
		t0=$(date +%s%N)
		"$ESTCTL" -d "$DIR" backup "$WORK/copy.db" >"$WORK/backup.out" 2>&1 || {
			echo "backup: estctl backup failed:" >&2
			cat "$WORK/backup.out" >&2
			exit 1
		}
		took=$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.2f s", ns / 1e9 }')
	fi
	wait "$load" || true
	line=$(grep '^bench-load:.* acked=' "$WORK/load.out" | tail -1)
	printf '%-9s %s  backup %s, store %s\n' "$1" \
		"$(grep -o 'sent=[0-9]* .*p50_us=[0-9]* p99_us=[0-9]* max_us=[0-9]*' <<<"$line" |
			sed 's/ in_window=[0-9]*//; s/ strays.*p50_us/ p50_us/')" "$took" \
		"$(du -h "$DIR/data/log.db" | cut -f1)"
}

for rep in $(seq "$REPS"); do
	echo "rep $rep:"
	run backup
	run none
done
