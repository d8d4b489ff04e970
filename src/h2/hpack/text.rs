//! [`Text`]: an owned header name or value, for what is kept apart from the decoded
//! blocks (a stream's method, path and content type), without an allocation for what real
//! traffic mostly carries. Decoded fields themselves name their strings with
//! [`super::Str`]s.
//!
//! Two cases:
//! - a string of at most [`INLINE_CAPACITY`] octets (`/page00.html`, `GET`,
//!   `application/grpc`) lives inside the `Text` itself;
//! - a longer one is an `Rc<[u8]>`, shared by every clone.
//!
//! A `Text` is 24 bytes whichever case it is. It dereferences to `[u8]`; equality is that
//! of the octets, never of the representation.

use std::fmt;
use std::ops::Deref;
use std::rc::Rc;

/// The longest string kept inline (the enum stays at 24 bytes: 22 octets, a length, a tag).
pub const INLINE_CAPACITY: usize = 22;

/// A header name or value (see the module documentation).
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Inline {
        len: u8,
        bytes: [u8; INLINE_CAPACITY],
    },
    Shared(Rc<[u8]>),
}

impl Text {
    /// A copy of `bytes`: inline when short, else in one shared allocation.
    #[inline]
    pub fn copy_from(bytes: &[u8]) -> Text {
        if bytes.len() <= INLINE_CAPACITY {
            let mut inline = [0u8; INLINE_CAPACITY];
            inline[..bytes.len()].copy_from_slice(bytes);
            Text(Repr::Inline {
                len: bytes.len() as u8,
                bytes: inline,
            })
        } else {
            Text(Repr::Shared(Rc::from(bytes)))
        }
    }

    /// The octets.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Shared(b) => b,
        }
    }
}

impl Deref for Text {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<Rc<[u8]>> for Text {
    fn from(bytes: Rc<[u8]>) -> Text {
        if bytes.len() <= INLINE_CAPACITY {
            Text::copy_from(&bytes)
        } else {
            Text(Repr::Shared(bytes))
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Text {}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_representation_is_its_octets() {
        let long = vec![b'x'; INLINE_CAPACITY + 1];
        let cases = [
            Text::copy_from(b":method"),
            Text::copy_from(b""),
            Text::copy_from(&long[..INLINE_CAPACITY]),
            Text::copy_from(&long),
            Text::from(Rc::<[u8]>::from(&b"/page00.html"[..])),
        ];
        let expected: [&[u8]; 5] = [
            b":method",
            b"",
            &long[..INLINE_CAPACITY],
            &long,
            b"/page00.html",
        ];
        for (t, e) in cases.iter().zip(expected) {
            assert_eq!(t.as_bytes(), e);
            assert_eq!(t, &Text::copy_from(e));
        }
        assert!(matches!(cases[3].0, Repr::Shared(_)));
        assert!(matches!(cases[2].0, Repr::Inline { .. }));
        assert_eq!(std::mem::size_of::<Text>(), 24);
        assert_eq!(std::mem::size_of::<Option<Text>>(), 24);
    }

    #[test]
    fn a_long_shared_string_is_not_copied() {
        let rc: Rc<[u8]> = Rc::from(&[7u8; 100][..]);
        let t = Text::from(rc.clone());
        assert!(std::ptr::eq(t.as_bytes(), &*rc));
    }
}
