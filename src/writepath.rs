//! Following a write through the ensemble. Pure Rust, no Wireshark.
//!
//! A client's write crosses up to four kinds of connection, and the protocol names every hop
//! exactly (protocol doc §3.13, `Learner.request`, `Leader.propose`):
//!
//! - the client's request on its server's client port, by (session, xid);
//! - a learner's `REQUEST`, when that server is a follower or an observer, carrying the
//!   session, the client's xid (cxid) and the type;
//! - the leader's `PROPOSAL` to each follower (`INFORM` to each observer), whose TxnHeader
//!   carries the session, the cxid and the new zxid;
//! - each follower's `ACK` and the leader's `COMMIT`, by zxid (a `sync` gets a `SYNC`
//!   instead, in order on the learner's link);
//!
//! zxids are unique within one ensemble only (two young ensembles both count in epoch 1), so
//! they are looked up within the ensemble's *scope*: the leader's address and quorum port,
//! which every quorum link of the ensemble shares.
//! - the client's reply, by (session, xid) again.
//!
//! [`WriteIndex`] is capture-wide: the `zookeeper` and `zab` dissectors fill it on the first
//! pass, in capture order, and read it on every pass, so each hop can link to all the others
//! whatever order the packets are clicked in. Nothing is linked on a guess: a hop joins a
//! write only through the session and cxid, or through the zxid of a proposal it already
//! holds. A capture that holds part of the path (only the quorum port, only the client
//! port, or a start mid-ensemble) links what it holds.

use crate::common::{FastMap, Nanos};

/// Writes tracked per capture; beyond this, new writes are not linked (and say so).
pub const MAX_WRITES: usize = 250_000;

/// Hops of one kind kept per write (one per follower or observer link: ensembles have a
/// handful of servers; a hostile capture must not grow a write without bound).
pub const MAX_HOPS: usize = 32;

/// One packet on the path: where it is, when, and on which quorum link (0 on the client's
/// side). Links tell the hops of one follower apart from another's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hop {
    pub frame: u32,
    pub time: Nanos,
    pub link: u32,
}

/// What the capture shows of one write (or sync).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Write {
    pub session: u64,
    pub cxid: i32,
    /// The client's opcode, from its request or from the learner's REQUEST.
    pub opcode: Option<i32>,
    pub client_request: Option<Hop>,
    pub client_reply: Option<Hop>,
    /// The learner's REQUEST that forwarded it to the leader.
    pub forwarded: Vec<Hop>,
    /// The transaction's zxid, from a PROPOSAL or INFORM.
    pub zxid: Option<i64>,
    pub proposals: Vec<Hop>,
    pub informs: Vec<Hop>,
    pub acks: Vec<Hop>,
    pub commits: Vec<Hop>,
    /// The leader's SYNC answering a learner's forwarded sync.
    pub syncs: Vec<Hop>,
    /// Some hop beyond `MAX_HOPS` of its kind was not kept.
    pub hops_truncated: bool,
}

/// The time each stage of a write took, where the capture holds both of its ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stages {
    /// Client request -> the learner's REQUEST.
    pub forward: Option<Nanos>,
    /// The REQUEST (or, on the leader, the client's request) -> the first PROPOSAL.
    pub propose: Option<Nanos>,
    /// First PROPOSAL -> the ACK that completes a majority with the leader's own.
    pub quorum: Option<Nanos>,
    /// That ACK -> the first COMMIT.
    pub commit: Option<Nanos>,
    /// The commit reaching the client's server (its COMMIT, INFORM or SYNC; the first
    /// COMMIT when the server is the leader) -> the client's reply.
    pub reply: Option<Nanos>,
}

impl Write {
    fn new(session: u64, cxid: i32) -> Write {
        Write {
            session,
            cxid,
            ..Write::default()
        }
    }

    /// True when the capture holds at least one quorum hop of this write.
    pub fn reached_quorum_port(&self) -> bool {
        !self.forwarded.is_empty()
            || !self.proposals.is_empty()
            || !self.informs.is_empty()
            || !self.syncs.is_empty()
    }

    /// The ACK that makes a majority: with `voters` voting servers (the leader acks its
    /// own proposal without a packet), the `voters / 2`-th follower ACK in capture order.
    /// `voters` is a preference, or else the leader plus one follower per PROPOSAL link.
    pub fn quorum_ack(&self, voters: Option<usize>) -> Option<Hop> {
        let voters = voters.unwrap_or(self.proposals.len() + 1);
        let needed = voters / 2;
        if needed == 0 {
            return None;
        }
        self.acks.get(needed - 1).copied()
    }

    /// The server the client talks to: its learner link, or `None` for the leader.
    fn client_link(&self) -> Option<u32> {
        self.forwarded.first().map(|h| h.link)
    }

    /// When the commit reached the client's server.
    fn committed_at_client_server(&self) -> Option<Hop> {
        match self.client_link() {
            Some(link) => self
                .commits
                .iter()
                .chain(&self.informs)
                .chain(&self.syncs)
                .find(|h| h.link == link)
                .copied(),
            None => self.commits.first().copied(),
        }
    }

    pub fn stages(&self, voters: Option<usize>) -> Stages {
        let span = |a: Option<Hop>, b: Option<Hop>| match (a, b) {
            (Some(a), Some(b)) => Some(b.time.saturating_sub(a.time)),
            _ => None,
        };
        let forwarded = self.forwarded.first().copied();
        let proposed = self.proposals.first().or(self.informs.first()).copied();
        let quorum = self.quorum_ack(voters);
        Stages {
            forward: span(self.client_request, forwarded),
            propose: span(forwarded.or(self.client_request), proposed),
            quorum: span(proposed, quorum),
            commit: span(quorum, self.commits.first().copied()),
            reply: span(self.committed_at_client_server(), self.client_reply),
        }
    }
}

/// The capture-wide index of writes. See the module documentation.
#[derive(Debug, Default)]
pub struct WriteIndex {
    writes: Vec<Write>,
    by_request: FastMap<(u64, i32), usize>,
    /// (ensemble scope, zxid) -> write.
    by_zxid: FastMap<(u64, i64), usize>,
    /// Frame from which the index was full: a PDU from there on that finds no write may
    /// have lost its link to the cap.
    full_since: Option<u32>,
    links: u32,
}

/// Adds a hop unless the frame is already there (one frame is dissected once per pass, but
/// a write can be found again through the same frame).
fn push(hops: &mut Vec<Hop>, hop: Hop, truncated: &mut bool) {
    if hops
        .iter()
        .any(|h| h.frame == hop.frame && h.link == hop.link)
    {
        return;
    }
    if hops.len() < MAX_HOPS {
        hops.push(hop);
    } else {
        *truncated = true;
    }
}

impl WriteIndex {
    /// A number for a new quorum connection, so that hops on one link can be told apart.
    pub fn new_link(&mut self) -> u32 {
        self.links += 1;
        self.links
    }

    /// The write with this session and cxid, created if there is room. `fresh`: the hop
    /// that asks starts a write, so an entry that already has one (an xid reused after a
    /// wrap, or the leader's closeSession for an expired session after its createSession,
    /// both cxid 0) is replaced by a new one.
    fn entry(
        &mut self,
        session: u64,
        cxid: i32,
        frame: u32,
        fresh: impl Fn(&Write) -> bool,
    ) -> Option<usize> {
        let key = (session, cxid);
        match self.by_request.get(&key) {
            Some(&i) if !self.writes.get(i).is_some_and(&fresh) => Some(i),
            _ => {
                if self.writes.len() >= MAX_WRITES {
                    self.full_since.get_or_insert(frame);
                    return None;
                }
                self.writes.push(Write::new(session, cxid));
                let i = self.writes.len() - 1;
                self.by_request.insert(key, i);
                Some(i)
            }
        }
    }

    fn entry_mut(
        &mut self,
        session: u64,
        cxid: i32,
        frame: u32,
        fresh: impl Fn(&Write) -> bool,
    ) -> Option<&mut Write> {
        let i = self.entry(session, cxid, frame, fresh)?;
        self.writes.get_mut(i)
    }

    /// A client's request that may reach the quorum (see `Opcode::may_reach_quorum`).
    pub fn client_request(&mut self, session: u64, xid: i32, opcode: i32, hop: Hop) {
        if let Some(w) = self.entry_mut(session, xid, hop.frame, |w| w.client_request.is_some()) {
            w.client_request = Some(hop);
            w.opcode.get_or_insert(opcode);
        }
    }

    /// The client's reply to a request that `client_request` recorded.
    pub fn client_reply(&mut self, session: u64, xid: i32, hop: Hop) {
        if let Some(&i) = self.by_request.get(&(session, xid))
            && let Some(w) = self.writes.get_mut(i)
            && w.client_request.is_some()
            && w.client_reply.is_none()
        {
            w.client_reply = Some(hop);
        }
    }

    /// A learner's REQUEST: a client request forwarded to the leader.
    pub fn forwarded(&mut self, session: u64, cxid: i32, rtype: i32, hop: Hop) {
        let fresh = |w: &Write| !w.forwarded.is_empty() || w.zxid.is_some();
        if let Some(w) = self.entry_mut(session, cxid, hop.frame, fresh) {
            w.opcode.get_or_insert(rtype);
            push(&mut w.forwarded, hop, &mut w.hops_truncated);
        }
    }

    /// A PROPOSAL (or, `inform`, an INFORM to an observer): the transaction of a request.
    pub fn proposed(
        &mut self,
        scope: u64,
        session: u64,
        cxid: i32,
        zxid: i64,
        hop: Hop,
        inform: bool,
    ) {
        // The same transaction goes to every learner: the zxid finds it first. Once it is
        // committed, a PROPOSAL of it is the leader replaying its log to a learner that
        // synchronises (after DIFF): not a hop of the write. (An INFORM is sent on commit.)
        let replay = |w: &Write| !inform && !w.commits.is_empty();
        let i = match self.by_zxid.get(&(scope, zxid)) {
            Some(&i) if self.writes.get(i).is_some_and(replay) => return,
            Some(&i) => i,
            None => {
                let fresh = |w: &Write| w.zxid.is_some_and(|z| z != zxid);
                let Some(i) = self.entry(session, cxid, hop.frame, fresh) else {
                    return;
                };
                if let Some(w) = self.writes.get_mut(i) {
                    w.zxid = Some(zxid);
                }
                self.by_zxid.insert((scope, zxid), i);
                i
            }
        };
        if let Some(w) = self.writes.get_mut(i) {
            let hops = if inform {
                &mut w.informs
            } else {
                &mut w.proposals
            };
            push(hops, hop, &mut w.hops_truncated);
        }
    }

    /// The write whose proposal went out on the hop's link: ACKs and COMMITs answer a
    /// PROPOSAL on their own link (on a link that replays the log, they answer nothing
    /// that `proposed` kept).
    fn proposed_on_link(&mut self, scope: u64, zxid: i64, hop: Hop) -> Option<&mut Write> {
        let w = self.writes.get_mut(*self.by_zxid.get(&(scope, zxid))?)?;
        w.proposals.iter().any(|p| p.link == hop.link).then_some(w)
    }

    /// A follower's ACK of a proposal.
    pub fn acked(&mut self, scope: u64, zxid: i64, hop: Hop) {
        if let Some(w) = self.proposed_on_link(scope, zxid, hop) {
            push(&mut w.acks, hop, &mut w.hops_truncated);
        }
    }

    /// The leader's COMMIT of a proposal.
    pub fn committed(&mut self, scope: u64, zxid: i64, hop: Hop) {
        if let Some(w) = self.proposed_on_link(scope, zxid, hop) {
            push(&mut w.commits, hop, &mut w.hops_truncated);
        }
    }

    /// The leader's SYNC, answering the forwarded sync (session, cxid) on the same link.
    pub fn synced(&mut self, session: u64, cxid: i32, hop: Hop) {
        if let Some(w) = self
            .by_request
            .get(&(session, cxid))
            .and_then(|&i| self.writes.get_mut(i))
        {
            push(&mut w.syncs, hop, &mut w.hops_truncated);
        }
    }

    pub fn by_request(&self, session: u64, cxid: i32) -> Option<&Write> {
        self.writes.get(*self.by_request.get(&(session, cxid))?)
    }

    pub fn by_zxid(&self, scope: u64, zxid: i64) -> Option<&Write> {
        self.writes.get(*self.by_zxid.get(&(scope, zxid))?)
    }

    /// True when a PDU at `frame` that finds no write may have lost it to the cap.
    pub fn full_at(&self, frame: u32) -> bool {
        self.full_since.is_some_and(|f| frame >= f)
    }

    /// Number of writes tracked (for tests).
    pub fn len(&self) -> usize {
        self.writes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Every write, in the order its first hop was seen.
    pub fn writes(&self) -> impl Iterator<Item = &Write> {
        self.writes.iter()
    }
}

#[cfg(test)]
#[path = "tests/writepath.rs"]
mod tests;
