/* SPDX-License-Identifier: Apache-2.0 */
/*
 * municipality_csv: the `municipality-csv` format, the municipality's weekly
 * report export as Swedish Excel writes it (docs: partner-formats.md). `;`
 * separates the fields, the text is UTF-8 with or without a byte order
 * mark, lines end in CRLF, quoted fields may hold `;`, doubled quotes and
 * line breaks (libcsv parses them, in strict mode), numbers have a decimal
 * comma. A header row names the columns in any order; unknown columns are
 * ignored. Each data row is one report whose locator is the physical line
 * where the row starts; the outbox numbers the revisions.
 *
 * Categories go through the partner's mapping table (mapping.h): the value
 * "kategori/underkategori" is looked up first, then "kategori" alone; when
 * the rule gives no subcategory, the free `underkategori` label, lower-cased,
 * is the subcategory. Area names and SWEREF 99 TM go through geo.h. Times
 * are Europe/Stockholm local time: one in the hour skipped when summer time
 * begins is an error; one in the hour repeated when it ends is taken as its
 * first occurrence (still summer time, UTC+2).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>

#include "runtime/format.h"
#include "runtime/geo.h"
#include "runtime/mapping.h"
#include "runtime/partner.h"
#include "wire/ids.h"
#include "wire/timefmt.h"

/* Caps: the file, one row's bytes and fields, a value quoted back in a reason. */
#define CSV_FILE_MAX   (64L * 1024 * 1024)
#define CSV_ROW_MAX    (1024 * 1024)
#define CSV_FIELDS_MAX 256
#define CSV_BLOCK      (64 * 1024)
#define CSV_ECHO_MAX   40

enum col {
	COL_RAPPORT_ID,
	COL_DATUM,
	COL_TID,
	COL_OMRADE,
	COL_PLATS,
	COL_KATEGORI,
	COL_UNDERKATEGORI,
	COL_BESKRIVNING,
	COL_ANTAL_PERSONER,
	COL_BEDOMNING,
	COL_START,
	COL_SLUT,
	COL_LATITUD,
	COL_LONGITUD,
	COL_SWEREF_N,
	COL_SWEREF_E,
	COL_RAPPORTOR_ROLL,
	COL_COUNT
};

/* The header names, as partner-formats.md spells them; index: enum col. */
static const char *const col_names[COL_COUNT] = {
    "rapport_id", "datum",          "tid",         "omrade",         "plats",
    "kategori",   "underkategori",  "beskrivning", "antal_personer", "bedomning",
    "start",      "slut",           "latitud",     "longitud",       "sweref_n",
    "sweref_e",   "rapportor_roll",
};

static const char refuse_header[] =
    "not a municipality CSV export: no header row with rapport_id, datum, kategori";

/* One file being read: the parser, where it is, the header, the row in hand. */
struct csv_state {
	const struct format_input *input;
	struct csv_parser parser;
	uint64_t line;     /* the physical line being fed, from 1 */
	uint64_t rec_line; /* the line where the open record started; 0 when none is open */
	bool after_cr;     /* the last piece ended in CR: a lone CR ends a line too */
	bool skip_line;    /* after a quoting error: drop the rest of the line */
	bool header_done;
	int col[COL_COUNT]; /* the header position of each column, -1 when absent */
	/* The row in hand: its fields, NUL-terminated one after the other in buf. */
	char *buf;
	size_t len, cap;
	size_t off[CSV_FIELDS_MAX], flen[CSV_FIELDS_MAX];
	size_t n_fields;
	bool row_too_long;
	char empty[1];
	int rc; /* nonzero stops: emit's answer, or -1 with err set */
	char *err;
	size_t errlen;
};

/* One row on its way to a report. */
struct row {
	Est__V1__Report r;
	Est__V1__Position pos;
	char sub[128];
	char area[32];
	char why[256];
	enum format_kind kind;
	const char *field;
	const char *reason;
};

/* ---- Text helpers ---- */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Lower case for ASCII and the Latin-1 letters of UTF-8 (Å Ä Ö É → å ä ö é). */
static void
text_lower(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (unsigned char)(*p + 32);
		else if (p[0] == 0xC3 && p[1] >= 0x80 && p[1] <= 0x9E && p[1] != 0x97)
			p[1] = (unsigned char)(p[1] + 0x20);
	}
}

/*
 * A header name folded for comparison: lower case, å ä ö as a a o, spaces
 * and dashes as underscores ("Område" and "omrade" are one column). "" when
 * it does not fit out.
 */
static void
colname_fold(const char *s, char *out, size_t outlen)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && n + 1 < outlen; p++) {
		unsigned char c = *p;
		if (c == 0xC3 && (p[1] == 0xA5 || p[1] == 0xA4 || p[1] == 0x85 || p[1] == 0x84))
			c = 'a', p++;
		else if (c == 0xC3 && (p[1] == 0xB6 || p[1] == 0x96))
			c = 'o', p++;
		else if (c == ' ' || c == '-')
			c = '_';
		else if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		out[n++] = (char)c;
	}
	out[n] = '\0';
	if (s[0] != '\0' && n + 1 >= outlen)
		out[0] = '\0';
}

/* ---- Numbers ---- */

/*
 * Parses a decimal number as Swedish Excel writes it: a decimal comma or
 * point, spaces or (narrow) no-break spaces between thousands. strtod reads
 * the copy in the "C" locale, which is every program's: none calls
 * setlocale. Only digits, one sign and one point reach strtod, so "inf",
 * "nan" and hexadecimal never do. 0, or -1 when s is not such a number.
 */
static int
decimal_parse(const char *s, double *out)
{
	char buf[64];
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		if (*p == ' ') {
			p++;
			continue;
		}
		if (p[0] == 0xC2 && p[1] == 0xA0) {
			p += 2;
			continue;
		}
		if (p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0xAF) {
			p += 3;
			continue;
		}
		bool ok = (*p >= '0' && *p <= '9') || *p == ',' || *p == '.' ||
		          ((*p == '-' || *p == '+') && n == 0);
		if (!ok || n + 1 >= sizeof buf)
			return -1;
		buf[n++] = *p == ',' ? '.' : (char)*p;
		p++;
	}
	buf[n] = '\0';
	char *end;
	errno = 0;
	double v = strtod(buf, &end);
	if (n == 0 || end != buf + n || errno != 0 || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* A whole number in [min, max] ("15", "1 500", "15,0"). 0, or -1. */
static int
whole_parse(const char *s, double min, double max, uint32_t *out)
{
	double v;
	if (decimal_parse(s, &v) != 0 || v < min || v > max || v != floor(v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* ---- Times ---- */

/* Whether s starts with "YYYY-MM-DD" followed by the end, a space or T. */
static bool
date_shape(const char *s)
{
	for (int i = 0; i < 10; i++) {
		bool dash = i == 4 || i == 7;
		if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return false;
	}
	return s[10] == '\0' || s[10] == ' ' || s[10] == 'T';
}

/*
 * A clock time "H:MM", "HH:MM" or "HH:MM:SS" (a point may stand for the
 * colon, as in "21.40") into out as "HH:MM:SS". 0, or -1.
 */
static int
clock_shape(const char *s, char out[9])
{
	size_t h = (s[0] >= '0' && s[0] <= '9') ? ((s[1] >= '0' && s[1] <= '9') ? 2 : 1) : 0;
	const char *p = s + h;
	if (h == 0 || (*p != ':' && *p != '.') || p[1] < '0' || p[1] > '9' || p[2] < '0' ||
	    p[2] > '9')
		return -1;
	char sec[2] = {'0', '0'};
	if (p[3] == ':' || p[3] == '.') {
		if (p[4] < '0' || p[4] > '5' || p[5] < '0' || p[5] > '9' || p[6] != '\0')
			return -1;
		sec[0] = p[4], sec[1] = p[5];
	} else if (p[3] != '\0') {
		return -1;
	}
	snprintf(out, 9, "%s%.*s:%c%c:%c%c", h == 1 ? "0" : "", (int)h, s, p[1], p[2], sec[0],
	         sec[1]);
	return 0;
}

/*
 * The local Europe/Stockholm time of date (its first 10 bytes) and clock
 * into *out, or the reason it is none (*in_date: the date is at fault).
 * timefmt_parse leaves the summer-time edges to mktime, which moves a time
 * of the skipped March hour to another hour and takes either occurrence of
 * one in the repeated October hour; both are decided here by reading the
 * result back.
 */
static const char *
local_time(const char *date, const char *clock, int64_t *out, bool *in_date)
{
	char day[16], hms[9], text[32], back[32], err[160];
	int64_t t;
	*in_date = true;
	snprintf(day, sizeof day, "%.10s", date);
	if (!date_shape(date) || timefmt_parse(day, &t, err, sizeof err) != 0)
		return "not a date (YYYY-MM-DD)";
	*in_date = false;
	if (clock_shape(clock, hms) != 0)
		return "not a time of day (HH:MM)";
	snprintf(text, sizeof text, "%s %s", day, hms);
	if (timefmt_parse(text, &t, err, sizeof err) != 0)
		return "not a time of day (HH:MM)";
	timefmt_local(t, back, sizeof back);
	if (strncmp(back, text, 16) != 0)
		return "does not exist in Europe/Stockholm (the hour skipped when summer time "
		       "begins)";
	timefmt_local(t - 3600, back, sizeof back);
	if (strncmp(back, text, 16) == 0)
		t -= 3600; /* the repeated hour: its first occurrence, summer time */
	*out = t;
	return NULL;
}

/* ---- The row in hand ---- */

static char *
cell(struct csv_state *st, enum col c)
{
	int i = st->col[c];
	if (i < 0 || (size_t)i >= st->n_fields)
		return st->empty;
	return st->buf + st->off[i];
}

static bool
has(struct csv_state *st, enum col c)
{
	return cell(st, c)[0] != '\0';
}

static int
row_fail(struct row *row, const char *field, const char *reason)
{
	row->kind = FORMAT_ERROR;
	row->field = field;
	row->reason = reason;
	return -1;
}

/* A column we read must be UTF-8 text without NUL bytes. */
static int
row_utf8_col(struct csv_state *st, struct row *row, enum col c)
{
	int i = st->col[c];
	if (i < 0 || (size_t)i >= st->n_fields)
		return 0;
	const char *s = st->buf + st->off[i];
	if (strlen(s) != st->flen[i])
		return row_fail(row, col_names[c], "holds a NUL byte");
	if (!ids_utf8_valid(s, st->flen[i]))
		return row_fail(row, col_names[c], "not UTF-8 text (export as \"CSV UTF-8\")");
	return 0;
}

static int
row_utf8(struct csv_state *st, struct row *row)
{
	for (int c = 0; c < COL_COUNT; c++)
		if (row_utf8_col(st, row, (enum col)c) != 0)
			return -1;
	return 0;
}

/* Writes "what \"value\"" or, for a long value, "what this value" into row->why. */
static const char *
row_echo(struct row *row, const char *what, const char *value)
{
	if (strlen(value) <= CSV_ECHO_MAX)
		snprintf(row->why, sizeof row->why, "%s \"%s\"", what, value);
	else
		snprintf(row->why, sizeof row->why, "%s this value", what);
	return row->why;
}

/* The mapping rule of the row: "kategori/underkategori" first, then "kategori". */
static enum mapping_action
row_lookup(struct csv_state *st, Est__V1__Category *category, const char **sub)
{
	const char *kat = cell(st, COL_KATEGORI), *under = cell(st, COL_UNDERKATEGORI);
	char both[256];
	/* Only a rule of its own: the default rule ("*") is for kategori alone. */
	if (under[0] != '\0' &&
	    (size_t)snprintf(both, sizeof both, "%s/%s", kat, under) < sizeof both &&
	    mapping_has(st->input->map, both))
		return mapping_lookup(st->input->map, both, category, sub);
	return mapping_lookup(st->input->map, kat, category, sub);
}

static int
row_category(struct csv_state *st, struct row *row)
{
	Est__V1__Category category = EST__V1__CATEGORY__CATEGORY_UNSPECIFIED;
	const char *sub = "";
	char *kat = cell(st, COL_KATEGORI), *under = cell(st, COL_UNDERKATEGORI);
	partner_text_one_line(kat);
	partner_text_one_line(under);
	if (kat[0] == '\0')
		return row_fail(row, "kategori", "missing");
	enum mapping_action a = row_lookup(st, &category, &sub);
	if (a == MAP_SKIP) {
		row->kind = FORMAT_SKIPPED;
		row->reason = row_echo(row, "not EST's business by the mapping rule for", kat);
		return -1;
	}
	if (a != MAP_REPORT)
		return row_fail(row, "kategori", row_echo(row, "no mapping rule for", kat));
	row->r.category = category;
	if (sub[0] == '\0') {
		text_lower(under);
		sub = under;
	}
	if ((size_t)snprintf(row->sub, sizeof row->sub, "%s", sub) >= sizeof row->sub)
		return row_fail(row, "underkategori", "longer than 127 bytes");
	row->r.subcategory = row->sub;
	return 0;
}

static int
row_times(struct csv_state *st, struct row *row)
{
	const char *datum = cell(st, COL_DATUM), *tid = cell(st, COL_TID), *why;
	bool in_date;
	if (datum[0] == '\0')
		return row_fail(row, "datum", "missing");
	if (tid[0] == '\0') {
		/* A date-and-time cell ("2026-11-23 21:40") may stand without tid. */
		if (!date_shape(datum) || datum[10] == '\0')
			return row_fail(row, "tid", "missing");
		tid = datum + 11;
	}
	if ((why = local_time(datum, tid, &row->r.observed_at, &in_date)) != NULL)
		return row_fail(row, in_date ? "datum" : "tid", why);
	static const enum col span_col[] = {COL_START, COL_SLUT};
	int64_t *at[] = {&row->r.starts_at, &row->r.ends_at};
	for (size_t i = 0; i < 2; i++) {
		const char *s = cell(st, span_col[i]), *name = col_names[span_col[i]];
		if (s[0] == '\0')
			continue;
		if (!date_shape(s) || s[10] == '\0')
			return row_fail(row, name, "not a date and time (YYYY-MM-DD HH:MM)");
		if ((why = local_time(s, s + 11, at[i], &in_date)) != NULL)
			return row_fail(row, name, why);
	}
	if (row->r.starts_at && row->r.ends_at && row->r.ends_at < row->r.starts_at)
		return row_fail(row, "slut", "before start");
	return 0;
}

/* A pair of coordinate columns: 0 and both parsed, 1 when both are empty, -1 an error. */
static int
row_pair(struct csv_state *st, struct row *row, enum col a, enum col b, double *va, double *vb)
{
	if (!has(st, a) && !has(st, b))
		return 1;
	if (!has(st, a) || !has(st, b)) {
		enum col given = has(st, a) ? a : b, missing = has(st, a) ? b : a;
		snprintf(row->why, sizeof row->why, "missing, while %s is given", col_names[given]);
		return row_fail(row, col_names[missing], row->why);
	}
	if (decimal_parse(cell(st, a), va) != 0)
		return row_fail(row, col_names[a], "not a number");
	if (decimal_parse(cell(st, b), vb) != 0)
		return row_fail(row, col_names[b], "not a number");
	return 0;
}

/* The position from latitud/longitud, else from sweref_n/sweref_e. */
static int
row_position(struct csv_state *st, struct row *row)
{
	double lat, lon, north, east;
	int rc = row_pair(st, row, COL_LATITUD, COL_LONGITUD, &lat, &lon);
	const char *field = "latitud";
	if (rc < 0)
		return -1;
	if (rc > 0) {
		rc = row_pair(st, row, COL_SWEREF_N, COL_SWEREF_E, &north, &east);
		if (rc != 0)
			return rc;
		char err[160];
		field = "sweref_n";
		if (geo_sweref_to_wgs84(st->input->geo, north, east, &lat, &lon, err, sizeof err) !=
		    0)
			return row_fail(row, field, "not a SWEREF 99 TM position in Sweden");
	}
	if (!geo_in_sweden(lat, lon))
		return row_fail(row, field, "the position lies outside Sweden");
	row->pos.lat = lat;
	row->pos.lon = lon;
	row->r.position = &row->pos;
	return 0;
}

static int
row_where(struct csv_state *st, struct row *row)
{
	char *omrade = cell(st, COL_OMRADE);
	partner_text_one_line(omrade);
	if (omrade[0] != '\0') {
		const char *id = geo_area_id(st->input->geo, omrade);
		if (id == NULL)
			return row_fail(row, "omrade",
			                row_echo(row, "no EST area is called", omrade));
		snprintf(row->area, sizeof row->area, "%s", id);
		row->r.area = row->area;
	}
	int rc = row_position(st, row);
	if (rc < 0)
		return -1;
	if (rc > 0 && omrade[0] == '\0')
		return row_fail(row, "omrade",
		                "missing, and no latitud/longitud or sweref_n/sweref_e: the "
		                "report cannot be placed");
	return 0;
}

static int
row_numbers(struct csv_state *st, struct row *row)
{
	if (has(st, COL_ANTAL_PERSONER) &&
	    whole_parse(cell(st, COL_ANTAL_PERSONER), 0, 1e9, &row->r.people_count) != 0)
		return row_fail(row, "antal_personer", "not a whole number of people");
	if (has(st, COL_BEDOMNING) &&
	    whole_parse(cell(st, COL_BEDOMNING), 1, 5, &row->r.severity) != 0)
		return row_fail(row, "bedomning", "not an assessment from 1 to 5");
	return 0;
}

static void
row_texts(struct csv_state *st, struct row *row)
{
	char *plats = cell(st, COL_PLATS), *roll = cell(st, COL_RAPPORTOR_ROLL);
	char *text = cell(st, COL_BESKRIVNING);
	partner_text_one_line(plats);
	partner_text_one_line(roll);
	partner_text_multi_line(text);
	row->r.place = plats;
	row->r.reporter_role = roll;
	row->r.description = text;
}

/* Translates the row in hand into row (kind, report or error). */
static void
row_translate(struct csv_state *st, struct row *row)
{
	est__v1__report__init(&row->r);
	est__v1__position__init(&row->pos);
	row->kind = FORMAT_REPORT;
	if (st->row_too_long) {
		row_fail(row, NULL, "record longer than 1048576 bytes");
		return;
	}
	if (row_utf8_col(st, row, COL_RAPPORT_ID) != 0)
		return;
	char *id = cell(st, COL_RAPPORT_ID);
	partner_text_one_line(id);
	if (id[0] == '\0') {
		row_fail(row, "rapport_id", "missing");
		return;
	}
	row->r.source_id = id;
	if (row_utf8(st, row) || row_category(st, row) || row_times(st, row) ||
	    row_where(st, row) || row_numbers(st, row))
		return;
	row_texts(st, row);
}

/* Whether every field of the row in hand is empty (Excel writes ";;;;" for a blank row). */
static bool
row_blank(const struct csv_state *st)
{
	for (size_t i = 0; i < st->n_fields; i++)
		if (st->flen[i] != 0)
			return false;
	return !st->row_too_long;
}

static int
row_emit(struct csv_state *st)
{
	struct row row;
	memset(&row, 0, sizeof row);
	row_translate(st, &row);
	struct format_record rec = {
	    .kind = row.kind, .record = st->rec_line, .field = row.field, .reason = row.reason};
	if (row.kind == FORMAT_REPORT)
		rec.report = &row.r;
	else if (row.r.source_id != NULL && row.r.source_id[0] != '\0')
		rec.source_id = row.r.source_id;
	return st->input->emit(st->input->arg, &rec);
}

/* ---- The header ---- */

static int
refuse(struct csv_state *st, const char *reason)
{
	snprintf(st->err, st->errlen, "%s: %s", st->input->name, reason);
	st->rc = -1;
	return -1;
}

/* Why the header row lacks a required column, as helpfully as can be said. */
static int
header_refuse(struct csv_state *st)
{
	const char *first = st->n_fields ? st->buf : "";
	if (st->n_fields == 1 && (strchr(first, ',') || strchr(first, '\t')))
		return refuse(st, "not a municipality CSV export: the header row is not "
		                  "separated by ';'");
	return refuse(st, refuse_header);
}

/* Whether the header row is UTF-8: another encoding would garble every row after it. */
static bool
header_utf8(const struct csv_state *st)
{
	for (size_t i = 0; i < st->n_fields; i++)
		if (!ids_utf8_valid(st->buf + st->off[i], st->flen[i]))
			return false;
	return true;
}

static int
header_read(struct csv_state *st)
{
	/* Excel reads, and some exports write, a first line "sep=;" (two fields for libcsv). */
	if (st->n_fields <= 2 && strncasecmp(st->buf, "sep=", 4) == 0 &&
	    (st->n_fields == 1 || st->flen[1] == 0))
		return 0;
	if (!header_utf8(st))
		return refuse(st, "not a municipality CSV export: the header row is not UTF-8 "
		                  "text (export as \"CSV UTF-8\")");
	for (size_t i = 0; i < st->n_fields; i++) {
		char name[64];
		colname_fold(st->buf + st->off[i], name, sizeof name);
		for (int c = 0; c < COL_COUNT; c++) {
			if (strcmp(name, col_names[c]) != 0)
				continue;
			if (st->col[c] >= 0) {
				char why[128];
				snprintf(why, sizeof why,
				         "column %s appears twice in the header row", col_names[c]);
				return refuse(st, why);
			}
			st->col[c] = (int)i;
		}
	}
	if (st->col[COL_RAPPORT_ID] < 0 || st->col[COL_DATUM] < 0 || st->col[COL_KATEGORI] < 0)
		return header_refuse(st);
	st->header_done = true;
	return 0;
}

/* ---- libcsv's callbacks and the feed ---- */

static void
row_clear(struct csv_state *st)
{
	st->len = 0;
	st->n_fields = 0;
	st->row_too_long = false;
	st->rec_line = 0;
}

/* Appends len bytes and a NUL to the row buffer. 0, or -1 out of memory. */
static int
row_append(struct csv_state *st, const char *s, size_t len)
{
	if (st->len + len + 1 > st->cap) {
		size_t cap = st->cap ? st->cap : 1024;
		while (cap < st->len + len + 1)
			cap *= 2;
		char *b = realloc(st->buf, cap);
		if (b == NULL)
			return -1;
		st->buf = b;
		st->cap = cap;
	}
	if (len > 0)
		memcpy(st->buf + st->len, s, len);
	st->buf[st->len + len] = '\0';
	st->len += len + 1;
	return 0;
}

/* libcsv: one field ends. Stored without surrounding blanks. */
static void
field_cb(void *data, size_t len, void *arg)
{
	struct csv_state *st = arg;
	const char *s = data;
	if (st->rc != 0 || st->n_fields >= CSV_FIELDS_MAX)
		return;
	while (len > 0 && is_blank(s[0]))
		s++, len--;
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	if (st->len + len >= CSV_ROW_MAX) {
		st->row_too_long = true;
		len = 0;
	}
	st->off[st->n_fields] = st->len;
	st->flen[st->n_fields] = len;
	if (row_append(st, s, len) != 0) {
		refuse(st, "out of memory");
		return;
	}
	st->n_fields++;
}

/* libcsv: one record ends (at its line end, or at the end of the file). */
static void
row_cb(int c, void *arg)
{
	struct csv_state *st = arg;
	(void)c;
	if (st->rc == 0) {
		if (!st->header_done)
			header_read(st);
		else if (!row_blank(st))
			st->rc = row_emit(st);
	}
	row_clear(st);
}

static int
parser_start(struct csv_state *st)
{
	if (csv_init(&st->parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return refuse(st, "out of memory");
	csv_set_delim(&st->parser, ';');
	return 0;
}

/* A quoting error in the record in hand: reported, and the parser starts afresh. */
static void
parser_error(struct csv_state *st, const char *reason)
{
	if (st->header_done) {
		struct format_record rec = {.kind = FORMAT_ERROR,
		                            .record = st->rec_line ? st->rec_line : st->line,
		                            .reason = reason};
		st->rc = st->input->emit(st->input->arg, &rec);
	} else {
		refuse(st, refuse_header);
	}
	row_clear(st);
	csv_free(&st->parser);
	if (st->rc == 0)
		parser_start(st);
}

static bool
has_content(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_blank(p[i]) && p[i] != '\r' && p[i] != '\n')
			return true;
	return false;
}

/* Feeds one piece: the bytes up to and including a CR or LF, or the last bytes of a block. */
static void
csv_piece(struct csv_state *st, const char *p, size_t n)
{
	char last = p[n - 1];
	if (st->after_cr && p[0] != '\n')
		st->line++;
	st->after_cr = false;
	if (st->skip_line) {
		st->skip_line = last != '\r' && last != '\n';
	} else {
		if (st->rec_line == 0 && has_content(p, n))
			st->rec_line = st->line;
		size_t used = csv_parse(&st->parser, p, n, field_cb, row_cb, st);
		if (st->rc == 0 && csv_error(&st->parser) == CSV_EPARSE) {
			parser_error(st, "badly quoted field: a quote inside an unquoted field, "
			                 "or text after a closing quote");
			st->skip_line = last != '\r' && last != '\n';
		} else if (st->rc == 0 && used < n) {
			refuse(st, "out of memory");
		}
	}
	if (last == '\n')
		st->line++;
	else if (last == '\r')
		st->after_cr = true;
}

/*
 * Feeds a block in pieces that end after each CR or LF, so a record never
 * ends inside a piece and the line where each one starts is known before
 * libcsv sees it.
 */
static void
csv_feed(struct csv_state *st, const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && st->rc == 0) {
		size_t j = i;
		while (j < n && p[j] != '\r' && p[j] != '\n')
			j++;
		if (j < n)
			j++;
		csv_piece(st, p + i, j - i);
		i = j;
	}
}

/* What the first bytes say of the file: a refusal, or how many bytes of BOM to skip. */
static int
csv_sniff(struct csv_state *st, const char *p, size_t n, size_t *skip)
{
	*skip = 0;
	if (n >= 2 && ((p[0] == '\xFF' && p[1] == '\xFE') || (p[0] == '\xFE' && p[1] == '\xFF')))
		return refuse(st, "not a municipality CSV export: UTF-16 text (export as \"CSV "
		                  "UTF-8\")");
	if (n >= 4 && memcmp(p, "PK\x03\x04", 4) == 0)
		return refuse(st, "not a municipality CSV export: a ZIP file, such as an Excel "
		                  "workbook (save as \"CSV UTF-8\")");
	/* A NUL byte in the first line: binary, not text (later ones are errors of a field). */
	for (size_t i = 0; i < n && p[i] != '\r' && p[i] != '\n'; i++)
		if (p[i] == '\0')
			return refuse(st, "not a municipality CSV export: not a text file");
	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		*skip = 3;
	return 0;
}

static void
csv_finish(struct csv_state *st)
{
	if (st->skip_line)
		return;
	if (csv_fini(&st->parser, field_cb, row_cb, st) != 0 && st->rc == 0)
		parser_error(st, "a quoted field is not closed before the end of the file");
	if (st->rc == 0 && !st->header_done)
		refuse(st, refuse_header);
}

static void
csv_run(struct csv_state *st, char *block)
{
	long total = 0;
	size_t n;
	while (st->rc == 0 && (n = fread(block, 1, CSV_BLOCK, st->input->in)) > 0) {
		size_t skip = 0;
		if (total == 0 && csv_sniff(st, block, n, &skip) != 0)
			return;
		total += (long)n;
		if (total > CSV_FILE_MAX) {
			refuse(st, "larger than 64 MiB");
			return;
		}
		csv_feed(st, block + skip, n - skip);
	}
	if (st->rc == 0 && ferror(st->input->in)) {
		snprintf(st->err, st->errlen, "cannot read %s: %s", st->input->name,
		         strerror(errno));
		st->rc = -1;
		return;
	}
	if (st->rc == 0)
		csv_finish(st);
}

/*
 * Whether local time is Europe/Stockholm (timefmt_init has set TZ): without
 * it every time of the file would silently be off by an hour or more.
 */
static bool
stockholm_ready(void)
{
	char s[32];
	timefmt_local(1767225600, s, sizeof s); /* 2026-01-01T00:00:00Z */
	return strcmp(s, "2026-01-01 01:00") == 0;
}

static int
csv_read(const struct format_input *input, char *err, size_t errlen)
{
	struct csv_state *st = calloc(1, sizeof *st);
	char *block = malloc(CSV_BLOCK);
	int rc = -1;
	snprintf(err, errlen, "out of memory");
	if (st == NULL || block == NULL)
		goto out;
	if (input->map == NULL || input->geo == NULL) {
		snprintf(err, errlen, "municipality-csv needs a mapping table and geography");
		goto out;
	}
	if (!stockholm_ready()) {
		snprintf(err, errlen,
		         "municipality-csv: local time is not Europe/Stockholm "
		         "(timefmt_init was not called)");
		goto out;
	}
	st->input = input;
	st->err = err;
	st->errlen = errlen;
	st->line = 1;
	for (int c = 0; c < COL_COUNT; c++)
		st->col[c] = -1;
	if (parser_start(st) != 0)
		goto out;
	csv_run(st, block);
	csv_free(&st->parser);
	rc = st->rc;
out:
	if (st)
		free(st->buf);
	free(st);
	free(block);
	return rc;
}

const struct format format_municipality_csv = {
    .name = "municipality-csv",
    .summary = "the municipality's weekly CSV export (Excel: ';', decimal comma)",
    .own_revision = false,
    .read = csv_read,
};
