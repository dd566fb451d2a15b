/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify: est-feed's check of the hub's signatures. With --sign-key FILE
 * (the hub's DIR/keys/sign.pem) every picture and checkpoint received must
 * carry an Ed25519 signature of the hub over the message with its
 * `signature` field empty; one that does not verify is not shown (not
 * printed, not written to any output) and is named on stderr. Without a
 * key nothing is checked, and est-feed says so once.
 */
#ifndef ESTHUB_FEED_VERIFY_H
#define ESTHUB_FEED_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "est.pb-c.h"

struct verify;

/*
 * Loads the hub's public key from key_path, or with key_path NULL makes a
 * checker that lets everything through. NULL with the reason in err when
 * the file cannot be read or is not a PEM Ed25519 public key. The caller
 * owns the result.
 */
struct verify *verify_new(const char *key_path, char *err, size_t errlen);

void verify_destroy(struct verify **v);

/*
 * Whether entry e may be shown. Entries the hub does not sign (reports,
 * measures, audit events) always may; a picture or checkpoint may when its
 * signature verifies, or when no key was given (said once on stderr). A
 * refused one is said on stderr: "seq N: picture signature does not verify
 * with FILE; not shown".
 */
bool verify_entry(struct verify *v, const Est__V1__LogEntry *e);

/* How many entries were refused so far (est-feed exits 1 when any were). */
uint64_t verify_refused(const struct verify *v);

#endif
