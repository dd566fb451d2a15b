/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of wire/json, the protobuf JSON mapping: tables of JSON that
 * must come back as given (or in its canonical form, also through the binary
 * encoding), tables of JSON that must be refused with an exact message, the
 * shortest printing of doubles, messages built by hand in C, and a
 * recursive descriptor made here to reach the nesting cap. Run under the
 * sanitizers, the error rows also prove that half-built messages are freed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "est.pb-c.h"
#include "wire/json.h"

#define D(name) (&est__v1__##name##__descriptor)

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static ProtobufCMessage *
parse_ok(const ProtobufCMessageDescriptor *d, const char *text)
{
	char err[512] = "";
	ProtobufCMessage *m = wire_from_json_text(d, text, strlen(text), err, sizeof err);

	if (m == NULL)
		fail_msg("%s refused: %s", text, err);
	return m;
}

/* The JSON text of m, compared with want; frees m. */
static void
expect_text(ProtobufCMessage *m, const char *want)
{
	char *text = wire_to_json_text(m);

	assert_non_null(text);
	assert_string_equal(text, want);
	free(text);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* m through the binary encoding and back (protobuf-c's pack and unpack). */
static ProtobufCMessage *
through_binary(const ProtobufCMessage *m)
{
	size_t size = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(size + 1);
	ProtobufCMessage *back;

	assert_non_null(buf);
	protobuf_c_message_pack(m, buf);
	back = protobuf_c_message_unpack(m->descriptor, NULL, size, buf);
	free(buf);
	assert_non_null(back);
	return back;
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */
/* ------------------------------------------------------------------ */

struct roundtrip {
	const ProtobufCMessageDescriptor *d;
	const char *in;
	const char *out; /* NULL: the same as in */
	int no_binary;   /* protobuf-c does not pack this value (-0.0) */
};

static const struct roundtrip roundtrips[] = {
    /* Report: every field, in field-number order. */
    {D(report),
     "{\"sourceId\":\"m-2026-0042\",\"revision\":2,\"category\":\"CATEGORY_VANDALISM\","
     "\"subcategory\":\"graffiti\",\"area\":\"hageby\",\"place\":\"Hageby centrum, trapphus "
     "12\",\"position\":{\"lat\":58.5712,\"lon\":16.1902},\"observedAt\":\"1764349200\","
     "\"startsAt\":\"-9223372036854775808\",\"endsAt\":\"9223372036854775807\","
     "\"severity\":3,\"peopleCount\":4294967295,\"description\":\"Skadegörelse 🚨\","
     "\"reporterRole\":\"fältassistent\",\"withdrawn\":true}",
     NULL, 0},
    /* Proto names, numbers for enums and 64-bit integers, strings for uint32. */
    {D(report),
     "{\"observed_at\":1700000000,\"source_id\":\"a\",\"category\":2,\"severity\":\"3\","
     "\"people_count\":1e3,\"revision\":2.0}",
     "{\"sourceId\":\"a\",\"revision\":2,\"category\":\"CATEGORY_VANDALISM\","
     "\"observedAt\":\"1700000000\",\"severity\":3,\"peopleCount\":1000}",
     0},
    {D(report), "{\"category\":\"7\"}", "{\"category\":\"CATEGORY_RUMOUR\"}", 0},
    /* Defaults are left out; null means the default. */
    {D(report),
     "{\"sourceId\":\"\",\"revision\":0,\"category\":\"CATEGORY_UNSPECIFIED\","
     "\"withdrawn\":false,\"position\":null,\"observedAt\":\"0\",\"area\":null}",
     "{}", 0},
    /* A set submessage is written even when empty. */
    {D(report), "{\"position\":{}}", NULL, 0},
    {D(report), "{\"position\":{\"lat\":-0.0}}", NULL, 1},
    /* Unknown enum numbers are kept and written as numbers. */
    {D(report), "{\"category\":42}", NULL, 0},
    /* Escapes: control characters escaped, UTF-8 written as is. */
    {D(report), "{\"description\":\"q\\\" b\\\\ n\\n t\\t u\\u0001 del\x7f /\"}", NULL, 0},
    {D(report), "{\"description\":\"Skadeg\\u00f6relse \\ud83d\\udea8\"}",
     "{\"description\":\"Skadegörelse 🚨\"}", 0},
    /* Envelope with a batch. */
    {D(envelope),
     "{\"version\":1,\"requestId\":\"18446744073709551615\",\"reports\":{\"reports\":["
     "{\"sourceId\":\"a\"},{},{\"sourceId\":\"c\",\"observedAt\":\"-1\"}]}}",
     NULL, 0},
    {D(envelope), "{\"reports\":{}}", NULL, 0},
    {D(envelope), "{\"reports\":{\"reports\":[]}}", "{\"reports\":{}}", 0},
    {D(envelope), "{\"reports\":null,\"measure\":{\"reportSeqs\":[\"1\",2]}}",
     "{\"measure\":{\"reportSeqs\":[\"1\",\"2\"]}}", 0},
    /* LogEntry with each body. */
    {D(log_entry),
     "{\"seq\":\"1\",\"loggedAt\":\"1764349260\",\"org\":\"police\",\"topic\":\"hageby/"
     "reports\",\"hash\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\",\"report\":{"
     "\"sourceId\":\"p-1\",\"category\":\"CATEGORY_GATHERING\"}}",
     NULL, 0},
    {D(log_entry),
     "{\"seq\":\"2\",\"measure\":{\"measureId\":\"m-17\",\"kind\":\"MEASURE_KIND_LIGHTING\","
     "\"group\":\"GROUP_SOCIAL\",\"status\":\"MEASURE_STATUS_IN_PROGRESS\",\"reportSeqs\":["
     "\"1\",\"18446744073709551615\"]}}",
     NULL, 0},
    {D(log_entry),
     "{\"picture\":{\"area\":\"all\",\"week\":\"2026-W47\",\"throughSeq\":\"9\","
     "\"categories\":[{\"category\":\"CATEGORY_OTHER\",\"reports\":4,\"baseline\":0.1},{}],"
     "\"priorityScore\":1e+16,\"rank\":1,\"signature\":\"/w==\",\"hotspots\":[{"
     "\"categories\":[\"CATEGORY_GATHERING\",99]}]}}",
     NULL, 0},
    {D(log_entry), "{\"checkpoint\":{}}", NULL, 0},
    {D(log_entry), "{\"audit\":{\"action\":\"revoke\",\"client\":\"polis_1\"}}", NULL, 0},
    /* A oneof member holding its default is still written. */
    {D(feed_request), "{\"credit\":0}", NULL, 0},
    {D(feed_request), "{\"credit\":\"4294967295\"}", "{\"credit\":4294967295}", 0},
    {D(feed_request),
     "{\"subscribe\":{\"topics\":[\"hageby/*\",\"\"],\"fromSeq\":\"5\",\"credit\":10}}", NULL, 0},
    {D(control_request), "{\"revoke\":\"\"}", NULL, 0},
    {D(control_request), "{\"status\":false}", NULL, 0},
    {D(feed_event), "{\"status\":{}}", NULL, 0},
    /* Ack. */
    {D(ack),
     "{\"requestId\":\"9\",\"results\":[{\"sourceId\":\"a\",\"revision\":1,\"status\":"
     "\"STATUS_ACCEPTED\",\"seq\":\"10\"},{\"status\":\"STATUS_REJECTED\",\"error\":"
     "\"observed_at: required\"}],\"error\":\"x\",\"retryAfterMs\":250}",
     NULL, 0},
    /* Bytes: either alphabet, padding optional; written standard and padded. */
    {D(checkpoint), "{\"headHash\":\"-_8\",\"signature\":\"AQ\"}",
     "{\"headHash\":\"+/8=\",\"signature\":\"AQ==\"}", 0},
    {D(checkpoint), "{\"headHash\":\"AQI=\",\"signature\":\"AQID\"}", NULL, 0},
    {D(checkpoint), "{\"headHash\":\"\"}", "{}", 0},
    /* Doubles: NaN and the infinities as strings, numbers as strings. */
    {D(position), "{\"lat\":\"NaN\",\"lon\":\"-Infinity\"}", NULL, 0},
    {D(position), "{\"lat\":\"Infinity\"}", NULL, 0},
    {D(position), "{\"lat\":\"58.5712\",\"lon\":-16}", "{\"lat\":58.5712,\"lon\":-16.0}", 0},
    {D(position), "{\"lat\":\"1e-7\",\"lon\":\"+2.5E+3\"}", "{\"lat\":1e-07,\"lon\":2500.0}", 0},
};

static void
test_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof roundtrips / sizeof roundtrips[0]; i++) {
		const struct roundtrip *t = &roundtrips[i];
		const char *want = t->out != NULL ? t->out : t->in;
		ProtobufCMessage *m = parse_ok(t->d, t->in);

		if (!t->no_binary)
			expect_text(through_binary(m), want);
		expect_text(m, want);
		/* The canonical form reads back as itself. */
		expect_text(parse_ok(t->d, want), want);
	}
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

struct refusal {
	const ProtobufCMessageDescriptor *d;
	const char *in;
	const char *err;
	int prefix; /* err is only the start of the message (jansson's wording) */
};

static const struct refusal refusals[] = {
    {D(report), "{\"foo\":1}", "unknown field \"foo\"", 0},
    {D(report), "{\"position\":{\"foo\":1}}", "position: unknown field \"foo\"", 0},
    {D(report), "{\"severity\":4294967296}", "severity: value out of range for uint32", 0},
    {D(report), "{\"severity\":-1}", "severity: value out of range for uint32", 0},
    {D(report), "{\"severity\":\"-1\"}", "severity: value out of range for uint32", 0},
    {D(report), "{\"severity\":1.5}", "severity: expected an integer, got a fractional number", 0},
    {D(report), "{\"severity\":true}", "severity: expected an integer, got a boolean", 0},
    {D(report), "{\"severity\":[]}", "severity: expected an integer, got an array", 0},
    {D(report), "{\"severity\":\"1.5\"}", "severity: expected an integer, got a non-integer string",
     0},
    {D(report), "{\"severity\":\" 1\"}", "severity: expected an integer, got a non-integer string",
     0},
    {D(report), "{\"observedAt\":\"9223372036854775808\"}",
     "observedAt: value out of range for int64", 0},
    {D(report), "{\"observedAt\":\"-9223372036854775809\"}",
     "observedAt: value out of range for int64", 0},
    {D(report), "{\"observedAt\":\"99999999999999999999999\"}",
     "observedAt: value out of range for int64", 0},
    {D(report), "{\"observedAt\":1e19}", "observedAt: value out of range for int64", 0},
    {D(report), "{\"observed_at\":\"x\"}",
     "observed_at: expected an integer, got a non-integer string", 0},
    {D(report), "{\"category\":\"CATEGORY_NOPE\"}",
     "category: unknown enum value \"CATEGORY_NOPE\"", 0},
    {D(report), "{\"category\":\"\"}", "category: unknown enum value (not an enum name)", 0},
    {D(report), "{\"category\":\"Skadeg\u00f6relse\"}",
     "category: unknown enum value (not an enum name)", 0},
    {D(report), "{\"Namn Efternamn\":1}", "unknown field (not a field name)", 0},
    {D(report), "{\"category\":2147483648}", "category: value out of range for enum", 0},
    {D(report), "{\"category\":1.5}", "category: expected an integer, got a fractional number", 0},
    {D(report), "{\"category\":true}", "category: expected an enum name or number, got a boolean",
     0},
    {D(report), "{\"position\":{\"lat\":\"abc\"}}", "position.lat: expected a number, got a string",
     0},
    {D(report), "{\"position\":{\"lat\":\"nan\"}}", "position.lat: expected a number, got a string",
     0},
    {D(report), "{\"position\":{\"lat\":\"0x10\"}}",
     "position.lat: expected a number, got a string", 0},
    {D(report), "{\"position\":{\"lat\":\"NaN\\u0000\"}}",
     "position.lat: expected a number, got a string", 0},
    {D(report), "{\"position\":{\"lat\":\"1e999\"}}", "position.lat: value out of range for double",
     0},
    {D(report), "{\"position\":{\"lat\":false}}", "position.lat: expected a number, got a boolean",
     0},
    {D(report), "{\"position\":\"here\"}", "position: expected an object, got a string", 0},
    {D(report), "{\"withdrawn\":\"true\"}", "withdrawn: expected true or false, got a string", 0},
    {D(report), "{\"withdrawn\":1}", "withdrawn: expected true or false, got a number", 0},
    {D(report), "{\"sourceId\":5}", "sourceId: expected a string, got a number", 0},
    {D(report), "{\"description\":\"a\\u0000b\"}",
     "description: string contains a NUL character (\\u0000)", 0},
    {D(report), "{\"sourceId\":\"a\",\"source_id\":\"b\"}", "source_id: field given more than once",
     0},
    {D(report), "[]", "expected an object, got an array", 0},
    {D(report), "\"x\"", "expected an object, got a string", 0},
    {D(report), "{\"sourceId\":\"a\",\"sourceId\":\"b\"}", "invalid JSON at line 1, column ", 1},
    {D(report), "{\"sourceId\":\"a\"", "invalid JSON at line 1, column ", 1},
    {D(report), "{\"position\":{\"lat\":NaN}}", "invalid JSON at line 1, column ", 1},
    {D(report), "", "invalid JSON at line ", 1},
    {D(report), "{} {}", "invalid JSON at line 1, column ", 1},
    {D(report_batch), "{\"reports\":{}}", "reports: expected an array, got an object", 0},
    {D(report_batch), "{\"reports\":[1]}", "reports[0]: expected an object, got a number", 0},
    {D(report_batch), "{\"reports\":[{},null]}",
     "reports[1]: null is not allowed in a repeated field", 0},
    {D(report_batch), "{\"reports\":[{},{},{},{\"category\":\"X\"}]}",
     "reports[3].category: unknown enum value \"X\"", 0},
    {D(report_batch), "{\"reports\":[{\"sourceId\":\"a\"},{\"severity\":-5}]}",
     "reports[1].severity: value out of range for uint32", 0},
    {D(envelope), "{\"reports\":{},\"measure\":{}}",
     "measure: only one field of a oneof may be set, \"reports\" already is", 0},
    {D(envelope), "{\"requestId\":-1}", "requestId: value out of range for uint64", 0},
    {D(envelope), "{\"reports\":{\"reports\":[{\"position\":{\"lat\":{}}}]}}",
     "reports.reports[0].position.lat: expected a number, got an object", 0},
    {D(feed_request), "{\"credit\":4294967296}", "credit: value out of range for uint32", 0},
    {D(feed_request), "{\"subscribe\":{},\"credit\":1}",
     "credit: only one field of a oneof may be set, \"subscribe\" already is", 0},
    {D(subscribe), "{\"topics\":[\"a\",\"b\\u0000\"]}",
     "topics[1]: string contains a NUL character (\\u0000)", 0},
    {D(measure), "{\"reportSeqs\":[\"1\",null]}",
     "reportSeqs[1]: null is not allowed in a repeated field", 0},
    {D(log_entry),
     "{\"hash\":\"AA==\",\"picture\":{\"categories\":[{\"category\":\"CATEGORY_GATHERING\"},"
     "{\"baseline\":\"x\"}]}}",
     "picture.categories[1].baseline: expected a number, got a string", 0},
    {D(checkpoint), "{\"headHash\":\"AA!A\"}", "headHash: invalid base64", 0},
    {D(checkpoint), "{\"headHash\":\"A\"}", "headHash: invalid base64", 0},
    {D(checkpoint), "{\"headHash\":\"AQID=\"}", "headHash: invalid base64", 0},
    {D(checkpoint), "{\"headHash\":\"AQ===\"}", "headHash: invalid base64", 0},
    {D(checkpoint), "{\"headHash\":\"==\"}", "headHash: invalid base64", 0},
    {D(checkpoint), "{\"headHash\":5}", "headHash: expected a base64 string, got a number", 0},
};

static void
test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		const struct refusal *t = &refusals[i];
		char err[512] = "";
		ProtobufCMessage *m =
		    wire_from_json_text(t->d, t->in, strlen(t->in), err, sizeof err);

		if (m != NULL) {
			protobuf_c_message_free_unpacked(m, NULL);
			fail_msg("%s was accepted", t->in);
		}
		if (t->prefix)
			assert_memory_equal(err, t->err, strlen(t->err));
		else
			assert_string_equal(err, t->err);
	}
}

static void
test_error_buffer_optional(void **state)
{
	char err[8] = "x";

	(void)state;
	assert_null(wire_from_json_text(D(report), "{\"foo\":1}", 9, NULL, 0));
	/* A short buffer gets a cut, terminated message. */
	assert_null(wire_from_json_text(D(report), "{\"foo\":1}", 9, err, sizeof err));
	assert_string_equal(err, "unknown");
	assert_null(wire_from_json_text(D(report), NULL, 0, err, sizeof err));
	assert_null(wire_from_json(NULL, NULL, err, sizeof err));
	assert_null(wire_to_json(NULL));
	assert_null(wire_to_json_text(NULL));
}

/* Only len bytes are read: the text need not be NUL-terminated. */
static void
test_text_length(void **state)
{
	const char text[] = "{\"credit\":7}garbage";

	(void)state;
	expect_text(parse_ok(D(feed_request), "{\"credit\":7}"), "{\"credit\":7}");
	expect_text(wire_from_json_text(D(feed_request), text, 12, NULL, 0), "{\"credit\":7}");
}

/* ------------------------------------------------------------------ */
/* Doubles                                                             */
/* ------------------------------------------------------------------ */

struct double_text {
	double v;
	const char *text; /* as Python's repr() */
};

static const struct double_text doubles[] = {
    {58.5712, "58.5712"},
    {16.1902, "16.1902"},
    {0.1, "0.1"},
    {2.0 / 3.0, "0.6666666666666666"},
    {100.0, "100.0"},
    {-1.5, "-1.5"},
    {1e15, "1000000000000000.0"},
    {1e16, "1e+16"},
    {1.5e16, "1.5e+16"},
    {1e-4, "0.0001"},
    {1e-5, "1e-05"},
    {1.5e-7, "1.5e-07"},
    {123456789.123, "123456789.123"},
    {5e-324, "5e-324"},
    {1.7976931348623157e308, "1.7976931348623157e+308"},
    {12345678901234567890.0, "1.2345678901234567e+19"},
    {-0.0, "-0.0"},
};

static void
test_double_text(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
		Est__V1__Position p;
		char want[64];
		char *text;

		est__v1__position__init(&p);
		p.lat = doubles[i].v;
		snprintf(want, sizeof want, "{\"lat\":%s}", doubles[i].text);
		text = wire_to_json_text(&p.base);
		assert_non_null(text);
		assert_string_equal(text, want);
		free(text);
	}
}

/* ------------------------------------------------------------------ */
/* Messages built in C                                                 */
/* ------------------------------------------------------------------ */

static void
expect_struct(const ProtobufCMessage *m, const char *want)
{
	char *text = wire_to_json_text(m);

	assert_non_null(text);
	assert_string_equal(text, want);
	free(text);
}

static void
test_built_messages(void **state)
{
	/* The generated __INIT macros cast away const (-Wcast-qual): use the functions. */
	Est__V1__FeedRequest fr;
	Est__V1__ControlRequest cr;
	Est__V1__FeedEvent fe;
	Est__V1__Report r;
	Est__V1__Position pos;
	char bad_utf8[] = "a\xff"
	                  "b\xc3";

	(void)state;
	est__v1__feed_request__init(&fr);
	est__v1__control_request__init(&cr);
	est__v1__feed_event__init(&fe);
	est__v1__report__init(&r);
	est__v1__position__init(&pos);
	expect_struct(&fr.base, "{}");
	fr.body_case = EST__V1__FEED_REQUEST__BODY_CREDIT;
	expect_struct(&fr.base, "{\"credit\":0}");
	cr.body_case = EST__V1__CONTROL_REQUEST__BODY_REVOKE; /* revoke left at the default */
	expect_struct(&cr.base, "{\"revoke\":\"\"}");
	fe.body_case = EST__V1__FEED_EVENT__BODY_ENTRY; /* entry left NULL */
	expect_struct(&fe.base, "{\"entry\":{}}");
	r.position = &pos;
	r.category = 42;
	r.description = bad_utf8;
	expect_struct(&r.base, "{\"category\":42,\"position\":{},\"description\":\"a\xef\xbf\xbd"
	                       "b\xef\xbf\xbd\"}");
}

static void
test_allocation_matches_protobuf_c(void **state)
{
	Est__V1__Report *r;
	Est__V1__FeedRequest *fr;
	Est__V1__ControlRequest *cr;

	(void)state;
	/* An empty string stays the shared default, which free_unpacked skips. */
	r = (Est__V1__Report *)parse_ok(D(report), "{\"sourceId\":\"\",\"area\":\"x\"}");
	assert_ptr_equal(r->source_id, protobuf_c_empty_string);
	assert_string_equal(r->area, "x");
	assert_null(r->position);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* A oneof member is sent even when it holds its default. */
	fr = (Est__V1__FeedRequest *)parse_ok(D(feed_request), "{\"credit\":0}");
	assert_int_equal(fr->body_case, EST__V1__FEED_REQUEST__BODY_CREDIT);
	assert_int_equal(protobuf_c_message_get_packed_size(&fr->base), 2);
	protobuf_c_message_free_unpacked(&fr->base, NULL);
	cr = (Est__V1__ControlRequest *)parse_ok(D(control_request), "{\"revoke\":\"\"}");
	assert_int_equal(cr->body_case, EST__V1__CONTROL_REQUEST__BODY_REVOKE);
	assert_ptr_not_equal(cr->revoke, protobuf_c_empty_string);
	assert_int_equal(protobuf_c_message_get_packed_size(&cr->base), 2);
	protobuf_c_message_free_unpacked(&cr->base, NULL);
}

static void
test_tree_api(void **state)
{
	char err[256] = "";
	json_t *j = json_object();
	ProtobufCMessage *m;
	json_t *out;

	(void)state;
	/* A tree built without jansson's UTF-8 check is checked here. */
	json_object_set_new(j, "sourceId", json_stringn_nocheck("a\xff", 2));
	assert_null(wire_from_json(D(report), j, err, sizeof err));
	assert_string_equal(err, "sourceId: string is not valid UTF-8");
	json_object_set_new(j, "sourceId", json_string("a"));
	json_object_set_new(j, "revision", json_integer(3));
	m = wire_from_json(D(report), j, err, sizeof err);
	assert_non_null(m);
	out = wire_to_json(m);
	assert_true(json_equal(j, out));
	json_decref(out);
	json_decref(j);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* ------------------------------------------------------------------ */
/* A recursive message, made here: names and the nesting cap           */
/* ------------------------------------------------------------------ */

struct node {
	ProtobufCMessage base;
	struct node *child_node;
};

static const ProtobufCMessageDescriptor node_descriptor;

static void
node_init(ProtobufCMessage *m)
{
	struct node init = {PROTOBUF_C_MESSAGE_INIT(&node_descriptor), NULL};

	memcpy(m, &init, sizeof init);
}

static const ProtobufCFieldDescriptor node_fields[] = {
    {"child_node", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_MESSAGE, 0,
     offsetof(struct node, child_node), &node_descriptor, NULL, 0, 0, NULL, NULL},
};
static const unsigned node_fields_by_name[] = {0};
static const ProtobufCIntRange node_ranges[] = {{1, 0}, {0, 1}};
static const ProtobufCMessageDescriptor node_descriptor = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                           "test.Node",
                                                           "Node",
                                                           "Test__Node",
                                                           "test",
                                                           sizeof(struct node),
                                                           1,
                                                           node_fields,
                                                           node_fields_by_name,
                                                           1,
                                                           node_ranges,
                                                           node_init,
                                                           NULL,
                                                           NULL,
                                                           NULL};

/* {"childNode":{"childNode":...{}...}} with depth objects in all. */
static char *
nested_text(int depth)
{
	size_t size = (size_t)depth * 16 + 1;
	char *text = malloc(size);
	size_t n = 0;

	assert_non_null(text);
	for (int i = 1; i < depth; i++)
		n += (size_t)snprintf(text + n, size - n, "{\"childNode\":");
	n += (size_t)snprintf(text + n, size - n, "{}");
	for (int i = 1; i < depth; i++)
		text[n++] = '}';
	text[n] = '\0';
	return text;
}

static void
test_nesting_cap(void **state)
{
	char err[512] = "";
	char *text = nested_text(32);
	ProtobufCMessage *m = parse_ok(&node_descriptor, text);
	char *back = wire_to_json_text(m);

	(void)state;
	assert_non_null(back);
	assert_string_equal(back, text);
	free(back);
	protobuf_c_message_free_unpacked(m, NULL);
	free(text);

	text = nested_text(33);
	assert_null(wire_from_json_text(&node_descriptor, text, strlen(text), err, sizeof err));
	assert_non_null(strstr(err, ": messages nested deeper than 32 levels"));
	assert_memory_equal(err, "childNode.childNode.", 20);
	free(text);
}

static void
test_nesting_cap_on_output(void **state)
{
	struct node chain[40];
	char *text;

	(void)state;
	for (int i = 0; i < 40; i++) {
		node_init(&chain[i].base);
		chain[i].child_node = i + 1 < 40 ? &chain[i + 1] : NULL;
	}
	assert_null(wire_to_json(&chain[0].base));
	assert_null(wire_to_json_text(&chain[0].base));
	/* 32 levels are fine. */
	text = wire_to_json_text(&chain[8].base);
	assert_non_null(text);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_error_buffer_optional),
	    cmocka_unit_test(test_text_length),
	    cmocka_unit_test(test_double_text),
	    cmocka_unit_test(test_built_messages),
	    cmocka_unit_test(test_allocation_matches_protobuf_c),
	    cmocka_unit_test(test_tree_api),
	    cmocka_unit_test(test_nesting_cap),
	    cmocka_unit_test(test_nesting_cap_on_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
