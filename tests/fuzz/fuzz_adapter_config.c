/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an adapter's configuration file, which an administrator
 * edits. The input is written to a file and read the way est-adapter
 * --config reads it; what it yields is then used as the runtime uses it:
 * the category table looked up, the areas' names checked, and the commented
 * example written (which must load again without a problem).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/adapter_config.h"
#include "runtime/geo.h"
#include "runtime/mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes size bytes of data to a new temporary file at path; 0, or -1. */
static int
write_temp(char *path, const void *data, size_t size)
{
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, size);
	close(fd);
	if (n != (ssize_t)size) {
		unlink(path);
		return -1;
	}
	return 0;
}

/* Whether every line of text fits the reader (paths resolved, " = " spaced may not). */
static int
lines_fit(const char *text, size_t len)
{
	size_t line = 0;
	for (size_t i = 0; i < len; i++) {
		line = text[i] == '\n' ? 0 : line + 1;
		if (line > ADAPTER_CONFIG_LINE_MAX)
			return 0;
	}
	return 1;
}

/* What the runtime does with a loaded configuration. */
static void
use(const struct adapter_config *c)
{
	static const char *const values[] = {"Skadegörelse", "KLOTTER", "*", "", "Övrigt"};
	struct mapping *m = NULL;
	if (adapter_config_mapping(c, c->format, &m) == 0 && m) {
		Est__V1__Category cat;
		const char *sub;
		for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
			(void)mapping_lookup(m, values[i], &cat, &sub);
	}
	mapping_destroy(&m);
	for (size_t i = 0; i < c->n_aliases; i++)
		(void)geo_builtin_area_id(c->aliases[i].name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/esthub-fuzz-adapter-XXXXXX";
	if (write_temp(path, data, size) != 0)
		return 0;
	FILE *null = fopen("/dev/null", "w");
	struct adapter_config c;
	if (adapter_config_load(&c, path, null) == 0) {
		use(&c);
		/* What the example writer writes for a valid file loads back cleanly. */
		char *text = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&text, &len);
		if (out && adapter_config_write_example(out, &c) == 0 && fclose(out) == 0) {
			char again[] = "/tmp/esthub-fuzz-adapter-XXXXXX";
			if (lines_fit(text, len) && write_temp(again, text, len) == 0) {
				struct adapter_config d;
				if (adapter_config_load(&d, again, null) != 0)
					abort();
				adapter_config_fini(&d);
				unlink(again);
			}
		} else if (out) {
			fclose(out);
		}
		free(text);
	}
	adapter_config_fini(&c);
	fclose(null);
	unlink(path);
	return 0;
}
