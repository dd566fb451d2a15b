/* SPDX-License-Identifier: Apache-2.0 */
/* endpoint: ZeroMQ endpoints checked before use (see endpoint.h). */
#include "endpoint.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#define TCP "tcp://"
#define IPC "ipc://"
/* A Unix socket's path, its terminating NUL left out. */
#define IPC_PATH_MAX (sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1)

__attribute__((format(printf, 3, 4))) static int
fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Printable ASCII, no space: what an endpoint is written with. */
static bool
plain(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

static int
check_port(const char *port, enum endpoint_use use, char *why, size_t whylen)
{
	if (strcmp(port, "*") == 0)
		return use == ENDPOINT_BIND
		           ? 0
		           : fail(why, whylen,
		                  "port * is for the hub's own endpoints; give the port "
		                  "the hub serves on");
	long v = 0;
	size_t n = strlen(port);
	for (size_t i = 0; i < n; i++) {
		if (port[i] < '0' || port[i] > '9' || n > 5)
			return fail(why, whylen, "port \"%s\" is not a number 1..65535%s", port,
			            use == ENDPOINT_BIND ? " or *" : "");
		v = v * 10 + (port[i] - '0');
	}
	if (n == 0)
		return fail(why, whylen, "no port after the ':': expected tcp://HOST:PORT");
	if (v == 0 && use == ENDPOINT_BIND)
		return fail(why, whylen, "port 0: write * to let the system choose a port");
	if (v < 1 || v > 65535)
		return fail(why, whylen, "port %ld is not 1..65535", v);
	return 0;
}

static int
check_tcp(const char *rest, enum endpoint_use use, char *why, size_t whylen)
{
	const char *colon = strrchr(rest, ':');
	if (colon == NULL)
		return fail(why, whylen, "no port: expected tcp://HOST:PORT");
	size_t host_len = (size_t)(colon - rest);
	if (host_len == 0)
		return fail(why, whylen, "no host before the port: expected tcp://HOST:PORT");
	/* The hub's sockets are IPv4 (libzmq's ZMQ_IPV6 is off): an IPv6 address fails to bind. */
	if (rest[0] == '[' || memchr(rest, ':', host_len) != NULL)
		return fail(why, whylen,
		            "an IPv6 address; esthub serves IPv4: give an IPv4 address "
		            "or a host name");
	if (host_len == 1 && rest[0] == '*' && use == ENDPOINT_CONNECT)
		return fail(why, whylen,
		            "host * is for the hub's own endpoints; give the hub's "
		            "name or address");
	if (memchr(rest, ';', host_len) != NULL || memchr(rest, '/', host_len) != NULL)
		return fail(why, whylen, "the host \"%.*s\" is not a name or an address",
		            (int)host_len, rest);
	return check_port(colon + 1, use, why, whylen);
}

int
endpoint_check(const char *ep, enum endpoint_use use, char *why, size_t whylen)
{
	size_t len = strlen(ep);
	if (!plain(ep, len))
		return fail(why, whylen, "holds a space or a character other than printable ASCII");
	if (strncmp(ep, TCP, strlen(TCP)) == 0)
		return check_tcp(ep + strlen(TCP), use, why, whylen);
	if (strncmp(ep, IPC, strlen(IPC)) == 0) {
		size_t path_len = len - strlen(IPC);
		if (path_len == 0)
			return fail(why, whylen, "no path: expected ipc://PATH");
		if (path_len > IPC_PATH_MAX)
			return fail(why, whylen,
			            "the path is %zu bytes; a Unix socket's is at most %zu",
			            path_len, IPC_PATH_MAX);
		return 0;
	}
	return fail(why, whylen, "expected tcp://HOST:PORT or ipc://PATH");
}

bool
endpoint_port_chosen(const char *ep)
{
	size_t len = strlen(ep);
	return strncmp(ep, TCP, strlen(TCP)) == 0 && len >= 2 && strcmp(ep + len - 2, ":*") == 0;
}
