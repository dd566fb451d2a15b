/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a text check must say, the slow and obvious way, for tests to hold
 * the library's word-at-a-time checks (wire/ids.h) against: UTF-8 as the
 * Unicode standard's table of well-formed byte sequences gives it (its
 * Table 3-7: no overlongs, no surrogates, nothing past U+10FFFF), a byte
 * at a time; and the first control character (below 0x20, or 0x7f).
 */
#ifndef ESTHUB_TEST_TEXT_REFERENCE_H
#define ESTHUB_TEST_TEXT_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>

static inline bool
text_reference_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], lo = 0x80, hi = 0xBF;
		size_t len;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
		else
			return false;
		if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k < len; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return false;
		i += len;
	}
	return true;
}

static inline size_t
text_reference_control(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return i;
	return n;
}

#endif
