//! The in-process fuzz harness: the whole plugin, through libwireshark.
//!
//! The pure-parser fuzz targets (`fuzz/fuzz_targets/*`) never reach the code between
//! Wireshark and our parsers: the `unsafe` epan layer, the C shim, `tcp_dissect_pdus`, TCP
//! reassembly, conversations, taps, preferences and the end of a capture file. This harness
//! runs all of it, as Wireshark's own `fuzzshark` runs its dissectors, but with whole TCP
//! conversations instead of single packets:
//!
//! * libwiretap and libwireshark are initialised once (`driver.c`, as fuzzshark does), with
//!   the plugin registered directly (`zkh2::plugin_register`);
//! * each input becomes one short capture: a TCP connection on the target's port (or on a
//!   port only a heuristic finds), built as Ethernet/IPv4/TCP frames with the right sequence
//!   and acknowledgement numbers in both directions, so retransmissions, lost segments and
//!   reordering mean to Wireshark what they mean on a real network ([`build`]);
//! * every frame is dissected by `epan_dissect_run_with_taps` with a tree and the packet
//!   list's columns, in capture order, then a second time in another order, as the GUI does
//!   when the user clicks through the packets; taps, stats trees and SRT tables of our
//!   protocols listen;
//! * after every frame the driver checks that no epan exception (a longjmp) skipped a Rust
//!   frame of the plugin, which no sanitizer would report, and aborts if one did;
//! * the capture file then ends (`epan_free`: cleanup routines, the file scope and with it
//!   our conversation state), so inputs are independent and memory does not grow.
//!
//! The fuzz targets (`fuzz/fuzz_targets/epan_*.rs`) call [`run`]; so does the replay test
//! (`tests/regressions.rs`), on stable Rust, over the committed seeds and every input that
//! once failed. `epan-fuzz-replay` replays files and writes them as pcap for tshark.
//!
//! # Input format
//!
//! ```text
//! byte 0  options    0x01 TCP handshake (else the capture starts mid-connection)
//!                    0x02 server on a port that only a heuristic finds
//!                    0x04 tcp.reassemble_out_of_order on
//!                    0x08 the protocols' own "desegment" preferences off
//!                    0x10 FIN from both sides at the end
//!                    0x20 tcp.desegment_tcp_streams off (no TCP reassembly at all)
//!                    0x40 first pass with an invisible tree primed with a display filter
//!                         (as the GUI's colouring rules do), else a visible tree
//!                    0x80 initial sequence numbers just below 2^32 (they wrap)
//! byte 1  order      second pass: 0 = reverse order, else a permutation seeded by it
//! byte 2  time       bits 0-3: step between frames, 2^k microseconds; 0x10 time runs
//!                    backwards; 0x20 every frame has the same time; 0x40 (h2 with 0x02)
//!                    the server is on HTTP's port 80, where HTTP's heuristic table runs;
//!                    0x80 small limits: zookeeper.max_pdu_size, zab.max_data_size and
//!                    h2.body_max_size at 256 bytes
//! then segments, each a control byte and its payload:
//!         bit 7      direction: 0 client to server, 1 server to client
//!         bits 6-5   0 data; 1 retransmission (length 0: the direction's previous
//!                    segment again, byte for byte; else the payload overlaps the last
//!                    bytes sent); 2 lost (the sequence number advances, the frame is never
//!                    captured; a retransmission of length 0 sends it later); 3 delayed
//!                    (captured after the direction's next segment)
//!         bits 4-0   payload length 0-30, or 31: a 16-bit big-endian length follows
//!                    (data of length 0: a bare ACK)
//! ```
//! A missing byte reads as 0; a payload is cut at the end of the input.

use std::ffi::{CString, c_char, c_int, c_uint};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The dissector under test picks the server's port; the rest of the set-up is shared, so
/// one process can run every target (the replay test does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Zookeeper,
    Zab,
    ZkElection,
    H2,
}

impl Target {
    pub const ALL: [Target; 4] = [
        Target::Zookeeper,
        Target::Zab,
        Target::ZkElection,
        Target::H2,
    ];

    /// The fuzz target's name: `epan_<protocol>`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Zookeeper => "epan_zookeeper",
            Target::Zab => "epan_zab",
            Target::ZkElection => "epan_zkelection",
            Target::H2 => "epan_h2",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL
            .into_iter()
            .find(|t| t.name() == name || t.name().strip_prefix("epan_") == Some(name))
    }

    /// The port the dissector is registered on: the defaults for ZooKeeper (2181), the
    /// quorum (2888) and leader election (3888); h2 has no default port and gets
    /// [`H2_PORT`] through its `h2.tcp.port` preference.
    pub fn port(self) -> u16 {
        match self {
            Target::Zookeeper => 2181,
            Target::Zab => 2888,
            Target::ZkElection => 3888,
            Target::H2 => H2_PORT,
        }
    }
}

/// h2's port (preference `h2.tcp.port`); no other dissector claims it.
pub const H2_PORT: u16 = 18080;
/// The server's port when only a heuristic may find the protocol; nothing claims it.
pub const HEURISTIC_PORT: u16 = 33333;
/// The client's port; nothing claims it.
pub const CLIENT_PORT: u16 = 45678;

pub mod opt {
    pub const HANDSHAKE: u8 = 0x01;
    pub const HEURISTIC: u8 = 0x02;
    pub const OUT_OF_ORDER: u8 = 0x04;
    pub const NO_DESEGMENT: u8 = 0x08;
    pub const CLOSE: u8 = 0x10;
    pub const NO_TCP_REASSEMBLY: u8 = 0x20;
    pub const FILTERED_PASS1: u8 = 0x40;
    pub const WRAP: u8 = 0x80;
    /// Byte 2.
    pub const TIME_BACKWARDS: u8 = 0x10;
    pub const TIME_SAME: u8 = 0x20;
    pub const HTTP_PORT: u8 = 0x40;
    pub const SMALL_LIMITS: u8 = 0x80;
}

pub mod seg {
    pub const SERVER_TO_CLIENT: u8 = 0x80;
    pub const DATA: u8 = 0x00;
    pub const RETRANSMIT: u8 = 0x20;
    pub const LOST: u8 = 0x40;
    pub const DELAYED: u8 = 0x60;
    pub const LONG: u8 = 0x1f;
}

/// Size limits of our protocols (module, preference); with [`opt::SMALL_LIMITS`] each is
/// [`SMALL_LIMIT`] bytes.
pub const LIMITS: [(&str, &str); 3] = [
    ("zookeeper", "max_pdu_size"),
    ("zab", "max_data_size"),
    ("h2", "body_max_size"),
];
pub const SMALL_LIMIT: u32 = 256;

/// At most this many frames per input (the rest of the input is ignored).
pub const MAX_FRAMES: usize = 2000;
/// An IPv4 packet holds at most 65,535 bytes: 20 of IP and 20 of TCP header.
pub const MAX_PAYLOAD: usize = 65_535 - 40;

/// One captured frame: Ethernet bytes (exactly allocated, so that a read past its end is a
/// heap overflow under AddressSanitizer) and its capture time.
#[derive(Clone, Debug)]
pub struct Frame {
    pub data: Box<[u8]>,
    pub secs: i64,
    pub nsecs: i32,
}

/// An input, as a capture file and the settings it is dissected with.
#[derive(Clone, Debug)]
pub struct Capture {
    pub frames: Vec<Frame>,
    /// Frame indexes (0-based) in the order of the second pass.
    pub second_pass: Vec<u32>,
    pub server_port: u16,
    pub options: u8,
    /// Byte 2: time and limits.
    pub misc: u8,
}

impl Capture {
    /// The preferences this capture is dissected with, as `tshark -o` takes them (beyond
    /// `h2.tcp.port`; a limit left out has its default value).
    pub fn prefs(&self) -> Vec<String> {
        let on = |b: bool| if b { "TRUE" } else { "FALSE" };
        let mut v = vec![
            format!(
                "tcp.reassemble_out_of_order:{}",
                on(self.options & opt::OUT_OF_ORDER != 0)
            ),
            format!(
                "tcp.desegment_tcp_streams:{}",
                on(self.options & opt::NO_TCP_REASSEMBLY == 0)
            ),
        ];
        for p in ["zookeeper", "zab", "zkelection", "h2"] {
            v.push(format!(
                "{p}.desegment:{}",
                on(self.options & opt::NO_DESEGMENT == 0)
            ));
        }
        if self.misc & opt::SMALL_LIMITS != 0 {
            for (module, name) in LIMITS {
                v.push(format!("{module}.{name}:{SMALL_LIMIT}"));
            }
        }
        v
    }

    /// The capture as a pcap file (Ethernet, microseconds), to open it in Wireshark or run
    /// it through tshark with `-2 -o h2.tcp.port:18080` and [`Capture::prefs`].
    pub fn to_pcap(&self) -> Vec<u8> {
        use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
        use std::time::Duration;
        let header = PcapHeader {
            datalink: pcap_file::DataLink::ETHERNET,
            ..Default::default()
        };
        let mut w = PcapWriter::with_header(Vec::new(), header).expect("in-memory pcap header");
        for f in &self.frames {
            let ts = Duration::new(f.secs.max(0) as u64, f.nsecs.max(0) as u32);
            let p = PcapPacket::new(ts, f.data.len() as u32, &f.data);
            w.write_packet(&p).expect("in-memory pcap write");
        }
        w.into_writer()
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
}

const CLIENT: usize = 0;
const SERVER: usize = 1;
const TCP_FIN: u8 = 0x01;
const TCP_SYN: u8 = 0x02;
const TCP_PSH: u8 = 0x08;
const TCP_ACK: u8 = 0x10;

/// Builds the frames of one TCP connection, with per-direction sequence numbers.
struct Tcp {
    ports: [u16; 2],
    isn: [u32; 2],
    /// Stream offset of the next new byte, per direction.
    next: [u32; 2],
    /// The previous segment per direction (stream offset, payload), for retransmissions.
    last: [Option<(u32, Vec<u8>)>; 2],
    /// Delayed segments per direction, captured after that direction's next segment.
    held: [Vec<Vec<u8>>; 2],
    frames: Vec<Vec<u8>>,
}

impl Tcp {
    fn new(server_port: u16, wrap: bool) -> Tcp {
        let isn = if wrap {
            [0xffff_ff00, 0xffff_fff0]
        } else {
            [0x1000_0000, 0x2000_0000]
        };
        Tcp {
            ports: [CLIENT_PORT, server_port],
            isn,
            next: [0, 0],
            last: [None, None],
            held: [Vec::new(), Vec::new()],
            frames: Vec::new(),
        }
    }

    fn full(&self) -> bool {
        self.frames.len() >= MAX_FRAMES
    }

    /// The sequence number of stream offset `off` in direction `d` (after the SYN).
    fn seq(&self, d: usize, off: u32) -> u32 {
        self.isn[d].wrapping_add(1).wrapping_add(off)
    }

    fn ack(&self, d: usize) -> u32 {
        self.seq(1 - d, self.next[1 - d])
    }

    fn encode(&self, d: usize, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mac = |side: usize| [0x02, 0, 0, 0, 0, 1 + side as u8];
        let ip = |side: usize| [10, 0, 0, 1 + side as u8];
        let mut f = Vec::with_capacity(54 + payload.len());
        // Ethernet
        f.extend_from_slice(&mac(1 - d));
        f.extend_from_slice(&mac(d));
        f.extend_from_slice(&[0x08, 0x00]);
        // IPv4, no options, don't fragment, checksum filled in below
        let total = (40 + payload.len()) as u16;
        let id = self.frames.len() as u16;
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
        f.extend_from_slice(&[0x40, 0, 64, 6, 0, 0]);
        f.extend_from_slice(&ip(d));
        f.extend_from_slice(&ip(1 - d));
        let sum = checksum(&f[14..34]);
        f[24..26].copy_from_slice(&sum.to_be_bytes());
        // TCP, no options, no checksum (Wireshark does not check it by default)
        f.extend_from_slice(&self.ports[d].to_be_bytes());
        f.extend_from_slice(&self.ports[1 - d].to_be_bytes());
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&ack.to_be_bytes());
        f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        f
    }

    fn push(&mut self, d: usize, seq: u32, flags: u8, payload: &[u8]) {
        if self.full() {
            return;
        }
        let ack = self.ack(d);
        let f = self.encode(d, seq, ack, flags, payload);
        self.frames.push(f);
    }

    fn handshake(&mut self) {
        let (c, s) = (self.isn[CLIENT], self.isn[SERVER]);
        let syn = self.encode(CLIENT, c, 0, TCP_SYN, &[]);
        let syn_ack = self.encode(SERVER, s, c.wrapping_add(1), TCP_SYN | TCP_ACK, &[]);
        self.frames.push(syn);
        self.frames.push(syn_ack);
        self.push(CLIENT, self.seq(CLIENT, 0), TCP_ACK, &[]);
    }

    /// A new segment at the direction's next offset; `delayed` holds it back.
    fn data(&mut self, d: usize, payload: &[u8], delayed: bool) {
        let off = self.next[d];
        let seq = self.seq(d, off);
        self.next[d] = off.wrapping_add(payload.len() as u32);
        self.last[d] = Some((off, payload.to_vec()));
        if payload.is_empty() {
            self.push(d, seq, TCP_ACK, &[]);
            return;
        }
        if delayed {
            let ack = self.ack(d);
            let f = self.encode(d, seq, ack, TCP_PSH | TCP_ACK, payload);
            self.held[d].push(f);
            return;
        }
        self.push(d, seq, TCP_PSH | TCP_ACK, payload);
        self.release(d);
    }

    fn release(&mut self, d: usize) {
        for f in std::mem::take(&mut self.held[d]) {
            if !self.full() {
                self.frames.push(f);
            }
        }
    }

    fn retransmit(&mut self, d: usize, payload: &[u8]) {
        if payload.is_empty() {
            if let Some((off, bytes)) = self.last[d].clone() {
                let seq = self.seq(d, off);
                self.push(d, seq, TCP_PSH | TCP_ACK, &bytes);
            }
            return;
        }
        let n = payload.len() as u32;
        let off = self.next[d].saturating_sub(n);
        self.next[d] = self.next[d].max(off.wrapping_add(n));
        self.last[d] = Some((off, payload.to_vec()));
        let seq = self.seq(d, off);
        self.push(d, seq, TCP_PSH | TCP_ACK, payload);
    }

    fn lose(&mut self, d: usize, payload: &[u8]) {
        self.last[d] = Some((self.next[d], payload.to_vec()));
        self.next[d] = self.next[d].wrapping_add(payload.len() as u32);
    }

    fn close(&mut self) {
        let (c, s) = (
            self.seq(CLIENT, self.next[CLIENT]),
            self.seq(SERVER, self.next[SERVER]),
        );
        self.push(CLIENT, c, TCP_FIN | TCP_ACK, &[]);
        self.next[CLIENT] = self.next[CLIENT].wrapping_add(1);
        self.push(SERVER, s, TCP_FIN | TCP_ACK, &[]);
        self.next[SERVER] = self.next[SERVER].wrapping_add(1);
        self.push(CLIENT, c.wrapping_add(1), TCP_ACK, &[]);
    }
}

fn checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Turns an input into the capture it stands for (see the module documentation).
pub fn build(target: Target, data: &[u8]) -> Capture {
    let mut r = Reader(data);
    let options = r.byte();
    let order = r.byte();
    let time = r.byte();
    let server_port = if options & opt::HEURISTIC == 0 {
        target.port()
    } else if target == Target::H2 && time & opt::HTTP_PORT != 0 {
        80
    } else {
        HEURISTIC_PORT
    };
    let mut tcp = Tcp::new(server_port, options & opt::WRAP != 0);
    if options & opt::HANDSHAKE != 0 {
        tcp.handshake();
    }
    while !r.0.is_empty() && !tcp.full() {
        let c = r.byte();
        let d = if c & seg::SERVER_TO_CLIENT != 0 {
            SERVER
        } else {
            CLIENT
        };
        let mut len = usize::from(c & seg::LONG);
        if len == usize::from(seg::LONG) {
            len = usize::from(u16::from_be_bytes([r.byte(), r.byte()]));
        }
        let payload = r.bytes(len.min(MAX_PAYLOAD));
        match c & 0x60 {
            seg::DATA => tcp.data(d, payload, false),
            seg::RETRANSMIT => tcp.retransmit(d, payload),
            seg::LOST => tcp.lose(d, payload),
            _ => tcp.data(d, payload, true),
        }
    }
    tcp.release(CLIENT);
    tcp.release(SERVER);
    if options & opt::CLOSE != 0 {
        tcp.close();
    }

    let n = tcp.frames.len();
    let step_us = 1i64 << (time & 0x0f);
    let base_us = 1_700_000_000i64 * 1_000_000;
    let frames = tcp
        .frames
        .into_iter()
        .enumerate()
        .map(|(i, data)| {
            let k = if time & opt::TIME_SAME != 0 {
                0
            } else if time & opt::TIME_BACKWARDS != 0 {
                (n - 1 - i) as i64
            } else {
                i as i64
            };
            let us = base_us + k * step_us;
            Frame {
                data: data.into_boxed_slice(),
                secs: us / 1_000_000,
                nsecs: (us % 1_000_000) as i32 * 1000,
            }
        })
        .collect();

    let mut second_pass: Vec<u32> = (0..n as u32).collect();
    if order == 0 {
        second_pass.reverse();
    } else {
        // Fisher-Yates with xorshift32.
        let mut x = u32::from(order).wrapping_mul(0x9e37_79b9) | 1;
        for i in (1..n).rev() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            second_pass.swap(i, x as usize % (i + 1));
        }
    }
    Capture {
        frames,
        second_pass,
        server_port,
        options,
        misc: time,
    }
}

#[repr(C)]
struct FfiFrame {
    data: *const u8,
    len: u32,
    secs: i64,
    nsecs: i32,
}

unsafe extern "C" {
    fn zkh2_fz_init(
        plugin_register: extern "C" fn(),
        active_guards: extern "C" fn() -> u32,
        argv0: *const c_char,
    ) -> c_int;
    fn zkh2_fz_set_pref(pref: *const c_char) -> c_int;
    fn zkh2_fz_apply_prefs();
    fn zkh2_fz_pref_default(module: *const c_char, name: *const c_char) -> *mut c_char;
    fn zkh2_fz_free(p: *mut std::ffi::c_void);
    fn zkh2_fz_set_filter(clauses: *const *const c_char, n: usize) -> c_int;
    fn zkh2_fz_enable_taps(names: *const *const c_char, n: usize) -> c_int;
    fn zkh2_fz_tapped() -> u64;
    fn zkh2_fz_dissect(
        frames: *const FfiFrame,
        n: u32,
        order2: *const u32,
        n2: u32,
        flags: c_uint,
    ) -> c_int;
}

/// Display filter clauses for the first pass with an invisible tree: every field that a
/// clause names is then built (not faked) and its value read. Clauses that do not compile
/// (a field renamed or not there in this version) are left out.
const FILTER_CLAUSES: &[&str] = &[
    "zookeeper.xid == 1",
    "zookeeper.path contains \"a\"",
    "zookeeper.data contains 00",
    "zookeeper.request_in",
    "zookeeper.session_id",
    "zab.type",
    "zab.zxid",
    "zkelection",
    "h2.stream_id == 1",
    "h2.header.name == \"content-type\"",
    "h2.header.value contains \"a\"",
    "h2.body contains \"a\"",
    "h2.response_in",
    "http2.streamid",
    "http2.header.name",
    "tcp.analysis.flags",
    "_ws.expert.severity >= warning",
    "zkh2.dissector_bug",
];

/// Taps whose listeners (and stats trees and SRT tables) run on every frame: ours, and the
/// built-in HTTP/2's, which our h2 may feed for compatibility.
const TAPS: &[&str] = &[
    "zookeeper",
    "zab",
    "zkelection",
    "h2",
    "http2",
    "http2_follow",
    "grpc",
];

/// What the set-up achieved; the replay test checks it.
#[derive(Clone, Debug)]
pub struct Setup {
    pub filter_clauses: usize,
    pub tap_listeners: usize,
    /// Each limit of [`LIMITS`] that exists, as `-o` sets it back to its default.
    pub limit_defaults: Vec<String>,
}

static SETUP: OnceLock<Setup> = OnceLock::new();
/// epan is single-threaded; the replay test may call from several threads.
static EPAN: Mutex<Option<Vec<String>>> = Mutex::new(None);

fn cstring(s: &str) -> CString {
    CString::new(s).expect("no NUL in a harness string")
}

fn set_pref(p: &str) -> bool {
    let c = cstring(p);
    // SAFETY: a valid C string; epan is initialised and we hold the EPAN lock (or are in
    // the one-time set-up).
    unsafe { zkh2_fz_set_pref(c.as_ptr()) == 0 }
}

/// Initialises libwireshark with the plugin, once per process.
pub fn init() -> &'static Setup {
    SETUP.get_or_init(|| {
        // SAFETY: called once, before anything else in this process reads the environment
        // concurrently (libFuzzer's single thread, or under the EPAN lock in the tests).
        unsafe {
            // As fuzzshark: plain malloc for every wmem and GSlice block, so that
            // AddressSanitizer sees each one; no personal configuration; a dissector bug
            // (REPORT_DISSECTOR_BUG, DISSECTOR_ASSERT) aborts instead of becoming an item.
            std::env::set_var("WIRESHARK_DEBUG_WMEM_OVERRIDE", "simple");
            std::env::set_var("G_SLICE", "always-malloc");
            std::env::set_var("WIRESHARK_ABORT_ON_DISSECTOR_BUG", "1");
            for v in ["XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"] {
                std::env::set_var(v, "/nonexistent/zkh2-epan-fuzz");
            }
            std::env::set_var("WIRESHARK_CONFIG_DIR", "/nonexistent/zkh2-epan-fuzz");
        }
        let argv0 = std::env::current_exe()
            .ok()
            .and_then(|p| CString::new(p.into_os_string().into_encoded_bytes()).ok())
            .unwrap_or_else(|| cstring("epan-fuzz"));
        // SAFETY: a valid C string and the plugin's registration entry point.
        let rc = unsafe { zkh2_fz_init(zkh2::plugin_register, active_guards, argv0.as_ptr()) };
        assert_eq!(rc, 0, "epan_init failed");
        let port = format!("h2.tcp.port:{H2_PORT}");
        assert!(set_pref(&port), "cannot set {port}");
        // SAFETY: epan is initialised.
        unsafe { zkh2_fz_apply_prefs() };
        let clauses: Vec<CString> = FILTER_CLAUSES.iter().map(|s| cstring(s)).collect();
        let ptrs: Vec<*const c_char> = clauses.iter().map(|c| c.as_ptr()).collect();
        // SAFETY: valid C strings for the duration of the call.
        let kept = unsafe { zkh2_fz_set_filter(ptrs.as_ptr(), ptrs.len()) };
        let taps: Vec<CString> = TAPS.iter().map(|s| cstring(s)).collect();
        let ptrs: Vec<*const c_char> = taps.iter().map(|c| c.as_ptr()).collect();
        // SAFETY: as above; epan copies the names it keeps.
        let listeners = unsafe { zkh2_fz_enable_taps(ptrs.as_ptr(), ptrs.len()) };
        let mut limit_defaults = Vec::new();
        for (module, name) in LIMITS {
            let (m, n) = (cstring(module), cstring(name));
            // SAFETY: valid C strings; the result is a g_malloc'd string or NULL.
            unsafe {
                let v = zkh2_fz_pref_default(m.as_ptr(), n.as_ptr());
                if !v.is_null() {
                    let value = std::ffi::CStr::from_ptr(v).to_string_lossy().into_owned();
                    limit_defaults.push(format!("{module}.{name}:{value}"));
                    zkh2_fz_free(v.cast());
                }
            }
        }
        Setup {
            filter_clauses: kept.max(0) as usize,
            tap_listeners: listeners.max(0) as usize,
            limit_defaults,
        }
    })
}

/// For the driver: the plugin's count of running guarded callbacks, which an epan exception
/// thrown under a Rust frame leaves above zero (the driver then aborts).
extern "C" fn active_guards() -> u32 {
    zkh2::epan::guard::active_guards()
}

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// For runs without libFuzzer (whose panic hook aborts on any panic, caught or not): counts
/// panics, which the plugin's guard catches and shows as `zkh2.dissector_bug`, so that
/// [`Outcome::panics`] reports them.
pub fn count_panics() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            prev(info);
        }));
    });
}

/// What one input did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub frames: usize,
    /// Second-pass frames in which one of our protocols is a layer.
    pub ours: usize,
    /// Panics (counted only after [`count_panics`]).
    pub panics: usize,
    /// Tap records seen by the counting listeners.
    pub tapped: u64,
}

/// Dissects one input as a capture file (see the module documentation).
pub fn run(target: Target, data: &[u8]) -> Outcome {
    let cap = build(target, data);
    run_capture(&cap)
}

/// Dissects a capture built by [`build`].
pub fn run_capture(cap: &Capture) -> Outcome {
    let setup = init();
    let mut applied = EPAN.lock().unwrap_or_else(|e| e.into_inner());
    let mut prefs = cap.prefs();
    if cap.misc & opt::SMALL_LIMITS == 0 {
        prefs.extend(setup.limit_defaults.iter().cloned());
    } else {
        // Only the limits that exist in this version of the plugin.
        prefs.retain(|p| {
            !LIMITS
                .iter()
                .any(|(m, n)| p.starts_with(&format!("{m}.{n}:")))
                || setup
                    .limit_defaults
                    .iter()
                    .any(|d| d.split(':').next() == p.split(':').next())
        });
    }
    if applied.as_ref() != Some(&prefs) {
        for p in &prefs {
            assert!(set_pref(p), "cannot set {p}");
        }
        // SAFETY: epan is initialised; we hold the lock.
        unsafe { zkh2_fz_apply_prefs() };
        *applied = Some(prefs);
    }
    let frames: Vec<FfiFrame> = cap
        .frames
        .iter()
        .map(|f| FfiFrame {
            data: f.data.as_ptr(),
            len: f.data.len() as u32,
            secs: f.secs,
            nsecs: f.nsecs,
        })
        .collect();
    let flags = c_uint::from(cap.options & opt::FILTERED_PASS1 != 0);
    let panics = PANICS.load(Ordering::SeqCst);
    // SAFETY: epan is initialised; the frames' bytes outlive the call; we hold the lock.
    let (ours, tapped) = unsafe {
        let before = zkh2_fz_tapped();
        let ours = zkh2_fz_dissect(
            frames.as_ptr(),
            frames.len() as u32,
            cap.second_pass.as_ptr(),
            cap.second_pass.len() as u32,
            flags,
        );
        (ours, zkh2_fz_tapped() - before)
    };
    assert!(ours >= 0, "the driver is not initialised");
    Outcome {
        frames: cap.frames.len(),
        ours: ours as usize,
        panics: PANICS.load(Ordering::SeqCst) - panics,
        tapped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(cap: &Capture) -> Vec<(u16, u32, u32, u8, usize)> {
        cap.frames
            .iter()
            .map(|f| {
                let d = &f.data;
                (
                    u16::from_be_bytes([d[34], d[35]]),
                    u32::from_be_bytes([d[38], d[39], d[40], d[41]]),
                    u32::from_be_bytes([d[42], d[43], d[44], d[45]]),
                    d[47],
                    d.len() - 54,
                )
            })
            .collect()
    }

    #[test]
    fn handshake_data_retransmission_loss_delay_close() {
        let input = [
            opt::HANDSHAKE | opt::CLOSE,
            0,
            0,
            3,
            b'a',
            b'b',
            b'c', // client data 3
            seg::SERVER_TO_CLIENT | 2,
            b'x',
            b'y',            // server data 2
            seg::RETRANSMIT, // client: previous segment again
            seg::LOST | 1,   // client: 1 byte never captured
            b'd',
            seg::DELAYED | 1, // client: held back
            b'e',
            1,
            b'f',            // client data, then the delayed one
            seg::RETRANSMIT, // the delayed "e"'s successor "f"... previous segment again
        ];
        let cap = build(Target::Zookeeper, &input);
        let c = 0x1000_0001u32;
        let s = 0x2000_0001u32;
        assert_eq!(
            seqs(&cap),
            vec![
                (CLIENT_PORT, c - 1, 0, TCP_SYN, 0),
                (2181, s - 1, c, TCP_SYN | TCP_ACK, 0),
                (CLIENT_PORT, c, s, TCP_ACK, 0),
                (CLIENT_PORT, c, s, TCP_PSH | TCP_ACK, 3),
                (2181, s, c + 3, TCP_PSH | TCP_ACK, 2),
                (CLIENT_PORT, c, s + 2, TCP_PSH | TCP_ACK, 3),
                (CLIENT_PORT, c + 5, s + 2, TCP_PSH | TCP_ACK, 1),
                (CLIENT_PORT, c + 4, s + 2, TCP_PSH | TCP_ACK, 1),
                (CLIENT_PORT, c + 5, s + 2, TCP_PSH | TCP_ACK, 1),
                (CLIENT_PORT, c + 6, s + 2, TCP_FIN | TCP_ACK, 0),
                (2181, s + 2, c + 7, TCP_FIN | TCP_ACK, 0),
                (CLIENT_PORT, c + 7, s + 3, TCP_ACK, 0),
            ]
        );
        assert_eq!(cap.second_pass, (0..12).rev().collect::<Vec<u32>>());
        assert_eq!(cap.frames[3].data[54..], *b"abc");
    }

    #[test]
    fn long_lengths_wrap_and_ports() {
        let mut input = vec![
            opt::WRAP | opt::HEURISTIC,
            7,
            opt::HTTP_PORT,
            seg::LONG,
            0x01,
            0x00,
        ];
        input.extend(std::iter::repeat_n(b'z', 300));
        let cap = build(Target::H2, &input);
        assert_eq!(cap.server_port, 80);
        let s = seqs(&cap);
        assert_eq!(
            s[0],
            (
                CLIENT_PORT,
                0xffff_ff01,
                0xffff_fff1,
                TCP_PSH | TCP_ACK,
                256
            )
        );
        // The other 44 bytes of 'z' (0x7a: client, delayed, length 26) are two more segments,
        // of 26 and 16 bytes, that nothing releases before the end.
        assert_eq!(
            s[1],
            (
                CLIENT_PORT,
                0xffff_ff01u32.wrapping_add(256),
                0xffff_fff1,
                TCP_PSH | TCP_ACK,
                26
            )
        );
        assert_eq!(s[2].4, 16);
        assert_eq!(s[2].1, 0xffff_ff01u32.wrapping_add(282));
        let mut order = cap.second_pass.clone();
        order.sort();
        assert_eq!(order, vec![0, 1, 2]);
        assert_eq!(
            build(Target::Zab, &[opt::HEURISTIC]).server_port,
            HEURISTIC_PORT
        );
        assert_eq!(build(Target::H2, &[]).server_port, H2_PORT);
    }

    #[test]
    fn ip_checksum_is_valid() {
        let cap = build(Target::Zookeeper, &[0, 0, 0, 2, 1, 2]);
        assert_eq!(checksum(&cap.frames[0].data[14..34]), 0);
    }
}
