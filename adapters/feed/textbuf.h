/* SPDX-License-Identifier: Apache-2.0 */
/*
 * textbuf: a growing text buffer for the files est-feed writes (HTML, CSV,
 * GeoJSON), capped at TEXTBUF_MAX_BYTES, with HTML escaping, and the atomic
 * write of a finished buffer to its file (temporary file, fsync, rename), so
 * a reader never sees half a page.
 */
#ifndef ESTHUB_FEED_TEXTBUF_H
#define ESTHUB_FEED_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

/* No page of one picture comes near this; past it the buffer fails (overflow policy: refuse). */
#define TEXTBUF_MAX_BYTES (32u * 1024 * 1024)

struct textbuf {
	char *data; /* NUL-terminated while not failed; owned */
	size_t len;
	size_t cap;
	bool failed; /* out of memory or over the cap: every later append is a no-op */
};

void textbuf_init(struct textbuf *b);
void textbuf_fini(struct textbuf *b);
void textbuf_put(struct textbuf *b, const char *s);
void textbuf_putn(struct textbuf *b, const char *s, size_t n);
void textbuf_printf(struct textbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Appends s with & < > " ' escaped, so any partner text is inert in HTML
 * text and in quoted attributes. NULL appends nothing; invalid UTF-8 becomes
 * U+FFFD per bad byte and control characters other than tab and newline a
 * space, so the page stays well-formed.
 */
void textbuf_html(struct textbuf *b, const char *s);

/*
 * Writes b to path atomically: path.tmp.PID is written, synced and renamed
 * over path. Returns 0, or -1 with "PATH: why" in err.
 */
int textbuf_write_file(const struct textbuf *b, const char *path, char *err, size_t errlen);

#endif
