#!/usr/bin/python3
"""kazoo scenario over TLS, recorded into tests/captures/zookeeper/kazoo-tls.pcapng.

Run with the Debian interpreter (/usr/bin/python3, package python3-kazoo 2.8), with the
server's secure client port and the file that receives the TLS session keys:

    ZK_KEYLOG=/tmp/keys.txt /usr/bin/python3 tests/record/zk_kazoo_tls.py [127.0.0.1:2281]

kazoo builds its own ssl.SSLContext, which (unlike ssl.create_default_context) ignores
SSLKEYLOGFILE. So the context factory kazoo's connection code looks up is replaced by one
that also sets keylog_filename; the recorder commits the key log beside the capture
(kazoo-tls.keys), for tshark's -o tls.keylog_file.

The steps exercise what TLS changes for a dissector: a 300 KB znode, whose reply spans many
TLS records and TCP segments; a watch and its notification; a multi; pings are left out
(timing dependent).
"""
import os
import ssl
import sys
import threading
import types

import kazoo.handlers.utils as kazoo_utils
from kazoo.client import KazooClient

HOSTS = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:2281"
KEYLOG = os.environ["ZK_KEYLOG"]


def keylog_context(protocol):
    ctx = ssl.SSLContext(protocol)
    ctx.keylog_filename = KEYLOG
    return ctx


# The ssl module as kazoo's connection code sees it, with the keylogging factory.
ssl_with_keylog = types.SimpleNamespace(
    **{k: getattr(ssl, k) for k in dir(ssl) if not k.startswith("__")})
ssl_with_keylog.SSLContext = keylog_context
kazoo_utils.ssl = ssl_with_keylog

zk = KazooClient(hosts=HOSTS, use_ssl=True, verify_certs=False, timeout=10)
zk.start(timeout=15)

zk.create("/tls", b"over tls")
big = bytes(range(256)) * 1200  # 307,200 bytes
zk.create("/tls/big", big)
data, _ = zk.get("/tls/big")
assert data == big, "big znode read back differs"

fired = threading.Event()
zk.exists("/tls/watched", watch=lambda event: fired.set())
zk.create("/tls/watched", b"w")
assert fired.wait(5), "no NodeCreated notification"

print(sorted(zk.get_children("/tls")))
tx = zk.transaction()
tx.create("/tls/a", b"a")
tx.set_data("/tls", b"changed")
print(tx.commit())
zk.delete("/tls", recursive=True)
zk.stop()
zk.close()
print("kazoo-tls scenario done")
