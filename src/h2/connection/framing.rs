//! Where frames begin: the length of the frame at the head of a side's bytes, and
//! resynchronisation in a capture that starts mid-connection (a side whose first byte is
//! missing is searched for a plausible frame header; what is skipped is remembered).

use super::*;

/// What framing found at the start of a PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A frame (or the preface) this many bytes long.
    Pdu(u32),
    /// Bytes that belong to a frame that started before the capture: skip this many.
    Skip(u32),
}

/// Could a frame header with these values appear in a real connection? Used only to find
/// frame boundaries in a capture that starts mid-connection.
pub(super) fn plausible(h: &FrameHeader, max_len: u32) -> bool {
    if h.reserved || h.unused_flags() != 0 || h.length > max_len {
        return false;
    }
    let zero = h.stream_id == 0;
    match h.kind {
        kind::DATA | kind::HEADERS | kind::CONTINUATION | kind::PUSH_PROMISE => !zero,
        kind::PRIORITY => !zero && h.length == 5,
        kind::RST_STREAM => !zero && h.length == 4,
        kind::SETTINGS => zero && h.length % 6 == 0 && h.length <= 6 * 16,
        kind::PING => zero && h.length == 8,
        kind::GOAWAY => zero && h.length >= 8,
        kind::WINDOW_UPDATE => h.length == 4,
        _ => false,
    }
}

/// The first offset in `bytes` from which plausible frames follow one another up to the
/// end of the segment, none longer than `max_len` (the largest frame the side may send) (or one plausible frame that runs past it, at offset 0 only, or two
/// or more that do). None when there is none: the whole segment is inside one frame.
pub fn resync_offset(bytes: &[u8], max_len: u32) -> Option<usize> {
    (0..bytes.len().saturating_sub(HEADER_LEN - 1)).find(|&start| {
        let mut pos = start;
        let mut frames = 0;
        loop {
            let Some(h) = bytes.get(pos..).and_then(frame::parse_header) else {
                // A header cut by the segment end: judged by the frames before it.
                return frames >= 1 && (start == 0 || frames >= 2);
            };
            if !plausible(&h, max_len) {
                return false;
            }
            frames += 1;
            pos += HEADER_LEN + h.length as usize;
            if pos == bytes.len() {
                return true;
            }
            if pos > bytes.len() {
                return start == 0 || frames >= 2;
            }
        }
    })
}

impl Connection {
    /// The length of the PDU at the start of `bytes` (at least the 9 header bytes, unless
    /// the segment is shorter). In a capture that starts mid-connection, the first bytes of
    /// a side may be the middle of a frame: they are skipped up to the first offset from
    /// which a chain of plausible frame headers follows.
    /// The framing answer as `tcp_dissect_pdus` needs it: [`Connection::framing_at`], except
    /// that a frame header (or preface) cut short on a synchronised side asks for the next
    /// segment rather than for exactly 9 bytes, because TCP cannot then extend the request
    /// to the frame's payload when that lies in the same segment.
    pub fn pdu_len_at(
        &mut self,
        dir: Dir,
        frame_num: u32,
        bytes: &[u8],
        start: impl FnOnce() -> StreamStart,
    ) -> PduLen {
        match self.framing_at(dir, frame_num, bytes, start) {
            Framing::Pdu(n) if n as usize > bytes.len() && bytes.len() < HEADER_LEN => {
                PduLen::NeedMore
            }
            Framing::Pdu(n) | Framing::Skip(n) => PduLen::Exactly(n.max(1)),
        }
    }

    /// Without TCP's facts ([`StreamStart::Unknown`]): see [`Connection::framing_at`].
    pub fn framing(&mut self, dir: Dir, frame_num: u32, bytes: &[u8]) -> Framing {
        self.framing_at(dir, frame_num, bytes, || StreamStart::Unknown)
    }

    /// Framing, with `start` telling where the bytes lie in their side's stream (asked once
    /// per side, at its first PDU). A side whose first byte was captured is synchronised
    /// from it: a partial preface or a partial 9-octet frame header asks for more bytes and
    /// is never skipped. Only a side whose start is missing (or when TCP has nothing to say)
    /// is searched for frame boundaries.
    pub fn framing_at(
        &mut self,
        dir: Dir,
        frame_num: u32,
        bytes: &[u8],
        start: impl FnOnce() -> StreamStart,
    ) -> Framing {
        let side = &mut self.sides[dir & 1];
        if !side.started && !side.synced && !side.start_known {
            side.start_known = true;
            if start().first_pdu() == SideSync::FromStart {
                side.synced = true;
            }
        }
        let answer = self.frame_or_skip(dir, frame_num, bytes);
        self.last_skip = match answer {
            Framing::Skip(n) => Some((frame_num, n)),
            Framing::Pdu(_) => None,
        };
        answer
    }

    /// True when the PDU of `len` bytes in `frame_num` is the skip that framing just chose.
    pub fn was_skip(&self, frame_num: u32, len: usize) -> bool {
        self.last_skip == Some((frame_num, len as u32))
    }

    pub(super) fn frame_or_skip(&mut self, dir: Dir, frame_num: u32, bytes: &[u8]) -> Framing {
        let key = (frame_num, bytes.len() as u32);
        if let Some(&skip) = self.skips.get(&key) {
            return Framing::Skip(skip);
        }
        let side = &mut self.sides[dir & 1];
        if !side.synced {
            if frame::starts_with_preface(bytes) && bytes.len() >= HEADER_LEN {
                side.synced = true;
            } else {
                match resync_offset(bytes, side.max_frame_size) {
                    Some(0) => side.synced = true,
                    found => {
                        let skip = found.unwrap_or(bytes.len()) as u32;
                        if self.skips.len() < limits::MAX_RESYNC_SKIPS {
                            self.skips.insert(key, skip);
                        } else if !self.resync_limit_noted {
                            // Said on the skip PDU that `process` gets next.
                            self.resync_limit_pending = true;
                        }
                        return Framing::Skip(skip);
                    }
                }
            }
        }
        match frame::pdu_len(bytes) {
            Some(n) => Framing::Pdu(n),
            None => Framing::Pdu(HEADER_LEN as u32),
        }
    }
}
