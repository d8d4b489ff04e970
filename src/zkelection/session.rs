//! Per-connection state of the election protocol: the sid each side announced, and whether
//! an initial message came first in its direction. Decided on the first pass, in capture
//! order, and stored per PDU. Pure Rust.

use std::collections::HashMap;

/// One PDU: the frame it completes in, and its position among this protocol's PDUs there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PduKey {
    pub frame: u32,
    pub index: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// An initial message that was not the first PDU of its direction.
    pub late_initial: bool,
    /// The sid this side announced in its initial message, once seen.
    pub peer_sid: Option<i64>,
}

#[derive(Debug, Default)]
pub struct Session {
    /// The election port (the accepting side), once known.
    pub server_port: Option<u32>,
    /// Per direction [from initiator, to initiator]: PDUs seen, sid announced.
    seen: [u32; 2],
    sid: [Option<i64>; 2],
    decisions: HashMap<PduKey, Decision>,
}

impl Session {
    /// True when the segment comes from the peer that connected to the election port.
    pub fn from_initiator(&mut self, src_port: u32, dst_port: u32, match_port: u32) -> bool {
        if self.server_port.is_none()
            && match_port != 0
            && (match_port == src_port || match_port == dst_port)
        {
            self.server_port = Some(match_port);
        }
        match self.server_port {
            Some(p) => p == dst_port && p != src_port,
            None => dst_port < src_port,
        }
    }

    /// First pass: record one PDU (`initial_sid` is the sid of an initial message).
    pub fn classify(
        &mut self,
        key: PduKey,
        from_initiator: bool,
        initial_sid: Option<i64>,
    ) -> Decision {
        if let Some(d) = self.decisions.get(&key) {
            return *d;
        }
        let dir = usize::from(!from_initiator);
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
#[path = "tests/session.rs"]
mod tests;
