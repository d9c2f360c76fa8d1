/* Reading the dataplane's configuration file one line at a time, with exact error columns. */
#include "dpconf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"

struct key {
	const char *name;
	int (*set)(struct dpconf *cfg, const char *v, size_t n, struct ipr_err *err);
};

/* A bounded decimal (core's rule: no sign, no leading zero, never past max). */
static int number(const char *v, size_t n, uint32_t min, uint32_t max, uint32_t *out,
		  struct ipr_err *err)
{
	uint64_t value = 0;
	int rc = ipr_conf_uint(v, n, max, &value, err);

	if (rc < 0)
		return rc;
	if (value < min)
		return ipr_fail(err, ERANGE, 1, "number too small");
	*out = (uint32_t)value;
	return 0;
}

static int text(char *out, size_t cap, const char *v, size_t n, struct ipr_err *err)
{
	if (n == 0 || n >= cap)
		return ipr_fail(err, ERANGE, 1, n ? "too long" : "empty value");
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

static int set_gwctl_socket(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	if (n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return ipr_fail(err, ERANGE, 1, "too long for a socket path");
	return text(c->gwctl_socket, sizeof(c->gwctl_socket), v, n, err);
}

/* Refused rather than half-honoured: gwctld gives the ranges and addresses since 19. */
static int set_gwctl_config(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	(void)c;
	(void)v;
	(void)n;
	return ipr_fail(err, EINVAL, 1,
			"gwctl-config is gone: gwctld gives the ranges and gateway addresses; "
			"write `gwctl-socket = PATH` with gwctl.conf's `socket` instead");
}

static int set_tun(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == '/' || v[i] == ' ' || v[i] == ':')
			return ipr_fail(err, EINVAL, i + 1, "not allowed in an interface name");
	return text(c->tun, sizeof(c->tun), v, n, err);
}

static int set_user(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	return text(c->user, sizeof(c->user), v, n, err);
}

static int set_port(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	uint32_t value = 0;
	int rc = number(v, n, 1, 65535, &value, err);

	if (rc == 0)
		c->port = (uint16_t)value;
	return rc;
}

static int set_peer_port(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	uint32_t value = 0;
	int rc = number(v, n, 1, 65535, &value, err);

	if (rc == 0)
		c->peer_port = (uint16_t)value;
	return rc;
}

/* IPv6 needs 1280 on every link; the tunnel overhead must leave IPv6 hosts that much. */
static int set_mtu(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	return number(v, n, 1280 + 40 + 8 + 76, 65535, &c->mtu, err);
}

static int set_ref_bytes(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	uint32_t value = 0;
	int rc = number(v, n, 4, 16, &value, err);

	if (rc == 0 && value != 4 && value != 8 && value != 16)
		return ipr_fail(err, EINVAL, 1, "reference lengths are 4, 8 or 16 bytes");
	if (rc == 0)
		c->ref_bytes = value;
	return rc;
}

static int set_capacity(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	return number(v, n, 16, 1u << 24, &c->capacity, err);
}

static int set_wait_slots(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	return number(v, n, 0, 4096, &c->wait_slots, err);
}

/* Threads that forward, each with a TUN queue and a UDP socket of its own (docs/dataplane.md). */
static int set_workers(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	return number(v, n, 1, DPCONF_WORKERS, &c->workers, err);
}

static int set_icmp_rate(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	return number(v, n, 0, 100000, &c->icmp_rate, err);
}

static int set_icmp_burst(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	return number(v, n, 1, 100000, &c->icmp_burst, err);
}

static int set_internet(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	static const struct {
		const char *name;
		bool ipv4, ipv6;
	} choices[] = { { "ipv4", true, false }, { "ipv6", false, true }, { "both", true, true } };

	for (size_t i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
		if (strlen(choices[i].name) == n && memcmp(choices[i].name, v, n) == 0) {
			c->ipv4 = choices[i].ipv4;
			c->ipv6 = choices[i].ipv6;
			c->internet_given = true;
			return 0;
		}
	}
	return ipr_fail(err, EINVAL, 1, "expected ipv4, ipv6 or both");
}

/* Offloads are probed at start ("auto") unless turned off, for tests and odd kernels. */
static int auto_off(bool *out, const char *v, size_t n, struct ipr_err *err)
{
	if (n == 4 && memcmp(v, "auto", 4) == 0)
		*out = true;
	else if (n == 3 && memcmp(v, "off", 3) == 0)
		*out = false;
	else
		return ipr_fail(err, EINVAL, 1, "expected auto or off");
	return 0;
}

static int set_tun_offload(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	return auto_off(&c->tun_offload, v, n, err);
}

static int set_udp_gso(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	return auto_off(&c->udp_gso, v, n, err);
}

static int set_udp_gro(struct dpconf *c, const char *v, size_t n, struct ipr_err *err)
{
	return auto_off(&c->udp_gro, v, n, err);
}

static const struct key keys[] = {
	{ "gwctl-socket", set_gwctl_socket },
	{ "gwctl-config", set_gwctl_config },
	{ "tun", set_tun },
	{ "user", set_user },
	{ "port", set_port },
	{ "peer-port", set_peer_port },
	{ "mtu", set_mtu },
	{ "ref-bytes", set_ref_bytes },
	{ "capacity", set_capacity },
	{ "wait-slots", set_wait_slots },
	{ "internet", set_internet },
	{ "icmp-rate", set_icmp_rate },
	{ "icmp-burst", set_icmp_burst },
	{ "tun-offload", set_tun_offload },
	{ "udp-gso", set_udp_gso },
	{ "udp-gro", set_udp_gro },
	{ "workers", set_workers },
};

_Static_assert(sizeof(keys) / sizeof(keys[0]) <= 32, "struct dpconf.seen has a bit per key");

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
	struct dpconf next = *cfg;
	struct ipr_conf_line kv;
	int rc = ipr_conf_split(line, len, &kv, err);

	if (rc <= 0)
		return rc;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (strlen(keys[k].name) != kv.key_len ||
		    memcmp(keys[k].name, line + kv.key, kv.key_len) != 0)
			continue;
		if (next.seen & (1u << k))
			return ipr_fail(err, EINVAL, kv.key + 1, "key given twice");
		rc = keys[k].set(&next, line + kv.value, kv.value_len, err);
		if (rc < 0) {
			if (err)
				err->column = err->column ? err->column + kv.value : kv.value + 1;
			return rc;
		}
		next.seen |= 1u << k;
		*cfg = next;
		return 0;
	}
	return ipr_fail(err, EINVAL, kv.key + 1, "unknown key");
}

static int parse_into(void *ctx, const char *line, size_t len, struct ipr_err *err)
{
	return dpconf_parse_line(ctx, line, len, err);
}

int dpconf_load(struct dpconf *cfg, const char *path, char *msg, size_t msg_size)
{
	struct dpconf next = *cfg;
	int rc = ipr_conf_read(path, parse_into, &next, msg, msg_size);

	if (rc == 0)
		*cfg = next;
	return rc;
}
