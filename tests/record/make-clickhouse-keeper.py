#!/usr/bin/python3
"""Writes tests/captures/synthetic/clickhouse-keeper.pcap: ClickHouse Keeper's extensions
of the ZooKeeper client protocol, built by hand (no ClickHouse is installable here), on
Keeper's default client port 9181. Deterministic: run it again and the bytes are the same.

Three connections, each from its SYN:
  1. protocol version 0 with Keeper's opcodes 500-503 (filteredList, checkNotExists,
     createIfNotExists, removeRecursive): requests and replies, one error reply (NODEEXISTS);
  2. protocol version 11 (ZOOKEEPER_PROTOCOL_VERSION_WITH_XID_64, no compression): the
     ConnectRequest with ClickHouse's compression flag after the version and a length
     prefix of 45 for 46 bytes, then 64-bit xids in request and reply headers;
  3. protocol version 10 (WITH_COMPRESSION): the handshake, then one ClickHouse compressed
     block each way (made-up LZ4 payload), which stays opaque.

Layouts: ClickHouse/ClickHouse src/Common/ZooKeeper/ZooKeeperConstants.h (OpNum, versions),
ZooKeeperCommon.cpp (records), ZooKeeperImpl.cpp (sendHandshake, receiveEvent),
src/Server/KeeperTCPHandler.cpp (receiveHandshake, sendHandshake).

Usage: tests/record/make-clickhouse-keeper.py [OUT]   (stdlib only)
"""
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    ROOT, "tests/captures/synthetic/clickhouse-keeper.pcap")

CLIENT, SERVER = "127.0.0.1", "127.0.0.1"
KEEPER_PORT = 9181
T0 = 1_700_000_000  # capture start, seconds


def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


def u8(v):
    return struct.pack(">B", v)


def ustring(s):
    b = s.encode() if isinstance(s, str) else s
    return i32(len(b)) + b


def framed(body):
    return i32(len(body)) + body


def stat(version=0, num_children=0, data_length=0, zxid=0x100000005):
    return (i64(zxid) + i64(zxid) + i64(1_700_000_000_000) + i64(1_700_000_000_000)
            + i32(version) + i32(0) + i32(0) + i64(0) + i32(data_length)
            + i32(num_children) + i64(zxid))


OPEN_ACL = i32(1) + i32(31) + ustring("world") + ustring("anyone")


def request(xid, op, body=b"", xid64=False):
    return framed((i64(xid) if xid64 else i32(xid)) + i32(op) + body)


def reply(xid, zxid, err, body=b"", xid64=False):
    return framed((i64(xid) if xid64 else i32(xid)) + i64(zxid) + i32(err) + body)


def connect_request(version, compression=None):
    """ZooKeeper's 45-byte ConnectRequest, or ClickHouse's (version >= 11) with the
    compression flag after the version and the length prefix still 45."""
    body = i32(version)
    if compression is not None:
        body += u8(1 if compression else 0)
    body += i64(0) + i32(30000) + i64(0) + ustring(b"\0" * 16) + u8(1)
    return i32(45) + body


def connect_response(version, session_id):
    # Keeper's sendHandshake: 36 bytes, no readOnly byte.
    return framed(i32(version) + i32(30000) + i64(session_id) + ustring(bytes(range(16))))


def compressed_block(payload, uncompressed):
    # ClickHouse CompressedWriteBuffer: checksum (16), method 0x82 (LZ4), sizes (LE).
    header = u8(0x82) + struct.pack("<I", 9 + len(payload)) + struct.pack("<I", uncompressed)
    checksum = bytes((i * 37 + len(payload)) & 0xff for i in range(16))
    return checksum + header + payload


# --- pcap writing ---------------------------------------------------------------------

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip_bytes(a):
    return bytes(int(x) for x in a.split("."))


class Capture:
    def __init__(self):
        self.records = []
        self.t = 0  # microseconds since T0
        self.ip_id = 1

    def packet(self, src, sport, dst, dport, seq, ack, flags, payload=b""):
        self.t += 1000
        tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
        pseudo = ip_bytes(src) + ip_bytes(dst) + struct.pack(">BBH", 0, 6, len(tcp) + len(payload))
        csum = checksum(pseudo + tcp + payload)
        tcp = tcp[:16] + struct.pack(">H", csum) + tcp[18:]
        total = 20 + len(tcp) + len(payload)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, self.ip_id, 0x4000, 64, 6, 0,
                         ip_bytes(src), ip_bytes(dst))
        self.ip_id += 1
        ip = ip[:10] + struct.pack(">H", checksum(ip)) + ip[12:]
        eth = b"\x00\x00\x00\x00\x00\x02" + b"\x00\x00\x00\x00\x00\x01" + b"\x08\x00"
        frame = eth + ip + tcp + payload
        sec, usec = divmod(self.t, 1_000_000)
        self.records.append(struct.pack("<IIII", T0 + sec, usec, len(frame), len(frame)) + frame)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            for r in self.records:
                f.write(r)


class Connection:
    """One TCP connection from its SYN; `send` puts each PDU (or run of bytes) in one
    segment and acknowledges it."""

    def __init__(self, cap, client_port):
        self.cap, self.cport = cap, client_port
        self.cseq, self.sseq = 1000 * client_port, 7000 * client_port
        A, S = 0x10, 0x02
        cap.packet(CLIENT, self.cport, SERVER, KEEPER_PORT, self.cseq, 0, S)
        cap.packet(SERVER, KEEPER_PORT, CLIENT, self.cport, self.sseq, self.cseq + 1, S | A)
        self.cseq += 1
        self.sseq += 1
        cap.packet(CLIENT, self.cport, SERVER, KEEPER_PORT, self.cseq, self.sseq, A)

    def c2s(self, data):
        self.cap.packet(CLIENT, self.cport, SERVER, KEEPER_PORT, self.cseq, self.sseq, 0x18, data)
        self.cseq += len(data)

    def s2c(self, data):
        self.cap.packet(SERVER, KEEPER_PORT, CLIENT, self.cport, self.sseq, self.cseq, 0x18, data)
        self.sseq += len(data)


def main():
    cap = Capture()

    # 1. Protocol version 0, Keeper's opcodes 500-503.
    c = Connection(cap, 40001)
    c.c2s(connect_request(0))
    c.s2c(connect_response(0, 0x1000000000001))
    # filteredList (500): path, watch, list type EPHEMERAL_ONLY (2).
    c.c2s(request(1, 500, ustring("/clickhouse/task_queue") + u8(1) + u8(2)))
    c.s2c(reply(1, 0x100000010, 0, i32(2) + ustring("query-0000000001")
                + ustring("query-0000000002") + stat(num_children=2)))
    # checkNotExists (501): the node exists, so NODEEXISTS.
    c.c2s(request(2, 501, ustring("/clickhouse/lock") + i32(-1)))
    c.s2c(reply(2, 0x100000011, -110))
    # createIfNotExists (502): a create record; the reply is the path.
    c.c2s(request(3, 502, ustring("/clickhouse/replicas/r1") + ustring("host1")
                  + OPEN_ACL + i32(0)))
    c.s2c(reply(3, 0x100000012, 0, ustring("/clickhouse/replicas/r1")))
    # removeRecursive (503): path and remove_nodes_limit; empty reply.
    c.c2s(request(4, 503, ustring("/clickhouse/tmp") + i32(1000)))
    c.s2c(reply(4, 0x100000013, 0))

    # 2. Protocol version 11 (64-bit xids), no compression.
    c = Connection(cap, 40002)
    c.c2s(connect_request(11, compression=False))
    c.s2c(connect_response(11, 0x1000000000002))
    c.c2s(request(1, 4, ustring("/clickhouse/config") + u8(0), xid64=True))
    c.s2c(reply(1, 0x100000020, 0, ustring(b"value") + stat(data_length=5), xid64=True))
    big = 0x100000002  # above 2^32: only a 64-bit xid carries it
    c.c2s(request(big, 500, ustring("/clickhouse") + u8(0) + u8(0), xid64=True))
    c.s2c(reply(big, 0x100000021, 0, i32(1) + ustring("tables") + stat(num_children=1),
                xid64=True))
    c.c2s(request(-2, 11, xid64=True))
    c.s2c(reply(-2, 0x100000021, 0, xid64=True))
    c.c2s(request(big + 1, 502, ustring("/clickhouse/x") + ustring("") + OPEN_ACL + i32(0),
                  xid64=True))
    c.s2c(reply(big + 1, 0x100000022, -110, xid64=True))

    # 3. Protocol version 10: compressed after the handshake, opaque.
    c = Connection(cap, 40003)
    c.c2s(connect_request(10))
    c.s2c(connect_response(10, 0x1000000000003))
    c.c2s(compressed_block(bytes([0x80, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x01]), 24))
    c.s2c(compressed_block(bytes([0x70, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00]), 20))

    cap.write(OUT)


if __name__ == "__main__":
    main()
