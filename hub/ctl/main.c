/* SPDX-License-Identifier: Apache-2.0 */
/*
 * estctl: the administrators' tool. Finds the instance directory (-d DIR,
 * --dir DIR or ESTHUB_DIR), looks the command up in one table and hands it
 * its arguments (see ctl.h for the commands).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "control.h"
#include "ctl.h"
#include "instance.h"
#include "wire/diag.h"
#include "wire/timefmt.h"

static const struct command {
	const char *group; /* first word */
	const char *verb;  /* second word, or NULL for a one-word command */
	ctl_command_fn fn;
	const char *usage;
} commands[] = {
    {"client", "add", ctl_client_add,
     "client add NAME --role adapter --org ORG [--public-key FILE]\n"
     "  client add NAME --role subscriber --groups AREA/GROUP[,...] [--org ORG] "
     "[--public-key FILE]\n"
     "  client add NAME --role subscriber --org ORG [--public-key FILE]\n"
     "      (an organisation's overview: the all pictures and checkpoints only)\n"
     "  client add NAME --role admin [--org ORG] [--public-key FILE]\n"
     "      authorise a client: writes DIR/certs/NAME and, without --public-key,\n"
     "      a new secret certificate DIR/clients/NAME_secret to hand to the partner"},
    {"client", "list", ctl_client_list,
     "client list\n"
     "      the authorised clients (name, role, org, groups, key) and the revoked ones"},
    {"client", "revoke", ctl_client_revoke,
     "client revoke NAME\n"
     "      the running hub refuses NAME's key from now on and ends its feeds"},
    {"client", "rotate", ctl_client_rotate,
     "client rotate NAME [--public-key FILE]\n"
     "      a new key for NAME (same role, org and groups); without --public-key a new\n"
     "      secret certificate replaces DIR/clients/NAME_secret. The running hub admits\n"
     "      only the new key from then on, without a restart; the old public certificate\n"
     "      is kept in DIR/revoked/NAME-oldN"},
    {"status", NULL, ctl_status,
     "status\n"
     "      the store's head, size and free space and reports per organisation; the\n"
     "      running hub's uptime and the clients it heard from lately, with when"},
    {"picture", "compile", ctl_picture_compile,
     "picture compile [--area A] [--week YYYY-Www]\n"
     "      the running hub compiles the situational pictures (lägesbilder) of a week\n"
     "      (default: the current one, Europe/Stockholm) for every area and the\n"
     "      overview (all), logs them and publishes them; --area publishes one"},
    {"measure", "add", ctl_measure_add,
     "measure add --area A --kind K --org ORG [--place P] [--lat X --lon Y]\n"
     "      [--reports SEQ,...] [--starts T] [--ends T] [--description TEXT]\n"
     "      [--status decided]\n"
     "      the running hub logs a new measure (insats) on AREA/measures and prints\n"
     "      its id; K: presence, lighting, vegetation, wifi, cleanup, outreach,\n"
     "      skills_training, leisure, parental_support, other; T: ISO 8601,\n"
     "      Europe/Stockholm when no offset (2026-11-28T18:00)"},
    {"measure", "set", ctl_measure_set,
     "measure set ID [--status S] [--outcome TEXT]\n"
     "      changes a measure's status (proposed, decided, in_progress, done,\n"
     "      cancelled) or outcome; refused transitions are named"},
    {"measure", "show", ctl_measure_show,
     "measure show ID\n"
     "      every field of a measure, with its follow-up once it is done"},
    {"measure", "list", ctl_measure_list,
     "measure list [--area A]\n"
     "      one line a measure: id, area, kind, group, org, status, time, place"},
    {"purge", NULL, ctl_purge,
     "purge [--dry-run [--at T]]\n"
     "      gallring: the running hub removes the content of entries older than the\n"
     "      [retention] periods of hub.conf, keeping their hashes (verify still holds);\n"
     "      --dry-run lists what would go (per kind and category, counts and seqs)\n"
     "      without the hub and changes nothing; --at: as if it were then"},
    {"verify", NULL, ctl_verify,
     "verify [--against FILE]\n"
     "      recomputes the log's hash chain and checks every signed checkpoint in it\n"
     "      with DIR/keys/sign.pem: \"log OK: N entries, head HEX\", or the first seq\n"
     "      that does not hold (exit 1). --against FILE: checkpoints a partner saved\n"
     "      (est-feed --topic all/checkpoints --json, one a line) must verify and the\n"
     "      log must still extend each of them (catches truncation and rewriting)"},
    {"backup", NULL, ctl_backup,
     "backup FILE | backup --into DIR [--keep N]\n"
     "      a copy of the store, one consistent snapshot, taken beside the running hub\n"
     "      (or without it); checked as verify checks the store before it takes FILE's\n"
     "      name, so a failed copy never replaces an older backup. --into: a new file\n"
     "      DIR/esthub-YYYYMMDDTHHMMSS.db; --keep: then removes all but the newest N\n"
     "      there. A backup keeps what a later purge removes from the store: keep\n"
     "      backups no longer than [retention]"},
    {"restore", NULL, ctl_restore,
     "restore FILE\n"
     "      with the hub stopped: a backup that verifies becomes the store; the store it\n"
     "      replaces is kept beside it (DIR/data/log.db.replaced-TIME). What was logged\n"
     "      after the backup is not in it"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void
usage(FILE *out)
{
	fprintf(out, "usage: estctl [-d DIR | --dir DIR] COMMAND ...\n"
	             "The instance directory may also come from ESTHUB_DIR.\n\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %s\n", commands[i].usage);
	fprintf(out, "\nExit: 0 ok, 1 usage or input error, 2 environment error (no hub,\n"
	             "unreadable files or store).\n");
}

int
ctl_ask_hub(const char *dir, const Est__V1__ControlRequest *req, int timeout_ms, const char *hint,
            Est__V1__ControlReply **reply)
{
	char err[512];
	int rc = control_call(dir, req, timeout_ms, reply, err, sizeof err);
	if (rc == 1) {
		diag_say("hub not running (%s)%s", err, hint);
		return EXIT_ENV;
	}
	if (rc != 0) {
		diag_say("control channel: %s", err);
		return EXIT_ENV;
	}
	return 0;
}

int
ctl_path(char *out, size_t outlen, const char *dir, const char *rel)
{
	if (instance_path(out, outlen, dir, rel) == 0)
		return 0;
	diag_say("%s: path too long", dir);
	return -1;
}

void
ctl_bad_option(int c, char **argv)
{
	if (c == ':')
		diag_say("option %s needs a value; try estctl --help", argv[optind - 1]);
	else
		diag_say("unknown option %s; try estctl --help", argv[optind - 1]);
}

int
ctl_no_more_args(int argc, char **argv, int first)
{
	if (first >= argc)
		return 0;
	diag_say("unexpected argument \"%s\"; try estctl --help", argv[first]);
	return -1;
}

/* The command named by argv[0] (and argv[1]); *used is how many words it took. */
static const struct command *
command_find(int argc, char **argv, int *used)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];
		if (strcmp(argv[0], c->group) != 0)
			continue;
		if (c->verb == NULL) {
			*used = 1;
			return c;
		}
		if (argc > 1 && strcmp(argv[1], c->verb) == 0) {
			*used = 2;
			return c;
		}
	}
	return NULL;
}

static bool
asks_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}

/*
 * Parses the options before the command into *dir (NULL when none was
 * given). Returns -1 to go on, or the exit code when done (--help, error).
 */
static int
global_options(int argc, char **argv, const char **dir)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*dir = getenv("ESTHUB_DIR");
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:d:h", opts, NULL)) != -1) {
		if (c == 'd') {
			*dir = optarg;
		} else if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else {
			ctl_bad_option(c, argv);
			return EXIT_INPUT;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_INPUT;
	}
	if (*dir != NULL && (*dir)[0] == '\0')
		*dir = NULL;
	return -1;
}

static int
dir_check(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		diag_say("%s: cannot use the instance directory: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		diag_say("%s: not a directory", dir);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL;
	int used = 0;
	diag_init(argv[0]);
	timefmt_init();
	int rc = global_options(argc, argv, &dir);
	if (rc >= 0)
		return rc;
	argc -= optind;
	argv += optind;
	const struct command *c = command_find(argc, argv, &used);
	if (c == NULL) {
		diag_say("unknown command \"%s%s%s\"; try estctl --help", argv[0],
		         argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
		return EXIT_INPUT;
	}
	if (asks_help(argc, argv)) {
		printf("usage: estctl -d DIR %s\n", c->usage);
		return EXIT_OK;
	}
	if (dir == NULL) {
		diag_say("no instance directory: give -d DIR or set ESTHUB_DIR");
		return EXIT_INPUT;
	}
	if (dir_check(dir) != 0)
		return EXIT_ENV;
	/* The command sees its last word as argv[0], as getopt expects; 0 restarts getopt. */
	optind = 0;
	return c->fn(dir, argc - used + 1, argv + used - 1);
}
