/*
 * dir_filter.c -- RFC 4515 filter values and the filters the LDAP
 * backend sends.
 *
 * Every byte of a looked-up value that could mean something to a filter
 * parser ("*", "(", ")", "\", NUL), every control byte and every byte
 * outside ASCII is written as "\XX".  A crafted address therefore
 * always reaches the server as one literal assertion value: it can
 * match the entry that holds exactly that value, nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "directory/dir_int.h"

static bool must_escape(unsigned char c)
{
	return c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 ||
	       c >= 0x7f;
}

/*
 * Write the escaped form of (p, len) and a NUL into buf.  EMSGSIZE when
 * it does not fit (3 bytes per input byte + 1 always does).
 */
int dir_filter_escape(char *buf, size_t sz, const char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	size_t i;

	if (!buf || (!p && len))
		return EINVAL;

	for (i = 0; i < len; i++) {
		const unsigned char c = (unsigned char)p[i];

		if (must_escape(c)) {
			if (o + 3 >= sz)
				return EMSGSIZE;
			buf[o++] = '\\';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		}
		else {
			if (o + 1 >= sz)
				return EMSGSIZE;
			buf[o++] = (char)c;
		}
	}
	if (o >= sz)
		return EMSGSIZE;
	buf[o] = '\0';
	return 0;
}

/* Attribute descriptions from the config: letters, digits, '-', ';'
 * and '.' (OIDs); anything else would let the config alter the filter
 * in ways nobody reviewing it would expect. */
static bool attr_ok(const char *a)
{
	size_t i;

	if (!a || !a[0])
		return false;
	for (i = 0; a[i]; i++) {
		const char c = a[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == ';' ||
		      c == '.'))
			return false;
	}
	return true;
}

/*
 * "(attr=value)" or, with an extra filter from the config,
 * "(&(attr=value)(extra))".  The value is escaped here; the extra
 * filter is the administrator's and is used as written (wrapped in
 * parentheses when it has none).
 */
int dir_filter_build(char *buf, size_t sz, const char *attr,
		     const char *value, const char *extra)
{
	char esc[3 * DIR_KEY_MAX + 1];
	int err;
	int n;

	if (!buf || !sz || !value || !attr_ok(attr))
		return EINVAL;

	err = dir_filter_escape(esc, sizeof(esc), value, strlen(value));
	if (err)
		return err;

	if (extra && extra[0]) {
		const bool paren = extra[0] == '(';

		n = snprintf(buf, sz, "(&(%s=%s)%s%s%s)", attr, esc,
			     paren ? "" : "(", extra, paren ? "" : ")");
	}
	else {
		n = snprintf(buf, sz, "(%s=%s)", attr, esc);
	}
	if (n < 0 || (size_t)n >= sz)
		return EMSGSIZE;

	return 0;
}
