#!/usr/bin/python3
"""Independent check of tests/captures/ensemble/ensemble.pcapng, from the raw TCP bytes.

    /usr/bin/python3 tests/record/ensemble_summarize.py FILE [--list]
        [--expect-zab TYPE,...] [--expect-election STATE,...]

tshark only extracts tcp.payload per segment; this script concatenates each direction of
each connection and walks the records itself: QuorumPackets on 22888-22890 (no outer length
prefix; after SNAP the raw snapshot up to the "BenWasHere" signature), and on 23888-23890 the
initial message then length-prefixed notifications. Exits 1 when an expected type is missing
or the bytes do not walk cleanly.
"""
import argparse
import struct
import subprocess
import sys
from collections import Counter, defaultdict

ZAB = {1: "REQUEST", 2: "PROPOSAL", 3: "ACK", 4: "COMMIT", 5: "PING", 6: "REVALIDATE",
       7: "SYNC", 8: "INFORM", 9: "COMMITANDACTIVATE", 10: "NEWLEADER", 11: "FOLLOWERINFO",
       12: "UPTODATE", 13: "DIFF", 14: "TRUNC", 15: "SNAP", 16: "OBSERVERINFO",
       17: "LEADERINFO", 18: "ACKEPOCH", 19: "INFORMANDACTIVATE"}
STATES = {0: "LOOKING", 1: "FOLLOWING", 2: "LEADING", 3: "OBSERVING"}
SIG = b"\x00\x00\x00\x0aBenWasHere"


def streams(path):
    out = subprocess.run(
        ["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.number", "-e", "tcp.stream",
         "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.seq", "-e", "tcp.payload", "-Y", "tcp.len > 0"],
        check=True, capture_output=True, text=True).stdout
    data = defaultdict(bytearray)
    first = {}
    nxt = {}
    for line in out.splitlines():
        frame, stream, sport, dport, seq, payload = line.split("\t")
        key = (int(stream), int(sport), int(dport))
        first.setdefault(key, int(frame))
        raw = bytes.fromhex(payload.replace(":", ""))
        # relative sequence numbers: skip retransmitted bytes
        skip = nxt.get(key, 1) - int(seq)
        if skip < len(raw):
            data[key] += raw[max(skip, 0):]
            nxt[key] = int(seq) + len(raw)
    return data, first


def walk_zab(buf, from_leader, out, listing, key):
    off = 0
    while off < len(buf):
        if len(buf) - off < 16:
            raise ValueError("truncated QuorumPacket header at %d" % off)
        typ, zxid, dlen = struct.unpack_from(">iqi", buf, off)
        p = off + 16 + max(dlen, 0)
        (n,) = struct.unpack_from(">i", buf, p)
        p += 4
        for _ in range(max(n, 0) * 2):
            (sl,) = struct.unpack_from(">i", buf, p)
            p += 4 + max(sl, 0)
        name = ZAB.get(typ)
        if name is None:
            raise ValueError("unknown QuorumPacket type %d at %d" % (typ, off))
        out[name] += 1
        if listing:
            print("  zab %s %-18s zxid 0x%x data %d" % (key, name, zxid, dlen))
        off = p
        if typ == 15 and from_leader:
            end = buf.find(SIG, off)
            if end < 0:
                raise ValueError("SNAP without signature")
            out["snapshot"] += 1
            if listing:
                print("  zab %s snapshot of %d bytes" % (key, end + len(SIG) - off))
            off = end + len(SIG)


def walk_election(buf, initiator, out, listing, key):
    off = 0
    if initiator:
        (first,) = struct.unpack_from(">q", buf, 0)
        if first in (-65536, -65535):
            (sid, alen) = struct.unpack_from(">qi", buf, 8)
            addr = buf[20:20 + alen].decode()
            off = 20 + alen
            out["initial v%d" % (first + 65537)] += 1
            if listing:
                print("  election %s initial version %d sid %d addr %s" % (key, first, sid, addr))
        else:
            off = 8
            out["initial old"] += 1
    while off < len(buf):
        (n,) = struct.unpack_from(">i", buf, off)
        body = buf[off + 4:off + 4 + n]
        if len(body) != n:
            raise ValueError("truncated notification")
        state, leader, zxid, epoch = struct.unpack_from(">iqqq", body, 0)
        out[STATES.get(state, "state%d" % state)] += 1
        if listing:
            print("  election %s len %d %s leader %d zxid 0x%x epoch %d" % (
                key, n, STATES.get(state), leader, zxid, epoch))
        off += 4 + n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--expect-zab", default="")
    ap.add_argument("--expect-election", default="")
    a = ap.parse_args()
    data, first = streams(a.file)
    zab, election, client = Counter(), Counter(), 0
    for key in sorted(data, key=lambda k: first[k]):
        stream, sport, dport = key
        buf = bytes(data[key])
        try:
            if 22888 <= sport <= 22890 or 22888 <= dport <= 22890:
                walk_zab(buf, 22888 <= sport <= 22890, zab, a.list, key)
            elif 23888 <= sport <= 23890 or 23888 <= dport <= 23890:
                walk_election(buf, 23888 <= dport <= 23890, election, a.list, key)
            else:
                client += 1
        except (ValueError, struct.error) as e:
            print("FAIL %s: %s" % (key, e))
            return 1
    print("zab:", dict(sorted(zab.items())))
    print("election:", dict(sorted(election.items())))
    print("client-port directions:", client)
    missing = [t for t in a.expect_zab.split(",") if t and not zab[t]]
    missing += [t for t in a.expect_election.split(",") if t and not election[t]]
    if missing:
        print("MISSING:", ",".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
