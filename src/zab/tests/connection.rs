//! Unit tests of `zab::connection`: where a side starts, and the snapshot stream's chunks.

use super::*;
use crate::common::Direction;
use jute_encode::JuteWriter;

const FROM_LEADER: Direction = Direction::ToClient;
const FROM_LEARNER: Direction = Direction::ToServer;

/// A QuorumPacket with null data and authinfo: 20 bytes.
fn packet(t: i32, zxid: i64) -> Vec<u8> {
    JuteWriter::new().int(t).long(zxid).null().null().finish()
}

#[test]
fn a_side_captured_from_its_start_begins_with_a_packet_whatever_it_looks_like() {
    // An unknown type would make a side of unknown start unsynchronised.
    let odd = packet(99, 0);
    let mut s = Connection::default();
    assert_eq!(
        s.framing_at(FROM_LEADER, 1, true, &odd, 1 << 20, || StreamStart::At(0)),
        Framing::Packet(20)
    );
    let mut s = Connection::default();
    assert_eq!(
        s.framing_at(FROM_LEADER, 1, true, &odd, 1 << 20, || StreamStart::NoSyn),
        Framing::Unsynced(None)
    );
}

#[test]
fn a_head_cut_short_waits_except_inside_the_snapshot() {
    let mut s = Connection::default();
    assert!(s.needs_header(FROM_LEADER, 1, true, &[0, 0, 0]));
    assert!(!s.needs_header(FROM_LEADER, 1, true, &packet(5, 1)));
    // SNAP switches the leader's side to the snapshot stream: any piece is taken.
    let snap = packet(ptype::SNAP, 7);
    assert_eq!(
        s.framing(FROM_LEADER, 2, true, &snap, 1 << 20),
        Framing::Packet(20)
    );
    assert!(!s.needs_header(FROM_LEADER, 3, true, &[1, 2, 3]));
    assert!(s.needs_header(FROM_LEARNER, 3, true, &[1, 2, 3]));
}

#[test]
fn the_snapshot_end_marker_is_found_when_two_chunks_share_it() {
    let mut s = Connection::default();
    let snap = packet(ptype::SNAP, 7);
    s.framing(FROM_LEADER, 1, true, &snap, 1 << 20);
    let mut first = vec![0x54; 40];
    first.extend_from_slice(&parse::SNAPSHOT_END[..17]);
    let mut second = parse::SNAPSHOT_END[17..].to_vec();
    second.extend_from_slice(&packet(10, 8));
    // The whole first segment is one chunk: no tail is held back.
    assert_eq!(
        s.framing(FROM_LEADER, 2, true, &first, 1 << 20),
        Framing::Snapshot(first.len())
    );
    assert_eq!(s.chunk(2, &first), Some(Chunk::Snapshot));
    // The marker's last 2 bytes end the snapshot; then packets again.
    assert_eq!(
        s.framing(FROM_LEADER, 3, true, &second, 1 << 20),
        Framing::Snapshot(2)
    );
    assert_eq!(s.chunk(3, &second[..2]), Some(Chunk::SnapshotEnd));
    assert_eq!(
        s.framing(FROM_LEADER, 3, true, &second[2..], 1 << 20),
        Framing::Packet(20)
    );
    // Later passes replay the recorded lengths.
    assert_eq!(
        s.framing(FROM_LEADER, 2, false, &first, 1 << 20),
        Framing::Snapshot(first.len())
    );
    assert_eq!(
        s.framing(FROM_LEADER, 3, false, &second, 1 << 20),
        Framing::Snapshot(2)
    );
}
