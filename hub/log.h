/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: the shared log, one totally ordered, tamper-evident sequence of
 * entries in SQLite (WAL, synchronous=FULL). The only module that touches
 * SQLite for the hub. Every entry has a seq from 1 without gaps and a hash
 * chaining it to the one before (wire/crypto.h). Reports are stored at most
 * once per (org, source_id, revision); the judgement of a resend is made
 * here, inside the transaction that appends, so a batch sees its own
 * earlier reports.
 *
 * Threading: one struct log is used by one thread at a time. log_open for
 * writing also starts a checkpointer thread with its own connection, so the
 * WAL checkpoint never runs inside a commit (automatic checkpoints are off
 * on the writer).
 */
#ifndef ESTHUB_HUB_LOG_H
#define ESTHUB_HUB_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "est.pb-c.h"
#include "wire/crypto.h"

struct log;

enum log_flags {
	LOG_READONLY = 1 << 0, /* estctl verify/status: no writes, no checkpointer */
	LOG_CREATE = 1 << 1,   /* create the file and schema when missing */
};

/* Schema version kept in PRAGMA user_version. */
#define LOG_SCHEMA_VERSION 4

/*
 * Opens the store at path. Refuses (-1, reason in err) a file that is not
 * an esthub store, has a later schema version, or fails SQLite's
 * quick_check, and a chain whose head row is missing its hash. A store of
 * an earlier version is read as it is; the writer brings it to this one.
 * On success *out owns the connection(s) and 0 is returned.
 */
int log_open(struct log **out, const char *path, int flags, char *err, size_t errlen);

/* Stops the checkpointer (running a last checkpoint), closes, frees; sets *lg to NULL. NULL-safe.
 */
void log_close(struct log **lg);

/*
 * NULL, or why the database file can no longer be trusted to hold what the
 * checkpoints copied into it (a sync of it failed: see log.c, ckpt_broken).
 * From then on no checkpoint runs; the caller must end the process without
 * log_close (whose last checkpoint, and SQLite's at the last close, would
 * let the WAL go), so that the next start copies the whole WAL again.
 */
const char *log_disk_failed(const struct log *lg);

/* The seq of the last entry (0 for an empty log), and its chain hash. */
uint64_t log_head_seq(const struct log *lg);
const uint8_t *log_head_hash(const struct log *lg);

/*
 * One item to append. The caller fills entry's org, topic and body (the
 * oneof); log_append sets entry->seq, entry->logged_at (to now) and leaves
 * entry->hash empty in what it stores. For a report body the idempotency
 * rules of the contract apply:
 *   same (org, source_id, revision) with the same content -> DUPLICATE,
 *       seq of the original (also when a higher revision exists since);
 *   same key, other content -> REJECTED "revision N already stored with other content";
 *   revision lower than the highest stored for (org, source_id) -> REJECTED
 *       "revision N is lower than the stored revision M";
 *   otherwise ACCEPTED and appended.
 * Content is compared by SHA-256 of the packed Report with unknown fields
 * dropped. Entries of other kinds are always appended.
 *
 * After a successful log_append, for an ACCEPTED item body/body_len point
 * at the stored serialized LogEntry (hash empty) and hash at its chain hash;
 * both are owned by lg and valid until the log_append after the next one,
 * or log_close: one thread may read a batch's items while another appends
 * the next batch.
 */
struct log_item {
	Est__V1__LogEntry *entry; /* in; caller owns */
	/*
	 * in, optional, for a report: entry->report as log_report_prepack
	 * packed it, ahead of the commit (the ingest thread does this while the
	 * last batch commits). NULL: log_append packs it.
	 */
	const uint8_t *packed;
	size_t packed_len;
	/* out */
	Est__V1__Status status;
	uint64_t seq;
	char error[160];
	const uint8_t *body;
	size_t body_len;
	const uint8_t *hash;
};

/*
 * Packs r (at most cap bytes into out) exactly as log_append would for the
 * stored entry and, when the key is known, the idempotency digest, for a
 * caller that wants this work out of the commit: 1 done (*len its length),
 * 0 not done: r carries unknown fields, which log_append drops (*len 0), or
 * it needs more than cap bytes (*len what it needs, so the caller can make
 * room and call again). Touches no log: any thread may call it.
 */
int log_report_prepack(const Est__V1__Report *r, uint8_t *out, size_t cap, size_t *len);

/*
 * Appends items in one transaction (BEGIN IMMEDIATE ... COMMIT) with
 * prepared statements, judging each as above, in order. Returns 0 when the
 * commit is durable (every item's outputs are set). Returns -1 with the
 * reason in err when SQLite fails (disk full, I/O error): the transaction
 * is rolled back, nothing of the batch is stored, the head is unchanged and
 * the log accepts again once the cause is gone.
 */
int log_append(struct log *lg, struct log_item *items, size_t n, int64_t now, char *err,
               size_t errlen);

/*
 * Calls fn for each entry with from <= seq <= to, in seq order, with its
 * topic, its stored body (serialized LogEntry with hash empty; NULL and 0
 * when purged) and chain hash. Stops early when fn returns non-zero and
 * returns that value; returns 0 after the last entry, -1 on an SQLite error
 * (reason in err). Pointers are valid only during the call.
 */
typedef int (*log_visit_fn)(void *arg, uint64_t seq, const char *topic, const uint8_t *body,
                            size_t body_len, const uint8_t *hash);
int log_scan(struct log *lg, uint64_t from, uint64_t to, log_visit_fn fn, void *arg, char *err,
             size_t errlen);

/*
 * Recomputes the hash chain from seq 1 to the head: each body's SHA-256
 * against the stored one, each chain hash against the one recomputed, seqs
 * without gaps. Returns 0 when everything holds; 1 when not, with the first
 * bad seq in *bad_seq and what is wrong in why ("seq 17: body does not
 * match its hash"); -1 on an SQLite error (reason in why).
 */
int log_verify(struct log *lg, uint64_t *bad_seq, char *why, size_t whylen);

/*
 * The seq of the last entry on topic (0 when there is none) into *seq. Reads
 * back from the head, so it is quick when such an entry is recent (the
 * hub's last checkpoint at start-up). 0, or -1 with the reason in err.
 */
int log_last_on_topic(struct log *lg, const char *topic, uint64_t *seq, char *err, size_t errlen);

/*
 * Whether the report entry at seq is the one of (org, source_id): 1 yes, 0
 * no (another key, or no report at seq), -1 with the reason in err. The
 * picture store keeps only a hash of each report's key and asks this when
 * a new report's hash matches a stored one's. A writer log answers on a
 * connection of its own: one thread may ask while another appends.
 */
int log_report_at(struct log *lg, uint64_t seq, const char *org, const char *source_id, char *err,
                  size_t errlen);

/*
 * Waits until the writer's index of report keys, which log_open starts
 * building from the log on a thread of its own, is complete. 0, or -1
 * with the reason (a store that cannot be read through: see estctl
 * verify); every later append fails with it too. log_append and
 * log_purge wait by themselves; the hub asks before it says it is ready.
 * 0 at once for a read-only log.
 */
int log_index_ready(struct log *lg, char *err, size_t errlen);

/*
 * Tests only: keeps just the bits of mask of every report key's hash in
 * the index (0: every key has the same hash), so that the logs opened
 * after it tell keys apart by their entries alone.
 */
void log_test_key_hash_mask(uint32_t mask);

/* Tests only: the checkpoint rounds after which the checkpointer synced the database file. */
uint64_t log_test_ckpt_db_syncs(const struct log *lg);

/* Calls fn once per organisation with its number of report entries, by org name. 0, or -1 with err.
 */
typedef void (*log_count_fn)(void *arg, const char *org, uint64_t reports);
int log_count_by_org(struct log *lg, log_count_fn fn, void *arg, char *err, size_t errlen);

/*
 * Gallring: removes the content of the entries seqs[0..n) (ascending) in one
 * transaction. Each row keeps its seq, topic, org, logged_at, body_sha and
 * chain hash, so log_verify still proves the whole chain; the body becomes
 * NULL, which log_scan hands on as a purged entry. The freed pages are
 * overwritten (secure_delete), so the content is not left in the file. The
 * `reports` index keeps its rows (digests only, no content): a resent
 * report that was purged is still a DUPLICATE with the original seq.
 * Entries already purged and seqs past the head are skipped. Returns 0 with
 * the number of bodies removed in *purged, or -1 with the reason in err
 * (rolled back: nothing purged). Refused on a read-only log.
 */
int log_purge(struct log *lg, const uint64_t *seqs, size_t n, uint64_t *purged, char *err,
              size_t errlen);

/*
 * Copies the store, as one consistent snapshot, into a new file at dest
 * (mode 0600; refused when dest exists): SQLite's online backup, in steps
 * of 1 MiB each synced before the next, all inside one read transaction,
 * which a running hub's writer does not wait for (it holds the hub's WAL
 * checkpoints back only while it lasts). The copy is in rollback-journal
 * mode, one self-contained file, and synced to disk before this returns;
 * the hub makes it WAL again when it opens it. Returns 0, or -1 with the
 * reason in err (dest removed). Not the directory: see durable_dir_of.
 */
int log_backup(struct log *lg, const char *dest, char *err, size_t errlen);

/*
 * For tests only (the disk-full test): sets SQLite's max_page_count on the
 * writer connection, so that growing the file past max_pages pages fails
 * with SQLITE_FULL as a full disk would. SQLite never sets it below the
 * current size; pass 1073741823 (SQLite's default) to lift it. Returns the
 * limit now in effect, -1 on error or on a read-only log.
 */
int log_set_max_pages(struct log *lg, int max_pages);

#endif
