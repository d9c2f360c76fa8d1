/* The sources loader's frame: the set it fills, its errors, and the public entry points. */
#include "sources.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources_impl.h"

int sources_grow(void **array, size_t *cap, size_t count, size_t size)
{
	size_t next;
	void *p;

	if (count < *cap)
		return 0;
	next = *cap ? *cap * 2 : 16;
	p = reallocarray(*array, next, size);
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = next;
	return 0;
}

static void copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

int sources_error(struct source_set *set, const char *file, unsigned line, const char *fmt, ...)
{
	struct source_error *e;
	va_list ap;

	if (set->error_count >= SOURCES_ERROR_MAX)
		return 0;
	if (sources_grow((void **)&set->errors, &set->error_cap, set->error_count, sizeof(*e)) < 0)
		return -ENOMEM;
	e = &set->errors[set->error_count++];
	copy_text(e->file, sizeof(e->file), file && file[0] ? file : "-");
	if (set->error_count == SOURCES_ERROR_MAX) {
		e->line = 0;
		snprintf(e->reason, sizeof(e->reason),
			 "more than %d errors: this and further ones are not listed",
			 SOURCES_ERROR_MAX - 1);
		return 0;
	}
	e->line = line;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	return 0;
}

int sources_file_index(struct source_set *set, const char *path, size_t *index)
{
	char *copy;

	for (size_t i = set->file_count; i-- > 0;) {
		if (strcmp(set->files[i], path) == 0) {
			*index = i;
			return 0;
		}
	}
	if (sources_grow((void **)&set->files, &set->file_cap, set->file_count, sizeof(char *)) < 0)
		return -ENOMEM;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	*index = set->file_count;
	set->files[set->file_count++] = copy;
	return 0;
}

/* "PATH:LINE", keeping the end of a path too long to fit. */
static void format_source(char *buf, size_t size, const char *path, unsigned line)
{
	char number[16];
	size_t path_len = strlen(path), room;

	snprintf(number, sizeof(number), ":%u", line);
	room = size - 1 - strlen(number);
	if (path_len <= room)
		snprintf(buf, size, "%s%s", path, number);
	else
		snprintf(buf, size, "...%s%s", path + path_len - (room - 3), number);
}

int sources_add_mapping(struct source_set *set, const struct ipr_mapping *m,
			struct source_place place)
{
	const char *file = set->files[place.file];
	size_t cap = set->cap;

	if (set->count >= SOURCES_MAPPING_MAX)
		return sources_error(set, file, place.line,
				     "more than %d mappings: this one is left out",
				     SOURCES_MAPPING_MAX);
	if (sources_grow((void **)&set->mappings, &cap, set->count, sizeof(*set->mappings)) < 0)
		return -ENOMEM;
	if (cap != set->cap) {
		struct source_place *p = reallocarray(set->places, cap, sizeof(*p));
		if (!p)
			return -ENOMEM; /* mappings grew alone: cap stays, the next call retries */
		set->places = p;
		set->cap = cap;
	}
	set->mappings[set->count] = *m;
	set->mappings[set->count].expires = 0;
	format_source(set->mappings[set->count].source, sizeof(m->source), file, place.line);
	set->places[set->count] = place;
	set->count++;
	return 0;
}

struct error_key {
	size_t file;
	unsigned line;
	size_t index;
};

static int error_order(const void *x, const void *y)
{
	const struct error_key *a = x, *b = y;

	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static size_t file_order(const struct source_set *set, const char *file)
{
	for (size_t i = 0; i < set->file_count; i++)
		if (strcmp(set->files[i], file) == 0)
			return i;
	return SIZE_MAX;
}

void sources_sort_errors(struct source_set *set, size_t from)
{
	/* a note that errors were cut stays last */
	size_t end =
		set->error_count == SOURCES_ERROR_MAX ? set->error_count - 1 : set->error_count;
	struct error_key *keys;
	struct source_error *copy;
	size_t n;

	if (end <= from + 1)
		return;
	n = end - from;
	keys = calloc(n, sizeof(*keys));
	copy = calloc(n, sizeof(*copy));
	if (keys && copy) { /* without memory the errors keep the order they were found in */
		for (size_t i = 0; i < n; i++)
			keys[i] = (struct error_key){ file_order(set, set->errors[from + i].file),
						      set->errors[from + i].line, i };
		qsort(keys, n, sizeof(*keys), error_order);
		for (size_t i = 0; i < n; i++)
			copy[i] = set->errors[from + keys[i].index];
		memcpy(set->errors + from, copy, n * sizeof(*copy));
	}
	free(keys);
	free(copy);
}

int sources_status(const struct source_set *set)
{
	return set->error_count ? -EINVAL : 0;
}

/* Turns an unreadable input into its error; 0 or -ENOMEM. */
static int report_unreadable(struct source_set *set, const struct sources_input *in)
{
	char buf[64];

	if (in->text)
		return 0;
	if (in->read_err.line) /* binary content is an error of its line, in no other's place */
		return sources_error(set, in->name, in->read_err.line, "column %zu: %s",
				     in->read_err.column,
				     sources_read_error_text(in, buf, sizeof(buf)));
	return sources_error(set, in->name, 0, "cannot read: %s",
			     sources_read_error_text(in, buf, sizeof(buf)));
}

static struct sources_input text_input(const char *name, const char *text, size_t len)
{
	return (struct sources_input){
		.name = name && name[0] ? name : "-",
		.text = text ? text : "",
		.len = text ? len : 0,
	};
}

int sources_load_zone_text(const struct sources_config *cfg, const char *public_name,
			   const char *public_text, size_t public_len, const char *internal_name,
			   const char *internal_text, size_t internal_len, struct source_set *out)
{
	struct sources_input pub = text_input(public_name, public_text, public_len);
	struct sources_input internal = text_input(internal_name, internal_text, internal_len);

	return sources_zone_pair(cfg, &pub, &internal, out);
}

int sources_load_hosts_text(const struct sources_config *cfg, const char *name, const char *text,
			    size_t len, struct source_set *out)
{
	struct sources_input in = text_input(name, text, len);

	return sources_hosts(cfg, &in, out);
}

/* Reads path into in (reporting the error when it cannot); path may lack its NUL. */
static int read_config_path(struct source_set *set, const char *path, struct sources_input *in,
			    char **owned)
{
	*owned = NULL;
	if (strnlen(path, SOURCES_PATH_MAX) == SOURCES_PATH_MAX || !path[0]) {
		*in = (struct sources_input){ .name = "-", .read_errno = ENAMETOOLONG };
		return sources_error(set, "-", 0, "a source path is empty or too long");
	}
	if (sources_read_file(path, in, owned) < 0)
		return report_unreadable(set, in);
	return 0;
}

int sources_load(const struct sources_config *cfg, struct source_set *out)
{
	size_t zones = cfg->zone_count < SOURCES_ZONE_MAX ? cfg->zone_count : SOURCES_ZONE_MAX;
	size_t hosts = cfg->hosts_count < SOURCES_HOSTS_MAX ? cfg->hosts_count : SOURCES_HOSTS_MAX;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < zones && rc != -ENOMEM; i++) {
		struct sources_input pub, internal;
		char *pub_text = NULL, *internal_text = NULL;

		rc = read_config_path(out, cfg->zones[i].public_path, &pub, &pub_text);
		if (rc == 0)
			rc = read_config_path(out, cfg->zones[i].internal_path, &internal,
					      &internal_text);
		if (rc == 0)
			rc = sources_zone_pair(cfg, &pub, &internal, out);
		free(pub_text);
		free(internal_text);
	}
	for (size_t i = 0; i < hosts && rc != -ENOMEM; i++) {
		struct sources_input in;
		char *text = NULL;

		rc = read_config_path(out, cfg->hosts_paths[i], &in, &text);
		if (rc == 0)
			rc = sources_hosts(cfg, &in, out);
		free(text);
	}
	if (rc == -ENOMEM)
		return rc;
	return sources_check_conflicts(cfg, out);
}

void source_set_free(struct source_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->file_count; i++)
		free(set->files[i]);
	free(set->files);
	free(set->mappings);
	free(set->places);
	free(set->errors);
	memset(set, 0, sizeof(*set));
}

int source_error_format(const struct source_error *error, char *buf, size_t size)
{
	if (error->line)
		return snprintf(buf, size, "%s:%u: %s", error->file, error->line, error->reason);
	return snprintf(buf, size, "%s: %s", error->file, error->reason);
}
