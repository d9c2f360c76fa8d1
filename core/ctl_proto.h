/* The gwctl control protocol, version 1: message kinds, attributes and status codes. */
#ifndef IPR_CTL_PROTO_H
#define IPR_CTL_PROTO_H

/*
 * One message per SOCK_SEQPACKET packet. An 8-byte header (all fields big-endian):
 *   0 version  (IPR_CTL_VERSION)
 *   1 kind     (enum ipr_ctl_kind)
 *   2 flags    (IPR_CTL_F_*)
 *   3 status   (enum ipr_ctl_status; 0 in requests)
 *   4 id       (u32 chosen by the client; replies and events carry the id of their request)
 * then attributes to the end of the packet: u16 type, u16 length, value (no padding).
 * docs/control-protocol.md is the full description.
 */

#define IPR_CTL_VERSION	   1
#define IPR_CTL_HEADER_LEN 8
#define IPR_CTL_ATTR_HEAD  4
/* Largest message either side sends or accepts. */
#define IPR_CTL_MSG_MAX 16384
/*
 * The most counters gwctld keeps of one component's REPORT_COUNTERS; a report with more is
 * refused whole. Reporters check their largest report against it (the dataplane's unit test).
 */
#define IPR_CTL_REPORT_COUNTERS_MAX 256

enum ipr_ctl_kind {
	/* requests */
	IPR_CTL_GET_EA = 1,	/* get or allocate the encoded address of a remote IPREF address */
	IPR_CTL_GET_REF = 2,	/* get or allocate the reference of a local address */
	IPR_CTL_LOOKUP_EA = 3,	/* the mapping of an encoded address (PTR answers) */
	IPR_CTL_LOOKUP_REF = 4, /* the local mapping of one of our references */
	IPR_CTL_SUBSCRIBE = 5,	/* snapshot of every mapping, then changes as they happen */
	IPR_CTL_REPORT_USE = 6, /* these mappings carried traffic: extend their leases */
	IPR_CTL_LIST = 7,	/* every mapping, in pages */
	IPR_CTL_STATS = 8,	/* counters */
	IPR_CTL_STATUS = 9,	/* version, uptime, store, ranges */
	IPR_CTL_RELOAD = 10,	/* re-read the published and static sources */
	IPR_CTL_MAP = 11,	/* add a static mapping by hand */
	IPR_CTL_UNMAP = 12,	/* remove a mapping by hand */
	IPR_CTL_RANGES = 13,	/* the encoded ranges and the gateway's own addresses */
	IPR_CTL_REPORT_COUNTERS = 14, /* a component's counters, shown by STATS */
	IPR_CTL_KIND_MAX = 14,

	/* a reply has the kind of its request with this bit set */
	IPR_CTL_REPLY = 0x80,

	/* events pushed to subscribers, with the SUBSCRIBE request's id */
	IPR_CTL_EV_ADDED = 0x41,
	IPR_CTL_EV_REMOVED = 0x42,
	IPR_CTL_EV_SNAPSHOT_DONE = 0x43,
	IPR_CTL_EV_LAYOUT = 0x44, /* a reload changed the ranges or gateway addresses: ask RANGES */
};

enum ipr_ctl_flag {
	IPR_CTL_F_MORE = 0x01, /* more replies to this request follow (LIST pages) */
};

enum ipr_ctl_status {
	IPR_CTL_OK = 0,
	IPR_CTL_E_MALFORMED = 1, /* the message could not be decoded */
	IPR_CTL_E_VERSION = 2,	 /* protocol version not spoken; the connection is closed */
	IPR_CTL_E_KIND = 3,	 /* unknown message kind */
	IPR_CTL_E_INVALID = 4,	 /* decoded, but an attribute is missing or unusable */
	IPR_CTL_E_NOT_FOUND = 5, /* no such mapping */
	IPR_CTL_E_EXHAUSTED = 6, /* no free value left in the range */
	IPR_CTL_E_NO_RANGE = 7,	 /* no encoded range of the family asked for */
	IPR_CTL_E_STORE = 8,	 /* the store could not commit (disk full, read-only, I/O) */
	IPR_CTL_E_CONFLICT = 9,	 /* the value is in use by another mapping */
	IPR_CTL_E_DENIED = 10,	 /* not allowed for this peer or this mapping kind */
	IPR_CTL_E_BUSY = 11,	 /* too many requests or subscriptions */
	IPR_CTL_E_SOURCES = 12,	 /* reload found errors; previous state kept */
	IPR_CTL_E_UNUSABLE =
		13,	      /* an address that cannot be what it is given as (core/context.h) */
	IPR_CTL_E_QUOTA = 14, /* the asker's share of new allocations is used up for now */
	IPR_CTL_STATUS_MAX = 14,
};

enum ipr_ctl_attr_type {
	IPR_CTL_A_CONTEXT = 1,	/* 4 or 16 bytes: a gateway address */
	IPR_CTL_A_REF = 2,	/* 16 bytes, big-endian */
	IPR_CTL_A_NAME = 3,	/* DNS name: 1-253 bytes of canonical text (lower case, no dot) */
	IPR_CTL_A_ENCODED = 4,	/* 4 or 16 bytes: an encoded address */
	IPR_CTL_A_LOCAL = 5,	/* 4 or 16 bytes: a local host's address */
	IPR_CTL_A_FAMILY = 6,	/* 1 byte: 4 or 6 */
	IPR_CTL_A_EXPIRES = 7,	/* u64 unix seconds; 0 = does not expire */
	IPR_CTL_A_MAP_KIND = 8, /* 1 byte: enum ipr_mapping_kind */
	IPR_CTL_A_SOURCE = 9,	/* text: where a mapping came from */
	IPR_CTL_A_MAPPING = 10, /* nested attributes describing one mapping */
	IPR_CTL_A_GENERATION = 11,   /* u64: change counter of the mapping set */
	IPR_CTL_A_COUNTER = 12,	     /* nested: NAME (text) and VALUE */
	IPR_CTL_A_VALUE = 13,	     /* u64 */
	IPR_CTL_A_MESSAGE = 14,	     /* text: a human-readable detail of an error */
	IPR_CTL_A_CURSOR = 15,	     /* u64: where the next LIST page starts */
	IPR_CTL_A_TTL = 16,	     /* u32 seconds the mapping is guaranteed to stay valid */
	IPR_CTL_A_TEXT = 17,	     /* text: a STATUS line "key: value" */
	IPR_CTL_A_CONTEXT_NAME = 18, /* a gateway given by DNS name, as NAME */
	IPR_CTL_A_RANGE = 19,	/* repeatable: prefix length (1 byte) + 4 or 16 address bytes */
	IPR_CTL_A_GATEWAY = 20, /* repeatable: 4 or 16 bytes, one of this gateway's addresses */
	IPR_CTL_A_REPLIED = 21, /* empty flag: the mapping carried a packet from a local host */
	IPR_CTL_A_CLIENT = 22,	/* 4 or 16 bytes: the LAN client whose question caused a GET_EA */
	IPR_CTL_A_MAX = 22,
};

enum ipr_mapping_kind {
	IPR_MAP_PUBLISHED = 1,	     /* our reference for a local host, from zone or hosts files */
	IPR_MAP_DYNAMIC_LOCAL = 2,   /* our reference for a local host, allocated on demand */
	IPR_MAP_DYNAMIC_REMOTE = 3,  /* an encoded address for a remote IPREF address, on demand */
	IPR_MAP_STATIC_EXTERNAL = 4, /* an encoded address for a remote IPREF address, configured */
};

#endif
