/* A small JSON writer for gwctl's --json output: objects and arrays, strings, integers, null. */
#include "cli_json.h"

void json_init(struct json_out *j, FILE *out, bool pretty)
{
	j->out = out;
	j->pretty = pretty;
	j->depth = 0;
	j->first[0] = true;
}

/* Escapes what JSON requires; the daemon's texts are printable ASCII, but be safe anyway. */
static void write_string(FILE *out, const char *value)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* The separator before a member or element, and its key. */
static void member(struct json_out *j, const char *key)
{
	if (j->depth > 0) {
		if (!j->first[j->depth])
			fputc(',', j->out);
		if (j->pretty && j->depth == 1)
			fputs("\n  ", j->out);
		else if (!j->first[j->depth])
			fputc(' ', j->out);
	}
	j->first[j->depth] = false;
	if (key) {
		write_string(j->out, key);
		fputs(": ", j->out);
	}
}

static void begin(struct json_out *j, const char *key, char open)
{
	member(j, key);
	fputc(open, j->out);
	if (j->depth + 1 < JSON_DEPTH_MAX)
		j->depth++;
	j->first[j->depth] = true;
}

void json_object_begin(struct json_out *j, const char *key)
{
	begin(j, key, '{');
}

void json_array_begin(struct json_out *j, const char *key)
{
	begin(j, key, '[');
}

void json_end(struct json_out *j, char close)
{
	if (j->pretty && j->depth == 1 && !j->first[1])
		fputc('\n', j->out);
	if (j->depth > 0)
		j->depth--;
	fputc(close, j->out);
	if (j->depth == 0)
		fputc('\n', j->out);
}

void json_string(struct json_out *j, const char *key, const char *value)
{
	member(j, key);
	if (value)
		write_string(j->out, value);
	else
		fputs("null", j->out);
}

void json_u64(struct json_out *j, const char *key, uint64_t value)
{
	member(j, key);
	fprintf(j->out, "%llu", (unsigned long long)value);
}

void json_null(struct json_out *j, const char *key)
{
	member(j, key);
	fputs("null", j->out);
}
