# SPDX-License-Identifier: Apache-2.0
#
# bench/table.awk: turns the figures bench/run.sh records (one line each:
# metric TAB repetition TAB value) into the markdown tables of
# bench/results.md. Every ratio is taken within one repetition (hub and
# reference measured back to back) and summarised as the median of the
# per-repetition ratios with their min..max; absolute figures likewise.
#
# Variables: reps, log_entries, subs, fan, run_s, redis, log_mb.

{ val[$1, $2] = $3 }

function sort(a, n,    i, j, t) {
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
}

# The values of metric m, one per repetition that has it, into a[1..n]; returns n.
function values(m, a,    r, n) {
	n = 0
	for (r = 1; r <= reps; r++)
		if ((m, r) in val && val[m, r] != "")
			a[++n] = val[m, r] + 0
	sort(a, n)
	return n
}

# The per-repetition ratios x/y into a[1..n]; returns n.
function ratios(x, y, a,    r, n) {
	n = 0
	for (r = 1; r <= reps; r++)
		if ((x, r) in val && (y, r) in val && val[x, r] != "" && val[y, r] + 0 > 0)
			a[++n] = val[x, r] / val[y, r]
	sort(a, n)
	return n
}

function median(a, n) {
	if (n == 0)
		return ""
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

function num(x) {
	if (x == "")
		return "–"
	if (x >= 100)
		return sprintf("%.0f", x)
	if (x >= 10)
		return sprintf("%.1f", x)
	return sprintf("%.2f", x)
}

# "median (min..max)" of metric m, scaled by div.
function stat(m, div,    a, n) {
	n = values(m, a)
	if (n == 0)
		return "–"
	if (n == 1)
		return num(a[1] / div)
	return num(median(a, n) / div) " (" num(a[1] / div) "..." num(a[n] / div) ")"
}

function med(m,    a, n) {
	n = values(m, a)
	return median(a, n)
}

function rstat(x, y,    a, n) {
	n = ratios(x, y, a)
	if (n == 0)
		return "–"
	return sprintf("**%.2fx** (%.2f...%.2f)", median(a, n), a[1], a[n])
}

function rmed(x, y,    a, n) {
	n = ratios(x, y, a)
	return median(a, n)
}

# Sum of metric m over the repetitions (counts of lost, missing, failed).
function total(m,    r, t) {
	t = 0
	for (r = 1; r <= reps; r++)
		if ((m, r) in val)
			t += val[m, r]
	return t
}

# Problems a system had in any repetition, for the "met" column.
function trouble(sys, ref,    t, s) {
	s = ""
	t = total(sys ".lost")
	if (t > 0)
		s = s ", " t " unanswered"
	t = total(sys ".rejected")
	if (t > 0)
		s = s ", " t " refused"
	t = total(sys ".missing")
	if (t > 0)
		s = s ", " t " missing"
	t = total(sys ".fail")
	if (t > 0)
		s = s ", " t " failed runs"
	return s stood_still(sys, ref)
}

# The TCP retransmission timeouts (whole machine) during the silent runs of who, as words.
function rto_note(who,    r, n) {
	n = 0
	for (r = 1; r <= reps; r++)
		if ((who ".silent", r) in val && (who ".tcp_timeouts", r) in val)
			n += val[who ".tcp_timeouts", r]
	return n > 0 ? "; " n " TCP retransmission timeout" (n > 1 ? "s" : "") " on the machine meanwhile" : "; no TCP retransmission timeout meanwhile"
}

# Runs of sys or ref that answered nothing in their measured window (run.sh: silent).
function stood_still(sys, ref,    r, s, n, i, who) {
	s = ""
	split(sys " " ref, who, " ")
	for (i = 1; i <= 2; i++) {
		if (who[i] == "")
			continue
		n = 0
		for (r = 1; r <= reps; r++)
			if ((who[i] ".silent", r) in val)
				n++
		if (n > 0)
			s = s ", " n " run" (n > 1 ? "s" : "") " of " who[i] " answered nothing in its measured window (counted as 0/s, no latency" rto_note(who[i]) ")"
	}
	return s
}

function verdict(r, op, target, extra) {
	if (r == "")
		return "–"
	if ((op == ">=" && r + 0 >= target) || (op == "<=" && r + 0 <= target))
		return extra == "" ? "met" : "not met" extra
	return "**not met**" extra
}

function row(what, hub, other, ratio, target, met) {
	printf "| %s | %s | %s | %s | %s | %s |\n", what, hub, other, ratio, target, met
}

function target_row(what, x, y, otherwhat, op, target, extra) {
	row(what, stat(x, 1), otherwhat ": " stat(y, 1), rstat(x, y),
	    (op == ">=" ? "≥ " : "≤ ") sprintf("%.1fx", target),
	    verdict(rmed(x, y), op, target, extra))
}

END {
	print "## Targets (2 cores; each a median of per-repetition ratios)"
	print ""
	print "Figures are medians over the repetitions with (min...max); a ratio is esthub over"
	print "what it is compared with, taken within each repetition."
	print ""
	print "| measurement | esthub | compared with | ratio | target | met |"
	print "| --- | --- | --- | --- | --- | --- |"
	target_row("durable ingest, 4 senders × 100 in flight (reports/s)", "window.hub.per_s",
	           "window.ref.per_s", "reference loop", ">=", 1.0, trouble("window.hub", "window.ref"))
	target_row("durable ingest, 4 senders × 100 in flight (reports/s)", "window.hub.per_s",
	           "window.redis.per_s", "Redis XADD", ">=", 1.0, trouble("window.hub", "window.redis"))
	target_row("durable ingest, 1 sender waiting for each ack (reports/s)", "wait.hub.per_s",
	           "wait.ref.per_s", "reference loop", ">=", 0.9, trouble("wait.hub", "wait.ref"))
	target_row("ack latency p99 at 10,000 reports/s (4 × 2,500/s), µs", "rate.hub.p99_us",
	           "rate.ref.p99_us", "reference loop", "<=", 0.5, trouble("rate.hub", "rate.ref"))
	target_row("ack latency p99 at 10,000 reports/s (4 × 2,500/s), µs", "rate.hub.p99_us",
	           "rate.redis.p99_us", "Redis XADD", "<=", 1.5, trouble("rate.hub", "rate.redis"))
	target_row("feed delivery to " subs " subscribers, live (entries/s, all subscribers)",
	           "fanout.hub.per_s", "fanout.raw.per_s", "raw libzmq fan-out", ">=", 0.8,
	           trouble("fanout.hub"))
	target_row("catch-up replay, 1 subscriber from seq 1: its " med("catchup.entries") " entries of a " med("log.entries") "-entry log (entries/s)",
	           "catchup.hub.per_s", "catchup.raw.per_s", "raw libzmq one-way", ">=", 0.5,
	           trouble("catchup.hub"))
	pic = med("pictures.ms")
	row("pictures: one week, every area and the overview, over " log_entries " reports of five years (ms; store MiB " stat("pictures.store_mib", 1) ")",
	    stat("pictures.ms", 1), "", "", "< 1000 ms",
	    pic == "" ? "–" : (pic < 1000 ? "met" : "**not met**"))
	rss = med("rss.kib")
	row("peak resident memory of the hub (VmHWM, MiB), " med("log.entries") "-entry log, " subs " subscribers + 1 catching up",
	    stat("rss.kib", 1024), "", "", "< 64 MiB",
	    rss == "" ? "–" : (rss / 1024 < 64 ? "met" : "**not met**"))
	row("start-up time, exec to `esthub: ready`, " log_entries "-entry log (" log_mb " MB store), ms",
	    stat("startup.ms", 1), "", "", "", "")
	print ""
	print "## The references, and more of the same runs"
	print ""
	print "| measurement | esthub | reference loop | Redis " redis " | other |"
	print "| --- | --- | --- | --- | --- |"
	printf "| 4 × 100 in flight: reports/s | %s | %s | %s | CURVE ceiling (the loop without disk): %s; esthub/ceiling %s |\n",
	       stat("window.hub.per_s", 1), stat("window.ref.per_s", 1),
	       stat("window.redis.per_s", 1), stat("window.ceiling.per_s", 1),
	       rstat("window.hub.per_s", "window.ceiling.per_s")
	printf "| 4 × 100 in flight: ack p50 / p99, µs | %s / %s | %s / %s | %s / %s | ceiling %s / %s |\n",
	       stat("window.hub.p50_us", 1), stat("window.hub.p99_us", 1),
	       stat("window.ref.p50_us", 1), stat("window.ref.p99_us", 1),
	       stat("window.redis.p50_us", 1), stat("window.redis.p99_us", 1),
	       stat("window.ceiling.p50_us", 1), stat("window.ceiling.p99_us", 1)
	printf "| 1 sender waiting: reports/s | %s | %s | %s | esthub/Redis %s |\n",
	       stat("wait.hub.per_s", 1), stat("wait.ref.per_s", 1), stat("wait.redis.per_s", 1),
	       rstat("wait.hub.per_s", "wait.redis.per_s")
	printf "| 1 sender waiting: ack p50 / p99, µs | %s / %s | %s / %s | %s / %s | |\n",
	       stat("wait.hub.p50_us", 1), stat("wait.hub.p99_us", 1),
	       stat("wait.ref.p50_us", 1), stat("wait.ref.p99_us", 1),
	       stat("wait.redis.p50_us", 1), stat("wait.redis.p99_us", 1)
	printf "| 10,000/s paced: ack p50, µs | %s | %s | %s | esthub/reference %s, esthub/Redis %s |\n",
	       stat("rate.hub.p50_us", 1), stat("rate.ref.p50_us", 1), stat("rate.redis.p50_us", 1),
	       rstat("rate.hub.p50_us", "rate.ref.p50_us"), rstat("rate.hub.p50_us", "rate.redis.p50_us")
	printf "| 10,000/s paced: acks/s achieved | %s | %s | %s | |\n",
	       stat("rate.hub.per_s", 1), stat("rate.ref.per_s", 1), stat("rate.redis.per_s", 1)
	printf "| server CPU per report, µs (the process, all threads), 4 × 100 | %s | %s | %s | ceiling %s |\n",
	       stat("window.hub.cpu_us", 1), stat("window.ref.cpu_us", 1),
	       stat("window.redis.cpu_us", 1), stat("window.ceiling.cpu_us", 1)
	printf "| server CPU per report, µs, 10,000/s paced | %s | %s | %s | |\n",
	       stat("rate.hub.cpu_us", 1), stat("rate.ref.cpu_us", 1), stat("rate.redis.cpu_us", 1)
	printf "| CPU time the host took from this machine (steal, %% of all), 4 × 100 | %s | %s | %s | ceiling %s |\n",
	       stat("window.hub.steal_pct", 1), stat("window.ref.steal_pct", 1),
	       stat("window.redis.steal_pct", 1), stat("window.ceiling.steal_pct", 1)
	printf "| CPU time the host took (steal, %%), 10,000/s paced | %s | %s | %s | |\n",
	       stat("rate.hub.steal_pct", 1), stat("rate.ref.steal_pct", 1), stat("rate.redis.steal_pct", 1)
	printf "| TCP retransmission timeouts on the machine, summed over the runs: 4 × 100 / 1 sender / paced | %d / %d / %d | %d / %d / %d | %d / %d / %d | ceiling %d |\n",
	       total("window.hub.tcp_timeouts"), total("wait.hub.tcp_timeouts"), total("rate.hub.tcp_timeouts"),
	       total("window.ref.tcp_timeouts"), total("wait.ref.tcp_timeouts"), total("rate.ref.tcp_timeouts"),
	       total("window.redis.tcp_timeouts"), total("wait.redis.tcp_timeouts"), total("rate.redis.tcp_timeouts"),
	       total("window.ceiling.tcp_timeouts")
	printf "| load generator CPU per message, µs, 4 × 100 | %s | %s | %s | ceiling %s |\n",
	       stat("window.hub.client_cpu_us", 1), stat("window.ref.client_cpu_us", 1),
	       stat("window.redis.client_cpu_us", 1), stat("window.ceiling.client_cpu_us", 1)
	printf "| feed: raw fan-out to %d peers, deliveries/s | | | | %s (%s bytes a message, as the hub's frame: %s) |\n",
	       subs, stat("fanout.raw.per_s", 1), med("fanout.raw.bytes"), med("fanout.hub.bytes")
	printf "| feed: reports/s ingested (4 × 100) while %d subscribers follow | %s | | | |\n",
	       subs, stat("fanout.load.per_s", 1)
	printf "| feed: raw one-way, messages/s | | | | %s |\n", stat("catchup.raw.per_s", 1)
	print ""
	print "How: ingest runs last " run_s " s after a warm-up, with one bench-load process driving"
	print "esthub, the reference loop (bench-ref: ROUTER + SQLite WAL, synchronous=FULL, default"
	print "autocheckpoint, up to 1,000 frames a transaction, ack after COMMIT), the ceiling"
	print "(bench-ref --no-disk) and Redis (XADD to one stream, appendonly yes, appendfsync always),"
	print "one after the other in each repetition; ZeroMQ always with CURVE and a ZAP handler."
	print "Each message is one ~300-byte report (one Envelope; for Redis the same bytes as an XADD"
	print "field). The feed figures come from an instance whose log was filled with the hub's own"
	print "log module (bench-mklog), restarted every repetition (start-up time, peak memory); the"
	print "live fan-out counts " fan " entries per subscriber pushed by bench-load (4 × 100 in flight),"
	print "the raw fan-out the same number of same-sized messages from one ROUTER."
	print "Steal is the share of all CPU time of the machine (/proc/stat) that the host"
	print "gave to something else while this virtual machine had work, over each ingest run:"
	print "where it is high, the p99 measures the host (bench/README.md, \"The p99 tail\")."
	print "A TCP segment lost even on loopback is sent again only when its timer runs out"
	print "(200 ms, then doubling), both ends idle meanwhile: the timeouts are counted for the"
	print "whole machine over each run (/proc/net/netstat TCPTimeouts)."
}
