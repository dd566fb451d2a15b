/* SPDX-License-Identifier: Apache-2.0 */
/*
 * textbuf: see textbuf.h. Appends never overflow: a buffer that cannot grow
 * is marked failed and its writer reports it once, at the end.
 */
#include "textbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/durable.h"

void
textbuf_init(struct textbuf *b)
{
	memset(b, 0, sizeof *b);
}

void
textbuf_fini(struct textbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

/* Makes room for n more bytes and the NUL; false (and failed) when it cannot. */
static bool
reserve(struct textbuf *b, size_t n)
{
	if (b->failed)
		return false;
	if (n > TEXTBUF_MAX_BYTES || b->len + n + 1 > TEXTBUF_MAX_BYTES) {
		b->failed = true;
		return false;
	}
	if (b->len + n + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *d = realloc(b->data, cap);
	if (d == NULL) {
		b->failed = true;
		return false;
	}
	b->data = d;
	b->cap = cap;
	return true;
}

void
textbuf_putn(struct textbuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
textbuf_put(struct textbuf *b, const char *s)
{
	if (s != NULL)
		textbuf_putn(b, s, strlen(s));
}

void
textbuf_printf(struct textbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n)) {
		b->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (of at most left bytes), 0 when it is not one. */
static size_t
utf8_seq(const unsigned char *s, size_t left)
{
	size_t n;
	unsigned min;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	unsigned cp = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void
textbuf_html(struct textbuf *b, const char *s)
{
	if (s == NULL)
		return;
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		const char *rep = NULL;
		switch (c) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			break;
		}
		if (rep != NULL) {
			textbuf_put(b, rep);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			textbuf_putn(b, (c == '\t' || c == '\n') ? (const char *)&p[i] : " ", 1);
			i++;
			continue;
		}
		size_t n = utf8_seq(p + i, len - i);
		if (n == 0) {
			textbuf_put(b, "\xef\xbf\xbd"); /* U+FFFD */
			i++;
			continue;
		}
		textbuf_putn(b, s + i, n);
		i += n;
	}
}

int
textbuf_write_file(const struct textbuf *b, const char *path, char *err, size_t errlen)
{
	if (b->failed) {
		snprintf(err, errlen,
		         "%s: the content grew past %u bytes or memory ran out; not written", path,
		         TEXTBUF_MAX_BYTES);
		return -1;
	}
	/* Durably, the new name too, before a saved state passes this picture. */
	return durable_replace(path, b->data, b->len, err, errlen);
}
