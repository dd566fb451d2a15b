/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec: packing and unpacking of est.v1 messages with size caps, straight
 * into and out of ZeroMQ message frames. protobuf-c has no size or depth
 * limit of its own, so every unpack here refuses frames above a cap before
 * decoding, and every decoded message is range-checked by its user.
 */
#ifndef ESTHUB_WIRE_CODEC_H
#define ESTHUB_WIRE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "est.pb-c.h"

/* The only envelope version this build speaks. */
#define WIRE_VERSION 1

/* Default caps, overridable from configuration. */
#define WIRE_MAX_FRAME_BYTES (1024 * 1024)

/*
 * Packs m into a new ZeroMQ frame and sends it on sock with flags.
 * Returns 0, or -1 with errno set by libzmq. The frame is packed in place:
 * no intermediate copy.
 */
int wire_send(void *sock, const ProtobufCMessage *m, int flags);

/*
 * Unpacks len bytes as a message of descriptor d. Refuses (NULL, reason in
 * err) frames over max_bytes and frames that do not decode. The caller owns
 * the result and frees it with protobuf_c_message_free_unpacked(m, NULL).
 */
ProtobufCMessage *wire_unpack(const ProtobufCMessageDescriptor *d, const void *buf, size_t len,
                              size_t max_bytes, char *err, size_t errlen);

/*
 * The same, with the message's memory from alloc (wire/arena.h); NULL is
 * malloc, as wire_unpack. A message from an arena is never freed alone.
 */
ProtobufCMessage *wire_unpack_in(const ProtobufCMessageDescriptor *d, const void *buf, size_t len,
                                 size_t max_bytes, ProtobufCAllocator *alloc, char *err,
                                 size_t errlen);

/*
 * The request_id of a serialized Envelope read straight from its top-level
 * fields, without decoding the rest: so even a frame refused as too large
 * or undecodable can be answered with the sender's request_id. 0 when it
 * cannot be found.
 */
uint64_t wire_peek_request_id(const void *buf, size_t len);

/* One field of an encoded message, as wire_field_next reads it. */
struct wire_field {
	uint64_t number;
	unsigned type;        /* 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit */
	uint64_t value;       /* a varint's value, a length-delimited field's length */
	const uint8_t *bytes; /* a length-delimited field's bytes */
};

/*
 * Reads the field at *p (below end) and moves *p past it, for a caller
 * that wants a field or two without decoding the message. 0 with *f
 * filled, 1 at the end, -1 when the encoding is broken (a cut-short
 * varint or length, or a group: est.proto has none).
 */
int wire_field_next(const uint8_t **p, const uint8_t *end, struct wire_field *f);

/* The name of enum value v of descriptor d, or NULL when v is not a value of it. */
const char *wire_enum_name(const ProtobufCEnumDescriptor *d, int v);

/* Whether v is a named value of enum d other than its zero (UNSPECIFIED) value. */
int wire_enum_known(const ProtobufCEnumDescriptor *d, int v);

/*
 * The enum value whose name, without prefix and in lower case, is s
 * ("lighting" for MEASURE_KIND_LIGHTING, "in_progress"); the full name is
 * accepted too. Returns -1 when none matches.
 */
int wire_enum_parse(const ProtobufCEnumDescriptor *d, const char *prefix, const char *s);

#endif
