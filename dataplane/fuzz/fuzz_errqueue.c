/* Fuzzes the error-queue reader: any control buffer gives one answer per error message, in bounds.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h> /* before linux/errqueue.h, which needs struct timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>

#include "errqueue.h"
#include "fuzz.h"

static bool is_error(const struct cmsghdr *c)
{
	return (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
	       (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR);
}

/*
 * The walk is checked against the libc macros: one answer for each error message they reach,
 * and a path MTU only from a message whose whole sock_extended_err lies in the buffer.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* malloc's alignment suits a cmsghdr; the exact size lets ASan see reads past the end */
	uint8_t *ctrl = malloc(size ? size : 1);
	struct msghdr m = { .msg_control = ctrl, .msg_controllen = size };
	struct errqueue_walk w;
	size_t walked = 0, errors = 0, answers = 0;
	uint32_t mtu;

	FUZZ_CHECK(ctrl != NULL);
	memcpy(ctrl, data, size);
	errqueue_begin(&w, &m);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		size_t room = (size_t)(ctrl + size - (uint8_t *)c);
		enum errqueue_kind kind;

		walked++;
		if (!is_error(c))
			continue;
		errors++;
		mtu = 0;
		kind = errqueue_next(&w, &mtu);
		FUZZ_CHECK(kind == ERRQUEUE_TOO_BIG || kind == ERRQUEUE_OTHER);
		answers++;
		if (kind == ERRQUEUE_TOO_BIG) {
			struct sock_extended_err ee;

			FUZZ_CHECK(mtu != 0);
			FUZZ_CHECK(c->cmsg_len >= CMSG_LEN(sizeof(ee)) && c->cmsg_len <= room);
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			FUZZ_CHECK(ee.ee_info == mtu);
		}
	}
	/* nothing beyond what the macros reach, and the end stays the end */
	FUZZ_CHECK(errqueue_next(&w, &mtu) == ERRQUEUE_END);
	FUZZ_CHECK(errqueue_next(&w, &mtu) == ERRQUEUE_END);
	FUZZ_CHECK(answers == errors && answers <= walked);
	free(ctrl);
	return 0;
}
