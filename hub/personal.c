/* SPDX-License-Identifier: Apache-2.0 */
/*
 * personal: hand-written recognisers of personal data in free text (see
 * personal.h and docs/personal-data.md). One small recogniser per kind, in
 * a table; the scan tries them at every word start and keeps the longest.
 *
 * Every recogniser reads a bounded number of bytes forward from its start
 * (digit runs and e-mail parts are capped), so a scan is linear in the
 * text. None looks backwards beyond the one byte that decides whether a
 * word starts there. Together with the rule that a position right after a
 * finding counts as a word start, this makes masking final: the masked
 * text, scanned again, holds no finding (the fuzz target checks this).
 */
#include "personal.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest digit run a recogniser cares about; longer runs count as this + 1. */
#define RUN_CAP         16
#define EMAIL_LOCAL_MAX 64
#define EMAIL_LABEL_MAX 63
#define EMAIL_TOTAL_MAX 255
#define PHONE_MIN       8  /* digits of a national number, trunk 0 included: 011-12 34 56 */
#define PHONE_MAX       10 /* 070-123 45 67, 08-123 456 78 */

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/*
 * Multi-byte punctuation that separates words and number groups in Swedish
 * text: no-break space U+00A0, narrow no-break space U+202F (thousands in
 * "1 500"), en dash U+2013 ("850101–1234"). Returns the sequence's length
 * when one starts at i, else 0.
 */
static size_t
special_len(const unsigned char *s, size_t len, size_t i)
{
	if (i + 1 < len && s[i] == 0xc2 && s[i + 1] == 0xa0)
		return 2;
	if (i + 2 < len && s[i] == 0xe2 && s[i + 1] == 0x80 &&
	    (s[i + 2] == 0xaf || s[i + 2] == 0x93))
		return 3;
	return 0;
}

/* Whether byte i lies inside (or starts) one of the special sequences. */
static bool
in_special(const unsigned char *s, size_t len, size_t i)
{
	for (size_t back = 0; back < 3 && back <= i; back++) {
		size_t n = special_len(s, len, i - back);
		if (n > back)
			return true;
	}
	return false;
}

/*
 * A word byte: an ASCII letter, digit or '_' (ids such as "bil_XYZ987" are
 * one word), or any byte of a non-ASCII character (å, ä, ö, é are letters)
 * other than the special punctuation.
 */
static bool
is_word(const unsigned char *s, size_t len, size_t i)
{
	if (i >= len)
		return false;
	if (s[i] < 0x80)
		return is_digit(s[i]) || is_alpha(s[i]) || s[i] == '_';
	return !in_special(s, len, i);
}

/* Length of the digit run at i, capped at RUN_CAP + 1. */
static size_t
digit_run(const unsigned char *s, size_t len, size_t i)
{
	size_t n = 0;
	while (i + n < len && is_digit(s[i + n]) && n <= RUN_CAP)
		n++;
	return n;
}

/* One space: ' ', no-break or narrow no-break space. */
static size_t
space_len(const unsigned char *s, size_t len, size_t i)
{
	if (i >= len)
		return 0;
	if (s[i] == ' ')
		return 1;
	size_t n = special_len(s, len, i);
	return n == 2 || (n == 3 && s[i + 2] == 0xaf) ? n : 0;
}

/* One dash: '-' or en dash. */
static size_t
dash_len(const unsigned char *s, size_t len, size_t i)
{
	if (i < len && s[i] == '-')
		return 1;
	return special_len(s, len, i) == 3 && s[i + 2] == 0x93 ? 3 : 0;
}

/*
 * The separator between two groups of a number: a space, a dash, or a dash
 * with a space on either side or both ("08 - 123 456 78"). When plus_ok, a
 * '+' may stand for the dash (the personnummer of someone over 100).
 * Returns the position after it (i when there is none).
 */
static size_t
skip_sep(const unsigned char *s, size_t len, size_t i, bool plus_ok)
{
	size_t p = i + space_len(s, len, i);
	size_t d = dash_len(s, len, p);
	if (d == 0 && plus_ok && p < len && s[p] == '+')
		d = 1;
	if (d == 0)
		return p; /* a space alone, or nothing */
	p += d;
	return p + space_len(s, len, p);
}

/* --- personnummer and samordningsnummer ------------------------------------- */

/* Luhn over the ten digits YYMMDDNNNN: weights 2, 1, 2, ...; the sum ends in 0. */
static bool
luhn_ok(const unsigned char d[10])
{
	unsigned sum = 0;
	for (int k = 0; k < 10; k++) {
		unsigned v = d[k] * (k % 2 == 0 ? 2u : 1u);
		sum += v > 9 ? v - 9 : v;
	}
	return sum % 10 == 0;
}

/*
 * YYMMDDNNNN or YYYYMMDDNNNN, contiguous or with a separator before the
 * last four ("-", "+", " ", " - "). Century 18..20 in the long form; month
 * 1..12; day 1..31, or 61..91 for a coordination number; Luhn.
 */
static size_t
match_identity(const unsigned char *s, size_t len, size_t i, enum personal_kind *kind)
{
	size_t a = digit_run(s, len, i), end;
	unsigned char d[12];
	if (a == 10 || a == 12) {
		memcpy(d, s + i, a);
		end = i + a;
	} else if (a == 6 || a == 8) {
		size_t p = skip_sep(s, len, i + a, true);
		if (p == i + a || digit_run(s, len, p) != 4)
			return 0;
		memcpy(d, s + i, a);
		memcpy(d + a, s + p, 4);
		end = p + 4;
		a += 4;
	} else {
		return 0;
	}
	if (is_word(s, len, end))
		return 0;
	for (size_t k = 0; k < a; k++)
		d[k] = (unsigned char)(d[k] - '0');
	const unsigned char *ten = d;
	if (a == 12) {
		unsigned century = d[0] * 10u + d[1];
		if (century < 18 || century > 20)
			return 0;
		ten = d + 2;
	}
	unsigned month = ten[2] * 10u + ten[3], day = ten[4] * 10u + ten[5];
	if (month < 1 || month > 12)
		return 0;
	if (day >= 1 && day <= 31)
		*kind = PERSONAL_ID;
	else if (day >= 61 && day <= 91)
		*kind = PERSONAL_COORDINATION;
	else
		return 0;
	return luhn_ok(ten) ? end - i : 0;
}

/* --- phone numbers ------------------------------------------------------------ */

/*
 * A Swedish number: a trunk 0 and an area code (08, 011, 0120, 070), or
 * +46 / 0046 instead of the 0 (also "+46 (0)70", and the common slip
 * "+46 070"). Then the rest in groups of 2 or more digits separated by
 * spaces or dashes. 8..10 digits in national form, 10 for mobiles (07x).
 * When written in several groups, the first (the area code) has 2..4
 * digits, and 2 only for Stockholm's 08: this keeps "05-01-2026" and
 * "07 08 09 10" out.
 */
static size_t
match_phone(const unsigned char *s, size_t len, size_t i, enum personal_kind *kind)
{
	size_t p = i;
	unsigned implicit = 0; /* the trunk 0 that +46 stands for */
	bool intl = false;
	if (i + 2 < len && s[i] == '+' && s[i + 1] == '4' && s[i + 2] == '6') {
		p = i + 3;
		intl = true;
	} else if (i + 3 < len && memcmp(s + i, "0046", 4) == 0) {
		p = i + 4;
		intl = true;
	}
	if (intl) {
		p += space_len(s, len, p);
		if (p + 2 < len && memcmp(s + p, "(0)", 3) == 0)
			p += 3 + space_len(s, len, p + 3);
		implicit = p < len && s[p] == '0' ? 0 : 1;
	}
	size_t first = digit_run(s, len, p);
	if (first == 0 || (implicit == 0 && (first < 2 || s[p] != '0' || s[p + 1] == '0')))
		return 0;
	unsigned area = implicit + (unsigned)first, total = area;
	unsigned char after_trunk = s[p + (implicit ? 0 : 1)];
	size_t end = p + first;
	if (is_word(s, len, end))
		return 0;
	/*
	 * Only an area code may be followed by more groups. Deciding this before
	 * reading on (rather than after) keeps the match from depending on what
	 * follows, which masking relies on.
	 */
	bool area_code = area >= 2 && area <= 4 && (area > 2 || after_trunk == '8');
	while (area_code) {
		size_t q = skip_sep(s, len, end, false);
		size_t g = q == end ? 0 : digit_run(s, len, q);
		if (g < 2 || total + g > PHONE_MAX || is_word(s, len, q + g))
			break;
		total += (unsigned)g;
		end = q + g;
	}
	/* Mobile numbers (07x) always have ten digits. */
	if (total < (after_trunk == '7' ? PHONE_MAX : PHONE_MIN) || total > PHONE_MAX)
		return 0;
	*kind = PERSONAL_PHONE;
	return end - i;
}

/* --- e-mail addresses ----------------------------------------------------------- */

static bool
local_char(const unsigned char *s, size_t len, size_t i)
{
	return is_word(s, len, i) || (s[i] != '\0' && strchr("!#$%&'*+/=?^_`{|}~.-", s[i]));
}

/*
 * local@domain: a local part of up to 64 bytes, then labels of letters,
 * digits, '-' and non-ASCII bytes separated by dots. The address ends after
 * the last label that is an alphabetic top-level domain of 2 or more
 * letters (so "anna@kommun.se." leaves the full stop, and a label that runs
 * into something else does not spoil the labels before it).
 */
static size_t
match_email(const unsigned char *s, size_t len, size_t i, enum personal_kind *kind)
{
	if (s[i] == '.')
		return 0; /* a local part does not start with a dot */
	size_t at = i;
	while (at < len && at - i <= EMAIL_LOCAL_MAX && s[at] != '@' && local_char(s, len, at))
		at++;
	if (at == i || at >= len || s[at] != '@' || at - i > EMAIL_LOCAL_MAX)
		return 0;
	size_t p = at + 1, best = 0;
	unsigned labels = 0;
	while (p < len && p - at <= EMAIL_TOTAL_MAX) {
		size_t l = p;
		bool alpha = true;
		while (l < len && l - p <= EMAIL_LABEL_MAX && (is_word(s, len, l) || s[l] == '-')) {
			alpha = alpha && is_alpha(s[l]);
			l++;
		}
		if (l == p || l - p > EMAIL_LABEL_MAX)
			break;
		labels++;
		if (labels >= 2 && alpha && l - p >= 2)
			best = l;
		if (l + 1 < len && s[l] == '.')
			p = l + 1;
		else
			break;
	}
	if (best == 0)
		return 0;
	*kind = PERSONAL_EMAIL;
	return best - i;
}

/* --- vehicle registration numbers ----------------------------------------------- */

/* Plates use A-Z without I, Q, V (and Å, Ä, Ö); the last letter of ABC 12A is never O. */
static bool
plate_letter(unsigned char c)
{
	return c >= 'A' && c <= 'Z' && c != 'I' && c != 'Q' && c != 'V';
}

/*
 * Upper-case three-letter abbreviations that stand before numbers in
 * ordinary text ("SEK 500", "LGH 1102" is four digits, but "LGH 123" is
 * not a plate either). A real plate with these letters is missed.
 */
static const char *const plate_words[] = {"SEK", "EUR", "USD", "NOK", "DKK", "GBP",
                                          "LGH", "TEL", "MOB", "FAX", "HUS"};

/*
 * ABC 123 or ABC 12A (since 2019), with a space, a dash or nothing between;
 * upper case only: lower-case "tel 123", "lgh 123", "nr 123" are ordinary
 * Swedish, and plates are written in capitals.
 */
static size_t
match_vehicle(const unsigned char *s, size_t len, size_t i, enum personal_kind *kind)
{
	for (size_t k = 0; k < 3; k++)
		if (i + k >= len || !plate_letter(s[i + k]))
			return 0;
	size_t p = i + 3;
	size_t sep = space_len(s, len, p);
	if (sep == 0)
		sep = dash_len(s, len, p) == 1 ? 1 : 0;
	p += sep;
	if (p + 3 > len || !is_digit(s[p]) || !is_digit(s[p + 1]))
		return 0;
	unsigned char last = s[p + 2];
	if (!is_digit(last) && !(plate_letter(last) && last != 'O'))
		return 0;
	if (is_word(s, len, p + 3))
		return 0;
	for (size_t k = 0; k < sizeof plate_words / sizeof plate_words[0]; k++)
		if (memcmp(s + i, plate_words[k], 3) == 0)
			return 0;
	*kind = PERSONAL_VEHICLE;
	return p + 3 - i;
}

/* --- the table and the scan ----------------------------------------------------- */

typedef size_t (*recogniser_fn)(const unsigned char *s, size_t len, size_t i,
                                enum personal_kind *kind);

/* In order of precedence when two match the same span ("0701234567" may be both). */
static const recogniser_fn recognisers[] = {
    match_identity,
    match_phone,
    match_email,
    match_vehicle,
};

/*
 * The index of the first digit or '@' at or after from, or len. Eight bytes
 * at a time while none lies in 0x30...0x40 (digits, ":;<=>?" and '@'):
 * per byte, with v its low seven bits, (0xc0 - v) has its top bit set
 * when v <= 0x40 and (v + 0x50) when v >= 0x30, neither borrowing nor
 * carrying into the next byte, and ~x clears bytes from 0x80 up (byte at a
 * time was 2.2% of the receiving thread's samples, on texts without either).
 */
static size_t
first_digit_or_at(const unsigned char *s, size_t len, size_t from)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
	size_t i = from;
	while (i < len) {
		if (len - i >= sizeof(uint64_t)) {
			uint64_t x;
			memcpy(&x, s + i, sizeof x);
			uint64_t v = x & (0x7f * ones);
			if (!((0xc0 * ones - v) & ~x & (v + 0x50 * ones) & highs)) {
				i += sizeof x;
				continue;
			}
		}
		/* These eight bytes (or the last few) one at a time: ':' or ';' is no digit. */
		for (size_t end = len - i > sizeof(uint64_t) ? i + sizeof(uint64_t) : len; i < end;
		     i++)
			if (is_digit(s[i]) || s[i] == '@')
				return i;
	}
	return len;
}

/*
 * The first finding at or after from. A word starts at from (the start of
 * the text, or the end of the previous finding, which the mask replaces by
 * a label ending in ']') and wherever the byte before is not a word byte.
 */
static enum personal_kind
scan_from(const unsigned char *s, size_t len, size_t from, struct personal_finding *f)
{
	/* Every kind holds a digit (numbers, plates) or an '@' (e-mail): a text
	 * without either, most of them, is clean without trying a recogniser. */
	if (first_digit_or_at(s, len, from) == len) {
		*f = (struct personal_finding){PERSONAL_NONE, len, 0};
		return PERSONAL_NONE;
	}
	for (size_t i = from; i < len; i++) {
		if (i > from && is_word(s, len, i - 1))
			continue;
		size_t best = 0;
		enum personal_kind kind = PERSONAL_NONE;
		for (size_t r = 0; r < sizeof recognisers / sizeof recognisers[0]; r++) {
			enum personal_kind k = PERSONAL_NONE;
			size_t n = recognisers[r](s, len, i, &k);
			if (n > best) {
				best = n;
				kind = k;
			}
		}
		if (best > 0) {
			*f = (struct personal_finding){kind, i, best};
			return kind;
		}
	}
	*f = (struct personal_finding){PERSONAL_NONE, len, 0};
	return PERSONAL_NONE;
}

enum personal_kind
personal_scan(const char *text, size_t len, struct personal_finding *f)
{
	struct personal_finding tmp;
	return scan_from((const unsigned char *)text, len, 0, f ? f : &tmp);
}

static const struct {
	const char *label;
	const char *text;
} kinds[] = {
    [PERSONAL_NONE] = {"", "no personal data"},
    [PERSONAL_ID] = {"[personnummer]", "a Swedish personal identity number"},
    [PERSONAL_COORDINATION] = {"[samordningsnummer]", "a Swedish coordination number"},
    [PERSONAL_PHONE] = {"[telefonnummer]", "a phone number"},
    [PERSONAL_EMAIL] = {"[e-post]", "an e-mail address"},
    [PERSONAL_VEHICLE] = {"[registreringsnummer]", "a vehicle registration number"},
};

const char *
personal_label(enum personal_kind kind)
{
	return (unsigned)kind < sizeof kinds / sizeof kinds[0] ? kinds[kind].label : "";
}

const char *
personal_kind_text(enum personal_kind kind)
{
	return (unsigned)kind < sizeof kinds / sizeof kinds[0] ? kinds[kind].text : "";
}

/*
 * Walks the findings of text; with out == NULL only counts the masked
 * length. Returns the masked length (without the NUL).
 */
static size_t
mask_into(const unsigned char *s, size_t len, char *out, size_t *n_found)
{
	size_t from = 0, o = 0, n = 0;
	struct personal_finding f;
	while (scan_from(s, len, from, &f) != PERSONAL_NONE) {
		const char *label = personal_label(f.kind);
		size_t ln = strlen(label);
		if (out) {
			memcpy(out + o, s + from, f.start - from);
			memcpy(out + o + (f.start - from), label, ln);
		}
		o += f.start - from + ln;
		from = f.start + f.len;
		n++;
	}
	if (out) {
		memcpy(out + o, s + from, len - from);
		out[o + len - from] = '\0';
	}
	if (n_found)
		*n_found = n;
	return o + len - from;
}

char *
personal_mask(const char *text, size_t len, size_t *out_len, size_t *n_found)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = mask_into(s, len, NULL, NULL);
	char *out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	(void)mask_into(s, len, out, n_found);
	if (out_len)
		*out_len = n;
	return out;
}

int
personal_check_field(const char *field, const char *text, enum personal_mode mode,
                     char **masked_out, char *err, size_t errlen)
{
	*masked_out = NULL;
	size_t len = strlen(text);
	struct personal_finding f;
	if (personal_scan(text, len, &f) == PERSONAL_NONE)
		return 0;
	if (mode != PERSONAL_MASK) {
		/* The offset helps find it; the text itself is never echoed. */
		snprintf(err, errlen,
		         "%s: contains what looks like %s (at byte %zu); personal data must not be "
		         "sent to the shared log",
		         field, personal_kind_text(f.kind), f.start);
		return -1;
	}
	*masked_out = personal_mask(text, len, NULL, NULL);
	if (*masked_out == NULL) {
		snprintf(err, errlen, "%s: out of memory while masking personal data", field);
		return -1;
	}
	return 1;
}
