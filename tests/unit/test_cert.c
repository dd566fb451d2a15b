/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of loading a secret CURVE certificate (wire/cert.c,
 * cert_load_secret), the path every program takes to its own key: a good
 * file loads with the right keys; a file readable by others, a public
 * certificate, a secret that does not belong to the public key, and a file
 * that is no certificate are each refused with the file, the line where
 * there is one, and the reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire/cert.h"

struct fx {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	assert_non_null(fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/esthub-cert-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof fx->path, "%s/key_secret", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* A certificate file with the given keys, as czmq writes one. */
static void
write_cert(const char *path, const char *pub, const char *sec, mode_t mode)
{
	char text[1024];
	snprintf(text, sizeof text,
	         "#   ZeroMQ CURVE **Secret** Certificate\n"
	         "metadata\n"
	         "    role = \"adapter\"\n"
	         "curve\n"
	         "    public-key = \"%s\"\n"
	         "%s%s%s",
	         pub, sec ? "    secret-key = \"" : "", sec ? sec : "", sec ? "\"\n" : "");
	write_file(path, text, mode);
}

static void
expect_refusal(const char *path, const char *why)
{
	char err[512] = "";
	zcert_t *cert = cert_load_secret(path, err, sizeof err);
	if (cert != NULL || strstr(err, why) == NULL || strstr(err, path) == NULL)
		fail_msg("got %s \"%s\", want NULL and \"%s\" naming %s", cert ? "a cert" : "NULL",
		         err, why, path);
}

static void
test_good_file_loads(void **state)
{
	struct fx *fx = *state;
	char pub[41], sec[41];
	assert_int_equal(zmq_curve_keypair(pub, sec), 0);
	write_cert(fx->path, pub, sec, 0600);
	char err[512] = "";
	zcert_t *cert = cert_load_secret(fx->path, err, sizeof err);
	if (cert == NULL)
		fail_msg("%s", err);
	assert_string_equal(zcert_public_txt(cert), pub);
	assert_string_equal(zcert_secret_txt(cert), sec);
	cert_destroy(&cert);
	assert_null(cert);
}

static void
test_refusals(void **state)
{
	struct fx *fx = *state;
	char pub[41], sec[41], pub2[41], sec2[41];
	assert_int_equal(zmq_curve_keypair(pub, sec), 0);
	assert_int_equal(zmq_curve_keypair(pub2, sec2), 0);

	write_cert(fx->path, pub, sec, 0644);
	expect_refusal(fx->path, "accessible by group or others (mode 0644); run chmod 600");

	write_cert(fx->path, pub, NULL, 0600);
	expect_refusal(fx->path, "secret-key: missing (is it a public certificate?)");

	write_cert(fx->path, pub, sec2, 0600);
	expect_refusal(fx->path, ":6: secret-key: does not belong to the public-key");

	write_cert(fx->path, pub, "tooshort", 0600);
	expect_refusal(fx->path, "secret-key: not a 40-character Z85 key");

	write_cert(fx->path, "0000000000000000000000000000000000000000", sec, 0600);
	expect_refusal(fx->path, "does not belong to the public-key");

	write_file(fx->path, "{\"this\": \"is json\"}\n", 0600);
	expect_refusal(fx->path, "not a certificate in the zcert text format");

	unlink(fx->path);
	expect_refusal(fx->path, "No such file or directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_good_file_loads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
