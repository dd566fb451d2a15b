/* SPDX-License-Identifier: Apache-2.0 */
/* durable: files that survive a power cut (see durable.h). */
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
durable_dir_part(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	int n;
	if (slash == NULL)
		n = snprintf(dir, cap, ".");
	else if (slash == path)
		n = snprintf(dir, cap, "/");
	else
		n = snprintf(dir, cap, "%.*s", (int)(slash - path), path);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
sync_opened(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

int
durable_dir(const char *dir)
{
	return sync_opened(dir, O_RDONLY | O_DIRECTORY);
}

int
durable_dir_of(const char *path)
{
	char dir[PATH_MAX];
	if (durable_dir_part(path, dir, sizeof dir) != 0)
		return -1;
	return durable_dir(dir);
}

int
durable_file(const char *path)
{
	return sync_opened(path, O_RDONLY);
}

int
durable_rename(const char *from, const char *to)
{
	char from_dir[PATH_MAX], to_dir[PATH_MAX];
	if (durable_dir_part(from, from_dir, sizeof from_dir) != 0 ||
	    durable_dir_part(to, to_dir, sizeof to_dir) != 0 || durable_file(from) != 0 ||
	    rename(from, to) != 0 || durable_dir_of(to) != 0)
		return -1;
	return strcmp(from_dir, to_dir) == 0 ? 0 : durable_dir_of(from);
}

int
durable_replace(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		return -1;
	}
	const char *p = data;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "%s: cannot write: %s", tmp,
			         w == 0 ? "nothing written" : strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	int sync_rc = fsync(fd);
	int close_rc = close(fd);
	if (sync_rc != 0 || close_rc != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot rename into place: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (durable_dir_of(path) != 0) {
		snprintf(err, errlen, "%s: cannot sync its directory: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
