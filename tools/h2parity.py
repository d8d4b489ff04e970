#!/usr/bin/python3
"""Field-level parity of `h2` (plugin, default configuration) against the built-in `http2`
(tshark without the plugin), for one capture.

    tools/h2parity.py CAPTURE [--h2-port N]... [--keylog FILE] [--ours-d SPEC]...
                      [--prefix http2.,grpc.] [--two-pass] [--show N]

Both runs dump every field whose name starts with one of the prefixes (from `tshark -G
fields`) as JSON (`-T json -e ...`), per frame. The built-in side gets `-d
tcp.port==N,http2` for each --h2-port; ours gets only --ours-d (default: none, our
heuristics find the preface). Prints, per field, the frames where the value lists differ.
Exit 0 when everything is equal. A development tool; tests/h2_parity.rs is the test.
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def ws_version():
    out = subprocess.run(["pkg-config", "--modversion", "wireshark"], capture_output=True, text=True)
    return ".".join(out.stdout.strip().split(".")[:2])


class Home:
    def __init__(self, plugin):
        self.dir = tempfile.mkdtemp(prefix="zkh2-parity-")
        os.chmod(self.dir, 0o755)
        if plugin:
            d = pathlib.Path(self.dir, ".local/lib/wireshark/plugins", ws_version(), "epan")
            d.mkdir(parents=True)
            shutil.copy(plugin, d / "libzkh2.so")
        subprocess.run(["chmod", "-R", "a+rwX", self.dir])
        if os.getuid() == 0:
            subprocess.run(["chown", "-R", "65534:65534", self.dir])

    def run(self, args):
        cmd = ["tshark"] + args
        if os.getuid() == 0:
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env",
                   "HOME=" + self.dir] + cmd
            env = None
        else:
            env = dict(os.environ, HOME=self.dir)
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
            raise SystemExit("tshark failed: " + " ".join(args))
        return p.stdout

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def fields(home, prefixes):
    out = home.run(["-G", "fields"])
    names = []
    for line in out.splitlines():
        p = line.split("\t")
        if p[0] == "F" and any(p[2].startswith(x) for x in prefixes):
            names.append(p[2])
    return names


def dump(home, capture, args, names):
    cmd = ["-r", capture, "-T", "json", "--no-duplicate-keys"] + args + ["-e", "frame.number"]
    for n in names:
        cmd += ["-e", n]
    frames = {}
    for pkt in json.loads(home.run(cmd) or "[]"):
        layers = pkt["_source"]["layers"]
        num = int(layers.pop("frame.number")[0])
        frames[num] = layers
    return frames


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("--h2-port", type=int, action="append", default=[])
    ap.add_argument("--keylog")
    ap.add_argument("--ours-d", action="append", default=[])
    ap.add_argument("--prefix", default="http2.,grpc.")
    ap.add_argument("--two-pass", action="store_true")
    ap.add_argument("--show", type=int, default=3)
    ap.add_argument("--superset", action="store_true",
                    help="only require that ours holds every built-in value (mid-stream captures)")
    ap.add_argument("--plugin", default=os.environ.get("ZKH2_PLUGIN", str(ROOT / "target/release/libzkh2.so")))
    ap.add_argument("-o", action="append", default=[], dest="opts")
    a = ap.parse_args()
    common = []
    if a.keylog:
        common += ["-o", "tls.keylog_file:" + a.keylog]
    for o in a.opts:
        common += ["-o", o]
    if a.two_pass:
        common += ["-2"]
    stock = Home(None)
    ours = Home(a.plugin)
    try:
        names = fields(stock, a.prefix.split(","))
        theirs_args = list(common)
        for p in a.h2_port:
            theirs_args += ["-d", "tcp.port==%d,http2" % p]
        ours_args = list(common)
        for d in a.ours_d:
            ours_args += ["-d", d]
        theirs = dump(stock, a.capture, theirs_args, names)
        mine = dump(ours, a.capture, ours_args, names)
    finally:
        stock.close()
        ours.close()
    diffs = {}
    for num in sorted(set(theirs) | set(mine)):
        t, m = theirs.get(num, {}), mine.get(num, {})
        for f in sorted(set(t) | set(m)):
            tv, mv = t.get(f), m.get(f)
            if a.superset:
                rest = list(mv or [])
                ok = True
                for v in tv or []:
                    if v in rest:
                        rest.remove(v)
                    else:
                        ok = False
                if ok:
                    continue
            if tv != mv:
                diffs.setdefault(f, []).append((num, tv, mv))
    total = sum(len(v) for v in diffs.values())
    for f, rows in sorted(diffs.items()):
        print("%s: %d frames differ" % (f, len(rows)))
        for num, tv, mv in rows[: a.show]:
            print("   frame %d\n     built-in: %s\n     ours:     %s" % (num, str(tv)[:300], str(mv)[:300]))
    print("%s: %d fields, %d (field, frame) differences" % (a.capture, len(diffs), total))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
