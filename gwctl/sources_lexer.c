/* Cutting zone files into entries: parentheses, quotes, comments and escapes, with line numbers. */
#include <errno.h>
#include <stdlib.h>

#include "sources_impl.h"

static int entry_put(struct sources_entry *e, char c)
{
	if (e->len >= SOURCES_RECORD_MAX) {
		e->reason = "entry is longer than 65536 characters";
		return 0;
	}
	if (e->len + 1 >= e->cap) {
		size_t next = e->cap ? e->cap * 2 : 256;
		char *s = realloc(e->s, next);
		if (!s)
			return -ENOMEM;
		e->s = s;
		e->cap = next;
	}
	e->s[e->len++] = c;
	e->s[e->len] = '\0';
	return 0;
}

static void skip_line(struct sources_lexer *lx)
{
	while (lx->pos < lx->len && lx->text[lx->pos] != '\n')
		lx->pos++;
}

/* Whether the entry holds more than blanks. */
static bool entry_has_text(const struct sources_entry *e)
{
	for (size_t i = 0; i < e->len; i++)
		if (e->s[i] != ' ' && e->s[i] != '\t')
			return true;
	return false;
}

int sources_lexer_next(struct sources_lexer *lx, struct sources_entry *e)
{
	unsigned depth;
	bool quoted;
	int rc = 0;

again:
	if (lx->pos >= lx->len)
		return 0;
	e->len = 0;
	if (e->s)
		e->s[0] = '\0';
	e->reason = NULL;
	e->line = lx->line;
	depth = 0;
	quoted = false;
	while (lx->pos < lx->len && rc == 0) {
		char c = lx->text[lx->pos++];

		if (c == '\n') {
			lx->line++;
			if (quoted) {
				e->reason = "quoted text runs past the end of the line";
				return 1;
			}
			if (depth == 0)
				break;
			rc = entry_put(e, ' ');
		} else if (c == '\0') {
			e->reason = "NUL byte in a zone file";
			skip_line(lx);
			return 1;
		} else if (quoted) {
			if (c == '"')
				quoted = false;
			rc = entry_put(e, c);
			if (rc == 0 && c == '\\' && lx->pos < lx->len &&
			    lx->text[lx->pos] != '\n' && lx->text[lx->pos] != '\0')
				rc = entry_put(e, lx->text[lx->pos++]);
		} else if (c == ';') {
			skip_line(lx);
		} else if (c == '(') {
			depth++;
			rc = entry_put(e, ' ');
		} else if (c == ')') {
			if (depth == 0) {
				e->reason = "')' without '('";
				skip_line(lx);
				return 1;
			}
			depth--;
			rc = entry_put(e, ' ');
		} else if (c == '\\') {
			rc = entry_put(e, c);
			if (rc == 0 && lx->pos < lx->len && lx->text[lx->pos] != '\n' &&
			    lx->text[lx->pos] != '\0')
				rc = entry_put(e, lx->text[lx->pos++]);
		} else {
			if (c == '"')
				quoted = true;
			rc = entry_put(e, c == '\r' ? ' ' : c);
		}
	}
	if (rc < 0)
		return rc;
	if (e->reason)
		return 1;
	if (quoted) {
		e->reason = "quoted text runs past the end of the file";
		return 1;
	}
	if (depth > 0) {
		e->reason = "'(' is not closed before the end of the file";
		return 1;
	}
	if (!entry_has_text(e))
		goto again;
	return 1;
}

size_t sources_split_words(char *s, char **words, size_t max)
{
	size_t n = 0;

	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (n == max)
			return max + 1;
		if (*s == '"') {
			words[n++] = ++s;
			while (*s && *s != '"')
				s++;
		} else {
			words[n++] = s;
			while (*s && *s != ' ' && *s != '\t')
				s++;
		}
		if (*s)
			*s++ = '\0';
	}
	return n;
}
