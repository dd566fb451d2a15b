/* SPDX-License-Identifier: Apache-2.0 */
/*
 * adapter_config: the configuration file of one adapter, which an
 * administrator edits (examples in config/adapters/). INI, UTF-8, read with
 * inih; one table of {section, key, type, bounds, default, help} drives
 * parsing, the messages of `est-adapter --check` and the commented example
 * adapter_config_write_example prints.
 *
 *   [hub]        endpoint, hub_cert, cert
 *   [adapter]    format, outbox, max_pending, batch, window, timeout
 *   [watch]      dir          (a drop directory; not watching when absent)
 *   [listen]     address      (HOST:PORT of the HTTP push endpoint; a bare
 *                              PORT listens on 127.0.0.1; none when absent)
 *   [categories] partner value = category[/subcategory] | skip, * = default
 *                (mapping.h); with at least one rule the section REPLACES
 *                the format's shipped table as a whole
 *   [areas]      name = area id: more names for the EST areas (geo.h)
 *
 * Every problem is one line "FILE:LINE: section.key: reason" (LINE 0 when
 * the problem is a missing key or the file as a whole); unknown sections and
 * keys are problems, and so is a key given twice. Relative paths are
 * relative to the configuration file's directory and are stored resolved.
 * A line is a [section], a key = value or a comment starting with # or ;
 * (also "; comment" after a value); indentation is ignored; keys may not
 * hold "=" or ":"; lines are at most ADAPTER_CONFIG_LINE_MAX bytes.
 *
 * Wiring (est-adapter): adapter_config_load, then the command line over it;
 * adapter_config_mapping for the format's table (also without a file);
 * geo_new and adapter_config_apply_areas; adapter_config_fini at the end.
 * --check: adapter_config_load + adapter_config_check, then "configuration
 * OK" or exit 1.
 */
#ifndef ESTHUB_ADAPTER_CONFIG_H
#define ESTHUB_ADAPTER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "runtime/geo.h"
#include "runtime/mapping.h"

/* Bytes of a string value (paths, endpoint), with its NUL. */
#define ADAPTER_CONFIG_STR_MAX 1024
/* Bytes of one line of the file, without its line end (what inih's line buffer holds). */
#define ADAPTER_CONFIG_LINE_MAX 199
/* Number of keys in the table (internal: sizes adapter_config.line). */
#define ADAPTER_CONFIG_N_KEYS 11
/* The host [listen] address stands for when it gives a port alone. */
#define ADAPTER_CONFIG_LOOPBACK "127.0.0.1"

/* One [areas] line. */
struct adapter_config_alias {
	char *name; /* as written, trimmed */
	char *id;   /* a valid area id */
	int line;
};

/*
 * A configuration. String values are "" when the file does not set them
 * (the program's default applies: OUTBOX_DEFAULT_PATH, no watching, no
 * listening); numbers hold the table's defaults, which are the command
 * line's (sender.h, outbox.h).
 */
struct adapter_config {
	char path[ADAPTER_CONFIG_STR_MAX]; /* the file, as given to adapter_config_load */
	/* [hub] */
	char endpoint[ADAPTER_CONFIG_STR_MAX]; /* default "tcp://127.0.0.1:7601" */
	char hub_cert[ADAPTER_CONFIG_STR_MAX];
	char cert[ADAPTER_CONFIG_STR_MAX];
	/* [adapter] */
	char format[ADAPTER_CONFIG_STR_MAX];
	char outbox[ADAPTER_CONFIG_STR_MAX];
	long max_pending; /* 1..100000000, default OUTBOX_DEFAULT_MAX_PENDING */
	long batch;       /* 1..SENDER_MAX_BATCH, default SENDER_DEFAULT_BATCH */
	long window;      /* 1..SENDER_MAX_WINDOW, default SENDER_DEFAULT_WINDOW */
	long timeout_s;   /* key "timeout", seconds, 1..604800, default SENDER_DEFAULT_TIMEOUT_S */
	/* [watch] dir */
	char watch_dir[ADAPTER_CONFIG_STR_MAX];
	/* [listen] address, normalised to HOST:PORT ("[::1]:8080" for IPv6) */
	char listen[ADAPTER_CONFIG_STR_MAX];
	/* [categories]: NULL when the file gives no rule (the format's table applies). Owned. */
	struct mapping *categories;
	int categories_line; /* the line of its first rule */
	/* [areas], in file order. Owned. */
	struct adapter_config_alias *aliases;
	size_t n_aliases;
	/* Internal: the line each key of the table was set on, 0 when not set. */
	int line[ADAPTER_CONFIG_N_KEYS];
};

/* Fills c with the defaults: no file, no rules, no aliases. adapter_config_fini releases it. */
void adapter_config_init(struct adapter_config *c);

/*
 * Reads the file at path into c, starting from the defaults. Every problem
 * is printed to diag (when not NULL) as "path:line: section.key: reason".
 * Returns the number of problems (0: c is usable), or -1 when the file
 * cannot be read (said on diag too). c is initialised in every case and
 * must be released with adapter_config_fini.
 */
int adapter_config_load(struct adapter_config *c, const char *path, FILE *diag);

/* Releases what c owns and leaves it as adapter_config_init does. */
void adapter_config_fini(struct adapter_config *c);

/*
 * What --check adds to a loaded configuration: what has no default is set
 * (hub.hub_cert, hub.cert, adapter.format); the format is registered
 * (format.h); hub_cert is a readable certificate; cert is a secret
 * certificate of mode 0600; the outbox's directory is writable; the watch
 * directory is a directory we may use; [categories] belongs to a format
 * with a table; PROJ finds its database; the [areas] names apply. Prints
 * each problem to diag as adapter_config_load does and returns how many.
 */
int adapter_config_check(const struct adapter_config *c, FILE *diag);

/*
 * The category table to translate format with: a copy of c's [categories]
 * when it has rules, else the format's shipped table (mapping_default).
 * c may be NULL (no configuration file). Returns 0 with a new table in *out
 * that the caller owns (NULL when the format has none, as "json"), or -1
 * when out of memory.
 */
int adapter_config_mapping(const struct adapter_config *c, const char *format,
                           struct mapping **out);

/*
 * Adds c's [areas] names to g. c may be NULL. Prints each name g refuses to
 * diag as "path:line: areas.NAME: reason" and returns how many were refused.
 */
int adapter_config_apply_areas(const struct adapter_config *c, struct geo *g, FILE *diag);

/*
 * Writes c as a commented configuration file to out: every key of the table
 * with its help, bounds and default (commented out when c does not set it),
 * the [categories] rules (c's own, or the shipped table of c->format written
 * out) and the [areas] names. The files in config/adapters/ are exactly this
 * for their own content. 0, or -1 when out cannot be written.
 */
int adapter_config_write_example(FILE *out, const struct adapter_config *c);

#endif
