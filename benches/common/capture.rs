//! PDU streams read from captures, for the benches (`h2`, `hpack`, `zookeeper`): each TCP
//! direction's payload reassembled with tshark (`-T fields -e tcp.payload`, no plugin
//! needed) and cut into PDUs by the protocol's framing (`h2_framing`, `zookeeper_framing`).
//! TCP reassembly itself is not part of any measurement.
// Each bench reads a different part of the records.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput, black_box};

use zkh2::h2::frame;
use zkh2::zookeeper::DEFAULT_MAX_PDU;

/// What a direction's buffered bytes hold next.
pub enum Next {
    /// A complete PDU of this many bytes, or the start of one (when the buffer is shorter).
    Pdu(usize),
    /// Not enough bytes to tell.
    NeedMore,
    /// The framing is lost (or the connection is not the protocol's): drop the direction.
    Drop,
}

/// HTTP/2: frames, the client preface as one.
pub fn h2_framing(_first_to_server: bool, b: &[u8]) -> Next {
    if b.len() < frame::HEADER_LEN {
        return Next::NeedMore;
    }
    frame::pdu_len(b).map_or(Next::Drop, |n| Next::Pdu(n as usize))
}

/// ZooKeeper: length-prefixed PDUs; a connection that starts with a four-letter word, or a
/// bogus length, is left out.
pub fn zookeeper_framing(first_to_server: bool, b: &[u8]) -> Next {
    if first_to_server && zkh2::zookeeper::connection::is_four_letter_word(b) {
        return Next::Drop;
    }
    let Some(h) = b.get(..4) else {
        return Next::NeedMore;
    };
    let len = i32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    if len < 0 || len as u32 > DEFAULT_MAX_PDU {
        return Next::Drop;
    }
    Next::Pdu(len as usize + 4)
}

/// One complete PDU, in capture order.
pub struct Pdu {
    pub stream: usize,
    pub src_port: u32,
    pub dst_port: u32,
    pub frame: u32,
    pub index: u32,
    pub time: i64,
    pub start: usize,
    pub end: usize,
}

pub struct Workload {
    pub name: String,
    pub streams: usize,
    pub arena: Vec<u8>,
    pub pdus: Vec<Pdu>,
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// The PDUs of `captures` on server port `port` (the first `packets` packets of each), cut
/// by `framing` (told whether the bytes are the first segment toward the server).
pub fn load(
    name: &str,
    captures: &[&Path],
    port: u32,
    packets: Option<usize>,
    framing: fn(bool, &[u8]) -> Next,
) -> Option<Workload> {
    let mut w = Workload {
        name: name.to_string(),
        streams: 0,
        arena: Vec::new(),
        pdus: Vec::new(),
    };
    for cap in captures {
        let filter = format!("tcp.port == {port} && tcp.len > 0 && !tcp.analysis.retransmission");
        let mut cmd = Command::new("tshark");
        cmd.args(["-n", "-r"]).arg(cap).args([
            "-o",
            "tcp.desegment_tcp_streams:FALSE",
            "--disable-protocol",
            "http2",
            "-Y",
            &filter,
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.time_epoch",
            "-e",
            "tcp.stream",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "tcp.payload",
        ]);
        if let Some(n) = packets {
            cmd.args(["-c", &n.to_string()]);
        }
        let out = cmd.output().ok()?;
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut bufs: HashMap<(u64, bool), Option<Vec<u8>>> = HashMap::new();
        let mut stream_ids: HashMap<u64, usize> = HashMap::new();
        let mut index: HashMap<u32, u32> = HashMap::new();
        for line in text.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let [frame_no, time, stream, sport, dport, payload] = f[..] else {
                continue;
            };
            let (Ok(frame_no), Ok(time), Ok(stream), Ok(sport), Ok(dport)) = (
                frame_no.parse::<u32>(),
                time.parse::<f64>(),
                stream.parse::<u64>(),
                sport.parse::<u32>(),
                dport.parse::<u32>(),
            ) else {
                continue;
            };
            let to_server = dport == port;
            let first = !bufs.contains_key(&(stream, to_server));
            let buf = bufs
                .entry((stream, to_server))
                .or_insert_with(|| Some(Vec::new()));
            let Some(b) = buf else { continue };
            b.extend_from_slice(&unhex(payload));
            let next = stream_ids.len();
            let sid = *stream_ids.entry(stream).or_insert(next) + w.streams;
            let mut first_segment = first && to_server;
            loop {
                let total = match framing(first_segment, b) {
                    Next::Pdu(n) => n,
                    Next::NeedMore => break,
                    Next::Drop => {
                        *buf = None;
                        break;
                    }
                };
                first_segment = false;
                if b.len() < total {
                    break;
                }
                let start = w.arena.len();
                w.arena.extend(b.drain(..total));
                let i = index.entry(frame_no).or_insert(0);
                w.pdus.push(Pdu {
                    stream: sid,
                    src_port: sport,
                    dst_port: dport,
                    frame: frame_no,
                    index: *i,
                    time: (time * 1e9) as i64,
                    start,
                    end: w.arena.len(),
                });
                *i += 1;
            }
        }
        w.streams += stream_ids.len();
    }
    (!w.pdus.is_empty()).then_some(w)
}

/// The value of the environment variable `name`, or `default` when it is unset or unparsable.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The golden captures `names` (without `.pcapng`) in the repository's `dir`.
pub fn golden(dir: &str, names: &[&str]) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    names
        .iter()
        .map(|n| dir.join(format!("{n}.pcapng")))
        .collect()
}

/// Where a bench's workloads come from: "golden" (`golden` on `port`) and, when the
/// environment variable `{env}_CAPTURE` names a capture, "bench" (its first `packets` packets
/// on `env_port`).
pub struct Sources<'a> {
    pub golden: &'a [PathBuf],
    pub port: u32,
    pub env: &'a str,
    pub env_port: u32,
    pub packets: usize,
}

/// A bench (name, timed function) of `bench_workloads`.
pub type Bench = (&'static str, fn(&Workload) -> u64);

/// The workloads of `from`, cut by `framing`; `unit` names the PDUs in the messages of what
/// is skipped.
pub fn workloads(
    bench: &str,
    unit: &str,
    from: Sources<'_>,
    framing: fn(bool, &[u8]) -> Next,
) -> Vec<Workload> {
    let Sources {
        golden,
        port,
        env,
        env_port,
        packets,
    } = from;
    let golden: Vec<&Path> = golden.iter().map(|p| p.as_path()).collect();
    let mut workloads = Vec::new();
    match load("golden", &golden, port, None, framing) {
        Some(w) => workloads.push(w),
        None => eprintln!("{bench} bench: tshark could not read the golden captures; skipped"),
    }
    if let Ok(cap) = std::env::var(format!("{env}_CAPTURE")) {
        match load(
            "bench",
            &[Path::new(&cap)],
            env_port,
            Some(packets),
            framing,
        ) {
            Some(w) => workloads.push(w),
            None => eprintln!("{bench} bench: no {unit} read from {cap}; skipped"),
        }
    }
    workloads
}

/// One criterion group `bench` that times each of `benches` on each workload, with the
/// workload's bytes as its throughput.
pub fn bench_workloads<M: Measurement>(
    c: &mut Criterion<M>,
    bench: &str,
    unit: &str,
    workloads: &[Workload],
    benches: &[Bench],
) {
    let mut g = c.benchmark_group(bench);
    for w in workloads {
        let bytes = w.arena.len() as u64;
        eprintln!(
            "{bench} bench: {}: {} {unit}, {} bytes, {} connections",
            w.name,
            w.pdus.len(),
            bytes,
            w.streams
        );
        g.throughput(Throughput::Bytes(bytes));
        for (label, f) in benches {
            g.bench_function(format!("{label}/{}", w.name), |b| {
                b.iter(|| f(black_box(w)))
            });
        }
    }
    g.finish();
}
