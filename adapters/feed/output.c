/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output: the files and summaries made of pictures (see output.h). The
 * index is built from what is in the directory, not from memory, so it
 * also lists the pages of earlier runs (with --state a run may receive only
 * one new picture).
 */
#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "render.h"
#include "render_csv.h"
#include "render_geojson.h"
#include "render_html.h"
#include "render_text.h"
#include "textbuf.h"
#include "wire/diag.h"

#define OUTPUT_MAX_PAGES 10000 /* pages listed in one index; more are left out (and said) */

struct held {
	char week[16];
	char area[40];
	unsigned rank;
	uint64_t seq;
	char *text;
};

struct output {
	struct output_opts o;
	struct areamap *map;
	struct held *held;
	size_t n_held, cap_held;
};

/* Makes path and its missing parents (as mkdir -p); -1 with "PATH: why" in err. */
static int
ensure_dir(const char *path, char *err, size_t errlen)
{
	char buf[4096];
	int n = snprintf(buf, sizeof buf, "%s", path);
	if (n < 0 || (size_t)n >= sizeof buf) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	for (char *q = buf + 1;; q++) {
		bool last = *q == '\0';
		if (*q != '/' && !last)
			continue;
		*q = '\0';
		struct stat st;
		if (stat(buf, &st) != 0 && (errno != ENOENT || mkdir(buf, 0755) != 0) &&
		    errno != EEXIST) {
			snprintf(err, errlen, "%s: cannot create the directory: %s", buf,
			         strerror(errno));
			return -1;
		}
		if (stat(buf, &st) == 0 && !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: not a directory", buf);
			return -1;
		}
		if (last)
			return 0;
		*q = '/';
	}
}

struct output *
output_new(const struct output_opts *o, char *err, size_t errlen)
{
	struct output *out = calloc(1, sizeof *out);
	if (out == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	out->o = *o;
	out->map = o->areas_path != NULL
	               ? areamap_load(o->areas_path, err, errlen)
	               : areamap_parse(areamap_default_geojson, "built-in areas", err, errlen);
	const char *dirs[] = {o->html_dir, o->csv_dir, o->geojson_dir};
	bool ok = out->map != NULL;
	for (size_t i = 0; ok && i < 3; i++)
		ok = dirs[i] == NULL || ensure_dir(dirs[i], err, errlen) == 0;
	if (!ok)
		output_destroy(&out);
	return out;
}

void
output_destroy(struct output **out)
{
	if (out == NULL || *out == NULL)
		return;
	for (size_t i = 0; i < (*out)->n_held; i++)
		free((*out)->held[i].text);
	free((*out)->held);
	areamap_destroy(&(*out)->map);
	free(*out);
	*out = NULL;
}

bool
output_active(const struct output *out)
{
	return out != NULL && (out->o.html_dir != NULL || out->o.csv_dir != NULL ||
	                       out->o.geojson_dir != NULL || out->o.summary);
}

static int
path_of(char *path, size_t len, const char *dir, const char *base, const char *suffix, char *err,
        size_t errlen)
{
	int n = snprintf(path, len, "%s/%s%s", dir, base, suffix);
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	return 0;
}

/* Writes the rendered b to DIR/BASE+SUFFIX and releases b. */
static int
write_one(const char *dir, const char *base, const char *suffix, struct textbuf *b, char *err,
          size_t errlen)
{
	char path[4096];
	int rc = path_of(path, sizeof path, dir, base, suffix, err, errlen);
	if (rc == 0)
		rc = textbuf_write_file(b, path, err, errlen);
	textbuf_fini(b);
	return rc;
}

static int
write_files(struct output *out, const Est__V1__Picture *p, const char *base, char *err,
            size_t errlen)
{
	const struct output_opts *o = &out->o;
	struct textbuf b;
	if (o->html_dir != NULL) {
		textbuf_init(&b);
		render_html_page(&b, p, out->map, o->lang);
		if (write_one(o->html_dir, base, ".html", &b, err, errlen) != 0 ||
		    output_write_index(o->html_dir, out->map, o->lang, err, errlen) != 0)
			return -1;
	}
	if (o->csv_dir != NULL) {
		textbuf_init(&b);
		render_csv_categories(&b, p, out->map, o->lang);
		if (write_one(o->csv_dir, base, ".csv", &b, err, errlen) != 0)
			return -1;
		textbuf_init(&b);
		render_csv_places(&b, p, out->map, o->lang);
		if (write_one(o->csv_dir, base, "-places.csv", &b, err, errlen) != 0)
			return -1;
	}
	if (o->geojson_dir != NULL) {
		textbuf_init(&b);
		render_geojson(&b, p, out->map);
		if (write_one(o->geojson_dir, base, ".geojson", &b, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* Holds the block of p, replacing an older picture of the same area and week. */
static int
hold(struct output *out, const Est__V1__LogEntry *e, const Est__V1__Picture *p, char *text)
{
	struct held *h = NULL;
	for (size_t i = 0; i < out->n_held && h == NULL; i++)
		if (strcmp(out->held[i].week, p->week) == 0 &&
		    strcmp(out->held[i].area, p->area) == 0)
			h = &out->held[i];
	if (h == NULL) {
		if (out->n_held == out->cap_held) {
			size_t cap = out->cap_held ? out->cap_held * 2 : 16;
			struct held *nh = realloc(out->held, cap * sizeof *nh);
			if (nh == NULL)
				return -1;
			out->held = nh;
			out->cap_held = cap;
		}
		h = &out->held[out->n_held++];
		memset(h, 0, sizeof *h);
		snprintf(h->week, sizeof h->week, "%s", p->week);
		snprintf(h->area, sizeof h->area, "%s", p->area);
	}
	free(h->text);
	h->text = text;
	h->rank = p->rank;
	h->seq = e->seq;
	return 0;
}

static int
summary(struct output *out, const Est__V1__LogEntry *e, const Est__V1__Picture *p, char *err,
        size_t errlen)
{
	struct textbuf b;
	textbuf_init(&b);
	render_text_summary(&b, p, out->map, out->o.lang);
	if (b.failed) {
		textbuf_fini(&b);
		snprintf(err, errlen, "seq %llu: out of memory", (unsigned long long)e->seq);
		return -1;
	}
	if (!out->o.buffered) {
		int rc = printf("%s\n", b.data) < 0 || fflush(stdout) != 0 ? -1 : 0;
		if (rc != 0)
			snprintf(err, errlen, "cannot write to stdout: %s", strerror(errno));
		textbuf_fini(&b);
		return rc;
	}
	if (hold(out, e, p, b.data) != 0) {
		textbuf_fini(&b);
		snprintf(err, errlen, "seq %llu: out of memory", (unsigned long long)e->seq);
		return -1;
	}
	return 0; /* the text now belongs to the held block */
}

int
output_entry(struct output *out, const Est__V1__LogEntry *e, char *err, size_t errlen)
{
	if (!output_active(out) || e->body_case != EST__V1__LOG_ENTRY__BODY_PICTURE ||
	    e->picture == NULL)
		return 0;
	const Est__V1__Picture *p = e->picture;
	char base[64];
	if (render_base_name(p, base, sizeof base) != 0) {
		/* Not our failure to write: the hub never makes such a picture. Say so and go on.
		 */
		diag_say("seq %llu: a picture with week \"%.16s\" and area \"%.40s\" cannot be "
		         "named as a file; skipped",
		         (unsigned long long)e->seq, p->week ? p->week : "",
		         p->area ? p->area : "");
		return 0;
	}
	if (write_files(out, p, base, err, errlen) != 0)
		return -1;
	return out->o.summary ? summary(out, e, p, err, errlen) : 0;
}

static int
held_cmp(const void *a, const void *b)
{
	const struct held *x = a, *y = b;
	int c = strcmp(y->week, x->week);
	if (c != 0)
		return c;
	/* Rank 0 is the unranked whole municipality: after the ranked areas. */
	unsigned rx = x->rank ? x->rank : UINT32_MAX, ry = y->rank ? y->rank : UINT32_MAX;
	if (rx != ry)
		return rx < ry ? -1 : 1;
	return strcmp(x->area, y->area);
}

int
output_finish(struct output *out)
{
	if (out == NULL || out->n_held == 0)
		return 0;
	qsort(out->held, out->n_held, sizeof *out->held, held_cmp);
	for (size_t i = 0; i < out->n_held; i++)
		if (printf("%s\n", out->held[i].text) < 0)
			return -1;
	return fflush(stdout) == 0 ? 0 : -1;
}

/* Whether name is WEEK-AREA.html as render_base_name makes it; fills r. */
static bool
page_name(const char *name, struct page_ref *r)
{
	size_t n = strlen(name);
	if (n < 15 || n >= sizeof r->file || strcmp(name + n - 5, ".html") != 0 || name[8] != '-')
		return false;
	Est__V1__Picture p;
	est__v1__picture__init(&p);
	char week[16], area[40], base[64];
	snprintf(week, sizeof week, "%.8s", name);
	snprintf(area, sizeof area, "%.*s", (int)(n - 14), name + 9);
	p.week = week;
	p.area = area;
	if (render_base_name(&p, base, sizeof base) != 0 || strlen(base) + 5 != n)
		return false;
	snprintf(r->file, sizeof r->file, "%s", name);
	snprintf(r->week, sizeof r->week, "%s", week);
	snprintf(r->area, sizeof r->area, "%s", area);
	return true;
}

int
output_write_index(const char *dir, const struct areamap *m, enum lang l, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		snprintf(err, errlen, "%s: cannot list the directory: %s", dir, strerror(errno));
		return -1;
	}
	struct page_ref *refs = calloc(OUTPUT_MAX_PAGES, sizeof *refs);
	size_t n = 0;
	struct dirent *de;
	while (refs != NULL && (de = readdir(d)) != NULL)
		if (n < OUTPUT_MAX_PAGES && page_name(de->d_name, &refs[n]))
			n++;
	closedir(d);
	if (refs == NULL) {
		snprintf(err, errlen, "%s: out of memory for the index", dir);
		return -1;
	}
	struct textbuf b;
	textbuf_init(&b);
	render_html_index(&b, refs, n, m, l);
	free(refs);
	return write_one(dir, "index", ".html", &b, err, errlen);
}
