//! Leader-election messages (QuorumCnxManager, FastLeaderElection), parsed with nom.
//! Pure: bytes in, typed records out, each value with its offset and length.
//!
//! A connection starts with the connecting peer's initial message: `long protocolVersion`
//! (-65536 = V1, -65535 = V2) then `long sid`, `int len` and `len` bytes of "host:port";
//! pre-3.5 peers send only `long sid`. Then both sides send notifications, each an `int`
//! length and a payload: `int state; long leader; long zxid; long electionEpoch`, then (since
//! 3.4) `long peerEpoch`, then (3.5+) `int version` and for version > 1 `int configLength` and
//! the config text.

use crate::common::At;
use crate::jute::{Counted, Input, PResult, counted, input, int, long};

pub const PROTOCOL_VERSION_V1: i64 = -65536;
pub const PROTOCOL_VERSION_V2: i64 = -65535;
/// QuorumCnxManager caps the address at 2048 bytes, and a message at 512 KiB.
pub const MAX_ADDRESS: usize = 2048;
pub const MAX_MESSAGE: usize = 512 * 1024;

/// The `ServerState` names (QuorumPeer.ServerState ordinals).
pub fn state_name(s: i32) -> Option<&'static str> {
    super::fields::STATE_NAMES
        .iter()
        .find(|(v, _)| *v as i32 == s)
        .and_then(|(_, n)| n.to_str().ok())
}

/// What the framing found at the start of a PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// An initial message of this many bytes (or at least this many).
    Initial(usize),
    /// A notification of this many bytes, length prefix included.
    Message(usize),
    Bogus,
}

/// Framing by content: a notification length is positive; the initial message starts with
/// a negative protocol version (first int -1), or, from a pre-3.5 peer, with a sid whose high
/// int is 0. `b` holds at least 4 bytes.
pub fn pdu_len(b: &[u8]) -> Need {
    let Some(first) = b
        .get(..4)
        .map(|s| i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    else {
        return Need::Message(4);
    };
    match first {
        0 => Need::Initial(8),
        -1 => {
            let Some(v) = b
                .get(..8)
                .map(|s| i64::from_be_bytes(s.try_into().unwrap_or([0; 8])))
            else {
                return Need::Initial(20);
            };
            if v != PROTOCOL_VERSION_V1 && v != PROTOCOL_VERSION_V2 {
                return Need::Bogus;
            }
            match b.get(16..20) {
                None => Need::Initial(20),
                Some(s) => {
                    let n = i32::from_be_bytes([s[0], s[1], s[2], s[3]]);
                    if n < 0 || n as usize > MAX_ADDRESS {
                        Need::Bogus
                    } else {
                        Need::Initial(20 + n as usize)
                    }
                }
            }
        }
        n if n > 0 && n as usize <= MAX_MESSAGE => Need::Message(4 + n as usize),
        _ => Need::Bogus,
    }
}

/// Whether `b` starts with a 3.5+ initial message (QuorumCnxManager.initiateConnection),
/// the heuristic for election traffic on a port that no table names: the protocol version
/// -65536 or -65535, a non-negative server id, and an address of printable text with a
/// colon ("host:port"), all of it in `b`. (The pre-3.5 initial message, a bare sid, is too
/// short to recognise.)
pub fn looks_like_initial(b: &[u8]) -> bool {
    let Need::Initial(len) = pdu_len(b) else {
        return false;
    };
    let Some(addr) = b.get(20..len) else {
        return false;
    };
    let sid = b
        .get(8..16)
        .map(|s| i64::from_be_bytes(s.try_into().unwrap_or([0xff; 8])));
    len > 20
        && sid.is_some_and(|s| s >= 0)
        && addr.contains(&b':')
        && addr.iter().all(|c| c.is_ascii_graphic())
}

#[derive(Clone, Debug, PartialEq)]
pub struct Initial<'a> {
    /// Absent for a pre-3.5 peer.
    pub protocol_version: Option<At<i64>>,
    pub sid: At<i64>,
    pub address: Option<Counted<'a>>,
}

pub fn initial(bytes: &[u8]) -> PResult<'_, Initial<'_>> {
    let i = input(bytes);
    let (rest, first) = long(i)?;
    if first.val >= 0 {
        return Ok((
            rest,
            Initial {
                protocol_version: None,
                sid: first,
                address: None,
            },
        ));
    }
    let (rest, sid) = long(rest)?;
    let (rest, address) = counted(rest)?;
    Ok((
        rest,
        Initial {
            protocol_version: Some(first),
            sid,
            address: Some(address),
        },
    ))
}

#[derive(Clone, Debug, PartialEq)]
pub struct Notification<'a> {
    pub len: At<i32>,
    pub state: At<i32>,
    pub leader: At<i64>,
    pub zxid: At<i64>,
    pub election_epoch: At<i64>,
    pub peer_epoch: Option<At<i64>>,
    pub version: Option<At<i32>>,
    /// `int configLength` + the config text, for version > 1.
    pub config: Option<Counted<'a>>,
}

pub fn notification(bytes: &[u8]) -> PResult<'_, Notification<'_>> {
    let i: Input<'_> = input(bytes);
    let (i, len) = int(i)?;
    let (i, state) = int(i)?;
    let (i, leader) = long(i)?;
    let (i, zxid) = long(i)?;
    let (i, election_epoch) = long(i)?;
    let (i, peer_epoch) = if i.fragment().len() >= 8 {
        long(i).map(|(i, v)| (i, Some(v)))?
    } else {
        (i, None)
    };
    let (i, version) = if i.fragment().len() >= 4 {
        int(i).map(|(i, v)| (i, Some(v)))?
    } else {
        (i, None)
    };
    let (i, config) = if version.is_some_and(|v| v.val > 1) && i.fragment().len() >= 4 {
        counted(i).map(|(i, c)| (i, Some(c)))?
    } else {
        (i, None)
    };
    Ok((
        i,
        Notification {
            len,
            state,
            leader,
            zxid,
            election_epoch,
            peer_epoch,
            version,
            config,
        },
    ))
}

#[cfg(test)]
#[path = "tests/parse.rs"]
mod tests;
