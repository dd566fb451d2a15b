/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ids_utf8_valid: every kind of bad UTF-8 is found wherever it sits in the
 * text, before, inside or after the runs of eight ASCII bytes it skips.
 * ids_first_control: the first control character, whatever surrounds it.
 * ids_text_scan: what a byte-at-a-time reference says of the same text
 * (support/text_reference.h), in one pass.
 * ids_copy: the same bytes as snprintf's "%s", cut short the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/text_reference.h"
#include "wire/ids.h"

/* s is ASCII text of n bytes with seq (len bytes) written at k. */
static bool
valid_with(size_t n, size_t k, const char *seq, size_t len)
{
	char s[64];
	memset(s, 'a', sizeof s);
	memcpy(s + k, seq, len);
	return ids_utf8_valid(s, n);
}

static void
test_every_position(void **state)
{
	(void)state;
	static const struct {
		const char *bytes;
		size_t len;
		bool valid;
	} cases[] = {
	    {"\xc3\xa5", 2, true},          /* å */
	    {"\xe2\x82\xac", 3, true},      /* € */
	    {"\xf0\x9f\x98\x80", 4, true},  /* an emoji */
	    {"\xff", 1, false},             /* never in UTF-8 */
	    {"\x80", 1, false},             /* a continuation byte alone */
	    {"\xc0\x80", 2, false},         /* overlong NUL */
	    {"\xed\xa0\x80", 3, false},     /* a surrogate */
	    {"\xf4\x90\x80\x80", 4, false}, /* past U+10FFFF */
	    {"\xc3\x41", 2, false},         /* a lead byte without its continuation */
	};
	assert_true(ids_utf8_valid("", 0));
	for (size_t n = 1; n <= 40; n++)
		assert_true(valid_with(n, 0, "a", 1));
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		for (size_t n = cases[c].len; n <= 40; n++) {
			for (size_t k = 0; k + cases[c].len <= n; k++)
				if (valid_with(n, k, cases[c].bytes, cases[c].len) !=
				    cases[c].valid)
					fail_msg("case %zu at %zu of %zu: want %d", c, k, n,
					         cases[c].valid);
			/* cut off by the end of the text */
			if (cases[c].len > 1)
				assert_false(valid_with(n, n - 1, cases[c].bytes, 1));
		}
	}
}

/*
 * ids_first_control finds the first byte below 0x20 or 0x7f, as a byte at a
 * time would, for every byte value at every position of texts of ASCII,
 * of two-byte characters and of the bytes next to the control range.
 */
static void
test_first_control(void **state)
{
	(void)state;
	static const char fillers[] = {'a', ' ', '~', '\x80', '\xc3', '\xff', '\x7e', '!'};
	unsigned char s[40];
	for (size_t f = 0; f < sizeof fillers; f++) {
		for (size_t n = 0; n <= 24; n++) {
			memset(s, fillers[f], sizeof s);
			assert_int_equal(ids_first_control((const char *)s, n), n);
			for (size_t k = 0; k < n; k++) {
				for (unsigned b = 0; b < 256; b++) {
					s[k] = (unsigned char)b;
					size_t want = b < 0x20 || b == 0x7f ? k : n;
					size_t got = ids_first_control((const char *)s, n);
					if (got != want)
						fail_msg("byte 0x%02x at %zu of %zu (filler "
						         "0x%02x): %zu, want %zu",
						         b, k, n, (unsigned char)fillers[f], got,
						         want);
				}
				s[k] = (unsigned char)fillers[f];
			}
		}
	}
	/* the first of two */
	assert_int_equal(ids_first_control("abcdefghij\tkl\x01", 14), 10);
}

/*
 * ids_text_scan on s (n bytes) says what the reference says, and so do
 * ids_utf8_valid and ids_first_control.
 */
static void
scan_agrees(const unsigned char *s, size_t n)
{
	size_t control = 12345;
	bool valid = ids_text_scan((const char *)s, n, &control);
	bool want = text_reference_utf8(s, n);
	size_t want_control = text_reference_control(s, n);
	if (valid != want || ids_utf8_valid((const char *)s, n) != want)
		fail_msg("valid %d, the reference says %d (%zu bytes)", valid, want, n);
	if (valid && control != want_control)
		fail_msg("control at %zu, the reference says %zu (%zu bytes)", control,
		         want_control, n);
	if (ids_first_control((const char *)s, n) != want_control)
		fail_msg("ids_first_control says %zu, the reference %zu (%zu bytes)",
		         ids_first_control((const char *)s, n), want_control, n);
}

/*
 * Every byte value at every position of texts of printable ASCII, of
 * Swedish letters, of control characters and of bad UTF-8; then random
 * texts from an alphabet of all of these, with pieces of multi-byte
 * characters among them.
 */
static void
test_text_scan(void **state)
{
	(void)state;
	static const char *const fillers[] = {"a",    "\xc3\xa5", "\t",
	                                      "\x7f", "\xff",     "\xe2\x82\xac"};
	unsigned char s[48];
	for (size_t f = 0; f < sizeof fillers / sizeof fillers[0]; f++) {
		size_t flen = strlen(fillers[f]);
		for (size_t i = 0; i < sizeof s; i++)
			s[i] = (unsigned char)fillers[f][i % flen];
		for (size_t n = 0; n <= 26; n++) {
			scan_agrees(s, n);
			for (size_t k = 0; k < n; k++) {
				unsigned char was = s[k];
				for (unsigned b = 0; b < 256; b++) {
					s[k] = (unsigned char)b;
					scan_agrees(s, n);
				}
				s[k] = was;
			}
		}
	}
	static const char *const pieces[] = {"abc def ",
	                                     "Hageby centrum",
	                                     "\xc3\xa5",
	                                     "\xc3\xa4",
	                                     "\xc3\xb6",
	                                     "\xe2\x82\xac",
	                                     "\xf0\x9f\x98\x80",
	                                     "\n",
	                                     "\t",
	                                     "\x01",
	                                     "\x7f",
	                                     "\xc3",
	                                     "\x80",
	                                     "\xed\xa0\x80",
	                                     "~"};
	uint32_t r = 1;
	for (int t = 0; t < 20000; t++) {
		size_t n = 0;
		while (n < 40) {
			r = r * 1103515245u + 12345u;
			const char *p = pieces[(r >> 16) % (sizeof pieces / sizeof pieces[0])];
			size_t len = strlen(p);
			if (n + len > sizeof s)
				break;
			memcpy(s + n, p, len);
			n += len;
		}
		scan_agrees(s, n);
	}
}

/* ids_copy copies as snprintf(dst, cap, "%s", src) does, and says how much. */
static void
test_copy_as_snprintf(void **state)
{
	(void)state;
	static const char *const srcs[] = {"", "a", "hageby", "hageby/reports", "0123456789abcdef"};
	for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
		for (size_t cap = 1; cap <= 20; cap++) {
			char got[24], want[24];
			memset(got, 'x', sizeof got);
			memset(want, 'x', sizeof want);
			size_t n = ids_copy(got, cap, srcs[i]);
			snprintf(want, cap, "%s", srcs[i]);
			assert_memory_equal(got, want, sizeof got);
			assert_int_equal(n, strlen(want));
		}
	}
	/* the topic ingest builds: area, then the kind after it */
	char topic[16];
	size_t at = ids_copy(topic, sizeof topic, "hageby");
	ids_copy(topic + at, sizeof topic - at, "/reports");
	assert_string_equal(topic, "hageby/reports");
	at = ids_copy(topic, sizeof topic, "a-long-area-name");
	ids_copy(topic + at, sizeof topic - at, "/reports");
	assert_string_equal(topic, "a-long-area-nam");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_position),
	    cmocka_unit_test(test_first_control),
	    cmocka_unit_test(test_text_scan),
	    cmocka_unit_test(test_copy_as_snprintf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
