//! HPACK decoding throughput: `cargo bench --bench hpack`.
//!
//! Throughput is in encoded header-block octets per second. The workloads:
//! - `rfc7541-c4-c6`: the three requests of RFC 7541 C.4 then the three responses of C.6
//!   (Huffman, table size 256 for the responses), each sequence on a fresh decoder.
//! - `browser-first`: a large browser-like request (about 1.6 KB encoded: long user agent,
//!   accept headers, cookies) on an empty table: literals with incremental indexing, Huffman.
//! - `browser-repeat`: the next request on the same connection, mostly indexed from the
//!   dynamic table.
//! - `huffman`: the Huffman decoder alone on the browser request's strings.
//!
//! The group `hpack-vs-nghttp2` decodes the same blocks with ours and with nghttp2's
//! inflater (`nghttp2_hd_inflate_hd2`, the decoder under Wireshark's built-in http2; needs
//! `libnghttp2-dev`), side by side in one run:
//! - `browser-first`: the browser request above on an empty table;
//! - `capture`: every header block (HEADERS or PUSH_PROMISE and its CONTINUATIONs) of
//!   `ZKH2_BENCH_H2_CAPTURE` (port `ZKH2_BENCH_H2_PORT`, default 18280; its first
//!   `ZKH2_BENCH_H2_PACKETS`, default 50,000, packets), else of the golden `h2load.pcapng`,
//!   in capture order, each connection and direction with its own decoder;
//! - `grpc`: the same for the gRPC recording `tests/captures/grpc/grpc-h2c.pcapng`
//!   (python3-grpcio client and server: small blocks, mostly indexed).
//!
//! Both sides see each field once: ours builds its `HeaderBlock` (the fields the tree
//! shows, with their offsets and representation) as the dissector keeps it (`ours`), or
//! decodes into one reused vector of fields (`ours-reused`, `Decoder::decode_into`: the
//! decoder alone, as nghttp2 hands each name and value over without keeping it); the bench
//! sums their lengths so that nothing is optimised away. At the end the group prints a
//! Markdown table of the three sides' throughput and the ratios, from this run's medians.
//!
//! Time is the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time, so
//! that other jobs on a shared build machine do not count against the decoder. (Shared
//! caches still do.)

use jute_encode::hex;
use std::path::Path;

#[path = "common/capture.rs"]
mod capture;
mod common;
use common::ThreadCpuTime;
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use zkh2::h2::frame::{self, Payload, flag, kind};
use zkh2::h2::hpack::{Decoder, HeaderBlock};
use zkh2::h2::huffman;

const C4: [&str; 3] = [
    "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
    "8286 84be 5886 a8eb 1064 9cbf",
    "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
];
const C6: [&str; 3] = [
    "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e
     919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
    "4883 640e ffc1 c0bf",
    "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7
     821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed
     4ee5 b106 3d50 07",
];

fn encode_int(out: &mut Vec<u8>, value: u32, n: u8, flags: u8) {
    let max = (1u32 << n) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    let mut v = value - max;
    while v >= 128 {
        out.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    out.push(v as u8);
}

fn encode_huffman_str(out: &mut Vec<u8>, s: &[u8]) {
    let mut data = Vec::new();
    huffman::encode(s, &mut data);
    encode_int(out, data.len() as u32, 7, 0x80);
    out.extend_from_slice(&data);
}

const BROWSER: &[(&str, &str)] = &[
    (":method", "GET"),
    (":authority", "www.example-shop.com"),
    (":scheme", "https"),
    (
        ":path",
        "/catalog/category/shoes/running?sort=popularity&page=3&filters=size%3A42%2Ccolor%3Ablue&utm_source=newsletter&utm_medium=email",
    ),
    (
        "sec-ch-ua",
        "\"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"",
    ),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", "\"Linux\""),
    ("upgrade-insecure-requests", "1"),
    (
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    ),
    (
        "accept",
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    ),
    ("sec-fetch-site", "same-origin"),
    ("sec-fetch-mode", "navigate"),
    ("sec-fetch-user", "?1"),
    ("sec-fetch-dest", "document"),
    (
        "referer",
        "https://www.example-shop.com/catalog/category/shoes?sort=popularity&page=2",
    ),
    ("accept-encoding", "gzip, deflate, br, zstd"),
    (
        "accept-language",
        "en-GB,en-US;q=0.9,en;q=0.8,de;q=0.7,fr;q=0.6",
    ),
    (
        "cookie",
        "session_id=9f8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d; csrftoken=Qw3rTy7uIoP1aSdFgHjKlZxCvBnM0123456789abcdef",
    ),
    (
        "cookie",
        "_ga=GA1.2.1234567890.1700000000; _gid=GA1.2.0987654321.1700000000; _gat_UA-12345678-1=1",
    ),
    (
        "cookie",
        "cart=%7B%22items%22%3A%5B%7B%22sku%22%3A%22RUN-42-BLU%22%2C%22qty%22%3A1%7D%5D%7D; consent=analytics%3Dyes%26ads%3Dno",
    ),
    (
        "cookie",
        "recently_viewed=1001,1002,1003,1004,1005,1006,1007,1008,1009,1010",
    ),
    ("priority", "u=0, i"),
];

/// The browser request as a first block (every field a literal with incremental indexing,
/// name indexed when it is in the static table) and as the next request, where every field
/// but the path is indexed from the dynamic table.
fn browser_blocks() -> (Vec<u8>, Vec<u8>) {
    let mut first = Vec::new();
    for &(name, value) in BROWSER {
        let static_name = (1..=61u32)
            .find(|&i| zkh2::h2::hpack::static_entry(i).is_some_and(|(n, _)| n == name.as_bytes()));
        match static_name {
            Some(i) => encode_int(&mut first, i, 6, 0x40),
            None => {
                first.push(0x40);
                encode_huffman_str(&mut first, name.as_bytes());
            }
        }
        encode_huffman_str(&mut first, value.as_bytes());
    }
    // Entry j (0-based, inserted in order) is at index 62 + (n - 1 - j).
    let n = BROWSER.len() as u32;
    let mut repeat = Vec::new();
    for (j, &(name, _)) in BROWSER.iter().enumerate() {
        if name == ":path" {
            encode_int(&mut repeat, 4, 4, 0x00);
            encode_huffman_str(
                &mut repeat,
                b"/catalog/category/shoes/running?sort=popularity&page=4",
            );
        } else {
            encode_int(&mut repeat, 62 + (n - 1 - j as u32), 7, 0x80);
        }
    }
    (first, repeat)
}

fn check(hb: &HeaderBlock) {
    assert!(hb.error.is_none(), "{:?}", hb.error);
}

fn bench(c: &mut Criterion<ThreadCpuTime>) {
    let c4: Vec<Vec<u8>> = C4.iter().map(|s| hex(s)).collect();
    let c6: Vec<Vec<u8>> = C6.iter().map(|s| hex(s)).collect();
    let total: usize = c4.iter().chain(c6.iter()).map(Vec::len).sum();
    // A decoder with table size 256, as in C.6: a size update block first.
    let mut d256 = Decoder::new();
    check(&d256.decode_block(&[0x3f, 0xe1, 0x01]));

    let mut g = c.benchmark_group("hpack");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("rfc7541-c4-c6", |b| {
        b.iter(|| {
            let mut req = Decoder::new();
            let mut resp = d256.clone();
            for blk in &c4 {
                check(&req.decode_block(black_box(blk)));
            }
            for blk in &c6 {
                check(&resp.decode_block(black_box(blk)));
            }
        })
    });

    let (first, repeat) = browser_blocks();
    g.throughput(Throughput::Bytes(first.len() as u64));
    g.bench_function(format!("browser-first-{}B", first.len()), |b| {
        b.iter(|| {
            let mut d = Decoder::new();
            let hb = d.decode_block(black_box(&first));
            check(&hb);
            hb
        })
    });

    let mut warm = Decoder::new();
    check(&warm.decode_block(&first));
    g.throughput(Throughput::Bytes(repeat.len() as u64));
    g.bench_function(format!("browser-repeat-{}B", repeat.len()), |b| {
        b.iter(|| {
            // The path is a literal without indexing: the table does not change.
            let hb = warm.decode_block(black_box(&repeat));
            check(&hb);
            hb
        })
    });

    let strings: Vec<Vec<u8>> = BROWSER
        .iter()
        .map(|&(_, v)| {
            let mut e = Vec::new();
            huffman::encode(v.as_bytes(), &mut e);
            e
        })
        .collect();
    let total: usize = strings.iter().map(Vec::len).sum();
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("huffman", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            for s in &strings {
                huffman::decode_into(black_box(s), &mut out).ok();
            }
            out.len()
        })
    });
    g.finish();
}

/// nghttp2's HPACK inflater, through its C API (the library Wireshark's http2 links).
mod nghttp2 {
    use std::ffi::c_int;

    #[repr(C)]
    struct Nv {
        name: *mut u8,
        value: *mut u8,
        namelen: usize,
        valuelen: usize,
        flags: u8,
    }

    #[repr(C)]
    struct Inflater {
        _private: [u8; 0],
    }

    const INFLATE_FINAL: c_int = 0x01;
    const INFLATE_EMIT: c_int = 0x02;

    #[link(name = "nghttp2")]
    unsafe extern "C" {
        fn nghttp2_hd_inflate_new(inflater: *mut *mut Inflater) -> c_int;
        fn nghttp2_hd_inflate_del(inflater: *mut Inflater);
        fn nghttp2_hd_inflate_hd2(
            inflater: *mut Inflater,
            nv_out: *mut Nv,
            inflate_flags: *mut c_int,
            input: *const u8,
            inlen: usize,
            in_final: c_int,
        ) -> isize;
        fn nghttp2_hd_inflate_end_headers(inflater: *mut Inflater) -> c_int;
    }

    /// One direction's inflater (table size 4,096, as a fresh connection's).
    pub struct Decoder(*mut Inflater);

    impl Decoder {
        pub fn new() -> Self {
            let mut p = std::ptr::null_mut();
            // SAFETY: `p` is a valid out pointer; a non-zero return leaves it null.
            let rc = unsafe { nghttp2_hd_inflate_new(&mut p) };
            assert!(rc == 0 && !p.is_null(), "nghttp2_hd_inflate_new: {rc}");
            Decoder(p)
        }

        /// Inflates one whole block, as nghttp2's session does: field by field until
        /// FINAL. Returns the name and value octets emitted, or `None` on an error.
        pub fn decode_block(&mut self, mut block: &[u8]) -> Option<usize> {
            let mut octets = 0;
            loop {
                let mut nv = Nv {
                    name: std::ptr::null_mut(),
                    value: std::ptr::null_mut(),
                    namelen: 0,
                    valuelen: 0,
                    flags: 0,
                };
                let mut flags: c_int = 0;
                // SAFETY: a live inflater; `block` is readable for its length; `nv` and
                // `flags` are valid out pointers.
                let rv = unsafe {
                    nghttp2_hd_inflate_hd2(
                        self.0,
                        &mut nv,
                        &mut flags,
                        block.as_ptr(),
                        block.len(),
                        1,
                    )
                };
                let used = usize::try_from(rv).ok()?;
                block = block.get(used..)?;
                if flags & INFLATE_EMIT != 0 {
                    octets += nv.namelen + nv.valuelen;
                }
                if flags & INFLATE_FINAL != 0 {
                    // SAFETY: a live inflater at the end of a block.
                    unsafe { nghttp2_hd_inflate_end_headers(self.0) };
                    return Some(octets);
                }
                if flags & INFLATE_EMIT == 0 && block.is_empty() {
                    return Some(octets);
                }
            }
        }
    }

    impl Drop for Decoder {
        fn drop(&mut self) {
            // SAFETY: created by nghttp2_hd_inflate_new, freed once.
            unsafe { nghttp2_hd_inflate_del(self.0) };
        }
    }
}

/// One connection direction's header blocks: those complete, and the one still open.
#[derive(Default)]
struct Direction {
    done: Vec<Vec<u8>>,
    open: Option<Vec<u8>>,
}

/// The header blocks of a capture's connections: one list per connection and direction,
/// in capture order.
fn header_blocks(w: &capture::Workload, port: u32) -> Vec<Vec<Vec<u8>>> {
    let mut lists: std::collections::HashMap<(usize, bool), Direction> = Default::default();
    let mut order = Vec::new();
    for p in &w.pdus {
        let bytes = &w.arena[p.start..p.end];
        let Some(f) = frame::parse_frame(bytes) else {
            continue; // the client preface
        };
        let fragment = match (f.header.kind, &f.payload) {
            (kind::HEADERS, Ok(Payload::Headers { fragment, .. }))
            | (kind::PUSH_PROMISE, Ok(Payload::PushPromise { fragment, .. }))
            | (kind::CONTINUATION, Ok(Payload::Continuation { fragment })) => {
                &bytes[fragment.off..fragment.off + fragment.len]
            }
            _ => continue,
        };
        let key = (p.stream, p.dst_port == port);
        let Direction { done, open } = lists.entry(key).or_insert_with(|| {
            order.push(key);
            Direction::default()
        });
        if f.header.kind == kind::CONTINUATION {
            let Some(b) = open.as_mut() else { continue };
            b.extend_from_slice(fragment);
        } else {
            *open = Some(fragment.to_vec());
        }
        if f.header.flags & flag::END_HEADERS != 0 {
            done.extend(open.take());
        }
    }
    order
        .into_iter()
        .filter_map(|k| lists.remove(&k).map(|d| d.done))
        .filter(|l| !l.is_empty())
        .collect()
}

fn ours(lists: &[Vec<Vec<u8>>]) -> usize {
    let mut octets = 0;
    for blocks in lists {
        let mut d = Decoder::new();
        for b in blocks {
            let hb = d.decode_block(b);
            check(&hb);
            octets += hb
                .fields
                .iter()
                .map(|f| {
                    let s = d.strings();
                    s.get(f.name).map_or(0, <[u8]>::len) + s.get(f.value).map_or(0, <[u8]>::len)
                })
                .sum::<usize>();
        }
    }
    octets
}

/// Ours decoding into one reused vector of fields (`Decoder::decode_into`), as nghttp2's
/// inflater hands each field over without keeping it: the decoder alone, without the
/// allocation of the kept `HeaderBlock`.
fn ours_reused(lists: &[Vec<Vec<u8>>]) -> usize {
    let mut octets = 0;
    let mut fields = Vec::new();
    for blocks in lists {
        let mut d = Decoder::new();
        for b in blocks {
            fields.clear();
            assert!(d.decode_into(b, &mut fields).is_none());
            octets += fields
                .iter()
                .map(|f| {
                    let s = d.strings();
                    s.get(f.name).map_or(0, <[u8]>::len) + s.get(f.value).map_or(0, <[u8]>::len)
                })
                .sum::<usize>();
        }
    }
    octets
}

fn theirs(lists: &[Vec<Vec<u8>>]) -> usize {
    let mut octets = 0;
    for blocks in lists {
        let mut d = nghttp2::Decoder::new();
        for b in blocks {
            octets += d
                .decode_block(b)
                .expect("nghttp2 could not inflate a block");
        }
    }
    octets
}

/// Ours against nghttp2 on the same blocks, one workload after the other.
fn versus_nghttp2(c: &mut Criterion<ThreadCpuTime>) {
    RUN_STARTED.get_or_init(std::time::SystemTime::now);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut workloads: Vec<(String, Vec<Vec<Vec<u8>>>)> = Vec::new();
    workloads.push(("browser-first".into(), vec![vec![browser_blocks().0]]));
    let env_capture = std::env::var("ZKH2_BENCH_H2_CAPTURE").ok();
    let port = capture::env_or("ZKH2_BENCH_H2_PORT", 18280);
    let packets = capture::env_or("ZKH2_BENCH_H2_PACKETS", 50_000);
    let captures = [
        match &env_capture {
            Some(cap) => ("capture", Path::new(cap).to_path_buf(), port, Some(packets)),
            None => (
                "capture",
                root.join("tests/captures/h2/h2load.pcapng"),
                18180,
                None,
            ),
        },
        (
            "grpc",
            root.join("tests/captures/grpc/grpc-h2c.pcapng"),
            45051,
            None,
        ),
    ];
    for (name, cap, port, packets) in captures {
        match capture::load(name, &[cap.as_path()], port, packets, capture::h2_framing) {
            Some(w) => workloads.push((name.into(), header_blocks(&w, port))),
            None => eprintln!(
                "hpack bench: no frames read from {}; skipped",
                cap.display()
            ),
        }
    }
    let mut g = c.benchmark_group("hpack-vs-nghttp2");
    for (name, lists) in &workloads {
        let blocks: usize = lists.iter().map(Vec::len).sum();
        let bytes: usize = lists.iter().flatten().map(Vec::len).sum();
        // Both decoders must agree on what the blocks hold before either is timed.
        assert_eq!(ours(lists), theirs(lists), "{name}: decoded octets differ");
        assert_eq!(
            ours_reused(lists),
            theirs(lists),
            "{name}: decoded octets differ"
        );
        eprintln!(
            "hpack bench: {name}: {blocks} blocks, {bytes} octets, {} directions",
            lists.len()
        );
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(format!("{name}/ours"), |b| {
            b.iter(|| ours(black_box(lists)))
        });
        g.bench_function(format!("{name}/ours-reused"), |b| {
            b.iter(|| ours_reused(black_box(lists)))
        });
        g.bench_function(format!("{name}/nghttp2"), |b| {
            b.iter(|| theirs(black_box(lists)))
        });
    }
    g.finish();
    print_ratios(&workloads);
}

/// The median time of one benchmark of the `hpack-vs-nghttp2` group, as criterion saved it
/// in this run (an estimate older than `since` is from another run: none).
fn median_ns(id: &str, since: std::time::SystemTime) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
    let path = Path::new(&target)
        .join("criterion/hpack-vs-nghttp2")
        .join(id.replace('/', "_"))
        .join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// The side-by-side table: each workload's throughput, ours against nghttp2's, from the
/// medians just measured.
fn print_ratios(workloads: &[(String, Vec<Vec<Vec<u8>>>)]) {
    let since = *RUN_STARTED.get_or_init(std::time::SystemTime::now);
    println!(
        "\nHPACK, ours against nghttp2's inflater (medians of this run; ratio = nghttp2 time / ours):"
    );
    println!(
        "| workload | blocks | octets | nghttp2 | ours (kept HeaderBlock) | ratio | ours (decode_into, reused) | ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, lists) in workloads {
        let blocks: usize = lists.iter().map(Vec::len).sum();
        let bytes: usize = lists.iter().flatten().map(Vec::len).sum();
        let t = |side: &str| median_ns(&format!("{name}/{side}"), since);
        let (Some(theirs), Some(ours), Some(reused)) = (t("nghttp2"), t("ours"), t("ours-reused"))
        else {
            continue; // filtered out of this run
        };
        let mib = |ns: f64| bytes as f64 / (ns / 1e9) / (1024.0 * 1024.0);
        println!(
            "| {name} | {blocks} | {bytes} | {:.0} MiB/s | {:.0} MiB/s | {:.2}x | {:.0} MiB/s | {:.2}x |",
            mib(theirs),
            mib(ours),
            theirs / ours,
            mib(reused),
            theirs / reused
        );
    }
}

/// When this benchmark run started (estimates saved before it are not this run's).
static RUN_STARTED: std::sync::OnceLock<std::time::SystemTime> = std::sync::OnceLock::new();

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench, versus_nghttp2
}
criterion_main!(benches);
