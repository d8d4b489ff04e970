//! HTTP/2 frames (RFC 9113 section 4 and 6, RFC 7838 ALTSVC, RFC 8336 ORIGIN, RFC 9218
//! PRIORITY_UPDATE): bytes in, typed records out. Pure: no Wireshark, no state.
//!
//! Every field carries its offset and length within the frame (`At<T>`, as in the
//! ZooKeeper parser), so the dissector can point each tree item at its own bytes. The frame
//! starts at offset 0: the framing layer hands us exactly one frame per call.

use nom::IResult;
use nom::number::complete::{be_u8, be_u16, be_u24, be_u32};

use crate::common::{At, Span};

/// The client connection preface (RFC 9113 section 3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Every frame starts with this many bytes: length (24), type (8), flags (8), R + stream id (32).
pub const HEADER_LEN: usize = 9;

crate::code_table! {
    /// Frame types (RFC 9113 section 6; ALTSVC RFC 7838, ORIGIN RFC 8336, PRIORITY_UPDATE
    /// RFC 9218).
    pub enum FrameType: u8 in kind {
        DATA / Data = 0x0 => "DATA",
        HEADERS / Headers = 0x1 => "HEADERS",
        PRIORITY / Priority = 0x2 => "PRIORITY",
        RST_STREAM / RstStream = 0x3 => "RST_STREAM",
        SETTINGS / Settings = 0x4 => "SETTINGS",
        PUSH_PROMISE / PushPromise = 0x5 => "PUSH_PROMISE",
        PING / Ping = 0x6 => "PING",
        GOAWAY / GoAway = 0x7 => "GOAWAY",
        WINDOW_UPDATE / WindowUpdate = 0x8 => "WINDOW_UPDATE",
        CONTINUATION / Continuation = 0x9 => "CONTINUATION",
        ALTSVC / AltSvc = 0xa => "ALTSVC",
        /// From a draft of RFC 7540 that never became standard: the built-in http2 still
        /// names it, with no payload.
        BLOCKED / Blocked = 0xb => "BLOCKED",
        ORIGIN / Origin = 0xc => "ORIGIN",
        PRIORITY_UPDATE / PriorityUpdate = 0x10 => "PRIORITY_UPDATE",
    }
}

/// Flag bits; their meaning depends on the frame type.
pub mod flag {
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;
    pub const PADDED: u8 = 0x8;
    pub const PRIORITY: u8 = 0x20;

    /// The flags a frame type defines; any other bit set is "unused" and must be ignored.
    pub fn defined(kind: u8) -> u8 {
        // Spelled out: a glob import of `kind::*` here would shadow this module's PRIORITY
        // flag (0x20) with the PRIORITY frame type (0x2).
        use super::kind as k;
        match kind {
            k::DATA => END_STREAM | PADDED,
            k::HEADERS => END_STREAM | END_HEADERS | PADDED | PRIORITY,
            k::SETTINGS | k::PING => ACK,
            k::PUSH_PROMISE => END_HEADERS | PADDED,
            k::CONTINUATION => END_HEADERS,
            _ => 0,
        }
    }
}

/// SETTINGS parameters (RFC 9113 section 6.5.2, RFC 8441, RFC 9218).
pub mod setting {
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    pub const ENABLE_PUSH: u16 = 0x2;
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    pub const MAX_FRAME_SIZE: u16 = 0x5;
    pub const MAX_HEADER_LIST_SIZE: u16 = 0x6;
    pub const ENABLE_CONNECT_PROTOCOL: u16 = 0x8;
    pub const NO_RFC7540_PRIORITIES: u16 = 0x9;
}

crate::code_table! {
    /// Error codes of RST_STREAM and GOAWAY (RFC 9113 section 7).
    pub enum ErrorCode: u32 in error_code {
        NO_ERROR / NoError = 0x0 => "NO_ERROR",
        PROTOCOL_ERROR / ProtocolError = 0x1 => "PROTOCOL_ERROR",
        INTERNAL_ERROR / InternalError = 0x2 => "INTERNAL_ERROR",
        FLOW_CONTROL_ERROR / FlowControlError = 0x3 => "FLOW_CONTROL_ERROR",
        SETTINGS_TIMEOUT / SettingsTimeout = 0x4 => "SETTINGS_TIMEOUT",
        STREAM_CLOSED / StreamClosed = 0x5 => "STREAM_CLOSED",
        FRAME_SIZE_ERROR / FrameSizeError = 0x6 => "FRAME_SIZE_ERROR",
        REFUSED_STREAM / RefusedStream = 0x7 => "REFUSED_STREAM",
        CANCEL / Cancel = 0x8 => "CANCEL",
        COMPRESSION_ERROR / CompressionError = 0x9 => "COMPRESSION_ERROR",
        CONNECT_ERROR / ConnectError = 0xa => "CONNECT_ERROR",
        ENHANCE_YOUR_CALM / EnhanceYourCalm = 0xb => "ENHANCE_YOUR_CALM",
        INADEQUATE_SECURITY / InadequateSecurity = 0xc => "INADEQUATE_SECURITY",
        HTTP_1_1_REQUIRED / Http11Required = 0xd => "HTTP_1_1_REQUIRED",
    }
}

/// The largest window and the largest stream id (31 bits).
pub const MAX_WINDOW: u32 = 0x7fff_ffff;
/// SETTINGS_MAX_FRAME_SIZE bounds.
pub const MIN_MAX_FRAME_SIZE: u32 = 16_384;
pub const MAX_MAX_FRAME_SIZE: u32 = 16_777_215;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length (the 24-bit field).
    pub length: u32,
    pub kind: u8,
    pub flags: u8,
    /// The reserved bit before the stream id; must be 0 and ignored.
    pub reserved: bool,
    pub stream_id: u32,
}

impl FrameHeader {
    pub fn has(&self, bit: u8) -> bool {
        self.flags & bit != 0
    }

    /// Bits set that this frame type does not define.
    pub fn unused_flags(&self) -> u8 {
        self.flags & !flag::defined(self.kind)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priority {
    pub exclusive: bool,
    pub dependency: u32,
    /// The weight field (the real weight is this plus one).
    pub weight: u8,
}

/// Pad Length field and the padding itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Padding {
    pub pad_length: At<u8>,
    pub padding: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    Data {
        padding: Option<Padding>,
        data: Span,
    },
    Headers {
        padding: Option<Padding>,
        priority: Option<At<Priority>>,
        fragment: Span,
    },
    Priority(At<Priority>),
    RstStream {
        error: At<u32>,
    },
    Settings(Vec<At<(u16, u32)>>),
    PushPromise {
        padding: Option<Padding>,
        /// The reserved bit and the promised stream id.
        promised: At<(bool, u32)>,
        fragment: Span,
    },
    Ping {
        data: At<u64>,
    },
    GoAway {
        last_stream: At<(bool, u32)>,
        error: At<u32>,
        debug: Span,
    },
    WindowUpdate {
        increment: At<(bool, u32)>,
    },
    Continuation {
        fragment: Span,
    },
    AltSvc {
        origin_len: At<u16>,
        origin: Span,
        value: Span,
    },
    Origin(Vec<(At<u16>, Span)>),
    PriorityUpdate {
        prioritized: At<(bool, u32)>,
        value: Span,
    },
    /// A type this dissector does not know: shown as bytes and skipped (RFC 9113 5.5).
    Unknown {
        data: Span,
    },
}

/// Why a payload could not be decoded. The frame header is still valid; these are the
/// FRAME_SIZE_ERROR and PROTOCOL_ERROR conditions of RFC 9113 that the layout alone shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// The frame type has a fixed payload length and this is not it.
    BadLength { expected: u32 },
    /// SETTINGS payload not a multiple of 6.
    SettingsLength,
    /// Pad Length is not less than the payload that follows it.
    PaddingTooLong { pad_length: u8 },
    /// A length field points past the end of the payload.
    Truncated,
    /// The frame was cut short by the capture (snaplen), so the payload is incomplete.
    NotCaptured,
}

impl std::fmt::Display for PayloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PayloadError::BadLength { expected } => {
                write!(f, "payload length must be {expected} (FRAME_SIZE_ERROR)")
            }
            PayloadError::SettingsLength => {
                write!(
                    f,
                    "SETTINGS length is not a multiple of 6 (FRAME_SIZE_ERROR)"
                )
            }
            PayloadError::PaddingTooLong { pad_length } => write!(
                f,
                "Pad Length {pad_length} is not less than the payload (PROTOCOL_ERROR)"
            ),
            PayloadError::Truncated => write!(f, "a length field points past the payload"),
            PayloadError::NotCaptured => write!(f, "frame not fully captured"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub header: FrameHeader,
    pub payload: Result<Payload, PayloadError>,
}

fn stream_id(input: &[u8]) -> IResult<&[u8], (bool, u32)> {
    let (rest, v) = be_u32(input)?;
    Ok((rest, (v & 0x8000_0000 != 0, v & MAX_WINDOW)))
}

/// The 9-byte frame header, or None when fewer bytes are given.
pub fn parse_header(bytes: &[u8]) -> Option<FrameHeader> {
    let parsed: IResult<&[u8], _> = (|i| {
        let (i, length) = be_u24(i)?;
        let (i, kind) = be_u8(i)?;
        let (i, flags) = be_u8(i)?;
        let (i, (reserved, stream_id)) = stream_id(i)?;
        Ok((
            i,
            FrameHeader {
                length,
                kind,
                flags,
                reserved,
                stream_id,
            },
        ))
    })(bytes);
    parsed.ok().map(|(_, h)| h)
}

/// The prefix of a gRPC length-prefixed message (gRPC over HTTP/2, and gRPC-Web), as it
/// stands in a DATA frame's payload or a reassembled body: one flags octet (bit 0:
/// compressed; bit 7: a gRPC-Web trailer) and the message length. Spans are relative to the
/// bytes given to `grpc_prefix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrpcPrefix {
    pub flags: At<u8>,
    /// The message's length, prefix not included.
    pub length: At<u32>,
}

/// The length of a gRPC message prefix.
pub const GRPC_PREFIX_LEN: usize = 5;

impl GrpcPrefix {
    pub fn compressed(&self) -> bool {
        self.flags.val & 1 != 0
    }

    /// The message's length, prefix included.
    pub fn total(&self) -> u64 {
        GRPC_PREFIX_LEN as u64 + u64::from(self.length.val)
    }
}

/// The gRPC message prefix at `off` of `bytes`, or None when fewer than 5 octets are there.
pub fn grpc_prefix(bytes: &[u8], off: usize) -> Option<GrpcPrefix> {
    let parsed: IResult<&[u8], _> = (|i| {
        let (i, flags) = be_u8(i)?;
        let (i, length) = be_u32(i)?;
        Ok((i, (flags, length)))
    })(bytes.get(off..)?);
    let (_, (flags, length)) = parsed.ok()?;
    Some(GrpcPrefix {
        flags: At {
            off,
            len: 1,
            val: flags,
        },
        length: At {
            off: off + 1,
            len: 4,
            val: length,
        },
    })
}

/// True when `bytes` start with the connection preface (or a prefix of it, when shorter).
pub fn starts_with_preface(bytes: &[u8]) -> bool {
    let n = bytes.len().min(PREFACE.len());
    n > 0 && bytes[..n] == PREFACE[..n]
}

/// How many bytes the frame (or preface) at the start of `bytes` takes, given at least the
/// 9 header bytes.
pub fn pdu_len(bytes: &[u8]) -> Option<u32> {
    if bytes.len() >= HEADER_LEN && starts_with_preface(bytes) {
        return Some(PREFACE.len() as u32);
    }
    parse_header(bytes).map(|h| h.length + HEADER_LEN as u32)
}

/// Parses one whole frame. `bytes` is the frame as captured: header plus payload (which
/// may be short when the capture was truncated).
pub fn parse_frame(bytes: &[u8]) -> Option<Frame> {
    let header = parse_header(bytes)?;
    let end = HEADER_LEN + header.length as usize;
    let payload = match bytes.get(HEADER_LEN..end) {
        Some(p) => parse_payload(&header, p),
        None => Err(PayloadError::NotCaptured),
    };
    Some(Frame { header, payload })
}

/// Cursor over the payload that turns nom results into offsets relative to the frame.
struct Cursor<'a> {
    payload: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn off(&self) -> usize {
        HEADER_LEN + self.pos
    }

    fn take<T>(
        &mut self,
        parser: impl Fn(&'a [u8]) -> IResult<&'a [u8], T>,
    ) -> Result<At<T>, PayloadError> {
        let input = self.payload.get(self.pos..).unwrap_or(&[]);
        let (rest, val) = parser(input).map_err(|_| PayloadError::Truncated)?;
        let len = input.len() - rest.len();
        let at = At {
            off: self.off(),
            len,
            val,
        };
        self.pos += len;
        Ok(at)
    }

    fn span(&mut self, len: usize) -> Result<Span, PayloadError> {
        if self.remaining() < len {
            return Err(PayloadError::Truncated);
        }
        let s = Span {
            off: self.off(),
            len,
        };
        self.pos += len;
        Ok(s)
    }

    fn remaining(&self) -> usize {
        self.payload.len().saturating_sub(self.pos)
    }
}

fn fixed(payload: &[u8], expected: u32) -> Result<(), PayloadError> {
    if payload.len() as u32 == expected {
        Ok(())
    } else {
        Err(PayloadError::BadLength { expected })
    }
}

fn priority(i: &[u8]) -> IResult<&[u8], Priority> {
    let (i, (exclusive, dependency)) = stream_id(i)?;
    let (i, weight) = be_u8(i)?;
    Ok((
        i,
        Priority {
            exclusive,
            dependency,
            weight,
        },
    ))
}

/// Reads the Pad Length when PADDED is set and reserves the padding at the end, so that
/// the cursor then covers only the frame's own fields and data.
fn padded<'a>(
    header: &FrameHeader,
    payload: &'a [u8],
) -> Result<(Cursor<'a>, Option<Padding>), PayloadError> {
    let mut c = Cursor { payload, pos: 0 };
    if !header.has(flag::PADDED) {
        return Ok((c, None));
    }
    let pad_length = c.take(be_u8)?;
    let pad = pad_length.val as usize;
    if pad >= payload.len() {
        return Err(PayloadError::PaddingTooLong {
            pad_length: pad_length.val,
        });
    }
    let body_end = payload.len() - pad;
    let padding = Span {
        off: HEADER_LEN + body_end,
        len: pad,
    };
    c.payload = &payload[..body_end];
    Ok((
        c,
        Some(Padding {
            pad_length,
            padding,
        }),
    ))
}

fn parse_payload(header: &FrameHeader, payload: &[u8]) -> Result<Payload, PayloadError> {
    match header.kind {
        kind::DATA => {
            let (mut c, padding) = padded(header, payload)?;
            let data = c.span(c.remaining())?;
            Ok(Payload::Data { padding, data })
        }
        kind::HEADERS => {
            let (mut c, padding) = padded(header, payload)?;
            let priority = if header.has(flag::PRIORITY) {
                Some(c.take(priority)?)
            } else {
                None
            };
            let fragment = c.span(c.remaining())?;
            Ok(Payload::Headers {
                padding,
                priority,
                fragment,
            })
        }
        kind::PRIORITY => {
            fixed(payload, 5)?;
            let mut c = Cursor { payload, pos: 0 };
            Ok(Payload::Priority(c.take(priority)?))
        }
        kind::RST_STREAM => {
            fixed(payload, 4)?;
            let mut c = Cursor { payload, pos: 0 };
            Ok(Payload::RstStream {
                error: c.take(be_u32)?,
            })
        }
        kind::SETTINGS => {
            if payload.len() % 6 != 0 {
                return Err(PayloadError::SettingsLength);
            }
            let mut c = Cursor { payload, pos: 0 };
            let mut settings = Vec::with_capacity(payload.len() / 6);
            while c.remaining() > 0 {
                settings.push(c.take(|i| {
                    let (i, id) = be_u16(i)?;
                    let (i, v) = be_u32(i)?;
                    Ok((i, (id, v)))
                })?);
            }
            Ok(Payload::Settings(settings))
        }
        kind::PUSH_PROMISE => {
            let (mut c, padding) = padded(header, payload)?;
            let promised = c.take(stream_id)?;
            let fragment = c.span(c.remaining())?;
            Ok(Payload::PushPromise {
                padding,
                promised,
                fragment,
            })
        }
        kind::PING => {
            fixed(payload, 8)?;
            let mut c = Cursor { payload, pos: 0 };
            Ok(Payload::Ping {
                data: c.take(nom::number::complete::be_u64)?,
            })
        }
        kind::GOAWAY => {
            let mut c = Cursor { payload, pos: 0 };
            let last_stream = c.take(stream_id)?;
            let error = c.take(be_u32)?;
            let debug = c.span(c.remaining())?;
            Ok(Payload::GoAway {
                last_stream,
                error,
                debug,
            })
        }
        kind::WINDOW_UPDATE => {
            fixed(payload, 4)?;
            let mut c = Cursor { payload, pos: 0 };
            Ok(Payload::WindowUpdate {
                increment: c.take(stream_id)?,
            })
        }
        kind::CONTINUATION => {
            let mut c = Cursor { payload, pos: 0 };
            Ok(Payload::Continuation {
                fragment: c.span(c.remaining())?,
            })
        }
        kind::ALTSVC => {
            let mut c = Cursor { payload, pos: 0 };
            let origin_len = c.take(be_u16)?;
            let origin = c.span(origin_len.val as usize)?;
            let value = c.span(c.remaining())?;
            Ok(Payload::AltSvc {
                origin_len,
                origin,
                value,
            })
        }
        kind::ORIGIN => {
            let mut c = Cursor { payload, pos: 0 };
            let mut entries = Vec::new();
            while c.remaining() > 0 {
                let len = c.take(be_u16)?;
                let origin = c.span(len.val as usize)?;
                entries.push((len, origin));
            }
            Ok(Payload::Origin(entries))
        }
        kind::PRIORITY_UPDATE => {
            let mut c = Cursor { payload, pos: 0 };
            let prioritized = c.take(stream_id)?;
            let value = c.span(c.remaining())?;
            Ok(Payload::PriorityUpdate { prioritized, value })
        }
        _ => {
            let mut c = Cursor { payload, pos: 0 };
            Ok(Payload::Unknown {
                data: c.span(c.remaining())?,
            })
        }
    }
}

#[cfg(test)]
#[path = "tests/frame.rs"]
mod tests;
