/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the adapter's outbox (adapters/runtime/outbox.c): queuing,
 * the revision rules of partner-formats.md (same content is not sent again,
 * changed content is the next revision, an older own revision is skipped),
 * durability over a reopen, the pending cap, and marking rows done;
 * measure updates (sent every time, without revisions); the migration of a
 * schema version 1 outbox and the refusal of a newer one.
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
#include <sqlite3.h>

#include "runtime/outbox.h"

#define MAX_TOLD 16

/* A temporary outbox and what its callbacks were told. */
struct fixture {
	char dir[64];
	char path[128];
	struct outbox *ob;
	struct outbox_row told[MAX_TOLD];
	char told_error[MAX_TOLD][128];
	size_t n_told;
	int64_t sendable[MAX_TOLD];
	enum outbox_kind sendable_kind[MAX_TOLD];
	size_t n_sendable;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_outbox.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/outbox", f->dir);
	char err[512];
	f->ob = outbox_open(f->path, 100, err, sizeof err);
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
	const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* An outbox_row_fn that keeps what it was told (strings are dropped but error). */
static void
remember(void *arg, const struct outbox_row *row)
{
	struct fixture *f = arg;
	assert_true(f->n_told < MAX_TOLD);
	f->told[f->n_told] = *row;
	snprintf(f->told_error[f->n_told], sizeof f->told_error[0], "%s", row->error);
	f->told[f->n_told].file = NULL;
	f->told[f->n_told].source_id = NULL;
	f->told[f->n_told].error = f->told_error[f->n_told];
	f->n_told++;
}

static int
take(void *arg, int64_t id, enum outbox_kind kind, const uint8_t *payload, size_t len)
{
	struct fixture *f = arg;
	if (kind == OUTBOX_KIND_MEASURE) {
		Est__V1__Measure *m = est__v1__measure__unpack(NULL, len, payload);
		assert_non_null(m);
		est__v1__measure__free_unpacked(m, NULL);
	} else {
		Est__V1__Report *r = est__v1__report__unpack(NULL, len, payload);
		assert_non_null(r);
		est__v1__report__free_unpacked(r, NULL);
	}
	f->sendable_kind[f->n_sendable] = kind;
	f->sendable[f->n_sendable++] = id;
	return 0;
}

/* The ids of the rows waiting to be sent, into f->sendable. */
static size_t
to_send(struct fixture *f)
{
	f->n_sendable = 0;
	assert_int_equal(outbox_each_to_send(f->ob, 0, MAX_TOLD, take, f), OUTBOX_OK);
	return f->n_sendable;
}

/* Adds one report of source id and description (its content) in its own transaction. */
static int
add(struct fixture *f, const char *source_id, uint32_t revision, const char *description,
    bool own_revision, int64_t *id, uint32_t *sent_revision)
{
	Est__V1__Report r;
	est__v1__report__init(&r);
	char sid[64], desc[64];
	snprintf(sid, sizeof sid, "%s", source_id);
	snprintf(desc, sizeof desc, "%s", description);
	r.source_id = sid;
	r.description = desc;
	r.revision = revision;
	r.category = EST__V1__CATEGORY__CATEGORY_VANDALISM;
	r.observed_at = 1794854400;
	assert_int_equal(outbox_begin(f->ob), OUTBOX_OK);
	int rc = outbox_add_report(f->ob, "in.jsonl", 1, &r, own_revision, id);
	if (rc == OUTBOX_OK)
		assert_int_equal(outbox_commit(f->ob), OUTBOX_OK);
	else
		outbox_rollback(f->ob);
	if (sent_revision)
		*sent_revision = r.revision;
	return rc;
}

static void
finish(struct fixture *f, int64_t id, enum outbox_status status, uint64_t seq, bool refused)
{
	struct outbox_result res = {
	    .id = id, .status = status, .seq = seq, .error = "", .refused = refused};
	assert_int_equal(outbox_finish(f->ob, &res, 1, remember, f), OUTBOX_OK);
}

/* What each_done says of one row. */
static const struct outbox_row *
done_row(struct fixture *f, int64_t id)
{
	f->n_told = 0;
	assert_int_equal(outbox_each_done(f->ob, id, id, remember, f), OUTBOX_OK);
	assert_int_equal(f->n_told, 1);
	return &f->told[0];
}

static void
test_insert_is_pending_and_sendable(void **state)
{
	struct fixture *f = *state;
	int64_t id;
	assert_int_equal(add(f, "a", 0, "x", true, &id, NULL), OUTBOX_OK);
	assert_int_equal(outbox_pending(f->ob), 1);
	assert_int_equal(to_send(f), 1);
	assert_int_equal(f->sendable[0], id);
	f->n_told = 0;
	assert_int_equal(outbox_each_done(f->ob, id, id, remember, f), OUTBOX_OK);
	assert_int_equal(f->n_told, 0);
}

static void
test_same_content_takes_pending_outcome(void **state)
{
	struct fixture *f = *state;
	int64_t first, second;
	assert_int_equal(add(f, "a", 0, "x", true, &first, NULL), OUTBOX_OK);
	assert_int_equal(add(f, "a", 0, "x", true, &second, NULL), OUTBOX_OK);
	assert_int_equal(to_send(f), 1); /* not sent twice */
	assert_int_equal(outbox_pending(f->ob), 2);
	f->n_told = 0;
	finish(f, first, OUTBOX_ACCEPTED, 7, false);
	assert_int_equal(f->n_told, 2); /* both records get the outcome */
	assert_int_equal(f->told[0].id, first);
	assert_int_equal(f->told[1].id, second);
	assert_int_equal(f->told[1].status, OUTBOX_ACCEPTED);
	assert_int_equal(f->told[1].seq, 7);
	assert_int_equal(outbox_pending(f->ob), 0);
}

static void
test_same_content_takes_done_outcome(void **state)
{
	struct fixture *f = *state;
	int64_t first, again;
	for (int own = 0; own <= 1; own++) {
		char sid[8];
		snprintf(sid, sizeof sid, "s%d", own);
		assert_int_equal(add(f, sid, 0, "x", own, &first, NULL), OUTBOX_OK);
		finish(f, first, OUTBOX_REJECTED, 0, false);
		assert_int_equal(add(f, sid, 0, "x", own, &again, NULL), OUTBOX_OK);
		assert_int_equal(outbox_pending(f->ob), 0);
		assert_int_equal(to_send(f), 0);
		const struct outbox_row *row = done_row(f, again);
		assert_int_equal(row->status, OUTBOX_REJECTED);
		assert_true(row->has_revision);
		assert_int_equal(row->revision, 0);
	}
}

/* A format without revisions of its own: the outbox numbers them. */
static void
test_changed_content_is_next_revision(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *content;
		bool sent;
		uint32_t revision;
	} steps[] = {
	    {"A", true, 0}, {"B", true, 1}, {"B", false, 1}, {"A", true, 2}, {"A", false, 2},
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		int64_t id;
		uint32_t revision = 99;
		size_t before = to_send(f);
		/* The translator's revision is ignored for such a format. */
		assert_int_equal(add(f, "k", 5, steps[i].content, false, &id, &revision),
		                 OUTBOX_OK);
		assert_int_equal(to_send(f), before + (steps[i].sent ? 1 : 0));
		if (steps[i].sent)
			assert_int_equal(revision, steps[i].revision);
	}
	/* The last sent revision counts even after it is done. */
	size_t n = to_send(f);
	int64_t sent[MAX_TOLD];
	memcpy(sent, f->sendable, n * sizeof sent[0]);
	for (size_t i = 0; i < n; i++)
		finish(f, sent[i], OUTBOX_ACCEPTED, 10 + i, false);
	assert_int_equal(to_send(f), 0);
	int64_t id;
	uint32_t revision;
	assert_int_equal(add(f, "k", 0, "C", false, &id, &revision), OUTBOX_OK);
	assert_int_equal(revision, 3);
}

/* A format with revisions of its own keeps the partner's order. */
static void
test_own_revision_order(void **state)
{
	struct fixture *f = *state;
	int64_t id;
	assert_int_equal(add(f, "p", 2, "A", true, &id, NULL), OUTBOX_OK);
	assert_int_equal(add(f, "p", 1, "old", true, &id, NULL), OUTBOX_OK);
	const struct outbox_row *row = done_row(f, id);
	assert_int_equal(row->status, OUTBOX_SKIPPED);
	assert_non_null(strstr(row->error, "older than revision 2"));
	/* Same revision, other content: sent, the hub judges it. */
	assert_int_equal(add(f, "p", 2, "B", true, &id, NULL), OUTBOX_OK);
	assert_int_equal(add(f, "p", 3, "B", true, &id, NULL), OUTBOX_OK);
	assert_int_equal(to_send(f), 3);
}

static void
test_pending_survives_reopen(void **state)
{
	struct fixture *f = *state;
	char err[512];
	int64_t id;
	assert_int_equal(add(f, "a", 0, "x", true, &id, NULL), OUTBOX_OK);
	uint32_t run = outbox_run(f->ob);
	outbox_destroy(&f->ob);
	f->ob = outbox_open(f->path, 100, err, sizeof err);
	assert_non_null(f->ob);
	assert_int_equal(outbox_pending(f->ob), 1);
	assert_int_equal(to_send(f), 1);
	assert_int_equal(f->sendable[0], id);
	assert_int_equal(outbox_run(f->ob), run + 1);
}

static void
test_rollback_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	Est__V1__Report r;
	est__v1__report__init(&r);
	char sid[] = "a";
	int64_t id;
	r.source_id = sid;
	assert_int_equal(outbox_begin(f->ob), OUTBOX_OK);
	assert_int_equal(outbox_add_report(f->ob, "f", 1, &r, true, &id), OUTBOX_OK);
	assert_int_equal(outbox_add_done(f->ob, "f", 2, NULL, OUTBOX_REJECTED, "bad", &id),
	                 OUTBOX_OK);
	outbox_rollback(f->ob);
	assert_int_equal(outbox_pending(f->ob), 0);
	assert_int_equal(to_send(f), 0);
	f->n_told = 0;
	assert_int_equal(outbox_each_done(f->ob, 0, INT64_MAX, remember, f), OUTBOX_OK);
	assert_int_equal(f->n_told, 0);
}

static void
test_cap_refuses_whole_file(void **state)
{
	struct fixture *f = *state;
	char err[512];
	outbox_destroy(&f->ob);
	f->ob = outbox_open(f->path, 3, err, sizeof err);
	assert_non_null(f->ob);
	int64_t id;
	assert_int_equal(add(f, "a", 0, "x", true, &id, NULL), OUTBOX_OK);
	/* A file of three: the third would be one too many; the file goes in not at all. */
	assert_int_equal(outbox_begin(f->ob), OUTBOX_OK);
	int rc = OUTBOX_OK;
	for (int i = 0; i < 3 && rc == OUTBOX_OK; i++) {
		Est__V1__Report r;
		est__v1__report__init(&r);
		char sid[16];
		snprintf(sid, sizeof sid, "b%d", i);
		r.source_id = sid;
		rc = outbox_add_report(f->ob, "big", i + 1, &r, true, &id);
	}
	assert_int_equal(rc, OUTBOX_FULL);
	assert_non_null(strstr(outbox_error(f->ob), "pending"));
	outbox_rollback(f->ob);
	assert_int_equal(outbox_pending(f->ob), 1);
	assert_int_equal(to_send(f), 1);
	/* Records done at once are not pending and pass a full outbox. */
	assert_int_equal(add(f, "c", 0, "x", true, &id, NULL), OUTBOX_OK);
	assert_int_equal(add(f, "d", 0, "x", true, &id, NULL), OUTBOX_OK);
	assert_int_equal(add(f, "e", 0, "x", true, &id, NULL), OUTBOX_FULL);
	assert_int_equal(outbox_begin(f->ob), OUTBOX_OK);
	assert_int_equal(outbox_add_done(f->ob, "f", 1, NULL, OUTBOX_REJECTED, "bad", &id),
	                 OUTBOX_OK);
	assert_int_equal(outbox_commit(f->ob), OUTBOX_OK);
}

static void
test_finish_marks_done_once(void **state)
{
	struct fixture *f = *state;
	int64_t a, b;
	assert_int_equal(add(f, "a", 0, "x", true, &a, NULL), OUTBOX_OK);
	assert_int_equal(add(f, "b", 0, "x", true, &b, NULL), OUTBOX_OK);
	struct outbox_result res[2] = {
	    {.id = a, .status = OUTBOX_ACCEPTED, .seq = 1, .error = ""},
	    {.id = b, .status = OUTBOX_REJECTED, .error = "category: required"},
	};
	f->n_told = 0;
	assert_int_equal(outbox_finish(f->ob, res, 2, remember, f), OUTBOX_OK);
	assert_int_equal(f->n_told, 2);
	assert_int_equal(outbox_pending(f->ob), 0);
	assert_int_equal(to_send(f), 0);
	assert_string_equal(done_row(f, b)->error, "category: required");
	assert_int_equal(done_row(f, a)->seq, 1);
	/* A late second answer changes nothing and tells nobody. */
	f->n_told = 0;
	assert_int_equal(outbox_finish(f->ob, res, 2, remember, f), OUTBOX_OK);
	assert_int_equal(f->n_told, 0);
}

/*
 * After a restore through seq 10: what was acknowledged after it (accepted
 * or duplicate, and the same-content row that took an outcome) is pending
 * again and sent in its order; what lies at or before it, and what was
 * rejected, stays as it was.
 */
static void
test_resend_after_a_restore(void **state)
{
	struct fixture *f = *state;
	int64_t early, late, dup, bad, same;
	assert_int_equal(add(f, "early", 0, "x", true, &early, NULL), OUTBOX_OK);
	assert_int_equal(add(f, "late", 0, "x", true, &late, NULL), OUTBOX_OK);
	assert_int_equal(add(f, "dup", 0, "x", true, &dup, NULL), OUTBOX_OK);
	assert_int_equal(add(f, "bad", 0, "x", true, &bad, NULL), OUTBOX_OK);
	finish(f, early, OUTBOX_ACCEPTED, 10, false);
	finish(f, late, OUTBOX_ACCEPTED, 11, false);
	finish(f, dup, OUTBOX_DUPLICATE, 12, false);
	finish(f, bad, OUTBOX_REJECTED, 0, false);
	assert_int_equal(add(f, "late", 0, "x", true, &same, NULL), OUTBOX_OK); /* takes 11 */
	assert_int_equal(done_row(f, same)->seq, 11);
	assert_int_equal(outbox_pending(f->ob), 0);

	size_t n = 0;
	assert_int_equal(outbox_resend_after(f->ob, 10, &n), OUTBOX_OK);
	assert_int_equal(n, 3);
	assert_int_equal(outbox_pending(f->ob), 3);
	assert_int_equal(to_send(f), 2); /* the same-content row is told, not sent */
	assert_int_equal(f->sendable[0], late);
	assert_int_equal(f->sendable[1], dup);
	assert_int_equal(done_row(f, early)->seq, 10);
	assert_int_equal(done_row(f, bad)->status, OUTBOX_REJECTED);
	/* The new answer reaches the row that took the old one. */
	f->n_told = 0;
	finish(f, late, OUTBOX_ACCEPTED, 21, false);
	assert_int_equal(f->n_told, 2);
	assert_int_equal(done_row(f, same)->seq, 21);
	/* Nothing past the last seq: nothing again. */
	finish(f, dup, OUTBOX_ACCEPTED, 22, false);
	assert_int_equal(outbox_resend_after(f->ob, 22, &n), OUTBOX_OK);
	assert_int_equal(n, 0);
	assert_int_equal(outbox_resend_after(f->ob, UINT64_MAX, &n), OUTBOX_OK);
	assert_int_equal(n, 0);
}

/* A whole envelope refused (revoked, not allowed) says nothing of the content: send it again next
 * time. */
static void
test_refused_is_sent_again(void **state)
{
	struct fixture *f = *state;
	int64_t a, again;
	assert_int_equal(add(f, "a", 0, "x", true, &a, NULL), OUTBOX_OK);
	finish(f, a, OUTBOX_REJECTED, 0, true);
	assert_int_equal(add(f, "a", 0, "x", true, &again, NULL), OUTBOX_OK);
	assert_int_equal(to_send(f), 1);
	assert_int_equal(f->sendable[0], again);
}

static void
test_second_process_is_refused(void **state)
{
	struct fixture *f = *state;
	char err[512] = "";
	struct outbox *other = outbox_open(f->path, 100, err, sizeof err);
	assert_null(other);
	assert_non_null(strstr(err, "in use"));
}

static void
test_not_an_outbox(void **state)
{
	struct fixture *f = *state;
	char path[160], err[512] = "";
	snprintf(path, sizeof path, "%s/text", f->dir);
	FILE *t = fopen(path, "w");
	assert_non_null(t);
	fputs("this is not a database, just some text that is long enough\n", t);
	fclose(t);
	assert_null(outbox_open(path, 100, err, sizeof err));
	assert_true(err[0] != '\0');
	unlink(path);
}

/* Adds a measure update of id with status and outcome in its own transaction. */
static int64_t
add_measure(struct fixture *f, const char *measure_id, Est__V1__MeasureStatus status,
            const char *outcome, int64_t record)
{
	Est__V1__Measure m;
	char mid[16], text[64];
	est__v1__measure__init(&m);
	snprintf(mid, sizeof mid, "%s", measure_id);
	snprintf(text, sizeof text, "%s", outcome);
	m.measure_id = mid;
	m.status = status;
	m.outcome = text;
	int64_t id = 0;
	assert_int_equal(outbox_begin(f->ob), OUTBOX_OK);
	assert_int_equal(outbox_add_measure(f->ob, "in.jsonl", record, &m, &id), OUTBOX_OK);
	assert_int_equal(outbox_commit(f->ob), OUTBOX_OK);
	return id;
}

static void
test_measure_updates_are_sent_every_time(void **state)
{
	struct fixture *f = *state;
	int64_t r, m1, m2;
	assert_int_equal(add(f, "a", 0, "x", true, &r, NULL), OUTBOX_OK);
	m1 = add_measure(f, "m3", EST__V1__MEASURE_STATUS__MEASURE_STATUS_DONE, "Klart", 2);
	/* The same update again is no shortcut to the first one's outcome: the hub judges it. */
	m2 = add_measure(f, "m3", EST__V1__MEASURE_STATUS__MEASURE_STATUS_DONE, "Klart", 3);
	assert_int_equal(outbox_pending(f->ob), 3);
	assert_int_equal(to_send(f), 3);
	assert_int_equal(f->sendable[1], m1);
	assert_int_equal(f->sendable[2], m2);
	assert_int_equal(f->sendable_kind[0], OUTBOX_KIND_REPORT);
	assert_int_equal(f->sendable_kind[1], OUTBOX_KIND_MEASURE);
	assert_int_equal(f->sendable_kind[2], OUTBOX_KIND_MEASURE);
	f->n_told = 0;
	finish(f, m1, OUTBOX_ACCEPTED, 41, false);
	assert_int_equal(f->n_told, 1); /* only the row answered, not its twin */
	finish(f, m2, OUTBOX_DUPLICATE, 41, false);
	const struct outbox_row *row = done_row(f, m2);
	assert_false(row->has_revision);
	assert_int_equal(row->status, OUTBOX_DUPLICATE);
	assert_int_equal(row->seq, 41);
	/* A report of the same id as a measure is its own thing. */
	int64_t again;
	assert_int_equal(add(f, "m3", 0, "x", true, &again, NULL), OUTBOX_OK);
	assert_int_equal(to_send(f), 2);
}

/* The schema est-adapter 1 wrote, frozen here: the migration must read exactly this. */
static const char v1_schema[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE record (id INTEGER PRIMARY KEY, file TEXT NOT NULL, record INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('report', 'same', 'skipped', 'invalid')),"
    " source_id TEXT, revision INTEGER, payload BLOB, digest BLOB,"
    " same_as INTEGER REFERENCES record(id), state INTEGER NOT NULL CHECK (state IN (0, 1)),"
    " status TEXT CHECK (status IN ('accepted', 'duplicate', 'rejected', 'skipped')),"
    " seq INTEGER, error TEXT, refused INTEGER NOT NULL DEFAULT 0, queued_at INTEGER NOT NULL,"
    " done_at INTEGER);"
    "CREATE INDEX record_pending ON record(state, id);"
    "CREATE INDEX record_source ON record(source_id, revision) WHERE kind = 'report';"
    "CREATE INDEX record_same_as ON record(same_as) WHERE same_as IS NOT NULL;"
    "INSERT INTO meta VALUES ('runs', 4);"
    "PRAGMA user_version = %d;";

/* Writes an outbox of schema version `version` at path with one pending and one done report. */
static void
write_old_outbox(const char *path, int version)
{
	Est__V1__Report r;
	est__v1__report__init(&r);
	uint8_t buf[128];
	char sql[2048];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	r.source_id = (char *)"old-1";
	r.category = EST__V1__CATEGORY__CATEGORY_VANDALISM;
	r.observed_at = 1794854400;
	size_t len = est__v1__report__pack(&r, buf);
	snprintf(sql, sizeof sql, v1_schema, version);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db,
	                       "INSERT INTO record (file, record, kind, source_id,"
	                       " revision, payload, state, queued_at)"
	                       " VALUES ('old.jsonl', 1, 'report', 'old-1', 0, ?1, 0, 1)",
	                       -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_bind_blob(st, 1, buf, (int)len, SQLITE_STATIC), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(
	    sqlite3_exec(db,
	                 "INSERT INTO record (file, record, kind, source_id, state,"
	                 " status, error, queued_at, done_at) VALUES ('old.jsonl', 2,"
	                 " 'invalid', NULL, 1, 'rejected', 'category: required', 1, 1)",
	                 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
}

/* Removes a database file of a test with its WAL companions. */
static void
unlink_db(const char *path)
{
	char p[200];
	const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
		unlink(p);
	}
}

static int64_t
user_version(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
test_version_1_is_migrated(void **state)
{
	struct fixture *f = *state;
	char path[160], err[512] = "";
	outbox_destroy(&f->ob);
	snprintf(path, sizeof path, "%s/v1", f->dir);
	write_old_outbox(path, 1);
	f->ob = outbox_open(path, 100, err, sizeof err);
	assert_non_null(f->ob);
	/* Nothing lost: the pending report is still to send, the done row still says why. */
	assert_int_equal(outbox_pending(f->ob), 1);
	assert_int_equal(outbox_run(f->ob), 5);
	assert_int_equal(to_send(f), 1);
	assert_int_equal(f->sendable_kind[0], OUTBOX_KIND_REPORT);
	assert_string_equal(done_row(f, 2)->error, "category: required");
	/* The revision rules still know the old rows (the index was made again). */
	int64_t id;
	uint32_t rev;
	assert_int_equal(add(f, "old-1", 0, "", false, &id, &rev), OUTBOX_OK);
	assert_int_equal(rev, 1);
	add_measure(f, "m1", EST__V1__MEASURE_STATUS__MEASURE_STATUS_DONE, "", 3);
	assert_int_equal(to_send(f), 3);
	outbox_destroy(&f->ob);
	assert_int_equal(user_version(path), 2);
	f->ob = outbox_open(path, 100, err, sizeof err);
	assert_non_null(f->ob);
	assert_int_equal(outbox_pending(f->ob), 3);
	outbox_destroy(&f->ob);
	unlink_db(path);
	f->ob = outbox_open(f->path, 100, err, sizeof err); /* for the teardown */
	assert_non_null(f->ob);
}

static void
test_newer_version_is_refused(void **state)
{
	struct fixture *f = *state;
	char path[160], err[512] = "";
	snprintf(path, sizeof path, "%s/v9", f->dir);
	write_old_outbox(path, 9);
	assert_null(outbox_open(path, 100, err, sizeof err));
	assert_non_null(
	    strstr(err, "has schema version 9; this est-adapter knows versions 1 to 2"));
	assert_non_null(strstr(err, "another --outbox"));
	assert_int_equal(user_version(path), 9); /* left as it was */
	unlink_db(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_insert_is_pending_and_sendable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resend_after_a_restore, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_content_takes_pending_outcome, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_same_content_takes_done_outcome, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changed_content_is_next_revision, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_own_revision_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pending_survives_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cap_refuses_whole_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_finish_marks_done_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_is_sent_again, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_process_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_an_outbox, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_measure_updates_are_sent_every_time, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_version_1_is_migrated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_version_is_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
