/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify: signatures of pictures and checkpoints on est-feed's side (see
 * verify.h). The signature itself is wire/sign's job; this module decides
 * what is signed, what is shown and what is said.
 */
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/diag.h"
#include "wire/sign.h"

struct verify {
	struct sign_key *key; /* NULL: not checking */
	const char *key_path;
	bool told_unchecked;
	uint64_t refused;
};

struct verify *
verify_new(const char *key_path, char *err, size_t errlen)
{
	struct verify *v = calloc(1, sizeof *v);
	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->key_path = key_path;
	if (key_path != NULL && (v->key = sign_load_public(key_path, err, errlen)) == NULL) {
		free(v);
		return NULL;
	}
	return v;
}

void
verify_destroy(struct verify **v)
{
	if (v == NULL || *v == NULL)
		return;
	sign_key_destroy(&(*v)->key);
	free(*v);
	*v = NULL;
}

/* The signed message an entry carries and what to call it, or NULL for an unsigned kind. */
static const ProtobufCMessage *
signed_body(const Est__V1__LogEntry *e, const char **kind)
{
	if (e->body_case == EST__V1__LOG_ENTRY__BODY_PICTURE && e->picture != NULL) {
		*kind = "picture";
		return &e->picture->base;
	}
	if (e->body_case == EST__V1__LOG_ENTRY__BODY_CHECKPOINT && e->checkpoint != NULL) {
		*kind = "checkpoint";
		return &e->checkpoint->base;
	}
	return NULL;
}

bool
verify_entry(struct verify *v, const Est__V1__LogEntry *e)
{
	const char *kind = NULL;
	const ProtobufCMessage *m = signed_body(e, &kind);
	if (m == NULL)
		return true;
	if (v->key == NULL) {
		if (!v->told_unchecked)
			diag_say("signatures of pictures and checkpoints are not checked (give "
			         "--sign-key FILE, the hub's keys/sign.pem, to check them)");
		v->told_unchecked = true;
		return true;
	}
	char why[160];
	int rc = sign_verify_message(v->key, m, why, sizeof why);
	if (rc == 0)
		return true;
	v->refused++;
	if (rc > 0 && strcmp(why, "signature does not verify") == 0)
		diag_say("seq %llu: %s signature does not verify with %s; not shown",
		         (unsigned long long)e->seq, kind, v->key_path);
	else if (rc > 0) /* "has no signature", a signature of the wrong length */
		diag_say("seq %llu: %s %s; not shown", (unsigned long long)e->seq, kind, why);
	else
		diag_say("seq %llu: %s cannot be checked (%s); not shown",
		         (unsigned long long)e->seq, kind, why);
	return false;
}

uint64_t
verify_refused(const struct verify *v)
{
	return v != NULL ? v->refused : 0;
}
