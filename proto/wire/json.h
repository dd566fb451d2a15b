/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json: the protobuf JSON mapping for every est.v1 message, driven by the
 * protobuf-c descriptors (so a new field needs no code here). Follows the
 * canonical proto3 mapping that google.protobuf.json_format implements:
 * lowerCamelCase names, enums by name, 64-bit integers as strings, bytes as
 * base64, fields with default values left out. Reading also accepts the
 * original proto field names, enum numbers and numbers for 64-bit integers,
 * as the mapping allows. Unknown fields are an error naming the field.
 */
#ifndef ESTHUB_WIRE_JSON_H
#define ESTHUB_WIRE_JSON_H

#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* Converts m to a new JSON object; the caller owns the reference. NULL on allocation failure. */
json_t *wire_to_json(const ProtobufCMessage *m);

/*
 * Converts m to compact JSON text on one line (no newline at the end).
 * The caller frees the result with free(). NULL on allocation failure.
 */
char *wire_to_json_text(const ProtobufCMessage *m);

/*
 * Builds a message of descriptor d from JSON object j. On error returns NULL
 * and writes to err a reason that names the field by its JSON path
 * ("position.lat: expected a number"). The caller owns the result and frees
 * it with protobuf_c_message_free_unpacked(m, NULL).
 */
ProtobufCMessage *wire_from_json(const ProtobufCMessageDescriptor *d, const json_t *j, char *err,
                                 size_t errlen);

/*
 * Writes "invalid JSON at line L, column C: WHAT" for a jansson error into
 * out. jansson quotes the input near the error ("near '...'"): that part
 * is left out (it is the partner's text, perhaps cut inside a UTF-8
 * character, perhaps personal data), and anything but printable ASCII in
 * the rest becomes '?'.
 */
void wire_json_error(const json_error_t *je, char *out, size_t outlen);

/* As wire_from_json, from text of len bytes (one JSON object). */
ProtobufCMessage *wire_from_json_text(const ProtobufCMessageDescriptor *d, const char *text,
                                      size_t len, char *err, size_t errlen);

#endif
