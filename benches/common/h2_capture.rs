//! HTTP/2 frame streams read from captures, for the benches (`h2`, `hpack`): each TCP
//! direction's payload reassembled with tshark (`-T fields -e tcp.payload`, no plugin
//! needed) and cut into frames (the client preface as one). TCP reassembly itself is not
//! part of any measurement.
// Each bench reads a different part of the records.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use zkh2::h2::frame;

/// One complete frame (or the preface), in capture order.
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

/// The frames of `captures` on server port `port` (the first `packets` packets of each).
pub fn load(name: &str, captures: &[&Path], port: u32, packets: Option<usize>) -> Option<Workload> {
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
            let buf = bufs
                .entry((stream, to_server))
                .or_insert_with(|| Some(Vec::new()));
            let Some(b) = buf else { continue };
            b.extend_from_slice(&unhex(payload));
            let next = stream_ids.len();
            let sid = *stream_ids.entry(stream).or_insert(next) + w.streams;
            loop {
                if b.len() < frame::HEADER_LEN {
                    break;
                }
                let Some(total) = frame::pdu_len(b) else {
                    *buf = None;
                    break;
                };
                let total = total as usize;
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
