/* SPDX-License-Identifier: Apache-2.0 */
/*
 * endpoint: what the hub may bind and a client may connect to, and each
 * refusal's reason. That a refused endpoint stops esthub init, esthub
 * check, est-adapter and est-feed before they start is seen in
 * tests/integration/test_check.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wire/endpoint.h"

enum { BOTH, BIND_ONLY };

static void
test_accepted(void **state)
{
	(void)state;
	static const struct {
		const char *ep;
		int only;
	} ok[] = {
	    {"tcp://127.0.0.1:7601", BOTH},
	    {"tcp://esthub.norrkoping.example:7601", BOTH},
	    {"tcp://hub:1", BOTH},
	    {"tcp://hub:65535", BOTH},
	    {"ipc:///run/esthub/ingest", BOTH},
	    {"tcp://*:7601", BIND_ONLY},
	    {"tcp://127.0.0.1:*", BIND_ONLY},
	    {"tcp://eth0:7601", BOTH}, /* an interface where the hub binds, a host name elsewhere */
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		char why[160] = "";
		if (endpoint_check(ok[i].ep, ENDPOINT_BIND, why, sizeof why) != 0)
			fail_msg("%s refused for bind: %s", ok[i].ep, why);
		int connect = endpoint_check(ok[i].ep, ENDPOINT_CONNECT, why, sizeof why);
		if (ok[i].only == BOTH && connect != 0)
			fail_msg("%s refused for connect: %s", ok[i].ep, why);
		if (ok[i].only == BIND_ONLY && connect == 0)
			fail_msg("%s accepted for connect", ok[i].ep);
	}
}

static void
test_refused_with_reason(void **state)
{
	(void)state;
	char long_ipc[160];
	snprintf(long_ipc, sizeof long_ipc, "ipc:///%0120d", 0);
	const struct {
		const char *ep;
		enum endpoint_use use;
		const char *why;
	} bad[] = {
	    {"nonsense", ENDPOINT_BIND, "expected tcp://HOST:PORT or ipc://PATH"},
	    {"http://hub:7601", ENDPOINT_CONNECT, "expected tcp://HOST:PORT or ipc://PATH"},
	    {"", ENDPOINT_BIND, "expected tcp://HOST:PORT or ipc://PATH"},
	    {"tcp://", ENDPOINT_BIND, "no port: expected tcp://HOST:PORT"},
	    {"tcp://hub", ENDPOINT_CONNECT, "no port: expected tcp://HOST:PORT"},
	    {"tcp://:7601", ENDPOINT_BIND, "no host before the port: expected tcp://HOST:PORT"},
	    {"tcp://hub:", ENDPOINT_CONNECT, "no port after the ':': expected tcp://HOST:PORT"},
	    {"tcp://hub:0", ENDPOINT_CONNECT, "port 0 is not 1..65535"},
	    {"tcp://127.0.0.1:0", ENDPOINT_BIND, "port 0: write * to let the system choose a port"},
	    {"tcp://hub:65536", ENDPOINT_BIND, "port 65536 is not 1..65535"},
	    {"tcp://hub:7601x", ENDPOINT_BIND, "port \"7601x\" is not a number 1..65535 or *"},
	    {"tcp://hub:123456", ENDPOINT_CONNECT, "port \"123456\" is not a number 1..65535"},
	    {"tcp://hub:*", ENDPOINT_CONNECT,
	     "port * is for the hub's own endpoints; give the port the hub serves on"},
	    {"tcp://*:7601", ENDPOINT_CONNECT,
	     "host * is for the hub's own endpoints; give the hub's name or address"},
	    {"tcp://[::1]:7601", ENDPOINT_BIND,
	     "an IPv6 address; esthub serves IPv4: give an IPv4 address or a host name"},
	    {"tcp://::1:7601", ENDPOINT_CONNECT,
	     "an IPv6 address; esthub serves IPv4: give an IPv4 address or a host name"},
	    {"tcp://10.0.0.1;hub:7601", ENDPOINT_CONNECT,
	     "the host \"10.0.0.1;hub\" is not a name or an address"},
	    {"tcp://hub :7601", ENDPOINT_CONNECT,
	     "holds a space or a character other than printable ASCII"},
	    {"tcp://hüb:7601", ENDPOINT_CONNECT,
	     "holds a space or a character other than printable ASCII"},
	    {"ipc://", ENDPOINT_BIND, "no path: expected ipc://PATH"},
	    {long_ipc, ENDPOINT_BIND, "the path is 121 bytes; a Unix socket's is at most 107"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char why[160] = "";
		if (endpoint_check(bad[i].ep, bad[i].use, why, sizeof why) == 0)
			fail_msg("\"%s\" accepted", bad[i].ep);
		if (strcmp(why, bad[i].why) != 0)
			fail_msg("\"%s\": said \"%s\", expected \"%s\"", bad[i].ep, why,
			         bad[i].why);
	}
}

static void
test_port_chosen(void **state)
{
	(void)state;
	assert_true(endpoint_port_chosen("tcp://127.0.0.1:*"));
	assert_true(endpoint_port_chosen("tcp://*:*"));
	assert_false(endpoint_port_chosen("tcp://127.0.0.1:7601"));
	assert_false(endpoint_port_chosen("ipc:///tmp/x:*"));
	assert_false(endpoint_port_chosen("*"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepted),
	    cmocka_unit_test(test_refused_with_reason),
	    cmocka_unit_test(test_port_chosen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
