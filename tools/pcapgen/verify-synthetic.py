#!/usr/bin/env python3
"""Checks the captures written by make-synthetic.sh with tshark, independently of pcapgen.

For every tests/captures/synthetic/zk-*.pcap it checks, from tshark's own TCP analysis and
stream reassembly (`-z follow,tcp,raw`):
  * no "previous segment not captured" (except zk-midstream.pcap), no ACKed-unseen segment,
    no out-of-order segment;
  * a retransmission is flagged in zk-retransmission.pcap, and in no other file;
  * each direction's byte stream is the original's (or, for the capped / cut / synthetic
    ones, the expected prefix, infix or repetition of it).

Usage: tools/pcapgen/verify-synthetic.py [INPUT]   (INPUT as in make-synthetic.sh)
Exits non-zero on the first failed check.
"""

import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SYN = os.path.join(ROOT, "tests", "captures", "synthetic")
PORT = int(os.environ.get("SERVER_PORT", "2181"))
PING = bytes.fromhex("00000008fffffffe0000000b")
PING_REPLY_PREFIX = bytes.fromhex("00000010fffffffe")

failures = 0


def check(cond, what):
    global failures
    print(("  ok    " if cond else "  FAIL  ") + what)
    if not cond:
        failures += 1


def tshark(*args):
    out = subprocess.run(
        # SMPP's heuristic misreads ZooKeeper; checksums are only verified when asked to.
        ["tshark", "--disable-protocol", "smpp", "-o", "tcp.check_checksum:TRUE",
         "-o", "ip.check_checksum:TRUE", *args],
        check=True, capture_output=True, text=True,
    )
    return out.stdout


def count(path, display_filter):
    return len(tshark("-r", path, "-Y", display_filter, "-T", "fields", "-e", "frame.number").split())


def streams(path):
    """tcp.stream index -> (client->server bytes, server->client bytes), via tshark follow."""
    ids = sorted({int(s) for s in tshark("-r", path, "-Y", f"tcp.port=={PORT}", "-T", "fields",
                                         "-e", "tcp.stream").split()})
    result = {}
    # Several follow taps in one tshark run; keep batches small enough for the command line.
    for start in range(0, len(ids), 50):
        batch = ids[start:start + 50]
        args = ["-r", path, "-q"]
        for i in batch:
            args += ["-z", f"follow,tcp,raw,{i}"]
        text = tshark(*args)
        for block in text.split("===================================================================\nFollow: tcp,raw\n")[1:]:
            m = re.search(r"Filter: tcp.stream eq (\d+)\nNode 0: (\S+)\nNode 1: (\S+)\n", block)
            node0_is_client = not m.group(2).endswith(f":{PORT}")
            data = [bytearray(), bytearray()]
            for line in block[m.end():].splitlines():
                if line.startswith("====="):
                    break
                node = 1 if line.startswith("\t") else 0
                data[node] += bytes.fromhex(line.strip())
            c2s, s2c = (data[0], data[1]) if node0_is_client else (data[1], data[0])
            result[int(m.group(1))] = (bytes(c2s), bytes(s2c))
    return result


def tcp_sanity(path, expect_retrans=False, allow_lost=False):
    lost = count(path, "tcp.analysis.lost_segment")
    if allow_lost:
        print(f"  info  {lost} 'previous segment not captured' (allowed here)")
    else:
        check(lost == 0, "no 'previous segment not captured'")
    check(count(path, "tcp.analysis.ack_lost_segment") == 0, "no 'ACKed unseen segment'")
    check(count(path, "tcp.analysis.out_of_order") == 0, "no out-of-order segment")
    check(count(path, "!(tcp.checksum.status == 1 && ip.checksum.status == 1)") == 0,
          "every IPv4 and TCP checksum verified good")
    check(count(path, "_ws.expert.severity >= 6291456") == 0, "no expert warning or error")
    other = count(path, "tcp.analysis.flags && !tcp.analysis.retransmission"
                        " && !tcp.analysis.lost_segment")
    check(other == 0, "no other TCP analysis flag (window full, dup ACK, keep-alive, ...)")
    retrans = count(path, "tcp.analysis.retransmission")
    if expect_retrans:
        check(retrans >= 1, f"tcp.analysis.retransmission present ({retrans})")
    else:
        check(retrans == 0, "no retransmission")


def main():
    inp = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "INPUT", "tests/captures/zookeeper/kazoo-basic.pcapng")
    inp = os.path.join(ROOT, inp)
    if not os.path.exists(inp):
        inp = os.path.join(ROOT, os.environ.get(
            "STANDIN", "../shared/pcaps/zookeeper/zktraffic-cpp/basic.pcap"))
    print(f"original: {inp}")
    orig_streams = streams(inp)
    conv = int(os.environ.get("CONVERSATION", "0"))
    oc, os_ = list(orig_streams.values())[conv]
    print(f"  {len(oc)} bytes c->s, {len(os_)} bytes s->c")

    def f(name):
        path = os.path.join(SYN, name)
        print(f"{name}: {os.path.getsize(path)} bytes")
        check(os.path.getsize(path) < 2 * 1024 * 1024, "below 2 MB")
        return path

    p = f("zk-coalesced.pcap")
    tcp_sanity(p)
    (c, s), = streams(p).values()
    check(c == oc and s == os_, "both byte streams identical to the original")

    p = f("zk-one-byte-segments.pcap")
    tcp_sanity(p)
    lens = tshark("-r", p, "-Y", "tcp.len > 0", "-T", "fields", "-e", "tcp.len").split()
    check(set(lens) == {"1"}, f"every data segment is 1 byte ({len(lens)} segments)")
    (c, s), = streams(p).values()
    check(len(c) > 0 and oc.startswith(c) and os_.startswith(s),
          f"byte streams are a prefix of the original ({len(c)} + {len(s)} bytes)")
    check(len(lens) == len(c) + len(s), "one segment per byte")

    p = f("zk-retransmission.pcap")
    tcp_sanity(p, expect_retrans=True)
    (c, s), = streams(p).values()
    check(len(c) > 0 and oc.startswith(c) and os_.startswith(s),
          "byte streams (retransmission removed) are a prefix of the original")

    p = f("zk-midstream.pcap")
    tcp_sanity(p, allow_lost=True)
    check(count(p, "tcp.flags.syn == 1") == 0, "no SYN")
    (c, s), = streams(p).values()
    ci, si = oc.find(c), os_.find(s)
    check(ci > 0 and si > 0, f"byte streams start inside the original (c->s at byte {ci}, "
                             f"s->c at byte {si})")

    p = f("zk-split-every-offset.pcap")
    tcp_sanity(p)
    st = streams(p)
    check(len(st) > 1, f"{len(st)} connections")
    check(all(len(c) > 0 and oc.startswith(c) and os_.startswith(s) for c, s in st.values()),
          "every connection's byte streams are a prefix of the original")
    # In each connection exactly one client message is split: its data segments differ from
    # the original only by one extra segment, whose position moves by one byte each time.
    firsts = tshark("-r", p, "-Y", "tcp.len > 0 && tcp.dstport == %d" % PORT, "-T", "fields",
                    "-e", "tcp.stream", "-e", "tcp.len").split("\n")
    per = {}
    for line in filter(None, firsts):
        sid, ln = line.split("\t")
        per.setdefault(int(sid), []).append(int(ln))
    splits = [tuple(v) for v in per.values()]
    check(len(set(splits)) == len(splits), "every connection splits differently")

    p = f("zk-1000-pdus-one-segment.pcap")
    tcp_sanity(p)
    lens = [int(x) for x in tshark("-r", p, "-Y", "tcp.len > 0", "-T", "fields",
                                   "-e", "tcp.len").split()]
    (c, s), = streams(p).values()
    check(PING * 1000 in c and lens.count(len(PING) * 1000) == 1,
          "1000 pings in one segment")
    reply = s[-20:]
    check(reply.startswith(PING_REPLY_PREFIX) and s.endswith(reply * 1000)
          and lens.count(20 * 1000) == 1, "1000 ping replies in one segment")
    check(oc.startswith(c[: len(c) - len(PING) * 1000]) and
          os_.startswith(s[: len(s) - 20 * 1000]), "after the original connect handshake")

    print("all checks passed" if failures == 0 else f"{failures} check(s) FAILED")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
