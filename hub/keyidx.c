/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keyidx: see keyidx.h. A slot is the key's 32-bit hash above its seq; 0 is
 * empty (no seq is 0). The home slot is the hash scaled to the table's size
 * (multiply and shift, so any size works and a table grows by half rather
 * than doubling), and a run continues linearly, wrapping at the end. All
 * 32 bits of the hash are kept, so the table can be rebuilt at another size
 * without the keys, and a probe passes over other hashes without a look at
 * their entries: only a full 32-bit match costs the caller a read.
 *
 * Growing moves the slots a part at a time, not all at once: copying a
 * million slots took 24 ms (39 ms at two million), a stall of every commit
 * behind it. keyidx_reserve makes a larger table beside the old one and
 * each later reserve moves the next part of the old one, in slot order;
 * homes grow with the hash, so the old table read in order fills the new
 * one nearly in order too. Meanwhile a key is in one of the two: slots of
 * the old table before `moved` have been copied and are skipped there (their
 * values stay, so the old table's runs stay whole for the keys not moved
 * yet); a new key goes into the new table; a newer seq goes where its key is.
 */
#include "keyidx.h"

#include <stdbool.h>
#include <stdlib.h>

#include "thp.h"

/* Grown past 4/5 full, to 2/3 full: linear probing's runs stay short (13 slots per miss at 4/5). */
#define LOAD_NUM    4
#define LOAD_DEN    5
#define GROW_NUM    3
#define GROW_DEN    2
#define MIN_SLOTS   1024
#define SLOTS_LIMIT ((size_t)UINT32_MAX)
/*
 * Slots moved per reserve: enough that the move ends long before the new
 * table fills (it has room for a third more keys than it starts with, and
 * each reserve moves MOVE_PER_KEY times the keys it makes room for).
 */
#define MOVE_MIN     4096
#define MOVE_PER_KEY 8

struct table {
	uint64_t *slots;
	size_t cap;
};

struct undo {
	uint64_t *slot;
	uint64_t was;
};

struct keyidx {
	struct table cur; /* where new keys go */
	struct table old; /* being moved into cur (slots NULL when not) */
	size_t moved;     /* old's slots before this one are in cur */
	size_t n;         /* keys, in both tables */
	struct undo *undo;
	size_t n_undo, cap_undo;
};

static size_t
home(uint32_t hash, size_t cap)
{
	return (size_t)(((uint64_t)hash * cap) >> 32);
}

/* The slot after pos, wrapping at the table's end: a run goes on there. */
static size_t
next_pos(size_t pos, size_t cap)
{
	return pos + 1 == cap ? 0 : pos + 1;
}

static uint32_t
slot_hash(uint64_t s)
{
	return (uint32_t)(s >> 32);
}

static size_t
limit(size_t cap)
{
	return cap / LOAD_DEN * LOAD_NUM;
}

struct keyidx *
keyidx_new(void)
{
	return calloc(1, sizeof(struct keyidx));
}

void
keyidx_free(struct keyidx **ix)
{
	if (ix == NULL || *ix == NULL)
		return;
	free((*ix)->cur.slots);
	free((*ix)->old.slots);
	free((*ix)->undo);
	free(*ix);
	*ix = NULL;
}

/* Moves old's slots [moved, moved + count) into cur; frees old when all are. */
static void
move_part(struct keyidx *ix, size_t count)
{
	size_t end = ix->moved + count < ix->old.cap ? ix->moved + count : ix->old.cap;
	for (size_t i = ix->moved; i < end; i++) {
		uint64_t v = ix->old.slots[i];
		if (v == 0)
			continue;
		size_t j = home(slot_hash(v), ix->cur.cap);
		while (ix->cur.slots[j] != 0)
			j = next_pos(j, ix->cur.cap);
		ix->cur.slots[j] = v;
	}
	ix->moved = end;
	if (ix->moved == ix->old.cap) {
		free(ix->old.slots);
		ix->old = (struct table){0};
		ix->moved = 0;
	}
}

int
keyidx_reserve(struct keyidx *ix, size_t keys, size_t puts)
{
	if (ix->n_undo > 0 || keys > SLOTS_LIMIT - ix->n)
		return -1;
	size_t need = ix->n + keys;
	size_t step =
	    keys < (SIZE_MAX - MOVE_MIN) / MOVE_PER_KEY ? MOVE_MIN + keys * MOVE_PER_KEY : SIZE_MAX;
	if (need > limit(ix->cur.cap)) {
		/* A move still going on ends first: then cur is the only table. */
		if (ix->old.slots != NULL)
			move_part(ix, SIZE_MAX);
		size_t cap = need / GROW_DEN * GROW_NUM + MIN_SLOTS;
		if (cap > SLOTS_LIMIT)
			cap = SLOTS_LIMIT;
		uint64_t *s = need <= limit(cap) ? thp_calloc(cap, sizeof *s) : NULL;
		if (s == NULL)
			return -1;
		ix->old = ix->cur; /* {NULL, 0} for a table that had none */
		ix->cur = (struct table){s, cap};
		if (ix->old.slots != NULL && ix->n < MOVE_MIN)
			move_part(ix, SIZE_MAX); /* a small table moves at once */
	} else if (ix->old.slots != NULL) {
		move_part(ix, step);
	}
	if (puts > ix->cap_undo) {
		struct undo *u = realloc(ix->undo, puts * sizeof *u);
		if (u == NULL)
			return -1;
		ix->undo = u;
		ix->cap_undo = puts;
	}
	return 0;
}

void
keyidx_prefetch(const struct keyidx *ix, uint32_t hash)
{
	if (ix->cur.cap > 0)
		__builtin_prefetch(&ix->cur.slots[home(hash, ix->cur.cap)]);
	if (ix->old.slots != NULL)
		__builtin_prefetch(&ix->old.slots[home(hash, ix->old.cap)]);
}

void
keyidx_probe_start(const struct keyidx *ix, uint32_t hash, struct keyidx_probe *p)
{
	*p = (struct keyidx_probe){.hash = hash};
	p->pos = ix->cur.cap > 0 ? home(hash, ix->cur.cap) : 0;
}

/*
 * The next slot of p's hash in table t from p->pos on (p->pos itself when
 * the probe is fresh in t), or 0 at the empty slot that ends the run.
 * Slots of old before `moved` are passed over.
 */
static int
probe_table(const struct keyidx *ix, const struct table *t, struct keyidx_probe *p, uint64_t *seq)
{
	if (p->started)
		p->pos = next_pos(p->pos, t->cap);
	p->started = 1;
	for (;;) {
		uint64_t v = t->slots[p->pos];
		if (v == 0)
			return 0;
		if (slot_hash(v) == p->hash && (t == &ix->cur || p->pos >= ix->moved)) {
			*seq = (uint32_t)v;
			return 1;
		}
		p->pos = next_pos(p->pos, t->cap);
	}
}

int
keyidx_probe_next(const struct keyidx *ix, struct keyidx_probe *p, uint64_t *seq)
{
	if (ix->cur.cap == 0)
		return 0;
	if (!p->in_old) {
		if (probe_table(ix, &ix->cur, p, seq))
			return 1;
		p->empty = p->pos; /* where a new key goes */
		if (ix->old.slots == NULL)
			return 0;
		p->in_old = 1;
		p->started = 0;
		p->pos = home(p->hash, ix->old.cap);
	}
	if (probe_table(ix, &ix->old, p, seq))
		return 1;
	return 0;
}

int
keyidx_put(struct keyidx *ix, const struct keyidx_probe *p, uint64_t seq)
{
	if (seq == 0 || seq > KEYIDX_SEQ_MAX || ix->n_undo == ix->cap_undo || ix->cur.cap == 0 ||
	    !p->started)
		return -1;
	/* Where the probe stopped: its key's slot, or the empty one in cur that ended the run. */
	uint64_t *slot = p->in_old ? &ix->old.slots[p->pos] : &ix->cur.slots[p->pos];
	bool found = *slot != 0 && slot_hash(*slot) == p->hash;
	if (!found) {
		slot = &ix->cur.slots[p->in_old ? p->empty : p->pos];
		if (*slot != 0 || ix->n + 1 > limit(ix->cur.cap))
			return -1;
	}
	ix->undo[ix->n_undo++] = (struct undo){slot, *slot};
	*slot = (uint64_t)p->hash << 32 | (uint32_t)seq;
	if (!found)
		ix->n++;
	return 0;
}

void
keyidx_keep(struct keyidx *ix)
{
	ix->n_undo = 0;
}

void
keyidx_undo(struct keyidx *ix)
{
	while (ix->n_undo > 0) {
		const struct undo *u = &ix->undo[--ix->n_undo];
		if (u->was == 0)
			ix->n--;
		*u->slot = u->was;
	}
}

size_t
keyidx_count(const struct keyidx *ix)
{
	return ix->n;
}

size_t
keyidx_bytes(const struct keyidx *ix)
{
	return (ix->cur.cap + ix->old.cap) * sizeof(uint64_t) + ix->cap_undo * sizeof(struct undo);
}
