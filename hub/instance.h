/* SPDX-License-Identifier: Apache-2.0 */
/*
 * instance: the instance directory of the contract and what lives in it.
 *
 *   DIR/hub.conf          configuration (INI, see config.h)
 *   DIR/areas.geojson     EST areas
 *   DIR/keys/hub          the hub's public certificate; keys/hub_secret (0600)
 *   DIR/keys/sign.pem     the hub's Ed25519 signing key; keys/sign_secret.pem (0600)
 *   DIR/certs/NAME        authorised clients' public certificates
 *   DIR/clients/NAME_secret  secret certificates to hand out (0600)
 *   DIR/revoked/NAME      certificates revoked by estctl client revoke
 *   DIR/data/log.db       the store (SQLite)
 *   DIR/run/control       the control socket (DIR/run is 0700)
 */
#ifndef ESTHUB_HUB_INSTANCE_H
#define ESTHUB_HUB_INSTANCE_H

#include <stddef.h>

#define INSTANCE_CONF        "hub.conf"
#define INSTANCE_AREAS       "areas.geojson"
#define INSTANCE_HUB_CERT    "keys/hub"
#define INSTANCE_HUB_SECRET  "keys/hub_secret"
#define INSTANCE_SIGN_SECRET "keys/sign_secret.pem" /* Ed25519, PKCS#8 PEM, 0600 */
#define INSTANCE_SIGN_PUBLIC "keys/sign.pem"        /* its public half, for partners */
#define INSTANCE_CERTS       "certs"
#define INSTANCE_CLIENTS     "clients"
#define INSTANCE_REVOKED     "revoked"
#define INSTANCE_DATA        "data"
#define INSTANCE_STORE       INSTANCE_DATA "/log.db"
/* Left by estctl restore for the hub's next start, which audits the restore and removes it. */
#define INSTANCE_RESTORED INSTANCE_DATA "/restored"
#define INSTANCE_RUN      "run"

/* DIR/rel into out; -1 when it does not fit. */
int instance_path(char *out, size_t outlen, const char *dir, const char *rel);

/*
 * Takes DIR/run/lock (DIR/run made when missing), which one esthub holds
 * while it runs on the instance, and estctl restore while it replaces the
 * store: the lock's fd (closing it lets go), or -1 with the reason in err,
 * errno EWOULDBLOCK when another holds it.
 */
int instance_lock(const char *dir, char *err, size_t errlen);

/*
 * Creates a runnable instance in dir (which may exist but must be empty or
 * absent): configuration with the given endpoints (NULL: the defaults),
 * the Norrköping areas, the hub's CURVE keys, empty certs/ and data/.
 * 0, or -1 with the reason in err and nothing of it left: dir removed
 * when it was made here, emptied again when it was given empty.
 */
int instance_init(const char *dir, const char *ingest_ep, const char *feed_ep, char *err,
                  size_t errlen);

/*
 * Checks everything in dir: hub.conf, areas.geojson, the hub's keys and
 * their modes, every certificate in certs/, the store. Prints one
 * "file:line: key: reason" line per problem to out and returns their
 * number (0: the caller prints "configuration OK").
 */
#include <stdio.h>
int instance_check(const char *dir, FILE *out);

#endif
