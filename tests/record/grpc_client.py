#!/usr/bin/python3
"""gRPC client scenarios (Debian python3-grpcio 1.51, C core) for tests/record/record-grpc.sh.

    /usr/bin/python3 tests/record/grpc_client.py GEN_DIR calls  HOST:PORT [CA_CERT NAME]
    /usr/bin/python3 tests/record/grpc_client.py GEN_DIR cut    HOST:PORT READY_FILE STOP_FILE

GEN_DIR holds the stubs generated from tests/captures/grpc/proto/zkh2/test/v1/echo.proto.

`calls`: one channel, hence one TCP connection, and these calls in this order (stream ids
1, 3, 5, ...). With CA_CERT and NAME the channel is TLS (ALPN h2), NAME being the
certificate's DNS name (grpc.ssl_target_name_override; also the SNI):
  1 Unary         every field type of EchoRequest set
  2 ServerStream  count 5, 20 ms apart
  3 ClientStream  4 requests
  4 BidiStream    4 requests, each sent only after the previous response arrived
                  (request, response, request, response, ...)
  5 Unary         gzip both ways: the request compressed per call (compression=Gzip), and
                  `x-zkh2-compress: gzip` makes the server compress the response; 3 KB text
  6 Unary         KIND_ERROR: answered with grpc-status 5 (NOT_FOUND), a grpc-message and
                  trailer x-zkh2-detail
  7 Unary         KIND_BINARY with a 100 KiB blob (seeded pseudo-random bytes), echoed back:
                  the request as one 100 KiB DATA frame over several TCP segments (the server
                  allows 4 MiB frames), the response as seven DATA frames of up to 16 KiB
                  (the client allows only 16 KiB frames)
  8 Unary         a last small call

`cut`: one ServerStream call with count 1000, 100 ms apart. After 15 responses it creates
READY_FILE (the recorder then stops the capture), and once STOP_FILE exists it cancels the
call and closes the channel.
"""
import os
import queue
import random
import sys
import time

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
from zkh2.test.v1 import echo_pb2, echo_pb2_grpc  # noqa: E402

MODE = sys.argv[2]
TARGET = sys.argv[3]
pb = echo_pb2


def channel(args):
    # The client keeps SETTINGS_MAX_FRAME_SIZE at the HTTP/2 default 16384, so the server
    # splits a big message into 16 KiB DATA frames; the server allows the C core's 4 MiB, so
    # the client sends a big message as one DATA frame over several TCP segments. With BDP
    # probing on, the C core advertises 4 MiB whatever grpc.http2.max_frame_size says, so the
    # client turns it off (the server still probes: its PINGs remain).
    options = [("grpc.http2.max_frame_size", 16384), ("grpc.http2.bdp_probe", 0)]
    if len(args) >= 2:
        with open(args[0], "rb") as f:
            creds = grpc.ssl_channel_credentials(root_certificates=f.read())
        return grpc.secure_channel(TARGET, creds,
                                   options=options + [("grpc.ssl_target_name_override", args[1])])
    return grpc.insecure_channel(TARGET, options=options)


def say(*a):
    print(*a, flush=True)


def calls(stub):
    # 1 unary: all field types
    r = stub.Unary(pb.EchoRequest(
        text="hello zkh2", seq=1, big=5000000000, flag=True, kind=pb.KIND_TEXT,
        numbers=[1, 2, 3, 300, -1], meta=pb.Meta(key="unary", stamp=1700000000123, tags=["a", "b"]),
        blob=b"\x00\x01\x02\xff", ratio=0.25, delta=-42), timeout=10)
    say("unary:", r.text)
    # 2 server streaming
    n = 0
    for r in stub.ServerStream(pb.EchoRequest(text="tick", seq=2, kind=pb.KIND_TEXT, count=5,
                                              interval_ms=20), timeout=10):
        n += 1
    say("server stream: %d responses" % n)
    # 3 client streaming
    r = stub.ClientStream(iter([pb.EchoRequest(text="part%d" % i, seq=10 + i, numbers=[i] * i)
                                for i in range(4)]), timeout=10)
    say("client stream:", r.text)
    # 4 bidi, strictly interleaved
    q = queue.Queue()

    def requests():
        while True:
            item = q.get()
            if item is None:
                return
            yield item
    q.put(pb.EchoRequest(text="bidi 0", seq=20, kind=pb.KIND_TEXT))
    got = 0
    for r in stub.BidiStream(requests(), timeout=10):
        got += 1
        say("bidi:", r.text)
        if got < 4:
            q.put(pb.EchoRequest(text="bidi %d" % got, seq=20 + got, kind=pb.KIND_TEXT,
                                 flag=got == 3))
        else:
            q.put(None)
    # 5 gzip both ways
    text = " ".join("compressible-word-%d" % (i % 10) for i in range(160))
    r = stub.Unary(pb.EchoRequest(text=text, seq=5, kind=pb.KIND_TEXT,
                                  meta=pb.Meta(key="gzip", tags=["x", "y", "z"])),
                   compression=grpc.Compression.Gzip, metadata=(("x-zkh2-compress", "gzip"),),
                   timeout=10)
    say("gzip: %d chars back" % len(r.text))
    # 6 error status
    try:
        stub.Unary(pb.EchoRequest(text="please fail", seq=6, kind=pb.KIND_ERROR, error_code=5),
                   timeout=10)
        raise SystemExit("error call succeeded")
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.NOT_FOUND:
            raise
        say("error:", e.code(), e.details())
    # 7 a 100 KiB blob both ways
    rnd = random.Random(20240611)
    blob = bytes(rnd.getrandbits(8) for _ in range(100 * 1024))
    r = stub.Unary(pb.EchoRequest(text="big", seq=7, kind=pb.KIND_BINARY, blob=blob), timeout=10)
    if r.blob != blob:
        raise SystemExit("big blob not echoed")
    say("big: %d bytes back" % len(r.blob))
    # 8 a last small call
    r = stub.Unary(pb.EchoRequest(text="bye", seq=8), timeout=10)
    say("unary:", r.text)


def cut(stub, ready, stop):
    call = stub.ServerStream(pb.EchoRequest(text="long stream", seq=1, kind=pb.KIND_TEXT,
                                            count=1000, interval_ms=100))
    n = 0
    try:
        for _ in call:
            n += 1
            if n == 15:
                open(ready, "w").close()
            if n >= 15 and os.path.exists(stop):
                break
    finally:
        call.cancel()
    say("cut: cancelled after %d responses" % n)
    time.sleep(0.2)


def main():
    if MODE == "calls":
        ch = channel(sys.argv[4:])
        calls(echo_pb2_grpc.EchoServiceStub(ch))
    elif MODE == "cut":
        ch = channel([])
        cut(echo_pb2_grpc.EchoServiceStub(ch), sys.argv[4], sys.argv[5])
    else:
        raise SystemExit("unknown mode " + MODE)
    ch.close()


if __name__ == "__main__":
    main()
