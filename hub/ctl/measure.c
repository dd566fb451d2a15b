/* SPDX-License-Identifier: Apache-2.0 */
/*
 * measure: `estctl measure add / set / show / list`. The running hub judges
 * and logs every change (hub/measure_ctl.c); this file only turns the
 * command line into a ControlRequest and the reply into lines people read
 * (times in Europe/Stockholm). Kinds and statuses are the enum names
 * without prefix in lower case ("lighting", "in_progress").
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctl.h"
#include "est.pb-c.h"
#include "measure.h"
#include "wire/codec.h"
#include "wire/diag.h"
#include "wire/timefmt.h"

/* Sends req to the hub; the reply in *reply, or the exit code of a failure (said on stderr). */
static int
ask(const char *dir, const Est__V1__ControlRequest *req, const char *what,
    Est__V1__ControlReply **reply)
{
	int rc = ctl_ask_hub(dir, req, CTL_CONTROL_TIMEOUT_MS, "", reply);
	if (rc != 0)
		return rc;
	if (!(*reply)->ok) {
		diag_say("measure %s: %s", what, (*reply)->message);
		est__v1__control_reply__free_unpacked(*reply, NULL);
		*reply = NULL;
		return EXIT_INPUT;
	}
	return EXIT_OK;
}

static int
parse_enum(const ProtobufCEnumDescriptor *d, const char *prefix, const char *opt, const char *s,
           const char *known, int *out)
{
	int v = wire_enum_parse(d, prefix, s);
	if (v <= 0) {
		diag_say("%s: unknown value \"%s\" (one of %s)", opt, s, known);
		return -1;
	}
	*out = v;
	return 0;
}

#define KINDS                                                                                      \
	"presence, lighting, vegetation, wifi, cleanup, outreach, skills_training, leisure, "      \
	"parental_support, other"
#define STATUSES "proposed, decided, in_progress, done, cancelled"

static int
parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi) {
		diag_say("%s: \"%s\" is not a number from %g to %g", opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* "12,15,40" into a new array (*seqs, caller frees) of *n seqs. */
static int
parse_seqs(const char *s, uint64_t **seqs, size_t *n)
{
	size_t cap = 1;
	for (const char *p = s; *p; p++)
		cap += *p == ',';
	*seqs = calloc(cap, sizeof **seqs);
	*n = 0;
	if (*seqs == NULL) {
		diag_say("--reports: out of memory");
		return -1;
	}
	const char *p = s;
	for (;;) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(p, &end, 10);
		if (errno != 0 || end == p || v == 0 || *p == '-' ||
		    (*end != ',' && *end != '\0')) {
			diag_say("--reports: \"%s\" is not a list of log seqs (12,15,40)", s);
			return -1;
		}
		(*seqs)[(*n)++] = v;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

static int
parse_time(const char *opt, const char *s, int64_t *out)
{
	char err[256];
	if (timefmt_parse(s, out, err, sizeof err) == 0)
		return 0;
	diag_say("%s: %s", opt, err);
	return -1;
}

struct add_args {
	Est__V1__Measure m;
	Est__V1__Position pos;
	bool has_lat, has_lon;
};

/* One option of `measure add` into a; 0, or -1 when its value is bad (said). */
static int
add_option(struct add_args *a, int c, const char *v)
{
	int e;
	switch (c) {
	case 'a':
		a->m.area = (char *)(uintptr_t)v;
		return 0;
	case 'k':
		if (parse_enum(&est__v1__measure_kind__descriptor, "MEASURE_KIND_", "--kind", v,
		               KINDS, &e) != 0)
			return -1;
		a->m.kind = (Est__V1__MeasureKind)e;
		return 0;
	case 'o':
		a->m.assigned_org = (char *)(uintptr_t)v;
		return 0;
	case 'p':
		a->m.place = (char *)(uintptr_t)v;
		return 0;
	case 'x':
		a->has_lat = true;
		return parse_double("--lat", v, -90, 90, &a->pos.lat);
	case 'y':
		a->has_lon = true;
		return parse_double("--lon", v, -180, 180, &a->pos.lon);
	case 'r':
		free(a->m.report_seqs);
		return parse_seqs(v, &a->m.report_seqs, &a->m.n_report_seqs);
	case 's':
		return parse_time("--starts", v, &a->m.starts_at);
	case 'e':
		return parse_time("--ends", v, &a->m.ends_at);
	case 'd':
		a->m.description = (char *)(uintptr_t)v;
		return 0;
	case 'S':
		if (parse_enum(&est__v1__measure_status__descriptor, "MEASURE_STATUS_", "--status",
		               v, "proposed, decided", &e) != 0)
			return -1;
		a->m.status = (Est__V1__MeasureStatus)e;
		return 0;
	default:
		return -1;
	}
}

int
ctl_measure_add(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"area", required_argument, NULL, 'a'},
	    {"kind", required_argument, NULL, 'k'},
	    {"org", required_argument, NULL, 'o'},
	    {"place", required_argument, NULL, 'p'},
	    {"lat", required_argument, NULL, 'x'},
	    {"lon", required_argument, NULL, 'y'},
	    {"reports", required_argument, NULL, 'r'},
	    {"starts", required_argument, NULL, 's'},
	    {"ends", required_argument, NULL, 'e'},
	    {"description", required_argument, NULL, 'd'},
	    {"status", required_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	struct add_args a = {0};
	est__v1__measure__init(&a.m);
	est__v1__position__init(&a.pos);
	int c, rc = EXIT_INPUT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == ':' || c == '?') {
			ctl_bad_option(c, argv);
			goto out;
		}
		if (add_option(&a, c, optarg) != 0)
			goto out;
	}
	if (ctl_no_more_args(argc, argv, optind))
		goto out;
	if (a.has_lat != a.has_lon) {
		diag_say("--lat and --lon go together");
		goto out;
	}
	if (a.m.area[0] == '\0' || a.m.kind == 0 || a.m.assigned_org[0] == '\0') {
		diag_say(
		    "measure add needs --area, --kind and --org; try estctl measure add --help");
		goto out;
	}
	if (a.has_lat)
		a.m.position = &a.pos;
	Est__V1__ControlRequest req;
	est__v1__control_request__init(&req);
	req.body_case = EST__V1__CONTROL_REQUEST__BODY_MEASURE_ADD;
	req.measure_add = &a.m;
	Est__V1__ControlReply *reply = NULL;
	rc = ask(dir, &req, "add", &reply);
	if (rc == EXIT_OK) {
		printf("%s\n", reply->message);
		est__v1__control_reply__free_unpacked(reply, NULL);
	}
out:
	free(a.m.report_seqs);
	return rc;
}

int
ctl_measure_set(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"status", required_argument, NULL, 'S'},
	    {"outcome", required_argument, NULL, 'O'},
	    {NULL, 0, NULL, 0},
	};
	Est__V1__Measure m;
	est__v1__measure__init(&m);
	int c, e;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'S') {
			if (parse_enum(&est__v1__measure_status__descriptor, "MEASURE_STATUS_",
			               "--status", optarg, STATUSES, &e) != 0)
				return EXIT_INPUT;
			m.status = (Est__V1__MeasureStatus)e;
		} else if (c == 'O') {
			m.outcome = optarg;
		} else {
			ctl_bad_option(c, argv);
			return EXIT_INPUT;
		}
	}
	if (optind >= argc) {
		diag_say(
		    "measure set needs the measure's id (estctl measure set m3 --status done)");
		return EXIT_INPUT;
	}
	m.measure_id = argv[optind];
	if (ctl_no_more_args(argc, argv, optind + 1))
		return EXIT_INPUT;
	if (m.status == 0 && m.outcome[0] == '\0') {
		diag_say("measure set needs --status, --outcome or both");
		return EXIT_INPUT;
	}
	Est__V1__ControlRequest req;
	est__v1__control_request__init(&req);
	req.body_case = EST__V1__CONTROL_REQUEST__BODY_MEASURE_SET;
	req.measure_set = &m;
	Est__V1__ControlReply *reply = NULL;
	int rc = ask(dir, &req, "set", &reply);
	if (rc == EXIT_OK) {
		printf("%s\n", reply->message);
		est__v1__control_reply__free_unpacked(reply, NULL);
	}
	return rc;
}

static const char *
text_or_dash(const char *s)
{
	return (s && s[0]) ? s : "-";
}

static void
print_time(const char *label, int64_t t)
{
	char buf[32];
	if (t == 0)
		return;
	timefmt_local(t, buf, sizeof buf);
	printf("  %-13s %s\n", label, buf);
}

static void
print_followup(const Est__V1__Followup *f)
{
	char b0[32], b1[32], a0[32], a1[32];
	timefmt_local(f->before_start, b0, sizeof b0);
	timefmt_local(f->before_end, b1, sizeof b1);
	timefmt_local(f->after_start, a0, sizeof a0);
	timefmt_local(f->after_end, a1, sizeof a1);
	printf("follow-up (incidents within %.0f m, %u weeks before and after):\n", f->radius_m,
	       f->weeks);
	printf("  before        %u  (%s .. %s)\n", f->incidents_before, b0, b1);
	printf("  after         %u  (%s .. %s)\n", f->incidents_after, a0, a1);
}

static void
print_measure(const Est__V1__Measure *m)
{
	printf("measure %s\n", m->measure_id);
	printf("  %-13s %s\n", "area", m->area);
	printf("  %-13s %s\n", "kind", measure_kind_word(m->kind));
	printf("  %-13s %s\n", "group",
	       m->group ? measure_group_word(m->group) : "none (assigned to an organisation)");
	printf("  %-13s %s\n", "assigned to", m->assigned_org);
	printf("  %-13s %s\n", "status", measure_status_word(m->status));
	if (m->place[0])
		printf("  %-13s %s\n", "place", m->place);
	if (m->position)
		printf("  %-13s %.6f, %.6f\n", "position", m->position->lat, m->position->lon);
	print_time("starts", m->starts_at);
	print_time("ends", m->ends_at);
	if (m->n_report_seqs) {
		printf("  %-13s", "reports");
		for (size_t i = 0; i < m->n_report_seqs; i++)
			printf("%s%llu", i ? ", " : " ", (unsigned long long)m->report_seqs[i]);
		printf("\n");
	}
	printf("  %-13s %s\n", "description", text_or_dash(m->description));
	printf("  %-13s %s\n", "outcome", text_or_dash(m->outcome));
}

int
ctl_measure_show(const char *dir, int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-') {
		diag_say("measure show needs the measure's id (estctl measure show m3)");
		return EXIT_INPUT;
	}
	if (ctl_no_more_args(argc, argv, 2))
		return EXIT_INPUT;
	Est__V1__ControlRequest req;
	est__v1__control_request__init(&req);
	req.body_case = EST__V1__CONTROL_REQUEST__BODY_MEASURE_SHOW;
	req.measure_show = argv[1];
	Est__V1__ControlReply *reply = NULL;
	int rc = ask(dir, &req, "show", &reply);
	if (rc != EXIT_OK)
		return rc;
	if (reply->n_measures == 1)
		print_measure(reply->measures[0]);
	for (size_t i = 0; i < reply->n_followups; i++)
		print_followup(reply->followups[i]);
	est__v1__control_reply__free_unpacked(reply, NULL);
	return EXIT_OK;
}

int
ctl_measure_list(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"area", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	Est__V1__ControlRequest req;
	est__v1__control_request__init(&req);
	req.body_case = EST__V1__CONTROL_REQUEST__BODY_MEASURE_LIST;
	req.measure_list = (char *)"";
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'a') {
			req.measure_list = optarg;
		} else {
			ctl_bad_option(c, argv);
			return EXIT_INPUT;
		}
	}
	if (ctl_no_more_args(argc, argv, optind))
		return EXIT_INPUT;
	Est__V1__ControlReply *reply = NULL;
	int rc = ask(dir, &req, "list", &reply);
	if (rc != EXIT_OK)
		return rc;
	for (size_t i = 0; i < reply->n_measures; i++) {
		const Est__V1__Measure *m = reply->measures[i];
		char from[32] = "-", to[32] = "-";
		if (m->starts_at)
			timefmt_local(m->starts_at, from, sizeof from);
		if (m->ends_at)
			timefmt_local(m->ends_at, to, sizeof to);
		printf("%-6s %-14s %-16s %-11s %-12s %-11s %s .. %s  %s\n", m->measure_id, m->area,
		       measure_kind_word(m->kind), m->group ? measure_group_word(m->group) : "-",
		       m->assigned_org, measure_status_word(m->status), from, to,
		       text_or_dash(m->place));
	}
	if (reply->n_measures == 0 || strncmp(reply->message, "the first", 9) == 0)
		fprintf(stderr, "%s\n", reply->message);
	est__v1__control_reply__free_unpacked(reply, NULL);
	return EXIT_OK;
}
