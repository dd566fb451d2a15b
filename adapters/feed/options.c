/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options: the command line of est-feed (see options.h). Every value is
 * checked here, before anything connects, so a typo is a usage error with
 * exit 1 and not a subscription the hub refuses.
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "state.h"
#include "wire/diag.h"
#include "wire/endpoint.h"
#include "wire/ids.h"

#define OPT_DEFAULT_HUB         "tcp://127.0.0.1:7602"
#define OPT_DEFAULT_CREDIT      1000
#define OPT_MAX_CREDIT          100000 /* the hub's largest window */
#define OPT_UNTIL_HEAD_TIMEOUT  60
#define OPT_MAX_TIMEOUT_SECONDS (86400 * 365)

enum {
	OPT_HUB = 256,
	OPT_HUB_CERT,
	OPT_CERT,
	OPT_TOPIC,
	OPT_FROM,
	OPT_STATE,
	OPT_JSON,
	OPT_UNTIL_HEAD,
	OPT_CREDIT,
	OPT_TIMEOUT,
	OPT_VERBOSE,
	OPT_HTML,
	OPT_CSV,
	OPT_GEOJSON,
	OPT_LANG,
	OPT_AREAS,
	OPT_SUMMARY,
	OPT_SIGN_KEY,
	OPT_HELP
};

static const struct option long_opts[] = {
    {"hub", required_argument, NULL, OPT_HUB},
    {"hub-cert", required_argument, NULL, OPT_HUB_CERT},
    {"cert", required_argument, NULL, OPT_CERT},
    {"topic", required_argument, NULL, OPT_TOPIC},
    {"from", required_argument, NULL, OPT_FROM},
    {"state", required_argument, NULL, OPT_STATE},
    {"json", no_argument, NULL, OPT_JSON},
    {"until-head", no_argument, NULL, OPT_UNTIL_HEAD},
    {"credit", required_argument, NULL, OPT_CREDIT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"html", required_argument, NULL, OPT_HTML},
    {"csv", required_argument, NULL, OPT_CSV},
    {"geojson", required_argument, NULL, OPT_GEOJSON},
    {"lang", required_argument, NULL, OPT_LANG},
    {"areas", required_argument, NULL, OPT_AREAS},
    {"summary", no_argument, NULL, OPT_SUMMARY},
    {"sign-key", required_argument, NULL, OPT_SIGN_KEY},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: est-feed --hub-cert FILE --cert FILE [options]\n"
	        "Follows feeds of the esthub log and prints one line per entry:\n"
	        "  seq topic org local-time summary   (--json: one LogEntry a line)\n"
	        "\n"
	        "  --hub EP          the hub's feed endpoint (default " OPT_DEFAULT_HUB ")\n"
	        "  --hub-cert FILE   the hub's public certificate (DIR/keys/hub)\n"
	        "  --cert FILE       this client's secret certificate (mode 0600)\n"
	        "  --topic T         AREA/KIND, * for a whole segment; repeatable, at most %d\n"
	        "                    (default */*: everything the certificate may read)\n"
	        "  --from SEQ        0: only what is appended from now on (default);\n"
	        "                    N: every entry from seq N, then live. Wins over --state\n"
	        "  --state FILE      remember the last seq printed and resume after it\n"
	        "                    (a new file starts from seq 1)\n"
	        "  --json            one LogEntry in the protobuf JSON mapping a line\n"
	        "  --until-head      exit 0 once everything up to the hub's head at\n"
	        "                    subscription time has been printed\n"
	        "  --credit N        entries the hub may send ahead (default %d, 1..%d)\n"
	        "  --timeout S       exit 2 when the hub does not answer within S seconds\n"
	        "                    (default: wait for ever; with --until-head %d)\n"
	        "  --sign-key FILE   the hub's public signing key (DIR/keys/sign.pem): every\n"
	        "                    picture and checkpoint must carry the hub's signature;\n"
	        "                    one that does not verify is not shown, and est-feed\n"
	        "                    exits 1 at the end. Without it nothing is checked\n"
	        "\n"
	        "Pictures (entries of AREA/pictures; other entries are passed over):\n"
	        "  --html DIR        a self-contained HTML page per picture, DIR/WEEK-AREA.html\n"
	        "                    (2026-W47-hageby.html), and DIR/index.html listing them\n"
	        "  --csv DIR         DIR/WEEK-AREA.csv (categories) and WEEK-AREA-places.csv\n"
	        "                    (hotspots, measures) for Excel: UTF-8 BOM, ';', comma\n"
	        "  --geojson DIR     DIR/WEEK-AREA.geojson for QGIS (WGS 84)\n"
	        "  --summary         a short text block per picture instead of a line per\n"
	        "                    entry; with --until-head all at the end, ranked\n"
	        "  --lang sv|en      language of the lines, pages, CSV headers and summary\n"
	        "                    (default sv)\n"
	        "  --areas FILE      the areas' polygons for maps (the instance's\n"
	        "                    areas.geojson; default: the built-in Norrköping areas)\n"
	        "\n"
	        "  --verbose         say more on stderr\n"
	        "  --help            this text\n"
	        "\n"
	        "Exit: 0 done or interrupted, 1 usage error or an entry whose signature\n"
	        "does not verify (--sign-key), 2 environment error\n"
	        "(unreadable file, certificate refused, no answer in time).\n",
	        FOLLOW_MAX_TOPICS, OPT_DEFAULT_CREDIT, OPT_MAX_CREDIT, OPT_UNTIL_HEAD_TIMEOUT);
}

/* Parses a decimal number in [min, max] into *out; -1 (reported) when it is not one. */
static int
parse_number(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long long v = (s[0] >= '0' && s[0] <= '9') ? strtoull(s, &end, 10) : 0;
	if (end == NULL || *end != '\0' || errno != 0 || v < min || v > max) {
		diag_say("%s: \"%s\" is not a number from %llu to %llu", opt, s,
		         (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

static int
add_topic(struct follow_opts *o, const char *t)
{
	if (!ids_topic_pattern_valid(t)) {
		diag_say("--topic: \"%s\" is not a topic (AREA/KIND, * for a whole segment, "
		         "e.g. hageby/reports, */pictures)",
		         t);
		return -1;
	}
	if (o->n_topics == FOLLOW_MAX_TOPICS) {
		diag_say("--topic: at most %d topics", FOLLOW_MAX_TOPICS);
		return -1;
	}
	o->topics[o->n_topics++] = t;
	return 0;
}

struct parsed {
	bool from_set;
	bool timeout_set;
	uint64_t number;
};

/* Says what getopt found wrong with argv[optind - 1]. */
static void
bad_option(int c, char **argv)
{
	if (c == ':')
		diag_say("option %s needs a value; try --help", argv[optind - 1]);
	else
		diag_say("unknown option %s; try --help", argv[optind - 1]);
}

/* --hub EP: 0 when EP is an endpoint to connect to, else -1 after saying why not. */
static int
hub_option(const char *ep)
{
	char why[160];
	if (endpoint_check(ep, ENDPOINT_CONNECT, why, sizeof why) == 0)
		return 0;
	diag_say("--hub \"%s\": %s", ep, why);
	return -1;
}

/* Handles one option; 0, 1 for --help, -1 (reported) or -2 for getopt's complaint. */
static int
take_option(int c, const char *arg, struct follow_opts *o, struct parsed *p)
{
	switch (c) {
	case OPT_HUB:
		o->hub = arg;
		return hub_option(arg);
	case OPT_HUB_CERT:
		o->hub_cert = arg;
		return 0;
	case OPT_CERT:
		o->cert = arg;
		return 0;
	case OPT_TOPIC:
		return add_topic(o, arg);
	case OPT_FROM:
		p->from_set = true;
		return parse_number("--from", arg, 0, UINT64_MAX, &o->from);
	case OPT_STATE:
		o->state_path = arg;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_UNTIL_HEAD:
		o->until_head = true;
		return 0;
	case OPT_CREDIT:
		if (parse_number("--credit", arg, 1, OPT_MAX_CREDIT, &p->number))
			return -1;
		o->credit = (uint32_t)p->number;
		return 0;
	case OPT_TIMEOUT:
		p->timeout_set = true;
		if (parse_number("--timeout", arg, 0, OPT_MAX_TIMEOUT_SECONDS, &p->number))
			return -1;
		o->timeout_ms = (int64_t)p->number * 1000;
		return 0;
	case OPT_VERBOSE:
		diag_set_verbose(1);
		return 0;
	case OPT_HTML:
		o->out.html_dir = arg;
		return 0;
	case OPT_CSV:
		o->out.csv_dir = arg;
		return 0;
	case OPT_GEOJSON:
		o->out.geojson_dir = arg;
		return 0;
	case OPT_AREAS:
		o->out.areas_path = arg;
		return 0;
	case OPT_SIGN_KEY:
		o->sign_key = arg;
		return 0;
	case OPT_SUMMARY:
		o->out.summary = true;
		return 0;
	case OPT_LANG:
		if (i18n_lang_parse(arg, &o->out.lang) != 0) {
			diag_say("--lang: \"%s\" is not a language of est-feed (sv or en)", arg);
			return -1;
		}
		return 0;
	case OPT_HELP:
		usage(stdout);
		return 1;
	default:
		return -2;
	}
}

/*
 * --state FILE's directory must take new files (the state is written
 * aside and renamed over FILE), told before anything is followed: else
 * every save fails, and the next start resumes from the last good one.
 * 0, or -exit code (reported).
 */
static int
state_dir_check(const char *path)
{
	char copy[PATH_MAX];
	if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy) {
		diag_say("--state %s: path too long", path);
		return -EXIT_INPUT;
	}
	const char *dir = dirname(copy);
	if (access(dir, W_OK | X_OK) != 0) {
		diag_say("--state %s: cannot write in %s: %s", path, dir, strerror(errno));
		return -EXIT_ENV;
	}
	return 0;
}

/*
 * --from wins; else --state resumes after the seq it holds (a new file
 * holds none: from seq 1); else from 0. Returns 0 or -exit code (reported).
 */
static int
resolve_from(struct follow_opts *o, const struct parsed *p)
{
	if (p->from_set || o->state_path == NULL)
		return 0;
	uint64_t last = 0;
	int exit_code = EXIT_INPUT;
	char err[512];
	if (state_read(o->state_path, &last, &exit_code, err, sizeof err) < 0) {
		diag_say("%s", err);
		return -exit_code;
	}
	if (last == UINT64_MAX) {
		diag_say("%s: seq out of range", o->state_path);
		return -EXIT_INPUT;
	}
	o->from = last + 1;
	o->from_state = last > 0;
	diag_debug("%s: resuming after seq %llu", o->state_path, (unsigned long long)last);
	return 0;
}

int
options_parse(int argc, char **argv, struct follow_opts *o)
{
	struct parsed p = {0};
	memset(o, 0, sizeof *o);
	o->hub = OPT_DEFAULT_HUB;
	o->credit = OPT_DEFAULT_CREDIT;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
		int rc = take_option(c, optarg, o, &p);
		if (rc == -2)
			bad_option(c, argv);
		if (rc != 0)
			return rc > 0 ? 1 : -EXIT_INPUT;
	}
	if (optind < argc) {
		diag_say("unexpected argument \"%s\"; try --help", argv[optind]);
		return -EXIT_INPUT;
	}
	if (o->hub_cert == NULL || o->cert == NULL) {
		diag_say("--hub-cert FILE and --cert FILE are required; try --help");
		return -EXIT_INPUT;
	}
	if (o->n_topics == 0)
		o->topics[o->n_topics++] = "*/*";
	if (o->out.summary && o->json) {
		diag_say("--summary and --json both say what to print; choose one");
		return -EXIT_INPUT;
	}
	o->out.buffered = o->out.summary && o->until_head;
	if (!p.timeout_set && o->until_head)
		o->timeout_ms = OPT_UNTIL_HEAD_TIMEOUT * 1000;
	if (o->state_path != NULL) {
		int rc = state_dir_check(o->state_path);
		if (rc != 0)
			return rc;
	}
	return resolve_from(o, &p);
}
