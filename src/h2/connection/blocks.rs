//! Header blocks: HEADERS or PUSH_PROMISE and their CONTINUATIONs, decoded by the
//! direction's HPACK decoder once complete (provisionally while incomplete), the request or
//! response they carry, and the fake headers of the user's table.

use super::*;

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
    /// The side that sent it (a `Dir`, 0 or 1): its decoder's [`Strings`] hold the fields'
    /// strings ([`Connection::strings_of`]).
    pub dir: u8,
    /// False for the part of a block decoded so far (shown on the first pass in a frame
    /// whose block continues); later passes show the complete block.
    pub complete: bool,
    /// The concatenated fragments, when the block was split over several frames.
    pub joined: Option<Rc<[u8]>>,
    /// Each fragment's PDU and where it ends in `joined`, in order: a header field is shown
    /// in the frame that holds its last byte (as the built-in http2 does). Empty (no
    /// allocation) for a block that came whole in one frame, as most do.
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

    /// The first value of a header name (pseudo-headers included); `strings` are the
    /// block's ([`Connection::strings_of`]).
    pub fn value<'s>(&self, strings: &'s Strings, name: &[u8]) -> Option<&'s [u8]> {
        first_value(&self.decoded.fields, strings, name)
    }
}

/// The first value of header `name` among `fields`, whose strings are in `strings`.
pub fn first_value<'s>(fields: &[Field], strings: &'s Strings, name: &[u8]) -> Option<&'s [u8]> {
    fields
        .iter()
        .find(|f| strings.get(f.name) == Some(name))
        .and_then(|f| strings.get(f.value))
}

impl Connection {
    /// The strings that the fields of the blocks sent by side `dir` name.
    pub fn strings(&self, dir: Dir) -> &Strings {
        self.sides[dir & 1].hpack.strings()
    }

    /// The request method of a stream, if its request was seen.
    pub fn method_of(&self, s: &StreamSummary) -> Option<&[u8]> {
        self.strings(Dir::from(s.request_dir)).get(s.method)
    }

    /// The request path of a stream (or a fake header's).
    pub fn path_of(&self, s: &StreamSummary) -> Option<&[u8]> {
        self.strings(Dir::from(s.request_dir)).get(s.path)
    }

    /// The content type that side `dir` announced on a stream (or a fake header's).
    pub fn content_type_of(&self, s: &StreamSummary, dir: Dir) -> Option<&[u8]> {
        self.strings(dir).get(s.content_type[dir & 1])
    }

    /// The strings that `block`'s fields name.
    pub fn strings_of(&self, block: &DecodedBlock) -> &Strings {
        self.strings(Dir::from(block.dir))
    }
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

/// A header block waiting for its CONTINUATION frames.
pub(super) struct PendingBlock {
    pub(super) stream: u32,
    /// The promised stream for PUSH_PROMISE.
    pub(super) promised: Option<u32>,
    pub(super) end_stream: bool,
    pub(super) started: PduKey,
    /// Each fragment's PDU and where it ends in `bytes` (a block is at most
    /// limits::MAX_HEADER_BLOCK octets, so the ends fit in u32). Empty for a block that
    /// comes whole in one frame.
    pub(super) fragments: Vec<(PduKey, u32)>,
    /// The fragments joined; left empty for a block that came whole in one frame (decoded
    /// from the frame's own bytes).
    pub(super) bytes: Vec<u8>,
    pub(super) too_large: bool,
    /// The representations decoded so far (each fragment is decoded as it arrives).
    pub(super) progress: Progress,
}

/// What a complete block says about its stream, read once from its decoded fields.
pub(super) struct BlockFields {
    pub(super) method: Str,
    pub(super) status: Option<u16>,
    pub(super) path: Str,
    pub(super) content_type: Str,
    pub(super) content_encoding: Option<Encoding>,
    /// The announced body length, to size the body buffer once instead of growing it.
    pub(super) content_length: Option<u64>,
    /// A field could not be decoded (an unknown dynamic table entry).
    pub(super) unknown: bool,
}

impl BlockFields {
    fn of(decoded: &HeaderBlock, strings: &Strings) -> BlockFields {
        // One pass; the first field of each name counts (as `first_value` finds it).
        const NAMES: [&[u8]; 6] = [
            b":method",
            b":status",
            b":path",
            b"content-type",
            b"content-encoding",
            b"content-length",
        ];
        let mut first: [Option<Str>; 6] = [None; 6];
        let mut unknown = false;
        for f in decoded.fields.iter() {
            unknown |= f.is_unknown();
            let Some(name) = strings.get(f.name) else {
                continue;
            };
            if let Some(i) = NAMES.iter().position(|&n| n == name) {
                first[i].get_or_insert(f.value);
            }
        }
        let [method, status, path, content_type, encoding, length] =
            first.map(|s| s.unwrap_or(Str::UNKNOWN));
        let text = |s: Str| strings.get(s).and_then(|v| std::str::from_utf8(v).ok());
        BlockFields {
            method,
            status: text(status).and_then(|v| v.parse::<u16>().ok()),
            path,
            content_type,
            content_encoding: strings.get(encoding).and_then(Encoding::from_header),
            content_length: text(length).and_then(|v| v.trim().parse::<u64>().ok()),
            unknown,
        }
    }
}

impl PendingBlock {
    /// The fragments' bytes joined, for a block of more than one fragment.
    fn joined(&self) -> Option<Rc<[u8]>> {
        (self.fragments.len() > 1).then(|| Rc::from(self.bytes.as_slice()))
    }

    /// A block started by HEADERS (or PUSH_PROMISE, with its promised stream) in `started`.
    pub(super) fn new(
        stream: u32,
        promised: Option<u32>,
        end_stream: bool,
        started: PduKey,
    ) -> Self {
        PendingBlock {
            stream,
            promised,
            end_stream,
            started,
            fragments: Vec::new(),
            bytes: Vec::new(),
            too_large: false,
            progress: Progress::default(),
        }
    }
}

/// A block of this many fragments or octets at most is also shown, on the first pass,
/// before it completes (a copy per fragment; CONTINUATION floods get none).
pub(super) const PROVISIONAL_FRAGMENTS: usize = 8;

pub(super) const PROVISIONAL_BYTES: usize = 256 * 1024;

impl Connection {
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
    pub(super) fn apply_fake_headers(
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
                    b"content-type" if !s.content_type[dir].is_known() || overriding => {
                        s.content_type[dir] = self.sides[dir].hpack.keep(value)
                    }
                    b"content-encoding" if s.content_encoding[dir].is_none() || overriding => {
                        s.content_encoding[dir] = Encoding::from_header(value)
                    }
                    b":path" if !s.path.is_known() => {
                        // Kept where the method is, if the request was seen.
                        let side = if s.method.is_known() {
                            Dir::from(s.request_dir)
                        } else {
                            s.request_dir = dir as u8;
                            dir
                        };
                        s.path = self.sides[side].hpack.keep(value)
                    }
                    _ => {}
                }
            }
        }
        info.compat_mut().fakes = Some(applied);
    }

    /// A HEADERS or PUSH_PROMISE (`start` is Some) or CONTINUATION fragment.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_fragment(
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
        let end_headers = h.has(flag::END_HEADERS);
        // Most blocks come whole in one HEADERS frame: decoded from the frame, not copied.
        let whole = block.fragments.is_empty() && end_headers;
        if block.too_large || block.bytes.len() + fragment.len() > limits::MAX_HEADER_BLOCK {
            // A CONTINUATION flood: stop buffering, keep counting; say so where it happens.
            if !block.too_large {
                info.problems.push(Problem::HeaderBlockTooLarge {
                    len: block.bytes.len() + fragment.len(),
                });
            }
            block.too_large = true;
            block.bytes = Vec::new();
        } else if !whole {
            block.bytes.extend_from_slice(fragment);
        }
        if !whole {
            block.fragments.push((key, block.bytes.len() as u32));
        }
        if !block.too_large {
            // Decode what is complete now, as the built-in's inflater does frame by frame.
            let before = block.progress.fields().len();
            let bytes = if whole { fragment } else { &block.bytes };
            side.hpack
                .decode_more(bytes, &mut block.progress, end_headers);
            let streaming_type = self.streaming_type();
            let strings = self.sides[dir].hpack.strings();
            let target = self.builtin.header_fields(
                key,
                dir,
                block.stream,
                time,
                block.progress.fields()[before..]
                    .iter()
                    .filter(|f| f.repr != Representation::SizeUpdate)
                    .map(|f| builtin_name_value(strings, f)),
                &streaming_type,
            );
            // Later passes show the pairing and URI as the first pass leaves them.
            self.sync_builtin_summary(target);
        }
        if !end_headers {
            info.set_block_part(BlockPart {
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
    pub(super) fn provisional_block(
        &self,
        dir: Dir,
        block: &PendingBlock,
    ) -> Option<Rc<DecodedBlock>> {
        if block.too_large
            || block.fragments.len() > PROVISIONAL_FRAGMENTS
            || block.bytes.len() > PROVISIONAL_BYTES
        {
            return None;
        }
        let hpack = &self.sides[dir].hpack;
        Some(Rc::new(DecodedBlock {
            stream: block.promised.unwrap_or(block.stream),
            dir: (dir & 1) as u8,
            role: BlockRole::Unknown,
            complete: false,
            joined: block.joined(),
            fragments: block.fragments.as_slice().into(),
            decoded: HeaderBlock {
                fields: block.progress.fields().into(),
                error: None,
            },
            table_size: hpack.table_size(),
            table_len: hpack.table_len() as u32,
        }))
    }

    /// Decodes a complete header block and applies what it says to its stream.
    pub(super) fn finish_block(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        mut block: PendingBlock,
        info: &mut FrameInfo,
    ) {
        self.link_fragments(key, &block, info);
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
            self.sides[dir].hpack.restart_mid_stream();
            return;
        }
        // Decoded as the fragments came (`on_fragment`).
        let decoded = std::mem::take(&mut block.progress).into_block();
        if let Some(e) = &decoded.error {
            info.problems.push(Problem::Hpack(e.to_string()));
        }
        let stream_id = block.promised.unwrap_or(block.stream);
        let fields = BlockFields::of(&decoded, self.sides[dir].hpack.strings());
        let role = self.block_role(&block, &fields, dir, stream_id);
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
        let client = self.client;
        self.block_on_stream(key, dir, time, &block, stream_id, role, fields, info);
        let decoded = Rc::new(DecodedBlock {
            stream: stream_id,
            dir: (dir & 1) as u8,
            role,
            complete: true,
            joined: block.joined(),
            fragments: std::mem::take(&mut block.fragments).into_boxed_slice(),
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

    /// The earlier fragments of a block learn where it ended; a block of several fragments
    /// says where it started.
    fn link_fragments(&mut self, key: PduKey, block: &PendingBlock, info: &mut FrameInfo) {
        for (k, _) in block
            .fragments
            .iter()
            .take(block.fragments.len().saturating_sub(1))
        {
            if let Some(part) = self
                .decisions
                .get_mut(k)
                .and_then(FrameInfo::block_part_mut)
            {
                part.completed_in = Some(key.frame);
            }
        }
        if block.fragments.len() > 1 {
            info.set_block_part(BlockPart {
                started_in: block.started.frame,
                completed_in: Some(key.frame),
            });
        }
    }

    /// What a complete block is: a pushed request, a request (`:method`), an interim or
    /// final response (`:status`), trailers, or unknown (undecodable, and the stream's first).
    fn block_role(
        &self,
        block: &PendingBlock,
        fields: &BlockFields,
        dir: Dir,
        stream_id: u32,
    ) -> BlockRole {
        let earlier_blocks = self
            .streams
            .get(&stream_id)
            .map_or(0, |s| s.header_blocks[dir]);
        if block.promised.is_some() {
            BlockRole::PushRequest
        } else if fields.method.is_known() {
            BlockRole::Request
        } else if let Some(st) = fields.status {
            if (100..200).contains(&st) {
                BlockRole::Informational
            } else {
                BlockRole::Response
            }
        } else if earlier_blocks > 0 || !fields.unknown {
            BlockRole::Trailers
        } else {
            BlockRole::Unknown
        }
    }

    /// The block's effect on its stream: state, and the request/response summary that
    /// pairs them (the first request and response of a stream only).
    #[allow(clippy::too_many_arguments)]
    fn block_on_stream(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        block: &PendingBlock,
        stream_id: u32,
        role: BlockRole,
        fields: BlockFields,
        info: &mut FrameInfo,
    ) {
        let client = self.client;
        let Some(stream) = self.stream(stream_id, info) else {
            return;
        };
        stream.header_blocks[dir] += 1;
        if matches!(
            role,
            BlockRole::Request | BlockRole::Response | BlockRole::PushRequest
        ) {
            stream.body_len_hint[dir] = fields
                .content_length
                .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX));
        }
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
        let Some(s) = summary.and_then(|i| self.summaries.get_mut(i as usize)) else {
            return;
        };
        match role {
            // The first request and response of a stream are the pair; a second one, or a
            // request after the response (both protocol violations), must not re-point
            // earlier frames' links.
            BlockRole::Request | BlockRole::PushRequest
                if s.request_in.is_none() && s.response_in.is_none() =>
            {
                s.request_in = Some(key.frame);
                s.request_time = time;
                s.method = fields.method;
                s.path = fields.path;
                s.request_dir = (dir & 1) as u8;
                if role == BlockRole::PushRequest {
                    s.promised_in = Some((key.frame, block.stream));
                }
            }
            BlockRole::Response if s.response_in.is_none() => {
                s.response_in = Some(key.frame);
                s.response_time = time;
                s.status = fields.status;
                if s.request_in.is_none() && stream_id != 1 {
                    info.problems.push(Problem::RequestNotCaptured);
                }
            }
            _ => {}
        }
        if matches!(role, BlockRole::Request | BlockRole::Response) {
            s.content_type[dir] = fields.content_type;
            s.content_encoding[dir] = fields.content_encoding;
        }
        s.builtin_pairing = self.builtin.pairing(stream_id);
    }
}
