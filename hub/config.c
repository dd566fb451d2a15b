/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: hub.conf (see config.h). inih does the INI syntax; the table below
 * is the only place a key is defined.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

enum opt_type { OPT_STR, OPT_LONG };

struct opt {
	const char *section;
	const char *name;
	enum opt_type type;
	size_t offset;
	long min, max, def;
	const char *def_str;
	const char *help;
};

#define LONG_OPT(sec, key, lo, hi, dflt, text)                                                     \
	{                                                                                          \
		sec, #key, OPT_LONG, offsetof(struct config, key), lo, hi, dflt, NULL, text        \
	}

static const struct opt opts[] = {
    {"hub", "ingest", OPT_STR, offsetof(struct config, ingest), 0, 0, 0, "tcp://127.0.0.1:7601",
     "ZeroMQ endpoint where adapters send reports (CURVE; port * lets the system choose)"},
    {"hub", "feed", OPT_STR, offsetof(struct config, feed), 0, 0, 0, "tcp://127.0.0.1:7602",
     "ZeroMQ endpoint where subscribers follow feeds (CURVE)"},
    LONG_OPT("limits", max_frame_bytes, 1024, 64L * 1024 * 1024, 1024 * 1024,
             "largest envelope accepted, in bytes; larger ones are refused with this limit"),
    LONG_OPT("limits", max_reports_per_envelope, 1, 100000, 1000, "most reports in one envelope"),
    LONG_OPT("limits", max_future_seconds, 0, 30L * 86400, 86400,
             "how far in the future observed_at may lie (clock skew between systems)"),
    LONG_OPT("limits", max_batch_envelopes, 1, 100000, 4096,
             "group commit: most envelopes in one transaction"),
    LONG_OPT("feed", subscriber_timeout_seconds, 5, 86400, 60,
             "a subscriber silent this long is forgotten and must subscribe again"),
    LONG_OPT("feed", max_credit, 1, 1000000, 100000, "largest credit window a subscriber may open"),
    LONG_OPT("feed", cache_entries, 16, 1000000, 8192,
             "recent entries kept in memory for live delivery; older ones are read from "
             "the store"),
};
#define N_OPTS (sizeof opts / sizeof opts[0])

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < N_OPTS; i++) {
		char *field = (char *)c + opts[i].offset;
		if (opts[i].type == OPT_STR)
			snprintf(field, CONFIG_STR_MAX, "%s", opts[i].def_str);
		else
			*(long *)(void *)field = opts[i].def;
	}
}

struct load_state {
	struct config *c;
	const char *path;
	FILE *in;
	FILE *diag;
	int line;
	int problems;
};

static void
problem(struct load_state *st, const char *section, const char *name, const char *why)
{
	st->problems++;
	if (st->diag)
		fprintf(st->diag, "%s:%d: %s.%s: %s\n", st->path, st->line, section, name, why);
}

/* inih's line reader; counting here gives the handler its line number. */
static char *
read_line(char *str, int num, void *stream)
{
	struct load_state *st = stream;
	char *r = fgets(str, num, st->in);
	if (r)
		st->line++;
	return r;
}

static void
set_long(struct load_state *st, const struct opt *o, const char *value)
{
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	char why[160];
	if (errno || end == value || *end != '\0') {
		snprintf(why, sizeof why, "\"%s\" is not a whole number", value);
		problem(st, o->section, o->name, why);
	} else if (v < o->min || v > o->max) {
		snprintf(why, sizeof why, "must be %ld..%ld, got %ld", o->min, o->max, v);
		problem(st, o->section, o->name, why);
	} else {
		*(long *)(void *)((char *)st->c + o->offset) = v;
	}
}

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *st = user;
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];
		if (strcmp(o->section, section) != 0 || strcmp(o->name, name) != 0)
			continue;
		if (o->type == OPT_LONG) {
			set_long(st, o, value);
		} else if (strlen(value) == 0 || strlen(value) >= CONFIG_STR_MAX) {
			problem(st, section, name, "must be 1..255 characters");
		} else {
			snprintf((char *)st->c + o->offset, CONFIG_STR_MAX, "%s", value);
		}
		return 1;
	}
	problem(st, section, name, "unknown key (see the comments esthub init writes)");
	return 1;
}

int
config_load(struct config *c, const char *path, FILE *diag)
{
	config_defaults(c);
	struct load_state st = {.c = c, .path = path, .diag = diag};
	st.in = fopen(path, "r");
	if (st.in == NULL) {
		if (diag)
			fprintf(diag, "%s:0: cannot read: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = ini_parse_stream(read_line, &st, on_key, &st);
	fclose(st.in);
	if (rc > 0) {
		st.problems++;
		if (diag)
			fprintf(diag, "%s:%d: syntax error (expected [section] or key = value)\n",
			        path, rc);
	} else if (rc < 0) {
		st.problems++;
		if (diag)
			fprintf(diag, "%s:0: cannot parse (%d)\n", path, rc);
	}
	return st.problems;
}

int
config_write_default(const char *path, const char *ingest, const char *feed, char *err,
                     size_t errlen)
{
	FILE *f = fopen(path, "wx");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "# esthub hub configuration (INI). `esthub check DIR` validates it.\n"
	           "# Every key is shown at its default; unknown keys are errors.\n");
	const char *section = "";
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];
		if (strcmp(section, o->section) != 0) {
			section = o->section;
			fprintf(f, "\n[%s]\n", section);
		}
		fprintf(f, "# %s", o->help);
		if (o->type == OPT_LONG)
			fprintf(f, " (%ld..%ld)\n%s = %ld\n", o->min, o->max, o->name, o->def);
		else if (strcmp(o->name, "ingest") == 0)
			fprintf(f, "\n%s = %s\n", o->name, ingest ? ingest : o->def_str);
		else if (strcmp(o->name, "feed") == 0)
			fprintf(f, "\n%s = %s\n", o->name, feed ? feed : o->def_str);
	}
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
