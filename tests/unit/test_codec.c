/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wire_field_next, the field reader that wire_peek_request_id (outside
 * input: a frame too large or broken to decode) and the log (a stored
 * entry's report key) share: each wire type read and stepped over, every
 * way an encoding can be broken refused, nothing read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wire/codec.h"

/* Every field of buf: the count read, or -1 when the encoding is broken. */
static int
count_fields(const uint8_t *buf, size_t len)
{
	const uint8_t *p = buf, *end = buf + len;
	struct wire_field f;
	int n = 0, rc;
	while ((rc = wire_field_next(&p, end, &f)) == 0) {
		assert_true(p <= end);
		n++;
	}
	return rc == 1 ? n : -1;
}

static void
test_each_wire_type(void **state)
{
	(void)state;
	/* 1: varint 300; 2: 4 bytes "abcd"; 3: fixed64; 4: fixed32 */
	static const uint8_t buf[] = {0x08, 0xac, 0x02, 0x12, 0x04, 'a', 'b',  'c', 'd', 0x19, 1, 2,
	                              3,    4,    5,    6,    7,    8,   0x25, 1,   2,   3,    4};
	const uint8_t *p = buf, *end = buf + sizeof buf;
	struct wire_field f;
	assert_int_equal(wire_field_next(&p, end, &f), 0);
	assert_int_equal(f.number, 1);
	assert_int_equal(f.type, 0);
	assert_int_equal(f.value, 300);
	assert_int_equal(wire_field_next(&p, end, &f), 0);
	assert_int_equal(f.number, 2);
	assert_int_equal(f.type, 2);
	assert_int_equal(f.value, 4);
	assert_memory_equal(f.bytes, "abcd", 4);
	assert_int_equal(wire_field_next(&p, end, &f), 0);
	assert_int_equal(f.number, 3);
	assert_int_equal(f.type, 1);
	assert_int_equal(wire_field_next(&p, end, &f), 0);
	assert_int_equal(f.number, 4);
	assert_int_equal(f.type, 5);
	assert_ptr_equal(p, end);
	assert_int_equal(wire_field_next(&p, end, &f), 1);
	assert_int_equal(count_fields(buf, 0), 0);
}

static void
test_broken_encodings(void **state)
{
	(void)state;
	static const struct {
		uint8_t bytes[12];
		size_t len;
	} broken[] = {
	    {{0x08}, 1},       /* varint missing */
	    {{0x08, 0x80}, 2}, /* varint cut short */
	    {{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 12}, /* 11 */
	    {{0x12, 0x05, 'a', 'b'}, 4}, /* length past the end */
	    {{0x19, 1, 2, 3}, 4},        /* fixed64 cut short */
	    {{0x25, 1, 2}, 3},           /* fixed32 cut short */
	    {{0x0b}, 1},                 /* a group */
	    {{0x80}, 1},                 /* tag cut short */
	};
	for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++)
		if (count_fields(broken[i].bytes, broken[i].len) != -1)
			fail_msg("broken encoding %zu was read", i);
}

/* The request_id of an Envelope, whatever comes before it or breaks after it. */
static void
test_peek_request_id(void **state)
{
	(void)state;
	Est__V1__Envelope env = EST__V1__ENVELOPE__INIT;
	env.version = 1;
	env.request_id = 123456789;
	uint8_t buf[64];
	size_t len = est__v1__envelope__pack(&env, buf);
	assert_int_equal(wire_peek_request_id(buf, len), 123456789);
	buf[len] = 0x80; /* a broken field after it does not hide it */
	assert_int_equal(wire_peek_request_id(buf, len + 1), 123456789);
	assert_int_equal(wire_peek_request_id(buf, 1), 0);
	assert_int_equal(wire_peek_request_id("\x12\x09", 2), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_wire_type),
	    cmocka_unit_test(test_broken_encodings),
	    cmocka_unit_test(test_peek_request_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
