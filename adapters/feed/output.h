/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output: what est-feed makes of the pictures it receives, besides the
 * line per entry: an HTML page per picture (and index.html), CSV files for
 * Excel, a GeoJSON file for GIS, or a plain-text summary for a terminal.
 * Entries that are not pictures are passed over. Files are named
 * WEEK-AREA.EXT (2026-W47-hageby.html), so a newer picture of the same area
 * and week replaces the older one, and are written atomically.
 */
#ifndef ESTHUB_FEED_OUTPUT_H
#define ESTHUB_FEED_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "areamap.h"
#include "est.pb-c.h"
#include "i18n.h"

struct output_opts {
	const char *html_dir;    /* NULL: no pages */
	const char *csv_dir;     /* NULL: no CSV */
	const char *geojson_dir; /* NULL: no GeoJSON */
	const char *areas_path;  /* NULL: the built-in Norrköping areas */
	enum lang lang;
	bool summary;  /* --summary: a text block per picture instead of a line per entry */
	bool buffered; /* with summary: hold the blocks and print them ranked at the end */
};

struct output;

/*
 * Loads the areas and makes sure every directory exists (creating the last
 * component when missing). Returns the output (caller owns; output_destroy)
 * or NULL with "PATH: why" in err.
 */
struct output *output_new(const struct output_opts *o, char *err, size_t errlen);
void output_destroy(struct output **out);

/* Whether anything is to be made of pictures (files or summary). */
bool output_active(const struct output *out);

/*
 * Handles one entry: for a picture, writes its files (then the index) and
 * prints or holds its summary block. Returns 0, or -1 with "PATH: why" in
 * err when a file could not be written (the caller stops, so that --state
 * never moves past a picture whose files are missing).
 */
int output_entry(struct output *out, const Est__V1__LogEntry *e, char *err, size_t errlen);

/*
 * Prints the held summary blocks (newest week first, then by rank, the
 * whole municipality last) to stdout. Returns 0, or -1 when stdout failed.
 */
int output_finish(struct output *out);

/*
 * Rewrites DIR/index.html from the pages in dir (WEEK-AREA.html). Returns
 * 0 or -1 with "PATH: why" in err.
 */
int output_write_index(const char *dir, const struct areamap *m, enum lang l, char *err,
                       size_t errlen);

#endif
