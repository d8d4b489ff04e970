//! Per-connection HTTP/2 state: framing (and resynchronisation in captures that start
//! mid-connection), one HPACK decoder per direction, header blocks across CONTINUATION,
//! streams and their request/response pairing, SETTINGS and their ACKs, flow-control
//! windows and body reassembly. Pure Rust: no Wireshark.
//!
//! Every decision is made once, on the first pass, in capture order, and stored per frame
//! (`FrameInfo`, keyed by `PduKey`). Later passes (GUI clicks, `tshark -2`) read the stored
//! decision and never touch the state machine again, so the HPACK tables and windows are
//! never fed twice.

use std::cell::OnceCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use crate::common::{Nanos, PduKey};
use crate::epan::{PduLen, SideSync, StreamStart};

use super::body::{self, DecodeError, Encoding};
use super::compat::state::{CompatFrame, DataMode, HeaderFrame, Tracker};
use super::frame::{
    self, FrameHeader, HEADER_LEN, MAX_MAX_FRAME_SIZE, MAX_WINDOW, MIN_MAX_FRAME_SIZE, Payload,
    PayloadError, flag, kind, setting,
};
use super::grpc::{Context as GrpcContext, FrameParts, Framer, GrpcFrame, TextFramer};
use super::hpack::{Decoder, HeaderBlock, Progress};

/// Which side sent a frame: 0 is the side seen sending first, 1 the other.
pub type Dir = usize;

/// Limits that bound the memory held per connection. Going past one leaves an expert item
/// on the frame where it happened.
pub mod limits {
    /// Streams open at the same time (closed streams release their state).
    pub const MAX_OPEN_STREAMS: usize = 100_000;
    /// Streams whose request/response summary is kept for pairing.
    pub const MAX_STREAM_SUMMARIES: usize = 1_000_000;
    /// A header block (HEADERS + CONTINUATION) larger than this is not decoded.
    pub const MAX_HEADER_BLOCK: usize = 1 << 20;
    /// Outstanding SETTINGS (not yet acknowledged) and PINGs per direction.
    pub const MAX_PENDING_SETTINGS: usize = 64;
    pub const MAX_PENDING_PINGS: usize = 1024;
    /// Segments skipped while looking for frame boundaries (a side that never shows a
    /// plausible frame: not HTTP/2, or garbage) whose framing is remembered for later passes.
    pub const MAX_RESYNC_SKIPS: usize = 1_000_000;
}

/// The default SETTINGS values (RFC 9113 6.5.2).
const DEFAULT_WINDOW: i64 = 65_535;
const DEFAULT_MAX_FRAME: u32 = MIN_MAX_FRAME_SIZE;

/// What framing found at the start of a PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A frame (or the preface) this many bytes long.
    Pdu(u32),
    /// Bytes that belong to a frame that started before the capture: skip this many.
    Skip(u32),
}

/// Protocol violations and other notes, attached to the frame that showed them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    Payload(PayloadError),
    FrameTooLarge {
        len: u32,
        max: u32,
    },
    /// DATA, HEADERS, PRIORITY, RST_STREAM, PUSH_PROMISE or CONTINUATION on stream 0.
    NeedsStream,
    /// SETTINGS, PING or GOAWAY on a non-zero stream.
    NeedsStreamZero,
    ReservedBit,
    BadSetting {
        id: u16,
        value: u32,
        why: &'static str,
    },
    SettingsAckWithPayload,
    SettingsAckUnmatched,
    StreamIdBackwards {
        id: u32,
        last: u32,
    },
    /// A frame other than CONTINUATION arrived while a header block was open.
    ContinuationMissing {
        stream: u32,
    },
    /// CONTINUATION with no open header block on its stream.
    ContinuationUnexpected,
    WindowExceeded {
        connection: bool,
        window: i64,
    },
    WindowOverflow {
        connection: bool,
        window: i64,
    },
    ZeroIncrement,
    HeaderBlockTooLarge {
        len: usize,
    },
    Hpack(String),
    StreamLimit,
    /// Too many unacknowledged SETTINGS or PINGs: the oldest is forgotten, so its ACK will
    /// show as unmatched.
    PendingLimit {
        what: &'static str,
    },
    /// Too many segments skipped while resynchronising: later passes may frame them anew.
    ResyncLimit,
    UnknownType(u8),
    /// A response or trailers on a stream whose request was not captured.
    RequestNotCaptured,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Payload(e) => write!(f, "Malformed payload: {e}"),
            Problem::FrameTooLarge { len, max } => write!(
                f,
                "Frame payload of {len} bytes exceeds the receiver's SETTINGS_MAX_FRAME_SIZE of {max} (FRAME_SIZE_ERROR)"
            ),
            Problem::NeedsStream => {
                write!(f, "This frame type must not use stream 0 (PROTOCOL_ERROR)")
            }
            Problem::NeedsStreamZero => {
                write!(f, "This frame type must use stream 0 (PROTOCOL_ERROR)")
            }
            Problem::ReservedBit => write!(f, "Reserved bit is set (must be 0)"),
            Problem::BadSetting { id, value, why } => {
                write!(f, "SETTINGS parameter 0x{id:x} = {value}: {why}")
            }
            Problem::SettingsAckWithPayload => {
                write!(f, "SETTINGS ACK with a payload (FRAME_SIZE_ERROR)")
            }
            Problem::SettingsAckUnmatched => {
                write!(
                    f,
                    "SETTINGS ACK without an outstanding SETTINGS from the peer"
                )
            }
            Problem::StreamIdBackwards { id, last } => write!(
                f,
                "New stream {id} is not above the last stream {last} opened by this side (PROTOCOL_ERROR)"
            ),
            Problem::ContinuationMissing { stream } => write!(
                f,
                "Header block on stream {stream} not finished: CONTINUATION expected before any other frame (PROTOCOL_ERROR)"
            ),
            Problem::ContinuationUnexpected => write!(
                f,
                "CONTINUATION without a preceding HEADERS or PUSH_PROMISE on this stream (PROTOCOL_ERROR)"
            ),
            Problem::WindowExceeded { connection, window } => write!(
                f,
                "DATA exceeds the {} flow-control window by {} bytes (FLOW_CONTROL_ERROR)",
                if *connection { "connection" } else { "stream" },
                -window
            ),
            Problem::WindowOverflow { connection, window } => write!(
                f,
                "{} window {} above 2^31-1 (FLOW_CONTROL_ERROR)",
                if *connection { "Connection" } else { "Stream" },
                window
            ),
            Problem::ZeroIncrement => {
                write!(f, "WINDOW_UPDATE with an increment of 0 (PROTOCOL_ERROR)")
            }
            Problem::HeaderBlockTooLarge { len } => write!(
                f,
                "Header block of {len} bytes exceeds {} bytes: not decoded, later header blocks of this side may show unknown entries",
                limits::MAX_HEADER_BLOCK
            ),
            Problem::Hpack(e) => write!(f, "HPACK decoding error: {e} (COMPRESSION_ERROR)"),
            Problem::StreamLimit => write!(
                f,
                "Stream tracking limit reached ({} open streams or {} streams in all): pairing and bodies stop for new streams",
                limits::MAX_OPEN_STREAMS,
                limits::MAX_STREAM_SUMMARIES
            ),
            Problem::PendingLimit { what } => write!(
                f,
                "More unacknowledged {what} frames than tracked: the oldest is forgotten (its ACK will show as unmatched)"
            ),
            Problem::ResyncLimit => write!(
                f,
                "More than {} segments skipped without finding a frame boundary: their framing is no longer remembered",
                limits::MAX_RESYNC_SKIPS
            ),
            Problem::UnknownType(t) => write!(f, "Unknown frame type 0x{t:02x}, ignored"),
            Problem::RequestNotCaptured => write!(f, "The request of this stream was not captured"),
        }
    }
}

/// The problems of one frame: most frames have none, so the list costs one (thin) pointer
/// until the first is pushed; a `Vec` would be 24 bytes in every `FrameInfo`, a boxed
/// slice 16.
#[derive(Default, Clone, PartialEq, Eq)]
// The box is the point: it makes the empty list 8 bytes.
#[allow(clippy::box_collection)]
pub struct Problems(Option<Box<Vec<Problem>>>);

impl Problems {
    pub fn push(&mut self, p: Problem) {
        self.0.get_or_insert_default().push(p);
    }
}

impl std::ops::Deref for Problems {
    type Target = [Problem];
    fn deref(&self) -> &[Problem] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl<'a> IntoIterator for &'a Problems {
    type Item = &'a Problem;
    type IntoIter = std::slice::Iter<'a, Problem>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq<Vec<Problem>> for Problems {
    fn eq(&self, other: &Vec<Problem>) -> bool {
        **self == other[..]
    }
}

impl std::fmt::Debug for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// What a decoded header block is, from its pseudo-header fields and its place in the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockRole {
    Request,
    /// A 1xx response (more HEADERS follow).
    Informational,
    Response,
    Trailers,
    /// The request of a server push (PUSH_PROMISE).
    PushRequest,
    /// Mid-connection: names we could not resolve.
    Unknown,
}

/// A complete header block, decoded once.
#[derive(Debug)]
pub struct DecodedBlock {
    /// The stream whose headers these are (for PUSH_PROMISE: the promised stream).
    pub stream: u32,
    pub role: BlockRole,
    /// False for the part of a block decoded so far (shown on the first pass in a frame
    /// whose block continues); later passes show the complete block.
    pub complete: bool,
    /// The concatenated fragments, when the block was split over several frames.
    pub joined: Option<Rc<[u8]>>,
    /// Each fragment's PDU and where it ends in `joined`, in order: a header field is shown
    /// in the frame that holds its last byte (as the built-in http2 does).
    pub fragments: Box<[(PduKey, u32)]>,
    pub decoded: HeaderBlock,
    /// Dynamic table size and entry count after the block.
    pub table_size: u32,
    pub table_len: u32,
}

impl DecodedBlock {
    /// The range of the block's octets that the fragment of `key` holds, when the block
    /// came in several frames (None: it came whole in one frame).
    pub fn fragment_range(&self, key: PduKey) -> Option<(usize, usize)> {
        if self.fragments.len() <= 1 {
            return None;
        }
        let i = self.fragments.iter().position(|f| f.0 == key)?;
        let start = if i == 0 { 0 } else { self.fragments[i - 1].1 };
        Some((start as usize, self.fragments[i].1 as usize))
    }

    /// True when `key` is the frame that completes the block (its only or last fragment).
    pub fn completes_in(&self, key: PduKey) -> bool {
        self.complete
            && (self.fragments.len() <= 1 || self.fragments.last().is_some_and(|f| f.0 == key))
    }

    /// The fields that the frame of `key` shows: those whose last octet is in its fragment
    /// (as the built-in http2 shows a field in the frame that completes it).
    pub fn fields_in(&self, key: PduKey) -> impl Iterator<Item = &crate::h2::hpack::Field> {
        let range = if self.fragments.len() <= 1 {
            Some((0, usize::MAX))
        } else {
            self.fragment_range(key)
        };
        self.decoded
            .fields
            .iter()
            .filter(move |f| range.is_some_and(|(start, end)| f.end() > start && f.end() <= end))
    }

    /// The first value of a header name (pseudo-headers included).
    pub fn value(&self, name: &[u8]) -> Option<&[u8]> {
        self.decoded
            .fields
            .iter()
            .find(|f| f.name.as_deref() == Some(name))
            .and_then(|f| f.value.as_deref())
    }
}

/// A reassembled body, decoded lazily (only when it is shown).
#[derive(Debug)]
pub struct Body {
    pub stream: u32,
    /// The DATA payload bytes, in order, up to the size limit. Empty when the whole body
    /// came in the DATA frame that ends it (`in_frame`): those bytes are in that frame's own
    /// tvb whenever it is dissected, so they are not copied and kept (as the built-in
    /// dissects a one-frame body in place). Most bodies of busy servers are like that.
    stored: Vec<u8>,
    in_frame: bool,
    /// How many bytes of the body are kept (the size limit cuts the rest).
    kept: usize,
    /// The full length of the DATA payloads, also beyond the limit.
    pub total_len: u64,
    pub frames: u32,
    pub content_type: Option<Rc<[u8]>>,
    pub encoding: Option<Encoding>,
    decoded: OnceCell<(Vec<u8>, Option<DecodeError>)>,
}

impl Body {
    /// Bytes of the body kept (at most the size limit).
    pub fn kept_len(&self) -> usize {
        self.kept
    }

    /// The body is the DATA payload of the frame that ends it, not a stored copy.
    pub fn is_in_frame(&self) -> bool {
        self.in_frame
    }

    pub fn truncated(&self) -> bool {
        self.total_len > self.kept as u64
    }

    /// The bytes kept, in order. `frame_data` is the DATA payload of the frame that ended
    /// the body (the frame being dissected).
    pub fn raw<'a>(&'a self, frame_data: &'a [u8]) -> &'a [u8] {
        if self.in_frame {
            frame_data.get(..self.kept).unwrap_or(frame_data)
        } else {
            &self.stored
        }
    }

    /// The body with its content-encoding undone (bounded by `limit`), or the raw bytes.
    pub fn decoded<'a>(
        &'a self,
        limit: usize,
        frame_data: &'a [u8],
    ) -> (&'a [u8], Option<&'a DecodeError>) {
        let raw = self.raw(frame_data);
        match self.encoding {
            None => (raw, None),
            Some(enc) => {
                let (data, err) = self.decoded.get_or_init(|| body::decode(enc, raw, limit));
                (data, err.as_ref())
            }
        }
    }
}

/// What is known about one stream: the request and response frames, for pairing.
#[derive(Clone, Debug, Default)]
pub struct StreamSummary {
    pub id: u32,
    pub request_in: Option<u32>,
    pub request_time: Nanos,
    pub response_in: Option<u32>,
    pub response_time: Nanos,
    pub method: Option<Rc<[u8]>>,
    pub path: Option<Rc<[u8]>>,
    pub status: Option<u16>,
    /// The frame of the PUSH_PROMISE that reserved this stream, and its parent stream.
    pub promised_in: Option<(u32, u32)>,
    /// Content type per sending direction.
    pub content_type: [Option<Rc<[u8]>>; 2],
    /// Content encoding per sending direction (gzip, deflate, br).
    pub content_encoding: [Option<Encoding>; 2],
    /// Per sending direction, the frame whose END_STREAM completed the body that the
    /// built-in http2 reassembles (0: none): its earlier DATA frames point there.
    pub builtin_body_end: [u32; 2],
    /// The built-in's pairing of this stream (4.4+ shows it), as the first pass left it.
    pub builtin_pairing: super::compat::state::Pairing,
}

/// A stream's lifecycle as a passive observer sees it (RFC 9113 5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamState {
    Idle,
    ReservedLocal,
    Open,
    /// One side has sent END_STREAM; `client` tells which.
    HalfClosed {
        client: Option<bool>,
    },
    Closed,
}

impl StreamState {
    pub fn name(self) -> &'static str {
        match self {
            StreamState::Idle => "idle",
            StreamState::ReservedLocal => "reserved",
            StreamState::Open => "open",
            StreamState::HalfClosed { client: Some(true) } => "half-closed (client finished)",
            StreamState::HalfClosed {
                client: Some(false),
            } => "half-closed (server finished)",
            StreamState::HalfClosed { client: None } => "half-closed",
            StreamState::Closed => "closed",
        }
    }
}

/// Flow-control windows after a frame, for the side whose sending they limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    /// The side whose send windows these are (a `Dir`, narrowed: kept per frame).
    pub sender: u8,
    pub connection: i64,
    pub stream: Option<i64>,
}

/// A header to assume for a stream direction whose HEADERS were not captured (the user's
/// fake headers tables), already matched to a direction by server port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeHeader {
    /// The stream it applies to; 0 for every stream.
    pub stream: u32,
    pub name: Rc<[u8]>,
    pub value: Rc<[u8]>,
    /// Also replaces a header that was captured.
    pub override_real: bool,
}

/// Where a header-block fragment went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockPart {
    /// The frame whose HEADERS or PUSH_PROMISE started the block.
    pub started_in: u32,
    /// The frame that finished it (and shows the decoded headers), once known.
    pub completed_in: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PduRole {
    Preface,
    Frame,
    /// Bytes of a frame that began before the capture started.
    Continuation,
}

/// Every first-pass decision about one PDU.
#[derive(Debug)]
pub struct FrameInfo {
    /// The sending side (a `Dir`, narrowed: one `FrameInfo` is kept per frame).
    pub dir: u8,
    /// True when the sender is the client, None while unknown.
    pub from_client: Option<bool>,
    pub role: PduRole,
    /// Index into `Connection::summaries` of the frame's stream.
    pub summary: Option<u32>,
    pub stream_state: Option<StreamState>,
    pub windows: Option<Windows>,
    /// On the frame that completes a header block.
    pub block: Option<Rc<DecodedBlock>>,
    /// On frames that carry a fragment of a block completed elsewhere.
    pub block_part: Option<BlockPart>,
    /// On the frame that ends a stream direction: the reassembled body.
    pub body: Option<Rc<Body>>,
    /// SETTINGS: the frame of the peer's ACK; SETTINGS ACK: the frame it acknowledges.
    pub settings_peer: Option<u32>,
    pub problems: Problems,
    /// DATA: how the built-in http2 treats the payload (for `compat`).
    pub data_mode: DataMode,
    /// What few frames need (boxed, to keep the record of every other frame small).
    extra: Option<Box<Extra>>,
}

/// The rarer per-frame facts.
#[derive(Debug, Default)]
struct Extra {
    /// PING ACK: the PING it answers and the round-trip time; PING: the ACK's frame.
    ping_peer: Option<(u32, Option<Nanos>)>,
    /// What `compat` needs to show the frame as the built-in does.
    compat: CompatFrame,
    /// DATA of a gRPC stream: the messages it ends, holds and begins.
    grpc: Option<GrpcFrame>,
}

impl FrameInfo {
    fn new(dir: Dir, from_client: Option<bool>, role: PduRole) -> Self {
        FrameInfo {
            dir: dir as u8,
            from_client,
            role,
            summary: None,
            stream_state: None,
            windows: None,
            block: None,
            block_part: None,
            body: None,
            settings_peer: None,
            problems: Problems::default(),
            data_mode: DataMode::None,
            extra: None,
        }
    }

    /// PING ACK: the PING it answers and the round-trip time; PING: the ACK's frame.
    pub fn ping_peer(&self) -> Option<(u32, Option<Nanos>)> {
        self.extra.as_ref().and_then(|e| e.ping_peer)
    }

    /// DATA of a gRPC stream: the messages it ends, holds and begins.
    pub fn grpc(&self) -> Option<&GrpcFrame> {
        self.extra.as_ref().and_then(|e| e.grpc.as_ref())
    }

    /// What `compat` needs beyond the common facts (None for most frames).
    pub fn compat(&self) -> Option<&CompatFrame> {
        self.extra.as_ref().map(|e| &e.compat)
    }

    /// The `compat` facts of this frame, created on first use.
    fn compat_mut(&mut self) -> &mut CompatFrame {
        &mut self.extra.get_or_insert_default().compat
    }

    fn set_ping_peer(&mut self, peer: (u32, Option<Nanos>)) {
        self.extra.get_or_insert_default().ping_peer = Some(peer);
    }
}

/// A header block waiting for its CONTINUATION frames.
struct PendingBlock {
    stream: u32,
    /// The promised stream for PUSH_PROMISE.
    promised: Option<u32>,
    end_stream: bool,
    started: PduKey,
    fragments: Vec<PduKey>,
    /// Where each fragment ends in `bytes`.
    ends: Vec<usize>,
    bytes: Vec<u8>,
    too_large: bool,
    /// The representations decoded so far (each fragment is decoded as it arrives).
    progress: Progress,
}

/// How a gRPC stream direction's messages are framed.
enum GrpcFraming {
    Binary(Framer),
    /// gRPC-Web text: base64.
    Text(TextFramer),
}

/// A block of this many fragments or octets at most is also shown, on the first pass,
/// before it completes (a copy per fragment; CONTINUATION floods get none).
const PROVISIONAL_FRAGMENTS: usize = 8;
const PROVISIONAL_BYTES: usize = 256 * 1024;

/// Per-stream live state (removed when the stream closes).
struct LiveStream {
    summary: Option<u32>,
    state: StreamState,
    end_stream: [bool; 2],
    /// Header blocks seen per sending direction (the second and later are trailers).
    header_blocks: [u32; 2],
    send_window: [i64; 2],
    /// Per sending direction, from its first DATA frame on (boxed: most streams of a
    /// request-heavy capture are open with no body yet, and there may be 100,000 of them).
    body: [Option<Box<BodyBuffer>>; 2],
}

#[derive(Default)]
struct BodyBuffer {
    /// A gRPC stream direction is framed into messages as it goes, not kept as a body.
    grpc: Option<(GrpcFraming, Rc<GrpcContext>)>,
    data: Vec<u8>,
    total: u64,
    frames: u32,
}

/// One side of the connection.
struct Side {
    hpack: Decoder,
    /// The first PDU of this side has been seen.
    started: bool,
    /// Framing is in step with frame boundaries.
    synced: bool,
    /// Where the side's stream starts was asked (at its first framing call).
    start_known: bool,
    /// This side's SETTINGS waiting for the peer's ACK, with the frame they came in.
    pending_settings: VecDeque<(PduKey, Vec<(u16, u32)>)>,
    /// What this side may send: limits from the peer's acknowledged SETTINGS.
    max_frame_size: u32,
    initial_window: i64,
    connection_window: i64,
    /// The highest stream id this side opened.
    last_opened: u32,
    block: Option<PendingBlock>,
    pings: VecDeque<(u64, PduKey, Nanos)>,
}

impl Default for Side {
    fn default() -> Self {
        Side {
            hpack: Decoder::new(),
            started: false,
            synced: false,
            start_known: false,
            pending_settings: VecDeque::new(),
            max_frame_size: DEFAULT_MAX_FRAME,
            initial_window: DEFAULT_WINDOW,
            connection_window: DEFAULT_WINDOW,
            last_opened: 0,
            block: None,
            pings: VecDeque::new(),
        }
    }
}

/// The state of one HTTP/2 connection.
#[derive(Default)]
pub struct Connection {
    /// The port of the side that was seen first (direction 0).
    first_port: Option<u32>,
    client: Option<Dir>,
    sides: [Side; 2],
    streams: HashMap<u32, LiveStream>,
    summaries: Vec<StreamSummary>,
    decisions: HashMap<PduKey, FrameInfo>,
    /// First-pass framing answers while a side was resynchronising, keyed by frame and the
    /// number of bytes left in it, so later passes frame the same way.
    skips: HashMap<(u32, u32), u32>,
    /// The last framing answer that was a skip (frame, length): the PDU handed to
    /// `process` next is that skip.
    last_skip: Option<(u32, u32)>,
    /// The body size limit (bytes kept per stream direction).
    pub body_limit: usize,
    limit_noted: bool,
    /// `skips` is full: the next skip PDU says so (once per connection).
    resync_limit_pending: bool,
    resync_limit_noted: bool,
    /// The built-in http2's view of the live streams (for `compat`).
    builtin: Tracker,
    /// Which content types the built-in reassembles as a stream of messages (its
    /// `streaming_content_type` table: gRPC). Set by the dissector from Wireshark's table.
    pub is_streaming_type: Option<fn(&str) -> bool>,
    /// Per direction, the user's fake headers for it (None: no table has a row). Set by
    /// the dissector from the tables and the connection's ports.
    pub fake_headers: [Option<Rc<[FakeHeader]>>; 2],
    fake_headers_set: [bool; 2],
}

impl Connection {
    pub fn new(body_limit: usize) -> Self {
        Connection {
            body_limit,
            ..Default::default()
        }
    }

    /// The direction of a packet: 0 for the side that was seen first.
    pub fn direction(&mut self, src_port: u32, dst_port: u32) -> Dir {
        match self.first_port {
            None => {
                self.first_port = Some(src_port);
                0
            }
            Some(p) if p == src_port && p != dst_port => 0,
            Some(_) => 1,
        }
    }

    /// The side that is the client, once known (by the preface or a request).
    pub fn client(&self) -> Option<Dir> {
        self.client
    }

    /// Marks `dir` as the client side (for example, when the server port is known).
    pub fn set_client(&mut self, dir: Dir) {
        if self.client.is_none() {
            self.client = Some(dir);
        }
    }

    pub fn summary(&self, index: u32) -> Option<&StreamSummary> {
        self.summaries.get(index as usize)
    }

    pub fn decision(&self, key: PduKey) -> Option<&FrameInfo> {
        self.decisions.get(&key)
    }

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

    fn frame_or_skip(&mut self, dir: Dir, frame_num: u32, bytes: &[u8]) -> Framing {
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

    /// First pass: decides everything about one PDU and stores it. Later calls for the same
    /// key return the stored decision.
    pub fn process(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        bytes: &[u8],
        skipped: bool,
    ) -> &FrameInfo {
        if !self.decisions.contains_key(&key) {
            let info = self.decide(key, dir & 1, time, bytes, skipped);
            self.decisions.insert(key, info);
        }
        // Just inserted or already there.
        &self.decisions[&key]
    }

    fn sent_by_client(&self, dir: Dir) -> Option<bool> {
        self.client.map(|c| c == dir)
    }

    fn decide(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        bytes: &[u8],
        skipped: bool,
    ) -> FrameInfo {
        // Streams closed by the previous frame: the built-in's view of them is not needed
        // any more (kept until now for that frame's own links).
        self.builtin.flush_removals();
        let first_of_side = !self.sides[dir].started;
        self.sides[dir].started = true;
        if skipped {
            // The side's HPACK context began before the capture.
            if first_of_side {
                self.sides[dir].hpack = Decoder::new_mid_stream();
            }
            let mut info = FrameInfo::new(dir, self.sent_by_client(dir), PduRole::Continuation);
            if std::mem::take(&mut self.resync_limit_pending) {
                self.resync_limit_noted = true;
                info.problems.push(Problem::ResyncLimit);
            }
            return info;
        }
        if frame::starts_with_preface(bytes) && bytes.len() == frame::PREFACE.len() {
            self.set_client(dir);
            return FrameInfo::new(dir, self.sent_by_client(dir), PduRole::Preface);
        }
        let Some(parsed) = frame::parse_frame(bytes) else {
            return FrameInfo::new(dir, self.sent_by_client(dir), PduRole::Frame);
        };
        let h = parsed.header;
        // A side's first frame must be SETTINGS (after the client's preface). Anything
        // else means the capture began after the start, and HPACK state is unknown.
        let opens_with_settings = h.kind == kind::SETTINGS && !h.has(flag::ACK);
        if first_of_side && !opens_with_settings {
            self.sides[dir].hpack = Decoder::new_mid_stream();
        }
        let mut info = FrameInfo::new(dir, self.sent_by_client(dir), PduRole::Frame);
        self.check_header(&h, dir, &mut info);

        // A header block in progress admits only its CONTINUATION frames.
        if let Some(open) = self.sides[dir].block.as_ref()
            && !(h.kind == kind::CONTINUATION && h.stream_id == open.stream)
        {
            info.problems.push(Problem::ContinuationMissing {
                stream: open.stream,
            });
            // The block will never be finished: its HPACK updates are lost.
            self.sides[dir].block = None;
            self.sides[dir].hpack = Decoder::new_mid_stream();
        }

        let payload = match parsed.payload {
            Ok(p) => p,
            Err(e) => {
                info.problems.push(Problem::Payload(e));
                return info;
            }
        };
        // The frame kind, and for PUSH_PROMISE the promised stream (for `compat`).
        let parsed_kind = Some(match &payload {
            Payload::PushPromise { promised, .. } => (kind::PUSH_PROMISE, promised.val.1),
            _ => (h.kind, 0),
        });
        match payload {
            Payload::Data { data, .. } => {
                // The user's fake headers stand in for HEADERS that were not captured.
                if self
                    .streams
                    .get(&h.stream_id)
                    .is_none_or(|s| s.body[dir].is_none())
                {
                    self.apply_fake_headers(key, dir, time, h.stream_id, &mut info);
                }
                // The built-in's view first: on_data may close the stream.
                let (mode, body) = self.builtin.data_frame(
                    key.frame,
                    dir,
                    h.stream_id,
                    data.len as u32,
                    h.has(flag::END_STREAM),
                );
                if cfg!(ws_ge_4_4) {
                    self.builtin.window_touch(h.stream_id, dir);
                    info.compat_mut().window = Some(self.builtin.window_data(
                        key.frame,
                        dir,
                        h.stream_id,
                        data.len as u32,
                    ));
                }
                self.on_data(key, dir, time, &h, data.of(bytes), &mut info);
                info.data_mode = mode;
                if let Some(body) = body {
                    info.compat_mut().body = Some(body);
                    self.note_builtin_body_end(info.summary, dir, key.frame);
                }
            }
            Payload::Headers { fragment, .. } => {
                if h.has(flag::END_STREAM)
                    && let Some(body) = self.builtin.trailers_end_stream(dir, h.stream_id)
                {
                    info.compat_mut().body = Some(body);
                    let summary = self.streams.get(&h.stream_id).and_then(|s| s.summary);
                    self.note_builtin_body_end(summary, dir, key.frame);
                }
                self.builtin.header_frame(
                    key,
                    dir,
                    h.stream_id,
                    HeaderFrame::Headers,
                    h.has(flag::END_HEADERS),
                );
                if cfg!(ws_ge_4_4) {
                    self.builtin.window_touch(h.stream_id, dir);
                }
                let pending = PendingBlock {
                    stream: h.stream_id,
                    promised: None,
                    end_stream: h.has(flag::END_STREAM),
                    started: key,
                    fragments: Vec::new(),
                    ends: Vec::new(),
                    bytes: Vec::new(),
                    too_large: false,
                    progress: Progress::default(),
                };
                self.on_fragment(
                    key,
                    dir,
                    time,
                    &h,
                    Some(pending),
                    fragment.of(bytes),
                    &mut info,
                )
            }
            Payload::PushPromise {
                promised, fragment, ..
            } => {
                self.builtin.header_frame(
                    key,
                    dir,
                    h.stream_id,
                    HeaderFrame::PushPromise {
                        promised: promised.val.1,
                    },
                    h.has(flag::END_HEADERS),
                );
                if cfg!(ws_ge_4_4) {
                    self.builtin.window_touch(h.stream_id, dir);
                    self.builtin.window_touch(promised.val.1, dir);
                }
                let pending = PendingBlock {
                    stream: h.stream_id,
                    promised: Some(promised.val.1),
                    end_stream: false,
                    started: key,
                    fragments: Vec::new(),
                    ends: Vec::new(),
                    bytes: Vec::new(),
                    too_large: false,
                    progress: Progress::default(),
                };
                self.on_fragment(
                    key,
                    dir,
                    time,
                    &h,
                    Some(pending),
                    fragment.of(bytes),
                    &mut info,
                )
            }
            Payload::Continuation { fragment } => {
                self.builtin.header_frame(
                    key,
                    dir,
                    h.stream_id,
                    HeaderFrame::Continuation,
                    h.has(flag::END_HEADERS),
                );
                if cfg!(ws_ge_4_4) {
                    self.builtin.window_touch(h.stream_id, dir);
                }
                self.on_fragment(key, dir, time, &h, None, fragment.of(bytes), &mut info)
            }
            Payload::Settings(settings) => {
                if cfg!(ws_ge_4_4) {
                    for st in settings
                        .iter()
                        .filter(|st| st.val.0 == setting::INITIAL_WINDOW_SIZE)
                    {
                        self.builtin.window_initial(dir, st.val.1);
                    }
                }
                self.on_settings(
                    key,
                    dir,
                    &h,
                    settings.iter().map(|s| s.val).collect(),
                    &mut info,
                )
            }
            Payload::WindowUpdate { increment } => {
                if cfg!(ws_ge_4_4) {
                    info.compat_mut().window = Some(self.builtin.window_update(
                        key.frame,
                        dir,
                        h.stream_id,
                        increment.val.1,
                    ));
                }
                self.on_window_update(dir, &h, increment.val.1, &mut info)
            }
            Payload::RstStream { .. } => {
                if let Some(s) = self.streams.get_mut(&h.stream_id) {
                    s.state = StreamState::Closed;
                    info.summary = s.summary;
                    info.stream_state = Some(StreamState::Closed);
                }
                self.streams.remove(&h.stream_id);
                self.builtin.remove(h.stream_id);
            }
            Payload::Ping { data } => self.on_ping(key, dir, time, &h, data.val, &mut info),
            Payload::Priority(_)
            | Payload::GoAway { .. }
            | Payload::AltSvc { .. }
            | Payload::Origin(_)
            | Payload::PriorityUpdate { .. } => {
                if let Some(s) = self.streams.get(&h.stream_id) {
                    info.summary = s.summary;
                }
            }
            Payload::Unknown { .. } => info.problems.push(Problem::UnknownType(h.kind)),
        }
        if cfg!(ws_ge_4_4) {
            // The built-in (4.4+) links HEADERS (and PUSH_PROMISE to the promised stream's
            // response) by what its pairing holds right now.
            let stream = match &parsed_kind {
                Some((kind::HEADERS, _)) => Some(h.stream_id),
                Some((kind::PUSH_PROMISE, promised)) => Some(*promised),
                _ => None,
            };
            if let Some(stream) = stream {
                info.compat_mut().pairing = Some(self.builtin.pairing(stream));
            }
        }
        info
    }

    /// Sets the user's fake headers for the side `dir` sends (see `FakeHeader`).
    pub fn set_fake_headers(&mut self, dir: Dir, fakes: Option<Rc<[FakeHeader]>>) {
        self.builtin.track_names |= fakes.is_some();
        self.fake_headers[dir & 1] = fakes;
        self.fake_headers_set[dir & 1] = true;
    }

    /// True once the fake headers of side `dir` are set.
    pub fn has_fake_headers_set(&self, dir: Dir) -> bool {
        self.fake_headers_set[dir & 1]
    }

    /// At the first DATA frame of a stream direction: the fake headers that apply, for the
    /// built-in's view and for ours (content type, encoding, path where none was seen).
    fn apply_fake_headers(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        stream: u32,
        info: &mut FrameInfo,
    ) {
        let Some(fakes) = self.fake_headers[dir & 1].clone() else {
            return;
        };
        let streaming_type = self.streaming_type();
        let Some(applied) =
            self.builtin
                .apply_fake_headers(key, dir, stream, time, &fakes, &streaming_type)
        else {
            return;
        };
        let summary = self.stream(stream, info).and_then(|s| s.summary);
        if let Some(s) = summary.and_then(|i| self.summaries.get_mut(i as usize)) {
            for (name, value) in applied.iter() {
                let overriding = fakes.iter().any(|f| f.name == *name && f.override_real);
                match &**name {
                    b"content-type" if s.content_type[dir].is_none() || overriding => {
                        s.content_type[dir] = Some(value.clone())
                    }
                    b"content-encoding" if s.content_encoding[dir].is_none() || overriding => {
                        s.content_encoding[dir] = Encoding::from_header(value)
                    }
                    b":path" if s.path.is_none() => s.path = Some(value.clone()),
                    _ => {}
                }
            }
        }
        info.compat_mut().fakes = Some(applied);
    }

    /// Copies what the built-in knows of a stream into its summary, for later passes.
    fn sync_builtin_summary(&mut self, stream: u32) {
        let pairing = self.builtin.pairing(stream);
        let summary = self.streams.get(&stream).and_then(|s| s.summary);
        if let Some(s) = summary.and_then(|i| self.summaries.get_mut(i as usize)) {
            s.builtin_pairing = pairing;
        }
    }

    fn note_builtin_body_end(&mut self, summary: Option<u32>, dir: Dir, frame: u32) {
        if let Some(s) = summary.and_then(|i| self.summaries.get_mut(i as usize)) {
            s.builtin_body_end[dir & 1] = frame;
        }
    }

    /// When the stream carries gRPC (its content type, or for a response without one the
    /// request's), what its messages are handed on with.
    fn grpc_context(&self, stream: u32, dir: Dir) -> Option<GrpcContext> {
        let ctx = self.builtin.body_context(stream, dir);
        let content_type = ctx
            .raw_content_type
            .clone()
            .or(ctx.other_content_type.clone())
            .filter(|ct| super::body::media_type(ct).starts_with("application/grpc"))?;
        Some(GrpcContext {
            content_type,
            path: ctx.path,
            is_request: ctx.is_request,
            encoding: ctx.grpc_encoding,
        })
    }

    /// The content types the built-in reassembles as message streams.
    fn streaming_type(&self) -> fn(&str) -> bool {
        self.is_streaming_type.unwrap_or(|ct| {
            matches!(
                ct,
                "application/grpc"
                    | "application/grpc+proto"
                    | "application/grpc+json"
                    | "application/grpc-web"
                    | "application/grpc-web+proto"
                    | "application/grpc-web-text"
                    | "application/grpc-web-text+proto"
            )
        })
    }

    /// What the built-in keeps about a stream (for `compat`).
    pub fn builtin(&self) -> &Tracker {
        &self.builtin
    }

    pub fn builtin_mut(&mut self) -> &mut Tracker {
        &mut self.builtin
    }

    /// Checks that depend only on the header and the negotiated limits.
    fn check_header(&self, h: &FrameHeader, dir: Dir, info: &mut FrameInfo) {
        if h.reserved {
            info.problems.push(Problem::ReservedBit);
        }
        let max = self.sides[dir].max_frame_size;
        if h.length > max {
            info.problems
                .push(Problem::FrameTooLarge { len: h.length, max });
        }
        match h.kind {
            kind::DATA
            | kind::HEADERS
            | kind::PRIORITY
            | kind::RST_STREAM
            | kind::PUSH_PROMISE
            | kind::CONTINUATION
                if h.stream_id == 0 =>
            {
                info.problems.push(Problem::NeedsStream)
            }
            kind::SETTINGS | kind::PING | kind::GOAWAY if h.stream_id != 0 => {
                info.problems.push(Problem::NeedsStreamZero)
            }
            _ => {}
        }
    }

    /// The live state of a stream, created on first use. None past the limits.
    fn stream(&mut self, id: u32, info: &mut FrameInfo) -> Option<&mut LiveStream> {
        if id == 0 {
            return None;
        }
        if !self.streams.contains_key(&id) {
            if self.streams.len() >= limits::MAX_OPEN_STREAMS {
                if !self.limit_noted {
                    self.limit_noted = true;
                    info.problems.push(Problem::StreamLimit);
                }
                return None;
            }
            let summary = if self.summaries.len() < limits::MAX_STREAM_SUMMARIES {
                self.summaries.push(StreamSummary {
                    id,
                    ..Default::default()
                });
                Some(self.summaries.len() as u32 - 1)
            } else {
                if !self.limit_noted {
                    self.limit_noted = true;
                    info.problems.push(Problem::StreamLimit);
                }
                None
            };
            let windows = [self.sides[0].initial_window, self.sides[1].initial_window];
            self.streams.insert(
                id,
                LiveStream {
                    summary,
                    state: StreamState::Idle,
                    end_stream: [false; 2],
                    header_blocks: [0; 2],
                    send_window: windows,
                    body: Default::default(),
                },
            );
        }
        self.streams.get_mut(&id)
    }

    fn on_data(
        &mut self,
        key: PduKey,
        dir: Dir,
        _time: Nanos,
        h: &FrameHeader,
        data: &[u8],
        info: &mut FrameInfo,
    ) {
        // Flow control counts the whole payload, padding included (RFC 9113 6.9.1).
        let len = h.length as i64;
        let conn = {
            let side = &mut self.sides[dir];
            side.connection_window -= len;
            side.connection_window
        };
        if conn < 0 {
            info.problems.push(Problem::WindowExceeded {
                connection: true,
                window: conn,
            });
        }
        let body_limit = self.body_limit;
        let client = self.client;
        let frame = key.frame;
        let grpc_context = self.grpc_context(h.stream_id, dir);
        let Some(stream) = self.stream(h.stream_id, info) else {
            info.windows = Some(Windows {
                sender: dir as u8,
                connection: conn,
                stream: None,
            });
            return;
        };
        stream.send_window[dir] -= len;
        let stream_window = stream.send_window[dir];
        if stream.state == StreamState::Idle {
            // DATA on a stream we never saw open: the capture began after its HEADERS.
            stream.state = StreamState::Open;
        }
        let first_data = stream.body[dir].is_none();
        let buf = stream.body[dir].get_or_insert_default();
        buf.total += data.len() as u64;
        buf.frames += 1;
        if first_data && let Some(context) = grpc_context {
            let framing = if context.is_web_text() {
                GrpcFraming::Text(TextFramer::default())
            } else {
                GrpcFraming::Binary(Framer::default())
            };
            buf.grpc = Some((framing, Rc::new(context)));
        }
        let end = h.has(flag::END_STREAM);
        match &mut buf.grpc {
            Some((framing, context)) => {
                let (parts, decoded) = match framing {
                    GrpcFraming::Binary(f) => (f.frame(frame, data, end, body_limit), Vec::new()),
                    GrpcFraming::Text(f) => f.frame(frame, data, end, body_limit),
                };
                info.extra.get_or_insert_default().grpc = Some(GrpcFrame {
                    parts,
                    context: context.clone(),
                    decoded,
                });
            }
            None => {
                let room = body_limit.saturating_sub(buf.data.len());
                buf.data.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
        info.summary = stream.summary;
        if stream_window < 0 {
            info.problems.push(Problem::WindowExceeded {
                connection: false,
                window: stream_window,
            });
        }
        info.windows = Some(Windows {
            sender: dir as u8,
            connection: conn,
            stream: Some(stream_window),
        });
        if h.has(flag::END_STREAM) {
            self.end_stream(h.stream_id, dir, client, true, info);
        } else if let Some(s) = self.streams.get(&h.stream_id) {
            info.stream_state = Some(s.state);
        }
    }

    /// END_STREAM from `dir`: finishes that direction's body and maybe the stream.
    /// `by_data`: END_STREAM came on a DATA frame (not on trailers).
    fn end_stream(
        &mut self,
        id: u32,
        dir: Dir,
        client: Option<Dir>,
        by_data: bool,
        info: &mut FrameInfo,
    ) {
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        stream.end_stream[dir] = true;
        let mut buf = stream.body[dir].take().map(|b| *b).unwrap_or_default();
        // Trailers ending a gRPC stream inside a message (DATA with END_STREAM is framed
        // in `on_data`).
        if !by_data
            && let Some((framing, context)) = &buf.grpc
            && let Some(missing) = match framing {
                GrpcFraming::Binary(f) => f.missing(),
                GrpcFraming::Text(f) => f.missing(),
            }
        {
            info.extra.get_or_insert_default().grpc = Some(GrpcFrame {
                parts: FrameParts {
                    missing_at_end: Some(missing),
                    ..Default::default()
                },
                context: context.clone(),
                decoded: Vec::new(),
            });
        }
        let in_frame = by_data && buf.frames == 1;
        let kept = buf.data.len();
        if in_frame {
            buf.data = Vec::new();
        } else {
            // Kept for the life of the file: drop the growth slack (up to half).
            buf.data.shrink_to_fit();
        }
        let summary = stream.summary;
        if buf.frames > 0 && buf.grpc.is_none() {
            let s = summary.and_then(|i| self.summaries.get(i as usize));
            // 206 Partial Content cannot be decoded on its own.
            let partial = s.is_some_and(|s| s.status == Some(206));
            info.body = Some(Rc::new(Body {
                stream: id,
                stored: buf.data,
                in_frame,
                kept,
                total_len: buf.total,
                frames: buf.frames,
                content_type: s.and_then(|s| s.content_type[dir].clone()),
                encoding: s.and_then(|s| s.content_encoding[dir]).filter(|_| !partial),
                decoded: OnceCell::new(),
            }));
        }
        let stream = match self.streams.get_mut(&id) {
            Some(s) => s,
            None => return,
        };
        stream.state = if stream.end_stream[0] && stream.end_stream[1] {
            StreamState::Closed
        } else {
            StreamState::HalfClosed {
                client: client.map(|c| c == dir),
            }
        };
        info.stream_state = Some(stream.state);
        if stream.state == StreamState::Closed {
            self.streams.remove(&id);
            self.builtin.remove(id);
        }
    }

    /// A HEADERS or PUSH_PROMISE (`start` is Some) or CONTINUATION fragment.
    #[allow(clippy::too_many_arguments)]
    fn on_fragment(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        h: &FrameHeader,
        start: Option<PendingBlock>,
        fragment: &[u8],
        info: &mut FrameInfo,
    ) {
        let side = &mut self.sides[dir];
        let mut block = match start {
            Some(b) => b,
            None => match side.block.take() {
                Some(b) if b.stream == h.stream_id => b,
                other => {
                    side.block = other;
                    info.problems.push(Problem::ContinuationUnexpected);
                    return;
                }
            },
        };
        block.fragments.push(key);
        if block.too_large || block.bytes.len() + fragment.len() > limits::MAX_HEADER_BLOCK {
            // A CONTINUATION flood: stop buffering, keep counting; say so where it happens.
            if !block.too_large {
                info.problems.push(Problem::HeaderBlockTooLarge {
                    len: block.bytes.len() + fragment.len(),
                });
            }
            block.too_large = true;
            block.bytes = Vec::new();
        } else {
            block.bytes.extend_from_slice(fragment);
        }
        block.ends.push(block.bytes.len());
        let end_headers = h.has(flag::END_HEADERS);
        if !block.too_large {
            // Decode what is complete now, as the built-in's inflater does frame by frame.
            let before = block.progress.fields().len();
            side.hpack
                .decode_more(&block.bytes, &mut block.progress, end_headers);
            let streaming_type = self.streaming_type();
            let target = self.builtin.header_fields(
                key,
                dir,
                block.stream,
                time,
                block.progress.fields()[before..].iter(),
                &streaming_type,
            );
            // Later passes show the pairing and URI as the first pass leaves them.
            self.sync_builtin_summary(target);
        }
        if !end_headers {
            info.block_part = Some(BlockPart {
                started_in: block.started.frame,
                completed_in: None,
            });
            if block.promised.is_none() {
                // The HEADERS frame of a block that continues belongs to its stream already.
                info.summary = self.stream(block.stream, info).and_then(|s| s.summary);
            } else if let Some(s) = self.streams.get(&block.stream) {
                info.summary = s.summary;
            }
            info.block = self.provisional_block(dir, &block);
            self.sides[dir].block = Some(block);
            return;
        }
        self.finish_block(key, dir, time, block, info);
    }

    /// The part of a block decoded so far, shown in the frame that brought it until the
    /// block completes (later passes show the complete block).
    fn provisional_block(&self, dir: Dir, block: &PendingBlock) -> Option<Rc<DecodedBlock>> {
        if block.too_large
            || block.fragments.len() > PROVISIONAL_FRAGMENTS
            || block.bytes.len() > PROVISIONAL_BYTES
        {
            return None;
        }
        let hpack = &self.sides[dir].hpack;
        Some(Rc::new(DecodedBlock {
            stream: block.promised.unwrap_or(block.stream),
            role: BlockRole::Unknown,
            complete: false,
            joined: (block.fragments.len() > 1).then(|| Rc::from(block.bytes.as_slice())),
            fragments: block
                .fragments
                .iter()
                .copied()
                .zip(block.ends.iter().map(|&e| e as u32))
                .collect(),
            decoded: HeaderBlock {
                fields: block.progress.fields().into(),
                error: None,
            },
            table_size: hpack.table_size(),
            table_len: hpack.table_len() as u32,
        }))
    }

    /// Decodes a complete header block and applies what it says to its stream.
    fn finish_block(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        block: PendingBlock,
        info: &mut FrameInfo,
    ) {
        // The earlier fragments now know where their block ended.
        for k in block
            .fragments
            .iter()
            .take(block.fragments.len().saturating_sub(1))
        {
            if let Some(part) = self
                .decisions
                .get_mut(k)
                .and_then(|f| f.block_part.as_mut())
            {
                part.completed_in = Some(key.frame);
            }
        }
        if block.fragments.len() > 1 {
            info.block_part = Some(BlockPart {
                started_in: block.started.frame,
                completed_in: Some(key.frame),
            });
        }
        if block.too_large {
            if !info
                .problems
                .iter()
                .any(|p| matches!(p, Problem::HeaderBlockTooLarge { .. }))
            {
                info.problems.push(Problem::HeaderBlockTooLarge {
                    len: limits::MAX_HEADER_BLOCK + 1,
                });
            }
            // Table insertions in the skipped block are lost: later references to the
            // dynamic table are unknown from here on.
            self.sides[dir].hpack = Decoder::new_mid_stream();
            return;
        }
        // Decoded as the fragments came (`on_fragment`).
        let decoded = block.progress.into_block();
        if let Some(e) = &decoded.error {
            info.problems.push(Problem::Hpack(e.to_string()));
        }
        let stream_id = block.promised.unwrap_or(block.stream);
        let field = |name: &[u8]| -> Option<Rc<[u8]>> {
            decoded
                .fields
                .iter()
                .find(|f| f.name.as_deref() == Some(name))
                .and_then(|f| f.value.clone())
        };
        let method = field(b":method");
        let status =
            field(b":status").and_then(|v| std::str::from_utf8(&v).ok()?.parse::<u16>().ok());
        let unknown = decoded.fields.iter().any(|f| f.is_unknown());
        let earlier_blocks = self
            .streams
            .get(&stream_id)
            .map_or(0, |s| s.header_blocks[dir]);
        let role = if block.promised.is_some() {
            BlockRole::PushRequest
        } else if method.is_some() {
            BlockRole::Request
        } else if let Some(st) = status {
            if (100..200).contains(&st) {
                BlockRole::Informational
            } else {
                BlockRole::Response
            }
        } else if earlier_blocks > 0 || !unknown {
            BlockRole::Trailers
        } else {
            BlockRole::Unknown
        };
        match role {
            BlockRole::Request => self.set_client(dir),
            BlockRole::Response | BlockRole::Informational | BlockRole::PushRequest => {
                self.set_client(1 - dir)
            }
            _ => {}
        }
        info.from_client = self.sent_by_client(dir);
        // New streams must count upwards per side (RFC 9113 5.1.1).
        if matches!(role, BlockRole::Request | BlockRole::PushRequest) {
            let last = self.sides[dir].last_opened;
            if stream_id <= last {
                info.problems.push(Problem::StreamIdBackwards {
                    id: stream_id,
                    last,
                });
            } else {
                self.sides[dir].last_opened = stream_id;
            }
        }
        let table_size = self.sides[dir].hpack.table_size();
        let table_len = self.sides[dir].hpack.table_len() as u32;
        let content_type = field(b"content-type");
        let content_encoding = field(b"content-encoding").and_then(|v| Encoding::from_header(&v));
        let path = field(b":path");
        let client = self.client;

        if let Some(stream) = self.stream(stream_id, info) {
            stream.header_blocks[dir] += 1;
            if stream.state == StreamState::Idle {
                stream.state = if role == BlockRole::PushRequest {
                    StreamState::ReservedLocal
                } else {
                    StreamState::Open
                };
            } else if stream.state == StreamState::ReservedLocal && role != BlockRole::PushRequest {
                stream.state = StreamState::HalfClosed {
                    client: client.map(|c| c != dir),
                };
            }
            let summary = stream.summary;
            info.summary = summary;
            info.stream_state = Some(stream.state);
            if let Some(s) = summary.and_then(|i| self.summaries.get_mut(i as usize)) {
                match role {
                    // The first request and response of a stream are the pair; a second
                    // one, or a request after the response (both protocol violations),
                    // must not re-point earlier frames' links.
                    BlockRole::Request | BlockRole::PushRequest
                        if s.request_in.is_none() && s.response_in.is_none() =>
                    {
                        s.request_in = Some(key.frame);
                        s.request_time = time;
                        s.method = method;
                        s.path = path;
                        if role == BlockRole::PushRequest {
                            s.promised_in = Some((key.frame, block.stream));
                        }
                    }
                    BlockRole::Response if s.response_in.is_none() => {
                        s.response_in = Some(key.frame);
                        s.response_time = time;
                        s.status = status;
                        if s.request_in.is_none() && stream_id != 1 {
                            info.problems.push(Problem::RequestNotCaptured);
                        }
                    }
                    _ => {}
                }
                if matches!(role, BlockRole::Request | BlockRole::Response) {
                    s.content_type[dir] = content_type;
                    s.content_encoding[dir] = content_encoding;
                }
                s.builtin_pairing = self.builtin.pairing(stream_id);
            }
        }
        let decoded = Rc::new(DecodedBlock {
            stream: stream_id,
            role,
            complete: true,
            joined: (block.fragments.len() > 1).then(|| Rc::from(block.bytes.as_slice())),
            fragments: block
                .fragments
                .iter()
                .copied()
                // A block is at most limits::MAX_HEADER_BLOCK octets.
                .zip(block.ends.iter().map(|&e| e as u32))
                .collect(),
            decoded,
            table_size,
            table_len,
        });
        // Earlier fragments show the fields that end in them.
        for k in decoded.fragments.iter().map(|f| f.0).filter(|k| *k != key) {
            if let Some(f) = self.decisions.get_mut(&k) {
                f.block = Some(decoded.clone());
            }
        }
        info.block = Some(decoded);
        if block.end_stream {
            self.end_stream(stream_id, dir, client, false, info);
        }
    }

    fn on_settings(
        &mut self,
        key: PduKey,
        dir: Dir,
        h: &FrameHeader,
        settings: Vec<(u16, u32)>,
        info: &mut FrameInfo,
    ) {
        if h.has(flag::ACK) {
            if !settings.is_empty() {
                info.problems.push(Problem::SettingsAckWithPayload);
            }
            let Some((acked, peer_settings)) = self.sides[1 - dir].pending_settings.pop_front()
            else {
                info.problems.push(Problem::SettingsAckUnmatched);
                return;
            };
            // The acknowledging side has applied the peer's SETTINGS to what it sends.
            for (id, value) in peer_settings {
                match id {
                    setting::HEADER_TABLE_SIZE => {
                        self.sides[dir].hpack.set_max_table_size_limit(value)
                    }
                    setting::INITIAL_WINDOW_SIZE if value <= MAX_WINDOW => {
                        let delta = value as i64 - self.sides[dir].initial_window;
                        self.sides[dir].initial_window = value as i64;
                        for s in self.streams.values_mut() {
                            s.send_window[dir] += delta;
                        }
                    }
                    setting::MAX_FRAME_SIZE
                        if (MIN_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&value) =>
                    {
                        self.sides[dir].max_frame_size = value
                    }
                    _ => {}
                }
            }
            info.settings_peer = Some(acked.frame);
            if let Some(s) = self.decisions.get_mut(&acked) {
                s.settings_peer = Some(key.frame);
            }
            return;
        }
        for &(id, value) in &settings {
            let why = match id {
                setting::ENABLE_PUSH
                | setting::ENABLE_CONNECT_PROTOCOL
                | setting::NO_RFC7540_PRIORITIES
                    if value > 1 =>
                {
                    Some("must be 0 or 1 (PROTOCOL_ERROR)")
                }
                setting::INITIAL_WINDOW_SIZE if value > MAX_WINDOW => {
                    Some("above 2^31-1 (FLOW_CONTROL_ERROR)")
                }
                setting::MAX_FRAME_SIZE
                    if !(MIN_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&value) =>
                {
                    Some("must be between 16384 and 16777215 (PROTOCOL_ERROR)")
                }
                _ => None,
            };
            if let Some(why) = why {
                info.problems.push(Problem::BadSetting { id, value, why });
            }
        }
        let pending = &mut self.sides[dir].pending_settings;
        if pending.len() >= limits::MAX_PENDING_SETTINGS {
            pending.pop_front();
            info.problems
                .push(Problem::PendingLimit { what: "SETTINGS" });
        }
        pending.push_back((key, settings));
    }

    fn on_window_update(
        &mut self,
        dir: Dir,
        h: &FrameHeader,
        increment: u32,
        info: &mut FrameInfo,
    ) {
        if increment == 0 {
            info.problems.push(Problem::ZeroIncrement);
        }
        // A WINDOW_UPDATE widens what the *peer* may send.
        let target = 1 - dir;
        if h.stream_id == 0 {
            let side = &mut self.sides[target];
            side.connection_window += increment as i64;
            if side.connection_window > MAX_WINDOW as i64 {
                info.problems.push(Problem::WindowOverflow {
                    connection: true,
                    window: side.connection_window,
                });
            }
            info.windows = Some(Windows {
                sender: target as u8,
                connection: side.connection_window,
                stream: None,
            });
            return;
        }
        let connection = self.sides[target].connection_window;
        let Some(stream) = self.streams.get_mut(&h.stream_id) else {
            info.windows = Some(Windows {
                sender: target as u8,
                connection,
                stream: None,
            });
            return;
        };
        stream.send_window[target] += increment as i64;
        let w = stream.send_window[target];
        info.summary = stream.summary;
        info.stream_state = Some(stream.state);
        if w > MAX_WINDOW as i64 {
            info.problems.push(Problem::WindowOverflow {
                connection: false,
                window: w,
            });
        }
        info.windows = Some(Windows {
            sender: target as u8,
            connection,
            stream: Some(w),
        });
    }

    fn on_ping(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        h: &FrameHeader,
        data: u64,
        info: &mut FrameInfo,
    ) {
        if h.has(flag::ACK) {
            let pings = &mut self.sides[1 - dir].pings;
            if let Some(pos) = pings.iter().position(|(d, _, _)| *d == data)
                && let Some((_, ping_key, sent)) = pings.remove(pos)
            {
                info.set_ping_peer((ping_key.frame, Some(time - sent)));
                if let Some(p) = self.decisions.get_mut(&ping_key) {
                    p.set_ping_peer((key.frame, None));
                }
            }
            return;
        }
        let pings = &mut self.sides[dir].pings;
        if pings.len() >= limits::MAX_PENDING_PINGS {
            pings.pop_front();
            info.problems.push(Problem::PendingLimit { what: "PING" });
        }
        pings.push_back((data, key, time));
    }
}

/// Could a frame header with these values appear in a real connection? Used only to find
/// frame boundaries in a capture that starts mid-connection.
fn plausible(h: &FrameHeader, max_len: u32) -> bool {
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

#[cfg(test)]
#[path = "tests/connection.rs"]
mod tests;
