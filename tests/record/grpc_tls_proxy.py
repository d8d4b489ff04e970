#!/usr/bin/python3
"""TLS-terminating TCP proxy for tests/record/record-grpc.sh: grpc's C core (BoringSSL)
writes no key log, so the gRPC client talks TLS to this proxy, which writes one.

    /usr/bin/python3 tests/record/grpc_tls_proxy.py LISTEN_PORT UPSTREAM_PORT CERT KEY KEYLOG

Listens on 127.0.0.1:LISTEN_PORT with the certificate CERT/KEY, ALPN `h2` only, and writes
the NSS key log of every session to KEYLOG (ssl.SSLContext.keylog_filename). Each accepted
connection gets one cleartext connection to 127.0.0.1:UPSTREAM_PORT (the h2c gRPC server)
and the decrypted bytes are copied both ways unchanged. The client's EOF is passed on as a
half-close; the server's EOF closes both connections (no TLS close_notify).
"""
import select
import socket
import ssl
import sys
import threading

LISTEN, UPSTREAM = int(sys.argv[1]), int(sys.argv[2])
CERT, KEY, KEYLOG = sys.argv[3:6]


def relay(tls, up):
    """Copy bytes both ways in one thread (one OpenSSL object must not be read and written
    from two threads at once) until both directions have seen EOF."""
    open_in = {tls: True, up: True}
    peer = {tls: up, up: tls}
    while any(open_in.values()):
        readable, _, _ = select.select([s for s, o in open_in.items() if o], [], [])
        for s in readable:
            try:
                data = s.recv(65536)
                while isinstance(s, ssl.SSLSocket) and data and s.pending():
                    data += s.recv(s.pending())
            except ssl.SSLWantReadError:
                continue               # only part of a TLS record arrived
            except (OSError, ssl.SSLError) as e:
                print("recv: %r" % e, file=sys.stderr, flush=True)
                data = b""
            if data:
                peer[s].sendall(data)
                continue
            open_in[s] = False         # EOF: pass on as a half-close
            try:
                if peer[s] is up:
                    up.shutdown(socket.SHUT_WR)
                else:
                    open_in[tls] = False
            except OSError:
                pass


def serve(ctx, raw):
    try:
        tls = ctx.wrap_socket(raw, server_side=True)
    except (OSError, ssl.SSLError) as e:
        print("handshake: %r" % e, file=sys.stderr, flush=True)
        raw.close()
        return
    print("TLS %s, ALPN %s" % (tls.version(), tls.selected_alpn_protocol()), flush=True)
    up = socket.create_connection(("127.0.0.1", UPSTREAM))
    up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        relay(tls, up)
    finally:
        for s in (tls, up):
            try:
                s.close()
            except OSError:
                pass


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    ctx.set_alpn_protocols(["h2"])
    ctx.keylog_filename = KEYLOG
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", LISTEN))
    srv.listen(16)
    print("listening on 127.0.0.1:%d -> 127.0.0.1:%d" % (LISTEN, UPSTREAM), flush=True)
    while True:
        s, _ = srv.accept()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(ctx, s), daemon=True).start()


if __name__ == "__main__":
    main()
