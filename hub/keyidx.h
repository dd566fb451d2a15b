/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keyidx: an open-addressing hash table in memory from a 32-bit key hash
 * to a seq, 8 bytes a slot, with an undo of the puts since the last keep.
 *
 * The log (log.c) keeps one slot per report key (org, source_id): the seq
 * of the key's latest revision. A table knows hashes, not keys: a probe
 * hands back every seq stored under the hash sought, and the caller tells
 * its own key from another with the same hash by reading that seq's entry.
 * A put goes at the slot where the probe stopped: the key's own slot (a
 * newer seq) or the empty slot that ended the run (a new key). Slots are
 * never removed, so a probe's run always reaches every slot of its hash.
 *
 * Puts between two keeps can be undone (a batch that rolls back); the
 * table moves its slots only in keyidx_reserve, which the caller calls
 * between batches with room for the batch, so undo never meets a move.
 * A table that grows moves its slots over the reserves that follow, a
 * part at each, never all in one. Seqs are 1 .. UINT32_MAX.
 */
#ifndef ESTHUB_KEYIDX_H
#define ESTHUB_KEYIDX_H

#include <stddef.h>
#include <stdint.h>

#define KEYIDX_SEQ_MAX UINT32_MAX

struct keyidx;

/* Where a probe is (keyidx.c): its table, the slot it looked at last. */
struct keyidx_probe {
	size_t pos;
	size_t empty; /* the slot for a new key, once the probe has left the current table */
	uint32_t hash;
	int started;
	int in_old;
};

struct keyidx *keyidx_new(void);
void keyidx_free(struct keyidx **ix);

/*
 * Room for `keys` new keys, and for `puts` puts in the undo record, with
 * no slot moved until the next reserve. Call it between batches: when the
 * keys would fill the table past its load limit it makes a larger one and
 * this and the following reserves each move a part of the old one into it
 * (all at once for a small table, or when the new one fills first). 0, or
 * -1 when out of memory (the table is left as it was) or while puts are
 * unkept.
 */
int keyidx_reserve(struct keyidx *ix, size_t keys, size_t puts);

/*
 * Starts fetching the slot where a probe of hash begins (and, during a
 * move, its slot in the old table), so that a batch's probes need not each
 * wait for memory in turn. Changes nothing.
 */
void keyidx_prefetch(const struct keyidx *ix, uint32_t hash);

void keyidx_probe_start(const struct keyidx *ix, uint32_t hash, struct keyidx_probe *p);

/*
 * The next slot of p's hash: 1 with its seq in *seq, or 0 at the empty
 * slot that ends the run (where a new key with this hash goes).
 */
int keyidx_probe_next(const struct keyidx *ix, struct keyidx_probe *p, uint64_t *seq);

/*
 * Stores seq (1 .. KEYIDX_SEQ_MAX) at the slot probe_next stopped at last,
 * remembering what was there, and counts a new key when the slot was
 * empty. 0, or -1 (nothing changed) for a seq out of range or a put past
 * what keyidx_reserve made room for.
 */
int keyidx_put(struct keyidx *ix, const struct keyidx_probe *p, uint64_t seq);

/* Forgets the remembered puts (the batch committed). */
void keyidx_keep(struct keyidx *ix);

/* Takes back every put since the last keep, newest first (the batch rolled back). */
void keyidx_undo(struct keyidx *ix);

size_t keyidx_count(const struct keyidx *ix);

/* Bytes the table holds (its slots and undo record). */
size_t keyidx_bytes(const struct keyidx *ix);

#endif
