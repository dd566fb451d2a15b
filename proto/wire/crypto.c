/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypto: SHA-256 and the log's hash chain with OpenSSL 3 (see crypto.h).
 * The only module that includes OpenSSL headers for hashing. The digest
 * implementation is fetched from the default provider once per process, so
 * hashing a log entry does not pay for a provider lookup every time.
 *
 * These functions cannot report an error to the caller (the signatures
 * return void). OpenSSL fails here only when it cannot allocate memory or
 * has no SHA-256 at all; a wrong hash would silently break the chain of the
 * shared log, so that case stops the program with a message instead.
 */
#include "wire/crypto.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_fetched; /* lives until exit: fetched once, shared by all threads */
/*
 * Each thread's digest context, made at its first hash and reused: a new
 * context a hash (EVP_Digest) cost the committer's thread more than the
 * hashing itself (perf at 4 x 100 in flight, bench/README.md). The key's
 * destructor frees it when the thread ends.
 */
static pthread_key_t ctx_key;
static bool ctx_key_made;
static _Thread_local EVP_MD_CTX *thread_ctx;

static void
ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void
sha256_fetch(void)
{
	sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
	ctx_key_made = pthread_key_create(&ctx_key, ctx_free) == 0;
}

/* This thread's context, or NULL (out of memory, or no key to free it by). */
static EVP_MD_CTX *
ctx_get(void)
{
	if (thread_ctx == NULL && ctx_key_made && (thread_ctx = EVP_MD_CTX_new()) != NULL &&
	    pthread_setspecific(ctx_key, thread_ctx) != 0) {
		EVP_MD_CTX_free(thread_ctx);
		thread_ctx = NULL;
	}
	return thread_ctx;
}

/* The SHA-256 implementation: the fetched one, or the legacy handle when the fetch failed. */
static const EVP_MD *
sha256_md(void)
{
	if (pthread_once(&sha256_once, sha256_fetch) != 0 || sha256_fetched == NULL)
		return EVP_sha256();
	return sha256_fetched;
}

void
crypto_sha256(const void *buf, size_t len, uint8_t out[CRYPTO_HASH_BYTES])
{
	unsigned int out_len = 0;
	static const uint8_t empty[1];
	if (buf == NULL)
		buf = empty; /* len is 0 then; OpenSSL wants a valid pointer */
	const EVP_MD *md = sha256_md();
	EVP_MD_CTX *ctx = ctx_get();
	int ok = ctx != NULL ? EVP_DigestInit_ex2(ctx, md, NULL) == 1 &&
	                           EVP_DigestUpdate(ctx, buf, len) == 1 &&
	                           EVP_DigestFinal_ex(ctx, out, &out_len) == 1
	                     : EVP_Digest(buf, len, out, &out_len, md, NULL) == 1;
	if (!ok || out_len != CRYPTO_HASH_BYTES) {
		fprintf(stderr, "esthub: crypto: SHA-256 failed (out of memory?)\n");
		abort();
	}
}

void
crypto_chain(const uint8_t prev[CRYPTO_HASH_BYTES], uint64_t seq,
             const uint8_t body_sha[CRYPTO_HASH_BYTES], uint8_t out[CRYPTO_HASH_BYTES])
{
	/* prev || seq (8 bytes, big-endian) || body_sha, hashed in one call. */
	uint8_t msg[CRYPTO_HASH_BYTES + 8 + CRYPTO_HASH_BYTES];
	memcpy(msg, prev, CRYPTO_HASH_BYTES);
	for (int i = 0; i < 8; i++)
		msg[CRYPTO_HASH_BYTES + i] = (uint8_t)(seq >> (56 - 8 * i));
	memcpy(msg + CRYPTO_HASH_BYTES + 8, body_sha, CRYPTO_HASH_BYTES);
	crypto_sha256(msg, sizeof msg, out);
}

void
crypto_hex(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

void
crypto_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}
