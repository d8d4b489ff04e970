#!/usr/bin/python3
"""Tiny HTTP/2 cleartext test server for tests/record/record-h2.sh (Debian python3-h2 4.1).

    /usr/bin/python3 tests/record/h2_server.py PORT

Listens on 127.0.0.1:PORT. Accepts prior-knowledge h2c (client preface first) and the
HTTP/1.1 `Upgrade: h2c` dance (101 Switching Protocols, then stream 1 answers the 1.1
request). Every response is fixed by its path, so recordings are repeatable:

  /gzip /deflate /br    a text body with content-encoding gzip (mtime 0), deflate (zlib) or br
  /trailers             a text body, then a HEADERS frame with trailers (END_STREAM)
  /grpc/...             gRPC-like: content-type application/grpc, one length-prefixed
                        message, trailers grpc-status: 0 and grpc-message
  /push                 PUSH_PROMISE for /pushed.css on the request's stream, then both responses
  /rst                  response HEADERS and one DATA frame, then RST_STREAM (CANCEL)
  /bigheaders           a response header of 40,000 bytes (30 KB Huffman-coded): HEADERS + CONTINUATION frames
  /ping                 answers, then the server sends a PING (the client ACKs it)
  /goaway               answers, then the server sends GOAWAY (NO_ERROR) and closes
  /echo                 the request body back (POST)
  anything else         a small text/plain body naming the path

Flow control is honoured: DATA is sent only as far as both windows allow.
"""

import brotli
import gzip
import sys
import zlib

from tcpserve import serve_forever

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

TEXT = ("HTTP/2 test body for the zkh2 dissector. " * 40).encode()
PUSHED_CSS = b"body { font-family: monospace; color: #333; }\n" * 4


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.h2 = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding=None)
        )
        self.pending = {}  # stream id -> [bytes left, trailers or None, end]
        self.bodies = {}  # stream id -> received request body
        self.requests = {}  # stream id -> request headers (dict)
        self.closing = False

    # ------------------------------------------------------------ output
    def flush(self):
        out = self.h2.data_to_send()
        if out:
            self.sock.sendall(out)

    def queue(self, sid, data, trailers=None):
        self.pending[sid] = [data, trailers]
        self.pump()

    def pump(self):
        for sid in list(self.pending):
            data, trailers = self.pending[sid]
            try:
                while data:
                    window = self.h2.local_flow_control_window(sid)
                    size = min(window, self.h2.max_outbound_frame_size, len(data))
                    if size <= 0:
                        break
                    chunk, data = data[:size], data[size:]
                    self.h2.send_data(sid, chunk, end_stream=not data and trailers is None)
                if data:
                    self.pending[sid][0] = data
                    continue
                if trailers is not None:
                    self.h2.send_headers(sid, trailers, end_stream=True)
            except h2.exceptions.StreamClosedError:
                pass
            del self.pending[sid]
        self.flush()

    def respond(self, sid, status, headers, body, trailers=None):
        hdrs = [(b":status", str(status).encode())] + headers
        if trailers is None:
            hdrs.append((b"content-length", str(len(body)).encode()))
        self.h2.send_headers(sid, hdrs, end_stream=not body and trailers is None)
        if body or trailers is not None:
            self.queue(sid, body, trailers)
        self.flush()

    # ----------------------------------------------------------- routing
    def handle(self, sid):
        req = self.requests.pop(sid)
        path = req.get(b":path", b"/").decode()
        body = bytes(self.bodies.pop(sid, b""))
        server = [(b"server", b"zkh2-h2_server/1")]
        plain = server + [(b"content-type", b"text/plain")]
        if path in ("/gzip", "/deflate", "/br"):
            enc = path[1:]
            if enc == "gzip":
                data = gzip.compress(TEXT, mtime=0)
            elif enc == "deflate":
                data = zlib.compress(TEXT)
            else:
                data = brotli.compress(TEXT)
            self.respond(sid, 200, plain + [(b"content-encoding", enc.encode()), (b"vary", b"accept-encoding")], data)
        elif path == "/trailers":
            self.respond(sid, 200, plain + [(b"trailer", b"x-checksum")], TEXT,
                         trailers=[(b"x-checksum", b"%08x" % zlib.crc32(TEXT)), (b"x-trailer-note", b"done")])
        elif path.startswith("/grpc/"):
            msg = b"\x0a\x05hello\x10\x2a"  # a small protobuf-looking message
            frame = b"\x00" + len(msg).to_bytes(4, "big") + msg
            self.respond(sid, 200, server + [(b"content-type", b"application/grpc"), (b"grpc-encoding", b"identity")],
                         frame, trailers=[(b"grpc-status", b"0"), (b"grpc-message", b"OK")])
        elif path == "/push":
            promised = self.h2.get_next_available_stream_id()
            authority = req.get(b":authority", b"127.0.0.1")
            self.h2.push_stream(sid, promised, [
                (b":method", b"GET"), (b":scheme", b"http"), (b":authority", authority), (b":path", b"/pushed.css")])
            self.respond(sid, 200, server + [(b"content-type", b"text/html")],
                         b'<html><head><link rel="stylesheet" href="/pushed.css"></head><body>push</body></html>\n')
            self.respond(promised, 200, server + [(b"content-type", b"text/css")], PUSHED_CSS)
        elif path == "/rst":
            self.h2.send_headers(sid, [(b":status", b"200")] + plain)
            self.h2.send_data(sid, TEXT[:100])
            self.h2.reset_stream(sid, error_code=8)  # CANCEL
            self.flush()
        elif path == "/bigheaders":
            self.respond(sid, 200, plain + [(b"x-big", b"b" * 40000), (b"x-after-big", b"still here")], b"big headers\n")
        elif path == "/ping":
            self.respond(sid, 200, plain, b"pong follows\n")
            self.h2.ping(b"zkh2ping")
            self.flush()
        elif path == "/goaway":
            self.respond(sid, 200, plain, b"goodbye\n")
            self.pump()
            self.h2.close_connection(error_code=0)
            self.flush()
            self.closing = True
        elif path.startswith("/status/") and path[8:].isdigit():
            # an error response with a plain-text body: /status/500
            code = int(path[8:])
            self.respond(sid, code, plain, ("status %d\n" % code).encode())
        elif path == "/echo":
            self.respond(sid, 200, server + [(b"content-type", b"application/octet-stream")], body)
        else:
            self.respond(sid, 200, plain, ("you asked for %s\n" % path).encode())

    def events(self, evs):
        for ev in evs:
            if isinstance(ev, h2.events.RequestReceived):
                self.requests[ev.stream_id] = dict(ev.headers)
                if ev.stream_ended:
                    self.handle(ev.stream_id)
            elif isinstance(ev, h2.events.DataReceived):
                self.bodies.setdefault(ev.stream_id, bytearray()).extend(ev.data)
                self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                if ev.stream_id in self.requests:
                    self.handle(ev.stream_id)
            elif isinstance(ev, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
                self.pump()
            elif isinstance(ev, h2.events.StreamReset):
                self.pending.pop(ev.stream_id, None)
        self.flush()

    # ------------------------------------------------------------- start
    def run(self):
        first = b""
        while len(first) < 24:
            chunk = self.sock.recv(65536)
            if not chunk:
                return
            first += chunk
            if not b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".startswith(first[:24]):
                break
        if first.startswith(b"PRI * HTTP/2.0"):
            self.h2.initiate_connection()
            self.flush()
            self.events(self.h2.receive_data(first))
        else:
            while b"\r\n\r\n" not in first:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                first += chunk
            head, rest = first.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            method, target, _ = lines[0].split(b" ", 2)
            hdrs = {}
            for line in lines[1:]:
                k, v = line.split(b":", 1)
                hdrs[k.strip().lower()] = v.strip()
            if hdrs.get(b"upgrade", b"").lower() != b"h2c":
                body = b"HTTP/2 only\n"
                self.sock.sendall(b"HTTP/1.1 505 HTTP Version Not Supported\r\ncontent-length: %d\r\n\r\n%s"
                                  % (len(body), body))
                return
            self.sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
            self.h2.initiate_upgrade_connection(hdrs.get(b"http2-settings"))
            self.flush()
            self.requests[1] = {b":method": method, b":path": target,
                                b":authority": hdrs.get(b"host", b"127.0.0.1")}
            if rest:
                self.events(self.h2.receive_data(rest))
            self.handle(1)
        while not self.closing:
            data = self.sock.recv(65536)
            if not data:
                break
            self.events(self.h2.receive_data(data))
        self.flush()


def serve(sock):
    try:
        Conn(sock).run()
    except (ConnectionError, h2.exceptions.ProtocolError) as e:
        print("connection error: %r" % e, file=sys.stderr)
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    port = int(sys.argv[1])
    serve_forever(port, serve)


if __name__ == "__main__":
    main()
