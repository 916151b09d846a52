#!/usr/bin/env python3
"""slow_dns.py - a tiny DNS server for tests, on a loopback UDP port.

Every A query is answered with 127.0.0.1 (TTL 0); AAAA and other types get
an empty answer. Names whose first label starts with "slow" are answered
only after --delay seconds (each query on its own thread, so slow answers
never hold fast ones back). Stops by itself after --lifetime seconds.

    slow_dns.py --port P [--delay 3] [--lifetime 300] [--log FILE]
"""
import argparse
import socket
import struct
import sys
import threading
import time


def parse_question(pkt):
    """(qid, flags, qname labels, qtype, end offset) of the first question."""
    qid, flags, qd = struct.unpack(">HHH", pkt[:6])
    if qd < 1:
        raise ValueError("no question")
    off, labels = 12, []
    while True:
        n = pkt[off]
        off += 1
        if n == 0:
            break
        if n & 0xC0:
            raise ValueError("compressed question")
        labels.append(pkt[off:off + n].decode("ascii", "replace"))
        off += n
    qtype, _qclass = struct.unpack(">HH", pkt[off:off + 4])
    return qid, flags, labels, qtype, off + 4


def answer(pkt):
    qid, flags, labels, qtype, end = parse_question(pkt)
    rd = flags & 0x0100
    question = pkt[12:end]
    if qtype == 1:
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + bytes([127, 0, 0, 1])
        an = 1
    else:
        rr, an = b"", 0
    hdr = struct.pack(">HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080, 1, an, 0, 0)
    return labels, hdr + question + rr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--delay", type=float, default=3.0)
    ap.add_argument("--lifetime", type=float, default=300.0)
    ap.add_argument("--log")
    a = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", a.port))
    s.settimeout(1.0)
    log = open(a.log, "a", buffering=1) if a.log else None
    lock = threading.Lock()

    def reply(pkt, peer):
        try:
            labels, out = answer(pkt)
        except (ValueError, IndexError, struct.error):
            return
        # resolvers randomise the case of names (0x20): compare lowered
        slow = bool(labels) and labels[0].lower().startswith("slow")
        if slow:
            time.sleep(a.delay)
        with lock:
            s.sendto(out, peer)
            if log:
                log.write("%.3f %s %s\n" % (time.time(), ".".join(labels).lower(),
                                            "slow" if slow else "fast"))

    stop = time.time() + a.lifetime
    while time.time() < stop:
        try:
            pkt, peer = s.recvfrom(512)
        except socket.timeout:
            continue
        threading.Thread(target=reply, args=(pkt, peer), daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
