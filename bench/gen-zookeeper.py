#!/usr/bin/python3
"""ZooKeeper load for the benchmark captures (driven by bench/gen-zookeeper.sh).

    /usr/bin/python3 bench/gen-zookeeper.py HOST:PORT TOTAL_OPS [PROCS] [CLIENTS_PER_PROC]

PROCS processes, each with CLIENTS_PER_PROC kazoo sessions (one TCP connection each), issue
TOTAL_OPS requests in all with kazoo's async API, keeping up to WINDOW requests outstanding
per session. The mix is deterministic per (process, client): create, getData (some with a
watch), setData (which fires those watches), exists (present and missing nodes), getChildren
and getChildren2, getACL, sync, a few multi transactions, delete, with data of 0 B to 100 KB.
Every request gets a reply, so the capture holds about 2 x TOTAL_OPS PDUs plus pings and
notifications. Prints a one-line summary per process.
"""

import multiprocessing
import random
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException

WINDOW = 64
# data sizes and their weights: mostly small, some medium, a few large (mean about 600 B)
SIZES = [0, 16, 100, 1000, 4000, 20000, 100000]
WEIGHTS = [20, 30, 30, 12, 5, 0.5, 0.1]


def worker(hosts, proc, clients, ops_per_client, out):
    zks = []
    for c in range(clients):
        zk = KazooClient(hosts=hosts, timeout=30.0)
        zk.start(timeout=30)
        zks.append(zk)
    root = "/bench/p%d" % proc
    zks[0].ensure_path(root)

    done = 0
    errors = 0
    lock = threading.Lock()

    def run_client(c, zk):
        nonlocal done, errors
        rnd = random.Random(proc * 1000 + c)
        base = "%s/c%d" % (root, c)
        zk.ensure_path(base)
        sem = threading.Semaphore(WINDOW)
        nodes = []
        serial = 0
        mine = 0
        my_errors = 0

        def finished(_result):
            nonlocal my_errors
            try:
                _result.get_nowait()
            except KazooException:
                my_errors += 1
            except Exception:
                my_errors += 1
            sem.release()

        for i in range(ops_per_client):
            sem.acquire()
            r = rnd.random()
            data = b"x" * rnd.choices(SIZES, WEIGHTS)[0]
            if r < 0.18 or not nodes:
                path = "%s/n%06d" % (base, serial)
                serial += 1
                nodes.append(path)
                a = zk.create_async(path, data)
            elif r < 0.40:
                a = zk.get_async(rnd.choice(nodes), watch=(lambda ev: None) if rnd.random() < 0.1 else None)
            elif r < 0.55:
                a = zk.set_async(rnd.choice(nodes), data)
            elif r < 0.67:
                p = rnd.choice(nodes) if rnd.random() < 0.7 else base + "/missing%d" % rnd.randrange(1000)
                a = zk.exists_async(p)
            elif r < 0.74:
                a = zk.get_children_async(base, include_data=rnd.random() < 0.5)
            elif r < 0.78:
                a = zk.get_acls_async(rnd.choice(nodes))
            elif r < 0.80:
                a = zk.sync_async(base)
            elif r < 0.83:
                t = zk.transaction()
                p = "%s/t%06d" % (base, serial)
                serial += 1
                t.create(p, data[:100])
                t.set_data(p, b"y")
                t.check(p, 1)
                t.delete(p)
                a = t.commit_async()
            elif len(nodes) > 20:
                p = nodes.pop(rnd.randrange(len(nodes)))
                a = zk.delete_async(p)
            else:
                a = zk.exists_async(base)
            a.rawlink(finished)
            mine += 1
        for _ in range(WINDOW):
            sem.acquire()
        with lock:
            done += mine
            errors += my_errors

    threads = [threading.Thread(target=run_client, args=(c, zk)) for c, zk in enumerate(zks)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.time() - t0
    for zk in zks:
        zk.stop()
        zk.close()
    out.put((proc, done, errors, dt))


def main():
    hosts = sys.argv[1]
    total = int(sys.argv[2])
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    clients = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    per_client = max(1, total // (procs * clients))
    boot = KazooClient(hosts=hosts, timeout=30.0)
    boot.start(timeout=30)
    boot.ensure_path("/bench")
    boot.stop()
    boot.close()
    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=worker, args=(hosts, p, clients, per_client, q)) for p in range(procs)]
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
    ok = True
    for proc, done, errors, dt in sorted(results):
        print("proc %d: %d ops (%d error replies) in %.1f s, %.0f ops/s" % (proc, done, errors, dt, done / dt))
        ok = ok and done == per_client * clients
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
