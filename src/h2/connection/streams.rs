//! Streams: their state, request/response summaries for pairing, DATA and the body kept per
//! direction (content-encoding undone at the end), and gRPC message framing.

use super::*;

/// A reassembled body, decoded lazily (only when it is shown).
#[derive(Debug)]
pub struct Body {
    pub stream: u32,
    /// The DATA payload bytes, in order, up to the size limit. Empty when the whole body
    /// came in the DATA frame that ends it (`in_frame`): those bytes are in that frame's own
    /// tvb whenever it is dissected, so they are not copied and kept (as the built-in
    /// dissects a one-frame body in place). Most bodies of busy servers are like that.
    pub(super) stored: Vec<u8>,
    pub(super) in_frame: bool,
    /// How many bytes of the body are kept (the size limit cuts the rest).
    pub(super) kept: usize,
    /// The full length of the DATA payloads, also beyond the limit.
    pub total_len: u64,
    pub frames: u32,
    pub content_type: Option<Text>,
    pub encoding: Option<Encoding>,
    /// Boxed: bodies are kept for the whole capture, and most are never decoded.
    pub(super) decoded: OnceCell<Box<(Vec<u8>, Option<DecodeError>)>>,
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
                let (data, err) = &**self
                    .decoded
                    .get_or_init(|| Box::new(body::decode(enc, raw, limit)));
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
    /// The request's method and path ([`Str::UNKNOWN`]: none), in the strings of side
    /// `request_dir` ([`Connection::method_of`], [`Connection::path_of`]).
    pub method: Str,
    pub path: Str,
    pub request_dir: u8,
    pub status: Option<u16>,
    /// The frame of the PUSH_PROMISE that reserved this stream, and its parent stream.
    pub promised_in: Option<(u32, u32)>,
    /// Content type per sending direction, in that side's strings
    /// ([`Connection::content_type_of`]).
    pub content_type: [Str; 2],
    /// Content encoding per sending direction (gzip, deflate, br).
    pub content_encoding: [Option<Encoding>; 2],
    /// Per sending direction, the frame whose END_STREAM completed the body that the
    /// built-in http2 reassembles (0: none): its earlier DATA frames point there.
    pub builtin_body_end: [u32; 2],
    /// The built-in's pairing of this stream (4.4+ shows it), as the first pass left it.
    pub builtin_pairing: crate::h2::compat::state::Pairing,
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

/// How a gRPC stream direction's messages are framed.
pub(super) enum GrpcFraming {
    Binary(Framer),
    /// gRPC-Web text: base64.
    Text(TextFramer),
}

/// Per-stream live state (removed when the stream closes).
pub(super) struct LiveStream {
    pub(super) summary: Option<u32>,
    pub(super) state: StreamState,
    pub(super) end_stream: [bool; 2],
    /// Header blocks seen per sending direction (the second and later are trailers).
    pub(super) header_blocks: [u32; 2],
    pub(super) send_window: [i64; 2],
    /// Per sending direction, from its first DATA frame on (boxed: most streams of a
    /// request-heavy capture are open with no body yet, and there may be 100,000 of them).
    pub(super) body: [Option<Box<BodyBuffer>>; 2],
    /// Per sending direction, the body length its content-length announced (0: none), so
    /// that the body buffer is allocated once at the first DATA frame.
    pub(super) body_len_hint: [u32; 2],
}

#[derive(Default)]
pub(super) struct BodyBuffer {
    /// A gRPC stream direction is framed into messages as it goes, not kept as a body.
    pub(super) grpc: Option<(GrpcFraming, Rc<GrpcContext>)>,
    pub(super) data: Vec<u8>,
    /// The bytes of the body within the limit: `data.len()`, or the length of the one
    /// DATA payload of a body that came in the frame that ends it (not copied into `data`).
    pub(super) kept: usize,
    pub(super) total: u64,
    pub(super) frames: u32,
}

impl Connection {
    /// The live state of a stream, created on first use. None past the limits.
    pub(super) fn stream(&mut self, id: u32, info: &mut FrameInfo) -> Option<&mut LiveStream> {
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
                    body_len_hint: [0; 2],
                },
            );
        }
        self.streams.get_mut(&id)
    }

    pub(super) fn on_data(
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
        let hint = stream.body_len_hint[dir] as usize;
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
                info.extra.get_or_insert_default().grpc = Some(Box::new(GrpcFrame {
                    parts,
                    context: context.clone(),
                    decoded,
                }));
            }
            None => {
                let room = body_limit.saturating_sub(buf.data.len());
                let taken = data.len().min(room);
                buf.kept += taken;
                // A body that is this frame's payload alone is shown from the frame itself
                // (`Body::in_frame`): never copied.
                let in_frame = first_data && end;
                if !in_frame {
                    if first_data && hint > data.len() && data.len() < room {
                        // The whole announced body (within the limit) in one allocation.
                        buf.data.reserve_exact(hint.min(body_limit));
                    }
                    buf.data.extend_from_slice(&data[..taken]);
                }
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
    pub(super) fn end_stream(
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
            info.extra.get_or_insert_default().grpc = Some(Box::new(GrpcFrame {
                parts: FrameParts {
                    missing_at_end: Some(missing),
                    ..Default::default()
                },
                context: context.clone(),
                decoded: Vec::new(),
            }));
        }
        let in_frame = by_data && buf.frames == 1;
        let kept = buf.kept;
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
                content_type: s
                    .and_then(|s| self.content_type_of(s, dir))
                    .map(Text::copy_from),
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

    /// When the stream carries gRPC (its content type, or for a response without one the
    /// request's), what its messages are handed on with.
    pub(super) fn grpc_context(&self, stream: u32, dir: Dir) -> Option<GrpcContext> {
        let ctx = self.builtin.body_context(stream, dir);
        let content_type = ctx
            .raw_content_type
            .clone()
            .or(ctx.other_content_type.clone())
            .filter(|ct| crate::h2::body::media_type(ct).starts_with("application/grpc"))?;
        Some(GrpcContext {
            content_type,
            path: ctx.path,
            is_request: ctx.is_request,
            encoding: ctx.grpc_encoding,
        })
    }

    /// The content types the built-in reassembles as message streams.
    pub(super) fn streaming_type(&self) -> fn(&str) -> bool {
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
}
