/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sign: Ed25519 keys and signatures with OpenSSL 3 (see sign.h). The only
 * module that includes OpenSSL headers for signing.
 *
 * Ed25519 signs in one shot: EVP_DigestSignInit with a NULL digest, then
 * EVP_DigestSign over the whole message; EVP_DigestSignUpdate fails for it.
 *
 * Key files are read whole into a buffer of our own and parsed from
 * memory, so that the PEM text of a secret key can be wiped
 * (OPENSSL_cleanse) as soon as OpenSSL holds the key; OpenSSL wipes its own
 * copy when the EVP_PKEY is freed. The mode of a secret file is judged on
 * the opened descriptor (fstat), so the file checked is the file read.
 */
#include "wire/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "wire/durable.h"

/* A PEM Ed25519 key is about 120 bytes; anything this large is not one. */
#define SIGN_FILE_MAX (16 * 1024)

struct sign_key {
	EVP_PKEY *pkey;
	bool secret;
};

/* OpenSSL's last error as text (or "unknown error"), and the error queue cleared. */
static const char *
ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	if (e == 0)
		snprintf(buf, len, "unknown error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static struct sign_key *
key_wrap(EVP_PKEY *pkey, bool secret, const char *path, char *err, size_t errlen)
{
	if (pkey == NULL)
		return NULL;
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "%s: not an Ed25519 key (the hub signs with Ed25519)", path);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	struct sign_key *k = calloc(1, sizeof *k);
	if (k == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k->pkey = pkey;
	k->secret = secret;
	return k;
}

bool
sign_key_matches(const struct sign_key *a, const struct sign_key *b)
{
	return a != NULL && b != NULL && EVP_PKEY_eq(a->pkey, b->pkey) == 1;
}

void
sign_key_destroy(struct sign_key **k)
{
	if (k == NULL || *k == NULL)
		return;
	EVP_PKEY_free((*k)->pkey);
	free(*k);
	*k = NULL;
}

/* --- files ---------------------------------------------------------------- */

/*
 * Reads the regular file at path (at most SIGN_FILE_MAX bytes) into a new
 * buffer (*len bytes, NUL-terminated). With secret, refuses a file that
 * group or others may read or write. NULL with err on failure.
 */
static char *
file_read(const char *path, bool secret, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
	} else if (secret && (st.st_mode & 077)) {
		snprintf(err, errlen,
		         "%s: secret key file is accessible by group or others (mode %04o); "
		         "run chmod 600 %s",
		         path, (unsigned)(st.st_mode & 07777), path);
	} else if (st.st_size > SIGN_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes: not a PEM key", path,
		         SIGN_FILE_MAX);
	} else if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
	} else {
		ssize_t n = read(fd, buf, (size_t)st.st_size);
		if (n < 0 || n != st.st_size) {
			snprintf(err, errlen, "%s: cannot read: %s", path,
			         n < 0 ? strerror(errno) : "the file changed while it was read");
			OPENSSL_cleanse(buf, (size_t)st.st_size + 1);
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	close(fd);
	return buf;
}

/* Wipes and frees a buffer from file_read. */
static void
file_forget(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	OPENSSL_cleanse(buf, len + 1);
	free(buf);
}

/* An encrypted key is refused, not asked about on the terminal (OpenSSL's default). */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

struct sign_key *
sign_load_secret(const char *path, char *err, size_t errlen)
{
	size_t len = 0;
	char *text = file_read(path, true, &len, err, errlen);
	if (text == NULL)
		return NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = BIO_new_mem_buf(text, (int)len);
	if (bio != NULL)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	file_forget(text, len);
	if (pkey == NULL) {
		char why[160];
		snprintf(err, errlen, "%s: not a PEM private key (PKCS#8 \"PRIVATE KEY\"): %s",
		         path, ssl_reason(why, sizeof why));
		return NULL;
	}
	return key_wrap(pkey, true, path, err, errlen);
}

struct sign_key *
sign_load_public(const char *path, char *err, size_t errlen)
{
	size_t len = 0;
	char *text = file_read(path, false, &len, err, errlen);
	if (text == NULL)
		return NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = BIO_new_mem_buf(text, (int)len);
	if (bio != NULL)
		pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	/* Someone may give the secret file by mistake: do not leave it in memory either. */
	file_forget(text, len);
	if (pkey == NULL) {
		char why[160];
		snprintf(err, errlen,
		         "%s: not a PEM public key (\"PUBLIC KEY\", the hub's keys/sign.pem): %s",
		         path, ssl_reason(why, sizeof why));
		return NULL;
	}
	return key_wrap(pkey, false, path, err, errlen);
}

/* Writes len bytes to fd, then syncs; 0 or -1 (errno set). */
static int
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return fsync(fd);
}

/*
 * Writes the PEM text made by pem (public or private) to a temporary file
 * beside path, created O_EXCL with mode, then moves it into place: with
 * keep_existing by link() (refused when path exists), else by rename().
 */
static int
pem_store(const struct sign_key *k, bool private_part, const char *path, mode_t mode,
          bool keep_existing, char *err, size_t errlen)
{
	char tmp[4096], why[160];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	BIO *bio = BIO_new(BIO_s_mem());
	int ok = bio != NULL &&
	         (private_part ? PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL)
	                       : PEM_write_bio_PUBKEY(bio, k->pkey));
	char *pem = NULL;
	long pem_len = ok ? BIO_get_mem_data(bio, &pem) : 0;
	int rc = -1;
	if (!ok || pem_len <= 0) {
		snprintf(err, errlen, "%s: cannot encode the key: %s", path,
		         ssl_reason(why, sizeof why));
		goto out;
	}
	/* A temporary file left by a crash holds nothing anyone relies on. */
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		goto out;
	}
	/* open() applies the umask; the mode must be exactly this one. */
	if (fchmod(fd, mode) != 0 || write_all(fd, pem, (size_t)pem_len) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	int moved = keep_existing ? link(tmp, path) : rename(tmp, path);
	if (moved != 0) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (keep_existing)
		unlink(tmp);
	if (durable_dir_of(path) != 0) {
		snprintf(err, errlen, "%s: cannot sync its directory: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (pem != NULL && pem_len > 0)
		OPENSSL_cleanse(pem, (size_t)pem_len);
	BIO_free(bio);
	return rc;
}

int
sign_save_public(const struct sign_key *k, const char *path, char *err, size_t errlen)
{
	return pem_store(k, false, path, 0644, false, err, errlen);
}

int
sign_generate(const char *secret_path, const char *public_path, char *err, size_t errlen)
{
	if (access(secret_path, F_OK) == 0) {
		snprintf(err, errlen, "%s: exists; not replaced", secret_path);
		return -1;
	}
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL) {
		char why[160];
		snprintf(err, errlen, "cannot generate an Ed25519 key: %s",
		         ssl_reason(why, sizeof why));
		return -1;
	}
	struct sign_key k = {.pkey = pkey, .secret = true};
	int rc = pem_store(&k, true, secret_path, 0600, true, err, errlen);
	if (rc == 0)
		rc = pem_store(&k, false, public_path, 0644, false, err, errlen);
	if (rc != 0)
		unlink(secret_path);
	EVP_PKEY_free(pkey);
	return rc;
}

/* --- signatures ----------------------------------------------------------- */

int
sign_bytes(const struct sign_key *k, const uint8_t *data, size_t len, uint8_t out[SIGN_BYTES],
           char *err, size_t errlen)
{
	if (k == NULL || !k->secret) {
		snprintf(err, errlen, "cannot sign: no secret key loaded");
		return -1;
	}
	static const uint8_t empty[1];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sig_len = SIGN_BYTES;
	int ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	         EVP_DigestSign(ctx, out, &sig_len, data ? data : empty, len) == 1 &&
	         sig_len == SIGN_BYTES;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		char why[160];
		snprintf(err, errlen, "cannot sign: %s", ssl_reason(why, sizeof why));
		return -1;
	}
	return 0;
}

bool
sign_verify_bytes(const struct sign_key *k, const uint8_t *data, size_t len, const uint8_t *sig,
                  size_t sig_len)
{
	if (k == NULL || sig == NULL || sig_len != SIGN_BYTES)
		return false;
	static const uint8_t empty[1];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	          EVP_DigestVerify(ctx, sig, sig_len, data ? data : empty, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error(); /* a bad signature leaves an error on the queue */
	return ok;
}

/* The message's singular bytes field `signature`, or NULL. */
static const ProtobufCFieldDescriptor *
signature_field(const ProtobufCMessageDescriptor *d)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(d, "signature");
	if (f == NULL || f->type != PROTOBUF_C_TYPE_BYTES || f->label == PROTOBUF_C_LABEL_REPEATED)
		return NULL;
	return f;
}

/*
 * msg packed with its signature field empty, into a new buffer (*len
 * bytes; the caller frees it). A shallow copy of the top-level struct is
 * packed, so msg itself is never touched (it may be shared or const).
 */
static uint8_t *
pack_unsigned(const ProtobufCMessage *msg, size_t *len, char *err, size_t errlen)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const ProtobufCFieldDescriptor *f = signature_field(d);
	if (f == NULL) {
		snprintf(err, errlen, "%s has no bytes field \"signature\"", d->name);
		return NULL;
	}
	unsigned char *copy = malloc(d->sizeof_message);
	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(copy, msg, d->sizeof_message);
	static const ProtobufCBinaryData none = {0, NULL};
	memcpy(copy + f->offset, &none, sizeof none);
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0)
		memset(copy + f->quantifier_offset, 0, sizeof(protobuf_c_boolean));
	ProtobufCMessage *m = (ProtobufCMessage *)(void *)copy;
	size_t size = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(size > 0 ? size : 1);
	if (buf == NULL)
		snprintf(err, errlen, "out of memory");
	else
		*len = protobuf_c_message_pack(m, buf);
	free(copy);
	return buf;
}

int
sign_message(const struct sign_key *k, const ProtobufCMessage *msg, uint8_t out[SIGN_BYTES],
             char *err, size_t errlen)
{
	size_t len = 0;
	uint8_t *buf = pack_unsigned(msg, &len, err, errlen);
	if (buf == NULL)
		return -1;
	int rc = sign_bytes(k, buf, len, out, err, errlen);
	free(buf);
	return rc;
}

int
sign_attach(const struct sign_key *k, ProtobufCMessage *msg, char *err, size_t errlen)
{
	uint8_t *sig = malloc(SIGN_BYTES);
	if (sig == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sign_message(k, msg, sig, err, errlen) != 0) {
		free(sig);
		return -1;
	}
	const ProtobufCFieldDescriptor *f = signature_field(msg->descriptor);
	unsigned char *base = (unsigned char *)msg;
	ProtobufCBinaryData old;
	memcpy(&old, base + f->offset, sizeof old);
	if (old.data != NULL && old.data != f->default_value)
		free(old.data);
	ProtobufCBinaryData now = {SIGN_BYTES, sig};
	memcpy(base + f->offset, &now, sizeof now);
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0) {
		protobuf_c_boolean has = 1;
		memcpy(base + f->quantifier_offset, &has, sizeof has);
	}
	return 0;
}

int
sign_verify_message(const struct sign_key *k, const ProtobufCMessage *msg, char *why, size_t whylen)
{
	const ProtobufCFieldDescriptor *f = signature_field(msg->descriptor);
	if (f == NULL) {
		snprintf(why, whylen, "%s has no bytes field \"signature\"", msg->descriptor->name);
		return -1;
	}
	ProtobufCBinaryData sig;
	memcpy(&sig, (const unsigned char *)msg + f->offset, sizeof sig);
	if (sig.len == 0) {
		snprintf(why, whylen, "has no signature");
		return 1;
	}
	if (sig.len != SIGN_BYTES) {
		snprintf(why, whylen, "signature is %zu bytes, not the %d of Ed25519", sig.len,
		         SIGN_BYTES);
		return 1;
	}
	size_t len = 0;
	uint8_t *buf = pack_unsigned(msg, &len, why, whylen);
	if (buf == NULL)
		return -1;
	bool ok = sign_verify_bytes(k, buf, len, sig.data, sig.len);
	free(buf);
	if (!ok)
		snprintf(why, whylen, "signature does not verify");
	return ok ? 0 : 1;
}
