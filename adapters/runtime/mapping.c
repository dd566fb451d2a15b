/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mapping: category tables (see mapping.h). A table is a short array of
 * rules searched in order: partner tables hold tens of values, not
 * thousands, and a lookup folds both sides as it compares, so nothing is
 * allocated per record. The shipped tables are data at the end of this
 * file, written the way an administrator writes [categories].
 */
#include "runtime/mapping.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/codec.h"
#include "wire/ids.h"

#define CATEGORY_PREFIX "CATEGORY_"

struct rule {
	char *from; /* as given, trimmed */
	char *to;   /* normal form: "skip", "category" or "category/subcategory" */
	enum mapping_action action;
	Est__V1__Category category;
	const char *subcategory; /* points into to, or "" */
	bool is_default;
};

struct mapping {
	struct rule *rules;
	size_t n, cap;
};

/* ---- text folding ---------------------------------------------------- */

/* Code points for bytes that are not UTF-8: outside Unicode, so they equal only themselves. */
#define NOT_UTF8 0x110000u

/* Decodes the code point at *p and steps over it; 0 (not stepping) at the end. */
static uint32_t
utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned len = s[0] < 0x80 ? 1 : s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
	if (s[0] == 0)
		return 0;
	if (len == 1) {
		*p = s + 1;
		return s[0];
	}
	uint32_t c = len == 0 ? 0 : s[0] & (0x7Fu >> len);
	for (unsigned i = 1; i < len; i++) {
		/* A NUL is no continuation byte: never reads past the end. */
		if ((s[i] & 0xC0) != 0x80)
			len = 0;
		else
			c = (c << 6) | (s[i] & 0x3Fu);
	}
	if (len == 0) {
		*p = s + 1;
		return NOT_UTF8 + s[0];
	}
	*p = s + len;
	return c;
}

static bool
is_space(uint32_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0;
}

static bool
is_combining(uint32_t c)
{
	return c >= 0x300 && c <= 0x36F;
}

/* Lower case of ASCII and Latin-1 letters (U+00C0..U+00DE but the multiplication sign). */
static uint32_t
fold_case(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
		return c + 32;
	return c;
}

/* The base letter of a lower-case Latin-1 letter with an accent (U+00E0..U+00FF); 0: none. */
static const char latin1_base[32] = {
    'a', 'a', 'a', 'a', 'a', 'a', 0,   'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
    0,   'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   'y',
};

static uint32_t
fold_accent(uint32_t c)
{
	if (c >= 0xE0 && c <= 0xFF && latin1_base[c - 0xE0] != 0)
		return (uint32_t)(unsigned char)latin1_base[c - 0xE0];
	return c;
}

/* A base letter and a combining mark written as one letter: the Swedish ones and ü. */
static const struct {
	uint32_t base, mark, letter;
} compositions[] = {
    {'a', 0x30A, 0xE5}, /* å */
    {'a', 0x308, 0xE4}, /* ä */
    {'o', 0x308, 0xF6}, /* ö */
    {'e', 0x301, 0xE9}, /* é */
    {'u', 0x308, 0xFC}, /* ü */
};

static uint32_t
compose(uint32_t base, uint32_t mark)
{
	for (size_t i = 0; i < sizeof compositions / sizeof compositions[0]; i++)
		if (compositions[i].base == base && compositions[i].mark == mark)
			return compositions[i].letter;
	return 0;
}

struct fold {
	const unsigned char *p;
	enum mapping_fold how;
};

static void
fold_init(struct fold *f, const char *s, enum mapping_fold how)
{
	f->p = (const unsigned char *)(s ? s : "");
	f->how = how;
	const unsigned char *q = f->p;
	while (is_space(utf8_next(&q)))
		f->p = q;
}

/* The next folded code point: ' ' for a run of inner spaces, 0 at the end (trailing spaces too). */
static uint32_t
fold_next(struct fold *f)
{
	for (;;) {
		uint32_t c = utf8_next(&f->p);
		if (c == 0)
			return 0;
		if (is_space(c)) {
			const unsigned char *q = f->p;
			uint32_t d;
			while (is_space(d = utf8_next(&q)))
				f->p = q;
			return d == 0 ? 0 : ' ';
		}
		if (is_combining(c)) {
			if (f->how == MAPPING_FOLD_ACCENTS)
				continue;
			return c;
		}
		c = fold_case(c);
		if (f->how == MAPPING_FOLD_ACCENTS)
			return fold_accent(c);
		const unsigned char *q = f->p;
		uint32_t letter = compose(c, utf8_next(&q));
		if (letter == 0)
			return c;
		f->p = q;
		return letter;
	}
}

bool
mapping_same(const char *a, const char *b, enum mapping_fold how)
{
	struct fold fa, fb;
	fold_init(&fa, a, how);
	fold_init(&fb, b, how);
	for (;;) {
		uint32_t ca = fold_next(&fa);
		if (ca != fold_next(&fb))
			return false;
		if (ca == 0)
			return true;
	}
}

/* ---- rules ------------------------------------------------------------ */

/* s without surrounding ASCII white space, as a new string; NULL when out of memory. */
static char *
dup_trimmed(const char *s)
{
	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r')))
		n--;
	char *r = malloc(n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

void
mapping_category_names(char *out, size_t outlen)
{
	size_t used = 0;
	out[0] = '\0';
	for (int v = 1; wire_enum_name(&est__v1__category__descriptor, v) != NULL; v++) {
		const char *name = wire_enum_name(&est__v1__category__descriptor, v);
		if (strncmp(name, CATEGORY_PREFIX, strlen(CATEGORY_PREFIX)) == 0)
			name += strlen(CATEGORY_PREFIX);
		for (const char *p = used ? ", " : ""; *p && used + 1 < outlen; p++)
			out[used++] = *p;
		for (; *name && used + 1 < outlen; name++)
			out[used++] = (char)(*name >= 'A' && *name <= 'Z' ? *name + 32 : *name);
		out[used] = '\0';
	}
}

static bool
subcategory_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MAPPING_SUBCATEGORY_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

/* Parses to (trimmed, as a new string in *text) into r. 0, or -1 with the reason. */
static int
rule_parse_to(struct rule *r, char *text, char *err, size_t errlen)
{
	/* The normal form is never longer than the text it comes from: it is written over it. */
	size_t cap = strlen(text) + 1;
	r->to = text;
	if (mapping_same(text, "skip", MAPPING_FOLD_CASE)) {
		snprintf(text, cap, "skip");
		r->action = MAP_SKIP;
		r->category = EST__V1__CATEGORY__CATEGORY_UNSPECIFIED;
		r->subcategory = "";
		return 0;
	}
	char *slash = strchr(text, '/');
	char *sub = slash ? slash + 1 : text + strlen(text);
	if (slash) {
		*slash = '\0';
		while (*sub == ' ' || *sub == '\t')
			sub++;
	}
	size_t n = strlen(text);
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		text[--n] = '\0';
	if (mapping_same(text, "skip", MAPPING_FOLD_CASE)) {
		snprintf(err, errlen, "skip takes no subcategory");
		return -1;
	}
	int v = wire_enum_parse(&est__v1__category__descriptor, CATEGORY_PREFIX, text);
	if (v <= 0) {
		char names[256];
		mapping_category_names(names, sizeof names);
		snprintf(err, errlen, "\"%.64s\" is not a category (%s) or skip", text, names);
		return -1;
	}
	if (slash && !subcategory_valid(sub)) {
		snprintf(err, errlen,
		         "subcategory \"%.64s\" must be 1..%d characters a-z, 0-9, _ or -", sub,
		         MAPPING_SUBCATEGORY_MAX);
		return -1;
	}
	/* The normal form: the category's short name in lower case, then /subcategory. */
	const char *name = wire_enum_name(&est__v1__category__descriptor, v);
	name += strncmp(name, CATEGORY_PREFIX, strlen(CATEGORY_PREFIX)) == 0
	            ? strlen(CATEGORY_PREFIX)
	            : 0;
	char normal[MAPPING_VALUE_MAX];
	size_t len = 0;
	for (; *name && len + 1 < sizeof normal; name++)
		normal[len++] = (char)(*name >= 'A' && *name <= 'Z' ? *name + 32 : *name);
	normal[len] = '\0';
	size_t catlen = len;
	if (slash)
		snprintf(normal + len, sizeof normal - len, "/%s", sub);
	snprintf(text, cap, "%s", normal);
	r->action = MAP_REPORT;
	r->category = (Est__V1__Category)v;
	r->subcategory = slash ? text + catlen + 1 : "";
	return 0;
}

static void
rule_fini(struct rule *r)
{
	free(r->from);
	free(r->to);
	memset(r, 0, sizeof *r);
}

/* Parses one rule into r; 0, or -1 with the reason in err (r then holds nothing). */
static int
rule_parse(struct rule *r, const char *from, const char *to, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	r->from = dup_trimmed(from);
	char *text = dup_trimmed(to);
	if (r->from == NULL || text == NULL) {
		free(text);
		rule_fini(r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t n = strlen(r->from);
	const char *why = n == 0                              ? "the value is empty"
	                  : n > MAPPING_VALUE_MAX             ? "the value is too long"
	                  : !ids_utf8_valid(r->from, n)       ? "the value is not UTF-8"
	                  : text[0] == '\0'                   ? "no category given (category, "
	                                                        "category/subcategory or skip)"
	                  : strlen(text) >= MAPPING_VALUE_MAX ? "the category is too long"
	                                                      : NULL;
	if (why) {
		snprintf(err, errlen, "%s", why);
		free(text);
		rule_fini(r);
		return -1;
	}
	if (rule_parse_to(r, text, err, errlen) != 0) {
		rule_fini(r);
		return -1;
	}
	r->is_default = strcmp(r->from, MAPPING_DEFAULT) == 0;
	return 0;
}

/* The rule of m for exactly from (the default rule for "*"), or NULL. */
static struct rule *
rule_find(const struct mapping *m, const char *from, bool is_default)
{
	for (size_t i = 0; i < m->n; i++) {
		struct rule *r = &m->rules[i];
		if (r->is_default != is_default)
			continue;
		if (is_default || mapping_same(r->from, from, MAPPING_FOLD_CASE))
			return r;
	}
	return NULL;
}

struct mapping *
mapping_new(void)
{
	return calloc(1, sizeof(struct mapping));
}

void
mapping_destroy(struct mapping **m)
{
	if (m == NULL || *m == NULL)
		return;
	for (size_t i = 0; i < (*m)->n; i++)
		rule_fini(&(*m)->rules[i]);
	free((*m)->rules);
	free(*m);
	*m = NULL;
}

int
mapping_add(struct mapping *m, const char *from, const char *to, char *err, size_t errlen)
{
	struct rule r;
	if (rule_parse(&r, from ? from : "", to ? to : "", err, errlen) != 0)
		return -1;
	struct rule *old = rule_find(m, r.from, r.is_default);
	if (old) {
		rule_fini(old);
		*old = r;
		return 0;
	}
	if (m->n == MAPPING_MAX_RULES) {
		snprintf(err, errlen, "more than %d rules", MAPPING_MAX_RULES);
		rule_fini(&r);
		return -1;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct rule *rules = realloc(m->rules, cap * sizeof *rules);
		if (rules == NULL) {
			snprintf(err, errlen, "out of memory");
			rule_fini(&r);
			return -1;
		}
		m->rules = rules;
		m->cap = cap;
	}
	m->rules[m->n++] = r;
	return 0;
}

enum mapping_action
mapping_lookup(const struct mapping *m, const char *value, Est__V1__Category *category,
               const char **subcategory)
{
	const struct rule *r = rule_find(m, value ? value : "", false);
	if (r == NULL)
		r = rule_find(m, NULL, true);
	if (r == NULL)
		return MAP_UNKNOWN;
	if (r->action == MAP_REPORT) {
		*category = r->category;
		*subcategory = r->subcategory;
	}
	return r->action;
}

size_t
mapping_size(const struct mapping *m)
{
	return m->n;
}

bool
mapping_has(const struct mapping *m, const char *from)
{
	bool is_default = from != NULL && mapping_same(from, MAPPING_DEFAULT, MAPPING_FOLD_CASE);
	return rule_find(m, from ? from : "", is_default) != NULL;
}

bool
mapping_rule(const struct mapping *m, size_t i, const char **from, const char **to)
{
	if (i >= m->n)
		return false;
	*from = m->rules[i].from;
	*to = m->rules[i].to;
	return true;
}

struct mapping *
mapping_copy(const struct mapping *m)
{
	struct mapping *c = mapping_new();
	char err[256];
	for (size_t i = 0; c && i < m->n; i++)
		if (mapping_add(c, m->rules[i].from, m->rules[i].to, err, sizeof err) != 0)
			mapping_destroy(&c);
	return c;
}

/* ---- the shipped tables ------------------------------------------------ */

struct default_rule {
	const char *from, *to;
};

/*
 * The municipality's form: every `kategori` it offers is one EST category.
 * `kategori/underkategori` rules give the free labels the form suggests the
 * subcategories the police and housing tables use, so one event reads the
 * same whoever reported it; other labels pass through lower-cased.
 */
static const struct default_rule municipality_rules[] = {
    {"Folksamling som skapar oro", "gathering"},
    {"Skadegörelse", "vandalism"},
    {"Skadegörelse/klotter", "vandalism/graffiti"},
    {"Skadegörelse/glaskross", "vandalism/broken_glass"},
    {"Skadegörelse/brand", "vandalism/fire"},
    {"Otrygg plats", "unsafe_place"},
    {"Otrygg plats/belysning", "unsafe_place/broken_lighting"},
    {"Otrygg plats/insyn", "unsafe_place/poor_visibility"},
    {"Otrygg plats/öppet wifi", "unsafe_place/open_wifi"},
    {"Kommande evenemang", "upcoming_event"},
    {"Annan ordningsstörning", "disorder"},
    {"Incident mot personal", "staff_incident"},
    {"Ryktesspridning", "rumour"},
    {"Övrigt", "other"},
    {"Övrigt/öppet wifi", "other/open_wifi"},
    {"Övrigt/nedskräpning", "other/littering"},
};

/*
 * The police's event types. EST is about places where people feel unsafe:
 * what happens in public space and is seen there (fights, robbery,
 * shootings, fires, drugs, threats) maps to a category; theft, burglary,
 * fraud and traffic happen to property or on roads and are skipped. Types
 * not listed are errors naming the `type`, so a new one is seen and decided
 * by an administrator (a `* = skip` line would skip them all silently).
 * Summaries ("Sammanfattning natt") are not events: the translator drops
 * them before any lookup.
 */
static const struct default_rule police_rules[] = {
    {"Skadegörelse", "vandalism"},
    {"Bråk", "disorder"},
    {"Brand", "vandalism/fire"},
    {"Ordningslagen", "disorder/public_order"},
    {"Narkotikabrott", "unsafe_place/drugs"},
    {"Misshandel", "disorder/assault"},
    {"Misshandel, grov", "disorder/assault"},
    {"Våld/hot mot tjänsteman", "staff_incident"},
    {"Olaga hot", "disorder/threat"},
    {"Rån", "disorder/robbery"},
    {"Skottlossning", "disorder/shooting"},
    {"Fylleri/LOB", "disorder/drunkenness"},
    {"Stöld", "skip"},
    {"Stöld/inbrott", "skip"},
    {"Inbrott", "skip"},
    {"Bedrägeri", "skip"},
    {"Trafikolycka", "skip"},
    {"Trafikolycka, personskada", "skip"},
    {"Trafikkontroll", "skip"},
    {"Rattfylleri", "skip"},
    {"Försvunnen person", "skip"},
    {"Övrigt", "other"},
};

/* The housing company's fault codes that are EST's business; any other fault is skipped. */
static const struct default_rule open311_rules[] = {
    {"KLOTTER", "vandalism/graffiti"},
    {"GLASKROSS", "vandalism/broken_glass"},
    {"BRAND", "vandalism/fire"},
    {"BELYSNING", "unsafe_place/broken_lighting"},
    {"NEDSKRAPNING", "unsafe_place/littering"},
    {"VISTELSE_TRAPPHUS", "gathering/stairwell"},
    {"INBROTT_FORRAD", "vandalism/storage_break_in"},
    {"SKADEGORELSE_OVRIG", "vandalism"},
    {MAPPING_DEFAULT, "skip"},
};

#define TABLE(fmt, fld, r)                                                                         \
	{                                                                                          \
		fmt, fld, r, sizeof r / sizeof r[0]                                                \
	}
static const struct {
	const char *format;
	const char *field;
	const struct default_rule *rules;
	size_t n;
} default_tables[] = {
    TABLE("municipality-csv", "kategori", municipality_rules),
    TABLE("police-json", "type", police_rules),
    TABLE("open311", "service_code", open311_rules),
};
#undef TABLE
#define N_TABLES (sizeof default_tables / sizeof default_tables[0])

struct mapping *
mapping_default(const char *format)
{
	for (size_t t = 0; format && t < N_TABLES; t++) {
		if (strcmp(default_tables[t].format, format) != 0)
			continue;
		struct mapping *m = mapping_new();
		char err[256];
		for (size_t i = 0; m && i < default_tables[t].n; i++)
			if (mapping_add(m, default_tables[t].rules[i].from,
			                default_tables[t].rules[i].to, err, sizeof err) != 0)
				mapping_destroy(&m);
		return m;
	}
	return NULL;
}

const char *
mapping_field(const char *format)
{
	for (size_t t = 0; format && t < N_TABLES; t++)
		if (strcmp(default_tables[t].format, format) == 0)
			return default_tables[t].field;
	return NULL;
}
