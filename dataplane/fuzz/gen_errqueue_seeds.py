# Seeds for fuzz_errqueue: control buffers as recvmsg(MSG_ERRQUEUE) fills them on x86-64 Linux.
# usage: python3 gen_errqueue_seeds.py dataplane/fuzz/corpus/errqueue
import socket, struct, sys, os
IPPROTO_IP, IP_RECVERR, IPPROTO_IPV6, IPV6_RECVERR = 0, 11, 41, 25
SOL_SOCKET, SO_TIMESTAMPNS = 1, 35
LOCAL, ICMP, ICMP6 = 1, 2, 3
EMSGSIZE, ECONNREFUSED, EHOSTUNREACH = 90, 111, 113

def align(n): return (n + 7) & ~7
def cmsg(level, type_, data, length=None):
    length = 16 + len(data) if length is None else length
    raw = struct.pack('=Qii', length, level, type_) + data
    return raw + b'\0' * (align(len(raw)) - len(raw))
def ee(errno_, origin, type_, code, info, data=0):
    return struct.pack('=IBBBBII', errno_, origin, type_, code, 0, info, data)
def sin(a): return struct.pack('=H', socket.AF_INET) + b'\0\0' + socket.inet_pton(socket.AF_INET, a) + b'\0' * 8
def sin6(a): return struct.pack('=H', socket.AF_INET6) + b'\0' * 6 + socket.inet_pton(socket.AF_INET6, a) + b'\0' * 4

v4_big = cmsg(IPPROTO_IP, IP_RECVERR, ee(EMSGSIZE, ICMP, 3, 4, 1400) + sin('192.0.2.1'))
v6_big = cmsg(IPPROTO_IPV6, IPV6_RECVERR, ee(EMSGSIZE, ICMP6, 2, 0, 1280) + sin6('2001:db8::1'))
local = cmsg(IPPROTO_IP, IP_RECVERR, ee(EMSGSIZE, LOCAL, 0, 0, 1300))
refused = cmsg(IPPROTO_IP, IP_RECVERR, ee(ECONNREFUSED, ICMP, 3, 3, 0) + sin('198.51.100.7'))
unreach6 = cmsg(IPPROTO_IPV6, IPV6_RECVERR, ee(EHOSTUNREACH, ICMP6, 1, 3, 0) + sin6('2001:db8::2'))
zero = cmsg(IPPROTO_IP, IP_RECVERR, ee(EMSGSIZE, ICMP, 3, 4, 0) + sin('192.0.2.1'))
stamp = cmsg(SOL_SOCKET, SO_TIMESTAMPNS, struct.pack('=qq', 1700000000, 5))
short = cmsg(IPPROTO_IP, IP_RECVERR, ee(EMSGSIZE, ICMP, 3, 4, 1400)[:12], 16 + 12)
seeds = {
    'too_big_v4': v4_big, 'too_big_v6': v6_big, 'local_emsgsize': local,
    'port_unreachable': refused, 'host_unreachable_v6': unreach6, 'zero_mtu': zero,
    'stamp_then_too_big': stamp + v4_big, 'two_errors': refused + v6_big,
    'truncated': short + local, 'cut_by_buffer': v4_big[:40],
}
for name, raw in seeds.items():
    with open(os.path.join(sys.argv[1], name), 'wb') as f:
        f.write(raw)
