/* Connecting to gwctl, sending requests and matching replies by id, with bounded waits. */
#include "ctl_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct ipr_ctl_client {
	int fd;
	uint32_t next_id;
};

int ipr_ctl_client_connect(const char *path, struct ipr_ctl_client **out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ipr_ctl_client *client;
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A local connect completes at once or fails; non-blocking only affects later I/O. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		close(fd);
		return rc;
	}
	client = calloc(1, sizeof(*client));
	if (!client) {
		close(fd);
		return -ENOMEM;
	}
	client->fd = fd;
	/* Ids start somewhere different for each connection, which makes logs easier to follow. */
	client->next_id = (uint32_t)getpid() << 16;
	*out = client;
	return 0;
}

void ipr_ctl_client_free(struct ipr_ctl_client *client)
{
	if (!client)
		return;
	close(client->fd);
	free(client);
}

int ipr_ctl_client_fd(const struct ipr_ctl_client *client)
{
	return client->fd;
}

uint32_t ipr_ctl_client_next_id(struct ipr_ctl_client *client)
{
	if (++client->next_id == 0)
		client->next_id = 1;
	return client->next_id;
}

int ipr_ctl_client_send(struct ipr_ctl_client *client, const uint8_t *msg, size_t len)
{
	ssize_t n = send(client->fd, msg, len, MSG_NOSIGNAL);

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ipr_ctl_client_recv(struct ipr_ctl_client *client, uint8_t *buf, size_t cap, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;

	for (;;) {
		ssize_t n = recv(client->fd, buf, cap, MSG_TRUNC);
		if (n > 0)
			return (size_t)n > cap ? -EMSGSIZE : (int)n;
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return errno == EPIPE ? -ECONNRESET : -errno;

		int wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return -ETIMEDOUT;
			wait = (int)left;
		}
		struct pollfd pfd = { .fd = client->fd, .events = POLLIN };
		if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
			return -errno;
	}
}

int ipr_ctl_reply_decode(const uint8_t *msg, size_t len, struct ipr_ctl_reply *reply)
{
	int rc = ipr_ctl_decode(msg, len, &reply->hdr, &reply->attrs, &reply->attrs_len);

	if (rc < 0)
		return -EBADMSG;
	return ipr_ctl_fields_parse(reply->attrs, reply->attrs_len, &reply->fields, NULL);
}

int ipr_ctl_client_call(struct ipr_ctl_client *client, const uint8_t *request, size_t request_len,
			uint8_t *buf, size_t cap, int timeout_ms, struct ipr_ctl_reply *reply)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct ipr_ctl_header hdr;
	const uint8_t *attrs;
	size_t attrs_len;
	int rc;

	if (request_len < IPR_CTL_HEADER_LEN)
		return -EINVAL;
	rc = ipr_ctl_decode(request, request_len, &hdr, &attrs, &attrs_len);
	if (rc < 0)
		return -EINVAL;
	rc = ipr_ctl_client_send(client, request, request_len);
	if (rc < 0)
		return rc == -EPIPE ? -ECONNRESET : rc;

	for (;;) {
		int64_t left = deadline - now_ms();
		rc = ipr_ctl_client_recv(client, buf, cap, left > 0 ? (int)left : 0);
		if (rc == -EMSGSIZE)
			continue; /* not something we could use; keep waiting for ours */
		if (rc < 0)
			return rc;
		if (ipr_ctl_reply_decode(buf, (size_t)rc, reply) < 0)
			return -EBADMSG;
		if (reply->hdr.id == hdr.id && (reply->hdr.kind & IPR_CTL_REPLY))
			return 0;
	}
}
