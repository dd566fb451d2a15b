/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth: who may connect and who they are. czmq's zauth actor answers the
 * ZAP handshakes (CURVE, deny unless the key is in DIR/certs); it must be
 * started before any socket binds. Beside it, this module keeps the hub's
 * own table of identities (public key -> name, role, org, groups) read
 * from the same certificates, because a message's sender is looked up
 * here by its User-Id, never taken from the message or the handshake.
 * The table is re-read when DIR/certs changes; a revoked client is
 * removed from both at once.
 */
#ifndef ESTHUB_HUB_AUTH_H
#define ESTHUB_HUB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "wire/cert.h"

struct auth;

/*
 * Starts the ZAP handler for DIR/certs and reads the identities. Call it
 * before binding any CURVE socket. NULL with the reason in err.
 */
struct auth *auth_new(const char *dir, char *err, size_t errlen);
void auth_destroy(struct auth **a);

/*
 * The identity with Z85 public key z85, or NULL (unknown or revoked). A key
 * not in the table makes it re-read DIR/certs first when the directory
 * changed, so a client added a moment ago is known at once. The result is
 * valid until the next refresh, so do not hold it across auth calls.
 */
const struct cert_info *auth_lookup(struct auth *a, const char *z85);

/*
 * Re-reads DIR/certs when it changed since the last read. Returns 1 when
 * the table changed, 0 when not, -1 when the directory cannot be read (the
 * old table stays). Certificates that fail their checks are left out and
 * reported once through diag.
 */
int auth_refresh(struct auth *a);

/*
 * Revokes client name: moves DIR/certs/NAME to DIR/revoked/NAME and drops
 * it from the table; new handshakes with its key fail from then on.
 * 0 with a message in msg, or -1 with the reason (unknown client, I/O).
 */
int auth_revoke(struct auth *a, const char *name, char *msg, size_t msglen);

/*
 * Re-reads certs/ now, also into the CURVE handshake's store (after
 * `estctl client rotate`: a new key must be admitted at its first
 * handshake, and a client refused at the handshake does not try again).
 * 0, or -1 with the reason in msg.
 */
int auth_reload(struct auth *a, char *msg, size_t msglen);

/*
 * The client name a key belonged to before it was revoked or rotated away
 * while this hub ran (for the audit of its refused messages), or "" when
 * the key is unknown. Never NULL; valid until the next auth call.
 */
const char *auth_former_name(const struct auth *a, const char *z85);

/* Number of identities known. */
size_t auth_count(const struct auth *a);

#endif
