//! Per-connection state of the election protocol: the sid each side announced, and whether
//! an initial message came first in its direction. Decided on the first pass, in capture
//! order, and stored per PDU. Pure Rust.

use crate::common::{Direction, FastMap, PduKey, ServerPort};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// An initial message that was not the first PDU of its direction.
    pub late_initial: bool,
    /// The sid this side announced in its initial message, once seen.
    pub peer_sid: Option<i64>,
}

#[derive(Debug, Default)]
pub struct Connection {
    /// The election port (the accepting side), once known.
    pub server_port: ServerPort,
    /// Per direction (`Direction::index`: from the initiator, to it): PDUs seen, sid
    /// announced.
    seen: [u32; 2],
    sid: [Option<i64>; 2],
    decisions: FastMap<PduKey, Decision>,
}

impl Connection {
    /// The direction of a segment: `ToServer` is from the peer that connected to the
    /// election port (the initiator).
    pub fn direction(&mut self, src_port: u32, dst_port: u32, match_port: u32) -> Direction {
        self.server_port.direction(src_port, dst_port, match_port)
    }

    /// First pass: record one PDU (`initial_sid` is the sid of an initial message).
    pub fn classify(&mut self, key: PduKey, dir: Direction, initial_sid: Option<i64>) -> Decision {
        if let Some(d) = self.decisions.get(&key) {
            return *d;
        }
        let dir = dir.index();
        let late_initial = initial_sid.is_some() && self.seen[dir] > 0;
        if let Some(sid) = initial_sid
            && !late_initial
        {
            self.sid[dir] = Some(sid);
        }
        self.seen[dir] = self.seen[dir].saturating_add(1);
        let d = Decision {
            late_initial,
            peer_sid: self.sid[dir],
        };
        self.decisions.insert(key, d);
        d
    }

    pub fn decision(&self, key: PduKey) -> Option<Decision> {
        self.decisions.get(&key).copied()
    }
}

#[cfg(test)]
#[path = "tests/connection.rs"]
mod tests;
