//! `pcapgen adversarial KIND`: hostile ZooKeeper traffic for the robustness tests
//! (tests/robustness_tshark.rs). Every capture is built from scratch, deterministically:
//! the same KIND always gives the same bytes.

use std::num::NonZeroUsize;

use anyhow::Result;
use clap::ValueEnum;
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
}

const SERVER_PORT: u16 = 2181;

fn pdu(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

fn int(v: &mut Vec<u8>, x: i32) {
    v.extend_from_slice(&x.to_be_bytes());
}

fn long(v: &mut Vec<u8>, x: i64) {
    v.extend_from_slice(&x.to_be_bytes());
}

fn string(v: &mut Vec<u8>, s: &[u8]) {
    int(v, s.len() as i32);
    v.extend_from_slice(s);
}

fn connect_request() -> Vec<u8> {
    let mut b = Vec::new();
    int(&mut b, 0); // protocolVersion
    long(&mut b, 0); // lastZxidSeen
    int(&mut b, 30_000); // timeout
    long(&mut b, 0); // sessionId
    string(&mut b, &[0; 16]); // passwd
    b.push(0); // readOnly
    pdu(&b)
}

fn connect_response(session: i64) -> Vec<u8> {
    let mut b = Vec::new();
    int(&mut b, 0);
    int(&mut b, 30_000);
    long(&mut b, session);
    string(&mut b, &[7; 16]);
    b.push(0);
    pdu(&b)
}

fn request(xid: i32, opcode: i32, rest: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    int(&mut b, xid);
    int(&mut b, opcode);
    b.extend_from_slice(rest);
    pdu(&b)
}

fn reply(xid: i32, zxid: i64, err: i32, rest: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    int(&mut b, xid);
    long(&mut b, zxid);
    int(&mut b, err);
    b.extend_from_slice(rest);
    pdu(&b)
}

/// A connection from `client_port` that starts with a handshake.
fn connection(client_port: u16, session: i64) -> TcpFlow {
    let mut f = TcpFlow::new(client_port, SERVER_PORT);
    f.push(C2S, connect_request());
    f.push(S2C, connect_response(session));
    f
}

fn path_watch(path: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    string(&mut b, path);
    b.push(1);
    b
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
    match kind {
        Kind::BogusLengths => {
            for (i, len) in [0x7fff_ffffu32, 0x8000_0000, 0xffff_ffff, (-5i32) as u32]
                .into_iter()
                .enumerate()
            {
                let mut f = connection(40000 + i as u16, 0x100 + i as i64);
                let mut bogus = len.to_be_bytes().to_vec();
                bogus.extend_from_slice(&request(1, GET_DATA, &path_watch(b"/a"))[4..]);
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
            let mut b = Vec::new();
            int(&mut b, huge);
            b.extend_from_slice(b"/a");
            f.push(C2S, request(1, CREATE, &b));
            f.push(
                S2C,
                reply(1, 1, 0, &{
                    let mut r = Vec::new();
                    string(&mut r, b"/a");
                    r
                }),
            );
            // create: data claims 2^31-1 bytes.
            let mut b = Vec::new();
            string(&mut b, b"/b");
            int(&mut b, huge);
            b.extend_from_slice(&[0; 8]);
            f.push(C2S, request(2, CREATE, &b));
            // create: ACL vector claims 2^31-1 elements.
            let mut b = Vec::new();
            string(&mut b, b"/c");
            string(&mut b, b"x");
            int(&mut b, huge);
            int(&mut b, 31);
            string(&mut b, b"world");
            string(&mut b, b"anyone");
            int(&mut b, 0);
            f.push(C2S, request(3, CREATE, &b));
            // setACL: vector claims 2^31 elements as a negative count.
            let mut b = Vec::new();
            string(&mut b, b"/d");
            int(&mut b, i32::MIN);
            int(&mut b, 0);
            f.push(C2S, request(4, SET_ACL, &b));
            // setWatches: the second list claims 2^31-1 paths.
            let mut b = Vec::new();
            long(&mut b, 0);
            int(&mut b, 0);
            int(&mut b, huge);
            int(&mut b, 0);
            f.push(C2S, request(-8, SET_WATCHES, &b));
            // Replies whose children vectors claim 2^31-1 elements.
            f.push(C2S, request(5, GET_CHILDREN, &path_watch(b"/")));
            f.push(C2S, request(6, GET_CHILDREN2, &path_watch(b"/")));
            f.push(C2S, request(7, GET_DATA, &path_watch(b"/e")));
            let mut r = Vec::new();
            int(&mut r, huge);
            string(&mut r, b"zookeeper");
            f.push(S2C, reply(5, 2, 0, &r));
            r.extend_from_slice(&stat());
            f.push(S2C, reply(6, 2, 0, &r));
            // getData reply: data claims 2^31-1 bytes.
            let mut r = Vec::new();
            int(&mut r, huge);
            r.extend_from_slice(&stat());
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
            let mut b = Vec::new();
            for _ in 0..n {
                int(&mut b, CHECK);
                b.push(0); // done
                int(&mut b, -1);
                string(&mut b, b"/");
                int(&mut b, 0); // version
            }
            int(&mut b, -1);
            b.push(1);
            int(&mut b, -1);
            let req = request(1, MULTI, &b);
            let mut r = Vec::new();
            for _ in 0..n {
                int(&mut r, -1); // error result
                r.push(0);
                int(&mut r, NONODE);
                int(&mut r, NONODE);
            }
            int(&mut r, -1);
            r.push(1);
            int(&mut r, -1);
            let rep = reply(1, 9, NONODE, &r);
            // Nested: an op of type multi inside a multi.
            let mut nb = Vec::new();
            int(&mut nb, MULTI);
            nb.push(0);
            int(&mut nb, -1);
            nb.extend_from_slice(&b[..b.len().min(170)]);
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
    }
    Ok(cap)
}
