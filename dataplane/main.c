/* ipref-dataplane: arguments, configuration, devices and sockets, privileges, the event loop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "dp.h"
#include "dpctl.h"
#include "forward.h"
#include "log.h"
#include "offload.h"
#include "pump.h"
#include "sdaemon.h"
#include "tun.h"
#include "udp.h"

#define DEFAULT_CONFIG "/etc/ipref/dataplane.conf"
#define TICK_MS	       100

enum { TAG_TUN = 1, TAG_UDP4, TAG_UDP6, TAG_CTL, TAG_TIMER, TAG_SIGNAL };

/* Our public address of each family: the first gateway address of that family in gwctl.conf. */
static void own_addresses(struct dp *dp)
{
	for (size_t i = dp->gw.gateway_count; i-- > 0;) {
		const struct config_ip *g = &dp->gw.gateways[i];
		struct dp_wire_addr *a = g->family == AF_INET ? &dp->own4 : &dp->own6;
		a->ver = g->family == AF_INET ? 4 : 6;
		memcpy(a->bytes, g->addr, 16);
	}
}

static int load_config(struct dp *dp, const char *path)
{
	char msg[1024];

	dpconf_defaults(&dp->cfg);
	if ((access(path, F_OK) == 0 || strcmp(path, DEFAULT_CONFIG) != 0) &&
	    dpconf_load(&dp->cfg, path, msg, sizeof(msg)) < 0) {
		log_error("%s", msg);
		return -EINVAL;
	}
	config_defaults(&dp->gw);
	if (config_load(&dp->gw, dp->cfg.gwctl_config, msg, sizeof(msg)) < 0 ||
	    config_check(&dp->gw, msg, sizeof(msg)) < 0) {
		log_error("gwctl-config: %s", msg);
		return -EINVAL;
	}
	own_addresses(dp);
	return 0;
}

/* The TUN device: MTU from the tunnel's overhead, up, and a route for each encoded range. */
static int open_tun(struct dp *dp)
{
	const struct config_prefix *ranges[] = { &dp->gw.encoded_ipv4, &dp->gw.encoded_ipv6 };
	static const char *const why[] = {
		[DPCONF_MTU_INTERNET_KEY] = "as `internet` says",
		[DPCONF_MTU_GATEWAYS] = "as gwctl.conf's gateway addresses say",
		[DPCONF_MTU_NO_GATEWAY] = "no gateway address, so either family",
	};
	uint32_t mtu;
	unsigned ifindex;
	int rc;

	dp->tun_mtu_outer_ipv6 = dpconf_outer_ipv6(&dp->cfg, dp->own4.ver == 4, dp->own6.ver == 6,
						   &dp->tun_mtu_basis);
	mtu = dp->tun_mtu = tun_mtu_for(dp->cfg.mtu, dp->tun_mtu_outer_ipv6, dp->cfg.ref_bytes);

	dp->io.tun_fd = offload_tun_open(&dp->io, dp->cfg.tun, dp->cfg.tun_offload, &ifindex);
	if (dp->io.tun_fd < 0) {
		log_error("TUN device %s: %s", dp->cfg.tun, strerror(-dp->io.tun_fd));
		return dp->io.tun_fd;
	}
	rc = tun_link_up(ifindex, mtu);
	for (size_t i = 0; rc == 0 && i < 2; i++)
		if (ranges[i]->enabled)
			rc = tun_route(ifindex, ranges[i]->family, ranges[i]->addr,
				       ranges[i]->length);
	if (rc < 0)
		log_error("configuring %s: %s", dp->cfg.tun, strerror(-rc));
	else
		log_info("%s up, MTU %u (path %u less an %s header, %s, UDP and IPREF with "
			 "%u-byte references), routes for the encoded ranges",
			 dp->cfg.tun, mtu, dp->cfg.mtu, dp->tun_mtu_outer_ipv6 ? "IPv6" : "IPv4",
			 why[dp->tun_mtu_basis], dp->cfg.ref_bytes);
	return rc;
}

static int open_udp(struct dp *dp)
{
	dp->io.udp4_fd = dp->io.udp6_fd = -1;
	if (dp->cfg.ipv4) {
		dp->io.udp4_fd = udp_open(AF_INET, dp->cfg.port);
		if (dp->io.udp4_fd >= 0 && udp_want_errors(dp->io.udp4_fd, AF_INET) < 0)
			log_warn("IPv4 socket: no error queue, so no path MTU from routers");
		if (dp->io.udp4_fd < 0) {
			log_error("UDP port %u (IPv4): %s", dp->cfg.port,
				  strerror(-dp->io.udp4_fd));
			return dp->io.udp4_fd;
		}
	}
	if (dp->cfg.ipv6) {
		dp->io.udp6_fd = udp_open(AF_INET6, dp->cfg.port);
		if (dp->io.udp6_fd >= 0 && udp_want_errors(dp->io.udp6_fd, AF_INET6) < 0)
			log_warn("IPv6 socket: no error queue, so no path MTU from routers");
		if (dp->io.udp6_fd < 0) {
			log_error("UDP port %u (IPv6): %s", dp->cfg.port,
				  strerror(-dp->io.udp6_fd));
			return dp->io.udp6_fd;
		}
	}
	return 0;
}

static int add_fd(int ep, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	if (fd < 0)
		return 0;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int open_loop(int *ep, int *timer, int *sig)
{
	struct itimerspec its = { .it_interval = { 0, TICK_MS * 1000000L },
				  .it_value = { 0, 1000000L } };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	*ep = epoll_create1(EPOLL_CLOEXEC);
	*sig = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	*timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (*ep < 0 || *sig < 0 || *timer < 0 || timerfd_settime(*timer, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

static int run(struct dp *dp, int ep, int timer, int sig)
{
	struct epoll_event events[8];
	bool ready = false;

	for (;;) {
		int n = epoll_wait(ep, events, 8, -1);
		bool added = false;

		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			/* the error queue first: it holds what the kernel learnt about peers */
			if (events[i].events & EPOLLERR) {
				if (events[i].data.u64 == TAG_UDP4)
					pump_udp_errors(dp, dp->io.udp4_fd);
				else if (events[i].data.u64 == TAG_UDP6)
					pump_udp_errors(dp, dp->io.udp6_fd);
			}
			switch (events[i].data.u64) {
			case TAG_TUN:
				pump_tun(dp);
				break;
			case TAG_UDP4:
				pump_udp(dp, dp->io.udp4_fd);
				break;
			case TAG_UDP6:
				pump_udp(dp, dp->io.udp6_fd);
				break;
			case TAG_CTL:
				added |= dpctl_on_readable(dp);
				break;
			case TAG_TIMER: {
				uint64_t ticks;
				if (read(timer, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					return -errno;
				dpctl_tick(dp, ipr_clock_ms());
				forward_tick(dp, ipr_clock_ms());
				pump_retry(dp, ipr_clock_ms());
				break;
			}
			case TAG_SIGNAL: {
				struct signalfd_siginfo si;
				if (read(sig, &si, sizeof(si)) == (ssize_t)sizeof(si) &&
				    si.ssi_signo != SIGHUP) {
					log_info("stopping on signal %u", si.ssi_signo);
					return 0;
				}
				break;
			}
			}
		}
		if (added)
			pump_retry(dp, ipr_clock_ms());
		/* ready once it holds gwctld's mappings: before that, every packet would wait */
		if (!ready && dpctl_synced(dp->ctl)) {
			ready = true;
			ipr_sd_ready("holding gwctld's mappings");
		}
	}
}

int main(int argc, char **argv)
{
	struct ipr_daemon_args args;
	static struct dp dp; /* large: kept off the stack */
	int rc, ep = -1, timer = -1, sig = -1;

	rc = ipr_daemon_args_parse(argc, argv, "ipref-dataplane", DEFAULT_CONFIG, &args);
	if (rc >= 0)
		return rc;
	/* from the start, so that configuration errors reach the journal as errors too */
	ipr_log_open("ipref-dataplane", args.use_syslog, IPR_LOG_INFO);
	dp.io.tun_fd = dp.io.udp4_fd = dp.io.udp6_fd = -1;
	if (load_config(&dp, args.config) < 0)
		return 1;
	if (args.check_only) {
		printf("%s: configuration is valid\n", args.config);
		return 0;
	}
	ipr_log_set_level((enum ipr_log_level)dp.gw.log_level);
	dp.slot_size = dp.cfg.mtu + 128;

	rc = maptab_new(dp.cfg.capacity, &dp.tab);
	if (rc == 0)
		rc = open_tun(&dp);
	if (rc == 0)
		rc = open_udp(&dp);
	if (rc == 0) {
		offload_udp_setup(&dp.io, dp.cfg.udp_gso, dp.cfg.udp_gro);
		rc = dpio_init(&dp.io, dp.slot_size, dp.counters, dp.drops);
	}
	if (rc == 0) {
		pump_attach(&dp);
		rc = forward_init(&dp);
	}
	if (rc == 0)
		rc = open_loop(&ep, &timer, &sig);
	if (rc == 0)
		rc = dpctl_new(&dp, ep, TAG_CTL, &dp.ctl);
	if (rc == 0)
		rc = ipr_become_user(dp.cfg.user[0] ? dp.cfg.user : dp.gw.user);
	if (rc == 0 &&
	    ((rc = add_fd(ep, dp.io.tun_fd, TAG_TUN)) < 0 ||
	     (rc = add_fd(ep, dp.io.udp4_fd, TAG_UDP4)) < 0 ||
	     (rc = add_fd(ep, dp.io.udp6_fd, TAG_UDP6)) < 0 ||
	     (rc = add_fd(ep, timer, TAG_TIMER)) < 0 || (rc = add_fd(ep, sig, TAG_SIGNAL)) < 0))
		log_error("epoll: %s", strerror(-rc));
	if (rc == 0) {
		log_info("started: port %u, gwctld at %s", dp.cfg.port, dp.gw.socket);
		rc = run(&dp, ep, timer, sig);
	} else if (rc == -ENOMEM) {
		log_error("out of memory");
	}
	dpctl_free(dp.ctl);
	forward_deinit(&dp);
	dpio_deinit(&dp.io);
	maptab_free(dp.tab);
	{
		int fds[] = { dp.io.tun_fd, dp.io.udp4_fd, dp.io.udp6_fd, ep, timer, sig };
		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	return rc < 0 ? 1 : 0;
}
