/* SPDX-License-Identifier: Apache-2.0 */
/*
 * space: the free space of the store's filesystem (see space.h).
 */
#include "space.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "wire/diag.h"

int
space_of(const char *path, uint64_t *free_bytes, uint64_t *size_bytes)
{
	struct statvfs st;
	if (statvfs(path, &st) != 0)
		return -1;
	/* f_bavail: what a writer that is not root may use, as the hub should plan for. */
	*free_bytes = (uint64_t)st.f_bavail * st.f_frsize;
	*size_bytes = (uint64_t)st.f_blocks * st.f_frsize;
	return 0;
}

void
space_text(uint64_t bytes, char *out, size_t outlen)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, outlen, "%llu bytes", (unsigned long long)bytes);
	else if (v < 10)
		snprintf(out, outlen, "%.1f %s", v, units[u]);
	else
		snprintf(out, outlen, "%.0f %s", v, units[u]);
}

bool
space_watch_tick(struct space_watch *w, int64_t now_ms)
{
	if (w->warn_below == 0 || now_ms < w->next_ms)
		return w->warned_at != 0;
	w->next_ms = now_ms + SPACE_CHECK_MS;
	uint64_t avail, size;
	if (space_of(w->path, &avail, &size) != 0) {
		diag_debug("space: %s: %s", w->path, strerror(errno));
		return w->warned_at != 0;
	}
	return space_watch_note(w, avail);
}

bool
space_watch_note(struct space_watch *w, uint64_t avail)
{
	if (w->warn_below == 0)
		return false;
	char free_text[32], limit[32];
	space_text(avail, free_text, sizeof free_text);
	space_text(w->warn_below, limit, sizeof limit);
	if (w->warned_at != 0 && avail >= w->warn_below + w->warn_below / 10) {
		diag_say("space: %s free again on the filesystem of %s (warning below %s, "
		         "limits.warn_free_mib)",
		         free_text, w->path, limit);
		w->warned_at = 0;
	} else if ((w->warned_at == 0 && avail < w->warn_below) ||
	           (w->warned_at != 0 && avail < w->warned_at / 2)) {
		diag_say("space: only %s free on the filesystem of %s (warning below %s, "
		         "limits.warn_free_mib); when it is full the hub refuses reports, which "
		         "wait in the adapters' outboxes, until space is freed",
		         free_text, w->path, limit);
		w->warned_at = avail > 0 ? avail : 1;
	}
	return w->warned_at != 0;
}
