#!/usr/bin/python3
"""Client workload for tests/record/record-writepath.sh (kazoo 2.8, /usr/bin/python3).

    /usr/bin/python3 tests/record/writepath_client.py ROLE HOST:PORT

ROLE is follower, leader or observer: the kind of server HOST:PORT is. It only names the
paths (/wp-ROLE...), so every run sends the same operations, paths and data:

    xid  op
    -    createSession (the ConnectRequest; no xid)
    1    create   /wp-ROLE       b"ROLE-0"
    2    create   /wp-ROLE/eph   b"eph", ephemeral (removed by the closeSession txn)
    3    setData  /wp-ROLE       b"ROLE-1"
    4    create   /wp-ROLE/old   b"old" (for the multi to delete)
    5    multi    create /wp-ROLE/m b"m0", setData /wp-ROLE b"ROLE-2", delete /wp-ROLE/old
    6    delete   /wp-ROLE/m
    7    sync     /wp-ROLE
    8    getData  /wp-ROLE (a read: answered by the server itself, no quorum stage)
    9    closeSession (zk.stop)

Synchronous calls only, so each request is answered before the next is sent. kazoo numbers
its xids from 1 after the connect; a ping (xid -2) may come in between if a call takes long.
"""
import sys

from kazoo.client import KazooClient

ROLE = sys.argv[1]
HOSTS = sys.argv[2]
if ROLE not in ("follower", "leader", "observer"):
    sys.exit("ROLE must be follower, leader or observer")


def main():
    base = "/wp-" + ROLE
    zk = KazooClient(hosts=HOSTS, timeout=10.0,
                     connection_retry={"max_tries": 20, "delay": 0.2})
    zk.start(timeout=20)                                   # createSession
    try:
        zk.create(base, (ROLE + "-0").encode())            # create
        zk.create(base + "/eph", b"eph", ephemeral=True)   # create ephemeral
        zk.set(base, (ROLE + "-1").encode())               # setData
        zk.create(base + "/old", b"old")                   # create (the multi deletes it)
        tx = zk.transaction()                              # multi: create+setData+delete
        tx.create(base + "/m", b"m0")
        tx.set_data(base, (ROLE + "-2").encode())
        tx.delete(base + "/old")
        res = tx.commit()
        if any(isinstance(r, Exception) for r in res):
            raise RuntimeError("multi failed: %r" % (res,))
        zk.delete(base + "/m")                             # delete
        zk.sync(base)                                      # sync
        data, _ = zk.get(base)                             # read
        assert data == (ROLE + "-2").encode(), data
    finally:
        zk.stop()                                          # closeSession
        zk.close()
    print("ok", ROLE)


if __name__ == "__main__":
    main()
