/* SPDX-License-Identifier: Apache-2.0 */
/*
 * walbuf: an SQLite VFS that gathers the writes to a WAL file and hands
 * them to the file system as one write when SQLite syncs it.
 *
 * SQLite writes a WAL frame as two pwrite calls (its 24-byte header, then
 * the page), so a commit of 175 reports was about 100 system calls before
 * its fdatasync, and one report alone five. This VFS sits on top of the
 * default one (unix) and changes only what happens to a WAL file's writes:
 * consecutive writes are kept in memory and written together, 64 KiB a
 * call (4 calls for those 175 reports, 1 for one report), before the file
 * is synced, read, truncated, asked its size or closed, and whenever a
 * write does not follow the last one. Nothing is acknowledged that has
 * not been through the sync, so durability is SQLite's as before; a crash
 * loses only frames SQLite had not synced either, which it ignores on
 * recovery (their checksums do not follow). Every other file (the
 * database, its shared memory) goes straight to the default VFS.
 *
 * A write error (a full disk) comes back from the call that writes the
 * gathered bytes, usually the sync, and the gathered bytes are dropped:
 * SQLite rolls the transaction back and never counts those frames.
 */
#ifndef ESTHUB_HUB_WALBUF_H
#define ESTHUB_HUB_WALBUF_H

/* The VFS's name, for sqlite3_open_v2. */
#define WALBUF_VFS "esthub-walbuf"

/*
 * Registers the VFS (not as the default) over the default VFS; once per
 * process is enough, later calls do nothing. An SQLite result code.
 */
int walbuf_register(void);

#endif
