/* SPDX-License-Identifier: Apache-2.0 */
/*
 * adapter_config: an adapter's configuration file (see adapter_config.h).
 * inih does the INI syntax through a line reader of our own, which counts
 * lines (so every message has its line), refuses lines that are too long,
 * hold a NUL or are not UTF-8, strips indentation (so an indented line is
 * never taken for the continuation of the value before it) and names
 * unknown sections at their header. The key table below is the only place
 * a key is defined; [categories] goes to mapping.h, [areas] to geo.h.
 */
#include "runtime/adapter_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "runtime/format.h"
#include "runtime/outbox.h"
#include "runtime/sender.h"
#include "wire/cert.h"
#include "wire/endpoint.h"
#include "wire/ids.h"

#define FORMAT_NAME_MAX 63
#define TIMEOUT_MAX_S   (7L * 24 * 3600)
#define PENDING_MAX     100000000L
#define SYNTAX_ERROR    "syntax error (expected [section], key = value or a # comment)"
/* Comments in a written example wrap before this column. */
#define WRAP_COLUMN 78

enum key_type {
	KEY_ENDPOINT, /* tcp://HOST:PORT or ipc://PATH */
	KEY_PATH,     /* relative to the file's directory */
	KEY_FORMAT,   /* a format name; --check looks it up */
	KEY_NUMBER,   /* a whole number in [min, max] */
	KEY_LISTEN,   /* HOST:PORT or PORT */
};

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	long min, max, def;  /* KEY_NUMBER */
	const char *def_str; /* strings: the value when the file sets none (NULL: "") */
	const char *example; /* the value shown in a commented-out line when unset */
	bool required;       /* --check wants it set */
	const char *help;
};

#define STR_KEY(sec, key, field, type, dflt, ex, req, text)                                        \
	{                                                                                          \
		sec, key, type, offsetof(struct adapter_config, field), 0, 0, 0, dflt, ex, req,    \
		    text                                                                           \
	}
#define NUM_KEY(sec, key, field, lo, hi, dflt, text)                                               \
	{                                                                                          \
		sec, key, KEY_NUMBER, offsetof(struct adapter_config, field), lo, hi, dflt, NULL,  \
		    NULL, false, text                                                              \
	}

static const struct key keys[] = {
    STR_KEY("hub", "endpoint", endpoint, KEY_ENDPOINT, "tcp://127.0.0.1:7601",
            "tcp://127.0.0.1:7601", false,
            "The hub's ingest endpoint (ZeroMQ with CURVE), tcp://HOST:PORT. "
            "Default tcp://127.0.0.1:7601."),
    STR_KEY("hub", "hub_cert", hub_cert, KEY_PATH, NULL, "/etc/esthub/keys/hub", true,
            "The hub's public certificate (zcert text format), from the hub's administrator."),
    STR_KEY("hub", "cert", cert, KEY_PATH, NULL, "/etc/esthub/keys/adapter_secret", true,
            "This adapter's secret certificate, from the hub's administrator; "
            "the file must have mode 0600."),
    STR_KEY("adapter", "format", format, KEY_FORMAT, NULL, "json", true,
            "The partner's format: json, municipality-csv, police-json or open311."),
    STR_KEY("adapter", "outbox", outbox, KEY_PATH, NULL, "/var/lib/esthub/adapter.outbox", false,
            "The outbox, a SQLite file that keeps every record until the hub has answered it. "
            "Default est-adapter.outbox in the working directory."),
    NUM_KEY("adapter", "max_pending", max_pending, 1, PENDING_MAX, OUTBOX_DEFAULT_MAX_PENDING,
            "Refuse new files once this many records wait in the outbox."),
    NUM_KEY("adapter", "batch", batch, 1, SENDER_MAX_BATCH, SENDER_DEFAULT_BATCH,
            "Reports in one envelope to the hub."),
    NUM_KEY("adapter", "window", window, 1, SENDER_MAX_WINDOW, SENDER_DEFAULT_WINDOW,
            "Envelopes sent and not yet answered."),
    NUM_KEY("adapter", "timeout", timeout_s, 1, TIMEOUT_MAX_S, SENDER_DEFAULT_TIMEOUT_S,
            "Seconds to wait for the hub's answers before giving up; unanswered records "
            "stay in the outbox for the next run."),
    STR_KEY("watch", "dir", watch_dir, KEY_PATH, NULL, "/var/spool/esthub/adapter", false,
            "A drop directory: every file put here is read, then moved to done/, or to "
            "failed/ with an error file beside it naming record and reason. Without it "
            "the adapter reads the files named on its command line."),
    STR_KEY("listen", "address", listen, KEY_LISTEN, NULL, "127.0.0.1:7680", false,
            "HOST:PORT where partner systems POST their records (HTTP); a PORT alone "
            "listens on " ADAPTER_CONFIG_LOOPBACK " only. Without it there is no HTTP "
            "endpoint."),
};
#define N_KEYS (sizeof keys / sizeof keys[0])
_Static_assert(N_KEYS == ADAPTER_CONFIG_N_KEYS, "ADAPTER_CONFIG_N_KEYS is the table's size");

/* Every section, in the order of the written example, with the comment opening it. */
static const struct {
	const char *name;
	const char *help;
} sections[] = {
    {"hub", "Where the hub is, and who this adapter is to it."},
    {"adapter", "What this adapter reads, and how it sends."},
    {"watch", "Files a partner drops into a directory."},
    {"listen", "Records a partner system pushes over HTTP."},
    {"categories", NULL},
    {"areas", NULL},
};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

/* ---- messages ---------------------------------------------------------- */

/* Appends to buf (size bytes, *used of them taken) as snprintf does; stops quietly when full. */
__attribute__((format(printf, 4, 5))) static void
append(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	if (*used >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	*used = n < 0 ? size : *used + (size_t)n;
}

/* "marielund, hageby, ..." appended to buf. */
static void
append_area_ids(char *buf, size_t size, size_t *used)
{
	for (size_t i = 0; i < ids_n_areas; i++)
		append(buf, size, used, "%s%s", i ? ", " : "", ids_areas[i]);
}

struct say {
	const char *path;
	FILE *diag;
	int problems;
};

/* One problem: "path:line: section.key: why", without the parts that are NULL. */
static void
say_problem(struct say *s, int line, const char *section, const char *key, const char *why)
{
	s->problems++;
	if (s->diag == NULL)
		return;
	fprintf(s->diag, "%s:%d: ", s->path, line);
	if (section && key)
		fprintf(s->diag, "%s.%s: ", section, key);
	else if (key)
		fprintf(s->diag, "%s: ", key);
	fprintf(s->diag, "%s\n", why);
}

static const struct key *
key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static bool
section_known(const char *name)
{
	for (size_t i = 0; i < N_SECTIONS; i++)
		if (strcmp(sections[i].name, name) == 0)
			return true;
	return false;
}

static char *
str_field(struct adapter_config *c, const struct key *k)
{
	return (char *)c + k->offset;
}

static const char *
str_value(const struct adapter_config *c, const struct key *k)
{
	return (const char *)c + k->offset;
}

static long *
num_field(struct adapter_config *c, const struct key *k)
{
	return (long *)(void *)((char *)c + k->offset);
}

static long
num_value(const struct adapter_config *c, const struct key *k)
{
	return *(const long *)(const void *)((const char *)c + k->offset);
}

static int
key_line(const struct adapter_config *c, const struct key *k)
{
	return c->line[k - keys];
}

/* ---- values -------------------------------------------------------------- */

/* value, relative to the directory of config_path unless absolute, into out. */
static int
path_resolve(const char *config_path, const char *value, char *out, size_t outlen)
{
	const char *slash = strrchr(config_path, '/');
	int n;
	if (value[0] == '/' || slash == NULL)
		n = snprintf(out, outlen, "%s", value);
	else
		n = snprintf(out, outlen, "%.*s/%s", (int)(slash - config_path), config_path,
		             value);
	return n >= 0 && (size_t)n < outlen ? 0 : -1;
}

static bool
format_name_valid(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > FORMAT_NAME_MAX)
		return false;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') || *v == '-'))
			return false;
	return true;
}

static bool
port_valid(const char *p)
{
	long v = 0;
	if (*p == '\0' || strlen(p) > 5)
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	return v >= 1 && v <= 65535;
}

/* A host name, an IPv4 address or "*" (every interface). */
static bool
host_valid(const char *h, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-' ||
		      (h[i] == '*' && n == 1)))
			return false;
	return true;
}

static bool
ipv6_valid(const char *h, size_t n)
{
	if (n == 0 || n > 45)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f') ||
		      (h[i] >= 'A' && h[i] <= 'F') || h[i] == ':' || h[i] == '.'))
			return false;
	return true;
}

/* [listen] address as HOST:PORT into out; NULL, or why it is not one. */
static const char *
listen_parse(const char *v, char *out, size_t outlen)
{
	const char *host = ADAPTER_CONFIG_LOOPBACK, *port = v;
	size_t hostlen = strlen(ADAPTER_CONFIG_LOOPBACK);
	bool v6 = false;
	if (v[0] == '[') {
		const char *close = strchr(v, ']');
		if (close == NULL || close[1] != ':' || !ipv6_valid(v + 1, (size_t)(close - v - 1)))
			return "an IPv6 address is written [ADDRESS]:PORT";
		host = v + 1;
		hostlen = (size_t)(close - v - 1);
		port = close + 2;
		v6 = true;
	} else if (strchr(v, ':')) {
		const char *colon = strrchr(v, ':');
		if (colon != v) {
			host = v;
			hostlen = (size_t)(colon - v);
		}
		port = colon + 1;
		if (memchr(host, ':', hostlen))
			return "an IPv6 address is written [ADDRESS]:PORT";
		if (!host_valid(host, hostlen))
			return "expected HOST:PORT or PORT, with HOST a name or address";
	}
	if (!port_valid(port))
		return "expected HOST:PORT or PORT, with PORT 1..65535";
	int n = snprintf(out, outlen, v6 ? "[%.*s]:%s" : "%.*s:%s", (int)hostlen, host, port);
	return n >= 0 && (size_t)n < outlen ? NULL : "too long";
}

/* ---- loading ------------------------------------------------------------- */

struct load {
	struct adapter_config *c;
	struct say say;
	FILE *in;
	int line;
	int *rule_lines; /* the line of each [categories] rule, in mapping_rule order */
	size_t n_rule_lines;
};

static void
load_problem(struct load *st, const char *section, const char *key, const char *why)
{
	say_problem(&st->say, st->line, section, key, why);
}

/* White space as inih's isspace() sees it on a line. */
static bool
ini_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\v' || ch == '\f' || ch == '\r';
}

/*
 * Whether inih reads text (indentation stripped) as a comment, a [section]
 * or a key = value: it looks for "]" or for "=" or ":" up to an inline
 * "; comment", as inih does. Telling syntax errors here names every one at
 * its line, where inih would return the first alone.
 */
static bool
line_parses(const char *text)
{
	if (*text == '\0' || *text == '#' || *text == ';')
		return true;
	const char *want = *text == '[' ? "]" : "=:";
	bool was_space = false;
	for (const char *p = text + (*text == '['); *p; p++) {
		if (strchr(want, *p))
			return true;
		if (*p == ';' && was_space)
			return false;
		was_space = ini_space(*p);
	}
	return false;
}

/* A [section] header as inih reads it: the unknown ones are named here, at their line. */
static void
line_check_section(struct load *st, const char *text)
{
	if (text[0] != '[')
		return;
	const char *close = strchr(text, ']');
	if (close == NULL)
		return; /* inih calls it a syntax error */
	char name[ADAPTER_CONFIG_LINE_MAX + 1];
	snprintf(name, sizeof name, "%.*s", (int)(close - text - 1), text + 1);
	if (section_known(name))
		return;
	char why[ADAPTER_CONFIG_LINE_MAX + 128];
	snprintf(why, sizeof why,
	         "[%s]: unknown section (hub, adapter, watch, listen, categories, areas)", name);
	load_problem(st, NULL, NULL, why);
}

/*
 * inih's line reader. Reads one whole line (LF or CRLF), so inih's line
 * numbers are the file's; a line that cannot be used is reported and handed
 * on empty. num is the size of inih's buffer.
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct load *st = stream;
	size_t cap = (size_t)num - 1, n = 0;
	if (cap > ADAPTER_CONFIG_LINE_MAX)
		cap = ADAPTER_CONFIG_LINE_MAX;
	bool long_line = false, nul = false;
	int ch;
	while ((ch = getc(st->in)) != EOF && ch != '\n') {
		if (ch == '\r') {
			int next = getc(st->in);
			if (next == '\n' || next == EOF) {
				ch = next;
				break;
			}
			ungetc(next, st->in);
		}
		if (ch == '\0')
			nul = true;
		else if (n < cap)
			str[n++] = (char)ch;
		else
			long_line = true;
	}
	if (ch == EOF && n == 0 && !long_line && !nul)
		return NULL;
	str[n] = '\0';
	st->line++;
	char why[64];
	snprintf(why, sizeof why, "the line is longer than %zu bytes", cap);
	const char *bad = nul                       ? "the line holds a NUL byte"
	                  : long_line               ? why
	                  : !ids_utf8_valid(str, n) ? "not UTF-8 (save the file as UTF-8)"
	                                            : NULL;
	if (bad) {
		load_problem(st, NULL, NULL, bad);
		str[0] = '\0';
		return str;
	}
	char *text = str;
	if (st->line == 1 && strncmp(text, "\xEF\xBB\xBF", 3) == 0)
		text += 3;
	while (ini_space(*text))
		text++;
	memmove(str, text, strlen(text) + 1);
	if (!line_parses(str)) {
		load_problem(st, NULL, NULL, SYNTAX_ERROR);
		str[0] = '\0';
		return str;
	}
	line_check_section(st, str);
	return str;
}

/* A string value checked (and for listen and path keys, rewritten) into its field. */
static void
key_set_string(struct load *st, const struct key *k, const char *value)
{
	char v[ADAPTER_CONFIG_STR_MAX];
	char why[ADAPTER_CONFIG_STR_MAX + 128], not_endpoint[128];
	const char *bad = NULL;
	snprintf(v, sizeof v, "%s", value);
	switch (k->type) {
	case KEY_ENDPOINT:
		if (endpoint_check(value, ENDPOINT_CONNECT, not_endpoint, sizeof not_endpoint) != 0)
			bad = not_endpoint;
		break;
	case KEY_FORMAT:
		if (!format_name_valid(value))
			bad = "expected a format name (json, municipality-csv, police-json, "
			      "open311)";
		break;
	case KEY_LISTEN:
		bad = listen_parse(value, v, sizeof v);
		break;
	case KEY_PATH:
		if (path_resolve(st->say.path, value, v, sizeof v) != 0)
			bad = "the path is too long";
		break;
	case KEY_NUMBER:
		break;
	}
	if (bad) {
		snprintf(why, sizeof why, "\"%s\": %s", value, bad);
		load_problem(st, k->section, k->name, why);
		return;
	}
	snprintf(str_field(st->c, k), ADAPTER_CONFIG_STR_MAX, "%s", v);
	st->c->line[k - keys] = st->line;
}

static void
key_set_number(struct load *st, const struct key *k, const char *value)
{
	char *end;
	char why[256];
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno || end == value || *end != '\0' || value[0] < '0' || value[0] > '9') {
		snprintf(why, sizeof why, "\"%.64s\" is not a whole number", value);
		load_problem(st, k->section, k->name, why);
	} else if (v < k->min || v > k->max) {
		snprintf(why, sizeof why, "must be %ld..%ld, got %ld", k->min, k->max, v);
		load_problem(st, k->section, k->name, why);
	} else {
		*num_field(st->c, k) = v;
		st->c->line[k - keys] = st->line;
	}
}

static void
key_set(struct load *st, const char *section, const char *name, const char *value)
{
	const struct key *k = key_find(section, name);
	char why[256];
	if (k == NULL) {
		size_t used = 0;
		append(why, sizeof why, &used, "unknown key (known:");
		for (size_t i = 0; i < N_KEYS; i++)
			if (strcmp(keys[i].section, section) == 0)
				append(why, sizeof why, &used, " %s", keys[i].name);
		append(why, sizeof why, &used, ")");
		load_problem(st, section, name, why);
		return;
	}
	if (key_line(st->c, k) != 0) {
		snprintf(why, sizeof why, "given twice (first at line %d)", key_line(st->c, k));
		load_problem(st, section, name, why);
		return;
	}
	if (value[0] == '\0') {
		load_problem(st, section, name, "no value (leave the key out for the default)");
		return;
	}
	if (k->type == KEY_NUMBER)
		key_set_number(st, k, value);
	else
		key_set_string(st, k, value);
}

/* The line of the [categories] rule for the same value as from, or 0. */
static int
rule_line(const struct load *st, const char *from)
{
	const char *rfrom, *rto;
	for (size_t i = 0; st->c->categories && mapping_rule(st->c->categories, i, &rfrom, &rto);
	     i++)
		if (mapping_same(rfrom, from, MAPPING_FOLD_CASE) && i < st->n_rule_lines)
			return st->rule_lines[i];
	return 0;
}

static void
rule_add(struct load *st, const char *from, const char *to)
{
	struct adapter_config *c = st->c;
	char why[512];
	int first = rule_line(st, from);
	if (first) {
		snprintf(why, sizeof why,
		         "same value as line %d (values are compared ignoring case and spaces)",
		         first);
		load_problem(st, "categories", from, why);
		return;
	}
	if (c->categories == NULL && (c->categories = mapping_new()) == NULL) {
		load_problem(st, "categories", from, "out of memory");
		return;
	}
	size_t n = mapping_size(c->categories);
	int *lines = realloc(st->rule_lines, (n + 1) * sizeof *lines);
	if (lines == NULL) {
		load_problem(st, "categories", from, "out of memory");
		return;
	}
	st->rule_lines = lines;
	if (mapping_add(c->categories, from, to, why, sizeof why) != 0) {
		load_problem(st, "categories", from, why);
		return;
	}
	lines[n] = st->line;
	st->n_rule_lines = n + 1;
	if (c->categories_line == 0)
		c->categories_line = st->line;
}

static void
alias_add(struct load *st, const char *name, const char *id)
{
	struct adapter_config *c = st->c;
	char why[512];
	const char *builtin = geo_builtin_area_id(name);
	const char *bad = NULL;
	if (!ids_area_valid(id)) {
		size_t used = 0;
		append(why, sizeof why, &used, "\"%.64s\" is not an area id (", id);
		append_area_ids(why, sizeof why, &used);
		append(why, sizeof why, &used, ")");
		bad = why;
	} else if (mapping_same(name, "", MAPPING_FOLD_ACCENTS)) {
		bad = "the name is empty";
	} else if (strlen(name) > MAPPING_VALUE_MAX) {
		bad = "the name is too long";
	} else if (builtin && strcmp(builtin, id) != 0) {
		snprintf(why, sizeof why, "already a built-in name of area %s", builtin);
		bad = why;
	} else if (c->n_aliases == GEO_MAX_ALIASES) {
		snprintf(why, sizeof why, "more than %d names", GEO_MAX_ALIASES);
		bad = why;
	}
	for (size_t i = 0; bad == NULL && i < c->n_aliases; i++)
		if (mapping_same(c->aliases[i].name, name, MAPPING_FOLD_ACCENTS)) {
			snprintf(why, sizeof why,
			         "same name as line %d (names are compared ignoring case, accents "
			         "and spaces)",
			         c->aliases[i].line);
			bad = why;
		}
	if (bad) {
		load_problem(st, "areas", name, bad);
		return;
	}
	struct adapter_config_alias *a = realloc(c->aliases, (c->n_aliases + 1) * sizeof *a);
	if (a == NULL) {
		load_problem(st, "areas", name, "out of memory");
		return;
	}
	c->aliases = a;
	a[c->n_aliases] =
	    (struct adapter_config_alias){.name = strdup(name), .id = strdup(id), .line = st->line};
	if (a[c->n_aliases].name == NULL || a[c->n_aliases].id == NULL) {
		free(a[c->n_aliases].name);
		free(a[c->n_aliases].id);
		load_problem(st, "areas", name, "out of memory");
		return;
	}
	c->n_aliases++;
}

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct load *st = user;
	/* Keys of an unknown section are not named: the section was, at its header. */
	if (section[0] == '\0')
		load_problem(st, NULL, name, "outside any section (start with [hub])");
	else if (strcmp(section, "categories") == 0)
		rule_add(st, name, value);
	else if (strcmp(section, "areas") == 0)
		alias_add(st, name, value);
	else if (section_known(section))
		key_set(st, section, name, value);
	return 1;
}

void
adapter_config_init(struct adapter_config *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].type == KEY_NUMBER)
			*num_field(c, &keys[i]) = keys[i].def;
		else if (keys[i].def_str)
			snprintf(str_field(c, &keys[i]), ADAPTER_CONFIG_STR_MAX, "%s",
			         keys[i].def_str);
	}
}

void
adapter_config_fini(struct adapter_config *c)
{
	mapping_destroy(&c->categories);
	for (size_t i = 0; i < c->n_aliases; i++) {
		free(c->aliases[i].name);
		free(c->aliases[i].id);
	}
	free(c->aliases);
	adapter_config_init(c);
}

int
adapter_config_load(struct adapter_config *c, const char *path, FILE *diag)
{
	adapter_config_init(c);
	snprintf(c->path, sizeof c->path, "%s", path);
	struct load st = {.c = c, .say = {.path = path, .diag = diag}};
	st.in = fopen(path, "r");
	if (st.in == NULL) {
		if (diag)
			fprintf(diag, "%s:0: cannot read: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = ini_parse_stream(read_line, &st, on_key, &st);
	if (ferror(st.in)) {
		st.line = 0;
		load_problem(&st, NULL, NULL, "cannot read the whole file");
	}
	fclose(st.in);
	free(st.rule_lines);
	if (rc > 0) {
		st.line = rc;
		load_problem(&st, NULL, NULL, SYNTAX_ERROR);
	} else if (rc < 0) {
		st.line = 0;
		load_problem(&st, NULL, NULL, "cannot parse (out of memory)");
	}
	return st.say.problems;
}

/* ---- --check ------------------------------------------------------------- */

static void
check_problem(struct say *s, const struct adapter_config *c, const char *section, const char *name,
              const char *why)
{
	const struct key *k = key_find(section, name);
	say_problem(s, k ? key_line(c, k) : 0, section, name, why);
}

static void
check_required(struct say *s, const struct adapter_config *c)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].required && str_value(c, &keys[i])[0] == '\0')
			say_problem(s, 0, keys[i].section, keys[i].name, "required");
}

static void
check_format(struct say *s, const struct adapter_config *c)
{
	char why[512];
	if (c->format[0] == '\0')
		return;
	if (format_find(c->format) == NULL) {
		size_t used = 0;
		append(why, sizeof why, &used, "unknown format \"%.64s\" (known:", c->format);
		for (size_t i = 0; format_at(i); i++)
			append(why, sizeof why, &used, " %s", format_at(i)->name);
		append(why, sizeof why, &used, ")");
		check_problem(s, c, "adapter", "format", why);
		return;
	}
	if (c->categories && mapping_field(c->format) == NULL) {
		snprintf(why, sizeof why, "format %s has no category table", c->format);
		say_problem(s, c->categories_line, NULL, "categories", why);
	}
}

static void
check_certs(struct say *s, const struct adapter_config *c)
{
	char err[1024];
	uint8_t key[32];
	if (c->hub_cert[0] && cert_read_public_key(c->hub_cert, key, err, sizeof err) != 0)
		check_problem(s, c, "hub", "hub_cert", err);
	if (c->cert[0] == '\0')
		return;
	zcert_t *cert = cert_load_secret(c->cert, err, sizeof err);
	if (cert == NULL)
		check_problem(s, c, "hub", "cert", err);
	cert_destroy(&cert);
}

/* Whether path is a directory this process may read, write and enter; why not in why. */
static bool
dir_usable(const char *path, char *why, size_t whylen)
{
	struct stat st;
	if (stat(path, &st) != 0)
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		snprintf(why, whylen, "%s: not a directory", path);
	else if (access(path, R_OK | W_OK | X_OK) != 0)
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
	else
		return true;
	return false;
}

static void
check_paths(struct say *s, const struct adapter_config *c)
{
	char why[ADAPTER_CONFIG_STR_MAX + 128];
	if (c->outbox[0]) {
		/* The outbox's directory: "." for a bare name, "/" for one in the root. */
		char dir[ADAPTER_CONFIG_STR_MAX] = ".";
		const char *slash = strrchr(c->outbox, '/');
		if (slash)
			snprintf(dir, sizeof dir, "%.*s",
			         (int)(slash - c->outbox + (slash == c->outbox)), c->outbox);
		if (!dir_usable(dir, why, sizeof why))
			check_problem(s, c, "adapter", "outbox", why);
		else if (access(c->outbox, F_OK) == 0 && access(c->outbox, R_OK | W_OK) != 0) {
			snprintf(why, sizeof why, "%s: %s", c->outbox, strerror(errno));
			check_problem(s, c, "adapter", "outbox", why);
		}
	}
	if (c->watch_dir[0] && !dir_usable(c->watch_dir, why, sizeof why))
		check_problem(s, c, "watch", "dir", why);
}

static void
check_geo(struct say *s, const struct adapter_config *c)
{
	char err[512];
	struct geo *g = geo_new(err, sizeof err);
	if (g == NULL) {
		say_problem(s, 0, NULL, NULL, err);
		return;
	}
	s->problems += adapter_config_apply_areas(c, g, s->diag);
	geo_destroy(&g);
}

int
adapter_config_check(const struct adapter_config *c, FILE *diag)
{
	struct say s = {.path = c->path, .diag = diag};
	check_required(&s, c);
	check_format(&s, c);
	check_certs(&s, c);
	check_paths(&s, c);
	check_geo(&s, c);
	return s.problems;
}

/* ---- what the runtime takes ---------------------------------------------- */

int
adapter_config_mapping(const struct adapter_config *c, const char *format, struct mapping **out)
{
	if (c && c->categories) {
		*out = mapping_copy(c->categories);
		return *out ? 0 : -1;
	}
	*out = mapping_default(format);
	return *out || mapping_field(format) == NULL ? 0 : -1;
}

int
adapter_config_apply_areas(const struct adapter_config *c, struct geo *g, FILE *diag)
{
	if (c == NULL)
		return 0;
	struct say s = {.path = c->path, .diag = diag};
	char err[512];
	for (size_t i = 0; i < c->n_aliases; i++) {
		const struct adapter_config_alias *a = &c->aliases[i];
		if (geo_area_alias(g, a->name, a->id, err, sizeof err) != 0)
			say_problem(&s, a->line, "areas", a->name, err);
	}
	return s.problems;
}

/* ---- the example --------------------------------------------------------- */

/* text as "# " comment lines wrapped before WRAP_COLUMN (at spaces; a longer word stays whole). */
static void
write_comment(FILE *out, const char *text)
{
	while (*text) {
		size_t len = strlen(text), cut = len;
		if (len > WRAP_COLUMN - 2) {
			cut = WRAP_COLUMN - 2;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = strcspn(text, " ");
		}
		fprintf(out, "# %.*s\n", (int)cut, text);
		text += cut;
		while (*text == ' ')
			text++;
	}
}

static void
write_key(FILE *out, const struct adapter_config *c, const struct key *k)
{
	char help[1024];
	if (k->type == KEY_NUMBER)
		snprintf(help, sizeof help, "%s (%ld..%ld, default %ld)", k->help, k->min, k->max,
		         k->def);
	else
		snprintf(help, sizeof help, "%s", k->help);
	write_comment(out, help);
	bool set = key_line(c, k) != 0;
	if (k->type == KEY_NUMBER)
		fprintf(out, "%s%s = %ld\n", set ? "" : "# ", k->name,
		        set ? num_value(c, k) : k->def);
	else
		fprintf(out, "%s%s = %s\n", set ? "" : "# ", k->name,
		        set ? str_value(c, k) : k->example);
}

/* Whether a and b hold the same rules in the same order, written the same way. */
static bool
tables_equal(const struct mapping *a, const struct mapping *b)
{
	const char *af, *at, *bf, *bt;
	size_t i = 0;
	for (; mapping_rule(a, i, &af, &at); i++)
		if (!mapping_rule(b, i, &bf, &bt) || strcmp(af, bf) != 0 || strcmp(at, bt) != 0)
			return false;
	return !mapping_rule(b, i, &bf, &bt);
}

static void
write_categories(FILE *out, const struct adapter_config *c)
{
	char names[256], text[2048];
	mapping_category_names(names, sizeof names);
	const char *field = mapping_field(c->format);
	struct mapping *shipped = mapping_default(c->format);
	const struct mapping *m = c->categories ? c->categories : shipped;
	snprintf(text, sizeof text,
	         "The partner's own value%s%s%s = category[/subcategory], or = skip when it is "
	         "not EST's business: the record is then skipped, counted and logged. "
	         "Categories: %s. A subcategory is written with a-z, 0-9, _ and -. Values "
	         "are compared ignoring case and extra spaces. \"* = ...\" is the rule for "
	         "every value without a rule of its own; without it such a value is an error "
	         "naming it. These rules replace the format's built-in table as a whole.",
	         field ? " (the record's " : "", field ? field : "", field ? ")" : "", names);
	write_comment(out, text);
	if (shipped && tables_equal(m, shipped))
		write_comment(out, "As written here, they are the format's built-in table.");
	const char *from, *to;
	for (size_t i = 0; m && mapping_rule(m, i, &from, &to); i++)
		fprintf(out, "%s = %s\n", from, to);
	mapping_destroy(&shipped);
}

static void
write_areas(FILE *out, const struct adapter_config *c)
{
	char text[2048];
	size_t used = 0;
	append(text, sizeof text, &used,
	       "More names for the EST areas, as partners write them: name = area id (");
	append_area_ids(text, sizeof text, &used);
	append(text, sizeof text, &used,
	       "). Names are compared ignoring case, accents and extra spaces. Built in "
	       "besides the ids:");
	const char *name, *id, *sep = " ";
	for (size_t i = 0; geo_builtin_name_at(i, &name, &id); i++) {
		/* "Hageby" is the id hageby as compared: only the names that differ are news. */
		if (mapping_same(name, id, MAPPING_FOLD_ACCENTS))
			continue;
		append(text, sizeof text, &used, "%s%s = %s", sep, name, id);
		sep = ", ";
	}
	append(text, sizeof text, &used, ".");
	write_comment(out, text);
	for (size_t i = 0; i < c->n_aliases; i++)
		fprintf(out, "%s = %s\n", c->aliases[i].name, c->aliases[i].id);
	if (c->n_aliases == 0)
		fprintf(out, "# Innerstaden = city\n");
}

int
adapter_config_write_example(FILE *out, const struct adapter_config *c)
{
	fprintf(out, "# est-adapter configuration for the %s format (INI, UTF-8).\n",
	        c->format[0] ? c->format : "json");
	write_comment(out, "`est-adapter --check FILE` validates it. Unknown sections and keys "
	                   "are errors. Relative paths are relative to this file's directory. "
	                   "A line is a [section], key = value, or a comment starting with # "
	                   "or ;.");
	for (size_t s = 0; s < N_SECTIONS; s++) {
		fprintf(out, "\n[%s]\n", sections[s].name);
		if (sections[s].help)
			write_comment(out, sections[s].help);
		for (size_t i = 0; i < N_KEYS; i++) {
			if (strcmp(keys[i].section, sections[s].name) != 0)
				continue;
			fprintf(out, "\n");
			write_key(out, c, &keys[i]);
		}
		if (strcmp(sections[s].name, "categories") == 0)
			write_categories(out, c);
		else if (strcmp(sections[s].name, "areas") == 0)
			write_areas(out, c);
	}
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
