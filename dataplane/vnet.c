/* Reading and writing the virtio-net header, byte-wise so that any buffer alignment works. */
#include "vnet.h"

#include <errno.h>
#include <string.h>

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

int vnet_hdr_get(const uint8_t *buf, size_t len, struct vnet_hdr *h)
{
	if (len < VNET_HDR_LEN)
		return -EBADMSG;
	h->flags = buf[0];
	h->gso_type = buf[1];
	h->hdr_len = get16(buf + 2);
	h->gso_size = get16(buf + 4);
	h->csum_start = get16(buf + 6);
	h->csum_offset = get16(buf + 8);
	return 0;
}

void vnet_hdr_put(uint8_t *buf, const struct vnet_hdr *h)
{
	buf[0] = h->flags;
	buf[1] = h->gso_type;
	memcpy(buf + 2, &h->hdr_len, 2);
	memcpy(buf + 4, &h->gso_size, 2);
	memcpy(buf + 6, &h->csum_start, 2);
	memcpy(buf + 8, &h->csum_offset, 2);
}
