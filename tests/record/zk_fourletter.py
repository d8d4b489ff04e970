#!/usr/bin/python3
"""Four-letter-word connections recorded into tests/captures/zookeeper/fourletter.pcapng.

    /usr/bin/python3 tests/record/zk_fourletter.py [127.0.0.1] [2181]

One TCP connection per command, sent in a single write, then the reply is read
until the server closes the connection. The order and bytes are fixed.
"""
import socket
import struct
import sys
import time

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 2181

TRACE_MASK = 0x0000000000000112  # value sent with stmk (8-byte big-endian long)

COMMANDS = [
    b"ruok",                                  # bare word, no newline
    b"ruok\n",                                # nc/echo style, trailing newline
    b"stat",
    b"srvr\n",
    b"conf",
    b"cons\n",
    b"mntr",
    b"envi",
    b"isro\n",
    b"wchs",
    b"dirs",
    b"stmk" + struct.pack(">q", TRACE_MASK),  # stmk + long trace mask
    b"gtmk",
]


def run(cmd):
    s = socket.create_connection((HOST, PORT), timeout=10)
    try:
        s.sendall(cmd)
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    finally:
        s.close()
    return b"".join(chunks)


def main():
    for cmd in COMMANDS:
        reply = run(cmd)
        first = reply.split(b"\n", 1)[0][:70]
        print("4lw: %-22r -> %5d bytes: %r" % (cmd, len(reply), first), flush=True)
        if not reply:
            raise SystemExit("no reply for %r" % cmd)
        time.sleep(0.1)


if __name__ == "__main__":
    main()
