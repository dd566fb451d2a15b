/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for wire/json's reader: the first byte picks the message
 * (Report, Envelope, FeedRequest, Measure, LogEntry, Checkpoint: the last two
 * with bytes in base64 and, in a LogEntry, every kind of body), the rest is
 * JSON text. Whatever is accepted must print, read back, pack to the same
 * bytes and print the same text again; anything else aborts. Seeds in
 * corpus/json/ (their first character '0' to '5' picks the message: the
 * character's code modulo 6), tokens in json.dict.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "est.pb-c.h"
#include "wire/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const fuzz_targets[] = {
    &est__v1__report__descriptor,
    &est__v1__envelope__descriptor,
    &est__v1__feed_request__descriptor,
    &est__v1__measure__descriptor, /* a partner's measure update, as est-adapter reads it */
    /* what a partner saved with est-feed --json and hands to estctl verify --against */
    &est__v1__log_entry__descriptor,
    &est__v1__checkpoint__descriptor,
};

static uint8_t *
fuzz_pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	buf = malloc(*len + 1);
	if (buf == NULL)
		abort();
	protobuf_c_message_pack(m, buf);
	return buf;
}

/* m and its text must read back to the same bytes and the same text. */
static void
fuzz_check(const ProtobufCMessage *m, const char *text)
{
	char err[512];
	ProtobufCMessage *again =
	    wire_from_json_text(m->descriptor, text, strlen(text), err, sizeof err);
	size_t len1, len2;
	uint8_t *bin1, *bin2;
	char *text2;

	if (again == NULL) {
		fprintf(stderr, "own output refused: %s\n%s\n", err, text);
		abort();
	}
	bin1 = fuzz_pack(m, &len1);
	bin2 = fuzz_pack(again, &len2);
	if (len1 != len2 || memcmp(bin1, bin2, len1) != 0) {
		fprintf(stderr, "packed bytes differ after a round trip\n%s\n", text);
		abort();
	}
	text2 = wire_to_json_text(again);
	if (text2 == NULL || strcmp(text, text2) != 0) {
		fprintf(stderr, "text differs after a round trip\n%s\n%s\n", text,
		        text2 ? text2 : "(null)");
		abort();
	}
	free(text2);
	free(bin1);
	free(bin2);
	protobuf_c_message_free_unpacked(again, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const ProtobufCMessageDescriptor *d;
	ProtobufCMessage *m;
	char err[512];
	char *text;

	if (size < 1)
		return 0;
	d = fuzz_targets[data[0] % (sizeof fuzz_targets / sizeof fuzz_targets[0])];
	m = wire_from_json_text(d, (const char *)data + 1, size - 1, err, sizeof err);
	if (m == NULL)
		return 0;
	text = wire_to_json_text(m);
	if (text == NULL)
		abort();
	fuzz_check(m, text);
	free(text);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
