/* SPDX-License-Identifier: Apache-2.0 */
/*
 * summary: the plain-text line of one log entry (see summary.h). Each body
 * kind has its own short form; texts from partners are cleaned of control
 * characters and cut on a character boundary, so what a working group sees
 * is always one readable line.
 */
#include "summary.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "wire/codec.h"
#include "wire/crypto.h"
#include "wire/ids.h"
#include "wire/timefmt.h"

/* A line being built: appends never overflow and always leave it terminated. */
struct line {
	char *buf;
	size_t cap;
	size_t len;
	const struct line_words *w;
};

/* Bytes in the UTF-8 sequence that starts with byte c (1 for a stray byte). */
static size_t
utf8_len(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/* Drops a character that a cut left incomplete at the end of l. */
static void
line_trim(struct line *l)
{
	if (l->len == 0)
		return;
	size_t i = l->len - 1;
	while (i > 0 && ((unsigned char)l->buf[i] & 0xc0) == 0x80)
		i--;
	if (utf8_len((unsigned char)l->buf[i]) > l->len - i) {
		l->len = i;
		l->buf[i] = '\0';
	}
}

static void line_printf(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
line_printf(struct line *l, const char *fmt, ...)
{
	if (l->len + 1 >= l->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, l->cap - l->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		l->buf[l->len] = '\0';
	} else if ((size_t)n < l->cap - l->len) {
		l->len += (size_t)n;
	} else {
		l->len = l->cap - 1;
		line_trim(l);
	}
}

/*
 * Appends text, at most max_chars characters of it ("…" marks a cut), with
 * control characters as spaces. A character that does not fit whole is
 * left out, so the line never ends inside one.
 */
static void
line_text(struct line *l, const char *text, size_t max_chars)
{
	if (text == NULL)
		return;
	size_t len = strlen(text);
	if (!ids_utf8_valid(text, len)) {
		line_printf(l, "%s", l->w->invalid_text);
		return;
	}
	size_t chars = 0;
	for (size_t i = 0; i < len; chars++) {
		size_t n = utf8_len((unsigned char)text[i]);
		if (chars == max_chars) {
			line_printf(l, "…");
			return;
		}
		if (l->len + n >= l->cap)
			return;
		unsigned char c = (unsigned char)text[i];
		if (n == 1 && (c < 0x20 || c == 0x7f))
			l->buf[l->len] = ' ';
		else
			memcpy(l->buf + l->len, text + i, n);
		l->len += n;
		l->buf[l->len] = '\0';
		i += n;
	}
}

/* Appends the name of enum value v without prefix, in lower case ("in_progress"). */
static void
line_enum(struct line *l, const ProtobufCEnumDescriptor *d, const char *prefix, int v)
{
	const char *name = wire_enum_name(d, v);
	if (name == NULL) {
		line_printf(l, "%d", v);
		return;
	}
	size_t plen = strlen(prefix);
	if (strncmp(name, prefix, plen) == 0)
		name += plen;
	for (; *name && l->len + 1 < l->cap; name++) {
		char c = *name;
		l->buf[l->len++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	l->buf[l->len] = '\0';
}

static void
line_time(struct line *l, int64_t unix_s)
{
	char when[32];
	timefmt_local(unix_s, when, sizeof when);
	line_printf(l, "%s", when);
}

static bool
set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/*
 * A revision this large is an update time, not a count: a format that
 * carries one (Open311's updated_datetime, adapters/open311) numbers its
 * revisions by it in Unix seconds, and 10^9 is 2001-09-09, far beyond any
 * count of corrections. Shown as the time it is.
 */
#define REVISION_IS_TIME 1000000000u

/* vandalism/graffiti hageby "Hageby centrum" observerad 2026-11-20 21:40: Klotter på fasad */
static void
line_report(struct line *l, const Est__V1__Report *r)
{
	if (r->withdrawn)
		line_printf(l, "%s", l->w->withdrawn);
	line_enum(l, &est__v1__category__descriptor, "CATEGORY_", (int)r->category);
	if (set(r->subcategory)) {
		line_printf(l, "/");
		line_text(l, r->subcategory, 40);
	}
	if (set(r->area)) {
		line_printf(l, " ");
		line_text(l, r->area, IDS_TOPIC_MAX);
	}
	if (set(r->place)) {
		line_printf(l, " \"");
		line_text(l, r->place, 60);
		line_printf(l, "\"");
	}
	if (r->observed_at != 0) {
		line_printf(l, " %s ", l->w->observed);
		line_time(l, r->observed_at);
	}
	if (r->starts_at != 0) {
		line_printf(l, " %s ", l->w->from);
		line_time(l, r->starts_at);
	}
	if (r->revision >= REVISION_IS_TIME) {
		line_printf(l, " (%s ", l->w->updated);
		line_time(l, (int64_t)r->revision);
		line_printf(l, ")");
	} else if (r->revision > 0) {
		line_printf(l, " (rev %u)", (unsigned)r->revision);
	}
	if (set(r->description)) {
		line_printf(l, ": ");
		line_text(l, r->description, SUMMARY_TEXT_CHARS);
	}
}

/* åtgärd m-12 lighting hageby situational in_progress police: Ny belysning */
static void
line_measure(struct line *l, const Est__V1__Measure *m)
{
	line_printf(l, "%s ", l->w->measure);
	line_text(l, set(m->measure_id) ? m->measure_id : "-", 40);
	line_printf(l, " ");
	line_enum(l, &est__v1__measure_kind__descriptor, "MEASURE_KIND_", (int)m->kind);
	if (set(m->area)) {
		line_printf(l, " ");
		line_text(l, m->area, IDS_TOPIC_MAX);
	}
	if (m->group != EST__V1__WORKING_GROUP__GROUP_UNSPECIFIED) {
		line_printf(l, " ");
		line_enum(l, &est__v1__working_group__descriptor, "GROUP_", (int)m->group);
	}
	line_printf(l, " ");
	line_enum(l, &est__v1__measure_status__descriptor, "MEASURE_STATUS_", (int)m->status);
	if (set(m->assigned_org)) {
		line_printf(l, " ");
		line_text(l, m->assigned_org, IDS_ORG_MAX);
	}
	const char *text = set(m->outcome) ? m->outcome : m->description;
	if (set(text)) {
		line_printf(l, ": ");
		line_text(l, text, SUMMARY_TEXT_CHARS);
	}
}

/* lägesbild 2026-W47 hageby rang 2 prioritet 3,40 t.o.m. seq 120 (a Swedish decimal comma) */
static void
line_picture(struct line *l, const Est__V1__Picture *p)
{
	line_printf(l, "%s ", l->w->picture);
	line_text(l, set(p->week) ? p->week : "-", 16);
	line_printf(l, " ");
	line_text(l, set(p->area) ? p->area : "-", 32);
	if (p->rank > 0)
		line_printf(l, " %s %u", l->w->rank, (unsigned)p->rank);
	char score[32];
	snprintf(score, sizeof score, "%.2f", p->priority_score);
	char *dot = strchr(score, '.');
	if (dot != NULL)
		*dot = l->w->decimal;
	line_printf(l, " %s %s %s %llu", l->w->priority, score, l->w->through_seq,
	            (unsigned long long)p->through_seq);
}

/* kontrollpunkt 120 poster, huvud 1a2b3c4d */
static void
line_checkpoint(struct line *l, const Est__V1__Checkpoint *c)
{
	line_printf(l, "%s %llu %s", l->w->checkpoint, (unsigned long long)c->size, l->w->entries);
	if (c->head_hash.len >= 4) {
		char hex[9];
		crypto_hex(c->head_hash.data, 4, hex);
		line_printf(l, ", %s %s", l->w->head, hex);
	}
}

/* händelse revoke police-adapter: detail */
static void
line_audit(struct line *l, const Est__V1__AuditEvent *a)
{
	line_printf(l, "%s ", l->w->event);
	line_text(l, set(a->action) ? a->action : "-", 40);
	if (set(a->client)) {
		line_printf(l, " ");
		line_text(l, a->client, IDS_NAME_MAX);
	}
	if (set(a->detail)) {
		line_printf(l, ": ");
		line_text(l, a->detail, SUMMARY_TEXT_CHARS);
	}
}

static void
line_body(struct line *l, const Est__V1__LogEntry *e)
{
	switch (e->body_case) {
	case EST__V1__LOG_ENTRY__BODY_REPORT:
		line_report(l, e->report);
		break;
	case EST__V1__LOG_ENTRY__BODY_MEASURE:
		line_measure(l, e->measure);
		break;
	case EST__V1__LOG_ENTRY__BODY_PICTURE:
		line_picture(l, e->picture);
		break;
	case EST__V1__LOG_ENTRY__BODY_CHECKPOINT:
		line_checkpoint(l, e->checkpoint);
		break;
	case EST__V1__LOG_ENTRY__BODY_AUDIT:
		line_audit(l, e->audit);
		break;
	default:
		line_printf(l, "%s", l->w->no_content);
		break;
	}
}

void
summary_line(const Est__V1__LogEntry *e, enum lang lang, char *out, size_t outlen)
{
	struct line l = {.buf = out, .cap = outlen, .len = 0, .w = i18n_line_words(lang)};
	if (outlen == 0)
		return;
	out[0] = '\0';
	line_printf(&l, "%llu ", (unsigned long long)e->seq);
	line_text(&l, set(e->topic) ? e->topic : "-", IDS_TOPIC_MAX);
	line_printf(&l, " ");
	line_text(&l, set(e->org) ? e->org : "-", IDS_ORG_MAX);
	line_printf(&l, " ");
	line_time(&l, e->logged_at);
	line_printf(&l, " ");
	line_body(&l, e);
}
