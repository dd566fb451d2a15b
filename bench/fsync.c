/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-fsync: what one durable commit costs on this machine's disk at the
 * least: --count times, write --bytes bytes (default 300) and fdatasync,
 * timing each pair, in two files side by side, one write of each in turn:
 * appended to a growing file (the file's size changes, so the filesystem
 * must commit its journal too: what an append-only file such as Redis's
 * AOF pays) and written over a file allocated and synced beforehand (what
 * a reused SQLite WAL pays). Printed beside the benchmark table so its
 * figures can be read against the disk they ran on.
 *
 * Then what a page of file cache costs the CPU, no sync: --pages pages of
 * 4 KiB written to a new file (each takes a page of memory the file cache
 * did not hold), then the same pages written again (each copied into the
 * page it holds now), the mean of each. A store that grows takes new pages
 * (the checkpoint copying the WAL into the database file does); a reused
 * WAL writes over cached ones. Where the machine is a virtual one whose
 * host hands it memory at first touch, or takes back what it frees, a new
 * page costs many times a cached one (bench/README.md).
 *
 * Last, what a system call costs the CPU: --calls times getpid (made as a
 * system call: libzmq asks it on every look at a socket, its fork check)
 * and poll of one pipe without waiting (what a look at a socket's
 * descriptor costs), the mean of each. On a virtual machine whose kernel
 * entry is slow, every look at a socket the hub's main loop saves is worth
 * this much (bench/README.md, "The main loop asks its sockets less").
 *
 * Prints "bench-fsync: count=N bytes=B append_p50_us=.. append_p99_us=..
 * append_max_us=.. overwrite_p50_us=.. overwrite_p99_us=.. overwrite_max_us=..
 * pages=P new_page_us=.. cached_page_us=.. calls=C getpid_ns=.. poll_ns=..".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

struct options {
	const char *dir;
	long count, bytes, pages, calls;
};

#define PAGE_BYTES 4096

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: bench-fsync --dir DIR [--count N] [--bytes B] [--pages P] [--calls C]\n"
	        "Times N appends of B bytes, each followed by fdatasync (default 1000 x 300),\n"
	        "then P pages of 4 KiB written to a new file and written again (default 4096),\n"
	        "then C getpid and C poll system calls (default 1000000).\n");
}

static int
parse_options(struct options *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"count", required_argument, NULL, 'n'},
	    {"bytes", required_argument, NULL, 'b'},
	    {"pages", required_argument, NULL, 'p'}, /* the file cache's probe */
	    {"calls", required_argument, NULL, 'c'}, /* the system calls' probe */
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct options){.count = 1000, .bytes = 300, .pages = 4096, .calls = 1000000};
	int c, rc = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'd')
			o->dir = optarg;
		else if (c == 'n')
			rc = bench_parse_long("--count", optarg, 1, 1000000, &o->count);
		else if (c == 'b')
			rc = bench_parse_long("--bytes", optarg, 1, 1 << 20, &o->bytes);
		else if (c == 'p')
			rc = bench_parse_long("--pages", optarg, 1, 1 << 20, &o->pages);
		else if (c == 'c')
			rc = bench_parse_long("--calls", optarg, 1, 100000000, &o->calls);
		else if (c == 'h') {
			usage(stdout);
			exit(0);
		} else
			rc = -1;
	}
	if (rc != 0 || optind != argc || o->dir == NULL) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* One write of o->bytes at offset (-1: append) and fdatasync, timed into lat. */
static int
write_sync(const struct options *o, int fd, const char *buf, off_t offset,
           struct bench_samples *lat)
{
	int64_t t0 = bench_now_ns();
	ssize_t n = offset < 0 ? write(fd, buf, (size_t)o->bytes)
	                       : pwrite(fd, buf, (size_t)o->bytes, offset);
	if (n != (ssize_t)o->bytes || fdatasync(fd) != 0) {
		fprintf(stderr, "bench-fsync: write or fdatasync: %s\n", strerror(errno));
		return -1;
	}
	int64_t us = (bench_now_ns() - t0) / 1000;
	bench_samples_add(lat, us > UINT32_MAX ? UINT32_MAX : (uint32_t)us);
	return 0;
}

/* Gives fd its final size in blocks on disk, synced, so the probe's writes change no metadata. */
static int
preallocate(const struct options *o, int fd, const char *buf)
{
	for (long i = 0; i < o->count; i++)
		if (write(fd, buf, (size_t)o->bytes) != (ssize_t)o->bytes)
			return -1;
	return fsync(fd);
}

static int
open_probe(char *path, size_t len, const char *dir, const char *kind)
{
	snprintf(path, len, "%s/fsync-%s.%d", dir, kind, (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		fprintf(stderr, "bench-fsync: %s: %s\n", path, strerror(errno));
	return fd;
}

/*
 * Writes o->pages pages of 4 KiB at the start of fd, in order; the mean
 * time a page in nanoseconds to *ns. The file's cache is what the pass
 * before left: nothing for a new file.
 */
static int
pages_pass(const struct options *o, int fd, const char *page, int64_t *ns)
{
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < o->pages; i++)
		if (pwrite(fd, page, PAGE_BYTES, (off_t)i * PAGE_BYTES) != PAGE_BYTES) {
			fprintf(stderr, "bench-fsync: page write: %s\n", strerror(errno));
			return -1;
		}
	*ns = (bench_now_ns() - t0) / o->pages;
	return 0;
}

/*
 * The mean time in nanoseconds of o->calls getpid system calls (*getpid_ns)
 * and of as many polls of a pipe's read end with nothing in it and no wait
 * (*poll_ns).
 */
static int
syscalls_pass(const struct options *o, int64_t *getpid_ns, int64_t *poll_ns)
{
	int fds[2];
	if (pipe(fds) != 0) {
		fprintf(stderr, "bench-fsync: pipe: %s\n", strerror(errno));
		return -1;
	}
	int rc = 0;
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < o->calls; i++)
		(void)syscall(SYS_getpid);
	*getpid_ns = (bench_now_ns() - t0) / o->calls;
	struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
	t0 = bench_now_ns();
	for (long i = 0; rc == 0 && i < o->calls; i++)
		if (poll(&pfd, 1, 0) != 0) {
			fprintf(stderr, "bench-fsync: poll of an empty pipe: %s\n",
			        strerror(errno));
			rc = -1;
		}
	*poll_ns = (bench_now_ns() - t0) / o->calls;
	close(fds[0]);
	close(fds[1]);
	return rc;
}

static void
print_samples(const char *kind, struct bench_samples *lat)
{
	printf(" %s_p50_us=%u %s_p99_us=%u %s_max_us=%u", kind, bench_samples_pct(lat, 50), kind,
	       bench_samples_pct(lat, 99), kind, bench_samples_pct(lat, 100));
}

int
main(int argc, char **argv)
{
	struct options o;
	if (parse_options(&o, argc, argv) != 0)
		return 1;
	char append_path[4096], over_path[4096];
	int afd = open_probe(append_path, sizeof append_path, o.dir, "append");
	int ofd = afd < 0 ? -1 : open_probe(over_path, sizeof over_path, o.dir, "overwrite");
	char *buf = malloc((size_t)o.bytes);
	struct bench_samples append = {0}, over = {0};
	int rc = 2;
	if (afd >= 0 && ofd >= 0 && buf != NULL) {
		memset(buf, 'x', (size_t)o.bytes);
		rc = preallocate(&o, ofd, buf) == 0 ? 0 : 2;
		if (lseek(afd, 0, SEEK_END) < 0)
			rc = 2;
		for (long i = 0; rc == 0 && i < o.count; i++)
			if (write_sync(&o, afd, buf, -1, &append) != 0 ||
			    write_sync(&o, ofd, buf, (off_t)i * o.bytes, &over) != 0)
				rc = 2;
	}
	char pages_path[4096];
	int pfd = rc == 0 ? open_probe(pages_path, sizeof pages_path, o.dir, "pages") : -1;
	char *page = malloc(PAGE_BYTES);
	int64_t new_ns = 0, cached_ns = 0;
	if (rc == 0 && (pfd < 0 || page == NULL))
		rc = 2;
	if (rc == 0) {
		memset(page, 'p', PAGE_BYTES);
		if (pages_pass(&o, pfd, page, &new_ns) != 0 ||
		    pages_pass(&o, pfd, page, &cached_ns) != 0)
			rc = 2;
	}
	int64_t getpid_ns = 0, poll_ns = 0;
	if (rc == 0 && syscalls_pass(&o, &getpid_ns, &poll_ns) != 0)
		rc = 2;
	if (rc == 0) {
		printf("bench-fsync: count=%ld bytes=%ld", o.count, o.bytes);
		print_samples("append", &append);
		print_samples("overwrite", &over);
		printf(" pages=%ld new_page_us=%.2f cached_page_us=%.2f", o.pages,
		       (double)new_ns / 1000, (double)cached_ns / 1000);
		printf(" calls=%ld getpid_ns=%lld poll_ns=%lld\n", o.calls, (long long)getpid_ns,
		       (long long)poll_ns);
	}
	if (pfd >= 0) {
		close(pfd);
		unlink(pages_path);
	}
	free(page);
	if (afd >= 0) {
		close(afd);
		unlink(append_path);
	}
	if (ofd >= 0) {
		close(ofd);
		unlink(over_path);
	}
	bench_samples_fini(&append);
	bench_samples_fini(&over);
	free(buf);
	return rc;
}
