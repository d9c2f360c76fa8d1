/* Fuzzes what gwctl prints from the daemon's texts: status lines as JSON, names as metrics. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli_prometheus.h"
#include "cli_status.h"
#include "fuzz.h"

/* The daemon's texts are at most this long (IPR_CTL_TEXT_MAX), and never hold a NUL. */
#define LINE_MAX_LEN 255

/* Balanced brackets outside strings, no raw control byte or bad escape inside them. */
static bool json_well_formed(const char *s, size_t len)
{
	int depth = 0;
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (in_string) {
			if (c < 0x20)
				return false;
			if (c == '\\') {
				if (++i == len || !s[i] || !strchr("\"\\u", s[i]))
					return false;
			} else if (c == '"') {
				in_string = false;
			}
		} else if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth < 0)
				return false;
		}
	}
	return !in_string && depth == 0;
}

/* Three lines: HELP and TYPE naming the metric, then "metric value". */
static void check_metric(const char *out, size_t len)
{
	const char *type = strstr(out, "\n# TYPE ipref_");
	const char *sample;
	size_t name_len;

	FUZZ_CHECK(len > 0 && out[len - 1] == '\n' && !strncmp(out, "# HELP ipref_", 13));
	FUZZ_CHECK(type && strchr(out, '\n') == type);
	sample = strchr(type + 1, '\n') + 1;
	name_len = strspn(sample, "abcdefghijklmnopqrstuvwxyz0123456789_");
	FUZZ_CHECK(name_len > 6 && sample[name_len] == ' ');
	FUZZ_CHECK(strchr(sample, '\n') == out + len - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL, line[LINE_MAX_LEN + 1];
	size_t out_len = 0, start = 0;
	FILE *f = open_memstream(&out, &out_len);
	struct json_out j;

	if (!f)
		return 0;
	json_init(&j, f, true);
	json_object_begin(&j, NULL);
	while (start < size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - data) : size, n = end - start;
		char *metric = NULL;
		size_t metric_len = 0;
		FILE *m;

		if (n > LINE_MAX_LEN)
			n = LINE_MAX_LEN;
		memcpy(line, data + start, n);
		line[n] = 0;
		start = end + 1;
		if (strlen(line) != n)
			continue; /* the protocol carries no NUL inside a text */
		cli_status_json_line(&j, line);
		m = open_memstream(&metric, &metric_len);
		if (!m)
			continue;
		prometheus_metric(m, line, n);
		fclose(m);
		check_metric(metric, metric_len);
		free(metric);
	}
	json_end(&j, '}');
	fclose(f);
	FUZZ_CHECK(out_len >= 3 && out[0] == '{' && !strcmp(out + out_len - 2, "}\n"));
	FUZZ_CHECK(json_well_formed(out, out_len));
	free(out);
	return 0;
}
