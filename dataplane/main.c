/* ipref-dataplane: arguments, configuration, devices and sockets, privileges, the event loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "dp.h"
#include "dpctl.h"
#include "forward.h"
#include "layout.h"
#include "log.h"
#include "offload.h"
#include "pump.h"
#include "sdaemon.h"
#include "tun.h"
#include "udp.h"
#include "workers.h"

#define DEFAULT_CONFIG "/etc/ipref/dataplane.conf"
#define TICK_MS	       100

enum { TAG_TUN = 1, TAG_UDP4, TAG_UDP6, TAG_CTL, TAG_TIMER, TAG_SIGNAL, TAG_WORKERS };

static int load_config(struct dp *dp, const char *path)
{
	char msg[1024];

	dpconf_defaults(&dp->cfg);
	if ((access(path, F_OK) == 0 || strcmp(path, DEFAULT_CONFIG) != 0) &&
	    dpconf_load(&dp->cfg, path, msg, sizeof(msg)) < 0) {
		log_error("%s", msg);
		return -EINVAL;
	}
	return 0;
}

static unsigned tun_ifindex;

/* The TUN MTU for the layout held: from the tunnel's overhead, and set on the device. */
static int set_tun_mtu(struct dp *dp)
{
	static const char *const why[] = {
		[DPCONF_MTU_INTERNET_KEY] = "as `internet` says",
		[DPCONF_MTU_GATEWAYS] = "as gwctld's gateway addresses say",
		[DPCONF_MTU_NO_GATEWAY] = "no gateway address known, so either family",
	};
	uint32_t mtu;
	int rc;

	dp->tun_mtu_outer_ipv6 = dpconf_outer_ipv6(&dp->cfg, dp->own4.ver == 4, dp->own6.ver == 6,
						   &dp->tun_mtu_basis);
	mtu = tun_mtu_for(dp->cfg.mtu, dp->tun_mtu_outer_ipv6, dp->cfg.ref_bytes);
	if (mtu == dp->tun_mtu)
		return 0;
	rc = tun_link_up(tun_ifindex, mtu);
	if (rc < 0)
		return rc;
	dp->tun_mtu = mtu;
	log_info("%s up, MTU %u (path %u less an %s header, %s, UDP and IPREF with "
		 "%u-byte references)",
		 dp->cfg.tun, mtu, dp->cfg.mtu, dp->tun_mtu_outer_ipv6 ? "IPv6" : "IPv4",
		 why[dp->tun_mtu_basis], dp->cfg.ref_bytes);
	return 0;
}

static bool same_range(const struct dp_layout *a, const struct dp_layout *b, int i)
{
	return a->has_range[i] == b->has_range[i] &&
	       (!a->has_range[i] || (a->range[i].len == b->range[i].len &&
				     memcmp(a->range[i].addr, b->range[i].addr, 16) == 0));
}

/*
 * A layout from gwctld, at start or after a reload changed it: the TUN MTU for its gateway
 * addresses, a route for each encoded range, and none for a range it no longer has. Mappings
 * in a range taken away stay in the tables until gwctld removes them; nothing routes to them.
 */
static int apply_layout(struct dp *dp, const struct dp_layout *old)
{
	int rc = set_tun_mtu(dp);

	for (int i = 0; rc == 0 && i < 2; i++) {
		const struct ipr_prefix *was = &old->range[i], *now = &dp->layout.range[i];
		if (same_range(old, &dp->layout, i))
			continue;
		if (old->has_range[i])
			rc = tun_route_del(tun_ifindex, was->family, was->addr, was->len);
		if (rc == 0 && dp->layout.has_range[i])
			rc = tun_route(tun_ifindex, now->family, now->addr, now->len);
		if (rc == 0 && dp->layout.has_range[i]) {
			char text[INET6_ADDRSTRLEN];
			inet_ntop(now->family, now->addr, text, sizeof(text));
			log_info("%s: route for encoded range %s/%u", dp->cfg.tun, text, now->len);
		}
	}
	return rc;
}

/*
 * The TUN device: up, its MTU and routes set when gwctld's layout comes (apply_layout). With
 * workers, each opens a queue of it, with its sockets and buffers; this thread forwards nothing.
 */
static int open_tun(struct dp *dp)
{
	int rc;

	if (dp->cfg.workers > 1) {
		rc = workers_new(dp, &tun_ifindex, &dp->workers);
		if (rc < 0)
			return rc;
	} else {
		dp->io.tun_fd =
			offload_tun_open(&dp->io, dp->cfg.tun, dp->cfg.tun_offload, &tun_ifindex);
	}
	if (!dp->workers && dp->io.tun_fd < 0) {
		log_error("TUN device %s: %s", dp->cfg.tun, strerror(-dp->io.tun_fd));
		return dp->io.tun_fd;
	}
	rc = set_tun_mtu(dp);
	if (rc < 0)
		log_error("configuring %s: %s", dp->cfg.tun, strerror(-rc));
	dp->layout_apply = apply_layout;
	return rc;
}

/*
 * Started as root with a `user`: that user, keeping CAP_NET_ADMIN alone, so that routes and the
 * TUN MTU can follow a new layout from gwctld (under systemd it is an ambient capability).
 */
static int become_user(const char *user)
{
	struct __user_cap_header_struct head = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	bool was_root = geteuid() == 0 && user[0];
	int rc;

	if (was_root && prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0)
		return -errno;
	rc = ipr_become_user(user);
	if (rc < 0 || !was_root)
		return rc;
	data[0].effective = data[0].permitted = 1u << CAP_NET_ADMIN;
	if (syscall(SYS_capset, &head, data) < 0) {
		/* root's other capabilities are still permitted: refuse to go on with them */
		rc = -errno;
		log_error("cannot narrow the capabilities to CAP_NET_ADMIN: %s", strerror(-rc));
		return rc;
	}
	(void)prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
	return 0;
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
			case TAG_WORKERS:
				workers_drain(dp);
				break;
			case TAG_TIMER: {
				uint64_t ticks;
				if (read(timer, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					return -errno;
				dpctl_tick(dp, ipr_clock_ms());
				if (dp->workers)
					break; /* the workers have their own timers */
				forward_tick(dp, ipr_clock_ms());
				pump_retry(dp, ipr_clock_ms());
				break;
			}
			case TAG_SIGNAL: {
				struct signalfd_siginfo si;
				if (read(sig, &si, sizeof(si)) != (ssize_t)sizeof(si))
					break;
				if (si.ssi_signo == SIGHUP) {
					/* the layout is gwctld's: asked again, in case */
					dpctl_refresh_layout(dp);
					break;
				}
				log_info("stopping on signal %u", si.ssi_signo);
				return 0;
			}
			}
		}
		if (dp->workers)
			workers_kick(dp->workers); /* they retry waiting packets as they apply */
		else if (added)
			pump_retry(dp, ipr_clock_ms());
		/* ready once it holds gwctld's mappings: before that, every packet would wait */
		if (!ready && dpctl_synced(dp)) {
			ready = true;
			ipr_sd_ready("holding gwctld's layout and mappings");
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
	dp.slot_size = dp.cfg.mtu + 128;

	rc = maptab_new(dp.cfg.capacity, &dp.tab);
	if (rc == 0)
		rc = open_tun(&dp);
	if (rc == 0 && !dp.workers)
		rc = open_udp(&dp);
	if (rc == 0 && !dp.workers) {
		offload_udp_setup(&dp.io, dp.cfg.udp_gso, dp.cfg.udp_gro);
		rc = dpio_init(&dp.io, dp.slot_size, dp.counters, dp.drops);
	}
	if (rc == 0 && !dp.workers) {
		pump_attach(&dp);
		rc = forward_init(&dp);
	}
	if (rc == 0)
		rc = open_loop(&ep, &timer, &sig);
	if (rc == 0)
		rc = dpctl_new(&dp, ep, TAG_CTL, &dp.ctl);
	if (rc == 0)
		rc = become_user(dp.cfg.user);
	/* after the privileges went (the threads share them) and with the signals blocked */
	if (rc == 0 && dp.workers && (rc = workers_start(dp.workers)) == 0)
		rc = add_fd(ep, workers_wake_fd(dp.workers), TAG_WORKERS);
	if (rc == 0 &&
	    ((rc = add_fd(ep, dp.io.tun_fd, TAG_TUN)) < 0 ||
	     (rc = add_fd(ep, dp.io.udp4_fd, TAG_UDP4)) < 0 ||
	     (rc = add_fd(ep, dp.io.udp6_fd, TAG_UDP6)) < 0 ||
	     (rc = add_fd(ep, timer, TAG_TIMER)) < 0 || (rc = add_fd(ep, sig, TAG_SIGNAL)) < 0))
		log_error("epoll: %s", strerror(-rc));
	if (rc == 0) {
		log_info("started: port %u, gwctld at %s", dp.cfg.port, dp.cfg.gwctl_socket);
		rc = run(&dp, ep, timer, sig);
	} else if (rc == -ENOMEM) {
		log_error("out of memory");
	}
	workers_free(dp.workers); /* stopped before the link they ask through goes */
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
