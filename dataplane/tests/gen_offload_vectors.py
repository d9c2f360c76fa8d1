#!/usr/bin/env python3
"""Builds the golden vectors of test_offload.c (segmentation and coalescing) independently of the
C code: segments are cut and checksummed here from the TCP/UDP and virtio-net rules alone (full
RFC 1071 sums, never incremental). Run it to print the C table (offload_vectors.inc)."""
import contextlib
import io
import struct

with contextlib.redirect_stdout(io.StringIO()):  # it prints its own table when loaded
    from gen_vectors import csum, ip, pseudo

ACK, PSH, FIN, CWR, SYN = 0x10, 0x08, 0x01, 0x80, 0x02


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def wsum(data):
    if len(data) % 2:
        data += b"\0"
    return fold(sum(struct.unpack("!%dH" % (len(data) // 2), data)))


def with_l4_csum(src, dst, proto, l4):
    field = 16 if proto == 6 else 6
    l4 = bytearray(l4)
    l4[field:field + 2] = b"\0\0"
    c = csum(pseudo(src, dst, proto, len(l4)) + bytes(l4))
    if proto == 17 and c == 0:
        c = 0xFFFF
    l4[field:field + 2] = struct.pack("!H", c)
    return bytes(l4)


def partial(src, dst, proto, l4):
    """The L4 bytes with the pseudo-header sum in the checksum field (NEEDS_CSUM)."""
    field = 16 if proto == 6 else 6
    l4 = bytearray(l4)
    l4[field:field + 2] = struct.pack("!H", wsum(pseudo(src, dst, proto, len(l4))))
    return bytes(l4)


def ipv4(src, dst, proto, l4, ident=0x1000, ttl=64, tos=0):
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(l4), ident, 0x4000, ttl,
                              proto, 0, ip(src), ip(dst)))
    h[10:12] = struct.pack("!H", csum(bytes(h)))
    return bytes(h) + l4


def ipv6(src, dst, proto, l4, hop=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(l4), proto, hop, ip(src), ip(dst)) + l4


TS = bytes([1, 1, 8, 10]) + struct.pack("!II", 0x01020304, 0x0a0b0c0d)


def tcp(seq, flags, payload, sport=40000, dport=5201, ack=0x11223344, win=501, opts=TS):
    doff = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, win, 0, 0) + \
        opts + payload


def udp(payload, sport=5000, dport=6000):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def packet(ver, src, dst, proto, l4, full=True, **kw):
    s, d = ip(src), ip(dst)
    l4 = with_l4_csum(s, d, proto, l4) if full else partial(s, d, proto, l4)
    return (ipv4 if ver == 4 else ipv6)(src, dst, proto, l4, **kw)


def vnet(flags=0, gso_type=0, hdr_len=0, gso_size=0, csum_start=0, csum_offset=0):
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)


def data(n, seed):
    return bytes((seed + i * 7) & 0xFF for i in range(n))


V4 = ("10.1.0.2", "10.240.0.21")
V6 = ("fd00:a::2", "fdee::20")


def tso(ver, payload, mss, flags, seq=1000):
    """A super-packet as the TUN device gives it, and the segments a NIC would send."""
    src, dst = V4 if ver == 4 else V6
    l3 = 20 if ver == 4 else 40
    super_pkt = packet(ver, src, dst, 6, tcp(seq, flags, payload), full=False)
    segs = []
    chunks = [payload[i:i + mss] for i in range(0, len(payload), mss)]
    for i, chunk in enumerate(chunks):
        f = flags
        if i != len(chunks) - 1:
            f &= ~(FIN | PSH)
        if i != 0:
            f &= ~CWR
        kw = {"ident": 0x1000 + i} if ver == 4 else {}
        segs.append(packet(ver, src, dst, 6, tcp(seq + i * mss, f, chunk), **kw))
    h = vnet(1, 1 if ver == 4 else 4, l3 + 32, mss, l3, 16)
    return h, super_pkt, segs


def uso(ver, payload, mss):
    src, dst = V4 if ver == 4 else V6
    l3 = 20 if ver == 4 else 40
    super_pkt = packet(ver, src, dst, 17, udp(payload), full=False)
    segs = []
    for i in range(0, len(payload), mss):
        kw = {"ident": 0x1000 + i // mss} if ver == 4 else {}
        segs.append(packet(ver, src, dst, 17, udp(payload[i:i + mss]), **kw))
    return vnet(1, 5, l3 + 8, mss, l3, 6), super_pkt, segs


def gro_super(ver, segs_payloads, seq, psh_last, src_dst=None, **kw):
    """Consecutive segments, and the super-packet with its header that coalescing makes."""
    src, dst = src_dst or (V4 if ver == 4 else V6)
    l3 = 20 if ver == 4 else 40
    s, d = ip(src), ip(dst)
    inputs, off = [], 0
    for i, p in enumerate(segs_payloads):
        f = ACK | (PSH if psh_last and i == len(segs_payloads) - 1 else 0)
        ident = {"ident": 0x2000 + i} if ver == 4 else {}
        inputs.append(packet(ver, src, dst, 6, tcp(seq + off, f, p, **kw), **ident))
        off += len(p)
    l4 = tcp(seq, ACK | (PSH if psh_last else 0), b"".join(segs_payloads), **kw)
    ident = {"ident": 0x2000} if ver == 4 else {}
    out = (ipv4 if ver == 4 else ipv6)(src, dst, 6, partial(s, d, 6, l4), **ident)
    h = vnet(1, 1 if ver == 4 else 4, l3 + 32, len(segs_payloads[0]), l3, 16)
    return inputs, h + out


def plain(pkt):
    return vnet() + pkt


def c_str(b):
    return '"' + b.hex() + '"'


def c_list(items):
    return "{ " + ", ".join(c_str(x) for x in items) + ", NULL }"


gso_vectors = []


def gso_vec(name, h, pkt, segs):
    gso_vectors.append((name, h, pkt, segs))


gso_vec("tso4_even", *tso(4, data(1800, 1), 600, ACK | PSH | CWR))
gso_vec("tso4_short_last_fin", *tso(4, data(1500, 2), 600, ACK | PSH | FIN))
gso_vec("tso6_three", *tso(6, data(1700, 3), 700, ACK | PSH))
gso_vec("uso4", *uso(4, data(1001, 4), 500))
gso_vec("uso6", *uso(6, data(800, 5), 400))
# a single packet whose checksum the kernel left to us, and one without anything pending
u = partial(ip(V4[0]), ip(V4[1]), 17, udp(data(101, 6)))
gso_vec("csum_udp4", vnet(1, 0, 0, 0, 20, 6), ipv4(*V4, 17, u),
        [packet(4, *V4, 17, udp(data(101, 6)))])
t = packet(6, *V6, 6, tcp(5, ACK, data(333, 7)), full=False)
gso_vec("csum_tcp6", vnet(1, 0, 0, 0, 40, 16), t, [packet(6, *V6, 6, tcp(5, ACK, data(333, 7)))])
p = packet(4, *V4, 6, tcp(9, ACK, data(10, 8)))
gso_vec("plain", vnet(), p, [p])

gro_vectors = []


def gro_vec(name, inputs, outputs):
    gro_vectors.append((name, inputs, outputs))


ins, out = gro_super(4, [data(600, 10), data(600, 11), data(400, 12)], 5000, True)
gro_vec("tcp4_three_psh", ins, [out])
ins, out = gro_super(6, [data(900, 13), data(900, 14)], 7, False)
gro_vec("tcp6_two", ins, [out])
# two flows interleaved: each coalesces; the flush goes in the order the flows were first seen
a_in, a_out = gro_super(4, [data(500, 15), data(500, 16)], 100, False)
b_in, b_out = gro_super(6, [data(600, 17), data(600, 18)], 200, True)
gro_vec("interleaved", [a_in[0], b_in[0], a_in[1], b_in[1]], [a_out, b_out])
# a gap in the sequence: nothing merges across it
ins, _ = gro_super(4, [data(400, 19), data(400, 20), data(400, 21)], 1, False)
gro_vec("seq_gap", [ins[0], ins[2]], [plain(ins[0]), plain(ins[2])])
# a segment with a wrong checksum is passed on as it is, never hidden inside a super-packet
bad = bytearray(ins[1])
bad[-1] ^= 0x55
gro_vec("bad_checksum", [ins[0], bytes(bad), ins[2]], [plain(ins[0]), plain(bytes(bad)),
                                                        plain(ins[2])])
# a larger segment after a smaller one closes the super-packet
ins, _ = gro_super(4, [data(300, 22), data(500, 23)], 1, False)
gro_vec("growing", ins, [plain(ins[0]), plain(ins[1])])
# other options (a newer timestamp) end the run
ins1, _ = gro_super(4, [data(300, 24)], 1, False)
ins2, _ = gro_super(4, [data(300, 25)], 301, False, opts=bytes([1, 1, 8, 10]) +
                    struct.pack("!II", 0x01020305, 0x0a0b0c0d))
gro_vec("options_change", [ins1[0], ins2[0]], [plain(ins1[0]), plain(ins2[0])])
# a SYN and a UDP datagram pass as they are; the SYN flushes its flow first
syn = packet(4, *V4, 6, tcp(1, SYN, b""))
dgram = packet(4, *V4, 17, udp(data(50, 26)))
ins, _ = gro_super(4, [data(100, 27)], 1, False)
gro_vec("syn_udp", [ins[0], dgram, syn], [plain(dgram), plain(ins[0]), plain(syn)])

print("/* Generated by gen_offload_vectors.py; do not edit by hand. */")
print("static const struct gso_vector gso_vectors[] = {")
for name, h, pkt, segs in gso_vectors:
    print(f'{{ "{name}", {c_str(h)},\n  {c_str(pkt)},\n  {c_list(segs)} }},')
print("};")
print("static const struct gro_vector gro_vectors[] = {")
for name, ins, outs in gro_vectors:
    print(f'{{ "{name}",\n  {c_list(ins)},\n  {c_list(outs)} }},')
print("};")
