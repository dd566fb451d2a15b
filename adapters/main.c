/* SPDX-License-Identifier: Apache-2.0 */
/*
 * est-adapter: pushes partner reports to the hub. Wires the runtime in the
 * order of the data flow: the options, the outbox, the partner files through
 * their translator into the outbox (intake), the outbox to the hub (sender),
 * each record's outcome to stdout (outcome), and the exit code.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/format.h"
#include "runtime/intake.h"
#include "runtime/outbox.h"
#include "runtime/outcome.h"
#include "runtime/sender.h"
#include "runtime/stop.h"
#include "wire/diag.h"

#define MAX_PENDING_LIMIT 100000000UL
#define TIMEOUT_LIMIT_S   (7UL * 24 * 3600)

struct options {
	struct sender_options send;
	const struct format *format;
	const char *outbox;
	size_t max_pending;
	bool json;
	char **files;
	size_t n_files;
};

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: est-adapter --hub EP --hub-cert FILE --cert FILE --format F [options] "
	        "[FILE...]\n"
	        "\n"
	        "Reads partner FILEs, queues every record in a durable outbox, sends them to the\n"
	        "hub and prints each record's outcome. Records left in the outbox by an earlier\n"
	        "run are sent too, so FILE may be left out to deliver those alone.\n"
	        "\n"
	        "  --hub EP           the hub's ingest endpoint (tcp://HOST:PORT)\n"
	        "  --hub-cert FILE    the hub's public certificate\n"
	        "  --cert FILE        our secret certificate (mode 0600)\n"
	        "  --format F         the format of the FILEs, one of:\n");
	for (size_t i = 0; format_at(i); i++)
		fprintf(out, "                       %-17s %s\n", format_at(i)->name,
		        format_at(i)->summary);
	fprintf(out,
	        "  --outbox FILE      the outbox (SQLite; default ./%s)\n"
	        "  --max-pending N    refuse new files once N records wait in the outbox "
	        "(default %d)\n"
	        "  --batch N          reports per envelope, 1..%d (default %d)\n"
	        "  --window N         envelopes awaiting an answer, 1..%d (default %d)\n"
	        "  --timeout S        give up when records are unanswered after S seconds "
	        "(default %d)\n"
	        "  --json             print one est.v1.Result a line (protobuf JSON mapping)\n"
	        "  --verbose          say more on stderr\n"
	        "  --help             this text\n"
	        "\n"
	        "Output, one line a record, as answers arrive:\n"
	        "  FILE:RECORD SOURCE_ID REVISION STATUS SEQ-OR-REASON\n"
	        "STATUS is accepted or duplicate (then the log seq), rejected or skipped (then\n"
	        "the reason). RECORD is the line or record number in FILE. A record that could\n"
	        "not be translated reads FILE:RECORD - - rejected FIELD: REASON. A record with\n"
	        "the same content as one sent before is not sent again and gets that one's\n"
	        "outcome. With --json a skipped record has no status and error \"skipped: ...\";\n"
	        "one that could not be translated has error \"FILE:RECORD: FIELD: REASON\".\n"
	        "\n"
	        "Exit status: 0 every record accepted, duplicate or skipped; 1 a usage error or\n"
	        "a record rejected or not translated (the others are delivered); 2 an environment\n"
	        "error: a file or the outbox cannot be used, the outbox is full, the hub refused\n"
	        "our certificate, no answer within --timeout, or a signal (records not answered\n"
	        "stay queued in the outbox for the next run).\n",
	        OUTBOX_DEFAULT_PATH, OUTBOX_DEFAULT_MAX_PENDING, SENDER_MAX_BATCH,
	        SENDER_DEFAULT_BATCH, SENDER_MAX_WINDOW, SENDER_DEFAULT_WINDOW,
	        SENDER_DEFAULT_TIMEOUT_S);
}

/* Parses a decimal number in [min, max]; -1 when s is not one. */
static int
parse_number(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parses the number of option --name into *out; -1 after saying why. */
static int
option_number(const char *name, const char *arg, unsigned long min, unsigned long max,
              unsigned long *out)
{
	if (parse_number(arg, min, max, out) == 0)
		return 0;
	diag_say("--%s: expected a whole number from %lu to %lu, not '%s'", name, min, max, arg);
	return -1;
}

enum {
	OPT_HUB = 256,
	OPT_HUB_CERT,
	OPT_CERT,
	OPT_FORMAT,
	OPT_OUTBOX,
	OPT_MAX_PENDING,
	OPT_BATCH,
	OPT_WINDOW,
	OPT_TIMEOUT,
	OPT_JSON,
	OPT_VERBOSE,
	OPT_HELP,
};

static const struct option long_options[] = {
    {"hub", required_argument, NULL, OPT_HUB},
    {"hub-cert", required_argument, NULL, OPT_HUB_CERT},
    {"cert", required_argument, NULL, OPT_CERT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"outbox", required_argument, NULL, OPT_OUTBOX},
    {"max-pending", required_argument, NULL, OPT_MAX_PENDING},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"json", no_argument, NULL, OPT_JSON},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* One option; 0, 1 for --help, -1 after saying what is wrong. */
static int
option_set(struct options *o, int c, const char *arg)
{
	unsigned long v = 0;
	int rc = 0;
	switch (c) {
	case OPT_HUB:
		o->send.hub = arg;
		break;
	case OPT_HUB_CERT:
		o->send.hub_cert = arg;
		break;
	case OPT_CERT:
		o->send.cert = arg;
		break;
	case OPT_FORMAT:
		o->format = format_find(arg);
		if (o->format == NULL) {
			diag_say("--format: unknown format '%s' (see --help)", arg);
			rc = -1;
		}
		break;
	case OPT_OUTBOX:
		o->outbox = arg;
		break;
	case OPT_MAX_PENDING:
		rc = option_number("max-pending", arg, 1, MAX_PENDING_LIMIT, &v);
		o->max_pending = v;
		break;
	case OPT_BATCH:
		rc = option_number("batch", arg, 1, SENDER_MAX_BATCH, &v);
		o->send.batch = (unsigned)v;
		break;
	case OPT_WINDOW:
		rc = option_number("window", arg, 1, SENDER_MAX_WINDOW, &v);
		o->send.window = (unsigned)v;
		break;
	case OPT_TIMEOUT:
		rc = option_number("timeout", arg, 1, TIMEOUT_LIMIT_S, &v);
		o->send.timeout_s = (unsigned)v;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_VERBOSE:
		diag_set_verbose(1);
		break;
	case OPT_HELP:
		rc = 1;
		break;
	default:
		rc = -1;
	}
	return rc;
}

/* The options every run needs; -1 after naming the first one missing. */
static int
options_check(const struct options *o)
{
	const char *missing = !o->send.hub        ? "--hub"
	                      : !o->send.hub_cert ? "--hub-cert"
	                      : !o->send.cert     ? "--cert"
	                      : !o->format        ? "--format"
	                                          : NULL;
	if (missing == NULL)
		return 0;
	diag_say("%s is required (see --help)", missing);
	return -1;
}

/* Fills o from argv; 0, 1 when --help was printed, -1 after a usage error was said. */
static int
options_parse(struct options *o, int argc, char **argv)
{
	*o = (struct options){.send = {.batch = SENDER_DEFAULT_BATCH,
	                               .window = SENDER_DEFAULT_WINDOW,
	                               .timeout_s = SENDER_DEFAULT_TIMEOUT_S},
	                      .outbox = OUTBOX_DEFAULT_PATH,
	                      .max_pending = OUTBOX_DEFAULT_MAX_PENDING};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (c == '?') {
			diag_say("unknown option or missing value: %s (see --help)",
			         argv[optind - 1]);
			return -1;
		}
		int rc = option_set(o, c, optarg);
		if (rc == 1) {
			usage(stdout);
			return 1;
		}
		if (rc != 0)
			return -1;
	}
	o->files = argv + optind;
	o->n_files = (size_t)(argc - optind);
	return options_check(o);
}

/*
 * Queues the files one by one. Stops at a full outbox or a signal; a file
 * that cannot be read is said and left out. Returns true when all went in.
 */
static bool
run_intake(const struct options *o, struct outbox *ob, struct outcome *out)
{
	char err[1024];
	bool all = true;
	for (size_t i = 0; i < o->n_files && !stop_requested(); i++) {
		int rc =
		    intake_file(ob, o->format, o->files[i], outcome_print, out, err, sizeof err);
		if (rc == INTAKE_OK)
			continue;
		all = false;
		if (rc == INTAKE_FULL) {
			size_t more = o->n_files - i - 1;
			diag_say("%s%s not queued: %s", o->files[i],
			         more == 0   ? ""
			         : more == 1 ? " and 1 more file"
			                     : " and the files after it",
			         err);
			break;
		}
		diag_say("%s", err);
	}
	return all && !stop_requested();
}

/* Sends what is pending; true when every record has its outcome. */
static bool
run_send(const struct options *o, struct outbox *ob, struct outcome *out)
{
	char err[1024] = "";
	if (outbox_pending(ob) == 0)
		return true;
	enum sender_end end = sender_run(ob, &o->send, outcome_print, out, err, sizeof err);
	if (end == SENDER_DONE)
		return true;
	if (end == SENDER_STOPPED)
		snprintf(err, sizeof err, "stopped by a signal");
	diag_say("%s; %zu records stay queued in %s", err, outbox_pending(ob), outbox_path(ob));
	return false;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct outcome out;
	struct outbox *ob = NULL;
	char err[1024];
	int code = EXIT_ENV;

	diag_init(argv[0]);
	int rc = options_parse(&o, argc, argv);
	if (rc != 0)
		return rc > 0 ? EXIT_OK : EXIT_INPUT;
	if (stop_install() != 0) {
		diag_say("cannot install signal handlers: %s", strerror(errno));
		return EXIT_ENV;
	}
	/* Without files there is only an existing outbox to deliver: do not create one. */
	if (o.n_files == 0 && access(o.outbox, F_OK) != 0) {
		diag_say("no FILE given and no outbox %s to deliver (see --help)", o.outbox);
		return EXIT_INPUT;
	}
	ob = outbox_open(o.outbox, o.max_pending, err, sizeof err);
	if (ob == NULL) {
		diag_say("%s", err);
		return EXIT_ENV;
	}
	if (o.n_files == 0 && outbox_pending(ob) == 0) {
		diag_say("no FILE given and nothing pending in %s (see --help)", o.outbox);
		code = EXIT_INPUT;
		goto out;
	}
	outcome_init(&out, stdout, o.json);
	bool queued = run_intake(&o, ob, &out);
	bool sent = false;
	if (stop_requested())
		diag_say("stopped by a signal; %zu records stay queued in %s", outbox_pending(ob),
		         outbox_path(ob));
	else
		sent = run_send(&o, ob, &out);
	if (queued && sent)
		code = outcome_exit_code(&out);
	diag_debug("%zu accepted, %zu duplicate, %zu rejected, %zu skipped", out.accepted,
	           out.duplicate, out.rejected, out.skipped);
out:
	outbox_destroy(&ob);
	return code;
}
