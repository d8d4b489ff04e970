//! Jute, the serialisation of ZooKeeper's records (`BinaryOutputArchive`), shared by the
//! client protocol (`zookeeper`), the quorum protocol (`zab`, whose transactions are client
//! records) and leader election (`zkelection`). Pure: bytes in, values out, each value with
//! the offset and length it came from so that the dissect layers can point at it.
//!
//! Encoding: int = 4 bytes BE, long = 8 bytes BE, boolean = 1 byte, ustring and buffer = int
//! length + bytes (length -1 = null), vector = int count (-1 = null) + elements. Records are
//! their fields back to back.
//!
//! Every parser works on a complete PDU. Lengths and counts are checked against the bytes
//! that remain before anything is allocated, so a claim of 2^31 elements fails at once.

use crate::common::At;
use nom::IResult;
use nom::bytes::complete::take;
use nom::error::{ErrorKind, ParseError};

/// Parser input: the PDU's bytes, tracking the offset from the PDU's first byte. (Like
/// nom_locate's `LocatedSpan`, without its line count: that counts the newlines of every
/// slice it makes, one memchr per field over binary data, 6% of the ZooKeeper dissector's
/// instructions in `tshark -q`.) It implements what nom's `take` and `be_u8` need; the
/// numbers are read by `be` below.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Input<'a> {
    offset: usize,
    fragment: &'a [u8],
}

impl<'a> Input<'a> {
    /// The offset of the first byte from the start of the PDU.
    pub fn location_offset(&self) -> usize {
        self.offset
    }

    /// The bytes not consumed yet.
    pub fn fragment(&self) -> &&'a [u8] {
        &self.fragment
    }
}

impl<'a> std::ops::Deref for Input<'a> {
    type Target = &'a [u8];

    fn deref(&self) -> &&'a [u8] {
        &self.fragment
    }
}

impl nom::InputLength for Input<'_> {
    fn input_len(&self) -> usize {
        self.fragment.len()
    }
}

impl nom::InputTake for Input<'_> {
    fn take(&self, count: usize) -> Self {
        Input {
            offset: self.offset,
            fragment: &self.fragment[..count],
        }
    }

    fn take_split(&self, count: usize) -> (Self, Self) {
        let (prefix, suffix) = self.fragment.split_at(count);
        (
            Input {
                offset: self.offset + count,
                fragment: suffix,
            },
            Input {
                offset: self.offset,
                fragment: prefix,
            },
        )
    }
}

impl<'a> nom::InputIter for Input<'a> {
    type Item = u8;
    type Iter = std::iter::Enumerate<Self::IterElem>;
    type IterElem = std::iter::Copied<std::slice::Iter<'a, u8>>;

    fn iter_indices(&self) -> Self::Iter {
        self.iter_elements().enumerate()
    }

    fn iter_elements(&self) -> Self::IterElem {
        self.fragment.iter().copied()
    }

    fn position<P: Fn(u8) -> bool>(&self, predicate: P) -> Option<usize> {
        self.fragment.iter().position(|&b| predicate(b))
    }

    fn slice_index(&self, count: usize) -> Result<usize, nom::Needed> {
        self.fragment.slice_index(count)
    }
}

impl nom::Slice<std::ops::RangeFrom<usize>> for Input<'_> {
    fn slice(&self, range: std::ops::RangeFrom<usize>) -> Self {
        Input {
            offset: self.offset + range.start,
            fragment: &self.fragment[range],
        }
    }
}

pub type PResult<'a, O> = IResult<Input<'a>, O>;

/// A jute `ustring` or `buffer`: `None` when the length is -1 (null). The span covers the
/// length prefix and the data.
pub type Counted<'a> = At<Option<&'a [u8]>>;

/// A `ustring`'s bytes as text for labels: lossy UTF-8, "(null)" for the null string.
pub fn text_or_null(b: Option<&[u8]>) -> String {
    b.map_or_else(
        || "(null)".to_string(),
        |b| crate::common::lossy(b).into_owned(),
    )
}

/// Wraps a parser so that its output carries its span.
pub fn at<'a, O>(
    mut p: impl FnMut(Input<'a>) -> PResult<'a, O>,
) -> impl FnMut(Input<'a>) -> PResult<'a, At<O>> {
    move |i: Input<'a>| {
        let off = i.location_offset();
        let (rest, val) = p(i)?;
        Ok((
            rest,
            At {
                off,
                len: rest.location_offset() - off,
                val,
            },
        ))
    }
}

pub fn fail<'a, O>(i: Input<'a>, kind: ErrorKind) -> PResult<'a, O> {
    Err(nom::Err::Error(nom::error::Error::from_error_kind(i, kind)))
}

/// The next `N` bytes, for a big-endian number: nom's `be_i32` and the like, with the same
/// error (`Eof`) when fewer remain, without their generic byte-by-byte loop (a reply
/// header's three numbers cost 165 instructions through them).
fn be<const N: usize>(i: Input<'_>) -> PResult<'_, [u8; N]> {
    match i.fragment.split_first_chunk::<N>() {
        Some((head, rest)) => Ok((
            Input {
                offset: i.offset + N,
                fragment: rest,
            },
            *head,
        )),
        None => fail(i, ErrorKind::Eof),
    }
}

/// A big-endian number of `N` bytes with its span.
fn number<const N: usize, T>(i: Input<'_>, from: fn([u8; N]) -> T) -> PResult<'_, At<T>> {
    let off = i.offset;
    let (rest, bytes) = be::<N>(i)?;
    Ok((
        rest,
        At {
            off,
            len: N,
            val: from(bytes),
        },
    ))
}

pub fn int(i: Input<'_>) -> PResult<'_, At<i32>> {
    number(i, i32::from_be_bytes)
}

pub fn long(i: Input<'_>) -> PResult<'_, At<i64>> {
    number(i, i64::from_be_bytes)
}

pub fn boolean(i: Input<'_>) -> PResult<'_, At<bool>> {
    number(i, |[b]: [u8; 1]| b != 0)
}

/// A `ustring` or `buffer`.
pub fn counted(i: Input<'_>) -> PResult<'_, Counted<'_>> {
    at(|i| {
        let (rest, n) = be::<4>(i)?;
        match i32::from_be_bytes(n) {
            -1 => Ok((rest, None)),
            n if n < 0 => fail(i, ErrorKind::LengthValue),
            n if n as usize > rest.fragment().len() => fail(i, ErrorKind::Eof),
            n => take(n as usize)(rest)
                .map(|(r, s): (Input<'_>, Input<'_>)| (r, Some(*s.fragment()))),
        }
    })(i)
}

/// A jute `vector`: count (-1 = null, shown as empty) then the elements. `min_elem` is the
/// smallest encoding of one element, which bounds the count by the bytes left.
pub fn vector<'a, O>(
    min_elem: usize,
    mut elem: impl FnMut(Input<'a>) -> PResult<'a, O>,
) -> impl FnMut(Input<'a>) -> PResult<'a, At<Vec<O>>> {
    move |i: Input<'a>| {
        let off = i.location_offset();
        let (mut rest, n) = be::<4>(i)?;
        let n = i32::from_be_bytes(n);
        if n < -1 || (n > 0 && (n as usize).saturating_mul(min_elem.max(1)) > rest.fragment().len())
        {
            return fail(i, ErrorKind::Count);
        }
        let mut out = Vec::with_capacity(n.max(0) as usize);
        for _ in 0..n.max(0) {
            let (r, v) = elem(rest)?;
            out.push(v);
            rest = r;
        }
        Ok((
            rest,
            At {
                off,
                len: rest.location_offset() - off,
                val: out,
            },
        ))
    }
}

/// Wraps a PDU's bytes as parser input (offset 0 = the PDU's length prefix).
pub fn input(bytes: &[u8]) -> Input<'_> {
    Input {
        offset: 0,
        fragment: bytes,
    }
}

/// Where parsing stopped and why, for an expert item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseFailure {
    pub off: usize,
    pub kind: ErrorKind,
}

impl ParseFailure {
    pub fn describe(&self) -> &'static str {
        match self.kind {
            ErrorKind::Eof => "record truncated: a field runs past the end of the PDU",
            ErrorKind::LengthValue => "negative length other than -1 (null)",
            ErrorKind::Count => "vector count larger than the PDU can hold",
            _ => "malformed record",
        }
    }
}

pub fn failure(e: nom::Err<nom::error::Error<Input<'_>>>) -> ParseFailure {
    match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => ParseFailure {
            off: e.input.location_offset(),
            kind: e.code,
        },
        nom::Err::Incomplete(_) => ParseFailure {
            off: 0,
            kind: ErrorKind::Eof,
        },
    }
}

// ---------------------------------------------------------------------------------------
// Records that more than one protocol carries (zookeeper.jute's data records)

/// `Id {ustring scheme; ustring id}`
#[derive(Clone, Debug, PartialEq)]
pub struct Id<'a> {
    pub scheme: Counted<'a>,
    pub id: Counted<'a>,
}

pub fn id(i: Input<'_>) -> PResult<'_, At<Id<'_>>> {
    at(|i| {
        let (i, scheme) = counted(i)?;
        let (i, id) = counted(i)?;
        Ok((i, Id { scheme, id }))
    })(i)
}

/// `ACL {int perms; Id id}`
#[derive(Clone, Debug, PartialEq)]
pub struct Acl<'a> {
    pub perms: At<i32>,
    pub id: At<Id<'a>>,
}

pub fn acl(i: Input<'_>) -> PResult<'_, At<Acl<'_>>> {
    at(|i| {
        let (i, perms) = int(i)?;
        let (i, id) = id(i)?;
        Ok((i, Acl { perms, id }))
    })(i)
}

pub fn acl_list(i: Input<'_>) -> PResult<'_, At<Vec<At<Acl<'_>>>>> {
    vector(12, acl)(i)
}

pub fn string_list(i: Input<'_>) -> PResult<'_, At<Vec<Counted<'_>>>> {
    vector(4, counted)(i)
}
