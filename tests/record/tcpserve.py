"""Shared by the recording servers (h2_server.py, grpc_bad.py): a threaded TCP server on
127.0.0.1."""
import socket
import threading


def serve_forever(port, serve):
    """Accepts connections on 127.0.0.1:`port` forever, each served by `serve(sock)` in its
    own thread (TCP_NODELAY set)."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    print("listening on 127.0.0.1:%d" % port, flush=True)
    while True:
        s, _ = srv.accept()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(s,), daemon=True).start()
