/* SPDX-License-Identifier: Apache-2.0 */
/* vfspass: what a layered SQLite VFS passes through unchanged (see vfspass.h). */
#include "vfspass.h"

#include <string.h>

/* --- a file's calls ----------------------------------------------------------------- */

static int
vfspass_close(sqlite3_file *file)
{
	return VFSPASS_REAL(file)->pMethods->xClose(VFSPASS_REAL(file));
}

static int
vfspass_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	return VFSPASS_REAL(file)->pMethods->xRead(VFSPASS_REAL(file), out, amt, off);
}

static int
vfspass_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
	return VFSPASS_REAL(file)->pMethods->xWrite(VFSPASS_REAL(file), data, amt, off);
}

static int
vfspass_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	return VFSPASS_REAL(file)->pMethods->xTruncate(VFSPASS_REAL(file), size);
}

static int
vfspass_sync(sqlite3_file *file, int flags)
{
	return VFSPASS_REAL(file)->pMethods->xSync(VFSPASS_REAL(file), flags);
}

static int
vfspass_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	return VFSPASS_REAL(file)->pMethods->xFileSize(VFSPASS_REAL(file), size);
}

static int
vfspass_lock(sqlite3_file *file, int lock)
{
	return VFSPASS_REAL(file)->pMethods->xLock(VFSPASS_REAL(file), lock);
}

static int
vfspass_unlock(sqlite3_file *file, int lock)
{
	return VFSPASS_REAL(file)->pMethods->xUnlock(VFSPASS_REAL(file), lock);
}

static int
vfspass_check_reserved(sqlite3_file *file, int *out)
{
	return VFSPASS_REAL(file)->pMethods->xCheckReservedLock(VFSPASS_REAL(file), out);
}

static int
vfspass_file_control(sqlite3_file *file, int op, void *arg)
{
	return VFSPASS_REAL(file)->pMethods->xFileControl(VFSPASS_REAL(file), op, arg);
}

static int
vfspass_sector_size(sqlite3_file *file)
{
	return VFSPASS_REAL(file)->pMethods->xSectorSize(VFSPASS_REAL(file));
}

static int
vfspass_device_characteristics(sqlite3_file *file)
{
	return VFSPASS_REAL(file)->pMethods->xDeviceCharacteristics(VFSPASS_REAL(file));
}

static int
vfspass_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **pp)
{
	return VFSPASS_REAL(file)->pMethods->xShmMap(VFSPASS_REAL(file), page, size, extend, pp);
}

static int
vfspass_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	return VFSPASS_REAL(file)->pMethods->xShmLock(VFSPASS_REAL(file), offset, n, flags);
}

static void
vfspass_shm_barrier(sqlite3_file *file)
{
	VFSPASS_REAL(file)->pMethods->xShmBarrier(VFSPASS_REAL(file));
}

static int
vfspass_shm_unmap(sqlite3_file *file, int delete_flag)
{
	return VFSPASS_REAL(file)->pMethods->xShmUnmap(VFSPASS_REAL(file), delete_flag);
}

static int
vfspass_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **pp)
{
	return VFSPASS_REAL(file)->pMethods->xFetch(VFSPASS_REAL(file), off, amt, pp);
}

static int
vfspass_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	return VFSPASS_REAL(file)->pMethods->xUnfetch(VFSPASS_REAL(file), off, p);
}

const sqlite3_io_methods vfspass_methods = {
    .iVersion = 3,
    .xClose = vfspass_close,
    .xRead = vfspass_read,
    .xWrite = vfspass_write,
    .xTruncate = vfspass_truncate,
    .xSync = vfspass_sync,
    .xFileSize = vfspass_file_size,
    .xLock = vfspass_lock,
    .xUnlock = vfspass_unlock,
    .xCheckReservedLock = vfspass_check_reserved,
    .xFileControl = vfspass_file_control,
    .xSectorSize = vfspass_sector_size,
    .xDeviceCharacteristics = vfspass_device_characteristics,
    .xShmMap = vfspass_shm_map,
    .xShmLock = vfspass_shm_lock,
    .xShmBarrier = vfspass_shm_barrier,
    .xShmUnmap = vfspass_shm_unmap,
    .xFetch = vfspass_fetch,
    .xUnfetch = vfspass_unfetch,
};

/* --- the VFS's calls ------------------------------------------------------------------ */

#define BELOW(vfs) ((sqlite3_vfs *)(vfs)->pAppData)

int
vfspass_open_real(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, size_t layer_size,
                  int flags, int *out_flags)
{
	struct vfspass_file *f = (struct vfspass_file *)file;
	f->base.pMethods = NULL;
	f->real = (sqlite3_file *)((char *)file + VFSPASS_REAL_OFFSET(layer_size));
	int rc = BELOW(vfs)->xOpen(BELOW(vfs), name, f->real, flags, out_flags);
	if (rc == SQLITE_OK && f->real->pMethods->iVersion < 3)
		rc = SQLITE_CANTOPEN; /* the layer forwards shared memory and mapping: not there */
	if (rc != SQLITE_OK && f->real->pMethods != NULL) {
		/* SQLite calls xClose only when the layer's pMethods is set: close it here. */
		f->real->pMethods->xClose(f->real);
		f->real->pMethods = NULL;
	}
	return rc;
}

static int
pass_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	return BELOW(vfs)->xDelete(BELOW(vfs), name, sync_dir);
}

static int
pass_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return BELOW(vfs)->xAccess(BELOW(vfs), name, flags, out);
}

static int
pass_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return BELOW(vfs)->xFullPathname(BELOW(vfs), name, n, out);
}

static void *
pass_dl_open(sqlite3_vfs *vfs, const char *name)
{
	return BELOW(vfs)->xDlOpen(BELOW(vfs), name);
}

static void
pass_dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
	BELOW(vfs)->xDlError(BELOW(vfs), n, msg);
}

static void (*pass_dl_sym(sqlite3_vfs *vfs, void *handle, const char *sym))(void)
{
	return BELOW(vfs)->xDlSym(BELOW(vfs), handle, sym);
}

static void
pass_dl_close(sqlite3_vfs *vfs, void *handle)
{
	BELOW(vfs)->xDlClose(BELOW(vfs), handle);
}

static int
pass_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	return BELOW(vfs)->xRandomness(BELOW(vfs), n, out);
}

static int
pass_sleep(sqlite3_vfs *vfs, int us)
{
	return BELOW(vfs)->xSleep(BELOW(vfs), us);
}

static int
pass_current_time(sqlite3_vfs *vfs, double *out)
{
	return BELOW(vfs)->xCurrentTime(BELOW(vfs), out);
}

static int
pass_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return BELOW(vfs)->xGetLastError(BELOW(vfs), n, out);
}

static int
pass_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	return BELOW(vfs)->xCurrentTimeInt64(BELOW(vfs), out);
}

static int
pass_set_syscall(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr p)
{
	return BELOW(vfs)->xSetSystemCall(BELOW(vfs), name, p);
}

static sqlite3_syscall_ptr
pass_get_syscall(sqlite3_vfs *vfs, const char *name)
{
	return BELOW(vfs)->xGetSystemCall(BELOW(vfs), name);
}

static const char *
pass_next_syscall(sqlite3_vfs *vfs, const char *name)
{
	return BELOW(vfs)->xNextSystemCall(BELOW(vfs), name);
}

int
vfspass_vfs(sqlite3_vfs *vfs, sqlite3_vfs *real, const char *name, size_t layer_size)
{
	if (real == NULL || real->iVersion < 3)
		return -1;
	*vfs = (sqlite3_vfs){
	    .iVersion = 3,
	    .szOsFile = (int)(VFSPASS_REAL_OFFSET(layer_size) + (size_t)real->szOsFile),
	    .mxPathname = real->mxPathname,
	    .zName = name,
	    .pAppData = real,
	    .xDelete = pass_delete,
	    .xAccess = pass_access,
	    .xFullPathname = pass_full_pathname,
	    .xDlOpen = pass_dl_open,
	    .xDlError = pass_dl_error,
	    .xDlSym = pass_dl_sym,
	    .xDlClose = pass_dl_close,
	    .xRandomness = pass_randomness,
	    .xSleep = pass_sleep,
	    .xCurrentTime = pass_current_time,
	    .xGetLastError = pass_last_error,
	    .xCurrentTimeInt64 = pass_current_time64,
	    .xSetSystemCall = pass_set_syscall,
	    .xGetSystemCall = pass_get_syscall,
	    .xNextSystemCall = pass_next_syscall,
	};
	return 0;
}
