/* SPDX-License-Identifier: Apache-2.0 */
/*
 * merge: which reports from different organisations tell of the same event.
 * Two reports are linked when they come from different organisations, have
 * the same category and area, lie close in space (both positions within
 * distance_m, or the same normalized place name) and close in time (their
 * times at most window_s apart; a report's time is its starts_at..ends_at
 * span when it gives one, else the moment observed_at). An incident is a
 * connected group of linked reports (union-find), so A~B and B~C make one
 * incident of A, B and C. The reports themselves are never changed.
 *
 * The result depends only on the set of reports, not on their order: they
 * are taken in seq order, buckets of (area, category) are swept in time
 * order, and incidents are numbered by their lowest seq. picture.c is the
 * user; docs/pictures.md has the rules with worked examples.
 */
#ifndef ESTHUB_HUB_MERGE_H
#define ESTHUB_HUB_MERGE_H

#include <stddef.h>
#include <stdint.h>

#define MERGE_DEFAULT_DISTANCE_M 150.0
#define MERGE_DEFAULT_WINDOW_S   7200
/* Bytes of a normalized place name, NUL included; longer names are cut. */
#define MERGE_PLACE_MAX 128
/* Reports one merge_run takes at most. */
#define MERGE_MAX_REPORTS (16u * 1024 * 1024)
/*
 * Pairs one merge_run compares at most (a few tenths of a second). Real
 * weeks compare a few thousand; only a flood of reports at one place and
 * time (a bulk import, a misbehaving partner) comes near it, and then the
 * hub must stay responsive: past the budget the remaining reports stay
 * incidents of their own and the result says so (truncated).
 */
#define MERGE_MAX_COMPARISONS (50u * 1000 * 1000)

struct merge_rules {
	double distance_m; /* positions at most this far apart are one place */
	int64_t window_s;  /* times at most this far apart are one time */
};

/* The compact report the merge (and the picture compiler) works on. */
struct merge_report {
	uint64_t seq;
	int64_t observed_at;
	int64_t starts_at; /* 0 when not given */
	int64_t ends_at;   /* 0 when not given */
	double lat, lon;   /* valid when has_position */
	uint32_t place;    /* interned normalized place name; 0 = none */
	uint16_t org;      /* interned organisation */
	uint16_t area;     /* interned area id */
	uint8_t category;  /* Est__V1__Category */
	uint8_t has_position;
};

/* One incident: members[first .. first + count) of the result, in seq order. */
struct merge_incident {
	uint32_t first; /* 16 bytes an incident: a compile holds one per report it merges */
	uint32_t count;
	uint32_t n_orgs;   /* distinct organisations among the members */
	uint32_t earliest; /* input index of the member observed first (lowest seq on a tie) */
};

/* What merge_run found. Caller owns it; merge_result_fini releases it. */
struct merge_result {
	size_t n_reports;
	uint32_t *incident_of; /* per input report: its incident's index */
	uint32_t *members;     /* input indexes grouped by incident */
	size_t n_incidents;
	struct merge_incident *incidents; /* ordered by their lowest seq */
	uint64_t comparisons;             /* pairs compared */
	int truncated;                    /* the budget ran out: some links may be missing */
};

/* The defaults: 150 m, 2 hours. */
void merge_rules_default(struct merge_rules *rules);

/* Great-circle distance in metres between two WGS 84 positions (haversine). */
double merge_distance_m(double lat1, double lon1, double lat2, double lon2);

/*
 * Writes the comparison form of a place name into out (MERGE_PLACE_MAX
 * bytes): ASCII letters in lower case, å ä à á → a, ö ø ó → o, é è → e, ü → u
 * (upper case too), every space and ASCII punctuation dropped; other
 * UTF-8 kept as it is. "Hageby Centrum, Trapphus 12" and "hagebycentrum
 * trapphus 12" compare equal. Returns the length.
 */
size_t merge_place_normalize(const char *place, char *out);

/*
 * Links the n reports of reps (any order) by the rules. Returns 0 and fills
 * *res (caller owns; merge_result_fini), or -1 when n is over
 * MERGE_MAX_REPORTS or memory runs out (res is then empty).
 */
int merge_run(const struct merge_report *reps, size_t n, const struct merge_rules *rules,
              struct merge_result *res);

/* Releases what merge_run allocated; leaves res empty. NULL-safe. */
void merge_result_fini(struct merge_result *res);

#endif
