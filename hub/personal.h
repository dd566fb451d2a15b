/* SPDX-License-Identifier: Apache-2.0 */
/*
 * personal: finds personal data in free text, so EST does not become a
 * register of people. Recognised are Swedish personal identity numbers
 * (personnummer) and coordination numbers (samordningsnummer), both with
 * their date and Luhn check digit, Swedish phone numbers, e-mail addresses
 * and Swedish vehicle registration numbers (docs/personal-data.md lists the
 * spellings). Names and street addresses are not recognised.
 *
 * Pure functions without state: the scan allocates nothing and runs in
 * time linear in the text, which may be any bytes (invalid UTF-8, NULs).
 * validate.c calls personal_check_field for the free-text fields of every
 * incoming report; other free text (measures) can call it the same way.
 */
#ifndef ESTHUB_HUB_PERSONAL_H
#define ESTHUB_HUB_PERSONAL_H

#include <stddef.h>

enum personal_kind {
	PERSONAL_NONE = 0,
	PERSONAL_ID,           /* personnummer: YYMMDD-NNNN, day 01..31 */
	PERSONAL_COORDINATION, /* samordningsnummer: as a personnummer, day + 60 */
	PERSONAL_PHONE,        /* Swedish phone number, national or +46 */
	PERSONAL_EMAIL,        /* e-mail address */
	PERSONAL_VEHICLE,      /* Swedish registration plate: ABC 123, ABC 12A */
};

/* What [privacy] personal_data in hub.conf asks for (the values match its choices). */
enum personal_mode {
	PERSONAL_REJECT = 0, /* refuse the text, naming the field and the kind */
	PERSONAL_MASK = 1,   /* replace each finding by its label and keep the text */
};

struct personal_finding {
	enum personal_kind kind;
	size_t start; /* byte offset of the finding in the text */
	size_t len;   /* its length in bytes */
};

/*
 * Scans text[0, len) and returns the kind of the first finding (the one
 * starting first; the longest of those starting there), with its span in
 * *f (f may be NULL). PERSONAL_NONE when the text holds none.
 */
enum personal_kind personal_scan(const char *text, size_t len, struct personal_finding *f);

/* The label a finding is masked with, e.g. "[personnummer]"; "" for PERSONAL_NONE. */
const char *personal_label(enum personal_kind kind);

/* The kind in words for error messages, e.g. "a Swedish personal identity number". */
const char *personal_kind_text(enum personal_kind kind);

/*
 * Returns a new NUL-terminated copy of text[0, len) with every finding
 * replaced by its label (caller frees), its length in *out_len and the
 * number of findings in *n_found (either may be NULL). Bytes outside the
 * findings are copied unchanged, so valid UTF-8 stays valid. NULL when out
 * of memory.
 */
char *personal_mask(const char *text, size_t len, size_t *out_len, size_t *n_found);

/*
 * The check of one free-text field (NUL-terminated text), for any caller
 * that takes free text from outside. Returns
 *   0  nothing found; *masked_out is set to NULL;
 *   1  found and mode is PERSONAL_MASK: *masked_out is the masked text
 *      (a new string, caller frees);
 *  -1  found and mode is PERSONAL_REJECT, or out of memory: err holds
 *      "field: contains what looks like <kind> ...", which names the kind
 *      and byte offset but never echoes the text.
 */
int personal_check_field(const char *field, const char *text, enum personal_mode mode,
                         char **masked_out, char *err, size_t errlen);

#endif
