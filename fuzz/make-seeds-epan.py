#!/usr/bin/env python3
"""Converts captures into inputs of the in-process targets (tools/epan-fuzz: epan_zookeeper,
epan_zab, epan_zkelection, epan_h2), one per TCP connection, into OUT/<target>/.

    fuzz/make-seeds-epan.py OUT CAPTURE...

The input format is documented in tools/epan-fuzz/src/lib.rs. A connection belongs to a
target by its server port: 2181-2182 and 22181-22183 (ZooKeeper), 2888 and 22888-22890
(quorum), 3888 and 23888-23890 (election), 8080, 18180-18181, 3000, 50051-50052, 44363,
39081 and 45051-45052 (h2 and gRPC, cleartext; the HTTP/1.1 upgrade goes to HTTP's port 80).
Each TCP segment becomes one record in its direction and order: in sequence as data, behind the sequence as a
retransmission (of the previous segment, or overlapping), ahead of it after a lost segment
of the missing length. A capture with the SYN gets the handshake option, with a FIN the
close option. Inputs are cut at a record boundary below 16 KiB (the fuzzers' -max_len).

The committed corpus (fuzz/corpus/epan_*) is these inputs minimised with libFuzzer's
-merge=1 (see docs/reliability.md). Deterministic: the file name is the SHA-1 of the content.
"""
import os
import sys

from seedlib import save_in, tshark_fields, unhex

TARGETS = {
    "epan_zookeeper": {2181, 2182, 22181, 22182, 22183},
    "epan_zab": {2888, 22888, 22889, 22890},
    "epan_zkelection": {3888, 23888, 23889, 23890},
    "epan_h2": {8080, 18180, 18181, 3000, 50051, 50052, 44363, 39081, 45051, 45052},
}
MAX_LEN = 16384
HANDSHAKE, HEURISTIC, CLOSE = 0x01, 0x02, 0x10
HTTP_PORT = 0x40
TO_CLIENT, RETRANSMIT, LOST = 0x80, 0x20, 0x40


def packets(cap):
    fields = ["tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.flags", "tcp.payload"]
    for parts in tshark_fields(cap, fields, "tcp", ["-o", "tcp.desegment_tcp_streams:FALSE"]):
        if len(parts) < 6 or not parts[0]:
            continue
        stream, sport, dport, seq, flags = (int(p, 0) for p in parts[:5])
        yield stream, sport, dport, seq, flags, unhex(parts[5])


def record(control, payload):
    n = len(payload)
    if n < 31:
        return bytes([control | n]) + payload
    return bytes([control | 31]) + n.to_bytes(2, "big") + payload


def convert(pkts, server_port):
    options, time = 0, 0
    if any(f & 0x02 for (_, _, _, f, _) in pkts):
        options |= HANDSHAKE
    if any(f & 0x01 for (_, _, _, f, _) in pkts):
        options |= CLOSE
    next_seq = {}
    last = {}
    body = bytearray()
    for sport, dport, seq, flags, payload in pkts:
        to_client = sport == server_port
        d = TO_CLIENT if to_client else 0
        if flags & 0x02:
            next_seq[to_client] = (seq + 1) & 0xffffffff
            continue
        if not payload:
            continue
        if to_client not in next_seq:
            next_seq[to_client] = seq
        delta = (seq - next_seq[to_client]) & 0xffffffff
        if delta == 0:
            rec = record(d, payload)
        elif delta >= 0x80000000:
            # Behind the sequence: the previous segment again, or an overlap.
            rec = bytes([d | RETRANSMIT]) if last.get(to_client) == payload else \
                record(d | RETRANSMIT, payload)
        else:
            # Ahead: a segment was not captured.
            rec = record(d | LOST, bytes(min(delta, 0xffff))) + record(d, payload)
        end = (seq + len(payload)) & 0xffffffff
        if delta == 0 or delta < 0x80000000:
            next_seq[to_client] = end
        last[to_client] = payload
        if 3 + len(body) + len(rec) > MAX_LEN:
            break
        body += rec
    return bytes([options, 0, time]) + bytes(body)


def main():
    out, caps = sys.argv[1], sys.argv[2:]
    for cap in caps:
        streams = {}
        for stream, sport, dport, seq, flags, payload in packets(cap):
            streams.setdefault(stream, []).append((sport, dport, seq, flags, payload))
        for pkts in streams.values():
            ports = {p for (s, d, _, _, _) in pkts for p in (s, d)}
            for target, server_ports in TARGETS.items():
                hit = ports & server_ports
                if not hit:
                    continue
                data = convert(pkts, min(hit))
                if len(data) <= 3:
                    continue
                if target == "epan_h2" and b"Upgrade: h2c" in data:
                    # The HTTP/1.1 upgrade is HTTP's: the server on port 80, found by HTTP.
                    data = bytes([data[0] | HEURISTIC, data[1], data[2] | HTTP_PORT]) + data[3:]
                save_in(os.path.join(out, target), data)


if __name__ == "__main__":
    main()
