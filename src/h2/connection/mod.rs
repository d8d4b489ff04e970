//! Per-connection HTTP/2 state: framing (and resynchronisation in captures that start
//! mid-connection), one HPACK decoder per direction, header blocks across CONTINUATION,
//! streams and their request/response pairing, SETTINGS and their ACKs, flow-control
//! windows and body reassembly. Pure Rust: no Wireshark.
//!
//! Every decision is made once, on the first pass, in capture order, and stored per frame
//! (`FrameInfo`, keyed by `PduKey`). Later passes (GUI clicks, `tshark -2`) read the stored
//! decision and never touch the state machine again, so the HPACK tables and windows are
//! never fed twice.
//!
//! This file holds the connection, the per-frame decision (`FrameInfo`) and the dispatch of
//! each frame (`decide`); the rest is split along its seams:
//! - `framing`: where frames begin, and resynchronisation;
//! - `blocks`: header blocks across CONTINUATION, HPACK, fake headers;
//! - `streams`: stream state, pairing summaries, DATA and bodies, gRPC framing;
//! - `flow`: SETTINGS, flow-control windows, WINDOW_UPDATE, PING;
//! - `problems`: what can be wrong with a frame.

use std::cell::OnceCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::common::{At, FastMap, Nanos, PduKey, PduMap};
use crate::epan::{PduLen, SideSync, StreamStart};

use super::body::{self, DecodeError, Encoding};
use super::compat::state::{CompatFrame, DataMode, HeaderFrame, Tracker, builtin_name_value};
use super::frame::{
    self, FrameHeader, HEADER_LEN, MAX_MAX_FRAME_SIZE, MAX_WINDOW, MIN_MAX_FRAME_SIZE, Payload,
    PayloadError, flag, kind, setting,
};
use super::grpc::{Context as GrpcContext, FrameParts, Framer, GrpcFrame, TextFramer};
use super::hpack::{Decoder, Field, HeaderBlock, Progress, Representation, Str, Strings, Text};

mod blocks;
mod flow;
mod framing;
mod problems;
mod streams;

pub use blocks::*;
pub use flow::*;
pub use framing::*;
pub use problems::*;
pub use streams::*;

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
    /// On the frame that ends a stream direction: the reassembled body.
    pub body: Option<Rc<Body>>,
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
    /// SETTINGS: the frame of the peer's ACK; SETTINGS ACK: the frame it acknowledges.
    settings_peer: Option<u32>,
    /// On frames that carry a fragment of a block of several frames.
    block_part: Option<BlockPart>,
    /// What `compat` needs to show the frame as the built-in does.
    compat: CompatFrame,
    /// DATA of a gRPC stream: the messages it ends, holds and begins (boxed: the other
    /// frames that need an `Extra`, those that complete a body for `compat`, are many).
    grpc: Option<Box<GrpcFrame>>,
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
            body: None,
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
        self.extra.as_ref().and_then(|e| e.grpc.as_deref())
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

    /// SETTINGS: the frame of the peer's ACK; SETTINGS ACK: the frame it acknowledges.
    pub fn settings_peer(&self) -> Option<u32> {
        self.extra.as_ref().and_then(|e| e.settings_peer)
    }

    fn set_settings_peer(&mut self, frame: u32) {
        self.extra.get_or_insert_default().settings_peer = Some(frame);
    }

    /// On frames that carry a fragment of a block of several frames: where it started and
    /// completed.
    pub fn block_part(&self) -> Option<BlockPart> {
        self.extra.as_ref().and_then(|e| e.block_part)
    }

    fn block_part_mut(&mut self) -> Option<&mut BlockPart> {
        self.extra.as_mut().and_then(|e| e.block_part.as_mut())
    }

    fn set_block_part(&mut self, part: BlockPart) {
        self.extra.get_or_insert_default().block_part = Some(part);
    }
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
    streams: FastMap<u32, LiveStream>,
    summaries: Vec<StreamSummary>,
    decisions: PduMap<FrameInfo>,
    /// First-pass framing answers while a side was resynchronising, keyed by frame and the
    /// number of bytes left in it, so later passes frame the same way.
    skips: FastMap<(u32, u32), u32>,
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

    /// First pass: decides everything about one PDU and stores it. Later calls for the same
    /// key return the stored decision. (Always `Some`: the decision was there or is stored
    /// now.)
    pub fn process(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        bytes: &[u8],
        skipped: bool,
    ) -> Option<&FrameInfo> {
        if !self.decisions.contains_key(&key) {
            let info = self.decide(key, dir & 1, time, bytes, skipped);
            self.decisions.insert(key, info);
        }
        self.decisions.get(&key)
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
                self.data_frame(key, dir, time, &h, data.of(bytes), &mut info)
            }
            Payload::Headers { fragment, .. } => {
                self.headers_frame(key, dir, time, &h, fragment.of(bytes), &mut info)
            }
            Payload::PushPromise {
                promised, fragment, ..
            } => self.push_promise_frame(
                key,
                dir,
                time,
                &h,
                promised.val.1,
                fragment.of(bytes),
                &mut info,
            ),
            Payload::Continuation { fragment } => {
                self.continuation_frame(key, dir, time, &h, fragment.of(bytes), &mut info)
            }
            Payload::Settings(settings) => self.settings_frame(key, dir, &h, &settings, &mut info),
            Payload::WindowUpdate { increment } => {
                self.window_update_frame(key, dir, &h, increment.val.1, &mut info)
            }
            Payload::RstStream { .. } => self.rst_stream_frame(&h, &mut info),
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

    /// DATA: the built-in's view first (on_data may close the stream), then ours.
    fn data_frame(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        h: &FrameHeader,
        data: &[u8],
        info: &mut FrameInfo,
    ) {
        // The user's fake headers stand in for HEADERS that were not captured.
        if self
            .streams
            .get(&h.stream_id)
            .is_none_or(|s| s.body[dir].is_none())
        {
            self.apply_fake_headers(key, dir, time, h.stream_id, info);
        }
        let (mode, body) = self.builtin.data_frame(
            key.frame,
            dir,
            h.stream_id,
            data.len() as u32,
            h.has(flag::END_STREAM),
        );
        if cfg!(ws_ge_4_4) {
            self.builtin.window_touch(h.stream_id, dir);
            info.compat_mut().window =
                Some(
                    self.builtin
                        .window_data(key.frame, dir, h.stream_id, data.len() as u32),
                );
        }
        self.on_data(key, dir, time, h, data, info);
        info.data_mode = mode;
        if let Some(body) = body {
            info.compat_mut().body = Some(body);
            self.note_builtin_body_end(info.summary, dir, key.frame);
        }
    }

    /// HEADERS: ends the built-in's body on trailers, and starts a header block.
    fn headers_frame(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        h: &FrameHeader,
        fragment: &[u8],
        info: &mut FrameInfo,
    ) {
        if h.has(flag::END_STREAM)
            && let Some(body) = self.builtin.trailers_end_stream(dir, h.stream_id)
        {
            info.compat_mut().body = Some(body);
            let summary = self.streams.get(&h.stream_id).and_then(|s| s.summary);
            self.note_builtin_body_end(summary, dir, key.frame);
        }
        self.builtin_header_frame(key, dir, h, HeaderFrame::Headers);
        let pending = PendingBlock::new(h.stream_id, None, h.has(flag::END_STREAM), key);
        self.on_fragment(key, dir, time, h, Some(pending), fragment, info)
    }

    /// PUSH_PROMISE: starts a header block for the promised stream.
    #[allow(clippy::too_many_arguments)]
    fn push_promise_frame(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        h: &FrameHeader,
        promised: u32,
        fragment: &[u8],
        info: &mut FrameInfo,
    ) {
        self.builtin_header_frame(key, dir, h, HeaderFrame::PushPromise { promised });
        if cfg!(ws_ge_4_4) {
            self.builtin.window_touch(promised, dir);
        }
        let pending = PendingBlock::new(h.stream_id, Some(promised), false, key);
        self.on_fragment(key, dir, time, h, Some(pending), fragment, info)
    }

    /// The built-in's view of a frame of a header block (4.4+: its stream's window too).
    fn builtin_header_frame(&mut self, key: PduKey, dir: Dir, h: &FrameHeader, frame: HeaderFrame) {
        self.builtin
            .header_frame(key, dir, h.stream_id, frame, h.has(flag::END_HEADERS));
        if cfg!(ws_ge_4_4) {
            self.builtin.window_touch(h.stream_id, dir);
        }
    }

    /// CONTINUATION: the next fragment of the block in progress.
    fn continuation_frame(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        h: &FrameHeader,
        fragment: &[u8],
        info: &mut FrameInfo,
    ) {
        self.builtin_header_frame(key, dir, h, HeaderFrame::Continuation);
        self.on_fragment(key, dir, time, h, None, fragment, info)
    }

    /// SETTINGS: the built-in's initial window (4.4+), then ours.
    fn settings_frame(
        &mut self,
        key: PduKey,
        dir: Dir,
        h: &FrameHeader,
        settings: &[At<(u16, u32)>],
        info: &mut FrameInfo,
    ) {
        if cfg!(ws_ge_4_4) {
            for st in settings
                .iter()
                .filter(|st| st.val.0 == setting::INITIAL_WINDOW_SIZE)
            {
                self.builtin.window_initial(dir, st.val.1);
            }
        }
        self.on_settings(key, dir, h, settings.iter().map(|s| s.val).collect(), info)
    }

    /// WINDOW_UPDATE: the built-in's calculated window (4.4+), then ours.
    fn window_update_frame(
        &mut self,
        key: PduKey,
        dir: Dir,
        h: &FrameHeader,
        increment: u32,
        info: &mut FrameInfo,
    ) {
        if cfg!(ws_ge_4_4) {
            info.compat_mut().window =
                Some(
                    self.builtin
                        .window_update(key.frame, dir, h.stream_id, increment),
                );
        }
        self.on_window_update(dir, h, increment, info)
    }

    /// RST_STREAM closes the stream; its state is released.
    fn rst_stream_frame(&mut self, h: &FrameHeader, info: &mut FrameInfo) {
        if let Some(s) = self.streams.get_mut(&h.stream_id) {
            s.state = StreamState::Closed;
            info.summary = s.summary;
            info.stream_state = Some(StreamState::Closed);
        }
        self.streams.remove(&h.stream_id);
        self.builtin.remove(h.stream_id);
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
}

#[cfg(test)]
#[path = "../tests/connection.rs"]
mod tests;
