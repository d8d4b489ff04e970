#!/usr/bin/python3
"""Deterministic kazoo scenario recorded into tests/captures/zookeeper/kazoo-basic.pcapng.

Run with the Debian interpreter (/usr/bin/python3, package python3-kazoo 2.8):

    /usr/bin/python3 tests/record/zk_kazoo_scenario.py [127.0.0.1:2181]

Every step is a plain synchronous kazoo call, so requests go out one at a time
and the capture has the same operations, paths and data on every run (only
timestamps, ports, session id/password and zxids differ). Expects a fresh,
empty server (the recorder starts one with an empty dataDir).

kazoo 2.8 has no API for createContainer (opcode 19) or createTTL (opcode 21),
so those two requests are sent through kazoo's own connection with small
request classes below (same jute records the Java client writes).
"""
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import (BadVersionError, NoAuthError, NodeExistsError,
                              NotEmptyError)
from kazoo.protocol.serialization import Create2, long_struct
from kazoo.security import (OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, make_acl,
                            make_digest_acl)

HOSTS = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:2181"
WAIT = 5.0  # max seconds to wait for a watch event


class CreateContainer(Create2):
    """CreateRequest sent with opcode createContainer (19); reply is Create2Response."""
    type = 19


class CreateTTL(Create2):
    """CreateTTLRequest {path, data, acl, flags, long ttl}, opcode createTTL (21)."""
    type = 21

    def __new__(cls, path, data, acl, flags, ttl):
        self = super().__new__(cls, path, data, acl, flags)
        self.ttl = ttl
        return self

    def serialize(self):
        b = super().serialize()
        b.extend(long_struct.pack(self.ttl))
        return b


def call(zk, request):
    async_result = zk.handler.async_result()
    zk._call(request, async_result)
    return async_result.get()


def step(msg):
    print("kazoo: " + msg, flush=True)


def expect(exc_type, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        step("  -> got expected %s" % type(e).__name__)
        return
    raise SystemExit("expected %s from %s%r" % (exc_type.__name__, fn.__name__, args))


def main():
    zk = KazooClient(hosts=HOSTS, timeout=4.0)  # 4 s session => ping every ~1.3 s idle
    step("connect")
    zk.start(timeout=15)

    step("create /a (data, OPEN_ACL_UNSAFE)")
    zk.create("/a", b"hello", acl=OPEN_ACL_UNSAFE)

    step("create /a/eph-seq- (ephemeral + sequence)")
    p = zk.create("/a/eph-seq-", b"ephemeral", ephemeral=True, sequence=True)
    step("  -> " + p)

    step("create /a/seq- (persistent sequential)")
    p = zk.create("/a/seq-", b"seq", sequence=True)
    step("  -> " + p)

    step("create /acl-digest (digest:user:pass ALL only)")
    zk.create("/acl-digest", b"secret", acl=[make_digest_acl("user", "pass", all=True)])

    step("create /acl-world (world:anyone READ only, plus digest ALL)")
    zk.create("/acl-world", b"readonly",
              acl=READ_ACL_UNSAFE + [make_digest_acl("user", "pass", all=True)])

    step("create2 /c2 (include_data=True -> opcode 15)")
    p, stat = zk.create("/c2", b"create2", include_data=True)
    step("  -> %s czxid=%d" % (p, stat.czxid))

    step("createContainer /container (opcode 19, flags 4)")
    p, stat = call(zk, CreateContainer("/container", b"container", OPEN_ACL_UNSAFE, 4))
    step("  -> " + p)

    step("createTTL /ttl (opcode 21, flags 5 = PERSISTENT_WITH_TTL, ttl 60000 ms)")
    p, stat = call(zk, CreateTTL("/ttl", b"ttl", OPEN_ACL_UNSAFE, 5, 60000))
    step("  -> " + p)

    step("exists /a (exists)")
    assert zk.exists("/a") is not None
    step("exists /missing (NONODE)")
    assert zk.exists("/missing") is None

    # exists-watch on a missing node, then create it -> NodeCreated
    created = threading.Event()
    step("exists /w with watch (NONODE, watch set)")
    assert zk.exists("/w", watch=lambda ev: created.set()) is None
    step("create /w -> NodeCreated notification")
    zk.create("/w", b"w")
    assert created.wait(WAIT), "NodeCreated watch did not fire"

    # data watch then set from the same client -> NodeDataChanged
    changed = threading.Event()
    step("get /a with watch")
    data, stat = zk.get("/a", watch=lambda ev: changed.set())
    step("set /a -> NodeDataChanged notification")
    zk.set("/a", b"hello2")
    assert changed.wait(WAIT), "NodeDataChanged watch did not fire"

    # child watch then create a child -> NodeChildrenChanged
    children_changed = threading.Event()
    step("get_children /a with watch")
    zk.get_children("/a", watch=lambda ev: children_changed.set())
    step("create /a/child -> NodeChildrenChanged notification")
    zk.create("/a/child", b"child")
    assert children_changed.wait(WAIT), "NodeChildrenChanged watch did not fire"

    step("get_children /a include_data=True (getChildren2)")
    children, stat = zk.get_children("/a", include_data=True)
    step("  -> %s" % sorted(children))

    step("set /a with wrong version (BADVERSION)")
    expect(BadVersionError, zk.set, "/a", b"nope", version=99)

    step("create /a again (NODEEXISTS)")
    expect(NodeExistsError, zk.create, "/a", b"dup")

    step("delete /a (non-empty, NOTEMPTY)")
    expect(NotEmptyError, zk.delete, "/a")

    step("get /acl-digest before auth (NOAUTH)")
    expect(NoAuthError, zk.get, "/acl-digest")

    step("set /acl-world (world READ only, NOAUTH)")
    expect(NoAuthError, zk.set, "/acl-world", b"x")

    # data watch then delete -> NodeDeleted
    deleted = threading.Event()
    step("get /w with watch")
    zk.get("/w", watch=lambda ev: deleted.set())
    step("delete /w -> NodeDeleted notification")
    zk.delete("/w")
    assert deleted.wait(WAIT), "NodeDeleted watch did not fire"

    step("delete /a/child with version 0")
    zk.delete("/a/child", version=0)

    step("get_acls /a (getACL)")
    acls, stat = zk.get_acls("/a")
    step("  -> %r" % (acls,))

    step("set_acls /c2 (setACL: world READ|WRITE + digest ALL)")
    zk.set_acls("/c2", [make_acl("world", "anyone", read=True, write=True),
                        make_digest_acl("user", "pass", all=True)])

    step("sync /a")
    zk.sync("/a")

    step("add_auth digest user:pass (auth packet, xid -4)")
    zk.add_auth("digest", "user:pass")

    step("get /acl-digest after auth")
    data, stat = zk.get("/acl-digest")
    assert data == b"secret"

    step("get_acls /acl-digest")
    zk.get_acls("/acl-digest")

    big = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(200 * 1024))
    step("create /big with %d bytes" % len(big))
    zk.create("/big", big)
    step("get /big")
    data, stat = zk.get("/big")
    assert data == big and stat.dataLength == len(big)

    step("idle 4.2 s (pings)")
    time.sleep(4.2)

    step("delete /big")
    zk.delete("/big")

    step("stop/close (closeSession)")
    zk.stop()
    zk.close()
    step("done")


if __name__ == "__main__":
    main()
