/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the adapter configuration file
 * (adapters/runtime/adapter_config.c): every kind of problem with its exact
 * "file:line: section.key: reason" line, values and their defaults,
 * relative paths, [categories] replacing the format's table, [areas]
 * names, what --check adds (certificates, directories, the format), and the
 * shipped examples in config/adapters/, which must load without a problem
 * and be exactly what the key table writes for them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/adapter_config.h"
#include "runtime/geo.h"
#include "runtime/mapping.h"
#include "runtime/outbox.h"
#include "runtime/sender.h"
#include "wire/cert.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct fixture {
	char dir[64];
	char conf[128]; /* dir/etc/adapter.conf */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_adapter_config.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char etc[96];
	snprintf(etc, sizeof etc, "%s/etc", f->dir);
	assert_int_equal(mkdir(etc, 0700), 0);
	snprintf(f->conf, sizeof f->conf, "%s/adapter.conf", etc);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *out = fopen(path, "w");
	assert_non_null(out);
	assert_int_equal(fwrite(text, 1, len, out), len);
	assert_int_equal(fclose(out), 0);
}

/* Loads text as the fixture's file; the diagnostics in *diag (caller frees). */
static int
load_text(struct fixture *f, struct adapter_config *c, const char *text, size_t len, char **diag)
{
	write_file(f->conf, text, len ? len : strlen(text));
	size_t diag_len;
	FILE *d = open_memstream(diag, &diag_len);
	assert_non_null(d);
	int n = adapter_config_load(c, f->conf, d);
	assert_int_equal(fclose(d), 0);
	return n;
}

/* want with every '@' replaced by path; the caller frees. */
static char *
expand(const char *want, const char *path)
{
	size_t n = strlen(want) + 1;
	for (const char *p = want; *p; p++)
		n += *p == '@' ? strlen(path) : 0;
	char *out = malloc(n), *o = out;
	assert_non_null(out);
	for (const char *p = want; *p; p++) {
		if (*p == '@') {
			memcpy(o, path, strlen(path));
			o += strlen(path);
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

static void
test_problems(void **state)
{
	struct fixture *f = *state;
	char long_line[ADAPTER_CONFIG_LINE_MAX + 16];
	snprintf(long_line, sizeof long_line, "[hub]\n# %0*d\n", ADAPTER_CONFIG_LINE_MAX, 0);
	static const char categories[] =
	    " is not a category (gathering, vandalism, unsafe_place, upcoming_event, disorder, "
	    "staff_incident, rumour, other) or skip";
	char not_a_category[256];
	snprintf(not_a_category, sizeof not_a_category,
	         "@:2: categories.Skadegörelse: \"vandalsm\"%s\n", categories);
	const struct {
		const char *text;
		size_t len; /* 0: strlen */
		const char *diag;
	} cases[] = {
	    {"", 0, ""},
	    {"# nothing but a comment\n; and another\n\n", 0, ""},
	    {"[hub]\nendpoint = http://hub:7601\n", 0,
	     "@:2: hub.endpoint: \"http://hub:7601\": expected tcp://HOST:PORT or ipc://PATH\n"},
	    {"[hub]\nendpoint = tcp://\n", 0,
	     "@:2: hub.endpoint: \"tcp://\": no port: expected tcp://HOST:PORT\n"},
	    {"[hub]\nendpoint = tcp://hub\n", 0,
	     "@:2: hub.endpoint: \"tcp://hub\": no port: expected tcp://HOST:PORT\n"},
	    {"[hub]\nendpoint = tcp://*:7601\n", 0,
	     "@:2: hub.endpoint: \"tcp://*:7601\": host * is for the hub's own endpoints; give the "
	     "hub's name or address\n"},
	    {"[hub]\nendpont = tcp://hub:7601\n", 0,
	     "@:2: hub.endpont: unknown key (known: endpoint hub_cert cert)\n"},
	    {"[hubb]\nendpoint = tcp://hub:7601\ncert = x\n", 0,
	     "@:1: [hubb]: unknown section (hub, adapter, watch, listen, categories, areas)\n"},
	    {"endpoint = tcp://hub:7601\n", 0,
	     "@:1: endpoint: outside any section (start with [hub])\n"},
	    {"[adapter]\nbatch = 0\n", 0, "@:2: adapter.batch: must be 1..1000, got 0\n"},
	    {"[adapter]\nwindow = 65\n", 0, "@:2: adapter.window: must be 1..64, got 65\n"},
	    {"[adapter]\ntimeout = 604801\n", 0,
	     "@:2: adapter.timeout: must be 1..604800, got 604801\n"},
	    {"[adapter]\nbatch = 10x\n", 0, "@:2: adapter.batch: \"10x\" is not a whole number\n"},
	    {"[adapter]\nbatch = -5\n", 0, "@:2: adapter.batch: \"-5\" is not a whole number\n"},
	    {"[adapter]\nmax_pending = 99999999999999999999\n", 0,
	     "@:2: adapter.max_pending: \"99999999999999999999\" is not a whole number\n"},
	    {"[adapter]\nwindow = 8\n\nwindow = 9\n", 0,
	     "@:4: adapter.window: given twice (first at line 2)\n"},
	    {"[adapter]\ntimeout =\n", 0,
	     "@:2: adapter.timeout: no value (leave the key out for the default)\n"},
	    {"[adapter]\nformat = Police JSON\n", 0,
	     "@:2: adapter.format: \"Police JSON\": expected a format name (json, "
	     "municipality-csv, police-json, open311)\n"},
	    {"[listen]\naddress = 70000\n", 0,
	     "@:2: listen.address: \"70000\": expected HOST:PORT or PORT, with PORT 1..65535\n"},
	    {"[listen]\naddress = ::1:8080\n", 0,
	     "@:2: listen.address: \"::1:8080\": an IPv6 address is written [ADDRESS]:PORT\n"},
	    {"[listen]\naddress = [::1]8080\n", 0,
	     "@:2: listen.address: \"[::1]8080\": an IPv6 address is written [ADDRESS]:PORT\n"},
	    {"[listen]\naddress = hub host:8080\n", 0,
	     "@:2: listen.address: \"hub host:8080\": expected HOST:PORT or PORT, with HOST a "
	     "name or address\n"},
	    {"[categories]\nSkadegörelse = vandalsm\n", 0, not_a_category},
	    {"[categories]\nBrand = vandalism/fire\nBRAND  = skip\n", 0,
	     "@:3: categories.BRAND: same value as line 2 (values are compared ignoring case and "
	     "spaces)\n"},
	    {"[categories]\nBrand =\n", 0,
	     "@:2: categories.Brand: no category given (category, category/subcategory or "
	     "skip)\n"},
	    {"[categories]\nBrand = skip/fire\n", 0,
	     "@:2: categories.Brand: skip takes no subcategory\n"},
	    {"[areas]\nInnerstaden = centrum\n", 0,
	     "@:2: areas.Innerstaden: \"centrum\" is not an area id (marielund, hageby, navestad, "
	     "klockaretorpet, city)\n"},
	    {"[areas]\nCentrum = hageby\n", 0,
	     "@:2: areas.Centrum: already a built-in name of area city\n"},
	    {"[areas]\nInnerstaden = city\nINNERSTÄDEN = city\n", 0,
	     "@:3: areas.INNERSTÄDEN: same name as line 2 (names are compared ignoring case, "
	     "accents and spaces)\n"},
	    {"[hub]\nthis line has no equals sign\n", 0,
	     "@:2: syntax error (expected [section], key = value or a # comment)\n"},
	    {"[hub\n", 0, "@:1: syntax error (expected [section], key = value or a # comment)\n"},
	    {long_line, 0, "@:2: the line is longer than 199 bytes\n"},
	    {"[categories]\nSkadeg\xF6relse = vandalism\n", 0,
	     "@:2: not UTF-8 (save the file as UTF-8)\n"},
	    {"[hub]\nend\0point = tcp://hub:7601\n",
	     sizeof "[hub]\nend\0point = tcp://hub:7601\n" - 1, "@:2: the line holds a NUL byte\n"},
	    {"[hub]\nendpoint ; = tcp://hub:7601\n[a ;]\n", 0,
	     "@:2: syntax error (expected [section], key = value or a # comment)\n"
	     "@:3: syntax error (expected [section], key = value or a # comment)\n"},
	    /* A line starting with white space is never the continuation of a value. */
	    {"[categories]\nBrand = vandalism/fire\n\v\fBråk = disorder\n  nonsense\n", 0,
	     "@:4: syntax error (expected [section], key = value or a # comment)\n"},
	    /* Every problem is told, in file order; the unknown section once. */
	    {"[hub]\ncert = a\ncert = b\n[x]\na = 1\nb = 2\n[adapter]\nbatch = 0\n", 0,
	     "@:3: hub.cert: given twice (first at line 2)\n"
	     "@:4: [x]: unknown section (hub, adapter, watch, listen, categories, areas)\n"
	     "@:8: adapter.batch: must be 1..1000, got 0\n"},
	    {"[hub]\nno equals\ncert = a\ncert = b\nnor here\n", 0,
	     "@:2: syntax error (expected [section], key = value or a # comment)\n"
	     "@:4: hub.cert: given twice (first at line 3)\n"
	     "@:5: syntax error (expected [section], key = value or a # comment)\n"},
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct adapter_config c;
		char *diag = NULL;
		int n = load_text(f, &c, cases[i].text, cases[i].len, &diag);
		char *want = expand(cases[i].diag, f->conf);
		if (strcmp(diag, want) != 0)
			fail_msg("case %zu:\n got: %s\nwant: %s", i, diag, want);
		size_t lines = 0;
		for (const char *p = want; *p; p++)
			lines += *p == '\n';
		assert_int_equal(n, (int)lines);
		adapter_config_fini(&c);
		free(want);
		free(diag);
	}
}

static void
test_cannot_read(void **state)
{
	struct fixture *f = *state;
	struct adapter_config c;
	char *diag = NULL;
	size_t len;
	FILE *d = open_memstream(&diag, &len);
	assert_int_equal(adapter_config_load(&c, "/nonexistent/adapter.conf", d), -1);
	fclose(d);
	assert_string_equal(diag, "/nonexistent/adapter.conf:0: cannot read: No such file or "
	                          "directory\n");
	adapter_config_fini(&c);
	free(diag);
	(void)f;
}

static void
test_values(void **state)
{
	struct fixture *f = *state;
	struct adapter_config c;
	char *diag = NULL;
	/* Nothing set: the defaults, which are the command line's. */
	assert_int_equal(load_text(f, &c, "", 0, &diag), 0);
	free(diag);
	assert_string_equal(c.endpoint, "tcp://127.0.0.1:7601");
	assert_string_equal(c.hub_cert, "");
	assert_string_equal(c.format, "");
	assert_string_equal(c.outbox, "");
	assert_string_equal(c.watch_dir, "");
	assert_string_equal(c.listen, "");
	assert_int_equal(c.max_pending, OUTBOX_DEFAULT_MAX_PENDING);
	assert_int_equal(c.batch, SENDER_DEFAULT_BATCH);
	assert_int_equal(c.window, SENDER_DEFAULT_WINDOW);
	assert_int_equal(c.timeout_s, SENDER_DEFAULT_TIMEOUT_S);
	assert_null(c.categories);
	assert_int_equal(c.n_aliases, 0);
	adapter_config_fini(&c);

	/* BOM, CRLF, indentation, an inline comment, spaces around '='. */
	static const char text[] = "\xEF\xBB\xBF[hub]\r\n"
	                           "  endpoint=tcp://esthub.example:7601\r\n"
	                           "[adapter]\r\n"
	                           "\tformat = police-json ; the police's events feed\r\n"
	                           "max_pending = 1\r\n"
	                           "batch   =   1000\r\n"
	                           "window = 64\r\n"
	                           "timeout = 604800\r\n"
	                           "[listen]\r\n"
	                           "address = 7680\r\n";
	assert_int_equal(load_text(f, &c, text, 0, &diag), 0);
	free(diag);
	assert_string_equal(c.endpoint, "tcp://esthub.example:7601");
	assert_string_equal(c.format, "police-json");
	assert_int_equal(c.max_pending, 1);
	assert_int_equal(c.batch, 1000);
	assert_int_equal(c.window, 64);
	assert_int_equal(c.timeout_s, 604800);
	assert_string_equal(c.listen, "127.0.0.1:7680");
	adapter_config_fini(&c);

	static const struct {
		const char *address, *listen;
	} listens[] = {
	    {"7680", "127.0.0.1:7680"},           {":7680", "127.0.0.1:7680"},
	    {"0.0.0.0:80", "0.0.0.0:80"},         {"*:8080", "*:8080"},
	    {"localhost:7680", "localhost:7680"}, {"[::1]:8080", "[::1]:8080"},
	    {"[::]:65535", "[::]:65535"},
	};
	for (size_t i = 0; i < N(listens); i++) {
		char conf[128];
		snprintf(conf, sizeof conf, "[listen]\naddress = %s\n", listens[i].address);
		assert_int_equal(load_text(f, &c, conf, 0, &diag), 0);
		free(diag);
		assert_string_equal(c.listen, listens[i].listen);
		adapter_config_fini(&c);
	}
}

static void
test_relative_paths(void **state)
{
	struct fixture *f = *state;
	struct adapter_config c;
	char *diag = NULL;
	static const char text[] = "[hub]\nhub_cert = keys/hub\ncert = /abs/keys/me_secret\n"
	                           "[adapter]\noutbox = ../var/police.outbox\n"
	                           "[watch]\ndir = drop\n";
	assert_int_equal(load_text(f, &c, text, 0, &diag), 0);
	free(diag);
	char want[256];
	snprintf(want, sizeof want, "%s/etc/keys/hub", f->dir);
	assert_string_equal(c.hub_cert, want);
	assert_string_equal(c.cert, "/abs/keys/me_secret");
	snprintf(want, sizeof want, "%s/etc/../var/police.outbox", f->dir);
	assert_string_equal(c.outbox, want);
	snprintf(want, sizeof want, "%s/etc/drop", f->dir);
	assert_string_equal(c.watch_dir, want);
	adapter_config_fini(&c);

	/* A file named without a directory: its paths stay relative to the working directory. */
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof cwd));
	char etc[128];
	snprintf(etc, sizeof etc, "%s/etc", f->dir);
	assert_int_equal(chdir(etc), 0);
	int n = adapter_config_load(&c, "adapter.conf", NULL);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(n, 0);
	assert_string_equal(c.hub_cert, "keys/hub");
	assert_string_equal(c.watch_dir, "drop");
	adapter_config_fini(&c);
}

/* Whether a and b have the same rules in the same order. */
static bool
same_rules(const struct mapping *a, const struct mapping *b)
{
	const char *af, *at, *bf, *bt;
	size_t i = 0;
	for (; mapping_rule(a, i, &af, &at); i++)
		if (!mapping_rule(b, i, &bf, &bt) || strcmp(af, bf) != 0 || strcmp(at, bt) != 0)
			return false;
	return !mapping_rule(b, i, &bf, &bt);
}

static void
test_categories_replace(void **state)
{
	struct fixture *f = *state;
	struct adapter_config c;
	char *diag = NULL;
	Est__V1__Category cat = 0;
	const char *sub = NULL;
	struct mapping *m = NULL;
	static const char text[] = "[adapter]\nformat = police-json\n"
	                           "[categories]\n"
	                           "Brand = unsafe_place/fire\n"
	                           "Stöld i butik = skip\n"
	                           "* = other\n";
	assert_int_equal(load_text(f, &c, text, 0, &diag), 0);
	free(diag);
	assert_int_equal(c.categories_line, 4);
	assert_int_equal(adapter_config_mapping(&c, c.format, &m), 0);
	assert_non_null(m);
	assert_int_equal(mapping_size(m), 3);
	assert_int_equal(mapping_lookup(m, "BRAND", &cat, &sub), MAP_REPORT);
	assert_int_equal(cat, EST__V1__CATEGORY__CATEGORY_UNSAFE_PLACE);
	assert_string_equal(sub, "fire");
	assert_int_equal(mapping_lookup(m, "stöld i  butik", &cat, &sub), MAP_SKIP);
	/* The shipped police table is gone as a whole: Skadegörelse takes this file's default. */
	assert_int_equal(mapping_lookup(m, "Skadegörelse", &cat, &sub), MAP_REPORT);
	assert_int_equal(cat, EST__V1__CATEGORY__CATEGORY_OTHER);
	assert_string_equal(sub, "");
	mapping_destroy(&m);
	adapter_config_fini(&c);
	assert_null(c.categories);

	/* Without [categories] rules (an empty section too) the format's own table applies. */
	assert_int_equal(load_text(f, &c, "[adapter]\nformat = open311\n[categories]\n", 0, &diag),
	                 0);
	free(diag);
	assert_null(c.categories);
	assert_int_equal(adapter_config_mapping(&c, "open311", &m), 0);
	struct mapping *shipped = mapping_default("open311");
	assert_true(same_rules(m, shipped));
	mapping_destroy(&shipped);
	mapping_destroy(&m);
	adapter_config_fini(&c);

	/* No configuration file at all: the same; and json has no table. */
	assert_int_equal(adapter_config_mapping(NULL, "municipality-csv", &m), 0);
	shipped = mapping_default("municipality-csv");
	assert_true(same_rules(m, shipped));
	mapping_destroy(&shipped);
	mapping_destroy(&m);
	assert_int_equal(adapter_config_mapping(NULL, "json", &m), 0);
	assert_null(m);
}

static void
test_areas(void **state)
{
	struct fixture *f = *state;
	struct adapter_config c;
	char *diag = NULL, err[512];
	static const char text[] = "[areas]\nInnerstaden = city\nHageby centrum = hageby\n"
	                           "Hageby = hageby\n";
	assert_int_equal(load_text(f, &c, text, 0, &diag), 0);
	free(diag);
	assert_int_equal(c.n_aliases, 3);
	assert_string_equal(c.aliases[1].name, "Hageby centrum");
	assert_string_equal(c.aliases[1].id, "hageby");
	assert_int_equal(c.aliases[1].line, 3);
	struct geo *g = geo_new(err, sizeof err);
	assert_non_null(g);
	assert_null(geo_area_id(g, "innerstaden"));
	assert_int_equal(adapter_config_apply_areas(&c, g, stderr), 0);
	assert_string_equal(geo_area_id(g, "INNERSTADEN"), "city");
	assert_string_equal(geo_area_id(g, "hageby  centrum"), "hageby");
	assert_int_equal(adapter_config_apply_areas(NULL, g, stderr), 0);
	geo_destroy(&g);
	adapter_config_fini(&c);
	assert_int_equal(c.n_aliases, 0);
	assert_null(c.aliases);
}

/* A public and a secret certificate in dir: dir/hub and dir/me_secret. */
static void
make_certs(const char *dir)
{
	char pub[160], secret[160], err[512];
	snprintf(pub, sizeof pub, "%s/hub", dir);
	snprintf(secret, sizeof secret, "%s/me_secret", dir);
	if (cert_generate(pub, secret, NULL, NULL, err, sizeof err) != 0)
		fail_msg("%s", err);
}

static void
test_check(void **state)
{
	struct fixture *f = *state;
	char path[160];
	snprintf(path, sizeof path, "%s/etc/keys", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	make_certs(path);
	snprintf(path, sizeof path, "%s/etc/drop", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/etc/a-file", f->dir);
	write_file(path, "x", 1);

	static const struct {
		const char *text, *diag;
	} cases[] = {
	    {"[hub]\nhub_cert = keys/hub\ncert = keys/me_secret\n[adapter]\nformat = json\n"
	     "outbox = adapter.outbox\n[watch]\ndir = drop\n[areas]\nInnerstaden = city\n",
	     ""},
	    {"", "@:0: hub.hub_cert: required\n@:0: hub.cert: required\n"
	         "@:0: adapter.format: required\n"},
	    {"[hub]\nhub_cert = keys/nohub\ncert = keys/hub\n[adapter]\nformat = json\n",
	     "@:2: hub.hub_cert: @/../keys/nohub:0: cannot read: No such file or directory\n"
	     "@:3: hub.cert: @/../keys/hub: secret key file is accessible by group or others "
	     "(mode 0644); run chmod 600 @/../keys/hub\n"},
	    {"[hub]\nhub_cert = keys/hub\ncert = keys/me_secret\n[adapter]\nformat = json\n"
	     "outbox = nodir/adapter.outbox\n[watch]\ndir = a-file\n",
	     "@:6: adapter.outbox: @/../nodir: No such file or directory\n"
	     "@:8: watch.dir: @/../a-file: not a directory\n"},
	    {"[hub]\nhub_cert = keys/hub\ncert = keys/me_secret\n[adapter]\nformat = json\n"
	     "[categories]\n\nBrand = vandalism\n",
	     "@:8: categories: format json has no category table\n"},
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct adapter_config c;
		char *diag = NULL;
		assert_int_equal(load_text(f, &c, cases[i].text, 0, &diag), 0);
		free(diag);
		size_t len;
		FILE *d = open_memstream(&diag, &len);
		int n = adapter_config_check(&c, d);
		fclose(d);
		/* "@/../x" is x beside the file: the file's directory then the relative path. */
		char *want = expand(cases[i].diag, f->conf);
		char *p;
		while ((p = strstr(want, "/adapter.conf/..")) != NULL)
			memmove(p, p + strlen("/adapter.conf/.."),
			        strlen(p + strlen("/adapter.conf/..")) + 1);
		if (strcmp(diag, want) != 0)
			fail_msg("case %zu:\n got: %s\nwant: %s", i, diag, want);
		size_t lines = 0;
		for (const char *q = want; *q; q++)
			lines += *q == '\n';
		assert_int_equal(n, (int)lines);
		free(want);
		free(diag);
		adapter_config_fini(&c);
	}

	/* A format that is not registered, with the registered ones listed. */
	struct adapter_config c;
	char *diag = NULL;
	assert_int_equal(load_text(f, &c,
	                           "[hub]\nhub_cert = keys/hub\ncert = keys/me_secret\n"
	                           "[adapter]\nformat = nosuch\n",
	                           0, &diag),
	                 0);
	free(diag);
	size_t len;
	FILE *d = open_memstream(&diag, &len);
	assert_int_equal(adapter_config_check(&c, d), 1);
	fclose(d);
	char *want = expand("@:5: adapter.format: unknown format \"nosuch\" (known: json", f->conf);
	assert_memory_equal(diag, want, strlen(want));
	free(want);
	free(diag);
	adapter_config_fini(&c);
}

/* The whole of path, NUL-terminated; the caller frees. */
static char *
read_all(const char *path)
{
	FILE *in = fopen(path, "r");
	if (in == NULL)
		fail_msg("cannot read %s", path);
	char *buf = malloc(1 << 16);
	assert_non_null(buf);
	size_t n = fread(buf, 1, (1 << 16) - 1, in);
	fclose(in);
	buf[n] = '\0';
	return buf;
}

static void
test_shipped_examples(void **state)
{
	(void)state;
	const char *src = getenv("ESTHUB_SOURCE_DIR");
	assert_non_null(src);
	static const struct {
		const char *file, *format;
	} examples[] = {
	    {"municipality.conf", "municipality-csv"},
	    {"police.conf", "police-json"},
	    {"housing.conf", "open311"},
	};
	for (size_t i = 0; i < N(examples); i++) {
		char path[512];
		snprintf(path, sizeof path, "%s/config/adapters/%s", src, examples[i].file);
		struct adapter_config c;
		assert_int_equal(adapter_config_load(&c, path, stderr), 0);
		assert_string_equal(c.format, examples[i].format);
		assert_true(c.hub_cert[0] == '/' && c.cert[0] == '/' && c.outbox[0] == '/');
		/* The full default table is written out, unchanged. */
		struct mapping *shipped = mapping_default(examples[i].format);
		assert_non_null(c.categories);
		assert_true(same_rules(c.categories, shipped));
		mapping_destroy(&shipped);
		/* The file is what the key table writes for its own content. */
		char *text = read_all(path), *written = NULL;
		size_t len;
		FILE *out = open_memstream(&written, &len);
		assert_int_equal(adapter_config_write_example(out, &c), 0);
		fclose(out);
		if (strcmp(text, written) != 0) {
			/* Left beside the test for a diff, or to copy over the example. */
			char kept[256];
			snprintf(kept, sizeof kept, "%s.written", examples[i].file);
			write_file(kept, written, strlen(written));
			fail_msg("%s differs from what adapter_config_write_example writes for it "
			         "(see %s in the test's working directory)",
			         path, kept);
		}
		free(text);
		free(written);
		adapter_config_fini(&c);
	}
}

static void
test_example_round_trip(void **state)
{
	struct fixture *f = *state;
	/* A written example loads back to the same configuration, defaults commented out. */
	struct adapter_config c;
	char *diag = NULL;
	assert_int_equal(load_text(f, &c,
	                           "[adapter]\nformat = open311\nwindow = 3\n[categories]\n"
	                           "KLOTTER = vandalism/graffiti\n[areas]\nInnerstaden = city\n",
	                           0, &diag),
	                 0);
	free(diag);
	char *written = NULL;
	size_t len;
	FILE *out = open_memstream(&written, &len);
	assert_int_equal(adapter_config_write_example(out, &c), 0);
	fclose(out);
	adapter_config_fini(&c);
	assert_non_null(strstr(written, "\n# batch = 100\n"));
	assert_non_null(strstr(written, "\nwindow = 3\n"));
	assert_int_equal(load_text(f, &c, written, 0, &diag), 0);
	assert_string_equal(diag, "");
	free(diag);
	assert_int_equal(c.window, 3);
	assert_int_equal(mapping_size(c.categories), 1);
	assert_int_equal(c.n_aliases, 1);
	adapter_config_fini(&c);
	free(written);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_problems, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cannot_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relative_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_categories_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_areas, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check, setup, teardown),
	    cmocka_unit_test(test_shipped_examples),
	    cmocka_unit_test_setup_teardown(test_example_round_trip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
