#!/usr/bin/python3
"""kazoo scenario recorded into tests/captures/zookeeper/kazoo-watches.pcapng.

    /usr/bin/python3 tests/record/zk_kazoo_watches.py [127.0.0.1:2181]

Covers what kazoo-basic does not: watches of every kind and where they fire, a failing
transaction (multi whose check fails: header err 0, per-op error results), multiRead
with an error result, checkWatches, and a reconnect that resumes the
session on a second TCP connection (ConnectRequest with the session id and password,
xids continuing), after which the watches are re-set with setWatches and setWatches2
sent with ordinary xids.

kazoo 2.8 has no API for addWatch (106), checkWatches (17), setWatches2 (105), setWatches
(101, it never re-sends watches itself) or multiRead (22); those are sent through kazoo's
own connection with the small request classes below (the jute records of the Java client).
Expects a fresh, empty server.
"""
import socket
import sys
import threading
import time
from collections import namedtuple

from kazoo.client import KazooClient, KazooState
from kazoo.protocol.serialization import (GetChildren, GetData, MultiHeader,
                                          int_struct, long_struct,
                                          write_string)

HOSTS = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:2181"
WAIT = 5.0


class AddWatch(namedtuple("AddWatch", "path mode")):
    """AddWatchRequest {path, int mode}: 0 PERSISTENT, 1 PERSISTENT_RECURSIVE."""
    type = 106

    def serialize(self):
        b = bytearray(write_string(self.path))
        b.extend(int_struct.pack(self.mode))
        return b

    @classmethod
    def deserialize(cls, bytes, offset):
        return None


class CheckWatches(namedtuple("CheckWatches", "path watcher_type")):
    """CheckWatchesRequest {path, int type}: 1 children, 2 data, 3 any."""
    type = 17

    def serialize(self):
        b = bytearray(write_string(self.path))
        b.extend(int_struct.pack(self.watcher_type))
        return b

    @classmethod
    def deserialize(cls, bytes, offset):
        return None


def _string_vector(paths):
    b = bytearray(int_struct.pack(len(paths)))
    for p in paths:
        b.extend(write_string(p))
    return b


class SetWatches(namedtuple("SetWatches", "zxid data exist child")):
    type = 101

    def serialize(self):
        b = bytearray(long_struct.pack(self.zxid))
        for lst in (self.data, self.exist, self.child):
            b.extend(_string_vector(lst))
        return b

    @classmethod
    def deserialize(cls, bytes, offset):
        return None


class SetWatches2(namedtuple("SetWatches2", "zxid data exist child persistent recursive")):
    type = 105

    def serialize(self):
        b = bytearray(long_struct.pack(self.zxid))
        for lst in (self.data, self.exist, self.child, self.persistent, self.recursive):
            b.extend(_string_vector(lst))
        return b

    @classmethod
    def deserialize(cls, bytes, offset):
        return None


class MultiRead(namedtuple("MultiRead", "operations")):
    """multiRead (22): getData / getChildren ops; results are not decoded here."""
    type = 22

    def serialize(self):
        b = bytearray()
        for op in self.operations:
            b.extend(MultiHeader(op.type, False, -1).serialize() + op.serialize())
        b.extend(MultiHeader(-1, True, -1).serialize())
        return b

    @classmethod
    def deserialize(cls, bytes, offset):
        return None


def call(zk, request):
    r = zk.handler.async_result()
    zk._call(request, r)
    return r.get(timeout=10)


def step(msg):
    print("kazoo-watches: " + msg, flush=True)


def try_call(zk, request, what):
    try:
        call(zk, request)
        step("  %s -> OK" % what)
    except Exception as e:  # error replies on purpose
        step("  %s -> %s" % (what, type(e).__name__))


def main():
    zk = KazooClient(hosts=HOSTS, timeout=10.0)
    zk.start(timeout=15)
    fired = threading.Event()

    def watcher(event):
        step("  watch fired: %s %s" % (event.type, event.path))
        fired.set()

    def fire(fn, *args):
        fired.clear()
        fn(*args)
        fired.wait(WAIT)

    step("nodes")
    for p in ("/w", "/w/data", "/w/kids", "/p", "/r"):
        zk.create(p, b"x")

    step("one-shot watches: getData, exists (missing node), getChildren")
    zk.get("/w/data", watch=watcher)
    zk.exists("/w/new", watch=watcher)
    zk.get_children("/w/kids", watch=watcher)
    try_call(zk, CheckWatches("/w/data", 2), "checkWatches /w/data data")
    # (checkWatches on a path without a watch gets NOWATCHER, -121, which kazoo 2.8
    # does not know: it drops the connection. So only the successful one.)
    fire(zk.set, "/w/data", b"y")               # NodeDataChanged  <- getData
    fire(zk.create, "/w/new", b"n")              # NodeCreated      <- exists
    fire(zk.create, "/w/kids/k1", b"k")          # NodeChildrenChanged <- getChildren
    zk.set("/w/data", b"z")                      # consumed: no notification

    step("persistent and persistent recursive watches (addWatch)")
    call(zk, AddWatch("/p", 0))
    call(zk, AddWatch("/r", 1))
    zk.create("/p/c1", b"1")                     # NodeChildrenChanged /p
    zk.set("/p", b"2")                           # NodeDataChanged /p
    zk.create("/r/a", b"1")                      # NodeCreated /r/a
    zk.create("/r/a/b", b"1")                    # NodeCreated /r/a/b
    zk.set("/r/a/b", b"2")                       # NodeDataChanged /r/a/b
    zk.delete("/r/a/b")                          # NodeDeleted /r/a/b
    time.sleep(0.3)

    step("failing transaction: check with a wrong version, then a create")
    t = zk.transaction()
    t.check("/w", 99)
    t.create("/w/tx-never", b"")
    step("  results: %r" % (t.commit(),))
    t = zk.transaction()
    t.create("/w/tx", b"t")
    t.set_data("/w/tx", b"u")
    t.delete("/w/tx")
    step("  results: %r" % (t.commit(),))
    step("multiRead with a missing node")
    call(zk, MultiRead([GetData("/w/data", False), GetChildren("/w/kids", False),
                        GetData("/w/missing", False)]))

    step("watches before the reconnect")
    zk.get("/w/data", watch=watcher)
    zk.get_children("/w", watch=watcher)

    step("drop the TCP connection: kazoo reconnects and resumes the session")
    back = threading.Event()

    def listener(state):
        if state == KazooState.CONNECTED:
            back.set()

    zk.add_listener(listener)
    sock = zk._connection._socket
    sock.shutdown(socket.SHUT_RDWR)
    if not back.wait(15):
        raise SystemExit("no reconnect")
    zk.remove_listener(listener)
    time.sleep(0.2)

    step("re-set watches with ordinary xids: setWatches, then setWatches2")
    zxid = zk.last_zxid
    call(zk, SetWatches(zxid, ["/w/data"], ["/w/later"], ["/w"]))
    call(zk, SetWatches2(zxid, [], [], [], ["/p"], ["/r"]))
    fire(zk.set, "/w/data", b"after")            # NodeDataChanged  <- setWatches data
    zk.create("/w/later", b"l")                  # NodeCreated /w/later <- exist; NodeChildrenChanged /w <- child
    zk.create("/r/after", b"a")                  # NodeCreated <- setWatches2 recursive
    zk.set("/p", b"3")                           # NodeDataChanged <- setWatches2 persistent
    time.sleep(0.5)

    step("close")
    zk.stop()
    zk.close()


if __name__ == "__main__":
    main()
