#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/compare.sh: two commits of the hub, taking turns under the same
# load, with the reference loop (bench-ref) after each pair. Builds each
# commit (git archive into a temporary directory, Release), starts one hub
# of each and bench-ref, then in every round drives them in turn with
# bench-load (which of the two goes first alternates). Prints a line a run
# and a summary: the median ratio B/A with its spread and the rounds B was
# faster, each against the reference, and the hub's CPU a report (all its
# threads, from /proc).
#
#   bash bench/compare.sh A B [--load window|wait|rate] [--rounds N] [--seconds S]
#
#   A, B: anything git rev-parse takes (a commit, a tag, HEAD~1).
#   window: 4 senders x 100 in flight; wait: 1 sender waiting for each ack;
#   rate: 4 senders x 2,500 a second (10,000/s). Default window, 4 rounds
#   of 5 s.
#
# bench-load and bench-ref come from the working tree's build-bench/ (as
# bench/run.sh builds them). A shared machine drifts: only figures from
# the same run are compared.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/build-bench
PROG=compare
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
LOAD=window
ROUNDS=4
SECONDS_RUN=5

REVS=()
while [ $# -gt 0 ]; do
	case $1 in
	--load)
		LOAD=${2:-}
		shift
		;;
	--rounds)
		ROUNDS=${2:-}
		shift
		;;
	--seconds)
		SECONDS_RUN=${2:-}
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	-*)
		echo "compare: unknown option $1 (bench/compare.sh --help)" >&2
		exit 1
		;;
	*) REVS+=("$1") ;;
	esac
	shift
done
if [ ${#REVS[@]} -ne 2 ]; then
	echo "compare: two commits wanted, A and B (bench/compare.sh --help)" >&2
	exit 1
fi
load_args "$LOAD"
for n in "$ROUNDS" "$SECONDS_RUN"; do
	case $n in '' | *[!0-9]* | 0)
		echo "compare: --rounds and --seconds want a whole number above 0" >&2
		exit 1
		;;
	esac
done

work_dir "$BUILD"

for rev in "${REVS[@]}"; do
	git -C "$REPO" rev-parse --verify --quiet "$rev^{commit}" >/dev/null || {
		echo "compare: '$rev' is not a commit here" >&2
		exit 1
	}
done

build_commit a "${REVS[0]}"
build_commit b "${REVS[1]}"
build_release "$REPO" "$BUILD" "$WORK/load-build.log" bench-load bench-ref

declare -A PID EP DIR
for t in a b; do
	DIR[$t]=$WORK/$t/hub
	"$WORK/$t/build/hub/esthub" init "${DIR[$t]}" --ingest 'tcp://127.0.0.1:*' \
		--feed 'tcp://127.0.0.1:*' >/dev/null
	"$WORK/$t/build/hub/ctl/estctl" -d "${DIR[$t]}" client add bench-adapter --role adapter \
		--org municipality >/dev/null
	"$WORK/$t/build/hub/esthub" run "${DIR[$t]}" >"$WORK/$t/hub.out" 2>&1 &
	PID[$t]=$!
	PIDS+=("${PID[$t]}")
done
DIR[ref]=${DIR[a]}
"$BUILD/bench/bench-ref" --bind 'tcp://127.0.0.1:*' --cert "${DIR[a]}/keys/hub_secret" \
	--certs "${DIR[a]}/certs" --db "$WORK/ref.db" >"$WORK/ref.out" 2>&1 &
PID[ref]=$!
PIDS+=("${PID[ref]}")
EP[a]=$(endpoint "$WORK/a/hub.out")
EP[b]=$(endpoint "$WORK/b/hub.out")
EP[ref]=$(endpoint "$WORK/ref.out")

TICK_US=$((1000000 / $(getconf CLK_TCK)))

# run WHO: one bench-load run; prints "per_s p50 p99 cpu_us_a_report".
run() {
	local before after line acked
	sleep 1
	before=$(cpu_ticks "${PID[$1]}")
	line=$("$BUILD/bench/bench-load" --hub "${EP[$1]}" --hub-cert "${DIR[$1]}/keys/hub" \
		--cert "${DIR[$1]}/clients/bench-adapter_secret" "${ARGS[@]}" --seconds "$SECONDS_RUN" \
		--warmup 1 --timeout 30 2>&1 | grep '^bench-load:' | tail -1)
	after=$(cpu_ticks "${PID[$1]}")
	acked=$(sed -n 's/.* acked=\([0-9]*\).*/\1/p' <<<"$line")
	if [ -z "$acked" ] || [ "$acked" -eq 0 ]; then
		echo "compare: $1 acknowledged nothing: $line" >&2
		exit 1
	fi
	# CPU over the whole run, warm-up included, a report acknowledged in all of it.
	awk -v line="$line" -v ticks="$((after - before))" -v tick="$TICK_US" -v n="$acked" 'BEGIN {
		split(line, kv, " ")
		for (i in kv) { split(kv[i], p, "="); v[p[1]] = p[2] }
		printf "%s %s %s %.2f\n", v["per_s"], v["p50_us"], v["p99_us"], ticks * tick / n
	}'
}

echo "compare: $LOAD, $ROUNDS rounds of $SECONDS_RUN s; a = ${REVS[0]}, b = ${REVS[1]}"
printf '%-6s %-4s %12s %9s %9s %12s\n' round who 'reports/s' 'p50 us' 'p99 us' 'CPU us/rep'
: >"$WORK/results"
for r in $(seq "$ROUNDS"); do
	order=(a b)
	[ $((r % 2)) -eq 0 ] && order=(b a)
	for who in "${order[@]}" ref; do
		res=$(run "$who") || exit 1
		# shellcheck disable=SC2086 # four fields
		printf '%-6s %-4s %12s %9s %9s %12s\n' "$r" "$who" $res
		echo "$r $who $res" >>"$WORK/results"
	done
done

# The summary: ratios within each round, then their median and spread.
awk '
	{ rate[$1, $2] = $3; p50[$1, $2] = $4; p99[$1, $2] = $5; cpu[$1, $2] = $6; if ($1 > n) n = $1 }
	function median(a, k,   i, j, t) {
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	function line(what, num, den, unit,   r, x, lo, hi, m) {
		lo = ""; hi = ""
		for (r = 1; r <= n; r++) {
			x[r] = num[r] / den[r]
			if (lo == "" || x[r] < lo) lo = x[r]
			if (hi == "" || x[r] > hi) hi = x[r]
		}
		m = median(x, n)
		printf "  %-28s %.2f%s (%.2f...%.2f)\n", what, m, unit, lo, hi
	}
	END {
		for (r = 1; r <= n; r++) {
			ba[r] = rate[r, "b"]; aa[r] = rate[r, "a"]; rr[r] = rate[r, "ref"]
			ca[r] = cpu[r, "a"]; cb[r] = cpu[r, "b"]; one[r] = 1
			if (rate[r, "b"] > rate[r, "a"]) faster++
			if (p50[r, "b"] < p50[r, "a"]) lower50++
			if (p99[r, "b"] < p99[r, "a"]) lower99++
		}
		print "summary (median of the rounds, min...max):"
		line("reports/s, b against a", ba, aa, "x")
		line("reports/s, a against ref", aa, rr, "x")
		line("reports/s, b against ref", ba, rr, "x")
		line("CPU us a report, a", ca, one, "")
		line("CPU us a report, b", cb, one, "")
		printf "  b faster in %d of %d rounds; ack p50 lower in %d, p99 lower in %d\n",
		       faster, n, lower50, lower99
	}' "$WORK/results"
