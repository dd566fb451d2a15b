/* SPDX-License-Identifier: Apache-2.0 */
/*
 * checkpoint: the hub's signing key, signed pictures, the checkpoint timer,
 * and the checks estctl verify makes of checkpoints (see checkpoint.h).
 * OpenSSL stays behind wire/sign.h; the log behind log.h.
 */
#include "checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "instance.h"
#include "wire/crypto.h"
#include "wire/diag.h"

#define HASH CRYPTO_HASH_BYTES

struct checkpoints {
	struct sign_key *key;
	long interval_s;
	bool started;      /* the start-up checkpoint has been considered */
	int64_t last_ms;   /* monotonic time of the last due moment */
	uint64_t last_seq; /* seq of the last checkpoint entry in the log, 0 when none */
	/* the last appended checkpoint, handed to the feed */
	Est__V1__LogEntry entry;
	Est__V1__Checkpoint body;
	uint8_t head[HASH];
	uint8_t sig[SIGN_BYTES];
	struct log_item item;
};

static int
key_paths(const char *dir, char *secret, char *public, size_t len, char *err, size_t errlen)
{
	if (instance_path(secret, len, dir, INSTANCE_SIGN_SECRET) != 0 ||
	    instance_path(public, len, dir, INSTANCE_SIGN_PUBLIC) != 0) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	return 0;
}

int
checkpoint_keys_create(const char *dir, char *err, size_t errlen)
{
	char secret[4096], public[4096];
	if (key_paths(dir, secret, public, sizeof secret, err, errlen) != 0)
		return -1;
	return sign_generate(secret, public, err, errlen);
}

int
checkpoint_keys_check(const char *dir, FILE *out)
{
	char secret[4096], public[4096], err[4400];
	if (key_paths(dir, secret, public, sizeof secret, err, sizeof err) != 0) {
		fprintf(out, "%s:0: keys: %s\n", dir, err);
		return 1;
	}
	struct stat st;
	if (stat(secret, &st) != 0 && errno == ENOENT)
		return 0; /* an instance from before signing: esthub run creates it */
	struct sign_key *key = sign_load_secret(secret, err, sizeof err);
	if (key == NULL) {
		/* err starts with the path; the check's form is file:line: key: reason. */
		size_t n = strlen(secret);
		const char *reason =
		    strncmp(err, secret, n) == 0 && err[n] == ':' ? err + n + 2 : err;
		fprintf(out, "%s:0: signing key: %s\n", secret, reason);
		return 1;
	}
	int problems = 0;
	struct sign_key *pub = sign_load_public(public, err, sizeof err);
	if (pub != NULL && !sign_key_matches(pub, key)) {
		fprintf(out,
		        "%s:0: public key: does not match %s (esthub run writes it again from the "
		        "secret key)\n",
		        public, secret);
		problems++;
	}
	sign_key_destroy(&pub);
	sign_key_destroy(&key);
	return problems;
}

/* --- the running hub -------------------------------------------------------- */

/* Writes sign.pem again when it is missing or is not the secret key's public half. */
static int
public_restore(const struct sign_key *key, const char *secret, const char *public, char *err,
               size_t errlen)
{
	char why[4400];
	struct sign_key *pub = sign_load_public(public, why, sizeof why);
	bool same = sign_key_matches(pub, key);
	sign_key_destroy(&pub);
	if (same)
		return 0;
	bool existed = access(public, F_OK) == 0;
	if (sign_save_public(key, public, err, errlen) != 0)
		return -1;
	diag_say("%s: %s; written again from %s", public,
	         existed ? "not the public half of the signing key" : "was missing", secret);
	return 0;
}

struct checkpoints *
checkpoints_new(const char *dir, struct log *lg, long interval_s, char *err, size_t errlen)
{
	char secret[4096], public[4096];
	if (key_paths(dir, secret, public, sizeof secret, err, errlen) != 0)
		return NULL;
	struct checkpoints *cp = calloc(1, sizeof *cp);
	if (cp == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cp->interval_s = interval_s;
	if (access(secret, F_OK) != 0 && errno == ENOENT) {
		if (sign_generate(secret, public, err, errlen) != 0)
			goto fail;
		diag_say("created the signing key %s and its public half %s (for partners who "
		         "verify pictures and checkpoints)",
		         secret, public);
	}
	cp->key = sign_load_secret(secret, err, errlen);
	if (cp->key == NULL || public_restore(cp->key, secret, public, err, errlen) != 0)
		goto fail;
	if (log_last_on_topic(lg, CHECKPOINT_TOPIC, &cp->last_seq, err, errlen) != 0)
		goto fail;
	return cp;
fail:
	checkpoints_destroy(&cp);
	return NULL;
}

void
checkpoints_destroy(struct checkpoints **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	sign_key_destroy(&(*cp)->key);
	free(*cp);
	*cp = NULL;
}

void
checkpoints_sign_picture(struct checkpoints *cp, Est__V1__Picture *p)
{
	char err[256];
	if (sign_attach(cp->key, &p->base, err, sizeof err) != 0)
		diag_say("picture of %s %s left unsigned: %s", p->area, p->week, err);
}

/* Fills cp's checkpoint of the log's head, signed. 0, or -1 with err. */
static int
checkpoint_build(struct checkpoints *cp, struct log *lg, int64_t now_s, char *err, size_t errlen)
{
	est__v1__checkpoint__init(&cp->body);
	cp->body.size = log_head_seq(lg);
	memcpy(cp->head, log_head_hash(lg), HASH);
	cp->body.head_hash = (ProtobufCBinaryData){HASH, cp->head};
	cp->body.time = now_s;
	if (sign_message(cp->key, &cp->body.base, cp->sig, err, errlen) != 0)
		return -1;
	cp->body.signature = (ProtobufCBinaryData){SIGN_BYTES, cp->sig};
	est__v1__log_entry__init(&cp->entry);
	cp->entry.org = (char *)CHECKPOINT_ORG;
	cp->entry.topic = (char *)CHECKPOINT_TOPIC;
	cp->entry.body_case = EST__V1__LOG_ENTRY__BODY_CHECKPOINT;
	cp->entry.checkpoint = &cp->body;
	memset(&cp->item, 0, sizeof cp->item);
	cp->item.entry = &cp->entry;
	return 0;
}

int
checkpoints_tick(struct checkpoints *cp, struct log *lg, int64_t mono_ms, int64_t now_s,
                 const struct log_item **item)
{
	if (cp->interval_s <= 0)
		return 0;
	if (cp->started && mono_ms - cp->last_ms < (int64_t)cp->interval_s * 1000)
		return 0;
	/* The schedule moves on whether or not the log grew: a quiet log gets no checkpoint. */
	cp->started = true;
	cp->last_ms = mono_ms;
	uint64_t head = log_head_seq(lg);
	if (head == 0 || head <= cp->last_seq)
		return 0;
	char err[512];
	if (checkpoint_build(cp, lg, now_s, err, sizeof err) != 0 ||
	    log_append(lg, &cp->item, 1, now_s, err, sizeof err) != 0) {
		diag_say("checkpoint of seq %" PRIu64 " not logged: %s; trying again in %ld s",
		         head, err, cp->interval_s);
		return -1;
	}
	cp->last_seq = cp->item.seq;
	diag_debug("checkpoint seq %" PRIu64 ": size %" PRIu64, cp->item.seq, head);
	*item = &cp->item;
	return 1;
}

/* --- checking ------------------------------------------------------------------ */

/* A finding: why names the seq; returns 1. */
__attribute__((format(printf, 3, 4))) static int
bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return 1;
}

struct found {
	uint64_t seq;
	uint64_t size;
	uint8_t head[HASH];
};

struct scan {
	const struct sign_key *key;
	char *why;
	size_t whylen;
	uint64_t prev_seq; /* the entry before the one visited, and its hash */
	uint8_t prev_hash[HASH];
	uint64_t n;
	uint64_t last_seq;
	uint64_t bad_seq;
	struct found *later; /* checkpoints whose size is not the entry right before them */
	size_t n_later, cap_later;
};

static int
later_push(struct scan *s, uint64_t seq, const Est__V1__Checkpoint *c)
{
	if (s->n_later == s->cap_later) {
		size_t cap = s->cap_later ? 2 * s->cap_later : 16;
		struct found *p = realloc(s->later, cap * sizeof *p);
		if (p == NULL) {
			snprintf(s->why, s->whylen, "out of memory");
			return -1;
		}
		s->later = p;
		s->cap_later = cap;
	}
	struct found *f = &s->later[s->n_later++];
	f->seq = seq;
	f->size = c->size;
	memcpy(f->head, c->head_hash.data, HASH);
	return 0;
}

/* One checkpoint entry at seq: signature, size, and head_hash when the entry before is it. */
static int
check_one(struct scan *s, uint64_t seq, const Est__V1__Checkpoint *c)
{
	char why[160];
	if (s->key == NULL) {
		snprintf(s->why, s->whylen,
		         "seq %" PRIu64 " is a checkpoint, but there is no public key to check it "
		         "with (" INSTANCE_SIGN_PUBLIC " is missing)",
		         seq);
		return -1;
	}
	int v = sign_verify_message(s->key, &c->base, why, sizeof why);
	if (v < 0) {
		snprintf(s->why, s->whylen, "seq %" PRIu64 ": %s", seq, why);
		return -1;
	}
	if (v > 0)
		return bad(s->why, s->whylen, "seq %" PRIu64 ": checkpoint %s", seq, why);
	if (c->size >= seq)
		return bad(s->why, s->whylen,
		           "seq %" PRIu64 ": checkpoint's size %" PRIu64 " is not before it", seq,
		           c->size);
	if (c->head_hash.len != HASH)
		return bad(s->why, s->whylen,
		           "seq %" PRIu64 ": checkpoint's head_hash is not %d bytes", seq, HASH);
	if (c->size != s->prev_seq)
		return later_push(s, seq, c);
	if (memcmp(c->head_hash.data, s->prev_hash, HASH) != 0)
		return bad(s->why, s->whylen,
		           "seq %" PRIu64
		           ": checkpoint's head_hash differs from the chain's hash at "
		           "seq %" PRIu64,
		           seq, c->size);
	return 0;
}

static int
scan_visit(void *arg, uint64_t seq, const char *topic, const uint8_t *body, size_t body_len,
           const uint8_t *hash)
{
	(void)topic; /* the stored topic column is not hashed; the body says what an entry is */
	struct scan *s = arg;
	int rc = 0;
	if (body != NULL) {
		Est__V1__LogEntry *e = est__v1__log_entry__unpack(NULL, body_len, body);
		if (e == NULL) {
			rc = bad(s->why, s->whylen, "seq %" PRIu64 ": stored entry does not decode",
			         seq);
		} else if (e->body_case == EST__V1__LOG_ENTRY__BODY_CHECKPOINT &&
		           e->checkpoint != NULL) {
			rc = check_one(s, seq, e->checkpoint);
			if (rc == 0) {
				s->n++;
				s->last_seq = seq;
			}
		}
		if (e != NULL)
			est__v1__log_entry__free_unpacked(e, NULL);
	}
	if (rc == 1)
		s->bad_seq = seq;
	s->prev_seq = seq;
	memcpy(s->prev_hash, hash, HASH);
	return rc;
}

struct one_hash {
	bool found;
	uint8_t hash[HASH];
};

static int
hash_visit(void *arg, uint64_t seq, const char *topic, const uint8_t *body, size_t body_len,
           const uint8_t *hash)
{
	(void)seq;
	(void)topic;
	(void)body;
	(void)body_len;
	struct one_hash *o = arg;
	o->found = true;
	memcpy(o->hash, hash, HASH);
	return 0;
}

/* The chain hash at seq into out: 0, 1 when there is no such row, -1 with why. */
static int
hash_at(struct log *lg, uint64_t seq, uint8_t out[HASH], char *why, size_t whylen)
{
	struct one_hash o = {.found = false};
	if (seq == 0) {
		memset(out, 0, HASH); /* hash(0) of the contract */
		return 0;
	}
	if (log_scan(lg, seq, seq, hash_visit, &o, why, whylen) != 0)
		return -1;
	if (!o.found)
		return 1;
	memcpy(out, o.hash, HASH);
	return 0;
}

/* The checkpoints found with a size further back: compared now, in seq order. */
static int
check_later(struct log *lg, struct scan *s)
{
	for (size_t i = 0; i < s->n_later; i++) {
		const struct found *f = &s->later[i];
		uint8_t h[HASH];
		int rc = hash_at(lg, f->size, h, s->why, s->whylen);
		if (rc < 0)
			return -1;
		if (rc > 0 || memcmp(h, f->head, HASH) != 0) {
			s->bad_seq = f->seq;
			return bad(s->why, s->whylen,
			           "seq %" PRIu64
			           ": checkpoint's head_hash differs from the chain's "
			           "hash at seq %" PRIu64,
			           f->seq, f->size);
		}
	}
	return 0;
}

int
checkpoint_verify_log(struct log *lg, const struct sign_key *key, uint64_t upto, uint64_t *n,
                      uint64_t *last_seq, uint64_t *bad_seq, char *why, size_t whylen)
{
	struct scan s = {.key = key, .why = why, .whylen = whylen};
	int rc = log_scan(lg, 1, upto, scan_visit, &s, why, whylen);
	/* Those found before a bad one come first: their seqs are lower. */
	if (rc >= 0) {
		uint64_t scan_bad = s.bad_seq;
		char scan_why[512];
		snprintf(scan_why, sizeof scan_why, "%s", rc == 1 ? why : "");
		int later = check_later(lg, &s);
		if (later == 0 && rc == 1) {
			s.bad_seq = scan_bad;
			snprintf(why, whylen, "%s", scan_why);
		} else {
			rc = later;
		}
	}
	free(s.later);
	*n = s.n;
	*last_seq = s.last_seq;
	*bad_seq = rc == 1 ? s.bad_seq : 0;
	return rc;
}

int
checkpoint_verify_against(struct log *lg, const struct sign_key *key, const Est__V1__Checkpoint *c,
                          uint64_t entry_seq, const ProtobufCBinaryData *entry_hash, char *why,
                          size_t whylen)
{
	char sig_why[160];
	int v = sign_verify_message(key, &c->base, sig_why, sizeof sig_why);
	if (v != 0) {
		snprintf(why, whylen, "the saved checkpoint's %s with the hub's key", sig_why);
		return v;
	}
	if (c->head_hash.len != HASH)
		return bad(why, whylen, "the saved checkpoint's head_hash is not %d bytes", HASH);
	uint64_t head = log_head_seq(lg);
	if (c->size > head)
		return bad(why, whylen,
		           "log ends at seq %" PRIu64 ", before the checkpoint's size %" PRIu64
		           ": truncated",
		           head, c->size);
	uint8_t h[HASH];
	int rc = hash_at(lg, c->size, h, why, whylen);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return bad(why, whylen,
		           "seq %" PRIu64 " is missing from the log: truncated or removed",
		           c->size);
	if (memcmp(h, c->head_hash.data, HASH) != 0)
		return bad(why, whylen,
		           "seq %" PRIu64
		           "'s hash differs from the checkpoint's: the log was rewritten",
		           c->size);
	if (entry_seq == 0 || entry_hash == NULL || entry_hash->len != HASH)
		return 0;
	/* The checkpoint entry itself, as the partner received it. */
	if (entry_seq > head)
		return bad(why, whylen,
		           "log ends at seq %" PRIu64
		           ", before the saved checkpoint entry (seq %" PRIu64 "): truncated",
		           head, entry_seq);
	rc = hash_at(lg, entry_seq, h, why, whylen);
	if (rc < 0)
		return -1;
	if (rc > 0 || memcmp(h, entry_hash->data, HASH) != 0)
		return bad(why, whylen,
		           "seq %" PRIu64
		           "'s hash differs from the saved checkpoint entry's: the log "
		           "was rewritten",
		           entry_seq);
	return 0;
}
