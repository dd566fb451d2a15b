/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keyidx: probes find every seq of a hash and stop at the empty slot;
 * puts are undone exactly; the table grows only in reserve, keeps every
 * slot when it does, and refuses a put it has no room for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "keyidx.h"

/* Puts seq under hash as a new key (the probe must end at an empty slot). */
static void
put_new(struct keyidx *ix, uint32_t hash, uint64_t seq)
{
	struct keyidx_probe p;
	uint64_t got;
	keyidx_probe_start(ix, hash, &p);
	while (keyidx_probe_next(ix, &p, &got))
		;
	assert_int_equal(keyidx_put(ix, &p, seq), 0);
}

/* The seqs stored under hash, in probe order, into out; how many. */
static size_t
seqs_of(const struct keyidx *ix, uint32_t hash, uint64_t *out, size_t cap)
{
	struct keyidx_probe p;
	uint64_t got;
	size_t n = 0;
	keyidx_probe_start(ix, hash, &p);
	while (keyidx_probe_next(ix, &p, &got)) {
		assert_true(n < cap);
		out[n++] = got;
	}
	return n;
}

static void
test_empty_table_finds_nothing(void **state)
{
	(void)state;
	struct keyidx *ix = keyidx_new();
	uint64_t seqs[4];
	assert_int_equal(seqs_of(ix, 7, seqs, 4), 0);
	struct keyidx_probe p;
	keyidx_probe_start(ix, 7, &p);
	assert_int_equal(keyidx_put(ix, &p, 1), -1); /* no room reserved */
	assert_int_equal(keyidx_count(ix), 0);
	keyidx_free(&ix);
	assert_null(ix);
	keyidx_free(&ix);
}

/* Same hash twice (two keys): both come back, other hashes in the run are passed over. */
static void
test_one_hash_many_keys(void **state)
{
	(void)state;
	struct keyidx *ix = keyidx_new();
	uint64_t seqs[8];
	assert_int_equal(keyidx_reserve(ix, 100, 100), 0);
	put_new(ix, 0x80000000u, 10);
	put_new(ix, 0x80000001u, 11); /* same home slot in a small table, another hash */
	put_new(ix, 0x80000000u, 12);
	put_new(ix, 0xffffffffu, 13); /* the last home slot: its run wraps to slot 0 */
	put_new(ix, 0xffffffffu, 14);
	keyidx_keep(ix);
	assert_int_equal(seqs_of(ix, 0x80000000u, seqs, 8), 2);
	assert_int_equal(seqs[0], 10);
	assert_int_equal(seqs[1], 12);
	assert_int_equal(seqs_of(ix, 0x80000001u, seqs, 8), 1);
	assert_int_equal(seqs[0], 11);
	assert_int_equal(seqs_of(ix, 0xffffffffu, seqs, 8), 2);
	assert_int_equal(seqs[0] + seqs[1], 27);
	assert_int_equal(seqs_of(ix, 5, seqs, 8), 0);
	assert_int_equal(keyidx_count(ix), 5);

	/* A newer seq for the key found second: its slot, not a new one. */
	struct keyidx_probe p;
	uint64_t got;
	keyidx_probe_start(ix, 0x80000000u, &p);
	assert_int_equal(keyidx_probe_next(ix, &p, &got), 1);
	assert_int_equal(keyidx_probe_next(ix, &p, &got), 1);
	assert_int_equal(got, 12);
	assert_int_equal(keyidx_put(ix, &p, 20), 0);
	assert_int_equal(keyidx_count(ix), 5);
	assert_int_equal(seqs_of(ix, 0x80000000u, seqs, 8), 2);
	assert_int_equal(seqs[1], 20);
	assert_int_equal(keyidx_put(ix, &p, 0), -1);
	assert_int_equal(keyidx_put(ix, &p, (uint64_t)KEYIDX_SEQ_MAX + 1), -1);
	keyidx_free(&ix);
}

/* Undo takes back new keys and newer seqs, newest first, to exactly what was kept. */
static void
test_undo_restores_the_kept_table(void **state)
{
	(void)state;
	struct keyidx *ix = keyidx_new();
	uint64_t seqs[8];
	assert_int_equal(keyidx_reserve(ix, 10, 10), 0);
	put_new(ix, 1000, 1);
	put_new(ix, 2000, 2);
	keyidx_keep(ix);
	assert_int_equal(keyidx_reserve(ix, 5, 5), 0);
	put_new(ix, 3000, 3);
	struct keyidx_probe p;
	uint64_t got;
	keyidx_probe_start(ix, 1000, &p);
	assert_int_equal(keyidx_probe_next(ix, &p, &got), 1);
	assert_int_equal(keyidx_put(ix, &p, 4), 0);
	assert_int_equal(keyidx_put(ix, &p, 5), 0);     /* the same slot twice in one batch */
	put_new(ix, 1000, 6);                           /* a second key of that hash */
	assert_int_equal(keyidx_reserve(ix, 1, 1), -1); /* not while puts are unkept */
	assert_int_equal(keyidx_count(ix), 4);
	keyidx_undo(ix);
	assert_int_equal(keyidx_count(ix), 2);
	assert_int_equal(seqs_of(ix, 1000, seqs, 8), 1);
	assert_int_equal(seqs[0], 1);
	assert_int_equal(seqs_of(ix, 2000, seqs, 8), 1);
	assert_int_equal(seqs_of(ix, 3000, seqs, 8), 0);
	keyidx_free(&ix);

	/* More puts than a new table reserved for: refused, nothing changed. */
	ix = keyidx_new();
	assert_int_equal(keyidx_reserve(ix, 1, 1), 0);
	put_new(ix, 3000, 7);
	keyidx_probe_start(ix, 4000, &p);
	while (keyidx_probe_next(ix, &p, &got))
		;
	assert_int_equal(keyidx_put(ix, &p, 8), -1);
	assert_int_equal(keyidx_count(ix), 1);
	assert_int_equal(seqs_of(ix, 4000, seqs, 8), 0);
	keyidx_free(&ix);
}

/* Growth keeps every key findable; a table is never filled past its limit. */
static void
test_growth_keeps_every_key(void **state)
{
	(void)state;
	struct keyidx *ix = keyidx_new();
	enum { N = 200000 };
	uint64_t seqs[8];
	size_t before = 0;
	for (uint32_t i = 1; i <= N; i++) {
		assert_int_equal(keyidx_reserve(ix, 1, 1), 0);
		/* hashes that crowd: every fourth one repeats an earlier hash */
		put_new(ix, (i % 4 == 0 ? i / 4 : i) * 2654435761u, i);
		keyidx_keep(ix);
		if (i == 1000)
			before = keyidx_bytes(ix);
	}
	assert_int_equal(keyidx_count(ix), N);
	assert_true(keyidx_bytes(ix) > before);
	/* at most 8 bytes a slot at 2/3 full after the last growth, and 4/5 at most */
	assert_true(keyidx_bytes(ix) <= (size_t)N * 8 * 3 / 2 + 8 * 1024 + 16);
	for (uint32_t i = 1; i <= N; i++) {
		uint32_t h = (i % 4 == 0 ? i / 4 : i) * 2654435761u;
		size_t n = seqs_of(ix, h, seqs, 8);
		int found = 0;
		for (size_t k = 0; k < n; k++)
			found |= seqs[k] == i;
		assert_true(found);
	}
	keyidx_free(&ix);
}

/* The one seq of a key (every key here has a hash of its own), 0 when absent. */
static uint64_t
seq_of(const struct keyidx *ix, uint32_t hash)
{
	uint64_t seqs[2];
	size_t n = seqs_of(ix, hash, seqs, 2);
	assert_true(n <= 1);
	return n == 1 ? seqs[0] : 0;
}

/* Sets a key's seq (new key, or newer seq where it is), as log.c does. */
static void
put_seq(struct keyidx *ix, uint32_t hash, uint64_t seq)
{
	struct keyidx_probe p;
	uint64_t got;
	keyidx_probe_start(ix, hash, &p);
	(void)keyidx_probe_next(ix, &p, &got); /* its slot, or the run's end */
	assert_int_equal(keyidx_put(ix, &p, seq), 0);
}

/*
 * While a grown table moves its slots a part at each reserve, every key is
 * found once with its latest seq, updates reach keys on either side of the
 * move, and a batch undone in the middle of it leaves everything as it was.
 */
static void
test_move_in_parts(void **state)
{
	(void)state;
	enum { N = 60000 };
	static uint64_t want[N + 1];
	struct keyidx *ix = keyidx_new();
	size_t grew = 0, bytes = 0, during = 0;
	uint32_t grown_at = 0;
	bool moving = false;
	for (uint32_t k = 1; k <= N; k++) {
		assert_int_equal(keyidx_reserve(ix, 1, 4), 0);
		put_seq(ix, k * 2654435761u, k);
		want[k] = k;
		keyidx_keep(ix);
		/* both tables are counted while a move goes on: bytes go up, and down at its end */
		if (keyidx_bytes(ix) > bytes) {
			grew++;
			grown_at = k;
			moving = true;
		} else if (keyidx_bytes(ix) < bytes) {
			moving = false;
		}
		bytes = keyidx_bytes(ix);
		if (k % 1000 != 0 && (k < 4 || k - grown_at > 12))
			continue;
		during += moving;
		/* a batch: a newer seq for an old key and a recent one, a new key; undone */
		assert_int_equal(keyidx_reserve(ix, 1, 4), 0);
		put_seq(ix, 1 * 2654435761u, N + k);
		put_seq(ix, (k - 3) * 2654435761u, N + k + 1);
		put_seq(ix, (N + k) * 2654435761u, N + k + 2);
		assert_int_equal(keyidx_count(ix), k + 1);
		keyidx_undo(ix);
		assert_int_equal(keyidx_count(ix), k);
		/* the same batch kept, for the key of 1 and k - 3 */
		assert_int_equal(keyidx_reserve(ix, 1, 4), 0);
		put_seq(ix, 1 * 2654435761u, N + k);
		put_seq(ix, (k - 3) * 2654435761u, N + k + 1);
		keyidx_keep(ix);
		want[1] = N + k;
		want[k - 3] = N + k + 1;
		for (uint32_t j = 1; j <= k; j++)
			if (seq_of(ix, j * 2654435761u) != want[j])
				fail_msg("after %u keys: key %u has seq %" PRIu64 ", want %" PRIu64,
				         k, j, seq_of(ix, j * 2654435761u), want[j]);
		assert_int_equal(seq_of(ix, (N + k) * 2654435761u), 0);
	}
	assert_true(grew >= 5);
	assert_true(during >= 20); /* checks made while a move was going on */
	keyidx_free(&ix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_table_finds_nothing),
	    cmocka_unit_test(test_one_hash_many_keys),
	    cmocka_unit_test(test_undo_restores_the_kept_table),
	    cmocka_unit_test(test_growth_keeps_every_key),
	    cmocka_unit_test(test_move_in_parts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
