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

/// `String::from_utf8_lossy`, with the test of valid text (nearly every header and path)
/// made by `std::str::from_utf8`, whose ASCII fast path is several times quicker than the
/// lossy decoder's: header texts are converted for every header of every shown block.
pub fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
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

/// First-pass decisions by [`PduKey`], for every PDU of a connection, kept for the whole
/// capture.
///
/// A sorted vector, not a hash map: on the first pass a connection's PDUs come in
/// increasing key order, so inserting is appending, and later passes mostly look keys up in
/// order too, which a remembered position answers without a search (a binary search
/// otherwise). Per entry it costs the key and the value, nothing more; a hash table at
/// most 7/8 full with a power-of-two number of slots touches up to twice that, and holds two
/// tables while it grows. The vector's unused capacity is never written, so the kernel
/// never backs it with memory.
#[derive(Debug)]
pub struct PduMap<V> {
    entries: Vec<(PduKey, V)>,
    /// Where the last lookup found its key (a hint; any value is safe).
    cursor: std::cell::Cell<usize>,
}

impl<V> Default for PduMap<V> {
    fn default() -> Self {
        PduMap {
            entries: Vec::new(),
            cursor: std::cell::Cell::new(0),
        }
    }
}

impl<V> PduMap<V> {
    /// Where `key` is (`Ok`), or where it would go (`Err`).
    #[inline]
    fn position(&self, key: &PduKey) -> Result<usize, usize> {
        let n = self.entries.len();
        // The common cases without a search: the newest entry (first pass), the one the
        // last lookup found, or the one after it (later passes, in order).
        if let Some((last, _)) = self.entries.last() {
            if last < key {
                return Err(n);
            }
            if last == key {
                return Ok(n - 1);
            }
        }
        let hint = self.cursor.get();
        for i in [hint, hint.wrapping_add(1)] {
            if self.entries.get(i).is_some_and(|(k, _)| k == key) {
                self.cursor.set(i);
                return Ok(i);
            }
        }
        let found = self.entries.binary_search_by(|(k, _)| k.cmp(key));
        if let Ok(i) = found {
            self.cursor.set(i);
        }
        found
    }

    pub fn get(&self, key: &PduKey) -> Option<&V> {
        let i = self.position(key).ok()?;
        self.entries.get(i).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &PduKey) -> Option<&mut V> {
        let i = self.position(key).ok()?;
        self.entries.get_mut(i).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &PduKey) -> bool {
        self.position(key).is_ok()
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: PduKey, value: V) -> Option<V> {
        match self.position(&key) {
            Ok(i) => self
                .entries
                .get_mut(i)
                .map(|(_, v)| std::mem::replace(v, value)),
            Err(i) if i == self.entries.len() => {
                self.entries.push((key, value));
                None
            }
            Err(i) => {
                // A PDU first decided on a later pass (out of order).
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

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

    fn k(frame: u32, index: u32) -> PduKey {
        PduKey { frame, index }
    }

    #[test]
    fn pdu_map_finds_every_key_in_any_order_and_keeps_them_sorted() {
        let mut m = PduMap::default();
        // First pass: in order, several PDUs per frame.
        for f in 1..200u32 {
            for i in 0..(f % 3) {
                assert_eq!(m.insert(k(f, i), f * 10 + i), None);
            }
        }
        // A PDU decided late (a later pass), out of order, and one replaced.
        assert_eq!(m.insert(k(3, 7), 1), None);
        assert_eq!(m.insert(k(5, 0), 2), Some(50));
        assert!(m.entries.windows(2).all(|w| w[0].0 < w[1].0));
        // Lookups in order, backwards and at random all agree with what was inserted.
        let keys: Vec<PduKey> = m.entries.iter().map(|e| e.0).collect();
        let mut rng = 12345u64;
        let random = (0..500).map(|_| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1);
            keys[(rng >> 33) as usize % keys.len()]
        });
        for key in keys
            .iter()
            .copied()
            .chain(keys.iter().rev().copied())
            .chain(random)
        {
            let want = match key {
                PduKey { frame: 3, index: 7 } => 1,
                PduKey { frame: 5, index: 0 } => 2,
                PduKey { frame, index } => frame * 10 + index,
            };
            assert_eq!(m.get(&key), Some(&want), "{key:?}");
        }
        assert_eq!(m.get(&k(3, 3)), None);
        assert_eq!(m.get(&k(0, 0)), None);
        assert_eq!(m.get(&k(999, 0)), None);
        if let Some(v) = m.get_mut(&k(7, 0)) {
            *v = 9;
        }
        assert_eq!(
            m.get(&k(7, 0)),
            Some(&9),
            "get_mut reaches the stored value"
        );
        assert!(m.contains_key(&k(199, 0)) && !m.contains_key(&k(199, 2)));
    }

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
