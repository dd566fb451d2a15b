/* SPDX-License-Identifier: Apache-2.0 */
/*
 * instance: creating and checking an instance directory (see instance.h).
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "instance.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>

#include "areas.h"
#include "checkpoint.h"
#include "config.h"
#include "log.h"
#include "wire/cert.h"
#include "wire/durable.h"

int
instance_path(char *out, size_t outlen, const char *dir, const char *rel)
{
	int n = snprintf(out, outlen, "%s/%s", dir, rel);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int
instance_lock(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	if (instance_path(path, sizeof path, dir, INSTANCE_RUN "/lock") != 0) {
		snprintf(err, errlen, "%s: path too long", dir);
		errno = ENAMETOOLONG;
		return -1;
	}
	char *slash = strrchr(path, '/');
	*slash = '\0';
	(void)mkdir(path, 0700);
	*slash = '/';
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	int why = errno;
	snprintf(err, errlen, "%s: %s", path,
	         why == EWOULDBLOCK ? "another esthub is running on this instance" : strerror(why));
	if (fd >= 0)
		close(fd);
	errno = why;
	return -1;
}

static int
make_dir(const char *dir, const char *rel, mode_t mode, char *err, size_t errlen)
{
	char path[4096];
	if (instance_path(path, sizeof path, dir, rel) ||
	    (mkdir(path, mode) != 0 && errno != EEXIST) || chmod(path, mode) != 0) {
		snprintf(err, errlen, "%s/%s: cannot create: %s", dir, rel, strerror(errno));
		return -1;
	}
	return 0;
}

static int
write_file(const char *path, const char *text, mode_t mode, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return close(fd);
}

/* Whether dir is absent or an empty directory. */
static int
dir_usable(const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	struct dirent *de;
	int used = 0;
	while ((de = readdir(d)) != NULL)
		used |= strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	if (used)
		snprintf(err, errlen, "%s: not empty; give a new or empty directory", dir);
	return used ? -1 : 0;
}

static int
make_hub_keys(const char *dir, char *err, size_t errlen)
{
	char pub[4096], sec[4096];
	if (instance_path(pub, sizeof pub, dir, INSTANCE_HUB_CERT) ||
	    instance_path(sec, sizeof sec, dir, INSTANCE_HUB_SECRET)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	return cert_generate(pub, sec, NULL, NULL, err, errlen);
}

/* nftw: removes what it is given, but for the directory it started from. */
static int
remove_made(const char *path, const struct stat *st, int flag, struct FTW *at)
{
	(void)st;
	(void)flag;
	if (at->level > 0)
		(void)remove(path);
	return 0;
}

/* Fills the new or empty directory dir with an instance (instance_init). */
static int
instance_make(const char *dir, const char *ingest_ep, const char *feed_ep, char *err, size_t errlen)
{
	char path[4096];
	static const struct {
		const char *rel;
		mode_t mode;
	} dirs[] = {{"keys", 0700},           {INSTANCE_CERTS, 0755}, {INSTANCE_CLIENTS, 0700},
	            {INSTANCE_REVOKED, 0755}, {"data", 0700},         {INSTANCE_RUN, 0700}};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		if (make_dir(dir, dirs[i].rel, dirs[i].mode, err, errlen))
			return -1;
	if (instance_path(path, sizeof path, dir, INSTANCE_CONF) ||
	    config_write_default(path, ingest_ep, feed_ep, err, errlen))
		return -1;
	if (instance_path(path, sizeof path, dir, INSTANCE_AREAS) ||
	    write_file(path, areas_default_geojson, 0644, err, errlen))
		return -1;
	if (make_hub_keys(dir, err, errlen) || checkpoint_keys_create(dir, err, errlen))
		return -1;
	struct log *lg = NULL;
	if (instance_path(path, sizeof path, dir, INSTANCE_STORE) ||
	    log_open(&lg, path, LOG_CREATE, err, errlen))
		return -1;
	log_close(&lg);
	/* A power cut after this leaves the whole instance: the files, then the names of all. */
	int rc = instance_path(path, sizeof path, dir, INSTANCE_CONF) || durable_file(path);
	for (size_t i = 0; rc == 0 && i < sizeof dirs / sizeof dirs[0]; i++)
		rc = instance_path(path, sizeof path, dir, dirs[i].rel) || durable_dir(path);
	if (rc == 0)
		rc = durable_dir(dir) || durable_dir_of(dir);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot sync it to disk: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
instance_init(const char *dir, const char *ingest_ep, const char *feed_ep, char *err, size_t errlen)
{
	err[0] = '\0';
	if (dir_usable(dir, err, errlen) != 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	bool made = mkdir(dir, 0755) == 0;
	if (!made && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
		return -1;
	}
	if (instance_make(dir, ingest_ep, feed_ep, err, errlen) == 0)
		return 0;
	/* Nothing half made is left behind: the directory is as it was, and init can run again. */
	(void)nftw(dir, remove_made, 16, FTW_DEPTH | FTW_PHYS);
	if (made)
		(void)rmdir(dir);
	return -1;
}

/* --- check ------------------------------------------------------------- */

static int
check_secret_mode(const char *dir, const char *rel, FILE *out)
{
	char path[4096];
	struct stat st;
	instance_path(path, sizeof path, dir, rel);
	if (stat(path, &st) != 0) {
		fprintf(out, "%s:0: file: %s\n", path, strerror(errno));
		return 1;
	}
	if (st.st_mode & 077) {
		fprintf(out,
		        "%s:0: mode: secret key readable by group or others (%04o); "
		        "run chmod 600 %s\n",
		        path, (unsigned)(st.st_mode & 07777), path);
		return 1;
	}
	return 0;
}

/*
 * The hub's CURVE keys: keys/hub_secret private and readable as what esthub
 * run loads, and keys/hub, the file partners are given, its public half
 * (another key there and every partner's handshake fails without a word).
 */
static int
check_hub_keys(const char *dir, FILE *out)
{
	char pub[4096], secret[4096], err[600];
	instance_path(pub, sizeof pub, dir, INSTANCE_HUB_CERT);
	instance_path(secret, sizeof secret, dir, INSTANCE_HUB_SECRET);
	uint8_t key[32];
	bool have_pub = cert_read_public_key(pub, key, err, sizeof err) == 0;
	int problems = 0;
	if (!have_pub) {
		fprintf(out, "%s\n", err);
		problems++;
	}
	if (check_secret_mode(dir, INSTANCE_HUB_SECRET, out) != 0)
		return problems + 1;
	zcert_t *cert = cert_load_secret(secret, err, sizeof err);
	if (cert == NULL) {
		fprintf(out, "%s\n", err);
		return problems + 1;
	}
	if (have_pub && memcmp(key, zcert_public_key(cert), sizeof key) != 0) {
		fprintf(out,
		        "%s:0: public-key: not the public half of %s; partners given this file "
		        "cannot connect\n",
		        pub, secret);
		problems++;
	}
	cert_destroy(&cert);
	return problems;
}

static int
check_certs(const char *dir, FILE *out)
{
	char certs[4096];
	instance_path(certs, sizeof certs, dir, INSTANCE_CERTS);
	DIR *d = opendir(certs);
	if (d == NULL) {
		fprintf(out, "%s:0: directory: %s\n", certs, strerror(errno));
		return 1;
	}
	int problems = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char path[4400], err[600];
		struct cert_info info;
		snprintf(path, sizeof path, "%s/%s", certs, de->d_name);
		if (cert_read_client(path, &info, err, sizeof err) != 0) {
			fprintf(out, "%s\n", err);
			problems++;
		}
	}
	closedir(d);
	return problems;
}

static int
check_store(const char *dir, FILE *out)
{
	char path[4096], err[512];
	instance_path(path, sizeof path, dir, INSTANCE_STORE);
	if (access(path, F_OK) != 0)
		return 0; /* esthub run creates it */
	struct log *lg = NULL;
	if (log_open(&lg, path, LOG_READONLY, err, sizeof err) != 0) {
		fprintf(out, "%s:0: store: %s\n", path, err);
		return 1;
	}
	log_close(&lg);
	return 0;
}

int
instance_check(const char *dir, FILE *out)
{
	char path[4096];
	int problems = 0;
	struct config cfg;
	instance_path(path, sizeof path, dir, INSTANCE_CONF);
	int rc = config_load(&cfg, path, out);
	problems += rc < 0 ? 1 : rc;
	instance_path(path, sizeof path, dir, INSTANCE_AREAS);
	struct areas *as = areas_load(path, out, &problems);
	areas_destroy(&as);
	problems += check_hub_keys(dir, out);
	problems += checkpoint_keys_check(dir, out);
	problems += check_certs(dir, out);
	problems += check_store(dir, out);
	return problems;
}
