/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox: the adapter's durable queue (SQLite, WAL, synchronous=FULL). Every
 * record read from a partner file becomes one row, in one transaction per
 * file, before anything is sent; the sender takes pending rows from here and
 * marks them done with the hub's answer. A crashed run leaves its rows
 * pending and the next run sends them.
 *
 * The outbox also keeps the revision rules of partner-formats.md: per
 * source id it knows the last revision sent and a digest of its content
 * (SHA-256 of the packed Report with revision 0, so content compares apart
 * from its revision). A record with the same content as one already queued
 * is not sent again: it takes that record's outcome. For a format without
 * revisions of its own, changed content goes out as the next revision; for
 * a format with its own, a record older than the last one sent is skipped.
 *
 * Measure updates (docs/measures.md) are rows of their own kind: no
 * revision rules apply to them, every one is sent (the hub answers a repeat
 * with a duplicate), each in an envelope of its own.
 *
 * One process at a time: the database is opened in exclusive locking mode.
 * An outbox of schema version 1 (reports only) is migrated on opening.
 */
#ifndef ESTHUB_ADAPTER_OUTBOX_H
#define ESTHUB_ADAPTER_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "est.pb-c.h"

#define OUTBOX_DEFAULT_PATH        "est-adapter.outbox"
#define OUTBOX_DEFAULT_MAX_PENDING 100000

struct outbox;

enum outbox_rc {
	OUTBOX_OK = 0,
	OUTBOX_FULL,  /* the pending cap is reached: nothing was added */
	OUTBOX_ERROR, /* SQLite or memory failure; outbox_error() says which */
};

/* A record's outcome. Pending until the hub answered (or forever, for no row). */
enum outbox_status {
	OUTBOX_PENDING = 0,
	OUTBOX_ACCEPTED,
	OUTBOX_DUPLICATE,
	OUTBOX_REJECTED,
	OUTBOX_SKIPPED,
};

/* What a pending row sends. */
enum outbox_kind {
	OUTBOX_KIND_REPORT = 0, /* a packed Report, in a ReportBatch with others */
	OUTBOX_KIND_MEASURE,    /* a packed Measure update, in an envelope of its own */
};

/* One row as handed to callbacks; every pointer is borrowed for the call. */
struct outbox_row {
	int64_t id;
	const char *file;
	int64_t record;
	const char *source_id; /* NULL when the record could not be translated */
	bool has_revision;
	uint32_t revision;
	enum outbox_status status;
	uint64_t seq;      /* accepted, duplicate: the log seq */
	const char *error; /* rejected, skipped: the reason; "" otherwise */
};

typedef void (*outbox_row_fn)(void *arg, const struct outbox_row *row);

/* The hub's answer for one sent row. */
struct outbox_result {
	int64_t id;
	enum outbox_status status; /* accepted, duplicate or rejected */
	uint64_t seq;
	const char *error;
	bool refused; /* the hub refused the whole envelope: not a judgement of the content */
};

/*
 * Opens or creates the outbox at path, holding at most max_pending pending
 * rows. Fails (NULL, reason in err) when the file cannot be opened, is not
 * an outbox of a known schema version, or is used by another process.
 * The caller owns the result.
 */
struct outbox *outbox_open(const char *path, size_t max_pending, char *err, size_t errlen);

/* Closes the database and frees *ob; sets *ob to NULL. NULL-safe. */
void outbox_destroy(struct outbox **ob);

/* The reason for the last OUTBOX_ERROR or OUTBOX_FULL, for a message. */
const char *outbox_error(const struct outbox *ob);

/* The path the outbox was opened with. */
const char *outbox_path(const struct outbox *ob);

/*
 * A number unique to this run of this outbox (counted in the file); the
 * sender builds unique request ids from it.
 */
uint32_t outbox_run(const struct outbox *ob);

/* Transactions: a file's rows are added between outbox_begin and outbox_commit. */
int outbox_begin(struct outbox *ob);
int outbox_commit(struct outbox *ob);
/* Drops everything added since outbox_begin. */
void outbox_rollback(struct outbox *ob);

/*
 * Adds a translated report of file at record under the revision rules.
 * own_revision: the format carries its own revision (see format.h). r is
 * changed: its revision is set to the one it goes out with. Returns OUTBOX_OK
 * with the new row's id in *id, OUTBOX_FULL when the row would be pending
 * beyond the cap, or OUTBOX_ERROR. Must run inside outbox_begin.
 */
int outbox_add_report(struct outbox *ob, const char *file, int64_t record, Est__V1__Report *r,
                      bool own_revision, int64_t *id);

/*
 * Adds a record that goes nowhere, done at once with status (rejected: it
 * could not be translated; skipped: by a mapping rule) and the reason.
 * source_id may be NULL. Returns OUTBOX_OK with the row's id in *id, or OUTBOX_ERROR.
 */
int outbox_add_done(struct outbox *ob, const char *file, int64_t record, const char *source_id,
                    enum outbox_status status, const char *reason, int64_t *id);

/*
 * Adds a measure update (measure_id and the new status and/or outcome) of
 * file at record, to be sent as it is: no revision, no digest, no
 * same-content shortcut. Returns OUTBOX_OK with the new row's id in *id,
 * OUTBOX_FULL or OUTBOX_ERROR. Must run inside outbox_begin.
 */
int outbox_add_measure(struct outbox *ob, const char *file, int64_t record,
                       const Est__V1__Measure *m, int64_t *id);

/* Calls fn for every row with an id in [first, last] that is done, in id order. */
int outbox_each_done(struct outbox *ob, int64_t first, int64_t last, outbox_row_fn fn, void *arg);

/* How many rows are pending (waiting to be sent or for an answer). */
size_t outbox_pending(const struct outbox *ob);

/*
 * After the hub's store was restored from a backup through seq head, the
 * records the hub acknowledged after it (accepted or duplicate with a seq
 * past head, reports and measure updates and the rows that took their
 * outcome) are no longer in its log: makes them pending again, so that
 * they are sent as if new, in their first order. *n gets how many rows.
 * OUTBOX_OK, or OUTBOX_ERROR (outbox_error says why; nothing changed).
 */
int outbox_resend_after(struct outbox *ob, uint64_t head, size_t *n);

/*
 * The rows to send: fn is called with each pending report or measure row
 * with an id above after_id, in id order, with its kind and its packed
 * Report or Measure (borrowed). fn returns 0 when it took the row, nonzero
 * to stop before it. At most limit rows.
 */
typedef int (*outbox_payload_fn)(void *arg, int64_t id, enum outbox_kind kind,
                                 const uint8_t *payload, size_t len);
int outbox_each_to_send(struct outbox *ob, int64_t after_id, size_t limit, outbox_payload_fn fn,
                        void *arg);

/*
 * Marks the rows of results done, with every row that took its outcome
 * from one of them, in one transaction; then calls fn (if not NULL) for
 * each row that became done, in order. Rows already done are left as they
 * are. Returns OUTBOX_OK or OUTBOX_ERROR (nothing changed).
 */
int outbox_finish(struct outbox *ob, const struct outbox_result *results, size_t n,
                  outbox_row_fn fn, void *arg);

/* "accepted", "duplicate", "rejected", "skipped" or "pending". */
const char *outbox_status_name(enum outbox_status s);

#endif
