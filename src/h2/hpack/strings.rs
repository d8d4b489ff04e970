//! [`Str`] and [`Strings`]: where the names and values of decoded fields are kept.
//!
//! A dissector keeps every decoded field for the whole capture, and most fields repeat a
//! string the peer sent before (an indexed entry) or one of the static table. So a field
//! does not own its strings: it holds two [`Str`]s, 8 bytes each, and the octets live
//! - in the static table, for its names and values (nothing stored);
//! - in the [`Strings`] of the direction that decoded them, for every literal: each string
//!   literal is appended there once, and the dynamic table entry it may become, and every
//!   field that refers to that entry later, hold the same `Str`.
//!
//! This keeps a [`super::Field`] at 32 bytes of plain integers: decoding an indexed field
//! copies 16 bytes from the table entry and touches no reference count and no allocator,
//! and a literal costs one append to a buffer that grows by doubling. `Strings` only
//! grows; it is dropped with the connection.

use super::STATIC_TABLE;

/// Where one header name or value lies (see the module documentation). `Copy`, 8 bytes.
/// Read it with [`Strings::get`] on the `Strings` of the direction that decoded it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Str {
    /// Offset in `Strings`, or `STATIC | index << 1 | is_value` for the static table, or
    /// `UNKNOWN_AT`.
    at: u32,
    len: u32,
}

/// The `at` bit of a static table string.
const STATIC: u32 = 1 << 31;

/// The `at` of an unknown string (an entry from before the capture).
const UNKNOWN_AT: u32 = u32::MAX;

/// `Strings` never grows beyond this, so that an offset never has the `STATIC` bit.
const MAX_STRINGS: usize = (STATIC - 1) as usize;

/// The first allocation: a first request's or response's literals (authority, user agent,
/// cookies, dates) take a few hundred octets, so this saves the doublings from 8 up.
const FIRST_CAPACITY: usize = 512;

impl Str {
    /// A name or value the decoder could not know: a reference to a dynamic table entry
    /// inserted before the capture started. Not a size update's (those have none).
    pub const UNKNOWN: Str = Str {
        at: UNKNOWN_AT,
        len: 0,
    };

    /// The name of static table entry `index` (1..=61).
    #[inline]
    pub(super) fn static_name(index: u32) -> Str {
        Str {
            at: STATIC | index << 1,
            len: STATIC_TABLE
                .get((index as usize).wrapping_sub(1))
                .map_or(0, |e| e.0.len() as u32),
        }
    }

    /// The value of static table entry `index` (1..=61).
    #[inline]
    pub(super) fn static_value(index: u32) -> Str {
        Str {
            at: STATIC | index << 1 | 1,
            len: STATIC_TABLE
                .get((index as usize).wrapping_sub(1))
                .map_or(0, |e| e.1.len() as u32),
        }
    }

    /// False for [`Str::UNKNOWN`].
    #[inline]
    pub fn is_known(self) -> bool {
        self.at != UNKNOWN_AT
    }

    /// The length in octets (0 when unknown).
    #[inline]
    pub fn len(self) -> usize {
        self.len as usize
    }

    /// True for an empty string, and for an unknown one.
    #[inline]
    pub fn is_empty(self) -> bool {
        self.len == 0
    }
}

impl Default for Str {
    /// [`Str::UNKNOWN`]: what a record holds for a string not (yet) seen.
    fn default() -> Str {
        Str::UNKNOWN
    }
}

/// The octets of every string literal one direction's decoder has decoded (see the module
/// documentation).
#[derive(Clone, Debug, Default)]
pub struct Strings {
    bytes: Vec<u8>,
}

impl Strings {
    /// The octets of `s`; `None` when it is unknown. `s` must come from this `Strings` (or
    /// the static table); another's `Str` reads whatever lies there, never out of bounds.
    #[inline]
    pub fn get(&self, s: Str) -> Option<&[u8]> {
        if s.at == UNKNOWN_AT {
            None
        } else if s.at & STATIC != 0 {
            let index = (s.at & !STATIC) >> 1;
            let (name, value) = STATIC_TABLE.get((index as usize).wrapping_sub(1))?;
            Some(if s.at & 1 == 0 { name } else { value })
        } else {
            let start = s.at as usize;
            self.bytes.get(start..start + s.len as usize)
        }
    }

    /// The octets stored so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The offset the next string will start at.
    #[inline]
    pub(super) fn mark(&self) -> usize {
        self.bytes.len()
    }

    /// Forgets what was appended since `mark` (a representation that did not complete).
    pub(super) fn rewind(&mut self, mark: usize) {
        self.bytes.truncate(mark);
    }

    /// The buffer to append a string to; [`Strings::seal`] then names what was appended.
    #[inline]
    pub(super) fn buffer(&mut self) -> &mut Vec<u8> {
        if self.bytes.capacity() == 0 {
            self.bytes.reserve(FIRST_CAPACITY);
        }
        &mut self.bytes
    }

    /// The string appended since `mark`. Past 2 GiB of strings (a direction that sent
    /// thousands of maximal header blocks) nothing more is kept: the string is unknown.
    #[inline]
    pub(super) fn seal(&mut self, mark: usize) -> Str {
        let end = self.bytes.len();
        if end > MAX_STRINGS {
            self.bytes.truncate(mark);
            return Str::UNKNOWN;
        }
        Str {
            at: mark as u32,
            len: (end - mark) as u32,
        }
    }

    /// Appends `bytes`.
    #[inline]
    pub(super) fn push(&mut self, bytes: &[u8]) -> Str {
        let mark = self.mark();
        self.buffer().extend_from_slice(bytes);
        self.seal(mark)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_string_reads_back() {
        let mut s = Strings::default();
        let a = s.push(b"x-custom");
        let b = s.push(b"");
        let c = s.push(b"value");
        assert_eq!(s.get(a), Some(&b"x-custom"[..]));
        assert_eq!(s.get(b), Some(&b""[..]));
        assert_eq!(s.get(c), Some(&b"value"[..]));
        assert_eq!(s.get(Str::static_name(2)), Some(&b":method"[..]));
        assert_eq!(s.get(Str::static_value(2)), Some(&b"GET"[..]));
        assert_eq!(s.get(Str::static_value(61)), Some(&b""[..]));
        assert_eq!(s.get(Str::UNKNOWN), None);
        assert!(!Str::UNKNOWN.is_known() && c.is_known());
        assert_eq!(std::mem::size_of::<Str>(), 8);
    }

    #[test]
    fn a_rewound_string_is_gone() {
        let mut s = Strings::default();
        let a = s.push(b"kept");
        let mark = s.mark();
        s.buffer().extend_from_slice(b"half a representation");
        s.rewind(mark);
        assert_eq!(s.len(), 4);
        assert_eq!(s.get(a), Some(&b"kept"[..]));
    }
}
