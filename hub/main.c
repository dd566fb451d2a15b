/* SPDX-License-Identifier: Apache-2.0 */
/*
 * esthub: the hub daemon. `init` creates an instance directory, `check`
 * validates one, `run` serves one in the foreground.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "hub.h"
#include "instance.h"
#include "wire/diag.h"
#include "wire/endpoint.h"
#include "wire/timefmt.h"

static void
usage(FILE *out)
{
	fprintf(out, "usage: esthub init DIR [--ingest EP] [--feed EP]\n"
	             "       esthub check DIR\n"
	             "       esthub run DIR\n"
	             "\n"
	             "init   create a runnable instance in DIR (new or empty): hub.conf, the\n"
	             "       Norrkoping EST areas, the hub's CURVE keys, empty certs/ and store.\n"
	             "       EP is a ZeroMQ endpoint; defaults tcp://127.0.0.1:7601 (ingest)\n"
	             "       and tcp://127.0.0.1:7602 (feed); port * lets the system choose.\n"
	             "check  validate the whole instance: prints 'configuration OK' or one\n"
	             "       'file:line: key: reason' line per problem (exit 1).\n"
	             "run    serve in the foreground; prints 'esthub: ready ingest=EP feed=EP\n"
	             "       head_seq=N' once serving. SIGTERM or SIGINT: finish the batch in\n"
	             "       hand, acknowledge it, exit 0.\n"
	             "\n"
	             "exit: 0 ok, 1 usage or input error, 2 environment error\n");
}

/*
 * init's --ingest and --feed (NULL: the default) told before anything is
 * made: an endpoint the hub cannot bind would make an instance that only
 * fails at `esthub run`. 0, or -1 after saying why.
 */
static int
init_endpoints_check(const char *ingest, const char *feed)
{
	static const char *const names[] = {"--ingest", "--feed"};
	const char *given[] = {ingest, feed};
	char why[160];
	for (size_t i = 0; i < 2; i++)
		if (given[i] && endpoint_check(given[i], ENDPOINT_BIND, why, sizeof why) != 0) {
			diag_say("init: %s \"%s\": %s", names[i], given[i], why);
			return -1;
		}
	struct config defaults;
	config_defaults(&defaults);
	const char *in = ingest ? ingest : defaults.ingest, *out = feed ? feed : defaults.feed;
	if (config_endpoints_clash(in, out)) {
		diag_say(
		    "init: ingest and feed would both be %s; give each its own port (--ingest, "
		    "--feed)",
		    in);
		return -1;
	}
	return 0;
}

/*
 * Whether dir holds an instance (its hub.conf); says so when not, rather
 * than one "cannot read" line for each file the instance would have.
 */
static bool
is_instance(const char *dir)
{
	char conf[4096];
	struct stat st;
	if (instance_path(conf, sizeof conf, dir, INSTANCE_CONF) != 0)
		return true; /* too long a path: the files' own messages say it */
	if (stat(conf, &st) == 0 || errno != ENOENT)
		return true;
	diag_say("%s: no esthub instance here (no %s); esthub init %s makes one", dir, conf, dir);
	return false;
}

static int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"ingest", required_argument, NULL, 'i'},
	    {"feed", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *ingest = NULL, *feed = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'i')
			ingest = optarg;
		else if (c == 'f')
			feed = optarg;
		else if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else
			return EXIT_INPUT;
	}
	if (optind != argc - 1) {
		diag_say("init: give one instance directory (esthub --help)");
		return EXIT_INPUT;
	}
	if (init_endpoints_check(ingest, feed) != 0)
		return EXIT_INPUT;
	char err[1024];
	if (instance_init(argv[optind], ingest, feed, err, sizeof err) != 0) {
		diag_say("init: %s", err);
		return EXIT_ENV;
	}
	const char *d = argv[optind];
	printf("esthub: created instance %s\n", d);
	/* What an administrator does next, in the order it is done. */
	printf("next:\n"
	       "  edit %s/hub.conf (the endpoints partners reach) and %s/areas.geojson\n"
	       "  estctl -d %s client add NAME --role adapter --org ORG   (a partner)\n"
	       "  estctl -d %s client add NAME --role subscriber --groups AREA/GROUP   (a working "
	       "group)\n"
	       "  esthub check %s\n"
	       "  esthub run %s\n",
	       d, d, d, d, d, d);
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	diag_init("esthub");
	timefmt_init();
	if (argc < 2) {
		usage(stderr);
		return EXIT_INPUT;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if ((strcmp(cmd, "run") == 0 || strcmp(cmd, "check") == 0) && argc == 3) {
		if (!is_instance(argv[2]))
			return EXIT_ENV;
		if (strcmp(cmd, "run") == 0)
			return hub_run(argv[2]);
		int problems = instance_check(argv[2], stdout);
		if (problems == 0)
			printf("configuration OK\n");
		return problems ? EXIT_INPUT : EXIT_OK;
	}
	diag_say("unknown command or arguments: %s (esthub --help)", cmd);
	return EXIT_INPUT;
}
