/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypto: the hashes of the shared log (OpenSSL). The chain is
 *   hash(n) = SHA-256(hash(n-1) || seq as 8 bytes big-endian || SHA-256(body(n)))
 * with hash(0) 32 zero bytes.
 */
#ifndef ESTHUB_WIRE_CRYPTO_H
#define ESTHUB_WIRE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_HASH_BYTES 32

/* SHA-256 of len bytes at buf into out. */
void crypto_sha256(const void *buf, size_t len, uint8_t out[CRYPTO_HASH_BYTES]);

/* The chain hash of entry seq from the previous hash and the body's SHA-256. */
void crypto_chain(const uint8_t prev[CRYPTO_HASH_BYTES], uint64_t seq,
                  const uint8_t body_sha[CRYPTO_HASH_BYTES], uint8_t out[CRYPTO_HASH_BYTES]);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void crypto_hex(const uint8_t *bytes, size_t n, char *out);

/* Overwrites n bytes at p so the compiler cannot elide it (OPENSSL_cleanse). */
void crypto_wipe(void *p, size_t n);

#endif
