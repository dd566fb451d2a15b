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

#include "retention.h"
#include "schedule.h"
#include "wire/endpoint.h"

/* OPT_DOUBLE keeps its bounds and default in thousandths in min, max and
 * def, so every row of the table has the same shape. OPT_SCHEDULE is a
 * string that schedule_parse must accept. */
enum opt_type { OPT_LONG, OPT_DOUBLE, OPT_SCHEDULE, OPT_CHOICE, OPT_CLOCK, OPT_ENDPOINT };

/* OPT_CHOICE: one word of def_str ("reject|mask"), stored as its index in a long.
 * OPT_CLOCK: a daily time "HH:MM" (retention_clock_parse), kept as the string.
 * OPT_ENDPOINT: where the hub binds (endpoint_check), kept as the string. */

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

/* A key of [merge] or [pictures] whose field has another name than the key. */
#define PIC_LONG(sec, key, field, lo, hi, dflt, text)                                              \
	{                                                                                          \
		sec, key, OPT_LONG, offsetof(struct config, field), lo, hi, dflt, NULL, text       \
	}
#define PIC_DOUBLE(sec, key, field, lo_milli, hi_milli, dflt_milli, text)                          \
	{                                                                                          \
		sec, key, OPT_DOUBLE, offsetof(struct config, field), lo_milli, hi_milli,          \
		    dflt_milli, NULL, text                                                         \
	}
#define PIC_WEIGHT(cat, field, dflt_milli)                                                         \
	PIC_DOUBLE("pictures", "weight_" cat, field, 0, 100000, dflt_milli,                        \
	           "priority points per incident of category " cat " (0..100)")

/* A [retention] period in days (0: for ever). */
#define RET_DAYS(key, field, lo, dflt, text)                                                       \
	{                                                                                          \
		"retention", key, OPT_LONG, offsetof(struct config, field), lo, 36500, dflt, NULL, \
		    text                                                                           \
	}
#define RET_CATEGORY(cat, index)                                                                   \
	RET_DAYS("report_" cat "_days", report_category_days[index], -1, -1,                       \
	         "days a report of category " cat " is kept; -1: as reports_days")

static const struct opt opts[] = {
    {"hub", "ingest", OPT_ENDPOINT, offsetof(struct config, ingest), 0, 0, 0,
     "tcp://127.0.0.1:7601",
     "ZeroMQ endpoint where adapters send reports (CURVE): tcp://HOST:PORT, HOST * for every "
     "interface, PORT * to let the system choose; or ipc://PATH"},
    {"hub", "feed", OPT_ENDPOINT, offsetof(struct config, feed), 0, 0, 0, "tcp://127.0.0.1:7602",
     "ZeroMQ endpoint where subscribers follow feeds (CURVE), written as ingest; not the "
     "same as ingest"},
    LONG_OPT("limits", max_frame_bytes, 1024, 64L * 1024 * 1024, 1024 * 1024,
             "largest envelope accepted, in bytes; larger ones are refused with this limit"),
    LONG_OPT("limits", max_reports_per_envelope, 1, 100000, 1000, "most reports in one envelope"),
    LONG_OPT("limits", max_future_seconds, 0, 30L * 86400, 86400,
             "how far in the future observed_at may lie (clock skew between systems)"),
    LONG_OPT("limits", max_batch_envelopes, 1, 100000, 4096,
             "group commit: most envelopes in one transaction"),
    {"limits", "commit_thread", OPT_CHOICE, offsetof(struct config, commit_thread), 0, 2, 0,
     "auto|on|off",
     "group commit: a batch of more than 64 reports commits on a thread of its own while the "
     "next one is received (on), or every batch on the thread that received it (off); auto: "
     "on when the hub may run on 3 or more CPUs (its affinity mask, or fewer by a cgroup "
     "CPU quota; bench/README.md)"},
    LONG_OPT("limits", warn_free_mib, 0, 1L << 30, 1024,
             "the hub says on standard error when the filesystem of data/ has less than this "
             "many MiB free (it refuses reports while it is full); 0: never"),
    LONG_OPT("feed", subscriber_timeout_seconds, 5, 86400, 60,
             "a subscriber silent this long is forgotten and must subscribe again"),
    LONG_OPT("feed", max_credit, 1, 1000000, 100000, "largest credit window a subscriber may open"),
    LONG_OPT("feed", cache_entries, 16, 1000000, 8192,
             "recent entries kept in memory for live delivery; older ones are read from "
             "the store"),
    {"checkpoints", "interval_seconds", OPT_LONG, offsetof(struct config, checkpoint_interval_s), 0,
     7L * 86400, 3600, NULL,
     "how often the hub appends a signed checkpoint of the log (all/checkpoints) when the "
     "log has grown; 0: never"},
    /* How pictures are compiled and when: docs/pictures.md explains each with examples. */
    PIC_DOUBLE("merge", "distance_m", merge_distance_m, 1000, 10000000, 150000,
               "reports of different organisations at most this many metres apart (or at the "
               "same place name) may be one incident (1..10000)"),
    PIC_LONG("merge", "window_seconds", merge_window_seconds, 0, 7L * 86400, 7200,
             "... and when their times are at most this many seconds apart"),
    PIC_WEIGHT("gathering", weight_gathering, 1500),
    PIC_WEIGHT("vandalism", weight_vandalism, 1000),
    PIC_WEIGHT("unsafe_place", weight_unsafe_place, 1000),
    PIC_WEIGHT("upcoming_event", weight_upcoming_event, 500),
    PIC_WEIGHT("disorder", weight_disorder, 1500),
    PIC_WEIGHT("staff_incident", weight_staff_incident, 2000),
    PIC_WEIGHT("rumour", weight_rumour, 500),
    PIC_WEIGHT("other", weight_other, 500),
    PIC_DOUBLE("pictures", "trend_factor", trend_factor, 0, 10000, 500,
               "share of a category's weight per report above its 8-week baseline (0..10)"),
    PIC_DOUBLE("pictures", "confirm_factor", confirm_factor, 0, 10000, 500,
               "share of a category's weight per incident two or more organisations reported "
               "(0..10)"),
    PIC_LONG("pictures", "hotspots_max", hotspots_max, 0, 100, 5, "hotspots listed at most"),
    PIC_DOUBLE("pictures", "hotspot_cell_m", hotspot_cell_m, 10000, 5000000, 150000,
               "grid cell in metres that groups incidents without a place name into a hotspot "
               "(10..5000)"),
    PIC_LONG("pictures", "upcoming_days", upcoming_days, 0, 365, 14,
             "upcoming events listed up to this many days after the week"),
    PIC_LONG("pictures", "upcoming_max", upcoming_max, 0, 1000, 50,
             "upcoming events listed at most"),
    PIC_DOUBLE("pictures", "followup_radius_m", followup_radius_m, 1000, 10000000, 250000,
               "a done measure is followed up by the incidents within this many metres of it "
               "(1..10000)"),
    PIC_LONG("pictures", "followup_weeks", followup_weeks, 1, 52, 4,
             "... in this many weeks (7-day spans) before it started and after it ended"),
    PIC_LONG("pictures", "flag_weeks", flag_weeks, 0, 11, 3,
             "a hotspot that also had incidents in each of this many weeks before, with no "
             "measure near, is flagged; 0: never"),
    {"pictures", "schedule", OPT_SCHEDULE, offsetof(struct config, schedule), 0, 0, 0, "mon 07:00",
     "when the hub compiles the week that ended, every area and all: a weekday and "
     "Europe/Stockholm time (mon tue wed thu fri sat sun, HH:MM), or off"},
    PIC_LONG("pictures", "live_interval_seconds", live_interval_seconds, 0, 86400, 300,
             "the live picture of the current week is republished this many seconds after new "
             "reports arrive, at most that often; 0: no live picture"),
    {"privacy", "personal_data", OPT_CHOICE, offsetof(struct config, personal_data), 0, 1, 0,
     "reject|mask",
     "a free-text field holding a personal identity number, phone number, e-mail address or "
     "plate: reject the report, or mask it as [personnummer] (docs/personal-data.md)"},
    /* Gallring: docs/retention.md says why these defaults. */
    RET_DAYS("reports_days", reports_days, 0, 365,
             "days a report is kept after it was observed (an event: after it ended); its "
             "content is then purged, its hash kept; 0: for ever"),
    RET_CATEGORY("gathering", 1),
    RET_CATEGORY("vandalism", 2),
    RET_CATEGORY("unsafe_place", 3),
    RET_CATEGORY("upcoming_event", 4),
    RET_CATEGORY("disorder", 5),
    RET_CATEGORY("staff_incident", 6),
    RET_CATEGORY("rumour", 7),
    RET_CATEGORY("other", 8),
    RET_DAYS("measures_days", measures_days, 0, 730,
             "days a measure is kept after its last update; 0: for ever"),
    RET_DAYS("pictures_days", pictures_days, 0, 730,
             "days a situational picture is kept after it was logged; 0: for ever"),
    RET_DAYS("audit_days", audit_days, 0, 730,
             "days an audit entry is kept after it was logged; 0: for ever"),
    RET_DAYS("checkpoints_days", checkpoints_days, 0, 0,
             "days a signed checkpoint is kept (the last one always); 0: for ever"),
    {"retention", "purge_at", OPT_CLOCK, offsetof(struct config, purge_at), 0, 0, 0, "03:30",
     "when the daily purge runs, HH:MM Europe/Stockholm (and at start-up when one was "
     "missed)"},
};
#define N_OPTS (sizeof opts / sizeof opts[0])

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < N_OPTS; i++) {
		char *field = (char *)c + opts[i].offset;
		if (opts[i].type == OPT_ENDPOINT || opts[i].type == OPT_SCHEDULE ||
		    opts[i].type == OPT_CLOCK)
			snprintf(field, CONFIG_STR_MAX, "%s", opts[i].def_str);
		else if (opts[i].type == OPT_DOUBLE)
			*(double *)(void *)field = (double)opts[i].def / 1000.0;
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
	int ingest_line, feed_line; /* where [hub] set them (0: not), for check_together */
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

static void
set_double(struct load_state *st, const struct opt *o, const char *value)
{
	char *end;
	errno = 0;
	double v = strtod(value, &end);
	char why[160];
	double lo = (double)o->min / 1000.0, hi = (double)o->max / 1000.0;
	if (errno || end == value || *end != '\0' || v != v) {
		snprintf(why, sizeof why, "\"%s\" is not a number (use a point: 1.5)", value);
		problem(st, o->section, o->name, why);
	} else if (v < lo || v > hi) {
		snprintf(why, sizeof why, "must be %g..%g, got %g", lo, hi, v);
		problem(st, o->section, o->name, why);
	} else {
		*(double *)(void *)((char *)st->c + o->offset) = v;
	}
}

static void
set_schedule(struct load_state *st, const struct opt *o, const char *value)
{
	struct schedule_spec spec;
	char why[200];
	if (strlen(value) >= CONFIG_STR_MAX || schedule_parse(value, &spec, why, sizeof why) != 0)
		problem(st, o->section, o->name,
		        strlen(value) >= CONFIG_STR_MAX ? "must be 1..255 characters" : why);
	else
		snprintf((char *)st->c + o->offset, CONFIG_STR_MAX, "%s", value);
}

static void
set_choice(struct load_state *st, const struct opt *o, const char *value)
{
	const char *c = o->def_str;
	size_t n = strlen(value);
	for (long i = 0; *c; i++) {
		size_t w = strcspn(c, "|");
		if (w == n && strncmp(c, value, n) == 0) {
			*(long *)(void *)((char *)st->c + o->offset) = i;
			return;
		}
		c += w + (c[w] == '|');
	}
	char why[160];
	snprintf(why, sizeof why, "must be one of %s", o->def_str);
	problem(st, o->section, o->name, why);
}

static void
set_clock(struct load_state *st, const struct opt *o, const char *value)
{
	int minute = 0;
	char why[200];
	if (retention_clock_parse(value, &minute, why, sizeof why) != 0)
		problem(st, o->section, o->name, why);
	else
		snprintf((char *)st->c + o->offset, CONFIG_STR_MAX, "%s", value);
}

static void
set_endpoint(struct load_state *st, const struct opt *o, const char *value)
{
	char why[160];
	if (strlen(value) >= CONFIG_STR_MAX) {
		problem(st, o->section, o->name, "must be 1..255 characters");
	} else if (endpoint_check(value, ENDPOINT_BIND, why, sizeof why) != 0) {
		char text[CONFIG_STR_MAX + sizeof why + 8];
		snprintf(text, sizeof text, "\"%s\": %s", value, why);
		problem(st, o->section, o->name, text);
	} else {
		snprintf((char *)st->c + o->offset, CONFIG_STR_MAX, "%s", value);
		if (o->offset == offsetof(struct config, feed))
			st->feed_line = st->line;
		else
			st->ingest_line = st->line;
	}
}

bool
config_endpoints_clash(const char *ingest, const char *feed)
{
	return strcmp(ingest, feed) == 0 && !endpoint_port_chosen(ingest);
}

/* What no single key can tell: two endpoints the hub cannot both bind. */
static void
check_together(struct load_state *st)
{
	if (!config_endpoints_clash(st->c->ingest, st->c->feed))
		return;
	/* Named where the file set it: feed, or ingest set onto feed's default. */
	bool at_feed = st->feed_line > 0;
	st->line = at_feed ? st->feed_line : st->ingest_line;
	problem(st, "hub", at_feed ? "feed" : "ingest",
	        at_feed
	            ? "the same endpoint as [hub] ingest; the hub binds each on its own port"
	            : "the same endpoint as [hub] feed (its default); the hub binds each on its "
	              "own port");
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
		} else if (o->type == OPT_DOUBLE) {
			set_double(st, o, value);
		} else if (o->type == OPT_SCHEDULE) {
			set_schedule(st, o, value);
		} else if (o->type == OPT_CHOICE) {
			set_choice(st, o, value);
		} else if (o->type == OPT_CLOCK) {
			set_clock(st, o, value);
		} else {
			set_endpoint(st, o, value);
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
	if (st.problems == 0)
		check_together(&st);
	return st.problems;
}

/*
 * Writes text as comment lines of at most CONFIG_COMMENT_COLS columns,
 * broken between words: inih reads lines of at most 200 bytes, and a
 * reader's terminal is narrower still.
 */
#define CONFIG_COMMENT_COLS 78
static void
write_comment(FILE *f, const char *text)
{
	const size_t width = CONFIG_COMMENT_COLS - 2;
	while (*text) {
		size_t n = strlen(text);
		if (n > width) {
			n = width;
			while (n > 0 && text[n] != ' ')
				n--;
			if (n == 0) /* one word longer than a line: it gets a line of its own */
				n = strcspn(text, " ");
		}
		fprintf(f, "# %.*s\n", (int)n, text);
		text += n;
		while (*text == ' ')
			text++;
	}
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
		char help[1024];
		if (o->type == OPT_LONG)
			snprintf(help, sizeof help, "%s (%ld..%ld)", o->help, o->min, o->max);
		else if (o->type == OPT_CHOICE)
			snprintf(help, sizeof help, "%s (%s)", o->help, o->def_str);
		else
			snprintf(help, sizeof help, "%s", o->help);
		write_comment(f, help);
		if (o->type == OPT_LONG)
			fprintf(f, "%s = %ld\n", o->name, o->def);
		else if (o->type == OPT_DOUBLE)
			fprintf(f, "%s = %g\n", o->name, (double)o->def / 1000.0);
		else if (o->type == OPT_SCHEDULE || o->type == OPT_CLOCK)
			fprintf(f, "%s = %s\n", o->name, o->def_str);
		else if (o->type == OPT_CHOICE)
			fprintf(f, "%s = %.*s\n", o->name, (int)strcspn(o->def_str, "|"),
			        o->def_str);
		else if (strcmp(o->name, "ingest") == 0)
			fprintf(f, "%s = %s\n", o->name, ingest ? ingest : o->def_str);
		else if (strcmp(o->name, "feed") == 0)
			fprintf(f, "%s = %s\n", o->name, feed ? feed : o->def_str);
	}
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
