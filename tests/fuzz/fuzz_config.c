/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: files an administrator edits or hands over. The input is
 * written to a file and read as hub.conf, as areas.geojson, as a client
 * certificate and as a secret certificate, the way esthub check and
 * esthub run read them, as the areas file est-feed draws its maps from
 * (--areas), and as est-feed's --state file (a hand-edited or damaged one
 * must be refused with a reason, never taken as a position).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "areamap.h"
#include "areas.h"
#include "config.h"
#include "state.h"
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
	zcert_t *secret = cert_load_secret(path, err, sizeof err); /* mkstemp made it 0600 */
	cert_destroy(&secret);
	struct areamap *m = areamap_load(path, err, sizeof err);
	if (m)
		(void)areamap_find(m, "hageby");
	areamap_destroy(&m);
	uint64_t seq = 0;
	int code = 0;
	err[0] = '\0';
	if (state_read(path, &seq, &code, err, sizeof err) == -1 && (err[0] == '\0' || code == 0))
		abort(); /* a refusal always says why, with an exit code */
	fclose(null);
	unlink(path);
	return 0;
}
