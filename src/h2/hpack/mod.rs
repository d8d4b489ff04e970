//! HPACK header block decoding (RFC 7541), written for a dissector: every representation is
//! reported with its offset and length in the block, its resolved name and value, and the
//! dynamic table size after it; [`Field::layout`] reads its index (and whether that is in the
//! static table) and both string literals (Huffman flag, encoded length) back from the block
//! when the field is shown. Pure, safe Rust: no Wireshark.
//!
//! One [`Decoder`] per direction of a connection holds that direction's dynamic table. The
//! caller feeds it complete header blocks (a HEADERS or PUSH_PROMISE payload's block fragment
//! plus its CONTINUATIONs, concatenated) in capture order, on the first pass, and stores the
//! [`HeaderBlock`]s it returns.
//!
//! Decoding stops at the first error (the error and its offsets are in
//! [`HeaderBlock::error`]); every representation before it is applied to the table and
//! returned, the failing one is neither applied nor returned. So the table is always in the
//! state an RFC decoder would have after the last good representation. (After an error, the
//! HTTP/2 connection is dead anyway: RFC 9113 4.3, COMPRESSION_ERROR.)
//!
//! A dynamic table size update after the first header field of a block is an error
//! ([`HpackErrorKind::SizeUpdateNotAtStart`]) and stops decoding like any other error.
//!
//! Memory bounds: the dynamic table never holds more than its maximum size in
//! `name.len + value.len + 32` octets, and the maximum is capped at [`TABLE_SIZE_CAP`]
//! (1 MiB) whatever SETTINGS_HEADER_TABLE_SIZE announces (up to 2^32-1); size updates above
//! the cap are errors. A decoded string is at most 8/5 of its encoded length, and a length is
//! checked against the block before anything is allocated. A block of `n` octets yields at
//! most `n` fields; a field's strings are not copied: it names them with two [`Str`]s, which
//! the direction's [`Strings`] (every literal, once) or the static table resolve.

use super::huffman::{self, HuffmanError};
use std::collections::VecDeque;
use std::fmt;

mod strings;
mod text;
pub use strings::{Str, Strings};
pub use text::{INLINE_CAPACITY, Text};

/// SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 6.5.2), the table size at the start
/// of a connection.
pub const DEFAULT_TABLE_SIZE: u32 = 4096;

/// The largest dynamic table we keep, whatever the peer's SETTINGS allow (1 MiB). Real
/// implementations use 4 KiB to 64 KiB.
pub const TABLE_SIZE_CAP: u32 = 1 << 20;

/// The per-entry overhead of RFC 7541 4.1.
pub const ENTRY_OVERHEAD: u32 = 32;

/// The number of static table entries; dynamic indices start at `STATIC_TABLE_LEN + 1`.
pub const STATIC_TABLE_LEN: u32 = 61;

/// An integer may have at most this many continuation octets (5 x 7 bits cover any `u32`).
pub const MAX_INTEGER_CONTINUATIONS: usize = 5;

/// RFC 7541 Appendix A, index 1 first.
static STATIC_TABLE: [(&[u8], &[u8]); 61] = [
    (b":authority", b""),                   // 1
    (b":method", b"GET"),                   // 2
    (b":method", b"POST"),                  // 3
    (b":path", b"/"),                       // 4
    (b":path", b"/index.html"),             // 5
    (b":scheme", b"http"),                  // 6
    (b":scheme", b"https"),                 // 7
    (b":status", b"200"),                   // 8
    (b":status", b"204"),                   // 9
    (b":status", b"206"),                   // 10
    (b":status", b"304"),                   // 11
    (b":status", b"400"),                   // 12
    (b":status", b"404"),                   // 13
    (b":status", b"500"),                   // 14
    (b"accept-charset", b""),               // 15
    (b"accept-encoding", b"gzip, deflate"), // 16
    (b"accept-language", b""),              // 17
    (b"accept-ranges", b""),                // 18
    (b"accept", b""),                       // 19
    (b"access-control-allow-origin", b""),  // 20
    (b"age", b""),                          // 21
    (b"allow", b""),                        // 22
    (b"authorization", b""),                // 23
    (b"cache-control", b""),                // 24
    (b"content-disposition", b""),          // 25
    (b"content-encoding", b""),             // 26
    (b"content-language", b""),             // 27
    (b"content-length", b""),               // 28
    (b"content-location", b""),             // 29
    (b"content-range", b""),                // 30
    (b"content-type", b""),                 // 31
    (b"cookie", b""),                       // 32
    (b"date", b""),                         // 33
    (b"etag", b""),                         // 34
    (b"expect", b""),                       // 35
    (b"expires", b""),                      // 36
    (b"from", b""),                         // 37
    (b"host", b""),                         // 38
    (b"if-match", b""),                     // 39
    (b"if-modified-since", b""),            // 40
    (b"if-none-match", b""),                // 41
    (b"if-range", b""),                     // 42
    (b"if-unmodified-since", b""),          // 43
    (b"last-modified", b""),                // 44
    (b"link", b""),                         // 45
    (b"location", b""),                     // 46
    (b"max-forwards", b""),                 // 47
    (b"proxy-authenticate", b""),           // 48
    (b"proxy-authorization", b""),          // 49
    (b"range", b""),                        // 50
    (b"referer", b""),                      // 51
    (b"refresh", b""),                      // 52
    (b"retry-after", b""),                  // 53
    (b"server", b""),                       // 54
    (b"set-cookie", b""),                   // 55
    (b"strict-transport-security", b""),    // 56
    (b"transfer-encoding", b""),            // 57
    (b"user-agent", b""),                   // 58
    (b"vary", b""),                         // 59
    (b"via", b""),                          // 60
    (b"www-authenticate", b""),             // 61
];

/// Static table entry `i` (1..=61) as `(name, value)`.
pub fn static_entry(i: u32) -> Option<(&'static [u8], &'static [u8])> {
    let slot = usize::try_from(i.checked_sub(1)?).ok()?;
    STATIC_TABLE.get(slot).copied()
}

/// Which of the five representations of RFC 7541 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Representation {
    /// 6.1 Indexed Header Field (`1xxxxxxx`, 7-bit index).
    Indexed,
    /// 6.2.1 Literal Header Field with Incremental Indexing (`01xxxxxx`, 6-bit index).
    LiteralIncremental,
    /// 6.2.2 Literal Header Field without Indexing (`0000xxxx`, 4-bit index).
    LiteralWithoutIndexing,
    /// 6.2.3 Literal Header Field Never Indexed (`0001xxxx`, 4-bit index).
    LiteralNeverIndexed,
    /// 6.3 Dynamic Table Size Update (`001xxxxx`, 5-bit size).
    SizeUpdate,
}

impl Representation {
    /// The kind of the representation that starts with octet `first`.
    fn of(first: u8) -> Representation {
        if first & 0x80 != 0 {
            Representation::Indexed
        } else if first & 0x40 != 0 {
            Representation::LiteralIncremental
        } else if first & 0x20 != 0 {
            Representation::SizeUpdate
        } else if first & 0x10 != 0 {
            Representation::LiteralNeverIndexed
        } else {
            Representation::LiteralWithoutIndexing
        }
    }

    /// The prefix size, in bits, of the integer in its first octet.
    fn prefix_bits(self) -> u8 {
        match self {
            Representation::Indexed => 7,
            Representation::LiteralIncremental => 6,
            Representation::SizeUpdate => 5,
            Representation::LiteralWithoutIndexing | Representation::LiteralNeverIndexed => 4,
        }
    }

    /// The RFC's name, for the tree.
    pub fn name(self) -> &'static str {
        match self {
            Representation::Indexed => "Indexed Header Field",
            Representation::LiteralIncremental => "Literal Header Field with Incremental Indexing",
            Representation::LiteralWithoutIndexing => "Literal Header Field without Indexing",
            Representation::LiteralNeverIndexed => "Literal Header Field Never Indexed",
            Representation::SizeUpdate => "Dynamic Table Size Update",
        }
    }
}

/// A string literal (RFC 7541 5.2) within the block.
///
/// Offsets are `u32`, not `usize`, here and in [`Field`]: a dissector keeps every decoded
/// block of a capture, and a block is at most a few MiB (the connection caps it at 1 MiB),
/// so the narrower type halves what each field costs. A literal is 12 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Literal {
    /// Offset of its first octet (the H bit and length prefix) in the block.
    pub off: u32,
    /// The encoded length (the integer after the H bit).
    pub raw_len: u32,
    /// Octets of the length prefix (1 to 6); the encoded octets follow it.
    pub prefix_len: u8,
    /// The H bit: the octets are Huffman-coded.
    pub huffman: bool,
}

impl Literal {
    /// Offset of the encoded octets (after the length prefix).
    pub fn data_off(&self) -> usize {
        self.off as usize + usize::from(self.prefix_len)
    }

    /// Length of the whole literal: length prefix plus encoded octets.
    pub fn total_len(&self) -> usize {
        usize::from(self.prefix_len) + self.raw_len as usize
    }

    /// Offset just after the literal.
    pub fn end(&self) -> usize {
        self.data_off() + self.raw_len as usize
    }
}

/// One decoded representation, as kept for the life of a capture: what only the decoder
/// knew when it decoded the block (the resolved name and value, the table size after), and
/// where the representation lies. Where its parts lie inside it (index, literals, new size)
/// is re-read from the block's own octets by [`Field::layout`] when the field is shown, and
/// its strings are [`Str`]s into the direction's [`Strings`], so a field is 32 bytes of
/// plain integers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// Offset of the representation's first octet in the block.
    pub off: u32,
    /// Length of the whole representation.
    pub len: u32,
    pub repr: Representation,
    /// The dynamic table size in octets after this representation (see
    /// [`Decoder::table_size`]).
    pub table_size_after: u32,
    /// The header name: [`Str::UNKNOWN`] for a size update, and for a reference to a
    /// dynamic entry that was inserted before the capture started (mid-stream decoder).
    pub name: Str,
    /// The header value; unknown as for `name` (for a literal it is always known).
    pub value: Str,
}

/// Where the parts of one representation lie, read from the block's octets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Layout {
    /// The index (Indexed) or the name index (a literal with an indexed name); `None` for a
    /// literal with a literal name and for a size update.
    pub index: Option<u32>,
    /// `index` is in the static table (1..=61).
    pub from_static: bool,
    /// The name literal, when the name is not indexed.
    pub name_literal: Option<Literal>,
    /// The value literal (every literal representation has one).
    pub value_literal: Option<Literal>,
    /// The new maximum table size (SizeUpdate only).
    pub new_size: Option<u32>,
}

impl Field {
    /// A header field (not a size update) whose name or value is unknown because it refers
    /// to a dynamic entry older than the capture.
    pub fn is_unknown(&self) -> bool {
        self.repr != Representation::SizeUpdate && !(self.name.is_known() && self.value.is_known())
    }

    /// Offset just after the representation.
    pub fn end(&self) -> usize {
        self.off as usize + self.len as usize
    }

    /// The index, literals and new size of this representation, read again from `block`,
    /// the block it was decoded from, with the parsing steps the decoder used. Never fails:
    /// given another block, it returns what it could read.
    pub fn layout(&self, block: &[u8]) -> Layout {
        let mut layout = Layout::default();
        let Ok((n, pos)) = decode_integer(block, self.off as usize, self.repr.prefix_bits()) else {
            return layout;
        };
        match self.repr {
            Representation::SizeUpdate => layout.new_size = Some(n),
            Representation::Indexed => layout.index = Some(n),
            _ => {
                let mut pos = pos;
                if n == 0 {
                    let Ok(lit) = literal_header(block, pos) else {
                        return layout;
                    };
                    layout.name_literal = Some(lit);
                    pos = lit.end();
                } else {
                    layout.index = Some(n);
                }
                layout.value_literal = literal_header(block, pos).ok();
            }
        }
        layout.from_static = layout.index.is_some_and(|i| i <= STATIC_TABLE_LEN);
        layout
    }
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HpackErrorKind {
    /// An integer above `u32::MAX`, or with more than [`MAX_INTEGER_CONTINUATIONS`]
    /// continuation octets.
    IntegerOverflow,
    /// The block ends inside a representation: in an integer, or a string literal's length
    /// runs past the end of the block.
    Truncated,
    /// Index 0 in an Indexed Header Field (RFC 7541 6.1).
    IndexZero,
    /// An index beyond the static and the dynamic table.
    IndexOutOfRange { index: u32 },
    /// An invalid Huffman-coded string.
    Huffman(HuffmanError),
    /// A dynamic table size update above the protocol limit (SETTINGS_HEADER_TABLE_SIZE as
    /// acknowledged, capped at [`TABLE_SIZE_CAP`]).
    SizeUpdateTooLarge { size: u32, limit: u32 },
    /// A dynamic table size update after a header field in the same block (RFC 7541 4.2).
    SizeUpdateNotAtStart,
    /// The limit was lowered below the table's maximum size, and the next block does not
    /// start with a size update (RFC 7541 4.2).
    SizeUpdateMissing { limit: u32 },
}

impl fmt::Display for HpackErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HpackErrorKind::IntegerOverflow => f.write_str("integer overflow"),
            HpackErrorKind::Truncated => f.write_str("header block truncated"),
            HpackErrorKind::IndexZero => f.write_str("index 0 is not allowed"),
            HpackErrorKind::IndexOutOfRange { index } => {
                write!(f, "index {index} beyond the header tables")
            }
            HpackErrorKind::Huffman(e) => e.fmt(f),
            HpackErrorKind::SizeUpdateTooLarge { size, limit } => {
                write!(f, "table size update to {size} above the limit {limit}")
            }
            HpackErrorKind::SizeUpdateNotAtStart => {
                f.write_str("table size update after a header field")
            }
            HpackErrorKind::SizeUpdateMissing { limit } => {
                write!(f, "missing table size update to at most {limit}")
            }
        }
    }
}

/// An error, located in the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HpackError {
    pub kind: HpackErrorKind,
    /// Offset of the representation that failed (decoding stopped there; the rest of the
    /// block, `off..`, is undecoded).
    pub off: usize,
    /// Offset of the offending element inside it: the integer or the string literal (equal
    /// to `off` when the representation's first octet is at fault). Always at most
    /// `block.len()`, and equal to it only for `Truncated` (the block ends right before a
    /// string literal) and for `SizeUpdateMissing` on an empty block.
    pub at: usize,
}

impl fmt::Display for HpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for HpackError {}

/// One decoded header block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeaderBlock {
    /// The representations decoded, in order, up to the first error. A boxed slice, with
    /// no spare capacity: blocks are kept for the whole capture.
    pub fields: Box<[Field]>,
    /// The first error, if any; the block is undecoded from `error.off` on. (Boxed: blocks
    /// are kept for the whole capture, and almost all of them have none.)
    pub error: Option<Box<HpackError>>,
}

/// How far a header block arriving in pieces is decoded (see [`Decoder::decode_more`]).
#[derive(Debug, Default)]
pub struct Progress {
    fields: Vec<Field>,
    /// Offset of the first representation not decoded yet.
    pos: usize,
    header_seen: bool,
    checked_start: bool,
    error: Option<HpackError>,
}

impl Progress {
    /// The fields decoded so far.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    pub fn into_block(self) -> HeaderBlock {
        HeaderBlock {
            fields: self.fields.into_boxed_slice(),
            error: self.error.map(Box::new),
        }
    }
}

/// A dynamic table entry. `name` is unknown when it was inserted by a literal whose name
/// index referred to an entry older than the capture; its `size` then leaves the name out (a
/// lower bound).
#[derive(Debug, Clone, Copy)]
struct Entry {
    name: Str,
    value: Str,
    size: u32,
}

/// The decoding side of one direction of a connection: the dynamic table and its limits.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// Newest first: `entries[0]` is index 62.
    entries: VecDeque<Entry>,
    /// Sum of `entries[..].size`.
    size: u32,
    /// The table's maximum size (changed by size updates).
    max_size: u32,
    /// The protocol limit on `max_size` (SETTINGS_HEADER_TABLE_SIZE, capped).
    limit: u32,
    /// `limit` comes from the connection start or from SETTINGS seen; false for a mid-stream
    /// decoder until [`Decoder::set_max_table_size_limit`].
    limit_known: bool,
    /// `max_size` is known: from the connection start or a size update. False for a
    /// mid-stream decoder until its first size update (`max_size` is then an assumption).
    max_size_known: bool,
    /// Entries from before the capture may still sit behind (older than) `entries`
    /// (meaningful when `max_size_known`).
    unknown_tail: bool,
    /// How many of `entries` have an unknown name.
    unknown_names: usize,
    /// The limit was lowered below `max_size`: the next block must start with a size update.
    update_required: bool,
    /// The octets of every literal decoded, kept for the fields that name them. Kept
    /// across [`Decoder::restart_mid_stream`].
    strings: Strings,
    /// Reused by [`Decoder::decode_block`] for the fields of one block.
    block_fields: Vec<Field>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

/// What an index resolves to (both unknown for an entry from before the capture).
struct Resolved {
    name: Str,
    value: Str,
}

/// Result of one step, or the error kind and the offset of the offending element.
type Step<T> = Result<T, (HpackErrorKind, usize)>;

/// An offset in a block as stored in [`Field`] and [`Literal`]. Blocks longer than 4 GiB
/// cannot occur (HTTP/2 frames are at most 16 MiB and the connection caps a block at
/// 1 MiB); should one come, offsets saturate rather than wrap.
fn offset32(off: usize) -> u32 {
    u32::try_from(off).unwrap_or(u32::MAX)
}

/// The header of the string literal at `pos` (its H bit and length), checked to fit in the
/// block.
fn literal_header(block: &[u8], pos: usize) -> Result<Literal, HpackErrorKind> {
    let huffman = block.get(pos).is_some_and(|&b| b & 0x80 != 0);
    let (raw_len, data) = decode_integer(block, pos, 7)?;
    data.checked_add(raw_len as usize)
        .filter(|&end| end <= block.len())
        .ok_or(HpackErrorKind::Truncated)?;
    Ok(Literal {
        off: offset32(pos),
        raw_len,
        // At most 1 + MAX_INTEGER_CONTINUATIONS octets.
        prefix_len: (data - pos) as u8,
        huffman,
    })
}

/// Decodes an integer with an `n`-bit prefix (RFC 7541 5.1; `1 <= n <= 8`) whose first octet
/// is `block[pos]`. Returns the value and the offset after it.
fn decode_integer(block: &[u8], pos: usize, n: u8) -> Result<(u32, usize), HpackErrorKind> {
    let first = *block.get(pos).ok_or(HpackErrorKind::Truncated)?;
    let mask = ((1u16 << n.clamp(1, 8)) - 1) as u8;
    let mut value = u64::from(first & mask);
    let mut next = pos + 1;
    if value < u64::from(mask) {
        return Ok((value as u32, next));
    }
    let mut shift = 0u32;
    let mut count = 0usize;
    loop {
        if count == MAX_INTEGER_CONTINUATIONS {
            return Err(HpackErrorKind::IntegerOverflow);
        }
        let b = *block.get(next).ok_or(HpackErrorKind::Truncated)?;
        next += 1;
        count += 1;
        value += u64::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    // At most 8 + 5 * 7 = 43 bits, so no u64 overflow above.
    let value = u32::try_from(value).map_err(|_| HpackErrorKind::IntegerOverflow)?;
    Ok((value, next))
}

impl Decoder {
    /// A decoder for a connection captured from its start: empty table, maximum size and
    /// limit 4096.
    pub fn new() -> Self {
        Decoder {
            entries: VecDeque::new(),
            size: 0,
            max_size: DEFAULT_TABLE_SIZE,
            limit: DEFAULT_TABLE_SIZE,
            limit_known: true,
            max_size_known: true,
            unknown_tail: false,
            unknown_names: 0,
            update_required: false,
            strings: Strings::default(),
            block_fields: Vec::new(),
        }
    }

    /// A decoder for a connection whose start was not captured. The table may hold entries
    /// we never saw: an index beyond the entries we know resolves to an unknown name and
    /// value (not an error) as long as such older entries can still be there. Entries
    /// inserted from now on are known and indexed correctly; unknown entries are the oldest,
    /// so they are evicted first, and eviction of ours is computed from their sizes as usual.
    ///
    /// The maximum size is unknown until the first size update: it is assumed to be 4096
    /// (the default, and what `max_size()` shows) for eviction, but since the real one may
    /// be larger, an entry we evicted under that assumption may still be referenced, so
    /// until then any index beyond the known entries (within what the limit allows: each
    /// entry takes at least 32 octets) is unknown rather than an error. From the first size
    /// update on, unknown older entries can only remain while our known entries leave room
    /// for one (32 octets) below the maximum size; once they don't, the table is complete.
    ///
    /// The limit is unknown until [`Decoder::set_max_table_size_limit`]: until then a size
    /// update above 4096 raises it (up to [`TABLE_SIZE_CAP`]) instead of being an error.
    pub fn new_mid_stream() -> Self {
        Decoder {
            limit_known: false,
            max_size_known: false,
            unknown_tail: true,
            ..Decoder::new()
        }
    }

    /// Starts over as [`Decoder::new_mid_stream`] (after a block we could not decode, whose
    /// table insertions are lost), keeping the strings that earlier fields name.
    pub fn restart_mid_stream(&mut self) {
        let strings = std::mem::take(&mut self.strings);
        *self = Decoder {
            strings,
            ..Decoder::new_mid_stream()
        };
    }

    /// The octets of the strings that this decoder's fields name.
    pub fn strings(&self) -> &Strings {
        &self.strings
    }

    /// Keeps octets that no block brought (a user's fake header) with this decoder's
    /// strings, for records that name strings the same way as fields.
    pub fn keep(&mut self, bytes: &[u8]) -> Str {
        self.strings.push(bytes)
    }

    /// Sets the protocol limit on the table size: SETTINGS_HEADER_TABLE_SIZE of the side
    /// that decodes with this table, once the encoding side has acknowledged it. Capped at
    /// [`TABLE_SIZE_CAP`]. If the table's maximum size is above the new limit it shrinks now
    /// (evicting), and the next block must start with a size update (RFC 7541 4.2), else
    /// [`HpackErrorKind::SizeUpdateMissing`].
    ///
    /// For a mid-stream decoder whose maximum size is still an assumption, the assumption is
    /// lowered to the limit, and no size update is required.
    pub fn set_max_table_size_limit(&mut self, n: u32) {
        self.limit = n.min(TABLE_SIZE_CAP);
        self.limit_known = true;
        if self.max_size > self.limit {
            self.max_size = self.limit;
            self.update_required = self.max_size_known;
            self.evict_to(self.max_size);
        }
    }

    /// The number of dynamic table entries we know (those of a mid-stream decoder's unknown
    /// past not counted).
    pub fn table_len(&self) -> usize {
        self.entries.len()
    }

    /// The dynamic table size in octets (RFC 7541 4.1) of the entries we know. Exact when
    /// [`Decoder::table_complete`]; otherwise a lower bound.
    pub fn table_size(&self) -> u32 {
        self.size
    }

    /// The dynamic table's maximum size (the last size update, or the limit if that is
    /// lower).
    pub fn max_size(&self) -> u32 {
        self.max_size
    }

    /// The protocol limit on the maximum size (see [`Decoder::set_max_table_size_limit`]).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// We know every entry of the table, and every entry's size: always true for
    /// [`Decoder::new`], and for [`Decoder::new_mid_stream`] once the unknown past has been
    /// evicted.
    pub fn table_complete(&self) -> bool {
        self.max_size_known && !self.unknown_tail && self.unknown_names == 0
    }

    /// The maximum size is known (always, except for a mid-stream decoder before its first
    /// size update, when [`Decoder::max_size`] is an assumption).
    pub fn max_size_known(&self) -> bool {
        self.max_size_known
    }

    /// The dynamic table we know, newest (index 62) first, as `(name, value)`; `name` is
    /// `None` if unknown.
    pub fn dynamic_entries(&self) -> impl Iterator<Item = (Option<&[u8]>, &[u8])> + '_ {
        self.entries.iter().map(|e| {
            (
                self.strings.get(e.name),
                self.strings.get(e.value).unwrap_or_default(),
            )
        })
    }

    /// Decodes one complete header block, applying it to the table. Never panics; stops at
    /// the first error (see the module documentation).
    pub fn decode_block(&mut self, block: &[u8]) -> HeaderBlock {
        let mut fields = std::mem::take(&mut self.block_fields);
        fields.clear();
        let error = self.decode_into(block, &mut fields);
        // One allocation of the exact size, filled by one bitwise copy (`split_off` moves
        // the fields out); the working vector keeps its capacity for the next block.
        let kept = HeaderBlock {
            fields: fields.split_off(0).into_boxed_slice(),
            error: error.map(Box::new),
        };
        self.block_fields = fields;
        kept
    }

    /// Decodes one complete header block, applying it to the table, and appends its
    /// representations to `out` (which the caller may reuse from block to block: decoding
    /// then allocates nothing but the strings it keeps). Returns the first error, as
    /// [`HeaderBlock::error`] would hold it.
    pub fn decode_into(&mut self, block: &[u8], out: &mut Vec<Field>) -> Option<HpackError> {
        let mut progress = Progress {
            fields: std::mem::take(out),
            ..Progress::default()
        };
        self.decode_more(block, &mut progress, true);
        *out = progress.fields;
        progress.error
    }

    /// Decodes a header block that arrives in pieces (a HEADERS or PUSH_PROMISE fragment,
    /// then CONTINUATION fragments): `block` holds the fragments so far, and every
    /// representation complete in it is decoded and applied to the table now, as nghttp2's
    /// inflater does (so a field shows in the frame that holds its last octet, on the first
    /// pass already). A representation cut off at the end waits for the next fragment;
    /// with `last`, it is an error.
    pub fn decode_more(&mut self, block: &[u8], progress: &mut Progress, last: bool) {
        if progress.error.is_some() {
            return;
        }
        if !progress.checked_start {
            if block.is_empty() && !last {
                return;
            }
            progress.checked_start = true;
            if self.update_required && block.first().is_none_or(|&b| b & 0xe0 != 0x20) {
                progress.error = Some(HpackError {
                    kind: HpackErrorKind::SizeUpdateMissing { limit: self.limit },
                    off: 0,
                    at: 0,
                });
                return;
            }
            // Every representation takes at least one octet, and real blocks are mostly
            // one-octet indexed fields: room for one field per octet (up to 64) avoids
            // regrowth; the spare capacity is dropped at the end.
            progress.fields.reserve(block.len().clamp(1, 64));
        }
        // Position and state in locals for the loop (written back below): the fast path
        // then touches memory only to read the octet and to write the field.
        let mut pos = progress.pos;
        let mut header_seen = progress.header_seen;
        let fields = &mut progress.fields;
        while let Some(&first) = block.get(pos) {
            // Fast path for the commonest representation: an Indexed Header Field whose
            // index fits in its first octet (1..=126) and is in the tables we know.
            if first & 0x80 != 0 && first != 0x80 && first != 0xff {
                if let Some((name, value)) = self.known_entry(u32::from(first & 0x7f)) {
                    fields.push(Field {
                        off: offset32(pos),
                        len: 1,
                        repr: Representation::Indexed,
                        table_size_after: self.size,
                        name,
                        value,
                    });
                    header_seen = true;
                    pos += 1;
                    continue;
                }
            }
            let mark = self.strings.mark();
            match self.representation(block, pos, header_seen, fields) {
                Ok((repr, next)) => {
                    if repr == Representation::SizeUpdate {
                        self.update_required = false;
                    } else {
                        header_seen = true;
                    }
                    pos = next;
                }
                // Nothing of a cut-off representation was applied: retry with more octets.
                Err((HpackErrorKind::Truncated, _)) if !last => {
                    self.strings.rewind(mark);
                    break;
                }
                Err((kind, at)) => {
                    self.strings.rewind(mark);
                    progress.error = Some(HpackError { kind, off: pos, at });
                    break;
                }
            }
        }
        progress.pos = pos;
        progress.header_seen = header_seen;
    }

    /// Decodes the representation at `start` (`start < block.len()`), appends it to
    /// `fields`, and returns its kind and the offset after it.
    fn representation(
        &mut self,
        block: &[u8],
        start: usize,
        header_seen: bool,
        fields: &mut Vec<Field>,
    ) -> Step<(Representation, usize)> {
        let first = *block.get(start).ok_or((HpackErrorKind::Truncated, start))?;
        let repr = Representation::of(first);
        let prefix = repr.prefix_bits();
        if repr == Representation::SizeUpdate && header_seen {
            return Err((HpackErrorKind::SizeUpdateNotAtStart, start));
        }
        let (n, mut pos) = decode_integer(block, start, prefix).map_err(|k| (k, start))?;
        let mut name = Str::UNKNOWN;
        let mut value = Str::UNKNOWN;
        match repr {
            Representation::SizeUpdate => {
                self.size_update(n).map_err(|k| (k, start))?;
            }
            Representation::Indexed => {
                if n == 0 {
                    return Err((HpackErrorKind::IndexZero, start));
                }
                let r = self.resolve(n).map_err(|k| (k, start))?;
                name = r.name;
                value = r.value;
            }
            _ => {
                if n == 0 {
                    let (bytes, next) = self.literal(block, pos)?;
                    name = bytes;
                    pos = next;
                } else {
                    name = self.resolve(n).map_err(|k| (k, start))?.name;
                }
                let (bytes, next) = self.literal(block, pos)?;
                pos = next;
                if repr == Representation::LiteralIncremental {
                    self.insert(name, bytes);
                }
                value = bytes;
            }
        }
        fields.push(Field {
            off: offset32(start),
            len: offset32(pos - start),
            repr,
            table_size_after: self.size,
            name,
            value,
        });
        Ok((repr, pos))
    }

    /// Decodes the string literal at `pos` into the strings: where it is kept, and the
    /// offset after it.
    fn literal(&mut self, block: &[u8], pos: usize) -> Step<(Str, usize)> {
        let lit = literal_header(block, pos).map_err(|k| (k, pos))?;
        let raw = block
            .get(lit.data_off()..lit.end())
            .ok_or((HpackErrorKind::Truncated, pos))?;
        let bytes = if lit.huffman {
            let mark = self.strings.mark();
            huffman::decode_append(raw, self.strings.buffer())
                .map_err(|e| (HpackErrorKind::Huffman(e), pos))?;
            self.strings.seal(mark)
        } else {
            self.strings.push(raw)
        };
        Ok((bytes, lit.end()))
    }

    /// Entry `n` (`n >= 1`) of the static table or of the dynamic entries we know, as
    /// `(name, value)`; the name of a dynamic entry may be unknown.
    #[inline]
    fn known_entry(&self, n: u32) -> Option<(Str, Str)> {
        if n <= STATIC_TABLE_LEN {
            if n == 0 {
                return None;
            }
            return Some((Str::static_name(n), Str::static_value(n)));
        }
        let e = self.entries.get((n - STATIC_TABLE_LEN - 1) as usize)?;
        Some((e.name, e.value))
    }

    /// Resolves index `n` (`n >= 1`) to a name and value.
    fn resolve(&self, n: u32) -> Result<Resolved, HpackErrorKind> {
        if n == 0 {
            return Err(HpackErrorKind::IndexZero);
        }
        if let Some((name, value)) = self.known_entry(n) {
            return Ok(Resolved { name, value });
        }
        let d = (n - STATIC_TABLE_LEN - 1) as usize;
        // Beyond what we know: an entry from before the capture, if there can be one that
        // far back (each takes at least ENTRY_OVERHEAD octets of the room left).
        let (possible, bound) = if self.max_size_known {
            (self.unknown_tail, self.max_size)
        } else if self.limit_known {
            (true, self.limit)
        } else {
            (true, TABLE_SIZE_CAP)
        };
        let room = (bound.saturating_sub(self.size) / ENTRY_OVERHEAD) as usize;
        if possible && d - self.entries.len() < room {
            return Ok(Resolved {
                name: Str::UNKNOWN,
                value: Str::UNKNOWN,
            });
        }
        Err(HpackErrorKind::IndexOutOfRange { index: n })
    }

    /// Applies a dynamic table size update to `n`.
    fn size_update(&mut self, n: u32) -> Result<(), HpackErrorKind> {
        if n > self.limit {
            if self.limit_known || n > TABLE_SIZE_CAP {
                return Err(HpackErrorKind::SizeUpdateTooLarge {
                    size: n,
                    limit: if self.limit_known {
                        self.limit
                    } else {
                        TABLE_SIZE_CAP
                    },
                });
            }
            // Mid-stream, limit not seen: the peer's SETTINGS must have allowed it.
            self.limit = n;
        }
        if !self.max_size_known {
            // Entries we evicted under the assumed maximum may still be there: they join
            // the unknown past, which this update may now evict.
            self.max_size_known = true;
            self.unknown_tail = true;
        }
        self.max_size = n;
        self.evict_to(n);
        Ok(())
    }

    /// Evicts the oldest entries until the table fits in `max`.
    fn evict_to(&mut self, max: u32) {
        while self.size > max {
            // Evicting a known entry means every older (unknown) one is gone.
            self.unknown_tail = false;
            match self.entries.pop_back() {
                Some(e) => {
                    self.size -= e.size;
                    if !e.name.is_known() {
                        self.unknown_names -= 1;
                    }
                }
                None => {
                    self.size = 0;
                    break;
                }
            }
        }
        self.check_tail();
    }

    /// Unknown older entries can remain only if there is room for one beside ours.
    fn check_tail(&mut self) {
        if self.size.saturating_add(ENTRY_OVERHEAD) > self.max_size {
            self.unknown_tail = false;
        }
    }

    /// Inserts an entry (RFC 7541 4.4): evicts until it fits, or empties the table if it
    /// cannot fit at all.
    fn insert(&mut self, name: Str, value: Str) {
        let size = name.len() as u64 + value.len() as u64 + u64::from(ENTRY_OVERHEAD);
        if size > u64::from(self.max_size) {
            self.entries.clear();
            self.size = 0;
            self.unknown_names = 0;
            self.unknown_tail = false;
            return;
        }
        // size <= max_size <= u32::MAX.
        let size = size as u32;
        self.evict_to(self.max_size - size);
        if !name.is_known() {
            self.unknown_names += 1;
        }
        if self.entries.capacity() == 0 {
            // Real tables hold tens of entries: skip the doublings from 4.
            self.entries.reserve(16);
        }
        self.entries.push_front(Entry { name, value, size });
        self.size += size;
        self.check_tail();
    }
}

#[cfg(test)]
#[path = "../tests/hpack.rs"]
mod tests;
