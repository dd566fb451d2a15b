/* SPDX-License-Identifier: Apache-2.0 */
/* partner: the JSON reading and text cleaning every translator shares (see partner.h). */
#include "runtime/partner.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/mapping.h"

/* Longest partner value quoted back in a reason (partner_echo). */
#define PARTNER_ECHO_MAX 40

/* The file as jansson reads it: capped, without a byte order mark. */
struct source {
	FILE *in;
	long total;
	bool started, too_big;
};

static size_t
source_read(void *buf, size_t len, void *arg)
{
	struct source *s = arg;
	size_t n;
	do {
		n = fread(buf, 1, len, s->in);
		if (n == 0)
			return ferror(s->in) ? (size_t)-1 : 0;
		if (!s->started && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
			memmove(buf, (char *)buf + 3, n - 3);
			n -= 3;
		}
		s->started = true;
	} while (n == 0);
	s->total += (long)n;
	if (s->total > PARTNER_FILE_MAX) {
		s->too_big = true;
		return (size_t)-1;
	}
	return n;
}

json_t *
partner_json_array(const struct format_input *input, const char *not_what, const char *items,
                   char *err, size_t errlen)
{
	struct source src = {.in = input->in};
	json_error_t je;
	json_t *root =
	    json_load_callback(source_read, &src, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (root == NULL) {
		/* jansson quotes the text near the error: it may be personal data. */
		char *near = strstr(je.text, " near ");
		if (near)
			*near = '\0';
		if (src.too_big)
			snprintf(err, errlen, "%s: larger than 64 MiB", input->name);
		else if (ferror(input->in))
			snprintf(err, errlen, "cannot read %s: %s", input->name, strerror(errno));
		else
			snprintf(err, errlen, "%s: %s: not JSON (line %d, column %d: %s)",
			         input->name, not_what, je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_array(root)) {
		snprintf(err, errlen, "%s: %s: expected a JSON array of %s", input->name, not_what,
		         items);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* One item: a fresh record, translated, emitted, its texts freed. The emit's answer. */
static int
rec_emit(const struct format_input *input, uint64_t index, const json_t *o,
         partner_translate_fn translate, bool *no_memory)
{
	struct partner_rec rec;
	memset(&rec, 0, sizeof rec);
	est__v1__report__init(&rec.r);
	est__v1__position__init(&rec.pos);
	rec.kind = FORMAT_REPORT;
	if (json_is_object(o))
		translate(&rec, input, o);
	else
		partner_fail(&rec, NULL, "not a JSON object");
	int rc = 0;
	*no_memory = rec.no_memory;
	if (!rec.no_memory) {
		struct format_record out = {
		    .kind = rec.kind, .record = index, .field = rec.field, .reason = rec.reason};
		if (rec.kind == FORMAT_REPORT)
			out.report = &rec.r;
		else if (rec.r.source_id[0] != '\0')
			out.source_id = rec.r.source_id;
		rc = input->emit(input->arg, &out);
	}
	for (size_t i = 0; i < rec.n_owned; i++)
		free(rec.owned[i]);
	return rc;
}

int
partner_json_each(const struct format_input *input, const char *not_what, const char *items,
                  partner_translate_fn translate, char *err, size_t errlen)
{
	json_t *root = partner_json_array(input, not_what, items, err, errlen);
	if (root == NULL)
		return -1;
	int rc = 0;
	bool no_memory = false;
	size_t i;
	json_t *o;
	json_array_foreach(root, i, o)
	{
		rc = rec_emit(input, (uint64_t)i + 1, o, translate, &no_memory);
		if (no_memory) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
		if (rc != 0)
			break;
	}
	json_decref(root);
	return rc;
}

void
partner_text_one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

void
partner_text_multi_line(char *s)
{
	char *w = s;
	for (const char *p = s; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n')
			continue;
		char c = *p == '\r' ? '\n' : *p;
		if (((unsigned char)c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			c = ' ';
		*w++ = c;
	}
	*w = '\0';
}

/* ---- One item on its way to a report ---- */

int
partner_fail(struct partner_rec *rec, const char *field, const char *reason)
{
	rec->kind = FORMAT_ERROR;
	rec->field = field;
	rec->reason = reason;
	return -1;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *
partner_keep(struct partner_rec *rec, const char *s)
{
	while (is_blank(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	char *c = rec->n_owned < PARTNER_OWNED ? malloc(n + 1) : NULL;
	if (c == NULL) {
		rec->no_memory = true;
		return NULL;
	}
	memcpy(c, s, n);
	c[n] = '\0';
	rec->owned[rec->n_owned++] = c;
	return c;
}

int
partner_member_text(struct partner_rec *rec, const json_t *o, const char *key, const char *field,
                    const char **out)
{
	const json_t *v = json_object_get(o, key);
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return partner_fail(rec, field, "not a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return partner_fail(rec, field, "holds a NUL character");
	*out = json_string_value(v);
	return 0;
}

const char *
partner_echo(struct partner_rec *rec, const char *what, const char *value)
{
	if (strlen(value) <= PARTNER_ECHO_MAX && strpbrk(value, "\r\n\t") == NULL)
		snprintf(rec->why, sizeof rec->why, "%s \"%s\"", what, value);
	else
		snprintf(rec->why, sizeof rec->why, "%s this value", what);
	return rec->why;
}

int
partner_rec_id(struct partner_rec *rec, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return partner_fail(rec, key, "missing");
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return partner_fail(rec, key, "a negative number");
		snprintf(rec->number, sizeof rec->number, "%" JSON_INTEGER_FORMAT,
		         json_integer_value(v));
		rec->r.source_id = rec->number;
		return 0;
	}
	if (json_is_real(v))
		return partner_fail(rec, key, "not a whole number");
	if (!json_is_string(v))
		return partner_fail(rec, key, "not a string or a whole number");
	const char *s;
	if (partner_member_text(rec, o, key, key, &s) != 0)
		return -1;
	char *id = partner_keep(rec, s);
	if (id == NULL)
		return -1;
	partner_text_one_line(id);
	if (id[0] == '\0')
		return partner_fail(rec, key, "missing");
	rec->r.source_id = id;
	return 0;
}

int
partner_rec_category(struct partner_rec *rec, const struct mapping *map, const json_t *o,
                     const char *key)
{
	const char *code, *sub = "";
	Est__V1__Category category = EST__V1__CATEGORY__CATEGORY_UNSPECIFIED;
	if (partner_member_text(rec, o, key, key, &code) != 0)
		return -1;
	if (code == NULL || code[0] == '\0')
		return partner_fail(rec, key, "missing");
	enum mapping_action a = mapping_lookup(map, code, &category, &sub);
	if (a == MAP_SKIP) {
		rec->kind = FORMAT_SKIPPED;
		rec->reason = partner_echo(rec, "not EST's business by the mapping rule for", code);
		return -1;
	}
	if (a != MAP_REPORT)
		return partner_fail(rec, key, partner_echo(rec, "no mapping rule for", code));
	rec->r.category = category;
	snprintf(rec->sub, sizeof rec->sub, "%s", sub);
	rec->r.subcategory = rec->sub;
	return 0;
}
