//! The vocabulary every protocol module shares: where a value is in its PDU, which PDU a
//! first-pass decision belongs to, capture time, and which way a segment goes. Pure Rust, no
//! Wireshark.

/// A value and where its bytes are, relative to the start of its PDU (or h2 frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At<T> {
    pub off: usize,
    pub len: usize,
    pub val: T,
}

impl<T> At<T> {
    pub fn end(&self) -> usize {
        self.off + self.len
    }
}

/// A run of bytes within a PDU (or h2 frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub off: usize,
    pub len: usize,
}

impl Span {
    /// The bytes of the span, or nothing when it does not lie within `pdu`.
    pub fn of<'a>(&self, pdu: &'a [u8]) -> &'a [u8] {
        pdu.get(self.off..self.off + self.len).unwrap_or(&[])
    }
}

/// Nanoseconds since the Unix epoch (a frame's absolute capture time).
pub type Nanos = i64;

/// The hash maps of per-connection state, keyed by frame numbers, PDU keys and stream ids:
/// foldhash (hashbrown's own default hasher) instead of std's SipHash, which cost 4% of
/// `tshark -q -Y h2`. Its seed is random per map, so keys that a capture chooses (stream
/// ids) cannot be made to collide on purpose.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A set with the hasher of [`FastMap`].
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// One PDU: the frame it completes in, and its position among its protocol's PDUs in that
/// frame. First-pass decisions are stored under it, so that later passes (tshark -2, GUI
/// clicks in any order) look them up instead of deciding again. Ordered as the PDUs come in
/// the capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PduKey {
    pub frame: u32,
    pub index: u32,
}

/// A map of first-pass decisions by `PduKey` (a [`FastMap`]: SipHash cost more than the
/// rest of the lookup).
pub type PduMap<V> = FastMap<PduKey, V>;

/// Which way a segment of a ZooKeeper-family connection goes. The "server" is the peer that
/// accepted the connection: the ZooKeeper server on the client port, the leader on the
/// quorum port, the peer listening on the election port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    ToServer,
    ToClient,
}

impl Direction {
    /// For per-direction arrays: 0 toward the server, 1 toward the client.
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }
}

/// The accepting side's port of one TCP connection, learned from the port that selected the
/// dissector (port table or Decode As) the first time it matches one end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerPort(Option<u32>);

impl ServerPort {
    pub fn get(&self) -> Option<u32> {
        self.0
    }

    /// Remembers `port` unless a port is already known.
    pub fn learn(&mut self, port: u32) {
        self.0.get_or_insert(port);
    }

    /// The direction of a segment. `match_port` is the port that selected the dissector, 0 if
    /// none. While no port is known, the lower port is taken for the server's, the usual
    /// case for a listening port against an ephemeral one.
    pub fn direction(&mut self, src_port: u32, dst_port: u32, match_port: u32) -> Direction {
        if match_port != 0 && (match_port == src_port || match_port == dst_port) {
            self.learn(match_port);
        }
        match self.0 {
            Some(p) if p == src_port && p != dst_port => Direction::ToClient,
            Some(_) => Direction::ToServer,
            None if src_port < dst_port => Direction::ToClient,
            None => Direction::ToServer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_port_is_learned_from_the_matching_port_once() {
        let mut s = ServerPort::default();
        assert_eq!(s.direction(40000, 2181, 2181), Direction::ToServer);
        assert_eq!(s.get(), Some(2181));
        assert_eq!(s.direction(2181, 40000, 0), Direction::ToClient);
        // A later match on the other end does not move it.
        assert_eq!(s.direction(2181, 40000, 40000), Direction::ToClient);
    }

    #[test]
    fn without_a_port_the_lower_port_is_the_server() {
        let mut s = ServerPort::default();
        assert_eq!(s.direction(3888, 50000, 0), Direction::ToClient);
        assert_eq!(s.direction(50000, 3888, 0), Direction::ToServer);
        assert_eq!(s.get(), None);
    }
}
