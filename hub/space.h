/* SPDX-License-Identifier: Apache-2.0 */
/*
 * space: the free space of the store's filesystem. A full disk is a
 * temporary refusal (the store's commit fails, the sender is told to retry,
 * nothing acknowledged is lost), but it stops the partners' reports until
 * an administrator frees space. So the hub says on standard error when the
 * space falls below limits.warn_free_mib, again at each halving, and when
 * it is back; `estctl status` shows the figures.
 */
#ifndef ESTHUB_HUB_SPACE_H
#define ESTHUB_HUB_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The bytes an unprivileged writer may still use on the filesystem that
 * holds path, and its size. 0, or -1 with errno.
 */
int space_of(const char *path, uint64_t *free_bytes, uint64_t *size_bytes);

/* "812 MiB", "12.3 GiB": bytes for people (binary units, a decimal point). */
void space_text(uint64_t bytes, char *out, size_t outlen);

/* The watch of one filesystem; zero it, then set path and warn_below. */
struct space_watch {
	const char *path;    /* a file or directory on the filesystem watched */
	uint64_t warn_below; /* bytes; 0: never warn */
	uint64_t warned_at;  /* the free space last warned about; 0: not low */
	int64_t next_ms;     /* when to look next (monotonic) */
};

/*
 * Looks at most every SPACE_CHECK_MS and says what changed: low (below
 * warn_below, or half of what was last said), or back (at least a tenth
 * above warn_below again). Returns true while the space is low.
 */
#define SPACE_CHECK_MS 5000
bool space_watch_tick(struct space_watch *w, int64_t now_ms);

/* What space_watch_tick does with the free space it found (avail bytes). */
bool space_watch_note(struct space_watch *w, uint64_t avail);

#endif
