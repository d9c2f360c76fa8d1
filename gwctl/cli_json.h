/* A small JSON writer for gwctl's --json output: objects and arrays, strings, integers, null. */
#ifndef GWCTL_CLI_JSON_H
#define GWCTL_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 4

/* pretty: each member of the outermost object or array on a line of its own; else one line. */
struct json_out {
	FILE *out;
	bool pretty;
	int depth;
	bool first[JSON_DEPTH_MAX];
};

void json_init(struct json_out *j, FILE *out, bool pretty);
/* key is NULL for an array element or the outermost value. */
void json_object_begin(struct json_out *j, const char *key);
void json_array_begin(struct json_out *j, const char *key);
/* Closes the innermost object or array; the outermost one ends its line. */
void json_end(struct json_out *j, char close);
/* value NULL writes null. */
void json_string(struct json_out *j, const char *key, const char *value);
void json_u64(struct json_out *j, const char *key, uint64_t value);
void json_null(struct json_out *j, const char *key);

#endif
