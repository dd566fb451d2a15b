/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the adapter's intake with the `json` format
 * (adapters/runtime/intake.c, adapters/json/json_lines.c): one record a
 * line, comments and blank lines ignored, each bad line one rejected record
 * naming its line and field, a file queued whole or not at all; bodies from
 * memory and what intake tells of their rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/format.h"
#include "runtime/intake.h"
#include "runtime/outbox.h"

#define MAX_TOLD 16

struct fixture {
	char dir[64];
	char outbox[128];
	char input[128];
	struct outbox *ob;
	size_t n_told;
	int64_t record[MAX_TOLD];
	enum outbox_status status[MAX_TOLD];
	char error[MAX_TOLD][256];
	bool has_source[MAX_TOLD];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_intake.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->outbox, sizeof f->outbox, "%s/outbox", f->dir);
	snprintf(f->input, sizeof f->input, "%s/in.jsonl", f->dir);
	char err[512];
	f->ob = outbox_open(f->outbox, 100, err, sizeof err);
	assert_non_null(f->ob);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];
	outbox_destroy(&f->ob);
	const char *names[] = {"outbox", "outbox-wal", "outbox-shm", "in.jsonl"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s/%s", f->dir, names[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
remember(void *arg, const struct outbox_row *row)
{
	struct fixture *f = arg;
	assert_true(f->n_told < MAX_TOLD);
	f->record[f->n_told] = row->record;
	f->status[f->n_told] = row->status;
	f->has_source[f->n_told] = row->source_id != NULL;
	snprintf(f->error[f->n_told], sizeof f->error[0], "%s", row->error);
	f->n_told++;
}

static void
write_input(struct fixture *f, const char *text)
{
	FILE *in = fopen(f->input, "wb");
	assert_non_null(in);
	fputs(text, in);
	fclose(in);
}

static int
run(struct fixture *f, char *err, size_t errlen)
{
	f->n_told = 0;
	return intake_file(f->ob, format_find("json"), f->input, remember, f, err, errlen);
}

#define GOOD(id, rev)                                                                              \
	"{\"sourceId\":\"" id "\",\"revision\":" #rev ",\"category\":\"CATEGORY_VANDALISM\","      \
	"\"area\":\"hageby\",\"observedAt\":\"1794854400\"}"

static void
test_registry(void **state)
{
	(void)state;
	const struct format *json = format_find("json");
	assert_non_null(json);
	assert_true(json->own_revision);
	assert_ptr_equal(format_at(0), json);
	assert_null(format_find("no-such-format"));
}

/* Which line of a file becomes which outcome at once. */
static void
test_lines(void **state)
{
	struct fixture *f = *state;
	char err[512];
	write_input(f,
	            "\xEF\xBB\xBF" GOOD(
	                "a", 0) "\r\n"            /* 1: queued, BOM and CRLF */
	                        "\n"              /* 2: blank */
	                        "  # a comment\n" /* 3: comment */
	                        "{\"sourceId\":\"b\",\"revision\":-1}\n"    /* 4 */
	                        "not json at all\n"                         /* 5 */
	                        "{\"category\":\"CATEGORY_VANDALISM\"}\n"   /* 6: no source id */
	                        "{\"sourceId\":\"c\",\"colour\":\"red\"}\n" /* 7: unknown field */
	            GOOD("a", 0) "\n"                                       /* 8: same as line 1 */
	            GOOD("d", 1)); /* 9: no final newline */
	assert_int_equal(run(f, err, sizeof err), INTAKE_OK);
	assert_int_equal(outbox_pending(f->ob), 3); /* a, its repeat, d */
	static const struct {
		int64_t record;
		const char *needle;
	} want[] = {
	    {4, "revision"},
	    {5, "JSON"},
	    {6, "source_id"},
	    {7, "colour"},
	};
	assert_int_equal(f->n_told, 4);
	for (size_t j = 0; j < 4; j++) {
		size_t i = j;
		assert_int_equal(f->record[i], want[j].record);
		assert_int_equal(f->status[i], OUTBOX_REJECTED);
		assert_false(f->has_source[i]);
		assert_non_null(strstr(f->error[i], want[j].needle));
	}
}

/* Run twice: every record has the outcome of the first time; nothing more is sent. */
static void
test_same_file_twice(void **state)
{
	struct fixture *f = *state;
	char err[512];
	write_input(f, GOOD("a", 0) "\n" GOOD("b", 0) "\n");
	assert_int_equal(run(f, err, sizeof err), INTAKE_OK);
	assert_int_equal(outbox_pending(f->ob), 2);
	struct outbox_result res[2] = {{.id = 1, .status = OUTBOX_ACCEPTED, .seq = 1},
	                               {.id = 2, .status = OUTBOX_ACCEPTED, .seq = 2}};
	assert_int_equal(outbox_finish(f->ob, res, 2, NULL, NULL), OUTBOX_OK);
	write_input(f, GOOD("a", 0) "\n" GOOD("b", 1) "\n" GOOD("a", 0) "\n");
	assert_int_equal(run(f, err, sizeof err), INTAKE_OK);
	assert_int_equal(outbox_pending(f->ob), 1); /* b revision 1 */
	assert_int_equal(f->n_told, 2);             /* both a: accepted at once */
	assert_int_equal(f->status[0], OUTBOX_ACCEPTED);
	assert_int_equal(f->record[1], 3);
}

static void
test_full_outbox_takes_nothing(void **state)
{
	struct fixture *f = *state;
	char err[512];
	outbox_destroy(&f->ob);
	f->ob = outbox_open(f->outbox, 2, err, sizeof err);
	assert_non_null(f->ob);
	write_input(f, GOOD("a", 0) "\nbad\n" GOOD("b", 0) "\n" GOOD("c", 0) "\n");
	assert_int_equal(run(f, err, sizeof err), INTAKE_FULL);
	assert_non_null(strstr(err, "pending"));
	assert_int_equal(outbox_pending(f->ob), 0);
	assert_int_equal(f->n_told, 0);
}

static void
test_missing_file(void **state)
{
	struct fixture *f = *state;
	char err[512];
	assert_int_equal(run(f, err, sizeof err), INTAKE_OPEN);
	assert_non_null(strstr(err, "cannot open"));
}

/* What intake_memory tells, and the span of rows a body became. */
struct heard {
	size_t added, done;
	bool revision_known[8];
	uint32_t revision[8];
};

static void
heard_added(void *arg, const struct outbox_row *row)
{
	struct heard *h = arg;
	assert_int_equal(row->status, OUTBOX_PENDING);
	if (h->added < 8) {
		h->revision_known[h->added] = row->has_revision;
		h->revision[h->added] = row->revision;
	}
	h->added++;
}

static void
heard_done(void *arg, const struct outbox_row *row)
{
	struct heard *h = arg;
	(void)row;
	h->done++;
}

static void
test_memory(void **state)
{
	struct fixture *f = *state;
	char err[512], body[] = GOOD("m", 3) "\nnot json\n" GOOD("n", 0);
	struct heard heard = {0};
	struct intake_hear hear = {.done = heard_done, .added = heard_added, .arg = &heard};
	struct intake_span span;
	struct intake *in = intake_new(format_find("json"), NULL, err, sizeof err);
	assert_non_null(in);
	assert_int_equal(
	    intake_memory(in, f->ob, "http/1.1", body, strlen(body), &hear, &span, err, sizeof err),
	    INTAKE_OK);
	assert_int_equal(heard.added, 3);
	assert_int_equal(heard.done, 1); /* the line that is not JSON */
	assert_int_equal(span.last_id - span.first_id + 1, 3);
	assert_int_equal(span.done, 1);
	assert_true(heard.revision_known[0]);
	assert_int_equal(heard.revision[0], 3);
	assert_false(heard.revision_known[1]);
	/* Nothing at all is no record, not an error. */
	assert_int_equal(
	    intake_memory(in, f->ob, "http/1.2", body, 0, &hear, &span, err, sizeof err),
	    INTAKE_OK);
	assert_int_equal(span.first_id, 0);
	intake_destroy(&in);
	assert_null(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_file_twice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_outbox_takes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
