/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cert: zcert certificate files with esthub's metadata (see cert.h). czmq
 * reads and writes the format; this module adds the checks, the modes of
 * secret files and the wiping of secret keys.
 */
#include "wire/cert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire/crypto.h"
#include "wire/durable.h"

/* The 1-based line of path where metadata key is set, or 0 when none is. */
static int
key_line(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	char line[512];
	int n = 0, found = 0;
	size_t klen = strlen(key);
	while (!found && fgets(line, sizeof line, f)) {
		n++;
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, key, klen) == 0 && (p[klen] == ' ' || p[klen] == '='))
			found = n;
	}
	fclose(f);
	return found;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static int
copy_field(char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);
	if (n >= dstlen)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

int
cert_parse_groups(const char *list, struct cert_info *info, char *err, size_t errlen)
{
	info->n_groups = 0;
	const char *p = list;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		const char *end = p;
		while (*end && *end != ',' && *end != ' ')
			end++;
		size_t n = (size_t)(end - p);
		char group[IDS_NAME_MAX + 1];
		if (n >= sizeof group) {
			snprintf(err, errlen, "group \"%.*s...\" is too long", 20, p);
			return -1;
		}
		memcpy(group, p, n);
		group[n] = '\0';
		if (!ids_group_valid(group)) {
			snprintf(err, errlen,
			         "\"%s\" is not a working group (AREA/situational, AREA/social, "
			         "or a bare AREA; city has no groups)",
			         group);
			return -1;
		}
		bool dup = false;
		for (size_t i = 0; i < info->n_groups; i++)
			dup = dup || strcmp(info->groups[i], group) == 0;
		if (!dup) {
			if (info->n_groups == IDS_GROUPS_MAX) {
				snprintf(err, errlen, "more than %d groups", IDS_GROUPS_MAX);
				return -1;
			}
			memcpy(info->groups[info->n_groups++], group, n + 1);
		}
		p = end;
	}
	if (info->n_groups == 0) {
		snprintf(err, errlen, "no working group given");
		return -1;
	}
	return 0;
}

#define CERT_FILE_MAX 65536

/*
 * The certificate file at path as a zconfig tree (caller destroys), or NULL
 * with err. The file is read here and parsed from memory: czmq's
 * zconfig_load leaks its file object on a syntax error.
 */
static zconfig_t *
load_config(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s:0: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	char *text = malloc(CERT_FILE_MAX + 1);
	size_t n = text ? fread(text, 1, CERT_FILE_MAX + 1, f) : 0;
	fclose(f);
	zconfig_t *root = NULL;
	if (text == NULL)
		snprintf(err, errlen, "%s:0: out of memory", path);
	else if (n > CERT_FILE_MAX)
		snprintf(err, errlen, "%s:0: larger than %d bytes: not a certificate", path,
		         CERT_FILE_MAX);
	else if (memchr(text, '\0', n) != NULL)
		snprintf(err, errlen, "%s:0: binary data: not a certificate", path);
	else {
		text[n] = '\0';
		root = zconfig_str_load(text);
		if (root == NULL)
			snprintf(err, errlen, "%s:0: not a certificate in the zcert text format",
			         path);
	}
	/* The text may hold a secret key: it never lingers in freed memory. */
	if (text != NULL)
		crypto_wipe(text, n > CERT_FILE_MAX ? CERT_FILE_MAX + 1 : n);
	free(text);
	return root;
}

/* The 32 bytes of curve/public-key in root; -1 with "path:line: ..." when missing or bad. */
static int
public_key_of(zconfig_t *root, const char *path, uint8_t out[32], char *err, size_t errlen)
{
	const char *txt = zconfig_get(root, "/curve/public-key", NULL);
	if (txt == NULL) {
		snprintf(err, errlen, "%s:%d: public-key: missing (curve section)", path,
		         key_line(path, "curve"));
		return -1;
	}
	if (strlen(txt) != CERT_Z85_LEN || zmq_z85_decode(out, txt) == NULL) {
		snprintf(err, errlen, "%s:%d: public-key: not a 40-character Z85 key", path,
		         key_line(path, "public-key"));
		return -1;
	}
	return 0;
}

/* Checks the metadata of a certificate's tree into out; -1 with "path:line: key: reason". */
static int
check_meta(const char *path, zconfig_t *root, struct cert_info *out, char *err, size_t errlen)
{
	const char *role = zconfig_get(root, "/metadata/role", NULL);
	const char *org = zconfig_get(root, "/metadata/org", NULL);
	const char *groups = zconfig_get(root, "/metadata/groups", NULL);
	char why[256];

	out->role = role ? ids_role_parse(role) : ROLE_NONE;
	if (out->role == ROLE_NONE) {
		snprintf(err, errlen, "%s:%d: role: %s (adapter, subscriber or admin)", path,
		         key_line(path, "role"), role ? "unknown role" : "missing");
		return -1;
	}
	if (org && *org) {
		if (!ids_org_valid(org) || copy_field(out->org, sizeof out->org, org)) {
			snprintf(err, errlen,
			         "%s:%d: org: \"%s\" is not an organisation id ([a-z0-9-]{1,32})",
			         path, key_line(path, "org"), org);
			return -1;
		}
	} else if (out->role == ROLE_ADAPTER) {
		snprintf(err, errlen, "%s:%d: org: missing (an adapter sends for one organisation)",
		         path, key_line(path, "role"));
		return -1;
	}
	if (groups && *groups) {
		if (cert_parse_groups(groups, out, why, sizeof why)) {
			snprintf(err, errlen, "%s:%d: groups: %s", path, key_line(path, "groups"),
			         why);
			return -1;
		}
	} else if (out->role == ROLE_SUBSCRIBER && out->org[0] == '\0') {
		/* A subscriber follows working groups, or is an organisation's overview
		 * (org and no groups: all/pictures and all/checkpoints only). */
		snprintf(err, errlen,
		         "%s:%d: groups: missing (a subscriber follows working groups, or is an "
		         "organisation's overview with org)",
		         path, key_line(path, "role"));
		return -1;
	}
	return 0;
}

int
cert_read_client(const char *path, struct cert_info *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (copy_field(out->name, sizeof out->name, base_name(path)) ||
	    !ids_client_name_valid(out->name)) {
		snprintf(err, errlen, "%s:0: the file name is not a client name ([a-z0-9_-]{1,64})",
		         path);
		return -1;
	}
	uint8_t key[32];
	zconfig_t *root = load_config(path, err, errlen);
	if (root == NULL)
		return -1;
	int rc = public_key_of(root, path, key, err, errlen);
	if (rc == 0)
		rc = check_meta(path, root, out, err, errlen);
	if (rc == 0)
		zmq_z85_encode(out->public_txt, key, sizeof key);
	zconfig_destroy(&root);
	return rc;
}

/* Saves cert's public part to path through a temporary file and a rename, durably. */
static int
save_public_atomic(zcert_t *cert, const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if (zcert_save_public(cert, tmp) != 0 || chmod(tmp, 0644) != 0 ||
	    durable_rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
set_meta(zcert_t *cert, const struct cert_info *info)
{
	if (info == NULL)
		return;
	zcert_set_meta(cert, "role", "%s", ids_role_name(info->role));
	if (info->org[0])
		zcert_set_meta(cert, "org", "%s", info->org);
	if (info->n_groups > 0) {
		char list[IDS_GROUPS_MAX * (IDS_NAME_MAX + 1) + 1] = "";
		size_t len = 0;
		for (size_t i = 0; i < info->n_groups; i++)
			len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? "," : "",
			                        info->groups[i]);
		zcert_set_meta(cert, "groups", "%s", list);
	}
}

int
cert_write_public(const char *path, const uint8_t *public_key, const struct cert_info *info,
                  char *err, size_t errlen)
{
	uint8_t no_secret[32] = {0};
	zcert_t *cert = zcert_new_from(public_key, no_secret);
	if (cert == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	set_meta(cert, info);
	int rc = save_public_atomic(cert, path, err, errlen);
	zcert_destroy(&cert);
	return rc;
}

int
cert_generate(const char *pub_path, const char *secret_path, const struct cert_info *info,
              char *public_z85, char *err, size_t errlen)
{
	/* Create the secret file 0600 first, so it is never readable by others. */
	int fd = open(secret_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", secret_path, strerror(errno));
		return -1;
	}
	close(fd);
	zcert_t *cert = zcert_new();
	if (cert == NULL) {
		unlink(secret_path);
		snprintf(err, errlen, "cannot generate a CURVE keypair");
		return -1;
	}
	set_meta(cert, info);
	int rc = -1;
	if (zcert_save_secret(cert, secret_path) != 0 || chmod(secret_path, 0600) != 0 ||
	    durable_file(secret_path) != 0 || durable_dir_of(secret_path) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", secret_path, strerror(errno));
		unlink(secret_path);
		goto out;
	}
	if (save_public_atomic(cert, pub_path, err, errlen)) {
		unlink(secret_path);
		goto out;
	}
	if (public_z85)
		memcpy(public_z85, zcert_public_txt(cert), CERT_Z85_LEN + 1);
	rc = 0;
out:
	cert_destroy(&cert);
	return rc;
}

int
cert_read_public_key(const char *path, uint8_t out[32], char *err, size_t errlen)
{
	zconfig_t *root = load_config(path, err, errlen);
	if (root == NULL)
		return -1;
	int rc = public_key_of(root, path, out, err, errlen);
	zconfig_destroy(&root);
	return rc;
}

zcert_t *
cert_load_secret(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
		         "%s: secret key file is accessible by group or others (mode %04o); "
		         "run chmod 600 %s",
		         path, (unsigned)(st.st_mode & 07777), path);
		return NULL;
	}
	/* Read once, from memory, and every copy of the secret wiped after use
	 * (czmq's zcert_load would leave the file's text in freed memory). */
	zconfig_t *root = load_config(path, err, errlen);
	if (root == NULL)
		return NULL;
	uint8_t pub[32], sec[32];
	zcert_t *cert = NULL;
	char *sec_txt = zconfig_get(root, "/curve/secret-key", NULL);
	if (public_key_of(root, path, pub, err, errlen) != 0) {
		/* err says which line */
	} else if (sec_txt == NULL || strlen(sec_txt) != CERT_Z85_LEN ||
	           zmq_z85_decode(sec, sec_txt) == NULL) {
		snprintf(err, errlen, "%s:%d: secret-key: %s (is it a public certificate?)", path,
		         key_line(path, "secret-key"),
		         sec_txt == NULL ? "missing" : "not a 40-character Z85 key");
	} else {
		static const uint8_t zero[32];
		char derived[CERT_Z85_LEN + 1];
		uint8_t derived_key[32];
		if (memcmp(sec, zero, sizeof zero) == 0)
			snprintf(err, errlen,
			         "%s: holds no secret key (is it a public certificate?)", path);
		else if (zmq_curve_public(derived, sec_txt) != 0 ||
		         zmq_z85_decode(derived_key, derived) == NULL ||
		         memcmp(derived_key, pub, sizeof pub) != 0)
			snprintf(err, errlen,
			         "%s:%d: secret-key: does not belong to the public-key", path,
			         key_line(path, "secret-key"));
		else if ((cert = zcert_new_from(pub, sec)) == NULL)
			snprintf(err, errlen, "%s: out of memory", path);
	}
	crypto_wipe(sec, sizeof sec);
	if (sec_txt != NULL)
		crypto_wipe(sec_txt, strlen(sec_txt));
	zconfig_destroy(&root);
	return cert;
}

void
cert_destroy(zcert_t **cert)
{
	if (cert == NULL || *cert == NULL)
		return;
	/* czmq keeps the secret key and its Z85 text inside the zcert. */
	crypto_wipe((void *)(uintptr_t)zcert_secret_key(*cert), 32);
	const char *txt = zcert_secret_txt(*cert);
	if (txt)
		crypto_wipe((void *)(uintptr_t)txt, strlen(txt));
	zcert_destroy(cert);
}
