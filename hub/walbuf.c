/* SPDX-License-Identifier: Apache-2.0 */
/* walbuf: one write per WAL sync instead of two per frame (see walbuf.h). */
#include "walbuf.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "vfspass.h"

/* At most this many bytes wait in memory; a longer run is written as it goes. */
#define WALBUF_MAX (4 << 20)
#define WALBUF_MIN (64 << 10)
/* What one write to the file below takes at most (see wb_flush). */
#define WALBUF_CHUNK (64 << 10)

struct wb_file {
	struct vfspass_file pass; /* pass.base.pMethods: wal_methods or vfspass_methods */
	/* the gathered writes: bytes [at, at + len) of the file, not written yet */
	unsigned char *buf;
	size_t len, cap;
	sqlite3_int64 at;
};

static sqlite3_vfs walbuf_vfs;

/* --- the WAL file ---------------------------------------------------------- */

/*
 * Writes what was gathered, WALBUF_CHUNK bytes a call: the unix VFS masks
 * a write's length to its low 17 bits (SQLite itself never writes more than
 * a page and a frame header at once), so 128 KiB would go out as 0 bytes
 * and come back as SQLITE_FULL. Dropped on failure (SQLite gets the error
 * and rolls back).
 */
static int
wb_flush(struct wb_file *f)
{
	int rc = SQLITE_OK;
	for (size_t done = 0; rc == SQLITE_OK && done < f->len;) {
		size_t n = f->len - done < WALBUF_CHUNK ? f->len - done : WALBUF_CHUNK;
		rc = f->pass.real->pMethods->xWrite(f->pass.real, f->buf + done, (int)n,
		                                    f->at + (sqlite3_int64)done);
		done += n;
	}
	f->len = 0;
	return rc;
}

static int
wb_close(sqlite3_file *file)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = wb_flush(f);
	int rc2 = f->pass.real->pMethods->xClose(f->pass.real);
	free(f->buf);
	f->buf = NULL;
	f->cap = 0;
	return rc != SQLITE_OK ? rc : rc2;
}

static int
wb_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = wb_flush(f);
	return rc != SQLITE_OK ? rc : f->pass.real->pMethods->xRead(f->pass.real, out, amt, off);
}

/* Room for need more bytes in the buffer, within WALBUF_MAX; false when not. */
static bool
wb_room(struct wb_file *f, size_t need)
{
	if (need > WALBUF_MAX - f->len)
		return false;
	if (f->len + need <= f->cap)
		return true;
	size_t cap = f->cap ? f->cap : WALBUF_MIN;
	while (cap < f->len + need)
		cap *= 2;
	if (cap > WALBUF_MAX)
		cap = WALBUF_MAX;
	unsigned char *p = realloc(f->buf, cap);
	if (p == NULL)
		return false; /* written directly instead */
	f->buf = p;
	f->cap = cap;
	return true;
}

static int
wb_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
	struct wb_file *f = (struct wb_file *)file;
	if (amt <= 0)
		return f->pass.real->pMethods->xWrite(f->pass.real, data, amt, off);
	bool follows = f->len > 0 && off == f->at + (sqlite3_int64)f->len;
	if (!follows) {
		int rc = wb_flush(f);
		if (rc != SQLITE_OK)
			return rc;
		f->at = off;
	}
	if (!wb_room(f, (size_t)amt)) {
		int rc = wb_flush(f);
		if (rc != SQLITE_OK)
			return rc;
		return f->pass.real->pMethods->xWrite(f->pass.real, data, amt, off);
	}
	memcpy(f->buf + f->len, data, (size_t)amt);
	f->len += (size_t)amt;
	return SQLITE_OK;
}

static int
wb_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = wb_flush(f);
	return rc != SQLITE_OK ? rc : f->pass.real->pMethods->xTruncate(f->pass.real, size);
}

static int
wb_sync(sqlite3_file *file, int flags)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = wb_flush(f);
	return rc != SQLITE_OK ? rc : f->pass.real->pMethods->xSync(f->pass.real, flags);
}

static int
wb_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = wb_flush(f);
	return rc != SQLITE_OK ? rc : f->pass.real->pMethods->xFileSize(f->pass.real, size);
}

static int
wb_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **pp)
{
	struct wb_file *f = (struct wb_file *)file;
	*pp = NULL;
	int rc = wb_flush(f);
	return rc != SQLITE_OK ? rc : f->pass.real->pMethods->xFetch(f->pass.real, off, amt, pp);
}

/* The WAL's calls: vfspass_methods with those above (walbuf_register fills it). */
static sqlite3_io_methods wal_methods;

/* --- the VFS: xOpen wraps, everything else is the default VFS's ----------- */

static int
vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags)
{
	struct wb_file *f = (struct wb_file *)file;
	memset(f, 0, sizeof *f);
	int rc = vfspass_open_real(vfs, name, file, sizeof *f, flags, out_flags);
	if (rc == SQLITE_OK)
		f->pass.base.pMethods = (flags & SQLITE_OPEN_WAL) ? &wal_methods : &vfspass_methods;
	return rc;
}

static int register_rc = SQLITE_OK;

static void
register_once(void)
{
	if (vfspass_vfs(&walbuf_vfs, sqlite3_vfs_find(NULL), WALBUF_VFS, sizeof(struct wb_file)) !=
	    0) {
		register_rc = SQLITE_ERROR; /* not the unix VFS this was written against */
		return;
	}
	walbuf_vfs.xOpen = vfs_open;
	wal_methods = vfspass_methods;
	wal_methods.xClose = wb_close;
	wal_methods.xRead = wb_read;
	wal_methods.xWrite = wb_write;
	wal_methods.xTruncate = wb_truncate;
	wal_methods.xSync = wb_sync;
	wal_methods.xFileSize = wb_file_size;
	wal_methods.xFetch = wb_fetch;
	register_rc = sqlite3_vfs_register(&walbuf_vfs, 0);
}

int
walbuf_register(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, register_once);
	return register_rc;
}
