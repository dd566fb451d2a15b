/* SPDX-License-Identifier: Apache-2.0 */
/*
 * durable: files that survive a power cut, not only a crash. A rename is
 * on disk once the directory holding the new name is synced, and the data
 * it names once the file was synced before it: without both, a cut can
 * bring back the old name (a revoked certificate back in certs/) or leave
 * the new one empty. The store itself is SQLite's to sync (log.c).
 */
#ifndef ESTHUB_WIRE_DURABLE_H
#define ESTHUB_WIRE_DURABLE_H

#include <stddef.h>

/* Syncs the directory dir itself: the names in it. 0, or -1 with errno. */
int durable_dir(const char *dir);

/* Syncs the directory that holds path (its last '/' part left off). 0, or -1 with errno. */
int durable_dir_of(const char *path);

/*
 * The directory that holds path, as durable_dir_of syncs it, into dir:
 * path up to its last '/', "/" for a name right under the root, "." for a
 * bare name. 0, or -1 with errno ENAMETOOLONG when it does not fit in cap.
 */
int durable_dir_part(const char *path, char *dir, size_t cap);

/* Syncs the file at path, data and size. 0, or -1 with errno. */
int durable_file(const char *path);

/*
 * rename(from, to) made durable: from's data synced first, then the
 * rename, then to's directory (and from's, when it is another). 0, or -1
 * with errno (from is left where it was unless the rename itself was done).
 */
int durable_rename(const char *from, const char *to);

/*
 * Replaces (or makes) the file at path with the len bytes at data, mode
 * 0644 before the umask: written to PATH.tmp.PID, synced, renamed over
 * path, path's directory synced. A crash or a power cut leaves the old
 * file or the new one, never a part. 0, or -1 with the file, the step and
 * the reason in err (the temporary file removed).
 */
int durable_replace(const char *path, const void *data, size_t len, char *err, size_t errlen);

#endif
