#!/usr/bin/python3
"""Independent oracle for tests/captures/ensemble/writepath.pcapng: follow every client
write through the ZooKeeper ensemble, from the raw TCP bytes.

    /usr/bin/python3 tests/record/writepath_chain.py FILE [--out JSON] [--check]
        [--client-ports 24181-24184] [--quorum-ports 24888-24891]

It does not use the plugin's dissection: tshark (with TCP reassembly off and the plugin's
protocols disabled when they are registered) only hands over each segment's tcp.payload.
This script puts every TCP direction back together by sequence number, cuts it into PDUs
itself and attributes each PDU to the frame in which its last byte arrived (where Wireshark
shows a reassembled PDU). Port n of a range belongs to server n (24181 and 24888 are server 1).

Client ports: int32 length + record. The first client record is the ConnectRequest
(protocolVersion, lastZxidSeen, timeOut, sessionId, passwd[, readOnly]), the first server
record the ConnectResponse (protocolVersion, timeOut, sessionId, passwd[, readOnly]); then
RequestHeader{xid, type} and ReplyHeader{xid, zxid, err}. A connection whose first four
bytes are a four-letter word (the recorder's `srvr` probes) is skipped.

Quorum ports: QuorumPacket{int type; long zxid; buffer data; vector<Id> authinfo} with no
outer length prefix (docs/zookeeper-protocol.md §3.13), after a SNAP the raw snapshot up to
"BenWasHere". The learner connects to the leader's quorum port, so the side that owns the
quorum port is the leader; the learner names itself in FOLLOWERINFO / OBSERVERINFO (long sid).
  REQUEST  (1, learner->leader)  data = long sessionId, int cxid, int type, request bytes
  PROPOSAL (2, leader->follower) data = TxnHeader{long clientId, int cxid, long zxid,
                                 long time, int type} + txn (+ digest)
  ACK      (3, learner->leader)  QuorumPacket.zxid
  COMMIT   (4, leader->follower) QuorumPacket.zxid
  SYNC     (7, leader->learner)  answers the learner's sync REQUEST; paired FIFO per link
  INFORM   (8, leader->observer) QuorumPacket.zxid, data = TxnHeader + txn

Chain of one client op (session S, xid X, opcode T, on server N):
  request_in   REQUEST frames with (S, X, T); none when N is the leader
  zxid         from the PROPOSAL/INFORM whose TxnHeader has (clientId S, cxid X); for
               createSession (no xid on the wire) (clientId S, type -10); compared with the
               reply's zxid
  proposal_in  PROPOSAL frames with that zxid (one per follower link)
  ack_in       ACK frames with that zxid (followers only; the leader acks its own proposal
               inside the process, with no packet)
  commit_in    COMMIT frames with that zxid (one per follower link)
  inform_in    INFORM frames with that zxid (one per observer link)
  sync_in      for sync (9) from a learner: the leader's SYNC to that learner
Reads (every other opcode) are listed with no hops.

Stage medians, in microseconds, over the complete writes (every hop found):
  request->forwarded   client request frame -> first REQUEST frame (learner writes only)
  forwarded->proposed  REQUEST frame (the client request when the leader took it directly)
                       -> first PROPOSAL frame
  proposed->quorum     first PROPOSAL -> first ACK frame. With 3 voters a majority is 2; the
                       leader counts its own ACK when its own log write is done, which sends
                       no packet, so the first follower ACK is the one that can complete the
                       majority. (The leader's own ACK may come later than that; the commit
                       then waits for it, and the time shows up in quorum->commit.)
  quorum->commit       that ACK -> first COMMIT frame
  commit->reply        the COMMIT to the server that holds the client connection (the INFORM
                       to it for an observer, the first COMMIT for the leader) -> the reply
--check exits 1 unless: learner writes have request_in and leader writes none; every write
has at least one PROPOSAL, ACK and COMMIT and (with observers) an INFORM; no PROPOSAL or
COMMIT goes to an observer; reply zxid = txn zxid; learner syncs have request_in and sync_in;
no read was forwarded.
"""
import argparse
import bisect
import json
import os
import struct
import subprocess
import sys
from collections import defaultdict

OPS = {0: "notification", 1: "create", 2: "delete", 3: "exists", 4: "getData", 5: "setData",
       6: "getACL", 7: "setACL", 8: "getChildren", 9: "sync", 11: "ping", 12: "getChildren2",
       13: "check", 14: "multi", 15: "create2", 16: "reconfig", 17: "checkWatches",
       18: "removeWatches", 19: "createContainer", 20: "deleteContainer", 21: "createTTL",
       22: "multiRead", 100: "auth", 101: "setWatches", 102: "sasl", 103: "getEphemerals",
       104: "getAllChildrenNumber", 105: "setWatches2", 106: "addWatch", 107: "whoAmI",
       -10: "createSession", -11: "closeSession", -1: "error"}
WRITE_OPS = {1, 2, 5, 7, 14, 15, 16, 19, 20, 21, -10, -11}
ZAB = {1: "REQUEST", 2: "PROPOSAL", 3: "ACK", 4: "COMMIT", 5: "PING", 6: "REVALIDATE",
       7: "SYNC", 8: "INFORM", 9: "COMMITANDACTIVATE", 10: "NEWLEADER", 11: "FOLLOWERINFO",
       12: "UPTODATE", 13: "DIFF", 14: "TRUNC", 15: "SNAP", 16: "OBSERVERINFO",
       17: "LEADERINFO", 18: "ACKEPOCH", 19: "INFORMANDACTIVATE"}
SIG = b"\x00\x00\x00\x0aBenWasHere"
FOURLW = {b"conf", b"cons", b"crst", b"dirs", b"dump", b"envi", b"gtmk", b"hash", b"isro",
          b"mntr", b"ruok", b"srst", b"srvr", b"stat", b"stmk", b"wchc", b"wchp", b"wchs"}
HOPS = ("request_in", "proposal_in", "ack_in", "commit_in", "inform_in", "sync_in")


def port_range(text):
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def tshark_disable_args():
    """--disable-protocol for the plugin's protocols, when they are registered at all."""
    try:
        out = subprocess.run(["tshark", "-G", "protocols"], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    names = {line.split("\t")[2] for line in out.splitlines() if line.count("\t") >= 2}
    args = []
    for p in ("zookeeper", "zab", "zkelection"):
        if p in names:
            args += ["--disable-protocol", p]
    return args


class Direction:
    """One TCP direction, put together by sequence number."""

    def __init__(self):
        self.buf = bytearray()
        self.next = None
        self.ends = []        # end offset (exclusive) of each appended chunk
        self.frames = []      # (frame, time) that delivered that chunk
        self.pending = {}     # seq -> (bytes, frame, time), segments ahead of a hole
        self.retrans = 0
        self.out_of_order = 0

    def _append(self, raw, frame, t):
        self.buf += raw
        self.next += len(raw)
        self.ends.append(len(self.buf))
        self.frames.append((frame, t))

    def add(self, seq, raw, frame, t):
        if self.next is None:
            self.next = seq
        if seq > self.next:
            self.out_of_order += 1
            self.pending[seq] = (raw, frame, t)
            return
        skip = self.next - seq
        if skip >= len(raw):
            self.retrans += 1
            return
        if skip:
            self.retrans += 1
        self._append(raw[skip:], frame, t)
        # a hole filled: the buffered segments count as arriving now (in this frame)
        while self.pending:
            usable = [s for s in self.pending if s <= self.next]
            if not usable:
                break
            for s in sorted(usable):
                praw, _, _ = self.pending.pop(s)
                if s + len(praw) > self.next:
                    self._append(praw[self.next - s:], frame, t)

    def frame_of(self, end):
        """(frame, time) in which byte end-1 arrived."""
        i = bisect.bisect_left(self.ends, end)
        return self.frames[i]


def read_directions(path):
    cmd = ["tshark", "-n", "-r", path, "-o", "tcp.desegment_tcp_streams:FALSE"]
    cmd += tshark_disable_args()
    cmd += ["-Y", "tcp.len > 0", "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch",
            "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.seq",
            "-e", "tcp.payload"]
    env = dict(os.environ, LC_ALL="C")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    dirs = {}
    order = []
    frames = 0
    for line in out.splitlines():
        frame, t, stream, sport, dport, seq, payload = line.split("\t")
        key = (int(stream), int(sport), int(dport))
        if key not in dirs:
            dirs[key] = Direction()
            order.append(key)
        dirs[key].add(int(seq), bytes.fromhex(payload.replace(":", "")), int(frame), float(t))
        frames += 1
    return dirs, order


def total_frames(path):
    out = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.number"],
                         check=True, capture_output=True, text=True).stdout
    return len(out.split())


# ------------------------------------------------------------------ client port

def client_pdus(d):
    """[(start, end, body)] of the int32-length-prefixed records; a trailing partial PDU is dropped."""
    out, off, buf = [], 0, d.buf
    while off + 4 <= len(buf):
        (n,) = struct.unpack_from(">i", buf, off)
        if n < 0 or n > 0xfffff + 1024:
            raise ValueError("bad client PDU length %d at %d" % (n, off))
        if off + 4 + n > len(buf):
            break
        out.append((off, off + 4 + n, bytes(buf[off + 4:off + 4 + n])))
        off += 4 + n
    return out


def parse_client_conn(c2s, s2c):
    """-> dict with session, connect/connected frames, requests [..], replies {xid: [..]}."""
    conn = {"requests": [], "replies": defaultdict(list)}
    pdus = client_pdus(c2s)
    if not pdus:
        return None
    _, end, body = pdus[0]
    if len(body) < 28:
        raise ValueError("short ConnectRequest")
    proto, last_zxid, timeout, sid = struct.unpack_from(">iqiq", body, 0)
    conn["connect"] = c2s.frame_of(end) + (sid, timeout)
    for _, end, body in pdus[1:]:
        xid, typ = struct.unpack_from(">ii", body, 0)
        frame, t = c2s.frame_of(end)
        conn["requests"].append({"xid": xid, "type": typ, "frame": frame, "time": t})
    rpdus = client_pdus(s2c) if s2c is not None else []
    if rpdus:
        _, end, body = rpdus[0]
        proto, timeout, sid = struct.unpack_from(">iiq", body, 0)
        conn["session"] = sid
        conn["timeout"] = timeout
        conn["connected"] = s2c.frame_of(end)
        for _, end, body in rpdus[1:]:
            xid, zxid, err = struct.unpack_from(">iqi", body, 0)
            frame, t = s2c.frame_of(end)
            conn["replies"][xid].append({"zxid": zxid, "err": err, "frame": frame, "time": t})
    return conn


# ------------------------------------------------------------------ quorum port

def walk_zab(d, from_leader):
    """[(type, zxid, data or None, frame, time)]"""
    out, off, buf = [], 0, d.buf
    while off < len(buf):
        if len(buf) - off < 16:
            break  # the capture stopped inside a packet
        typ, zxid, dlen = struct.unpack_from(">iqi", buf, off)
        if typ not in ZAB:
            raise ValueError("unknown QuorumPacket type %d at %d" % (typ, off))
        p = off + 16
        data = None
        if dlen >= 0:
            data = bytes(buf[p:p + dlen])
            p += dlen
        if p + 4 > len(buf):
            break
        (n,) = struct.unpack_from(">i", buf, p)
        p += 4
        for _ in range(max(n, 0) * 2):
            (sl,) = struct.unpack_from(">i", buf, p)
            p += 4 + max(sl, 0)
        if p > len(buf):
            break
        frame, t = d.frame_of(p)
        out.append((typ, zxid, data, frame, t))
        off = p
        if typ == 15 and from_leader:
            end = buf.find(SIG, off)
            if end < 0:
                break
            off = end + len(SIG)
    return out


def txn_header(data):
    client, cxid, zxid, time_ms, typ = struct.unpack_from(">qiqqi", data, 0)
    return {"client": client, "cxid": cxid, "zxid": zxid, "type": typ}


# ------------------------------------------------------------------ the chain

def hexid(v):
    return "0x%016x" % (v & 0xffffffffffffffff)


def median(xs):
    xs = sorted(xs)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def build(path, client_ports, quorum_ports):
    dirs, order = read_directions(path)
    cport = {p: i + 1 for i, p in enumerate(client_ports)}
    qport = {p: i + 1 for i, p in enumerate(quorum_ports)}

    # quorum links
    links = {}   # stream -> {"leader": n, "learner": sid, "kind": follower/observer}
    zab = []     # (stream, direction, type, zxid, data, frame, time)
    for key in order:
        stream, sport, dport = key
        if sport in qport:
            from_leader = True
            leader = qport[sport]
        elif dport in qport:
            from_leader = False
            leader = qport[dport]
        else:
            continue
        link = links.setdefault(stream, {"leader": leader, "learner": None, "kind": None})
        for typ, zxid, data, frame, t in walk_zab(dirs[key], from_leader):
            if typ in (11, 16) and not from_leader and data and len(data) >= 8:
                link["learner"] = struct.unpack_from(">q", data, 0)[0]
                link["kind"] = "follower" if typ == 11 else "observer"
            zab.append((stream, "L>l" if from_leader else "l>L", typ, zxid, data, frame, t))
    zab.sort(key=lambda z: z[5])
    leaders = {l["leader"] for l in links.values()}
    if len(leaders) != 1:
        raise ValueError("expected one leader, found %s" % sorted(leaders))
    leader = leaders.pop()
    roles = {leader: "leader"}
    for l in links.values():
        if l["learner"] is not None:
            roles[l["learner"]] = l["kind"]

    requests = defaultdict(list)     # (session, cxid, type) -> [(frame, time, learner)]
    txns = []                        # (kind PROPOSAL/INFORM, header, frame, time, learner)
    by_zxid = defaultdict(lambda: defaultdict(list))  # zxid -> hop -> [(frame, time, learner)]
    syncs_pending = defaultdict(list)  # stream -> [sync request key]
    sync_reply = {}                  # (session, cxid) -> [(frame, time, learner)]
    leaked = []                      # PROPOSAL/COMMIT to an observer
    counts = defaultdict(int)
    for stream, dirn, typ, zxid, data, frame, t in zab:
        learner = links[stream]["learner"]
        counts[ZAB[typ]] += 1
        if typ == 1 and dirn == "l>L":
            sid, cxid, rtyp = struct.unpack_from(">qii", data, 0)
            requests[(sid, cxid, rtyp)].append((frame, t, learner))
            if rtyp == 9:
                syncs_pending[stream].append((sid, cxid))
        elif typ in (2, 8) and dirn == "L>l":
            h = txn_header(data)
            if h["zxid"] != zxid:
                raise ValueError("frame %d: QuorumPacket zxid 0x%x != TxnHeader zxid 0x%x"
                                 % (frame, zxid, h["zxid"]))
            txns.append((ZAB[typ], h, frame, t, learner))
            by_zxid[zxid]["proposal_in" if typ == 2 else "inform_in"].append((frame, t, learner))
            if typ == 2 and links[stream]["kind"] == "observer":
                leaked.append(frame)
        elif typ == 3 and dirn == "l>L":
            by_zxid[zxid]["ack_in"].append((frame, t, learner))
        elif typ == 4 and dirn == "L>l":
            by_zxid[zxid]["commit_in"].append((frame, t, learner))
            if links[stream]["kind"] == "observer":
                leaked.append(frame)
        elif typ == 7 and dirn == "L>l":
            if syncs_pending[stream]:
                sync_reply.setdefault(syncs_pending[stream].pop(0), []).append((frame, t, learner))

    # client connections
    conns = []
    for key in order:
        stream, sport, dport = key
        if dport not in cport:
            continue
        c2s = dirs[key]
        if bytes(c2s.buf[:4]) in FOURLW:
            counts["four-letter-word connections"] += 1
            continue
        s2c = dirs.get((stream, dport, sport))
        conn = parse_client_conn(c2s, s2c)
        if conn is None:
            continue
        conn.update(server=cport[dport], client_port=sport, stream=stream)
        conns.append(conn)

    ops = []
    for conn in conns:
        sid = conn.get("session")
        server = conn["server"]
        role = roles.get(server, "unknown")
        pings = sum(1 for r in conn["requests"] if r["xid"] == -2)
        items = [{"xid": None, "type": -10, "frame": conn["connect"][0], "time": conn["connect"][1]}]
        items += [r for r in conn["requests"] if r["xid"] >= 0]
        used = defaultdict(int)
        for r in items:
            typ = r["type"]
            kind = "write" if typ in WRITE_OPS else "sync" if typ == 9 else "read"
            op = {"server": server, "server_role": role, "client_port": conn["client_port"],
                  "tcp_stream": conn["stream"], "session": hexid(sid) if sid is not None else None,
                  "cxid": r["xid"], "opcode": typ, "op": OPS.get(typ, str(typ)), "kind": kind,
                  "request_frame": r["frame"], "request_time": r["time"]}
            if typ == -10:
                op["reply_frame"], op["reply_time"] = conn.get("connected", (None, None))
                op["reply_zxid"] = None
                op["err"] = None
            else:
                reps = conn["replies"].get(r["xid"], [])
                rep = reps[used[r["xid"]]] if used[r["xid"]] < len(reps) else None
                used[r["xid"]] += 1
                op["reply_frame"] = rep and rep["frame"]
                op["reply_time"] = rep and rep["time"]
                op["reply_zxid"] = rep and hexid(rep["zxid"])
                op["err"] = rep and rep["err"]
            if kind == "read":
                op["forwarded"] = bool(requests.get((sid, r["xid"], typ)))
                ops.append(op)
                continue
            hops = defaultdict(list)
            if typ == -10:
                for (s, c, rt), v in requests.items():
                    if s == sid and rt == -10:
                        hops["request_in"] += v
                        op["request_cxid"] = c
                match = [x for x in txns if x[1]["client"] == sid and x[1]["type"] == -10]
            else:
                hops["request_in"] += requests.get((sid, r["xid"], typ), [])
                match = [x for x in txns if x[1]["client"] == sid and x[1]["cxid"] == r["xid"]]
            if kind == "sync":
                hops["sync_in"] += sync_reply.get((sid, r["xid"]), [])
                op["zxid"] = None
            else:
                zxids = sorted({x[1]["zxid"] for x in match})
                if len(zxids) > 1:
                    raise ValueError("session %s cxid %s: several txns %s" % (
                        hexid(sid), r["xid"], [hex(z) for z in zxids]))
                zxid = zxids[0] if zxids else None
                op["zxid"] = hexid(zxid) if zxid is not None else None
                op["txn_type"] = match[0][1]["type"] if match else None
                op["txn_type_name"] = OPS.get(op["txn_type"]) if match else None
                if zxid is not None:
                    for hop in ("proposal_in", "ack_in", "commit_in", "inform_in"):
                        hops[hop] += by_zxid[zxid][hop]
            for hop in HOPS:
                v = sorted(hops[hop])
                op[hop] = [x[0] for x in v]
                op[hop + "_times"] = [x[1] for x in v]
                op[hop + "_servers"] = [x[2] for x in v]
            ops.append(op)
        conn["pings"] = pings

    observers = sorted(s for s, r in roles.items() if r == "observer")
    for op in ops:
        if op["kind"] == "write":
            need = ["proposal_in", "ack_in", "commit_in"] + (["inform_in"] if observers else [])
            ok = all(op[h] for h in need) and op["reply_frame"] is not None
            ok = ok and (bool(op["request_in"]) == (op["server_role"] != "leader"))
            op["complete"] = ok
        elif op["kind"] == "sync":
            if op["server_role"] == "leader":
                op["complete"] = not op["request_in"] and not op["sync_in"] and op["reply_frame"] is not None
            else:
                op["complete"] = bool(op["request_in"]) and bool(op["sync_in"]) and op["reply_frame"] is not None
    return {"ops": ops, "roles": roles, "leader": leader, "links": links, "counts": counts,
            "leaked": leaked, "conns": conns, "dirs": dirs}


def stages(op):
    """Stage durations of one complete write, in microseconds."""
    us = lambda a, b: round((b - a) * 1e6)
    out = {}
    t_req = op["request_time"]
    t_fwd = op["request_in_times"][0] if op["request_in"] else None
    t_prop = op["proposal_in_times"][0]
    t_quorum = op["ack_in_times"][0]
    t_commit = op["commit_in_times"][0]
    origin = op["server"]
    if op["server_role"] == "follower":
        t_local = [t for t, s in zip(op["commit_in_times"], op["commit_in_servers"]) if s == origin]
    elif op["server_role"] == "observer":
        t_local = [t for t, s in zip(op["inform_in_times"], op["inform_in_servers"]) if s == origin]
    else:
        t_local = [t_commit]
    if t_fwd is not None:
        out["request_to_forwarded"] = us(t_req, t_fwd)
    out["forwarded_to_proposed"] = us(t_fwd if t_fwd is not None else t_req, t_prop)
    out["proposed_to_quorum"] = us(t_prop, t_quorum)
    out["quorum_to_commit"] = us(t_quorum, t_commit)
    if t_local and op["reply_time"] is not None:
        out["commit_to_reply"] = us(t_local[0], op["reply_time"])
    return out


STAGES = ("request_to_forwarded", "forwarded_to_proposed", "proposed_to_quorum",
          "quorum_to_commit", "commit_to_reply")


def summarize(res):
    writes = [o for o in res["ops"] if o["kind"] == "write"]
    complete = [o for o in writes if o["complete"]]
    per = defaultdict(list)
    per_role = defaultdict(lambda: defaultdict(list))
    for o in complete:
        o["stages_us"] = stages(o)
        for k, v in o["stages_us"].items():
            per[k].append(v)
            per_role[o["server_role"]][k].append(v)
    syncs = [o for o in res["ops"] if o["kind"] == "sync"]
    reads = [o for o in res["ops"] if o["kind"] == "read"]
    summary = {
        "writes": len(writes), "writes_complete": len(complete),
        "syncs": len(syncs), "syncs_complete": sum(1 for o in syncs if o["complete"]),
        "reads": len(reads),
        "median_us": {k: median(per[k]) for k in STAGES},
        "median_us_by_origin": {r: {k: median(v[k]) for k in STAGES}
                                for r, v in sorted(per_role.items())},
        "zab_packets": dict(sorted(res["counts"].items())),
    }
    med = summary["median_us"]
    fmt = lambda v: "-" if v is None else "%g" % v
    line = ("writes %d, with every hop %d; syncs %d (%d complete); reads %d; median us: "
            "request->forwarded %s, forwarded->proposed %s, proposed->quorum %s, "
            "quorum->commit %s, commit->reply %s" % (
                len(writes), len(complete), len(syncs), summary["syncs_complete"], len(reads),
                fmt(med["request_to_forwarded"]), fmt(med["forwarded_to_proposed"]),
                fmt(med["proposed_to_quorum"]), fmt(med["quorum_to_commit"]),
                fmt(med["commit_to_reply"])))
    return summary, line


def check(res):
    errs = []
    observers = [s for s, r in res["roles"].items() if r == "observer"]
    seen_roles = set()
    for o in res["ops"]:
        tag = "%s %s via %s (port %d, frame %d)" % (o["op"], o["cxid"], o["server_role"],
                                                   o["client_port"], o["request_frame"])
        seen_roles.add(o["server_role"])
        if o["reply_frame"] is None:
            errs.append(tag + ": no reply")
        if o["kind"] == "read":
            if o["forwarded"]:
                errs.append(tag + ": a read was forwarded")
            continue
        if o["kind"] == "sync":
            if not o["complete"]:
                errs.append(tag + ": sync hops wrong (request_in %s, sync_in %s)"
                            % (o["request_in"], o["sync_in"]))
            continue
        if o["server_role"] == "leader" and o["request_in"]:
            errs.append(tag + ": the leader forwarded a REQUEST")
        if o["server_role"] != "leader" and not o["request_in"]:
            errs.append(tag + ": no REQUEST from the learner")
        for hop in ("proposal_in", "ack_in", "commit_in") + (("inform_in",) if observers else ()):
            if not o[hop]:
                errs.append(tag + ": no " + hop)
        if set(o["proposal_in_servers"]) & set(observers) or set(o["commit_in_servers"]) & set(observers):
            errs.append(tag + ": PROPOSAL or COMMIT sent to an observer")
        if set(o["ack_in_servers"]) & set(observers):
            errs.append(tag + ": ACK from an observer")
        if o["opcode"] != -10 and o["zxid"] != o["reply_zxid"]:
            errs.append(tag + ": reply zxid %s != txn zxid %s" % (o["reply_zxid"], o["zxid"]))
    if res["leaked"]:
        errs.append("PROPOSAL/COMMIT frames on an observer link: %s" % res["leaked"])
    for r in ("leader", "follower", "observer"):
        if r not in seen_roles:
            errs.append("no client ops via a %s" % r)
    return errs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--out", help="write the JSON here instead of stdout")
    ap.add_argument("--check", action="store_true", help="exit 1 when the chain is not as expected")
    ap.add_argument("--client-ports", default="24181-24184")
    ap.add_argument("--quorum-ports", default="24888-24891")
    a = ap.parse_args()
    res = build(a.file, port_range(a.client_ports), port_range(a.quorum_ports))
    summary, line = summarize(res)
    dirs = res["dirs"]
    doc = {
        "capture": os.path.basename(a.file),
        "frames": total_frames(a.file),
        "generator": "tests/record/writepath_chain.py (raw tcp.payload, own framing)",
        "servers": {str(s): r for s, r in sorted(res["roles"].items())},
        "quorum_links": [{"tcp_stream": st, "leader": l["leader"], "learner": l["learner"],
                          "learner_kind": l["kind"]} for st, l in sorted(res["links"].items())],
        "tcp": {"retransmitted_segments": sum(d.retrans for d in dirs.values()),
                "out_of_order_segments": sum(d.out_of_order for d in dirs.values())},
        "summary": summary,
        "summary_line": line,
        "ops": res["ops"],
    }
    text = json.dumps(doc, indent=1) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    print(line, file=sys.stderr if not a.out else sys.stdout)
    if a.check:
        errs = check(res)
        for e in errs:
            print("CHECK FAILED:", e, file=sys.stderr)
        if errs:
            return 1
        print("chain check passed", file=sys.stderr if not a.out else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
