/* An address prefix (an encoded range): membership, and which addresses may be handed out. */
#ifndef IPR_PREFIX_H
#define IPR_PREFIX_H

#include <stdbool.h>
#include <stdint.h>

struct ipr_prefix {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* IPv4 in the first 4 bytes; bits past len are zero */
	unsigned len;	  /* prefix length in bits */
};

/* Where an address falls in a prefix. */
enum ipr_prefix_place {
	IPR_PREFIX_OUTSIDE,   /* another family, or not under the prefix */
	IPR_PREFIX_NETWORK,   /* host bits all zero */
	IPR_PREFIX_GATEWAY,   /* the first host address: kept for the gateway itself */
	IPR_PREFIX_BROADCAST, /* IPv4 only: host bits all one */
	IPR_PREFIX_USABLE,    /* may be handed out as an encoded address */
};

/* Whether addr (AF_INET: 4 bytes used) lies under p; false for a length past the family's. */
bool ipr_prefix_contains(const struct ipr_prefix *p, int family, const uint8_t *addr);

/* The same rule every allocator and checker of encoded addresses follows. */
enum ipr_prefix_place ipr_prefix_place(const struct ipr_prefix *p, int family, const uint8_t *addr);

/*
 * The gateway's own address in p (the address ipr_prefix_place calls IPR_PREFIX_GATEWAY) into
 * out (16 bytes; IPv4 in the first 4): 0, or -EINVAL when p has no room for one (/32, /128, or
 * a length past the family's).
 */
int ipr_prefix_gateway(const struct ipr_prefix *p, uint8_t out[16]);

/* "network address", "gateway's own address", "broadcast address", or NULL for the others. */
const char *ipr_prefix_place_text(enum ipr_prefix_place place);

#endif
