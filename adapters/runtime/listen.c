/* SPDX-License-Identifier: Apache-2.0 */
/*
 * listen: the HTTP endpoint on libmicrohttpd, the only module that speaks
 * HTTP. The daemon runs in external epoll mode: its one descriptor is polled
 * by the sender's loop and MHD_run is called from the hook, so requests are
 * handled on the thread that owns the outbox. A request's life: its body is
 * gathered (up to the cap), queued through intake, and then either answered
 * at once or suspended until its records have outcomes or its time is up;
 * then resumed and answered. See listen.h.
 */
#include "runtime/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>

#include "runtime/sender.h"
#include "runtime/stop.h"
#include "wire/diag.h"
#include "wire/timefmt.h"

#define CONTENT_TYPE_JSON "application/json; charset=utf-8"
/* What a 503 asks the partner to wait before trying again, in seconds. */
#define RETRY_AFTER_S "30"

/* One record of a request: what the response says of it. */
struct result {
	int64_t record;
	char *source_id; /* NULL when the record had none */
	bool has_revision;
	uint32_t revision;
	bool done; /* false: queued */
	enum outbox_status status;
	uint64_t seq;
	char *error;
};

enum request_state {
	REQ_READING = 0, /* the body is coming */
	REQ_WAITING,     /* queued; suspended until its outcomes are in or its time is up */
	REQ_READY,       /* resumed: answered at the handler's next call */
};

struct request {
	LIST_ENTRY(request) link; /* in listen.requests from intake to completion */
	struct MHD_Connection *conn;
	enum request_state state;
	bool too_large;
	bool no_memory; /* a record could not be listed: the answer cannot say each one's outcome */
	char *body;
	size_t len, cap;
	char name[48]; /* "http/RUN.N", the file name of its rows */
	int64_t first_id;
	struct result *results; /* one per outbox row, by id - first_id */
	size_t n, n_cap;
	size_t pending;
	int64_t deadline_ms;
};

struct listen {
	struct MHD_Daemon *d;
	int fd;
	uint16_t port;
	struct listen_options opt;
	struct intake *in;
	struct outbox *ob;
	outbox_row_fn tell;
	void *arg;
	LIST_HEAD(, request) requests; /* queued, waiting or ready */
	size_t in_hand;                /* requests queued and not yet answered */
	struct request *reading;       /* the request intake is reading */
	uint64_t count;                /* requests queued so far, for their names */
	bool added;                    /* rows went into the outbox since the last round */
	bool stopping;
	char last_log[256]; /* libmicrohttpd's last message, for a failure to start */
};

/* ---- results ---- */

static void
result_fini(struct result *res)
{
	free(res->source_id);
	free(res->error);
}

static void
request_free(struct request *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		result_fini(&r->results[i]);
	free(r->results);
	free(r->body);
	free(r);
}

/* intake's "added" callback: one result a row, in id order. */
static void
listen_added(void *arg, const struct outbox_row *row)
{
	struct listen *l = arg;
	struct request *r = l->reading;
	if (r == NULL)
		return;
	if (r->n == r->n_cap) {
		size_t cap = r->n_cap ? 2 * r->n_cap : 16;
		struct result *v = r->no_memory ? NULL : realloc(r->results, cap * sizeof *v);
		if (v == NULL) {
			r->no_memory = true; /* the records are queued all the same */
			return;
		}
		r->results = v;
		r->n_cap = cap;
	}
	if (r->n == 0)
		r->first_id = row->id;
	struct result *res = &r->results[r->n++];
	*res = (struct result){
	    .record = row->record, .has_revision = row->has_revision, .revision = row->revision};
	res->source_id = row->source_id ? strdup(row->source_id) : NULL;
	r->pending++;
}

/* Notes row's outcome in r, if it is one of r's rows. Returns whether it was. */
static bool
request_note(struct request *r, const struct outbox_row *row)
{
	if (r->n == 0 || row->id < r->first_id || row->id >= r->first_id + (int64_t)r->n)
		return false;
	struct result *res = &r->results[row->id - r->first_id];
	if (res->done)
		return true;
	res->done = true;
	res->status = row->status;
	res->seq = row->seq;
	res->has_revision = row->has_revision;
	res->revision = row->revision;
	res->error = row->error[0] ? strdup(row->error) : NULL;
	if (r->pending > 0)
		r->pending--;
	return true;
}

/* intake's "done" callback: rows done at once, noted and told. */
static void
listen_told(void *arg, const struct outbox_row *row)
{
	struct listen *l = arg;
	if (l->reading)
		request_note(l->reading, row);
	if (l->tell)
		l->tell(l->arg, row);
}

/* Records that could not be translated (rejected at once, with no revision). */
static size_t
request_untranslated(const struct request *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->results[i].done && r->results[i].status == OUTBOX_REJECTED &&
		    !r->results[i].has_revision)
			n++;
	return n;
}

/* ---- responses ---- */

/* A JSON string of s, which is not always valid UTF-8 when it comes from a partner. */
static json_t *
json_text(const char *s)
{
	json_t *j = json_string(s);
	return j ? j : json_string("(not valid UTF-8)");
}

static json_t *
result_json(const struct result *res)
{
	char seq[24];
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "record", json_integer(res->record));
	json_object_set_new(o, "sourceId",
	                    res->source_id ? json_text(res->source_id) : json_null());
	if (res->has_revision)
		json_object_set_new(o, "revision", json_integer(res->revision));
	json_object_set_new(o, "status",
	                    json_string(res->done ? outbox_status_name(res->status) : "queued"));
	if (res->done && (res->status == OUTBOX_ACCEPTED || res->status == OUTBOX_DUPLICATE)) {
		snprintf(seq, sizeof seq, "%" PRIu64, res->seq);
		json_object_set_new(o, "seq", json_string(seq));
	}
	if (res->done && res->error && res->error[0])
		json_object_set_new(o, "error", json_text(res->error));
	return o;
}

/* Queues a response of status with body j (consumed) and the headers given as name, value pairs. */
static enum MHD_Result
respond_json(struct MHD_Connection *conn, unsigned status, json_t *j, const char *h1,
             const char *v1)
{
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(j);
	const char *body = text ? text : "{\"error\":\"out of memory\"}";
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	free(text);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE_JSON);
	if (h1)
		MHD_add_response_header(resp, h1, v1);
	enum MHD_Result rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* {"error": why}. */
static enum MHD_Result
respond_error(struct MHD_Connection *conn, unsigned status, const char *why, const char *h1,
              const char *v1)
{
	json_t *j = json_object();
	if (j)
		json_object_set_new(j, "error", json_text(why));
	return respond_json(conn, status, j, h1, v1);
}

/* The array of r's results: 200 when all are done, 202 when some are queued. */
static enum MHD_Result
respond_results(struct MHD_Connection *conn, const struct request *r, unsigned status)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < r->n; i++)
		json_array_append_new(a, result_json(&r->results[i]));
	return respond_json(conn, status, a, NULL, NULL);
}

/* ---- the request's life ---- */

/* Resumes a waiting request to be answered with what it has. */
static void
request_ready(struct request *r)
{
	if (r->state != REQ_WAITING)
		return;
	r->state = REQ_READY;
	MHD_resume_connection(r->conn);
}

/* Appends text and a newline to *buf (used bytes, cap allocated). -1 when out of memory. */
static int
lines_append(char **buf, size_t *used, size_t *cap, const char *text)
{
	size_t len = strlen(text);
	if (*used + len + 2 > *cap) {
		size_t want = 2 * (*used + len + 2);
		char *grown = realloc(*buf, want);
		if (grown == NULL)
			return -1;
		*buf = grown;
		*cap = want;
	}
	memcpy(*buf + *used, text, len);
	(*buf)[*used + len] = '\n';
	*used += len + 1;
	return 0;
}

/*
 * For the json format: a body holding one Report object, or an array of
 * them, as the lines json_lines reads (record N is element N). NULL when
 * the body is not one such JSON value (then it is read as lines, as sent).
 * The caller frees the result.
 */
static char *
body_as_lines(const char *body, size_t len, size_t *out_len)
{
	size_t i = 0, used = 0, cap = 0;
	if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len && strchr(" \t\r\n", body[i]) != NULL)
		i++;
	if (i == len || (body[i] != '{' && body[i] != '['))
		return NULL;
	/* Several objects, one a line, do not load as one value. */
	json_t *j = json_loadb(body + i, len - i, 0, NULL);
	if (j == NULL || (!json_is_object(j) && !json_is_array(j))) {
		json_decref(j);
		return NULL;
	}
	size_t n = json_is_array(j) ? json_array_size(j) : 1;
	char *out = NULL;
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < n; k++) {
		char *line = json_dumps(json_is_array(j) ? json_array_get(j, k) : j,
		                        JSON_COMPACT | JSON_ENCODE_ANY);
		rc = line ? lines_append(&out, &used, &cap, line) : -1;
		free(line);
	}
	json_decref(j);
	if (rc != 0 || out == NULL) {
		free(out);
		return NULL;
	}
	*out_len = used;
	return out;
}

/* Queues the body through intake; INTAKE_OK, or the answer is queued on the connection. */
static int
request_queue(struct listen *l, struct request *r, enum MHD_Result *answer)
{
	char err[1024];
	size_t len = r->len;
	char *lines = NULL;
	if (strcmp(intake_format(l->in)->name, "json") == 0 && r->body)
		lines = body_as_lines(r->body, r->len, &len);
	snprintf(r->name, sizeof r->name, "http/%" PRIu32 ".%" PRIu64, outbox_run(l->ob),
	         ++l->count);
	struct intake_hear hear = {.done = listen_told, .added = listen_added, .arg = l};
	l->reading = r;
	int rc = intake_memory(l->in, l->ob, r->name, lines ? lines : r->body, lines ? len : r->len,
	                       &hear, NULL, err, sizeof err);
	l->reading = NULL;
	free(lines);
	free(r->body);
	r->body = NULL;
	switch (rc) {
	case INTAKE_OK:
		l->added = true;
		return rc;
	case INTAKE_FULL:
		diag_say("%s refused: %s", r->name, err);
		*answer = respond_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, err,
		                        MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S);
		return rc;
	case INTAKE_STOPPED:
		*answer = respond_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		                        "the adapter is stopping; try again later",
		                        MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S);
		return rc;
	case INTAKE_INVALID:
		*answer = respond_error(r->conn, MHD_HTTP_BAD_REQUEST, err, NULL, NULL);
		return rc;
	default:
		/*
		 * The outbox could not take the body (its disk full, an I/O error):
		 * nothing of it was kept, and the fault is the adapter's, for a
		 * while; a 500 would tell the partner's client to give up.
		 */
		diag_say("%s: %s", r->name, err);
		char why[sizeof err + 64];
		snprintf(why, sizeof why, "%s; nothing of the body was kept: send it again later",
		         err);
		*answer = respond_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, why,
		                        MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S);
		return rc;
	}
}

/* The body read: queues it and answers, or suspends the request to wait for the hub. */
static enum MHD_Result
request_complete(struct listen *l, struct request *r)
{
	enum MHD_Result answer = MHD_NO;
	if (r->too_large) {
		char why[128];
		snprintf(why, sizeof why, "the body is larger than the limit of %zu bytes",
		         l->opt.max_body_bytes);
		return respond_error(r->conn, MHD_HTTP_CONTENT_TOO_LARGE, why, NULL, NULL);
	}
	if (l->stopping)
		return respond_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		                     "the adapter is stopping; try again later",
		                     MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S);
	if (request_queue(l, r, &answer) != INTAKE_OK)
		return answer;
	if (r->no_memory)
		return respond_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                     "out of memory listing the records; they are queued: send the "
		                     "same body again for their outcomes",
		                     NULL, NULL);
	if (r->n == 0)
		return respond_error(r->conn, MHD_HTTP_BAD_REQUEST, "the body holds no record",
		                     NULL, NULL);
	if (request_untranslated(r) == r->n)
		return respond_results(r->conn, r, MHD_HTTP_BAD_REQUEST);
	if (r->pending == 0)
		return respond_results(r->conn, r, MHD_HTTP_OK);
	r->state = REQ_WAITING;
	r->deadline_ms = timefmt_mono_ms() + l->opt.wait_ms;
	LIST_INSERT_HEAD(&l->requests, r, link);
	l->in_hand++;
	MHD_suspend_connection(r->conn);
	return MHD_YES;
}

/* Gathers the body, up to the cap; past it the rest is read and dropped. */
static void
request_append(struct listen *l, struct request *r, const char *data, size_t size)
{
	if (r->too_large)
		return;
	if (size > l->opt.max_body_bytes - r->len) {
		r->too_large = true;
		free(r->body);
		r->body = NULL;
		r->len = 0;
		return;
	}
	if (r->len + size > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->len + size)
			cap *= 2;
		if (cap > l->opt.max_body_bytes)
			cap = l->opt.max_body_bytes;
		char *grown = realloc(r->body, cap);
		if (grown == NULL) {
			r->too_large = true; /* no memory for it: as good as too large */
			return;
		}
		r->body = grown;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, size);
	r->len += size;
}

/* The first call of a request: its method, path and announced size; 0 to go on. */
static enum MHD_Result
request_begin(struct listen *l, struct MHD_Connection *conn, const char *url, const char *method,
              void **con_cls)
{
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return respond_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		                     "only POST is served here: the body holds the records",
		                     MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_POST);
	if (strcmp(url, "/") != 0 && strcmp(url, "/reports") != 0)
		return respond_error(conn, MHD_HTTP_NOT_FOUND, "POST to / or /reports", NULL, NULL);
	if (l->stopping)
		return respond_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		                     "the adapter is stopping; try again later",
		                     MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S);
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		if (errno == 0 && *end == '\0' && n > l->opt.max_body_bytes) {
			char why[128];
			snprintf(why, sizeof why, "the body is larger than the limit of %zu bytes",
			         l->opt.max_body_bytes);
			return respond_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, why, NULL, NULL);
		}
	}
	struct request *r = calloc(1, sizeof *r);
	if (r == NULL)
		return MHD_NO;
	r->conn = conn;
	*con_cls = r;
	return MHD_YES;
}

/* libmicrohttpd's handler, called for each part of a request. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct listen *l = cls;
	struct request *r = *con_cls;
	(void)version;
	if (r == NULL)
		return request_begin(l, conn, url, method, con_cls);
	if (r->state == REQ_READING && *upload_size > 0) {
		request_append(l, r, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->state == REQ_READING)
		return request_complete(l, r);
	if (r->state == REQ_READY)
		return respond_results(conn, r, r->pending == 0 ? MHD_HTTP_OK : MHD_HTTP_ACCEPTED);
	return MHD_YES;
}

/* libmicrohttpd is done with a request: forget it. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct listen *l = cls;
	struct request *r = *con_cls;
	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	if (r->state != REQ_READING) {
		LIST_REMOVE(r, link);
		l->in_hand--;
	}
	request_free(r);
	*con_cls = NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void
on_log(void *cls, const char *fmt, va_list ap)
{
	struct listen *l = cls;
	vsnprintf(l->last_log, sizeof l->last_log, fmt, ap);
	size_t len = strlen(l->last_log);
	while (len > 0 && (l->last_log[len - 1] == '\n' || l->last_log[len - 1] == '.'))
		l->last_log[--len] = '\0';
	diag_debug("http: %s", l->last_log);
}

/* ---- the hook ---- */

int
listen_run(void *arg, bool readable, long *wait_ms)
{
	struct listen *l = arg;
	int64_t now = timefmt_mono_ms();
	struct request *r;
	(void)readable; /* MHD_run looks at every descriptor itself, without waiting */
	if (stop_requested() && !l->stopping) {
		l->stopping = true;
		LIST_FOREACH(r, &l->requests, link)
		if (r->deadline_ms > now + LISTEN_STOP_WAIT_MS)
			r->deadline_ms = now + LISTEN_STOP_WAIT_MS;
	}
	int64_t next = -1;
	LIST_FOREACH(r, &l->requests, link)
	{
		if (r->state == REQ_WAITING && (r->pending == 0 || now >= r->deadline_ms))
			request_ready(r);
		else if (r->state == REQ_WAITING && (next < 0 || r->deadline_ms < next))
			next = r->deadline_ms;
	}
	MHD_run(l->d);
	MHD_UNSIGNED_LONG_LONG mhd_ms;
	*wait_ms = next < 0 ? -1 : (long)(next - now);
	if (MHD_get_timeout(l->d, &mhd_ms) == MHD_YES &&
	    (*wait_ms < 0 || (long long)mhd_ms < *wait_ms))
		*wait_ms = (long)mhd_ms;
	int flags = (l->in_hand > 0 ? SENDER_HOOK_BUSY : 0) | (l->added ? SENDER_HOOK_ADDED : 0);
	l->added = false;
	return flags;
}

void
listen_row(struct listen *l, const struct outbox_row *row)
{
	struct request *r;
	LIST_FOREACH(r, &l->requests, link)
	{
		if (request_note(r, row)) {
			if (r->pending == 0)
				request_ready(r);
			return;
		}
	}
}

/* ---- life ---- */

/* host and the decimal port to a socket address (IPv4 first). 0, or -1 with the reason in err. */
static int
address_resolve(const char *text, const char *host, const char *port_text,
                struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	unsigned long port = strtoul(port_text, &end, 10);
	if (port_text[0] < '0' || port_text[0] > '9' || errno != 0 || *end != '\0' ||
	    port > 65535) {
		snprintf(err, errlen, "--listen %s: the port must be a number from 0 to 65535",
		         text);
		return -1;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "--listen %s: %s", text, gai_strerror(rc));
		return -1;
	}
	/* IPv4 first: "localhost" then means 127.0.0.1, what partners usually reach. */
	const struct addrinfo *pick = res;
	for (const struct addrinfo *a = res; a; a = a->ai_next)
		if (a->ai_family == AF_INET) {
			pick = a;
			break;
		}
	memset(ss, 0, sizeof *ss);
	memcpy(ss, pick->ai_addr, pick->ai_addrlen);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons((uint16_t)port);
	freeaddrinfo(res);
	return 0;
}

/*
 * HOST:PORT, [IPv6]:PORT, or a bare PORT (on 127.0.0.1) to a socket
 * address. 0, or -1 with the reason in err.
 */
static int
address_parse(const char *text, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(text, ':');
	if (colon == NULL && text[0] >= '0' && text[0] <= '9')
		return address_resolve(text, "127.0.0.1", text, ss, err, errlen);
	if (colon == NULL || colon == text || (size_t)(colon - text) >= sizeof host) {
		snprintf(err, errlen,
		         "--listen %s: expected HOST:PORT (127.0.0.1:8080, [::1]:8080) or PORT",
		         text);
		return -1;
	}
	size_t hlen = (size_t)(colon - text);
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	return address_resolve(text, host, colon + 1, ss, err, errlen);
}

static bool
address_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)ss;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)ss;
	return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

struct listen *
listen_new(const struct listen_options *opt, struct intake *in, struct outbox *ob,
           outbox_row_fn tell, void *arg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	if (address_parse(opt->address, &ss, err, errlen) != 0)
		return NULL;
	struct listen *l = calloc(1, sizeof *l);
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*l = (struct listen){.fd = -1, .opt = *opt, .in = in, .ob = ob, .tell = tell, .arg = arg};
	LIST_INIT(&l->requests);
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * The logger first, so that every message of the start goes through it.
	 * No LISTENING_ADDRESS_REUSE: SO_REUSEPORT would let a second adapter
	 * share the port; libmicrohttpd's default SO_REUSEADDR allows a restart.
	 * The port is the address's: libmicrohttpd binds the address and names
	 * this one in its messages ("Failed to bind to port 0" otherwise).
	 */
	uint16_t bind_port =
	    ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)(void *)&ss)->sin6_port
	                                   : ((struct sockaddr_in *)(void *)&ss)->sin_port);
	l->d = MHD_start_daemon(flags, bind_port, NULL, NULL, on_request, l,
	                        MHD_OPTION_EXTERNAL_LOGGER, on_log, l, MHD_OPTION_SOCK_ADDR,
	                        (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
	                        (unsigned)LISTEN_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
	                        (unsigned)LISTEN_IDLE_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
	                        on_completed, l, MHD_OPTION_END);
	const union MHD_DaemonInfo *fd =
	    l->d ? MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	const union MHD_DaemonInfo *port =
	    l->d ? MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	if (fd == NULL || port == NULL) {
		snprintf(err, errlen, "--listen %s: cannot serve HTTP there: %s", opt->address,
		         l->last_log[0] ? l->last_log : "libmicrohttpd did not start");
		listen_destroy(&l);
		return NULL;
	}
	l->fd = fd->epoll_fd;
	l->port = port->port;
	if (!address_loopback(&ss))
		diag_say("--listen %s: plain HTTP without authentication on a non-loopback "
		         "address; keep it on a network only the partner's system reaches",
		         opt->address);
	return l;
}

void
listen_destroy(struct listen **l)
{
	if (l == NULL || *l == NULL)
		return;
	struct listen *s = *l;
	if (s->d) {
		/* A suspended connection must be resumed before the daemon stops. */
		struct request *r;
		s->stopping = true;
		LIST_FOREACH(r, &s->requests, link)
		request_ready(r);
		MHD_run(s->d);
		MHD_stop_daemon(s->d);
	}
	free(s);
	*l = NULL;
}

int
listen_fd(const struct listen *l)
{
	return l->fd;
}

uint16_t
listen_port(const struct listen *l)
{
	return l->port;
}
