/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arena: a bump allocator behind a ProtobufCAllocator (see arena.h).
 * Blocks are chained; a reset keeps a single block sized for what the last
 * round used (up to ARENA_KEEP_MAX), so a steady load settles on one block
 * and no allocation at all.
 */
#include "wire/arena.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif

#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_REDZONE  16
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define ARENA_REDZONE  0
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_ALIGN      alignof(max_align_t)
#define ARENA_FIRST_SIZE (64u << 10)
/* A reset keeps at most this much: one huge batch must not pin its memory. */
#define ARENA_KEEP_MAX (4u << 20)

struct wire_arena_block {
	struct wire_arena_block *next; /* the block filled before this one */
	size_t size, off;
	alignas(max_align_t) unsigned char data[];
};

static size_t
round_up(size_t n)
{
	return (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
}

static struct wire_arena_block *
block_new(size_t size, struct wire_arena_block *next)
{
	struct wire_arena_block *b = malloc(sizeof *b + size);
	if (b == NULL)
		return NULL;
	b->next = next;
	b->size = size;
	b->off = 0;
	POISON(b->data, size);
	return b;
}

static void
block_free(struct wire_arena_block *b)
{
	UNPOISON(b->data, b->size);
	free(b);
}

static void *
arena_alloc(void *data, size_t n)
{
	struct wire_arena *a = data;
	if (n > SIZE_MAX / 2)
		return NULL;
	size_t need = round_up(n + ARENA_REDZONE);
	struct wire_arena_block *b = a->head;
	if (b == NULL || b->size - b->off < need) {
		size_t size = b == NULL ? a->first_size : b->size * 2;
		if (size < need)
			size = need;
		b = block_new(size, a->head);
		if (b == NULL)
			return NULL;
		a->head = b;
	}
	void *p = b->data + b->off;
	b->off += need;
	a->used += need;
	UNPOISON(p, n);
	return p;
}

/* Everything goes at the reset. */
static void
arena_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

void
wire_arena_init(struct wire_arena *a)
{
	memset(a, 0, sizeof *a);
	a->alloc.alloc = arena_alloc;
	a->alloc.free = arena_free;
	a->alloc.allocator_data = a;
	a->first_size = ARENA_FIRST_SIZE;
}

void
wire_arena_reset(struct wire_arena *a)
{
	struct wire_arena_block *b = a->head;
	if (b != NULL && b->next == NULL) {
		POISON(b->data, b->size);
		b->off = 0;
	} else if (b != NULL) {
		/* Several blocks: next round starts with one that holds it all. */
		size_t total = 0;
		while (b != NULL) {
			struct wire_arena_block *next = b->next;
			total += b->size;
			block_free(b);
			b = next;
		}
		a->head = NULL;
		a->first_size = total < ARENA_KEEP_MAX ? total : ARENA_KEEP_MAX;
		if (a->first_size < ARENA_FIRST_SIZE)
			a->first_size = ARENA_FIRST_SIZE;
	}
	a->used = 0;
}

void
wire_arena_fini(struct wire_arena *a)
{
	struct wire_arena_block *b = a->head;
	while (b != NULL) {
		struct wire_arena_block *next = b->next;
		block_free(b);
		b = next;
	}
	a->head = NULL;
	a->used = 0;
}

size_t
wire_arena_blocks(const struct wire_arena *a)
{
	size_t n = 0;
	for (const struct wire_arena_block *b = a->head; b != NULL; b = b->next)
		n++;
	return n;
}

char *
wire_strdup_with(ProtobufCAllocator *alloc, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = alloc != NULL ? alloc->alloc(alloc->allocator_data, n) : malloc(n);
	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

void
wire_free_with(ProtobufCAllocator *alloc, void *p)
{
	if (alloc != NULL)
		alloc->free(alloc->allocator_data, p);
	else
		free(p);
}

char *
wire_arena_strdup(struct wire_arena *a, const char *s)
{
	return wire_strdup_with(&a->alloc, s);
}
