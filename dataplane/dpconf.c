/* Reading the dataplane's configuration file one line at a time, with exact error columns. */
#include "dpconf.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "conf_table.h"

/* Interface names: what `ip link` would refuse is refused here, with its column. */
static int parse_tun(void *out, const char *v, size_t n, const void *target, struct ipr_err *err)
{
	(void)target;
	for (size_t i = 0; i < n; i++)
		if (v[i] == '/' || v[i] == ' ' || v[i] == ':')
			return ipr_fail(err, EINVAL, i + 1, "not allowed in an interface name");
	if (n > DPCONF_IFNAME_MAX)
		return ipr_fail(err, ERANGE, 1, "too long");
	memcpy(out, v, n);
	return 0;
}

static int parse_ref_bytes(void *out, const char *v, size_t n, const void *target,
			   struct ipr_err *err)
{
	uint64_t value = 0;
	int rc = ipr_setting_uint(v, n, 4, 16, NULL, &value, err);

	(void)target;
	if (rc == 0 && value != 4 && value != 8 && value != 16)
		return ipr_fail(err, EINVAL, 1, "reference lengths are 4, 8 or 16 bytes");
	if (rc == 0)
		memcpy(out, &(uint32_t){ (uint32_t)value }, sizeof(uint32_t));
	return rc;
}

/* `internet` sets the families and that it was given at once: dpconf.h keeps them together. */
struct internet {
	bool ipv4, ipv6, given;
};

_Static_assert(offsetof(struct dpconf, ipv6) == offsetof(struct dpconf, ipv4) + 1 &&
		       offsetof(struct dpconf, internet_given) ==
			       offsetof(struct dpconf, ipv4) + offsetof(struct internet, given),
	       "struct dpconf's ipv4, ipv6 and internet_given lie as struct internet's fields");

static int parse_internet(void *out, const char *v, size_t n, const void *target,
			  struct ipr_err *err)
{
	static const char *const names[] = { "ipv4", "ipv6", "both" };
	static const struct internet choices[] = { { true, false, true },
						   { false, true, true },
						   { true, true, true } };

	(void)target;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) == n && memcmp(names[i], v, n) == 0) {
			memcpy(out, &choices[i], sizeof(choices[i]));
			return 0;
		}
	}
	return ipr_fail(err, EINVAL, 1, "expected ipv4, ipv6 or both");
}

/* Offloads are probed at start ("auto") unless turned off, for tests and odd kernels. */
static const char *const auto_off[] = { "off", "auto", NULL };

#define FIELD(f)	  IPR_SETTING_FIELD(struct dpconf, f)
#define NUMBER(f, lo, hi) IPR_SETTING_UINT, FIELD(f), .min = (lo), .max = (hi)
#define SWITCH(f)	  IPR_SETTING_ENUM, FIELD(f), .words = auto_off, .reason = "expected auto or off"

/* A new key is one row here and its default in dpconf_defaults. */
static const struct ipr_setting rows[] = {
	{ "gwctl-socket", IPR_SETTING_PATH, FIELD(gwctl_socket),
	  .reason = "socket path does not fit in sockaddr_un.sun_path" },
	/* refused rather than half-honoured: gwctld gives the ranges and addresses since 19 */
	{ "gwctl-config", IPR_SETTING_REFUSED,
	  .reason = "gwctl-config is gone: gwctld gives the ranges and gateway addresses; "
		    "write `gwctl-socket = PATH` with gwctl.conf's `socket` instead" },
	{ "tun", IPR_SETTING_CUSTOM, FIELD(tun), .parse = parse_tun },
	{ "user", IPR_SETTING_NAME, IPR_SETTING_EMPTY_OK, FIELD(user),
	  .reason = "name longer than 32 characters" },
	{ "port", NUMBER(port, 1, 65535) },
	{ "peer-port", NUMBER(peer_port, 1, 65535) },
	/* IPv6 needs 1280 on every link; the tunnel overhead must leave IPv6 hosts that much */
	{ "mtu", NUMBER(mtu, 1280 + 40 + 8 + 76, 65535) },
	{ "ref-bytes", IPR_SETTING_CUSTOM, FIELD(ref_bytes), .parse = parse_ref_bytes },
	{ "capacity", NUMBER(capacity, 16, 1u << 24) },
	{ "wait-slots", NUMBER(wait_slots, 0, 4096) },
	/* threads that forward, each with a TUN queue and a UDP socket (docs/dataplane.md) */
	{ "workers", NUMBER(workers, 1, DPCONF_WORKERS) },
	{ "internet", IPR_SETTING_CUSTOM, .offset = offsetof(struct dpconf, ipv4),
	  .size = sizeof(struct internet), .parse = parse_internet },
	{ "icmp-rate", NUMBER(icmp_rate, 0, 100000) },
	{ "icmp-burst", NUMBER(icmp_burst, 1, 100000) },
	{ "tun-offload", SWITCH(tun_offload) },
	{ "udp-gso", SWITCH(udp_gso) },
	{ "udp-gro", SWITCH(udp_gro) },
};

const struct ipr_settings dpconf_settings = {
	.rows = rows,
	.count = sizeof(rows) / sizeof(rows[0]),
	.seen_offset = offsetof(struct dpconf, seen),
};

void dpconf_defaults(struct dpconf *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->gwctl_socket, sizeof(cfg->gwctl_socket), "/run/ipref/gwctl.sock");
	snprintf(cfg->tun, sizeof(cfg->tun), "ipref0");
	cfg->port = cfg->peer_port = 1045;
	cfg->mtu = 1500;
	cfg->ref_bytes = 16;
	cfg->capacity = 65536;
	cfg->wait_slots = 64;
	cfg->workers = 1;
	cfg->icmp_rate = 100;
	cfg->icmp_burst = 50;
	cfg->ipv4 = cfg->ipv6 = true;
	cfg->tun_offload = cfg->udp_gso = cfg->udp_gro = true;
}

bool dpconf_outer_ipv6(const struct dpconf *cfg, bool gateway_ipv4, bool gateway_ipv6,
		       enum dpconf_mtu_basis *basis)
{
	if (cfg->internet_given) {
		*basis = DPCONF_MTU_INTERNET_KEY;
		return cfg->ipv6;
	}
	if (gateway_ipv4 || gateway_ipv6) {
		*basis = DPCONF_MTU_GATEWAYS;
		return gateway_ipv6;
	}
	*basis = DPCONF_MTU_NO_GATEWAY;
	return true;
}

int dpconf_parse_line(struct dpconf *cfg, const char *line, size_t len, struct ipr_err *err)
{
	return ipr_settings_parse_line(&dpconf_settings, cfg, line, len, err);
}

int dpconf_load(struct dpconf *cfg, const char *path, char *msg, size_t msg_size)
{
	struct dpconf next = *cfg;
	int rc = ipr_settings_read(&dpconf_settings, &next, path, msg, msg_size);

	if (rc == 0)
		*cfg = next;
	return rc;
}
