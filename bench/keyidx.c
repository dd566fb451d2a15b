/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-keyidx: what the log's index of report keys (hub/keyidx.h) costs a
 * batch while it grows: --keys new keys (default 2,000,000) go in, --batch
 * at a time (default 400, about a batch at 4 x 100 in flight), as log_append
 * puts them: one keyidx_reserve, then a probe and a put a key, then a keep.
 * Every reserve and every batch is timed. The baseline, measured in the
 * same run, is what a table that moved all its slots at once would stall a
 * batch for at the end: a copy of the final table's bytes into fresh
 * memory (a lower bound of that move, which also rehashes every slot).
 *
 * Prints "bench-keyidx: keys=N batch=B bytes=.. reserve_max_us=..
 * batch_p50_us=.. batch_p99_us=.. batch_max_us=.. whole_copy_us=..
 * worst_over_whole=..".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "keyidx.h"

struct options {
	long keys, batch;
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: bench-keyidx [--keys N] [--batch B]\n"
	             "Times the index of report keys while N keys go in, B a batch "
	             "(default 2000000 x 400).\n");
}

static int
parse_options(struct options *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"keys", required_argument, NULL, 'k'},
	    {"batch", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct options){.keys = 2000000, .batch = 400};
	int c, rc = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'k')
			rc = bench_parse_long("--keys", optarg, 1, 100000000, &o->keys);
		else if (c == 'b')
			rc = bench_parse_long("--batch", optarg, 1, 100000, &o->batch);
		else if (c == 'h') {
			usage(stdout);
			exit(0);
		} else
			rc = -1;
	}
	if (rc != 0 || optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* xorshift64: hashes as SipHash would give them, without the cost of one. */
static uint32_t
next_hash(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 32);
}

static volatile char copy_sink;

/* The copy a move of everything at once would at least make: bytes into fresh memory. */
static int64_t
whole_copy_ns(size_t bytes)
{
	char *from = malloc(bytes), *to = NULL;
	if (from == NULL)
		return -1;
	memset(from, 1, bytes);
	int64_t t0 = bench_now_ns();
	to = calloc(1, bytes);
	if (to != NULL)
		memcpy(to, from, bytes);
	int64_t ns = bench_now_ns() - t0;
	if (to != NULL)
		copy_sink = to[bytes / 2]; /* read back: the copy cannot be left out */
	free(to);
	free(from);
	return to != NULL ? ns : -1;
}

int
main(int argc, char **argv)
{
	struct options o;
	if (parse_options(&o, argc, argv) != 0)
		return 2;
	struct keyidx *ix = keyidx_new();
	struct bench_samples batches = {0};
	uint64_t x = 88172645463325252ull, seq = 0;
	int64_t reserve_max = 0;
	int rc = ix != NULL ? 0 : -1;
	for (long done = 0; rc == 0 && done < o.keys; done += o.batch) {
		size_t n = (size_t)(o.keys - done < o.batch ? o.keys - done : o.batch);
		int64_t t0 = bench_now_ns();
		rc = keyidx_reserve(ix, n, n);
		int64_t t1 = bench_now_ns();
		for (size_t i = 0; rc == 0 && i < n; i++) {
			struct keyidx_probe p;
			uint64_t got;
			keyidx_probe_start(ix, next_hash(&x), &p);
			while (keyidx_probe_next(ix, &p, &got))
				; /* a hash seen before: another key (the log reads its entry) */
			rc = keyidx_put(ix, &p, ++seq);
		}
		keyidx_keep(ix);
		int64_t t2 = bench_now_ns();
		if (t1 - t0 > reserve_max)
			reserve_max = t1 - t0;
		if (rc == 0)
			rc = bench_samples_add(&batches, (uint32_t)((t2 - t0) / 1000));
	}
	size_t bytes = ix != NULL ? keyidx_bytes(ix) : 0;
	int64_t whole = rc == 0 ? whole_copy_ns(bytes) : -1;
	if (rc != 0 || whole < 0) {
		fprintf(stderr, "bench-keyidx: out of memory\n");
		keyidx_free(&ix);
		bench_samples_fini(&batches);
		return 2;
	}
	printf("bench-keyidx: keys=%ld batch=%ld bytes=%zu reserve_max_us=%.1f batch_p50_us=%u "
	       "batch_p99_us=%u batch_max_us=%u whole_copy_us=%.1f worst_over_whole=%.2f\n",
	       o.keys, o.batch, bytes, reserve_max / 1e3, bench_samples_pct(&batches, 50),
	       bench_samples_pct(&batches, 99), bench_samples_pct(&batches, 100), whole / 1e3,
	       (double)bench_samples_pct(&batches, 100) * 1e3 / (double)whole);
	keyidx_free(&ix);
	bench_samples_fini(&batches);
	return 0;
}
