/* The virtio-net header a TUN device with IFF_VNET_HDR puts before each packet, both ways. */
#ifndef DP_VNET_H
#define DP_VNET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* struct virtio_net_hdr without the num_buffers field: the TUN default (TUNSETVNETHDRSZ 10). */
#define VNET_HDR_LEN 10

#define VNET_F_NEEDS_CSUM 1 /* csum_start/csum_offset give a checksum to complete */
#define VNET_F_DATA_VALID 2 /* the checksum was checked already */

#define VNET_GSO_NONE	0
#define VNET_GSO_TCPV4	1
#define VNET_GSO_UDP	3 /* IP-level UDP fragmentation offload: never enabled here */
#define VNET_GSO_TCPV6	4
#define VNET_GSO_UDP_L4 5 /* UDP segmentation (USO), newer kernels */
#define VNET_GSO_ECN	0x80

/* The fields in host order. Legacy virtio (what TUN speaks without TUNSETVNETLE) is native-endian.
 */
struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len; /* length of the headers to copy into each segment: a hint only */
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* Decodes the header before a packet; -EBADMSG when buf is shorter than VNET_HDR_LEN. */
IPR_MUST_CHECK int vnet_hdr_get(const uint8_t *buf, size_t len, struct vnet_hdr *h);

/* Encodes h into VNET_HDR_LEN bytes. */
void vnet_hdr_put(uint8_t *buf, const struct vnet_hdr *h);

#endif
