/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the personal-data scanner (hub/personal.c) on any bytes, as
 * a report's free text arrives. Scan and mask must stay within the input;
 * the masked text, scanned again, must hold no finding (masking is final);
 * masking finds something exactly when the scan does; and what was valid
 * UTF-8 stays valid UTF-8. Any breach aborts, which libFuzzer reports.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "personal.h"
#include "wire/ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
breach(const char *what, const char *text, size_t len)
{
	fprintf(stderr, "fuzz_personal: %s: \"%.*s\"\n", what, (int)len, text);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size heap copy, so ASan sees any read past the end. */
	char *text = malloc(size ? size : 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	struct personal_finding f;
	enum personal_kind k = personal_scan(text, size, &f);
	if (k != PERSONAL_NONE && (f.kind != k || f.len == 0 || f.start + f.len > size))
		breach("finding out of the text", text, size);
	size_t out_len = 0, n = 0;
	char *masked = personal_mask(text, size, &out_len, &n);
	if (masked == NULL) {
		free(text);
		return 0;
	}
	if ((n > 0) != (k != PERSONAL_NONE))
		breach("mask and scan disagree", text, size);
	if (masked[out_len] != '\0')
		breach("masked text not terminated", text, size);
	struct personal_finding again;
	if (personal_scan(masked, out_len, &again) != PERSONAL_NONE)
		breach("masked text still holds a finding", masked, out_len);
	if (ids_utf8_valid(text, size) && !ids_utf8_valid(masked, out_len))
		breach("masking broke UTF-8", masked, out_len);
	if (n == 0 && (out_len != size || memcmp(masked, text, size) != 0))
		breach("text without findings changed", text, size);
	/* The field check on the text up to its first NUL, as validate.c calls it. */
	char *z = malloc(size + 1);
	if (z) {
		memcpy(z, data, size);
		z[size] = '\0';
		char err[200], *m = NULL;
		int rc = personal_check_field("description", z, PERSONAL_MASK, &m, err, sizeof err);
		if (rc == 1 && personal_scan(m, strlen(m), NULL) != PERSONAL_NONE)
			breach("checked field still holds a finding", m, strlen(m));
		free(m);
		(void)personal_check_field("place", z, PERSONAL_REJECT, &m, err, sizeof err);
		free(z);
	}
	free(masked);
	free(text);
	return 0;
}
