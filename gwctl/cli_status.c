/* gwctl status --json: the daemon's "key: value" status lines as typed JSON members. */
#include "cli_status.h"

#include <stdio.h>
#include <string.h>

/* "10.240.0.0/12 (1048573 addresses, 3 in use or resting)" or "none". */
static void json_range(struct json_out *j, const char *key, const char *text)
{
	char prefix[64];
	unsigned long long size, taken;

	if (sscanf(text, "%63s (%llu addresses, %llu in use", prefix, &size, &taken) != 3) {
		json_string(j, key, strcmp(text, "none") ? text : NULL);
		return;
	}
	json_object_begin(j, key);
	json_string(j, "prefix", prefix);
	json_u64(j, "size", size);
	json_u64(j, "taken", taken);
	json_end(j, '}');
}

void cli_status_json_line(struct json_out *j, const char *line)
{
	const char *colon = strstr(line, ": ");
	char key[48], a[64], b[64];
	unsigned long long x, y;
	size_t n;

	if (!colon || (n = (size_t)(colon - line)) >= sizeof(key))
		return;
	for (size_t i = 0; i < n; i++)
		key[i] = line[i] == '-' ? '_' : line[i];
	key[n] = 0;
	const char *value = colon + 2;
	if (!strcmp(key, "uptime") && sscanf(value, "%llu s", &x) == 1) {
		json_u64(j, "uptime_seconds", x);
	} else if (!strcmp(key, "encoded_ipv4") || !strcmp(key, "encoded_ipv6")) {
		json_range(j, key, value);
	} else if (!strcmp(key, "dynamic_refs") && sscanf(value, "%63[0-9]-%63[0-9]", a, b) == 2) {
		json_object_begin(j, key);
		json_string(j, "min", a);
		json_string(j, "max", b);
		json_end(j, '}');
	} else if (!strcmp(key, "lease") &&
		   sscanf(value, "%llu s, quarantine: %llu s", &x, &y) == 2) {
		json_u64(j, "lease_seconds", x);
		json_u64(j, "quarantine_seconds", y);
	} else if (!strcmp(key, "mappings") &&
		   sscanf(value, "%llu (%llu quarantined", &x, &y) == 2) {
		json_u64(j, "mappings", x);
		json_u64(j, "quarantined", y);
	} else if ((!strcmp(key, "generation") || !strcmp(key, "dataplanes_connected")) &&
		   sscanf(value, "%llu", &x) == 1) {
		json_u64(j, key, x);
	} else if (!strcmp(key, "dataplane_report_age")) {
		if (sscanf(value, "%llu ms", &x) == 1)
			json_u64(j, "dataplane_report_age_ms", x);
		else
			json_null(j, "dataplane_report_age_ms");
	} else {
		json_string(j, key, value);
	}
}
