/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keyidx: see keyidx.h. A slot is the key's 32-bit hash above its seq; 0 is
 * empty (no seq is 0). The home slot is the hash scaled to the table's size
 * (multiply and shift, so any size works and a table grows by half rather
 * than doubling), and a run continues linearly, wrapping at the end. All
 * 32 bits of the hash are kept, so the table can be rebuilt at another size
 * without the keys, and a probe passes over other hashes without a look at
 * their entries: only a full 32-bit match costs the caller a read.
 */
#include "keyidx.h"

#include <stdbool.h>
#include <stdlib.h>

/* Grown past 4/5 full, to 2/3 full: linear probing's runs stay short (13 slots per miss at 4/5). */
#define LOAD_NUM    4
#define LOAD_DEN    5
#define GROW_NUM    3
#define GROW_DEN    2
#define MIN_SLOTS   1024
#define SLOTS_LIMIT ((size_t)UINT32_MAX)

struct undo {
	size_t pos;
	uint64_t was;
};

struct keyidx {
	uint64_t *slots;
	size_t cap, n;
	struct undo *undo;
	size_t n_undo, cap_undo;
};

static size_t
home(uint32_t hash, size_t cap)
{
	return (size_t)(((uint64_t)hash * cap) >> 32);
}

static uint32_t
slot_hash(uint64_t s)
{
	return (uint32_t)(s >> 32);
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
	free((*ix)->slots);
	free((*ix)->undo);
	free(*ix);
	*ix = NULL;
}

/* Moves every slot into a table of cap slots. */
static int
regrow(struct keyidx *ix, size_t cap)
{
	uint64_t *s = calloc(cap, sizeof *s);
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < ix->cap; i++) {
		uint64_t v = ix->slots[i];
		if (v == 0)
			continue;
		size_t j = home(slot_hash(v), cap);
		while (s[j] != 0)
			j = j + 1 == cap ? 0 : j + 1;
		s[j] = v;
	}
	free(ix->slots);
	ix->slots = s;
	ix->cap = cap;
	return 0;
}

int
keyidx_reserve(struct keyidx *ix, size_t keys, size_t puts)
{
	if (ix->n_undo > 0 || keys > SLOTS_LIMIT - ix->n)
		return -1;
	size_t need = ix->n + keys;
	if (need > ix->cap / LOAD_DEN * LOAD_NUM || ix->cap == 0) {
		size_t cap = need / GROW_DEN * GROW_NUM + MIN_SLOTS;
		if (cap > SLOTS_LIMIT)
			cap = SLOTS_LIMIT;
		if (need > cap / LOAD_DEN * LOAD_NUM || regrow(ix, cap) != 0)
			return -1;
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
keyidx_probe_start(const struct keyidx *ix, uint32_t hash, struct keyidx_probe *p)
{
	p->pos = ix->cap > 0 ? home(hash, ix->cap) : 0;
	p->hash = hash;
	p->started = 0;
}

int
keyidx_probe_next(const struct keyidx *ix, struct keyidx_probe *p, uint64_t *seq)
{
	if (ix->cap == 0)
		return 0;
	if (p->started)
		p->pos = p->pos + 1 == ix->cap ? 0 : p->pos + 1;
	p->started = 1;
	for (;;) {
		uint64_t v = ix->slots[p->pos];
		if (v == 0)
			return 0;
		if (slot_hash(v) == p->hash) {
			*seq = (uint32_t)v;
			return 1;
		}
		p->pos = p->pos + 1 == ix->cap ? 0 : p->pos + 1;
	}
}

int
keyidx_put(struct keyidx *ix, const struct keyidx_probe *p, uint64_t seq)
{
	if (seq == 0 || seq > KEYIDX_SEQ_MAX || ix->n_undo == ix->cap_undo || ix->cap == 0)
		return -1;
	uint64_t was = ix->slots[p->pos];
	if (was == 0 && ix->n + 1 > ix->cap / LOAD_DEN * LOAD_NUM)
		return -1;
	ix->undo[ix->n_undo++] = (struct undo){p->pos, was};
	ix->slots[p->pos] = (uint64_t)p->hash << 32 | (uint32_t)seq;
	if (was == 0)
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
		ix->slots[u->pos] = u->was;
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
	return ix->cap * sizeof *ix->slots + ix->cap_undo * sizeof *ix->undo;
}
