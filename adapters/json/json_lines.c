/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_lines: the `json` format, the hub's own: one est.v1.Report a line in
 * the protobuf JSON mapping (wire/json.h). Blank lines and lines starting
 * with `#` are ignored; a UTF-8 byte order mark before the first line is
 * allowed. The report carries its own revision. Each line that does not
 * parse is one error naming its field.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/format.h"
#include "wire/json.h"

/* Longest line read; the rest of a longer line is discarded and the line is an error. */
#define JSON_LINE_MAX (1024 * 1024)

/*
 * Reads one line without its end into buf (cap bytes). Returns its length,
 * or -1 at the end of the input with nothing read. *too_long is set when
 * the line did not fit; what did not fit is read and dropped.
 */
static long
line_read(FILE *in, char *buf, size_t cap, bool *too_long)
{
	size_t len = 0;
	int c;
	*too_long = false;
	while ((c = getc_unlocked(in)) != EOF && c != '\n') {
		if (len < cap)
			buf[len++] = (char)c;
		else
			*too_long = true;
	}
	if (c == EOF && len == 0 && !*too_long)
		return -1;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	return (long)len;
}

/* Whether a line holds nothing to translate: blank, or a comment. */
static bool
line_ignored(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i == len || s[i] == '#';
}

static int
json_emit_line(const struct format_input *input, uint64_t line, const char *s, size_t len)
{
	char why[256];
	struct format_record rec = {.record = line};
	ProtobufCMessage *m =
	    wire_from_json_text(&est__v1__report__descriptor, s, len, why, sizeof why);
	if (m == NULL) {
		rec.kind = FORMAT_ERROR;
		rec.reason = why;
		return input->emit(input->arg, &rec);
	}
	rec.kind = FORMAT_REPORT;
	rec.report = (Est__V1__Report *)m;
	int rc = input->emit(input->arg, &rec);
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

static int
json_read(const struct format_input *input, char *err, size_t errlen)
{
	int rc = 0;
	char *buf = malloc(JSON_LINE_MAX);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	bool too_long;
	long len;
	for (uint64_t line = 1;
	     rc == 0 && (len = line_read(input->in, buf, JSON_LINE_MAX, &too_long)) >= 0; line++) {
		char *s = buf;
		if (line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			s += 3;
			len -= 3;
		}
		if (too_long) {
			struct format_record rec = {.kind = FORMAT_ERROR,
			                            .record = line,
			                            .reason = "line longer than 1048576 bytes"};
			rc = input->emit(input->arg, &rec);
		} else if (!line_ignored(s, (size_t)len)) {
			rc = json_emit_line(input, line, s, (size_t)len);
		}
	}
	if (rc == 0 && ferror(input->in)) {
		snprintf(err, errlen, "cannot read %s: %s", input->name, strerror(errno));
		rc = -1;
	}
	free(buf);
	return rc;
}

const struct format format_json = {
    .name = "json",
    .summary = "one est.v1.Report a line (protobuf JSON), own revisions",
    .own_revision = true,
    .read = json_read,
};
