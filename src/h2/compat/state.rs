//! What Wireshark's built-in `http2` dissector records about a connection, computed the way
//! it computes it (packet-http2.c: `populate_http_header_tracking`, `is_in_header_context`,
//! `reassemble_http2_data_into_full_frame`, ...), so that `h2` can fill the built-in's fields
//! on the same frames with the same values. Pure, and fed by `Connection` on the first pass.
//!
//! This is deliberately *not* our own analysis: where the built-in's bookkeeping differs
//! from what RFC 9113 says (which header block sets a stream's content type, when a body
//! is reassembled), this module follows the built-in, and `Connection` keeps the accurate
//! view for `h2`'s own fields.

use std::rc::Rc;

use crate::common::{FastMap, FastSet, Nanos, PduKey};
use crate::h2::body::Encoding;
use crate::h2::connection::limits::MAX_OPEN_STREAMS;
use crate::h2::hpack::{Field, Strings};

/// How the built-in treats one DATA frame's payload (`dissect_http2_data_body`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DataMode {
    /// Not a DATA frame, or no body handling.
    #[default]
    None,
    /// Not reassembled: shown as it is ("partial entity body"), because the stream's
    /// HEADERS were not seen, or it is transfer-encoded, or a CONNECT tunnel.
    Partial,
    /// A fragment of a body that a later frame completes (`h2.body` there).
    Fragment,
    /// The frame that completes the body (END_STREAM); details in `CompatFrame::body`.
    Complete,
    /// The stream's content type is a streaming one (gRPC): each message is shown in the
    /// frame that completes it; details in `CompatFrame::messages`.
    Streaming,
}

/// How the built-in shows a completed body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletedBody {
    /// The DATA frames whose payloads make the body, with their lengths, when there is more
    /// than the completing frame alone. Empty: the body is the completing frame's payload
    /// (and padding) as it is.
    pub fragments: Box<[(u32, u32)]>,
    /// The content-encoding that the built-in undoes (a prefix match on `gzip`, `deflate`,
    /// `br`; not for a 206 response).
    pub uncompress: Option<Encoding>,
}

/// The built-in's pairing of Wireshark 4.4 and later: the frame of the last `:method` and
/// of the last `:status` of a stream, and the request's time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pairing {
    pub request_in: u32,
    pub response_in: u32,
    pub request_time: Option<Nanos>,
}

/// The built-in's own flow-control arithmetic (4.4 and later), before and after a frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowChange {
    pub connection: Option<(i32, i32)>,
    pub stream: Option<(i32, i32)>,
}

/// A header as (name, value).
pub type NameValue = (Rc<[u8]>, Rc<[u8]>);

/// Per-frame facts that are not plain flags (boxed: most frames need none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompatFrame {
    pub body: Option<CompletedBody>,
    /// HEADERS (4.4+): the pairing as the built-in saw it when it dissected this frame on
    /// the first pass.
    pub pairing: Option<Pairing>,
    pub window: Option<WindowChange>,
    /// The first DATA frame of a stream direction, when the user has fake headers: those
    /// that applied (maybe none), as (name, value).
    pub fakes: Option<Box<[NameValue]>>,
}

/// The frames that carry a header block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderFrame {
    Headers,
    PushPromise { promised: u32 },
    Continuation,
}

/// One direction of a stream.
#[derive(Debug, Default)]
struct OneWay {
    /// Where the built-in's header context starts and ends (see `Tracker::header_frame`),
    /// and (4.4+) the stream that the block in it is about.
    header_start: Option<PduKey>,
    header_end: Option<PduKey>,
    header_stream: Option<u32>,
    content_type: Option<Rc<str>>,
    content_type_params: Option<Rc<str>>,
    content_encoding: Option<Rc<[u8]>>,
    partial_content: bool,
    data_initiated: bool,
    transfer_encoded: bool,
    /// Payload lengths of the DATA frames added to the END_STREAM-mode reassembly so far.
    fragments: Vec<(u32, u32)>,
    /// The first values in every header block of this direction (what `grpc` reads
    /// through `http2_get_header_value`).
    first_path: Option<Rc<[u8]>>,
    first_content_type: Option<Rc<[u8]>>,
    first_grpc_encoding: Option<Rc<[u8]>>,
    /// Every header name seen in this direction (kept only while the user has fake headers:
    /// a fake one applies only where no real one came).
    names: Vec<Rc<[u8]>>,
    /// Fake headers were looked at for this direction (at its first DATA frame).
    fakes_done: bool,
}

#[derive(Debug, Default)]
struct Stream {
    /// Each direction's bookkeeping, made when the direction first sends (boxed: a stream
    /// one side never answers costs no second one).
    oneway: [Option<Box<OneWay>>; 2],
    is_connect: bool,
    streaming: bool,
    pairing: Pairing,
}

impl Stream {
    /// The bookkeeping of the direction `dir` (made on first use).
    fn way(&mut self, dir: usize) -> &mut OneWay {
        self.oneway[dir & 1].get_or_insert_default()
    }
}

/// A stream's request URI parts as the built-in keeps them (4.6 shows the URI on every frame
/// of the stream, also after it closed).
#[derive(Debug, Default)]
struct RequestUri {
    connect: bool,
    scheme: Option<Rc<[u8]>>,
    authority: Option<Rc<[u8]>>,
    path: Option<Rc<[u8]>>,
}

/// What a body's DATA frame needs to know about its stream to be handed on: the content
/// type (with parameters), and for gRPC the path, direction and message encoding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BodyContext {
    pub content_type: Option<Rc<str>>,
    pub content_type_params: Option<Rc<str>>,
    /// The `:path` of this direction's header blocks, else of the other direction's.
    pub path: Option<Rc<[u8]>>,
    /// True when `:path` was found in this direction (a request).
    pub is_request: bool,
    /// This direction's raw `content-type` and `grpc-encoding` (the first of each), and the
    /// other direction's raw `content-type`.
    pub raw_content_type: Option<Rc<[u8]>>,
    pub grpc_encoding: Option<Rc<[u8]>>,
    pub other_content_type: Option<Rc<[u8]>>,
}

/// The built-in's flow-control arithmetic (4.4 and later: `adjust_window_size`): windows
/// per direction, new streams starting at the receiver's SETTINGS_INITIAL_WINDOW_SIZE as
/// the SETTINGS frame (not its ACK) declared it, DATA counted without padding. Its
/// "before" value is kept per packet, not per frame: a second DATA or WINDOW_UPDATE in
/// the same packet starts from the first one's "before" and leaves the totals alone.
#[derive(Debug)]
struct Windows {
    initial: [i32; 2],
    connection: [i32; 2],
    /// Stream windows per sending direction; None until the built-in first looks at the
    /// stream from that direction.
    streams: FastMap<u32, [Option<i32>; 2]>,
    /// The packet whose first adjustment set `before`.
    packet: u32,
    connection_before: Option<i32>,
    stream_before: Option<i32>,
}

impl Default for Windows {
    fn default() -> Self {
        Windows {
            initial: [65_535; 2],
            connection: [65_535; 2],
            streams: FastMap::default(),
            packet: 0,
            connection_before: None,
            stream_before: None,
        }
    }
}

impl Windows {
    fn touch(&mut self, stream: u32, dir: usize) -> &mut i32 {
        let initial = self.initial[dir];
        self.streams.entry(stream).or_default()[dir].get_or_insert(initial)
    }

    fn new_packet(&mut self, frame: u32) {
        if self.packet != frame {
            self.packet = frame;
            self.connection_before = None;
            self.stream_before = None;
        }
    }

    fn adjust_connection(&mut self, dir: usize, by: i32) -> (i32, i32) {
        let before = match self.connection_before {
            Some(b) => b,
            None => {
                let b = self.connection[dir];
                self.connection[dir] = b.wrapping_add(by);
                self.connection_before = Some(b);
                b
            }
        };
        (before, before.wrapping_add(by))
    }

    fn adjust_stream(&mut self, stream: u32, dir: usize, by: i32) -> (i32, i32) {
        let before = match self.stream_before {
            Some(b) => b,
            None => {
                let w = self.touch(stream, dir);
                let b = *w;
                *w = b.wrapping_add(by);
                self.stream_before = Some(b);
                b
            }
        };
        (before, before.wrapping_add(by))
    }
}

/// The built-in's view of every live stream of one connection.
#[derive(Default)]
pub struct Tracker {
    /// Boxed: a stream's entry is large (two directions' header values), and the table of
    /// 100,000 open streams then resizes in small steps.
    streams: FastMap<u32, Box<Stream>>,
    /// Where the bookkeeping of a stream beyond the open-stream cap goes (h2 flags the cap
    /// with `h2.state.limit`; the built-in has no cap, ours must).
    overflow: Box<Stream>,
    /// 4.4 and later only.
    windows: Windows,
    /// Streams that the built-in has been told about (for its Follow stream list).
    announced: FastSet<u32>,
    /// Streams closed by the frame being decided (forgotten at the next one).
    closed: Vec<u32>,
    /// 4.6+: the request URI parts of every stream, kept after it closes.
    uris: FastMap<u32, RequestUri>,
    /// The user has fake headers: remember the header names each direction sent.
    pub track_names: bool,
}

/// The name and value a header has for the built-in: a field whose entry was inserted
/// before the capture began is `<unknown>` with an empty value (its 99 placeholder
/// entries, `fix_partial_header_dissection_support`).
pub fn builtin_name_value<'s>(strings: &'s Strings, f: &Field) -> (&'s [u8], &'s [u8]) {
    (
        strings.get(f.name).unwrap_or(b"<unknown>"),
        strings.get(f.value).unwrap_or(b""),
    )
}

/// `get_content_type_only`: the media type, lowercased, up to `;` or white space.
fn content_type_only(v: &[u8]) -> Rc<str> {
    let end = v
        .iter()
        .position(|&b| b == b';' || b.is_ascii_whitespace())
        .unwrap_or(v.len());
    Rc::from(String::from_utf8_lossy(&v[..end]).to_ascii_lowercase())
}

/// `get_content_type_parameters_only`: what follows the media type and its `;` and white
/// space, or None.
fn content_type_parameters(v: &[u8]) -> Option<Rc<str>> {
    let start = v
        .iter()
        .position(|&b| b == b';' || b.is_ascii_whitespace())?;
    let rest = &v[start..];
    let skip = rest
        .iter()
        .position(|&b| b != b';' && !b.is_ascii_whitespace())?;
    Some(Rc::from(String::from_utf8_lossy(&rest[skip..]).as_ref()))
}

/// The encoding the built-in undoes for a `content-encoding` value (it compares prefixes).
fn builtin_uncompression(v: &[u8]) -> Option<Encoding> {
    if v.starts_with(b"gzip") {
        Some(Encoding::Gzip)
    } else if v.starts_with(b"deflate") {
        Some(Encoding::Deflate)
    } else if v.starts_with(b"br") {
        Some(Encoding::Brotli)
    } else {
        None
    }
}

impl Tracker {
    fn stream(&mut self, id: u32) -> &mut Stream {
        if self.streams.len() >= MAX_OPEN_STREAMS && !self.streams.contains_key(&id) {
            *self.overflow = Stream::default();
            return &mut self.overflow;
        }
        self.streams.entry(id).or_default()
    }

    /// 4.4+: a frame of `stream` from `dir` that makes the built-in look at the stream (a
    /// header block or DATA): its window in that direction starts now if it has not yet.
    pub fn window_touch(&mut self, stream: u32, dir: usize) {
        self.windows.touch(stream, dir & 1);
    }

    /// 4.4+: SETTINGS_INITIAL_WINDOW_SIZE from `dir` sets the windows of the other
    /// direction: existing streams move by the difference, new ones start there.
    pub fn window_initial(&mut self, dir: usize, value: u32) {
        let to = (dir & 1) ^ 1;
        let new = value as i32;
        let diff = new.wrapping_sub(self.windows.initial[to]);
        if diff != 0 {
            for w in self.windows.streams.values_mut() {
                if let Some(w) = &mut w[to] {
                    *w = w.wrapping_add(diff);
                }
            }
        }
        self.windows.initial[to] = new;
    }

    /// 4.4+: a DATA frame of `len` octets (padding excluded) in packet `frame`.
    pub fn window_data(&mut self, frame: u32, dir: usize, stream: u32, len: u32) -> WindowChange {
        let dir = dir & 1;
        self.windows.new_packet(frame);
        let by = (len as i32).wrapping_neg();
        WindowChange {
            connection: Some(self.windows.adjust_connection(dir, by)),
            stream: Some(self.windows.adjust_stream(stream, dir, by)),
        }
    }

    /// 4.4+: a WINDOW_UPDATE from `dir`: it opens the other direction's window.
    pub fn window_update(
        &mut self,
        frame: u32,
        dir: usize,
        stream: u32,
        increment: u32,
    ) -> WindowChange {
        let to = (dir & 1) ^ 1;
        self.windows.new_packet(frame);
        let by = increment as i32;
        if stream == 0 {
            WindowChange {
                connection: Some(self.windows.adjust_connection(to, by)),
                stream: None,
            }
        } else {
            WindowChange {
                connection: None,
                stream: Some(self.windows.adjust_stream(stream, to, by)),
            }
        }
    }

    /// True the first time a stream id is seen on this connection.
    pub fn first_sight(&mut self, stream: u32) -> bool {
        self.announced.insert(stream)
    }

    /// Forgets a stream that has closed, once the current frame is done (its frames are
    /// decided; later frames on it start afresh, as for the built-in only in corner cases).
    pub fn remove(&mut self, id: u32) {
        self.closed.push(id);
    }

    /// Forgets the streams closed by the frames before this one.
    pub fn flush_removals(&mut self) {
        for id in self.closed.drain(..) {
            self.streams.remove(&id);
        }
    }

    /// A HEADERS, PUSH_PROMISE or CONTINUATION frame of `stream` from `dir`, before its
    /// header fields: where the built-in's "header context" starts and ends (so that it
    /// can tell a HEADERS block from a PUSH_PROMISE one when it reads header values), and
    /// (4.4+) which stream the block's values are about (for PUSH_PROMISE: `promised`).
    ///
    /// 4.0 marks only a stream direction's first HEADERS block; 4.4 marks every HEADERS
    /// and PUSH_PROMISE block.
    pub fn header_frame(
        &mut self,
        key: PduKey,
        dir: usize,
        stream: u32,
        kind: HeaderFrame,
        end_headers: bool,
    ) {
        let ow = self.stream(stream).way(dir);
        match kind {
            HeaderFrame::Headers if cfg!(ws_ge_4_4) => {
                ow.header_start = Some(key);
                ow.header_end = end_headers.then_some(key);
                ow.header_stream = Some(stream);
            }
            HeaderFrame::PushPromise { promised } if cfg!(ws_ge_4_4) => {
                ow.header_start = Some(key);
                ow.header_end = end_headers.then_some(key);
                ow.header_stream = Some(promised);
            }
            HeaderFrame::Headers => {
                if ow.header_start.is_none() {
                    ow.header_start = Some(key);
                }
                if end_headers && ow.header_end.is_none() {
                    ow.header_end = Some(key);
                }
            }
            HeaderFrame::PushPromise { .. } => {}
            HeaderFrame::Continuation => {
                if end_headers && ow.header_start.is_some() && ow.header_end.is_none() {
                    ow.header_end = Some(key);
                }
            }
        }
    }

    /// The header fields (name and value as the built-in reads them, size updates left out)
    /// that the built-in decodes in one frame (HEADERS, CONTINUATION or
    /// PUSH_PROMISE) of `stream` (for PUSH_PROMISE: the stream it was sent on). Returns the
    /// stream whose pairing the fields may have changed.
    pub fn header_fields<'f>(
        &mut self,
        key: PduKey,
        dir: usize,
        stream: u32,
        time: Nanos,
        fields: impl Iterator<Item = (&'f [u8], &'f [u8])> + Clone,
        is_streaming_type: &dyn Fn(&str) -> bool,
    ) -> u32 {
        let dir = dir & 1;
        let (in_context, target) = {
            let ow = self.stream(stream).way(dir);
            let in_context = ow.header_start.is_none_or(|start| key >= start)
                && ow.header_end.is_none_or(|end| key <= end);
            (in_context, ow.header_stream.unwrap_or(stream))
        };
        // Values read back later (grpc's path, content type, encoding) come from every
        // block on the stream the frame was sent on.
        let track_names = self.track_names;
        {
            let ow = self.stream(stream).way(dir);
            for (name, value) in fields.clone() {
                if track_names && !ow.names.iter().any(|n| **n == *name) {
                    ow.names.push(Rc::from(name));
                }
                match name {
                    b":path" if ow.first_path.is_none() => ow.first_path = Some(Rc::from(value)),
                    b"content-type" if ow.first_content_type.is_none() => {
                        ow.first_content_type = Some(Rc::from(value))
                    }
                    b"grpc-encoding" if ow.first_grpc_encoding.is_none() => {
                        ow.first_grpc_encoding = Some(Rc::from(value))
                    }
                    _ => {}
                }
            }
        }
        // The rest only for a frame in the header context (a second look at the fields).
        let populate = fields.filter(|_| in_context);
        // `populate_http_header_tracking`, on the stream the block is about.
        if cfg!(ws_ge_4_6) {
            for (name, value) in populate.clone() {
                let part = match name {
                    b":scheme" | b":authority" | b":path" => Some(Rc::from(value)),
                    b":method" if value == b"CONNECT" => {
                        self.uris.entry(target).or_default().connect = true;
                        continue;
                    }
                    _ => continue,
                };
                let uri = self.uris.entry(target).or_default();
                match name {
                    b":scheme" => uri.scheme = part,
                    b":authority" => uri.authority = part,
                    _ => uri.path = part,
                }
            }
        }
        for (name, value) in populate {
            self.populate(
                target,
                dir,
                key,
                time,
                name,
                value,
                false,
                is_streaming_type,
            );
        }
        target
    }

    /// `populate_http_header_tracking`: what one header tells the built-in about the stream
    /// the block is about. `overriding`: a fake header that replaces a captured one.
    #[allow(clippy::too_many_arguments)]
    fn populate(
        &mut self,
        stream: u32,
        dir: usize,
        key: PduKey,
        time: Nanos,
        name: &[u8],
        value: &[u8],
        overriding: bool,
        is_streaming_type: &dyn Fn(&str) -> bool,
    ) {
        // Most headers tell it nothing: no stream lookup for those.
        if !matches!(
            name,
            b"content-encoding"
                | b":status"
                | b":method"
                | b"<unknown>"
                | b"transfer-encoding"
                | b"content-type"
        ) {
            return;
        }
        let s = self.stream(stream);
        let ow = s.oneway[dir & 1].get_or_insert_default();
        match name {
            b"content-encoding" if ow.content_encoding.is_none() || overriding => {
                ow.content_encoding = Some(Rc::from(value))
            }
            b":status" => {
                if value == b"206" {
                    ow.partial_content = true;
                }
                ow.data_initiated = true;
                s.pairing.response_in = key.frame;
            }
            b":method" => {
                ow.data_initiated = true;
                s.pairing.request_in = key.frame;
                s.pairing.request_time = Some(time);
                if value == b"CONNECT" {
                    s.is_connect = true;
                }
            }
            b"<unknown>" => ow.data_initiated = true,
            b"transfer-encoding" => ow.transfer_encoded = true,
            b"content-type" if ow.content_type.is_none() || overriding => {
                let ct = content_type_only(value);
                ow.content_type_params = content_type_parameters(value);
                s.streaming = is_streaming_type(&ct);
                ow.content_type = Some(ct);
            }
            _ => {}
        }
    }

    /// `try_init_stream_with_fake_headers`, at the first DATA frame of `stream` from `dir`:
    /// the fake headers whose name this direction did not send (or that override it) are
    /// taken as if received. Returns those that applied.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_fake_headers(
        &mut self,
        key: PduKey,
        dir: usize,
        stream: u32,
        time: Nanos,
        fakes: &[crate::h2::connection::FakeHeader],
        is_streaming_type: &dyn Fn(&str) -> bool,
    ) -> Option<Box<[NameValue]>> {
        let dir = dir & 1;
        let ow = self.stream(stream).way(dir);
        if ow.fakes_done {
            return None;
        }
        ow.fakes_done = true;
        ow.data_initiated = true;
        let mut applied = Vec::new();
        for f in fakes.iter().filter(|f| f.stream == 0 || f.stream == stream) {
            let ow = self.stream(stream).way(dir);
            let real = ow.names.iter().any(|n| **n == *f.name);
            if real && !f.override_real {
                continue;
            }
            // What grpc reads back falls back on fake headers.
            match &*f.name {
                b":path" if ow.first_path.is_none() => ow.first_path = Some(f.value.clone()),
                b"content-type" if ow.first_content_type.is_none() => {
                    ow.first_content_type = Some(f.value.clone())
                }
                b"grpc-encoding" if ow.first_grpc_encoding.is_none() => {
                    ow.first_grpc_encoding = Some(f.value.clone())
                }
                _ => {}
            }
            self.populate(
                stream,
                dir,
                key,
                time,
                &f.name,
                &f.value,
                f.override_real,
                is_streaming_type,
            );
            applied.push((f.name.clone(), f.value.clone()));
        }
        Some(applied.into_boxed_slice())
    }

    /// The pairing of `stream` as it stands now (4.4+ shows it on HEADERS frames).
    pub fn pairing(&self, stream: u32) -> Pairing {
        self.streams
            .get(&stream)
            .map(|s| s.pairing)
            .unwrap_or_default()
    }

    /// The stream's request URI as 4.6 shows it on the stream's frames.
    pub fn full_uri(&self, stream: u32) -> Option<String> {
        let uri = self.uris.get(&stream)?;
        let authority = String::from_utf8_lossy(uri.authority.as_deref()?);
        if uri.connect {
            return Some(authority.into_owned());
        }
        let path = String::from_utf8_lossy(uri.path.as_deref()?);
        let scheme = uri
            .scheme
            .as_deref()
            .map_or("(null)".into(), String::from_utf8_lossy);
        Some(format!("{scheme}://{authority}{path}"))
    }

    /// True when the stream's content type made the built-in switch it to streaming
    /// reassembly (gRPC).
    pub fn is_streaming(&self, stream: u32) -> bool {
        self.streams.get(&stream).is_some_and(|s| s.streaming)
    }

    /// What a body of `stream` from `dir` is handed on with.
    pub fn body_context(&self, stream: u32, dir: usize) -> BodyContext {
        let Some(s) = self.streams.get(&stream) else {
            return BodyContext::default();
        };
        let empty = OneWay::default();
        let ow = s.oneway[dir & 1].as_deref().unwrap_or(&empty);
        let other = s.oneway[(dir & 1) ^ 1].as_deref().unwrap_or(&empty);
        BodyContext {
            content_type: ow.content_type.clone(),
            content_type_params: ow.content_type_params.clone(),
            path: ow.first_path.clone().or_else(|| other.first_path.clone()),
            is_request: ow.first_path.is_some(),
            raw_content_type: ow.first_content_type.clone(),
            grpc_encoding: ow.first_grpc_encoding.clone(),
            other_content_type: other.first_content_type.clone(),
        }
    }

    /// A DATA frame of `stream` from `dir` with `len` payload octets (padding excluded), in
    /// END_STREAM reassembly mode. Returns how the built-in shows it, and for the frame that
    /// completes the body, the body's fragments.
    pub fn data_frame(
        &mut self,
        frame: u32,
        dir: usize,
        stream: u32,
        len: u32,
        end_stream: bool,
    ) -> (DataMode, Option<CompletedBody>) {
        let s = self.stream(stream);
        if s.streaming {
            return (DataMode::Streaming, None);
        }
        let is_connect = s.is_connect;
        let ow = s.way(dir);
        if !ow.data_initiated || ow.transfer_encoded || is_connect {
            return (DataMode::Partial, None);
        }
        if !end_stream {
            ow.fragments.push((frame, len));
            return (DataMode::Fragment, None);
        }
        // With no fragment before it, an END_STREAM DATA is the whole body (or, empty,
        // nothing to reassemble); after fragments, an empty one only closes them.
        match (ow.fragments.is_empty(), len) {
            (true, 0) => return (DataMode::Partial, None),
            (true, _) | (false, 0) => {}
            (false, _) => ow.fragments.push((frame, len)),
        }
        (DataMode::Complete, Some(Self::completed(ow)))
    }

    /// A HEADERS frame with END_STREAM (trailers) of `stream` from `dir`: the body pending
    /// in END_STREAM mode, if any, completes here.
    pub fn trailers_end_stream(&mut self, dir: usize, stream: u32) -> Option<CompletedBody> {
        let s = self.streams.get_mut(&stream)?;
        if s.streaming {
            return None;
        }
        let ow = s.way(dir);
        if ow.fragments.is_empty() {
            return None;
        }
        Some(Self::completed(ow))
    }

    fn completed(ow: &mut OneWay) -> CompletedBody {
        CompletedBody {
            fragments: std::mem::take(&mut ow.fragments).into_boxed_slice(),
            uncompress: ow
                .content_encoding
                .as_deref()
                .filter(|_| !ow.partial_content)
                .and_then(builtin_uncompression),
        }
    }
}
