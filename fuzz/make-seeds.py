#!/usr/bin/env python3
"""Builds the small committed seed corpora in fuzz/corpus/ from real captures.

    fuzz/make-seeds.py CAPTURE...

zookeeper_parse: distinct PDUs (length prefix included), at most 3 per (direction, opcode).
zookeeper_session: each TCP connection as a session script (see harness/zookeeper.rs:
mode byte 0, then per segment a flags byte, a 16-bit length and the payload), cut to 4 KiB.
Deterministic: the file name is the SHA-1 of the content, as libFuzzer names its own.
"""
import sys

from seedlib import save, segments


def main():
    seen = {}
    for cap in sys.argv[1:]:
        streams = {}
        for stream, sport, dport, payload in segments(cap, "tcp.port==2181 && tcp.len>0"):
            streams.setdefault(stream, []).append((sport == 2181, payload))
        for stream, segs in streams.items():
            # Session script: mode 0 (server on 2181, port table matched).
            script = bytearray([0])
            for to_client, payload in segs:
                script += bytes([0b10 | int(to_client)]) + len(payload).to_bytes(2, "big") + payload
                if len(script) > 4096:
                    break
            save("zookeeper_session", bytes(script[:4096]))
            # Individual PDUs per direction.
            for direction in (False, True):
                buf = b"".join(p for d, p in segs if d == direction)
                while len(buf) >= 4:
                    n = int.from_bytes(buf[:4], "big", signed=True)
                    if n < 0 or n > len(buf) - 4:
                        break
                    pdu, buf = buf[:4 + n], buf[4 + n:]
                    if len(pdu) > 4096:
                        continue
                    # Requests by opcode; replies by error code and size class.
                    k = (direction, pdu[8:12]) if not direction else (
                        direction, pdu[16:20], len(pdu).bit_length())
                    if seen.get(k, 0) < 3:
                        seen[k] = seen.get(k, 0) + 1
                        save("zookeeper_parse", pdu)


if __name__ == "__main__":
    main()
