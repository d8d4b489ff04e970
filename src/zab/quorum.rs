//! The write path on the quorum's side: a learner's REQUEST, the leader's PROPOSAL (INFORM
//! to observers), the followers' ACKs, the COMMIT and a sync's SYNC are recorded in the
//! capture-wide `WriteIndex` on the first pass; every pass links them to each other on the
//! same link, and to the client's request and reply.

use super::connection::Connection;
use super::fields::{Ei, Hf};
use super::parse::{Body, QuorumPacket, ptype};
use crate::common::PduKey;
use crate::epan::{Packet, Tree};
use crate::writepath::{Hop, Write, WriteIndex};
use crate::zookeeper::opcode;

/// What a packet is on a write's path, and how the index knows it.
enum Role {
    /// A learner's REQUEST (session, cxid).
    Forwarded(u64, i32),
    /// A PROPOSAL or INFORM: (session, cxid) of the request, and the zxid.
    Proposed {
        session: u64,
        cxid: i32,
        zxid: i64,
        inform: bool,
    },
    Acked(i64),
    Committed(i64),
    /// The leader's SYNC, answering the forwarded sync (session, cxid).
    Synced(u64, i32),
}

fn role(
    conn: &mut Connection,
    key: PduKey,
    first_pass: bool,
    qp: &QuorumPacket<'_>,
    body: &Body<'_>,
    from_leader: bool,
) -> Option<Role> {
    let proposal = |p: &super::parse::Proposal<'_>, inform| Role::Proposed {
        session: p.header.client_id.val as u64,
        cxid: p.header.cxid.val,
        zxid: p.header.zxid.val,
        inform,
    };
    Some(match (qp.ptype.val, body) {
        (ptype::REQUEST, Body::Request(r)) if !from_leader => {
            if first_pass && r.rtype.val == opcode::SYNC {
                conn.sync_forwarded(r.session_id.val as u64, r.cxid.val);
            }
            Role::Forwarded(r.session_id.val as u64, r.cxid.val)
        }
        (ptype::PROPOSAL, Body::Proposal(p)) if from_leader => proposal(p, false),
        (ptype::INFORM, Body::Proposal(p)) if from_leader => proposal(p, true),
        (ptype::INFORMANDACTIVATE, Body::InformAndActivate { proposal: p, .. }) if from_leader => {
            proposal(p, true)
        }
        (ptype::ACK, _) if !from_leader => Role::Acked(qp.zxid.val),
        (ptype::COMMIT | ptype::COMMITANDACTIVATE, _) if from_leader => {
            Role::Committed(qp.zxid.val)
        }
        (ptype::SYNC, _) if from_leader => {
            let (session, cxid) = conn.sync_answered(key, first_pass)?;
            Role::Synced(session, cxid)
        }
        _ => return None,
    })
}

/// Records the packet on the first pass and links it on every pass.
pub(super) fn write_path(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    (conn, key): (&mut Connection, PduKey),
    qp: &QuorumPacket<'_>,
    body: &Body<'_>,
    from_leader: bool,
) {
    let first_pass = !pkt.visited();
    let Some(role) = role(conn, key, first_pass, qp, body, from_leader) else {
        return;
    };
    let Some(mut index) = pkt.capture_state::<WriteIndex>() else {
        return;
    };
    if conn.link == 0 {
        conn.link = index.new_link();
        conn.ensemble = ensemble_scope(pkt, from_leader);
    }
    let scope = conn.ensemble;
    let hop = Hop {
        frame: pkt.frame(),
        time: pkt.time(),
        link: conn.link,
    };
    if first_pass {
        match role {
            Role::Forwarded(s, c) => index.forwarded(s, c, body_rtype(body), hop),
            Role::Proposed {
                session,
                cxid,
                zxid,
                inform,
            } => index.proposed(scope, session, cxid, zxid, hop, inform),
            Role::Acked(z) => index.acked(scope, z, hop),
            Role::Committed(z) => index.committed(scope, z, hop),
            Role::Synced(s, c) => index.synced(s, c, hop),
        }
    }
    let has = |hops: &[Hop]| hops.contains(&hop);
    let write = match role {
        Role::Forwarded(s, c) => index.by_request(s, c).filter(|w| has(&w.forwarded)),
        Role::Proposed { zxid, .. } => index
            .by_zxid(scope, zxid)
            .filter(|w| has(&w.proposals) || has(&w.informs)),
        Role::Acked(z) => index.by_zxid(scope, z).filter(|w| has(&w.acks)),
        Role::Committed(z) => index.by_zxid(scope, z).filter(|w| has(&w.commits)),
        Role::Synced(s, c) => index.by_request(s, c).filter(|w| has(&w.syncs)),
    };
    let Some(w) = write else {
        if index.full_at(hop.frame) && !matches!(role, Role::Acked(_) | Role::Committed(_)) {
            t.add_expert(
                pkt,
                Ei::WritePathFull,
                0,
                0,
                &format!(
                    "More than {} writes in this capture: this packet's write path is not linked",
                    crate::writepath::MAX_WRITES
                ),
            );
        }
        return;
    };
    links(t, w, &role, hop.link);
}

/// The ensemble a link belongs to: its leader's address and quorum port.
fn ensemble_scope(pkt: &Packet<'_>, from_leader: bool) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let (addr, port) = if from_leader {
        (pkt.net_addr(false), pkt.src_port())
    } else {
        (pkt.net_addr(true), pkt.dst_port())
    };
    let mut h = DefaultHasher::new();
    (addr, port).hash(&mut h);
    h.finish()
}

fn body_rtype(body: &Body<'_>) -> i32 {
    match body {
        Body::Request(r) => r.rtype.val,
        _ => i32::MIN,
    }
}

/// The generated links of one packet: to the client's request and reply, and to the
/// packets of the same write on the same link.
fn links(t: &Tree<'_>, w: &Write, role: &Role, link: u32) {
    let on_link = |hf: Hf, hops: &[crate::writepath::Hop]| {
        for h in hops.iter().filter(|h| h.link == link) {
            t.add_u32(hf, 0, 0, h.frame).generated();
        }
    };
    if let Some(h) = w.client_request {
        t.add_u32(Hf::ClientRequestIn, 0, 0, h.frame).generated();
    }
    if let Some(h) = w.client_reply {
        t.add_u32(Hf::ClientReplyIn, 0, 0, h.frame).generated();
    }
    match role {
        Role::Proposed { .. } => {
            on_link(Hf::AckIn, &w.acks);
            on_link(Hf::CommitIn, &w.commits);
        }
        Role::Acked(_) | Role::Committed(_) => {
            on_link(Hf::ProposalIn, &w.proposals);
            on_link(Hf::ProposalIn, &w.informs);
        }
        Role::Forwarded(..) | Role::Synced(..) => {}
    }
}
