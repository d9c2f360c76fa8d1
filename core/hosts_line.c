/* Parsing hosts-file lines that carry an IPREF mapping after "#=". */
#include "hosts_line.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static const char *const keywords[] = {
	[IPR_HOSTS_LOCAL] = "local",
	[IPR_HOSTS_PUBLIC] = "public",
	[IPR_HOSTS_EXTERNAL] = "external",
};

/* Shortest accepted abbreviation of a keyword: "loc", "pub", "ext". */
#define KEYWORD_MIN 3

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static size_t skip_blanks(const char *line, size_t i, size_t end)
{
	while (i < end && is_blank(line[i]))
		i++;
	return i;
}

/* Runs a sub-parser on line[start..end) and turns its columns into line columns. */
static int shift_column(int rc, struct ipr_err *err, size_t start)
{
	if (rc < 0 && err && err->column)
		err->column += start;
	return rc;
}

static int parse_ip(const char *line, size_t start, size_t end, struct ipr_hosts_line *entry,
		    struct ipr_err *err)
{
	int rc;

	if (memchr(line + start, ':', end - start)) {
		entry->family = AF_INET6;
		rc = ipr_ipv6_parse(line + start, end - start, entry->ip, err);
	} else {
		entry->family = AF_INET;
		rc = ipr_ipv4_parse(line + start, end - start, entry->ip, err);
	}
	return shift_column(rc, err, start);
}

static int parse_names(const char *line, size_t start, size_t end, struct ipr_hosts_line *entry,
		       struct ipr_err *err)
{
	size_t i = skip_blanks(line, start, end);

	while (i < end) {
		size_t name_end = i;
		while (name_end < end && !is_blank(line[name_end]))
			name_end++;
		if (entry->name_count == IPR_HOSTS_MAX_NAMES)
			return ipr_fail(err, EINVAL, i + 1, "more than 16 names on one line");
		int rc = ipr_name_parse(line + i, name_end - i, NULL, err);
		if (rc < 0)
			return shift_column(rc, err, i);
		entry->names[entry->name_count++] =
			(struct ipr_span){ .offset = i, .len = name_end - i };
		i = skip_blanks(line, name_end, end);
	}
	return 0;
}

static enum ipr_hosts_kind match_keyword(const char *word, size_t len)
{
	for (size_t kind = IPR_HOSTS_LOCAL; kind <= IPR_HOSTS_EXTERNAL; kind++) {
		if (len >= KEYWORD_MIN && len <= strlen(keywords[kind]) &&
		    strncasecmp(word, keywords[kind], len) == 0)
			return (enum ipr_hosts_kind)kind;
	}
	return IPR_HOSTS_NONE;
}

/* The mapping after "#=": KEYWORD [[CONTEXT] + REF], up to a comment or the end. */
static int parse_mapping(const char *line, size_t start, size_t len, struct ipr_hosts_line *entry,
			 struct ipr_err *err)
{
	size_t word = skip_blanks(line, start, len), word_end = word;
	size_t rest, rest_end;
	const char *comment;
	int rc;

	while (word_end < len && is_letter(line[word_end]))
		word_end++;
	if (word_end == word)
		return ipr_fail(err, EINVAL, word + 1,
				"missing mapping keyword after '#=' (local, public or external)");
	entry->kind = match_keyword(line + word, word_end - word);
	if (entry->kind == IPR_HOSTS_NONE)
		return ipr_fail(err, EINVAL, word + 1,
				"unknown mapping keyword (local, public or external)");
	if (word_end < len && !is_blank(line[word_end]) && line[word_end] != '#' &&
	    line[word_end] != '+')
		return ipr_fail(err, EINVAL, word_end + 1, "expected whitespace after the keyword");

	comment = memchr(line + word_end, '#', len - word_end);
	rest_end = comment ? (size_t)(comment - line) : len;
	rest = skip_blanks(line, word_end, rest_end);
	while (rest_end > rest && is_blank(line[rest_end - 1]))
		rest_end--;

	if (entry->kind == IPR_HOSTS_LOCAL) {
		if (rest != rest_end)
			return ipr_fail(err, EINVAL, rest + 1, "local takes no address");
		return 0;
	}
	if (rest == rest_end)
		return ipr_fail(err, EINVAL, rest + 1,
				entry->kind == IPR_HOSTS_PUBLIC
					? "public needs '+ REF' or 'CONTEXT + REF'"
					: "external needs 'CONTEXT + REF'");

	if (line[rest] == '+') {
		if (entry->kind == IPR_HOSTS_EXTERNAL)
			return ipr_fail(err, EINVAL, rest + 1,
					"external needs a context before '+'");
		size_t ref = skip_blanks(line, rest + 1, rest_end);
		if (ref == rest_end)
			return ipr_fail(err, EINVAL, ref + 1, "missing reference after '+'");
		rc = ipr_ref_parse(line + ref, rest_end - ref, &entry->addr.ref, err);
		if (rc < 0)
			return shift_column(rc, err, ref);
		entry->has_context = false;
	} else {
		rc = ipr_addr_parse(line + rest, rest_end - rest, &entry->addr, err);
		if (rc < 0)
			return shift_column(rc, err, rest);
		entry->has_context = true;
	}
	if (ipr_ref_is_null(&entry->addr.ref))
		return ipr_fail(err, EINVAL, rest + 1, "reference 0 is the null reference");
	return 0;
}

int ipr_hosts_line_parse(const char *line, size_t len, struct ipr_hosts_line *out,
			 struct ipr_err *err)
{
	struct ipr_hosts_line entry;
	const char *hash;
	size_t start, ip_end, mapping;
	int rc;

	memset(&entry, 0, sizeof(entry));
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;

	start = skip_blanks(line, 0, len);
	hash = start < len ? memchr(line + start, '#', len - start) : NULL;
	if (start == len || line[start] == '#' || !hash || (size_t)(hash - line) + 1 >= len ||
	    hash[1] != '=') {
		*out = entry; /* nothing of ours on this line */
		return 0;
	}
	mapping = (size_t)(hash - line);

	ip_end = start;
	while (ip_end < mapping && !is_blank(line[ip_end]))
		ip_end++;
	rc = parse_ip(line, start, ip_end, &entry, err);
	if (rc < 0)
		return rc;
	rc = parse_names(line, ip_end, mapping, &entry, err);
	if (rc < 0)
		return rc;
	rc = parse_mapping(line, mapping + 2, len, &entry, err);
	if (rc < 0)
		return rc;
	*out = entry;
	return 0;
}

const char *ipr_hosts_kind_name(enum ipr_hosts_kind kind)
{
	if (kind >= IPR_HOSTS_LOCAL && kind <= IPR_HOSTS_EXTERNAL)
		return keywords[kind];
	return "";
}
