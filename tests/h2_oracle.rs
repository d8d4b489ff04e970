//! The HTTP/2 oracle: on every HTTP/2 capture, our `h2` dissector must show the same HTTP/2
//! frames, the same headers and the same reassembled, content-decoded bodies as Wireshark's
//! built-in `http2` dissector.
//!
//! Each capture is read twice by a hermetic tshark:
//!
//! - built-in: the stock tshark without our plugin (`Tshark::stock`: temporary HOME, uid 65534 as
//!   `support::Tshark`), `-d tcp.port==N,http2` for the capture's ports. Loading the plugin
//!   and passing `--disable-protocol h2` is not equivalent: once h2 owns `tls.alpn "h2"`,
//!   the built-in does not get TLS h2 back (../shared/docs/http2-builtin.md, E11);
//! - ours: `support::Tshark` (plugin loaded), `--disable-protocol http2`, `-d tcp.port==N,h2`.
//!
//! Both runs use `-2 -T json --no-duplicate-keys -J "frame <proto>"`. The JSON is read with
//! `serde_json` and its `preserve_order` feature, because the order of frames and headers is
//! part of what is compared (without it, object keys come back sorted). Three lists
//! are extracted and compared entry by entry; a failure names the first differing entry:
//!
//! - frames: (packet, stream id, type, flags, length), one per HTTP/2 frame;
//! - headers: (packet, stream id, name, value), in decoding order; a header block split over
//!   HEADERS/PUSH_PROMISE + CONTINUATION counts at the packet of its END_HEADERS frame;
//! - bodies: (packet, stream id, bytes), one per stream direction that ends with END_STREAM
//!   and carried data. Built-in: the `http2.data.data` of the frame that ends the stream
//!   when it is reassembled or content-decoded there, else the concatenated
//!   `http2.data.data` of the stream's DATA frames. Ours: every `h2.body`, and for a gRPC
//!   stream (framed into messages as they come, no body kept) the concatenated `h2.data`.
//!
//! Mid-connection captures (`*-midstream*`): every entry of the built-in must appear in ours in
//! order; ours may decode more (it resynchronises on frame boundaries the built-in skips).
//!
//! A header the built-in names `<unknown>` (a mid-connection capture, where it pre-fills the
//! HPACK table with dummy entries) matches any header of ours at that position.
//!
//! Ours must also show no `_ws.malformed` and no error-severity expert item on a packet where
//! the built-in shows none.
//!
//! Third-party captures come from `../shared/pcaps/http2/` and are skipped when that folder is
//! absent; `.pcapng.gz` files are unpacked into a temporary folder first.
//!
//! `H2_ORACLE_DUMP=1` prints the extracted lists of both sides.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value as J;

use support::{TempDir, Tshark, repo};

// ------------------------------------------------------------------- the cases

/// One capture and how to decode it.
struct Case {
    /// Repo-relative for ours (`tests/captures/h2/...`), or relative to the shared pcaps
    /// folder for third-party captures.
    file: &'static str,
    shared: bool,
    /// Server ports that need `-d tcp.port==N,<proto>`.
    h2_ports: &'static [u16],
    /// Ports that need `-d tcp.port==N,http` (h2c upgrade from HTTP/1.1).
    http_ports: &'static [u16],
    /// TLS key log, same base as `file`.
    keylog: Option<&'static str>,
}

const OUR_PLAIN_PORTS: &[u16] = &[18180, 18181];

macro_rules! oracle_tests {
    ($($name:ident => $case:expr;)*) => {
        $(
            #[test]
            fn $name() {
                run_case(&$case);
            }
        )*

        /// Every capture file that has a test (used to check that none is forgotten).
        const ALL_CASES: &[Case] = &[$($case),*];
    };
}

oracle_tests! {
    ours_nghttp_prior_knowledge => Case { file: "tests/captures/h2/nghttp-prior-knowledge.pcapng", shared: false, h2_ports: OUR_PLAIN_PORTS, http_ports: &[], keylog: None };
    ours_nghttp_prior_knowledge_midstream => Case { file: "tests/captures/h2/nghttp-prior-knowledge-midstream.pcapng", shared: false, h2_ports: OUR_PLAIN_PORTS, http_ports: &[], keylog: None };
    ours_curl_upgrade => Case { file: "tests/captures/h2/curl-upgrade.pcapng", shared: false, h2_ports: &[], http_ports: &[18181], keylog: None };
    ours_curl_prior_knowledge => Case { file: "tests/captures/h2/curl-prior-knowledge.pcapng", shared: false, h2_ports: OUR_PLAIN_PORTS, http_ports: &[], keylog: None };
    ours_h2load => Case { file: "tests/captures/h2/h2load.pcapng", shared: false, h2_ports: OUR_PLAIN_PORTS, http_ports: &[], keylog: None };
    ours_h2load_midstream => Case { file: "tests/captures/h2/h2load-midstream.pcapng", shared: false, h2_ports: OUR_PLAIN_PORTS, http_ports: &[], keylog: None };
    ours_tls => Case { file: "tests/captures/h2/tls.pcapng", shared: false, h2_ports: &[], http_ports: &[], keylog: Some("tests/captures/h2/tls.keys") };
    ours_h2_features => Case { file: "tests/captures/h2/h2-features.pcapng", shared: false, h2_ports: OUR_PLAIN_PORTS, http_ports: &[], keylog: None };
    ours_h2_errors => Case { file: "tests/captures/h2/h2-errors.pcapng", shared: false, h2_ports: OUR_PLAIN_PORTS, http_ports: &[], keylog: None };
    shared_h2c_prior_knowledge_ports => Case { file: "generated/h2c-prior-knowledge-ports-8088-39081.pcapng", shared: true, h2_ports: &[8088, 39081], http_ports: &[], keylog: None };
    shared_packet_h2_14_headers => Case { file: "wireshark-4.0.17-test/captures/packet-h2-14_headers.pcapng", shared: true, h2_ports: &[3000], http_ports: &[], keylog: None };
    shared_http2_brotli => Case { file: "wireshark-4.0.17-test/captures/http2-brotli.pcapng", shared: true, h2_ports: &[], http_ports: &[], keylog: None };
    shared_http2_data_reassembly => Case { file: "wireshark-4.0.17-test/captures/http2-data-reassembly.pcap", shared: true, h2_ports: &[], http_ports: &[], keylog: Some("wireshark-4.0.17-test/keys/http2-data-reassembly.keys") };
    shared_grpc_person_search_json_with_image => Case { file: "wireshark-4.0.17-test/captures/grpc_person_search_json_with_image.pcapng.gz", shared: true, h2_ports: &[50052], http_ports: &[], keylog: None };
    shared_grpc_person_search_protobuf_with_image => Case { file: "wireshark-4.0.17-test/captures/grpc_person_search_protobuf_with_image.pcapng.gz", shared: true, h2_ports: &[50051], http_ports: &[], keylog: None };
    shared_grpc_stream_reassembly_sample => Case { file: "wireshark-4.0.17-test/captures/grpc_stream_reassembly_sample.pcapng.gz", shared: true, h2_ports: &[50051, 44363], http_ports: &[], keylog: None };
    shared_grpc_web => Case { file: "wireshark-4.0.17-test/captures/grpc_web.pcapng.gz", shared: true, h2_ports: &[57228], http_ports: &[], keylog: None };
}

fn shared_dir() -> PathBuf {
    repo().join("../shared/pcaps/http2")
}

/// The capture path to hand to tshark (unpacked when gzipped), or None to skip.
fn resolve(case: &Case, tmp: &TempDir) -> Option<(PathBuf, Option<PathBuf>)> {
    let base = if case.shared { shared_dir() } else { repo() };
    if case.shared && !base.is_dir() {
        eprintln!(
            "skipped: {} is absent (third-party capture {})",
            base.display(),
            case.file
        );
        return None;
    }
    let src = base.join(case.file);
    assert!(src.exists(), "capture missing: {}", src.display());
    let file = if case.file.ends_with(".gz") {
        let mut raw = Vec::new();
        std::fs::File::open(&src)
            .and_then(|f| flate2::read::GzDecoder::new(f).read_to_end(&mut raw))
            .unwrap_or_else(|e| panic!("gunzip {}: {e}", src.display()));
        let name = src.file_name().unwrap().to_string_lossy();
        let out = tmp.0.join(name.trim_end_matches(".gz"));
        std::fs::write(&out, raw).expect("write unpacked capture");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        out
    } else {
        src
    };
    let keylog = case.keylog.map(|k| base.join(k));
    Some((file, keylog))
}

// ------------------------------------------------------------------ the runners

// ------------------------------------------------------------------ the sides

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Builtin,
    Ours,
}

impl Side {
    fn proto(self) -> &'static str {
        match self {
            Side::Builtin => "http2",
            Side::Ours => "h2",
        }
    }
    fn other(self) -> &'static str {
        match self {
            Side::Builtin => "h2",
            Side::Ours => "http2",
        }
    }
    /// Field names: stream id, type, flags, length, header name, header value.
    fn names(self) -> [&'static str; 6] {
        match self {
            Side::Builtin => [
                "http2.streamid",
                "http2.type",
                "http2.flags",
                "http2.length",
                "http2.header.name",
                "http2.header.value",
            ],
            Side::Ours => [
                "h2.stream_id",
                "h2.type",
                "h2.flags",
                "h2.length",
                "h2.header.name",
                "h2.header.value",
            ],
        }
    }
}

fn h2_registered(t: &Tshark) -> bool {
    t.ok(&["-G", "protocols"])
        .lines()
        .any(|l| l.split('\t').nth(2) == Some("h2"))
}

/// The common tshark arguments of one side (after `-r FILE`).
fn side_args(side: Side, case: &Case, keylog: Option<&Path>, disable_other: bool) -> Vec<String> {
    let mut a = vec!["-2".to_string()];
    if disable_other {
        a.push("--disable-protocol".into());
        a.push(side.other().into());
    }
    for p in case.h2_ports {
        a.push("-d".into());
        a.push(format!("tcp.port=={p},{}", side.proto()));
    }
    for p in case.http_ports {
        a.push("-d".into());
        a.push(format!("tcp.port=={p},http"));
    }
    if let Some(k) = keylog {
        a.push("-o".into());
        a.push(format!("tls.keylog_file:{}", k.display()));
    }
    a
}

fn run_tshark(t: &Tshark, file: &Path, args: &[String], extra: &[&str]) -> String {
    let mut all: Vec<&str> = vec!["-r", file.to_str().expect("utf-8 path")];
    all.extend(args.iter().map(String::as_str));
    all.extend_from_slice(extra);
    t.ok(&all)
}

// ------------------------------------------------------------------ extraction

#[derive(Clone, PartialEq, Eq)]
struct FrameRec {
    packet: u32,
    stream: u32,
    ftype: u64,
    flags: u64,
    length: u64,
}

impl fmt::Display for FrameRec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "packet {} stream {} type {} flags 0x{:02x} length {}",
            self.packet, self.stream, self.ftype, self.flags, self.length
        )
    }
}

#[derive(Clone, PartialEq, Eq)]
struct HeaderRec {
    packet: u32,
    stream: u32,
    name: String,
    value: String,
}

impl fmt::Display for HeaderRec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = self.value.clone();
        if v.len() > 80 {
            let cut = (0..=80).rev().find(|&i| v.is_char_boundary(i)).unwrap_or(0);
            v = format!("{}... ({} bytes)", &v[..cut], self.value.len());
        }
        write!(
            f,
            "packet {} stream {} {:?}: {:?}",
            self.packet, self.stream, self.name, v
        )
    }
}

#[derive(Clone, PartialEq, Eq)]
struct BodyRec {
    packet: u32,
    stream: u32,
    bytes: Vec<u8>,
}

impl fmt::Display for BodyRec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head: String = self
            .bytes
            .iter()
            .take(24)
            .map(|b| format!("{b:02x}"))
            .collect();
        write!(
            f,
            "packet {} stream {} {} bytes [{}{}]",
            self.packet,
            self.stream,
            self.bytes.len(),
            head,
            if self.bytes.len() > 24 { "..." } else { "" }
        )
    }
}

/// What one side shows.
#[derive(Default)]
struct Extract {
    frames: Vec<FrameRec>,
    headers: Vec<HeaderRec>,
    bodies: Vec<BodyRec>,
    /// Number of protocol items (HTTP/2 frames and the preface) seen.
    items: usize,
}

/// One protocol item (one HTTP/2 frame) as collected from the JSON tree.
#[derive(Default)]
struct Item {
    stream: Option<u32>,
    ftype: Option<u64>,
    flags: Option<u64>,
    length: Option<u64>,
    headers: Vec<(String, String)>,
    pending_names: std::collections::VecDeque<String>,
    /// `http2.data.data` / `h2.body` values, in order.
    data: Vec<Vec<u8>>,
    /// `http2.data.segment`: the built-in's streaming mode (gRPC content types) shows each
    /// DATA frame's payload as a segment and reassembles the sub-dissector's messages, not
    /// the body.
    segments: Vec<Vec<u8>>,
    /// The built-in reassembled something in this frame (`http2.body.fragments`).
    reassembled: bool,
    /// Ours: the DATA frame's payload (`h2.data`), for gRPC streams, which ours frames into
    /// messages as they come instead of keeping a body.
    payload: Vec<Vec<u8>>,
}

fn num(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

fn hex_bytes(s: &str) -> Vec<u8> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split(':')
        .map(|h| u8::from_str_radix(h, 16).unwrap_or_else(|_| panic!("bad hex byte {h:?}")))
        .collect()
}

fn strings(v: &J) -> Vec<&str> {
    match v {
        J::String(s) => vec![s.as_str()],
        J::Array(a) => a.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

fn walk(side: Side, v: &J, it: &mut Item) {
    let [sid, typ, flg, len, hname, hvalue] = side.names();
    let J::Object(members) = v else {
        if let J::Array(a) = v {
            for x in a {
                walk(side, x, it);
            }
        }
        return;
    };
    for (k, val) in members {
        let k = k.as_str();
        let first = || strings(val).first().and_then(|s| num(s));
        if k == sid {
            it.stream = it.stream.or(first().map(|n| n as u32));
        } else if k == typ {
            it.ftype = it.ftype.or(first());
        } else if k == flg {
            it.flags = it.flags.or(first());
        } else if k == len {
            it.length = it.length.or(first());
        } else if k == hname {
            it.pending_names
                .extend(strings(val).into_iter().map(str::to_string));
        } else if k == hvalue {
            for value in strings(val) {
                let name = it.pending_names.pop_front().unwrap_or_else(|| {
                    panic!("{side:?}: header value {value:?} without a name before it")
                });
                it.headers.push((name, value.to_string()));
            }
        } else if (side == Side::Builtin && k == "http2.data.data")
            || (side == Side::Ours && k == "h2.body")
        {
            it.data.extend(strings(val).into_iter().map(hex_bytes));
        } else if side == Side::Ours && k == "h2.data" {
            it.payload.extend(strings(val).into_iter().map(hex_bytes));
        } else if side == Side::Builtin && k == "http2.data.segment" {
            it.segments.extend(strings(val).into_iter().map(hex_bytes));
        } else if side == Side::Builtin && k == "http2.body.fragments" {
            it.reassembled = true;
        }
        walk(side, val, it);
    }
}

/// A built-in stream direction's body so far: the concatenated DATA payloads, and the body
/// the built-in reassembled or decoded itself, if it did.
type PendingBody = (Vec<u8>, Option<Vec<u8>>);

fn extract(side: Side, json: &str, conv: &HashMap<u32, (u32, u32)>) -> Extract {
    let doc: J = serde_json::from_str(json).expect("tshark JSON");
    let J::Array(packets) = doc else {
        panic!("tshark JSON is not an array")
    };
    let mut ex = Extract::default();
    // built-in bodies: (tcp stream, source port, stream id) -> (concatenated DATA, final body)
    let mut pending: HashMap<(u32, u32, u32), PendingBody> = HashMap::new();
    // ours: the gRPC streams, (tcp stream, stream id), by their content type
    let mut grpc_streams: std::collections::HashSet<(u32, u32)> = Default::default();
    // header blocks not ended yet, per (tcp stream, source port)
    let mut blocks: HashMap<(u32, u32), HeaderBlock> = HashMap::new();
    for p in &packets {
        let layers = p
            .get("_source")
            .and_then(|s| s.get("layers"))
            .expect("_source.layers");
        let packet = layers
            .get("frame")
            .and_then(|f| f.get("frame.number"))
            .and_then(|n| strings(n).first().and_then(|s| num(s)))
            .expect("frame.number") as u32;
        let Some(proto) = layers.get(side.proto()) else {
            continue;
        };
        let items: Vec<&J> = match proto {
            J::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        for item in items {
            ex.items += 1;
            let mut it = Item::default();
            walk(side, item, &mut it);
            assert!(
                it.pending_names.is_empty(),
                "{side:?}: packet {packet}: header names without values: {:?}",
                it.pending_names
            );
            let Some(ftype) = it.ftype else {
                continue; // the connection preface
            };
            let stream = it
                .stream
                .unwrap_or_else(|| panic!("{side:?}: packet {packet}: frame without stream id"));
            ex.frames.push(FrameRec {
                packet,
                stream,
                ftype,
                flags: it
                    .flags
                    .unwrap_or_else(|| panic!("packet {packet}: no flags")),
                length: it
                    .length
                    .unwrap_or_else(|| panic!("packet {packet}: no length")),
            });
            // A header block is reported at the packet of the frame that ends it
            // (END_HEADERS): the built-in shows each header in whichever fragment completes
            // it, ours may show the block at its end.
            let flags = it.flags.unwrap_or(0);
            let key = conv.get(&packet).copied().unwrap_or((0, 0));
            if it
                .headers
                .iter()
                .any(|(n, v)| n == "content-type" && v.starts_with("application/grpc"))
            {
                grpc_streams.insert((key.0, stream));
            }
            let block = blocks.entry(key).or_default();
            block.0 = packet;
            block.1.extend(
                it.headers
                    .drain(..)
                    .map(|(name, value)| (stream, name, value)),
            );
            if !matches!(ftype, 1 | 5 | 9) || flags & 4 == 4 {
                flush_block(&mut ex.headers, block);
            }
            match side {
                Side::Ours if grpc_streams.contains(&(key.0, stream)) => {
                    // As the built-in's streaming mode: the DATA payloads up to END_STREAM.
                    let slot = pending.entry((key.0, key.1, stream)).or_default();
                    for d in &it.payload {
                        slot.0.extend_from_slice(d);
                    }
                    if it.flags.unwrap_or(0) & 1 == 1 && (ftype == 0 || ftype == 1) {
                        if let Some((bytes, _)) = pending.remove(&(key.0, key.1, stream)) {
                            if !bytes.is_empty() {
                                ex.bodies.push(BodyRec {
                                    packet,
                                    stream,
                                    bytes,
                                });
                            }
                        }
                    }
                }
                Side::Ours => {
                    for bytes in it.data.drain(..) {
                        if !bytes.is_empty() {
                            ex.bodies.push(BodyRec {
                                packet,
                                stream,
                                bytes,
                            });
                        }
                    }
                }
                Side::Builtin => {
                    let (tcp, port) = conv
                        .get(&packet)
                        .copied()
                        .unwrap_or_else(|| panic!("packet {packet}: no tcp.stream"));
                    let slot = pending.entry((tcp, port, stream)).or_default();
                    if !it.segments.is_empty() {
                        // streaming mode: the raw payloads are the body
                        for d in &it.segments {
                            slot.0.extend_from_slice(d);
                        }
                    } else if it.reassembled || (ftype != 0 && !it.data.is_empty()) {
                        // END_STREAM mode: this frame shows the whole (decoded) body
                        slot.1 = it.data.pop();
                    } else if ftype == 0 {
                        for d in &it.data {
                            slot.0.extend_from_slice(d);
                        }
                    }
                    let end_stream = it.flags.unwrap_or(0) & 1 == 1 && (ftype == 0 || ftype == 1);
                    if end_stream && stream != 0 {
                        if let Some((concat, fin)) = pending.remove(&(tcp, port, stream)) {
                            let bytes = fin.unwrap_or(concat);
                            if !bytes.is_empty() {
                                ex.bodies.push(BodyRec {
                                    packet,
                                    stream,
                                    bytes,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    let mut rest: Vec<HeaderBlock> = blocks.into_values().filter(|b| !b.1.is_empty()).collect();
    rest.sort_by_key(|b| b.0);
    for mut b in rest {
        flush_block(&mut ex.headers, &mut b);
    }
    ex
}

/// (packet of the last fragment, [(stream, name, value)])
type HeaderBlock = (u32, Vec<(u32, String, String)>);

fn flush_block(out: &mut Vec<HeaderRec>, block: &mut HeaderBlock) {
    let packet = block.0;
    out.extend(block.1.drain(..).map(|(stream, name, value)| HeaderRec {
        packet,
        stream,
        name,
        value,
    }));
}

/// packet -> (tcp.stream, tcp.srcport)
fn conversations(t: &Tshark, file: &Path, args: &[String]) -> HashMap<u32, (u32, u32)> {
    let out = run_tshark(
        t,
        file,
        args,
        &[
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "tcp.stream",
            "-e",
            "tcp.srcport",
        ],
    );
    out.lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let packet = f.next()?.parse().ok()?;
            let tcp = f.next()?.parse().ok()?;
            let port = f.next()?.parse().ok()?;
            Some((packet, (tcp, port)))
        })
        .collect()
}

/// Packets with `_ws.malformed` or an error-severity expert item.
fn bad_packets(t: &Tshark, file: &Path, args: &[String]) -> BTreeSet<u32> {
    run_tshark(
        t,
        file,
        args,
        &[
            "-Y",
            "_ws.malformed || _ws.expert.severity == error",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
    )
    .lines()
    .filter_map(|l| l.trim().parse().ok())
    .collect()
}

fn side_extract(
    t: &Tshark,
    side: Side,
    file: &Path,
    case: &Case,
    keylog: Option<&Path>,
    disable_other: bool,
) -> (Extract, BTreeSet<u32>) {
    let args = side_args(side, case, keylog, disable_other);
    let conv = conversations(t, file, &args);
    let json = run_tshark(
        t,
        file,
        &args,
        &[
            "-T",
            "json",
            "--no-duplicate-keys",
            "-J",
            &format!("frame {}", side.proto()),
        ],
    );
    let ex = extract(side, &json, &conv);
    if std::env::var_os("H2_ORACLE_DUMP").is_some() {
        eprintln!("==== {side:?} {}", file.display());
        for f in &ex.frames {
            eprintln!("frame  {f}");
        }
        for h in &ex.headers {
            eprintln!("header {h}");
        }
        for b in &ex.bodies {
            eprintln!("body   {b}");
        }
    }
    (ex, bad_packets(t, file, &args))
}

/// The built-in side only (used by the harness's own checks).
fn builtin(t: &Tshark, case: &Case) -> Option<Extract> {
    let tmp = TempDir::new("builtin");
    let (file, keylog) = resolve(case, &tmp)?;
    let disable = h2_registered(t);
    Some(side_extract(t, Side::Builtin, &file, case, keylog.as_deref(), disable).0)
}

// ------------------------------------------------------------------ comparison

fn header_matches(want: &HeaderRec, got: &HeaderRec) -> bool {
    if want.name == "<unknown>" {
        return want.packet == got.packet && want.stream == got.stream;
    }
    want == got
}

/// None when equal, else a readable report of the first difference.
fn first_difference<T: fmt::Display>(
    what: &str,
    builtin: &[T],
    ours: &[T],
    same: impl Fn(&T, &T) -> bool,
) -> Option<String> {
    let i = builtin
        .iter()
        .zip(ours)
        .position(|(a, b)| !same(a, b))
        .or((builtin.len() != ours.len()).then(|| builtin.len().min(ours.len())))?;
    let show = |l: &[T]| -> String {
        let from = i.saturating_sub(2);
        (from..(i + 3).min(l.len()))
            .map(|j| format!("    {}{j}: {}", if j == i { "> " } else { "  " }, l[j]))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Some(format!(
        "{what}: first difference at entry {i} (built-in has {}, ours {}):\n  built-in http2:\n{}\n  ours h2:\n{}",
        builtin.len(),
        ours.len(),
        show(builtin),
        show(ours)
    ))
}

/// Mid-connection captures: ours finds frame boundaries and header blocks that the built-in
/// skips (it waits for a frame start it never gets), so there every entry of the built-in must
/// appear in ours, in order, and ours may have more. None when that holds.
fn missing_from<T: fmt::Display>(
    what: &str,
    builtin: &[T],
    ours: &[T],
    same: impl Fn(&T, &T) -> bool,
) -> Option<String> {
    let mut rest = ours.iter();
    let i = builtin
        .iter()
        .position(|want| !rest.any(|got| same(want, got)))?;
    Some(format!(
        "{what}: built-in entry {i} not found in ours (in order): {}\n  (built-in has {}, ours {})",
        builtin[i],
        builtin.len(),
        ours.len()
    ))
}

fn run_case(case: &Case) {
    let tmp = TempDir::new("case");
    let Some((file, keylog)) = resolve(case, &tmp) else {
        return;
    };
    let stock = Tshark::stock();
    let (want, want_bad) = side_extract(
        &stock,
        Side::Builtin,
        &file,
        case,
        keylog.as_deref(),
        h2_registered(&stock),
    );
    let t = Tshark::new();
    let registered = h2_registered(&t);
    // the harness itself: the built-in must have decoded something
    assert!(
        !want.frames.is_empty() && !want.headers.is_empty(),
        "{}: the built-in http2 decoded no frames or headers: decode-as ports wrong, or \
         does h2 own tls.alpn/http.upgrade (then --disable-protocol h2 does not hand them back)?",
        case.file
    );
    assert!(
        registered,
        "{}: the plugin registers no protocol `h2` (built-in side: {} frames, {} headers, {} bodies)",
        case.file,
        want.frames.len(),
        want.headers.len(),
        want.bodies.len()
    );
    let (got, got_bad) = side_extract(&t, Side::Ours, &file, case, keylog.as_deref(), true);
    let mut problems = Vec::new();
    if case.file.contains("midstream") {
        problems.extend(missing_from("frames", &want.frames, &got.frames, |a, b| {
            a == b
        }));
        problems.extend(missing_from(
            "headers",
            &want.headers,
            &got.headers,
            header_matches,
        ));
        problems.extend(missing_from("bodies", &want.bodies, &got.bodies, |a, b| {
            a == b
        }));
    } else {
        problems.extend(first_difference(
            "frames",
            &want.frames,
            &got.frames,
            |a, b| a == b,
        ));
        problems.extend(first_difference(
            "headers",
            &want.headers,
            &got.headers,
            header_matches,
        ));
        problems.extend(first_difference(
            "bodies",
            &want.bodies,
            &got.bodies,
            |a, b| a == b,
        ));
    }
    let extra_bad: Vec<u32> = got_bad.difference(&want_bad).copied().collect();
    if !extra_bad.is_empty() {
        problems.push(format!(
            "ours shows _ws.malformed or an error expert item on packets {extra_bad:?} \
             (the built-in does not); see `scripts/tshark-plugin -r {} -Y '_ws.malformed || _ws.expert.severity == error' -V`",
            file.display()
        ));
    }
    assert!(
        problems.is_empty(),
        "{}: h2 differs from the built-in http2 (H2_ORACLE_DUMP=1 prints both sides):\n{}",
        case.file,
        problems.join("\n")
    );
}

// ------------------------------------------------------- checks of the harness

/// Every capture in tests/captures/h2 has its own oracle test.
#[test]
fn harness_every_capture_has_a_case() {
    let mut missing = Vec::new();
    for p in support::captures("tests/captures/h2") {
        let rel = p
            .strip_prefix(repo())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if !ALL_CASES.iter().any(|c| !c.shared && c.file == rel) {
            missing.push(rel);
        }
    }
    assert!(
        missing.is_empty(),
        "captures without an oracle case: {missing:?}"
    );
    if shared_dir().is_dir() {
        let mut shared = Vec::new();
        let mut stack = vec![shared_dir()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let n = p.to_string_lossy();
                    if n.ends_with(".pcap") || n.ends_with(".pcapng") || n.ends_with(".pcapng.gz") {
                        shared.push(
                            p.strip_prefix(shared_dir())
                                .unwrap()
                                .to_string_lossy()
                                .into_owned(),
                        );
                    }
                }
            }
        }
        let missing: Vec<_> = shared
            .iter()
            .filter(|s| !ALL_CASES.iter().any(|c| c.shared && &c.file == s))
            .collect();
        assert!(
            missing.is_empty(),
            "shared captures without an oracle case: {missing:?}"
        );
    }
}

/// Parses one of the oracle TSV dumps in `oracle-tshark-4.0.17/`: per packet, the
/// `|`-joined per-frame columns streamid, type, flags, length and header names and values.
/// (packet, header name, header value)
type TsvHeader = (u32, String, String);

fn oracle_tsv(name: &str) -> Option<(Vec<FrameRec>, Vec<TsvHeader>)> {
    let path = shared_dir()
        .join("wireshark-4.0.17-test/oracle-tshark-4.0.17")
        .join(name);
    let text = std::fs::read_to_string(&path).ok()?;
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next()?.split('\t').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).expect(n);
    let (c_frame, c_sid, c_type, c_flags, c_len, c_name, c_value) = (
        col("frame.number"),
        col("http2.streamid"),
        col("http2.type"),
        col("http2.flags"),
        col("http2.length"),
        col("http2.header.name"),
        col("http2.header.value"),
    );
    let mut frames = Vec::new();
    let mut headers = Vec::new();
    for l in lines {
        let f: Vec<&str> = l.split('\t').collect();
        let packet: u32 = f[c_frame].parse().unwrap();
        let split = |c: usize| -> Vec<&str> {
            if f[c].is_empty() {
                Vec::new()
            } else {
                f[c].split('|').collect()
            }
        };
        let (sids, types, flags, lens) =
            (split(c_sid), split(c_type), split(c_flags), split(c_len));
        // the preface has a stream id column entry only when frames follow it; the type
        // column is authoritative: one entry per real frame, aligned from the end
        let skip = sids.len().saturating_sub(types.len());
        for (i, t) in types.iter().enumerate() {
            frames.push(FrameRec {
                packet,
                stream: num(sids[skip + i]).unwrap() as u32,
                ftype: num(t).unwrap(),
                flags: num(flags[i]).unwrap(),
                length: num(lens[i]).unwrap(),
            });
        }
        for (n, v) in split(c_name).into_iter().zip(split(c_value)) {
            headers.push((packet, n.to_string(), v.to_string()));
        }
    }
    Some((frames, headers))
}

fn case_named(file_end: &str) -> &'static Case {
    ALL_CASES
        .iter()
        .find(|c| c.file.ends_with(file_end))
        .expect("case")
}

/// The built-in extraction agrees with the independent `-T fields` dumps that were made
/// with tshark 4.0.17 and stored next to the shared captures.
#[test]
fn harness_builtin_extraction_matches_oracle_tsv() {
    if !shared_dir().is_dir() {
        eprintln!("skipped: {} is absent", shared_dir().display());
        return;
    }
    let t = Tshark::stock();
    for (capture, tsv) in [
        ("packet-h2-14_headers.pcapng", "packet-h2-14_headers.tsv"),
        ("http2-brotli.pcapng", "http2-brotli.tsv"),
        ("http2-data-reassembly.pcap", "http2-data-reassembly.tsv"),
        (
            "grpc_stream_reassembly_sample.pcapng.gz",
            "grpc_stream_reassembly_sample.tsv",
        ),
    ] {
        let (want_frames, want_headers) =
            oracle_tsv(tsv).unwrap_or_else(|| panic!("oracle file {tsv} missing"));
        let got = builtin(&t, case_named(capture)).expect("shared captures present");
        assert!(!want_headers.is_empty(), "{tsv}: no headers");
        let got_headers: Vec<TsvHeader> = got
            .headers
            .iter()
            .map(|h| (h.packet, h.name.clone(), h.value.clone()))
            .collect();
        if let Some(d) = first_difference(
            &format!("{capture} frames vs {tsv}"),
            &want_frames,
            &got.frames,
            |a, b| a == b,
        ) {
            panic!("{d}");
        }
        assert_eq!(
            got_headers, want_headers,
            "{capture}: headers differ from {tsv}"
        );
    }
}

/// The built-in extraction finds the bodies that are known to be in the captures: content
/// decoding (gzip, deflate, br) and multi-frame reassembly included.
#[test]
fn harness_builtin_bodies_are_decoded_and_reassembled() {
    let t = Tshark::stock();
    // h2_server.py's TEXT, sent three times with content-encoding gzip, deflate and br
    let text = "HTTP/2 test body for the zkh2 dissector. "
        .repeat(40)
        .into_bytes();
    let ex = builtin(&t, case_named("/nghttp-prior-knowledge.pcapng")).unwrap();
    let decoded = ex.bodies.iter().filter(|b| b.bytes == text).count();
    assert_eq!(
        decoded, 3,
        "gzip/deflate/br bodies not decoded by the built-in"
    );
    assert!(
        ex.bodies.iter().any(|b| b.bytes.len() == 300 * 1024),
        "the 300 KiB body is not reassembled: {:?}",
        ex.bodies.iter().map(|b| b.bytes.len()).collect::<Vec<_>>()
    );
    assert!(
        ex.frames.iter().any(|f| f.ftype == 5),
        "no PUSH_PROMISE frame"
    );

    let ex = builtin(&t, case_named("/h2-features.pcapng")).unwrap();
    let has = |n: &str, v: &str| ex.headers.iter().any(|h| h.name == n && h.value == v);
    assert!(
        has("grpc-status", "0") && has("grpc-message", "OK"),
        "gRPC trailers"
    );
    assert!(has("x-trailer-note", "done"), "trailers");
    assert!(
        has("x-after-big", "still here"),
        "header after CONTINUATION"
    );
    assert!(
        ex.headers
            .iter()
            .any(|h| h.name == "x-big" && h.value.len() == 40000),
        "40 KB header split over CONTINUATION"
    );
    assert!(
        ex.headers
            .iter()
            .any(|h| h.name == "cookie" && h.value.len() > 16384),
        "20 KB cookie split over CONTINUATION"
    );
    for ty in [2, 3, 5, 6, 7, 8, 9] {
        assert!(
            ex.frames.iter().any(|f| f.ftype == ty),
            "no frame of type {ty}"
        );
    }
    assert!(
        ex.bodies
            .iter()
            .any(|b| b.bytes.len() == text.len() && b.bytes == text),
        "body before trailers"
    );

    let ex = builtin(&t, case_named("/curl-upgrade.pcapng")).unwrap();
    assert!(
        ex.headers
            .iter()
            .any(|h| h.stream == 1 && h.name == ":status" && h.value == "200"),
        "response on stream 1 after Upgrade: h2c"
    );

    let ex = builtin(&t, case_named("/tls.pcapng")).unwrap();
    assert!(
        ex.headers
            .iter()
            .any(|h| h.name == ":path" && h.value == "/data.json"),
        "TLS not decrypted with tests/captures/h2/tls.keys"
    );

    let ex = builtin(&t, case_named("/h2load-midstream.pcapng")).unwrap();
    assert!(
        ex.headers.iter().any(|h| h.name == "<unknown>"),
        "midstream cut should leave HPACK references the built-in cannot resolve"
    );

    if shared_dir().is_dir() {
        let ex = builtin(&t, case_named("http2-brotli.pcapng")).unwrap();
        let bodies: Vec<&[u8]> = ex.bodies.iter().map(|b| b.bytes.as_slice()).collect();
        assert_eq!(
            bodies,
            vec![&b"This is a test file for testing brotli decompression in Wireshark\n"[..]]
        );
        // streaming mode (gRPC): the body is the raw DATA payloads, one 200,004-byte message
        let ex = builtin(&t, case_named("grpc_stream_reassembly_sample.pcapng.gz")).unwrap();
        assert!(
            ex.bodies
                .iter()
                .any(|b| b.bytes.len() == 200_009 && b.bytes.starts_with(&[0, 0, 3, 0x0d, 0x44])),
            "gRPC streaming-mode body"
        );
        let ex = builtin(&t, case_named("http2-data-reassembly.pcap")).unwrap();
        assert!(
            ex.bodies
                .iter()
                .any(|b| b.bytes.len() == 76091 && b.bytes.starts_with(b"\x89PNG")),
            "reassembled PNG"
        );
    }
}

/// The `ours` side reads `h2.*` fields whether the headers are subtrees or flat sibling
/// arrays (`--no-duplicate-keys`), with several HTTP/2 frames per packet.
#[test]
fn harness_ours_side_extraction() {
    let json = r#"[
      {"_source": {"layers": {"frame": {"frame.number": "7"}, "h2": [
        {"h2.length": "30", "h2.type": "1", "h2.flags": "0x05", "h2.stream_id": "1",
         "h2.header": [{"h2.header.name": ":method", "h2.header.value": "GET"},
                       {"h2.header.name": ":path", "h2.header.value": "/a"}]},
        {"h2.length": "20", "h2.type": "1", "h2.flags": "0x04", "h2.stream_id": "3",
         "h2.header.name": [":method", ":path"], "h2.header.value": ["POST", "/b"]}
      ]}}},
      {"_source": {"layers": {"frame": {"frame.number": "9"}, "h2":
        {"Frame": {"h2.length": "3", "h2.type": "0", "h2.flags": "0x01", "h2.stream_id": "3",
         "Body": {"h2.body": "61:62:63"}}}}}},
      {"_source": {"layers": {"frame": {"frame.number": "10"}}}}
    ]"#;
    let ex = extract(Side::Ours, json, &HashMap::new());
    let frames: Vec<String> = ex.frames.iter().map(ToString::to_string).collect();
    assert_eq!(
        frames,
        [
            "packet 7 stream 1 type 1 flags 0x05 length 30",
            "packet 7 stream 3 type 1 flags 0x04 length 20",
            "packet 9 stream 3 type 0 flags 0x01 length 3"
        ]
    );
    let headers: Vec<String> = ex.headers.iter().map(ToString::to_string).collect();
    assert_eq!(
        headers,
        [
            r#"packet 7 stream 1 ":method": "GET""#,
            r#"packet 7 stream 1 ":path": "/a""#,
            r#"packet 7 stream 3 ":method": "POST""#,
            r#"packet 7 stream 3 ":path": "/b""#
        ]
    );
    assert_eq!(ex.bodies.len(), 1);
    assert_eq!(ex.bodies[0].bytes, b"abc");
    assert_eq!((ex.bodies[0].packet, ex.bodies[0].stream), (9, 3));
    // a `<unknown>` header of the built-in matches any header at its place, nothing else does
    let unknown = HeaderRec {
        packet: 7,
        stream: 1,
        name: "<unknown>".into(),
        value: String::new(),
    };
    assert!(header_matches(&unknown, &ex.headers[0]));
    assert!(!header_matches(&unknown, &ex.headers[2]));
    assert!(!header_matches(&ex.headers[0], &ex.headers[1]));
    let diff = first_difference(
        "headers",
        &ex.headers[..2],
        &ex.headers[1..3],
        header_matches,
    )
    .expect("a difference");
    assert!(diff.contains("entry 0") && diff.contains("/a"), "{diff}");
}

/// The JSON reader keeps the members of an object in document order (serde_json's
/// `preserve_order`): the order of frames and headers is part of what is compared.
#[test]
fn harness_json_reader() {
    let j: J =
        serde_json::from_str(r#"[{"b": ["x", "y\"\u00e9"], "a": {"c": null, "d": -1.5e3}}]"#)
            .expect("json");
    let J::Array(v) = j else { panic!() };
    let J::Object(m) = &v[0] else { panic!() };
    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
    assert_eq!(keys, ["b", "a"]);
    assert_eq!(strings(&m["b"]), ["x", "y\"é"]);
    assert_eq!(hex_bytes("00:ff:10"), [0, 255, 16]);
    assert_eq!(num("0x25"), Some(37));
}
