//! ZooKeeper's quorum (learner) protocol records, parsed with nom. Pure: bytes in, typed
//! records out, each value with its offset and length.
//!
//! A `QuorumPacket {int type; long zxid; buffer data; vector<Id> authinfo}` is written with
//! `BinaryOutputArchive.writeRecord` straight onto the socket: there is **no outer length
//! prefix** (checked against the recorded ensemble and zktraffic's zab captures). The framing
//! therefore walks the record (`packet_len`). After a SNAP the leader writes the serialized
//! data tree (not a QuorumPacket) and the string "BenWasHere" (`snapshot_len`).
//!
//! The `data` buffer's layout depends on the type: a txn (TxnHeader + record + TxnDigest)
//! in PROPOSAL and INFORM, the learner's request in REQUEST, LearnerInfo in FOLLOWERINFO and
//! OBSERVERINFO, and plain `DataOutputStream` ints and longs elsewhere.

use nom::bytes::complete::take;

use crate::common::At;
use crate::jute::{
    Acl, Counted, Id, Input, PResult, acl_list, at, boolean, counted, id, input, int, long,
    string_list, vector,
};
use crate::zookeeper::opcode as op;

/// QuorumPacket types (Leader.java).
pub mod ptype {
    pub const REQUEST: i32 = 1;
    pub const PROPOSAL: i32 = 2;
    pub const ACK: i32 = 3;
    pub const COMMIT: i32 = 4;
    pub const PING: i32 = 5;
    pub const REVALIDATE: i32 = 6;
    pub const SYNC: i32 = 7;
    pub const INFORM: i32 = 8;
    pub const COMMITANDACTIVATE: i32 = 9;
    pub const NEWLEADER: i32 = 10;
    pub const FOLLOWERINFO: i32 = 11;
    pub const UPTODATE: i32 = 12;
    pub const DIFF: i32 = 13;
    pub const TRUNC: i32 = 14;
    pub const SNAP: i32 = 15;
    pub const OBSERVERINFO: i32 = 16;
    pub const LEADERINFO: i32 = 17;
    pub const ACKEPOCH: i32 = 18;
    pub const INFORMANDACTIVATE: i32 = 19;

    pub fn name(t: i32) -> Option<&'static str> {
        super::super::fields::PACKET_TYPE_NAMES
            .iter()
            .find(|(v, _)| *v as i32 == t)
            .and_then(|(_, n)| n.to_str().ok())
    }
}

/// The signature the leader writes after the snapshot (`oa.writeString("BenWasHere")`).
pub const SIGNATURE: &[u8] = b"\x00\x00\x00\x0aBenWasHere";
/// The data tree's end marker (`writeString("/")`) followed by the signature: what ends a
/// snapshot stream.
pub const SNAPSHOT_END: &[u8] = b"\x00\x00\x00\x01/\x00\x00\x00\x0aBenWasHere";

/// What the framing found at the start of a QuorumPacket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// The packet is exactly this long.
    Complete(usize),
    /// At least this many bytes are needed to know more.
    AtLeast(usize),
    /// A negative length other than -1, or one above `max`: not a QuorumPacket.
    Bogus,
}

fn be_i32_at(b: &[u8], off: usize) -> Option<i32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Walks a QuorumPacket's encoding: 16 bytes (type, zxid, data length), the data, the
/// authinfo count and each Id's two counted strings. `max` bounds each length.
pub fn packet_len(b: &[u8], max: usize) -> Need {
    let mut off = 12usize;
    let Some(dlen) = be_i32_at(b, off) else {
        return Need::AtLeast(16);
    };
    if dlen < -1 || dlen as i64 > max as i64 {
        return Need::Bogus;
    }
    off += 4 + dlen.max(0) as usize;
    let Some(count) = be_i32_at(b, off) else {
        return Need::AtLeast(off + 4);
    };
    if !(-1..=1024).contains(&count) {
        return Need::Bogus;
    }
    off += 4;
    for _ in 0..count.max(0) * 2 {
        let Some(n) = be_i32_at(b, off) else {
            return Need::AtLeast(off + 4);
        };
        if n < -1 || n as i64 > max as i64 {
            return Need::Bogus;
        }
        off += 4 + n.max(0) as usize;
    }
    if off > max.saturating_add(64 * 1024) {
        return Need::Bogus;
    }
    Need::Complete(off)
}

/// True when `b` holds a QuorumPacket's data buffer and authinfo count but not yet all of its
/// authinfo (a learner's REQUEST carries the client's Ids): its length is then told a few
/// bytes at a time, and the framing takes the next segment rather than make one exact
/// request after another (TCP loses a PDU whose second exact request falls inside the
/// segment that completed the first). Before that, one exact request brings the data buffer
/// and the count in; with the usual null authinfo that is the whole packet.
pub fn awaits_authinfo(b: &[u8], max: usize) -> bool {
    let Some(dlen) = be_i32_at(b, 12) else {
        return false;
    };
    matches!(packet_len(b, max), Need::AtLeast(_)) && b.len() >= 20 + dlen.max(0) as usize
}

/// Whether the start of `b` is plausibly a QuorumPacket (used to resynchronise a capture
/// that starts mid-stream): a known type, a sane zxid and data length, and, when the bytes
/// hold the whole packet, a null or empty authinfo.
pub fn plausible_packet(b: &[u8], max: usize) -> bool {
    let Some(t) = be_i32_at(b, 0) else {
        return false;
    };
    if ptype::name(t).is_none() {
        return false;
    }
    match packet_len(b, max) {
        Need::Bogus => false,
        Need::AtLeast(_) => true,
        Need::Complete(_) => {
            let dlen = be_i32_at(b, 12).unwrap_or(-1).max(0) as usize;
            matches!(be_i32_at(b, 16 + dlen), Some(-1 | 0))
        }
    }
}

/// Whether `b` starts with a learner's first QuorumPacket (Learner.registerWithLeader), the
/// heuristic for quorum traffic on a port that no table names: FOLLOWERINFO or OBSERVERINFO,
/// a zxid of an epoch's start (its counter is 0), a LearnerInfo of 8 (before 3.4), 12 (3.4)
/// or 20 bytes (3.5+, protocol version 0x10000) with a non-negative server id, and a null or
/// empty authinfo. All of it must be in `b`: sixteen bytes of a stranger's stream matching
/// by chance is not enough.
pub fn looks_like_learner_hello(b: &[u8]) -> bool {
    let Some(t) = be_i32_at(b, 0) else {
        return false;
    };
    if t != ptype::FOLLOWERINFO && t != ptype::OBSERVERINFO {
        return false;
    }
    let zxid_counter = be_i32_at(b, 8);
    let dlen = be_i32_at(b, 12);
    let sid_high = be_i32_at(b, 16);
    let plausible_info = match dlen {
        Some(8 | 12) => true,
        Some(20) => be_i32_at(b, 24) == Some(0x10000),
        _ => false,
    };
    let auth = dlen.and_then(|n| be_i32_at(b, 16 + n.max(0) as usize));
    zxid_counter == Some(0)
        && plausible_info
        && sid_high.is_some_and(|h| h >= 0)
        && matches!(auth, Some(-1 | 0))
}

/// Where a snapshot stream starting at `b[0]` ends (just after the signature), if `b`
/// holds its end.
pub fn snapshot_len(b: &[u8]) -> Option<usize> {
    b.windows(SNAPSHOT_END.len())
        .position(|w| w == SNAPSHOT_END)
        .map(|p| p + SNAPSHOT_END.len())
        .or_else(|| {
            // A capture that starts after the end marker: the signature alone, at the start.
            b.starts_with(SIGNATURE).then_some(SIGNATURE.len())
        })
}

/// How much of a snapshot stream starting at `b[0]` to take as one PDU: up to the end
/// marker when it is in view; else, when `b` ends with the start of the end marker, enough
/// to see whether it is one (a few bytes of the next segment); else all of `b`. The
/// snapshot is thus shown one segment at a time, without reassembling all of it.
pub fn snapshot_chunk_len(b: &[u8]) -> usize {
    if let Some(n) = snapshot_len(b) {
        return n;
    }
    let from = b.len().saturating_sub(SNAPSHOT_END.len() - 1);
    for p in from..b.len() {
        if b.get(p..)
            .is_some_and(|tail| SNAPSHOT_END.starts_with(tail))
        {
            return if p == 0 { SNAPSHOT_END.len() } else { p };
        }
    }
    b.len()
}

// ---------------------------------------------------------------------------------------
// Records

#[derive(Clone, Debug, PartialEq)]
pub struct QuorumPacket<'a> {
    pub ptype: At<i32>,
    pub zxid: At<i64>,
    pub data: Counted<'a>,
    /// The data buffer's bytes as parser input (offsets stay those of the packet).
    pub data_input: Option<Input<'a>>,
    pub authinfo: At<Vec<At<Id<'a>>>>,
}

/// A counted buffer, also returned as input so that its contents can be parsed in place.
fn counted_in(i: Input<'_>) -> PResult<'_, (Counted<'_>, Option<Input<'_>>)> {
    let start = i;
    let (rest, c) = counted(i)?;
    let inner = match c.val {
        Some(d) => {
            let (after_len, _) = take(4usize)(start)?;
            let (_, span) = take(d.len())(after_len)?;
            Some(span)
        }
        None => None,
    };
    Ok((rest, (c, inner)))
}

/// One complete QuorumPacket (`bytes` starts at its type).
pub fn quorum_packet(bytes: &[u8]) -> PResult<'_, QuorumPacket<'_>> {
    let i = input(bytes);
    let (i, ptype) = int(i)?;
    let (i, zxid) = long(i)?;
    let (i, (data, data_input)) = counted_in(i)?;
    let (i, authinfo) = vector(8, id)(i)?;
    Ok((
        i,
        QuorumPacket {
            ptype,
            zxid,
            data,
            data_input,
            authinfo,
        },
    ))
}

/// `TxnHeader {long clientId; int cxid; long zxid; long time; int type}`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnHeader {
    pub client_id: At<i64>,
    pub cxid: At<i32>,
    pub zxid: At<i64>,
    pub time: At<i64>,
    pub ttype: At<i32>,
}

pub fn txn_header(i: Input<'_>) -> PResult<'_, TxnHeader> {
    let (i, client_id) = long(i)?;
    let (i, cxid) = int(i)?;
    let (i, zxid) = long(i)?;
    let (i, time) = long(i)?;
    let (i, ttype) = int(i)?;
    Ok((
        i,
        TxnHeader {
            client_id,
            cxid,
            zxid,
            time,
            ttype,
        },
    ))
}

/// The txn records (zookeeper.jute, module org.apache.zookeeper.txn).
#[derive(Clone, Debug, PartialEq)]
pub enum Txn<'a> {
    /// CreateTxn (create, create2; `ephemeral` set), CreateContainerTxn, CreateTTLTxn (`ttl`).
    Create {
        path: Counted<'a>,
        data: Counted<'a>,
        acl: At<Vec<At<Acl<'a>>>>,
        ephemeral: Option<At<bool>>,
        parent_cversion: At<i32>,
        ttl: Option<At<i64>>,
    },
    /// DeleteTxn (delete, deleteContainer).
    Delete {
        path: Counted<'a>,
    },
    /// SetDataTxn (setData, and reconfig's write of /zookeeper/config).
    SetData {
        path: Counted<'a>,
        data: Counted<'a>,
        version: At<i32>,
    },
    /// CheckVersionTxn.
    Check {
        path: Counted<'a>,
        version: At<i32>,
    },
    SetAcl {
        path: Counted<'a>,
        acl: At<Vec<At<Acl<'a>>>>,
        version: At<i32>,
    },
    CreateSession {
        timeout: At<i32>,
    },
    /// CloseSessionTxn: `paths2Delete` since 3.6; older servers send no record.
    CloseSession {
        paths: Option<At<Vec<Counted<'a>>>>,
    },
    Error {
        err: At<i32>,
    },
    Multi {
        txns: At<Vec<MultiTxnEntry<'a>>>,
    },
    /// A type without a record of its own.
    Empty,
}

/// `Txn {int type; buffer data}` inside a MultiTxn, with the data decoded where possible.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiTxnEntry<'a> {
    pub ttype: At<i32>,
    pub data: Counted<'a>,
    pub txn: Option<Txn<'a>>,
}

/// The txn record of `ttype`; `None` for a type without a known record.
pub fn txn_record(ttype: i32, i: Input<'_>) -> Option<PResult<'_, Txn<'_>>> {
    Some(match ttype {
        op::CREATE | op::CREATE2 => create_txn(i, true, false),
        op::CREATE_CONTAINER => create_txn(i, false, false),
        op::CREATE_TTL => create_txn(i, false, true),
        op::DELETE | op::DELETE_CONTAINER => counted(i).map(|(i, path)| (i, Txn::Delete { path })),
        op::SET_DATA | op::RECONFIG => (|| {
            let (i, path) = counted(i)?;
            let (i, data) = counted(i)?;
            let (i, version) = int(i)?;
            Ok((
                i,
                Txn::SetData {
                    path,
                    data,
                    version,
                },
            ))
        })(),
        op::CHECK => (|| {
            let (i, path) = counted(i)?;
            let (i, version) = int(i)?;
            Ok((i, Txn::Check { path, version }))
        })(),
        op::SET_ACL => (|| {
            let (i, path) = counted(i)?;
            let (i, acl) = acl_list(i)?;
            let (i, version) = int(i)?;
            Ok((i, Txn::SetAcl { path, acl, version }))
        })(),
        op::CREATE_SESSION => int(i).map(|(i, timeout)| (i, Txn::CreateSession { timeout })),
        op::CLOSE_SESSION => {
            if i.fragment().len() < 4 {
                Ok((i, Txn::CloseSession { paths: None }))
            } else {
                string_list(i).map(|(i, p)| (i, Txn::CloseSession { paths: Some(p) }))
            }
        }
        op::ERROR => int(i).map(|(i, err)| (i, Txn::Error { err })),
        op::MULTI => vector(8, multi_entry)(i).map(|(i, txns)| (i, Txn::Multi { txns })),
        _ => return None,
    })
}

fn create_txn(i: Input<'_>, ephemeral: bool, ttl: bool) -> PResult<'_, Txn<'_>> {
    let (i, path) = counted(i)?;
    let (i, data) = counted(i)?;
    let (i, acl) = acl_list(i)?;
    let (i, eph) = if ephemeral {
        boolean(i).map(|(i, b)| (i, Some(b)))?
    } else {
        (i, None)
    };
    let (i, parent_cversion) = int(i)?;
    let (i, t) = if ttl {
        long(i).map(|(i, t)| (i, Some(t)))?
    } else {
        (i, None)
    };
    Ok((
        i,
        Txn::Create {
            path,
            data,
            acl,
            ephemeral: eph,
            parent_cversion,
            ttl: t,
        },
    ))
}

fn multi_entry(i: Input<'_>) -> PResult<'_, MultiTxnEntry<'_>> {
    let (i, ttype) = int(i)?;
    let (i, (data, inner)) = counted_in(i)?;
    let txn = inner.and_then(|inner| match txn_record(ttype.val, inner) {
        Some(Ok((rest, t))) if rest.fragment().is_empty() => Some(t),
        _ => None,
    });
    Ok((i, MultiTxnEntry { ttype, data, txn }))
}

/// `TxnDigest {int version; long treeDigest}` (3.6+, after the txn record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnDigest {
    pub version: At<i32>,
    pub tree_digest: At<i64>,
}

/// PROPOSAL / INFORM data: TxnHeader, the txn record, an optional TxnDigest.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal<'a> {
    pub header: TxnHeader,
    /// `None` when the type has no known record (the bytes are left undecoded).
    pub txn: Option<Txn<'a>>,
    pub digest: Option<TxnDigest>,
}

pub fn proposal(i: Input<'_>) -> PResult<'_, Proposal<'_>> {
    let (i, header) = txn_header(i)?;
    let (i, txn) = match txn_record(header.ttype.val, i) {
        Some(r) => {
            let (i, t) = r?;
            (i, Some(t))
        }
        None => (i, None),
    };
    let (i, digest) = if txn.is_some() && i.fragment().len() == 12 {
        let (i, version) = int(i)?;
        let (i, tree_digest) = long(i)?;
        (
            i,
            Some(TxnDigest {
                version,
                tree_digest,
            }),
        )
    } else {
        (i, None)
    };
    Ok((
        i,
        Proposal {
            header,
            txn,
            digest,
        },
    ))
}

/// `LearnerInfo {long serverid; int protocolVersion; long configVersion}`; pre-3.4 learners
/// send only the sid, 3.4 the sid and protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LearnerInfo {
    pub sid: At<i64>,
    pub protocol_version: Option<At<i32>>,
    pub config_version: Option<At<i64>>,
}

pub fn learner_info(i: Input<'_>) -> PResult<'_, LearnerInfo> {
    let (i, sid) = long(i)?;
    let (i, protocol_version) = if i.fragment().len() >= 4 {
        int(i).map(|(i, v)| (i, Some(v)))?
    } else {
        (i, None)
    };
    let (i, config_version) = if i.fragment().len() >= 8 {
        long(i).map(|(i, v)| (i, Some(v)))?
    } else {
        (i, None)
    };
    Ok((
        i,
        LearnerInfo {
            sid,
            protocol_version,
            config_version,
        },
    ))
}

/// REQUEST data (`Learner.request`): the client request re-sent by a learner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LearnerRequest<'a> {
    pub session_id: At<i64>,
    pub cxid: At<i32>,
    pub rtype: At<i32>,
    /// The client's request record (what follows the RequestHeader on the client port).
    pub body: At<&'a [u8]>,
}

pub fn learner_request(i: Input<'_>) -> PResult<'_, LearnerRequest<'_>> {
    let (i, session_id) = long(i)?;
    let (i, cxid) = int(i)?;
    let (i, rtype) = int(i)?;
    let n = i.fragment().len();
    let (i, body) = at(|i| take(n)(i).map(|(r, s): (Input<'_>, Input<'_>)| (r, *s.fragment())))(i)?;
    Ok((
        i,
        LearnerRequest {
            session_id,
            cxid,
            rtype,
            body,
        },
    ))
}

/// One entry of a learner's PING reply (its session touch table) or of a REVALIDATE request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTimeout {
    pub session_id: At<i64>,
    pub timeout: At<i32>,
}

pub fn session_timeout(i: Input<'_>) -> PResult<'_, At<SessionTimeout>> {
    at(|i| {
        let (i, session_id) = long(i)?;
        let (i, timeout) = int(i)?;
        Ok((
            i,
            SessionTimeout {
                session_id,
                timeout,
            },
        ))
    })(i)
}

/// Entries until the data ends (the touch table has no count).
pub fn touch_table(mut i: Input<'_>) -> PResult<'_, Vec<At<SessionTimeout>>> {
    let mut out = Vec::new();
    while !i.fragment().is_empty() {
        let (r, e) = session_timeout(i)?;
        out.push(e);
        i = r;
    }
    Ok((i, out))
}

/// The leader's REVALIDATE answer: `long sessionId; boolean valid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevalidateReply {
    pub session_id: At<i64>,
    pub valid: At<bool>,
}

pub fn revalidate_reply(i: Input<'_>) -> PResult<'_, RevalidateReply> {
    let (i, session_id) = long(i)?;
    let (i, valid) = boolean(i)?;
    Ok((i, RevalidateReply { session_id, valid }))
}

/// The decoded data of a QuorumPacket.
#[derive(Clone, Debug, PartialEq)]
pub enum Body<'a> {
    /// Null or empty data.
    None,
    Proposal(Proposal<'a>),
    /// INFORMANDACTIVATE: suggested leader, then the proposal.
    InformAndActivate {
        suggested_leader: At<i64>,
        proposal: Proposal<'a>,
    },
    /// COMMITANDACTIVATE: the suggested leader.
    SuggestedLeader(At<i64>),
    Request(LearnerRequest<'a>),
    LearnerInfo(LearnerInfo),
    /// LEADERINFO's protocol version.
    ProtocolVersion(At<i32>),
    /// ACKEPOCH's current epoch of the learner.
    Epoch(At<i32>),
    /// A learner's PING reply.
    Touches(Vec<At<SessionTimeout>>),
    Revalidate(SessionTimeout),
    RevalidateReply(RevalidateReply),
    /// NEWLEADER's quorum configuration (text).
    Config(At<&'a [u8]>),
    /// Data whose layout is not known for this type.
    Raw,
}

/// Decodes `data` by packet type. `from_leader` tells the two REVALIDATE shapes apart.
/// Returns the body and where parsing stopped (the data's end when all was used).
pub fn body<'a>(kind: i32, from_leader: bool, data: Input<'a>) -> PResult<'a, Body<'a>> {
    use self::ptype as p;
    if data.fragment().is_empty() {
        return Ok((data, Body::None));
    }
    match kind {
        p::PROPOSAL | p::INFORM => proposal(data).map(|(i, b)| (i, Body::Proposal(b))),
        p::INFORMANDACTIVATE => {
            let (i, suggested_leader) = long(data)?;
            let (i, proposal) = proposal(i)?;
            Ok((
                i,
                Body::InformAndActivate {
                    suggested_leader,
                    proposal,
                },
            ))
        }
        p::COMMITANDACTIVATE => long(data).map(|(i, l)| (i, Body::SuggestedLeader(l))),
        p::REQUEST => learner_request(data).map(|(i, r)| (i, Body::Request(r))),
        p::FOLLOWERINFO | p::OBSERVERINFO => {
            learner_info(data).map(|(i, l)| (i, Body::LearnerInfo(l)))
        }
        p::LEADERINFO => int(data).map(|(i, v)| (i, Body::ProtocolVersion(v))),
        p::ACKEPOCH => int(data).map(|(i, v)| (i, Body::Epoch(v))),
        p::PING if !from_leader => touch_table(data).map(|(i, t)| (i, Body::Touches(t))),
        p::REVALIDATE if from_leader => {
            revalidate_reply(data).map(|(i, r)| (i, Body::RevalidateReply(r)))
        }
        p::REVALIDATE => session_timeout(data).map(|(i, s)| (i, Body::Revalidate(s.val))),
        p::NEWLEADER => {
            let n = data.fragment().len();
            at(|i| take(n)(i).map(|(r, s): (Input<'_>, Input<'_>)| (r, *s.fragment())))(data)
                .map(|(i, c)| (i, Body::Config(c)))
        }
        _ => Ok((data, Body::Raw)),
    }
}

/// The path a txn acts on, for the Info column.
pub fn txn_path<'a>(t: &Txn<'a>) -> Option<&'a [u8]> {
    match t {
        Txn::Create { path, .. }
        | Txn::Delete { path }
        | Txn::SetData { path, .. }
        | Txn::Check { path, .. }
        | Txn::SetAcl { path, .. } => path.val,
        _ => None,
    }
}

#[cfg(test)]
#[path = "tests/parse.rs"]
mod tests;
