/* SPDX-License-Identifier: Apache-2.0 */
/* diag: one-line diagnostics on stderr, "program: message". See diag.h. */
#include "wire/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *program_name = "esthub";
static int verbose;

void
diag_init(const char *program)
{
	const char *slash = strrchr(program, '/');
	program_name = slash ? slash + 1 : program;
}

const char *
diag_program(void)
{
	return program_name;
}

void
diag_set_verbose(int on)
{
	verbose = on;
}

__attribute__((format(printf, 1, 0))) static void
vsay(const char *fmt, va_list ap)
{
	char line[2048];
	vsnprintf(line, sizeof line, fmt, ap);
	/* One write per line, so lines of concurrent threads do not interleave. */
	fprintf(stderr, "%s: %s\n", program_name, line);
}

void
diag_say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

void
diag_debug(const char *fmt, ...)
{
	if (!verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}
