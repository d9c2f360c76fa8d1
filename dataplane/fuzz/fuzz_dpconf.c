/* Fuzzes dataplane.conf: line by line and as a file, refusals exact, accepted values in bounds. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "dpconf.h"
#include "file.h"
#include "fuzz.h"

static bool text_ok(const char *s, size_t cap, bool may_be_empty)
{
	size_t n = strnlen(s, cap);

	return n < cap && (may_be_empty || n > 0);
}

/* The bounds docs/dataplane.md gives, whatever line set what. */
static void check_config(const struct dpconf *c)
{
	FUZZ_CHECK(text_ok(c->gwctl_socket, sizeof(c->gwctl_socket), false));
	FUZZ_CHECK(text_ok(c->tun, sizeof(c->tun), false));
	FUZZ_CHECK(strcspn(c->tun, "/ :") == strlen(c->tun));
	FUZZ_CHECK(text_ok(c->user, sizeof(c->user), true));
	FUZZ_CHECK(c->port >= 1 && c->peer_port >= 1);
	FUZZ_CHECK(c->mtu >= 1396 && c->mtu <= 65535);
	FUZZ_CHECK(c->ref_bytes == 4 || c->ref_bytes == 8 || c->ref_bytes == 16);
	FUZZ_CHECK(c->capacity >= 16 && c->capacity <= 1u << 24);
	FUZZ_CHECK(c->wait_slots <= 4096);
	FUZZ_CHECK(c->icmp_rate <= 100000);
	FUZZ_CHECK(c->icmp_burst >= 1 && c->icmp_burst <= 100000);
	FUZZ_CHECK(c->ipv4 || c->ipv6);
	FUZZ_CHECK(c->seen < UINT64_C(1) << dpconf_settings.count);
}

/* Field by field: struct copies need not carry padding along. */
static bool same(const struct dpconf *a, const struct dpconf *b)
{
	return strcmp(a->gwctl_socket, b->gwctl_socket) == 0 && strcmp(a->tun, b->tun) == 0 &&
	       strcmp(a->user, b->user) == 0 && a->port == b->port &&
	       a->peer_port == b->peer_port && a->mtu == b->mtu && a->ref_bytes == b->ref_bytes &&
	       a->capacity == b->capacity && a->wait_slots == b->wait_slots &&
	       a->icmp_rate == b->icmp_rate && a->icmp_burst == b->icmp_burst &&
	       a->ipv4 == b->ipv4 && a->ipv6 == b->ipv6 && a->tun_offload == b->tun_offload &&
	       a->udp_gso == b->udp_gso && a->udp_gro == b->udp_gro && a->seen == b->seen;
}

/* One line: refused untouched with a reason and a column in it, or one key more (or none). */
static int parse_one(struct dpconf *cfg, const char *line, size_t len, struct ipr_err *err)
{
	struct dpconf before = *cfg;
	int rc = dpconf_parse_line(cfg, line, len, err);

	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL || rc == -ERANGE);
		FUZZ_CHECK(err->reason != NULL && err->reason[0] != '\0');
		FUZZ_CHECK(err->column >= 1 && err->column <= len + 1);
		FUZZ_CHECK(memcmp(cfg, &before, sizeof(before)) == 0);
		return rc;
	}
	FUZZ_CHECK(rc == 0);
	if (cfg->seen == before.seen)
		FUZZ_CHECK(same(cfg, &before)); /* a blank or comment line */
	else
		FUZZ_CHECK(__builtin_popcountll(cfg->seen) ==
				   __builtin_popcountll(before.seen) + 1 &&
			   (cfg->seen & before.seen) == before.seen);
	check_config(cfg);
	return 0;
}

/* The same bytes as a file, through the path the daemon reads: ipr_conf_read on a memfd. */
static void check_file(const uint8_t *data, size_t size, const struct dpconf *by_lines,
		       int first_rc, size_t first_line, const struct ipr_err *first_err)
{
	struct ipr_file_err binary;
	struct dpconf cfg, before;
	char path[64], msg[256], want[256];
	int rc;

	fuzz_as_file(data, size, path, sizeof(path));
	dpconf_defaults(&cfg);
	before = cfg;
	msg[0] = '\0';
	rc = dpconf_load(&cfg, path, msg, sizeof(msg));
	if (ipr_file_check_text((const char *)data, size, &binary) < 0) {
		/* binary content refuses the whole file before any line is parsed */
		FUZZ_CHECK(rc == -EILSEQ && memcmp(&cfg, &before, sizeof(cfg)) == 0);
		ipr_file_error_format(path, &binary, want, sizeof(want));
		FUZZ_CHECK(strcmp(msg, want) == 0);
		return;
	}
	FUZZ_CHECK(rc == first_rc);
	if (rc == 0) {
		FUZZ_CHECK(same(&cfg, by_lines));
		return;
	}
	FUZZ_CHECK(memcmp(&cfg, &before, sizeof(cfg)) == 0);
	snprintf(want, sizeof(want), "%s:%zu:%zu: %s", path, first_line, first_err->column,
		 first_err->reason);
	FUZZ_CHECK(msg[0] != '\0' && strcmp(msg, want) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ipr_err too_long = { "line too long", IPR_CONF_LINE_MAX + 1 };
	const char *text = (const char *)data;
	struct dpconf cfg;
	struct ipr_err first_err = { 0 }, whole = { 0 };
	size_t start = 0, line = 0, first_line = 0;
	int first_rc = 0;

	dpconf_defaults(&cfg);
	check_config(&cfg);
	/* the lines as ipr_conf_read cuts them: at '\n', which they lose, the last one unended */
	while (start < size) {
		const char *nl = memchr(text + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - text) - start : size - start;
		struct ipr_err err = { 0 };
		int rc = parse_one(&cfg, text + start, len, &err);

		line++;
		if (first_rc == 0 && len > IPR_CONF_LINE_MAX) {
			first_rc = -EINVAL;
			first_line = line;
			first_err = too_long;
		} else if (first_rc == 0 && rc < 0) {
			first_rc = rc;
			first_line = line;
			first_err = err;
		}
		start += len + 1;
	}
	check_file(data, size, &cfg, first_rc, first_line, &first_err);

	/* and as one line, in which newlines are control characters */
	dpconf_defaults(&cfg);
	(void)parse_one(&cfg, text, size, &whole);
	return 0;
}
