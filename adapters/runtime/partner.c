/* SPDX-License-Identifier: Apache-2.0 */
/* partner: the JSON reading and text cleaning every translator shares (see partner.h). */
#include "runtime/partner.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The file as jansson reads it: capped, without a byte order mark. */
struct source {
	FILE *in;
	long total;
	bool started, too_big;
};

static size_t
source_read(void *buf, size_t len, void *arg)
{
	struct source *s = arg;
	size_t n;
	do {
		n = fread(buf, 1, len, s->in);
		if (n == 0)
			return ferror(s->in) ? (size_t)-1 : 0;
		if (!s->started && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
			memmove(buf, (char *)buf + 3, n - 3);
			n -= 3;
		}
		s->started = true;
	} while (n == 0);
	s->total += (long)n;
	if (s->total > PARTNER_FILE_MAX) {
		s->too_big = true;
		return (size_t)-1;
	}
	return n;
}

json_t *
partner_json_array(const struct format_input *input, const char *not_what, const char *items,
                   char *err, size_t errlen)
{
	struct source src = {.in = input->in};
	json_error_t je;
	json_t *root =
	    json_load_callback(source_read, &src, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (root == NULL) {
		/* jansson quotes the text near the error: it may be personal data. */
		char *near = strstr(je.text, " near ");
		if (near)
			*near = '\0';
		if (src.too_big)
			snprintf(err, errlen, "%s: larger than 64 MiB", input->name);
		else if (ferror(input->in))
			snprintf(err, errlen, "cannot read %s: %s", input->name, strerror(errno));
		else
			snprintf(err, errlen, "%s: %s: not JSON (line %d, column %d: %s)",
			         input->name, not_what, je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_array(root)) {
		snprintf(err, errlen, "%s: %s: expected a JSON array of %s", input->name, not_what,
		         items);
		json_decref(root);
		return NULL;
	}
	return root;
}

int
partner_json_each(const struct format_input *input, const char *not_what, const char *items,
                  partner_item_fn one, char *err, size_t errlen)
{
	json_t *root = partner_json_array(input, not_what, items, err, errlen);
	if (root == NULL)
		return -1;
	int rc = 0;
	bool no_memory = false;
	size_t i;
	json_t *o;
	json_array_foreach(root, i, o)
	{
		rc = one(input, (uint64_t)i + 1, o, &no_memory);
		if (no_memory) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
		if (rc != 0)
			break;
	}
	json_decref(root);
	return rc;
}

void
partner_text_one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

void
partner_text_multi_line(char *s)
{
	char *w = s;
	for (const char *p = s; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n')
			continue;
		char c = *p == '\r' ? '\n' : *p;
		if (((unsigned char)c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			c = ' ';
		*w++ = c;
	}
	*w = '\0';
}
