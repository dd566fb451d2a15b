/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the decoding arena (wire/arena.c): allocations are aligned
 * and never overlap, across blocks and allocations larger than a block; a
 * reset settles on one block big enough for the last round; a message
 * decoded into it equals the same message decoded with malloc, including
 * its strings replaced by the arena's strdup.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "wire/arena.h"
#include "wire/codec.h"

#define N_ALLOCS 5000

struct span {
	unsigned char *p;
	size_t n;
};

static int
by_address(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->p < y->p ? -1 : x->p > y->p;
}

/* Sizes from 0 to about 200 KiB, more small than large, as a batch's fields are. */
static size_t
size_at(size_t i)
{
	return i % 97 == 0 ? 50000 + i * 30 : (i * 7919) % 300;
}

static void
test_allocations_aligned_and_apart(void **state)
{
	(void)state;
	struct wire_arena a;
	wire_arena_init(&a);
	struct span *s = calloc(N_ALLOCS, sizeof *s);
	assert_non_null(s);
	for (size_t round = 0; round < 3; round++) {
		for (size_t i = 0; i < N_ALLOCS; i++) {
			s[i].n = size_at(i);
			s[i].p = a.alloc.alloc(a.alloc.allocator_data, s[i].n);
			assert_non_null(s[i].p);
			assert_int_equal((uintptr_t)s[i].p % alignof(max_align_t), 0);
			memset(s[i].p, (int)(i & 0xff), s[i].n);      /* ASan: every byte is ours */
			a.alloc.free(a.alloc.allocator_data, s[i].p); /* does nothing */
		}
		/* Nothing was overwritten by a later allocation... */
		for (size_t i = 0; i < N_ALLOCS; i++)
			for (size_t k = 0; k < s[i].n; k++)
				if (s[i].p[k] != (unsigned char)(i & 0xff))
					fail_msg("allocation %zu overwritten at byte %zu", i, k);
		/* ...and no two overlap. */
		qsort(s, N_ALLOCS, sizeof *s, by_address);
		for (size_t i = 1; i < N_ALLOCS; i++)
			assert_true(s[i - 1].p + s[i - 1].n <= s[i].p);
		wire_arena_reset(&a);
	}
	free(s);
	wire_arena_fini(&a);
}

static void
test_reset_settles_on_one_block(void **state)
{
	(void)state;
	struct wire_arena a;
	wire_arena_init(&a);
	for (int i = 0; i < 2000; i++)
		assert_non_null(a.alloc.alloc(a.alloc.allocator_data, 300));
	assert_true(wire_arena_blocks(&a) > 1);
	wire_arena_reset(&a);
	assert_int_equal(a.used, 0);
	/* The same round again fits in the one block the reset made room for. */
	for (int i = 0; i < 2000; i++)
		assert_non_null(a.alloc.alloc(a.alloc.allocator_data, 300));
	assert_int_equal(wire_arena_blocks(&a), 1);
	wire_arena_reset(&a);
	assert_int_equal(wire_arena_blocks(&a), 1);
	wire_arena_fini(&a);
	assert_null(a.head);
}

static void
test_message_decodes_the_same(void **state)
{
	(void)state;
	Est__V1__Report r;
	est__v1__report__init(&r);
	r.source_id = (char *)"arena-1";
	r.category = EST__V1__CATEGORY__CATEGORY_VANDALISM;
	r.description = (char *)"Klotter på gavel, Hagebygatan 12";
	r.place = (char *)"Hagebygatan";
	r.area = (char *)"hageby";
	Est__V1__Report *list[] = {&r, &r, &r};
	Est__V1__ReportBatch batch;
	est__v1__report_batch__init(&batch);
	batch.n_reports = 3;
	batch.reports = list;
	Est__V1__Envelope env;
	est__v1__envelope__init(&env);
	env.version = WIRE_VERSION;
	env.request_id = 77;
	env.body_case = EST__V1__ENVELOPE__BODY_REPORTS;
	env.reports = &batch;
	size_t len = est__v1__envelope__get_packed_size(&env);
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	est__v1__envelope__pack(&env, buf);

	struct wire_arena a;
	wire_arena_init(&a);
	char err[256];
	Est__V1__Envelope *m = (Est__V1__Envelope *)wire_unpack_in(
	    &est__v1__envelope__descriptor, buf, len, len, &a.alloc, err, sizeof err);
	assert_non_null(m);
	assert_int_equal(m->request_id, 77);
	assert_int_equal(m->reports->n_reports, 3);
	assert_string_equal(m->reports->reports[2]->description, r.description);
	/* A replaced string from the arena packs back to the same bytes. */
	m->reports->reports[1]->place = wire_arena_strdup(&a, "Hagebygatan");
	assert_int_equal(est__v1__envelope__get_packed_size(m), len);
	uint8_t *again = malloc(len);
	assert_non_null(again);
	est__v1__envelope__pack(m, again);
	assert_memory_equal(again, buf, len);
	/* Undecodable: NULL with a reason, and the arena still usable. */
	assert_null(wire_unpack_in(&est__v1__envelope__descriptor, buf, len - 3, len, &a.alloc, err,
	                           sizeof err));
	assert_non_null(strstr(err, "could not decode"));
	wire_arena_reset(&a);
	wire_arena_fini(&a);
	free(again);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_allocations_aligned_and_apart),
	    cmocka_unit_test(test_reset_settles_on_one_block),
	    cmocka_unit_test(test_message_decodes_the_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
