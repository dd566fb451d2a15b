/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-mklog: fills an instance's store with --count report entries
 * before the hub starts, through the hub's own log module (hub/log.h), so
 * the file is exactly what the hub writes: the same schema, idempotency
 * rows and hash chain, committed in batches of --batch (default 1000)
 * entries. Much faster than pushing a million reports through ingest. The
 * reports are the benchmark's ~300-byte report in Hageby (topic
 * hageby/reports) from --org (default municipality); with --days they are
 * observed over that many days at 400 places (bench/run.sh: 360 days, the
 * year the default retention keeps).
 *
 *   bench-mklog --store DIR/data/log.db --count 1000000
 *
 * Prints "bench-mklog: head_seq=N entries=M seconds=S".
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "log.h"

#define MKLOG_MAX_BATCH 10000
#define MKLOG_ID_BYTES  48
#define MKLOG_PLACES    400 /* --days: places on a 20 x 20 grid, 50 m apart */
#define MKLOG_PLACE_LEN 24

struct options {
	const char *store, *org;
	char tag[17];
	long count, batch;
	long days; /* 0: every report observed a minute ago; else spread over so many days */
	int64_t now;
};

/* One batch's worth of entries, reports and source_ids. */
struct batch {
	struct log_item *items;
	Est__V1__LogEntry *entries;
	Est__V1__Report *reports;
	Est__V1__Position *positions;
	char (*ids)[MKLOG_ID_BYTES];
};

static char place_names[MKLOG_PLACES][MKLOG_PLACE_LEN];

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: bench-mklog --store FILE --count N [--batch N] [--org ORG] [--tag T]\n"
	        "                   [--days D]\n"
	        "Appends N report entries to the hub store FILE (created when missing)\n"
	        "with the hub's own log module, N per transaction. Without --days every\n"
	        "report is the benchmark's report, observed a minute ago at one place;\n"
	        "with --days D they are observed evenly over the D days before now, in\n"
	        "seq order, at %d places, as a real instance's log would hold them.\n",
	        MKLOG_PLACES);
}

static int
parse_options(struct options *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"store", required_argument, NULL, 's'}, {"count", required_argument, NULL, 'n'},
	    {"batch", required_argument, NULL, 'b'}, {"org", required_argument, NULL, 'o'},
	    {"tag", required_argument, NULL, 't'},   {"days", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
	};
	*o = (struct options){.org = "municipality", .batch = 1000, .now = (int64_t)time(NULL)};
	snprintf(o->tag, sizeof o->tag, "mk%lx", (unsigned long)time(NULL) & 0xffffff);
	int c, rc = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 's')
			o->store = optarg;
		else if (c == 'n')
			rc = bench_parse_long("--count", optarg, 1, 100000000, &o->count);
		else if (c == 'b')
			rc = bench_parse_long("--batch", optarg, 1, MKLOG_MAX_BATCH, &o->batch);
		else if (c == 'o')
			o->org = optarg;
		else if (c == 't')
			snprintf(o->tag, sizeof o->tag, "%s", optarg);
		else if (c == 'd')
			rc = bench_parse_long("--days", optarg, 0, 3650, &o->days);
		else if (c == 'h') {
			usage(stdout);
			exit(0);
		} else
			rc = -1;
	}
	if (rc != 0 || optind != argc || o->store == NULL || o->count == 0) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Fills the first n slots of b with reports first..first+n-1 of the run. */
static void
batch_fill(struct batch *b, const struct options *o, const Est__V1__Report *model, uint64_t first,
           size_t n)
{
	for (size_t i = 0; i < n; i++) {
		Est__V1__Report *r = &b->reports[i];
		*r = *model;
		snprintf(b->ids[i], sizeof b->ids[i], "m-%s-%010" PRIu64, o->tag, first + i);
		r->source_id = b->ids[i];
		/* The hub assigns the area from the position; the log takes it as given. */
		r->area = "hageby";
		if (o->days > 0) {
			uint64_t k = first + i, span = (uint64_t)o->days * 86400;
			size_t pl = (size_t)((k * 7919) % MKLOG_PLACES);
			r->observed_at =
			    o->now - (int64_t)span + (int64_t)(span * k / (uint64_t)o->count) + 1;
			b->positions[i] = *model->position;
			/* 50 m a step: about 0.00045 degree north, 0.00086 east at 58.6 N. */
			b->positions[i].lat += 0.00045 * (double)(pl / 20);
			b->positions[i].lon += 0.00086 * (double)(pl % 20);
			r->position = &b->positions[i];
			r->place = place_names[pl];
		}
		Est__V1__LogEntry *e = &b->entries[i];
		est__v1__log_entry__init(e);
		e->org = (char *)(uintptr_t)o->org;
		e->topic = "hageby/reports";
		e->body_case = EST__V1__LOG_ENTRY__BODY_REPORT;
		e->report = r;
		memset(&b->items[i], 0, sizeof b->items[i]);
		b->items[i].entry = e;
	}
}

static int
fill(struct log *lg, const struct options *o, struct batch *b)
{
	struct bench_payload pl;
	bench_payload_init(&pl, o->tag);
	char err[512];
	for (long done = 0; done < o->count;) {
		size_t n = (size_t)(o->count - done < o->batch ? o->count - done : o->batch);
		batch_fill(b, o, &pl.report, (uint64_t)done, n);
		if (log_append(lg, b->items, n, (int64_t)time(NULL), err, sizeof err) != 0) {
			fprintf(stderr, "bench-mklog: %s\n", err);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			if (b->items[i].status != EST__V1__STATUS__STATUS_ACCEPTED) {
				fprintf(stderr, "bench-mklog: entry %zu not accepted: %s\n", i,
				        b->items[i].error);
				return -1;
			}
		done += (long)n;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o;
	if (parse_options(&o, argc, argv) != 0)
		return 1;
	struct batch b = {
	    .items = calloc((size_t)o.batch, sizeof *b.items),
	    .entries = calloc((size_t)o.batch, sizeof *b.entries),
	    .reports = calloc((size_t)o.batch, sizeof *b.reports),
	    .positions = calloc((size_t)o.batch, sizeof *b.positions),
	    .ids = calloc((size_t)o.batch, sizeof *b.ids),
	};
	for (size_t i = 0; i < MKLOG_PLACES; i++)
		snprintf(place_names[i], sizeof place_names[i], "Hageby plats %zu", i + 1);
	char err[512];
	struct log *lg = NULL;
	int rc = 2;
	if (!b.items || !b.entries || !b.reports || !b.positions || !b.ids) {
		fprintf(stderr, "bench-mklog: out of memory\n");
	} else if (log_open(&lg, o.store, LOG_CREATE, err, sizeof err) != 0) {
		fprintf(stderr, "bench-mklog: %s\n", err);
	} else {
		int64_t t0 = bench_now_ns();
		rc = fill(lg, &o, &b) == 0 ? 0 : 2;
		printf("bench-mklog: head_seq=%" PRIu64 " entries=%ld seconds=%.1f\n",
		       log_head_seq(lg), rc == 0 ? o.count : 0L,
		       (double)(bench_now_ns() - t0) / 1e9);
	}
	log_close(&lg);
	free(b.items);
	free(b.entries);
	free(b.reports);
	free(b.positions);
	free(b.ids);
	return rc;
}
