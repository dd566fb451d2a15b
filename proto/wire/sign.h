/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sign: the hub's Ed25519 signing key and signatures over protobuf
 * messages (OpenSSL 3). The hub signs what partners keep or act on
 * (pictures, checkpoints of the log); partners verify with the public half.
 *
 *   DIR/keys/sign_secret.pem  the secret key, PKCS#8 PEM, mode 0600
 *   DIR/keys/sign.pem         the public key (SubjectPublicKeyInfo PEM), for partners
 *
 * A signature covers the message serialized with its `signature` field
 * empty (the contract). CURVE keys (X25519) cannot sign, so this key is a
 * separate one. Secret material passes through memory only in buffers that
 * are wiped (OPENSSL_cleanse) before they are released; no message here
 * ever contains key bytes.
 */
#ifndef ESTHUB_WIRE_SIGN_H
#define ESTHUB_WIRE_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#define SIGN_BYTES 64 /* an Ed25519 signature */

/* A loaded key: secret (can sign and verify) or public (can verify). */
struct sign_key;

/*
 * Generates a new Ed25519 key: the secret goes to secret_path, created
 * with mode 0600 from the start (a temporary file opened O_CREAT|O_EXCL,
 * written, synced and linked into place, so an existing key is never
 * overwritten and no reader ever sees half a key); the public half goes to
 * public_path (0644, written atomically). Returns 0, or -1 with the reason
 * in err (an existing secret_path is refused).
 */
int sign_generate(const char *secret_path, const char *public_path, char *err, size_t errlen);

/*
 * Loads the secret key at path. Refuses a file readable or writable by
 * group or others (naming the file, its mode and the chmod that fixes it),
 * a file that is not a PKCS#8 PEM Ed25519 key, or larger than 16 KiB. The
 * file is read once; its text is wiped after parsing. The caller owns the
 * result (sign_key_destroy).
 */
struct sign_key *sign_load_secret(const char *path, char *err, size_t errlen);

/* Loads a public key (PEM "PUBLIC KEY", Ed25519) from path; the caller owns the result. */
struct sign_key *sign_load_public(const char *path, char *err, size_t errlen);

/* Writes the public half of k to path (0644, atomically). 0, or -1 with err. */
int sign_save_public(const struct sign_key *k, const char *path, char *err, size_t errlen);

/* Whether a and b have the same public key (a public file against its secret). */
bool sign_key_matches(const struct sign_key *a, const struct sign_key *b);

/* Frees k (OpenSSL wipes the key material) and sets *k to NULL. NULL-safe. */
void sign_key_destroy(struct sign_key **k);

/*
 * Signs msg as the contract says: msg serialized with its bytes field
 * `signature` empty (the message itself is not changed). out receives
 * SIGN_BYTES bytes. Returns 0, or -1 with the reason in err (msg has no
 * bytes field `signature`, k is a public key, OpenSSL failed).
 */
int sign_message(const struct sign_key *k, const ProtobufCMessage *msg, uint8_t out[SIGN_BYTES],
                 char *err, size_t errlen);

/*
 * Signs msg and stores the signature in its `signature` field, in a buffer
 * from malloc (freed with the message by protobuf-c's free_unpacked, and
 * replacing, freed, what the field held). 0, or -1 with err.
 */
int sign_attach(const struct sign_key *k, ProtobufCMessage *msg, char *err, size_t errlen);

/*
 * Checks msg's `signature` field against msg serialized with that field
 * empty. Returns 0 when it verifies; 1 when it does not (why says so: no
 * signature, wrong length, does not verify); -1 when it cannot be checked
 * (no such field, out of memory; why says so).
 */
int sign_verify_message(const struct sign_key *k, const ProtobufCMessage *msg, char *why,
                        size_t whylen);

/* Signs / verifies len bytes at data (the building blocks of the two above). */
int sign_bytes(const struct sign_key *k, const uint8_t *data, size_t len, uint8_t out[SIGN_BYTES],
               char *err, size_t errlen);
bool sign_verify_bytes(const struct sign_key *k, const uint8_t *data, size_t len,
                       const uint8_t *sig, size_t sig_len);

#endif
