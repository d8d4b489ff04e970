#!/usr/bin/python3
"""Decode the ZooKeeper client traffic of a capture from the raw TCP bytes and
print what it contains: request opcodes, reply error codes, watch
notifications, four-letter words.  Independent of any ZooKeeper dissector:
tshark is only used to pull out the TCP payloads.

    /usr/bin/python3 tests/record/zk_summarize.py CAPTURE.pcapng [--port 2181]
        [--expect-ops create,getData,...] [--expect-errs NONODE,...]
        [--expect-events NodeDataChanged,...] [--expect-4lw ruok,...]

Exits 1 if anything listed with --expect-* is absent, or if a stream cannot
be parsed.
"""
import argparse
import bisect
import collections
import struct
import subprocess
import sys

OPS = {
    0: "notification", 1: "create", 2: "delete", 3: "exists", 4: "getData",
    5: "setData", 6: "getACL", 7: "setACL", 8: "getChildren", 9: "sync",
    11: "ping", 12: "getChildren2", 13: "check", 14: "multi", 15: "create2",
    16: "reconfig", 17: "checkWatches", 18: "removeWatches",
    19: "createContainer", 20: "deleteContainer", 21: "createTTL",
    22: "multiRead", 100: "auth", 101: "setWatches", 102: "sasl",
    103: "getEphemerals", 104: "getAllChildrenNumber", 105: "setWatches2",
    106: "addWatch", 107: "whoAmI", -10: "createSession", -11: "closeSession",
    -1: "error",
}
ERRS = {
    0: "OK", -1: "SYSTEMERROR", -2: "RUNTIMEINCONSISTENCY", -3: "DATAINCONSISTENCY",
    -4: "CONNECTIONLOSS", -5: "MARSHALLINGERROR", -6: "UNIMPLEMENTED",
    -7: "OPERATIONTIMEOUT", -8: "BADARGUMENTS", -13: "NEWCONFIGNOQUORUM",
    -14: "RECONFIGINPROGRESS", -100: "APIERROR", -101: "NONODE", -102: "NOAUTH",
    -103: "BADVERSION", -108: "NOCHILDRENFOREPHEMERALS", -110: "NODEEXISTS",
    -111: "NOTEMPTY", -112: "SESSIONEXPIRED", -113: "INVALIDCALLBACK",
    -114: "INVALIDACL", -115: "AUTHFAILED", -118: "SESSIONMOVED",
    -119: "NOTREADONLY", -120: "EPHEMERALONLOCALSESSION", -121: "NOWATCHER",
    -122: "REQUESTTIMEOUT", -123: "RECONFIGDISABLED",
    -124: "SESSIONCLOSEDREQUIRESASLAUTH", -125: "QUOTAEXCEEDED", -127: "THROTTLEDOP",
}
EVENTS = {
    -1: "None", 1: "NodeCreated", 2: "NodeDeleted", 3: "NodeDataChanged",
    4: "NodeChildrenChanged", 5: "DataWatchRemoved", 6: "ChildWatchRemoved",
    7: "PersistentWatchRemoved",
}
FOUR_LETTER = {"ruok", "stat", "srvr", "conf", "cons", "crst", "dump", "envi",
               "gtmk", "stmk", "srst", "wchc", "wchp", "wchs", "mntr", "isro",
               "hash", "dirs"}


def tshark_payloads(path, port):
    """Yield (frame, stream, to_server, bytes) per TCP segment with payload."""
    out = subprocess.run(
        ["tshark", "-n", "-r", path, "-Y", "tcp.len > 0 && tcp.port == %d" % port,
         "-T", "fields", "-E", "separator=|",
         "-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.dstport", "-e", "tcp.payload",
         "-e", "tcp.analysis.retransmission"],
        check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True)
    for line in out.stderr.splitlines():
        if not line.startswith("Running as user"):
            print(line, file=sys.stderr)
    out = out.stdout
    for line in out.splitlines():
        frame, stream, dport, payload, retrans = (line.split("|") + [""] * 5)[:5]
        if retrans or not payload:
            continue
        yield (int(frame), int(stream), int(dport) == port,
               bytes.fromhex(payload.replace(":", "")))


def read_string(b, off):
    (n,) = struct.unpack_from(">i", b, off)
    off += 4
    if n < 0:
        return None, off
    return b[off:off + n].decode("utf-8", "replace"), off + n


STAT_LEN = 68
PATH_OPS = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15, 17, 18, 19, 20, 21, 103, 104, 106}


def describe_request(op, pdu):
    """Short text for a request body: its path, or the auth scheme."""
    try:
        if op in PATH_OPS:
            return read_string(pdu, 8)[0]
        if op == 100:
            scheme, off = read_string(pdu, 12)
            return "scheme=%s" % scheme
    except struct.error:
        return "?"
    return ""


def skip_buffer(b, off):
    (n,) = struct.unpack_from(">i", b, off)
    return off + 4 + max(n, 0)


def multi_request_ops(pdu):
    """Sub-operation names of a multi / multiRead request body (after the header)."""
    names, off = [], 8
    while True:
        typ, done, _err = struct.unpack_from(">i?i", pdu, off)
        off += 9
        if done:
            return names
        names.append(OPS.get(typ, "op%d" % typ))
        _, off = read_string(pdu, off)                      # path
        if typ in (1, 15, 19, 21):                          # create*
            off = skip_buffer(pdu, off)
            (nacl,) = struct.unpack_from(">i", pdu, off)
            off += 4
            for _ in range(max(nacl, 0)):
                off += 4
                _, off = read_string(pdu, off)
                _, off = read_string(pdu, off)
            off += 4 + (8 if typ == 21 else 0)              # flags [+ ttl]
        elif typ == 5:                                      # setData
            off = skip_buffer(pdu, off) + 4
        elif typ in (2, 13):                                # delete, check
            off += 4
        elif typ in (4, 8):                                 # multiRead getData/getChildren
            pass
        else:
            raise ValueError("multi sub-op %d not understood" % typ)


def multi_reply_results(pdu):
    """(op, err) per result of a multi reply body (after the ReplyHeader)."""
    out, off = [], 16
    while True:
        typ, done, err = struct.unpack_from(">i?i", pdu, off)
        off += 9
        if done:
            return out
        if typ == -1:
            (e,) = struct.unpack_from(">i", pdu, off)
            off += 4
            out.append(("error", ERRS.get(e, "err%d" % e)))
            continue
        out.append((OPS.get(typ, "op%d" % typ), "OK"))
        if typ == 1:
            _, off = read_string(pdu, off)
        elif typ in (15, 19, 21):
            _, off = read_string(pdu, off)
            off += STAT_LEN
        elif typ == 5:
            off += STAT_LEN
        elif typ in (2, 13):
            pass
        elif typ == 4:
            off = skip_buffer(pdu, off) + STAT_LEN
        elif typ == 8:
            (n,) = struct.unpack_from(">i", pdu, off)
            off += 4
            for _ in range(max(n, 0)):
                _, off = read_string(pdu, off)
        else:
            raise ValueError("multi result type %d not understood" % typ)


def frames(direction):
    """Split one direction's byte stream into length-prefixed PDUs.
    Yields (frame number holding the PDU's last byte, PDU body)."""
    buf, segs = bytes(direction[0]), direction[1]
    starts = [o for o, _ in segs]
    off = 0
    while off + 4 <= len(buf):
        (n,) = struct.unpack_from(">i", buf, off)
        if n < 0 or off + 4 + n > len(buf):
            raise ValueError("bad or truncated PDU length %d at offset %d" % (n, off))
        frame = segs[bisect.bisect_right(starts, off + 3 + n) - 1][1]
        yield frame, buf[off + 4:off + 4 + n]
        off += 4 + n


def analyse(path, port):
    streams = collections.OrderedDict()
    for frame, stream, to_server, data in tshark_payloads(path, port):
        s = streams.setdefault(stream, [[bytearray(), []], [bytearray(), []]])
        d = s[0 if to_server else 1]
        d[1].append((len(d[0]), frame))
        d[0].extend(data)

    res = {
        "ops": collections.Counter(), "errs": collections.Counter(),
        "err_by_op": collections.Counter(), "events": collections.Counter(),
        "4lw": collections.Counter(), "multi_results": collections.Counter(),
        "sessions": 0, "streams": len(streams), "listing": [],
        "largest_pdu": 0, "problems": [],
    }
    for stream, (c2s, s2c) in streams.items():
        head = bytes(c2s[0][:4])
        if head.decode("ascii", "replace") in FOUR_LETTER:
            res["4lw"][head.decode()] += 1
            extra = len(c2s[0]) - 4
            if head == b"stmk" and extra >= 8:
                extra -= 8
            if extra:
                res["4lw"]["(+%d trailing byte%s)" % (extra, "s" * (extra > 1))] += 1
            if not s2c[0]:
                res["problems"].append("stream %d: 4lw without reply" % stream)
            continue
        try:
            reqs = list(frames(c2s))
            reps = list(frames(s2c))
        except ValueError as e:
            res["problems"].append("stream %d: %s" % (stream, e))
            continue
        if not reqs:
            continue
        res["sessions"] += 1
        res["ops"]["connect"] += 1  # first PDU: ConnectRequest, no header
        xid_op = {}
        for frame, pdu in reqs[1:]:
            res["largest_pdu"] = max(res["largest_pdu"], len(pdu))
            xid, op = struct.unpack_from(">ii", pdu, 0)
            name = OPS.get(op, "op%d" % op)
            res["ops"][name] += 1
            xid_op[xid] = name
            res["listing"].append((frame, "> xid=%d %s %s" % (xid, name, describe_request(op, pdu))))
            if op in (14, 22):
                try:
                    for sub in multi_request_ops(pdu):
                        res["ops"]["%s/%s" % (name, sub)] += 1
                except (ValueError, struct.error) as e:
                    res["problems"].append("stream %d: multi request: %s" % (stream, e))
        res["listing"].append((reqs[0][0], "> ConnectRequest (%d bytes)" % len(reqs[0][1])))
        if reps:
            res["listing"].append((reps[0][0], "< ConnectResponse (%d bytes)" % len(reps[0][1])))
        for frame, pdu in reps[1:]:  # first PDU: ConnectResponse, no header
            res["largest_pdu"] = max(res["largest_pdu"], len(pdu))
            xid, zxid, err = struct.unpack_from(">iqi", pdu, 0)
            if xid == -1:
                etype, state = struct.unpack_from(">ii", pdu, 16)
                p, _ = read_string(pdu, 24)
                res["events"]["%s" % EVENTS.get(etype, "type%d" % etype)] += 1
                res["listing"].append((frame, "< xid=-1 notification %s %s"
                                       % (EVENTS.get(etype, etype), p)))
                continue
            res["listing"].append((frame, "< xid=%d reply(%s) err=%s"
                                   % (xid, xid_op.get(xid, "?"), ERRS.get(err, err))))
            if xid_op.get(xid) in ("multi", "multiRead"):
                try:
                    for sub, serr in multi_reply_results(pdu):
                        res["multi_results"]["%s:%s" % (sub, serr)] += 1
                except (ValueError, struct.error) as e:
                    res["problems"].append("stream %d: multi reply: %s" % (stream, e))
            if err:
                ename = ERRS.get(err, "err%d" % err)
                res["errs"][ename] += 1
                res["err_by_op"]["%s:%s" % (xid_op.get(xid, "xid%d" % xid), ename)] += 1
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("--port", type=int, default=2181)
    ap.add_argument("--list", action="store_true", help="print every PDU")
    for k in ("ops", "errs", "events", "4lw"):
        ap.add_argument("--expect-" + k, default="")
    a = ap.parse_args()
    r = analyse(a.capture, a.port)
    if a.list:
        for frame, text in sorted(r["listing"], key=lambda x: x[0]):
            print("  frame %4d %s" % (frame, text))

    def fmt(c):
        return ", ".join("%s×%d" % kv for kv in sorted(c.items())) or "-"

    print("  tcp streams: %d, zk sessions: %d, largest PDU: %d bytes"
          % (r["streams"], r["sessions"], r["largest_pdu"]))
    print("  requests   : " + fmt(r["ops"]))
    print("  errors     : " + fmt(r["err_by_op"]))
    print("  watch evts : " + fmt(r["events"]))
    if r["multi_results"]:
        print("  multi rslt : " + fmt(r["multi_results"]))
    if r["4lw"]:
        print("  4lw        : " + fmt(r["4lw"]))
    missing = []
    for key, exp in (("ops", a.expect_ops), ("errs", a.expect_errs),
                     ("events", a.expect_events), ("4lw", a.expect_4lw)):
        for want in filter(None, exp.split(",")):
            if not r[key].get(want):
                missing.append("%s %s" % (key, want))
    for p in r["problems"]:
        print("  PROBLEM: " + p)
    if missing:
        print("  MISSING: " + ", ".join(missing))
    if missing or r["problems"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
