//! HPACK Huffman code (RFC 7541 Appendix B): a table-driven decoder and a small encoder.
//!
//! Decoding walks the code tree one input octet at a time. The tree has 257 leaves and so 256
//! internal nodes; a decoder state is the internal node reached so far (0 = the root, i.e.
//! a symbol boundary). `TRANSITIONS[state << 8 | octet]` gives, in one lookup, the state after
//! those 8 bits and the 0, 1 or 2 symbols they complete (one octet can complete at most two:
//! the first symbol needs at least 1 more bit, every further one at least 5, the shortest
//! code length). The table (256 x 256 x 4 octets = 256 KiB) is computed at compile time by
//! `const fn`s from the code list below, which is Appendix B verbatim.
//!
//! A string is valid (RFC 7541 5.2) if it decodes without the EOS symbol and ends in a
//! state whose pending bits are at most 7 and all ones (a prefix of EOS).

use std::fmt;

/// Why a Huffman-coded string literal is invalid (RFC 7541 5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HuffmanError {
    /// The EOS symbol (256) was decoded inside the string.
    Eos,
    /// The final padding is longer than 7 bits.
    PaddingTooLong,
    /// The final padding is not a prefix of EOS (not all ones).
    PaddingNotOnes,
}

impl fmt::Display for HuffmanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HuffmanError::Eos => "Huffman string contains the EOS symbol",
            HuffmanError::PaddingTooLong => "Huffman padding longer than 7 bits",
            HuffmanError::PaddingNotOnes => "Huffman padding is not all ones",
        })
    }
}

impl std::error::Error for HuffmanError {}

/// The EOS symbol.
pub const EOS: usize = 256;

/// RFC 7541 Appendix B: `(code, length in bits)` for symbols 0..=255 and EOS (256), the code
/// right-aligned in the `u32`.
pub const CODES: [(u32, u8); 257] = [
    (0x1ff8, 13),
    (0x7fffd8, 23),
    (0xfffffe2, 28),
    (0xfffffe3, 28),
    (0xfffffe4, 28),
    (0xfffffe5, 28),
    (0xfffffe6, 28),
    (0xfffffe7, 28),
    (0xfffffe8, 28),
    (0xffffea, 24),
    (0x3ffffffc, 30),
    (0xfffffe9, 28),
    (0xfffffea, 28),
    (0x3ffffffd, 30),
    (0xfffffeb, 28),
    (0xfffffec, 28),
    (0xfffffed, 28),
    (0xfffffee, 28),
    (0xfffffef, 28),
    (0xffffff0, 28),
    (0xffffff1, 28),
    (0xffffff2, 28),
    (0x3ffffffe, 30),
    (0xffffff3, 28),
    (0xffffff4, 28),
    (0xffffff5, 28),
    (0xffffff6, 28),
    (0xffffff7, 28),
    (0xffffff8, 28),
    (0xffffff9, 28),
    (0xffffffa, 28),
    (0xffffffb, 28),
    (0x14, 6),
    (0x3f8, 10),
    (0x3f9, 10),
    (0xffa, 12),
    (0x1ff9, 13),
    (0x15, 6),
    (0xf8, 8),
    (0x7fa, 11),
    (0x3fa, 10),
    (0x3fb, 10),
    (0xf9, 8),
    (0x7fb, 11),
    (0xfa, 8),
    (0x16, 6),
    (0x17, 6),
    (0x18, 6),
    (0x0, 5),
    (0x1, 5),
    (0x2, 5),
    (0x19, 6),
    (0x1a, 6),
    (0x1b, 6),
    (0x1c, 6),
    (0x1d, 6),
    (0x1e, 6),
    (0x1f, 6),
    (0x5c, 7),
    (0xfb, 8),
    (0x7ffc, 15),
    (0x20, 6),
    (0xffb, 12),
    (0x3fc, 10),
    (0x1ffa, 13),
    (0x21, 6),
    (0x5d, 7),
    (0x5e, 7),
    (0x5f, 7),
    (0x60, 7),
    (0x61, 7),
    (0x62, 7),
    (0x63, 7),
    (0x64, 7),
    (0x65, 7),
    (0x66, 7),
    (0x67, 7),
    (0x68, 7),
    (0x69, 7),
    (0x6a, 7),
    (0x6b, 7),
    (0x6c, 7),
    (0x6d, 7),
    (0x6e, 7),
    (0x6f, 7),
    (0x70, 7),
    (0x71, 7),
    (0x72, 7),
    (0xfc, 8),
    (0x73, 7),
    (0xfd, 8),
    (0x1ffb, 13),
    (0x7fff0, 19),
    (0x1ffc, 13),
    (0x3ffc, 14),
    (0x22, 6),
    (0x7ffd, 15),
    (0x3, 5),
    (0x23, 6),
    (0x4, 5),
    (0x24, 6),
    (0x5, 5),
    (0x25, 6),
    (0x26, 6),
    (0x27, 6),
    (0x6, 5),
    (0x74, 7),
    (0x75, 7),
    (0x28, 6),
    (0x29, 6),
    (0x2a, 6),
    (0x7, 5),
    (0x2b, 6),
    (0x76, 7),
    (0x2c, 6),
    (0x8, 5),
    (0x9, 5),
    (0x2d, 6),
    (0x77, 7),
    (0x78, 7),
    (0x79, 7),
    (0x7a, 7),
    (0x7b, 7),
    (0x7ffe, 15),
    (0x7fc, 11),
    (0x3ffd, 14),
    (0x1ffd, 13),
    (0xffffffc, 28),
    (0xfffe6, 20),
    (0x3fffd2, 22),
    (0xfffe7, 20),
    (0xfffe8, 20),
    (0x3fffd3, 22),
    (0x3fffd4, 22),
    (0x3fffd5, 22),
    (0x7fffd9, 23),
    (0x3fffd6, 22),
    (0x7fffda, 23),
    (0x7fffdb, 23),
    (0x7fffdc, 23),
    (0x7fffdd, 23),
    (0x7fffde, 23),
    (0xffffeb, 24),
    (0x7fffdf, 23),
    (0xffffec, 24),
    (0xffffed, 24),
    (0x3fffd7, 22),
    (0x7fffe0, 23),
    (0xffffee, 24),
    (0x7fffe1, 23),
    (0x7fffe2, 23),
    (0x7fffe3, 23),
    (0x7fffe4, 23),
    (0x1fffdc, 21),
    (0x3fffd8, 22),
    (0x7fffe5, 23),
    (0x3fffd9, 22),
    (0x7fffe6, 23),
    (0x7fffe7, 23),
    (0xffffef, 24),
    (0x3fffda, 22),
    (0x1fffdd, 21),
    (0xfffe9, 20),
    (0x3fffdb, 22),
    (0x3fffdc, 22),
    (0x7fffe8, 23),
    (0x7fffe9, 23),
    (0x1fffde, 21),
    (0x7fffea, 23),
    (0x3fffdd, 22),
    (0x3fffde, 22),
    (0xfffff0, 24),
    (0x1fffdf, 21),
    (0x3fffdf, 22),
    (0x7fffeb, 23),
    (0x7fffec, 23),
    (0x1fffe0, 21),
    (0x1fffe1, 21),
    (0x3fffe0, 22),
    (0x1fffe2, 21),
    (0x7fffed, 23),
    (0x3fffe1, 22),
    (0x7fffee, 23),
    (0x7fffef, 23),
    (0xfffea, 20),
    (0x3fffe2, 22),
    (0x3fffe3, 22),
    (0x3fffe4, 22),
    (0x7ffff0, 23),
    (0x3fffe5, 22),
    (0x3fffe6, 22),
    (0x7ffff1, 23),
    (0x3ffffe0, 26),
    (0x3ffffe1, 26),
    (0xfffeb, 20),
    (0x7fff1, 19),
    (0x3fffe7, 22),
    (0x7ffff2, 23),
    (0x3fffe8, 22),
    (0x1ffffec, 25),
    (0x3ffffe2, 26),
    (0x3ffffe3, 26),
    (0x3ffffe4, 26),
    (0x7ffffde, 27),
    (0x7ffffdf, 27),
    (0x3ffffe5, 26),
    (0xfffff1, 24),
    (0x1ffffed, 25),
    (0x7fff2, 19),
    (0x1fffe3, 21),
    (0x3ffffe6, 26),
    (0x7ffffe0, 27),
    (0x7ffffe1, 27),
    (0x3ffffe7, 26),
    (0x7ffffe2, 27),
    (0xfffff2, 24),
    (0x1fffe4, 21),
    (0x1fffe5, 21),
    (0x3ffffe8, 26),
    (0x3ffffe9, 26),
    (0xffffffd, 28),
    (0x7ffffe3, 27),
    (0x7ffffe4, 27),
    (0x7ffffe5, 27),
    (0xfffec, 20),
    (0xfffff3, 24),
    (0xfffed, 20),
    (0x1fffe6, 21),
    (0x3fffe9, 22),
    (0x1fffe7, 21),
    (0x1fffe8, 21),
    (0x7ffff3, 23),
    (0x3fffea, 22),
    (0x3fffeb, 22),
    (0x1ffffee, 25),
    (0x1ffffef, 25),
    (0xfffff4, 24),
    (0xfffff5, 24),
    (0x3ffffea, 26),
    (0x7ffff4, 23),
    (0x3ffffeb, 26),
    (0x7ffffe6, 27),
    (0x3ffffec, 26),
    (0x3ffffed, 26),
    (0x7ffffe7, 27),
    (0x7ffffe8, 27),
    (0x7ffffe9, 27),
    (0x7ffffea, 27),
    (0x7ffffeb, 27),
    (0xffffffe, 28),
    (0x7ffffec, 27),
    (0x7ffffed, 27),
    (0x7ffffee, 27),
    (0x7ffffef, 27),
    (0x7fffff0, 27),
    (0x3ffffee, 26),
    (0x3fffffff, 30),
];

/// Child slot of a tree node: `LEAF | symbol` for a leaf, else the internal node index.
const LEAF: u16 = 0x8000;
/// Marks a child slot that was never filled (impossible for this complete code).
const EMPTY: u16 = 0xffff;

/// The code tree: `TREE[node][bit]`. Node 0 is the root.
const TREE: [[u16; 2]; 256] = build_tree();

const fn build_tree() -> [[u16; 2]; 256] {
    let mut tree = [[EMPTY; 2]; 256];
    let mut next: u16 = 1;
    let mut sym = 0;
    while sym < 257 {
        let (code, len) = CODES[sym];
        let mut node = 0usize;
        let mut i = len;
        while i > 0 {
            let bit = ((code >> (i - 1)) & 1) as usize;
            if i == 1 {
                tree[node][bit] = LEAF | sym as u16;
            } else {
                if tree[node][bit] == EMPTY {
                    tree[node][bit] = next;
                    next += 1;
                }
                node = tree[node][bit] as usize;
            }
            i -= 1;
        }
        sym += 1;
    }
    tree
}

/// Per-state facts, for validating the end of a string: bit 0 = the state is a valid end
/// (root, or at most 7 pending bits all ones), bit 1 = the pending bits are all ones
/// (whatever their number).
const STATE_INFO: [u8; 256] = build_state_info();
const INFO_ACCEPT: u8 = 1;
const INFO_ONES: u8 = 2;

const fn build_state_info() -> [u8; 256] {
    let mut info = [0u8; 256];
    info[0] = INFO_ACCEPT | INFO_ONES;
    // Walk the all-ones path from the root.
    let mut node = 0usize;
    let mut depth = 0;
    loop {
        let child = TREE[node][1];
        if child & LEAF != 0 {
            break;
        }
        node = child as usize;
        depth += 1;
        info[node] = INFO_ONES | if depth <= 7 { INFO_ACCEPT } else { 0 };
    }
    info
}

/// Transition entry layout: bits 0..2 the number of symbols completed, bit 2 EOS was decoded
/// (the string is invalid), bits 8..16 the next state (so that `entry & 0xff00 | octet` is
/// the next index without a shift), bits 16..24 the first symbol, 24..32 the second.
const T_COUNT_MASK: u32 = 3;
const T_FAIL: u32 = 1 << 2;
const T_STATE_MASK: u32 = 0xff00;
const T_SYMS_SHIFT: u32 = 16;

/// `TRANSITIONS[state << 8 | octet]`, see the entry layout above.
static TRANSITIONS: [u32; 65536] = build_transitions();

const fn build_transitions() -> [u32; 65536] {
    let mut t = [0u32; 65536];
    let mut state = 0;
    while state < 256 {
        let mut octet = 0;
        while octet < 256 {
            let mut node = state;
            let mut count = 0u32;
            let mut syms = 0u32;
            let mut fail = false;
            let mut i = 8;
            while i > 0 {
                let bit = (octet >> (i - 1)) & 1;
                let child = TREE[node][bit];
                if child & LEAF != 0 {
                    let sym = (child & !LEAF) as usize;
                    if sym == EOS {
                        fail = true;
                    } else {
                        syms |= (sym as u32) << (8 * count);
                        count += 1;
                    }
                    node = 0;
                } else {
                    node = child as usize;
                }
                i -= 1;
            }
            t[state << 8 | octet] = if fail {
                T_FAIL
            } else {
                count | ((node as u32) << 8) | (syms << T_SYMS_SHIFT)
            };
            octet += 1;
        }
        state += 1;
    }
    t
}

/// The longest output that `len` encoded octets can produce: every symbol takes at least 5
/// bits. Saturates at `usize::MAX`.
pub const fn max_decoded_len(len: usize) -> usize {
    (len / 5).saturating_mul(8).saturating_add(len % 5 * 8 / 5)
}

/// Decodes a Huffman-coded string.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, HuffmanError> {
    let mut out = Vec::new();
    let n = decode_to_buffer(input, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// Decodes a Huffman-coded string, replacing the contents of `out` (a reusable buffer).
/// On error, `out` is empty.
pub fn decode_into(input: &[u8], out: &mut Vec<u8>) -> Result<(), HuffmanError> {
    let r = decode_to_buffer(input, out);
    out.truncate(*r.as_ref().unwrap_or(&0));
    r.map(|_| ())
}

/// Decodes a Huffman-coded string into the start of `buf` and returns the decoded length:
/// the output is `buf[..n]`. `buf` is grown as needed (to the longest possible output plus
/// 2) and never shrunk, so that a buffer reused across strings is not cleared every time;
/// what follows the output in `buf` is unspecified.
pub fn decode_to_buffer(input: &[u8], buf: &mut Vec<u8>) -> Result<usize, HuffmanError> {
    decode_at(input, buf, 0)
}

/// Decodes a Huffman-coded string and appends it to `out`; returns the decoded length. On
/// error, `out` is as it was.
pub fn decode_append(input: &[u8], out: &mut Vec<u8>) -> Result<usize, HuffmanError> {
    let start = out.len();
    let r = decode_at(input, out, start);
    out.truncate(start + *r.as_ref().unwrap_or(&0));
    r
}

/// Decodes into `buf` from offset `start` on (growing `buf` to hold the longest possible
/// output plus 2); returns the decoded length.
fn decode_at(input: &[u8], buf: &mut Vec<u8>, start: usize) -> Result<usize, HuffmanError> {
    // Two spare octets: every step writes both symbol slots and advances by the count.
    let need = start
        .saturating_add(max_decoded_len(input.len()))
        .saturating_add(2);
    if buf.len() < need {
        buf.resize(need, 0);
    }
    let mut n = start;
    let mut state = 0u32;
    for &octet in input {
        let e = TRANSITIONS[(state | u32::from(octet)) as usize];
        if e & T_FAIL != 0 {
            return Err(HuffmanError::Eos);
        }
        // The two symbols as stored (first in the low octet), written in order.
        let pair = ((e >> T_SYMS_SHIFT) as u16).to_le_bytes();
        // `n + 2 <= buf.len()`: each step adds at most 2 symbols, at most
        // `max_decoded_len(input.len())` in total, and `buf` has 2 octets to spare; `get_mut`
        // keeps this panic-free regardless.
        if let Some(dst) = buf.get_mut(n..n + 2) {
            dst.copy_from_slice(&pair);
        }
        n += (e & T_COUNT_MASK) as usize;
        state = e & T_STATE_MASK;
    }
    let info = STATE_INFO[(state >> 8) as usize];
    if info & INFO_ACCEPT != 0 {
        Ok(n - start)
    } else if info & INFO_ONES != 0 {
        Err(HuffmanError::PaddingTooLong)
    } else {
        Err(HuffmanError::PaddingNotOnes)
    }
}

/// The length of `input` once Huffman-coded.
pub fn encoded_len(input: &[u8]) -> usize {
    let bits: usize = input.iter().map(|&b| CODES[b as usize].1 as usize).sum();
    bits.div_ceil(8)
}

/// Huffman-codes `input`, appending to `out`, padded with the most significant bits of EOS.
pub fn encode(input: &[u8], out: &mut Vec<u8>) {
    let mut acc: u64 = 0;
    let mut bits: u32 = 0;
    for &b in input {
        let (code, len) = CODES[b as usize];
        acc = (acc << len) | u64::from(code);
        bits += u32::from(len);
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1u64 << bits) - 1;
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) as u8) | (0xffu8 >> bits));
    }
}

#[cfg(test)]
#[path = "tests/huffman.rs"]
mod tests;
