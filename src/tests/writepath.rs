//! Unit tests of the write-path index: the hops of a write in the order a capture shows
//! them, partial captures, and the caps.

use super::*;

const SID: u64 = 0x0100_0000_0000_0001;
const CREATE: i32 = 1;
/// The ensemble's scope (its leader's endpoint).
const E: u64 = 7;

fn hop(frame: u32, ms: i64, link: u32) -> Hop {
    Hop {
        frame,
        time: ms * 1_000_000,
        link,
    }
}

/// A create sent to a follower (link 1) of a 3-voter ensemble (followers on links 1 and 2).
fn through_a_follower(ix: &mut WriteIndex) {
    ix.client_request(SID, 7, CREATE, hop(10, 0, 0));
    ix.forwarded(SID, 7, CREATE, hop(11, 1, 1));
    ix.proposed(E, SID, 7, 0x1_0000_0005, hop(12, 3, 1), false);
    ix.proposed(E, SID, 7, 0x1_0000_0005, hop(13, 3, 2), false);
    ix.acked(E, 0x1_0000_0005, hop(14, 6, 2));
    ix.acked(E, 0x1_0000_0005, hop(15, 7, 1));
    ix.committed(E, 0x1_0000_0005, hop(16, 8, 1));
    ix.committed(E, 0x1_0000_0005, hop(17, 8, 2));
    ix.client_reply(SID, 7, hop(18, 12, 0));
}

#[test]
fn a_write_through_a_follower_links_every_hop() {
    let mut ix = WriteIndex::default();
    through_a_follower(&mut ix);
    assert_eq!(ix.len(), 1);
    let w = ix.by_request(SID, 7).unwrap();
    assert_eq!(ix.by_zxid(E, 0x1_0000_0005), Some(w));
    assert_eq!(w.opcode, Some(CREATE));
    assert_eq!(w.client_request.map(|h| h.frame), Some(10));
    assert_eq!(w.client_reply.map(|h| h.frame), Some(18));
    let frames = |v: &[Hop]| v.iter().map(|h| h.frame).collect::<Vec<_>>();
    assert_eq!(frames(&w.forwarded), [11]);
    assert_eq!(frames(&w.proposals), [12, 13]);
    assert_eq!(frames(&w.acks), [14, 15]);
    assert_eq!(frames(&w.commits), [16, 17]);
    // Three voters: the first follower ACK makes a majority with the leader's own.
    assert_eq!(w.quorum_ack(None).map(|h| h.frame), Some(14));
    let ms = |n: i64| Some(n * 1_000_000);
    assert_eq!(
        w.stages(None),
        Stages {
            forward: ms(1),
            propose: ms(2),
            quorum: ms(3),
            commit: ms(2),
            // The COMMIT on the client's server's link (frame 16) -> the reply.
            reply: ms(4),
        }
    );
    // Five voters (a preference): the second follower ACK; there is none more here.
    assert_eq!(w.quorum_ack(Some(5)).map(|h| h.frame), Some(15));
    assert_eq!(w.quorum_ack(Some(7)), None);
}

#[test]
fn a_write_to_the_leader_has_no_forwarding_stage() {
    let mut ix = WriteIndex::default();
    ix.client_request(SID, 3, CREATE, hop(1, 0, 0));
    ix.proposed(E, SID, 3, 9, hop(2, 1, 1), false);
    ix.acked(E, 9, hop(3, 2, 1));
    ix.committed(E, 9, hop(4, 3, 1));
    ix.client_reply(SID, 3, hop(5, 5, 0));
    let s = ix.by_request(SID, 3).unwrap().stages(None);
    assert_eq!(s.forward, None);
    assert_eq!(s.propose, Some(1_000_000));
    assert_eq!(s.reply, Some(2_000_000));
}

#[test]
fn partial_captures_link_what_they_hold_and_invent_nothing() {
    // Only the client port: the write is known, with no quorum hop.
    let mut ix = WriteIndex::default();
    ix.client_request(SID, 1, CREATE, hop(1, 0, 0));
    ix.client_reply(SID, 1, hop(2, 1, 0));
    let w = ix.by_request(SID, 1).unwrap();
    assert!(!w.reached_quorum_port());
    assert_eq!(w.stages(None), Stages::default());

    // Only the quorum port, starting mid-ensemble: an ACK and a COMMIT whose PROPOSAL came
    // before the capture link to nothing; the next write links among its own hops.
    let mut ix = WriteIndex::default();
    ix.acked(E, 4, hop(1, 0, 1));
    ix.committed(E, 4, hop(2, 0, 1));
    assert!(ix.is_empty());
    ix.proposed(E, SID, 2, 5, hop(3, 1, 1), false);
    ix.acked(E, 5, hop(4, 2, 1));
    let w = ix.by_zxid(E, 5).unwrap();
    assert_eq!(w.acks.len(), 1);
    assert_eq!(w.client_request, None);
    // A reply whose request was never recorded is not linked.
    ix.client_reply(SID, 9, hop(5, 3, 0));
    assert_eq!(ix.by_request(SID, 9), None);
}

#[test]
fn cxid_zero_is_the_sessions_creation_and_later_its_expiry() {
    let mut ix = WriteIndex::default();
    // createSession: forwarded and proposed before the client's handshake reply.
    ix.forwarded(SID, 0, -10, hop(1, 0, 1));
    ix.proposed(E, SID, 0, 20, hop(2, 1, 1), false);
    ix.committed(E, 20, hop(3, 2, 1));
    ix.client_request(SID, 0, -10, hop(0, 0, 0));
    ix.client_reply(SID, 0, hop(4, 3, 0));
    let w = ix.by_request(SID, 0).unwrap();
    assert_eq!(
        (w.zxid, w.client_reply.map(|h| h.frame)),
        (Some(20), Some(4))
    );
    // The leader closes the expired session with cxid 0 too: a new write, the old one kept.
    ix.proposed(E, SID, 0, 90, hop(50, 60, 1), false);
    assert_eq!(ix.len(), 2);
    assert_eq!(
        ix.by_zxid(E, 20)
            .and_then(|w| w.client_reply)
            .map(|h| h.frame),
        Some(4)
    );
    assert_eq!(ix.by_zxid(E, 90).map(|w| w.client_request), Some(None));
}

#[test]
fn a_sync_is_answered_on_its_link() {
    let mut ix = WriteIndex::default();
    ix.client_request(SID, 4, 9, hop(1, 0, 0));
    ix.forwarded(SID, 4, 9, hop(2, 1, 3));
    ix.synced(SID, 4, hop(3, 2, 3));
    ix.client_reply(SID, 4, hop(4, 4, 0));
    let w = ix.by_request(SID, 4).unwrap();
    assert_eq!(w.syncs.len(), 1);
    assert_eq!(w.stages(None).reply, Some(2_000_000));
}

#[test]
fn the_index_and_each_writes_hops_are_capped() {
    let mut ix = WriteIndex::default();
    for x in 0..MAX_WRITES as i32 {
        ix.client_request(SID, x, CREATE, hop(1, 0, 0));
    }
    assert!(!ix.full_at(u32::MAX));
    ix.client_request(SID, -5, CREATE, hop(7, 0, 0));
    assert_eq!(ix.len(), MAX_WRITES);
    assert!(ix.full_at(7) && !ix.full_at(6));

    let mut ix = WriteIndex::default();
    ix.proposed(E, SID, 1, 3, hop(1, 0, 1), false);
    for f in 0..(MAX_HOPS as u32 + 5) {
        ix.acked(E, 3, hop(10 + f, 1, 1));
    }
    let w = ix.by_zxid(E, 3).unwrap();
    assert_eq!(w.acks.len(), MAX_HOPS);
    assert!(w.hops_truncated);
}

#[test]
fn a_frame_seen_again_is_not_a_second_hop() {
    let mut ix = WriteIndex::default();
    through_a_follower(&mut ix);
    ix.acked(E, 0x1_0000_0005, hop(14, 6, 2));
    assert_eq!(ix.by_request(SID, 7).unwrap().acks.len(), 2);
}

#[test]
fn a_learner_synchronising_after_diff_replays_committed_proposals_off_the_path() {
    let mut ix = WriteIndex::default();
    through_a_follower(&mut ix);
    // Later a third learner (link 3) re-joins: the leader replays the committed log.
    ix.proposed(E, SID, 7, 0x1_0000_0005, hop(90, 900, 3), false);
    ix.committed(E, 0x1_0000_0005, hop(90, 900, 3));
    ix.acked(E, 0x1_0000_0005, hop(95, 905, 3));
    let w = ix.by_request(SID, 7).unwrap();
    assert_eq!(
        (w.proposals.len(), w.acks.len(), w.commits.len()),
        (2, 2, 2)
    );
}

#[test]
fn acks_and_commits_answer_a_proposal_on_their_own_link() {
    let mut ix = WriteIndex::default();
    ix.proposed(E, SID, 1, 3, hop(1, 0, 1), false);
    ix.acked(E, 3, hop(2, 1, 2));
    ix.committed(E, 3, hop(3, 1, 2));
    let w = ix.by_zxid(E, 3).unwrap();
    assert!(w.acks.is_empty() && w.commits.is_empty());
}

#[test]
fn zxids_of_two_ensembles_do_not_meet() {
    let mut ix = WriteIndex::default();
    ix.proposed(1, SID, 1, 0x1_0000_0001, hop(1, 0, 1), false);
    ix.proposed(2, SID + 1, 1, 0x1_0000_0001, hop(2, 0, 2), false);
    ix.acked(2, 0x1_0000_0001, hop(3, 1, 2));
    assert_eq!(ix.by_zxid(1, 0x1_0000_0001).map(|w| w.acks.len()), Some(0));
    assert_eq!(
        ix.by_zxid(2, 0x1_0000_0001).map(|w| w.session),
        Some(SID + 1)
    );
}
