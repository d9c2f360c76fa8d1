/* bench/resolver.py's distant server: a UDP relay on loopback that holds each query DELAY_MS. */
/*
 * tests/common/udp_delay.py does the same in a Python thread, which spends tens of
 * microseconds of CPU on every packet: at hundreds of queries in flight that CPU, on the
 * cores the resolvers share, bounds the rate, and it counts twice against the module, whose
 * questions each send two queries. This relay costs a few system calls per query.
 *
 * Each query gets a socket of its own towards the server, so its answer comes back on that
 * socket and needs no matching: the asker is remembered with the socket.
 * usage: udp_delay UPSTREAM_PORT DELAY_MS; prints the port it listens on (127.0.0.1) and runs
 * until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PACKET_MAX 4096
#define EXPIRE_MS  5000 /* a query the server never answered is dropped after this */

struct query {
	struct query *next; /* FIFO of queries not sent yet, and of those sent */
	int fd;		    /* towards the server */
	int64_t due_ms;	    /* when it goes out; then when it is given up */
	struct sockaddr_in asker;
	size_t len;
	uint8_t packet[];
};

struct fifo {
	struct query *head, *tail;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void push(struct fifo *f, struct query *q)
{
	q->next = NULL;
	if (f->tail)
		f->tail->next = q;
	else
		f->head = q;
	f->tail = q;
}

static struct query *pop(struct fifo *f)
{
	struct query *q = f->head;

	if (q) {
		f->head = q->next;
		if (!f->head)
			f->tail = NULL;
	}
	return q;
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	return fd;
}

/* A query from an asker: held, with a socket of its own, until it is due. */
static void take_query(int front, struct fifo *held, int64_t delay_ms)
{
	for (;;) {
		uint8_t buf[PACKET_MAX];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(front, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		struct query *q;

		if (n < 0)
			return; /* EAGAIN: all read */
		q = malloc(sizeof(*q) + (size_t)n);
		if (!q)
			return;
		q->fd = -1;
		q->asker = from;
		q->len = (size_t)n;
		memcpy(q->packet, buf, (size_t)n);
		q->due_ms = now_ms() + delay_ms;
		push(held, q);
	}
}

/* Due queries go to the server; their sockets wait for the answers. */
static void send_due(int ep, const struct sockaddr_in *upstream, struct fifo *held,
		     struct fifo *sent)
{
	int64_t now = now_ms();

	while (held->head && held->head->due_ms <= now) {
		struct query *q = pop(held);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = q };

		q->fd = udp_socket();
		if (q->fd < 0 ||
		    connect(q->fd, (const struct sockaddr *)upstream, sizeof(*upstream)) < 0 ||
		    send(q->fd, q->packet, q->len, 0) < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, q->fd, &ev)) {
			if (q->fd >= 0)
				close(q->fd);
			free(q);
			continue;
		}
		q->due_ms = now + EXPIRE_MS;
		push(sent, q);
	}
}

/* The answer goes back to the asker; the socket is closed once the sent list reaches it. */
static void take_answer(int front, struct query *q)
{
	uint8_t buf[PACKET_MAX];
	ssize_t n = recv(q->fd, buf, sizeof(buf), 0);

	if (n > 0)
		(void)sendto(front, buf, (size_t)n, 0, (const struct sockaddr *)&q->asker,
			     sizeof(q->asker));
	close(q->fd);
	q->fd = -1; /* done: freed when it reaches the head of sent */
}

static void reap(struct fifo *sent)
{
	int64_t now = now_ms();

	while (sent->head && (sent->head->fd < 0 || sent->head->due_ms <= now)) {
		struct query *q = pop(sent);

		if (q->fd >= 0)
			close(q->fd); /* never answered: the epoll set forgets it with the socket */
		free(q);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct sockaddr_in upstream = { .sin_family = AF_INET };
	struct fifo held = { 0 }, sent = { 0 };
	struct rlimit rl = { 65536, 65536 };
	socklen_t len = sizeof(addr);
	int front, ep;
	int64_t delay_ms;

	if (argc != 3) {
		fprintf(stderr, "usage: udp_delay UPSTREAM_PORT DELAY_MS\n");
		return 2;
	}
	upstream.sin_port = htons((uint16_t)atoi(argv[1]));
	upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	delay_ms = atoll(argv[2]);
	(void)setrlimit(RLIMIT_NOFILE, &rl); /* a socket per query in flight */
	front = udp_socket();
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (front < 0 || ep < 0 || bind(front, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockname(front, (struct sockaddr *)&addr, &len) < 0) {
		perror("udp_delay");
		return 1;
	}
	struct epoll_event fev = { .events = EPOLLIN, .data.ptr = NULL };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, front, &fev) < 0) {
		perror("udp_delay");
		return 1;
	}
	printf("%u\n", ntohs(addr.sin_port));
	fflush(stdout);
	for (;;) {
		struct epoll_event evs[256];
		int wait = 50;
		int n;

		if (held.head) {
			int64_t left = held.head->due_ms - now_ms();

			wait = left < 0 ? 0 : (int)(left < 50 ? left : 50);
		}
		n = epoll_wait(ep, evs, 256, wait);
		if (n < 0 && errno != EINTR) {
			perror("udp_delay");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr)
				take_query(front, &held, delay_ms);
			else
				take_answer(front, evs[i].data.ptr);
		}
		send_due(ep, &upstream, &held, &sent);
		reap(&sent);
	}
}
