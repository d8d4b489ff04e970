//! ZooKeeper parse and session throughput over real PDU streams: `cargo bench --bench zookeeper`.
//!
//! Throughput is in PDU octets (length prefixes included) per second of the benchmark
//! thread's CPU time. The PDU streams are reassembled once, at setup, from captures read
//! with tshark (`-T fields -e tcp.payload`, no plugin needed): the golden captures in
//! `tests/captures/zookeeper/` (small PDUs: kazoo, zkCli, the C client), and, when
//! `ZKH2_BENCH_ZK_CAPTURE` names one (for example `/var/tmp/zkh2-bench/zk-1x.pcapng` from
//! `bench/gen-zookeeper.sh`), its first `ZKH2_BENCH_ZK_PACKETS` (default 100,000) packets:
//! many concurrent sessions, mixed opcodes, 0 B to 100 KB of data. TCP reassembly is not
//! measured: it is TCP's work, not ours.
//!
//! - `framing+headers`: what the first pass does for every PDU before the body: the
//!   session's direction and framing decision, and the request or reply header.
//! - `parse+session`: the whole first pass of the pure layers: framing, classification
//!   (pairing by xid, watches, the per-PDU decision stored for later passes) and the full
//!   record parse of the body that the tree is built from.

#[path = "common/capture.rs"]
mod capture;
mod common;
use capture::{
    Bench, Sources, Workload, bench_workloads, env_or, golden, workloads, zookeeper_framing,
};
use common::ThreadCpuTime;
use criterion::{Criterion, criterion_group, criterion_main};
use zkh2::common::{Direction, PduKey};
use zkh2::jute;
use zkh2::zookeeper::connection::{Connection, Framing, PduKind};
use zkh2::zookeeper::parse::{self, Pdu};
use zkh2::zookeeper::{DEFAULT_MAX_PDU, opcode};

const PORT: u32 = 2181;

/// Runs `f` on every PDU with its connection, direction and bytes, after the connection's
/// framing decision; returns the sum of the framed lengths and of what `f` returns.
fn each_pdu(
    w: &Workload,
    mut f: impl FnMut(&mut Connection, Direction, &capture::Pdu, &[u8]) -> u64,
) -> u64 {
    let mut sessions: Vec<Connection> = (0..w.streams).map(|_| Connection::default()).collect();
    let mut sum = 0u64;
    for p in &w.pdus {
        let Some(s) = sessions.get_mut(p.stream) else {
            continue;
        };
        let bytes = &w.arena[p.start..p.end];
        let dir = s.direction(p.src_port, p.dst_port, PORT);
        if let Framing::Pdu(n) = s.framing(dir, p.frame, bytes, DEFAULT_MAX_PDU, true) {
            sum += u64::from(n);
        }
        sum += f(s, dir, p, bytes);
    }
    sum
}

/// Framing and header parse of every PDU; returns a checksum.
fn framing_headers(w: &Workload) -> u64 {
    each_pdu(w, |_, dir, _, bytes| {
        let i = jute::input(bytes.get(4..).unwrap_or(&[]));
        match dir {
            Direction::ToServer => {
                parse::request_header(i, false).map_or(0, |(_, h)| h.opcode.val as u64)
            }
            Direction::ToClient => {
                parse::reply_header(i, false).map_or(0, |(_, h)| h.zxid.val as u64)
            }
        }
    })
}

/// The whole first pass of the pure layers; returns a checksum.
fn parse_session(w: &Workload) -> u64 {
    each_pdu(w, |s, dir, p, bytes| {
        let mut sum = 0u64;
        let key = PduKey {
            frame: p.frame,
            index: p.index,
        };
        // As the dissector's first pass: parsed once, classified, then the reply's body
        // once its opcode is known.
        let (pdu, kind) = s.classify_pdu(key, dir, p.time, bytes);
        match (pdu, kind) {
            (Some(Pdu::Request(Ok(r))), _) => {
                if let Some(Ok((rest, _))) = r.body {
                    sum += rest.location_offset() as u64;
                }
            }
            (Some(Pdu::Reply(Ok(r))), PduKind::Reply { request }) => {
                let op = request.map_or(opcode::NOTIFICATION, |r| r.opcode);
                if r.header.err.val == 0 {
                    if let Some(Ok((rest, _))) = r.body(op) {
                        sum += rest.location_offset() as u64;
                    }
                }
            }
            (Some(Pdu::Notification(n)), PduKind::Notification { set_in }) => {
                if let Ok((rest, _)) = n.event {
                    sum += rest.location_offset() as u64 + set_in.len() as u64;
                }
            }
            (Some(Pdu::ConnectRequest(Ok((_, c)))), _) => sum += c.timeout.val as u64,
            (Some(Pdu::ConnectResponse(Ok((_, c)))), _) => sum += c.timeout.val as u64,
            _ => {}
        }
        sum
    })
}

fn bench(c: &mut Criterion<ThreadCpuTime>) {
    let golden = golden(
        "tests/captures/zookeeper",
        &["kazoo-basic", "kazoo-watches", "zkcli", "cli_mt"],
    );
    let packets = env_or("ZKH2_BENCH_ZK_PACKETS", 100_000);
    let benches: [Bench; 2] = [
        ("framing+headers", framing_headers),
        ("parse+session", parse_session),
    ];
    let from = Sources {
        golden: &golden,
        port: PORT,
        env: "ZKH2_BENCH_ZK",
        env_port: PORT,
        packets,
    };
    let workloads = workloads("zookeeper", "PDUs", from, zookeeper_framing);
    bench_workloads(c, "zookeeper", "PDUs", &workloads, &benches);
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime).sample_size(20);
    targets = bench
}
criterion_main!(benches);
