/* SPDX-License-Identifier: Apache-2.0 */
/*
 * checkpoint: the hub's signatures, and the signed checkpoints that make
 * the log's tamper evidence checkable from outside.
 *
 * The hash chain (log.h) proves that nothing inside the log was changed,
 * removed or reordered, but not that the tail is still there, nor that the
 * whole chain was not recomputed. So at an interval the hub appends a
 * Checkpoint{size, head_hash, time, signature} on all/checkpoints (org
 * "esthub"), where size is the seq of the last entry before it and
 * head_hash that entry's chain hash, signed with the hub's Ed25519 key
 * (DIR/keys/sign_secret.pem; partners verify with DIR/keys/sign.pem).
 * Every subscriber may follow all/checkpoints and keep copies; `estctl
 * verify --against FILE` later proves the log still extends them.
 * Pictures carry the same key's signature.
 *
 * Used by the hub (key, schedule, signing), by esthub init and check (key
 * files) and by estctl verify (checking a log and a saved checkpoint).
 */
#ifndef ESTHUB_HUB_CHECKPOINT_H
#define ESTHUB_HUB_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "est.pb-c.h"
#include "log.h"
#include "wire/sign.h"

#define CHECKPOINT_TOPIC "all/checkpoints"
#define CHECKPOINT_ORG   "esthub"

/* --- key files (esthub init, esthub check) --------------------------------- */

/* Creates DIR/keys/sign_secret.pem (0600) and DIR/keys/sign.pem. 0, or -1 with err. */
int checkpoint_keys_create(const char *dir, char *err, size_t errlen);

/*
 * esthub check: a sign_secret.pem readable by group or others, or one that
 * is not an Ed25519 key, is a problem (one "file:0: key: reason" line to
 * out); a missing one is not (esthub run creates it). Returns the number
 * of problems.
 */
int checkpoint_keys_check(const char *dir, FILE *out);

/* --- the running hub ------------------------------------------------------- */

struct checkpoints;

/*
 * Loads the hub's signing key for dir, creating the key files when the
 * instance predates them (saying so on stderr, one line) and restoring a
 * missing sign.pem from the secret. Refuses a sign_secret.pem readable by
 * group or others. Finds the last checkpoint in lg so that a restart does
 * not repeat it. interval_s 0: no checkpoints (pictures are still signed).
 * NULL with the reason in err; the caller owns the result.
 */
struct checkpoints *checkpoints_new(const char *dir, struct log *lg, long interval_s, char *err,
                                    size_t errlen);

void checkpoints_destroy(struct checkpoints **cp);

/*
 * Signs picture p in place (Picture.signature, owned by p). A failure
 * (out of memory) is said on stderr and leaves p unsigned.
 */
void checkpoints_sign_picture(struct checkpoints *cp, Est__V1__Picture *p);

/*
 * The hub's timer: when a checkpoint is due (at start-up, then every
 * interval, by the monotonic clock mono_ms) and the log grew since the last
 * one, appends one (time now_s) and returns 1 with *item set to the
 * appended entry for the feed (valid until the next call). Returns 0 when
 * none was due, -1 when appending failed (said on stderr; tried again
 * after the next interval).
 */
int checkpoints_tick(struct checkpoints *cp, struct log *lg, int64_t mono_ms, int64_t now_s,
                     const struct log_item **item);

/* --- checking (estctl verify) ----------------------------------------------- */

/*
 * Checks every checkpoint entry of lg with seq <= upto: its signature
 * with key, and its size and head_hash against the chain. Returns 0 when
 * all hold (their number in *n, the last one's seq in *last_seq), 1 at the
 * first that does not (its seq in *bad_seq, why says "seq 88: checkpoint
 * signature does not verify"), -1 when the log cannot be read or a
 * checkpoint is found without a key to check it (key NULL; why says so).
 */
int checkpoint_verify_log(struct log *lg, const struct sign_key *key, uint64_t upto, uint64_t *n,
                          uint64_t *last_seq, uint64_t *bad_seq, char *why, size_t whylen);

/*
 * Proves that lg still extends the saved checkpoint c: its signature
 * verifies with key, the log reaches seq c->size and the chain hash there is
 * c->head_hash. When entry_seq is not 0 (the checkpoint came as a LogEntry
 * with its seq and hash), the log's hash at entry_seq must be entry_hash
 * too. The chain itself is log_verify's job. Returns 0 when it holds, 1
 * when not (why: "log ends at seq 90, before the checkpoint's size 120:
 * truncated", "seq 120's hash differs from the checkpoint's: the log was
 * rewritten"), -1 on a read error.
 */
int checkpoint_verify_against(struct log *lg, const struct sign_key *key,
                              const Est__V1__Checkpoint *c, uint64_t entry_seq,
                              const ProtobufCBinaryData *entry_hash, char *why, size_t whylen);

#endif
