# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# bench/lib.sh: what the scripts of bench/ share (threads.sh, compare.sh,
# instructions.sh), sourced by each. PROG names the script in messages.

# load_args LOAD: the bench-load arguments of a load into ARGS (the caller reads it).
# shellcheck disable=SC2034
load_args() {
	case $1 in
	window) ARGS=(--senders 4 --window 100) ;;
	wait) ARGS=(--senders 1 --wait) ;;
	rate) ARGS=(--senders 4 --rate 2500) ;;
	*)
		echo "$PROG: --load wants window, wait or rate, not '$1'" >&2
		exit 1
		;;
	esac
}

# build_release SRC OUT LOG TARGET...: configures SRC into OUT (Release) and builds the
# targets; on failure shows the end of LOG and exits.
build_release() {
	local src=$1 out=$2 log=$3
	shift 3
	if ! { cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Release &&
		cmake --build "$out" -j"$(nproc)" --target "$@"; } >"$log" 2>&1; then
		tail -50 "$log" >&2
		exit 1
	fi
}

# build_commit TAG REV: the hub and estctl of commit REV (git archive), Release,
# in $WORK/TAG/build.
build_commit() {
	local commit
	commit=$(git -C "$REPO" rev-parse --verify --quiet "$2^{commit}") || {
		echo "$PROG: '$2' is not a commit here" >&2
		exit 1
	}
	mkdir -p "$WORK/$1/src"
	git -C "$REPO" archive "$commit" | tar -x -C "$WORK/$1/src"
	echo "$PROG: building $1 = $2 ($(git -C "$REPO" log -1 --format='%h %s' "$commit" | cut -c1-60))"
	build_release "$WORK/$1/src" "$WORK/$1/build" "$WORK/$1/build.log" esthub estctl
}

# usage: the running script's header comment, from its fourth line to the first line that is
# not a comment, as its --help (the header is where each script says what it does).
usage() {
	awk 'NR >= 4 && !/^#/ { exit } NR >= 4 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[-1]}"
}

# work_dir PARENT: a new directory in WORK, removed at exit with every process in PIDS.
work_dir() {
	mkdir -p "$1"
	WORK=$(mktemp -d "$1/$PROG.XXXXXX")
	PIDS=()
	trap bench_cleanup EXIT
}

bench_cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}

# endpoint FILE [SECONDS]: the ingest endpoint its server printed once ready (waits up to
# SECONDS, default 20).
endpoint() {
	local _
	for _ in $(seq $((${2:-20} * 5))); do
		if grep -q 'ingest=' "$1"; then
			grep -o 'ingest=[^ ]*' "$1" | head -1 | cut -d= -f2-
			return 0
		fi
		sleep 0.2
	done
	echo "$PROG: no server ready in $1:" >&2
	cat "$1" >&2
	return 1
}

# cpu_ticks PID: user + system time of the whole process so far.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}
