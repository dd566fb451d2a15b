/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client: estctl's client commands. "add" and "list" work on the
 * certificate files of the instance (wire/cert.h), with the hub running or
 * not: the hub notices new files in certs/ by itself. "revoke" changes what
 * the hub admits, so the running hub carries it out (hub/control.h).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "ctl.h"
#include "instance.h"
#include "wire/cert.h"
#include "wire/diag.h"
#include "wire/durable.h"
#include "wire/ids.h"

/* More files than this in certs/ or revoked/ are left out of a listing, with a note. */
#define CLIENT_MAX_FILES 100000

/* --- directory listings ------------------------------------------------ */

struct names {
	char **v;
	size_t n;
	bool truncated;
};

static void
names_fini(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	ns->v = NULL;
	ns->n = 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether a file in certs/ is one of the temporary files of an atomic write, or hidden. */
static bool
skipped_file(const char *name)
{
	size_t len = strlen(name);
	return name[0] == '.' || (len > 4 && strcmp(name + len - 4, ".tmp") == 0);
}

/*
 * The file names in path, sorted. A missing directory is an empty list.
 * 0, or -1 with the reason in err.
 */
static int
names_read(const char *path, struct names *ns, char *err, size_t errlen)
{
	memset(ns, 0, sizeof *ns);
	DIR *d = opendir(path);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (skipped_file(de->d_name))
			continue;
		if (ns->n == CLIENT_MAX_FILES) {
			ns->truncated = true;
			break;
		}
		if (ns->n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **v = realloc(ns->v, ncap * sizeof *v);
			if (v == NULL)
				goto oom;
			ns->v = v;
			cap = ncap;
		}
		if ((ns->v[ns->n] = strdup(de->d_name)) == NULL)
			goto oom;
		ns->n++;
	}
	if (ns->n > 1)
		qsort(ns->v, ns->n, sizeof *ns->v, by_name);
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
	names_fini(ns);
	rc = -1;
out:
	closedir(d);
	return rc;
}

/* --- client add ---------------------------------------------------------- */

struct add_request {
	const char *name;
	const char *role;
	const char *org;
	const char *groups;
	const char *public_key;
};

/* 0, or EXIT_INPUT (reported). */
static int
add_parse(int argc, char **argv, struct add_request *r)
{
	static const struct option opts[] = {
	    {"role", required_argument, NULL, 'r'},
	    {"org", required_argument, NULL, 'o'},
	    {"groups", required_argument, NULL, 'g'},
	    {"public-key", required_argument, NULL, 'k'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	memset(r, 0, sizeof *r);
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'r')
			r->role = optarg;
		else if (c == 'o')
			r->org = optarg;
		else if (c == 'g')
			r->groups = optarg;
		else if (c == 'k')
			r->public_key = optarg;
		else {
			ctl_bad_option(c, argv);
			return EXIT_INPUT;
		}
	}
	if (optind >= argc) {
		diag_say("client add: NAME missing; try estctl client add --help");
		return EXIT_INPUT;
	}
	r->name = argv[optind];
	return ctl_no_more_args(argc, argv, optind + 1) ? EXIT_INPUT : 0;
}

/* Checks the request into info: name, role, and the org and groups the role needs. */
static int
add_identity(const struct add_request *r, struct cert_info *info)
{
	char why[256];
	memset(info, 0, sizeof *info);
	if (!ids_client_name_valid(r->name)) {
		diag_say("\"%s\" is not a client name ([a-z0-9_-]{1,64})", r->name);
		return EXIT_INPUT;
	}
	snprintf(info->name, sizeof info->name, "%s", r->name);
	info->role = r->role ? ids_role_parse(r->role) : ROLE_NONE;
	if (info->role == ROLE_NONE) {
		diag_say("--role: %s (adapter, subscriber or admin)",
		         r->role ? "unknown role" : "missing");
		return EXIT_INPUT;
	}
	if (r->org && !ids_org_valid(r->org)) {
		diag_say("--org: \"%s\" is not an organisation id ([a-z0-9-]{1,32})", r->org);
		return EXIT_INPUT;
	}
	if (r->org)
		snprintf(info->org, sizeof info->org, "%s", r->org);
	if (info->role == ROLE_ADAPTER && r->org == NULL) {
		diag_say("--org ORG is required for an adapter: it sends for one organisation");
		return EXIT_INPUT;
	}
	if (info->role != ROLE_SUBSCRIBER && r->groups) {
		diag_say("--groups is only for subscribers (an admin reads everything)");
		return EXIT_INPUT;
	}
	if (info->role == ROLE_SUBSCRIBER && r->groups == NULL && r->org == NULL) {
		diag_say(
		    "a subscriber needs --groups AREA/GROUP[,...] (a working group) or --org ORG "
		    "(an organisation's overview: the all pictures only)");
		return EXIT_INPUT;
	}
	if (r->groups && cert_parse_groups(r->groups, info, why, sizeof why) != 0) {
		diag_say("--groups: %s", why);
		return EXIT_INPUT;
	}
	return 0;
}

/* 0 when neither certs/NAME nor revoked/NAME exists; EXIT_INPUT (reported) when one does. */
static int
add_check_free(const char *dir, const char *name)
{
	char certs[4096], revoked[4096];
	struct stat st;
	if (ctl_path(certs, sizeof certs, dir, INSTANCE_CERTS) ||
	    ctl_path(revoked, sizeof revoked, dir, INSTANCE_REVOKED))
		return EXIT_ENV;
	if (stat(certs, &st) != 0 || !S_ISDIR(st.st_mode)) {
		diag_say("%s: not an esthub instance (no %s/; make one with esthub init)", dir,
		         INSTANCE_CERTS);
		return EXIT_ENV;
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", certs, name);
	if (lstat(path, &st) == 0) {
		diag_say("client %s already exists (%s)", name, path);
		return EXIT_INPUT;
	}
	snprintf(path, sizeof path, "%s/%s", revoked, name);
	if (lstat(path, &st) == 0) {
		diag_say(
		    "client %s was revoked (%s): a revoked name cannot be reused, pick another",
		    name, path);
		return EXIT_INPUT;
	}
	return 0;
}

/*
 * Looks for key among the certificates in DIR/rel; 1 with the owner's file
 * name in owner when found, 0 when not, -1 (reported) when rel cannot be read.
 */
static int
key_owner(const char *dir, const char *rel, const uint8_t key[32], char *owner, size_t ownerlen)
{
	char path[4096], file[4400], err[512];
	struct names ns;
	if (ctl_path(path, sizeof path, dir, rel))
		return -1;
	if (names_read(path, &ns, err, sizeof err) != 0) {
		diag_say("%s", err);
		return -1;
	}
	int found = 0;
	for (size_t i = 0; i < ns.n && !found; i++) {
		uint8_t other[32];
		snprintf(file, sizeof file, "%s/%s", path, ns.v[i]);
		if (cert_read_public_key(file, other, err, sizeof err) == 0 &&
		    memcmp(other, key, sizeof other) == 0) {
			snprintf(owner, ownerlen, "%s/%s", rel, ns.v[i]);
			found = 1;
		}
	}
	names_fini(&ns);
	return found;
}

/* A partner's own key must not be one the instance already knows, least of all a revoked one. */
static int
add_check_key(const char *dir, const uint8_t key[32])
{
	static const char *const where[] = {INSTANCE_CERTS, INSTANCE_REVOKED};
	char owner[IDS_NAME_MAX + 32], hub[4096], err[512];
	uint8_t hub_key[32];
	for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
		int rc = key_owner(dir, where[i], key, owner, sizeof owner);
		if (rc < 0)
			return EXIT_ENV;
		if (rc > 0) {
			diag_say("this public key is already in %s%s", owner,
			         i == 1 ? " (revoked): the partner must make a new keypair"
			                : ": one key, one client");
			return EXIT_INPUT;
		}
	}
	if (ctl_path(hub, sizeof hub, dir, INSTANCE_HUB_CERT))
		return EXIT_ENV;
	if (cert_read_public_key(hub, hub_key, err, sizeof err) == 0 &&
	    memcmp(hub_key, key, sizeof hub_key) == 0) {
		diag_say("this public key is the hub's own");
		return EXIT_INPUT;
	}
	return 0;
}

static void
add_print_identity(const struct cert_info *info)
{
	printf("client %s added: role %s", info->name, ids_role_name(info->role));
	if (info->org[0])
		printf(", org %s", info->org);
	for (size_t i = 0; i < info->n_groups; i++)
		printf("%s%s", i ? "," : ", groups ", info->groups[i]);
	printf("\n");
}

static int
add_generate(const char *dir, const struct cert_info *info)
{
	char pub[4096], clients[4096], secret[4200], hub[4096], err[512], z85[CERT_Z85_LEN + 1];
	if (ctl_path(pub, sizeof pub, dir, INSTANCE_CERTS) ||
	    ctl_path(clients, sizeof clients, dir, INSTANCE_CLIENTS) ||
	    ctl_path(hub, sizeof hub, dir, INSTANCE_HUB_CERT))
		return EXIT_ENV;
	if (mkdir(clients, 0700) != 0 && errno != EEXIST) {
		diag_say("%s: cannot create: %s", clients, strerror(errno));
		return EXIT_ENV;
	}
	snprintf(secret, sizeof secret, "%s/%s_secret", clients, info->name);
	if (access(secret, F_OK) == 0) {
		diag_say("%s already exists (left from an earlier client?): move it away first",
		         secret);
		return EXIT_INPUT;
	}
	size_t len = strlen(pub);
	snprintf(pub + len, sizeof pub - len, "/%s", info->name);
	if (cert_generate(pub, secret, info, z85, err, sizeof err) != 0) {
		diag_say("%s", err);
		return EXIT_ENV;
	}
	add_print_identity(info);
	printf("  public certificate: %s (key %.8s...)\n", pub, z85);
	printf("  secret certificate: %s (mode 0600)\n", secret);
	printf("hand to the partner, over a safe channel: %s (their --cert; keep it secret)\n"
	       "and %s (their --hub-cert). A running hub admits the new client by itself.\n",
	       secret, hub);
	return EXIT_OK;
}

static int
add_public(const char *dir, const struct cert_info *info, const char *key_file)
{
	char pub[4200], certs[4096], hub[4096], err[512];
	uint8_t key[32];
	if (access(key_file, R_OK) != 0) {
		diag_say("%s: cannot read: %s", key_file, strerror(errno));
		return EXIT_ENV;
	}
	if (cert_read_public_key(key_file, key, err, sizeof err) != 0) {
		diag_say("%s", err);
		return EXIT_INPUT;
	}
	int rc = add_check_key(dir, key);
	if (rc != 0)
		return rc;
	if (ctl_path(certs, sizeof certs, dir, INSTANCE_CERTS) ||
	    ctl_path(hub, sizeof hub, dir, INSTANCE_HUB_CERT))
		return EXIT_ENV;
	snprintf(pub, sizeof pub, "%s/%s", certs, info->name);
	if (cert_write_public(pub, key, info, err, sizeof err) != 0) {
		diag_say("%s", err);
		return EXIT_ENV;
	}
	add_print_identity(info);
	printf("  public certificate: %s (the partner's own key from %s)\n", pub, key_file);
	printf("hand to the partner: %s (their --hub-cert); they keep their own secret.\n"
	       "A running hub admits the new client by itself.\n",
	       hub);
	return EXIT_OK;
}

int
ctl_client_add(const char *dir, int argc, char **argv)
{
	struct add_request r;
	struct cert_info info;
	int rc = add_parse(argc, argv, &r);
	if (rc == 0)
		rc = add_identity(&r, &info);
	if (rc == 0)
		rc = add_check_free(dir, info.name);
	if (rc != 0)
		return rc;
	return r.public_key ? add_public(dir, &info, r.public_key) : add_generate(dir, &info);
}

/* --- client list ------------------------------------------------------- */

/* One line: name role org groups key [revoked]; or the name and why it cannot be read. */
static void
list_one(const char *path, const char *name, bool revoked)
{
	struct cert_info info;
	char file[4400], err[512], groups[IDS_GROUPS_MAX * (IDS_NAME_MAX + 1) + 1] = "";
	snprintf(file, sizeof file, "%s/%s", path, name);
	if (cert_read_client(file, &info, err, sizeof err) != 0) {
		printf("%-20s error: %s%s\n", name, err, revoked ? " (revoked)" : "");
		return;
	}
	size_t len = 0;
	for (size_t i = 0; i < info.n_groups && len < sizeof groups; i++)
		len += (size_t)snprintf(groups + len, sizeof groups - len, "%s%s", i ? "," : "",
		                        info.groups[i]);
	printf("%-20s %-10s %-14s %-28s %.8s%s\n", name, ids_role_name(info.role),
	       info.org[0] ? info.org : "-", groups[0] ? groups : "-", info.public_txt,
	       revoked ? "  revoked" : "");
}

/* Lists the certificates in DIR/rel; 0, or EXIT_ENV (reported). */
static int
list_dir(const char *dir, const char *rel, bool revoked)
{
	char path[4096], err[512];
	struct names ns;
	if (ctl_path(path, sizeof path, dir, rel))
		return EXIT_ENV;
	if (names_read(path, &ns, err, sizeof err) != 0) {
		diag_say("%s", err);
		return EXIT_ENV;
	}
	for (size_t i = 0; i < ns.n; i++)
		list_one(path, ns.v[i], revoked);
	if (ns.truncated)
		diag_say("%s: only the first %d files are listed", path, CLIENT_MAX_FILES);
	names_fini(&ns);
	return 0;
}

int
ctl_client_list(const char *dir, int argc, char **argv)
{
	if (ctl_no_more_args(argc, argv, 1))
		return EXIT_INPUT;
	char certs[4096];
	struct stat st;
	if (ctl_path(certs, sizeof certs, dir, INSTANCE_CERTS))
		return EXIT_ENV;
	if (stat(certs, &st) != 0 || !S_ISDIR(st.st_mode)) {
		diag_say("%s: not an esthub instance (no %s/)", dir, INSTANCE_CERTS);
		return EXIT_ENV;
	}
	int rc = list_dir(dir, INSTANCE_CERTS, false);
	if (rc == 0)
		rc = list_dir(dir, INSTANCE_REVOKED, true);
	return rc;
}

/* --- client revoke ----------------------------------------------------- */

int
ctl_client_revoke(const char *dir, int argc, char **argv)
{
	if (argc < 2) {
		diag_say("client revoke: NAME missing");
		return EXIT_INPUT;
	}
	if (ctl_no_more_args(argc, argv, 2))
		return EXIT_INPUT;
	const char *name = argv[1];
	if (!ids_client_name_valid(name)) {
		diag_say("\"%s\" is not a client name ([a-z0-9_-]{1,64})", name);
		return EXIT_INPUT;
	}
	Est__V1__ControlRequest req = EST__V1__CONTROL_REQUEST__INIT;
	Est__V1__ControlReply *reply = NULL;
	char err[512];
	req.body_case = EST__V1__CONTROL_REQUEST__BODY_REVOKE;
	req.revoke = (char *)(uintptr_t)name;
	int rc = control_call(dir, &req, CTL_CONTROL_TIMEOUT_MS, &reply, err, sizeof err);
	if (rc == 1) {
		diag_say("hub not running (%s): revocation is carried out by the running hub "
		         "(start it with esthub run %s)",
		         err, dir);
		return EXIT_ENV;
	}
	if (rc != 0) {
		diag_say("control channel: %s", err);
		return EXIT_ENV;
	}
	const char *msg = reply->message ? reply->message : "";
	if (reply->ok)
		printf("%s\n", msg[0] ? msg : "revoked");
	else
		diag_say("%s", msg[0] ? msg : "the hub refused the revocation");
	rc = reply->ok ? EXIT_OK : EXIT_INPUT;
	est__v1__control_reply__free_unpacked(reply, NULL);
	return rc;
}

/* --- client rotate ----------------------------------------------------- */

/*
 * Keeps the replaced public certificate in revoked/ as NAME-oldN (the first
 * free N), so the old key can never be added again and `client list` shows
 * when a client had other keys. 0, or EXIT_ENV (reported).
 */
static int
rotate_keep_old(const char *dir, const char *name, const char *old_path)
{
	char revoked[4096], path[4300];
	if (ctl_path(revoked, sizeof revoked, dir, INSTANCE_REVOKED))
		return EXIT_ENV;
	if (mkdir(revoked, 0755) != 0 && errno != EEXIST) {
		diag_say("%s: cannot create: %s", revoked, strerror(errno));
		return EXIT_ENV;
	}
	for (int n = 1; n < 10000; n++) {
		snprintf(path, sizeof path, "%s/%s-old%d", revoked, name, n);
		/* link() fails rather than overwrite: the first free name wins. */
		if (link(old_path, path) == 0)
			return 0;
		if (errno != EEXIST) {
			diag_say("%s: cannot keep the old certificate: %s", path, strerror(errno));
			return EXIT_ENV;
		}
	}
	diag_say("%s: too many old certificates of %s", revoked, name);
	return EXIT_ENV;
}

/*
 * Tells a running hub to re-read certs/ now: its CURVE handshakes would
 * otherwise refuse the new key until their store notices the change, and a
 * client refused at the handshake does not try again. 0 also when no hub
 * runs (it reads certs/ when it starts); EXIT_ENV (reported) on an error.
 */
static int
rotate_tell_hub(const char *dir, const char *name)
{
	Est__V1__ControlRequest req;
	est__v1__control_request__init(&req);
	Est__V1__ControlReply *reply = NULL;
	char err[512];
	req.body_case = EST__V1__CONTROL_REQUEST__BODY_ROTATED;
	req.rotated = (char *)(uintptr_t)name;
	int rc = control_call(dir, &req, CTL_CONTROL_TIMEOUT_MS, &reply, err, sizeof err);
	if (rc == 1) {
		printf("the hub is not running: it reads the new key when it starts\n");
		return 0;
	}
	if (rc != 0) {
		diag_say("control channel: %s (the hub reads the new key within a second anyway)",
		         err);
		return EXIT_ENV;
	}
	rc = reply->ok ? 0 : EXIT_ENV;
	if (!reply->ok)
		diag_say("%s",
		         reply->message ? reply->message : "the hub could not re-read certs/");
	est__v1__control_reply__free_unpacked(reply, NULL);
	return rc;
}

/*
 * estctl client rotate NAME [--public-key FILE]: a new key for an existing
 * client, same role, org and groups. The new certificate replaces certs/NAME
 * in one rename and the running hub is told to re-read certs/; from then on
 * it admits only the new key: the old key's messages are refused like a
 * revoked one's. No restart.
 */
int
ctl_client_rotate(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"public-key", required_argument, NULL, 'k'},
	    {NULL, 0, NULL, 0},
	};
	const char *key_file = NULL;
	int c;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'k') {
			key_file = optarg;
		} else {
			ctl_bad_option(c, argv);
			return EXIT_INPUT;
		}
	}
	if (optind >= argc) {
		diag_say("client rotate: NAME missing; try estctl client rotate --help");
		return EXIT_INPUT;
	}
	const char *name = argv[optind];
	if (ctl_no_more_args(argc, argv, optind + 1))
		return EXIT_INPUT;
	if (!ids_client_name_valid(name)) {
		diag_say("\"%s\" is not a client name ([a-z0-9_-]{1,64})", name);
		return EXIT_INPUT;
	}
	char certs[4096], clients[4096], pub[4200], secret[4300], fresh[4400], err[512];
	struct cert_info info;
	if (ctl_path(certs, sizeof certs, dir, INSTANCE_CERTS) ||
	    ctl_path(clients, sizeof clients, dir, INSTANCE_CLIENTS))
		return EXIT_ENV;
	snprintf(pub, sizeof pub, "%s/%s", certs, name);
	if (access(pub, F_OK) != 0) {
		diag_say("no client named %s (%s: %s); estctl client list shows them", name, pub,
		         strerror(errno));
		return EXIT_INPUT;
	}
	if (cert_read_client(pub, &info, err, sizeof err) != 0) {
		diag_say("%s", err);
		return EXIT_INPUT;
	}
	char old_txt[CERT_Z85_LEN + 1];
	memcpy(old_txt, info.public_txt, sizeof old_txt);
	if (key_file != NULL) {
		uint8_t key[32];
		if (cert_read_public_key(key_file, key, err, sizeof err) != 0) {
			diag_say("%s", err);
			return EXIT_INPUT;
		}
		int rc = add_check_key(dir, key);
		if (rc == 0)
			rc = rotate_keep_old(dir, name, pub);
		if (rc != 0)
			return rc;
		if (cert_write_public(pub, key, &info, err, sizeof err) != 0) {
			diag_say("%s", err);
			return EXIT_ENV;
		}
		zmq_z85_encode(info.public_txt, key, sizeof key);
		printf(
		    "client %s rotated: key %.8s... replaces %.8s... (the partner's own key from "
		    "%s)\nthe running hub admits only the new key from now on\n",
		    name, info.public_txt, old_txt, key_file);
		return rotate_tell_hub(dir, name);
	}
	/* A new keypair: the secret goes beside the old one and then over it. */
	snprintf(secret, sizeof secret, "%s/%s_secret", clients, name);
	snprintf(fresh, sizeof fresh, "%s.new", secret);
	if (mkdir(clients, 0700) != 0 && errno != EEXIST) {
		diag_say("%s: cannot create: %s", clients, strerror(errno));
		return EXIT_ENV;
	}
	unlink(fresh); /* left by an interrupted rotation: never handed out */
	int rc = rotate_keep_old(dir, name, pub);
	if (rc != 0)
		return rc;
	char z85[CERT_Z85_LEN + 1];
	if (cert_generate(pub, fresh, &info, z85, err, sizeof err) != 0) {
		diag_say("%s", err);
		return EXIT_ENV;
	}
	if (durable_rename(fresh, secret) != 0) {
		diag_say("%s: cannot replace: %s (the new secret is in %s)", secret,
		         strerror(errno), fresh);
		return EXIT_ENV;
	}
	printf("client %s rotated: key %.8s... replaces %.8s...\n", name, z85, old_txt);
	printf("  secret certificate: %s (mode 0600, new)\n", secret);
	printf("hand it to the partner over a safe channel; the running hub admits only the new "
	       "key from now on\n");
	return rotate_tell_hub(dir, name);
}
