/* The client side of the gwctl control socket, used by the CLI, the resolver and the dataplane. */
#ifndef IPR_CTL_CLIENT_H
#define IPR_CTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_msg.h"
#include "err.h"

struct ipr_ctl_client;

/*
 * Connects to the daemon's socket (non-blocking). -ENOENT or -ECONNREFUSED mean the daemon is
 * not running; -EACCES that this user may not use the socket.
 */
IPR_MUST_CHECK int ipr_ctl_client_connect(const char *path, struct ipr_ctl_client **out);
void ipr_ctl_client_free(struct ipr_ctl_client *client);
int ipr_ctl_client_fd(const struct ipr_ctl_client *client);

/* A fresh request id (never 0). */
uint32_t ipr_ctl_client_next_id(struct ipr_ctl_client *client);

/* Sends one message without waiting; -EAGAIN when the socket is full, -EPIPE when closed. */
IPR_MUST_CHECK int ipr_ctl_client_send(struct ipr_ctl_client *client, const uint8_t *msg,
				       size_t len);

/*
 * Receives one message, waiting at most timeout_ms (0: only what is already there; negative:
 * forever). Returns its length, -ETIMEDOUT, -ECONNRESET when the daemon closed the connection,
 * or -EMSGSIZE for a message longer than cap (it is discarded).
 */
IPR_MUST_CHECK int ipr_ctl_client_recv(struct ipr_ctl_client *client, uint8_t *buf, size_t cap,
				       int timeout_ms);

/* A decoded reply: header, attribute run and its validated fields. */
struct ipr_ctl_reply {
	struct ipr_ctl_header hdr;
	const uint8_t *attrs;
	size_t attrs_len;
	struct ipr_ctl_fields fields;
};

/*
 * Sends a request and waits for the reply carrying its id, skipping replies to earlier
 * requests that gave up waiting; the whole call never takes longer than timeout_ms. The reply
 * points into buf. Returns 0 (check reply->hdr.status), or -ETIMEDOUT, -ECONNRESET, -EBADMSG.
 */
IPR_MUST_CHECK int ipr_ctl_client_call(struct ipr_ctl_client *client, const uint8_t *request,
				       size_t request_len, uint8_t *buf, size_t cap, int timeout_ms,
				       struct ipr_ctl_reply *reply);

/* Decodes a received message into reply (used by call and by subscribers reading events). */
IPR_MUST_CHECK int ipr_ctl_reply_decode(const uint8_t *msg, size_t len,
					struct ipr_ctl_reply *reply);

#endif
