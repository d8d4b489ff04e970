//! Unit tests on bytes from tests/captures/ensemble/ensemble.pcapng.

use super::*;
use crate::common::Direction;
use jute_encode::{JuteWriter, hex};

const FROM_LEADER: Direction = Direction::ToClient;
const FROM_LEARNER: Direction = Direction::ToServer;
use crate::zab::connection::{Connection, Framing};

/// Frame 93: FOLLOWERINFO from server 1.
const FOLLOWERINFO: &str =
    "0000000b0000000000000000000000140000000000000001000100000000000000000000ffffffff";
/// Frame 237: PROPOSAL zxid 0x100000003, setData /a "two" version 2, with a TxnDigest.
const PROPOSAL: &str = "0000000200000001000000030000003d0300001a03e40000000000020000000100000003000001a1fd7b9e7500000005000000022f610000000374776f00000001000000020000000207fa82a2ffffffff";
/// Frame 1107: SNAP.
const SNAP: &str = "0000000f0000000200000005ffffffffffffffff";

#[test]
fn followerinfo_has_learner_info() {
    let b = hex(FOLLOWERINFO);
    assert_eq!(packet_len(&b, 1 << 20), Need::Complete(b.len()));
    let (_, qp) = quorum_packet(&b).unwrap();
    assert_eq!(qp.ptype.val, ptype::FOLLOWERINFO);
    assert_eq!(qp.authinfo.val.len(), 0);
    let (rest, body) = body(qp.ptype.val, false, qp.data_input.unwrap()).unwrap();
    assert!(rest.fragment().is_empty());
    let Body::LearnerInfo(l) = body else {
        panic!("{body:?}")
    };
    assert_eq!(l.sid.val, 1);
    assert_eq!(l.protocol_version.unwrap().val, 0x10000);
    assert_eq!(l.config_version.unwrap().val, 0);
    assert_eq!(l.sid.off, 16);
}

#[test]
fn proposal_decodes_the_set_data_txn_and_digest() {
    let b = hex(PROPOSAL);
    let (_, qp) = quorum_packet(&b).unwrap();
    assert_eq!(qp.zxid.val, 0x1_0000_0003);
    let (rest, body) = body(qp.ptype.val, true, qp.data_input.unwrap()).unwrap();
    assert!(rest.fragment().is_empty());
    let Body::Proposal(p) = body else {
        panic!("{body:?}")
    };
    assert_eq!(p.header.ttype.val, crate::zookeeper::opcode::SET_DATA);
    assert_eq!(p.header.zxid.val, 0x1_0000_0003);
    let Some(Txn::SetData {
        path,
        data,
        version,
    }) = &p.txn
    else {
        panic!()
    };
    assert_eq!(path.val, Some(&b"/a"[..]));
    assert_eq!(data.val, Some(&b"two"[..]));
    assert_eq!(version.val, 1);
    assert_eq!(p.digest.unwrap().version.val, 2);
    assert_eq!(txn_path(p.txn.as_ref().unwrap()), Some(&b"/a"[..]));
}

#[test]
fn framing_needs_more_then_rejects_bogus_lengths() {
    let b = hex(PROPOSAL);
    assert_eq!(packet_len(&b[..10], 1 << 20), Need::AtLeast(16));
    assert_eq!(packet_len(&b[..20], 1 << 20), Need::AtLeast(16 + 0x3d + 4));
    let mut bad = b.clone();
    bad[12..16].copy_from_slice(JuteWriter::new().int(-5).bytes());
    assert_eq!(packet_len(&bad, 1 << 20), Need::Bogus);
    assert!(!plausible_packet(&bad, 1 << 20));
    assert!(plausible_packet(&b, 1 << 20));
}

#[test]
fn snapshot_follows_snap_until_the_signature() {
    let mut s = Connection::default();
    let snap = hex(SNAP);
    assert_eq!(
        s.framing(FROM_LEADER, 10, true, &snap, 1 << 20),
        Framing::Packet(20)
    );
    // The snapshot, in two segments, the second ending with the marker, then NEWLEADER.
    // The first segment is one chunk, even though its last bytes could begin the marker.
    let first = vec![0u8; 100];
    assert_eq!(
        s.framing(FROM_LEADER, 11, true, &first, 1 << 20),
        Framing::Snapshot(100)
    );
    let mut second = vec![7u8; 50];
    second.extend_from_slice(SNAPSHOT_END);
    let end = second.len();
    second.extend_from_slice(&hex(FOLLOWERINFO));
    assert_eq!(
        s.framing(FROM_LEADER, 12, true, &second, 1 << 20),
        Framing::Snapshot(end)
    );
    assert_eq!(
        s.framing(FROM_LEADER, 12, true, &second[end..], 1 << 20),
        Framing::Packet(40)
    );
    // Later passes give the same answers from the recorded chunks.
    assert_eq!(
        s.framing(FROM_LEADER, 12, false, &second, 1 << 20),
        Framing::Snapshot(end)
    );
    assert_eq!(
        s.framing(FROM_LEADER, 10, false, &snap, 1 << 20),
        Framing::Packet(20)
    );
    // The learner's direction is unaffected.
    assert_eq!(
        s.framing(FROM_LEARNER, 12, true, &hex(FOLLOWERINFO), 1 << 20),
        Framing::Packet(40)
    );
}

#[test]
fn capture_starting_inside_a_snapshot_resynchronises() {
    let mut s = Connection::default();
    let mut mid = vec![0x41u8; 30];
    mid.extend_from_slice(SNAPSHOT_END);
    let end = mid.len();
    mid.extend_from_slice(&hex(SNAP));
    assert_eq!(
        s.framing(FROM_LEADER, 1, true, &mid, 1 << 20),
        Framing::Unsynced(Some(end))
    );
    assert_eq!(
        s.framing(FROM_LEADER, 1, true, &mid[end..], 1 << 20),
        Framing::Packet(20)
    );
    // Garbage without a signature: the rest of the segment, then packets again.
    let mut s = Connection::default();
    assert_eq!(
        s.framing(FROM_LEADER, 1, true, &[0x41; 40], 1 << 20),
        Framing::Unsynced(None)
    );
    assert_eq!(
        s.framing(FROM_LEADER, 2, true, &hex(PROPOSAL), 1 << 20),
        Framing::Packet(hex(PROPOSAL).len())
    );
}

#[test]
fn learner_hello_heuristic() {
    let b = hex(FOLLOWERINFO);
    assert!(looks_like_learner_hello(&b));
    // Cut short, or any field off: not claimed.
    assert!(!looks_like_learner_hello(&b[..b.len() - 1]));
    let with = |off: usize, v: u8| {
        let mut m = b.clone();
        m[off] = v;
        m
    };
    assert!(looks_like_learner_hello(&with(3, 0x10)), "OBSERVERINFO");
    assert!(
        !looks_like_learner_hello(&with(3, 0x0c)),
        "UPTODATE is not a hello"
    );
    assert!(
        !looks_like_learner_hello(&with(11, 1)),
        "zxid counter not 0"
    );
    assert!(
        !looks_like_learner_hello(&with(16, 0x80)),
        "negative server id"
    );
    assert!(!looks_like_learner_hello(&with(26, 2)), "protocol version");
    assert!(!looks_like_learner_hello(&with(39, 5)), "authinfo count");
    assert!(!looks_like_learner_hello(&hex(SNAP)));
    assert!(!looks_like_learner_hello(&hex(PROPOSAL)));
}
