/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vfspass: what an SQLite VFS layered over another passes through
 * unchanged. A layer's file begins as struct vfspass_file (its own
 * sqlite3_file, then the file of the VFS below, which lives in the same
 * allocation at VFSPASS_REAL_OFFSET); its io methods take the vfspass_*
 * calls for whatever they do not change. vfspass_vfs fills a VFS whose
 * every call but xOpen goes to the one below (pAppData). Used by walbuf
 * (the hub's WAL writes) and by the tests' power cut
 * (tests/tools/powercut_vfs.c). Both sit over the unix VFS, whose files
 * are io methods version 3 (shared memory and memory mapping).
 */
#ifndef ESTHUB_HUB_VFSPASS_H
#define ESTHUB_HUB_VFSPASS_H

#include <stddef.h>

#include <sqlite3.h>

struct vfspass_file {
	sqlite3_file base; /* pMethods: the layer's */
	sqlite3_file *real;
};

/* Where, in a layer file of `size` bytes, the file of the VFS below begins. */
#define VFSPASS_REAL_OFFSET(size) (((size) + 15) & ~(size_t)15)
#define VFSPASS_REAL(file)        (((struct vfspass_file *)(file))->real)

/* Every call of a file passed through (version 3). */
extern const sqlite3_io_methods vfspass_methods;

int vfspass_close(sqlite3_file *file);
int vfspass_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off);
int vfspass_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off);
int vfspass_truncate(sqlite3_file *file, sqlite3_int64 size);
int vfspass_sync(sqlite3_file *file, int flags);
int vfspass_file_size(sqlite3_file *file, sqlite3_int64 *size);
int vfspass_lock(sqlite3_file *file, int lock);
int vfspass_unlock(sqlite3_file *file, int lock);
int vfspass_check_reserved(sqlite3_file *file, int *out);
int vfspass_file_control(sqlite3_file *file, int op, void *arg);
int vfspass_sector_size(sqlite3_file *file);
int vfspass_device_characteristics(sqlite3_file *file);
int vfspass_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **pp);
int vfspass_shm_lock(sqlite3_file *file, int offset, int n, int flags);
void vfspass_shm_barrier(sqlite3_file *file);
int vfspass_shm_unmap(sqlite3_file *file, int delete_flag);
int vfspass_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **pp);
int vfspass_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p);

/*
 * Fills vfs (version 3) named name over real: files of layer_size bytes
 * with real's after them, every call passed to real (pAppData) but xOpen,
 * which the caller sets, and xDelete, which it may replace. 0, or -1 when
 * real is not a version 3 VFS.
 */
int vfspass_vfs(sqlite3_vfs *vfs, sqlite3_vfs *real, const char *name, size_t layer_size);

/* Opens name with the VFS below vfs into file's real part; file's pMethods stays NULL on failure.
 */
int vfspass_open_real(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file,
                      size_t layer_size, int flags, int *out_flags);

#endif
