//! gRPC's length-prefixed messages over the DATA frames of one stream direction, framed as
//! the frames arrive: each message is shown in the frame that completes it, while the
//! stream is still open (a server stream that runs for hours, or a capture cut before the
//! trailers, still shows every complete message). Pure; fed by `Connection` on the first
//! pass.
//!
//! The split into parts mirrors the built-in http2's streaming reassembly
//! (`reassemble_http2_data_according_to_subdissector`): a frame may end a message begun
//! earlier (`tail`), hold whole messages (`whole`), and begin one that ends later (`head`),
//! or lie entirely inside one message (`middle`).

use std::cell::Cell;
use std::rc::Rc;

use super::frame;

/// What a message is handed on with, as the built-in `grpc` gathers it from the stream's
/// headers (`http2_get_header_value`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    /// The `content-type` as sent (`application/grpc+proto`): it keys the
    /// `grpc_message_type` table.
    pub content_type: Rc<[u8]>,
    /// The call's `:path` (`/pkg.Service/Method`).
    pub path: Option<Rc<[u8]>>,
    /// Sent by the client.
    pub is_request: bool,
    /// `grpc-encoding` of this direction (gzip, deflate, ...).
    pub encoding: Option<Rc<[u8]>>,
}

impl Context {
    /// gRPC-Web: the prefix's high bit marks a trailers frame.
    pub fn is_web(&self) -> bool {
        self.content_type.starts_with(b"application/grpc-web")
    }

    /// gRPC-Web text: the messages are base64 text.
    pub fn is_web_text(&self) -> bool {
        self.content_type.starts_with(b"application/grpc-web-text")
    }
}

/// One DATA frame of a gRPC stream: its parts and the stream's context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrpcFrame {
    pub parts: FrameParts,
    pub context: Rc<Context>,
    /// gRPC-Web text: the base64 text this frame completes, decoded, with the messages in
    /// it (the parts above are in text octets then).
    pub decoded: Vec<DecodedText>,
}

/// Base64 text decoded in one frame (as one gRPC call on it sees it), and the messages in
/// it as `(offset, length)` in the decoded octets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedText {
    pub data: Rc<[u8]>,
    pub messages: Vec<(u32, u32)>,
}

/// The 5-octet prefix: compressed flag (and, for gRPC-Web, the trailer bit) and length.
pub const PREFIX_LEN: usize = frame::GRPC_PREFIX_LEN;

/// The end of a message that began in an earlier DATA frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tail {
    /// Where its octets lie in this frame's payload (after a `prefix` part, if any).
    pub off: u32,
    pub len: u32,
    /// The whole message, prefix included (None when it was larger than the limit).
    pub message: Option<Rc<[u8]>>,
    /// The frames it spans and their octets, this one last.
    pub fragments: Box<[(u32, u32)]>,
}

/// The octets that complete a message's 5-octet prefix begun in an earlier frame. The
/// built-in reassembles the prefix on its own first (gRPC asks for it before it knows the
/// length), so this part has its own reassembly items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixPart {
    /// Octets of this frame's payload (from offset 0).
    pub len: u32,
    /// The frames of the prefix and their octets, this one last.
    pub fragments: Box<[(u32, u32)]>,
    /// The reassembled octets so far (the prefix; for gRPC-Web text, the base64 text).
    pub data: Rc<[u8]>,
}

/// How one DATA frame's payload splits into messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameParts {
    pub prefix: Option<PrefixPart>,
    pub tail: Option<Tail>,
    /// Whole messages inside the frame: `(offset, length)` in the payload, prefix included.
    pub whole: Vec<(u32, u32)>,
    /// Octets at the end of the payload that begin a message completed later.
    pub head: Option<(u32, u32)>,
    /// Octets `(offset, length)` inside one message that began earlier and ends later.
    pub middle: Option<(u32, u32)>,
    /// END_STREAM came while a message was incomplete: octets it still needed.
    pub missing_at_end: Option<u64>,
    /// For `head` and `middle`: the frame that completes that message, once known (0
    /// until then, and for a message never completed).
    pub ends_in: Option<Rc<Cell<u32>>>,
}

impl FrameParts {
    /// Every message that completes in this frame, as (reassembled message or None for one
    /// inside the frame, offset in the payload, length): the tail first.
    pub fn completed(&self) -> impl Iterator<Item = Completed<'_>> {
        self.tail.iter().map(Completed::Reassembled).chain(
            self.whole
                .iter()
                .map(|&(off, len)| Completed::InFrame { off, len }),
        )
    }
}

/// A message completed in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completed<'a> {
    Reassembled(&'a Tail),
    InFrame { off: u32, len: u32 },
}

/// The message in progress of one stream direction.
#[derive(Debug, Default)]
pub struct Framer {
    /// Its octets so far, prefix first. Past the size limit only the prefix is kept.
    partial: Vec<u8>,
    /// Octets of it seen so far (also past the limit).
    seen: u64,
    /// Its length, prefix included, once the prefix is complete.
    total: Option<u64>,
    /// The frames it spans so far, with their octets.
    fragments: Vec<(u32, u32)>,
    /// It was larger than the limit: its octets are not kept.
    dropped: bool,
    /// Shared with the frames it spans: where it completes.
    ends_in: Rc<Cell<u32>>,
}

/// The message length (prefix included) that the prefix at the start of `bytes` declares,
/// once the prefix is complete.
fn total_of(bytes: &[u8]) -> Option<u64> {
    frame::grpc_prefix(bytes, 0).map(|p| p.total())
}

impl Framer {
    /// Splits the payload of one DATA frame (`frame`) into parts. `limit` bounds the octets
    /// kept for one message.
    pub fn frame(&mut self, frame: u32, data: &[u8], end_stream: bool, limit: usize) -> FrameParts {
        let mut parts = FrameParts::default();
        let mut pos = 0usize;
        if self.seen > 0 && !data.is_empty() {
            // The rest of a message begun earlier: its prefix first, then its body.
            if self.total.is_none() {
                let take = ((PREFIX_LEN as u64 - self.seen) as usize).min(data.len());
                self.consume(&data[..take], limit);
                pos = take;
                if let Some(p) = self
                    .partial
                    .get(..PREFIX_LEN)
                    .filter(|_| self.total.is_some())
                {
                    self.fragments.push((frame, take as u32));
                    parts.prefix = Some(PrefixPart {
                        len: take as u32,
                        fragments: self.fragments.clone().into_boxed_slice(),
                        data: Rc::from(p),
                    });
                }
            }
            if let Some(total) = self.total {
                let start = pos;
                let take = ((total - self.seen) as usize).min(data.len() - pos);
                self.consume(&data[pos..pos + take], limit);
                pos += take;
                if self.total == Some(self.seen) {
                    parts.tail = Some(self.finish(frame, start, take));
                } else if take > 0 {
                    self.fragments.push((frame, take as u32));
                    parts.middle = Some((start as u32, take as u32));
                    parts.ends_in = Some(self.ends_in.clone());
                } else {
                    parts.ends_in = Some(self.ends_in.clone());
                }
            } else {
                // Still inside the prefix.
                self.fragments.push((frame, pos as u32));
                parts.middle = Some((0, pos as u32));
                parts.ends_in = Some(self.ends_in.clone());
            }
        }
        while pos < data.len() {
            let rest = &data[pos..];
            if let Some(total) = total_of(rest).filter(|&t| t <= rest.len() as u64) {
                let total = total as usize;
                parts.whole.push((pos as u32, total as u32));
                pos += total;
                continue;
            }
            // Begins a message that ends in a later frame.
            *self = Framer::default();
            self.consume(rest, limit);
            self.fragments.push((frame, rest.len() as u32));
            parts.head = Some((pos as u32, rest.len() as u32));
            parts.ends_in = Some(self.ends_in.clone());
            pos = data.len();
        }
        if end_stream && let Some(missing) = self.missing() {
            parts.missing_at_end = Some(missing);
            *self = Framer::default();
        }
        parts
    }

    /// Octets still missing from the message in progress, if one is.
    pub fn missing(&self) -> Option<u64> {
        (self.seen > 0).then(|| self.total.unwrap_or(PREFIX_LEN as u64) - self.seen)
    }

    /// Adds octets to the message in progress.
    fn consume(&mut self, bytes: &[u8], limit: usize) {
        if !self.dropped && self.partial.len() + bytes.len() > limit.max(PREFIX_LEN) {
            // Too large to keep: keep only the prefix, to know the length.
            self.dropped = true;
            let room = PREFIX_LEN
                .saturating_sub(self.partial.len())
                .min(bytes.len());
            self.partial.extend_from_slice(&bytes[..room]);
            self.partial.truncate(PREFIX_LEN);
        } else if !self.dropped {
            self.partial.extend_from_slice(bytes);
        } else if self.partial.len() < PREFIX_LEN {
            let room = (PREFIX_LEN - self.partial.len()).min(bytes.len());
            self.partial.extend_from_slice(&bytes[..room]);
        }
        self.seen += bytes.len() as u64;
        if self.total.is_none() && self.partial.len() >= PREFIX_LEN {
            self.total = total_of(&self.partial);
        }
    }

    fn finish(&mut self, frame: u32, start: usize, take: usize) -> Tail {
        // An empty message may end with its prefix: nothing more of this frame is in it.
        if take > 0 || self.fragments.last().is_none_or(|f| f.0 != frame) {
            self.fragments.push((frame, take as u32));
        }
        self.ends_in.set(frame);
        let message = (!self.dropped).then(|| Rc::from(std::mem::take(&mut self.partial)));
        let tail = Tail {
            off: start as u32,
            len: take as u32,
            message,
            fragments: std::mem::take(&mut self.fragments).into_boxed_slice(),
        };
        *self = Framer::default();
        tail
    }
}

/// `g_base64_decode` as GLib does it: characters outside the alphabet are skipped, `=`
/// counts as a zero that drops output octets of its quartet, and an incomplete last quartet
/// is dropped.
pub fn glib_base64_decode(text: &[u8]) -> Vec<u8> {
    let rank = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => 0,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut v, mut i, mut last) = (0u32, 0, [0u8; 2]);
    for &c in text {
        let Some(r) = rank(c) else { continue };
        last = [c, last[0]];
        v = (v << 6) | r;
        i += 1;
        if i == 4 {
            out.push((v >> 16) as u8);
            if last[1] != b'=' {
                out.push((v >> 8) as u8);
            }
            if last[0] != b'=' {
                out.push(v as u8);
            }
            i = 0;
            v = 0;
        }
    }
    out
}

/// `BASE64_ENCODE_SIZE` of the built-in grpc: how it turns decoded octets into text octets.
fn text_len(decoded: usize) -> usize {
    decoded / 3 * 4 + if decoded % 3 == 0 { 0 } else { 4 }
}

/// What the built-in grpc makes of some gRPC-Web text: the decoded octets, the complete
/// messages in them, and, when one is cut short, where it starts and how much more text it
/// asks for (in text octets, by its arithmetic).
fn scan_text(text: &[u8]) -> (DecodedText, Option<(usize, usize)>) {
    let data = glib_base64_decode(text);
    let mut messages = Vec::new();
    let mut off = 0;
    let mut more = None;
    while off < data.len() {
        let rest = data.len() - off;
        let Some(total) = total_of(&data[off..]) else {
            more = Some((text_len(off), text_len(PREFIX_LEN - rest)));
            break;
        };
        let total = total as usize;
        if rest < total {
            more = Some((text_len(off), text_len(total - rest)));
            break;
        }
        messages.push((off as u32, total as u32));
        off += total;
    }
    (
        DecodedText {
            data: Rc::from(data),
            messages,
        },
        more,
    )
}

/// gRPC-Web text framed as the built-in http2 and grpc frame it on the first pass: the text
/// reassembled until it holds as many octets as grpc asked for (in its base64 arithmetic),
/// then decoded and parsed; a message still cut short asks again.
#[derive(Debug, Default)]
pub struct TextFramer {
    /// Text octets the message in progress still asks for.
    wanted: usize,
    text: Vec<u8>,
    fragments: Vec<(u32, u32)>,
    ends_in: Rc<Cell<u32>>,
}

impl TextFramer {
    pub fn frame(
        &mut self,
        frame: u32,
        data: &[u8],
        end_stream: bool,
        limit: usize,
    ) -> (FrameParts, Vec<DecodedText>) {
        let mut parts = FrameParts::default();
        let mut decoded = Vec::new();
        let mut pos = 0;
        let mut first_round = true;
        while self.wanted > 0 && pos < data.len() {
            let take = self.wanted.min(data.len() - pos);
            self.wanted -= take;
            if self.text.len() + take <= limit {
                self.text.extend_from_slice(&data[pos..pos + take]);
            }
            self.fragments.push((frame, take as u32));
            let start = pos;
            pos += take;
            if self.wanted > 0 {
                parts.middle = Some((start as u32, take as u32));
                parts.ends_in = Some(self.ends_in.clone());
                break;
            }
            let (call, more) = scan_text(&self.text);
            if !call.messages.is_empty() {
                decoded.push(call);
            }
            let part = PrefixPart {
                len: take as u32,
                fragments: self.fragments.clone().into_boxed_slice(),
                data: Rc::from(self.text.as_slice()),
            };
            match more {
                // Still cut short: grpc asks for more of the same message.
                Some((0, want)) => {
                    if first_round {
                        parts.prefix = Some(part);
                    }
                    self.wanted = want;
                    first_round = false;
                }
                // The built-in asserts here (a message after the first one is cut short):
                // the rest of the frame is lost and the reassembly starts afresh.
                Some(_) => {
                    *self = TextFramer::default();
                    return (parts, decoded);
                }
                None => {
                    self.ends_in.set(frame);
                    parts.tail = Some(Tail {
                        off: part_start(&parts, start),
                        len: (pos - part_start(&parts, start) as usize) as u32,
                        message: Some(part.data),
                        fragments: part.fragments,
                    });
                    *self = TextFramer::default();
                }
            }
        }
        if pos < data.len() && self.wanted == 0 {
            let (call, more) = scan_text(&data[pos..]);
            if !call.messages.is_empty() {
                decoded.push(call);
            }
            if let Some((off, want)) = more {
                let head = (pos + off).min(data.len());
                *self = TextFramer::default();
                self.text
                    .extend_from_slice(&data[head..data.len().min(head + limit)]);
                self.fragments.push((frame, (data.len() - head) as u32));
                self.wanted = want;
                parts.head = Some((head as u32, (data.len() - head) as u32));
                parts.ends_in = Some(self.ends_in.clone());
            }
        }
        if end_stream && self.wanted > 0 {
            parts.missing_at_end = Some(self.wanted as u64);
            *self = TextFramer::default();
        }
        (parts, decoded)
    }
}

impl TextFramer {
    /// Text octets still asked for, if a message is in progress.
    pub fn missing(&self) -> Option<u64> {
        (self.wanted > 0).then_some(self.wanted as u64)
    }
}

/// Where a tail's own octets start: after a first round (`prefix`), or at `start`.
fn part_start(parts: &FrameParts, start: usize) -> u32 {
    parts.prefix.as_ref().map_or(start as u32, |p| p.len)
}

#[cfg(test)]
#[path = "tests/grpc.rs"]
mod tests;
