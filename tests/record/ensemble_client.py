#!/usr/bin/python3
"""Client steps for tests/record/record-ensemble.sh (kazoo 2.8, /usr/bin/python3).

    /usr/bin/python3 tests/record/ensemble_client.py PHASE HOST:PORT

PHASE
  write   create, setData, delete, a multi (transaction), an ephemeral and a
          sequential node, setACL, many 1 KiB nodes (so that a later SNAP carries a
          snapshot of several TCP segments), then close the session. Sent to a
          follower, so the writes travel to the leader as REQUEST packets.
  again   after the re-election: a few more writes on the new leader's ensemble.
  final   after the resync: one more write and a read, to show PROPOSAL/ACK/COMMIT
          reaching the re-joined servers.

Synchronous calls only: the same operations, paths and data on every run.
"""
import sys

from kazoo.client import KazooClient
from kazoo.security import make_digest_acl, OPEN_ACL_UNSAFE

PHASE = sys.argv[1]
HOSTS = sys.argv[2]


def connect():
    zk = KazooClient(hosts=HOSTS, timeout=10.0, connection_retry={"max_tries": 20, "delay": 0.2})
    zk.start(timeout=20)
    return zk


def write(zk):
    zk.create("/a", b"one")
    zk.set("/a", b"two")
    zk.create("/a/child", b"c")
    zk.create("/eph", b"e", ephemeral=True)
    seq = zk.create("/seq-", b"s", sequence=True)
    zk.set_acls("/a/child", [make_digest_acl("u", "p", all=True)] + OPEN_ACL_UNSAFE)
    tx = zk.transaction()
    tx.create("/m", b"multi")
    tx.check("/a", 1)
    tx.set_data("/a", b"three")
    tx.delete(seq)
    tx.commit()
    zk.delete("/a/child")
    zk.create("/bulk", b"")
    for n in range(24):
        zk.create("/bulk/n%02d" % n, bytes([0x41 + n % 26]) * 1024)
    zk.sync("/")


def again(zk):
    zk.create("/b", b"after re-election")
    zk.set("/b", b"b2")
    zk.delete("/m")


def final(zk):
    zk.create("/c", b"after resync")
    zk.get("/c")


def main():
    zk = connect()
    try:
        {"write": write, "again": again, "final": final}[PHASE](zk)
    finally:
        zk.stop()
        zk.close()
    print("ok", PHASE)


if __name__ == "__main__":
    main()
