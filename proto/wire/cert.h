/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cert: certificate files in the zcert text format (czmq writes them, pyzmq's
 * zmq.auth.load_certificate reads them). A client's public certificate in
 * DIR/certs carries who the client is as metadata: role, org, groups.
 * Secret certificates are mode 0600 and wiped from memory after use.
 */
#ifndef ESTHUB_WIRE_CERT_H
#define ESTHUB_WIRE_CERT_H

#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "wire/ids.h"

#define CERT_Z85_LEN 40

/* Who a certified client is, from its public certificate's metadata. */
struct cert_info {
	char name[IDS_NAME_MAX + 1]; /* the file name in certs/ */
	char public_txt[CERT_Z85_LEN + 1];
	enum ids_role role;
	char org[IDS_ORG_MAX + 1];                     /* adapters: required; others: optional */
	char groups[IDS_GROUPS_MAX][IDS_NAME_MAX + 1]; /* subscribers: at least one */
	size_t n_groups;
};

/*
 * Reads the public certificate at path with its metadata and checks it:
 * role known; org valid and present for adapters; groups valid and present
 * for subscribers. name is set from the file's base name. Returns 0, or -1
 * with "path:line: key: reason" in err (line of the offending key when there
 * is one).
 */
int cert_read_client(const char *path, struct cert_info *out, char *err, size_t errlen);

/*
 * Parses "a,b,c" into info->groups; 0, or -1 with the reason in err
 * (an invalid group is named).
 */
int cert_parse_groups(const char *list, struct cert_info *info, char *err, size_t errlen);

/*
 * Writes the public certificate of public_key (32 bytes) with info's
 * metadata to path, atomically (a temporary file renamed), mode 0644.
 * Returns 0, or -1 with the reason in err.
 */
int cert_write_public(const char *path, const uint8_t *public_key, const struct cert_info *info,
                      char *err, size_t errlen);

/*
 * Generates a new CURVE keypair: writes the public certificate with info's
 * metadata (none when info is NULL, as for the hub's own keys) to pub_path and the secret
 * certificate to secret_path, created with mode 0600 and refused when it exists. If public_z85 is
 * not NULL the new key's Z85 text is copied there. Returns 0, or -1 with the reason.
 */
int cert_generate(const char *pub_path, const char *secret_path, const struct cert_info *info,
                  char *public_z85, char *err, size_t errlen);

/*
 * Reads just the public key of a certificate file, whoever wrote it (czmq,
 * pyzmq; quoted or not). Returns 0 with the 32 key bytes in out, or -1.
 */
int cert_read_public_key(const char *path, uint8_t out[32], char *err, size_t errlen);

/*
 * Loads a secret certificate to use as this program's own identity. Refuses
 * one whose file is readable or writable by group or others, and says so.
 * The caller owns the result and releases it with cert_destroy.
 */
zcert_t *cert_load_secret(const char *path, char *err, size_t errlen);

/* Wipes the secret key held by *cert, destroys it and sets *cert to NULL. NULL-safe. */
void cert_destroy(zcert_t **cert);

#endif
