/* SPDX-License-Identifier: Apache-2.0 */
/*
 * i18n: Swedish and English words for est-feed's outputs (see i18n.h). The
 * Swedish labels are the ones the EST working groups use in their own
 * documents ("Samling som skapar oro", "Otrygg plats").
 */
#include "i18n.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct words words_sv = {
    .picture = "Lägesbild",
    .week = "Vecka",
    .period = "Period",
    .compiled = "Sammanställd",
    .through_seq = "t.o.m. loggpost",
    .not_ranked = "Hela kommunen rangordnas inte; se områdenas rang nedan.",
    .priority = "Prioritet",
    .score = "Prioritetspoäng",
    .rank_of = "av",
    .score_explained = "Så räknades poängen",
    .no_score_parts = "Inga poäng denna vecka: inga händelser och inget över baslinjen.",
    .part_incidents = "Händelser",
    .part_trend = "Rapporter över baslinjen",
    .part_confirmed = "Bekräftade av flera organisationer",
    .points = "poäng",
    .categories = "Kategorier",
    .category = "Kategori",
    .reports = "Rapporter",
    .incidents = "Händelser",
    .previous_week = "Föregående vecka",
    .baseline = "Baslinje (snitt 8 veckor)",
    .no_categories = "Inga rapporter denna vecka.",
    .chart_note = "Staplar: rapporter, händelser och föregående vecka; strecket är baslinjen.",
    .trend = "Utveckling 12 veckor",
    .trend_note = "Rapporter (heldragen) och händelser (streckad) per vecka.",
    .no_trend = "Ingen utveckling att visa än.",
    .map = "Karta",
    .map_note = "Områdena färgade efter prioritet; siffrorna är brännpunkterna.",
    .map_legend_low = "låg",
    .map_legend_high = "hög prioritet",
    .map_no_ranks = "Ingen rangordning av områdena denna vecka.",
    .own_area = "detta område",
    .hotspots = "Brännpunkter",
    .place = "Plats",
    .position = "Position",
    .orgs = "Organisationer",
    .no_hotspots = "Inga brännpunkter denna vecka.",
    .unnamed_place = "(plats utan namn)",
    .upcoming = "Kommande händelser (14 dagar)",
    .starts = "Börjar",
    .ends = "Slutar",
    .org = "Organisation",
    .description = "Beskrivning",
    .no_upcoming = "Inga kommande händelser.",
    .measures = "Åtgärder",
    .kind = "Typ",
    .group = "Grupp",
    .status = "Status",
    .assigned = "Ansvarig",
    .no_measures = "Inga åtgärder.",
    .followup = "Uppföljning",
    .before = "före",
    .after = "efter",
    .within_m = "inom",
    .no_followups = "Ingen genomförd åtgärd att följa upp än.",
    .measure_counts = "Sociala och övriga åtgärder (antal)",
    .count = "Antal",
    .no_measure_counts = "Inga åtgärder att räkna.",
    .flags = "Att uppmärksamma",
    .no_flags = "Inget att uppmärksamma.",
    .flag_hotspot = "Brännpunkt utan åtgärd",
    .flag_overlap = "Överlappande åtgärder",
    .weeks_without = "veckor",
    .contributions = "Bidrag per organisation",
    .confirmed = "Bekräftade",
    .no_contributions = "Inga bidrag denna vecka.",
    .index_title = "Lägesbilder",
    .index_note = "Nyaste veckan först.",
    .no_pages = "Inga lägesbilder än.",
    .generated_by = "Skapad av est-feed ur esthubs logg",
    .area = "Område",
    .top_categories = "mest",
    .vs_baseline = "baslinje",
    .rank = "rang",
};

static const struct words words_en = {
    .picture = "Situational picture",
    .week = "Week",
    .period = "Period",
    .compiled = "Compiled",
    .through_seq = "through log entry",
    .not_ranked = "The whole municipality is not ranked; see the areas' ranks below.",
    .priority = "Priority",
    .score = "Priority score",
    .rank_of = "of",
    .score_explained = "How the score was computed",
    .no_score_parts = "No points this week: no incidents and nothing above the baseline.",
    .part_incidents = "Incidents",
    .part_trend = "Reports above the baseline",
    .part_confirmed = "Confirmed by several organisations",
    .points = "points",
    .categories = "Categories",
    .category = "Category",
    .reports = "Reports",
    .incidents = "Incidents",
    .previous_week = "Previous week",
    .baseline = "Baseline (8-week mean)",
    .no_categories = "No reports this week.",
    .chart_note = "Bars: reports, incidents and previous week; the tick is the baseline.",
    .trend = "12-week trend",
    .trend_note = "Reports (solid) and incidents (dashed) per week.",
    .no_trend = "No trend to show yet.",
    .map = "Map",
    .map_note = "Areas coloured by priority; the numbers are the hotspots.",
    .map_legend_low = "low",
    .map_legend_high = "high priority",
    .map_no_ranks = "No ranking of the areas this week.",
    .own_area = "this area",
    .hotspots = "Hotspots",
    .place = "Place",
    .position = "Position",
    .orgs = "Organisations",
    .no_hotspots = "No hotspots this week.",
    .unnamed_place = "(unnamed place)",
    .upcoming = "Upcoming events (14 days)",
    .starts = "Starts",
    .ends = "Ends",
    .org = "Organisation",
    .description = "Description",
    .no_upcoming = "No upcoming events.",
    .measures = "Measures",
    .kind = "Kind",
    .group = "Group",
    .status = "Status",
    .assigned = "Assigned to",
    .no_measures = "No measures.",
    .followup = "Follow-up",
    .before = "before",
    .after = "after",
    .within_m = "within",
    .no_followups = "No completed measure to follow up yet.",
    .measure_counts = "Social and other measures (counts)",
    .count = "Count",
    .no_measure_counts = "No measures to count.",
    .flags = "Needs attention",
    .no_flags = "Nothing needs attention.",
    .flag_hotspot = "Hotspot without a measure",
    .flag_overlap = "Overlapping measures",
    .weeks_without = "weeks",
    .contributions = "Contributions per organisation",
    .confirmed = "Confirmed",
    .no_contributions = "No contributions this week.",
    .index_title = "Situational pictures",
    .index_note = "Newest week first.",
    .no_pages = "No situational pictures yet.",
    .generated_by = "Made by est-feed from the esthub log",
    .area = "Area",
    .top_categories = "most",
    .vs_baseline = "baseline",
    .rank = "rank",
};

int
i18n_lang_parse(const char *s, enum lang *out)
{
	if (strcmp(s, "sv") == 0) {
		*out = LANG_SV;
		return 0;
	}
	if (strcmp(s, "en") == 0) {
		*out = LANG_EN;
		return 0;
	}
	return -1;
}

const char *
i18n_lang_code(enum lang l)
{
	return l == LANG_EN ? "en" : "sv";
}

const struct words *
i18n_words(enum lang l)
{
	return l == LANG_EN ? &words_en : &words_sv;
}

static const struct line_words line_words_sv = {
    .invalid_text = "(ogiltig text)",
    .withdrawn = "[återkallad] ",
    .observed = "observerad",
    .from = "från",
    .updated = "uppdaterad",
    .measure = "åtgärd",
    .picture = "lägesbild",
    .rank = "rang",
    .priority = "prioritet",
    .through_seq = "t.o.m. seq",
    .checkpoint = "kontrollpunkt",
    .entries = "poster",
    .head = "huvud",
    .event = "händelse",
    .no_content = "(innehåll saknas)",
    .decimal = ',',
};

static const struct line_words line_words_en = {
    .invalid_text = "(invalid text)",
    .withdrawn = "[withdrawn] ",
    .observed = "observed",
    .from = "from",
    .updated = "updated",
    .measure = "measure",
    .picture = "picture",
    .rank = "rank",
    .priority = "priority",
    .through_seq = "through seq",
    .checkpoint = "checkpoint",
    .entries = "entries",
    .head = "head",
    .event = "event",
    .no_content = "(no content)",
    .decimal = '.',
};

const struct line_words *
i18n_line_words(enum lang l)
{
	return l == LANG_EN ? &line_words_en : &line_words_sv;
}

/* Looks v up in a table of {sv, en} pairs indexed by enum value. */
static const char *
pick(enum lang l, const char *const (*table)[2], size_t n, int v)
{
	if (v < 0 || (size_t)v >= n)
		return l == LANG_EN ? "unknown" : "okänd";
	return table[v][l == LANG_EN ? 1 : 0];
}

static const char *const categories[][2] = {
    {"Ospecificerad", "Unspecified"},
    {"Samling som skapar oro", "Gathering causing unease"},
    {"Skadegörelse", "Vandalism"},
    {"Otrygg plats", "Unsafe place"},
    {"Kommande händelse", "Upcoming event"},
    {"Ordningsstörning", "Disorder"},
    {"Händelse mot personal", "Incident against staff"},
    {"Rykte", "Rumour"},
    {"Övrigt", "Other"},
};

static const char *const kinds[][2] = {
    {"Ospecificerad", "Unspecified"},
    {"Ökad närvaro", "Presence"},
    {"Belysning", "Lighting"},
    {"Röjning av växtlighet", "Vegetation clearing"},
    {"Stängt öppet wifi", "Open wifi shut"},
    {"Städning och sanering", "Clean-up"},
    {"Uppsökande arbete", "Outreach"},
    {"Färdighetsträning", "Skills training"},
    {"Fritidsaktiviteter", "Leisure activities"},
    {"Föräldrastöd", "Parental support"},
    {"Övrigt", "Other"},
};

static const char *const statuses[][2] = {
    {"Ospecificerad", "Unspecified"}, {"Föreslagen", "Proposed"}, {"Beslutad", "Decided"},
    {"Pågår", "In progress"},         {"Genomförd", "Done"},      {"Avbruten", "Cancelled"},
};

static const char *const groups[][2] = {
    {"Ingen grupp", "No group"},
    {"Situationsgruppen", "Situational group"},
    {"Sociala gruppen", "Social group"},
};

#define N_OF(t) (sizeof(t) / sizeof((t)[0]))

const char *
i18n_category(enum lang l, int category)
{
	return pick(l, categories, N_OF(categories), category);
}

const char *
i18n_kind(enum lang l, int kind)
{
	return pick(l, kinds, N_OF(kinds), kind);
}

const char *
i18n_status(enum lang l, int status)
{
	return pick(l, statuses, N_OF(statuses), status);
}

const char *
i18n_group(enum lang l, int group)
{
	return pick(l, groups, N_OF(groups), group);
}

const char *
i18n_part_label(enum lang l, const char *label)
{
	const struct words *w = i18n_words(l);
	if (label == NULL)
		return "";
	if (strcmp(label, "incidents") == 0)
		return w->part_incidents;
	if (strcmp(label, "trend") == 0)
		return w->part_trend;
	if (strcmp(label, "confirmed") == 0)
		return w->part_confirmed;
	return label;
}

static const struct {
	const char *id, *sv, *en;
} builtin_areas[] = {
    {"marielund", "Marielund", "Marielund"},
    {"hageby", "Hageby", "Hageby"},
    {"navestad", "Navestad", "Navestad"},
    {"klockaretorpet", "Klockaretorpet", "Klockaretorpet"},
    {"city", "Norrköping city", "Norrköping city"},
    {"all", "Hela kommunen", "Whole municipality"},
    {"outside", "Utanför områdena", "Outside the areas"},
};

const char *
i18n_area_builtin(enum lang l, const char *id)
{
	for (size_t i = 0; id != NULL && i < N_OF(builtin_areas); i++)
		if (strcmp(builtin_areas[i].id, id) == 0)
			return l == LANG_EN ? builtin_areas[i].en : builtin_areas[i].sv;
	return NULL;
}

void
i18n_number(enum lang l, double v, int max_decimals, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	if (!isfinite(v)) {
		snprintf(out, outlen, "–");
		return;
	}
	if (max_decimals < 0)
		max_decimals = 0;
	if (max_decimals > 6)
		max_decimals = 6;
	int n = snprintf(out, outlen, "%.*f", max_decimals, v);
	if (n < 0 || (size_t)n >= outlen)
		return;
	char *dot = strchr(out, '.');
	if (dot != NULL) {
		char *end = out + strlen(out) - 1;
		while (end > dot && *end == '0')
			*end-- = '\0';
		if (end == dot)
			*end = '\0';
		else
			*dot = l == LANG_EN ? '.' : ',';
	}
	/* A small negative number rounded to zero prints as "-0": not a figure anyone wrote. */
	if (strcmp(out, "-0") == 0)
		snprintf(out, outlen, "0");
}

int
i18n_week_parse(const char *week, int *year, int *wk)
{
	if (week == NULL || strlen(week) != 8 || week[4] != '-' || week[5] != 'W')
		return -1;
	int y = 0, w = 0;
	for (int i = 0; i < 8; i++) {
		if (i == 4 || i == 5)
			continue;
		if (week[i] < '0' || week[i] > '9')
			return -1;
		if (i < 4)
			y = y * 10 + (week[i] - '0');
		else
			w = w * 10 + (week[i] - '0');
	}
	if (w < 1 || w > 53)
		return -1;
	*year = y;
	*wk = w;
	return 0;
}

int
i18n_week(enum lang l, const char *week, char *out, size_t outlen)
{
	int y, w;
	if (i18n_week_parse(week, &y, &w) != 0)
		return -1;
	snprintf(out, outlen, "%s %d, %d", l == LANG_EN ? "week" : "vecka", w, y);
	return 0;
}

static const char *const months[][2] = {
    {"januari", "January"}, {"februari", "February"}, {"mars", "March"},
    {"april", "April"},     {"maj", "May"},           {"juni", "June"},
    {"juli", "July"},       {"augusti", "August"},    {"september", "September"},
    {"oktober", "October"}, {"november", "November"}, {"december", "December"},
};

static int
local_tm(int64_t unix_s, struct tm *tm)
{
	time_t t = (time_t)unix_s;
	return localtime_r(&t, tm) == NULL ? -1 : 0;
}

void
i18n_date(enum lang l, int64_t unix_s, char *out, size_t outlen)
{
	struct tm tm;
	if (local_tm(unix_s, &tm) != 0) {
		snprintf(out, outlen, "–");
		return;
	}
	snprintf(out, outlen, "%d %s %d", tm.tm_mday, months[tm.tm_mon][l == LANG_EN ? 1 : 0],
	         tm.tm_year + 1900);
}

void
i18n_period(enum lang l, int64_t start, int64_t end, char *out, size_t outlen)
{
	struct tm a, b;
	if (end <= start || local_tm(start, &a) != 0 || local_tm(end - 1, &b) != 0) {
		i18n_date(l, start, out, outlen);
		return;
	}
	int li = l == LANG_EN ? 1 : 0;
	if (a.tm_year == b.tm_year && a.tm_mon == b.tm_mon)
		snprintf(out, outlen, "%d–%d %s %d", a.tm_mday, b.tm_mday, months[b.tm_mon][li],
		         b.tm_year + 1900);
	else if (a.tm_year == b.tm_year)
		snprintf(out, outlen, "%d %s – %d %s %d", a.tm_mday, months[a.tm_mon][li],
		         b.tm_mday, months[b.tm_mon][li], b.tm_year + 1900);
	else
		snprintf(out, outlen, "%d %s %d – %d %s %d", a.tm_mday, months[a.tm_mon][li],
		         a.tm_year + 1900, b.tm_mday, months[b.tm_mon][li], b.tm_year + 1900);
}
