/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_report_prepack and the spliced entry: a report packed by the caller
 * ahead of the commit (as the ingest thread does while the last batch
 * commits) must be stored byte for byte as log_append stores it without
 * help, and judged by the same digest; a report with unknown fields is
 * left to log_append.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wire/crypto.h"

#define NOW 1764000000

struct rec {
	Est__V1__LogEntry entry;
	Est__V1__Report report;
	Est__V1__Position pos;
	char source_id[64];
	char text[400];
	uint8_t packed[1024];
};

struct fx {
	char dir[64];
	char path[128];
	struct log *lg;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/test_log_prepack.XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof fx->path, "%s/store.db", fx->dir);
	char err[512] = "";
	if (log_open(&fx->lg, fx->path, LOG_CREATE, err, sizeof err) != 0) {
		fprintf(stderr, "log_open: %s\n", err);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	log_close(&fx->lg);
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	char p[160];
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		snprintf(p, sizeof p, "%s%s", fx->path, suffixes[i]);
		unlink(p);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* A report whose description is len bytes long (so its length varint takes 1 or 2 bytes). */
static void
rec_report(struct rec *r, const char *source_id, uint32_t revision, size_t len, char fill)
{
	memset(r, 0, sizeof *r);
	est__v1__log_entry__init(&r->entry);
	est__v1__report__init(&r->report);
	est__v1__position__init(&r->pos);
	snprintf(r->source_id, sizeof r->source_id, "%s", source_id);
	memset(r->text, fill, len);
	r->pos.lat = 58.567;
	r->pos.lon = 16.2;
	r->report.source_id = r->source_id;
	r->report.revision = revision;
	r->report.category = EST__V1__CATEGORY__CATEGORY_VANDALISM;
	r->report.area = (char *)"hageby";
	r->report.position = &r->pos;
	r->report.observed_at = NOW - 3600;
	r->report.description = r->text;
	r->entry.org = (char *)"municipality";
	r->entry.topic = (char *)"hageby/reports";
	r->entry.body_case = EST__V1__LOG_ENTRY__BODY_REPORT;
	r->entry.report = &r->report;
}

/* Packs r ahead as ingest does and points the item at it. */
static void
prepack(struct rec *r, struct log_item *it)
{
	size_t len = 0;
	assert_int_equal(log_report_prepack(&r->report, r->packed, sizeof r->packed, &len), 1);
	assert_int_equal(len, est__v1__report__get_packed_size(&r->report));
	it->packed = r->packed;
	it->packed_len = len;
}

/* The spliced body is what est__v1__log_entry__pack writes, for short and long reports. */
static void
test_spliced_entry_is_the_packed_entry(void **state)
{
	struct fx *fx = *state;
	static const size_t lens[] = {0, 10, 100, 200, 300};
	struct rec recs[5];
	struct log_item items[5];
	char err[256] = "";
	memset(items, 0, sizeof items);
	for (size_t i = 0; i < 5; i++) {
		char id[32];
		snprintf(id, sizeof id, "r-%zu", i);
		rec_report(&recs[i], id, 0, lens[i], (char)('a' + i));
		items[i].entry = &recs[i].entry;
		if (i % 2 == 0)
			prepack(&recs[i], &items[i]);
	}
	assert_int_equal(log_append(fx->lg, items, 5, NOW, err, sizeof err), 0);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(items[i].status, EST__V1__STATUS__STATUS_ACCEPTED);
		Est__V1__LogEntry *e = &recs[i].entry;
		assert_int_equal(e->seq, items[i].seq);
		uint8_t want[2048];
		size_t n = est__v1__log_entry__pack(e, want);
		assert_int_equal(items[i].body_len, n);
		assert_memory_equal(items[i].body, want, n);
	}
	uint64_t bad = 0;
	char why[256] = "";
	assert_int_equal(log_verify(fx->lg, &bad, why, sizeof why), 0);
}

/* A report packed ahead is judged by the same digest as one log_append packs. */
static void
test_prepacked_digest_judges_resends(void **state)
{
	struct fx *fx = *state;
	struct rec a, b, c;
	struct log_item it = {0};
	char err[256] = "";
	rec_report(&a, "same", 0, 50, 'x');
	it.entry = &a.entry;
	assert_int_equal(log_append(fx->lg, &it, 1, NOW, err, sizeof err), 0);
	uint64_t first = it.seq;
	/* The same report prepacked: a duplicate of the one stored without help. */
	rec_report(&b, "same", 0, 50, 'x');
	memset(&it, 0, sizeof it);
	it.entry = &b.entry;
	prepack(&b, &it);
	assert_int_equal(log_append(fx->lg, &it, 1, NOW, err, sizeof err), 0);
	assert_int_equal(it.status, EST__V1__STATUS__STATUS_DUPLICATE);
	assert_int_equal(it.seq, first);
	/* Other content under the same key, prepacked: rejected. */
	rec_report(&c, "same", 0, 50, 'y');
	memset(&it, 0, sizeof it);
	it.entry = &c.entry;
	prepack(&c, &it);
	assert_int_equal(log_append(fx->lg, &it, 1, NOW, err, sizeof err), 0);
	assert_int_equal(it.status, EST__V1__STATUS__STATUS_REJECTED);
	assert_non_null(strstr(it.error, "other content"));
}

/*
 * Too little room: prepack declines and says the room it needs. Unknown
 * fields (dropped by the log): it declines with 0, whatever the room.
 */
static void
test_prepack_declines(void **state)
{
	(void)state;
	struct rec r;
	rec_report(&r, "u", 0, 20, 'z');
	size_t len = 0;
	assert_int_equal(log_report_prepack(&r.report, r.packed, 4, &len), 0);
	assert_int_equal(len, est__v1__report__get_packed_size(&r.report));
	assert_true(len > 4);
	size_t need = len;
	assert_int_equal(log_report_prepack(&r.report, r.packed, need, &len), 1);
	assert_int_equal(len, need);
	ProtobufCMessageUnknownField uf = {.tag = 99,
	                                   .wire_type = PROTOBUF_C_WIRE_TYPE_VARINT,
	                                   .len = 1,
	                                   .data = (uint8_t *)"\x01"};
	r.pos.base.n_unknown_fields = 1;
	r.pos.base.unknown_fields = &uf;
	assert_int_equal(log_report_prepack(&r.report, r.packed, sizeof r.packed, &len), 0);
	assert_int_equal(len, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_spliced_entry_is_the_packed_entry, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_prepacked_digest_judges_resends, setup, teardown),
	    cmocka_unit_test(test_prepack_declines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
