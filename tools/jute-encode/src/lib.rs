//! Test-only: a small writer of ZooKeeper's jute serialisation (and `hex`, for bytes copied
//! from captures), so that unit tests, fuzz
//! harnesses and `tools/pcapgen` build records from their fields instead of magic byte
//! arrays. Everything is big-endian, as jute's `BinaryOutputArchive` writes it: `int` (4
//! bytes), `long` (8), `bool` (1), `buffer`/`ustring` (an `int` length, -1 for null, then the
//! bytes) and `vector` (an `int` count, -1 for null, then the elements). A PDU on the client
//! port, and a ZAB quorum packet, is a record behind an `int` length (`pdu`).
//!
//! ```
//! use jute_encode::JuteWriter;
//! // getData "/a", watch: xid 1, opcode 4
//! let b = JuteWriter::new().int(1).int(4).ustring("/a").bool(true).pdu();
//! assert_eq!(b, [0, 0, 0, 15, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2, b'/', b'a', 1]);
//! ```

/// A jute record being written. Every writer method appends and returns `&mut Self`, so
/// calls chain; `finish` and `pdu` hand the bytes out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JuteWriter {
    buf: Vec<u8>,
}

impl JuteWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A jute `int` (4 bytes).
    pub fn int(&mut self, v: i32) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }

    /// A jute `long` (8 bytes).
    pub fn long(&mut self, v: i64) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }

    /// A jute `boolean` (1 byte, 0 or 1).
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.raw(&[u8::from(v)])
    }

    /// A jute `buffer`: its length, then its bytes.
    pub fn buffer(&mut self, b: &[u8]) -> &mut Self {
        self.length(b.len()).raw(b)
    }

    /// A jute `ustring` (a UTF-8 `buffer`).
    pub fn ustring(&mut self, s: &str) -> &mut Self {
        self.buffer(s.as_bytes())
    }

    /// A null `buffer`, `ustring` or `vector`: length -1.
    pub fn null(&mut self) -> &mut Self {
        self.int(-1)
    }

    /// A `buffer` that may be null.
    pub fn opt_buffer(&mut self, b: Option<&[u8]>) -> &mut Self {
        match b {
            Some(b) => self.buffer(b),
            None => self.null(),
        }
    }

    /// A jute `vector`: the count, then each element as `each` writes it.
    pub fn vector<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Self, &T)) -> &mut Self {
        self.length(items.len());
        for item in items {
            each(self, item);
        }
        self
    }

    /// A length or count as jute writes it (an `int`); panics above `i32::MAX`, which no
    /// test record reaches.
    pub fn length(&mut self, n: usize) -> &mut Self {
        self.int(i32::try_from(n).expect("jute length above i32::MAX"))
    }

    /// Bytes as they are, with no length (a nested record already written, a bogus field).
    pub fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }

    /// The bytes written so far.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The record, leaving the writer empty.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// The record behind its 4-byte length (a client-port PDU), leaving the writer empty.
    pub fn pdu(&mut self) -> Vec<u8> {
        pdu(&self.finish())
    }
}

/// `body` behind its 4-byte big-endian length.
pub fn pdu(body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + body.len());
    v.extend_from_slice(&(body.len() as u32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// Bytes from hex digits, whitespace ignored (for bytes copied from a capture); panics on
/// anything else, as a test should.
pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
                .unwrap_or_else(|| panic!("bad hex at {i} of {s:?}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_are_big_endian() {
        let b = JuteWriter::new().int(-2).long(1).bool(false).finish();
        assert_eq!(b, [0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    }

    #[test]
    fn buffers_vectors_and_null() {
        let b = JuteWriter::new()
            .buffer(b"ab")
            .null()
            .opt_buffer(None)
            .vector(&["x", "yz"], |w, s| {
                w.ustring(s);
            })
            .finish();
        let want: &[u8] = &[
            0, 0, 0, 2, b'a', b'b', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 0,
            0, 0, 1, b'x', 0, 0, 0, 2, b'y', b'z',
        ];
        assert_eq!(b, want);
    }

    #[test]
    fn hex_ignores_whitespace() {
        assert_eq!(hex("00ff 7f\n 10"), [0, 0xff, 0x7f, 0x10]);
    }

    #[test]
    fn pdu_prefixes_the_length() {
        assert_eq!(pdu(&[7, 8]), [0, 0, 0, 2, 7, 8]);
        let mut w = JuteWriter::new();
        assert_eq!(w.int(5).pdu(), [0, 0, 0, 4, 0, 0, 0, 5]);
        assert!(w.bytes().is_empty());
    }
}
