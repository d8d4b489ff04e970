//! The fuzz harnesses, as plain functions of the input bytes. Included by the libFuzzer
//! targets and by `tests/fuzz_regressions.rs`.

pub mod h2;
pub mod quorum;
pub mod zookeeper;

/// Pulls bytes off the front of a fuzz input (a script): bytes while there are, then nothing
/// (or zeros, for `u32` and `segment_len`).
pub struct Script<'a>(pub &'a [u8]);

impl<'a> Script<'a> {
    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (a, rest) = self.0.split_at(n);
        self.0 = rest;
        a
    }

    /// Four bytes, big-endian.
    pub fn u32(&mut self) -> u32 {
        let mut v = [0u8; 4];
        for b in &mut v {
            *b = self.byte().unwrap_or(0);
        }
        u32::from_be_bytes(v)
    }

    /// A segment's length in a session script: one byte, or two (big-endian) when bit 1 of
    /// the segment's `flags` is set.
    pub fn segment_len(&mut self, flags: u8) -> usize {
        if flags & 2 == 0 {
            usize::from(self.byte().unwrap_or(0))
        } else {
            let hi = self.byte().unwrap_or(0);
            let lo = self.byte().unwrap_or(0);
            usize::from(u16::from_be_bytes([hi, lo]))
        }
    }
}
