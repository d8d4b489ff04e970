//! The write path on the client's side: each write request and its reply are recorded in
//! the capture-wide `WriteIndex` on the first pass, and get a "Write path" subtree with the
//! quorum hops (and, on the reply, the time of each stage) that the capture holds.

use super::*;
use crate::writepath::{Hop, Write, WriteIndex};

/// The request (or reply) a PDU is on the write path, by session and xid.
pub(super) struct WriteKey {
    session: u64,
    xid: i32,
    reply: bool,
}

/// Which write a PDU belongs to, if it can reach the quorum: writes, syncs, closeSession,
/// and the handshake that created a session (cxid 0, as the createSession transaction).
pub(super) fn write_key(
    pdu: &parse::Pdu<'_>,
    kind: &PduKind,
    session: Option<u64>,
    created_session: bool,
) -> Option<WriteKey> {
    let session = session?;
    let quorum = |op: i32| Opcode::from_code(op).is_some_and(Opcode::may_reach_quorum);
    let (xid, reply) = match (pdu, kind) {
        (parse::Pdu::Request(Ok(r)), PduKind::Request { opcode, .. }) if quorum(*opcode) => {
            (r.header.xid.val, false)
        }
        (parse::Pdu::Reply(Ok(r)), PduKind::Reply { request: Some(l) }) if quorum(l.opcode) => {
            (r.header.xid.val, true)
        }
        (parse::Pdu::ConnectRequest(_), _) if created_session => (0, false),
        (parse::Pdu::ConnectResponse(_), _) if created_session => (0, true),
        _ => return None,
    };
    // 64-bit xids (ClickHouse Keeper) never reach a zab link, whose cxid has 32 bits.
    Some(WriteKey {
        session,
        xid: i32::try_from(xid).ok()?,
        reply,
    })
}

/// First pass: records the client's hop of a write.
pub(super) fn record(pkt: &Packet<'_>, key: &WriteKey, kind: &PduKind) {
    let Some(mut index) = pkt.capture_state::<WriteIndex>() else {
        return;
    };
    let hop = Hop {
        frame: pkt.frame(),
        time: pkt.time(),
        link: 0,
    };
    match kind {
        PduKind::Request { opcode, .. } => {
            index.client_request(key.session, key.xid, *opcode, hop);
        }
        // The handshake is recorded whole with its response: the session id is known
        // only then.
        PduKind::ConnectResponse {
            request: Some((frame, time)),
        } => {
            let request = Hop {
                frame: *frame,
                time: *time,
                link: 0,
            };
            index.client_request(key.session, 0, opcode::CREATE_SESSION, request);
            index.client_reply(key.session, 0, hop);
        }
        PduKind::Reply { .. } => index.client_reply(key.session, key.xid, hop),
        _ => {}
    }
}

/// The "Write path" subtree: the quorum hops of this PDU's write, when the capture holds
/// any; nothing for a write the capture shows only on the client's side.
pub(super) fn render(pkt: &Packet<'_>, t: &Tree<'_>, key: &WriteKey, voters: u32) {
    let Some(index) = pkt.capture_state::<WriteIndex>() else {
        return;
    };
    let frame = pkt.frame();
    let hop = |h: Option<Hop>| h.map(|h| h.frame);
    let write = index.by_request(key.session, key.xid).filter(|w| {
        // The key finds the newest write under it; this PDU must be that write's.
        let own = if key.reply {
            w.client_reply
        } else {
            w.client_request
        };
        hop(own) == Some(frame)
    });
    let Some(w) = write else {
        if index.full_at(frame) {
            t.add_expert(
                pkt,
                Ei::WritePathFull,
                0,
                0,
                &format!(
                    "More than {} writes in this capture: this one's path through the ensemble is not linked",
                    crate::writepath::MAX_WRITES
                ),
            );
        }
        return;
    };
    if !w.reached_quorum_port() {
        return;
    }
    let label = if t.is_shown() {
        summary(w)
    } else {
        String::new()
    };
    let (item, sub) = t.add_group(Hf::WritePath, 0, 0, Ett::WritePath, &label);
    item.generated();
    let frames = |hf: Hf, hops: &[Hop]| {
        for h in hops {
            sub.add_u32(hf, 0, 0, h.frame).generated();
        }
    };
    frames(Hf::QuorumRequestIn, &w.forwarded);
    if let Some(z) = w.zxid {
        sub.add_u64(Hf::QuorumZxid, 0, 0, z as u64).generated();
    }
    frames(Hf::QuorumProposalIn, &w.proposals);
    frames(Hf::QuorumInformIn, &w.informs);
    frames(Hf::QuorumAckIn, &w.acks);
    frames(Hf::QuorumCommitIn, &w.commits);
    frames(Hf::QuorumSyncIn, &w.syncs);
    if key.reply {
        let s = w.stages((voters > 0).then_some(voters as usize));
        if let Some(op) = w.opcode {
            stats::queue_write(pkt, op, &s);
        }
        for (hf, d) in [
            (Hf::QuorumTimeForward, s.forward),
            (Hf::QuorumTimePropose, s.propose),
            (Hf::QuorumTimeQuorum, s.quorum),
            (Hf::QuorumTimeCommit, s.commit),
            (Hf::QuorumTimeReply, s.reply),
        ] {
            if let Some(d) = d {
                sub.add_duration(hf, 0, 0, d).generated();
            }
        }
    }
}

/// "Write path: forwarded, zxid 0x100000005, 2 proposals, 2 ACKs, 2 commits".
fn summary(w: &Write) -> String {
    let mut s = String::from("Write path:");
    let mut part = |text: String| {
        if !s.ends_with(':') {
            s.push(',');
        }
        s.push(' ');
        s.push_str(&text);
    };
    if !w.forwarded.is_empty() {
        part("forwarded".to_string());
    }
    if let Some(z) = w.zxid {
        part(format!("zxid 0x{:x}", z as u64));
    }
    let count = |n: usize, one: &str, many: &str| match n {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    };
    for (n, one, many) in [
        (w.proposals.len(), "proposal", "proposals"),
        (w.informs.len(), "inform", "informs"),
        (w.acks.len(), "ACK", "ACKs"),
        (w.commits.len(), "commit", "commits"),
        (w.syncs.len(), "sync", "syncs"),
    ] {
        if n > 0 {
            part(count(n, one, many));
        }
    }
    s
}
