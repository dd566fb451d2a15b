/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_lines: the `json` format, the hub's own: one est.v1.Report a line in
 * the protobuf JSON mapping (wire/json.h), or a measure update: an
 * est.v1.Measure in the same mapping, told apart by its "measureId" key
 * (docs/measures.md). Blank lines and lines starting with `#` are ignored;
 * a UTF-8 byte order mark before the first line is allowed. The report
 * carries its own revision. Each line that does not parse is one error
 * naming its field.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/format.h"
#include "wire/codec.h"
#include "wire/ids.h"
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

/* The prefix of every MeasureStatus name in the JSON mapping. */
#define STATUS_PREFIX "MEASURE_STATUS_"

/*
 * Accepts the command line's short status ("done", "in_progress") as well
 * as the mapping's enum name, by writing the long name into obj. Returns 0,
 * or -1 with why set when a short name is no measure status. Anything else
 * (the long name, a number, a wrong type) is left for the mapping to judge.
 */
static int
measure_status_long(json_t *obj, char *why, size_t whylen)
{
	const char *s = json_string_value(json_object_get(obj, "status"));
	if (s == NULL || strncmp(s, STATUS_PREFIX, strlen(STATUS_PREFIX)) == 0)
		return 0;
	char name[64] = STATUS_PREFIX;
	size_t n = strlen(name), i;
	for (i = 0; s[i] && n + 1 < sizeof name; i++) {
		if ((s[i] < 'a' || s[i] > 'z') && s[i] != '_')
			break;
		name[n++] = (char)(s[i] - (s[i] == '_' ? 0 : 'a' - 'A'));
	}
	name[n] = '\0';
	/* Only lower-case names are short forms; "unspecified" is no status to set. */
	if (s[i] == '\0' && i > 0 && strcmp(s, "unspecified") != 0 &&
	    protobuf_c_enum_descriptor_get_value_by_name(&est__v1__measure_status__descriptor,
	                                                 name) != NULL)
		return json_object_set_new(obj, "status", json_string(name)) == 0 ? 0 : -1;
	snprintf(why, whylen,
	         "status: not a measure status (proposed, decided, in_progress, done, cancelled, "
	         "or MEASURE_STATUS_DONE and the like)");
	return -1;
}

/* What an update must say that the mapping cannot check; NULL when it is fine. */
static const char *
measure_problem(const Est__V1__Measure *m)
{
	if (m->measure_id[0] == '\0')
		return "measureId: required (the id the hub gave the measure, e.g. m3)";
	if (m->status != EST__V1__MEASURE_STATUS__MEASURE_STATUS_UNSPECIFIED &&
	    !wire_enum_known(&est__v1__measure_status__descriptor, (int)m->status))
		return "status: not a known measure status";
	if (m->status == EST__V1__MEASURE_STATUS__MEASURE_STATUS_UNSPECIFIED &&
	    m->outcome[0] == '\0')
		return "status: a measure update needs a new status or an outcome";
	return NULL;
}

/* A line with a "measureId" key: a measure update. */
static int
json_emit_measure(const struct format_input *input, uint64_t line, json_t *obj)
{
	char why[256];
	struct format_record rec = {.kind = FORMAT_ERROR, .record = line, .reason = why};
	json_t *jid = json_object_get(obj, "measureId");
	if (jid == NULL)
		jid = json_object_get(obj, "measure_id");
	/* Named in the error only when it is a clean id (no NUL inside, UTF-8, short). */
	const char *id = json_string_value(jid);
	if (id && id[0] && strlen(id) == json_string_length(jid) && strlen(id) <= 64 &&
	    ids_utf8_valid(id, strlen(id)))
		rec.source_id = id;
	if (measure_status_long(obj, why, sizeof why) != 0)
		return input->emit(input->arg, &rec);
	ProtobufCMessage *m = wire_from_json(&est__v1__measure__descriptor, obj, why, sizeof why);
	if (m == NULL)
		return input->emit(input->arg, &rec);
	const char *problem = measure_problem((const Est__V1__Measure *)m);
	if (problem != NULL) {
		rec.reason = problem;
	} else {
		rec.kind = FORMAT_MEASURE;
		rec.measure = (Est__V1__Measure *)m;
	}
	int rc = input->emit(input->arg, &rec);
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

/* Whether obj is a measure update: it has the Measure's id key. */
static bool
json_is_measure(const json_t *obj)
{
	return json_is_object(obj) && (json_object_get(obj, "measureId") != NULL ||
	                               json_object_get(obj, "measure_id") != NULL);
}

static int
json_emit_line(const struct format_input *input, uint64_t line, const char *s, size_t len)
{
	char why[256];
	struct format_record rec = {.kind = FORMAT_ERROR, .record = line, .reason = why};
	/* The flags of wire_from_json_text: NUL is allowed so that the reader can name the field.
	 */
	json_error_t je;
	json_t *j =
	    json_loadb(s, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (j == NULL) {
		wire_json_error(&je, why, sizeof why);
		return input->emit(input->arg, &rec);
	}
	if (json_is_measure(j)) {
		int rc = json_emit_measure(input, line, j);
		json_decref(j);
		return rc;
	}
	ProtobufCMessage *m = wire_from_json(&est__v1__report__descriptor, j, why, sizeof why);
	json_decref(j);
	if (m == NULL)
		return input->emit(input->arg, &rec);
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
    .summary = "one est.v1.Report or measure update a line (protobuf JSON), own revisions",
    .own_revision = true,
    .read = json_read,
};
