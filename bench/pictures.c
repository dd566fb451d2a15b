/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-pictures: the picture store's footprint and the compile time over
 * a big history, without a hub: --count reports (default 1,000,000) spread
 * over five years before --week, five areas, three organisations, 400
 * places, a tenth with a span, a twentieth upcoming events and one in fifty
 * revised, added with picture_store_add as the hub adds them. Prints the
 * resident memory the store added (VmRSS before and after: pages touched,
 * not address space reserved), the time to fill it and the median of
 * --reps compiles of the week for every area and `all`. A compile is timed
 * whole and in its two steps: the snapshot, which the hub takes on its
 * main thread while acknowledgements wait (picture_snapshot_take), and
 * the rest, which runs on the compiler thread; with the snapshot's size.
 * --flood N adds N more reports at one place in the week (the benchmark
 * load's pattern), the case where merging takes longest. The fill is timed
 * BATCH reports at a time (400, a batch at 4 x 100 in flight): the hub adds
 * a batch's reports on its main thread while the next acknowledgements
 * wait, so the slowest batch is a stall of ingest (the store's arrays and
 * its index of source ids growing).
 *
 *   bench-pictures [--count N] [--reps N] [--week 2026-W47] [--flood N]
 *
 * Prints "bench-pictures: reports=N store_mib=M bytes_per_report=B
 * fill_s=S add_batch_p50_us=A add_batch_p99_us=P add_batch_max_us=M
 * compile_ms_p50=C compile_ms_max=X snapshot_ms_p50=S snapshot_ms_max=T
 * snapshot_kib=K".
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "picture.h"
#include "week.h"

#define N_AREAS  5
#define N_PLACES 400
#define MAX_REPS 101
#define BATCH    400

static const char *const areas[N_AREAS] = {"marielund", "hageby", "navestad", "klockaretorpet",
                                           "city"};
static const char *const orgs[] = {"police", "municipality", "housing"};

static uint32_t
lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005u + 1442695040888963407u;
	return (uint32_t)(*x >> 33);
}

/* VmRSS of this process in bytes, 0 when unreadable. */
static size_t
rss_bytes(void)
{
	char line[256];
	size_t kib = 0;
	FILE *f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = (size_t)strtoull(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kib * 1024;
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Adds n reports at one place on the Wednesday of the week starting at start, a second apart. */
static int
flood(struct picture_store *ps, long n, int64_t start, uint64_t first_seq)
{
	char sid[48];
	for (long i = 0; i < n; i++) {
		Est__V1__Report r;
		est__v1__report__init(&r);
		snprintf(sid, sizeof sid, "flood-%08ld", i);
		r.source_id = sid;
		r.area = (char *)(uintptr_t)areas[1];
		r.category = EST__V1__CATEGORY__CATEGORY_GATHERING;
		r.observed_at = start + 2 * 86400 + 12 * 3600 + i % 86400;
		r.place = (char *)(uintptr_t) "Plats 1";
		r.description = (char *)(uintptr_t) "";
		if (picture_store_add(ps, first_seq + (uint64_t)i, orgs[0], NULL, &r) != 0)
			return -1;
	}
	return 0;
}

/* Fills ps with count reports over the five years before end, timing each BATCH into batches. */
static int
fill(struct picture_store *ps, long count, int64_t end, struct bench_samples *batches)
{
	char places[N_PLACES][32], sid[48];
	uint64_t x = 8;
	const int64_t span = 5 * 365 * 86400LL;
	for (int i = 0; i < N_PLACES; i++)
		snprintf(places[i], sizeof places[i], "Plats %d", i);
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < count; i++) {
		Est__V1__Report r;
		Est__V1__Position pos;
		est__v1__report__init(&r);
		est__v1__position__init(&pos);
		/* One in fifty is a new revision of an earlier report. */
		long id = i > 100 && lcg(&x) % 50 == 0 ? (long)(lcg(&x) % (uint32_t)i) : i;
		snprintf(sid, sizeof sid, "%s-2026-%08ld", orgs[id % 3], id);
		r.source_id = sid;
		r.revision = id == i ? 0 : (uint32_t)(i - id);
		r.area = (char *)(uintptr_t)areas[lcg(&x) % N_AREAS];
		r.category = (Est__V1__Category)(1 + lcg(&x) % 8);
		r.observed_at = end - span + (int64_t)(lcg(&x) % (uint32_t)span);
		if (lcg(&x) % 10 == 0) {
			r.starts_at = r.observed_at - 3600;
			r.ends_at = r.observed_at + 3600;
		}
		int place = (int)(lcg(&x) % N_PLACES);
		r.place = places[place];
		r.description = "";
		if (lcg(&x) % 4 != 0) {
			pos.lat = 58.55 + place * 0.0001 + (lcg(&x) % 100) * 1e-5;
			pos.lon = 16.15 + place * 0.0001 + (lcg(&x) % 100) * 1e-5;
			r.position = &pos;
		}
		if (picture_store_add(ps, (uint64_t)i + 1, orgs[id % 3], NULL, &r) != 0)
			return -1;
		if ((i + 1) % BATCH == 0 || i + 1 == count) {
			int64_t t1 = bench_now_ns();
			if (bench_samples_add(batches, (uint32_t)((t1 - t0) / 1000)) != 0)
				return -1;
			t0 = t1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"count", required_argument, NULL, 'n'},
	    {"reps", required_argument, NULL, 'r'},
	    {"week", required_argument, NULL, 'w'},
	    {"flood", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	long count = 1000000, reps = 11, n_flood = 0;
	const char *week_id = "2026-W47";
	char err[256];
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n' && bench_parse_long("--count", optarg, 1, 8000000, &count) == 0)
			continue;
		if (c == 'r' && bench_parse_long("--reps", optarg, 1, MAX_REPS, &reps) == 0)
			continue;
		if (c == 'f' && bench_parse_long("--flood", optarg, 0, 1000000, &n_flood) == 0)
			continue;
		if (c == 'w') {
			week_id = optarg;
			continue;
		}
		fprintf(stderr, "usage: bench-pictures [--count N] [--reps N] [--week 2026-W47] "
		                "[--flood N]\n");
		return 1;
	}
	struct week w;
	int64_t start, end;
	if (week_parse(week_id, &w, err, sizeof err) != 0 || week_bounds(w, &start, &end) != 0) {
		fprintf(stderr, "bench-pictures: --week: %s\n", err);
		return 1;
	}
	malloc_trim(0);
	size_t before = rss_bytes();
	int64_t t0 = bench_now_ns();
	struct bench_samples batches = {0};
	struct picture_store *ps = picture_store_new();
	if (ps == NULL || fill(ps, count, end, &batches) != 0 ||
	    flood(ps, n_flood, start, (uint64_t)count + 1) != 0) {
		fprintf(stderr, "bench-pictures: the store is full or out of memory\n");
		return 2;
	}
	double fill_s = (double)(bench_now_ns() - t0) / 1e9;
	malloc_trim(0);
	size_t after = rss_bytes();
	struct picture_rules rules;
	picture_rules_default(&rules);
	double ms[MAX_REPS], snap_ms[MAX_REPS];
	size_t snap_bytes = 0;
	for (long k = 0; k < reps; k++) {
		Est__V1__Picture *out[N_AREAS + 1];
		int64_t c0 = bench_now_ns();
		struct picture_snapshot *s =
		    picture_snapshot_take(ps, &rules, week_id, NULL, 0, err, sizeof err);
		int64_t c1 = bench_now_ns();
		if (s == NULL ||
		    picture_compile_snapshot(s, areas, N_AREAS, end, out, err, sizeof err) != 0) {
			fprintf(stderr, "bench-pictures: %s\n", err);
			return 2;
		}
		snap_bytes = picture_snapshot_bytes(s);
		picture_snapshot_destroy(&s);
		ms[k] = (double)(bench_now_ns() - c0) / 1e6;
		snap_ms[k] = (double)(c1 - c0) / 1e6;
		for (int i = 0; i <= N_AREAS; i++)
			picture_free(&out[i]);
	}
	qsort(ms, (size_t)reps, sizeof ms[0], by_value);
	qsort(snap_ms, (size_t)reps, sizeof snap_ms[0], by_value);
	printf("bench-pictures: reports=%zu store_mib=%.1f bytes_per_report=%.0f fill_s=%.2f "
	       "add_batch_p50_us=%u add_batch_p99_us=%u add_batch_max_us=%u "
	       "compile_ms_p50=%.1f compile_ms_max=%.1f snapshot_ms_p50=%.1f "
	       "snapshot_ms_max=%.1f snapshot_kib=%zu\n",
	       picture_store_current(ps), (double)(after - before) / 1048576.0,
	       (double)(after - before) / (double)count, fill_s, bench_samples_pct(&batches, 50),
	       bench_samples_pct(&batches, 99), bench_samples_pct(&batches, 100), ms[reps / 2],
	       ms[reps - 1], snap_ms[reps / 2], snap_ms[reps - 1], snap_bytes / 1024);
	picture_store_destroy(&ps);
	bench_samples_fini(&batches);
	return 0;
}
