"""Shared by the seed builders (fuzz/make-seeds*.py): captures read with tshark, seeds saved
under the SHA-1 of their content (as libFuzzer names its own)."""
import hashlib
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def tshark_fields(cap, fields, display_filter, options=()):
    """Each packet of `cap` that matches `display_filter`: its `fields`, as tshark prints them."""
    cmd = ["tshark", "-r", cap, *options, "-T", "fields"]
    for field in fields:
        cmd += ["-e", field]
    cmd += ["-Y", display_filter]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        yield line.split("\t")


def unhex(payload):
    """tcp.payload as tshark prints it (aa:bb:...) as bytes."""
    return bytes.fromhex(payload.replace(":", ""))


def segments(cap, display_filter):
    """(stream, source port, destination port, payload) of every segment with a payload."""
    for parts in tshark_fields(cap, ["tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.payload"],
                               display_filter):
        if len(parts) < 4 or not parts[3]:
            continue
        yield int(parts[0]), int(parts[1]), int(parts[2]), unhex(parts[3])


def save_in(directory, data):
    """Writes `data` into `directory` as the file named by its SHA-1."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def save(target, data):
    """A seed of fuzz/corpus/`target`."""
    save_in(os.path.join(HERE, "corpus", target), data)
