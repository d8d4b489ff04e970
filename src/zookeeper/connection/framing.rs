//! Where PDUs begin: the length prefix, four-letter words and their plain-text replies,
//! and resynchronisation in a capture that starts inside a PDU (a plausible PDU start is
//! searched for; what is skipped is remembered for later passes).

use super::*;

/// Segments skipped at most while looking for the first PDU start of a direction in a
/// capture that starts mid-stream; after that framing goes on as if synchronised.
pub const MAX_RESYNC_SEGMENTS: u32 = 16;

/// Per-direction state of the search for the first PDU start in a capture that starts
/// mid-stream.
#[derive(Debug, Default)]
pub(super) struct Resync {
    /// A plausible PDU start has been found (or the search gave up).
    pub(super) synced: bool,
    pub(super) segments: u32,
    /// (frame, bytes left in the segment at that point) -> bytes skipped, decided on the
    /// first pass and looked up on later ones.
    pub(super) skips: FastMap<(u32, usize), u32>,
}

pub(super) fn control_slot(x: i64) -> Option<usize> {
    match x {
        xid::PING => Some(0),
        xid::AUTH => Some(1),
        xid::SET_WATCHES => Some(2),
        _ => None,
    }
}

pub fn is_four_letter_word(bytes: &[u8]) -> bool {
    bytes.len() >= 4
        && FOUR_LETTER_WORDS
            .iter()
            .any(|w| &bytes[..4] == w.as_slice())
}

/// What the framing layer should do with the bytes at the start of a PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A length-prefixed PDU of this total size (prefix included).
    Pdu(u32),
    /// A four-letter word: 4 bytes, 12 with stmk's trace mask.
    FourLetter(u32),
    /// Plain text (a four-letter word's reply) or a bogus length: take what is there.
    Rest,
    /// The capture starts inside a PDU: these many bytes are the rest of a PDU sent
    /// before the capture began.
    Skip(u32),
    /// More bytes are needed to tell where the PDU ends.
    NeedMore,
}

/// Could a PDU start at `bytes[0]` in this direction? Used to find the first PDU of a
/// capture that starts mid-stream: the length must be in range, the header values must
/// be ones ZooKeeper sends, and when the whole PDU is in `bytes` its record must parse
/// exactly, and what follows it must look like a PDU start too.
/// When the header is cut off by the end of `bytes`, a plausible length is enough unless
/// `need_header` asks for the whole header (a candidate in the middle of a segment).
pub fn plausible_start(
    dir: Direction,
    bytes: &[u8],
    max_pdu: u32,
    first_word: bool,
    need_header: bool,
) -> bool {
    plausible_at(dir, bytes, max_pdu, first_word, need_header, 2)
}

pub(super) fn plausible_at(
    dir: Direction,
    bytes: &[u8],
    max_pdu: u32,
    first_word: bool,
    need_header: bool,
    depth: u8,
) -> bool {
    use crate::zookeeper::opcode as op;
    if first_word && dir == Direction::ToServer && is_four_letter_word(bytes) {
        return true;
    }
    let Some(len) = parse::length_prefix(bytes) else {
        return false;
    };
    if len < 0 || len as u32 > max_pdu {
        return false;
    }
    let total = len as usize + 4;
    let whole = bytes.get(4..total);
    // In the middle of a segment, a candidate must lie wholly inside it: bytes that only
    // look like a header for a PDU running past the segment are too weak a sign.
    if need_header && whole.is_none() {
        return false;
    }
    let header_ok = match dir {
        Direction::ToServer => {
            if whole.is_some_and(parse::looks_like_connect_request) {
                true
            } else if whole.is_none()
                && !need_header
                && parse::CONNECT_REQUEST_LENS.contains(&(len as u32))
                && parse::request_prefix(bytes).xid.is_none_or(|v| v == 0)
            {
                // A handshake still arriving in pieces (its protocolVersion where a
                // request's xid would be).
                true
            } else {
                let prefix = parse::request_prefix(bytes);
                let (Some(x), Some(opc)) = (prefix.xid, prefix.opcode) else {
                    return !need_header && len >= 8;
                };
                len >= 8
                    && (x >= 0 || matches!(i64::from(x), xid::PING | xid::AUTH | xid::SET_WATCHES))
                    && crate::zookeeper::Opcode::name_of(opc).is_some()
                    && !matches!(opc, op::NOTIFICATION | op::ERROR | op::CREATE_SESSION)
                    && whole.is_none_or(|w| {
                        matches!(parse::request_body(opc, jute::input(w.get(8..).unwrap_or(&[]))),
                            Some(Ok((rest, _))) if rest.fragment().is_empty())
                    })
                    && (!has_path(opc) || {
                        // The path: its length fits the PDU and it starts with '/'.
                        prefix.path_len.is_none_or(|n| n >= 1 && n <= len - 12)
                            && prefix.path_first.is_none_or(|b| b == b'/')
                    })
            }
        }
        Direction::ToClient => {
            // A handshake reply, whole or still arriving in pieces.
            if whole.is_some_and(parse::looks_like_connect_response)
                || (whole.is_none()
                    && !need_header
                    && parse::CONNECT_RESPONSE_LENS.contains(&(len as u32))
                    && parse::reply_prefix(bytes).xid.is_none_or(|v| v == 0))
            {
                true
            } else {
                let prefix = parse::reply_prefix(bytes);
                let (Some(x), Some(err)) = (prefix.xid, prefix.err) else {
                    return !need_header && len >= 16;
                };
                let zxid = prefix.zxid.unwrap_or(-1);
                len >= 16
                    && (x >= 0
                        || matches!(
                            i64::from(x),
                            xid::NOTIFICATION | xid::PING | xid::AUTH | xid::SET_WATCHES
                        ))
                    && (-1..1 << 48).contains(&zxid)
                    && crate::zookeeper::ErrorCode::name_of(err).is_some()
                    && (i64::from(x) != xid::NOTIFICATION
                        || whole.is_none_or(|w| {
                            matches!(parse::watcher_event(jute::input(w.get(16..).unwrap_or(&[]))),
                                Ok((rest, _)) if rest.fragment().is_empty())
                        }))
            }
        }
    };
    if !header_ok {
        return false;
    }
    match bytes.get(total..) {
        Some(next) if next.len() >= 4 && depth > 0 => {
            plausible_at(dir, next, max_pdu, false, false, depth - 1)
        }
        _ => true,
    }
}

impl Connection {
    /// Framing of the bytes at the start of a PDU (`bytes` holds at least 4 bytes).
    /// Deterministic across passes: it only depends on the frame and on facts recorded the
    /// first time the connection's first bytes went by.
    /// `first_pass` is false when the frame was dissected before: only decisions recorded
    /// then are looked up.
    /// Without TCP's facts ([`StreamStart::Unknown`]): see [`Connection::framing_at`].
    pub fn framing(
        &mut self,
        dir: Direction,
        frame: u32,
        bytes: &[u8],
        max_pdu: u32,
        first_pass: bool,
    ) -> Framing {
        self.framing_at(dir, frame, bytes, max_pdu, first_pass, || {
            StreamStart::Unknown
        })
    }

    /// Framing, with `start` telling where these bytes lie in their side's stream (asked
    /// once per side, at its first PDU on the first pass). A side whose first payload byte
    /// was captured is synchronised from it: its first PDU is the handshake (or a
    /// four-letter word) by position, and nothing is skipped. Only a side whose start is
    /// missing, or when TCP has nothing to say, is searched for the first plausible PDU.
    pub fn framing_at(
        &mut self,
        dir: Direction,
        frame: u32,
        bytes: &[u8],
        max_pdu: u32,
        first_pass: bool,
        start: impl FnOnce() -> StreamStart,
    ) -> Framing {
        let d = dir_index(dir);
        if first_pass && self.sync[d].is_none() {
            let at = start();
            let sync = at.first_pdu();
            self.sync[d] = Some(sync);
            if sync == SideSync::FromStart {
                self.resync[d].synced = true;
            }
            self.facts_unavailable[d] = at == StreamStart::Unavailable;
        }
        if let Some(n) = self.resync_skip(dir, frame, bytes, max_pdu, first_pass) {
            return Framing::Skip(n);
        }
        if dir == Direction::ToServer {
            let first = *self.first_client_frame.get_or_insert(frame);
            if first == frame && !self.client_framed_pdu && is_four_letter_word(bytes) {
                self.four_letter_frame = Some(frame);
                return if &bytes[..4] == b"stmk" {
                    Framing::FourLetter(12)
                } else {
                    Framing::Rest
                };
            }
        }
        if self.four_letter_frame.is_some_and(|f| frame >= f) {
            return Framing::Rest;
        }
        if let Some(n) = self.compressed_block(d, frame, bytes, max_pdu, first_pass) {
            return n;
        }
        let Some(len) = parse::length_prefix(bytes) else {
            return Framing::Rest;
        };
        if len < 0 || len as u32 > max_pdu {
            return Framing::Rest;
        }
        if let Some(n) = self.extended_connect_len(dir, frame, bytes, len, first_pass) {
            return n;
        }
        if dir == Direction::ToServer {
            self.client_framed_pdu = true;
        }
        if first_pass {
            self.side_framed[d] = true;
        }
        Framing::Pdu(len as u32 + 4)
    }

    /// After the handshake of a compressed connection (ClickHouse Keeper's protocolVersion
    /// 10, or 11 with its compression flag), each side sends compressed blocks instead of
    /// length-prefixed PDUs (ZooKeeperImpl.cpp `connect`, KeeperTCPHandler.cpp `runImpl`:
    /// the handshake goes out plain, then `CompressedWriteBuffer` with LZ4). Each block is
    /// framed by its own header and shown undecoded.
    fn compressed_block(
        &mut self,
        d: usize,
        frame: u32,
        bytes: &[u8],
        max_pdu: u32,
        first_pass: bool,
    ) -> Option<Framing> {
        if !first_pass {
            return self
                .compressed_framing
                .get(&(d, frame, bytes.len()))
                .map(|&n| Framing::Pdu(n));
        }
        if !matches!(self.wire, parse::Wire::Compressed { .. }) || !self.side_framed[d] {
            return None;
        }
        let total = match parse::compressed_block_len(bytes, max_pdu) {
            None => return Some(Framing::NeedMore),
            Some(Ok(t)) => t,
            // Not a block header: take the rest of the segment, shown as compressed data.
            Some(Err(())) => u32::try_from(bytes.len()).unwrap_or(u32::MAX),
        };
        self.compressed_framing
            .insert((d, frame, bytes.len()), total);
        self.compressed.insert((d, frame, total));
        Some(Framing::Pdu(total))
    }

    /// True for a PDU that `framing_at` took as a compressed block.
    pub fn is_compressed_block(&self, dir: Direction, frame: u32, len: usize) -> bool {
        u32::try_from(len).is_ok_and(|l| self.compressed.contains(&(dir_index(dir), frame, l)))
    }

    /// ClickHouse's client writes the ConnectRequest's length as 45 but, from protocol
    /// version 11 on, sends one more byte (the compression flag after the version), which
    /// Keeper reads (ZooKeeperImpl.cpp `sendHandshake`: `handshake_length = 45`;
    /// KeeperTCPHandler.cpp `receiveHandshake`). The client's first PDU, when it is such a
    /// handshake, is framed with that byte.
    fn extended_connect_len(
        &mut self,
        dir: Direction,
        frame: u32,
        bytes: &[u8],
        len: i32,
        first_pass: bool,
    ) -> Option<Framing> {
        if !first_pass {
            return self
                .extended_connect
                .filter(|&(f, avail, _)| f == frame && avail == bytes.len())
                .map(|(_, _, n)| Framing::Pdu(n));
        }
        if dir != Direction::ToServer
            || self.side_framed[0]
            || !self.resync[0].synced
            || !matches!(len, 44 | 45)
        {
            return None;
        }
        let version = parse::handshake_version(bytes.get(4..)?)?;
        if !parse::has_compression_flag(version) {
            return None;
        }
        let total = len as u32 + 5;
        self.extended_connect = Some((frame, bytes.len(), total));
        self.client_framed_pdu = true;
        self.side_framed[0] = true;
        Some(Framing::Pdu(total))
    }

    /// True for the ClickHouse ConnectRequest framed one byte past its length prefix.
    pub fn is_extended_connect(&self, frame: u32, len: usize) -> bool {
        self.extended_connect
            .is_some_and(|(f, _, n)| f == frame && n as usize == len)
    }

    /// Mid-stream captures: until a direction's first plausible PDU start is found, the
    /// bytes before it are skipped. A connection captured from its start is plausible at
    /// once (handshake or four-letter word), so this costs nothing there.
    pub(super) fn resync_skip(
        &mut self,
        dir: Direction,
        frame: u32,
        bytes: &[u8],
        max_pdu: u32,
        first_pass: bool,
    ) -> Option<u32> {
        let after_four_letter = self.four_letter_frame.is_some();
        let r = &mut self.resync[dir_index(dir)];
        if !first_pass || r.synced || after_four_letter {
            return r.skips.get(&(frame, bytes.len())).copied();
        }
        if r.segments >= MAX_RESYNC_SEGMENTS {
            r.synced = true;
            return None;
        }
        r.segments += 1;
        let first_word = self.first_client_frame.is_none_or(|f| f == frame);
        let found = (0..bytes.len()).find(|&k| {
            plausible_start(
                dir,
                bytes.get(k..).unwrap_or(&[]),
                max_pdu,
                k == 0 && first_word,
                k > 0,
            )
        });
        let r = &mut self.resync[dir_index(dir)];
        let skip = match found {
            Some(0) => {
                r.synced = true;
                return None;
            }
            Some(k) => {
                r.synced = true;
                k
            }
            None => bytes.len(),
        };
        let skip = u32::try_from(skip).unwrap_or(u32::MAX);
        r.skips.insert((frame, bytes.len()), skip);
        self.continuations.push((frame, skip));
        Some(skip)
    }

    /// True for the bytes skipped at the start of a mid-stream capture (the frame's
    /// first PDU of this length).
    pub fn is_continuation(&self, frame: u32, len: usize) -> bool {
        self.continuations
            .iter()
            .any(|&(f, n)| f == frame && n as usize == len)
    }

    /// True when this side is synchronised from its first payload byte (TCP saw its start).
    pub fn synced_from_start(&self, dir: Direction) -> bool {
        self.sync[dir_index(dir)] == Some(SideSync::FromStart)
    }

    /// True for the PDU that says TCP's facts could not be read for its side (the side's
    /// first PDU dissected on the first pass; looked up on later passes).
    pub fn facts_unavailable_note(
        &mut self,
        dir: Direction,
        key: PduKey,
        first_pass: bool,
    ) -> bool {
        let d = dir_index(dir);
        if first_pass && self.facts_unavailable[d] && self.facts_note[d].is_none() {
            self.facts_note[d] = Some(key);
        }
        self.facts_note[d] == Some(key)
    }

    /// ClickHouse Keeper and future clients send a longer ConnectRequest with a protocol
    /// version other than 0; accept it as the first client PDU when its shape fits.
    pub(super) fn looks_like_extended_connect(&self, first: bool, body: &[u8]) -> bool {
        first && body.len() > 45 && body.len() <= 256 && body[24..28] == [0, 0, 0, 16] && {
            let v = jute::int(jute::input(body)).map_or(0, |(_, v)| v.val);
            (1..=1000).contains(&v)
        }
    }

    /// A reply header whose xid is pending looks like a reply rather than a handshake.
    pub(super) fn plausible_reply(&self, body: &[u8]) -> bool {
        jute::int(jute::input(body))
            .is_ok_and(|(_, x)| self.pending.contains_key(&i64::from(x.val)))
    }
}
