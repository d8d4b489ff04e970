#!/usr/bin/python3
"""gRPC test server (Debian python3-grpcio 1.51, C core) for tests/record/record-grpc.sh.

    /usr/bin/python3 tests/record/grpc_server.py GEN_DIR PORT

GEN_DIR holds the stubs that the recorder generates at record time from
tests/captures/grpc/proto/zkh2/test/v1/echo.proto (`python3 -m grpc_tools.protoc`).
Listens on 127.0.0.1:PORT, cleartext HTTP/2 (prior knowledge, which is all grpc's C core
speaks without TLS). Service zkh2.test.v1.EchoService:

  Unary         echoes the request (text, seq, meta, blob if kind is KIND_BINARY, the text's
                words); kind KIND_ERROR fails the call with grpc-status error_code, a
                grpc-message and a custom trailer x-zkh2-detail
  ServerStream  `count` responses, `interval_ms` apart (stops early when the call is cancelled)
  ClientStream  one response once the client half-closes: the texts joined, the seq sum
  BidiStream    one response per request, sent as soon as the request arrives

A request header `x-zkh2-compress: gzip` makes the server compress its responses for that
call (context.set_compression), so its messages carry the compressed flag and the response
headers grpc-encoding: gzip. The C core only compresses a message when that makes it smaller.
"""
import sys
import time
from concurrent import futures

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
from zkh2.test.v1 import echo_pb2, echo_pb2_grpc  # noqa: E402

PORT = int(sys.argv[2])


def maybe_compress(context):
    for key, value in context.invocation_metadata():
        if key == "x-zkh2-compress" and value == "gzip":
            context.set_compression(grpc.Compression.Gzip)


def echo(req):
    resp = echo_pb2.EchoResponse(text="echo: " + req.text, seq=req.seq, kind=req.kind,
                                 total=len(req.blob) or sum(req.numbers),
                                 words=req.text.split()[:8])
    if req.HasField("meta"):
        resp.metas.append(req.meta)
    if req.kind == echo_pb2.KIND_BINARY:
        resp.blob = req.blob
    return resp


class Echo(echo_pb2_grpc.EchoServiceServicer):
    def Unary(self, req, context):
        maybe_compress(context)
        if req.kind == echo_pb2.KIND_ERROR:
            code = {c.value[0]: c for c in grpc.StatusCode}[req.error_code]
            context.set_trailing_metadata((("x-zkh2-detail", "seq=%d" % req.seq),))
            context.abort(code, "zkh2: failure requested by seq %d: %s" % (req.seq, req.text))
        return echo(req)

    def ServerStream(self, req, context):
        maybe_compress(context)
        for i in range(req.count):
            if i and req.interval_ms:
                time.sleep(req.interval_ms / 1000.0)
            if not context.is_active():
                return
            yield echo_pb2.EchoResponse(text="%s #%d" % (req.text, i), seq=i, kind=req.kind,
                                        total=req.count, last=i == req.count - 1,
                                        metas=[echo_pb2.Meta(key="tick", stamp=1000 * i)])

    def ClientStream(self, reqs, context):
        maybe_compress(context)
        texts, seqs, n = [], 0, 0
        for req in reqs:
            texts.append(req.text)
            seqs += req.seq
            n += 1
        return echo_pb2.EchoResponse(text=" + ".join(texts), seq=seqs, total=n, last=True,
                                     words=texts)

    def BidiStream(self, reqs, context):
        maybe_compress(context)
        for req in reqs:
            resp = echo(req)
            resp.last = req.flag
            yield resp


def main():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    echo_pb2_grpc.add_EchoServiceServicer_to_server(Echo(), server)
    server.add_insecure_port("127.0.0.1:%d" % PORT)
    server.start()
    print("listening on 127.0.0.1:%d" % PORT, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
