/* SPDX-License-Identifier: Apache-2.0 */
/*
 * est-adapter: pushes partner reports to the hub. Wires the runtime in the
 * order of the data flow: the options (a configuration file under the
 * command line), the outbox, the partner input through its translator into
 * the outbox (intake: files on the command line, the drop directory of
 * watch, the HTTP endpoint of listen), the outbox to the hub (sender, whose
 * loop also runs watch and listen), each record's outcome to stdout
 * (outcome) and back to the file or request it came from, and the exit code.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/adapter_config.h"
#include "runtime/format.h"
#include "runtime/geo.h"
#include "runtime/intake.h"
#include "runtime/listen.h"
#include "runtime/mapping.h"
#include "runtime/outbox.h"
#include "runtime/outcome.h"
#include "runtime/sender.h"
#include "runtime/stop.h"
#include "runtime/watch.h"
#include "wire/diag.h"
#include "wire/endpoint.h"
#include "wire/timefmt.h"

#define MAX_PENDING_LIMIT 100000000UL
#define TIMEOUT_LIMIT_S   (7UL * 24 * 3600)

struct options {
	struct sender_options send;
	const struct format *format;
	const char *outbox;
	size_t max_pending;
	bool resend;           /* --resend-after given */
	uint64_t resend_after; /* its seq */
	bool json;
	const char *config; /* --config FILE */
	const char *check;  /* --check FILE */
	const char *watch;  /* --watch DIR */
	struct listen_options listen;
	char **files;
	size_t n_files;
};

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: est-adapter [--config FILE] --hub EP --hub-cert FILE --cert FILE --format F\n"
	    "                   [options] [FILE...]\n"
	    "       est-adapter ... --watch DIR | --listen HOST:PORT\n"
	    "       est-adapter --check FILE\n"
	    "\n"
	    "Reads partner FILEs, queues every record in a durable outbox, sends them to the\n"
	    "hub and prints each record's outcome. Records left in the outbox by an earlier\n"
	    "run are sent too, so FILE may be left out to deliver those alone. With --watch\n"
	    "or --listen it keeps running (SIGTERM or SIGINT: exit 0; what is queued stays\n"
	    "in the outbox) and takes input as it comes, also while the hub is away.\n"
	    "\n"
	    "  --config FILE      take options from this configuration file (INI, see\n"
	    "                     config/adapters/); options on the command line win\n"
	    "  --check FILE       check a configuration file: 'configuration OK' or one\n"
	    "                     FILE:LINE: section.key: reason line per problem (exit 1)\n"
	    "  --hub EP           the hub's ingest endpoint (tcp://HOST:PORT)\n"
	    "  --hub-cert FILE    the hub's public certificate\n"
	    "  --cert FILE        our secret certificate (mode 0600)\n"
	    "  --format F         the partners' format, one of:\n");
	for (size_t i = 0; format_at(i); i++)
		fprintf(out, "                       %-17s %s\n", format_at(i)->name,
		        format_at(i)->summary);
	fprintf(out,
	        "  --outbox FILE      the outbox (SQLite; default ./%s)\n"
	        "  --max-pending N    refuse new input once N records wait in the outbox "
	        "(default %d)\n"
	        "  --batch N          reports per envelope, 1..%d (default %d)\n"
	        "  --window N         envelopes awaiting an answer, 1..%d (default %d)\n"
	        "  --timeout S        FILEs: give up when records are unanswered after S seconds\n"
	        "                     (default %d); --watch and --listen never give up\n"
	        "  --watch DIR        read each file dropped into DIR (write it as .NAME or\n"
	        "                     NAME.tmp, then rename it); then move it to DIR/done/, or\n"
	        "                     to DIR/failed/ with NAME.error naming the bad records\n"
	        "  --listen HOST:PORT serve HTTP there (plain HTTP: loopback or a trusted\n"
	        "                     network only); POST / with the partner's JSON answers\n"
	        "                     each record's outcome, or queued (202)\n"
	        "  --listen-wait S    how long a POST waits for the hub's answers, 0..%d\n"
	        "                     (default %d)\n"
	        "  --max-body BYTES   the largest body POSTed, 1..%d (default %d; more: 413)\n"
	        "  --resend-after SEQ the hub's store was restored from a backup through SEQ\n"
	        "                     (estctl restore says so): send again what it acknowledged\n"
	        "                     after SEQ, which its log no longer holds\n"
	        "  --json             print one est.v1.Result a line (protobuf JSON mapping)\n"
	        "  --verbose          say more on stderr\n"
	        "  --help             this text\n"
	        "\n"
	        "Output, one line a record, as answers arrive:\n"
	        "  FILE:RECORD SOURCE_ID REVISION STATUS SEQ-OR-REASON\n"
	        "STATUS is accepted or duplicate (then the log seq), rejected or skipped (then\n"
	        "the reason). RECORD is the line or record number in FILE (http/RUN.N for a\n"
	        "POST). A record that could not be translated reads FILE:RECORD - - rejected\n"
	        "FIELD: REASON. A record with the same content as one sent before is not sent\n"
	        "again and gets that one's outcome. With --json a skipped record has no status\n"
	        "and error \"skipped: ...\"; one that could not be translated has error\n"
	        "\"FILE:RECORD: FIELD: REASON\".\n"
	        "\n"
	        "Exit status: 0 every record accepted, duplicate or skipped (--watch, --listen:\n"
	        "stopped by a signal); 1 a usage or configuration error, or a record rejected or\n"
	        "not translated (the others are delivered); 2 an environment error: a file or\n"
	        "the outbox cannot be used, the outbox is full, the hub refused our\n"
	        "certificate, no answer within --timeout, or a signal while FILEs were sent\n"
	        "(records not answered stay queued in the outbox for the next run).\n",
	        OUTBOX_DEFAULT_PATH, OUTBOX_DEFAULT_MAX_PENDING, SENDER_MAX_BATCH,
	        SENDER_DEFAULT_BATCH, SENDER_MAX_WINDOW, SENDER_DEFAULT_WINDOW,
	        SENDER_DEFAULT_TIMEOUT_S, LISTEN_MAX_WAIT_MS / 1000, LISTEN_DEFAULT_WAIT_MS / 1000,
	        LISTEN_MAX_BODY_LIMIT, LISTEN_DEFAULT_MAX_BODY_BYTES);
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
	OPT_CONFIG,
	OPT_CHECK,
	OPT_WATCH,
	OPT_LISTEN,
	OPT_LISTEN_WAIT,
	OPT_MAX_BODY,
	OPT_RESEND_AFTER,
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
    {"config", required_argument, NULL, OPT_CONFIG},
    {"check", required_argument, NULL, OPT_CHECK},
    {"watch", required_argument, NULL, OPT_WATCH},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"listen-wait", required_argument, NULL, OPT_LISTEN_WAIT},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"resend-after", required_argument, NULL, OPT_RESEND_AFTER},
    {"json", no_argument, NULL, OPT_JSON},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int
option_format(struct options *o, const char *name, const char *where)
{
	o->format = format_find(name);
	if (o->format != NULL)
		return 0;
	diag_say("%s: unknown format '%s' (see --help)", where, name);
	return -1;
}

/* The options that take a number. */
static int
option_set_number(struct options *o, int c, const char *arg)
{
	unsigned long v = 0;
	int rc = -1;
	switch (c) {
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
	case OPT_LISTEN_WAIT:
		rc = option_number("listen-wait", arg, 0, LISTEN_MAX_WAIT_MS / 1000, &v);
		o->listen.wait_ms = (unsigned)v * 1000;
		break;
	case OPT_MAX_BODY:
		rc = option_number("max-body", arg, 1, LISTEN_MAX_BODY_LIMIT, &v);
		o->listen.max_body_bytes = v;
		break;
	case OPT_RESEND_AFTER:
		rc = option_number("resend-after", arg, 0, ULONG_MAX, &v);
		o->resend = true;
		o->resend_after = v;
		break;
	}
	return rc;
}

/* One option of the second pass; 0, or -1 after saying what is wrong. */
static int
option_set(struct options *o, int c, const char *arg)
{
	switch (c) {
	case OPT_HUB: {
		char why[160];
		o->send.hub = arg;
		if (endpoint_check(arg, ENDPOINT_CONNECT, why, sizeof why) == 0)
			return 0;
		diag_say("--hub \"%s\": %s", arg, why);
		return -1;
	}
	case OPT_HUB_CERT:
		o->send.hub_cert = arg;
		return 0;
	case OPT_CERT:
		o->send.cert = arg;
		return 0;
	case OPT_FORMAT:
		return option_format(o, arg, "--format");
	case OPT_OUTBOX:
		o->outbox = arg;
		return 0;
	case OPT_WATCH:
		o->watch = arg;
		return 0;
	case OPT_LISTEN:
		o->listen.address = arg;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_VERBOSE:
		diag_set_verbose(1);
		return 0;
	case OPT_CONFIG:
	case OPT_CHECK:
	case OPT_HELP:
		return 0; /* taken by the first pass */
	default:
		return option_set_number(o, c, arg);
	}
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

/* How option parsing ended. */
enum parse_end { PARSE_OK, PARSE_HELP, PARSE_CHECK, PARSE_USAGE, PARSE_ENV };

/* Walks argv; pass 1 takes --config, --check and --help, pass 2 the rest. */
static enum parse_end
options_pass(struct options *o, int argc, char **argv, int pass)
{
	int c;
	optind = 0; /* GNU getopt: start over */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (c == '?') {
			diag_say("unknown option or missing value: %s (see --help)",
			         argv[optind - 1]);
			return PARSE_USAGE;
		}
		if (pass == 1 && c == OPT_HELP)
			return PARSE_HELP;
		if (pass == 1 && c == OPT_CONFIG)
			o->config = optarg;
		else if (pass == 1 && c == OPT_CHECK)
			o->check = optarg;
		else if (pass == 2 && option_set(o, c, optarg) != 0)
			return PARSE_USAGE;
	}
	o->files = argv + optind;
	o->n_files = (size_t)(argc - optind);
	return PARSE_OK;
}

/* The configuration file's values, under what the command line says. */
static enum parse_end
options_from_config(struct options *o, struct adapter_config *cfg)
{
	int problems = adapter_config_load(cfg, o->config, stderr);
	if (problems < 0)
		return PARSE_ENV;
	if (problems > 0) {
		diag_say("%s: %d problem%s (est-adapter --check %s)", o->config, problems,
		         problems == 1 ? "" : "s", o->config);
		return PARSE_USAGE;
	}
	o->send.hub = cfg->endpoint[0] ? cfg->endpoint : NULL;
	o->send.hub_cert = cfg->hub_cert[0] ? cfg->hub_cert : NULL;
	o->send.cert = cfg->cert[0] ? cfg->cert : NULL;
	if (cfg->format[0] && option_format(o, cfg->format, cfg->path) != 0)
		return PARSE_USAGE;
	if (cfg->outbox[0])
		o->outbox = cfg->outbox;
	o->max_pending = (size_t)cfg->max_pending;
	o->send.batch = (unsigned)cfg->batch;
	o->send.window = (unsigned)cfg->window;
	o->send.timeout_s = (unsigned)cfg->timeout_s;
	/* The service the file describes; FILEs on the command line are a one-off delivery. */
	if (o->n_files == 0) {
		o->watch = cfg->watch_dir[0] ? cfg->watch_dir : NULL;
		o->listen.address = cfg->listen[0] ? cfg->listen : NULL;
	}
	return PARSE_OK;
}

/* Fills o from the configuration file (if any) and argv. */
static enum parse_end
options_parse(struct options *o, struct adapter_config *cfg, int argc, char **argv)
{
	*o = (struct options){.send = {.batch = SENDER_DEFAULT_BATCH,
	                               .window = SENDER_DEFAULT_WINDOW,
	                               .timeout_s = SENDER_DEFAULT_TIMEOUT_S},
	                      .outbox = OUTBOX_DEFAULT_PATH,
	                      .max_pending = OUTBOX_DEFAULT_MAX_PENDING,
	                      .listen = {.wait_ms = LISTEN_DEFAULT_WAIT_MS,
	                                 .max_body_bytes = LISTEN_DEFAULT_MAX_BODY_BYTES}};
	enum parse_end end = options_pass(o, argc, argv, 1);
	if (end != PARSE_OK)
		return end;
	if (o->check)
		return PARSE_CHECK;
	if (o->config && (end = options_from_config(o, cfg)) != PARSE_OK)
		return end;
	end = options_pass(o, argc, argv, 2);
	if (end != PARSE_OK)
		return end;
	return options_check(o) == 0 ? PARSE_OK : PARSE_USAGE;
}

/* --check FILE: the configuration's problems on stdout, or "configuration OK". */
static int
run_check(const char *path)
{
	struct adapter_config cfg;
	int problems = adapter_config_load(&cfg, path, stdout);
	if (problems == 0)
		problems = adapter_config_check(&cfg, stdout);
	adapter_config_fini(&cfg);
	if (problems < 0)
		return EXIT_ENV;
	if (problems > 0)
		return EXIT_INPUT;
	printf("configuration OK\n");
	return EXIT_OK;
}

/* What the runtime needs beside the options, made in data-flow order. */
struct run {
	struct outbox *ob;
	struct mapping *map;
	struct intake *in;
	struct watch *watch;
	struct listen *listen;
	struct outcome out;
};

/* Every row that becomes done: printed, and counted against its file or request. */
static void
run_row(void *arg, const struct outbox_row *row)
{
	struct run *r = arg;
	outcome_print(&r->out, row);
	if (r->watch)
		watch_row(r->watch, row);
	if (r->listen)
		listen_row(r->listen, row);
}

/* The category table and the geography the translators read with. 0, or an exit code. */
static int
run_intake_setup(struct run *r, const struct options *o, const struct adapter_config *cfg)
{
	char err[1024];
	if (adapter_config_mapping(o->config ? cfg : NULL, o->format->name, &r->map) != 0) {
		diag_say("out of memory");
		return EXIT_ENV;
	}
	r->in = intake_new(o->format, r->map, err, sizeof err);
	if (r->in == NULL) {
		diag_say("%s", err);
		return EXIT_ENV;
	}
	if (o->config && adapter_config_apply_areas(cfg, intake_geo(r->in), stderr) != 0)
		return EXIT_INPUT;
	return 0;
}

/*
 * Queues the command line's files one by one. Stops at a full outbox or a
 * signal; a file that cannot be read is said and left out. Returns the exit
 * code it calls for (EXIT_OK when all went in).
 */
static int
run_files(const struct options *o, struct run *r)
{
	char err[1024];
	int code = EXIT_OK;
	struct intake_hear hear = {.done = outcome_print, .arg = &r->out};
	for (size_t i = 0; i < o->n_files && !stop_requested(); i++) {
		int rc = intake_path(r->in, r->ob, o->files[i], &hear, NULL, err, sizeof err);
		if (rc == INTAKE_OK)
			continue;
		if (rc == INTAKE_FULL) {
			size_t more = o->n_files - i - 1;
			diag_say("%s%s not queued: %s", o->files[i],
			         more == 0   ? ""
			         : more == 1 ? " and 1 more file"
			                     : " and the files after it",
			         err);
			return EXIT_ENV;
		}
		diag_say("%s", err);
		if (rc == INTAKE_INVALID && code == EXIT_OK)
			code = EXIT_INPUT;
		else if (rc != INTAKE_INVALID && rc != INTAKE_STOPPED)
			code = EXIT_ENV;
	}
	return stop_requested() ? EXIT_ENV : code;
}

/* The drop directory and the HTTP endpoint, as the sender's hooks. 0, or an exit code. */
static int
run_serve_setup(struct run *r, const struct options *o, struct sender_hook *hooks, size_t *n)
{
	char err[1024];
	*n = 0;
	if (o->watch) {
		r->watch =
		    watch_new(o->watch, r->in, r->ob, outcome_print, &r->out, err, sizeof err);
		if (r->watch == NULL) {
			diag_say("%s", err);
			return EXIT_ENV;
		}
		hooks[(*n)++] = (struct sender_hook){watch_fd(r->watch), watch_run, r->watch};
		diag_say("watching %s", o->watch);
	}
	if (o->listen.address) {
		r->listen =
		    listen_new(&o->listen, r->in, r->ob, outcome_print, &r->out, err, sizeof err);
		if (r->listen == NULL) {
			diag_say("%s", err);
			return EXIT_ENV;
		}
		hooks[(*n)++] = (struct sender_hook){listen_fd(r->listen), listen_run, r->listen};
		/* The address as given with the port it got: a bare PORT is on 127.0.0.1. */
		const char *colon = strrchr(o->listen.address, ':');
		int host_len = colon ? (int)(colon - o->listen.address) : 9;
		diag_say("listening on http://%.*s:%u/", host_len,
		         colon ? o->listen.address : "127.0.0.1", (unsigned)listen_port(r->listen));
	}
	return 0;
}

/* Sends what is pending (serving: until a stop). Returns the exit code it calls for. */
static int
run_send(const struct options *o, struct run *r, const struct sender_hook *hooks, size_t n)
{
	char err[1024] = "";
	struct sender_options send = o->send;
	send.serve = n > 0;
	send.hooks = hooks;
	send.n_hooks = n;
	if (!send.serve && outbox_pending(r->ob) == 0)
		return EXIT_OK;
	enum sender_end end = sender_run(r->ob, &send, run_row, r, err, sizeof err);
	if (end == SENDER_DONE || (end == SENDER_STOPPED && send.serve)) {
		if (end == SENDER_STOPPED)
			diag_say("stopped by a signal; %zu records stay queued in %s",
			         outbox_pending(r->ob), outbox_path(r->ob));
		return EXIT_OK;
	}
	if (end == SENDER_STOPPED)
		snprintf(err, sizeof err, "stopped by a signal");
	diag_say("%s; %zu records stay queued in %s", err, outbox_pending(r->ob),
	         outbox_path(r->ob));
	return EXIT_ENV;
}

/* Opens the outbox; without input to read, only an existing one with something in it. */
static int
run_open(struct run *r, const struct options *o, bool serve)
{
	char err[1024];
	/* Without files there is only an existing outbox to deliver: do not create one. */
	if (!serve && o->n_files == 0 && access(o->outbox, F_OK) != 0) {
		diag_say("no FILE given and no outbox %s to deliver (see --help)", o->outbox);
		return EXIT_INPUT;
	}
	r->ob = outbox_open(o->outbox, o->max_pending, err, sizeof err);
	if (r->ob == NULL) {
		diag_say("%s", err);
		return EXIT_ENV;
	}
	size_t again = 0;
	if (o->resend && outbox_resend_after(r->ob, o->resend_after, &again) != OUTBOX_OK) {
		diag_say("%s", outbox_error(r->ob));
		return EXIT_ENV;
	}
	if (o->resend)
		diag_say("%zu record%s the hub acknowledged after seq %llu sent again "
		         "(--resend-after: its store was restored through that seq)",
		         again, again == 1 ? "" : "s", (unsigned long long)o->resend_after);
	if (!serve && o->n_files == 0 && outbox_pending(r->ob) == 0) {
		diag_say("no FILE given and nothing pending in %s (see --help)", o->outbox);
		return EXIT_INPUT;
	}
	return 0;
}

static void
run_fini(struct run *r)
{
	listen_destroy(&r->listen);
	watch_destroy(&r->watch);
	intake_destroy(&r->in);
	mapping_destroy(&r->map);
	outbox_destroy(&r->ob);
	outcome_fini(&r->out);
}

/* The exit code of a run that got as far as sending. */
static int
run_code(int files, int send, const struct outcome *out, bool serve)
{
	if (send != EXIT_OK)
		return send;
	if (files != EXIT_OK)
		return files;
	return serve ? EXIT_OK : outcome_exit_code(out);
}

static int
run(const struct options *o, const struct adapter_config *cfg)
{
	struct run r = {0};
	struct sender_hook hooks[SENDER_MAX_HOOKS];
	size_t n_hooks = 0;
	bool serve = o->watch || o->listen.address;
	outcome_init(&r.out, stdout, o->json);
	int code = run_open(&r, o, serve);
	if (code == 0)
		code = run_intake_setup(&r, o, cfg);
	if (code == 0) {
		int files = run_files(o, &r);
		if (stop_requested() && !serve) {
			diag_say("stopped by a signal; %zu records stay queued in %s",
			         outbox_pending(r.ob), outbox_path(r.ob));
			code = EXIT_ENV;
		} else if ((code = run_serve_setup(&r, o, hooks, &n_hooks)) == 0) {
			int send = run_send(o, &r, hooks, n_hooks);
			code = run_code(files, send, &r.out, serve);
		}
	}
	/* The run's statistics, for the partner's logs: one line on stderr. */
	if (r.ob != NULL)
		diag_say("statistics: %zu accepted, %zu duplicate, %zu rejected, %zu skipped; "
		         "%zu queued in %s",
		         r.out.accepted, r.out.duplicate, r.out.rejected, r.out.skipped,
		         outbox_pending(r.ob), outbox_path(r.ob));
	run_fini(&r);
	return code;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct adapter_config cfg;
	diag_init(argv[0]);
	timefmt_init(); /* partner times are Europe/Stockholm; before libzmq starts its threads */
	adapter_config_init(&cfg);
	int code = EXIT_OK;
	switch (options_parse(&o, &cfg, argc, argv)) {
	case PARSE_OK:
		if (stop_install() != 0) {
			diag_say("cannot install signal handlers: %s", strerror(errno));
			code = EXIT_ENV;
		} else {
			code = run(&o, &cfg);
		}
		break;
	case PARSE_HELP:
		usage(stdout);
		break;
	case PARSE_CHECK:
		code = run_check(o.check);
		break;
	case PARSE_USAGE:
		code = EXIT_INPUT;
		break;
	case PARSE_ENV:
		code = EXIT_ENV;
		break;
	}
	adapter_config_fini(&cfg);
	return code;
}
