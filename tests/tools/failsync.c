/* SPDX-License-Identifier: Apache-2.0 */
/*
 * failsync: a disk whose write-back fails, for programs that write plain
 * files (est-feed's output). Preloaded (LD_PRELOAD=libesthub-failsync.so)
 * with ESTHUB_FAILSYNC_WHILE=PATH, fsync and fdatasync of a regular file
 * fail with EIO while PATH exists, and work again once it is gone: what
 * Linux does after a failed write-back, which it reports once, at the next
 * fsync, and then forgets (the pages stay in its cache as if written, and
 * reach the disk only if written again). A program that keeps going after
 * the failed sync and syncs again later is told all is well and has lost
 * what it wrote before (tests/integration/test_power_cut.py, FeedFailingDisk).
 *
 * Test code only: never built into the programs, never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int fsync(int fd);
int fdatasync(int fd);

/* EIO while the disk fails, else what the real call (name: fsync or fdatasync) says. */
static int
sync_call(const char *name, int fd)
{
	const char *flag = getenv("ESTHUB_FAILSYNC_WHILE");
	struct stat st;
	if (flag != NULL && *flag != '\0' && access(flag, F_OK) == 0 && fstat(fd, &st) == 0 &&
	    S_ISREG(st.st_mode)) {
		errno = EIO;
		return -1;
	}
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, name);
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd);
}

int
fsync(int fd)
{
	return sync_call("fsync", fd);
}

int
fdatasync(int fd)
{
	return sync_call("fdatasync", fd);
}
