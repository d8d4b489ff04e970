//! From bytes to the tree: frames HTTP/2 for `tcp_dissect_pdus`, asks the connection state
//! what each frame means, and adds items at the offsets the parsers report. No byte
//! parsing happens here beyond what `frame` and `hpack` return. This file renders a frame,
//! its header, payload, pairing, state and problems; `headers` renders header blocks and
//! `bodies` bodies and gRPC messages.

use std::ffi::CStr;
use std::fmt::Write as _;

use super::REGISTRATION;
use super::body::{self, DecodeError};
use super::compat;
use super::connection::{
    BlockRole, Body, Connection, DecodedBlock, Dir, FrameInfo, PduRole, Problem, StreamSummary,
};
use super::fields::{Ei, Ett, Hf};
use super::frame::{self, FrameHeader, Padding, Payload, Priority, flag, kind};
use super::grpc::{self, Completed, GrpcFrame};
use super::hpack::{self, Representation, Strings};
use crate::common::{At, PduKey, Span, lossy};
use crate::epan::{Enc, FramedDissector, Item, Packet, PduLen, Protocol, Tree};

mod bodies;
mod headers;

pub struct H2;

fn proto() -> Protocol {
    REGISTRATION.proto()
}

pub(crate) fn body_limit() -> usize {
    REGISTRATION.get().map_or(super::DEFAULT_BODY_LIMIT, |r| {
        r.settings.body_limit.get() as usize
    })
}

/// The connection state, created with the body limit that the preferences give.
fn connection<'a>(pkt: &Packet<'a>) -> Option<std::cell::RefMut<'a, Connection>> {
    let mut conn = pkt.conversation::<Connection>(proto())?;
    if conn.body_limit == 0 {
        conn.body_limit = body_limit();
    }
    if conn.is_streaming_type.is_none() {
        conn.is_streaming_type = Some(super::compat::is_streaming_content_type);
    }
    Some(conn)
}

/// The side of a packet, and the client side when the server port is known.
fn direction(conn: &mut Connection, pkt: &Packet<'_>) -> Dir {
    let dir = conn.direction(pkt.src_port(), pkt.dst_port());
    if !conn.has_fake_headers_set(dir) {
        // The user's fake headers for this side (each file starts a new connection state,
        // so changed tables apply to the next dissection).
        conn.set_fake_headers(
            dir,
            super::user_tables::fake_headers_for(pkt.src_port(), pkt.dst_port()),
        );
    }
    let server_port = pkt.match_uint();
    if server_port != 0 && conn.client().is_none() {
        if pkt.dst_port() == server_port && pkt.src_port() != server_port {
            conn.set_client(dir);
        } else if pkt.src_port() == server_port && pkt.dst_port() != server_port {
            conn.set_client(1 - dir);
        }
    }
    dir
}

impl FramedDissector for H2 {
    /// One byte suffices to start: `framing` asks for the 9-byte header (or the 24-byte
    /// preface) itself, and a skip in a mid-connection capture can be shorter than 9.
    const HEADER_LEN: u32 = 1;

    fn protocol() -> Protocol {
        proto()
    }

    fn pdu_len(pkt: &Packet<'_>, bytes: &[u8]) -> PduLen {
        let Some(mut conn) = connection(pkt) else {
            return PduLen::RestOfSegment;
        };
        let dir = direction(&mut conn, pkt);
        conn.pdu_len_at(dir, pkt.frame(), bytes, || pkt.stream_start())
    }

    fn dissect_pdu(pkt: &Packet<'_>, tree: Tree<'_>, bytes: &[u8]) {
        // The built-in's name: users' colouring, sorting and screenshots expect it.
        pkt.set_protocol_column(c"HTTP2");
        let key = PduKey {
            frame: pkt.frame(),
            index: pkt.next_pdu_index(proto()),
        };
        if key.index == 0 {
            pkt.clear_info();
        }
        let Some(mut conn) = connection(pkt) else {
            return;
        };
        let dir = direction(&mut conn, pkt);
        if !pkt.visited() || conn.decision(key).is_none() {
            let skipped = conn.was_skip(pkt.frame(), bytes.len());
            conn.process(key, dir, pkt.time(), bytes, skipped);
        }
        let builtin = compat::builtin();
        if let Some(b) = builtin {
            compat_layer(pkt, &mut conn, b, key, &tree, bytes);
        }
        let conn = &*conn;
        let Some(info) = conn.decision(key) else {
            return;
        };
        let view = View {
            pkt,
            key,
            conn,
            info,
            bytes,
        };
        view.dissect(tree);
        if let Some(stats) = super::stats::wanted() {
            let completes = info.block.as_deref().is_some_and(|b| b.completes_in(key));
            if let Some(rec) = super::stats::record(conn, info, bytes, completes) {
                stats.queue(pkt, &rec);
            }
        }
        if let Some(b) = builtin {
            let ctx = compat::emit::Ctx {
                pkt,
                key,
                conn,
                info,
                bytes,
            };
            ctx.emit(b, &tree);
        }
    }

    fn heuristic(_pkt: &Packet<'_>, bytes: &[u8]) -> bool {
        // The preface is unmistakable; anything shorter than its first line is not enough.
        bytes.len() >= 16 && frame::starts_with_preface(bytes)
    }
}

/// Marks the frame as `http2` (once per packet) and tells the built-in about new streams, so
/// that the GUI's Follow HTTP/2 Stream (which reads the built-in's own state) offers them.
/// Not while a tap of the built-in listens: its records would be counted twice.
fn compat_layer(
    pkt: &Packet<'_>,
    conn: &mut Connection,
    b: &compat::Builtin,
    key: PduKey,
    tree: &Tree<'_>,
    bytes: &[u8],
) {
    if key.index == 0 {
        pkt.add_layer(b.layer, tree);
    }
    if !b.announce
        || b.stats_tap.is_some_and(|t| t.has_listener())
        || b.follow_tap.is_some_and(|t| t.has_listener())
    {
        return;
    }
    let Some(h) = frame::parse_header(bytes).filter(|_| !frame::starts_with_preface(bytes)) else {
        return;
    };
    let first = conn.builtin_mut().first_sight(h.stream_id);
    if (first && !pkt.visited()) || (pkt.visited() && tree.is_visible()) {
        compat::announce_stream(pkt, tree, h.stream_id);
    }
}

/// One PDU with everything needed to show it.
struct View<'p, 'a> {
    pkt: &'p Packet<'a>,
    key: PduKey,
    conn: &'p Connection,
    info: &'p FrameInfo,
    bytes: &'p [u8],
}

impl View<'_, '_> {
    fn summary(&self) -> Option<&StreamSummary> {
        self.info.summary.and_then(|i| self.conn.summary(i))
    }

    fn dissect(&self, tree: Tree<'_>) {
        let (item, t) = tree.add_protocol(Hf::Proto, 0, self.bytes.len(), Ett::Frame);
        if let Some(c) = self.info.from_client {
            t.add_bool(Hf::FromClient, 0, 0, c).generated();
        }
        match self.info.role {
            PduRole::Preface => {
                t.add(Hf::Magic, 0, self.bytes.len(), Enc::Na);
                item.append_text(", Magic");
                self.pkt.append_info("Magic");
            }
            PduRole::Continuation => {
                let it = t.add(Hf::Midstream, 0, self.bytes.len(), Enc::Na);
                it.expert(
                    self.pkt,
                    Ei::Midstream,
                    "Capture began inside this frame: its header was not captured",
                );
                item.append_text(", Continuation of an earlier frame");
                self.pkt.append_info("[continuation of an earlier frame]");
            }
            PduRole::Frame => self.frame(item, &t, &tree),
        }
    }

    /// Whether the frame's own items and Info text can be read by anything (see
    /// `Tree::items_wanted`, which counts expert listeners): else only the protocol item
    /// and the hand-offs to gRPC and to media dissectors are made (`tshark -q -Y h2`, a tap
    /// without a tree).
    fn items_wanted(&self, top: &Tree<'_>) -> bool {
        self.pkt.has_columns()
            || top.items_wanted::<Hf, Ei>(self.pkt, Hf::Proto)
            || crate::h2::user_tables::custom_field_primed(top)
    }

    fn frame(&self, item: Item<'_>, t: &Tree<'_>, top: &Tree<'_>) {
        let Some(parsed) = frame::parse_frame(self.bytes) else {
            return;
        };
        let h = parsed.header;
        if !self.items_wanted(top) {
            self.handoffs(t, top, &parsed.payload);
            return;
        }
        self.header(t, &h);
        let mut info_text = format!(
            "{}[{}]",
            frame::FrameType::name_of(h.kind).unwrap_or("Unknown"),
            h.stream_id
        );
        if let Ok(payload) = &parsed.payload {
            self.payload(t, &h, payload, &mut info_text);
        }
        self.state(t);
        for p in &self.info.problems {
            self.problem(t, &h, p);
        }
        // Labels show only in a shown tree, the Info column only where columns are filled.
        if t.is_shown() {
            item.append_text(&format!(", {info_text}"));
        }
        if self.pkt.has_columns() {
            self.pkt.append_info(&info_text);
        }
        // After our Info clause, so that a sub-dissector's column text follows it.
        self.handoffs(t, top, &parsed.payload);
    }

    /// What the frame hands to other dissectors: gRPC messages, and a completed body to
    /// its media-type dissector.
    fn handoffs(
        &self,
        t: &Tree<'_>,
        top: &Tree<'_>,
        payload: &Result<Payload, frame::PayloadError>,
    ) {
        if let Some(g) = self.info.grpc() {
            // DATA frames carry messages; trailers may end the stream inside one.
            let data = match payload {
                Ok(Payload::Data { data, .. }) => *data,
                _ => Span {
                    off: 0,
                    len: self.bytes.len(),
                },
            };
            self.grpc_frame(t, top, data, g);
        }
        if let Some(body) = &self.info.body {
            let frame_data = match payload {
                Ok(Payload::Data { data, .. }) => data.of(self.bytes),
                _ => &[],
            };
            self.body(t, body, frame_data);
        }
    }

    fn header(&self, t: &Tree<'_>, h: &FrameHeader) {
        t.add_u32(Hf::Length, 0, 3, h.length);
        t.add(Hf::Type, 3, 1, Enc::BigEndian);
        let flags = t.add(Hf::Flags, 4, 1, Enc::BigEndian);
        let ft = flags.subtree(Ett::Flags);
        let mut names = Vec::new();
        for (bit, field, name) in [
            (flag::PRIORITY, Hf::FlagPriority, "PRIORITY"),
            (flag::PADDED, Hf::FlagPadded, "PADDED"),
            (flag::END_HEADERS, Hf::FlagEndHeaders, "END_HEADERS"),
        ] {
            if frame::flag::defined(h.kind) & bit != 0 {
                ft.add(field, 4, 1, Enc::BigEndian);
                if h.has(bit) {
                    names.push(name);
                }
            }
        }
        if frame::flag::defined(h.kind) & 0x1 != 0 {
            if matches!(h.kind, kind::SETTINGS | kind::PING) {
                ft.add(Hf::FlagAck, 4, 1, Enc::BigEndian);
                if h.has(flag::ACK) {
                    names.push("ACK");
                }
            } else {
                ft.add(Hf::FlagEndStream, 4, 1, Enc::BigEndian);
                if h.has(flag::END_STREAM) {
                    names.push("END_STREAM");
                }
            }
        }
        if h.unused_flags() != 0 {
            ft.add_u32(Hf::FlagsUnused, 4, 1, h.unused_flags() as u32);
        }
        if !names.is_empty() && t.is_shown() {
            flags.append_text(&format!(" ({})", names.join(", ")));
        }
        t.add(Hf::Reserved, 5, 4, Enc::BigEndian);
        t.add(Hf::StreamId, 5, 4, Enc::BigEndian);
    }

    fn padding(&self, t: &Tree<'_>, padding: &Option<Padding>) {
        if let Some(p) = padding {
            t.add(Hf::PadLength, p.pad_length.off, 1, Enc::BigEndian);
            if p.padding.len > 0 {
                t.add(Hf::Padding, p.padding.off, p.padding.len, Enc::Na);
            }
        }
    }

    fn priority(&self, t: &Tree<'_>, p: &At<Priority>) {
        t.add(Hf::Exclusive, p.off, 4, Enc::BigEndian);
        t.add(Hf::StreamDependency, p.off, 4, Enc::BigEndian);
        t.add(Hf::Weight, p.off + 4, 1, Enc::BigEndian);
        t.add_u32(Hf::WeightReal, p.off + 4, 1, p.val.weight as u32 + 1)
            .generated();
    }

    fn payload(&self, t: &Tree<'_>, h: &FrameHeader, payload: &Payload, info: &mut String) {
        match payload {
            Payload::Data { padding, data } => {
                self.padding(t, padding);
                if data.len > 0 {
                    t.add(Hf::Data, data.off, data.len, Enc::Na);
                }
                // The body's media dissector names its type in Info where the body
                // completes, as under the built-in ("DATA[1] (text/html)").
                self.pairing(t);
                if let Some(fakes) = self.info.compat().and_then(|c| c.fakes.as_ref()) {
                    for (name, value) in fakes.iter() {
                        t.add_string(
                            Hf::FakeHeader,
                            0,
                            0,
                            &format!("{}: {}", lossy(name), lossy(value)),
                        )
                        .generated();
                    }
                }
            }
            Payload::Headers {
                padding,
                priority,
                fragment,
            } => {
                self.padding(t, padding);
                if let Some(p) = priority {
                    self.priority(t, p);
                }
                self.fragment(t, *fragment, info);
            }
            Payload::Priority(p) => self.priority(t, p),
            Payload::RstStream { error } => {
                let it = t.add(Hf::RstError, error.off, 4, Enc::BigEndian);
                let name = frame::ErrorCode::name_of(error.val).unwrap_or("unknown error");
                let _ = write!(info, " {name}");
                if !matches!(error.val, 0 | 8) {
                    it.expert(
                        self.pkt,
                        Ei::StreamError,
                        &format!("Stream {} reset: {name}", h.stream_id),
                    );
                }
            }
            Payload::Settings(settings) => {
                for s in settings {
                    let it = t.add(Hf::Setting, s.off, s.len, Enc::Na);
                    let name = super::fields::SETTING_NAMES
                        .iter()
                        .find(|(id, _)| *id == s.val.0 as u32)
                        .and_then(|(_, n)| n.to_str().ok())
                        .unwrap_or("Unknown setting");
                    it.set_text(&format!("Setting: {name} = {}", s.val.1));
                    let st = it.subtree(Ett::Setting);
                    st.add(Hf::SettingId, s.off, 2, Enc::BigEndian);
                    st.add(Hf::SettingValue, s.off + 2, 4, Enc::BigEndian);
                    if let Some(field) = super::fields::setting_field(s.val.0) {
                        st.add(field, s.off + 2, 4, Enc::BigEndian);
                    }
                }
                match (h.has(flag::ACK), self.info.settings_peer()) {
                    (false, Some(f)) => {
                        t.add_u32(Hf::SettingsAckIn, 0, 0, f).generated();
                    }
                    (true, Some(f)) => {
                        t.add_u32(Hf::SettingsAcks, 0, 0, f).generated();
                    }
                    _ => {}
                }
                if h.has(flag::ACK) {
                    info.push_str(" ACK");
                }
            }
            Payload::PushPromise {
                padding,
                promised,
                fragment,
            } => {
                self.padding(t, padding);
                t.add(Hf::PromisedReserved, promised.off, 4, Enc::BigEndian);
                t.add(Hf::PromisedStreamId, promised.off, 4, Enc::BigEndian);
                let _ = write!(info, " promised {}", promised.val.1);
                self.fragment(t, *fragment, info);
            }
            Payload::Ping { data } => {
                t.add(Hf::PingData, data.off, 8, Enc::BigEndian);
                match self.info.ping_peer() {
                    Some((f, Some(rtt))) => {
                        t.add_u32(Hf::PingOf, 0, 0, f).generated();
                        t.add_duration(Hf::PingRtt, 0, 0, rtt).generated();
                    }
                    Some((f, None)) => {
                        t.add_u32(Hf::PingAckIn, 0, 0, f).generated();
                    }
                    None => {}
                }
                if h.has(flag::ACK) {
                    info.push_str(" ACK");
                }
            }
            Payload::GoAway {
                last_stream,
                error,
                debug,
            } => {
                t.add(Hf::GoAwayReserved, last_stream.off, 4, Enc::BigEndian);
                t.add(Hf::GoAwayLastStream, last_stream.off, 4, Enc::BigEndian);
                let it = t.add(Hf::GoAwayError, error.off, 4, Enc::BigEndian);
                if debug.len > 0 {
                    t.add(Hf::GoAwayDebug, debug.off, debug.len, Enc::Na);
                }
                let name = frame::ErrorCode::name_of(error.val).unwrap_or("unknown error");
                let _ = write!(info, " {name}");
                if error.val != 0 {
                    it.expert(
                        self.pkt,
                        Ei::GoAwayError,
                        &format!("Connection closed: {name}"),
                    );
                }
            }
            Payload::WindowUpdate { increment } => {
                t.add(Hf::WindowReserved, increment.off, 4, Enc::BigEndian);
                t.add(Hf::WindowIncrement, increment.off, 4, Enc::BigEndian);
                let _ = write!(info, " +{}", increment.val.1);
            }
            Payload::Continuation { fragment } => self.fragment(t, *fragment, info),
            Payload::AltSvc {
                origin_len,
                origin,
                value,
            } => {
                t.add(Hf::AltSvcOriginLen, origin_len.off, 2, Enc::BigEndian);
                self.string(t, Hf::AltSvcOrigin, *origin);
                self.string(t, Hf::AltSvcValue, *value);
            }
            Payload::Origin(entries) => {
                for (len, origin) in entries {
                    t.add(Hf::OriginLen, len.off, 2, Enc::BigEndian);
                    self.string(t, Hf::Origin, *origin);
                }
            }
            Payload::PriorityUpdate { prioritized, value } => {
                t.add(Hf::PriorityUpdateStream, prioritized.off, 4, Enc::BigEndian);
                self.string(t, Hf::PriorityUpdateValue, *value);
            }
            Payload::Unknown { data } => {
                if data.len > 0 {
                    t.add(Hf::Unknown, data.off, data.len, Enc::Na);
                }
            }
        }
    }

    /// Request/response links, shown on HEADERS and DATA of the stream.
    fn pairing(&self, t: &Tree<'_>) {
        let Some(s) = self.summary() else { return };
        let frame = self.pkt.frame();
        let is_request_side = self.info.from_client.unwrap_or(self.info.dir == 0)
            || s.promised_in.is_some_and(|(f, _)| f == frame);
        if let Some((f, parent)) = s.promised_in
            && f != frame
        {
            t.add_u32(Hf::PromisedIn, 0, 0, f).generated();
            t.add_u32(Hf::ParentStream, 0, 0, parent).generated();
        }
        if is_request_side {
            if let Some(r) = s.response_in {
                t.add_u32(Hf::ResponseIn, 0, 0, r).generated();
            }
        } else if let Some(q) = s.request_in {
            t.add_u32(Hf::RequestIn, 0, 0, q).generated();
            if s.response_in == Some(frame) {
                t.add_duration(Hf::Time, 0, 0, s.response_time - s.request_time)
                    .generated();
            }
            if let Some(p) = self.conn.path_of(s) {
                t.add_string(Hf::Path, 0, 0, &lossy(p)).generated().hidden();
            }
        }
    }

    fn state(&self, t: &Tree<'_>) {
        if let Some(st) = self.info.stream_state {
            t.add_string(Hf::StreamState, 0, 0, st.name()).generated();
        }
        if let Some(w) = self.info.windows {
            let side = match self.conn.client() {
                Some(c) if c == usize::from(w.sender) => " (client's send window)",
                Some(_) => " (server's send window)",
                None => "",
            };
            t.add_i64(Hf::WindowConnection, 0, 0, w.connection)
                .generated()
                .append_text(side);
            if let Some(s) = w.stream {
                t.add_i64(Hf::WindowStream, 0, 0, s)
                    .generated()
                    .append_text(side);
            }
        }
    }

    fn problem(&self, t: &Tree<'_>, h: &FrameHeader, p: &Problem) {
        let ei = match p {
            Problem::Payload(_) => Ei::Malformed,
            Problem::FrameTooLarge { .. } => Ei::FrameTooLarge,
            Problem::NeedsStream | Problem::NeedsStreamZero => Ei::StreamIdInvalid,
            Problem::ReservedBit => Ei::ReservedBit,
            Problem::BadSetting { .. } | Problem::SettingsAckWithPayload => Ei::SettingsInvalid,
            Problem::SettingsAckUnmatched => Ei::SettingsUnmatched,
            Problem::StreamIdBackwards { .. } => Ei::StreamIdBackwards,
            Problem::ContinuationMissing { .. } | Problem::ContinuationUnexpected => {
                Ei::Continuation
            }
            Problem::WindowExceeded { .. } => Ei::WindowExceeded,
            Problem::WindowOverflow { .. } => Ei::WindowOverflow,
            Problem::ZeroIncrement => Ei::ZeroIncrement,
            Problem::HeaderBlockTooLarge { .. } => Ei::HeaderBlockTooLarge,
            // Shown at its offset by `header_block`.
            Problem::Hpack(_) => return,
            Problem::StreamLimit | Problem::PendingLimit { .. } | Problem::ResyncLimit => {
                Ei::StateLimit
            }
            Problem::UnknownType(_) => Ei::UnknownType,
            Problem::RequestNotCaptured => Ei::RequestNotCaptured,
        };
        let len = (frame::HEADER_LEN + h.length as usize).min(self.bytes.len());
        t.add_expert(self.pkt, ei, 0, len, &p.to_string());
    }
}

/// Reason phrases (RFC 9110 15), for the Info column: HTTP/2 carries only the code.
fn reason_phrase(code: u16) -> Option<&'static str> {
    Some(match code {
        100 => "Continue",
        101 => "Switching Protocols",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => return None,
    })
}
