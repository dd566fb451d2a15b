/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth: the ZAP handler (czmq zauth) and the hub's identity table (see
 * auth.h). The table is a sorted array searched by public key.
 */
#include "auth.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <czmq.h>

#include "audit.h"
#include "instance.h"
#include "wire/diag.h"
#include "wire/durable.h"

/* Keys dropped from certs/ remembered, so their refused messages can be audited by name. */
#define AUTH_FORMER_MAX 256

struct auth {
	char certs_dir[4096];
	char revoked_dir[4096];
	zactor_t *zap;
	struct cert_info *ids; /* sorted by public_txt */
	size_t n_ids;
	struct timespec seen_mtime; /* of certs/ when last read */
	bool stale;                 /* re-read even when the mtime did not tick */
	bool loaded;                /* read once: later reads are audited changes */
	struct {
		char key[CERT_Z85_LEN + 1];
		char name[IDS_NAME_MAX + 1];
	} former[AUTH_FORMER_MAX]; /* a ring, the oldest overwritten */
	size_t n_former;
};

static int
by_key(const void *a, const void *b)
{
	return strcmp(((const struct cert_info *)a)->public_txt,
	              ((const struct cert_info *)b)->public_txt);
}

/* Reads every certificate of certs/ into a new sorted table. */
static int
read_table(struct auth *a, struct cert_info **out, size_t *n_out)
{
	DIR *d = opendir(a->certs_dir);
	if (d == NULL)
		return -1;
	size_t cap = 16, n = 0;
	struct cert_info *v = malloc(cap * sizeof *v);
	struct dirent *de;
	while (v && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp"))
			continue;
		if (n == cap) {
			struct cert_info *nv = realloc(v, (cap *= 2) * sizeof *v);
			if (nv == NULL) {
				free(v);
				v = NULL;
				break;
			}
			v = nv;
		}
		char path[4400], err[512];
		snprintf(path, sizeof path, "%s/%s", a->certs_dir, de->d_name);
		if (cert_read_client(path, &v[n], err, sizeof err) == 0)
			n++;
		else
			diag_say("certificate left out: %s", err);
	}
	closedir(d);
	if (v == NULL)
		return -1;
	qsort(v, n, sizeof *v, by_key);
	*out = v;
	*n_out = n;
	return 0;
}

static const struct cert_info *
by_name(const struct cert_info *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

static void
remember_former(struct auth *a, const struct cert_info *old)
{
	size_t i = a->n_former++ % AUTH_FORMER_MAX;
	memcpy(a->former[i].key, old->public_txt, sizeof a->former[i].key);
	snprintf(a->former[i].name, sizeof a->former[i].name, "%s", old->name);
}

/* "role R, org O, groups G1,G2" of c, for the audit. */
static void
identity_text(const struct cert_info *c, char *out, size_t outlen)
{
	int len = snprintf(out, outlen, "role %s", ids_role_name(c->role));
	if (c->org[0] && len > 0 && (size_t)len < outlen)
		len += snprintf(out + len, outlen - (size_t)len, ", org %s", c->org);
	for (size_t i = 0; i < c->n_groups && len > 0 && (size_t)len < outlen; i++)
		len += snprintf(out + len, outlen - (size_t)len, "%s%s", i ? "," : ", groups ",
		                c->groups[i]);
}

static bool
same_identity(const struct cert_info *x, const struct cert_info *y)
{
	if (x->role != y->role || strcmp(x->org, y->org) != 0 || x->n_groups != y->n_groups)
		return false;
	for (size_t i = 0; i < x->n_groups; i++)
		if (strcmp(x->groups[i], y->groups[i]) != 0)
			return false;
	return true;
}

/*
 * Audits what changed between the table in use and the one just read
 * (estctl client add/revoke/rotate or a hand edit of certs/): by name, so a
 * new key under an old name is a rotation. Keys that go are remembered.
 */
static void
audit_changes(struct auth *a, const struct cert_info *v, size_t n)
{
	char what[256];
	for (size_t i = 0; i < n; i++) {
		const struct cert_info *old = by_name(a->ids, a->n_ids, v[i].name);
		identity_text(&v[i], what, sizeof what);
		if (old == NULL) {
			audit_note(AUDIT_CLIENT_ADDED, v[i].name, "%s", what);
		} else if (strcmp(old->public_txt, v[i].public_txt) != 0) {
			remember_former(a, old);
			audit_note(AUDIT_CLIENT_ROTATED, v[i].name,
			           "new key (%s); the old key is refused from now on", what);
		} else if (!same_identity(old, &v[i])) {
			audit_note(AUDIT_CLIENT_CHANGED, v[i].name, "now %s", what);
		}
	}
	for (size_t i = 0; i < a->n_ids; i++) {
		const struct cert_info *old = &a->ids[i];
		if (by_name(v, n, old->name) != NULL)
			continue;
		remember_former(a, old);
		char path[4200];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", a->revoked_dir, old->name);
		bool revoked = stat(path, &st) == 0;
		audit_note(revoked ? AUDIT_CLIENT_REVOKED : AUDIT_CLIENT_REMOVED, old->name,
		           "%s; its messages are refused and its feeds ended",
		           revoked ? "moved to revoked/" : "its certificate left certs/");
	}
}

static int
dir_stamp(const char *dir, struct timespec *mtime)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		return -1;
	*mtime = st.st_mtim;
	return 0;
}

int
auth_refresh(struct auth *a)
{
	struct timespec mt;
	if (dir_stamp(a->certs_dir, &mt) != 0)
		return -1;
	if (!a->stale && a->ids && mt.tv_sec == a->seen_mtime.tv_sec &&
	    mt.tv_nsec == a->seen_mtime.tv_nsec)
		return 0;
	struct cert_info *v;
	size_t n;
	if (read_table(a, &v, &n) != 0)
		return -1;
	if (a->loaded)
		audit_changes(a, v, n);
	a->loaded = true;
	a->stale = false;
	free(a->ids);
	a->ids = v;
	a->n_ids = n;
	a->seen_mtime = mt;
	/* zauth's certificate store reloads by itself only when the newest file's
	 * mtime (in whole seconds), the count or the total size changed: a key
	 * rotated within the second would slip past it. Load it afresh. */
	if (a->zap != NULL &&
	    (zstr_sendx(a->zap, "CURVE", a->certs_dir, NULL) != 0 || zsock_wait(a->zap) != 0))
		diag_say("cannot reload the certificates for CURVE authentication");
	return 1;
}

struct auth *
auth_new(const char *dir, char *err, size_t errlen)
{
	struct auth *a = calloc(1, sizeof *a);
	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (instance_path(a->certs_dir, sizeof a->certs_dir, dir, INSTANCE_CERTS) ||
	    instance_path(a->revoked_dir, sizeof a->revoked_dir, dir, INSTANCE_REVOKED)) {
		snprintf(err, errlen, "%s: path too long", dir);
		goto bad;
	}
	if (auth_refresh(a) < 0) {
		snprintf(err, errlen, "%s: cannot read certificates: %s", a->certs_dir,
		         strerror(errno));
		goto bad;
	}
	/* Deny by default: zauth in CURVE mode admits only keys found in certs/. */
	a->zap = zactor_new(zauth, NULL);
	if (a->zap == NULL) {
		snprintf(err, errlen, "cannot start the ZAP handler");
		goto bad;
	}
	if (zstr_sendx(a->zap, "CURVE", a->certs_dir, NULL) != 0 || zsock_wait(a->zap) != 0) {
		snprintf(err, errlen, "cannot configure CURVE authentication");
		goto bad;
	}
	return a;
bad:
	auth_destroy(&a);
	return NULL;
}

void
auth_destroy(struct auth **ap)
{
	if (ap == NULL || *ap == NULL)
		return;
	zactor_destroy(&(*ap)->zap);
	free((*ap)->ids);
	free(*ap);
	*ap = NULL;
}

static const struct cert_info *
find(const struct auth *a, const char *z85)
{
	struct cert_info key;
	memcpy(key.public_txt, z85, CERT_Z85_LEN + 1);
	return bsearch(&key, a->ids, a->n_ids, sizeof key, by_key);
}

const struct cert_info *
auth_lookup(struct auth *a, const char *z85)
{
	if (z85 == NULL || strlen(z85) != CERT_Z85_LEN)
		return NULL;
	const struct cert_info *who = find(a, z85);
	/* zauth may have admitted a certificate added since the last re-read. */
	if (who == NULL && auth_refresh(a) > 0)
		who = find(a, z85);
	return who;
}

int
auth_revoke(struct auth *a, const char *name, char *msg, size_t msglen)
{
	if (!ids_client_name_valid(name)) {
		snprintf(msg, msglen, "\"%s\" is not a client name", name);
		return -1;
	}
	char from[4200], to[4200];
	snprintf(from, sizeof from, "%s/%s", a->certs_dir, name);
	snprintf(to, sizeof to, "%s/%s", a->revoked_dir, name);
	mkdir(a->revoked_dir, 0755);
	/* Durably: a power cut must not bring the certificate back into certs/. */
	if (durable_rename(from, to) != 0) {
		snprintf(msg, msglen,
		         errno == ENOENT ? "no client named %s" : "cannot revoke %s: %s", name,
		         strerror(errno));
		return -1;
	}
	if (auth_reload(a, msg, msglen) != 0)
		return -1;
	snprintf(msg, msglen, "revoked %s: its messages are refused and its feeds ended", name);
	return 0;
}

int
auth_reload(struct auth *a, char *msg, size_t msglen)
{
	/* Force a re-read even if the directory's mtime did not tick. */
	a->stale = true;
	if (auth_refresh(a) < 0) {
		/* Refuse everyone rather than keep admitting a key just revoked. */
		free(a->ids);
		a->ids = NULL;
		a->n_ids = 0;
		snprintf(msg, msglen, "%s: cannot re-read the certificates: %s", a->certs_dir,
		         strerror(errno));
		return -1;
	}
	return 0;
}

const char *
auth_former_name(const struct auth *a, const char *z85)
{
	size_t n = a->n_former < AUTH_FORMER_MAX ? a->n_former : AUTH_FORMER_MAX;
	if (z85 == NULL)
		return "";
	for (size_t i = 0; i < n; i++)
		if (strcmp(a->former[i].key, z85) == 0)
			return a->former[i].name;
	return "";
}

size_t
auth_count(const struct auth *a)
{
	return a->n_ids;
}
