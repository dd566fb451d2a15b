/* SPDX-License-Identifier: Apache-2.0 */
/*
 * purge: `estctl purge [--dry-run [--at T]]`, gallring by hand
 * (docs/retention.md). --dry-run plans on the store read-only, beside a
 * running hub or without one, with the rules of DIR/hub.conf, and lists
 * what would go per kind and category with counts and seq ranges; nothing
 * changes. Without --dry-run the running hub purges (only the hub writes
 * the log) and this command says what it removed.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "control.h"
#include "ctl.h"
#include "est.pb-c.h"
#include "instance.h"
#include "log.h"
#include "retention.h"
#include "wire/diag.h"
#include "wire/timefmt.h"

/* The plan at `at` over DIR's store, printed; nothing is written. */
static int
dry_run(const char *dir, int64_t at)
{
	char path[4096], err[512], text[16384];
	struct config cfg;
	struct retention_rules rules;
	if (ctl_path(path, sizeof path, dir, INSTANCE_CONF))
		return EXIT_ENV;
	int problems = config_load(&cfg, path, stderr);
	if (problems != 0) {
		diag_say("%s has problems (see above); the purge follows its [retention] section",
		         path);
		return problems < 0 ? EXIT_ENV : EXIT_INPUT;
	}
	retention_configure(&cfg, &rules);
	struct log *lg = NULL;
	if (ctl_path(path, sizeof path, dir, INSTANCE_STORE))
		return EXIT_ENV;
	if (log_open(&lg, path, LOG_READONLY, err, sizeof err) != 0) {
		diag_say("cannot open the store: %s", err);
		return EXIT_ENV;
	}
	struct retention_plan *plan = NULL;
	int rc = retention_purge(lg, &rules, at, 1, &plan, err, sizeof err);
	log_close(&lg);
	if (rc != 0) {
		diag_say("cannot plan the purge: %s", err);
		return EXIT_ENV;
	}
	char when[32];
	timefmt_local(at, when, sizeof when);
	uint64_t total = retention_plan_format(plan, text, sizeof text);
	retention_plan_destroy(&plan);
	printf("dry run at %s: nothing is changed\n%s", when, text);
	printf("would purge %llu entr%s\n", (unsigned long long)total, total == 1 ? "y" : "ies");
	return EXIT_OK;
}

/* The running hub purges now. */
static int
purge_now(const char *dir)
{
	Est__V1__ControlRequest req;
	est__v1__control_request__init(&req);
	req.body_case = EST__V1__CONTROL_REQUEST__BODY_PURGE;
	req.purge = true;
	Est__V1__ControlReply *reply = NULL;
	/* A purge scans the whole log: give it longer than a quick request. */
	int rc = ctl_ask_hub(dir, &req, 10 * CTL_CONTROL_TIMEOUT_MS, "; --dry-run works without it",
	                     &reply);
	if (rc != 0)
		return rc;
	if (reply->ok)
		printf("%s", reply->message);
	else
		diag_say("purge: %s", reply->message);
	rc = reply->ok ? EXIT_OK : EXIT_ENV;
	est__v1__control_reply__free_unpacked(reply, NULL);
	return rc;
}

int
ctl_purge(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"at", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	bool dry = false;
	const char *at_text = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'n') {
			dry = true;
		} else if (c == 'a') {
			at_text = optarg;
		} else {
			ctl_bad_option(c, argv);
			return EXIT_INPUT;
		}
	}
	if (ctl_no_more_args(argc, argv, optind))
		return EXIT_INPUT;
	int64_t at = timefmt_now();
	char err[256];
	if (at_text != NULL && !dry) {
		diag_say("--at needs --dry-run: the hub purges only what has expired now");
		return EXIT_INPUT;
	}
	if (at_text != NULL && timefmt_parse(at_text, &at, err, sizeof err) != 0) {
		diag_say("--at: %s", err);
		return EXIT_INPUT;
	}
	return dry ? dry_run(dir, at) : purge_now(dir);
}
