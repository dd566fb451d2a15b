/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vfspass: what an SQLite VFS layered over another passes through
 * unchanged. A layer's file begins as struct vfspass_file (its own
 * sqlite3_file, then the file of the VFS below, which lives in the same
 * allocation at VFSPASS_REAL_OFFSET); its io methods are vfspass_methods
 * with its own calls over those it changes. vfspass_vfs fills a VFS whose
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

/*
 * Every call of a file passed through (version 3): a layer copies it and
 * sets its own calls over it.
 */
extern const sqlite3_io_methods vfspass_methods;

/*
 * Fills vfs (version 3) named name over real: files of layer_size bytes
 * with real's after them, every call passed to real (pAppData) but xOpen,
 * which the caller sets, and xDelete, which it may replace. 0, or -1 when
 * real is not a version 3 VFS.
 */
int vfspass_vfs(sqlite3_vfs *vfs, sqlite3_vfs *real, const char *name, size_t layer_size);

/*
 * Opens name with the VFS below vfs into file's real part; file's
 * pMethods stays NULL on failure.
 */
int vfspass_open_real(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file,
                      size_t layer_size, int flags, int *out_flags);

#endif
