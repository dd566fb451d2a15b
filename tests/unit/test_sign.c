/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the hub's signatures (wire/sign.c) and checkpoints
 * (hub/checkpoint.c): Ed25519 sign and verify round trips over bytes and
 * over protobuf messages with their signature field emptied, a flipped bit
 * and a wrong key failing, the key files' modes and refusals (a secret key
 * readable by others is refused by the path esthub run takes), and
 * checkpoints appended to a real log and checked, as estctl verify does,
 * in the log and against a saved copy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "instance.h"
#include "log.h"
#include "wire/sign.h"

#define NOW 1764000000

struct fx {
	char dir[64];
	char keys[96];
	char secret[128];
	char public[128];
	char store[128];
	struct sign_key *key;
	struct sign_key *pub;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	char err[512];
	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/test_sign.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->keys, sizeof fx->keys, "%s/keys", fx->dir);
	snprintf(fx->secret, sizeof fx->secret, "%s/%s", fx->dir, INSTANCE_SIGN_SECRET);
	snprintf(fx->public, sizeof fx->public, "%s/%s", fx->dir, INSTANCE_SIGN_PUBLIC);
	snprintf(fx->store, sizeof fx->store, "%s/log.db", fx->dir);
	if (mkdir(fx->keys, 0700) != 0 || sign_generate(fx->secret, fx->public, err, sizeof err))
		return -1;
	fx->key = sign_load_secret(fx->secret, err, sizeof err);
	fx->pub = sign_load_public(fx->public, err, sizeof err);
	if (fx->key == NULL || fx->pub == NULL)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	char p[160];
	sign_key_destroy(&fx->key);
	sign_key_destroy(&fx->pub);
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", fx->store, suffixes[i]);
		unlink(p);
	}
	unlink(fx->secret);
	unlink(fx->public);
	snprintf(p, sizeof p, "%s/other.pem", fx->keys);
	unlink(p);
	snprintf(p, sizeof p, "%s/other_secret.pem", fx->keys);
	unlink(p);
	rmdir(fx->keys);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static mode_t
file_mode(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* A second key pair in keys/other*.pem: the wrong key of the tests. */
static struct sign_key *
other_public(struct fx *fx)
{
	char sec[160], pub[160], err[512];
	snprintf(sec, sizeof sec, "%s/other_secret.pem", fx->keys);
	snprintf(pub, sizeof pub, "%s/other.pem", fx->keys);
	if (sign_generate(sec, pub, err, sizeof err) != 0)
		fail_msg("sign_generate: %s", err);
	struct sign_key *k = sign_load_public(pub, err, sizeof err);
	assert_non_null(k);
	return k;
}

/* --- keys --------------------------------------------------------------------- */

static void
test_key_files(void **state)
{
	struct fx *fx = *state;
	char err[512];
	assert_int_equal(file_mode(fx->secret), 0600);
	assert_int_equal(file_mode(fx->public), 0644);
	assert_true(sign_key_matches(fx->key, fx->pub));
	/* An existing key is never replaced. */
	assert_int_equal(sign_generate(fx->secret, fx->public, err, sizeof err), -1);
	assert_non_null(strstr(err, "exists"));
	/* The public file is no secret key, and the secret file no public key. */
	assert_null(sign_load_secret(fx->public, err, sizeof err));
	assert_non_null(strstr(err, "group or others")); /* 0644: refused before it is read */
	assert_int_equal(chmod(fx->public, 0600), 0);
	assert_null(sign_load_secret(fx->public, err, sizeof err));
	assert_non_null(strstr(err, "not a PEM private key"));
	assert_int_equal(chmod(fx->public, 0644), 0);
	assert_null(sign_load_public(fx->secret, err, sizeof err));
	assert_non_null(strstr(err, "not a PEM public key"));
	struct sign_key *other = other_public(fx);
	assert_false(sign_key_matches(other, fx->key));
	sign_key_destroy(&other);
	assert_null(other);
}

static void
test_secret_readable_by_others_refused(void **state)
{
	struct fx *fx = *state;
	char err[512];
	static const mode_t modes[] = {0644, 0640, 0604, 0660};
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		assert_int_equal(chmod(fx->secret, modes[i]), 0);
		err[0] = '\0';
		assert_null(sign_load_secret(fx->secret, err, sizeof err));
		assert_non_null(strstr(err, fx->secret));
		assert_non_null(strstr(err, "group or others"));
		assert_non_null(strstr(err, "chmod 600"));
	}
	/* The path esthub run takes: the hub does not start with it. */
	struct log *lg = NULL;
	assert_int_equal(chmod(fx->secret, 0644), 0);
	assert_int_equal(log_open(&lg, fx->store, LOG_CREATE, err, sizeof err), 0);
	err[0] = '\0';
	struct checkpoints *cp = checkpoints_new(fx->dir, lg, 1, err, sizeof err);
	assert_null(cp);
	assert_non_null(strstr(err, "chmod 600"));
	/* esthub check says the same on one line. */
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_int_equal(checkpoint_keys_check(fx->dir, out), 1);
	fclose(out);
	assert_non_null(strstr(text, "sign_secret.pem:0: signing key:"));
	free(text);
	assert_int_equal(chmod(fx->secret, 0600), 0);
	cp = checkpoints_new(fx->dir, lg, 1, err, sizeof err);
	assert_non_null(cp);
	checkpoints_destroy(&cp);
	assert_null(cp);
	log_close(&lg);
}

static void
test_missing_keys_are_created_at_start(void **state)
{
	struct fx *fx = *state;
	char err[512];
	struct log *lg = NULL;
	assert_int_equal(log_open(&lg, fx->store, LOG_CREATE, err, sizeof err), 0);
	/* A missing public half is written again from the secret. */
	unlink(fx->public);
	struct checkpoints *cp = checkpoints_new(fx->dir, lg, 0, err, sizeof err);
	assert_non_null(cp);
	checkpoints_destroy(&cp);
	struct sign_key *pub = sign_load_public(fx->public, err, sizeof err);
	assert_true(sign_key_matches(pub, fx->key));
	sign_key_destroy(&pub);
	/* An instance from before signing: both are made. */
	unlink(fx->public);
	unlink(fx->secret);
	cp = checkpoints_new(fx->dir, lg, 0, err, sizeof err);
	assert_non_null(cp);
	checkpoints_destroy(&cp);
	assert_int_equal(file_mode(fx->secret), 0600);
	assert_int_equal(file_mode(fx->public), 0644);
	log_close(&lg);
}

/* --- signatures --------------------------------------------------------------- */

static void
test_bytes_round_trip_flipped_bit_and_wrong_key(void **state)
{
	struct fx *fx = *state;
	char err[256];
	uint8_t msg[100], sig[SIGN_BYTES];
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)(i * 7);
	assert_int_equal(sign_bytes(fx->key, msg, sizeof msg, sig, err, sizeof err), 0);
	assert_true(sign_verify_bytes(fx->pub, msg, sizeof msg, sig, sizeof sig));
	assert_true(sign_verify_bytes(fx->key, msg, sizeof msg, sig, sizeof sig));
	/* Every bit of the message and of the signature counts. */
	for (size_t bit = 0; bit < 8 * sizeof msg; bit += 13) {
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_false(sign_verify_bytes(fx->pub, msg, sizeof msg, sig, sizeof sig));
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (size_t bit = 0; bit < 8 * SIGN_BYTES; bit += 5) {
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_false(sign_verify_bytes(fx->pub, msg, sizeof msg, sig, sizeof sig));
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_false(sign_verify_bytes(fx->pub, msg, sizeof msg, sig, SIGN_BYTES - 1));
	struct sign_key *other = other_public(fx);
	assert_false(sign_verify_bytes(other, msg, sizeof msg, sig, sizeof sig));
	sign_key_destroy(&other);
	/* A public key cannot sign. */
	assert_int_equal(sign_bytes(fx->pub, msg, sizeof msg, sig, err, sizeof err), -1);
	/* The empty message is a message too. */
	assert_int_equal(sign_bytes(fx->key, NULL, 0, sig, err, sizeof err), 0);
	assert_true(sign_verify_bytes(fx->pub, NULL, 0, sig, sizeof sig));
}

static void
test_message_signature_covers_the_message_without_it(void **state)
{
	struct fx *fx = *state;
	char why[256];
	uint8_t head[32], sig[SIGN_BYTES];
	memset(head, 0xab, sizeof head);
	Est__V1__Checkpoint c;
	est__v1__checkpoint__init(&c);
	c.size = 41;
	c.head_hash = (ProtobufCBinaryData){sizeof head, head};
	c.time = NOW;
	assert_int_equal(sign_verify_message(fx->pub, &c.base, why, sizeof why), 1);
	assert_string_equal(why, "has no signature");
	assert_int_equal(sign_message(fx->key, &c.base, sig, why, sizeof why), 0);
	c.signature = (ProtobufCBinaryData){SIGN_BYTES, sig};
	assert_int_equal(sign_verify_message(fx->pub, &c.base, why, sizeof why), 0);
	/* The contract's definition, by hand: Ed25519 over the message packed without it. */
	Est__V1__Checkpoint plain = c;
	plain.signature = (ProtobufCBinaryData){0, NULL};
	uint8_t packed[128];
	size_t len = est__v1__checkpoint__pack(&plain, packed);
	assert_true(sign_verify_bytes(fx->pub, packed, len, sig, SIGN_BYTES));
	/* Any change of content breaks it. */
	c.size = 42;
	assert_int_equal(sign_verify_message(fx->pub, &c.base, why, sizeof why), 1);
	assert_string_equal(why, "signature does not verify");
	c.size = 41;
	head[5] ^= 0x10;
	assert_int_equal(sign_verify_message(fx->pub, &c.base, why, sizeof why), 1);
	head[5] ^= 0x10;
	sig[63] ^= 0x80;
	assert_int_equal(sign_verify_message(fx->pub, &c.base, why, sizeof why), 1);
	sig[63] ^= 0x80;
	assert_int_equal(sign_verify_message(fx->pub, &c.base, why, sizeof why), 0);
	struct sign_key *other = other_public(fx);
	assert_int_equal(sign_verify_message(other, &c.base, why, sizeof why), 1);
	sign_key_destroy(&other);
	/* A message without a signature field cannot be signed. */
	Est__V1__Position pos;
	est__v1__position__init(&pos);
	assert_int_equal(sign_message(fx->key, &pos.base, sig, why, sizeof why), -1);
	assert_non_null(strstr(why, "signature"));
}

static void
test_picture_attach_and_repack(void **state)
{
	struct fx *fx = *state;
	char why[256];
	Est__V1__Picture *p = calloc(1, sizeof *p);
	assert_non_null(p);
	est__v1__picture__init(p);
	p->area = strdup("hageby");
	p->week = strdup("2026-W47");
	p->through_seq = 17;
	p->priority_score = 12.5;
	p->rank = 1;
	assert_int_equal(sign_attach(fx->key, &p->base, why, sizeof why), 0);
	assert_int_equal(p->signature.len, SIGN_BYTES);
	/* Signing again replaces (and frees) the old signature. */
	assert_int_equal(sign_attach(fx->key, &p->base, why, sizeof why), 0);
	/* What a subscriber does: unpack what was sent and check it. */
	size_t len = est__v1__picture__get_packed_size(p);
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	est__v1__picture__pack(p, buf);
	Est__V1__Picture *got = est__v1__picture__unpack(NULL, len, buf);
	assert_non_null(got);
	assert_int_equal(sign_verify_message(fx->pub, &got->base, why, sizeof why), 0);
	got->rank = 2;
	assert_int_equal(sign_verify_message(fx->pub, &got->base, why, sizeof why), 1);
	est__v1__picture__free_unpacked(got, NULL);
	free(buf);
	/* As the hub does (picture_free): free_unpacked frees the attached signature too. */
	est__v1__picture__free_unpacked(p, NULL);
}

/* --- checkpoints in a real log ------------------------------------------------ */

static void
append_audit(struct log *lg, int i)
{
	char detail[32], err[256];
	snprintf(detail, sizeof detail, "event %d", i);
	Est__V1__AuditEvent a;
	est__v1__audit_event__init(&a);
	a.action = (char *)"test";
	a.detail = detail;
	Est__V1__LogEntry e;
	est__v1__log_entry__init(&e);
	e.org = (char *)"esthub";
	e.topic = (char *)"all/audit";
	e.body_case = EST__V1__LOG_ENTRY__BODY_AUDIT;
	e.audit = &a;
	struct log_item it = {.entry = &e};
	if (log_append(lg, &it, 1, NOW, err, sizeof err) != 0)
		fail_msg("log_append: %s", err);
}

static void
test_checkpoints_in_a_log(void **state)
{
	struct fx *fx = *state;
	char err[512];
	struct log *lg = NULL;
	assert_int_equal(log_open(&lg, fx->store, LOG_CREATE, err, sizeof err), 0);
	struct checkpoints *cp = checkpoints_new(fx->dir, lg, 10, err, sizeof err);
	assert_non_null(cp);
	const struct log_item *item = NULL;
	/* An empty log gets no checkpoint. */
	assert_int_equal(checkpoints_tick(cp, lg, 1000, NOW, &item), 0);
	for (int i = 0; i < 3; i++)
		append_audit(lg, i);
	/* Not before the interval is over (10 s from the first tick at 1000 ms). */
	assert_int_equal(checkpoints_tick(cp, lg, 5000, NOW, &item), 0);
	assert_int_equal(checkpoints_tick(cp, lg, 11000, NOW, &item), 1);
	assert_non_null(item);
	assert_int_equal(item->seq, 4);
	const Est__V1__Checkpoint *c = item->entry->checkpoint;
	assert_int_equal(c->size, 3);
	assert_string_equal(item->entry->topic, CHECKPOINT_TOPIC);
	assert_string_equal(item->entry->org, CHECKPOINT_ORG);
	/* Nothing new: no checkpoint, even when due. */
	assert_int_equal(checkpoints_tick(cp, lg, 30000, NOW, &item), 0);
	append_audit(lg, 9);
	assert_int_equal(checkpoints_tick(cp, lg, 45000, NOW, &item), 1);
	assert_int_equal(item->seq, 6);
	/* Saved copy of the second checkpoint, as a partner keeps it. */
	Est__V1__Checkpoint saved = *item->entry->checkpoint;
	uint8_t head[32], sig[SIGN_BYTES], entry_hash[32];
	memcpy(head, saved.head_hash.data, 32);
	memcpy(sig, saved.signature.data, SIGN_BYTES);
	memcpy(entry_hash, item->hash, 32);
	saved.head_hash.data = head;
	saved.signature.data = sig;
	ProtobufCBinaryData eh = {32, entry_hash};
	checkpoints_destroy(&cp);
	/* A restart knows its last checkpoint: nothing new, none at start-up. */
	cp = checkpoints_new(fx->dir, lg, 10, err, sizeof err);
	assert_non_null(cp);
	assert_int_equal(checkpoints_tick(cp, lg, 1000, NOW, &item), 0);
	checkpoints_destroy(&cp);

	uint64_t n = 0, last = 0, bad = 0;
	char why[512];
	assert_int_equal(
	    checkpoint_verify_log(lg, fx->pub, log_head_seq(lg), &n, &last, &bad, why, sizeof why),
	    0);
	assert_int_equal(n, 2);
	assert_int_equal(last, 6);
	/* Without a key, a log with checkpoints cannot be checked. */
	assert_int_equal(
	    checkpoint_verify_log(lg, NULL, log_head_seq(lg), &n, &last, &bad, why, sizeof why),
	    -1);
	assert_non_null(strstr(why, "seq 4"));
	/* With the wrong key the first checkpoint is named. */
	struct sign_key *other = other_public(fx);
	assert_int_equal(
	    checkpoint_verify_log(lg, other, log_head_seq(lg), &n, &last, &bad, why, sizeof why),
	    1);
	assert_int_equal(bad, 4);
	assert_string_equal(why, "seq 4: checkpoint signature does not verify");

	/* Against the saved copy: holds; then forged and wrong-key copies do not. */
	assert_int_equal(checkpoint_verify_against(lg, fx->pub, &saved, 6, &eh, why, sizeof why),
	                 0);
	assert_int_equal(checkpoint_verify_against(lg, other, &saved, 6, &eh, why, sizeof why), 1);
	assert_non_null(strstr(why, "signature does not verify"));
	sign_key_destroy(&other);
	saved.size = 120;
	assert_int_equal(checkpoint_verify_against(lg, fx->pub, &saved, 0, NULL, why, sizeof why),
	                 1);
	assert_non_null(strstr(why, "signature does not verify"));
	log_close(&lg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_key_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secret_readable_by_others_refused, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_missing_keys_are_created_at_start, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_bytes_round_trip_flipped_bit_and_wrong_key, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_message_signature_covers_the_message_without_it,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_picture_attach_and_repack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoints_in_a_log, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
