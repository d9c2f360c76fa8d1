"""A UDP relay on loopback that holds every DNS query for a fixed time before passing it on.

It puts an authoritative server at a realistic distance from a resolver on the same machine:
with the server on loopback a first lookup costs only CPU, so two lookups in parallel cost as
much as two in a row; at a distance their round trips overlap as they do in deployment.
Answers are matched back to the asker by DNS ID and question, since the relay forwards every
query from one socket. `events` records, in order, each query as it arrives and each answer as
it goes back, so a test can tell whether two questions were outstanding together.

`rules` makes the server misbehave for chosen questions: {(name, type): "drop" or "servfail"}
drops the query, or answers it SERVFAIL at once; a test may change the dict while it runs."""
import heapq
import itertools
import selectors
import socket
import threading
import time


def question(packet):
    """(name in lower case, type) of a DNS message's question; (None, None) when malformed."""
    labels, end = [], 12
    while end < len(packet) and packet[end] != 0:
        labels.append(packet[end + 1:end + 1 + packet[end]].decode("ascii", "replace").lower())
        end += packet[end] + 1
    if end + 3 > len(packet):
        return None, None
    return ".".join(labels) + ".", int.from_bytes(packet[end + 1:end + 3], "big")


def servfail(query):
    """A SERVFAIL answer to query: its ID, RD and question, nothing else (no OPT record)."""
    end = 12
    while end < len(query) and query[end] != 0:
        end += query[end] + 1
    flags = bytes([0x80 | (query[2] & 0x01), 0x02])
    return query[:2] + flags + b"\x00\x01\x00\x00\x00\x00\x00\x00" + query[12:end + 5]


def question_key(packet):
    """The ID and question section of a DNS message: an answer echoes both of its query's."""
    end = 12
    while end < len(packet) and packet[end] != 0:
        end += packet[end] + 1
    return packet[:2] + packet[12:end + 5]


class UdpDelay:
    def __init__(self, upstream_port, delay_s, rules=None):
        self.upstream = ("127.0.0.1", upstream_port)
        self.delay = delay_s
        self.rules = rules if rules is not None else {}
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.bind(("127.0.0.1", 0))
        self.askers = {}  # question key -> the resolver's address
        self.events = []  # ("query" or "answer", name, type), in the order they happened
        self.due = []  # (time, sequence, query) waiting to go upstream
        self.seq = itertools.count()
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.front, selectors.EVENT_READ)
        sel.register(self.back, selectors.EVENT_READ)
        while not self.stopping:
            now = time.monotonic()
            while self.due and self.due[0][0] <= now:
                self.back.sendto(heapq.heappop(self.due)[2], self.upstream)
            wait = min(self.due[0][0] - now, 0.05) if self.due else 0.05
            for key, _ in sel.select(max(wait, 0)):
                packet, addr = key.fileobj.recvfrom(65535)
                if key.fileobj is self.front:
                    self.events.append(("query",) + question(packet))
                    rule = self.rules.get(question(packet))
                    if rule == "drop":
                        continue
                    if rule == "servfail":
                        self.front.sendto(servfail(packet), addr)
                        continue
                    self.askers[question_key(packet)] = addr
                    heapq.heappush(self.due, (time.monotonic() + self.delay, next(self.seq),
                                              packet))
                else:
                    asker = self.askers.pop(question_key(packet), None)
                    if asker:
                        self.events.append(("answer",) + question(packet))
                        self.front.sendto(packet, asker)
        sel.close()

    def stop(self):
        self.stopping = True
        self.thread.join()
        self.front.close()
        self.back.close()
