#!/usr/bin/env python3
"""Builds the committed seed corpora of the HTTP/2 and quorum fuzz targets from real captures.

    fuzz/make-seeds-h2.py tests/captures/h2/*.pcapng tests/captures/ensemble/*

Server ports: 18180-18181 (h2, cleartext), 22888-22890 (zab), 23888-23890 (zkelection).
- h2_frame: distinct frames, at most 4 per (type, flags), up to 2 KiB.
- hpack: per connection direction, the header block fragments of HEADERS frames in order, as
  an hpack script (0x80 | 16-bit length, block), cut to 8 KiB.
- h2_connection: each connection as a script (harness/h2.rs: mode byte, then per segment a
  flags byte, a 16-bit length and the payload), cut to 16 KiB.
- zab_parse: distinct QuorumPackets (mode byte: from leader), at most 3 per (dir, type), and
  each direction's first 4 KiB.
- zkelection_parse: each connection as a script (harness/quorum.rs), cut to 4 KiB.
Deterministic: the file name is the SHA-1 of the content.
"""
import sys

from seedlib import save, segments

H2 = range(18180, 18182)
ZAB = range(22888, 22891)
ELECTION = range(23888, 23891)


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def h2_frames(buf):
    if buf.startswith(PREFACE):
        buf = buf[len(PREFACE):]
    elif not buf[:9] or buf[:4] == b"HTTP" or buf[:3] in (b"GET", b"POS"):
        # HTTP/1.1 upgrade: frames start after the blank line.
        i = buf.find(b"\r\n\r\n")
        buf = buf[i + 4:] if i >= 0 else b""
    while len(buf) >= 9:
        n = int.from_bytes(buf[:3], "big")
        if len(buf) < 9 + n:
            break
        yield buf[:9 + n]
        buf = buf[9 + n:]


def zab_packets(buf):
    while len(buf) >= 16:
        dlen = int.from_bytes(buf[12:16], "big", signed=True)
        off = 16 + max(dlen, 0)
        if dlen < -1 or len(buf) < off + 4:
            break
        count = int.from_bytes(buf[off:off + 4], "big", signed=True)
        off += 4
        ok = True
        for _ in range(max(count, 0) * 2):
            if len(buf) < off + 4:
                ok = False
                break
            n = int.from_bytes(buf[off:off + 4], "big", signed=True)
            off += 4 + max(n, 0)
        if not ok or off > len(buf) or count > 1024:
            break
        yield buf[:off]
        buf = buf[off:]


def main():
    frames_seen = {}
    zab_seen = {}
    for cap in sys.argv[1:]:
        streams = {}
        for stream, sport, dport, payload in segments(cap, "tcp.len>0"):
            streams.setdefault(stream, []).append((sport, dport, payload))
        for stream, segs in streams.items():
            sport, dport, _ = segs[0]
            server = sport if (sport in H2 or sport in ZAB or sport in ELECTION) else dport
            to_client = [(s == server, p) for s, d, p in segs]
            if server in H2:
                script = bytearray([0b10])  # server on the lower port, port known
                for tc, p in to_client:
                    script += bytes([0b10 | int(tc)]) + len(p).to_bytes(2, "big") + p
                save("h2_connection", bytes(script[:16384]))
                for direction in (False, True):
                    buf = b"".join(p for d, p in to_client if d == direction)
                    hp = bytearray()
                    for fr in h2_frames(buf):
                        k = (fr[3], fr[4])
                        if len(fr) <= 2048 and frames_seen.get(k, 0) < 4:
                            frames_seen[k] = frames_seen.get(k, 0) + 1
                            save("h2_frame", fr)
                        if fr[3] in (1, 9):  # HEADERS, CONTINUATION
                            frag = fr[9:]
                            if fr[3] == 1:
                                flags = fr[4]
                                pad = 0
                                if flags & 0x8 and frag:
                                    pad = frag[0]
                                    frag = frag[1:]
                                if flags & 0x20:
                                    frag = frag[5:]
                                frag = frag[:len(frag) - pad] if pad else frag
                            hp += bytes([0x80 | (len(frag) >> 8 & 0x7f)]) + (len(frag) & 0xff).to_bytes(1, "big") + frag
                    if hp:
                        save("hpack", bytes(hp[:8192]))
            elif server in ZAB:
                for direction in (False, True):
                    from_leader = direction
                    buf = b"".join(p for d, p in to_client if d == direction)
                    if buf:
                        save("zab_parse", bytes([int(from_leader)]) + buf[:4096])
                    for pkt in zab_packets(buf):
                        k = (direction, pkt[:4])
                        if len(pkt) <= 4096 and zab_seen.get(k, 0) < 3:
                            zab_seen[k] = zab_seen.get(k, 0) + 1
                            save("zab_parse", bytes([int(from_leader) | 2]) + pkt)
            elif server in ELECTION:
                # mode 2: port known; flags bit 0: towards the initiator (the client).
                script = bytearray([0b10])
                for tc, p in to_client:
                    while p:
                        chunk, p = p[:255], p[255:]
                        script += bytes([int(tc), len(chunk)]) + chunk
                save("zkelection_parse", bytes(script[:4096]))


if __name__ == "__main__":
    main()
