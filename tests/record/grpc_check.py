#!/usr/bin/python3
"""Check the gRPC golden captures with the stock tshark (built-in http2 + grpc + protobuf,
no plugin) and print what it decodes.

    /usr/bin/python3 tests/record/grpc_check.py [--dir tests/captures/grpc]
        [--proto tests/captures/grpc/proto] [--port 45051] [--bad-port 45052]
        [--tls-port 45443] [--list] [CAPTURE...]

tshark runs with an empty temporary HOME (no personal preferences or plugins; as root it
ignores personal plugins anyway), and the script first makes sure no `h2` protocol (our
plugin) is registered. Decoding options, per capture:

    -d tcp.port==PORT,http2                                   (h2c captures)
    -o tls.keylog_file:DIR/grpc-tls.keys                      (grpc-tls.pcapng)
    -o 'uat:protobuf_search_paths:"PROTO_DIR","TRUE"'         (all; TRUE = load all .proto
                                                               files below PROTO_DIR)

It reads tshark's PDML: every top-level `http2` item is one HTTP/2 frame; a `grpc` item
("GRPC Message: /path, Request|Response") and the `protobuf` item after it belong to the
DATA frame just before them (where the built-in completed the message). Calls are keyed by
(TCP stream, HTTP/2 stream id). Exits 1 when an expectation for grpc-h2c, grpc-tls or
grpc-stream-cut fails, or when grpc-bad.pcapng does not hold its seven cases; what the
built-in shows on grpc-bad.pcapng (expert items, malformed) is only reported. --list prints
every HTTP/2 frame and gRPC message.
"""
import argparse
import atexit
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SVC = "/zkh2.test.v1.EchoService/"
REQ_FIELDS = {"text", "seq", "big", "flag", "kind", "numbers", "meta", "blob", "ratio", "delta",
              "key", "stamp", "tags", "count", "interval_ms", "error_code"}
RESP_FIELDS = {"text", "seq", "total", "last", "kind", "metas", "words", "blob", "key", "stamp",
               "tags"}
MESSAGES = {"zkh2.test.v1.EchoRequest", "zkh2.test.v1.EchoResponse", "zkh2.test.v1.Meta"}
SEVERITY = {"1048576": "Comment", "2097152": "Chat", "4194304": "Note", "6291456": "Warning",
            "8388608": "Error"}
HTTP_LAYERS = ("http2", "grpc", "protobuf", "_ws.malformed")
BAD_CASES = ["valid", "truncated", "flag-no-encoding", "unknown-encoding", "corrupt-gzip",
             "wrong-wire-types", "random-bytes"]


# ------------------------------------------------------------------- tshark
class Tshark:
    def __init__(self):
        self.home = tempfile.mkdtemp(prefix="grpc-check-home-")
        atexit.register(shutil.rmtree, self.home, True)
        self.env = {"HOME": self.home, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "LANG": "C.UTF-8"}
        protos = self.run(["-G", "protocols"])
        if any(line.split("\t")[2:3] == ["h2"] for line in protos.splitlines()):
            sys.exit("a protocol named h2 is registered: our plugin is loaded, not the stock tshark")

    def run(self, args):
        out = subprocess.run(["tshark"] + args, env=self.env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True)
        err = [l for l in out.stderr.splitlines() if not l.startswith("Running as user")]
        if out.returncode != 0:
            sys.exit("tshark %s failed: %s" % (" ".join(args), "\n".join(err)))
        for line in err:
            print("  tshark: " + line, file=sys.stderr)
        return out.stdout


def fields(elem, name):
    return [f for f in elem.iter("field") if f.get("name") == name]


def first(elem, name, default=None):
    for f in elem.iter("field"):
        if f.get("name") == name:
            return f.get("show")
    return default


class Message:
    """One gRPC message as the built-in grpc dissector shows it."""

    def __init__(self, frame, time, stream, item):
        self.frame, self.time, self.stream = frame, time, stream
        name = item.get("showname", "")          # GRPC Message: /path, Request
        self.path, _, self.kind = name.partition(": ")[2].rpartition(", ")
        self.request = self.kind == "Request"
        self.flag = int(first(item, "grpc.compressed_flag", "0"))
        self.length = int(first(item, "grpc.message_length", "-1"))
        data = fields(item, "grpc.message_data")
        self.data_len = int(data[0].get("size")) if data else None
        self.decompressed = "Message-encoded entity body" in ET.tostring(item, encoding="unicode")
        self.pb_messages = []
        self.pb_fields = []
        self.pb_first_string = ""                # the message's first string field value


def parse(tshark, path, args, server_port):
    """Return (packets, frames, messages, experts, tcp_streams). frames: one dict per HTTP/2
    frame; experts: (frame, protocol, severity, message)."""
    pdml = tshark.run(["-n", "-r", path, "-T", "pdml"] + args)
    frames, messages, experts, tcp_streams = [], [], [], set()
    packets = 0
    for pkt in ET.fromstring(pdml).iter("packet"):
        packets += 1
        num = time = None
        tcp_stream = sport = None
        seg_count = 1
        h2 = None
        msg = None
        for proto in pkt.findall("proto"):
            pname = proto.get("name")
            if pname == "frame":
                num = int(first(proto, "frame.number"))
                time = float(first(proto, "frame.time_relative"))
            elif pname == "tcp":
                tcp_stream = int(first(proto, "tcp.stream"))
                sport = int(first(proto, "tcp.srcport"))
                tcp_streams.add(tcp_stream)
            elif pname == "http2":
                sid = first(proto, "http2.streamid")
                if sid is None:
                    continue                      # the connection preface (Magic)
                heads = [(n.get("show"), v.get("show")) for n, v in
                         zip(fields(proto, "http2.header.name"), fields(proto, "http2.header.value"))]
                h2 = {"frame": num, "tcp": tcp_stream, "sid": int(sid),
                      "type": int(first(proto, "http2.type")),
                      "end_stream": first(proto, "http2.flags.end_stream") == "1",
                      "length": int(first(proto, "http2.length")),
                      "to_server": sport != server_port, "headers": heads, "segments": 1,
                      "idx": len(frames) + len(messages)}
                frames.append(h2)
            elif pname == "grpc":
                msg = Message(num, time, (tcp_stream, h2["sid"] if h2 else None), proto)
                msg.idx = len(frames) + len(messages)
                messages.append(msg)
            elif pname == "protobuf" and msg is not None:
                msg.pb_messages += [f.get("show") for f in fields(proto, "protobuf.message.name")]
                for fld in proto.iter("field"):
                    if fld.get("name") != "protobuf.field.name":
                        continue
                    msg.pb_fields.append(fld.get("show"))
                strings = fields(proto, "protobuf.field.value.string")
                if strings and not msg.pb_first_string:
                    msg.pb_first_string = strings[0].get("show")
            elif pname == "fake-field-wrapper":
                # reassembly summary, before the http2 items: TCP segments, or over TLS the
                # TLS records that an HTTP/2 frame was reassembled from
                seg_count = max(int(first(proto, "tcp.segment.count", "1")),
                                int(first(proto, "tls.segment.count", "1")))
            elif pname == "_ws.malformed":
                experts.append((num, "_ws.malformed", "Error", proto.get("showname", "Malformed")))
                continue
            # expert items anywhere in this protocol's tree
            for ex in proto.iter("field"):
                if ex.get("name") == "_ws.expert":
                    sev = first(ex, "_ws.expert.severity", "?")
                    experts.append((num, pname, SEVERITY.get(sev, sev),
                                    first(ex, "_ws.expert.message", "?")))
        # the packet's reassembly size, for every HTTP/2 frame it completes
        for f in reversed(frames):
            if f["frame"] != num:
                break
            f["segments"] = seg_count
    return packets, frames, messages, experts, tcp_streams


class Call:
    def __init__(self, key):
        self.key = key                # (tcp stream, stream id)
        self.req_headers = {}
        self.resp_headers = {}
        self.trailers = {}
        self.end_client = self.end_server = False
        self.data_frames = [0, 0]     # [to server, to client]
        self.server_headers = 0
        self.data_packets = [set(), set()]
        self.max_segments = [1, 1]
        self.messages = []

    @property
    def path(self):
        return self.req_headers.get(":path", "?")

    @property
    def method(self):
        return self.path.rsplit("/", 1)[-1]

    @property
    def status(self):
        return self.trailers.get("grpc-status", self.resp_headers.get("grpc-status"))

    @property
    def grpc_message(self):
        return self.trailers.get("grpc-message", self.resp_headers.get("grpc-message"))

    def reqs(self):
        return [m for m in self.messages if m.request]

    def resps(self):
        return [m for m in self.messages if not m.request]


def calls_of(frames, messages):
    calls = {}
    for f in frames:
        if f["sid"] == 0:
            continue
        c = calls.setdefault((f["tcp"], f["sid"]), Call((f["tcp"], f["sid"])))
        side = 0 if f["to_server"] else 1
        if f["type"] == 1:
            c.server_headers += not f["to_server"]
            h = dict(f["headers"])
            if ":method" in h:
                c.req_headers.update(h)
            elif ":status" in h:
                c.resp_headers.update(h)
            elif not f["to_server"]:
                c.trailers.update(h)
        elif f["type"] == 0:
            c.data_frames[side] += 1
            c.data_packets[side].add(f["frame"])
            c.max_segments[side] = max(c.max_segments[side], f["segments"])
        if f["end_stream"]:
            if f["to_server"]:
                c.end_client = True
            else:
                c.end_server = True
    for m in messages:
        if m.stream in calls:
            calls[m.stream].messages.append(m)
    return [calls[k] for k in sorted(calls)]


# ------------------------------------------------------------------- report
class Checker:
    def __init__(self):
        self.failures = []

    def expect(self, cond, what):
        if not cond:
            self.failures.append(what)
            print("  FAIL: " + what)
        return cond


def fmt_flags(ms):
    return "".join("Z" if m.flag else "-" for m in ms)


def print_calls(calls):
    for c in calls:
        print("  stream %2d %-13s req %d msg%s [%s], resp %d msg%s [%s], DATA frames %d/%d in %d/%d"
              " packets (reassembled from up to %d/%d segments), grpc-status %s%s%s"
              % (c.key[1], c.method, len(c.reqs()), "s" * (len(c.reqs()) != 1), fmt_flags(c.reqs()),
                 len(c.resps()), "s" * (len(c.resps()) != 1), fmt_flags(c.resps()),
                 c.data_frames[0], c.data_frames[1], len(c.data_packets[0]), len(c.data_packets[1]),
                 c.max_segments[0], c.max_segments[1], c.status,
                 " (%s)" % c.grpc_message if c.grpc_message else "",
                 "" if c.end_server else ", NO END_STREAM from the server"))


def print_list(frames, messages):
    names = {0: "DATA", 1: "HEADERS", 3: "RST_STREAM", 4: "SETTINGS", 6: "PING", 7: "GOAWAY",
             8: "WINDOW_UPDATE", 9: "CONTINUATION"}
    rows = [(f["idx"], f["frame"], "%s %s[%d] len %d%s%s" % (
        ">" if f["to_server"] else "<", names.get(f["type"], f["type"]), f["sid"], f["length"],
        " END_STREAM" if f["end_stream"] else "",
        "".join(" %s: %s" % hv for hv in f["headers"]))) for f in frames]
    rows += [(m.idx, m.frame, "  grpc %s %s flag %d len %d -> %s" % (
        m.path, m.kind, m.flag, m.length, ",".join(m.pb_messages) or "no protobuf"))
        for m in messages]
    for _, frame, text in sorted(rows):
        print("    frame %4d %s" % (frame, text[:200]))


def check_calls_capture(ck, name, calls, messages, experts, packets, tcp_streams):
    """grpc-h2c.pcapng and grpc-tls.pcapng: one connection, eight calls."""
    ck.expect(len(tcp_streams) == 1, "%s: one TCP connection (got %d)" % (name, len(tcp_streams)))
    want = ["Unary", "ServerStream", "ClientStream", "BidiStream", "Unary", "Unary", "Unary", "Unary"]
    got = [c.method for c in calls]
    if not ck.expect(got == want, "%s: calls %s (got %s)" % (name, want, got)):
        return
    unary, sstream, cstream, bidi, gz, err, big, last = calls
    counts = [(len(c.reqs()), len(c.resps())) for c in calls]
    ck.expect(counts == [(1, 1), (1, 5), (4, 1), (4, 4), (1, 1), (1, 0), (1, 1), (1, 1)],
              "%s: gRPC messages per call (request, response) %s" % (name, counts))
    ck.expect(all(c.status == "0" for c in calls if c is not err),
              "%s: grpc-status 0 on every call but the error call" % name)
    ck.expect(all(c.end_client and c.end_server for c in calls), "%s: END_STREAM both ways" % name)
    # bidi: request, response, request, response, ...
    order = "".join("q" if m.request else "r" for m in sorted(bidi.messages, key=lambda m: m.frame))
    ck.expect(order == "qrqrqrqr", "%s: bidi messages interleaved (order %s)" % (name, order))
    # gzip both ways, decompressed and decoded
    ck.expect([m.flag for m in gz.messages] == [1, 1] and all(m.decompressed for m in gz.messages),
              "%s: call 5 compressed both ways and decompressed by the built-in" % name)
    ck.expect(gz.req_headers.get("grpc-encoding") == "gzip"
              and gz.resp_headers.get("grpc-encoding") == "gzip",
              "%s: grpc-encoding gzip on call 5 (request and response headers)" % name)
    ck.expect(all(m.pb_first_string.replace("echo: ", "", 1).startswith("compressible-word")
                  for m in gz.messages), "%s: the gzip messages decode as protobuf" % name)
    ck.expect(sum(m.flag for m in messages) == 2, "%s: exactly two compressed messages" % name)
    # error status
    ck.expect(err.status == "5" and (err.grpc_message or "").startswith("zkh2: failure requested"),
              "%s: call 6 grpc-status 5 with grpc-message (got %s %r)"
              % (name, err.status, err.grpc_message))
    # big message: reassembled both ways, protobuf blob decoded
    ck.expect(all(m.length > 100 * 1024 and m.data_len == m.length and "blob" in m.pb_fields
                  for m in big.messages), "%s: call 7 100 KiB messages reassembled and decoded" % name)
    ck.expect(big.max_segments[0] >= 2,
              "%s: call 7 request DATA reassembled from several TCP segments / TLS records" % name)
    ck.expect(big.data_frames[1] >= 2 and len(big.data_packets[1]) >= 2,
              "%s: call 7 response spans several DATA frames in several packets" % name)
    # protobuf names from the .proto
    names = set(n for m in messages for n in m.pb_messages)
    ck.expect(names == MESSAGES, "%s: protobuf message names %s" % (name, sorted(names)))
    got_req = set(f for m in messages if m.request for f in m.pb_fields)
    got_resp = set(f for m in messages if not m.request for f in m.pb_fields)
    ck.expect(got_req >= REQ_FIELDS,
              "%s: request field names, missing %s" % (name, sorted(REQ_FIELDS - got_req)))
    ck.expect(got_resp >= RESP_FIELDS, "%s: response field names, missing %s"
              % (name, sorted(RESP_FIELDS - got_resp)))
    ck.expect(all(m.pb_messages for m in messages), "%s: every gRPC message decoded as protobuf" % name)
    ours = [e for e in experts if e[1] in HTTP_LAYERS]
    ck.expect(not ours, "%s: no http2/grpc/protobuf expert item, no malformed packet (got %s)"
              % (name, ours[:5]))
    print("  %d packets, %d calls on one connection, %d gRPC messages (%d compressed), "
          "message names %s" % (packets, len(calls), len(messages), sum(m.flag for m in messages),
                                ", ".join(sorted(names))))
    print("  field names: requests %s; responses %s" % (",".join(sorted(got_req)),
                                                        ",".join(sorted(got_resp))))


def check_cut(ck, calls, messages, experts, packets):
    ck.expect(len(calls) == 1 and calls[0].method == "ServerStream", "cut: one ServerStream call")
    if not calls:
        return
    c = calls[0]
    resps = c.resps()
    ck.expect(len(c.reqs()) == 1 and c.end_client, "cut: one request message, client END_STREAM")
    ck.expect(len(resps) >= 15, "cut: at least 15 response messages (got %d)" % len(resps))
    ck.expect(not c.end_server and not c.trailers and c.status is None,
              "cut: no END_STREAM and no trailers from the server")
    ck.expect(all("zkh2.test.v1.EchoResponse" in m.pb_messages for m in resps),
              "cut: every response decodes as EchoResponse")
    ours = [e for e in experts if e[1] in HTTP_LAYERS]
    ck.expect(not ours, "cut: no http2/grpc/protobuf expert item, no malformed packet (got %s)"
              % ours[:5])
    gaps = [b.time - a.time for a, b in zip(resps, resps[1:])]
    print("  %d packets, 1 call, %d response messages, median gap %.0f ms, last message in frame %d,"
          " no END_STREAM, no trailers" % (packets, len(resps), 1000 * statistics.median(gaps),
                                           resps[-1].frame))


def check_bad(ck, calls, messages, experts, packets):
    cases = [c.req_headers.get("x-zkh2-case") for c in calls]
    ck.expect(cases == BAD_CASES, "bad: the seven cases in order (got %s)" % cases)
    # the recording itself (the built-in loses the truncated case's trailers, so count frames)
    ck.expect(all(c.resp_headers.get(":status") == "200" and c.end_server and c.data_frames[1] == 1
                  and c.server_headers == 2 for c in calls),
              "bad: every response is HEADERS :status 200, one DATA, trailers HEADERS with END_STREAM")
    print("  %d packets, %d calls; what the built-in shows per case (not checked):" % (packets, len(calls)))
    by_frame = {}
    for e in experts:
        by_frame.setdefault(e[0], []).append(e)
    for c in calls:
        resps = c.resps()
        frames_of_call = sorted(set(f for f in c.data_packets[1]) | set(m.frame for m in resps))
        desc = []
        for m in resps:
            desc.append("grpc flag %d len %d data %s%s -> %s" % (
                m.flag, m.length, m.data_len,
                " (decompression tried)" if m.decompressed else "",
                ("protobuf %s fields %s" % (",".join(m.pb_messages), ",".join(m.pb_fields)))
                if m.pb_messages else "no protobuf"))
        if not resps:
            desc.append("no gRPC message")
        ex = ["%s %s: %s" % (e[1], e[2], e[3]) for fr in frames_of_call for e in by_frame.get(fr, [])
              if e[1] in HTTP_LAYERS]
        print("    stream %2d %-17s %s%s" % (c.key[1], c.req_headers.get("x-zkh2-case"), "; ".join(desc),
                                            "; experts: " + "; ".join(ex) if ex else ""))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.path.join(repo, "tests/captures/grpc"))
    ap.add_argument("--proto", default=None, help="default: DIR/proto")
    ap.add_argument("--port", type=int, default=45051)
    ap.add_argument("--bad-port", type=int, default=45052)
    ap.add_argument("--tls-port", type=int, default=45443)
    ap.add_argument("--list", action="store_true", help="print every HTTP/2 frame and gRPC message")
    ap.add_argument("captures", nargs="*", help="file names in DIR (default: all four)")
    a = ap.parse_args()
    d = os.path.abspath(a.dir)
    proto = os.path.abspath(a.proto or os.path.join(d, "proto"))
    pb = ["-o", 'uat:protobuf_search_paths:"%s","TRUE"' % proto]
    plan = {
        "grpc-h2c.pcapng": (["-d", "tcp.port==%d,http2" % a.port] + pb, a.port, "calls"),
        "grpc-stream-cut.pcapng": (["-d", "tcp.port==%d,http2" % a.port] + pb, a.port, "cut"),
        "grpc-tls.pcapng": (["-o", "tls.keylog_file:%s" % os.path.join(d, "grpc-tls.keys")] + pb,
                            a.tls_port, "calls"),
        "grpc-bad.pcapng": (["-d", "tcp.port==%d,http2" % a.bad_port] + pb, a.bad_port, "bad"),
    }
    tshark = Tshark()
    ck = Checker()
    for name in a.captures or list(plan):
        args, port, kind = plan[name]
        path = os.path.join(d, name)
        print("== %s (%d bytes)" % (name, os.path.getsize(path)))
        print("  $ tshark -r %s %s" % (name, " ".join(shlex.quote(x) for x in args)))
        packets, frames, messages, experts, tcp_streams = parse(tshark, path, args, port)
        calls = calls_of(frames, messages)
        if a.list:
            print_list(frames, messages)
        if kind == "calls":
            if name == "grpc-tls.pcapng":
                # TLS 1.3: the server's ALPN choice is in the (decrypted) EncryptedExtensions
                hs = tshark.run(["-n", "-r", path] + args[:2] + [
                    "-Y", "tls.handshake.type == 1 || tls.handshake.type == 8", "-T", "fields",
                    "-e", "tls.handshake.type", "-e", "tls.handshake.extensions_alpn_str",
                    "-e", "tls.handshake.version", "-e", "tls.handshake.extensions.supported_version"])
                rows = [l.split("\t") + [""] * 4 for l in hs.splitlines()]
                hello = [r for r in rows if r[0] == "1"]
                ee = [r for r in rows if "8" in r[0].split(",")]
                ok = (len(hello) == 1 and "h2" in hello[0][1].split(",") and len(ee) == 1
                      and ee[0][1] == "h2" and ee[0][3] == "0x0304")
                ck.expect(ok, "tls: ClientHello offers h2, decrypted EncryptedExtensions selects h2, "
                          "TLS 1.3 (got %s)" % rows)
                if ok:
                    print("  TLS 1.3 decrypted with grpc-tls.keys; ClientHello ALPN %s, "
                          "EncryptedExtensions ALPN %s" % (hello[0][1], ee[0][1]))
            check_calls_capture(ck, name, calls, messages, experts, packets, tcp_streams)
        elif kind == "cut":
            check_cut(ck, calls, messages, experts, packets)
        else:
            check_bad(ck, calls, messages, experts, packets)
        if kind != "bad" or a.list:
            print_calls(calls)
    if ck.failures:
        print("FAILED: %d check(s)" % len(ck.failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
