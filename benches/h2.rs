//! HTTP/2 frame parse and connection throughput over real frame streams: `cargo bench --bench h2`.
//!
//! Throughput is in frame octets (9-byte headers included) per second of the benchmark
//! thread's CPU time. The frame streams are reassembled once, at setup, from captures read
//! with tshark (`-T fields -e tcp.payload`, no plugin needed): the golden
//! `tests/captures/h2/h2load.pcapng` and `nghttp-prior-knowledge.pcapng` (port 18180), and,
//! when `ZKH2_BENCH_H2_CAPTURE` names one (for example `/var/tmp/zkh2-bench/h2-1x.pcapng`
//! from `bench/gen-h2.sh`, port `ZKH2_BENCH_H2_PORT`, default 18280), its first
//! `ZKH2_BENCH_H2_PACKETS` (default 50,000) packets. TCP reassembly is not measured.
//!
//! - `frame-parse`: `frame::pdu_len` and `frame::parse_frame` of every frame.
//! - `connection`: the whole first pass of the pure layers: framing and
//!   `Connection::process` (streams, HPACK decoding, pairing, flow control, bodies).

#[path = "common/capture.rs"]
mod capture;
mod common;
use capture::{Bench, Sources, Workload, bench_workloads, env_or, golden, h2_framing, workloads};
use common::ThreadCpuTime;
use criterion::{Criterion, criterion_group, criterion_main};
use zkh2::common::PduKey;
use zkh2::h2::connection::{Connection, Framing};
use zkh2::h2::frame;

fn frame_parse(w: &Workload) -> u64 {
    let mut sum = 0u64;
    for p in &w.pdus {
        let bytes = &w.arena[p.start..p.end];
        sum += u64::from(frame::pdu_len(bytes).unwrap_or(0));
        if let Some(f) = frame::parse_frame(bytes) {
            sum += u64::from(f.header.stream_id) + f.payload.is_ok() as u64;
        }
    }
    sum
}

fn connection(w: &Workload) -> u64 {
    let mut conns: Vec<Connection> = (0..w.streams)
        .map(|_| Connection::new(zkh2::h2::DEFAULT_BODY_LIMIT))
        .collect();
    let mut sum = 0u64;
    for p in &w.pdus {
        let Some(c) = conns.get_mut(p.stream) else {
            continue;
        };
        let bytes = &w.arena[p.start..p.end];
        let dir = c.direction(p.src_port, p.dst_port);
        let skipped = match c.framing(dir, p.frame, bytes) {
            Framing::Pdu(n) => {
                sum += u64::from(n);
                false
            }
            Framing::Skip(_) => true,
        };
        let key = PduKey {
            frame: p.frame,
            index: p.index,
        };
        let info = c.process(key, dir, p.time, bytes, skipped);
        sum += info.is_some_and(|i| i.from_client.is_some()) as u64;
    }
    sum
}

fn bench(c: &mut Criterion<ThreadCpuTime>) {
    let golden = golden("tests/captures/h2", &["h2load", "nghttp-prior-knowledge"]);
    let env_port = env_or("ZKH2_BENCH_H2_PORT", 18280);
    let packets = env_or("ZKH2_BENCH_H2_PACKETS", 50_000);
    let benches: [Bench; 2] = [("frame-parse", frame_parse), ("connection", connection)];
    let from = Sources {
        golden: &golden,
        port: 18180,
        env: "ZKH2_BENCH_H2",
        env_port,
        packets,
    };
    let workloads = workloads("h2", "frames", from, h2_framing);
    bench_workloads(c, "h2", "frames", &workloads, &benches);
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime).sample_size(20);
    targets = bench
}
criterion_main!(benches);
