//! Fuzz harnesses for the pure HTTP/2 layers (`zkh2::h2::{frame, hpack, connection}`).
//!
//! Shared by the libFuzzer targets (`fuzz/fuzz_targets/h2_*.rs`, `hpack.rs`) and by the
//! replay test (`tests/fuzz_regressions.rs`). A harness panics when an invariant breaks.

use super::Script;
use std::collections::HashMap;
use std::rc::Rc;

use zkh2::common::{PduKey, Span};
use zkh2::h2::connection::{Connection, Dir, FrameInfo, Framing, limits};
use zkh2::h2::frame::{self, HEADER_LEN, Padding, Payload};
use zkh2::h2::hpack::{Decoder, HeaderBlock, Representation, Strings, TABLE_SIZE_CAP};

// ---------------------------------------------------------------------------------------
// h2_frame

/// Checks that spans lie inside the captured payload of one frame.
struct FrameSpans {
    /// End of the payload as captured: `min(bytes.len(), 9 + length)`.
    end: usize,
}

impl FrameSpans {
    fn span(&self, off: usize, len: usize, what: &str) {
        assert!(off >= HEADER_LEN, "{what} at {off} inside the frame header");
        assert!(
            off.checked_add(len).is_some_and(|e| e <= self.end),
            "{what} {off}+{len} outside the payload (end {})",
            self.end
        );
    }

    fn s(&self, s: &Span, what: &str) {
        self.span(s.off, s.len, what);
    }

    fn padding(&self, p: &Option<Padding>, data: &Span) {
        if let Some(p) = p {
            self.span(p.pad_length.off, p.pad_length.len, "pad length");
            self.s(&p.padding, "padding");
            assert_eq!(p.padding.len, usize::from(p.pad_length.val));
            assert_eq!(
                p.padding.off + p.padding.len,
                self.end,
                "padding not at the end"
            );
            assert!(
                data.off + data.len <= p.padding.off,
                "data overlaps padding"
            );
        }
    }
}

/// `parse_frame` on arbitrary bytes: never panics; the header is the first 9 bytes; every
/// span of the payload lies within the frame's captured payload; a payload that is not
/// fully captured is reported as such; and every prefix parses without panicking.
pub fn h2_frame(data: &[u8]) {
    check_frame(data);
    // Captures cut at every length (snaplen) must not break it either.
    for cut in [0, 1, 8, 9, 10, data.len() / 2, data.len().saturating_sub(1)] {
        if let Some(b) = data.get(..cut) {
            check_frame(b);
        }
    }
    // The framing helpers too.
    let _ = frame::pdu_len(data);
    let _ = frame::starts_with_preface(data);
}

fn check_frame(data: &[u8]) {
    let Some(f) = frame::parse_frame(data) else {
        assert!(
            data.len() < HEADER_LEN,
            "no frame from {} bytes",
            data.len()
        );
        return;
    };
    assert!(data.len() >= HEADER_LEN);
    let h = f.header;
    assert_eq!(
        h.length,
        u32::from_be_bytes([0, data[0], data[1], data[2]]),
        "length field"
    );
    assert_eq!(h.kind, data[3]);
    assert_eq!(h.flags, data[4]);
    assert!(h.stream_id <= frame::MAX_WINDOW, "stream id above 2^31-1");
    let full = HEADER_LEN + h.length as usize;
    let spans = FrameSpans {
        end: full.min(data.len()),
    };
    let payload = match f.payload {
        Ok(p) => p,
        Err(frame::PayloadError::NotCaptured) => {
            assert!(data.len() < full, "complete frame reported as not captured");
            return;
        }
        Err(_) => return,
    };
    assert!(data.len() >= full, "payload parsed from a short capture");
    match &payload {
        Payload::Data { padding, data: d } => {
            spans.s(d, "data");
            spans.padding(padding, d);
        }
        Payload::Headers {
            padding,
            priority,
            fragment,
        } => {
            if let Some(p) = priority {
                spans.span(p.off, p.len, "priority");
            }
            spans.s(fragment, "fragment");
            spans.padding(padding, fragment);
        }
        Payload::Priority(p) => spans.span(p.off, p.len, "priority"),
        Payload::RstStream { error } => spans.span(error.off, error.len, "error code"),
        Payload::Settings(v) => {
            assert_eq!(v.len() * 6, h.length as usize, "settings count");
            for s in v {
                spans.span(s.off, s.len, "setting");
            }
        }
        Payload::PushPromise {
            padding,
            promised,
            fragment,
        } => {
            spans.span(promised.off, promised.len, "promised id");
            spans.s(fragment, "fragment");
            spans.padding(padding, fragment);
        }
        Payload::Ping { data } => spans.span(data.off, data.len, "ping data"),
        Payload::GoAway {
            last_stream,
            error,
            debug,
        } => {
            spans.span(last_stream.off, last_stream.len, "last stream");
            spans.span(error.off, error.len, "error");
            spans.s(debug, "debug data");
        }
        Payload::WindowUpdate { increment } => {
            spans.span(increment.off, increment.len, "increment")
        }
        Payload::Continuation { fragment } => spans.s(fragment, "fragment"),
        Payload::AltSvc {
            origin_len,
            origin,
            value,
        } => {
            spans.span(origin_len.off, origin_len.len, "origin length");
            spans.s(origin, "origin");
            assert_eq!(origin.len, usize::from(origin_len.val));
            spans.s(value, "value");
        }
        Payload::Origin(v) => {
            for (len, s) in v {
                spans.span(len.off, len.len, "origin length");
                spans.s(s, "origin");
                assert_eq!(s.len, usize::from(len.val));
            }
        }
        Payload::PriorityUpdate { prioritized, value } => {
            spans.span(prioritized.off, prioritized.len, "prioritized id");
            spans.s(value, "value");
        }
        Payload::Unknown { data: d } => spans.s(d, "unknown payload"),
    }
}

// ---------------------------------------------------------------------------------------
// hpack

/// One step of an HPACK script.
enum Op<'a> {
    Block(&'a [u8]),
    Limit(u32),
}

/// Splits the input into steps: an op byte `b`; `b >= 0xf0` sets the limit to a value from
/// the next 4 bytes (`b == 0xff`: as is, else reduced to 0..=2^17 so small limits are
/// common); otherwise a block of `b` bytes (`b < 0x80`) or of a 16-bit length (`b` in
/// 0x80..0xf0).
fn hpack_ops(data: &[u8]) -> Vec<Op<'_>> {
    let mut s = Script(data);
    let mut ops = Vec::new();
    while let Some(b) = s.byte() {
        if b >= 0xf0 {
            let v = s.u32();
            ops.push(Op::Limit(if b == 0xff { v } else { v % (1 << 17) }));
        } else {
            let n = if b < 0x80 {
                usize::from(b)
            } else {
                usize::from(u16::from_be_bytes([
                    s.byte().unwrap_or(0),
                    s.byte().unwrap_or(0),
                ]))
            };
            ops.push(Op::Block(s.bytes(n)));
        }
    }
    if ops.is_empty() {
        ops.push(Op::Block(&[]));
    }
    ops
}

/// Runs the same script of header blocks and limit changes through a decoder for a
/// connection captured from its start and through a mid-stream decoder.
///
/// Invariants: no panic; each block's fields cover it in order from offset 0, up to the
/// error (or the end); each literal lies inside its field; an error points into the block;
/// `table_size() <= max_size() <= TABLE_SIZE_CAP`, each entry taking at least 32 octets;
/// a decoder from the connection start never yields an unknown name or value; and the
/// whole run is deterministic.
pub fn hpack(data: &[u8]) {
    let ops = hpack_ops(data);
    let a = run_hpack(&ops, false);
    let b = run_hpack(&ops, true);
    assert_eq!(
        a,
        run_hpack(&ops, false),
        "normal decoder not deterministic"
    );
    assert_eq!(
        b,
        run_hpack(&ops, true),
        "mid-stream decoder not deterministic"
    );
}

/// A decoded name or value, read out of the decoder's strings.
type Resolved = Option<Vec<u8>>;

/// Each block decoded, with the names and values of its fields read out.
fn run_hpack(ops: &[Op<'_>], mid_stream: bool) -> Vec<(HeaderBlock, Vec<(Resolved, Resolved)>)> {
    let mut d = if mid_stream {
        Decoder::new_mid_stream()
    } else {
        Decoder::new()
    };
    let mut out = Vec::new();
    for op in ops {
        match op {
            Op::Limit(n) => d.set_max_table_size_limit(*n),
            Op::Block(block) => {
                let hb = d.decode_block(block);
                check_block(d.strings(), block, &hb, mid_stream);
                let read = |s| d.strings().get(s).map(<[u8]>::to_vec);
                let strings = hb
                    .fields
                    .iter()
                    .map(|f| (read(f.name), read(f.value)))
                    .collect();
                out.push((hb, strings));
            }
        }
        check_table(&d);
    }
    out
}

fn check_table(d: &Decoder) {
    assert!(
        d.table_size() <= d.max_size(),
        "table size {} above the maximum {}",
        d.table_size(),
        d.max_size()
    );
    assert!(d.max_size() <= TABLE_SIZE_CAP, "maximum size above the cap");
    assert!(d.limit() <= TABLE_SIZE_CAP, "limit above the cap");
    assert!(
        d.table_len() as u64 * 32 <= u64::from(d.table_size()),
        "{} entries in {} octets",
        d.table_len(),
        d.table_size()
    );
    assert_eq!(d.dynamic_entries().count(), d.table_len());
}

fn check_block(strings: &Strings, block: &[u8], hb: &HeaderBlock, mid_stream: bool) {
    let mut pos = 0usize;
    for f in &hb.fields {
        assert_eq!(f.off as usize, pos, "fields not contiguous");
        assert!(f.len > 0, "empty field");
        let end = f.end();
        assert!(end <= block.len(), "field past the block");
        // The layout, read again from the block, must be where the decoder found the
        // literals: each decodes to the field's name or value.
        let layout = f.layout(block);
        for (lit, text) in [
            (layout.name_literal, f.name),
            (layout.value_literal, f.value),
        ] {
            let Some(lit) = lit else { continue };
            assert!(
                lit.off > f.off && lit.end() <= end,
                "literal outside its field"
            );
            assert!(lit.raw_len as usize <= lit.total_len(), "literal length");
            assert!((1..=6).contains(&lit.prefix_len), "literal prefix length");
            assert!(lit.data_off() >= lit.off as usize && lit.data_off() <= end);
            let raw = &block[lit.data_off()..lit.end()];
            let decoded = if lit.huffman {
                zkh2::h2::huffman::decode(raw).expect("literal decoded once")
            } else {
                raw.to_vec()
            };
            assert_eq!(
                strings.get(text),
                Some(&decoded[..]),
                "literal re-read differs"
            );
        }
        match f.repr {
            Representation::SizeUpdate => {
                assert!(layout.new_size.is_some() && !f.name.is_known() && !f.value.is_known())
            }
            _ => {
                assert!(layout.new_size.is_none());
                assert_eq!(
                    layout.index.is_some(),
                    layout.name_literal.is_none(),
                    "name neither indexed nor literal"
                );
                if f.repr == Representation::Indexed {
                    assert!(layout.value_literal.is_none());
                } else {
                    assert!(layout.value_literal.is_some(), "literal without its value");
                }
                if layout.value_literal.is_some() {
                    assert!(f.value.is_known(), "literal value unknown");
                }
                if !mid_stream {
                    assert!(!f.is_unknown(), "unknown entry without a mid-stream start");
                }
            }
        }
        pos = end;
    }
    match hb.error.as_deref() {
        Some(e) => {
            assert_eq!(e.off, pos, "error not where decoding stopped");
            assert!(e.at >= e.off && e.at <= block.len(), "error offset outside");
            assert!(e.off <= block.len());
        }
        None => assert_eq!(pos, block.len(), "block not covered"),
    }
}

// ---------------------------------------------------------------------------------------
// h2_connection

/// The parts of a decision that must never change once made (the rest may only be filled
/// in later, once).
#[derive(Debug, PartialEq)]
struct Fixed {
    dir: Dir,
    from_client: Option<bool>,
    role: String,
    summary: Option<u32>,
    stream_state: String,
    windows: String,
    body: String,
    problems: String,
}

fn fixed(i: &FrameInfo) -> Fixed {
    Fixed {
        dir: usize::from(i.dir),
        from_client: i.from_client,
        role: format!("{:?}", i.role),
        summary: i.summary,
        stream_state: format!("{:?}", i.stream_state),
        windows: format!("{:?}", i.windows),
        body: format!(
            "{:?}",
            i.body.as_ref().map(|b| (b.stream, b.total_len, b.frames))
        ),
        problems: format!("{:?}", i.problems),
    }
}

/// The parts that start empty and may be filled in once, by a later PDU.
#[derive(Debug, Clone, PartialEq)]
struct Late {
    block: Option<usize>,
    completed_in: Option<Option<u32>>,
    settings_peer: Option<u32>,
    ping_peer: Option<(u32, Option<i64>)>,
}

fn late(i: &FrameInfo) -> Late {
    Late {
        block: i
            .block
            .as_ref()
            .map(|b| Rc::as_ptr(b) as *const u8 as usize),
        completed_in: i.block_part().map(|p| p.completed_in),
        settings_peer: i.settings_peer(),
        ping_peer: i.ping_peer(),
    }
}

struct Framed {
    dir: Dir,
    frame: u32,
    /// The bytes framing saw: a snapshot of the side's buffer, from `off`.
    bytes: Rc<[u8]>,
    off: usize,
    result: Framing,
}

/// Runs a two-way conversation through the connection state machine the way the
/// dissector does on the first pass, then checks the decisions as later passes see them.
///
/// Input: byte 0 picks the ports (bit 0: server on the higher port; bit 1: server port
/// known, as from the port table; bits 2-3: the body limit, 0/64/4096/1 MiB; bit 4: the
/// client's bytes start with the connection preface, supplied by the harness); then
/// segments, each a `flags` byte (bit 0: to the client; bit 1: 16-bit length; bits 2-4:
/// frame gap), a length and that many payload bytes. Each direction's bytes are framed
/// with `Connection::framing` like `tcp_dissect_pdus` does, so frames split anywhere.
///
/// Invariants: no panic; the parts of a decision fixed on the first pass never change,
/// the rest are filled in at most once; re-processing a PDU changes nothing; framing gives
/// the same answer on a later pass; pairings are causal; bodies respect the body limit,
/// decoded bodies too; header blocks are covered by their fields; and the run is
/// deterministic.
pub fn h2_connection(data: &[u8]) {
    h2_connection_checked(data, false);
}

/// `strict = true` also checks the invariants that open findings break (see
/// `fuzz/regressions/README.md`, F2: a stream's request/response pairing is overwritten by
/// a later header block of the same role, so a request can point at an earlier response).
pub fn h2_connection_checked(data: &[u8], strict: bool) {
    let a = run_connection(data, strict);
    let b = run_connection(data, strict);
    assert_eq!(a, b, "the same capture gave different decisions");
}

fn run_connection(data: &[u8], strict: bool) -> Vec<String> {
    let mut script = Script(data);
    let mode = script.byte().unwrap_or(0);
    let (client_port, server_port) = if mode & 1 == 0 {
        (40000, 8080)
    } else {
        (1024, 50000)
    };
    let known_port = mode & 2 != 0;
    let body_limit = [0usize, 64, 4096, 1 << 20][usize::from((mode >> 2) & 3)];
    let mut conn = Connection::new(body_limit.max(1));
    let mut buf: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut frame: u32 = 0;
    let mut keys: Vec<(PduKey, Vec<u8>, Dir, i64)> = Vec::new();
    let mut first: HashMap<PduKey, (Fixed, Late)> = HashMap::new();
    let mut framed: Vec<Framed> = Vec::new();

    // Segments: (to the client, frame gap, payload); the preface first if asked for.
    let mut segments: Vec<(bool, u32, &[u8])> = Vec::new();
    if mode & 0x10 != 0 {
        segments.push((false, 0, frame::PREFACE));
    }
    while let Some(flags) = script.byte() {
        let n = script.segment_len(flags);
        segments.push((flags & 1 != 0, u32::from((flags >> 2) & 7), script.bytes(n)));
    }

    for (to_client, gap, payload) in segments {
        frame = frame.saturating_add(1 + gap);
        let (src, dst) = if to_client {
            (server_port, client_port)
        } else {
            (client_port, server_port)
        };
        let dir = conn.direction(src, dst);
        if known_port && conn.client().is_none() {
            // As dissect.rs does when the port table matched.
            conn.set_client(if to_client { 1 - dir } else { dir });
        }
        let side = usize::from(to_client);
        buf[side].extend_from_slice(payload);
        let time = i64::from(frame) * 1_000_000;
        let mut index = 0u32;
        // One snapshot per segment; each framing call sees it from `off` on.
        let snap: Rc<[u8]> = std::mem::take(&mut buf[side]).into();
        let mut off = 0usize;
        while off < snap.len() {
            let b = &snap[off..];
            let result = conn.framing(dir, frame, b);
            framed.push(Framed {
                dir,
                frame,
                bytes: snap.clone(),
                off,
                result,
            });
            let take = match result {
                Framing::Pdu(n) | Framing::Skip(n) => (n as usize).max(1),
            };
            if take > b.len() {
                break; // wait for more segments
            }
            let pdu: Vec<u8> = b[..take].to_vec();
            off += take;
            let key = PduKey { frame, index };
            index += 1;
            let skipped = conn.was_skip(frame, pdu.len());
            if matches!(result, Framing::Skip(_)) {
                assert!(skipped, "a skip not recognised as one");
            }
            let info = conn
                .process(key, dir, time, &pdu, skipped)
                .expect("a processed PDU has its decision");
            assert_eq!(usize::from(info.dir), dir & 1);
            first.insert(key, (fixed(info), late(info)));
            keys.push((key, pdu, dir, time));
        }
        buf[side] = snap.get(off..).unwrap_or(&[]).to_vec();
        // Memory: summaries stay within their cap.
        assert!(conn.summary(limits::MAX_STREAM_SUMMARIES as u32).is_none());
    }

    // Later passes: framing answers the same.
    for f in &framed {
        let later = conn.framing(f.dir, f.frame, &f.bytes[f.off..]);
        assert_eq!(later, f.result, "framing of frame {} changed", f.frame);
    }

    // Re-processing a PDU (a later pass without the visited flag) changes nothing.
    let mut out = Vec::with_capacity(keys.len());
    for (key, pdu, dir, time) in &keys {
        let before = format!("{:?}", conn.decision(*key).map(fixed));
        let _ = conn.process(*key, *dir, *time, pdu, false);
        let info = conn
            .decision(*key)
            .unwrap_or_else(|| panic!("decision for {key:?} lost"));
        assert_eq!(before, format!("{:?}", Some(fixed(info))));
        let (fx, l1) = &first[key];
        assert_eq!(fx, &fixed(info), "decision for {key:?} changed");
        let l2 = late(info);
        assert!(
            l1.block.is_none() || l1.block == l2.block,
            "{key:?} block replaced"
        );
        assert!(
            l1.completed_in.is_some() == l2.completed_in.is_some()
                && (l1.completed_in.flatten().is_none() || l1.completed_in == l2.completed_in),
            "{key:?} block part changed"
        );
        assert!(l1.settings_peer.is_none() || l1.settings_peer == l2.settings_peer);
        assert!(l1.ping_peer.is_none() || l1.ping_peer == l2.ping_peer);
        check_info(&conn, *key, info, body_limit.max(1), strict);
        out.push(format!("{key:?} {:?}", fixed(info)));
    }
    out
}

fn check_info(conn: &Connection, key: PduKey, info: &FrameInfo, body_limit: usize, strict: bool) {
    if let Some(s) = info.summary.and_then(|i| conn.summary(i))
        && strict
    {
        if let (Some(req), Some(resp)) = (s.request_in, s.response_in) {
            assert!(
                req <= resp,
                "{key:?}: stream {} answered before its request",
                s.id
            );
        }
    }
    if let Some(b) = &info.body {
        assert!(b.kept_len() <= body_limit, "body above the limit");
        assert!(b.total_len >= b.kept_len() as u64);
        // A body that is its last frame's DATA is decoded from that frame when shown.
        let (decoded, _) = b.decoded(body_limit, &[]);
        if b.encoding.is_some() && !b.is_in_frame() {
            assert!(decoded.len() <= body_limit, "decoded body above the limit");
        }
    }
    if let Some(block) = &info.block {
        let bytes_len = block.fragments.last().map_or(0, |f| f.1 as usize);
        if block.joined.is_some() {
            assert_eq!(block.joined.as_ref().map(|j| j.len()), Some(bytes_len));
        }
        let mut pos = 0;
        for f in &block.decoded.fields {
            assert_eq!(f.off, pos, "block fields not contiguous");
            pos = f.off + f.len;
        }
        assert!(block.table_len as u64 * 32 <= u64::from(block.table_size));
        let mut last = 0;
        for (_, end) in &block.fragments {
            assert!(*end >= last, "fragment ends out of order");
            last = *end;
        }
    }
}
