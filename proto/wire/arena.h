/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arena: a bump allocator for messages decoded together and freed together
 * (the envelopes of one ingest batch). protobuf-c mallocs every string,
 * repeated field and sub-message of a decoded message and frees each one
 * again; from an arena, a whole batch costs a few block allocations and one
 * reset.
 *
 *   struct wire_arena a;
 *   wire_arena_init(&a);
 *   m = wire_unpack_in(d, buf, len, max, &a.alloc, err, errlen);
 *   ... (never protobuf_c_message_free_unpacked: the reset frees it all)
 *   wire_arena_reset(&a);
 *   wire_arena_fini(&a);
 *
 * `alloc` is a ProtobufCAllocator whose free does nothing. Built with
 * AddressSanitizer, every allocation is followed by a poisoned gap and the
 * unused rest of a block stays poisoned, so an overrun within a block is
 * still reported.
 */
#ifndef ESTHUB_WIRE_ARENA_H
#define ESTHUB_WIRE_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct wire_arena_block;

struct wire_arena {
	ProtobufCAllocator alloc;      /* hand &arena.alloc to protobuf-c and to validate */
	struct wire_arena_block *head; /* the block being filled; older ones chained */
	size_t used;                   /* bytes handed out since the last reset */
	size_t first_size;             /* the size the first block is made with */
};

void wire_arena_init(struct wire_arena *a);

/* Frees everything handed out. Keeps one block big enough for the last round. */
void wire_arena_reset(struct wire_arena *a);

void wire_arena_fini(struct wire_arena *a);

/* How many blocks the arena holds now (tests, statistics). */
size_t wire_arena_blocks(const struct wire_arena *a);

/* A copy of s in the arena, or NULL when out of memory. */
char *wire_arena_strdup(struct wire_arena *a, const char *s);

/*
 * A copy of s from allocator alloc (NULL: malloc), and the way back: what
 * a decoded message's owner uses to replace one of its strings.
 */
char *wire_strdup_with(ProtobufCAllocator *alloc, const char *s);
void wire_free_with(ProtobufCAllocator *alloc, void *p);

#endif
