/* SPDX-License-Identifier: Apache-2.0 */
/* walbuf: one write per WAL sync instead of two per frame (see walbuf.h). */
#include "walbuf.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* At most this many bytes wait in memory; a longer run is written as it goes. */
#define WALBUF_MAX (4 << 20)
#define WALBUF_MIN (64 << 10)
/* What one write to the file below takes at most (see wb_flush). */
#define WALBUF_CHUNK (64 << 10)

struct wb_file {
	sqlite3_file base; /* pMethods: wal_methods or pass_methods */
	sqlite3_file *real;
	/* the gathered writes: bytes [at, at + len) of the file, not written yet */
	unsigned char *buf;
	size_t len, cap;
	sqlite3_int64 at;
};

static sqlite3_vfs walbuf_vfs;
static sqlite3_vfs *real_vfs;

/* sqlite3_file of the default VFS, after ours (and aligned as malloc aligns). */
#define REAL_OFFSET ((sizeof(struct wb_file) + 15) & ~(size_t)15)

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
		rc = f->real->pMethods->xWrite(f->real, f->buf + done, (int)n,
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
	int rc2 = f->real->pMethods->xClose(f->real);
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
	return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, amt, off);
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
		return f->real->pMethods->xWrite(f->real, data, amt, off);
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
		return f->real->pMethods->xWrite(f->real, data, amt, off);
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
	return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int
wb_sync(sqlite3_file *file, int flags)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = wb_flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int
wb_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = wb_flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int
wb_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **pp)
{
	struct wb_file *f = (struct wb_file *)file;
	*pp = NULL;
	int rc = wb_flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, off, amt, pp);
}

/* --- calls that go straight through (every file, the WAL too) ------------- */

#define REAL(file) (((struct wb_file *)(file))->real)

static int
pass_close(sqlite3_file *file)
{
	return REAL(file)->pMethods->xClose(REAL(file));
}

static int
pass_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	return REAL(file)->pMethods->xRead(REAL(file), out, amt, off);
}

static int
pass_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
	return REAL(file)->pMethods->xWrite(REAL(file), data, amt, off);
}

static int
pass_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	return REAL(file)->pMethods->xTruncate(REAL(file), size);
}

static int
pass_sync(sqlite3_file *file, int flags)
{
	return REAL(file)->pMethods->xSync(REAL(file), flags);
}

static int
pass_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	return REAL(file)->pMethods->xFileSize(REAL(file), size);
}

static int
pass_lock(sqlite3_file *file, int lock)
{
	return REAL(file)->pMethods->xLock(REAL(file), lock);
}

static int
pass_unlock(sqlite3_file *file, int lock)
{
	return REAL(file)->pMethods->xUnlock(REAL(file), lock);
}

static int
pass_check_reserved(sqlite3_file *file, int *out)
{
	return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}

static int
pass_file_control(sqlite3_file *file, int op, void *arg)
{
	return REAL(file)->pMethods->xFileControl(REAL(file), op, arg);
}

static int
pass_sector_size(sqlite3_file *file)
{
	return REAL(file)->pMethods->xSectorSize(REAL(file));
}

static int
pass_device_characteristics(sqlite3_file *file)
{
	return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}

static int
pass_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **pp)
{
	return REAL(file)->pMethods->xShmMap(REAL(file), page, size, extend, pp);
}

static int
pass_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}

static void
pass_shm_barrier(sqlite3_file *file)
{
	REAL(file)->pMethods->xShmBarrier(REAL(file));
}

static int
pass_shm_unmap(sqlite3_file *file, int delete_flag)
{
	return REAL(file)->pMethods->xShmUnmap(REAL(file), delete_flag);
}

static int
pass_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **pp)
{
	return REAL(file)->pMethods->xFetch(REAL(file), off, amt, pp);
}

static int
pass_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	return REAL(file)->pMethods->xUnfetch(REAL(file), off, p);
}

/* Version 3, as the unix VFS's files (walbuf_register checks the default VFS's). */
static const sqlite3_io_methods pass_methods = {
    .iVersion = 3,
    .xClose = pass_close,
    .xRead = pass_read,
    .xWrite = pass_write,
    .xTruncate = pass_truncate,
    .xSync = pass_sync,
    .xFileSize = pass_file_size,
    .xLock = pass_lock,
    .xUnlock = pass_unlock,
    .xCheckReservedLock = pass_check_reserved,
    .xFileControl = pass_file_control,
    .xSectorSize = pass_sector_size,
    .xDeviceCharacteristics = pass_device_characteristics,
    .xShmMap = pass_shm_map,
    .xShmLock = pass_shm_lock,
    .xShmBarrier = pass_shm_barrier,
    .xShmUnmap = pass_shm_unmap,
    .xFetch = pass_fetch,
    .xUnfetch = pass_unfetch,
};

static const sqlite3_io_methods wal_methods = {
    .iVersion = 3,
    .xClose = wb_close,
    .xRead = wb_read,
    .xWrite = wb_write,
    .xTruncate = wb_truncate,
    .xSync = wb_sync,
    .xFileSize = wb_file_size,
    .xLock = pass_lock,
    .xUnlock = pass_unlock,
    .xCheckReservedLock = pass_check_reserved,
    .xFileControl = pass_file_control,
    .xSectorSize = pass_sector_size,
    .xDeviceCharacteristics = pass_device_characteristics,
    .xShmMap = pass_shm_map,
    .xShmLock = pass_shm_lock,
    .xShmBarrier = pass_shm_barrier,
    .xShmUnmap = pass_shm_unmap,
    .xFetch = wb_fetch,
    .xUnfetch = pass_unfetch,
};

/* --- the VFS: xOpen wraps, everything else is the default VFS's ----------- */

static int
vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags)
{
	(void)vfs;
	struct wb_file *f = (struct wb_file *)file;
	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)((char *)file + REAL_OFFSET);
	int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		/* SQLite calls xClose only when pMethods is set: close the real file here. */
		if (f->real->pMethods != NULL)
			f->real->pMethods->xClose(f->real);
		f->base.pMethods = NULL;
		return rc;
	}
	if (f->real->pMethods->iVersion < 3) {
		/* Not a unix VFS file: the methods above forward the shared memory and mmap calls.
		 */
		f->real->pMethods->xClose(f->real);
		f->base.pMethods = NULL;
		return SQLITE_CANTOPEN;
	}
	f->base.pMethods = (flags & SQLITE_OPEN_WAL) ? &wal_methods : &pass_methods;
	return SQLITE_OK;
}

static int
vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int
vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int
vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *
vfs_dl_open(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return real_vfs->xDlOpen(real_vfs, name);
}

static void
vfs_dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
	(void)vfs;
	real_vfs->xDlError(real_vfs, n, msg);
}

static void (*vfs_dl_sym(sqlite3_vfs *vfs, void *handle, const char *sym))(void)
{
	(void)vfs;
	return real_vfs->xDlSym(real_vfs, handle, sym);
}

static void
vfs_dl_close(sqlite3_vfs *vfs, void *handle)
{
	(void)vfs;
	real_vfs->xDlClose(real_vfs, handle);
}

static int
vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int
vfs_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return real_vfs->xSleep(real_vfs, us);
}

static int
vfs_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int
vfs_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xGetLastError(real_vfs, n, out);
}

static int
vfs_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static int
vfs_set_syscall(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr p)
{
	(void)vfs;
	return real_vfs->xSetSystemCall(real_vfs, name, p);
}

static sqlite3_syscall_ptr
vfs_get_syscall(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return real_vfs->xGetSystemCall(real_vfs, name);
}

static const char *
vfs_next_syscall(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return real_vfs->xNextSystemCall(real_vfs, name);
}

static int register_rc = SQLITE_OK;

static void
register_once(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	if (real_vfs == NULL || real_vfs->iVersion < 3) {
		register_rc = SQLITE_ERROR; /* not the unix VFS this was written against */
		return;
	}
	walbuf_vfs = (sqlite3_vfs){
	    .iVersion = 3,
	    .szOsFile = (int)(REAL_OFFSET + (size_t)real_vfs->szOsFile),
	    .mxPathname = real_vfs->mxPathname,
	    .zName = WALBUF_VFS,
	    .xOpen = vfs_open,
	    .xDelete = vfs_delete,
	    .xAccess = vfs_access,
	    .xFullPathname = vfs_full_pathname,
	    .xDlOpen = vfs_dl_open,
	    .xDlError = vfs_dl_error,
	    .xDlSym = vfs_dl_sym,
	    .xDlClose = vfs_dl_close,
	    .xRandomness = vfs_randomness,
	    .xSleep = vfs_sleep,
	    .xCurrentTime = vfs_current_time,
	    .xGetLastError = vfs_last_error,
	    .xCurrentTimeInt64 = vfs_current_time64,
	    .xSetSystemCall = vfs_set_syscall,
	    .xGetSystemCall = vfs_get_syscall,
	    .xNextSystemCall = vfs_next_syscall,
	};
	register_rc = sqlite3_vfs_register(&walbuf_vfs, 0);
}

int
walbuf_register(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, register_once);
	return register_rc;
}
