/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: files an administrator edits or hands over. The input is
 * written to a file and read as hub.conf, as areas.geojson and as a
 * client certificate, the way esthub check and esthub run read them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "areas.h"
#include "config.h"
#include "wire/cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/esthub-fuzz-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	FILE *null = fopen("/dev/null", "w");
	struct config c;
	(void)config_load(&c, path, null);
	int problems = 0;
	struct areas *a = areas_load(path, null, &problems);
	if (a)
		(void)areas_locate(a, 58.5665, 16.1890);
	areas_destroy(&a);
	struct cert_info info;
	char err[600];
	(void)cert_read_client(path, &info, err, sizeof err);
	fclose(null);
	unlink(path);
	return 0;
}
