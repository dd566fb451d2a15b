/* SPDX-License-Identifier: Apache-2.0 */
/*
 * est-jsontool: a test helper (not installed) that converts one est.v1
 * message between the binary protobuf encoding and the JSON mapping of
 * wire/json, so that tests/integration/test_json_interop.py can hold the
 * mapping against Python's google.protobuf.json_format.
 *
 *   est-jsontool to-json est.v1.LogEntry   < binary > one JSON line
 *   est-jsontool from-json est.v1.LogEntry < JSON   > binary
 */
#include "wire/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "est.pb-c.h"

/* Input larger than this is refused. */
#define TOOL_MAX_INPUT_BYTES (16 * 1024 * 1024)

static const ProtobufCMessageDescriptor *const tool_messages[] = {
    &est__v1__position__descriptor,
    &est__v1__report__descriptor,
    &est__v1__report_batch__descriptor,
    &est__v1__measure__descriptor,
    &est__v1__envelope__descriptor,
    &est__v1__result__descriptor,
    &est__v1__ack__descriptor,
    &est__v1__subscribe__descriptor,
    &est__v1__feed_request__descriptor,
    &est__v1__category_count__descriptor,
    &est__v1__hotspot__descriptor,
    &est__v1__upcoming_event__descriptor,
    &est__v1__score_part__descriptor,
    &est__v1__contribution__descriptor,
    &est__v1__week_count__descriptor,
    &est__v1__area_rank__descriptor,
    &est__v1__measure_count__descriptor,
    &est__v1__followup__descriptor,
    &est__v1__flag__descriptor,
    &est__v1__picture__descriptor,
    &est__v1__checkpoint__descriptor,
    &est__v1__audit_event__descriptor,
    &est__v1__log_entry__descriptor,
    &est__v1__feed_status__descriptor,
    &est__v1__feed_event__descriptor,
    &est__v1__picture_request__descriptor,
    &est__v1__control_request__descriptor,
    &est__v1__client_info__descriptor,
    &est__v1__control_reply__descriptor,
};

static const ProtobufCMessageDescriptor *
tool_find(const char *name)
{
	for (size_t i = 0; i < sizeof tool_messages / sizeof tool_messages[0]; i++) {
		if (strcmp(tool_messages[i]->name, name) == 0)
			return tool_messages[i];
	}
	return NULL;
}

/* Reads all of stdin into a new buffer (NUL-terminated); NULL on error. */
static char *
tool_read_stdin(size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	while (buf != NULL) {
		size_t got = fread(buf + n, 1, cap - n - 1, stdin);

		n += got;
		if (got == 0)
			break;
		if (n + 1 == cap) {
			char *grown = cap < TOOL_MAX_INPUT_BYTES ? realloc(buf, cap * 2) : NULL;

			if (grown == NULL) {
				free(buf);
				return NULL;
			}
			buf = grown, cap *= 2;
		}
	}
	if (buf == NULL || ferror(stdin)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int
tool_to_json(const ProtobufCMessageDescriptor *d, const char *in, size_t len)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, (const uint8_t *)in);
	char *text;

	if (m == NULL) {
		fprintf(stderr, "est-jsontool: input is not a valid %s\n", d->name);
		return 1;
	}
	text = wire_to_json_text(m);
	protobuf_c_message_free_unpacked(m, NULL);
	if (text == NULL) {
		fprintf(stderr, "est-jsontool: out of memory\n");
		return 2;
	}
	printf("%s\n", text);
	free(text);
	return 0;
}

static int
tool_from_json(const ProtobufCMessageDescriptor *d, const char *in, size_t len)
{
	char err[512];
	ProtobufCMessage *m = wire_from_json_text(d, in, len, err, sizeof err);
	size_t size;
	uint8_t *out;

	if (m == NULL) {
		fprintf(stderr, "est-jsontool: %s\n", err);
		return 1;
	}
	size = protobuf_c_message_get_packed_size(m);
	out = malloc(size ? size : 1);
	if (out == NULL) {
		protobuf_c_message_free_unpacked(m, NULL);
		fprintf(stderr, "est-jsontool: out of memory\n");
		return 2;
	}
	protobuf_c_message_pack(m, out);
	protobuf_c_message_free_unpacked(m, NULL);
	fwrite(out, 1, size, stdout);
	free(out);
	return 0;
}

static void
tool_usage(FILE *f)
{
	fprintf(f, "usage: est-jsontool to-json|from-json MESSAGE < input > output\n"
	           "  MESSAGE is a full name such as est.v1.LogEntry\n");
}

int
main(int argc, char **argv)
{
	const ProtobufCMessageDescriptor *d;
	size_t len = 0;
	char *in;
	int rc;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		tool_usage(stdout);
		return 0;
	}
	if (argc != 3 || (strcmp(argv[1], "to-json") != 0 && strcmp(argv[1], "from-json") != 0)) {
		tool_usage(stderr);
		return 1;
	}
	d = tool_find(argv[2]);
	if (d == NULL) {
		fprintf(stderr, "est-jsontool: unknown message %s\n", argv[2]);
		return 1;
	}
	in = tool_read_stdin(&len);
	if (in == NULL) {
		fprintf(stderr, "est-jsontool: cannot read standard input\n");
		return 2;
	}
	rc =
	    strcmp(argv[1], "to-json") == 0 ? tool_to_json(d, in, len) : tool_from_json(d, in, len);
	free(in);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "est-jsontool: cannot write standard output\n");
		return 2;
	}
	return rc;
}
