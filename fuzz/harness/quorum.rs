//! Fuzz harnesses for the ZooKeeper quorum protocols: `zkh2::zab::{parse, session}` (the
//! learner protocol on 2888) and `zkh2::zkelection::{parse, session}` (leader election on
//! 3888). A harness panics when an invariant breaks.

use super::Script;
use zkh2::common::PduKey as ElectionKey;
use zkh2::common::{At, Direction};
use zkh2::jute::input;
use zkh2::zab::connection::{Connection as ZabConnection, Framing as ZabFraming};
use zkh2::zab::parse::{self as zab, Need as ZabNeed, ptype};
use zkh2::zkelection::connection::Connection as ElectionConnection;
use zkh2::zkelection::parse::{self as election, Need as ElectionNeed};

/// A small maximum, so that the length checks are reached, and the dissector's default.
const MAXES: [usize; 2] = [4096, 16 * 1024 * 1024];

fn within<T>(a: &At<T>, len: usize, what: &str) {
    assert!(
        a.off.checked_add(a.len).is_some_and(|e| e <= len),
        "{what} {}+{} outside a PDU of {len} bytes",
        a.off,
        a.len
    );
}

/// Byte 0: bit 0 from the leader, bit 1 the small maximum; the rest is one QuorumPacket
/// (or anything). Invariants: no panic; `packet_len` says `Complete(n)` only for an `n` at
/// least the 20 bytes of an empty packet, and when `n` bytes are there `quorum_packet`
/// parses exactly them with every span inside; the data body's spans lie inside the data;
/// the snapshot helpers stay within the bytes. Then the same bytes, cut into segments at
/// the positions the script's tail gives, go through the session's framing, first pass
/// and later pass alike.
pub fn zab_parse(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let from_leader = mode & 1 != 0;
    let max = MAXES[usize::from(mode >> 1 & 1)];
    zab_packet(rest, from_leader, max);
    // Every type's body parser on the same data.
    if let Some(d) = rest.get(..rest.len().min(4096)) {
        for kind in -1..=20 {
            zab_body(kind, from_leader, d);
        }
    }
    zab_framing(rest, from_leader, max, mode >> 2);
}

fn zab_packet(b: &[u8], from_leader: bool, max: usize) {
    let _ = zab::plausible_packet(b, max);
    // The heuristic claims only what frames as a whole packet.
    if zab::looks_like_learner_hello(b) {
        assert!(
            matches!(zab::packet_len(b, max.max(20)), ZabNeed::Complete(n) if n <= b.len()),
            "heuristic claimed a packet that does not frame"
        );
    }
    if let Some(n) = zab::snapshot_len(b) {
        assert!(n <= b.len() && n >= zab::SIGNATURE.len());
    }
    let c = zab::snapshot_chunk_len(b);
    assert!(
        c <= b.len().max(zab::SNAPSHOT_END.len()),
        "snapshot chunk beyond the bytes"
    );
    match zab::packet_len(b, max) {
        ZabNeed::Complete(n) => {
            assert!(n >= 20, "a QuorumPacket of {n} bytes");
            if let Some(p) = b.get(..n) {
                let (rest, qp) = match zab::quorum_packet(p) {
                    Ok(r) => r,
                    Err(e) => panic!("framed packet does not parse: {e:?}"),
                };
                assert!(rest.fragment().is_empty(), "framed packet not used up");
                within(&qp.ptype, n, "type");
                within(&qp.zxid, n, "zxid");
                within(&qp.data, n, "data");
                within(&qp.authinfo, n, "authinfo");
                if let Some(d) = qp.data_input {
                    assert!(d.location_offset() + d.fragment().len() <= n);
                    let (after, body) = match zab::body(qp.ptype.val, from_leader, d) {
                        Ok(r) => r,
                        Err(_) => return,
                    };
                    let end = d.location_offset() + d.fragment().len();
                    assert!(
                        after.location_offset() <= end,
                        "body parse ran past the data"
                    );
                    let _ = format!("{body:?}");
                    if let zab::Body::Proposal(pr) = &body
                        && let Some(t) = &pr.txn
                    {
                        let _ = zab::txn_path(t);
                    }
                }
            }
        }
        ZabNeed::AtLeast(n) => assert!(
            n > b.len() || n >= 16,
            "asks for {n} with {} bytes",
            b.len()
        ),
        ZabNeed::Bogus => {}
    }
}

fn zab_body(kind: i32, from_leader: bool, d: &[u8]) {
    let i = input(d);
    if let Ok((after, body)) = zab::body(kind, from_leader, i) {
        assert!(after.location_offset() <= d.len());
        let _ = format!("{body:?}");
    }
    if let Ok((after, h)) = zab::txn_header(i) {
        assert!(after.location_offset() <= d.len());
        if let Some(Ok((after, t))) = zab::txn_record(h.ttype.val, after) {
            assert!(after.location_offset() <= d.len());
            let _ = zab::txn_path(&t);
        }
    }
}

/// The session's framing over the bytes cut into segments of `1 + (seed * k) % 97` bytes,
/// fed the way `tcp_dissect_pdus` does; each answer must be the same on a later pass.
fn zab_framing(b: &[u8], from_leader: bool, max: usize, seed: u8) {
    let dir = if from_leader {
        Direction::ToClient
    } else {
        Direction::ToServer
    };
    let mut s = ZabConnection::default();
    let mut seen: Vec<(
        u32,
        Vec<u8>,
        ZabFraming,
        Option<zkh2::zab::connection::Chunk>,
    )> = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = 0usize;
    let mut frame = 0u32;
    while pos < b.len() {
        frame += 1;
        let step = 1 + (usize::from(seed) * 31 + frame as usize * 7) % 97;
        let end = (pos + step).min(b.len());
        buf.extend_from_slice(&b[pos..end]);
        pos = end;
        while buf.len() >= 16 {
            let f = s.framing(dir, frame, true, &buf, max);
            let take = match f {
                ZabFraming::Packet(n) | ZabFraming::Snapshot(n) | ZabFraming::Unsynced(Some(n)) => {
                    n
                }
                ZabFraming::Bogus | ZabFraming::Unsynced(None) => buf.len(),
            };
            let take = take.max(16);
            if take > buf.len() {
                break;
            }
            let pdu: Vec<u8> = buf.drain(..take).collect();
            let chunk = s.chunk(frame, &pdu);
            if chunk.is_none() {
                zab_packet(&pdu, from_leader, max);
            }
            seen.push((frame, pdu, f, chunk));
        }
    }
    for (frame, pdu, _, chunk) in &seen {
        assert_eq!(
            s.chunk(*frame, pdu),
            *chunk,
            "chunk of frame {frame} changed"
        );
        let _ = s.framing(dir, *frame, false, pdu, max);
    }
    let _ = ptype::name(0);
}

/// Byte 0: bits 0-1 pick the election's direction pattern; the rest is a stream of
/// election PDUs. Invariants: no panic; `pdu_len` gives lengths within the protocol's
/// bounds; a complete initial message or notification parses with every span inside; the
/// session's decisions are stored and read back unchanged.
pub fn zkelection_parse(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut s = ElectionConnection::default();
    let mut decided = Vec::new();
    let mut script = Script(rest);
    let mut frame = 0u32;
    let mut buf: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    while let Some(flags) = script.byte() {
        frame += 1;
        let n = usize::from(script.byte().unwrap_or(0)) << (flags >> 6);
        let to_initiator = (flags ^ mode) & 1 != 0;
        let (src, dst) = if to_initiator {
            (3888, 40000)
        } else {
            (40000, 3888)
        };
        let match_port = if mode & 2 != 0 { 3888 } else { 0 };
        let dir = s.direction(src, dst, match_port);
        let side = dir.index();
        buf[side].extend_from_slice(script.bytes(n));
        let mut index = 0;
        while buf[side].len() >= 4 {
            let b = &buf[side];
            let need = election::pdu_len(b);
            let len = match need {
                ElectionNeed::Initial(n) => {
                    assert!((8..=20 + election::MAX_ADDRESS).contains(&n));
                    n
                }
                ElectionNeed::Message(n) => {
                    assert!((4..=4 + election::MAX_MESSAGE).contains(&n));
                    n
                }
                ElectionNeed::Bogus => b.len(),
            };
            if len > b.len() {
                break;
            }
            // The heuristic claims only a whole initial message.
            if election::looks_like_initial(b) {
                assert!(
                    matches!(need, ElectionNeed::Initial(n) if n > 20 && n <= b.len()),
                    "heuristic claimed a cut or non-initial message"
                );
            }
            let pdu: Vec<u8> = buf[side].drain(..len).collect();
            let key = ElectionKey { frame, index };
            index += 1;
            let initial = match election::pdu_len(&pdu) {
                ElectionNeed::Initial(n) if n <= pdu.len() => {
                    let r = election::initial(&pdu);
                    if let Ok((_, i)) = &r {
                        within(&i.sid, pdu.len(), "sid");
                        if let Some(a) = &i.address {
                            within(a, pdu.len(), "address");
                        }
                        if let Some(v) = &i.protocol_version {
                            within(v, pdu.len(), "version");
                        }
                    }
                    r.ok().map(|(_, i)| i.sid.val)
                }
                ElectionNeed::Message(_) => {
                    if let Ok((rest, m)) = election::notification(&pdu) {
                        assert!(rest.location_offset() <= pdu.len());
                        for a in [&m.len, &m.state] {
                            within(a, pdu.len(), "int");
                        }
                        for a in [&m.leader, &m.zxid, &m.election_epoch] {
                            within(a, pdu.len(), "long");
                        }
                        if let Some(c) = &m.config {
                            within(c, pdu.len(), "config");
                        }
                        let _ = election::state_name(m.state.val);
                    }
                    None
                }
                _ => None,
            };
            let d = s.classify(key, dir, initial);
            assert_eq!(s.classify(key, dir, None), d, "classify not stored");
            decided.push((key, d));
        }
    }
    for (key, d) in decided {
        assert_eq!(s.decision(key), Some(d), "decision for {key:?} changed");
    }
}
