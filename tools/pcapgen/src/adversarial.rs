//! `pcapgen adversarial KIND`: hostile ZooKeeper and HTTP/2 traffic for the robustness tests
//! (tests/robustness_tshark.rs). Every capture is built from scratch, deterministically:
//! the same KIND always gives the same bytes.

use std::num::NonZeroUsize;

use anyhow::Result;
use clap::ValueEnum;
use jute_encode::JuteWriter;
use pcapgen::{Capture, Direction, Segment, TcpFlow, resegment};

use Direction::{ClientToServer as C2S, ServerToClient as S2C};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Kind {
    /// Length prefixes 0x7fffffff, 0x80000000, -1 and -5, each on its own connection after
    /// a handshake.
    BogusLengths,
    /// Strings, buffers and vectors that claim 2^31 - 1 bytes or elements, in requests and
    /// replies of several opcodes.
    HugeCounts,
    /// 10,000 PDUs (5,000 exists requests and their NONODE replies) sent 1 byte per segment.
    OneByteSegments,
    /// 100,010 getData requests that are never answered (beyond the 100,000 pending cap),
    /// then a reply to an xid that was never sent.
    Unanswered,
    /// A multi request with 100,000 ops and its failed reply with 100,000 error results,
    /// then a multi whose op is itself a multi.
    HugeMulti,
    /// HTTP/2 (server port 8080), one connection per case: HPACK dynamic table size updates
    /// to 2^32 (integer overflow), to 2^31 (above the limit) and to 2^32-1 after
    /// SETTINGS_HEADER_TABLE_SIZE 0xffffffff; an integer with six continuation octets; an
    /// index that overflows 32 bits.
    H2HpackIntegers,
    /// HTTP/2: Huffman strings with zero padding, with more than 7 bits of padding, and
    /// with the EOS symbol, one connection each.
    H2Huffman,
    /// HTTP/2: a header block of ~5 MB in 16 KiB CONTINUATION frames that finally ends, and
    /// an endless one (~5 MB in 100,000 small CONTINUATION frames, never END_HEADERS)
    /// interrupted by a PING.
    H2ContinuationFlood,
    /// HTTP/2: 100,010 requests (HEADERS with END_STREAM), never answered.
    H2ManyStreams,
    /// HTTP/2: 10,000 SETTINGS never acknowledged, then 10,000 ACKs; a SETTINGS frame of
    /// 60,000 bytes; then a PING of 7 bytes (malformed).
    H2SettingsFlood,
    /// HTTP/2: 100,000 PINGs, then their 100,000 ACKs, then a PING of 7 bytes (malformed).
    H2PingFlood,
    /// HTTP/2: a request answered by 100,000 zero-length DATA frames and an empty DATA
    /// with END_STREAM; then DATA on stream 0 (PROTOCOL_ERROR).
    H2EmptyDataFlood,
    /// HTTP/2: WINDOW_UPDATEs that push the connection window and a stream window past
    /// 2^31-1, and SETTINGS_INITIAL_WINDOW_SIZE 2^31.
    H2WindowOverflow,
    /// HTTP/2: a response declaring content-length 1,000,000,000 with content-encoding
    /// gzip, whose body is 256 MiB of zeros gzipped (~250 KB); the client's WINDOW_UPDATEs
    /// allow it.
    H2GzipBomb,
}

const SERVER_PORT: u16 = 2181;

fn connect_request() -> Vec<u8> {
    JuteWriter::new()
        .int(0) // protocolVersion
        .long(0) // lastZxidSeen
        .int(30_000) // timeout
        .long(0) // sessionId
        .buffer(&[0; 16]) // passwd
        .bool(false) // readOnly
        .pdu()
}

fn connect_response(session: i64) -> Vec<u8> {
    JuteWriter::new()
        .int(0)
        .int(30_000)
        .long(session)
        .buffer(&[7; 16])
        .bool(false)
        .pdu()
}

fn request(xid: i32, opcode: i32, rest: &[u8]) -> Vec<u8> {
    JuteWriter::new().int(xid).int(opcode).raw(rest).pdu()
}

fn reply(xid: i32, zxid: i64, err: i32, rest: &[u8]) -> Vec<u8> {
    JuteWriter::new()
        .int(xid)
        .long(zxid)
        .int(err)
        .raw(rest)
        .pdu()
}

/// A connection from `client_port` that starts with a handshake.
fn connection(client_port: u16, session: i64) -> TcpFlow {
    let mut f = TcpFlow::new(client_port, SERVER_PORT);
    f.push(C2S, connect_request());
    f.push(S2C, connect_response(session));
    f
}

fn path_watch(path: &[u8]) -> Vec<u8> {
    JuteWriter::new().buffer(path).bool(true).finish()
}

fn stat() -> Vec<u8> {
    vec![0; 68]
}

const CREATE: i32 = 1;
const EXISTS: i32 = 3;
const GET_DATA: i32 = 4;
const SET_ACL: i32 = 7;
const GET_CHILDREN: i32 = 8;
const GET_CHILDREN2: i32 = 12;
const CHECK: i32 = 13;
const MULTI: i32 = 14;
const SET_WATCHES: i32 = 101;
const NONODE: i32 = -101;

pub fn build(kind: Kind) -> Result<Capture> {
    let mut cap = Capture::new();
    if h2::build(kind, &mut cap)? {
        return Ok(cap);
    }
    match kind {
        Kind::BogusLengths => {
            for (i, len) in [0x7fff_ffffu32, 0x8000_0000, 0xffff_ffff, (-5i32) as u32]
                .into_iter()
                .enumerate()
            {
                let mut f = connection(40000 + i as u16, 0x100 + i as i64);
                let bogus = JuteWriter::new()
                    .int(len as i32)
                    .raw(&request(1, GET_DATA, &path_watch(b"/a"))[4..])
                    .finish();
                f.push(C2S, bogus);
                // The server's side goes on normally.
                f.push(S2C, reply(1, 5, NONODE, &[]));
                cap.add_flow(&f)?;
            }
        }
        Kind::HugeCounts => {
            let mut f = connection(40100, 0x200);
            let huge = i32::MAX;
            // create: path claims 2^31-1 bytes.
            let b = JuteWriter::new().int(huge).raw(b"/a").finish();
            f.push(C2S, request(1, CREATE, &b));
            f.push(S2C, reply(1, 1, 0, JuteWriter::new().buffer(b"/a").bytes()));
            // create: data claims 2^31-1 bytes.
            let b = JuteWriter::new()
                .buffer(b"/b")
                .int(huge)
                .raw(&[0; 8])
                .finish();
            f.push(C2S, request(2, CREATE, &b));
            // create: ACL vector claims 2^31-1 elements.
            let b = JuteWriter::new()
                .buffer(b"/c")
                .buffer(b"x")
                .int(huge)
                .int(31)
                .buffer(b"world")
                .buffer(b"anyone")
                .int(0)
                .finish();
            f.push(C2S, request(3, CREATE, &b));
            // setACL: vector claims 2^31 elements as a negative count.
            let b = JuteWriter::new()
                .buffer(b"/d")
                .int(i32::MIN)
                .int(0)
                .finish();
            f.push(C2S, request(4, SET_ACL, &b));
            // setWatches: the second list claims 2^31-1 paths.
            let b = JuteWriter::new().long(0).int(0).int(huge).int(0).finish();
            f.push(C2S, request(-8, SET_WATCHES, &b));
            // Replies whose children vectors claim 2^31-1 elements.
            f.push(C2S, request(5, GET_CHILDREN, &path_watch(b"/")));
            f.push(C2S, request(6, GET_CHILDREN2, &path_watch(b"/")));
            f.push(C2S, request(7, GET_DATA, &path_watch(b"/e")));
            let mut r = JuteWriter::new();
            r.int(huge).buffer(b"zookeeper");
            f.push(S2C, reply(5, 2, 0, r.bytes()));
            r.raw(&stat());
            f.push(S2C, reply(6, 2, 0, r.bytes()));
            // getData reply: data claims 2^31-1 bytes.
            let r = JuteWriter::new().int(huge).raw(&stat()).finish();
            f.push(S2C, reply(7, 2, 0, &r));
            cap.add_flow(&f)?;
        }
        Kind::OneByteSegments => {
            let mut f = connection(40200, 0x300);
            let mut segs = Vec::new();
            for x in 1..=5_000 {
                segs.push(Segment::new(
                    C2S,
                    request(x, EXISTS, &path_watch(b"/missing")),
                ));
                segs.push(Segment::new(S2C, reply(x, 9, NONODE, &[])));
            }
            let one = resegment::split_into_pieces(&segs, NonZeroUsize::MIN);
            for s in one {
                f.push_segment(s);
            }
            cap.add_flow(&f)?;
        }
        Kind::Unanswered => {
            let mut f = connection(40300, 0x400);
            let mut seg = Vec::new();
            for x in 1..=100_010 {
                seg.extend_from_slice(&request(x, GET_DATA, &path_watch(b"/p")));
                if seg.len() > 1400 {
                    f.push(C2S, std::mem::take(&mut seg));
                }
            }
            if !seg.is_empty() {
                f.push(C2S, seg);
            }
            // A reply to an xid that was never sent.
            f.push(S2C, reply(-12345, 9, 0, &stat()));
            cap.add_flow(&f)?;
        }
        Kind::HugeMulti => {
            let mut f = connection(40400, 0x500);
            let n = 100_000;
            // Each op: its MultiHeader {type, done, err}, then its body.
            let mut b = JuteWriter::new();
            for _ in 0..n {
                b.int(CHECK).bool(false).int(-1);
                b.buffer(b"/").int(0); // path, version
            }
            let b = b.int(-1).bool(true).int(-1).finish();
            let req = request(1, MULTI, &b);
            let mut r = JuteWriter::new();
            for _ in 0..n {
                r.int(-1).bool(false).int(NONODE); // error result
                r.int(NONODE);
            }
            let r = r.int(-1).bool(true).int(-1).finish();
            let rep = reply(1, 9, NONODE, &r);
            // Nested: an op of type multi inside a multi.
            let nb = JuteWriter::new()
                .int(MULTI)
                .bool(false)
                .int(-1)
                .raw(&b[..b.len().min(170)])
                .finish();
            let nested = request(2, MULTI, &nb);
            let segs = vec![
                Segment::new(C2S, req),
                Segment::new(S2C, rep),
                Segment::new(C2S, nested),
            ];
            let segs = resegment::split_into_pieces(
                &segs,
                NonZeroUsize::new(16_000).unwrap_or(NonZeroUsize::MIN),
            );
            for s in segs {
                f.push_segment(s);
            }
            cap.add_flow(&f)?;
        }
        _ => {}
    }
    Ok(cap)
}

/// The HTTP/2 kinds.
mod h2 {
    use anyhow::Result;
    use pcapgen::{Capture, TcpFlow};

    use super::{C2S, Kind, S2C};

    pub const SERVER_PORT: u16 = 8080;
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    const DATA: u8 = 0x0;
    const HEADERS: u8 = 0x1;
    const SETTINGS: u8 = 0x4;
    const PING: u8 = 0x6;
    const WINDOW_UPDATE: u8 = 0x8;
    const CONTINUATION: u8 = 0x9;
    const END_STREAM: u8 = 0x1;
    const ACK: u8 = 0x1;
    const END_HEADERS: u8 = 0x4;

    /// One frame: 9-byte header and payload.
    pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        v.push(kind);
        v.push(flags);
        v.extend_from_slice(&stream.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn settings(params: &[(u16, u32)]) -> Vec<u8> {
        let mut p = Vec::new();
        for (id, v) in params {
            p.extend_from_slice(&id.to_be_bytes());
            p.extend_from_slice(&v.to_be_bytes());
        }
        frame(SETTINGS, 0, 0, &p)
    }

    /// An HPACK integer with an `n`-bit prefix, the prefix's other bits in `first`.
    fn integer(first: u8, n: u8, v: u64) -> Vec<u8> {
        let max = (1u64 << n) - 1;
        if v < max {
            return vec![first | v as u8];
        }
        let mut out = vec![first | max as u8];
        let mut rest = v - max;
        while rest >= 128 {
            out.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        out.push(rest as u8);
        out
    }

    /// A GET request block: :method GET, :scheme http, :path /, :authority (literal without
    /// indexing, so that the dynamic table stays empty).
    fn request_block() -> Vec<u8> {
        let mut b = vec![0x82, 0x86, 0x84, 0x01, 9];
        b.extend_from_slice(b"localhost");
        b
    }

    /// A connection whose both sides have exchanged (empty) SETTINGS and their ACKs, with
    /// `client` extra parameters in the client's SETTINGS.
    fn connection(client_port: u16, client: &[(u16, u32)]) -> TcpFlow {
        let mut f = TcpFlow::new(client_port, SERVER_PORT);
        let mut c = PREFACE.to_vec();
        c.extend(settings(client));
        f.push(C2S, c);
        let mut s = settings(&[]);
        s.extend(frame(SETTINGS, ACK, 0, &[]));
        f.push(S2C, s);
        f.push(C2S, frame(SETTINGS, ACK, 0, &[]));
        f
    }

    /// Frames packed into segments of at most `max` bytes (a frame is never split).
    fn push_batched(f: &mut TcpFlow, dir: pcapgen::Direction, frames: &[Vec<u8>], max: usize) {
        let mut seg = Vec::new();
        for fr in frames {
            if !seg.is_empty() && seg.len() + fr.len() > max {
                f.push(dir, std::mem::take(&mut seg));
            }
            seg.extend_from_slice(fr);
        }
        if !seg.is_empty() {
            f.push(dir, seg);
        }
    }

    /// Builds the HTTP/2 kinds; false for the others.
    pub fn build(kind: Kind, cap: &mut Capture) -> Result<bool> {
        match kind {
            Kind::H2HpackIntegers => {
                // Each block on its own connection: an HPACK error ends the connection's
                // header compression context.
                // (client SETTINGS parameters, header block)
                type Case = (Vec<(u16, u32)>, Vec<u8>);
                let blocks: Vec<Case> = vec![
                    // Size update to 2^32: above u32.
                    (vec![], integer(0x20, 5, 1 << 32)),
                    // Size update to 2^31: within u32, above the 4096 limit.
                    (vec![], integer(0x20, 5, 1 << 31)),
                    // SETTINGS_HEADER_TABLE_SIZE 0xffffffff (capped), then 2^32-1.
                    (vec![(0x1, u32::MAX)], integer(0x20, 5, u64::from(u32::MAX))),
                    // Six continuation octets.
                    (vec![], vec![0x3f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
                    // An indexed field whose index overflows 32 bits.
                    (vec![], integer(0x80, 7, 1 << 40)),
                ];
                for (i, (params, mut block)) in blocks.into_iter().enumerate() {
                    let mut f = connection(41000 + i as u16, &params);
                    if !params.is_empty() {
                        // The server acknowledges the client's SETTINGS (above), so the
                        // client's limit applies to the server's encoder: send the block
                        // from the server, as a response.
                        f.push(
                            C2S,
                            frame(HEADERS, END_HEADERS | END_STREAM, 1, &request_block()),
                        );
                        block.push(0x88);
                        f.push(S2C, frame(HEADERS, END_HEADERS | END_STREAM, 1, &block));
                    } else {
                        block.extend(request_block());
                        f.push(C2S, frame(HEADERS, END_HEADERS | END_STREAM, 1, &block));
                    }
                    cap.add_flow(&f)?;
                }
            }
            Kind::H2Huffman => {
                let strings: [&[u8]; 3] = [
                    // 'a' (00011) padded with 000.
                    &[0x18],
                    // 'a' and 11 bits of padding.
                    &[0x1f, 0xff],
                    // EOS (30 one bits) and 2 bits of padding.
                    &[0xff, 0xff, 0xff, 0xff],
                ];
                for (i, s) in strings.iter().enumerate() {
                    let mut f = connection(42000 + i as u16, &[]);
                    let mut block = request_block();
                    // x-h: literal without indexing, new name, Huffman value.
                    block.extend_from_slice(&[0x00, 3]);
                    block.extend_from_slice(b"x-h");
                    block.push(0x80 | s.len() as u8);
                    block.extend_from_slice(s);
                    f.push(C2S, frame(HEADERS, END_HEADERS | END_STREAM, 1, &block));
                    cap.add_flow(&f)?;
                }
            }
            Kind::H2ContinuationFlood => {
                // A block that ends, after ~5 MB.
                let mut f = connection(43000, &[]);
                let mut frames = vec![frame(HEADERS, END_STREAM, 1, &request_block())];
                let junk = vec![0x40u8; 16_384];
                for _ in 0..300 {
                    frames.push(frame(CONTINUATION, 0, 1, &junk));
                }
                frames.push(frame(CONTINUATION, END_HEADERS, 1, &[0x82]));
                push_batched(&mut f, C2S, &frames, 60_000);
                cap.add_flow(&f)?;
                // An endless block: many small CONTINUATION frames, then a PING.
                let mut f = connection(43001, &[]);
                let mut frames = vec![frame(HEADERS, END_STREAM, 1, &request_block())];
                let piece = [0x40u8; 41];
                for _ in 0..100_000 {
                    frames.push(frame(CONTINUATION, 0, 1, &piece));
                }
                frames.push(frame(PING, 0, 0, &[1; 8]));
                push_batched(&mut f, C2S, &frames, 60_000);
                cap.add_flow(&f)?;
            }
            Kind::H2ManyStreams => {
                let mut f = connection(44000, &[]);
                let block = request_block();
                let frames: Vec<Vec<u8>> = (0..100_010u32)
                    .map(|i| frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, &block))
                    .collect();
                push_batched(&mut f, C2S, &frames, 16_000);
                cap.add_flow(&f)?;
            }
            Kind::H2SettingsFlood => {
                let mut f = connection(45000, &[]);
                let frames: Vec<Vec<u8>> = (0..10_000u32).map(|i| settings(&[(0x3, i)])).collect();
                push_batched(&mut f, C2S, &frames, 16_000);
                let acks: Vec<Vec<u8>> =
                    (0..10_000).map(|_| frame(SETTINGS, ACK, 0, &[])).collect();
                push_batched(&mut f, S2C, &acks, 16_000);
                // 10,000 parameters in one frame: 60,000 bytes, above the 16,384 maximum.
                let params: Vec<(u16, u32)> = (0..10_000u32).map(|i| (0x3, i)).collect();
                f.push(C2S, settings(&params));
                f.push(C2S, frame(PING, 0, 0, &[7; 7]));
                cap.add_flow(&f)?;
            }
            Kind::H2PingFlood => {
                let mut f = connection(46000, &[]);
                let pings: Vec<Vec<u8>> = (0..100_000u64)
                    .map(|i| frame(PING, 0, 0, &i.to_be_bytes()))
                    .collect();
                push_batched(&mut f, C2S, &pings, 16_000);
                let acks: Vec<Vec<u8>> = (0..100_000u64)
                    .map(|i| frame(PING, ACK, 0, &i.to_be_bytes()))
                    .collect();
                push_batched(&mut f, S2C, &acks, 16_000);
                f.push(C2S, frame(PING, 0, 0, &[7; 7]));
                cap.add_flow(&f)?;
            }
            Kind::H2EmptyDataFlood => {
                let mut f = connection(47000, &[]);
                f.push(
                    C2S,
                    frame(HEADERS, END_HEADERS | END_STREAM, 1, &request_block()),
                );
                let mut frames = vec![frame(HEADERS, END_HEADERS, 1, &[0x88])];
                for _ in 0..100_000 {
                    frames.push(frame(DATA, 0, 1, &[]));
                }
                frames.push(frame(DATA, END_STREAM, 1, &[]));
                push_batched(&mut f, S2C, &frames, 16_000);
                f.push(S2C, frame(DATA, 0, 0, b"stream zero"));
                cap.add_flow(&f)?;
            }
            Kind::H2WindowOverflow => {
                let mut f = connection(48000, &[]);
                f.push(C2S, frame(HEADERS, END_HEADERS, 1, &request_block()));
                // Connection window: 65,535 + (2^31 - 1) > 2^31 - 1.
                f.push(
                    C2S,
                    frame(WINDOW_UPDATE, 0, 0, &0x7fff_ffffu32.to_be_bytes()),
                );
                // Stream 1: the same.
                f.push(
                    C2S,
                    frame(WINDOW_UPDATE, 0, 1, &0x7fff_ffffu32.to_be_bytes()),
                );
                // SETTINGS_INITIAL_WINDOW_SIZE above 2^31 - 1.
                f.push(S2C, settings(&[(0x4, 0x8000_0000)]));
                cap.add_flow(&f)?;
            }
            Kind::H2GzipBomb => {
                use std::io::Write;
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                let zeros = vec![0u8; 1 << 20];
                for _ in 0..256 {
                    gz.write_all(&zeros)?;
                }
                let bomb = gz.finish()?;
                let mut f = connection(49000, &[]);
                // The client opens its windows wide, so that only the body is at issue.
                let mut c = frame(HEADERS, END_HEADERS | END_STREAM, 1, &request_block());
                c.extend(frame(WINDOW_UPDATE, 0, 0, &0x7000_0000u32.to_be_bytes()));
                c.extend(frame(WINDOW_UPDATE, 0, 1, &0x7000_0000u32.to_be_bytes()));
                f.push(C2S, c);
                // :status 200, content-length (index 28) and content-encoding (index 26),
                // literals without indexing.
                let mut block = vec![0x88, 0x0f, 28 - 15, 10];
                block.extend_from_slice(b"1000000000");
                block.extend_from_slice(&[0x0f, 26 - 15, 4]);
                block.extend_from_slice(b"gzip");
                let mut frames = vec![frame(HEADERS, END_HEADERS, 1, &block)];
                let chunks: Vec<&[u8]> = bomb.chunks(16_384).collect();
                for (i, c) in chunks.iter().enumerate() {
                    let flags = if i + 1 == chunks.len() { END_STREAM } else { 0 };
                    frames.push(frame(DATA, flags, 1, c));
                }
                push_batched(&mut f, S2C, &frames, 60_000);
                cap.add_flow(&f)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
