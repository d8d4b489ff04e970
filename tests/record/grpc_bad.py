#!/usr/bin/python3
"""Malformed gRPC over real h2c, for tests/record/record-grpc.sh (Debian python3-h2 4.1).

    /usr/bin/python3 tests/record/grpc_bad.py server PORT
    /usr/bin/python3 tests/record/grpc_bad.py client PORT

The client opens one prior-knowledge h2c connection to 127.0.0.1:PORT and makes one
gRPC-style call per case, one after the other (stream ids 1, 3, 5, ...): POST
/zkh2.test.v1.EchoService/Unary, content-type application/grpc, te: trailers, a request
header `x-zkh2-case: NAME` and one well-formed EchoRequest message (text = NAME, seq = case
number). Then it sends GOAWAY and closes.

The server answers every call with :status 200, content-type application/grpc, one DATA frame
holding the case's body, and trailers grpc-status: 0 (END_STREAM). The bodies (EchoResponse
is the method's response type in tests/captures/grpc/proto/zkh2/test/v1/echo.proto):

  valid             a well-formed EchoResponse (the control case)
  truncated         length prefix 1000, followed by only 20 bytes; then the trailers
  flag-no-encoding  compressed flag 1, a gzipped EchoResponse, but no grpc-encoding header
  unknown-encoding  compressed flag 1 and grpc-encoding: snappy-x
  corrupt-gzip      compressed flag 1, grpc-encoding: gzip, a gzip header followed by garbage
  wrong-wire-types  flag 0, fields of EchoResponse with the wrong wire types (text as varint,
                    seq as length-delimited, last as fixed64, metas as fixed32, blob as
                    varint) and, last, a field with the invalid wire type 7
  random-bytes      flag 0, 48 seeded pseudo-random bytes
"""
import gzip
import random
import socket
import struct
import sys

from tcpserve import serve_forever

import h2.config
import h2.connection
import h2.events
import h2.exceptions

PATH = b"/zkh2.test.v1.EchoService/Unary"


# ------------------------------------------------------------ protobuf by hand
def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def ld(field, data):
    return key(field, 2) + varint(len(data)) + data


def grpc_frame(msg, flag=0, length=None):
    return struct.pack(">BI", flag, len(msg) if length is None else length) + msg


def echo_request(text, seq):
    return ld(1, text.encode()) + key(2, 0) + varint(seq)


VALID = (ld(1, b"echo: valid") + key(2, 0) + varint(1) + key(4, 0) + varint(1)
         + ld(6, ld(1, b"meta") + key(2, 0) + varint(1700000000123)) + ld(8, b"valid"))
WRONG = (key(1, 0) + varint(150)                    # text: string sent as varint
         + ld(2, b"abc")                            # seq: int32 sent as bytes
         + key(4, 1) + struct.pack("<Q", 1)         # last: bool sent as fixed64
         + key(6, 5) + struct.pack("<I", 7)         # metas: message sent as fixed32
         + key(7, 0) + varint(5)                    # blob: bytes sent as varint
         + key(7, 7) + b"\x01\x02")                 # wire type 7 does not exist
RANDOM = random.Random(20240612).randbytes(48)
CORRUPT_GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + b"\xde\xad\xbe\xef" * 6

# name -> (grpc-encoding header or None, response body)
CASES = [
    ("valid", None, grpc_frame(VALID)),
    ("truncated", None, grpc_frame(VALID[:20], length=1000)),
    ("flag-no-encoding", None, grpc_frame(gzip.compress(VALID, mtime=0), flag=1)),
    ("unknown-encoding", b"snappy-x", grpc_frame(VALID, flag=1)),
    ("corrupt-gzip", b"gzip", grpc_frame(CORRUPT_GZIP, flag=1)),
    ("wrong-wire-types", None, grpc_frame(WRONG)),
    ("random-bytes", None, grpc_frame(RANDOM)),
]
BY_NAME = {name: (enc, body) for name, enc, body in CASES}


# ------------------------------------------------------------------- server
def serve(sock):
    conn = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=False, header_encoding=None))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    cases = {}
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.RequestReceived):
                    cases[ev.stream_id] = dict(ev.headers).get(b"x-zkh2-case", b"").decode()
                elif isinstance(ev, h2.events.DataReceived):
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    enc, body = BY_NAME.get(cases.get(ev.stream_id), BY_NAME["valid"])
                    hdrs = [(b":status", b"200"), (b"content-type", b"application/grpc")]
                    if enc:
                        hdrs.append((b"grpc-encoding", enc))
                    conn.send_headers(ev.stream_id, hdrs)
                    conn.send_data(ev.stream_id, body)
                    conn.send_headers(ev.stream_id, [(b"grpc-status", b"0")], end_stream=True)
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    sock.sendall(conn.data_to_send())
                    return
            sock.sendall(conn.data_to_send())
    except (ConnectionError, h2.exceptions.ProtocolError) as e:
        print("connection error: %r" % e, file=sys.stderr, flush=True)
    finally:
        sock.close()


def server(port):
    serve_forever(port, serve)


# ------------------------------------------------------------------- client
def client(port):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=True, header_encoding=None))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    for n, (name, _, _) in enumerate(CASES, 1):
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [
            (b":method", b"POST"), (b":scheme", b"http"), (b":path", PATH),
            (b":authority", b"127.0.0.1:%d" % port), (b"content-type", b"application/grpc"),
            (b"te", b"trailers"), (b"grpc-accept-encoding", b"identity,gzip"),
            (b"user-agent", b"zkh2-grpc-bad (python3-h2)"), (b"x-zkh2-case", name.encode())])
        conn.send_data(sid, grpc_frame(echo_request(name, n)), end_stream=True)
        sock.sendall(conn.data_to_send())
        trailers = None
        ended = False
        while not ended:
            data = sock.recv(65536)
            if not data:
                raise SystemExit("server closed during case %s" % name)
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.DataReceived):
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.TrailersReceived) and ev.stream_id == sid:
                    trailers = dict(ev.headers)
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                    ended = True
            sock.sendall(conn.data_to_send())
        print("stream %d %s: grpc-status %s" % (sid, name, trailers and trailers.get(b"grpc-status")),
              flush=True)
    conn.close_connection()
    sock.sendall(conn.data_to_send())
    sock.shutdown(socket.SHUT_WR)
    while sock.recv(65536):
        pass
    sock.close()


if __name__ == "__main__":
    {"server": server, "client": client}[sys.argv[1]](int(sys.argv[2]))
