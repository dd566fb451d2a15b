/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json: the canonical proto3 JSON mapping, walked from the protobuf-c
 * descriptors (see json.h). Writing builds a jansson tree; the text form is
 * printed here rather than by jansson so that doubles come out in their
 * shortest round-trip form, as Python's json_format prints them. Reading
 * fills a message allocated the way protobuf-c's own unpacker allocates, so
 * that protobuf_c_message_free_unpacked() releases it on every path,
 * including a half-built message after an error.
 */
#include "wire/json.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages nested deeper than this are refused in both directions. */
#define JSON_MAX_DEPTH 32
/* Longest field name handled (protobuf names are identifiers, far shorter). */
#define JSON_NAME_MAX 128
/* Longest JSON path kept for error messages; longer paths are cut. */
#define JSON_PATH_MAX 256
/* Room for any double or float in the shortest form, with sign and exponent. */
#define JSON_NUM_MAX 40

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ------------------------------------------------------------------ */
/* Names, memory layout, UTF-8                                         */
/* ------------------------------------------------------------------ */

/*
 * protoc's json_name (protobuf-c 1.4 does not store it): each underscore is
 * dropped and the letter after it upper-cased. -1 when out is too small.
 */
static int
name_to_json(const char *name, char *out, size_t size)
{
	size_t n = 0;
	int upper = 0;

	for (; *name != '\0'; name++) {
		char ch = *name;

		if (ch == '_') {
			upper = 1;
			continue;
		}
		if (upper && ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		upper = 0;
		if (n + 1 >= size)
			return -1;
		out[n++] = ch;
	}
	out[n] = '\0';
	return 0;
}

/* The field whose JSON name or proto name is key, or NULL. */
static const ProtobufCFieldDescriptor *
field_find(const ProtobufCMessageDescriptor *d, const char *key)
{
	char jname[JSON_NAME_MAX];

	for (unsigned i = 0; i < d->n_fields; i++) {
		if (name_to_json(d->fields[i].name, jname, sizeof jname) == 0 &&
		    strcmp(jname, key) == 0)
			return &d->fields[i];
	}
	return protobuf_c_message_descriptor_get_field_by_name(d, key);
}

/* The size of one element of a repeated field of type t. */
static size_t
elt_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

/*
 * Struct members are read and written with memcpy: the generated structs
 * hold typed pointers and enums, which a generic walker cannot name.
 */
static const void *
load_ptr(const void *at)
{
	const void *p;

	memcpy(&p, at, sizeof p);
	return p;
}

static void
store_ptr(void *at, const void *p)
{
	memcpy(at, &p, sizeof p);
}

static uint32_t
load_u32(const void *at)
{
	uint32_t v;

	memcpy(&v, at, sizeof v);
	return v;
}

static uint64_t
load_u64(const void *at)
{
	uint64_t v;

	memcpy(&v, at, sizeof v);
	return v;
}

/*
 * jansson's object iteration takes a non-const object although it changes
 * nothing; this is the one place where the const is dropped.
 */
static json_t *
json_mutable(const json_t *j)
{
	return (json_t *)(uintptr_t)j;
}

/* The length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_next(const unsigned char *s, size_t n)
{
	uint32_t cp, min;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, cp = s[0] & 0x1fu, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3, cp = s[0] & 0x0fu, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, cp = s[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int
utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		size_t step = utf8_next(u + i, n - i);

		if (step == 0)
			return 0;
		i += step;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* Numbers as text                                                     */
/* ------------------------------------------------------------------ */

/*
 * The shortest decimal digits that read back as v, via "%.*e": fills
 * digits (no dot, no trailing zeros), returns the decimal exponent.
 */
static int
double_digits(double v, char *digits, size_t size, size_t *nd)
{
	char sci[JSON_NUM_MAX];
	const char *s = sci;
	size_t n = 0;

	for (int prec = 0;; prec++) {
		snprintf(sci, sizeof sci, "%.*e", prec, v);
		if (prec >= 16 || strtod(sci, NULL) == v)
			break;
	}
	if (*s == '-')
		s++;
	for (; *s != 'e' && *s != '\0' && n + 1 < size; s++) {
		if (*s != '.')
			digits[n++] = *s;
	}
	while (n > 1 && digits[n - 1] == '0')
		n--;
	*nd = n;
	return *s == 'e' ? (int)strtol(s + 1, NULL, 10) : 0;
}

/* Appends n copies of ch, or the first n characters of s, at out[*pos]. */
static void
num_put(char *out, size_t *pos, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *pos + 1 < JSON_NUM_MAX; i++)
		out[(*pos)++] = s[i];
}

static void
num_zeros(char *out, size_t *pos, size_t n)
{
	for (size_t i = 0; i < n; i++)
		num_put(out, pos, "0", 1);
}

/*
 * Writes v as Python's repr() does (json.dumps uses it): shortest digits,
 * positional notation for exponents -4..15 with at least one fractional
 * digit ("1.0"), scientific otherwise ("1e+16", "1.5e-07"). out holds
 * JSON_NUM_MAX bytes. v must be finite.
 */
static void
double_format(double v, char *out)
{
	char digits[24];
	size_t nd, pos = 0;
	int exp = double_digits(v, digits, sizeof digits, &nd);

	if (signbit(v))
		num_put(out, &pos, "-", 1);
	if (exp < -4 || exp >= 16) {
		char tail[16];

		num_put(out, &pos, digits, 1);
		if (nd > 1) {
			num_put(out, &pos, ".", 1);
			num_put(out, &pos, digits + 1, nd - 1);
		}
		snprintf(tail, sizeof tail, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
		num_put(out, &pos, tail, strlen(tail));
	} else if (exp < 0) {
		num_put(out, &pos, "0.", 2);
		num_zeros(out, &pos, (size_t)(-exp - 1));
		num_put(out, &pos, digits, nd);
	} else {
		size_t whole = (size_t)exp + 1;

		num_put(out, &pos, digits, nd < whole ? nd : whole);
		if (nd < whole)
			num_zeros(out, &pos, whole - nd);
		num_put(out, &pos, ".", 1);
		if (nd > whole)
			num_put(out, &pos, digits + whole, nd - whole);
		else
			num_put(out, &pos, "0", 1);
	}
	out[pos] = '\0';
}

/*
 * A float as the double with the fewest decimal digits that still reads
 * back as the same float, as json_format's ToShortestFloat does, so that
 * 0.1f prints as 0.1 and not 0.10000000149011612.
 */
static double
float_shortest(float f)
{
	char buf[JSON_NUM_MAX];
	double d = f;

	for (int prec = 1; prec <= 9; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
		d = strtod(buf, NULL);
		if ((float)d == f)
			break;
	}
	return d;
}

/* ------------------------------------------------------------------ */
/* Base64                                                              */
/* ------------------------------------------------------------------ */

/* Standard base64 with padding; the caller frees the result. */
static char *
base64_encode(const uint8_t *data, size_t len)
{
	size_t olen = (len + 2) / 3 * 4;
	char *out = malloc(olen + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t chunk = (uint32_t)data[i] << 16;

		if (i + 1 < len)
			chunk |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < len)
			chunk |= data[i + 2];
		out[o++] = b64_alphabet[(chunk >> 18) & 63];
		out[o++] = b64_alphabet[(chunk >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(chunk >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64_alphabet[chunk & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* The value of a base64 digit of either alphabet (standard or URL-safe). */
static int
base64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/*
 * Decodes n characters of base64 into out (room for n * 3 / 4 bytes).
 * Padding is optional, as json_format allows. -1 on a malformed input.
 */
static int
base64_decode(const char *s, size_t n, uint8_t *out, size_t *olen)
{
	size_t pad = 0, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	while (n > 0 && s[n - 1] == '=' && pad < 2)
		n--, pad++;
	if (n % 4 == 1 || (pad > 0 && (n % 4 == 0 || pad > 4 - n % 4)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = base64_digit((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*olen = o;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Message to JSON                                                     */
/* ------------------------------------------------------------------ */

static json_t *msg_to_json(const ProtobufCMessage *m, int depth);

/* A JSON string of s; invalid UTF-8 (unchecked by protobuf-c) becomes U+FFFD. */
static json_t *
string_to_json(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), o = 0;
	json_t *j;
	char *clean;

	if (utf8_valid(s, len))
		return json_stringn(s, len);
	clean = malloc(len * 3 + 1);
	if (clean == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t step = utf8_next(u + i, len - i);

		if (step == 0) {
			memcpy(clean + o, "\xef\xbf\xbd", 3);
			o += 3, i++;
		} else {
			memcpy(clean + o, s + i, step);
			o += step, i += step;
		}
	}
	j = json_stringn(clean, o);
	free(clean);
	return j;
}

static json_t *
bytes_to_json(const ProtobufCBinaryData *bd)
{
	char *text = base64_encode(bd->data, bd->data != NULL ? bd->len : 0);
	json_t *j;

	if (text == NULL)
		return NULL;
	j = json_string(text);
	free(text);
	return j;
}

/* Finite numbers as numbers; NaN and the infinities as json_format's strings. */
static json_t *
real_to_json(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	return json_real(v);
}

/* Known enum numbers by name, unknown ones (proto3 keeps them) as numbers. */
static json_t *
enum_to_json(const ProtobufCEnumDescriptor *ed, int32_t v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, v);

	return ev != NULL ? json_string(ev->name) : json_integer(v);
}

static json_t *
int64_to_json(const void *p, int is_signed)
{
	char buf[24];
	uint64_t u = load_u64(p);

	if (is_signed)
		snprintf(buf, sizeof buf, "%" PRId64, (int64_t)u);
	else
		snprintf(buf, sizeof buf, "%" PRIu64, u);
	return json_string(buf);
}

/* One value of field f stored at p (a member or an array element). */
static json_t *
value_to_json(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
	const ProtobufCMessage *sub;
	const char *s;
	float fl;
	double db;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer((int32_t)load_u32(p));
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(load_u32(p));
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return int64_to_json(p, 1);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return int64_to_json(p, 0);
	case PROTOBUF_C_TYPE_FLOAT:
		memcpy(&fl, p, sizeof fl);
		return isfinite(fl) ? json_real(float_shortest(fl)) : real_to_json(fl);
	case PROTOBUF_C_TYPE_DOUBLE:
		memcpy(&db, p, sizeof db);
		return real_to_json(db);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(load_u32(p) != 0);
	case PROTOBUF_C_TYPE_ENUM:
		return enum_to_json(f->descriptor, (int32_t)load_u32(p));
	case PROTOBUF_C_TYPE_STRING:
		s = load_ptr(p);
		return string_to_json(s != NULL ? s : "");
	case PROTOBUF_C_TYPE_BYTES:
		return bytes_to_json(p);
	case PROTOBUF_C_TYPE_MESSAGE:
		sub = load_ptr(p);
		return sub != NULL ? msg_to_json(sub, depth + 1) : json_object();
	}
	return NULL;
}

/* Whether the value at p is the proto3 default (left out of the JSON). */
static int
value_is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	const char *s;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		s = load_ptr(p);
		return s == NULL || *s == '\0';
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return load_ptr(p) == NULL;
	default:
		/* Bit patterns, as Python does: -0.0 is not the default. */
		return elt_size(f->type) == 8 ? load_u64(p) == 0 : load_u32(p) == 0;
	}
}

static int
field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;
	const void *p = base + f->offset;

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return load_u32(base + f->quantifier_offset) == f->id;
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return 1;
	case PROTOBUF_C_LABEL_REPEATED:
		return *(const size_t *)(base + f->quantifier_offset) > 0;
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
			return load_ptr(p) != NULL && load_ptr(p) != f->default_value;
		return load_u32(base + f->quantifier_offset) != 0;
	case PROTOBUF_C_LABEL_NONE:
		break;
	}
	return !value_is_default(f, p);
}

static json_t *
repeated_to_json(const ProtobufCFieldDescriptor *f, const char *arr, size_t n, int depth)
{
	size_t size = elt_size(f->type);
	json_t *a;

	if (arr == NULL)
		return NULL;
	a = json_array();
	for (size_t i = 0; a != NULL && i < n; i++) {
		if (json_array_append_new(a, value_to_json(f, arr + i * size, depth)) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

static int
field_to_json(json_t *obj, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int depth)
{
	const char *base = (const char *)m;
	char name[JSON_NAME_MAX];
	json_t *v;

	if (name_to_json(f->name, name, sizeof name) != 0)
		return -1;
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		v = repeated_to_json(f, load_ptr(base + f->offset),
		                     *(const size_t *)(base + f->quantifier_offset), depth);
	else
		v = value_to_json(f, base + f->offset, depth);
	return v != NULL ? json_object_set_new(obj, name, v) : -1;
}

static json_t *
msg_to_json(const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	json_t *obj;

	if (depth > JSON_MAX_DEPTH)
		return NULL;
	obj = json_object();
	for (unsigned i = 0; obj != NULL && i < d->n_fields; i++) {
		if (field_present(m, &d->fields[i]) &&
		    field_to_json(obj, m, &d->fields[i], depth) != 0) {
			json_decref(obj);
			obj = NULL;
		}
	}
	return obj;
}

json_t *
wire_to_json(const ProtobufCMessage *m)
{
	if (m == NULL || m->descriptor == NULL)
		return NULL;
	return msg_to_json(m, 1);
}

/* ------------------------------------------------------------------ */
/* JSON tree to text                                                   */
/* ------------------------------------------------------------------ */

struct text {
	char *buf;
	size_t len;
	size_t cap;
	int failed;
};

static void
text_put(struct text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 256;
		char *grown;

		while (cap < t->len + n + 1)
			cap *= 2;
		grown = realloc(t->buf, cap);
		if (grown == NULL) {
			t->failed = 1;
			return;
		}
		t->buf = grown, t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void
text_puts(struct text *t, const char *s)
{
	text_put(t, s, strlen(s));
}

/* The letter of the short escape for c ('n' for a newline), or 0. */
static char
escape_letter(unsigned char c)
{
	static const char from[] = "\"\\\n\r\t\b\f";
	static const char to[] = "\"\\nrtbf";
	const char *at = c != '\0' ? strchr(from, c) : NULL;

	return at != NULL ? to[at - from] : 0;
}

/* A JSON string literal; UTF-8 is written as is, control characters escaped. */
static void
text_string(struct text *t, const char *s, size_t n)
{
	text_put(t, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (escape_letter(c) != 0)
			snprintf(esc, sizeof esc, "\\%c", escape_letter(c));
		else if (c < 0x20)
			snprintf(esc, sizeof esc, "\\u%04x", c);
		else
			esc[0] = (char)c, esc[1] = '\0';
		text_puts(t, esc);
	}
	text_put(t, "\"", 1);
}

static void text_value(struct text *t, const json_t *v);

static void
text_object(struct text *t, const json_t *obj)
{
	const char *key;
	const json_t *v;
	int first = 1;

	text_put(t, "{", 1);
	for (void *it = json_object_iter(json_mutable(obj)); it != NULL;
	     it = json_object_iter_next(json_mutable(obj), it)) {
		key = json_object_iter_key(it);
		v = json_object_iter_value(it);
		if (!first)
			text_put(t, ",", 1);
		first = 0;
		text_string(t, key, strlen(key));
		text_put(t, ":", 1);
		text_value(t, v);
	}
	text_put(t, "}", 1);
}

static void
text_value(struct text *t, const json_t *v)
{
	char num[JSON_NUM_MAX];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		text_object(t, v);
		break;
	case JSON_ARRAY:
		text_put(t, "[", 1);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				text_put(t, ",", 1);
			text_value(t, json_array_get(v, i));
		}
		text_put(t, "]", 1);
		break;
	case JSON_STRING:
		text_string(t, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		text_puts(t, num);
		break;
	case JSON_REAL:
		double_format(json_real_value(v), num);
		text_puts(t, num);
		break;
	case JSON_TRUE:
		text_puts(t, "true");
		break;
	case JSON_FALSE:
		text_puts(t, "false");
		break;
	case JSON_NULL:
		text_puts(t, "null");
		break;
	}
}

char *
wire_to_json_text(const ProtobufCMessage *m)
{
	struct text t = {NULL, 0, 0, 0};
	json_t *j = wire_to_json(m);

	if (j == NULL)
		return NULL;
	text_value(&t, j);
	json_decref(j);
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}

/* ------------------------------------------------------------------ */
/* JSON to message                                                     */
/* ------------------------------------------------------------------ */

/* Where reading is (the JSON path of the value in hand) and where errors go. */
struct reader {
	char *err;
	size_t errlen;
	char path[JSON_PATH_MAX];
	size_t pathlen;
};

/*
 * Whether s may be quoted back in an error: an identifier of at most 64
 * ASCII letters, digits and underscores, as enum and field names are.
 * Anything else may be a partner's free text (personal data, broken UTF-8).
 */
static bool
name_like(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
	return n > 0 && n <= 64 && s[n] == '\0';
}

/* Writes "path: reason" (or just the reason at the top) to err; returns -1. */
__attribute__((format(printf, 2, 3))) static int
read_fail(struct reader *r, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (r->err == NULL || r->errlen == 0)
		return -1;
	if (r->pathlen > 0)
		snprintf(r->err, r->errlen, "%s: %s", r->path, reason);
	else
		snprintf(r->err, r->errlen, "%s", reason);
	return -1;
}

/* Appends to the path; returns the length to give back to path_pop. */
__attribute__((format(printf, 2, 3))) static size_t
path_push(struct reader *r, const char *fmt, ...)
{
	size_t saved = r->pathlen;
	size_t room = sizeof r->path - r->pathlen;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->path + r->pathlen, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->pathlen += (size_t)n < room ? (size_t)n : room - 1;
	return saved;
}

static void
path_pop(struct reader *r, size_t saved)
{
	r->pathlen = saved;
	r->path[saved] = '\0';
}

static const char *
json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

/* Whether s (n bytes) is an optional sign and at least one ASCII digit. */
static int
is_decimal_integer(const char *s, size_t n)
{
	size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;

	if (i == n)
		return 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return 1;
}

/*
 * An integer of any JSON form json_format accepts: a number (a real only
 * when integral) or a decimal string. Sets sign and magnitude. Returns 0,
 * 1 when the magnitude does not fit 64 bits, -1 after writing the error.
 */
static int
int_parse(struct reader *r, const json_t *v, int *neg, uint64_t *mag)
{
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);

		*neg = x < 0;
		*mag = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
		return 0;
	}
	if (json_is_real(v)) {
		double x = json_real_value(v);
		double a = x < 0 ? -x : x;

		*neg = x < 0;
		if (!(a < 18446744073709551616.0))
			return 1;
		*mag = (uint64_t)a;
		if ((double)*mag != a)
			return read_fail(r, "expected an integer, got a fractional number");
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;

		if (!is_decimal_integer(s, json_string_length(v)))
			return read_fail(r, "expected an integer, got a non-integer string");
		*neg = s[0] == '-';
		errno = 0;
		*mag = strtoull(s + (s[0] == '-' || s[0] == '+'), &end, 10);
		return errno == ERANGE || *end != '\0' ? 1 : 0;
	}
	return read_fail(r, "expected an integer, got %s", json_kind(v));
}

static int
int_read(struct reader *r, const json_t *v, int64_t min, int64_t max, const char *type,
         int64_t *out)
{
	uint64_t mag = 0;
	int neg = 0;
	int rc = int_parse(r, v, &neg, &mag);

	if (rc < 0)
		return -1;
	if (rc == 0 && !neg && mag <= (uint64_t)max) {
		*out = (int64_t)mag;
		return 0;
	}
	if (rc == 0 && neg && mag <= (uint64_t)0 - (uint64_t)min) {
		/* -(mag - 1) - 1 stays in range even for INT64_MIN. */
		*out = mag == 0 ? 0 : -(int64_t)(mag - 1) - 1;
		return 0;
	}
	return read_fail(r, "value out of range for %s", type);
}

static int
uint_read(struct reader *r, const json_t *v, uint64_t max, const char *type, uint64_t *out)
{
	uint64_t mag = 0;
	int neg = 0;
	int rc = int_parse(r, v, &neg, &mag);

	if (rc < 0)
		return -1;
	if (rc == 0 && (!neg || mag == 0) && mag <= max) {
		*out = mag;
		return 0;
	}
	return read_fail(r, "value out of range for %s", type);
}

/*
 * A floating-point number written as a string: json_format's "NaN",
 * "Infinity" and "-Infinity", or a plain decimal number. Returns 0, 1 on
 * overflow, -1 when s is not a number.
 */
static int
float_string(const char *s, size_t n, double *out)
{
	char *end;

	if (strlen(s) != n)
		return -1;
	if (strcmp(s, "NaN") == 0)
		*out = NAN;
	else if (strcmp(s, "Infinity") == 0)
		*out = INFINITY;
	else if (strcmp(s, "-Infinity") == 0)
		*out = -INFINITY;
	else if (n == 0 || strspn(s, "0123456789+-.eE") != n)
		return -1;
	else {
		*out = strtod(s, &end);
		if (*end != '\0')
			return -1;
		return isinf(*out) ? 1 : 0;
	}
	return 0;
}

static int
double_read(struct reader *r, const json_t *v, int is_float, double *out)
{
	int rc = 0;

	if (json_is_integer(v))
		*out = (double)json_integer_value(v);
	else if (json_is_real(v))
		*out = json_real_value(v);
	else if (json_is_string(v))
		rc = float_string(json_string_value(v), json_string_length(v), out);
	else
		return read_fail(r, "expected a number, got %s", json_kind(v));
	if (rc < 0)
		return read_fail(r, "expected a number, got a string");
	if (rc > 0 || (is_float && isfinite(*out) && (*out > FLT_MAX || *out < -FLT_MAX)))
		return read_fail(r, "value out of range for %s", is_float ? "float" : "double");
	return 0;
}

/* An enum by name or by number; unknown numbers are kept (proto3 enums are open). */
static int
enum_read(struct reader *r, const ProtobufCEnumDescriptor *ed, const json_t *v, int32_t *out)
{
	const ProtobufCEnumValue *ev;
	int64_t x;

	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);

		ev = strlen(s) == n ? protobuf_c_enum_descriptor_get_value_by_name(ed, s) : NULL;
		if (ev != NULL) {
			*out = ev->value;
			return 0;
		}
		/* json_format also takes a number written as a string. */
		if (!is_decimal_integer(s, n))
			return name_like(s) ? read_fail(r, "unknown enum value \"%s\"", s)
			                    : read_fail(r, "unknown enum value (not an enum name)");
	} else if (!json_is_number(v)) {
		return read_fail(r, "expected an enum name or number, got %s", json_kind(v));
	}
	if (int_read(r, v, INT32_MIN, INT32_MAX, "enum", &x) != 0)
		return -1;
	*out = (int32_t)x;
	return 0;
}

/*
 * A string into *dst, malloc'd. An empty string is left as the descriptor's
 * default (protobuf_c_empty_string) unless keep_empty: a oneof member or a
 * repeated element has to exist to be sent.
 */
static int
string_read(struct reader *r, const json_t *v, int keep_empty, void *dst)
{
	const char *s;
	size_t n;
	char *copy;

	if (!json_is_string(v))
		return read_fail(r, "expected a string, got %s", json_kind(v));
	s = json_string_value(v);
	n = json_string_length(v);
	if (memchr(s, '\0', n) != NULL)
		return read_fail(r, "string contains a NUL character (\\u0000)");
	if (!utf8_valid(s, n))
		return read_fail(r, "string is not valid UTF-8");
	if (n == 0 && !keep_empty)
		return 0;
	copy = malloc(n + 1);
	if (copy == NULL)
		return read_fail(r, "out of memory");
	memcpy(copy, s, n + 1);
	store_ptr(dst, copy);
	return 0;
}

static int
bytes_read(struct reader *r, const json_t *v, int keep_empty, ProtobufCBinaryData *dst)
{
	size_t n, len;
	uint8_t *data;

	if (!json_is_string(v))
		return read_fail(r, "expected a base64 string, got %s", json_kind(v));
	n = json_string_length(v);
	/* One spare byte, so that an empty value kept for a oneof is not NULL. */
	data = malloc(n / 4 * 3 + 3);
	if (data == NULL)
		return read_fail(r, "out of memory");
	if (base64_decode(json_string_value(v), n, data, &len) != 0) {
		free(data);
		return read_fail(r, "invalid base64");
	}
	if (len == 0 && !keep_empty) {
		free(data);
		return 0;
	}
	dst->data = data;
	dst->len = len;
	return 0;
}

static ProtobufCMessage *msg_from_json(struct reader *r, const ProtobufCMessageDescriptor *d,
                                       const json_t *j, int depth);

static int
number_read(struct reader *r, const ProtobufCFieldDescriptor *f, const json_t *v, void *dst)
{
	int64_t i = 0;
	uint64_t u = 0;
	int32_t i32;
	uint32_t u32;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (int_read(r, v, INT32_MIN, INT32_MAX, "int32", &i) != 0)
			return -1;
		i32 = (int32_t)i;
		memcpy(dst, &i32, sizeof i32);
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (uint_read(r, v, UINT32_MAX, "uint32", &u) != 0)
			return -1;
		u32 = (uint32_t)u;
		memcpy(dst, &u32, sizeof u32);
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (uint_read(r, v, UINT64_MAX, "uint64", &u) != 0)
			return -1;
		memcpy(dst, &u, sizeof u);
		return 0;
	default:
		if (int_read(r, v, INT64_MIN, INT64_MAX, "int64", &i) != 0)
			return -1;
		memcpy(dst, &i, sizeof i);
		return 0;
	}
}

static int
scalar_read(struct reader *r, const ProtobufCFieldDescriptor *f, const json_t *v, void *dst)
{
	protobuf_c_boolean b;
	int32_t e = 0;
	double d = 0;
	float fl;

	switch (f->type) {
	case PROTOBUF_C_TYPE_DOUBLE:
		if (double_read(r, v, 0, &d) != 0)
			return -1;
		memcpy(dst, &d, sizeof d);
		return 0;
	case PROTOBUF_C_TYPE_FLOAT:
		if (double_read(r, v, 1, &d) != 0)
			return -1;
		fl = (float)d;
		memcpy(dst, &fl, sizeof fl);
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return read_fail(r, "expected true or false, got %s", json_kind(v));
		b = json_is_true(v);
		memcpy(dst, &b, sizeof b);
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		if (enum_read(r, f->descriptor, v, &e) != 0)
			return -1;
		memcpy(dst, &e, sizeof e);
		return 0;
	default:
		return number_read(r, f, v, dst);
	}
}

/* One value of field f into dst (a member or an array slot). */
static int
value_read(struct reader *r, const ProtobufCFieldDescriptor *f, const json_t *v, void *dst,
           int keep_empty, int depth)
{
	ProtobufCMessage *sub;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return string_read(r, v, keep_empty, dst);
	case PROTOBUF_C_TYPE_BYTES:
		return bytes_read(r, v, keep_empty, dst);
	case PROTOBUF_C_TYPE_MESSAGE:
		sub = msg_from_json(r, f->descriptor, v, depth + 1);
		if (sub == NULL)
			return -1;
		store_ptr(dst, sub);
		return 0;
	default:
		return scalar_read(r, f, v, dst);
	}
}

/*
 * The array is stored at once and counted as it fills, so that a failure
 * half-way leaves a message free_unpacked can release.
 */
static int
repeated_read(struct reader *r, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
              const json_t *v, int depth)
{
	char *base = (char *)m;
	size_t *count = (size_t *)(base + f->quantifier_offset);
	size_t size = elt_size(f->type), n;
	char *arr;

	if (!json_is_array(v))
		return read_fail(r, "expected an array, got %s", json_kind(v));
	n = json_array_size(v);
	if (n == 0)
		return 0;
	arr = calloc(n, size);
	if (arr == NULL)
		return read_fail(r, "out of memory");
	store_ptr(base + f->offset, arr);
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		size_t saved = path_push(r, "[%zu]", i);
		int rc = json_is_null(e) ? read_fail(r, "null is not allowed in a repeated field")
		                         : value_read(r, f, e, arr + i * size, 1, depth);

		path_pop(r, saved);
		if (rc != 0)
			return -1;
		(*count)++;
	}
	return 0;
}

/* A singular field, a oneof member or a proto2 optional one. */
static int
single_read(struct reader *r, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
            const json_t *v, int depth)
{
	char *base = (char *)m;
	int oneof = (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
	uint32_t id = f->id;
	protobuf_c_boolean has = 1;

	if (oneof && load_u32(base + f->quantifier_offset) != 0) {
		const ProtobufCFieldDescriptor *other = protobuf_c_message_descriptor_get_field(
		    m->descriptor, load_u32(base + f->quantifier_offset));

		return read_fail(r, "only one field of a oneof may be set, \"%s\" already is",
		                 other != NULL ? other->name : "?");
	}
	if (value_read(r, f, v, base + f->offset, f->label != PROTOBUF_C_LABEL_NONE || oneof,
	               depth) != 0)
		return -1;
	/* The case is set last: free_unpacked only looks at a member it names. */
	if (oneof)
		memcpy(base + f->quantifier_offset, &id, sizeof id);
	else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	         f->type != PROTOBUF_C_TYPE_MESSAGE)
		memcpy(base + f->quantifier_offset, &has, sizeof has);
	return 0;
}

static int
field_read(struct reader *r, ProtobufCMessage *m, unsigned char *seen, const char *key,
           const json_t *v, int depth)
{
	const ProtobufCFieldDescriptor *f = field_find(m->descriptor, key);
	size_t saved;
	int rc;

	if (f == NULL)
		return name_like(key) ? read_fail(r, "unknown field \"%s\"", key)
		                      : read_fail(r, "unknown field (not a field name)");
	saved = path_push(r, r->pathlen > 0 ? ".%s" : "%s", key);
	if (seen[f - m->descriptor->fields]++)
		rc = read_fail(r, "field given more than once");
	else if (json_is_null(v))
		rc = 0; /* null means the default, as in json_format */
	else if (f->label == PROTOBUF_C_LABEL_REPEATED)
		rc = repeated_read(r, m, f, v, depth);
	else
		rc = single_read(r, m, f, v, depth);
	path_pop(r, saved);
	return rc;
}

static ProtobufCMessage *
msg_from_json(struct reader *r, const ProtobufCMessageDescriptor *d, const json_t *j, int depth)
{
	ProtobufCMessage *m;
	unsigned char *seen;
	const char *key;
	const json_t *v;
	int rc = 0;

	if (!json_is_object(j)) {
		read_fail(r, "expected an object, got %s", json_kind(j));
		return NULL;
	}
	if (depth > JSON_MAX_DEPTH) {
		read_fail(r, "messages nested deeper than %d levels", JSON_MAX_DEPTH);
		return NULL;
	}
	m = malloc(d->sizeof_message);
	seen = calloc(d->n_fields + 1, 1);
	if (m == NULL || seen == NULL) {
		free(m);
		free(seen);
		read_fail(r, "out of memory");
		return NULL;
	}
	protobuf_c_message_init(d, m);
	for (void *it = json_object_iter(json_mutable(j)); it != NULL;
	     it = json_object_iter_next(json_mutable(j), it)) {
		key = json_object_iter_key(it);
		v = json_object_iter_value(it);
		rc = field_read(r, m, seen, key, v, depth);
		if (rc != 0)
			break;
	}
	free(seen);
	if (rc != 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		return NULL;
	}
	return m;
}

ProtobufCMessage *
wire_from_json(const ProtobufCMessageDescriptor *d, const json_t *j, char *err, size_t errlen)
{
	struct reader r = {.err = err, .errlen = errlen};

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (d == NULL || j == NULL) {
		read_fail(&r, "no message");
		return NULL;
	}
	return msg_from_json(&r, d, j, 1);
}

void
wire_json_error(const json_error_t *je, char *out, size_t outlen)
{
	char what[JSON_ERROR_TEXT_LENGTH];
	size_t n = 0;
	const char *near = strstr(je->text, " near ");
	size_t end = near ? (size_t)(near - je->text) : strlen(je->text);
	for (size_t i = 0; i < end && n + 1 < sizeof what; i++) {
		unsigned char c = (unsigned char)je->text[i];
		what[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	what[n] = '\0';
	snprintf(out, outlen, "invalid JSON at line %d, column %d: %s", je->line, je->column, what);
}

ProtobufCMessage *
wire_from_json_text(const ProtobufCMessageDescriptor *d, const char *text, size_t len, char *err,
                    size_t errlen)
{
	/* NUL is allowed by the parser so that string_read can name the field. */
	size_t flags = JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL;
	ProtobufCMessage *m;
	json_error_t je;
	json_t *j;

	if (text == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "no JSON text");
		return NULL;
	}
	j = json_loadb(text, len, flags, &je);
	if (j == NULL) {
		if (err != NULL && errlen > 0)
			wire_json_error(&je, err, errlen);
		return NULL;
	}
	m = wire_from_json(d, j, err, errlen);
	json_decref(j);
	return m;
}
