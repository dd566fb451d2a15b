/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: the shared log in SQLite (see log.h). `entries` holds every entry
 * (its packed LogEntry, the body's SHA-256 and the chain hash). The
 * idempotency rules are judged against each report key's latest revision,
 * which an index in memory finds (keyidx.h: (org, source_id) -> seq, built
 * from the entries at open) and the entry itself tells (its revision, and
 * its report's bytes, whose SHA-256 is the content digest): a new report
 * costs no b-tree but its entry's. `reports` keeps (org, source_id,
 * revision, seq, digest) only where the entry cannot tell it any more: a
 * revision a later one replaced (for a resend of it) and a purged report.
 * The writer connection runs WAL with synchronous=FULL and
 * no automatic checkpoint; a checkpointer thread with its own connection
 * copies the WAL back into the database every second, or sooner when the
 * WAL has grown past CKPT_WAL_BYTES, so a commit never waits for a whole
 * checkpoint. After a round the writer copies back the few frames the round
 * left behind, so the WAL starts over within the part written before the
 * store opened (CATCHUP_MAX_FRAMES, WAL_PREALLOC_BYTES): commits overwrite
 * blocks the file has rather than append. The writer opens the store
 * through walbuf (walbuf.h), which hands SQLite's many small WAL writes of
 * a commit to the file system in a few large ones. Hashing is wire/crypto's
 * job; nothing else in the hub but walbuf includes sqlite3.h.
 *
 * An append packs every accepted entry into an arena owned by struct log,
 * hashes it there and binds it to the INSERT without copying; the items
 * handed back point into that arena. Two arenas take turns, batch by batch,
 * so the items of one batch can be read while the next one is appended.
 *
 * What verify can prove: the rows form the chain seq 1..head without gaps,
 * every body hashes to its stored SHA-256 and every chain hash follows from
 * the one before. Whoever edits the file by hand and changes a body, a
 * SHA-256 or a hash, deletes or swaps rows, is found at the first row they
 * touched (or the one after it, when they recomputed that row's hashes). Two
 * things stay out of its reach: cutting off the tail (the shorter chain is
 * a valid chain of its own), and rewriting everything from some row to the
 * head with freshly computed hashes (the chain has no key). Both need a
 * signed head kept outside the file: the hub's signed checkpoints, which
 * partners keep (hub/checkpoint.h, estctl verify --against).
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>
#include <sqlite3.h>

#include "keyidx.h"
#include "walbuf.h"
#include "wire/codec.h"
#include "wire/diag.h"
#include "wire/durable.h"

/* PRAGMA application_id of an esthub store: "ESTH". */
#define LOG_APPLICATION_ID  0x45535448
#define LOG_BUSY_TIMEOUT_MS 5000
/* Checkpoint at least this often, and as soon as the WAL passes CKPT_WAL_BYTES. */
#define CKPT_INTERVAL_MS 1000
#define CKPT_WAL_BYTES   (8 << 20)
/* Quick rounds after a round that left frames behind (ckpt_run). */
#define CKPT_FOLLOW_UPS 3

/*
 * The WAL starts over from its beginning only after a checkpoint has copied
 * every frame back, which under steady writes a checkpoint on another thread
 * never quite does (frames arrive while it runs): the WAL then grows for as
 * long as the writes go on, and every commit appends to the file. An append
 * costs its fdatasync a journal commit for the new size and blocks (189 us
 * against 138 us for overwriting, bench-fsync on the benchmark machine).
 * So the writer, right after a commit, copies the last few frames itself
 * when the checkpointer has left at most CATCHUP_MAX_FRAMES behind (the
 * frames of the commits during its round): a bounded copy and one fsync of
 * the database, once per round at most, after which the next commit starts
 * the WAL over. Below CATCHUP_MIN_FRAMES the WAL is left to grow.
 */
#define CATCHUP_MAX_FRAMES 512
#define CATCHUP_MIN_FRAMES 1024

/*
 * Bytes of WAL written (zeros) before the writer opens the store, so that
 * the commits of a WAL that starts over within them overwrite blocks the
 * file already has (see CATCHUP_MAX_FRAMES): 2.5 frames a commit of one
 * report, and the WAL starts over at about CKPT_WAL_BYTES plus a round's
 * worth. SQLite reads frames only up to the first one whose checksum fails,
 * so zeros past the last frame are as good as an old WAL's leftovers.
 */
#define WAL_PREALLOC_BYTES (16 << 20)
#define HASH               CRYPTO_HASH_BYTES

/* The report entries after seq AFTER, by organisation: what report_counts does not hold yet. */
#define COUNTS_AFTER_SQL(AFTER)                                                                    \
	"SELECT org, count(*) FROM entries WHERE seq > " AFTER " AND topic GLOB '*/reports' "      \
	"GROUP BY org"

/* The statements from ST_ENTRY_INSERT to ST_COUNTED_SET are the ones a batch binds. */
enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_ENTRY_INSERT,
	ST_REPORT_INSERT,
	ST_REPORT_EXACT,
	ST_ENTRY_AT,
	ST_REPORT_AT,
	ST_COUNT_ADD,
	ST_COUNTED_SET,
	ST_HEAD,
	ST_TAIL,
	ST_SCAN,
	ST_VERIFY,
	ST_COUNT_BY_ORG,
	ST__COUNT
};

/* Every statement the log runs, prepared once at open. */
static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_ENTRY_INSERT] = "INSERT INTO entries(seq, topic, org, logged_at, body, body_sha, hash) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_REPORT_INSERT] = "INSERT OR IGNORE INTO reports(org, source_id, revision, seq, digest) "
                         "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_REPORT_EXACT] = "SELECT seq, digest FROM reports "
                        "WHERE org = ?1 AND source_id = ?2 AND revision = ?3",
    [ST_ENTRY_AT] = "SELECT org, body FROM entries WHERE seq = ?1",
    /* The primary key's prefix (org, source_id) finds the key's few revisions. */
    [ST_REPORT_AT] = "SELECT revision, digest FROM reports "
                     "WHERE org = ?1 AND source_id = ?2 AND seq = ?3",
    [ST_COUNT_ADD] = "INSERT INTO report_counts(org, n) VALUES (?1, ?2) "
                     "ON CONFLICT(org) DO UPDATE SET n = n + excluded.n",
    [ST_COUNTED_SET] = "UPDATE counted SET seq = ?1",
    [ST_HEAD] = "SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1",
    [ST_TAIL] = "SELECT seq, body, body_sha, hash FROM entries "
                "WHERE seq >= ?1 ORDER BY seq LIMIT 2",
    [ST_SCAN] = "SELECT seq, topic, body, hash FROM entries "
                "WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
    [ST_VERIFY] = "SELECT seq, body, body_sha, hash FROM entries ORDER BY seq",
    /* What report_counts holds, and the report entries logged since (COUNTS_EVERY). */
    [ST_COUNT_BY_ORG] = "SELECT org, sum(n) FROM ("
                        " SELECT org, n FROM report_counts UNION ALL " COUNTS_AFTER_SQL(
                            "(SELECT seq FROM counted)") ") GROUP BY org ORDER BY org",
};

/*
 * report_counts is brought up to date every COUNTS_EVERY entries, not at
 * every commit: its page was one of the two WAL frames a one-report commit
 * wrote (the other the entry's), and a frame less before each fdatasync
 * answered one sender waiting 4 to 6% faster (bench/README.md). `counted` says
 * through which seq it is exact; whoever counts adds the report entries
 * after that (at most COUNTS_EVERY and a batch), found by their topic.
 */
#define COUNTS_EVERY 4096

/*
 * Schema version 4. STRICT keeps every column to its type. body_sha is
 * empty (a zero-length blob) while the body is stored: it is the body's
 * SHA-256, worked out from the body where it is needed (version 2 kept it
 * in every row, 32 bytes of 456 a report). A purge writes it as it takes
 * the body away, so a purged entry keeps body_sha and hash with body NULL
 * and the chain still verifies.
 * `reports` holds the revisions a later revision replaced and the reports
 * whose entry was purged (version 1 held every report there: such rows
 * are harmless, see schema_upgrade); `report_counts` the number of report
 * entries of each organisation through the seq in `counted` (its one row;
 * new in version 4, which counts lazily: COUNTS_EVERY above).
 */
#define COUNTS_TABLE_SQL                                                                           \
	"CREATE TABLE report_counts ("                                                             \
	" org TEXT PRIMARY KEY,"                                                                   \
	" n INTEGER NOT NULL"                                                                      \
	") WITHOUT ROWID, STRICT;"
#define COUNTED_TABLE_SQL                                                                          \
	"CREATE TABLE counted ("                                                                   \
	" one INTEGER PRIMARY KEY CHECK (one = 1),"                                                \
	" seq INTEGER NOT NULL"                                                                    \
	") STRICT;"

static const char schema_sql[] = "CREATE TABLE entries ("
                                 " seq INTEGER PRIMARY KEY,"
                                 " topic TEXT NOT NULL,"
                                 " org TEXT NOT NULL,"
                                 " logged_at INTEGER NOT NULL,"
                                 " body BLOB,"
                                 " body_sha BLOB NOT NULL,"
                                 " hash BLOB NOT NULL"
                                 ") STRICT;"
                                 "CREATE TABLE reports ("
                                 " org TEXT NOT NULL,"
                                 " source_id TEXT NOT NULL,"
                                 " revision INTEGER NOT NULL,"
                                 " seq INTEGER NOT NULL,"
                                 " digest BLOB NOT NULL,"
                                 " PRIMARY KEY (org, source_id, revision)"
                                 ") WITHOUT ROWID, STRICT;" COUNTS_TABLE_SQL COUNTED_TABLE_SQL
                                 "INSERT INTO counted VALUES (1, 0);";

/*
 * The writer's settings: durable commits, no checkpoint inside a commit
 * (this must come before the WAL hook is installed: the pragma replaces
 * whatever hook is set), a 2 MiB page cache (the OS page cache holds the
 * rest; 32 MiB cost the hub 25 MiB of resident memory with a 1M-entry log,
 * measured at ready: 117 -> 92 MiB; 8 MiB filled up while start-up read the
 * whole log through this connection and stayed: 2 MiB is 6.3 MiB less at
 * ready and at the peak, and 4 x 100 in flight into that log was no slower,
 * 0.86-1.26x of 8 MiB's rate in 5 pairs), and a WAL cut back to 64 MiB
 * after a complete checkpoint.
 */
static const char *const writer_pragmas[] = {
    "PRAGMA synchronous=FULL",
    "PRAGMA wal_autocheckpoint=0",
    "PRAGMA cache_size=-2048",
    "PRAGMA journal_size_limit=67108864",
};

/* The checkpointer thread and its connection. */
struct checkpointer {
	sqlite3 *db;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool sync_ready; /* mu and cv initialised */
	bool started;
	bool stop;
	bool wake;
	bool failing; /* the last checkpoint failed */
	int synced;   /* the frames copied back, as of the last round that synced the database */
	/*
	 * Set once, when a sync of the database file failed (or a checkpoint
	 * met an I/O error): from then on no checkpoint runs in this process
	 * (log_disk_failed). broken_why is written under mu before broken.
	 */
	atomic_bool broken;
	char broken_why[200];
	int wake_pages;
	/*
	 * The writer's side (only whichever thread commits touches these): the
	 * WAL size that wakes the checkpointer next, and the size at the last
	 * commit (a smaller one means the WAL started over).
	 */
	int wake_at;
	int last_pages;
	/*
	 * The checkpointer's news for the writer's catch-up: the WAL generation
	 * its last completed round ran on (high 32 bits) and the frames it
	 * copied back (low 32; 0 = no news). The writer counts generations: one
	 * more each time it sees the WAL start over, so a round that straddled
	 * a start-over is not taken for news of the new WAL.
	 */
	atomic_uint_fast64_t news;
	atomic_uint generation;
	atomic_uint_fast64_t db_syncs; /* the rounds after which this thread synced the database */
};

/* A connection that reads entries, with the statements entry_is_key needs. */
struct keyreader {
	sqlite3 *db;
	sqlite3_stmt *entry_at, *report_at;
};

/* A report item's source_id length and key hash, as log_append works them out. */
struct batch_key {
	size_t sid_len;
	uint32_t hash;
};

/* The report entries of one organisation logged after `counted`, not yet in report_counts. */
struct org_count {
	char *org;
	int64_t n;
};
/* More organisations than this waiting to be counted: report_counts is brought up to date. */
#define COUNT_ORGS 8

/* A message whose unknown fields are hidden while it is packed. */
struct hidden {
	ProtobufCMessage *msg;
	unsigned n_unknown;
};

struct log {
	sqlite3 *db;
	bool readonly;
	bool busy; /* inside log_scan/log_verify: the visitor must not re-enter */
	uint64_t head_seq;
	uint8_t head_hash[HASH];
	sqlite3_stmt *st[ST__COUNT];
	/*
	 * The writer's own read-only connection for log_report_at, which the
	 * picture store calls from the hub's loop while the committer's thread
	 * appends on db (rd.db NULL when the log is open read-only: db then).
	 */
	struct keyreader rd;
	/*
	 * The writer's index of report keys: (org, source_id) -> the seq of the
	 * key's latest revision (keyidx.h), built from the log at open; the
	 * secret key of its hash (key_hash).
	 */
	struct keyidx *keys;
	unsigned char key_secret[crypto_shorthash_KEYBYTES];
	/* A batch's report keys measured and hashed once, up front (log_append). */
	struct batch_key *batch_keys;
	size_t batch_keys_cap;
	/*
	 * The index is built on a thread of its own (keys_main) while the
	 * caller goes on (the hub loads its pictures meanwhile); it is that
	 * thread's until keys_join, which every user of the index calls first.
	 */
	char *path;
	pthread_t keys_thread;
	bool keys_thread_on;
	int keys_rc; /* the build's outcome: 0, or -1 with keys_err */
	char keys_err[600];
	/*
	 * The writer's report entries after counted_through, by organisation
	 * (counts_flush, counts_reload). Only log_append's thread touches them.
	 */
	struct org_count *counts;
	size_t n_counts;
	size_t counts_cap;
	uint64_t counted_through;
	bool counts_stale; /* not read yet (open) or not read back (a rollback): counts_reload */
	/* the packed bodies and hashes of the last batch: [body][hash] per accepted item */
	uint8_t *arena;
	size_t arena_len;
	size_t arena_cap;
	/* the batch's before (its items still point here), and the next batch's arena */
	uint8_t *spare;
	size_t spare_cap;
	struct hidden *hidden;
	size_t n_hidden;
	size_t cap_hidden;
	struct checkpointer ckpt;
};

/* The state of one batch before it commits: the last seq given out and its hash. */
struct batch {
	uint64_t seq;
	uint8_t hash[HASH];
};

/* --- errors ------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int
say(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Like say, with line breaks (SQLite's multi-line reports) turned into spaces. */
__attribute__((format(printf, 3, 4))) static int
say_oneline(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (char *p = err; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return -1;
}

/* "what: SQLite's message"; returns -1. */
__attribute__((format(printf, 4, 5))) static int
say_sql(sqlite3 *db, char *err, size_t errlen, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return say(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
}

/* Runs a prepared statement that returns no rows, then resets it. */
static int
stmt_run(struct log *lg, enum stmt id, char *err, size_t errlen, const char *what)
{
	sqlite3_stmt *st = lg->st[id];
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		say_sql(lg->db, err, errlen, "%s", what);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Runs sql, which returns one integer; 0 or -1 with err. */
static int
query_int(sqlite3 *db, const char *sql, int64_t *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_ERROR;
		say(err, errlen, "%s: no result", sql);
	} else {
		say_sql(db, err, errlen, "%s", sql);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : -1;
}

/* Runs statements whose rows do not matter (pragmas, schema); reports the first failure. */
static int
exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		say(err, errlen, "%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc == SQLITE_OK ? 0 : -1;
}

/* One bind: a failed bind (out of range, out of memory) is reported like a failed step. */
static int
bind_ok(struct log *lg, int rc, char *err, size_t errlen)
{
	if (rc == SQLITE_OK)
		return 0;
	return say_sql(lg->db, err, errlen, "cannot bind a statement parameter");
}

/* --- arena and unknown fields ------------------------------------------- */

/* Makes room for need more bytes after arena_len (no cap: a batch is capped by its caller). */
static int
arena_reserve(struct log *lg, size_t need, char *err, size_t errlen)
{
	if (need <= lg->arena_cap - lg->arena_len)
		return 0;
	if (need > SIZE_MAX / 2 - lg->arena_len)
		return say(err, errlen, "log: batch too large to pack");
	size_t cap = lg->arena_cap ? lg->arena_cap : 64 * 1024;
	while (cap - lg->arena_len < need)
		cap *= 2;
	uint8_t *p = realloc(lg->arena, cap);
	if (p == NULL)
		return say(err, errlen, "log: out of memory packing a batch (%zu bytes)", cap);
	lg->arena = p;
	lg->arena_cap = cap;
	return 0;
}

/* A new batch packs into the arena the batch before last had: the last one's items stay valid. */
static void
arena_turn(struct log *lg)
{
	uint8_t *p = lg->arena;
	size_t cap = lg->arena_cap;
	lg->arena = lg->spare;
	lg->arena_cap = lg->spare_cap;
	lg->arena_len = 0;
	lg->spare = p;
	lg->spare_cap = cap;
}

static int
hidden_push(struct log *lg, ProtobufCMessage *m, char *err, size_t errlen)
{
	if (lg->n_hidden == lg->cap_hidden) {
		size_t cap = lg->cap_hidden ? 2 * lg->cap_hidden : 16;
		struct hidden *p = realloc(lg->hidden, cap * sizeof *p);
		if (p == NULL)
			return say(err, errlen, "log: out of memory");
		lg->hidden = p;
		lg->cap_hidden = cap;
	}
	lg->hidden[lg->n_hidden++] = (struct hidden){m, m->n_unknown_fields};
	m->n_unknown_fields = 0;
	return 0;
}

/*
 * Hides the unknown fields of m and every message inside it, so that what
 * is packed and hashed is only what this esthub knows. The caller's message
 * gets them back from unknown_restore. The recursion is as deep as the
 * schema (est.proto has no recursive message), never deeper.
 */
static int
unknown_hide(struct log *lg, ProtobufCMessage *m, char *err, size_t errlen)
{
	if (m->n_unknown_fields > 0 && hidden_push(lg, m, err, errlen) != 0)
		return -1;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	char *base = (char *)m;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		size_t n = 1;
		ProtobufCMessage **subs = (ProtobufCMessage **)(base + f->offset);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(size_t *)(base + f->quantifier_offset);
			subs = *(ProtobufCMessage ***)(base + f->offset);
		} else if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		           *(uint32_t *)(base + f->quantifier_offset) != f->id) {
			continue;
		}
		for (size_t k = 0; subs != NULL && k < n; k++)
			if (subs[k] != NULL && unknown_hide(lg, subs[k], err, errlen) != 0)
				return -1;
	}
	return 0;
}

/* Gives back the unknown fields hidden since mark, newest first. */
static void
unknown_restore(struct log *lg, size_t mark)
{
	while (lg->n_hidden > mark) {
		struct hidden *h = &lg->hidden[--lg->n_hidden];
		h->msg->n_unknown_fields = h->n_unknown;
	}
}

/* --- judging and storing one item --------------------------------------- */

/* True when m or any message inside it carries unknown fields. */
static bool
has_unknown(const ProtobufCMessage *m)
{
	if (m->n_unknown_fields > 0)
		return true;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		size_t n = 1;
		ProtobufCMessage *const *subs = (ProtobufCMessage *const *)(base + f->offset);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)(base + f->quantifier_offset);
			subs = *(ProtobufCMessage *const *const *)(base + f->offset);
		} else if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		           *(const uint32_t *)(base + f->quantifier_offset) != f->id) {
			continue;
		}
		for (size_t k = 0; subs != NULL && k < n; k++)
			if (subs[k] != NULL && has_unknown(subs[k]))
				return true;
	}
	return false;
}

int
log_report_prepack(const Est__V1__Report *r, uint8_t *out, size_t cap, size_t *len)
{
	/* Rare (a newer partner's fields); log_append hides them and packs itself. */
	if (has_unknown(&r->base)) {
		*len = 0;
		return 0;
	}
	*len = est__v1__report__get_packed_size(r);
	if (*len > cap)
		return 0;
	*len = est__v1__report__pack(r, out);
	return 1;
}

/*
 * The content digest of a report item: SHA-256 of the packed report (the
 * caller's, or packed here in the arena's spare room with its unknown
 * fields hidden). Only a key the log holds needs it.
 */
static int
report_digest(struct log *lg, const struct log_item *it, uint8_t digest[HASH], char *err,
              size_t errlen)
{
	if (it->packed != NULL) {
		crypto_sha256(it->packed, it->packed_len, digest);
		return 0;
	}
	const Est__V1__Report *r = it->entry->report;
	size_t len = est__v1__report__get_packed_size(r);
	if (arena_reserve(lg, len, err, errlen) != 0)
		return -1;
	uint8_t *scratch = lg->arena + lg->arena_len;
	crypto_sha256(scratch, est__v1__report__pack(r, scratch), digest);
	return 0;
}

/* --- report keys ---------------------------------------------------------- */

/* What a packed report entry says of its report (entry_report_view). */
struct report_view {
	const uint8_t *bytes; /* the report's encoding: field 10 of the entry */
	size_t len;
	const char *source_id; /* not terminated */
	size_t source_id_len;
	uint64_t revision;
};

/*
 * The report a packed LogEntry holds (field 10), and its source_id (1) and
 * revision (2). 1, 0 when the entry holds no report, -1 when the encoding
 * is broken. The last occurrence of a field counts, as in protobuf.
 */
static int
entry_report_view(const uint8_t *body, size_t len, struct report_view *v)
{
	const uint8_t *p = body, *end = body + len;
	struct wire_field f;
	int rc;
	*v = (struct report_view){0};
	if (len == 0) /* SQLite gives an empty blob as NULL */
		return 0;
	while ((rc = wire_field_next(&p, end, &f)) == 0)
		if (f.number == 10 && f.type == 2)
			v->bytes = f.bytes, v->len = (size_t)f.value;
	if (rc < 0)
		return -1;
	if (v->bytes == NULL)
		return 0;
	p = v->bytes;
	end = v->bytes + v->len;
	while ((rc = wire_field_next(&p, end, &f)) == 0) {
		if (f.number == 1 && f.type == 2)
			v->source_id = (const char *)f.bytes, v->source_id_len = (size_t)f.value;
		else if (f.number == 2 && f.type == 0)
			v->revision = (uint32_t)f.value;
	}
	return rc < 0 || v->source_id == NULL ? -1 : 1;
}

/* All ones but in tests (log_test_key_hash_mask). */
static uint32_t key_hash_mask = UINT32_MAX;

/*
 * The key's 32-bit hash for the index: SipHash-2-4 of org, a NUL and
 * source_id under the secret the log drew at open, so that nobody can
 * choose ids that crowd one run of the table.
 */
static uint32_t
key_hash(const struct log *lg, const char *org, const char *sid, size_t sid_len)
{
	unsigned char h[crypto_shorthash_BYTES], buf[256];
	size_t org_len = strlen(org);
	if (org_len + 1 + sid_len <= sizeof buf) {
		memcpy(buf, org, org_len + 1);
		memcpy(buf + org_len + 1, sid, sid_len);
		crypto_shorthash(h, buf, org_len + 1 + sid_len, lg->key_secret);
	} else { /* longer than validation lets through: a store made by hand */
		crypto_generichash_state s;
		crypto_generichash_init(&s, lg->key_secret, sizeof lg->key_secret, sizeof h);
		crypto_generichash_update(&s, (const unsigned char *)org, org_len + 1);
		crypto_generichash_update(&s, (const unsigned char *)sid, sid_len);
		crypto_generichash_final(&s, h, sizeof h);
	}
	uint32_t v;
	memcpy(&v, h, sizeof v);
	return v & key_hash_mask;
}

void
log_test_key_hash_mask(uint32_t mask)
{
	key_hash_mask = mask;
}

uint64_t
log_test_ckpt_db_syncs(const struct log *lg)
{
	return lg->ckpt.started ? atomic_load(&lg->ckpt.db_syncs) : 0;
}

/* The latest revision of a key the log holds: at seq, with its content's digest. */
struct stored {
	uint64_t revision;
	uint64_t seq;
	uint8_t digest[HASH];
};

/* The writer's own connection as a keyreader (the index's users on the committer's thread). */
static struct keyreader
writer_reader(struct log *lg)
{
	return (struct keyreader){lg->db, lg->st[ST_ENTRY_AT], lg->st[ST_REPORT_AT]};
}

/*
 * Steps r's entry_at to the entry at seq: 1 with its org in *org and, when
 * its body is there (*purged false), the report it holds in *v (v->bytes
 * NULL: none); 0 when no entry has that seq; -1 when it cannot be read.
 * What *org and *v point to lives until the caller resets entry_at.
 */
static int
entry_at_step(const struct keyreader *r, uint64_t seq, const char **org, bool *purged,
              struct report_view *v, char *err, size_t errlen)
{
	int rc = sqlite3_bind_int64(r->entry_at, 1, (int64_t)seq);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(r->entry_at);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return say_sql(r->db, err, errlen, "cannot read seq %" PRIu64, seq);
	*org = (const char *)sqlite3_column_text(r->entry_at, 0);
	const uint8_t *body = sqlite3_column_blob(r->entry_at, 1);
	*purged = body == NULL;
	*v = (struct report_view){0};
	if (*org == NULL ||
	    (body != NULL &&
	     entry_report_view(body, (size_t)sqlite3_column_bytes(r->entry_at, 1), v) < 0))
		return say(err, errlen, "seq %" PRIu64 ": stored entry cannot be read", seq);
	return 1;
}

/*
 * Whether the entry at seq is a revision of (org, sid), read on r: from its
 * body, or for a purged entry from the row its purge left in `reports`. 1
 * with *out filled (its digest only when asked for), 0 when the entry is
 * another key's, -1 when it cannot be read.
 */
static int
entry_is_key(const struct keyreader *r, uint64_t seq, const char *org, const char *sid,
             size_t sid_len, struct stored *out, bool digest, char *err, size_t errlen)
{
	const char *o = NULL;
	bool purged = false;
	struct report_view v;
	int ret = entry_at_step(r, seq, &o, &purged, &v, err, errlen);
	if (ret == 1 && strcmp(o, org) != 0) {
		ret = 0;
	} else if (ret == 1 && !purged) {
		ret = v.bytes != NULL && v.source_id_len == sid_len &&
		      memcmp(v.source_id, sid, sid_len) == 0;
		out->revision = v.revision;
		out->seq = seq;
		if (ret == 1 && digest)
			crypto_sha256(v.bytes, v.len, out->digest);
	}
	sqlite3_reset(r->entry_at);
	if (ret != 1 || !purged)
		return ret;
	int rc = sqlite3_bind_text(r->report_at, 1, org, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(r->report_at, 2, sid, (int)sid_len, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(r->report_at, 3, (int64_t)seq);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(r->report_at);
	ret = 0;
	if (rc == SQLITE_ROW && sqlite3_column_bytes(r->report_at, 1) == HASH) {
		out->revision = (uint64_t)sqlite3_column_int64(r->report_at, 0);
		out->seq = seq;
		memcpy(out->digest, sqlite3_column_blob(r->report_at, 1), HASH);
		ret = 1;
	} else if (rc == SQLITE_ROW) {
		ret = say(err, errlen, "seq %" PRIu64 ": its row in reports is damaged", seq);
	} else if (rc != SQLITE_DONE) {
		ret = say_sql(r->db, err, errlen, "cannot look up the report at seq %" PRIu64, seq);
	}
	sqlite3_reset(r->report_at);
	sqlite3_clear_bindings(r->report_at);
	return ret;
}

/*
 * Finds (org, sid), whose key_hash is hash, in the index. 1 with the
 * latest revision in *found (its digest when asked for) and p at its slot,
 * 0 when the log has no such key (p at the empty slot for it), -1 when an
 * entry could not be read. Only a full match of the hash costs a read of
 * the entry.
 */
static int
key_find(struct log *lg, const struct keyreader *r, const char *org, const char *sid,
         size_t sid_len, uint32_t hash, struct keyidx_probe *p, struct stored *found, bool digest,
         char *err, size_t errlen)
{
	uint64_t seq;
	keyidx_probe_start(lg->keys, hash, p);
	while (keyidx_probe_next(lg->keys, p, &seq)) {
		int rc = entry_is_key(r, seq, org, sid, sid_len, found, digest, err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Same revision stored: DUPLICATE when the content is the same, else REJECTED. */
static void
judge_stored(struct log_item *it, uint32_t revision, uint64_t seq, const uint8_t *stored_digest,
             const uint8_t digest[HASH])
{
	if (memcmp(stored_digest, digest, HASH) == 0) {
		it->status = EST__V1__STATUS__STATUS_DUPLICATE;
		it->seq = seq;
		return;
	}
	it->status = EST__V1__STATUS__STATUS_REJECTED;
	snprintf(it->error, sizeof it->error,
	         "revision %" PRIu32 " already stored with other content", revision);
}

/* Looks for exactly (org, source_id, revision) among the revisions a later one replaced. */
static int
judge_older(struct log *lg, const char *org, const Est__V1__Report *r, uint64_t latest,
            const uint8_t digest[HASH], struct log_item *it, char *err, size_t errlen)
{
	sqlite3_stmt *st = lg->st[ST_REPORT_EXACT];
	if (bind_ok(lg, sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC), err, errlen) ||
	    bind_ok(lg, sqlite3_bind_text(st, 2, r->source_id, -1, SQLITE_STATIC), err, errlen) ||
	    bind_ok(lg, sqlite3_bind_int64(st, 3, r->revision), err, errlen))
		return -1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == HASH) {
		judge_stored(it, r->revision, (uint64_t)sqlite3_column_int64(st, 0),
		             sqlite3_column_blob(st, 1), digest);
	} else if (rc == SQLITE_ROW) { /* a digest that is not one: not the same content */
		it->status = EST__V1__STATUS__STATUS_REJECTED;
		snprintf(it->error, sizeof it->error,
		         "revision %" PRIu32 " already stored with other content", r->revision);
	} else if (rc == SQLITE_DONE) {
		it->status = EST__V1__STATUS__STATUS_REJECTED;
		snprintf(it->error, sizeof it->error,
		         "revision %" PRIu32 " is lower than the stored revision %" PRIu64,
		         r->revision, latest);
	} else {
		say_sql(lg->db, err, errlen, "cannot look up report revisions");
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/*
 * The contract's idempotency rules, in its order, against the key's latest
 * revision (key_find): the index settles a new key without a read or a
 * digest; only a resend of an older revision looks in `reports`. *known
 * says whether the key was found (then *latest is its revision before
 * this one).
 */
static int
report_judge(struct log *lg, struct log_item *it, const struct batch_key *k, struct keyidx_probe *p,
             struct stored *latest, bool *known, char *err, size_t errlen)
{
	const char *org = it->entry->org;
	const Est__V1__Report *r = it->entry->report;
	const struct keyreader w = writer_reader(lg);
	uint8_t digest[HASH];
	/* The stored digest serves a resend of the latest revision, and the row a newer one keeps.
	 */
	int rc =
	    key_find(lg, &w, org, r->source_id, k->sid_len, k->hash, p, latest, true, err, errlen);
	*known = rc == 1;
	if (rc <= 0 || latest->revision < r->revision)
		return rc < 0 ? -1 : 0;
	if (report_digest(lg, it, digest, err, errlen) != 0)
		return -1;
	if (latest->revision == r->revision)
		judge_stored(it, r->revision, latest->seq, latest->digest, digest);
	else if (latest->revision > r->revision)
		return judge_older(lg, org, r, latest->revision, digest, it, err, errlen);
	return 0;
}

/*
 * A report entry whose report the caller packed already (log_item.packed)
 * is packed as its head (every field but the body; protobuf-c writes fields
 * in number order, and the report, field 10, is the last) followed by the
 * report as a length-delimited field 10: the very bytes
 * est__v1__log_entry__pack writes, without packing the report a second time.
 */
#define ENTRY_REPORT_TAG 0x52 /* field 10, wire type 2 (length-delimited) */

static bool
entry_spliced(const struct log_item *it)
{
	return it->packed != NULL && it->entry->body_case == EST__V1__LOG_ENTRY__BODY_REPORT;
}

static size_t
varint_size(size_t v)
{
	size_t n = 1;
	for (; v >= 0x80; v >>= 7)
		n++;
	return n;
}

/* The entry's head: the entry packed with its body unset (restored before returning). */
static size_t
entry_head(Est__V1__LogEntry *e, uint8_t *out)
{
	Est__V1__LogEntry__BodyCase body_case = e->body_case;
	Est__V1__Report *report = e->report;
	e->body_case = EST__V1__LOG_ENTRY__BODY__NOT_SET;
	e->report = NULL;
	size_t n = out ? est__v1__log_entry__pack(e, out) : est__v1__log_entry__get_packed_size(e);
	e->body_case = body_case;
	e->report = report;
	return n;
}

static size_t
entry_packed_size(const struct log_item *it)
{
	if (!entry_spliced(it))
		return est__v1__log_entry__get_packed_size(it->entry);
	return entry_head(it->entry, NULL) + 1 + varint_size(it->packed_len) + it->packed_len;
}

static size_t
entry_pack(const struct log_item *it, uint8_t *out)
{
	if (!entry_spliced(it))
		return est__v1__log_entry__pack(it->entry, out);
	size_t n = entry_head(it->entry, out);
	out[n++] = ENTRY_REPORT_TAG;
	for (size_t v = it->packed_len;; v >>= 7) {
		out[n++] = (uint8_t)(v < 0x80 ? v : (v & 0x7f) | 0x80);
		if (v < 0x80)
			break;
	}
	memcpy(out + n, it->packed, it->packed_len);
	return n + it->packed_len;
}

/*
 * Packs the entry as seq b->seq + 1 into the arena, chains it and inserts
 * the row. The arena and b advance only when the row is in.
 */
static int
entry_store(struct log *lg, struct batch *b, struct log_item *it, char *err, size_t errlen)
{
	Est__V1__LogEntry *e = it->entry;
	uint64_t seq = b->seq + 1;
	ProtobufCBinaryData caller_hash = e->hash;
	e->seq = seq;
	e->hash = (ProtobufCBinaryData){0, NULL};
	size_t len = entry_packed_size(it);
	if (arena_reserve(lg, len + HASH, err, errlen) != 0) {
		e->hash = caller_hash;
		return -1;
	}
	uint8_t *body = lg->arena + lg->arena_len, *hash = body + len, body_sha[HASH];
	len = entry_pack(it, body);
	e->hash = caller_hash;
	crypto_sha256(body, len, body_sha);
	crypto_chain(b->hash, seq, body_sha, hash);
	sqlite3_stmt *st = lg->st[ST_ENTRY_INSERT];
	if (bind_ok(lg, sqlite3_bind_int64(st, 1, (int64_t)seq), err, errlen) ||
	    bind_ok(lg, sqlite3_bind_text(st, 2, e->topic, -1, SQLITE_STATIC), err, errlen) ||
	    bind_ok(lg, sqlite3_bind_text(st, 3, e->org, -1, SQLITE_STATIC), err, errlen) ||
	    bind_ok(lg, sqlite3_bind_blob(st, 5, body, (int)len, SQLITE_STATIC), err, errlen) ||
	    bind_ok(lg, sqlite3_bind_zeroblob(st, 6, 0), err, errlen) ||
	    bind_ok(lg, sqlite3_bind_blob(st, 7, hash, HASH, SQLITE_STATIC), err, errlen))
		return -1;
	/* The message is formatted only on failure: snprintf per entry was 8% of a commit. */
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		say_sql(lg->db, err, errlen, "cannot store seq %" PRIu64, seq);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	lg->arena_len += len + HASH;
	b->seq = seq;
	memcpy(b->hash, hash, HASH);
	it->seq = seq;
	it->body_len = len;
	return 0;
}

/* The row of a revision a later one replaces, or of a purged report (INSERT OR IGNORE). */
static int
report_keep(struct log *lg, const char *org, const char *sid, size_t sid_len,
            const struct stored *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = lg->st[ST_REPORT_INSERT];
	if (bind_ok(lg, sqlite3_bind_text(st, 1, org, -1, SQLITE_TRANSIENT), err, errlen) ||
	    bind_ok(lg, sqlite3_bind_text(st, 2, sid, (int)sid_len, SQLITE_TRANSIENT), err,
	            errlen) ||
	    bind_ok(lg, sqlite3_bind_int64(st, 3, (int64_t)s->revision), err, errlen) ||
	    bind_ok(lg, sqlite3_bind_int64(st, 4, (int64_t)s->seq), err, errlen) ||
	    bind_ok(lg, sqlite3_bind_blob(st, 5, s->digest, HASH, SQLITE_TRANSIENT), err, errlen))
		return -1;
	return stmt_run(lg, ST_REPORT_INSERT, err, errlen, "cannot keep a replaced revision");
}

static void
counts_clear(struct log *lg)
{
	for (size_t i = 0; i < lg->n_counts; i++)
		free(lg->counts[i].org);
	lg->n_counts = 0;
}

/*
 * The counts waiting, added to `report_counts`, and `counted` moved to
 * through, inside the batch's transaction: one statement per organisation.
 */
static int
counts_flush(struct log *lg, uint64_t through, char *err, size_t errlen)
{
	sqlite3_stmt *st = lg->st[ST_COUNT_ADD];
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < lg->n_counts; i++) {
		if (bind_ok(lg, sqlite3_bind_text(st, 1, lg->counts[i].org, -1, SQLITE_STATIC), err,
		            errlen) ||
		    bind_ok(lg, sqlite3_bind_int64(st, 2, lg->counts[i].n), err, errlen))
			rc = -1;
		else
			rc = stmt_run(lg, ST_COUNT_ADD, err, errlen, "cannot count reports");
	}
	if (rc == 0 && (bind_ok(lg, sqlite3_bind_int64(lg->st[ST_COUNTED_SET], 1, (int64_t)through),
	                        err, errlen) ||
	                stmt_run(lg, ST_COUNTED_SET, err, errlen, "cannot count reports")))
		rc = -1;
	sqlite3_clear_bindings(st);
	if (rc == 0) {
		counts_clear(lg);
		lg->counted_through = through;
	}
	return rc;
}

/* org's counts waiting, or NULL. */
static struct org_count *
counts_find(struct log *lg, const char *org)
{
	for (size_t i = 0; i < lg->n_counts; i++)
		if (strcmp(lg->counts[i].org, org) == 0)
			return &lg->counts[i];
	return NULL;
}

/* n report entries of org waiting to be counted, an organisation not waiting yet; 0 or -1. */
static int
counts_push(struct log *lg, const char *org, int64_t n)
{
	if (lg->n_counts == lg->counts_cap) {
		size_t cap = lg->counts_cap ? 2 * lg->counts_cap : COUNT_ORGS;
		struct org_count *c = realloc(lg->counts, cap * sizeof *c);
		if (c == NULL)
			return -1;
		lg->counts = c;
		lg->counts_cap = cap;
	}
	char *copy = strdup(org);
	if (copy == NULL)
		return -1;
	lg->counts[lg->n_counts++] = (struct org_count){copy, n};
	return 0;
}

/*
 * The report entry seq of org counted. A new organisation when COUNT_ORGS
 * wait already brings report_counts up to the entry before it.
 */
static int
count_add(struct log *lg, const char *org, uint64_t seq, char *err, size_t errlen)
{
	struct org_count *c = counts_find(lg, org);
	if (c != NULL) {
		c->n++;
		return 0;
	}
	if (lg->n_counts >= COUNT_ORGS && counts_flush(lg, seq - 1, err, errlen) != 0)
		return -1;
	if (counts_push(lg, org, 1) != 0)
		return say(err, errlen, "log: out of memory counting reports");
	return 0;
}

/*
 * The counts waiting, read back from the store: `counted`, and the report
 * entries after it. At the first append, and after a batch rolled back.
 */
static int
counts_reload(struct log *lg, char *err, size_t errlen)
{
	int64_t through = 0;
	sqlite3_stmt *st = NULL;
	counts_clear(lg);
	lg->counts_stale = true;
	if (query_int(lg->db, "SELECT seq FROM counted", &through, err, errlen) != 0)
		return -1;
	int rc = sqlite3_prepare_v2(lg->db, COUNTS_AFTER_SQL("?1"), -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, through);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *org = (const char *)sqlite3_column_text(st, 0);
		rc = counts_push(lg, org ? org : "", sqlite3_column_int64(st, 1)) == 0
		         ? SQLITE_OK
		         : SQLITE_NOMEM;
	}
	int ret = rc == SQLITE_DONE ? 0 : say_sql(lg->db, err, errlen, "cannot count reports");
	sqlite3_finalize(st);
	if (ret == 0) {
		lg->counted_through = (uint64_t)through;
		lg->counts_stale = false;
	}
	return ret;
}

/*
 * Judges one item and, when accepted, appends it: the entry row, and for
 * a report its key in the index, the row of the revision it replaces, and
 * its count.
 */
static int
item_append(struct log *lg, struct batch *b, struct log_item *it, const struct batch_key *k,
            char *err, size_t errlen)
{
	Est__V1__LogEntry *e = it->entry;
	bool is_report = e->body_case == EST__V1__LOG_ENTRY__BODY_REPORT, known = false;
	struct keyidx_probe probe;
	struct stored latest;
	size_t mark = lg->n_hidden;
	/* A prepacked report has no unknown fields (log_report_prepack checked): skip its walk. */
	int rc = !entry_spliced(it)             ? unknown_hide(lg, &e->base, err, errlen)
	         : e->base.n_unknown_fields > 0 ? hidden_push(lg, &e->base, err, errlen)
	                                        : 0;
	if (rc == 0 && is_report)
		rc = report_judge(lg, it, k, &probe, &latest, &known, err, errlen);
	if (rc == 0 && it->status == EST__V1__STATUS__STATUS_ACCEPTED)
		rc = entry_store(lg, b, it, err, errlen);
	if (rc == 0 && it->status == EST__V1__STATUS__STATUS_ACCEPTED && is_report) {
		if (known)
			rc = report_keep(lg, e->org, e->report->source_id, k->sid_len, &latest, err,
			                 errlen);
		if (rc == 0 && keyidx_put(lg->keys, &probe, it->seq) != 0)
			rc = say(err, errlen, "log: no room reserved in the report index");
		if (rc == 0)
			rc = count_add(lg, e->org, it->seq, err, errlen);
	}
	unknown_restore(lg, mark);
	return rc;
}

static int keys_join(struct log *lg, char *err, size_t errlen);

/* Whether topic is AREA/reports, where reports (and nothing else) go: the counts find them so. */
static bool
topic_is_reports(const char *topic)
{
	static const char kind[] = "/reports";
	size_t len = strlen(topic);
	return len > sizeof kind - 1 && strcmp(topic + len - (sizeof kind - 1), kind) == 0;
}

/* Refuses what no batch may contain and clears every item's outputs. */
static int
append_check(const struct log *lg, struct log_item *items, size_t n, char *err, size_t errlen)
{
	if (lg == NULL || (items == NULL && n > 0))
		return say(err, errlen, "log_append: no log or no items");
	if (lg->readonly)
		return say(err, errlen, "log_append: the log is open read-only");
	for (size_t i = 0; i < n; i++) {
		struct log_item *it = &items[i];
		Est__V1__LogEntry *e = it->entry;
		if (e == NULL || e->org == NULL || e->topic == NULL ||
		    e->body_case == EST__V1__LOG_ENTRY__BODY__NOT_SET ||
		    (e->body_case == EST__V1__LOG_ENTRY__BODY_REPORT &&
		     (e->report == NULL || e->report->source_id == NULL)))
			return say(err, errlen,
			           "log_append: item %zu lacks its entry, org, topic or body", i);
		if ((e->body_case == EST__V1__LOG_ENTRY__BODY_REPORT) != topic_is_reports(e->topic))
			return say(err, errlen,
			           "log_append: item %zu: a report goes on an AREA/reports topic, "
			           "nothing else does",
			           i);
		it->status = EST__V1__STATUS__STATUS_ACCEPTED;
		it->seq = 0;
		it->error[0] = '\0';
		it->body = NULL;
		it->body_len = 0;
		it->hash = NULL;
	}
	return 0;
}

/* Room for n items' keys in lg->batch_keys. */
static int
batch_keys_reserve(struct log *lg, size_t n)
{
	if (n <= lg->batch_keys_cap)
		return 0;
	struct batch_key *k = realloc(lg->batch_keys, n * sizeof *k);
	if (k == NULL)
		return -1;
	lg->batch_keys = k;
	lg->batch_keys_cap = n;
	return 0;
}

/* After COMMIT: items point into the arena, the head moves. */
static void
batch_publish(struct log *lg, const struct batch *b, struct log_item *items, size_t n)
{
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		struct log_item *it = &items[i];
		if (it->status != EST__V1__STATUS__STATUS_ACCEPTED)
			continue;
		it->body = lg->arena + off;
		it->hash = it->body + it->body_len;
		off += it->body_len + HASH;
	}
	lg->head_seq = b->seq;
	memcpy(lg->head_hash, b->hash, HASH);
}

/* After a failure: roll back (unless SQLite already did) and clear the outputs. */
static void
batch_abandon(struct log *lg, struct log_item *items, size_t n, char *err, size_t errlen)
{
	if (!sqlite3_get_autocommit(lg->db)) {
		char why[256];
		if (stmt_run(lg, ST_ROLLBACK, why, sizeof why, "rollback failed") != 0 &&
		    err != NULL && errlen > 0) {
			size_t used = strnlen(err, errlen - 1);
			snprintf(err + used, errlen - used, "; %s", why);
		}
	}
	lg->arena_len = 0;
	for (size_t i = 0; i < n; i++) {
		items[i].status = EST__V1__STATUS__STATUS_UNSPECIFIED;
		items[i].seq = 0;
		items[i].error[0] = '\0';
		items[i].body = NULL;
		items[i].body_len = 0;
		items[i].hash = NULL;
		items[i].entry->seq = 0;
	}
}

int
log_append(struct log *lg, struct log_item *items, size_t n, int64_t now, char *err, size_t errlen)
{
	if (append_check(lg, items, n, err, errlen) != 0 || keys_join(lg, err, errlen) != 0 ||
	    (lg->counts_stale && counts_reload(lg, err, errlen) != 0))
		return -1;
	if (n == 0)
		return 0;
	if (lg->head_seq > KEYIDX_SEQ_MAX || n > KEYIDX_SEQ_MAX - lg->head_seq)
		return say(err, errlen, "log: full (a store holds at most %" PRIu32 " entries)",
		           (uint32_t)KEYIDX_SEQ_MAX);
	if (keyidx_reserve(lg->keys, n, n) != 0 || batch_keys_reserve(lg, n) != 0)
		return say(err, errlen, "log: out of memory growing the report index");
	/*
	 * Every report's key hashed and its slot in the index fetched before
	 * the first is judged: the probes' cache misses (the committer's largest
	 * symbol, 8% of its samples) overlap instead of following one another.
	 */
	for (size_t i = 0; i < n; i++) {
		const Est__V1__LogEntry *e = items[i].entry;
		struct batch_key *k = &lg->batch_keys[i];
		*k = (struct batch_key){0};
		if (e->body_case == EST__V1__LOG_ENTRY__BODY_REPORT) {
			k->sid_len = strlen(e->report->source_id);
			k->hash = key_hash(lg, e->org, e->report->source_id, k->sid_len);
			keyidx_prefetch(lg->keys, k->hash);
		}
	}
	struct batch b = {.seq = lg->head_seq};
	memcpy(b.hash, lg->head_hash, HASH);
	arena_turn(lg);
	for (size_t i = 0; i < n; i++)
		items[i].entry->logged_at = now;
	int rc = bind_ok(lg, sqlite3_bind_int64(lg->st[ST_ENTRY_INSERT], 4, now), err, errlen);
	if (rc == 0)
		rc = stmt_run(lg, ST_BEGIN, err, errlen, "cannot begin a transaction");
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = item_append(lg, &b, &items[i], &lg->batch_keys[i], err, errlen);
	if (rc == 0 && b.seq - lg->counted_through >= COUNTS_EVERY)
		rc = counts_flush(lg, b.seq, err, errlen);
	if (rc == 0)
		rc = stmt_run(lg, ST_COMMIT, err, errlen, "cannot commit the batch");
	if (rc == 0) {
		keyidx_keep(lg->keys);
		batch_publish(lg, &b, items, n);
	} else {
		keyidx_undo(lg->keys);
		batch_abandon(lg, items, n, err, errlen);
		(void)counts_reload(lg, NULL, 0); /* on failure the next append tries again */
	}
	/* SQLITE_STATIC bindings must not outlive what they point to (arena, stack, caller). */
	for (int i = ST_ENTRY_INSERT; i <= ST_COUNTED_SET; i++)
		sqlite3_clear_bindings(lg->st[i]);
	return rc;
}

/* --- reading ------------------------------------------------------------ */

uint64_t
log_head_seq(const struct log *lg)
{
	return lg->head_seq;
}

const uint8_t *
log_head_hash(const struct log *lg)
{
	return lg->head_hash;
}

int
log_scan(struct log *lg, uint64_t from, uint64_t to, log_visit_fn fn, void *arg, char *err,
         size_t errlen)
{
	if (lg->busy)
		return say(err, errlen, "log_scan: called from inside a scan");
	if (to > INT64_MAX)
		to = INT64_MAX;
	if (from > to)
		return 0;
	sqlite3_stmt *st = lg->st[ST_SCAN];
	if (bind_ok(lg, sqlite3_bind_int64(st, 1, (int64_t)from), err, errlen) ||
	    bind_ok(lg, sqlite3_bind_int64(st, 2, (int64_t)to), err, errlen))
		return -1;
	lg->busy = true;
	int rc = SQLITE_DONE, ret = 0;
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
		const char *topic = (const char *)sqlite3_column_text(st, 1);
		const uint8_t *body = sqlite3_column_blob(st, 2);
		size_t body_len = (size_t)sqlite3_column_bytes(st, 2);
		const uint8_t *hash = sqlite3_column_blob(st, 3);
		if (topic == NULL || sqlite3_column_bytes(st, 3) != HASH) {
			ret = say(err, errlen, "seq %" PRIu64 ": stored row is damaged", seq);
			break;
		}
		ret = fn(arg, seq, topic, body, body == NULL ? 0 : body_len, hash);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = say_sql(lg->db, err, errlen, "cannot read the log");
	sqlite3_reset(st);
	lg->busy = false;
	return ret;
}

/* The seq a packed LogEntry carries (field 1, first in the encoding); 0 when unreadable. */
static uint64_t
body_seq(const uint8_t *body, size_t len)
{
	if (len < 2 || body[0] != 0x08)
		return 0;
	uint64_t v = 0;
	for (size_t i = 1; i < len && i <= 10; i++) {
		v |= (uint64_t)(body[i] & 0x7f) << (7 * (i - 1));
		if ((body[i] & 0x80) == 0)
			return v;
	}
	return 0;
}

/*
 * SQLite's consistency check of the b-trees named by sql (PRAGMA
 * quick_check, of the whole file or of one table). 0, or -1 with what it
 * found in why, on one line.
 */
static int
pages_check(sqlite3 *db, const char *sql, char *why, size_t whylen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *res = (const char *)sqlite3_column_text(st, 0);
		if (res != NULL && strcmp(res, "ok") == 0)
			rc = SQLITE_OK;
		else
			say_oneline(why, whylen, "quick_check: %s", res ? res : "no answer");
	} else {
		say_sql(db, why, whylen, "quick_check");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : -1;
}

/* A finding of verify: why names the seq and what is wrong; returns 1. */
__attribute__((format(printf, 3, 4))) static int
bad(char *why, size_t whylen, const char *fmt, ...)
{
	if (why != NULL && whylen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return 1;
}

/*
 * Checks the body of row expect against its place and, when the row keeps
 * its SHA-256 (body_sha not NULL: a row of version 2), against that; the
 * body's SHA-256 goes to sha. 0 good, 1 bad.
 */
static int
verify_body(const uint8_t *body, size_t len, const uint8_t *body_sha, uint64_t expect,
            uint8_t sha[HASH], char *why, size_t whylen)
{
	uint64_t inner = body_seq(body, len);
	/* A body moved to another row still hashes right; its own seq gives it away. */
	if (inner != 0 && inner != expect)
		return bad(why, whylen,
		           "seq %" PRIu64 ": stored out of order (its body is that of seq %" PRIu64
		           ")",
		           expect, inner);
	crypto_sha256(body, len, sha);
	if (body_sha != NULL && memcmp(sha, body_sha, HASH) != 0)
		return bad(why, whylen, "seq %" PRIu64 ": body does not match its stored SHA-256",
		           expect);
	return 0;
}

/*
 * Checks one row of the chain; on success prev becomes its hash. 0 good,
 * 1 bad (why set). A purged row (body NULL) is trusted by its body_sha; a
 * row with its body has an empty body_sha, or (version 2) the body's.
 */
static int
verify_row(sqlite3_stmt *st, uint64_t expect, uint8_t prev[HASH], char *why, size_t whylen)
{
	int64_t seq = sqlite3_column_int64(st, 0);
	const uint8_t *body = sqlite3_column_blob(st, 1);
	size_t body_len = (size_t)sqlite3_column_bytes(st, 1);
	const uint8_t *body_sha = sqlite3_column_blob(st, 2);
	int sha_len = sqlite3_column_bytes(st, 2);
	bool sha_ok = sha_len == HASH || sha_len == 0;
	const uint8_t *hash = sqlite3_column_blob(st, 3);
	bool hash_ok = sqlite3_column_bytes(st, 3) == HASH;
	uint8_t sha[HASH], chained[HASH];
	if (seq < 1 || (uint64_t)seq < expect)
		return bad(why, whylen, "seq %" PRIu64 ": a row has the invalid seq %" PRId64,
		           expect, seq);
	if ((uint64_t)seq > expect)
		return bad(why, whylen, "seq %" PRIu64 " missing (found %" PRId64 ")", expect, seq);
	if (!sha_ok || !hash_ok)
		return bad(why, whylen, "seq %" PRIu64 ": stored hashes are not %d bytes", expect,
		           HASH);
	if (body == NULL && sha_len != HASH)
		return bad(why, whylen, "seq %" PRIu64 ": body removed without its SHA-256",
		           expect);
	if (body == NULL)
		memcpy(sha, body_sha, HASH);
	else if (verify_body(body, body_len, sha_len == HASH ? body_sha : NULL, expect, sha, why,
	                     whylen) != 0)
		return 1;
	crypto_chain(prev, expect, sha, chained);
	if (memcmp(chained, hash, HASH) != 0)
		return bad(why, whylen, "seq %" PRIu64 ": chain hash does not match", expect);
	memcpy(prev, hash, HASH);
	return 0;
}

int
log_verify(struct log *lg, uint64_t *bad_seq, char *why, size_t whylen)
{
	if (lg->busy)
		return say(why, whylen, "log_verify: called from inside a scan");
	char found[400];
	if (pages_check(lg->db, "PRAGMA quick_check", found, sizeof found) != 0) {
		if (bad_seq != NULL)
			*bad_seq = 0;
		return bad(why, whylen, "damaged store (%s)", found);
	}
	sqlite3_stmt *st = lg->st[ST_VERIFY];
	uint8_t prev[HASH] = {0};
	uint64_t expect = 1;
	int rc = SQLITE_DONE, ret = 0;
	lg->busy = true;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = verify_row(st, expect, prev, why, whylen);
		if (ret != 0)
			break;
		expect++;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = say_sql(lg->db, why, whylen, "cannot read the log");
	sqlite3_reset(st);
	lg->busy = false;
	/* The rows end before the head this handle has seen: the tail was cut while open. */
	if (ret == 0 && expect - 1 < lg->head_seq)
		ret = bad(why, whylen, "seq %" PRIu64 " missing (the head is %" PRIu64 ")", expect,
		          lg->head_seq);
	if (ret == 1 && bad_seq != NULL)
		*bad_seq = expect;
	return ret;
}

int
log_last_on_topic(struct log *lg, const char *topic, uint64_t *seq, char *err, size_t errlen)
{
	/* Prepared here, not at open: the hub asks once, at start-up. */
	static const char sql[] =
	    "SELECT seq FROM entries WHERE topic = ?1 ORDER BY seq DESC LIMIT 1";
	sqlite3_stmt *st = NULL;
	*seq = 0;
	int rc = sqlite3_prepare_v2(lg->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*seq = (uint64_t)sqlite3_column_int64(st, 0);
	int ret = 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = say_sql(lg->db, err, errlen, "cannot look up the last entry on %s", topic);
	sqlite3_finalize(st);
	return ret;
}

int
log_count_by_org(struct log *lg, log_count_fn fn, void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st = lg->st[ST_COUNT_BY_ORG];
	int rc = SQLITE_DONE;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *org = (const char *)sqlite3_column_text(st, 0);
		int64_t count = sqlite3_column_int64(st, 1);
		if (count > 0)
			fn(arg, org ? org : "", (uint64_t)count);
	}
	int ret = 0;
	if (rc != SQLITE_DONE)
		ret = say_sql(lg->db, err, errlen, "cannot count reports");
	sqlite3_reset(st);
	return ret;
}

int
log_report_at(struct log *lg, uint64_t seq, const char *org, const char *source_id, char *err,
              size_t errlen)
{
	struct stored s;
	const struct keyreader r = lg->rd.db != NULL ? lg->rd : writer_reader(lg);
	return entry_is_key(&r, seq, org, source_id, strlen(source_id), &s, false, err, errlen);
}

/* --- gallring ------------------------------------------------------------- */

/* Sets secure_delete (0 or 1) on the writer; the previous value into *was when not NULL. */
static int
secure_delete_set(struct log *lg, int64_t on, int64_t *was, char *err, size_t errlen)
{
	char sql[48];
	int64_t now = -1;
	if (was != NULL && query_int(lg->db, "PRAGMA secure_delete", was, err, errlen) != 0)
		return -1;
	snprintf(sql, sizeof sql, "PRAGMA secure_delete=%d", on ? 1 : 0);
	return query_int(lg->db, sql, &now, err, errlen);
}

/*
 * Before an entry loses its body: the body's SHA-256 into body_sha (the
 * chain's link to it) and, for a report, the row in `reports` that keeps
 * its key, revision and digest, so that a resend of it is still known.
 * *has_body false: nothing to purge (no such entry, or purged already).
 */
static int
purge_keep(struct log *lg, uint64_t seq, bool *has_body, uint8_t body_sha[HASH], char *err,
           size_t errlen)
{
	const struct keyreader w = writer_reader(lg);
	const char *org = NULL;
	bool purged = false;
	struct report_view v;
	int ret = entry_at_step(&w, seq, &org, &purged, &v, err, errlen);
	*has_body = ret == 1 && !purged;
	if (*has_body) {
		/* The blob first, then its size, as SQLite asks. */
		const void *body = sqlite3_column_blob(w.entry_at, 1);
		crypto_sha256(body, (size_t)sqlite3_column_bytes(w.entry_at, 1), body_sha);
	}
	if (*has_body && v.bytes != NULL) {
		struct stored s = {.revision = v.revision, .seq = seq};
		crypto_sha256(v.bytes, v.len, s.digest);
		ret = report_keep(lg, org, v.source_id, v.source_id_len, &s, err, errlen);
	}
	sqlite3_reset(w.entry_at);
	return ret < 0 ? -1 : 0;
}

/* The UPDATEs of log_purge inside the open transaction. */
static int
purge_rows(struct log *lg, sqlite3_stmt *st, const uint64_t *seqs, size_t n, uint64_t *purged,
           char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		bool has_body = false;
		uint8_t body_sha[HASH];
		if (seqs[i] == 0 || seqs[i] > lg->head_seq)
			continue;
		if (purge_keep(lg, seqs[i], &has_body, body_sha, err, errlen) != 0)
			return -1;
		if (!has_body)
			continue;
		if (bind_ok(lg, sqlite3_bind_int64(st, 1, (int64_t)seqs[i]), err, errlen) != 0 ||
		    bind_ok(lg, sqlite3_bind_blob(st, 2, body_sha, HASH, SQLITE_TRANSIENT), err,
		            errlen) != 0)
			return -1;
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return say_sql(lg->db, err, errlen, "cannot purge seq %" PRIu64, seqs[i]);
		*purged += (uint64_t)sqlite3_changes(lg->db);
	}
	return 0;
}

int
log_purge(struct log *lg, const uint64_t *seqs, size_t n, uint64_t *purged, char *err,
          size_t errlen)
{
	*purged = 0;
	if (lg == NULL || lg->readonly)
		return say(err, errlen, "log_purge: the log is open read-only");
	if (lg->busy)
		return say(err, errlen, "log_purge: called from inside a scan");
	if (keys_join(lg, err, errlen) != 0)
		return -1;
	if (n == 0)
		return 0;
	/* Prepared here, not at open: it runs once a day. */
	sqlite3_stmt *st = NULL;
	int64_t was = 0;
	if (sqlite3_prepare_v2(lg->db,
	                       "UPDATE entries SET body_sha = ?2, body = NULL "
	                       "WHERE seq = ?1 AND body IS NOT NULL",
	                       -1, &st, NULL) != SQLITE_OK)
		return say_sql(lg->db, err, errlen, "cannot prepare the purge");
	int rc = secure_delete_set(lg, 1, &was, err, errlen);
	if (rc == 0)
		rc = stmt_run(lg, ST_BEGIN, err, errlen, "cannot begin the purge");
	if (rc == 0)
		rc = purge_rows(lg, st, seqs, n, purged, err, errlen);
	if (rc == 0)
		rc = stmt_run(lg, ST_COMMIT, err, errlen, "cannot commit the purge");
	if (rc != 0) {
		*purged = 0;
		if (!sqlite3_get_autocommit(lg->db)) {
			char why[256];
			(void)stmt_run(lg, ST_ROLLBACK, why, sizeof why, "rollback failed");
		}
	}
	sqlite3_finalize(st);
	char why[256];
	if (secure_delete_set(lg, was, NULL, why, sizeof why) != 0)
		diag_say("log: cannot reset secure_delete: %s", why);
	return rc;
}

/* --- the checkpointer ----------------------------------------------------- */

/*
 * A failed sync of the database file ends checkpoints for good. Linux
 * reports a failed write-back once to each open file, at its next fsync,
 * and keeps the pages in its cache as clean: a later fsync succeeds
 * without writing them. A PASSIVE checkpoint that leaves frames behind
 * (most rounds under steady writes) counts the frames it copied as done
 * without a sync of its own (wal.c, walCheckpoint: nBackfill), so after a
 * failed write-back the next rounds would copy only the frames after those,
 * their sync would succeed, the WAL would start over, and the pages lost
 * with the write-back would be gone with it: at the next power cut or
 * eviction the database is missing them (tests/integration/test_power_cut.py,
 * FailingDisk: "database disk image is malformed"). The frames are still in
 * the WAL as long as it does not start over: the hub stops (hub.c), and the
 * next start's recovery counts nothing as copied and copies the whole WAL
 * again. Commits need none of this: a commit whose sync failed is rolled
 * back and the next one writes over its frames.
 */
static void
ckpt_broken(struct checkpointer *c, const char *why)
{
	pthread_mutex_lock(&c->mu);
	if (!atomic_load(&c->broken)) {
		snprintf(c->broken_why, sizeof c->broken_why, "%s", why);
		atomic_store(&c->broken, true);
	}
	pthread_mutex_unlock(&c->mu);
}

static bool
io_error(int rc)
{
	return (rc & 0xff) == SQLITE_IOERR;
}

const char *
log_disk_failed(const struct log *lg)
{
	return atomic_load(&lg->ckpt.broken) ? lg->ckpt.broken_why : NULL;
}

/*
 * One PASSIVE checkpoint (never waits for the writer), the database synced
 * after it (see below): the frames copied back, 0 when there was nothing to
 * copy, -1 when another checkpoint was running or it failed (a failure is
 * said once, not every round).
 */
static int
ckpt_round(struct checkpointer *c)
{
	int wal_frames = -1, copied = -1;
	int rc =
	    sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
	const char *why = NULL;
	if (rc == SQLITE_BUSY)
		return -1; /* another checkpoint is running; the next round catches up */
	/*
	 * SQLite syncs the database file only after a checkpoint that copied
	 * the whole WAL back (wal.c, walCheckpoint). A round that leaves frames
	 * behind, as every round under steady writes does, leaves its pages
	 * unsynced, and the writer's catch-up (the complete checkpoint) then
	 * waited for all of them in its fsync, inside a commit: 1.2 ms at
	 * 10,000 reports/s, 6 times a second, against 0.6 to 0.8 ms with only
	 * its own pages to sync. So this thread syncs what its round wrote
	 * (a clean file's sync after a complete round costs a cache flush)
	 * before it tells the writer the round is done.
	 */
	sqlite3_file *db_file = NULL;
	if (rc == SQLITE_OK && copied > 0 && copied != c->synced &&
	    sqlite3_file_control(c->db, "main", SQLITE_FCNTL_FILE_POINTER, &db_file) == SQLITE_OK &&
	    db_file != NULL && db_file->pMethods != NULL) {
		if (db_file->pMethods->xSync(db_file, SQLITE_SYNC_NORMAL) == SQLITE_OK) {
			c->synced = copied;
			atomic_fetch_add(&c->db_syncs, 1);
		} else {
			c->synced = 0;
			why = "cannot sync the database file";
			ckpt_broken(c, "a checkpoint could not sync the database file");
		}
	}
	if (io_error(rc))
		ckpt_broken(c, "a checkpoint met an I/O error");
	if (rc != SQLITE_OK)
		why = sqlite3_errmsg(c->db);
	else if (wal_frames < 0)
		why = "the connection does not see WAL mode";
	if (why != NULL && !c->failing)
		diag_say("log: WAL checkpoint failed: %s", why);
	else if (why == NULL && c->failing)
		diag_say("log: WAL checkpoints work again");
	c->failing = why != NULL;
	return why != NULL ? -1 : copied > 0 ? copied : 0;
}

/*
 * A round, then up to CKPT_FOLLOW_UPS more while each finds new frames:
 * those committed during the one before, a few, copied in a fraction of a
 * millisecond, so that one of them often ends with nothing committed
 * meanwhile. That one is complete and the WAL starts over without the
 * writer's catch-up, which waits inside a commit. Only then is the writer
 * told (news), so that it catches up where the follow-ups could not.
 */
static void
ckpt_run(struct checkpointer *c)
{
	unsigned gen = atomic_load(&c->generation);
	int copied = 0;
	for (int i = 0; i <= CKPT_FOLLOW_UPS && !atomic_load(&c->broken); i++) {
		int n = ckpt_round(c);
		if (n <= copied) /* nothing new, busy or failed */
			break;
		copied = n;
	}
	if (copied > 0)
		atomic_store(&c->news, (uint_fast64_t)gen << 32 | (uint32_t)copied);
}

static void *
ckpt_main(void *arg)
{
	struct checkpointer *c = arg;
	pthread_setname_np(pthread_self(), "esthub-ckpt"); /* for top -H and perf */
	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		if (!c->wake) {
			struct timespec until;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += CKPT_INTERVAL_MS / 1000;
			until.tv_nsec += (long)(CKPT_INTERVAL_MS % 1000) * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			/* ETIMEDOUT is the usual way to wake up. */
			(void)pthread_cond_timedwait(&c->cv, &c->mu, &until);
		}
		c->wake = false;
		if (c->stop)
			break;
		pthread_mutex_unlock(&c->mu);
		ckpt_run(c);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	ckpt_run(c); /* the last one, at close */
	return NULL;
}

/* Writer's WAL hook, after each commit: wakes the checkpointer once the WAL is large. */
static int
ckpt_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	(void)name;
	struct checkpointer *c = arg;
	if (pages < c->last_pages || c->wake_at == 0) {
		c->wake_at = c->wake_pages; /* the WAL started over */
		atomic_fetch_add(&c->generation, 1);
	}
	c->last_pages = pages;
	/*
	 * Hysteresis: under steady writes a PASSIVE checkpoint rarely completes,
	 * the WAL stays past the threshold, and waking on every commit ran
	 * checkpoints (each with an fsync of the database) back to back beside
	 * the commits' own. Wake again only once the WAL has grown by another
	 * CKPT_WAL_BYTES; the timer still checkpoints every CKPT_INTERVAL_MS.
	 */
	if (pages >= c->wake_at) {
		c->wake_at = pages + c->wake_pages;
		pthread_mutex_lock(&c->mu);
		c->wake = true;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	/*
	 * The catch-up (see CATCHUP_MAX_FRAMES). PASSIVE never waits: busy
	 * when the checkpointer is in a round, and then the next round's end
	 * gives another chance. Its failure only leaves the WAL growing.
	 */
	uint_fast64_t news = atomic_load(&c->news);
	int done = (int)(news & UINT32_MAX);
	if ((unsigned)(news >> 32) == atomic_load(&c->generation) && done > 0 && done <= pages &&
	    pages >= CATCHUP_MIN_FRAMES && pages - done <= CATCHUP_MAX_FRAMES &&
	    !atomic_load(&c->broken)) {
		atomic_store(&c->news, 0);
		int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		if (io_error(rc))
			ckpt_broken(c, "a checkpoint after a commit met an I/O error");
	}
	return SQLITE_OK;
}

static int
ckpt_sync_init(struct checkpointer *c, char *err, size_t errlen)
{
	pthread_condattr_t attr;
	if (pthread_condattr_init(&attr) != 0)
		return say(err, errlen, "log: cannot set up the checkpointer");
	int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0 && (rc = pthread_mutex_init(&c->mu, NULL)) == 0) {
		rc = pthread_cond_init(&c->cv, &attr);
		if (rc != 0)
			pthread_mutex_destroy(&c->mu);
	}
	pthread_condattr_destroy(&attr);
	if (rc != 0)
		return say(err, errlen, "log: cannot set up the checkpointer: %s", strerror(rc));
	c->sync_ready = true;
	return 0;
}

/* Opens the checkpointer's connection and starts its thread. */
static int
ckpt_start(struct log *lg, const char *path, int64_t page_size, char *err, size_t errlen)
{
	struct checkpointer *c = &lg->ckpt;
	int64_t pages = CKPT_WAL_BYTES / (page_size > 0 ? page_size : 4096);
	c->wake_pages = (int)(pages > 0 ? pages : 1);
	atomic_init(&c->news, 0);
	atomic_init(&c->generation, 0);
	atomic_init(&c->db_syncs, 0);
	atomic_init(&c->broken, false);
	if (ckpt_sync_init(c, err, errlen) != 0)
		return -1;
	int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return say_sql(c->db, err, errlen, "%s: cannot open for checkpoints", path);
	if (sqlite3_busy_timeout(c->db, LOG_BUSY_TIMEOUT_MS) != SQLITE_OK)
		return say_sql(c->db, err, errlen, "%s: cannot set busy_timeout", path);
	/*
	 * A connection that has never read the file does not know it is in WAL
	 * mode, and its checkpoints do nothing (and say OK). One read opens the WAL.
	 */
	int64_t objects = 0;
	if (query_int(c->db, "SELECT count(*) FROM sqlite_schema", &objects, err, errlen) != 0)
		return -1;
	rc = pthread_create(&c->thread, NULL, ckpt_main, c);
	if (rc != 0)
		return say(err, errlen, "log: cannot start the checkpointer: %s", strerror(rc));
	c->started = true;
	sqlite3_wal_hook(lg->db, ckpt_wal_hook, c);
	return 0;
}

static void
ckpt_stop(struct log *lg)
{
	struct checkpointer *c = &lg->ckpt;
	if (c->started) {
		sqlite3_wal_hook(lg->db, NULL, NULL);
		pthread_mutex_lock(&c->mu);
		c->stop = true;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
		c->started = false;
	}
	if (c->db != NULL && sqlite3_close(c->db) != SQLITE_OK)
		diag_say("log: cannot close the checkpointer's connection: %s",
		         sqlite3_errmsg(c->db));
	c->db = NULL;
	if (c->sync_ready) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		c->sync_ready = false;
	}
}

/* --- opening -------------------------------------------------------------- */

/*
 * Tells an esthub store from anything else without writing to the file.
 * Returns 1 for an empty file (no schema at all), 0 for an esthub store of
 * this schema version or an earlier one (its version in *version), -1
 * otherwise.
 */
static int
store_identify(sqlite3 *db, const char *path, int64_t *version, char *err, size_t errlen)
{
	int64_t app = 0, objects = 0;
	*version = 0;
	char why[256];
	if (query_int(db, "PRAGMA application_id", &app, why, sizeof why) != 0) {
		if (sqlite3_errcode(db) == SQLITE_NOTADB)
			return say(err, errlen, "%s: not an esthub store (not an SQLite database)",
			           path);
		return say(err, errlen, "%s: cannot read: %s", path, why);
	}
	if (query_int(db, "PRAGMA user_version", version, why, sizeof why) != 0 ||
	    query_int(db, "SELECT count(*) FROM sqlite_schema", &objects, why, sizeof why) != 0) {
		if (sqlite3_errcode(db) == SQLITE_CORRUPT)
			return say(err, errlen, "%s: damaged store (%s)", path, why);
		return say(err, errlen, "%s: cannot read: %s", path, why);
	}
	if (app == 0 && *version == 0 && objects == 0)
		return 1;
	if (app != LOG_APPLICATION_ID)
		return say(err, errlen,
		           "%s: not an esthub store (SQLite database with application_id %" PRId64
		           ")",
		           path, app);
	if (*version < 1 || *version > LOG_SCHEMA_VERSION)
		return say(err, errlen,
		           "%s: esthub store of schema version %" PRId64
		           ", this esthub reads versions 1 to %d",
		           path, *version, LOG_SCHEMA_VERSION);
	return 0;
}

static int
store_create(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	char marks[128], why[512];
	snprintf(marks, sizeof marks, "PRAGMA application_id=%d; PRAGMA user_version=%d;",
	         LOG_APPLICATION_ID, LOG_SCHEMA_VERSION);
	if (exec_sql(db, "BEGIN IMMEDIATE", why, sizeof why) != 0)
		return say(err, errlen, "%s: cannot create the store: %s", path, why);
	if (exec_sql(db, schema_sql, why, sizeof why) != 0 ||
	    exec_sql(db, marks, why, sizeof why) != 0 || exec_sql(db, "COMMIT", why, sizeof why)) {
		say(err, errlen, "%s: cannot create the store: %s", path, why);
		exec_sql(db, "ROLLBACK", why, sizeof why);
		return -1;
	}
	return 0;
}

/*
 * Version 1 to 2: `report_counts`, counted from `reports`, which held a row
 * for every report entry. Those rows stay: the judging reads `reports` only
 * for a revision a later one replaced (version 1 has that row) or for a
 * purged report (it has that too), and a row more is never read wrongly.
 * Version 2 to 3: nothing to rewrite. Its rows keep their body_sha, which
 * verify_row checks against the body, and new rows leave it empty.
 * Version 3 to 4: `counted`, at the head (earlier versions counted every
 * commit).
 */
static int
schema_upgrade(sqlite3 *db, const char *path, int64_t version, char *err, size_t errlen)
{
	char sql[1024], why[512];
	const char *to_2 = version < 2 ? COUNTS_TABLE_SQL
	                       "INSERT INTO report_counts(org, n) "
	                       "SELECT org, count(*) FROM reports GROUP BY org;"
	                               : "";
	const char *to_4 = version < 4 ? COUNTED_TABLE_SQL
	                       "INSERT INTO counted SELECT 1, coalesce(max(seq), 0) FROM entries;"
	                               : "";
	snprintf(sql, sizeof sql, "BEGIN IMMEDIATE; %s %s PRAGMA user_version=%d; COMMIT;", to_2,
	         to_4, LOG_SCHEMA_VERSION);
	if (exec_sql(db, sql, why, sizeof why) != 0) {
		say(err, errlen, "%s: cannot bring the store to schema version %d: %s", path,
		    LOG_SCHEMA_VERSION, why);
		exec_sql(db, "ROLLBACK", why, sizeof why);
		return -1;
	}
	diag_say("log: %s: brought to schema version %d", path, LOG_SCHEMA_VERSION);
	return 0;
}

/* WAL, synchronous=FULL, no automatic checkpoint; the page size comes back for the checkpointer. */
static int
writer_configure(sqlite3 *db, const char *path, int64_t *page_size, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const char *mode = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		say(err, errlen, "%s: cannot switch to WAL (journal mode %s): %s", path,
		    mode ? mode : "unknown", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < sizeof writer_pragmas / sizeof writer_pragmas[0]; i++)
		if (exec_sql(db, writer_pragmas[i], err, errlen) != 0)
			return -1;
	int64_t sync = -1;
	if (query_int(db, "PRAGMA synchronous", &sync, err, errlen) != 0 ||
	    query_int(db, "PRAGMA page_size", page_size, err, errlen) != 0)
		return -1;
	if (sync != 2)
		return say(err, errlen, "%s: synchronous is %" PRId64 ", not FULL", path, sync);
	return 0;
}

/*
 * The statements, for a store of schema version `version` (a writer has
 * brought it to LOG_SCHEMA_VERSION; a read-only open reads it as it is).
 */
static int
stmts_prepare(struct log *lg, const char *path, int64_t version, char *err, size_t errlen)
{
	/* Version 1 has no report_counts; versions 2 and 3 keep it up to date at every commit. */
	static const char count_v1[] =
	    "SELECT org, count(*) FROM reports GROUP BY org ORDER BY org";
	static const char count_v3[] = "SELECT org, n FROM report_counts ORDER BY org";
	for (int i = 0; i < ST__COUNT; i++) {
		if (version < 4 && (i == ST_COUNT_ADD || i == ST_COUNTED_SET))
			continue;
		const char *sql = stmt_sql[i];
		if (i == ST_COUNT_BY_ORG && version < 4)
			sql = version == 1 ? count_v1 : count_v3;
		int rc = sqlite3_prepare_v3(lg->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &lg->st[i],
		                            NULL);
		if (rc != SQLITE_OK)
			return say_sql(lg->db, err, errlen, "%s: not an esthub store of version %d",
			               path, LOG_SCHEMA_VERSION);
	}
	return 0;
}

/*
 * A read-only connection beside the writer's (struct log's rd, and the
 * index builder's): the same hardening as the writer's, a small page cache.
 */
static int
reader_connect(const char *path, struct keyreader *r, char *err, size_t errlen)
{
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	        SQLITE_OK ||
	    sqlite3_busy_timeout(r->db, LOG_BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    sqlite3_db_config(r->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) != SQLITE_OK ||
	    sqlite3_db_config(r->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL) != SQLITE_OK ||
	    sqlite3_exec(r->db, "PRAGMA cache_size=-256", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(r->db, stmt_sql[ST_ENTRY_AT], -1, SQLITE_PREPARE_PERSISTENT,
	                       &r->entry_at, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(r->db, stmt_sql[ST_REPORT_AT], -1, SQLITE_PREPARE_PERSISTENT,
	                       &r->report_at, NULL) != SQLITE_OK)
		return say_sql(r->db, err, errlen, "%s: cannot open a reader connection", path);
	return 0;
}

static void
reader_close(struct keyreader *r)
{
	sqlite3_finalize(r->entry_at);
	sqlite3_finalize(r->report_at);
	if (r->db != NULL && sqlite3_close(r->db) != SQLITE_OK)
		diag_say("log: cannot close a reader connection: %s", sqlite3_errmsg(r->db));
	*r = (struct keyreader){0};
}

/* Puts (org, sid) at seq in the index while it is built, unless it holds a later revision. */
static int
keys_load_one(struct log *lg, const struct keyreader *r, const char *org, const char *sid,
              size_t sid_len, uint64_t seq, char *err, size_t errlen)
{
	struct keyidx_probe p;
	struct stored s;
	int found = key_find(lg, r, org, sid, sid_len, key_hash(lg, org, sid, sid_len), &p, &s,
	                     false, err, errlen);
	if (found < 0)
		return -1;
	if (found == 1 && s.seq >= seq)
		return 0;
	if (keyidx_put(lg->keys, &p, seq) != 0)
		return say(err, errlen, "out of memory building the report index");
	keyidx_keep(lg->keys);
	return 0;
}

/*
 * Builds the index of report keys on r: every report entry with its body,
 * in seq order, then the purged ones from their rows in `reports`. 0, or
 * -1 with what it could not read in why.
 */
static int
keys_load(struct log *lg, const struct keyreader *r, char *why, size_t whylen)
{
	static const char *const sql[] = {
	    "SELECT seq, org, body FROM entries WHERE body IS NOT NULL ORDER BY seq",
	    "SELECT r.seq, r.org, r.source_id FROM reports AS r JOIN entries AS e ON e.seq = r.seq "
	    "WHERE e.body IS NULL",
	};
	int ret = 0;
	for (size_t k = 0; ret == 0 && k < sizeof sql / sizeof sql[0]; k++) {
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(r->db, sql[k], -1, &st, NULL);
		while (ret == 0 && st != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
			const char *org = (const char *)sqlite3_column_text(st, 1);
			const void *blob = sqlite3_column_blob(st, 2);
			size_t len = (size_t)sqlite3_column_bytes(st, 2);
			struct report_view v = {.source_id = blob, .source_id_len = len};
			int kind = k == 0 ? entry_report_view(blob, len, &v) : 1;
			if (kind < 0 || org == NULL || (kind == 1 && v.source_id == NULL))
				ret = say(why, whylen,
				          "seq %" PRIu64 ": stored entry cannot be read", seq);
			else if (kind == 1)
				ret = keys_load_one(lg, r, org, v.source_id, v.source_id_len, seq,
				                    why, whylen);
		}
		if (ret == 0 && rc != SQLITE_DONE)
			ret = say_sql(r->db, why, whylen, "cannot read the log");
		sqlite3_finalize(st);
	}
	return ret;
}

/* The index builder's thread: a connection of its own, keys_load, the outcome in keys_rc. */
static void *
keys_main(void *arg)
{
	struct log *lg = arg;
	struct keyreader r = {0};
	char why[400] = "";
	pthread_setname_np(pthread_self(), "esthub-keys");
	int rc = reader_connect(lg->path, &r, lg->keys_err, sizeof lg->keys_err);
	if (rc == 0 && (rc = keys_load(lg, &r, why, sizeof why)) != 0)
		say(lg->keys_err, sizeof lg->keys_err,
		    "%s: damaged store (indexing its reports: %s; run estctl verify)", lg->path,
		    why);
	reader_close(&r);
	lg->keys_rc = rc;
	return NULL;
}

/*
 * Starts building the index of report keys: on a thread, or here when no
 * thread can be had. Measured with a 1,060,000-entry log: see
 * bench/README.md ("An index of report keys in memory").
 */
static int
keys_start(struct log *lg, const char *path, char *err, size_t errlen)
{
	if (lg->head_seq > KEYIDX_SEQ_MAX)
		return say(err, errlen,
		           "%s: %" PRIu64 " entries, more than this esthub indexes (%" PRIu32 ")",
		           path, lg->head_seq, (uint32_t)KEYIDX_SEQ_MAX);
	if ((lg->path = strdup(path)) == NULL || (lg->keys = keyidx_new()) == NULL ||
	    keyidx_reserve(lg->keys, lg->head_seq, 1) != 0)
		return say(err, errlen,
		           "%s: out of memory for the report index (%" PRIu64 " entries)", path,
		           lg->head_seq);
	if (pthread_create(&lg->keys_thread, NULL, keys_main, lg) == 0) {
		lg->keys_thread_on = true;
		return 0;
	}
	keys_main(lg);
	return lg->keys_rc == 0 ? 0 : say(err, errlen, "%s", lg->keys_err);
}

/* Waits for the index builder; 0, or -1 with its reason (again at every call). */
static int
keys_join(struct log *lg, char *err, size_t errlen)
{
	if (lg->keys_thread_on) {
		pthread_join(lg->keys_thread, NULL);
		lg->keys_thread_on = false;
	}
	return lg->keys_rc == 0 ? 0 : say(err, errlen, "%s", lg->keys_err);
}

int
log_index_ready(struct log *lg, char *err, size_t errlen)
{
	return lg->readonly ? 0 : keys_join(lg, err, errlen);
}

/* Reads the last row: its seq and hash become the head. */
static int
head_load(struct log *lg, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = lg->st[ST_HEAD];
	int rc = sqlite3_step(st), ret = 0;
	if (rc == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		if (seq < 1 || sqlite3_column_bytes(st, 1) != HASH) {
			ret =
			    say(err, errlen, "%s: the head row (seq %" PRId64 ") has no valid hash",
			        path, seq);
		} else {
			lg->head_seq = (uint64_t)seq;
			memcpy(lg->head_hash, sqlite3_column_blob(st, 1), HASH);
		}
	} else if (rc != SQLITE_DONE) {
		ret = say_sql(lg->db, err, errlen, "%s: cannot read the head of the log", path);
	}
	sqlite3_reset(st);
	return ret;
}

/*
 * The writer's check of the chain's end before it extends it: the head
 * row's body against its SHA-256, its hash against the row before it.
 */
static int
head_check(struct log *lg, const char *path, char *err, size_t errlen)
{
	if (lg->head_seq == 0)
		return 0;
	sqlite3_stmt *st = lg->st[ST_TAIL];
	uint8_t prev[HASH] = {0};
	uint64_t expect = lg->head_seq > 1 ? lg->head_seq - 1 : 1;
	char why[256] = "";
	int rc = SQLITE_DONE, ret = 0;
	if (bind_ok(lg, sqlite3_bind_int64(st, 1, (int64_t)expect), err, errlen) != 0)
		return -1;
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (expect == lg->head_seq) {
			ret = verify_row(st, expect, prev, why, sizeof why);
		} else if ((uint64_t)sqlite3_column_int64(st, 0) != expect ||
		           sqlite3_column_bytes(st, 3) != HASH) {
			ret = bad(why, sizeof why, "seq %" PRIu64 " missing or damaged", expect);
		} else {
			memcpy(prev, sqlite3_column_blob(st, 3), HASH);
		}
		expect++;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = say_sql(lg->db, why, sizeof why, "cannot read the head of the log");
	sqlite3_reset(st);
	if (ret != 0)
		return say(err, errlen, "%s: damaged store (%s; run estctl verify)", path, why);
	return 0;
}

/*
 * Writes the WAL's first WAL_PREALLOC_BYTES (see there) before SQLite
 * opens the store: zeros after whatever the file holds, so a WAL a crash
 * left keeps its frames for SQLite to recover. Only the writer calls this,
 * and only the hub opens the writer, under the instance's lock: nobody
 * appends to the WAL meanwhile. Best effort: where the disk has no room
 * for it the file goes back as it was and the store opens as before.
 */
static void
wal_prealloc(const char *path)
{
	char wal[PATH_MAX];
	struct stat db, st;
	if (snprintf(wal, sizeof wal, "%s-wal", path) >= (int)sizeof wal || stat(path, &db) != 0)
		return;
	bool existed = stat(wal, &st) == 0;
	if (existed && st.st_size >= WAL_PREALLOC_BYTES)
		return;
	int fd = open(wal, O_WRONLY | O_CREAT | O_CLOEXEC, db.st_mode & 0777);
	if (fd < 0 || fstat(fd, &st) != 0) {
		diag_say("log: %s: cannot open to prepare it: %s", wal, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	static const char zeros[1 << 16];
	off_t at = st.st_size;
	int rc =
	    existed ? 0 : fchmod(fd, db.st_mode & 0777); /* as SQLite makes it: the store's mode */
	while (rc == 0 && at < WAL_PREALLOC_BYTES) {
		size_t n = sizeof zeros;
		if ((off_t)n > WAL_PREALLOC_BYTES - at)
			n = (size_t)(WAL_PREALLOC_BYTES - at);
		ssize_t w = pwrite(fd, zeros, n, at);
		if (w > 0)
			at += w;
		else if (w == 0 || errno != EINTR)
			rc = -1;
	}
	if (rc == 0)
		rc = fdatasync(fd);
	if (rc == 0 && !existed)
		rc = durable_dir_of(wal);
	if (rc != 0) {
		int e = errno;
		if (existed)
			(void)!ftruncate(fd, st.st_size);
		else
			(void)unlink(wal);
		diag_say(
		    "log: %s: no room to prepare %d MiB of WAL (%s); commits append to it instead",
		    wal, WAL_PREALLOC_BYTES >> 20, strerror(e));
	}
	close(fd);
}

/* Opens the connection, hardened against a store edited to run code in triggers or views. */
static int
db_open(struct log *lg, const char *path, int flags, char *err, size_t errlen)
{
	int oflags = SQLITE_OPEN_NOMUTEX;
	if (lg->readonly)
		oflags |= SQLITE_OPEN_READONLY;
	else
		oflags |= SQLITE_OPEN_READWRITE | ((flags & LOG_CREATE) ? SQLITE_OPEN_CREATE : 0);
	/* Only esthub init makes a store: a missing one is lost, not new. */
	struct stat st;
	if (!(flags & LOG_CREATE) && stat(path, &st) != 0)
		return say(err, errlen,
		           "%s: %s; esthub init makes a store, a lost one comes back from a backup "
		           "(estctl restore FILE)",
		           path, strerror(errno));
	/* The writer's WAL writes go out one run per sync (walbuf.h). */
	const char *vfs = NULL;
	if (!lg->readonly) {
		if (walbuf_register() != SQLITE_OK)
			return say(err, errlen, "%s: cannot set up SQLite's file layer (walbuf)",
			           path);
		vfs = WALBUF_VFS;
	}
	int rc = sqlite3_open_v2(path, &lg->db, oflags, vfs);
	if (rc != SQLITE_OK)
		return say_sql(lg->db, err, errlen, "%s: cannot open", path);
	if (sqlite3_busy_timeout(lg->db, LOG_BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    sqlite3_db_config(lg->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) != SQLITE_OK ||
	    sqlite3_db_config(lg->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL) != SQLITE_OK)
		return say_sql(lg->db, err, errlen, "%s: cannot configure the connection", path);
	return 0;
}

/*
 * The steps of log_open after the connection is there.
 *
 * The integrity test on open is cheap on purpose. A full PRAGMA quick_check
 * reads every page: measured for 1M reports (a 480 MB file) at 0.5 s with
 * the file in the page cache and 3.8 to 5.2 s right after it was evicted
 * (a reboot), and `esthub check`, `estctl status` and the hub all open the
 * store. So open checks what every later step depends on: the header and
 * identity, the schema's b-tree (quick_check(sqlite_schema), instant), the
 * head row and, for the writer that is about to extend the chain, its last
 * link. The full quick_check runs in log_verify, which reads everything
 * anyway. The writer does read every entry after the open, on a thread,
 * to index the report keys (keys_start): a page SQLite cannot read there,
 * or a body that is no LogEntry, stops every append as a damaged store
 * (log_index_ready says why; the hub asks before it is ready).
 */
static int
open_store(struct log *lg, const char *path, int flags, char *err, size_t errlen)
{
	int64_t page_size = 4096, version = 0;
	int kind = store_identify(lg->db, path, &version, err, errlen);
	if (kind < 0)
		return -1;
	if (kind == 1 && (lg->readonly || !(flags & LOG_CREATE)))
		return say(err, errlen, "%s: empty file, not an esthub store", path);
	char why[400];
	if (kind != 1 &&
	    pages_check(lg->db, "PRAGMA quick_check(sqlite_schema)", why, sizeof why) != 0)
		return say(err, errlen, "%s: damaged store (%s)", path, why);
	if (!lg->readonly && writer_configure(lg->db, path, &page_size, err, errlen) != 0)
		return -1;
	if (kind == 1 && store_create(lg->db, path, err, errlen) != 0)
		return -1;
	if (kind == 0 && version < LOG_SCHEMA_VERSION && !lg->readonly &&
	    schema_upgrade(lg->db, path, version, err, errlen) != 0)
		return -1;
	if (stmts_prepare(lg, path, lg->readonly ? version : LOG_SCHEMA_VERSION, err, errlen) !=
	        0 ||
	    head_load(lg, path, err, errlen) != 0)
		return -1;
	lg->counts_stale = !lg->readonly; /* read back at the first append: open stays cheap */
	if (!lg->readonly && head_check(lg, path, err, errlen) != 0)
		return -1;
	if (!lg->readonly && (reader_connect(path, &lg->rd, err, errlen) != 0 ||
	                      keys_start(lg, path, err, errlen) != 0))
		return -1;
	if (!lg->readonly && ckpt_start(lg, path, page_size, err, errlen) != 0)
		return -1;
	return 0;
}

int
log_open(struct log **out, const char *path, int flags, char *err, size_t errlen)
{
	*out = NULL;
	if ((flags & LOG_READONLY) && (flags & LOG_CREATE))
		return say(err, errlen, "%s: cannot create a store read-only", path);
	struct log *lg = calloc(1, sizeof *lg);
	if (lg == NULL)
		return say(err, errlen, "%s: out of memory", path);
	lg->readonly = (flags & LOG_READONLY) != 0;
	if (sodium_init() < 0) {
		free(lg);
		return say(err, errlen, "%s: cannot start libsodium", path);
	}
	randombytes_buf(lg->key_secret, sizeof lg->key_secret);
	if (!lg->readonly && !(flags & LOG_CREATE))
		wal_prealloc(path);
	if (db_open(lg, path, flags, err, errlen) != 0 ||
	    open_store(lg, path, flags, err, errlen) != 0) {
		log_close(&lg);
		return -1;
	}
	*out = lg;
	return 0;
}

void
log_close(struct log **lgp)
{
	if (lgp == NULL || *lgp == NULL)
		return;
	struct log *lg = *lgp;
	ckpt_stop(lg);
	(void)keys_join(lg, NULL, 0);
	keyidx_free(&lg->keys);
	free(lg->path);
	reader_close(&lg->rd);
	for (int i = ST__COUNT - 1; i >= 0; i--)
		sqlite3_finalize(lg->st[i]);
	if (lg->db != NULL && sqlite3_close(lg->db) != SQLITE_OK)
		diag_say("log: cannot close the store: %s", sqlite3_errmsg(lg->db));
	counts_clear(lg);
	free(lg->counts);
	free(lg->hidden);
	free(lg->arena);
	free(lg->batch_keys);
	free(lg->spare);
	free(lg);
	*lgp = NULL;
}

/*
 * The copy goes in steps of this many pages, each synced before the next:
 * a running hub's fdatasync waits for whatever else is dirty on its
 * filesystem (ext4's ordered journal): a 1 GiB store copied at once put
 * the p99 of its acknowledgements at 139 to 222 ms, in 1 MiB steps at 4 ms
 * (bench/README.md, "Backups beside a running hub").
 */
#define BACKUP_STEP_PAGES 256

/* Steps the copy to its end, syncing fd after each step: SQLITE_DONE, or the failing code. */
static int
backup_steps(sqlite3_backup *b, int fd)
{
	int rc, busy = 0;
	for (;;) {
		rc = sqlite3_backup_step(b, BACKUP_STEP_PAGES);
		if (rc == SQLITE_OK) {
			if (fdatasync(fd) != 0)
				return SQLITE_IOERR_FSYNC;
			continue;
		}
		/* BUSY only while a WAL is being recovered: tried again for a while. */
		if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && busy++ < 50) {
			sqlite3_sleep(100);
			continue;
		}
		return rc;
	}
}

/* The copy (log_backup) into to, whose file fd is: 0, or -1 with err; the caller removes dest. */
static int
backup_into(struct log *lg, sqlite3 *to, int fd, const char *dest, char *err, size_t errlen)
{
	/*
	 * No journal for a file that is nobody's until it is whole, and a small
	 * cache, so that the pages reach the file step by step.
	 */
	if (exec_sql(to, "PRAGMA journal_mode=OFF", err, errlen) != 0 ||
	    exec_sql(to, "PRAGMA cache_size=64", err, errlen) != 0)
		return -1;
	/*
	 * One read transaction around every step: the copy is one snapshot
	 * however the hub appends meanwhile (without it each step would take
	 * its own, and the copy start over at every commit of the hub).
	 */
	int64_t objects = 0;
	if (exec_sql(lg->db, "BEGIN", err, errlen) != 0)
		return -1;
	if (query_int(lg->db, "SELECT count(*) FROM sqlite_schema", &objects, err, errlen) != 0) {
		(void)exec_sql(lg->db, "ROLLBACK", NULL, 0);
		return -1;
	}
	sqlite3_backup *b = sqlite3_backup_init(to, "main", lg->db, "main");
	int rc = b != NULL ? backup_steps(b, fd) : SQLITE_ERROR;
	int done = b != NULL ? sqlite3_backup_finish(b) : SQLITE_ERROR;
	(void)exec_sql(lg->db, "ROLLBACK", NULL, 0); /* the read transaction: nothing to keep */
	if (b == NULL)
		return say_sql(to, err, errlen, "%s: cannot start the copy", dest);
	if (rc != SQLITE_DONE)
		return say(err, errlen, "%s: the copy failed: %s", dest, sqlite3_errstr(rc));
	if (done != SQLITE_OK)
		return say_sql(to, err, errlen, "%s: the copy failed", dest);
	/* One file, no -wal beside it: rollback journal mode. */
	if (exec_sql(to, "PRAGMA journal_mode=DELETE", err, errlen) != 0)
		return -1;
	return 0;
}

int
log_backup(struct log *lg, const char *dest, char *err, size_t errlen)
{
	if (lg == NULL || lg->busy)
		return say(err, errlen, "log_backup: called from inside a scan");
	/* The copy holds everything the store does: readable by its owner only, like the store. */
	int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return say(err, errlen, "%s: cannot create: %s", dest, strerror(errno));
	sqlite3 *to = NULL;
	int rc = sqlite3_open_v2(dest, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK)
		rc = say_sql(to, err, errlen, "%s: cannot create", dest);
	else
		rc = backup_into(lg, to, fd, dest, err, errlen);
	if (to != NULL && sqlite3_close(to) != SQLITE_OK && rc == 0)
		rc = say_sql(to, err, errlen, "%s: cannot close", dest);
	if (rc == 0 && fsync(fd) != 0)
		rc = say(err, errlen, "%s: cannot sync: %s", dest, strerror(errno));
	close(fd);
	if (rc != 0) {
		unlink(dest);
		char journal[4200];
		snprintf(journal, sizeof journal, "%s-journal", dest);
		unlink(journal);
	}
	return rc;
}

int
log_set_max_pages(struct log *lg, int max_pages)
{
	char sql[64], err[256];
	int64_t now = -1;
	snprintf(sql, sizeof sql, "PRAGMA max_page_count=%d", max_pages);
	if (lg == NULL || lg->readonly || query_int(lg->db, sql, &now, err, sizeof err) != 0)
		return -1;
	return now > INT32_MAX ? INT32_MAX : (int)now;
}
