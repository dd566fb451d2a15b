/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: hub.conf, an INI file read with inih. One table of
 * {section, name, type, bounds, default, help} drives parsing, the check
 * command's messages and the commented file `esthub init` writes.
 */
#ifndef ESTHUB_HUB_CONFIG_H
#define ESTHUB_HUB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CONFIG_STR_MAX 256

/* [limits] commit_thread: where a large group commit runs (ingest.c, launch). */
enum config_commit_thread { CONFIG_COMMIT_AUTO, CONFIG_COMMIT_ON, CONFIG_COMMIT_OFF };

struct config {
	char ingest[CONFIG_STR_MAX];     /* [hub] ingest endpoint */
	char feed[CONFIG_STR_MAX];       /* [hub] feed endpoint */
	long max_frame_bytes;            /* [limits] */
	long max_reports_per_envelope;   /* [limits] */
	long max_future_seconds;         /* [limits] */
	long max_batch_envelopes;        /* [limits] group commit: envelopes per transaction */
	long commit_thread;              /* [limits] enum config_commit_thread */
	long warn_free_mib;              /* [limits] space.h; 0: never warn */
	long subscriber_timeout_seconds; /* [feed] */
	long max_credit;                 /* [feed] */
	long cache_entries;              /* [feed] recent entries kept in memory */
	long checkpoint_interval_s;      /* [checkpoints] interval_seconds; 0: none */
	/* [merge] and [pictures]: how pictures are compiled and when (docs/pictures.md) */
	double merge_distance_m;   /* [merge] distance_m */
	long merge_window_seconds; /* [merge] window_seconds */
	double weight_gathering;   /* [pictures] weight_gathering, ... per category */
	double weight_vandalism;
	double weight_unsafe_place;
	double weight_upcoming_event;
	double weight_disorder;
	double weight_staff_incident;
	double weight_rumour;
	double weight_other;
	double trend_factor;
	double confirm_factor;
	long hotspots_max;
	double hotspot_cell_m;
	long upcoming_days;
	long upcoming_max;
	double followup_radius_m;
	long followup_weeks;
	long flag_weeks;               /* 0: no hotspot flags */
	char schedule[CONFIG_STR_MAX]; /* "mon 07:00", "off" (schedule.h) */
	long live_interval_seconds;    /* 0: no live picture */
	long personal_data; /* [privacy] enum personal_mode: 0 reject, 1 mask (personal.h) */
	/* [retention]: gallring, in days, 0 keeps for ever (retention.h, docs/retention.md) */
	long reports_days;
	long report_category_days[9]; /* by Est__V1__Category; -1: as reports_days */
	long measures_days;
	long pictures_days;
	long checkpoints_days;
	long audit_days;
	char purge_at[CONFIG_STR_MAX]; /* "03:30", Europe/Stockholm */
};

/* Fills c with the defaults of the table. */
void config_defaults(struct config *c);

/*
 * Whether the hub could not bind both: ingest and feed the same endpoint
 * (a port * is chosen anew for each). Each endpoint alone is checked
 * where it is read (endpoint_check).
 */
bool config_endpoints_clash(const char *ingest, const char *feed);

/*
 * Reads path into c (starting from the defaults). Every problem is printed
 * to diag (when not NULL) as "path:line: section.key: reason". Returns the
 * number of problems (0: c is complete), or -1 when the file cannot be read.
 */
int config_load(struct config *c, const char *path, FILE *diag);

/*
 * Writes a commented hub.conf with every key at its default, but for the
 * two endpoints. 0, or -1 with the reason in err.
 */
int config_write_default(const char *path, const char *ingest, const char *feed, char *err,
                         size_t errlen);

#endif
