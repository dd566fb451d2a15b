#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The benchmarks of issue 8 in one command:
#
#   bash bench/run.sh            full run: 5 repetitions (about 10 minutes)
#   bash bench/run.sh --quick    2 repetitions, shorter runs, a smaller log (about 2 minutes)
#   options: --reps N, --keep (keep the work directory), --help
#
# Installs what is missing (scripts/install-deps.sh), builds Release into
# build-bench/, makes its instances and files in build-bench/work.XXXXXX (on
# the repository's filesystem, never tmpfs), and measures each figure of
# the hub next to its reference in the same run, alternating A B A B, so
# that every figure is also a ratio taken within one repetition. Prints
# the table (medians of the repetitions with their min..max) and writes it
# to bench/results.md. Absolute figures are printed with the machine they
# ran on; only the ratios are held against the targets. Every process it
# starts is stopped by its PID when it ends, however it ends.
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/build-bench
RESULTS=$REPO/bench/results.md

# --- settings ------------------------------------------------------------------

REPS=5
RUN_S=5           # measured seconds of each ingest run
WARM_S=1          # warm-up before it
LOG_ENTRIES=1000000
FAN_COUNT=20000   # entries each of the 50 subscribers receives
FSYNC_COUNT=2000
SUBS=50
PAUSE_S=1         # between runs: the last run's background writes settle
KEEP=0
MODE=full

usage() {
	sed -n '4,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick)
		MODE=quick REPS=2 RUN_S=2 WARM_S=0.5 LOG_ENTRIES=200000 FAN_COUNT=10000
		FSYNC_COUNT=500 PAUSE_S=0.5
		;;
	--reps)
		if [ $# -lt 2 ] || ! [[ $2 =~ ^[1-9][0-9]?$ ]]; then
			echo "bench: --reps wants 1..99" >&2
			exit 1
		fi
		REPS=$2
		shift
		;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench: unknown argument $1 (bench/run.sh --help)" >&2; exit 1 ;;
	esac
	shift
done

say() { echo "bench: $*" >&2; }
die() { echo "bench: $*" >&2; exit 2; }

# --- processes -------------------------------------------------------------------
# Every background process is remembered by PID in LIVE until it has been
# waited for; the exit trap stops whatever is left, by PID only.

declare -A LIVE=() PID_OF=() CAT_OF=()
WORK=

cleanup() {
	local pid
	for pid in "${!LIVE[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for _ in $(seq 50); do
		local alive=0
		for pid in "${!LIVE[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for pid in "${!LIVE[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ $KEEP -eq 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: starts CMD with its stdout through a FIFO and waits (at
# most 60 s) for its first line, into READY_LINE; READY_MS is the time from
# just before the exec to that line. The rest of its stdout goes to
# WORK/NAME.out, its stderr to WORK/NAME.err.
start() {
	local name=$1 fifo=$WORK/$1.fifo fd t0
	shift
	rm -f "$fifo"
	mkfifo "$fifo"
	t0=$EPOCHREALTIME
	"$@" >"$fifo" 2>>"$WORK/$name.err" &
	PID_OF[$name]=$!
	LIVE[$!]=1
	exec {fd}<"$fifo"
	READY_LINE=
	if ! IFS= read -r -t 60 -u "$fd" READY_LINE; then
		exec {fd}<&-
		die "$name did not start: $(tail -c 1500 "$WORK/$name.err")"
	fi
	READY_MS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
	cat <&"$fd" >"$WORK/$name.out" &
	CAT_OF[$name]=$!
	LIVE[$!]=1
	exec {fd}<&-
}

# finish NAME LIMIT_S: waits for NAME to end by itself (SIGKILL after LIMIT_S); status in RC.
finish() {
	local name=$1 pid=${PID_OF[$1]} deadline=$((SECONDS + $2))
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt "$deadline" ]; do sleep 0.05; done
	kill -0 "$pid" 2>/dev/null && { say "$name still running after $2 s: killed"; kill -KILL "$pid" 2>/dev/null || true; }
	RC=0
	wait "$pid" || RC=$?
	unset "LIVE[$pid]"
	if [ -n "${CAT_OF[$name]:-}" ]; then
		wait "${CAT_OF[$name]}" || true
		unset "LIVE[${CAT_OF[$name]}]"
	fi
}

# stop NAME: SIGTERM, then finish.
stop() {
	kill -TERM "${PID_OF[$1]}" 2>/dev/null || true
	finish "$1" 20
}

# run NAME CMD...: runs CMD to its end (it bounds its own time); stdout in WORK/NAME.out, status in RC.
run() {
	local name=$1 pid
	shift
	"$@" >"$WORK/$name.out" 2>>"$WORK/$name.err" &
	pid=$!
	LIVE[$pid]=1
	RC=0
	wait "$pid" || RC=$?
	unset "LIVE[$pid]"
}

# field LINE KEY: the value of KEY=value in a result line.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

# record METRIC REP VALUE: one figure for the table.
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$WORK/results.tsv"; }

TAG_N=0
next_tag() { TAG_N=$((TAG_N + 1)); TAG=$(printf 'r%xx%d' "$(date +%s)" "$TAG_N"); }

# --- preparation ---------------------------------------------------------------------

prepare() {
	bash "$REPO/scripts/install-deps.sh" >&2 || die "dependencies missing (see above)"
	# What is measured: the working tree as it is now, built just below.
	COMMIT=$(git -C "$REPO" log -1 --format='%h (%cd)' --date=format:'%Y-%m-%d %H:%M' 2>/dev/null || echo unknown)
	DIRTY=$(git -C "$REPO" status --porcelain -- hub proto 2>/dev/null | wc -l)
	say "building Release into $BUILD"
	mkdir -p "$BUILD"
	cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DESTHUB_WERROR=ON >"$BUILD/bench-cmake.log" 2>&1 ||
		{ cat "$BUILD/bench-cmake.log" >&2; die "cmake failed"; }
	cmake --build "$BUILD" -j"$(nproc)" --target esthub estctl bench-load bench-ref bench-fanout bench-pictures \
		bench-subs bench-mklog bench-fsync >"$BUILD/bench-build.log" 2>&1 ||
		{ tail -50 "$BUILD/bench-build.log" >&2; die "build failed"; }
	ESTHUB=$BUILD/hub/esthub
	ESTCTL=$BUILD/hub/ctl/estctl
	B=$BUILD/bench
	CLK_TCK=$(getconf CLK_TCK)
	WORK=$(mktemp -d "$BUILD/work.XXXXXX")
	FS=$(stat -f -c %T "$WORK")
	case $FS in tmpfs | ramfs) die "$WORK is on $FS: the benchmark needs a real disk" ;; esac
	: >"$WORK/results.tsv"
	: >"$WORK/raw.txt"
}

# instance NAME: a hub instance with one adapter and one subscriber certificate.
instance() {
	local dir=$WORK/$1
	"$ESTHUB" init "$dir" --ingest 'tcp://127.0.0.1:*' --feed 'tcp://127.0.0.1:*' >/dev/null
	"$ESTCTL" -d "$dir" client add bench-adapter --role adapter --org municipality >/dev/null
	"$ESTCTL" -d "$dir" client add bench-sub --role subscriber --groups hageby/situational >/dev/null
}

machine() {
	CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	CORES=$(nproc)
	KERNEL=$(uname -r)
	DEVICE=$(df -P "$WORK" | awk 'NR == 2 { print $1 }')
	MEM=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
	STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
	run fsync "$B/bench-fsync" --dir "$WORK" --count "$FSYNC_COUNT"
	[ "$RC" -eq 0 ] || die "bench-fsync failed: $(cat "$WORK/fsync.err")"
	FSYNC_LINE=$(cat "$WORK/fsync.out")
	say "$FSYNC_LINE"
}

# --- ingest ------------------------------------------------------------------------

free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port for Redis"
}

start_redis() {
	REDIS_PORT=$(free_port)
	[ -n "$REDIS_PORT" ] || die "no free port for Redis"
	mkdir -p "$WORK/redis"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$WORK/redis" --appendonly yes \
		--appendfsync always --save '' --daemonize no --logfile "$WORK/redis.log" \
		>/dev/null 2>&1 &
	PID_OF[redis]=$!
	REDIS_PID=$!
	LIVE[$!]=1
	for _ in $(seq 100); do
		[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && break
		sleep 0.1
	done
	[ "$(redis-cli -p "$REDIS_PORT" config get appendfsync 2>/dev/null | tail -1)" = always ] ||
		die "redis-server did not start with appendfsync always (see $WORK/redis.log)"
	REDIS_VERSION=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')
}

start_ingest_servers() {
	instance hub
	INST=$WORK/hub
	CLIENT=(--hub-cert "$INST/keys/hub" --cert "$INST/clients/bench-adapter_secret")
	start hub "$ESTHUB" run "$INST"
	HUB_EP=$(field " $READY_LINE" ingest)
	HUB_PID=${PID_OF[hub]}
	# Where the hub commits batches (limits.commit_thread), as it said at start.
	HUB_COMMITS=$(sed -n 's/^esthub: ingest: \(.*limits\.commit_thread = [a-z]*)\)$/\1/p' \
		"$WORK/hub.err" | head -1)
	start ref "$B/bench-ref" --bind 'tcp://127.0.0.1:*' --cert "$INST/keys/hub_secret" \
		--certs "$INST/certs" --db "$WORK/ref.db"
	REF_EP=$(field " $READY_LINE" ingest)
	REF_PID=${PID_OF[ref]}
	start ceiling "$B/bench-ref" --bind 'tcp://127.0.0.1:*' --cert "$INST/keys/hub_secret" \
		--certs "$INST/certs" --no-disk
	CEIL_EP=$(field " $READY_LINE" ingest)
	CEIL_PID=${PID_OF[ceiling]}
	start_redis
	say "hub $HUB_EP, reference $REF_EP, ceiling $CEIL_EP, redis 127.0.0.1:$REDIS_PORT"
}

stop_ingest_servers() {
	stop hub
	stop ref
	stop ceiling
	stop redis
}

# cpu_ticks PID: the process's CPU time so far (user + system, all threads), in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# machine_ticks: "steal total" of the whole machine so far, in clock ticks: the time the
# host ran something else while this machine's CPUs had work (a virtual machine's vCPUs
# held back), and all time.
machine_ticks() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t }' /proc/stat; }

# tcp_counters: "retransmitted-segments retransmission-timeouts" of the whole machine so
# far (/proc/net/snmp RetransSegs, /proc/net/netstat TCPTimeouts). On loopback a lost
# segment waits out the retransmission timer (200 ms, doubling): a run in which both
# ends sat idle could come from that, and these say whether it did.
tcp_counters() {
	local retrans timeouts
	retrans=$(net_counter /proc/net/snmp Tcp: RetransSegs)
	timeouts=$(net_counter /proc/net/netstat TcpExt: TCPTimeouts)
	echo "${retrans:-0} ${timeouts:-0}"
}

# net_counter FILE GROUP NAME: a counter of /proc/net/snmp or netstat, where each group
# is a line of names and then a line of values, both starting with GROUP.
net_counter() {
	awk -v g="$2" -v n="$3" '$1 == g { if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1 } else print $c[n] }' "$1"
}

# load METRIC REP SERVER-PID BENCH-LOAD-ARGS...: one bench-load run, recorded, with the
# server's CPU time per answered message.
load() {
	local metric=$1 rep=$2 server=$3 line c0 c1 acked m0 m1 t0 t1 rto
	shift 3
	next_tag
	sleep "$PAUSE_S"
	c0=$(cpu_ticks "$server")
	m0=$(machine_ticks)
	t0=$(tcp_counters)
	run load "$B/bench-load" --label "$metric" --tag "$TAG" --timeout 30 "$@"
	t1=$(tcp_counters)
	m1=$(machine_ticks)
	c1=$(cpu_ticks "$server")
	rto=$((${t1#* } - ${t0#* }))
	line=$(grep '^bench-load:' "$WORK/load.out" | tail -1 || true)
	echo "rep $rep $line server_cpu_ticks=$((c1 - c0)) machine_steal_ticks=$((${m1% *} - ${m0% *})) tcp_retrans=$((${t1% *} - ${t0% *})) tcp_timeouts=$rto" >>"$WORK/raw.txt"
	record "$metric.tcp_timeouts" "$rep" "$rto"
	record "$metric.steal_pct" "$rep" "$(awk -v s=$((${m1% *} - ${m0% *})) -v t=$((${m1#* } - ${m0#* })) \
		'BEGIN { printf "%.1f", (t > 0 ? 100 * s / t : 0) }')"
	if [ -z "$line" ]; then
		record "$metric.fail" "$rep" 1
		say "$metric rep $rep: no result ($(tail -c 300 "$WORK/load.err"))"
		return
	fi
	[ "$RC" -eq 0 ] || record "$metric.fail" "$rep" 1
	acked=$(field "$line" acked)
	record "$metric.per_s" "$rep" "$(field "$line" per_s)"
	# A run with no answer in its measured window has no latency: its
	# p50/p99 read 0, which would pass any "at most" target.
	if [ "$(field "$line" samples)" != 0 ]; then
		record "$metric.p50_us" "$rep" "$(field "$line" p50_us)"
		record "$metric.p99_us" "$rep" "$(field "$line" p99_us)"
	fi
	record "$metric.lost" "$rep" "$(field "$line" lost)"
	record "$metric.rejected" "$rep" "$(field "$line" rejected)"
	record "$metric.client_cpu_us" "$rep" "$(field "$line" client_cpu_us)"
	# Answers came, but none inside the measured window. Before a13fead
	# that was bench-load's own fault (a sender waiting for an answer with
	# nothing in flight, bench/README.md "Runs that stand still"); should
	# it happen again, its 0/s is kept in the medians and the run is named
	# beside them.
	[ "${acked:-0}" -gt 0 ] && [ "$(field "$line" samples)" = 0 ] &&
		record "$metric.silent" "$rep" 1
	[ "${acked:-0}" -gt 0 ] &&
		record "$metric.cpu_us" "$rep" "$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v n="$acked" \
			'BEGIN { printf "%.2f", t * 1e6 / hz / n }')"
	say "$metric rep $rep: $(field "$line" per_s)/s p50 $(field "$line" p50_us) us p99 $(field "$line" p99_us) us lost $(field "$line" lost) rejected $(field "$line" rejected) blocked $(field "$line" blocked) missed wake-ups $(field "$line" missed_wakeups)"
}

ingest() {
	local timing=(--seconds "$RUN_S" --warmup "$WARM_S") rep
	local window=(--senders 4 --window 100 "${timing[@]}")
	local wait1=(--senders 1 --wait "${timing[@]}")
	local paced=(--senders 4 --rate 2500 "${timing[@]}")
	local redis=(--redis "127.0.0.1:$REDIS_PORT")
	for rep in $(seq "$REPS"); do
		load window.hub "$rep" "$HUB_PID" --hub "$HUB_EP" "${CLIENT[@]}" "${window[@]}"
		load window.ref "$rep" "$REF_PID" --hub "$REF_EP" "${CLIENT[@]}" "${window[@]}"
		load window.redis "$rep" "$REDIS_PID" "${redis[@]}" "${window[@]}"
		load window.ceiling "$rep" "$CEIL_PID" --hub "$CEIL_EP" "${CLIENT[@]}" "${window[@]}"
	done
	for rep in $(seq "$REPS"); do
		load wait.hub "$rep" "$HUB_PID" --hub "$HUB_EP" "${CLIENT[@]}" "${wait1[@]}"
		load wait.ref "$rep" "$REF_PID" --hub "$REF_EP" "${CLIENT[@]}" "${wait1[@]}"
		load wait.redis "$rep" "$REDIS_PID" "${redis[@]}" "${wait1[@]}"
	done
	for rep in $(seq "$REPS"); do
		load rate.hub "$rep" "$HUB_PID" --hub "$HUB_EP" "${CLIENT[@]}" "${paced[@]}"
		load rate.ref "$rep" "$REF_PID" --hub "$REF_EP" "${CLIENT[@]}" "${paced[@]}"
		load rate.redis "$rep" "$REDIS_PID" "${redis[@]}" "${paced[@]}"
	done
}

# --- feeds and footprint -------------------------------------------------------------------

# subs_result METRIC REP NAME: records the result line of a bench-subs run.
subs_result() {
	local line
	line=$(grep 'per_s=' "$WORK/$3.out" | tail -1 || true)
	echo "rep $2 $line" >>"$WORK/raw.txt"
	if [ -z "$line" ]; then
		record "$1.fail" "$2" 1
		say "$1 rep $2: no result ($(tail -c 300 "$WORK/$3.err"))"
		return
	fi
	[ "$RC" -eq 0 ] || record "$1.fail" "$2" 1
	record "$1.per_s" "$2" "$(field "$line" per_s)"
	record "$1.missing" "$2" "$(field "$line" missing)"
	record "$1.bytes" "$2" "$(field "$line" bytes_per_entry)"
	say "$1 rep $2: $(field "$line" per_s)/s, $(field "$line" received) received, $(field "$line" missing) missing"
}

raw_feed() { # raw_feed METRIC REP PEERS COUNT
	sleep "$PAUSE_S"
	start fanout "$B/bench-fanout" --bind 'tcp://127.0.0.1:*' --cert "$BIG/keys/hub_secret" \
		--certs "$BIG/certs" --peers "$3" --count "$4" --timeout 300
	local ep
	ep=$(field " $READY_LINE" ep)
	run rawsubs "$B/bench-subs" --raw --hub "$ep" "${SUBCLIENT[@]}" --subs "$3" --count "$4" \
		--timeout 300 --label "$1"
	local rc=$RC
	finish fanout 30
	RC=$rc
	subs_result "$1" "$2" rawsubs
}

hub_fanout() { # hub_fanout REP
	sleep "$PAUSE_S"
	start subs "$B/bench-subs" --hub "$BIG_FEED" "${SUBCLIENT[@]}" --subs "$SUBS" \
		--count "$FAN_COUNT" --from 0 --timeout 300 --label fanout.hub
	next_tag
	run load "$B/bench-load" --label fanout.load --tag "$TAG" --hub "$BIG_INGEST" \
		--hub-cert "$BIG/keys/hub" --cert "$BIG/clients/bench-adapter_secret" \
		--senders 4 --window 100 --count $((FAN_COUNT / 4)) --timeout 120
	local line
	line=$(grep '^bench-load:' "$WORK/load.out" | tail -1 || true)
	echo "rep $1 $line" >>"$WORK/raw.txt"
	record fanout.load.per_s "$1" "$(field "$line" per_s)"
	finish subs 300
	subs_result fanout.hub "$1" subs
}

hub_catchup() { # hub_catchup REP COUNT
	sleep "$PAUSE_S"
	run catchup "$B/bench-subs" --hub "$BIG_FEED" "${SUBCLIENT[@]}" --subs 1 --from 1 \
		--count "$2" --timeout 300 --label catchup.hub
	subs_result catchup.hub "$1" catchup
}

feeds() {
	instance big
	BIG=$WORK/big
	SUBCLIENT=(--hub-cert "$BIG/keys/hub" --cert "$BIG/clients/bench-sub_secret")
	say "building a log of $LOG_ENTRIES entries with the hub's log module"
	# Observed over the last 360 days at 400 places, as a real log (retention keeps a year)
	# holds them: a million reports at one place in one week would make the start-up
	# catch-up of the weekly picture merge them all (~150 MiB of working memory).
	run mklog "$B/bench-mklog" --store "$BIG/data/log.db" --count "$LOG_ENTRIES" --days 360
	[ "$RC" -eq 0 ] || die "bench-mklog failed: $(cat "$WORK/mklog.err")"
	MKLOG_LINE=$(cat "$WORK/mklog.out")
	say "$MKLOG_LINE"
	# The entries of hageby/reports, the catch-up subscriber's topic: the
	# log's head also counts checkpoints and audit entries, which it never sees.
	local rep head reports=$LOG_ENTRIES
	for rep in $(seq "$REPS"); do
		sleep "$PAUSE_S"
		start bighub "$ESTHUB" run "$BIG"
		record startup.ms "$rep" "$READY_MS"
		BIG_INGEST=$(field " $READY_LINE" ingest)
		BIG_FEED=$(field " $READY_LINE" feed)
		head=$(field " $READY_LINE" head_seq)
		say "hub with $head entries ready in $READY_MS ms"
		raw_feed fanout.raw "$rep" "$SUBS" "$FAN_COUNT"
		hub_fanout "$rep"
		head=$((head + FAN_COUNT))
		reports=$((reports + FAN_COUNT))
		raw_feed catchup.raw "$rep" 1 "$reports"
		hub_catchup "$rep" "$reports"
		record rss.kib "$rep" "$(awk '/^VmHWM/ { print $2 }' "/proc/${PID_OF[bighub]}/status")"
		record log.entries "$rep" "$head"
		record catchup.entries "$rep" "$reports"
		stop bighub
	done
	LOG_BYTES=$(du -sb "$BIG/data" | cut -f1)
}

# --- the table ---------------------------------------------------------------------

table() {
	local out=$WORK/results.md
	{
		echo "# esthub benchmarks"
		echo
		echo "\`bash bench/run.sh$([ "$MODE" = quick ] && echo ' --quick')\`: $MODE run, $REPS repetitions," \
			"started $STARTED, took $((SECONDS / 60)) min $((SECONDS % 60)) s."
		echo
		echo "**Measured**: the working tree at commit $COMMIT, with $DIRTY uncommitted" \
			"change(s) in hub/ and proto/, built Release. The hub said:" \
			"${HUB_COMMITS:-(nothing about where it commits)}."
		echo
		echo "**Machine**: $CORES cores ($CPU), $MEM, Linux $KERNEL; files on $FS ($DEVICE)," \
			"the repository's filesystem. Load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end." \
			"A shared machine: other work ran beside this."
		echo
		echo "**Disk** (bench-fsync, $(field "$FSYNC_LINE" count) of each, in turn): write of 300 bytes + fdatasync" \
			"appended to a growing file: p50 $(field "$FSYNC_LINE" append_p50_us) us, p99 $(field "$FSYNC_LINE" append_p99_us) us;" \
			"written over an allocated file (no metadata to commit): p50 $(field "$FSYNC_LINE" overwrite_p50_us) us," \
			"p99 $(field "$FSYNC_LINE" overwrite_p99_us) us. A 4 KiB page of file cache, no sync" \
			"($(field "$FSYNC_LINE" pages) of each): written to a new file (a page of memory the cache did not hold)" \
			"$(field "$FSYNC_LINE" new_page_us) us, written again $(field "$FSYNC_LINE" cached_page_us) us" \
			"(bench/README.md, \"A new page of file cache\"). A system call" \
			"($(field "$FSYNC_LINE" calls) of each): getpid $(field "$FSYNC_LINE" getpid_ns) ns," \
			"poll of an empty pipe without waiting $(field "$FSYNC_LINE" poll_ns) ns" \
			"(bench/README.md, \"The main loop asks its sockets less\")."
		echo
		awk -F'\t' -v reps="$REPS" -v log_entries="$LOG_ENTRIES" -v subs="$SUBS" \
			-v fan="$FAN_COUNT" -v run_s="$RUN_S" -v redis="$REDIS_VERSION" \
			-v log_mb="$((LOG_BYTES / 1048576))" -f "$REPO/bench/table.awk" "$WORK/results.tsv"
		echo
		echo "## Each run (result lines of the programs)"
		echo
		echo '```'
		echo "$FSYNC_LINE"
		echo "$MKLOG_LINE"
		cat "$WORK/raw.txt"
		echo '```'
	} >"$out"
	cp "$out" "$RESULTS"
	cat "$out"
}

# --- pictures ----------------------------------------------------------------------

# One week's pictures for every area and the overview over five years of history
# (bench-pictures: the hub's picture store and compiler, a million reports).
pictures() {
	local rep line
	for rep in $(seq "$REPS"); do
		sleep "$PAUSE_S"
		run pictures "$B/bench-pictures" --count "$LOG_ENTRIES" --reps 9
		line=$(cat "$WORK/pictures.out")
		if [ "$RC" -ne 0 ] || [ -z "$line" ]; then
			record pictures.fail "$rep" 1
			say "pictures rep $rep: no result ($(tail -c 300 "$WORK/pictures.err"))"
			continue
		fi
		say "$line"
		record pictures.ms "$rep" "$(field " $line" compile_ms_p50)"
		record pictures.store_mib "$rep" "$(field " $line" store_mib)"
	done
}

main() {
	prepare
	machine
	start_ingest_servers
	ingest
	stop_ingest_servers
	feeds
	pictures
	table
	say "table written to $RESULTS"
}

main
