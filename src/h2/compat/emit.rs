//! The built-in `http2` dissector's items for one frame, added the way `dissect_http2_pdu`
//! (packet-http2.c) adds them: the same fields, on the same frames, with the same values,
//! under a hidden `http2` item (so `-V` and the GUI show only `h2`, while filters, columns,
//! colouring rules, `-e` and JSON export find what they found before).
//!
//! The functions mirror the built-in's (`dissect_http2_data`, `inflate_http2_header_block`,
//! ...), so a difference can be traced to its C counterpart.

use std::borrow::Cow;

use super::Builtin;
use super::fields::Http2 as F;
use super::state::{self, CompletedBody, DataMode, builtin_name_value};
use crate::common::{At, PduKey, Span};
use crate::epan::{Enc, Packet, Tree, output};
use crate::h2::body;
use crate::h2::connection::{Connection, DecodedBlock, FrameInfo, PduRole};
use crate::h2::fields::Ett;
use crate::h2::frame::{self, FrameHeader, Padding, Payload, Priority, flag, kind};
use crate::h2::hpack::{Field, Representation, Strings};

/// The built-in stops decoding a header block after this many fields or decoded octets
/// (MAX_HTTP2_HEADER_LINES, MAX_HTTP2_HEADER_SIZE).
const MAX_HEADER_LINES: usize = 200;
const MAX_HEADER_SIZE: usize = 256 * 1024;

/// One PDU with what is needed to show it as the built-in does.
pub struct Ctx<'p, 'a> {
    pub pkt: &'p Packet<'a>,
    pub key: PduKey,
    pub conn: &'p Connection,
    pub info: &'p FrameInfo,
    pub bytes: &'p [u8],
}

/// Text as the built-in reads it (`ENC_ASCII`): octets above 0x7f become U+FFFD.
pub fn ascii(bytes: &[u8]) -> Cow<'_, str> {
    if bytes.is_ascii() {
        // ASCII is UTF-8.
        return String::from_utf8_lossy(bytes);
    }
    Cow::Owned(
        bytes
            .iter()
            .map(|&b| if b.is_ascii() { b as char } else { '\u{fffd}' })
            .collect(),
    )
}

impl Ctx<'_, '_> {
    /// Taps, layer and items of this PDU. `parent` is the tree that `h2`'s own item went
    /// into (the packet's top level).
    pub fn emit(&self, b: &Builtin, parent: &Tree<'_>) {
        if self.info.role == PduRole::Continuation {
            // Bytes of a frame begun before the capture: the built-in has no such thing.
            return;
        }
        let parsed = match self.info.role {
            PduRole::Preface => None,
            _ => match frame::parse_frame(self.bytes) {
                Some(f) => Some(f),
                None => return,
            },
        };
        if let Some(f) = &parsed {
            self.taps(b, parent, f);
        }
        // The items are hidden: only what names an http2 field sees them, and an output that
        // prints hidden items (JSON, PDML, exports, the GUI's details). Where neither is the
        // case (tshark -V or -T fields without an http2 field), they would be built for
        // nobody; they are as many as the built-in's own, half of a full tree's cost.
        if !parent.wants(b.http2.field())
            || !(parent.is_primed(b.http2.field())
                || parent.is_printed() && output::hidden_items_may_show(c"http2"))
        {
            return;
        }
        let (top, t) = parent.add_protocol(b.http2.field(), 0, self.bytes.len(), Ett::Compat);
        top.hidden();
        let st = t.add(F::Stream, 0, self.bytes.len(), Enc::Na);
        let st = st.subtree(Ett::CompatItem);
        let Some(parsed) = parsed else {
            st.add(F::Magic, 0, frame::PREFACE.len(), Enc::Ascii);
            return;
        };
        let h = parsed.header;
        self.frame_header(&st, &h);
        let Ok(payload) = &parsed.payload else {
            return;
        };
        let uri_shown = self.payload(b, &st, &h, payload);
        if cfg!(ws_ge_4_6) && h.stream_id > 0 && !uri_shown {
            // 4.6 shows the stream's request URI on each of its frames.
            if let Some(uri) = self.conn.builtin().full_uri(h.stream_id) {
                st.add_string(F::RequestFullUri, 0, 0, &uri).generated();
            }
        }
    }

    /// The `http2` statistics tap (every frame but the preface) and Follow HTTP/2 Stream.
    fn taps(&self, b: &Builtin, parent: &Tree<'_>, f: &frame::Frame) {
        let h = &f.header;
        if let Some(tap) = b.stats_tap.filter(|t| t.has_listener()) {
            self.pkt.http2_stats_tap(tap, h.kind);
        }
        let Some(tap) = b.follow_tap.filter(|t| t.has_listener()) else {
            return;
        };
        // 4.2 and later follow a body as the octets it hands on (content-encoding undone),
        // in the frame that completes it: its END_STREAM DATA, or the trailers after it.
        let body = self.info.compat().and_then(|c| c.body.as_ref());
        match h.kind {
            // Header blocks follow as their decoded header list (see `header_fields`).
            kind::HEADERS | kind::PUSH_PROMISE | kind::CONTINUATION => {
                if cfg!(ws_ge_4_2)
                    && h.kind == kind::HEADERS
                    && let Some(body) = body
                {
                    let data = self.body_octets(body, &[]);
                    parent.http2_follow_tap_data(self.pkt, tap, &data, h.stream_id);
                }
                if let Some(data) = self.follow_headers() {
                    parent.http2_follow_tap_data(self.pkt, tap, &data, h.stream_id);
                }
            }
            kind::DATA if cfg!(ws_ge_4_2) => {
                if let (DataMode::Complete, Some(body)) = (self.info.data_mode, body) {
                    let data = self.body_octets(body, self.single_body(f));
                    parent.http2_follow_tap_data(self.pkt, tap, &data, h.stream_id);
                }
            }
            // 4.0 follows every other frame of the stream whole, DATA included.
            _ => parent.http2_follow_tap_range(self.pkt, tap, 0, self.bytes.len(), h.stream_id),
        }
    }

    /// A body in one DATA frame, as the built-in takes it: the rest of the frame from the
    /// data on, padding included.
    fn single_body(&self, f: &frame::Frame) -> &[u8] {
        let Ok(Payload::Data { data, padding }) = &f.payload else {
            return &[];
        };
        let start = padding.as_ref().map_or(data.off, |p| p.pad_length.off + 1);
        self.bytes.get(start..).unwrap_or(&[])
    }

    /// The octets a completed body hands on: decoded when its content-encoding could be
    /// undone, else as sent.
    fn body_octets(&self, body: &CompletedBody, single: &[u8]) -> Vec<u8> {
        let raw = if body.fragments.is_empty() {
            single.to_vec()
        } else {
            self.joined_body(body)
        };
        match body.uncompress {
            Some(enc) => match body::decode(enc, &raw, crate::h2::dissect::body_limit()) {
                (decoded, None) => decoded,
                _ => raw,
            },
            None => raw,
        }
    }

    /// The header list of this frame as Follow HTTP/2 Stream shows it: each field as a
    /// 4-octet name length, the name, a 4-octet value length and the value (4.0), or as
    /// `name: value` lines and an empty line (4.2 and later).
    fn follow_headers(&self) -> Option<Vec<u8>> {
        let fields = self.header_fields()?;
        if fields.is_empty() {
            return None;
        }
        let strings = self.block_strings();
        let mut out = Vec::new();
        for f in fields
            .iter()
            .filter(|f| f.repr != Representation::SizeUpdate)
        {
            let (name, value) = builtin_name_value(strings, f);
            if cfg!(ws_ge_4_2) {
                out.extend_from_slice(name);
                out.extend_from_slice(b": ");
                out.extend_from_slice(value);
                out.push(b'\n');
            } else {
                out.extend_from_slice(&(name.len() as u32).to_be_bytes());
                out.extend_from_slice(name);
                out.extend_from_slice(&(value.len() as u32).to_be_bytes());
                out.extend_from_slice(value);
            }
        }
        if cfg!(ws_ge_4_2) {
            out.push(b'\n');
        }
        Some(out)
    }

    fn frame_header(&self, st: &Tree<'_>, h: &FrameHeader) {
        st.add(F::Length, 0, 3, Enc::BigEndian);
        st.add(F::Type, 3, 1, Enc::BigEndian);
        let flags = st.add(F::Flags, 4, 1, Enc::BigEndian);
        let ft = flags.subtree(Ett::CompatItem);
        let bits: &[F] = match h.kind {
            kind::DATA => &[F::FlagsUnusedData, F::FlagPadded, F::FlagEndStream],
            kind::HEADERS => &[
                F::FlagsUnusedHeaders,
                F::FlagPriority,
                F::FlagPadded,
                F::FlagEndHeaders,
                F::FlagEndStream,
            ],
            kind::SETTINGS => &[F::FlagsUnusedSettings, F::FlagSettingsAck],
            kind::PUSH_PROMISE => &[F::FlagsUnusedPushPromise, F::FlagPadded, F::FlagEndHeaders],
            kind::CONTINUATION => &[F::FlagsUnusedContinuation, F::FlagPadded, F::FlagEndHeaders],
            kind::PING => &[F::FlagsUnusedPing, F::FlagPingAck],
            _ => &[F::FlagsUnused],
        };
        for &bit in bits {
            ft.add(bit, 4, 1, Enc::BigEndian);
        }
        st.add(F::R, 5, 4, Enc::BigEndian);
        st.add(F::StreamId, 5, 4, Enc::BigEndian);
    }

    /// The payload's items. True when they include the request URI of the frame's own
    /// stream (a request's header block with `:authority`).
    fn payload(&self, b: &Builtin, st: &Tree<'_>, h: &FrameHeader, payload: &Payload) -> bool {
        let end = frame::HEADER_LEN + h.length as usize;
        let mut uri_shown = false;
        match payload {
            Payload::Data { padding, data } => {
                self.padding(st, padding);
                self.data_body(b, st, *data, padding);
                self.padding_bytes(st, F::DataPadding, padding);
                self.window(st);
            }
            Payload::Headers {
                padding,
                priority,
                fragment,
            } => {
                // Trailers with END_STREAM complete a body that DATA frames left open.
                if let Some(body) = self.info.compat().and_then(|c| c.body.as_ref()) {
                    self.completed_body(b, st, body, &[]);
                }
                self.padding(st, padding);
                if let Some(p) = priority {
                    self.priority(st, p);
                }
                // END_STREAM while a streamed message is incomplete.
                if self
                    .info
                    .grpc()
                    .is_some_and(|g| g.parts.missing_at_end.is_some())
                {
                    st.add(F::ReassemblyError, 0, self.bytes.len(), Enc::Na);
                }
                st.add(F::Headers, fragment.off, fragment.len, Enc::Na);
                uri_shown = self.header_fields_items(b, st, *fragment);
                self.pairing(st);
                self.padding_bytes(st, F::HeadersPadding, padding);
            }
            Payload::Priority(p) => self.priority(st, p),
            Payload::RstStream { error } => {
                st.add(F::RstStreamError, error.off, 4, Enc::BigEndian);
            }
            Payload::Settings(settings) => {
                for s in settings {
                    let it = st.add(F::Settings, s.off, 6, Enc::Na);
                    let sub = it.subtree(Ett::CompatItem);
                    sub.add(F::SettingsId, s.off, 2, Enc::BigEndian);
                    let field = match s.val.0 {
                        1 => F::SettingsHeaderTableSize,
                        2 => F::SettingsEnablePush,
                        3 => F::SettingsMaxConcurrentStreams,
                        4 => F::SettingsInitialWindowSize,
                        5 => F::SettingsMaxFrameSize,
                        6 => F::SettingsMaxHeaderListSize,
                        8 => F::SettingsExtendedConnect,
                        9 if cfg!(ws_ge_4_4) => F::SettingsNoRfc7540Priorities,
                        0x10 if cfg!(ws_ge_4_6) => F::SettingsTlsRenegPermitted,
                        _ => F::SettingsUnknown,
                    };
                    sub.add(field, s.off + 2, 4, Enc::BigEndian);
                }
            }
            Payload::PushPromise {
                padding,
                promised,
                fragment,
            } => {
                self.padding(st, padding);
                st.add(F::PushPromiseR, promised.off, 4, Enc::BigEndian);
                st.add(F::PushPromiseStreamId, promised.off, 4, Enc::BigEndian);
                st.add(F::PushPromiseHeader, fragment.off, fragment.len, Enc::Na);
                self.header_fields_items(b, st, *fragment);
                // 4.4+: the promised stream's response, once known.
                if let Some(p) = self.pairing_now() {
                    let now = self.pkt.frame();
                    if now == p.request_in && p.response_in > 0 {
                        st.add_u32(F::ResponseIn, 0, 0, p.response_in).generated();
                    }
                }
                self.padding_bytes(st, F::PushPromisePadding, padding);
            }
            Payload::Ping { data } => {
                let field = if h.has(flag::ACK) { F::Pong } else { F::Ping };
                st.add(field, data.off, 8, Enc::Na);
            }
            Payload::GoAway {
                last_stream,
                error,
                debug,
            } => {
                // One of the two names exists in a given version.
                st.add(F::GoAwayROld, last_stream.off, 4, Enc::BigEndian);
                st.add(F::GoAwayR, last_stream.off, 4, Enc::BigEndian);
                st.add(F::GoAwayLastStreamId, last_stream.off, 4, Enc::BigEndian);
                st.add(F::GoAwayError, error.off, 4, Enc::BigEndian);
                if debug.len > 0 {
                    st.add(F::GoAwayAddata, debug.off, debug.len, Enc::Na);
                }
            }
            Payload::WindowUpdate { increment } => {
                st.add(F::WindowUpdateR, increment.off, 4, Enc::BigEndian);
                st.add(F::WindowUpdateIncrement, increment.off, 4, Enc::BigEndian);
                self.window(st);
            }
            Payload::Continuation { fragment } => {
                let padding = self.continuation_padding(h);
                self.padding(st, &padding);
                st.add(
                    F::ContinuationHeader,
                    fragment.off,
                    fragment.len,
                    Enc::Ascii,
                );
                self.header_fields_items(b, st, *fragment);
                self.padding_bytes(st, F::ContinuationPadding, &padding);
            }
            Payload::AltSvc {
                origin_len,
                origin,
                value,
            } => {
                st.add(F::AltSvcOriginLen, origin_len.off, 2, Enc::BigEndian);
                st.add(F::AltSvcOrigin, origin.off, origin.len, Enc::Ascii);
                if value.len > 0 {
                    st.add(F::AltSvcFieldValue, value.off, value.len, Enc::Ascii);
                }
            }
            Payload::Origin(entries) => {
                for (len, origin) in entries {
                    let it = st.add(F::Origin, len.off, 6, Enc::Na);
                    let sub = it.subtree(Ett::CompatItem);
                    sub.add(F::OriginLen, len.off, 2, Enc::BigEndian);
                    sub.add(F::OriginOrigin, origin.off, origin.len, Enc::Ascii);
                }
            }
            Payload::PriorityUpdate { prioritized, value } => {
                st.add(
                    F::PriorityUpdateStreamId,
                    prioritized.off,
                    4,
                    Enc::BigEndian,
                );
                st.add(
                    F::PriorityUpdateFieldValue,
                    value.off,
                    value.len,
                    Enc::Ascii,
                );
            }
            Payload::Unknown { .. } if h.kind == kind::BLOCKED => {}
            Payload::Unknown { data } => {
                st.add(F::Unknown, data.off, end.saturating_sub(data.off), Enc::Na);
            }
        }
        uri_shown
    }

    /// `dissect_frame_padding`: the Pad Length octet when PADDED, and always the generated
    /// padding length (0 without PADDED).
    fn padding(&self, st: &Tree<'_>, padding: &Option<Padding>) {
        match padding {
            Some(p) => {
                st.add(F::Padding, p.pad_length.off, 1, Enc::BigEndian);
                st.add_u32(
                    F::PadLength,
                    p.pad_length.off,
                    1,
                    u32::from(p.pad_length.val),
                )
                .generated();
            }
            None => {
                st.add_u32(F::PadLength, frame::HEADER_LEN, 0, 0)
                    .generated();
            }
        }
    }

    fn padding_bytes(&self, st: &Tree<'_>, field: F, padding: &Option<Padding>) {
        if let Some(p) = padding
            && p.padding.len > 0
        {
            st.add(field, p.padding.off, p.padding.len, Enc::Na);
        }
    }

    /// CONTINUATION has no PADDED flag in RFC 9113, but the built-in honours one.
    fn continuation_padding(&self, h: &FrameHeader) -> Option<Padding> {
        if !h.has(flag::PADDED) || h.length == 0 {
            return None;
        }
        let pad = *self.bytes.get(frame::HEADER_LEN)?;
        let end = frame::HEADER_LEN + h.length as usize;
        let len = usize::from(pad).min(end.saturating_sub(frame::HEADER_LEN + 1));
        Some(Padding {
            pad_length: At {
                off: frame::HEADER_LEN,
                len: 1,
                val: pad,
            },
            padding: Span {
                off: end - len,
                len,
            },
        })
    }

    fn priority(&self, st: &Tree<'_>, p: &At<Priority>) {
        st.add(F::Exclusive, p.off, 4, Enc::Na);
        st.add(F::StreamDependency, p.off, 4, Enc::BigEndian);
        st.add(F::Weight, p.off + 4, 1, Enc::BigEndian);
        st.add_u32(F::WeightReal, p.off + 4, 1, u32::from(p.val.weight) + 1)
            .generated();
    }

    /// `dissect_http2_data_body` in END_STREAM reassembly mode.
    fn data_body(&self, b: &Builtin, st: &Tree<'_>, data: Span, padding: &Option<Padding>) {
        if let Some(fakes) = self.info.compat().and_then(|c| c.fakes.as_ref()) {
            self.fake_headers(st, data, fakes);
        }
        match self.info.data_mode {
            DataMode::Fragment => {
                // On later passes the built-in knows where the body was completed.
                if self.pkt.visited()
                    && let Some(end) = self.body_end()
                {
                    st.add_u32(F::BodyReassembledIn, 0, 0, end);
                }
                st.add(F::DataData, data.off, data.len, Enc::Na);
            }
            DataMode::Complete => {
                match self.info.compat().and_then(|c| c.body.as_ref()) {
                    Some(body) => {
                        // A body in one frame is the rest of the frame from the data on,
                        // padding included.
                        let start = padding.as_ref().map_or(data.off, |p| p.pad_length.off + 1);
                        let single = self.bytes.get(start..).unwrap_or(&[]);
                        self.completed_body(b, st, body, single);
                    }
                    None => {
                        st.add(F::DataData, data.off, data.len, Enc::Na);
                    }
                }
            }
            DataMode::Streaming => self.streaming_body(st, data),
            DataMode::Partial | DataMode::None => {
                st.add(F::DataData, data.off, data.len, Enc::Na);
            }
        }
    }

    /// `reassemble_http2_data_according_to_subdissector`: the DATA payload as a whole, and
    /// the parts of it that end, continue or begin a message reassembled over several
    /// frames (gRPC). The messages themselves are shown by `grpc`.
    fn streaming_body(&self, st: &Tree<'_>, data: Span) {
        st.add_bytes_value(F::DataData, data.off, data.len, data.of(self.bytes))
            .set_text(&format!(
                "DATA payload ({} byte{})",
                data.len,
                if data.len == 1 { "" } else { "s" }
            ));
        let Some(g) = self.info.grpc() else {
            return;
        };
        let p = &g.parts;
        let frame = self.pkt.frame();
        let ends_in = p
            .ends_in
            .as_ref()
            .map(|c| c.get())
            .filter(|&f| f != 0 && self.pkt.visited());
        // On the first pass, 4.0 reassembles the prefix on its own first, then the message;
        // 4.4's generic reassembly (and 4.0 on later passes, which replays the first pass's
        // message boundaries) counts the prefix octets as part of the message's fragment.
        // Later passes replay the message's boundaries and skip the prefix reassembly.
        let merged = p.prefix.is_some() && (cfg!(ws_ge_4_4) || self.pkt.visited());
        if let Some(prefix) = p.prefix.as_ref().filter(|_| !self.pkt.visited()) {
            let len = prefix.len as usize;
            st.add_u32(F::BodyReassembledIn, data.off, len, frame)
                .generated();
            self.fragment_tree(st, &prefix.fragments, Some(&prefix.data));
            st.add(F::DataSegment, data.off, len, Enc::Na);
        }
        let again = |off: u32, len: u32| {
            if merged {
                (data.off, (off + len) as usize)
            } else {
                (data.off + off as usize, len as usize)
            }
        };
        if let Some(tail) = &p.tail {
            let (off, len) = again(tail.off, tail.len);
            if tail.len > 0 || p.prefix.is_none() {
                st.add_u32(F::BodyReassembledIn, off, len, frame)
                    .generated();
                if merged && cfg!(ws_ge_4_4) {
                    self.fragment_tree(st, &merge_last(&tail.fragments), tail.message.as_deref());
                } else {
                    self.fragment_tree(st, &tail.fragments, tail.message.as_deref());
                }
                st.add(F::DataSegment, off, len, Enc::Na);
            }
        }
        if let Some((off, len)) = p.middle {
            let (off, len) = again(off, len);
            if let Some(end) = ends_in {
                st.add_u32(F::BodyReassembledIn, off, len, end).generated();
            }
            st.add(F::DataSegment, off, len, Enc::Na);
        }
        if let Some((off, len)) = p.head {
            let off = data.off + off as usize;
            if let Some(end) = ends_in {
                st.add_u32(F::BodyReassembledIn, off, len as usize, end)
                    .generated();
            }
            st.add(F::DataSegment, off, len as usize, Enc::Na);
        }
        if p.missing_at_end.is_some() {
            st.add(F::ReassemblyError, data.off, data.len, Enc::Na);
        }
    }

    /// `show_fragment_tree`: the frames a reassembled PDU came from.
    fn fragment_tree(&self, st: &Tree<'_>, fragments: &[(u32, u32)], data: Option<&[u8]>) {
        let total: u32 = fragments.iter().map(|f| f.1).sum();
        let it = st.add(F::BodyFragments, 0, 0, Enc::Na).generated();
        let ft = it.subtree(Ett::CompatItem);
        let mut off = 0u32;
        for &(frame, len) in fragments {
            let text = if len == 0 {
                format!("Frame: {frame} (no data)")
            } else {
                format!(
                    "Frame: {frame}, payload: {}-{} ({len} byte{})",
                    off,
                    off + len - 1,
                    if len == 1 { "" } else { "s" }
                )
            };
            ft.add_u32_text(F::BodyFragment, 0, 0, frame, &text)
                .generated();
            off += len;
        }
        ft.add_u32(F::BodyFragmentCount, 0, 0, fragments.len() as u32)
            .generated();
        ft.add_u32(F::BodyReassembledLength, 0, 0, total)
            .generated();
        if let Some(d) = data {
            ft.add_bytes_value(F::BodyReassembledData, 0, 0, d)
                .generated();
        }
    }

    /// `try_init_stream_with_fake_headers`: the fake headers used for this stream direction.
    fn fake_headers(&self, st: &Tree<'_>, data: Span, fakes: &[state::NameValue]) {
        st.add_u32(F::FakeHeaderCount, data.off, 0, fakes.len() as u32)
            .generated();
        for (name, value) in fakes {
            let (n, v) = (ascii(name), ascii(value));
            let it = st.add(F::FakeHeader, data.off, 0, Enc::Na).generated();
            it.append_text(&format!(": {n}: {v}"));
            let ht = it.subtree(Ett::CompatItem);
            ht.add_string(F::HeaderName, data.off, 0, &n).generated();
            ht.add_string(F::HeaderValue, data.off, 0, &v).generated();
        }
    }

    /// The frame whose END_STREAM completed the body this DATA frame belongs to.
    fn body_end(&self) -> Option<u32> {
        let s = self.info.summary.and_then(|i| self.conn.summary(i))?;
        let end = s.builtin_body_end[usize::from(self.info.dir & 1)];
        (end != 0).then_some(end)
    }

    /// `process_reassembled_data` and `dissect_http2_data_full_body`: the fragments, and
    /// the body (content-decoded when the built-in would decode it) as `http2.data.data`.
    fn completed_body(&self, _b: &Builtin, st: &Tree<'_>, body: &CompletedBody, single: &[u8]) {
        let joined;
        let raw: &[u8] = if body.fragments.is_empty() {
            single
        } else {
            joined = self.joined_body(body);
            let raw: &[u8] = &joined;
            self.fragment_tree(st, &body.fragments, Some(raw));
            return self.full_body(st, body, raw);
        };
        self.full_body(st, body, raw)
    }

    /// The body's octets: the DATA payloads kept by `Connection` (which equal the
    /// fragments' payloads).
    fn joined_body(&self, _body: &CompletedBody) -> Vec<u8> {
        match &self.info.body {
            Some(b) => b.raw(&[]).to_vec(),
            None => Vec::new(),
        }
    }

    fn full_body(&self, st: &Tree<'_>, body: &CompletedBody, raw: &[u8]) {
        let limit = crate::h2::dissect::body_limit();
        match body.uncompress {
            Some(enc) => match body::decode(enc, raw, limit) {
                (decoded, None) => {
                    st.add_bytes_value(F::DataData, 0, 0, &decoded);
                }
                _ => {
                    st.add(F::BodyDecompressionFailed, 0, 0, Enc::Na);
                    st.add_bytes_value(F::DataData, 0, 0, raw);
                }
            },
            None => {
                st.add_bytes_value(F::DataData, 0, 0, raw);
            }
        }
    }

    /// The strings that the fields of this frame's header block name.
    fn block_strings(&self) -> &Strings {
        self.conn
            .strings(self.info.block.as_deref().map_or(0, |b| b.dir.into()))
    }

    /// The fields of this frame's part of a header block (None when there is no block).
    fn header_fields(&self) -> Option<Vec<&Field>> {
        let block: &DecodedBlock = self.info.block.as_deref()?;
        let strings = self.conn.strings_of(block);
        let mut out = Vec::new();
        let mut size = 0usize;
        for f in block.fields_in(self.key) {
            if out.len() >= MAX_HEADER_LINES {
                break;
            }
            if f.repr != Representation::SizeUpdate {
                let (name, value) = builtin_name_value(strings, f);
                let len = 8 + name.len() + value.len();
                if size + len >= MAX_HEADER_SIZE {
                    break;
                }
                size += len;
            }
            out.push(f);
        }
        Some(out)
    }

    /// `inflate_http2_header_block`: the decoded header fields of this frame. True when
    /// they include a request URI (`:authority`).
    fn header_fields_items(&self, b: &Builtin, st: &Tree<'_>, fragment: Span) -> bool {
        let Some(block) = self.info.block.as_deref() else {
            return false;
        };
        let Some(fields) = self.header_fields() else {
            return false;
        };
        if fields.is_empty() {
            return false;
        }
        let strings = self.conn.strings_of(block);
        let block_bytes: &[u8] = match &block.joined {
            Some(j) => j,
            None => fragment.of(self.bytes),
        };
        // Where this frame's fragment starts in the block, to place items in the frame.
        let base = block.fragment_range(self.key).map_or(0, |r| r.0);
        let header_len: usize = fields
            .iter()
            .filter(|f| f.repr != Representation::SizeUpdate)
            .map(|f| {
                let (n, v) = builtin_name_value(strings, f);
                8 + n.len() + v.len()
            })
            .sum();
        st.add_u32(F::HeaderLength, fragment.off, 0, header_len as u32)
            .generated();
        st.add_u32(F::HeaderCount, fragment.off, 0, fields.len() as u32)
            .generated();
        let mut scheme: Option<Cow<'_, str>> = None;
        let mut authority: Option<Cow<'_, str>> = None;
        let mut method: Option<Cow<'_, str>> = None;
        let mut path: Option<Cow<'_, str>> = None;
        for f in fields {
            // The representation's octets in this frame.
            let start = (f.off as usize).max(base);
            let off = fragment.off + start - base;
            let len = f.end() - start;
            let layout = f.layout(block_bytes);
            if f.repr == Representation::SizeUpdate {
                let it = st.add(F::HeaderTableSizeUpdate, off, len, Enc::Na);
                it.subtree(Ett::CompatItem).add_u32(
                    F::HeaderTableSize,
                    off,
                    len,
                    layout.new_size.unwrap_or(0),
                );
                continue;
            }
            let (name, value) = builtin_name_value(strings, f);
            let name_s = ascii(name);
            let value_s = ascii(value);
            let it = st.add(F::Header, off, len, Enc::Na);
            let ht = it.subtree(Ett::CompatItem);
            ht.add_u32(F::HeaderNameLength, off, 0, name.len() as u32);
            ht.add_string(F::HeaderName, off, 0, &name_s);
            ht.add_u32(F::HeaderValueLength, off, 0, value.len() as u32);
            ht.add_string(F::HeaderValue, off, 0, &value_s);
            let named = b.named_header(&ht, self.pkt, off, name, &value_s);
            if let Some(u) = uri_unescape(value_s.as_bytes()) {
                ht.add_string(F::HeaderUnescaped, off, 0, &String::from_utf8_lossy(&u))
                    .generated();
            }
            let indexed_name = layout.name_literal.is_none();
            let repr = match (f.repr, indexed_name) {
                (Representation::Indexed, _) => "Indexed Header Field",
                (Representation::LiteralIncremental, true) => {
                    "Literal Header Field with Incremental Indexing - Indexed Name"
                }
                (Representation::LiteralIncremental, false) => {
                    "Literal Header Field with Incremental Indexing - New Name"
                }
                (Representation::LiteralWithoutIndexing, true) => {
                    "Literal Header Field without Indexing - Indexed Name"
                }
                (Representation::LiteralWithoutIndexing, false) => {
                    "Literal Header Field without Indexing - New Name"
                }
                (Representation::LiteralNeverIndexed, true) => {
                    "Literal Header Field never Indexed - Indexed Name"
                }
                (Representation::LiteralNeverIndexed, false) => {
                    "Literal Header Field never Indexed - New Name"
                }
                (Representation::SizeUpdate, _) => "Maximum Header Table Size Change",
            };
            ht.add_string(F::HeaderRepr, off, 1, repr);
            if let Some(i) = layout.index {
                let ilen = if f.repr == Representation::Indexed {
                    len
                } else {
                    1
                };
                ht.add_u32(F::HeaderIndex, off, ilen, i);
            }
            match name {
                b":method" => method = Some(value_s),
                b":path" => {
                    if let Some(item) = named {
                        self.pkt.http_path_components(&ht, item, value);
                    }
                    path = Some(value_s);
                }
                b":authority" => authority = Some(value_s),
                b":scheme" => scheme = Some(value_s),
                _ => {}
            }
        }
        if let Some(authority) = authority {
            let uri = if method.as_deref() == Some("CONNECT") {
                authority.into_owned()
            } else {
                format!(
                    "{}://{}{}",
                    scheme.as_deref().unwrap_or("(null)"),
                    authority,
                    path.as_deref().unwrap_or("(null)")
                )
            };
            st.add_string(F::RequestFullUri, 0, 0, &uri).generated();
            return true;
        }
        false
    }

    /// 4.4 and later: the built-in's flow-control windows before and after the frame.
    fn window(&self, st: &Tree<'_>) {
        let Some(w) = self.info.compat().and_then(|c| c.window) else {
            return;
        };
        if let Some((before, after)) = w.connection {
            st.add_i32(F::WindowConnectionBefore, 0, 0, before)
                .generated();
            st.add_i32(F::WindowConnectionAfter, 0, 0, after)
                .generated();
        }
        if let Some((before, after)) = w.stream {
            st.add_i32(F::WindowStreamBefore, 0, 0, before).generated();
            st.add_i32(F::WindowStreamAfter, 0, 0, after).generated();
        }
    }

    /// 4.4+: the pairing of the frame's stream (for PUSH_PROMISE: the promised stream) as
    /// the built-in sees it now: on the first pass as it stood at this frame, on later
    /// passes as the first pass left it.
    fn pairing_now(&self) -> Option<state::Pairing> {
        if !cfg!(ws_ge_4_4) {
            return None;
        }
        if self.pkt.visited() {
            self.info
                .summary
                .and_then(|i| self.conn.summary(i))
                .map(|s| s.builtin_pairing)
        } else {
            self.info.compat().and_then(|c| c.pairing)
        }
    }

    /// 4.4 and later: the request/response links that the built-in shows on HEADERS.
    fn pairing(&self, st: &Tree<'_>) {
        if !cfg!(ws_ge_4_4) {
            return;
        }
        let now = self.pkt.frame();
        let Some(p) = self.pairing_now() else { return };
        if now > p.request_in && p.request_in > 0 {
            if let Some(t) = p.request_time {
                st.add_duration(F::Time, 0, 0, self.pkt.time() - t)
                    .generated();
            }
            st.add_u32(F::RequestIn, 0, 0, p.request_in).generated();
        }
        if now == p.request_in && p.response_in > 0 {
            st.add_u32(F::ResponseIn, 0, 0, p.response_in).generated();
        }
    }
}

/// The fragments with the last two joined when they are of the same frame.
fn merge_last(fragments: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = fragments.to_vec();
    if let [.., a, b] = out.as_slice()
        && a.0 == b.0
    {
        let joined = (a.0, a.1 + b.1);
        out.truncate(out.len() - 2);
        out.push(joined);
    }
    out
}

/// `g_uri_unescape_string(value, NULL)`: `%XX` escapes decoded; None when an escape is
/// malformed or decodes to NUL.
pub fn uri_unescape(v: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'%' {
            let hex = |b: u8| (b as char).to_digit(16);
            let hi = hex(*v.get(i + 1)?)?;
            let lo = hex(*v.get(i + 2)?)?;
            let c = (hi * 16 + lo) as u8;
            if c == 0 {
                return None;
            }
            out.push(c);
            i += 3;
        } else {
            out.push(v[i]);
            i += 1;
        }
    }
    Some(out)
}
