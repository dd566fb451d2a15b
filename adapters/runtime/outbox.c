/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox: the adapter's durable queue in SQLite, and the revision rules of
 * partner-formats.md. The only module of the adapter that speaks SQL.
 * intake.c adds rows, sender.c takes pending ones and marks them done.
 * See outbox.h.
 */
#include "runtime/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "wire/crypto.h"
#include "wire/timefmt.h"

/*
 * Version 2 added measure updates (kind 'measure'); version 1 files are
 * migrated when opened (open_migrate_1).
 */
#define OUTBOX_SCHEMA_VERSION 2
#define OUTBOX_BUSY_MS        1000

/*
 * kind: report (goes to the hub), measure (a measure update, goes to the
 * hub in an envelope of its own), same (takes the outcome of the row
 * same_as), skipped (an older revision or a mapping rule), invalid (could
 * not be translated). state: 0 pending, 1 done. The table's form is a macro
 * so that the migration builds the same table under another name.
 */
#define RECORD_TABLE(name)                                                                         \
	"CREATE TABLE " name " ("                                                                  \
	" id INTEGER PRIMARY KEY,"                                                                 \
	" file TEXT NOT NULL,"                                                                     \
	" record INTEGER NOT NULL,"                                                                \
	" kind TEXT NOT NULL CHECK (kind IN ('report', 'measure', 'same', 'skipped', 'invalid'))," \
	" source_id TEXT,"                                                                         \
	" revision INTEGER,"                                                                       \
	" payload BLOB,"                                                                           \
	" digest BLOB,"                                                                            \
	" same_as INTEGER REFERENCES record(id),"                                                  \
	" state INTEGER NOT NULL CHECK (state IN (0, 1)),"                                         \
	" status TEXT CHECK (status IN ('accepted', 'duplicate', 'rejected', 'skipped')),"         \
	" seq INTEGER,"                                                                            \
	" error TEXT,"                                                                             \
	" refused INTEGER NOT NULL DEFAULT 0,"                                                     \
	" queued_at INTEGER NOT NULL,"                                                             \
	" done_at INTEGER);"

#define RECORD_INDEXES                                                                             \
	"CREATE INDEX record_pending ON record(state, id);"                                        \
	"CREATE INDEX record_source ON record(source_id, revision) WHERE kind = 'report';"         \
	"CREATE INDEX record_same_as ON record(same_as) WHERE same_as IS NOT NULL;"

static const char schema_sql[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);" RECORD_TABLE("record")
        RECORD_INDEXES;

/*
 * Version 1 to 2: only the CHECK on kind changed, and SQLite cannot change a
 * CHECK in place, so the rows are copied into a table of the new form that
 * then takes the old one's name. It runs inside the opening transaction:
 * an outbox holds records not yet delivered, so it is migrated whole or
 * not at all. (The indexes go with the dropped table and are made again.)
 */
static const char migrate_1_sql[] =
    RECORD_TABLE("record_v2") "INSERT INTO record_v2 (id, file, record, kind, source_id,"
                              " revision, payload, digest, same_as, state, status, seq, error,"
                              " refused, queued_at, done_at)"
                              " SELECT id, file, record, kind, source_id, revision, payload,"
                              " digest, same_as, state, status, seq, error, refused, queued_at,"
                              " done_at FROM record;"
                              "DROP TABLE record;"
                              "ALTER TABLE record_v2 RENAME TO record;" RECORD_INDEXES;

/*
 * The unary + in "+state" keeps the planner off record_pending where one row
 * and its same-content followers are wanted: scanning every pending row per
 * answer would make a large file quadratic.
 */
enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INSERT,
	ST_INSERT_SAME,
	ST_LAST,
	ST_EXACT,
	ST_DONE_RANGE,
	ST_TO_SEND,
	ST_NOTIFY,
	ST_FINISH,
	ST_COUNT_PENDING,
	ST_N
};

static const char *const stmt_sql[ST_N] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_INSERT] = "INSERT INTO record (file, record, kind, source_id, revision, payload, digest,"
                  " state, status, error, queued_at, done_at)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    /* A record with the same content takes over the earlier one's outcome, if it has one. */
    [ST_INSERT_SAME] = "INSERT INTO record (file, record, kind, source_id, revision, digest,"
                       " same_as, state, status, seq, error, queued_at, done_at)"
                       " SELECT ?1, ?2, 'same', source_id, revision, digest, id, state, status,"
                       " seq, error, ?3, CASE WHEN state = 1 THEN ?3 END FROM record WHERE id = ?4",
    [ST_LAST] = "SELECT id, revision, digest, state FROM record"
                " WHERE kind = 'report' AND source_id = ?1 AND refused = 0"
                " ORDER BY revision DESC, id DESC LIMIT 1",
    [ST_EXACT] = "SELECT id, revision, digest, state FROM record"
                 " WHERE kind = 'report' AND source_id = ?1 AND revision = ?2 AND digest = ?3"
                 " AND refused = 0 ORDER BY id DESC LIMIT 1",
    [ST_DONE_RANGE] = "SELECT id, file, record, source_id, revision, status, seq, error"
                      " FROM record WHERE id BETWEEN ?1 AND ?2 AND state = 1 ORDER BY id",
    [ST_TO_SEND] = "SELECT id, kind, payload FROM record"
                   " WHERE state = 0 AND id > ?1 AND kind IN ('report', 'measure')"
                   " ORDER BY id LIMIT ?2",
    [ST_NOTIFY] = "SELECT id, file, record, source_id, revision FROM record"
                  " WHERE (id = ?1 OR same_as = ?1) AND +state = 0 ORDER BY id",
    [ST_FINISH] = "UPDATE record SET state = 1, status = ?2, seq = ?3, error = ?4, refused = ?5,"
                  " done_at = ?6 WHERE (id = ?1 OR same_as = ?1) AND +state = 0",
    [ST_COUNT_PENDING] = "SELECT count(*) FROM record WHERE state = 0",
};

struct outbox {
	sqlite3 *db;
	sqlite3_stmt *st[ST_N];
	char *path;
	size_t max_pending;
	size_t pending;
	uint32_t run;
	char err[512];
};

/* What the outbox knows of an earlier row of a source id. */
struct prior {
	bool found;
	int64_t id;
	uint32_t revision;
	uint8_t digest[CRYPTO_HASH_BYTES];
	bool pending;
};

static int
ob_fail(struct outbox *ob, const char *what)
{
	snprintf(ob->err, sizeof ob->err, "outbox %s: %s: %s", ob->path, what,
	         sqlite3_errmsg(ob->db));
	return OUTBOX_ERROR;
}

/*
 * Steps a statement that returns no rows and resets it. bound is what its
 * sqlite3_bind calls returned, or-ed together: a failed bind is not stepped.
 */
static int
ob_run(struct outbox *ob, enum stmt s, int bound, const char *what)
{
	sqlite3_stmt *st = ob->st[s];
	int rc = bound == SQLITE_OK ? sqlite3_step(st) : bound;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? OUTBOX_OK : ob_fail(ob, what);
}

const char *
outbox_status_name(enum outbox_status s)
{
	switch (s) {
	case OUTBOX_ACCEPTED:
		return "accepted";
	case OUTBOX_DUPLICATE:
		return "duplicate";
	case OUTBOX_REJECTED:
		return "rejected";
	case OUTBOX_SKIPPED:
		return "skipped";
	case OUTBOX_PENDING:
		break;
	}
	return "pending";
}

static enum outbox_status
status_parse(const unsigned char *s)
{
	static const enum outbox_status all[] = {OUTBOX_ACCEPTED, OUTBOX_DUPLICATE, OUTBOX_REJECTED,
	                                         OUTBOX_SKIPPED};
	for (size_t i = 0; s != NULL && i < sizeof all / sizeof all[0]; i++)
		if (strcmp((const char *)s, outbox_status_name(all[i])) == 0)
			return all[i];
	return OUTBOX_PENDING;
}

/* Binds a status as its name, NULL for pending. */
static int
bind_status(sqlite3_stmt *st, int i, enum outbox_status s)
{
	if (s == OUTBOX_PENDING)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, outbox_status_name(s), -1, SQLITE_STATIC);
}

/* Binds text, or NULL when s is NULL. */
static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* ---- opening ---- */

/* Sets a pragma and, when want is not NULL, checks the value it reports. */
static int
open_pragma(struct outbox *ob, const char *sql, const char *want)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(ob->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
		snprintf(ob->err, sizeof ob->err,
		         "outbox %s is in use by another process (another est-adapter?)", ob->path);
		sqlite3_finalize(st);
		return OUTBOX_ERROR;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ob_fail(ob, sql);
		sqlite3_finalize(st);
		return OUTBOX_ERROR;
	}
	if (want && (rc != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL ||
	             strcmp((const char *)sqlite3_column_text(st, 0), want) != 0)) {
		snprintf(ob->err, sizeof ob->err, "outbox %s: %s did not take effect", ob->path,
		         sql);
		sqlite3_finalize(st);
		return OUTBOX_ERROR;
	}
	sqlite3_finalize(st);
	return OUTBOX_OK;
}

/* Reads one integer from sql (a pragma or a count). */
static int
open_integer(struct outbox *ob, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(ob->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		ob_fail(ob, sql);
		sqlite3_finalize(st);
		return OUTBOX_ERROR;
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return OUTBOX_OK;
}

static int
open_exec(struct outbox *ob, const char *sql)
{
	if (sqlite3_exec(ob->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ob_fail(ob, "cannot set up the database");
	return OUTBOX_OK;
}

/* Moves a version 1 outbox to the current form, keeping every row. */
static int
open_migrate_1(struct outbox *ob)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", OUTBOX_SCHEMA_VERSION);
	if (sqlite3_exec(ob->db, migrate_1_sql, NULL, NULL, NULL) != SQLITE_OK)
		return ob_fail(ob,
		               "cannot migrate the outbox from schema version 1 (the file is "
		               "left as it was; an est-adapter of version 1 can still deliver it)");
	return open_exec(ob, sql);
}

/* Creates the schema of a new outbox, migrates an old one, or refuses one it does not know. */
static int
open_schema(struct outbox *ob)
{
	int64_t version = 0;
	if (open_integer(ob, "PRAGMA user_version", &version))
		return OUTBOX_ERROR;
	if (version == 0) {
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", OUTBOX_SCHEMA_VERSION);
		if (open_exec(ob, schema_sql) || open_exec(ob, sql))
			return OUTBOX_ERROR;
	} else if (version == 1) {
		return open_migrate_1(ob);
	} else if (version != OUTBOX_SCHEMA_VERSION) {
		snprintf(
		    ob->err, sizeof ob->err,
		    "outbox %s has schema version %lld; this est-adapter knows versions 1 to %d. "
		    "Run the newer est-adapter that made it until its records are delivered, "
		    "or give this one another --outbox",
		    ob->path, (long long)version, OUTBOX_SCHEMA_VERSION);
		return OUTBOX_ERROR;
	}
	return OUTBOX_OK;
}

/* Counts this run in the file: request ids stay unique over runs. */
static int
open_count_run(struct outbox *ob)
{
	int64_t run = 0;
	if (open_exec(ob, "INSERT INTO meta (key, value) VALUES ('runs', 1)"
	                  " ON CONFLICT (key) DO UPDATE SET value = value + 1") ||
	    open_integer(ob, "SELECT value FROM meta WHERE key = 'runs'", &run))
		return OUTBOX_ERROR;
	ob->run = (uint32_t)run;
	return OUTBOX_OK;
}

static int
open_database(struct outbox *ob)
{
	int64_t pending = 0;
	if (sqlite3_open_v2(ob->path, &ob->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		return ob_fail(ob, "cannot open");
	sqlite3_busy_timeout(ob->db, OUTBOX_BUSY_MS);
	/* Exclusive first: two adapters on one outbox would send its rows twice. */
	if (open_pragma(ob, "PRAGMA locking_mode = EXCLUSIVE", "exclusive") ||
	    open_pragma(ob, "PRAGMA journal_mode = WAL", "wal") ||
	    open_pragma(ob, "PRAGMA synchronous = FULL", NULL) ||
	    open_pragma(ob, "BEGIN IMMEDIATE", NULL))
		return OUTBOX_ERROR;
	if (open_schema(ob) || open_count_run(ob) ||
	    open_integer(ob, "SELECT count(*) FROM record WHERE state = 0", &pending) ||
	    open_exec(ob, "COMMIT"))
		return OUTBOX_ERROR;
	ob->pending = (size_t)pending;
	for (int i = 0; i < ST_N; i++)
		if (sqlite3_prepare_v3(ob->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                       &ob->st[i], NULL) != SQLITE_OK)
			return ob_fail(ob, "cannot prepare a statement");
	return OUTBOX_OK;
}

struct outbox *
outbox_open(const char *path, size_t max_pending, char *err, size_t errlen)
{
	struct outbox *ob = calloc(1, sizeof *ob);
	if (ob == NULL || (ob->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(ob);
		return NULL;
	}
	ob->max_pending = max_pending;
	if (open_database(ob) != OUTBOX_OK) {
		snprintf(err, errlen, "%s", ob->err);
		outbox_destroy(&ob);
	}
	return ob;
}

void
outbox_destroy(struct outbox **obp)
{
	if (obp == NULL || *obp == NULL)
		return;
	struct outbox *ob = *obp;
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(ob->st[i]);
	if (ob->db)
		sqlite3_close(ob->db);
	free(ob->path);
	free(ob);
	*obp = NULL;
}

const char *
outbox_error(const struct outbox *ob)
{
	return ob->err;
}

const char *
outbox_path(const struct outbox *ob)
{
	return ob->path;
}

uint32_t
outbox_run(const struct outbox *ob)
{
	return ob->run;
}

size_t
outbox_pending(const struct outbox *ob)
{
	return ob->pending;
}

static void ob_recount(struct outbox *ob);

int
outbox_resend_after(struct outbox *ob, uint64_t head, size_t *n)
{
	*n = 0;
	if (head > INT64_MAX)
		return OUTBOX_OK; /* no seq lies past it */
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(ob->db,
	                            "UPDATE record SET state = 0, status = NULL, seq = NULL,"
	                            " error = NULL, done_at = NULL"
	                            " WHERE state = 1 AND kind IN ('report', 'measure', 'same')"
	                            " AND status IN ('accepted', 'duplicate') AND seq > ?1",
	                            -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, (int64_t)head);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ob_fail(ob, "cannot queue the records again");
	*n = (size_t)sqlite3_changes(ob->db);
	ob_recount(ob);
	return OUTBOX_OK;
}

/* ---- transactions ---- */

int
outbox_begin(struct outbox *ob)
{
	return ob_run(ob, ST_BEGIN, SQLITE_OK, "cannot begin a transaction");
}

int
outbox_commit(struct outbox *ob)
{
	return ob_run(ob, ST_COMMIT, SQLITE_OK, "cannot commit");
}

/* Recounts the pending rows: after a rollback the count kept in memory is wrong. */
static void
ob_recount(struct outbox *ob)
{
	sqlite3_stmt *st = ob->st[ST_COUNT_PENDING];
	if (sqlite3_step(st) == SQLITE_ROW)
		ob->pending = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
}

void
outbox_rollback(struct outbox *ob)
{
	/* Fails only when no transaction is open, which leaves nothing to undo. */
	(void)ob_run(ob, ST_ROLLBACK, SQLITE_OK, "cannot roll back");
	ob_recount(ob);
}

/* ---- adding ---- */

/* Packs r into a new buffer (caller frees it). */
static uint8_t *
report_pack(const Est__V1__Report *r, size_t *len)
{
	*len = est__v1__report__get_packed_size(r);
	uint8_t *buf = malloc(*len ? *len : 1);
	if (buf)
		est__v1__report__pack(r, buf);
	return buf;
}

/* The digest of r's content: SHA-256 of r packed with revision 0. */
static int
report_digest(Est__V1__Report *r, uint8_t digest[CRYPTO_HASH_BYTES])
{
	uint32_t revision = r->revision;
	size_t len;
	r->revision = 0;
	uint8_t *buf = report_pack(r, &len);
	r->revision = revision;
	if (buf == NULL)
		return -1;
	crypto_sha256(buf, len, digest);
	free(buf);
	return 0;
}

/* Reads ST_LAST or ST_EXACT (bound by the caller, see ob_run) into p. */
static int
prior_read(struct outbox *ob, enum stmt s, int bound, struct prior *p)
{
	sqlite3_stmt *st = ob->st[s];
	int rc = bound == SQLITE_OK ? sqlite3_step(st) : bound;
	memset(p, 0, sizeof *p);
	if (rc == SQLITE_ROW) {
		p->found = true;
		p->id = sqlite3_column_int64(st, 0);
		p->revision = (uint32_t)sqlite3_column_int64(st, 1);
		if (sqlite3_column_bytes(st, 2) == CRYPTO_HASH_BYTES)
			memcpy(p->digest, sqlite3_column_blob(st, 2), CRYPTO_HASH_BYTES);
		p->pending = sqlite3_column_int(st, 3) == 0;
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? OUTBOX_OK : ob_fail(ob, "cannot look up a source id");
}

/* The last revision queued for source_id, whatever its content. */
static int
prior_last(struct outbox *ob, const char *source_id, struct prior *p)
{
	int bound = SQLITE_OK;
	bound |= sqlite3_bind_text(ob->st[ST_LAST], 1, source_id, -1, SQLITE_TRANSIENT);
	return prior_read(ob, ST_LAST, bound, p);
}

/* The row queued for source_id at revision with this very content. */
static int
prior_exact(struct outbox *ob, const char *source_id, uint32_t revision,
            const uint8_t digest[CRYPTO_HASH_BYTES], struct prior *p)
{
	sqlite3_stmt *st = ob->st[ST_EXACT];
	int bound = SQLITE_OK;
	bound |= sqlite3_bind_text(st, 1, source_id, -1, SQLITE_TRANSIENT);
	bound |= sqlite3_bind_int64(st, 2, revision);
	bound |= sqlite3_bind_blob(st, 3, digest, CRYPTO_HASH_BYTES, SQLITE_TRANSIENT);
	return prior_read(ob, ST_EXACT, bound, p);
}

static int
ob_full(struct outbox *ob)
{
	snprintf(ob->err, sizeof ob->err,
	         "it would take the outbox %s past its cap of %zu pending records (--max-pending)",
	         ob->path, ob->max_pending);
	return OUTBOX_FULL;
}

/* Adds a row that takes the outcome of the earlier row p. */
static int
add_same(struct outbox *ob, const char *file, int64_t record, const struct prior *p, int64_t *id)
{
	if (p->pending && ob->pending >= ob->max_pending)
		return ob_full(ob);
	sqlite3_stmt *st = ob->st[ST_INSERT_SAME];
	int bound = SQLITE_OK;
	bound |= sqlite3_bind_text(st, 1, file, -1, SQLITE_TRANSIENT);
	bound |= sqlite3_bind_int64(st, 2, record);
	bound |= sqlite3_bind_int64(st, 3, timefmt_now());
	bound |= sqlite3_bind_int64(st, 4, p->id);
	if (ob_run(ob, ST_INSERT_SAME, bound, "cannot add a record"))
		return OUTBOX_ERROR;
	*id = sqlite3_last_insert_rowid(ob->db);
	if (p->pending)
		ob->pending++;
	return OUTBOX_OK;
}

/* One new row, as ST_INSERT takes it. */
struct row_in {
	const char *file;
	int64_t record;
	const char *kind;
	const char *source_id;
	bool has_revision;
	uint32_t revision;
	const uint8_t *payload;
	size_t payload_len;
	const uint8_t *digest;
	enum outbox_status status; /* pending: state 0 */
	const char *error;
};

static int
add_row(struct outbox *ob, const struct row_in *in, int64_t *id)
{
	sqlite3_stmt *st = ob->st[ST_INSERT];
	int bound = SQLITE_OK;
	int64_t now = timefmt_now();
	bool pending = in->status == OUTBOX_PENDING;
	if (pending && ob->pending >= ob->max_pending)
		return ob_full(ob);
	bound |= sqlite3_bind_text(st, 1, in->file, -1, SQLITE_TRANSIENT);
	bound |= sqlite3_bind_int64(st, 2, in->record);
	bound |= sqlite3_bind_text(st, 3, in->kind, -1, SQLITE_STATIC);
	bound |= bind_text(st, 4, in->source_id);
	if (in->has_revision)
		bound |= sqlite3_bind_int64(st, 5, in->revision);
	if (in->payload)
		bound |=
		    sqlite3_bind_blob(st, 6, in->payload, (int)in->payload_len, SQLITE_TRANSIENT);
	if (in->digest)
		bound |= sqlite3_bind_blob(st, 7, in->digest, CRYPTO_HASH_BYTES, SQLITE_TRANSIENT);
	bound |= sqlite3_bind_int(st, 8, pending ? 0 : 1);
	bound |= bind_status(st, 9, in->status);
	bound |= bind_text(st, 10, in->error);
	bound |= sqlite3_bind_int64(st, 11, now);
	if (!pending)
		bound |= sqlite3_bind_int64(st, 12, now);
	if (ob_run(ob, ST_INSERT, bound, "cannot add a record"))
		return OUTBOX_ERROR;
	*id = sqlite3_last_insert_rowid(ob->db);
	if (pending)
		ob->pending++;
	return OUTBOX_OK;
}

/* Adds r to be sent at its (assigned) revision. */
static int
add_pending(struct outbox *ob, const char *file, int64_t record, const Est__V1__Report *r,
            const uint8_t digest[CRYPTO_HASH_BYTES], int64_t *id)
{
	size_t len;
	uint8_t *payload = report_pack(r, &len);
	if (payload == NULL) {
		snprintf(ob->err, sizeof ob->err, "out of memory");
		return OUTBOX_ERROR;
	}
	struct row_in in = {.file = file,
	                    .record = record,
	                    .kind = "report",
	                    .source_id = r->source_id,
	                    .has_revision = true,
	                    .revision = r->revision,
	                    .payload = payload,
	                    .payload_len = len,
	                    .digest = digest,
	                    .status = OUTBOX_PENDING};
	int rc = add_row(ob, &in, id);
	free(payload);
	return rc;
}

/* A format with its own revisions: same content is the earlier outcome, older is skipped. */
static int
add_own_revision(struct outbox *ob, const char *file, int64_t record, const Est__V1__Report *r,
                 const uint8_t digest[CRYPTO_HASH_BYTES], int64_t *id)
{
	struct prior p;
	if (prior_exact(ob, r->source_id, r->revision, digest, &p))
		return OUTBOX_ERROR;
	if (p.found)
		return add_same(ob, file, record, &p, id);
	if (prior_last(ob, r->source_id, &p))
		return OUTBOX_ERROR;
	if (p.found && r->revision < p.revision) {
		char why[128];
		snprintf(why, sizeof why, "revision %u is older than revision %u already sent",
		         (unsigned)r->revision, (unsigned)p.revision);
		struct row_in in = {.file = file,
		                    .record = record,
		                    .kind = "skipped",
		                    .source_id = r->source_id,
		                    .has_revision = true,
		                    .revision = r->revision,
		                    .digest = digest,
		                    .status = OUTBOX_SKIPPED,
		                    .error = why};
		return add_row(ob, &in, id);
	}
	return add_pending(ob, file, record, r, digest, id);
}

/* A format without revisions: same content as the last is its outcome, other content the next
 * revision. */
static int
add_numbered(struct outbox *ob, const char *file, int64_t record, Est__V1__Report *r,
             const uint8_t digest[CRYPTO_HASH_BYTES], int64_t *id)
{
	struct prior p;
	if (prior_last(ob, r->source_id, &p))
		return OUTBOX_ERROR;
	if (p.found && memcmp(p.digest, digest, CRYPTO_HASH_BYTES) == 0)
		return add_same(ob, file, record, &p, id);
	if (p.found && p.revision == UINT32_MAX) {
		struct row_in in = {.file = file,
		                    .record = record,
		                    .kind = "invalid",
		                    .source_id = r->source_id,
		                    .digest = digest,
		                    .status = OUTBOX_REJECTED,
		                    .error = "revision: no revision left after 4294967295"};
		return add_row(ob, &in, id);
	}
	r->revision = p.found ? p.revision + 1 : 0;
	return add_pending(ob, file, record, r, digest, id);
}

int
outbox_add_report(struct outbox *ob, const char *file, int64_t record, Est__V1__Report *r,
                  bool own_revision, int64_t *id)
{
	uint8_t digest[CRYPTO_HASH_BYTES];
	if (report_digest(r, digest)) {
		snprintf(ob->err, sizeof ob->err, "out of memory");
		return OUTBOX_ERROR;
	}
	if (own_revision)
		return add_own_revision(ob, file, record, r, digest, id);
	return add_numbered(ob, file, record, r, digest, id);
}

int
outbox_add_done(struct outbox *ob, const char *file, int64_t record, const char *source_id,
                enum outbox_status status, const char *reason, int64_t *id)
{
	struct row_in in = {.file = file,
	                    .record = record,
	                    .kind = status == OUTBOX_SKIPPED ? "skipped" : "invalid",
	                    .source_id = source_id,
	                    .status = status == OUTBOX_SKIPPED ? OUTBOX_SKIPPED : OUTBOX_REJECTED,
	                    .error = reason ? reason : ""};
	return add_row(ob, &in, id);
}

int
outbox_add_measure(struct outbox *ob, const char *file, int64_t record, const Est__V1__Measure *m,
                   int64_t *id)
{
	size_t len = est__v1__measure__get_packed_size(m);
	uint8_t *payload = malloc(len ? len : 1);
	if (payload == NULL) {
		snprintf(ob->err, sizeof ob->err, "out of memory");
		return OUTBOX_ERROR;
	}
	est__v1__measure__pack(m, payload);
	struct row_in in = {.file = file,
	                    .record = record,
	                    .kind = "measure",
	                    .source_id = m->measure_id,
	                    .payload = payload,
	                    .payload_len = len,
	                    .status = OUTBOX_PENDING};
	int rc = add_row(ob, &in, id);
	free(payload);
	return rc;
}

/* ---- reading ---- */

/* Reads the columns id, file, record, source_id, revision[, status, seq, error] of st. */
static void
row_read(sqlite3_stmt *st, struct outbox_row *row, bool with_outcome)
{
	memset(row, 0, sizeof *row);
	row->id = sqlite3_column_int64(st, 0);
	row->file = (const char *)sqlite3_column_text(st, 1);
	row->record = sqlite3_column_int64(st, 2);
	row->source_id = (const char *)sqlite3_column_text(st, 3);
	row->has_revision = sqlite3_column_type(st, 4) != SQLITE_NULL;
	row->revision = (uint32_t)sqlite3_column_int64(st, 4);
	row->error = "";
	if (!with_outcome)
		return;
	row->status = status_parse(sqlite3_column_text(st, 5));
	row->seq = (uint64_t)sqlite3_column_int64(st, 6);
	if (sqlite3_column_text(st, 7))
		row->error = (const char *)sqlite3_column_text(st, 7);
}

int
outbox_each_done(struct outbox *ob, int64_t first, int64_t last, outbox_row_fn fn, void *arg)
{
	sqlite3_stmt *st = ob->st[ST_DONE_RANGE];
	int bound = SQLITE_OK, rc;
	bound |= sqlite3_bind_int64(st, 1, first);
	bound |= sqlite3_bind_int64(st, 2, last);
	while ((rc = bound == SQLITE_OK ? sqlite3_step(st) : bound) == SQLITE_ROW) {
		struct outbox_row row;
		row_read(st, &row, true);
		if (row.file == NULL)
			row.file = "";
		fn(arg, &row);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? OUTBOX_OK : ob_fail(ob, "cannot read records");
}

int
outbox_each_to_send(struct outbox *ob, int64_t after_id, size_t limit, outbox_payload_fn fn,
                    void *arg)
{
	sqlite3_stmt *st = ob->st[ST_TO_SEND];
	int bound = SQLITE_OK, rc;
	bound |= sqlite3_bind_int64(st, 1, after_id);
	bound |= sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	while ((rc = bound == SQLITE_OK ? sqlite3_step(st) : bound) == SQLITE_ROW) {
		const unsigned char *kind = sqlite3_column_text(st, 1);
		enum outbox_kind k = kind && strcmp((const char *)kind, "measure") == 0
		                         ? OUTBOX_KIND_MEASURE
		                         : OUTBOX_KIND_REPORT;
		const uint8_t *payload = sqlite3_column_blob(st, 2);
		size_t len = (size_t)sqlite3_column_bytes(st, 2);
		if (fn(arg, sqlite3_column_int64(st, 0), k, payload ? payload : (const uint8_t *)"",
		       len) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? OUTBOX_OK : ob_fail(ob, "cannot read pending records");
}

/* ---- finishing ---- */

/* A row that became done, copied out of SQLite to be told after the commit. */
struct told {
	int64_t id;
	char *file;
	int64_t record;
	char *source_id;
	bool has_revision;
	uint32_t revision;
	size_t result; /* index into the results */
};

struct told_list {
	struct told *v;
	size_t n, cap;
};

static void
told_free(struct told_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].file);
		free(l->v[i].source_id);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int
told_add(struct told_list *l, const struct outbox_row *row, size_t result)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct told *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	struct told *t = &l->v[l->n];
	*t = (struct told){.id = row->id,
	                   .record = row->record,
	                   .has_revision = row->has_revision,
	                   .revision = row->revision,
	                   .result = result};
	t->file = strdup(row->file ? row->file : "");
	t->source_id = dup_or_null(row->source_id);
	if (t->file == NULL || (row->source_id && t->source_id == NULL)) {
		free(t->file);
		free(t->source_id);
		return -1;
	}
	l->n++;
	return 0;
}

/* Collects the still pending rows that take the outcome of result i. */
static int
finish_collect(struct outbox *ob, const struct outbox_result *res, size_t i, struct told_list *l)
{
	sqlite3_stmt *st = ob->st[ST_NOTIFY];
	int bound = SQLITE_OK, rc;
	bound |= sqlite3_bind_int64(st, 1, res->id);
	while ((rc = bound == SQLITE_OK ? sqlite3_step(st) : bound) == SQLITE_ROW) {
		struct outbox_row row;
		row_read(st, &row, false);
		if (told_add(l, &row, i)) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? OUTBOX_OK : ob_fail(ob, "cannot read finished records");
}

static int
finish_one(struct outbox *ob, const struct outbox_result *res, size_t i, struct told_list *l)
{
	if (finish_collect(ob, res, i, l))
		return OUTBOX_ERROR;
	sqlite3_stmt *st = ob->st[ST_FINISH];
	int bound = SQLITE_OK;
	bound |= sqlite3_bind_int64(st, 1, res->id);
	bound |= bind_status(st, 2, res->status);
	bound |= sqlite3_bind_int64(st, 3, (sqlite3_int64)res->seq);
	bound |= sqlite3_bind_text(st, 4, res->error ? res->error : "", -1, SQLITE_TRANSIENT);
	bound |= sqlite3_bind_int(st, 5, res->refused ? 1 : 0);
	bound |= sqlite3_bind_int64(st, 6, timefmt_now());
	if (ob_run(ob, ST_FINISH, bound, "cannot mark a record done"))
		return OUTBOX_ERROR;
	size_t changed = (size_t)sqlite3_changes(ob->db);
	ob->pending -= changed < ob->pending ? changed : ob->pending;
	return OUTBOX_OK;
}

static void
finish_tell(const struct outbox_result *results, const struct told_list *l, outbox_row_fn fn,
            void *arg)
{
	for (size_t i = 0; fn && i < l->n; i++) {
		const struct told *t = &l->v[i];
		const struct outbox_result *res = &results[t->result];
		struct outbox_row row = {.id = t->id,
		                         .file = t->file,
		                         .record = t->record,
		                         .source_id = t->source_id,
		                         .has_revision = t->has_revision,
		                         .revision = t->revision,
		                         .status = res->status,
		                         .seq = res->seq,
		                         .error = res->error ? res->error : ""};
		fn(arg, &row);
	}
}

int
outbox_finish(struct outbox *ob, const struct outbox_result *results, size_t n, outbox_row_fn fn,
              void *arg)
{
	struct told_list l = {0};
	int rc = outbox_begin(ob);
	for (size_t i = 0; rc == OUTBOX_OK && i < n; i++)
		rc = finish_one(ob, &results[i], i, &l);
	if (rc == OUTBOX_OK)
		rc = outbox_commit(ob);
	if (rc != OUTBOX_OK)
		outbox_rollback(ob);
	else
		finish_tell(results, &l, fn, arg);
	told_free(&l);
	return rc;
}
