//! From bytes to the tree: frames HTTP/2 for `tcp_dissect_pdus`, asks the connection state
//! what each frame means, and adds items at the offsets the parsers report. No byte
//! parsing happens here beyond what `frame` and `hpack` return.

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
use super::hpack::{self, Representation};
use crate::common::{At, PduKey, Span};
use crate::epan::{Enc, FramedDissector, Item, Packet, PduLen, Protocol, Tree};

/// HTTP/2 as a framed TCP dissector.
/// A header block as the tree shows it: the tree whose data source holds it (the frame, or
/// the "Header block" tab of a joined block), its offset there, and its octets.
struct BlockView<'a> {
    tree: Tree<'a>,
    base: usize,
    bytes: &'a [u8],
}

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

    fn frame(&self, item: Item<'_>, t: &Tree<'_>, top: &Tree<'_>) {
        let Some(parsed) = frame::parse_frame(self.bytes) else {
            return;
        };
        let h = parsed.header;
        self.header(t, &h);
        let mut info_text = format!(
            "{}[{}]",
            frame::kind::name(h.kind).unwrap_or("Unknown"),
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
        if let Some(g) = self.info.grpc() {
            // DATA frames carry messages; trailers may end the stream inside one.
            let data = match &parsed.payload {
                Ok(Payload::Data { data, .. }) => *data,
                _ => Span {
                    off: 0,
                    len: self.bytes.len(),
                },
            };
            self.grpc_frame(t, top, data, g);
        }
        if let Some(body) = &self.info.body {
            let frame_data = match &parsed.payload {
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
                            &format!(
                                "{}: {}",
                                String::from_utf8_lossy(name),
                                String::from_utf8_lossy(value)
                            ),
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
                let name = frame::error_name(error.val).unwrap_or("unknown error");
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
                match (h.has(flag::ACK), self.info.settings_peer) {
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
                let name = frame::error_name(error.val).unwrap_or("unknown error");
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

    fn string(&self, t: &Tree<'_>, field: Hf, span: Span) {
        t.add_string(
            field,
            span.off,
            span.len,
            &String::from_utf8_lossy(span.of(self.bytes)),
        );
    }

    /// A header-block fragment, and the decoded block on the frame that completes it.
    fn fragment(&self, t: &Tree<'_>, fragment: Span, info: &mut String) {
        if fragment.len > 0 {
            t.add(Hf::Fragment, fragment.off, fragment.len, Enc::Na);
        }
        if let Some(part) = self.info.block_part {
            if part.started_in != self.pkt.frame() {
                t.add_u32(Hf::BlockStartedIn, 0, 0, part.started_in)
                    .generated();
            }
            if let Some(done) = part.completed_in.filter(|&f| f != self.pkt.frame()) {
                t.add_u32(Hf::BlockCompletedIn, 0, 0, done).generated();
            }
        }
        let Some(block) = &self.info.block else {
            if self
                .info
                .block_part
                .is_some_and(|p| p.completed_in != Some(self.pkt.frame()))
            {
                info.push_str(" (header block continues)");
            }
            return;
        };
        // A block in one frame points into the frame; a joined block gets its own tab.
        let view = match &block.joined {
            Some(joined) => BlockView {
                tree: t.with_data_source(self.pkt, joined, c"Header block"),
                base: 0,
                bytes: joined,
            },
            None => BlockView {
                tree: *t,
                base: fragment.off,
                bytes: fragment.of(self.bytes),
            },
        };
        // Which fields this frame shows: those whose last byte is in its fragment.
        let position = block.fragments.iter().position(|f| f.0 == self.key);
        // `i` is a position in `fragments`, so `i` and (when non-zero) `i - 1` index it.
        let range = position.map(|i| {
            let start = if i == 0 { 0 } else { block.fragments[i - 1].1 };
            (start as usize, block.fragments[i].1 as usize)
        });
        let completing = block.completes_in(self.key);
        self.header_block(
            t,
            &view,
            block,
            range.filter(|_| block.fragments.len() > 1),
            completing,
        );
        if !completing {
            info.push_str(" (header block continues)");
            return;
        }
        self.pairing(t);
        match block.role {
            BlockRole::Request | BlockRole::PushRequest => {
                let m = block.value(b":method").unwrap_or(b"?");
                let p = block.value(b":path").unwrap_or(b"");
                let _ = write!(
                    info,
                    ": {} {}",
                    String::from_utf8_lossy(m),
                    String::from_utf8_lossy(p)
                );
            }
            BlockRole::Response | BlockRole::Informational => {
                let s = block.value(b":status").unwrap_or(b"?");
                let s = String::from_utf8_lossy(s);
                let reason = s.parse::<u16>().ok().and_then(reason_phrase).unwrap_or("");
                let _ = write!(info, ": {s} {reason}");
                if info.ends_with(' ') {
                    info.pop();
                }
            }
            BlockRole::Trailers => info.push_str(": trailers"),
            BlockRole::Unknown => {}
        }
    }

    fn header_block(
        &self,
        t: &Tree<'_>,
        view: &BlockView<'_>,
        block: &DecodedBlock,
        range: Option<(usize, usize)>,
        completing: bool,
    ) {
        let in_this_frame =
            |f: &hpack::Field| range.is_none_or(|(start, end)| f.end() > start && f.end() <= end);
        // The per-header items are built only where something can read them: a tree that
        // is shown, or a filter, column, colouring rule or `-e` that names one of them.
        // Otherwise (`tshark -q -Y h2`, the summary pass) epan would fake every item, and
        // building them (strings, labels) would be most of h2's work for nothing.
        if header_items_wanted(t) {
            for f in block.decoded.fields.iter().filter(|f| in_this_frame(f)) {
                self.header_field(t, view, f);
            }
        } else if t.is_visible() {
            // Their expert notes still count (`-z expert`, the GUI's first pass).
            for f in block.decoded.fields.iter().filter(|f| in_this_frame(f)) {
                if f.is_unknown() {
                    t.add_expert(
                        self.pkt,
                        Ei::UnknownEntry,
                        view.base + f.off as usize,
                        f.len as usize,
                        UNKNOWN_ENTRY,
                    );
                }
            }
        }
        if !completing {
            return;
        }
        // Also without a tree: `tshark -q -z expert` counts it.
        if let Some(code) = block
            .value(b":status")
            .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u16>().ok())
            .filter(|&c| c >= 400)
        {
            t.add_expert(
                self.pkt,
                Ei::ErrorStatus,
                0,
                0,
                &format!("{code} {}", reason_phrase(code).unwrap_or("")),
            );
        }
        t.add_u32(Hf::BlockRole, 0, 0, block.role as u32)
            .generated();
        if let Some(uri) = full_uri(block) {
            t.add_string(Hf::FullUri, 0, 0, &uri).generated();
        }
        let count = block
            .decoded
            .fields
            .iter()
            .filter(|f| f.repr != Representation::SizeUpdate)
            .count();
        t.add_u32(Hf::HeaderCount, 0, 0, count as u32).generated();
        t.add_u32(Hf::TableSize, 0, 0, block.table_size).generated();
        t.add_u32(Hf::TableEntries, 0, 0, block.table_len)
            .generated();
        if let Some(e) = &block.decoded.error {
            view.tree.add_expert(
                self.pkt,
                Ei::Hpack,
                view.base + e.off,
                block.joined.as_ref().map_or(0, |j| j.len()).max(1),
                &format!("HPACK decoding error: {e}; the rest of the block is not decoded"),
            );
        }
        if let Some(s) = block.value(b"grpc-status")
            && let Ok(code) = std::str::from_utf8(s).unwrap_or("").parse::<u32>()
        {
            let it = t.add_u32(Hf::GrpcStatus, 0, 0, code).generated();
            if let Some(m) = block.value(b"grpc-message") {
                t.add_string(Hf::GrpcStatusMessage, 0, 0, &String::from_utf8_lossy(m))
                    .generated();
            }
            if code != 0 {
                it.expert(self.pkt, Ei::GrpcError, &format!("gRPC status {code}"));
            }
        }
    }

    fn header_field(&self, t: &Tree<'_>, view: &BlockView<'_>, f: &hpack::Field) {
        let (bt, base) = (&view.tree, view.base);
        // Where the index and literals lie is read again from the block's octets.
        let layout = f.layout(view.bytes);
        let off = base + f.off as usize;
        let len = f.len as usize;
        let repr = match f.repr {
            Representation::Indexed => 0,
            Representation::LiteralIncremental => 1,
            Representation::LiteralWithoutIndexing => 2,
            Representation::LiteralNeverIndexed => 3,
            Representation::SizeUpdate => 4,
        };
        if f.repr == Representation::SizeUpdate {
            let size = layout.new_size.unwrap_or(0);
            let it = bt.add_string(Hf::Header, off, len, "");
            let ht = it.subtree(Ett::Header);
            it.set_text(&format!("Dynamic Table Size Update: {size}"));
            ht.add_u32(Hf::HeaderRepr, off, 1, repr);
            ht.add_u32(Hf::HeaderTableSizeUpdate, off, len, size);
            return;
        }
        let name = f
            .name
            .as_deref()
            .map_or_else(|| "<unknown>".into(), String::from_utf8_lossy);
        let value = f
            .value
            .as_deref()
            .map_or_else(|| "<unknown>".into(), String::from_utf8_lossy);
        // The pair as one string value, so that a filter can match name and value together
        // when a block holds several headers. Its label is the field's own ("Header: name:
        // value"), made only when the tree is printed.
        let it = bt.add_string_joined(Hf::Header, off, len, &[&name, ": ", &value]);
        let ht = it.subtree(Ett::Header);
        // The index integer runs from the first octet up to the first literal.
        let index_len = layout
            .name_literal
            .or(layout.value_literal)
            .map_or(len, |l| (l.off - f.off) as usize);
        ht.add_u32(Hf::HeaderRepr, off, 1, repr);
        if let Some(i) = layout.index {
            let ix = ht.add_u32(Hf::HeaderIndex, off, index_len, i);
            ix.append_text(if layout.from_static {
                " (static table)"
            } else {
                " (dynamic table)"
            });
        }
        if let Some(l) = layout.name_literal {
            let l_off = base + l.off as usize;
            ht.add_bool(Hf::HeaderNameHuffman, l_off, 1, l.huffman);
            ht.add_u32(
                Hf::HeaderNameLength,
                l_off,
                usize::from(l.prefix_len),
                l.raw_len,
            );
        }
        let name_span = layout.name_literal.map_or((off, index_len), |l| {
            (base + l.data_off(), l.raw_len as usize)
        });
        ht.add_string(Hf::HeaderName, name_span.0, name_span.1, &name);
        if let Some(l) = layout.value_literal {
            let l_off = base + l.off as usize;
            ht.add_bool(Hf::HeaderValueHuffman, l_off, 1, l.huffman);
            ht.add_u32(
                Hf::HeaderValueLength,
                l_off,
                usize::from(l.prefix_len),
                l.raw_len,
            );
        }
        let value_span = layout
            .value_literal
            .map_or((off, len), |l| (base + l.data_off(), l.raw_len as usize));
        ht.add_string(Hf::HeaderValue, value_span.0, value_span.1, &value);
        if f.is_unknown() {
            it.expert(self.pkt, Ei::UnknownEntry, UNKNOWN_ENTRY);
        }
        // The common headers get fields of their own, for filters and columns.
        let named = match f.name.as_deref() {
            Some(b":method") => Some(Hf::Method),
            Some(b":path") => Some(Hf::Path),
            Some(b":authority") => Some(Hf::Authority),
            Some(b":scheme") => Some(Hf::Scheme),
            Some(b"content-type") => Some(Hf::ContentType),
            Some(b":status") => {
                if let Ok(code) = value.parse::<u32>() {
                    t.add_u32(Hf::Status, 0, 0, code).generated();
                }
                None
            }
            _ => None,
        };
        // The user's own header fields (h2.headers.<name>).
        if let Some(c) = f.name.as_deref().and_then(super::user_tables::custom_field) {
            if !c.numeric {
                t.add_string(c.field, 0, 0, &value).generated();
            } else if let Ok(n) = value.trim().parse::<u64>() {
                t.add_u64(c.field, 0, 0, n).generated();
            }
        }
        if let Some(field) = named {
            t.add_string(field, 0, 0, &value).generated();
        }
        // A common header's own field, under the header (over its value's octets).
        if let Some(field) = f
            .name
            .as_deref()
            .and_then(super::fields::named_header_field)
        {
            let (v_off, v_len) = value_span;
            if field == Hf::HdrContentLength {
                if let Ok(n) = value.trim().parse::<u64>() {
                    ht.add_u64(field, v_off, v_len, n);
                }
            } else {
                ht.add_string(field, v_off, v_len, &value);
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
            if let Some(p) = &s.path {
                t.add_string(Hf::Path, 0, 0, &String::from_utf8_lossy(p))
                    .generated()
                    .hidden();
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

    /// Shown also without a tree: the media_type sub-dissectors fill columns and taps.
    fn body(&self, t: &Tree<'_>, body: &Body, frame_data: &[u8]) {
        let limit = body_limit();
        let (decoded, err) = body.decoded(limit, frame_data);
        let name: &'static CStr = if body.encoding.is_some() {
            c"Decoded body"
        } else {
            c"Reassembled body"
        };
        let bt = t.with_data_source(self.pkt, decoded, name);
        let it = bt.add(Hf::Body, 0, decoded.len(), Enc::Na);
        let sub = it.subtree(Ett::Body);
        sub.add_u64(Hf::BodyLength, 0, 0, body.total_len)
            .generated();
        sub.add_u32(Hf::BodyFrames, 0, 0, body.frames).generated();
        if let Some(enc) = body.encoding {
            sub.add_string(Hf::BodyEncoding, 0, 0, enc.name())
                .generated();
            sub.add_u64(Hf::BodyDecodedLength, 0, 0, decoded.len() as u64)
                .generated();
        }
        if body.truncated() {
            it.expert(
                self.pkt,
                Ei::BodyTruncated,
                &format!(
                    "Body of {} bytes cut at the h2.body_max_size preference ({} bytes)",
                    body.total_len,
                    body.raw(frame_data).len()
                ),
            );
        }
        match err {
            Some(DecodeError::TooLarge { limit }) => it.expert(
                self.pkt,
                Ei::BodyTruncated,
                &format!("Decoded body cut at {limit} bytes (h2.body_max_size)"),
            ),
            Some(e @ DecodeError::Corrupt(_)) => it.expert(
                self.pkt,
                Ei::BodyDecode,
                &format!(
                    "{} decoding failed: {e}",
                    body.encoding.map_or("content", |e| e.name())
                ),
            ),
            None => {}
        }
        let Some(ct) = &body.content_type else { return };
        // gRPC streams are framed into messages as their DATA comes (`grpc_frame`); a body
        // kept whole (its content type was not known at its first DATA frame) is split
        // here. No application/grpc* body goes to media_type: Wireshark's grpc dissector
        // asserts when it is not called from its own http2.
        if body::is_grpc(ct) {
            self.grpc(&sub, &bt, decoded);
        } else if err.is_none() && !ct.starts_with(b"application/grpc") {
            bt.call_media_type(
                self.pkt,
                &body::media_type(ct),
                body::media_parameters(ct).as_deref(),
            );
        }
    }

    /// The gRPC messages that this DATA frame completes: our summary of each, and each as
    /// the built-in `grpc` shows it (with protobuf and the other message dissectors).
    fn grpc_frame(&self, t: &Tree<'_>, top: &Tree<'_>, data: Span, g: &GrpcFrame) {
        let parts = &g.parts;
        if parts.head.is_some() {
            self.pkt
                .append_info_raw(" [HTTP2 segment of a reassembled PDU]");
        }
        let builtin = compat::grpc::builtin();
        let under = match builtin {
            Some(b) if !b.embedded() => *top,
            _ => *t,
        };
        if g.context.is_web_text() {
            self.grpc_web_text(t, under, g);
        } else {
            self.grpc_binary(t, under, data, g);
        }
        if let Some(missing) = parts.missing_at_end {
            t.add_expert(
                self.pkt,
                Ei::GrpcTruncated,
                data.off,
                data.len,
                &format!(
                    "The stream ended inside a gRPC message: {missing} more bytes were announced"
                ),
            );
        }
    }

    /// gRPC-Web text: the base64 text this frame completes, decoded, and its messages.
    fn grpc_web_text(&self, t: &Tree<'_>, under: Tree<'_>, g: &GrpcFrame) {
        for text in &g.decoded {
            let dt = t.with_data_source(self.pkt, &text.data, c"Decoded base64 body");
            for &(off, len) in &text.messages {
                let (off, len) = (off as usize, len as usize);
                let bytes = text.data.get(off..off + len).unwrap_or(&[]);
                self.grpc_message(&dt, under, off, bytes, None, g);
            }
        }
    }

    /// Binary gRPC: the messages that end in this frame, in it or reassembled.
    fn grpc_binary(&self, t: &Tree<'_>, under: Tree<'_>, data: Span, g: &GrpcFrame) {
        let frame = self.pkt.frame();
        for m in g.parts.completed() {
            let (view, off, bytes, began, frames): (Tree<'_>, usize, &[u8], u32, u32) = match m {
                Completed::InFrame { off, len } => {
                    let off = data.off + off as usize;
                    let len = len as usize;
                    (
                        *t,
                        off,
                        self.bytes.get(off..off + len).unwrap_or(&[]),
                        frame,
                        1,
                    )
                }
                Completed::Reassembled(tail) => {
                    let Some(msg) = &tail.message else {
                        // Larger than the body limit: framed, not kept.
                        t.add_expert(
                            self.pkt,
                            Ei::BodyTruncated,
                            data.off,
                            tail.len as usize,
                            "gRPC message larger than h2.body_max_size: not reassembled",
                        );
                        continue;
                    };
                    let began = tail.fragments.first().map_or(frame, |f| f.0);
                    let dt = t.with_data_source(self.pkt, msg, c"Reassembled gRPC message");
                    (dt, 0, &msg[..], began, tail.fragments.len() as u32)
                }
            };
            let over = (frames > 1).then_some((frames, began));
            self.grpc_message(&view, under, off, bytes, over, g);
        }
    }

    /// One message (prefix included) at `off` of `view`'s data: our summary, then the
    /// built-in grpc's view of it (under `under`). `over` is (frames, first frame) for a
    /// message reassembled from several DATA frames.
    fn grpc_message(
        &self,
        view: &Tree<'_>,
        under: Tree<'_>,
        off: usize,
        bytes: &[u8],
        over: Option<(u32, u32)>,
        g: &GrpcFrame,
    ) {
        let Some(prefix) = bytes.get(..grpc::PREFIX_LEN) else {
            return;
        };
        let compressed = prefix[0] & 1 != 0;
        let length = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]);
        let it = view.add(Hf::GrpcMessage, off, bytes.len(), Enc::Na);
        it.set_text(&format!(
            "gRPC message: {length} bytes{}{}",
            if compressed { ", compressed" } else { "" },
            match over {
                Some((frames, _)) => format!(", over {frames} DATA frames"),
                None => String::new(),
            }
        ));
        let mt = it.subtree(Ett::Grpc);
        mt.add_bool(Hf::GrpcCompressed, off, 1, compressed);
        mt.add_u32(Hf::GrpcLength, off + 1, 4, length);
        if let Some((frames, began)) = over {
            mt.add_u32(Hf::GrpcFrames, 0, 0, frames).generated();
            mt.add_u32(Hf::GrpcBeganIn, 0, 0, began).generated();
        }
        match compat::grpc::builtin() {
            Some(b) => b.message(self.pkt, &under.with_bytes_of(view), off, bytes, &g.context),
            None => {
                if bytes.len() > grpc::PREFIX_LEN {
                    mt.add(
                        Hf::GrpcData,
                        off + grpc::PREFIX_LEN,
                        bytes.len() - grpc::PREFIX_LEN,
                        Enc::Na,
                    );
                }
            }
        }
    }

    fn grpc(&self, t: &Tree<'_>, bt: &Tree<'_>, data: &[u8]) {
        let (messages, partial) = body::grpc_messages(data);
        for m in messages {
            let it = bt.add(Hf::GrpcMessage, m.off, 5 + m.present, Enc::Na);
            it.set_text(&format!(
                "gRPC message: {} bytes{}",
                m.length,
                if m.compressed { ", compressed" } else { "" }
            ));
            let mt = it.subtree(Ett::Grpc);
            mt.add_bool(Hf::GrpcCompressed, m.off, 1, m.compressed);
            mt.add_u32(Hf::GrpcLength, m.off + 1, 4, m.length);
            if m.present > 0 {
                mt.add(Hf::GrpcData, m.off + 5, m.present, Enc::Na);
            }
        }
        if let Some(off) = partial {
            t.add_expert(
                self.pkt,
                Ei::Malformed,
                off,
                0,
                "Truncated gRPC message prefix",
            );
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

/// A request block's URI as the built-in http2 builds it: `scheme://authority path`, the
/// authority alone for CONNECT; none without an authority (or a path, but for CONNECT).
fn full_uri(block: &DecodedBlock) -> Option<String> {
    let text = |name: &[u8]| block.value(name).map(String::from_utf8_lossy);
    let authority = text(b":authority")?;
    if block.value(b":method") == Some(b"CONNECT") {
        return Some(authority.into_owned());
    }
    let path = text(b":path")?;
    let scheme = text(b":scheme").unwrap_or("(null)".into());
    Some(format!("{scheme}://{authority}{path}"))
}

const UNKNOWN_ENTRY: &str =
    "Dynamic table entry added before the capture began: name or value unknown";

/// The fields `View::header_field` adds for each header.
const HEADER_ITEM_FIELDS: &[Hf] = &[
    Hf::Header,
    Hf::HeaderRepr,
    Hf::HeaderIndex,
    Hf::HeaderNameHuffman,
    Hf::HeaderNameLength,
    Hf::HeaderName,
    Hf::HeaderValueHuffman,
    Hf::HeaderValueLength,
    Hf::HeaderValue,
    Hf::HeaderTableSizeUpdate,
    Hf::Method,
    Hf::Path,
    Hf::Authority,
    Hf::Scheme,
    Hf::ContentType,
    Hf::Status,
];

/// Whether anything can read the per-header items of this packet (see `header_block`).
fn header_items_wanted(t: &Tree<'_>) -> bool {
    t.is_visible()
        && (t.is_shown()
            || HEADER_ITEM_FIELDS.iter().any(|&f| t.is_primed(f))
            || super::fields::NAMED_HEADERS
                .iter()
                .any(|&(_, f)| t.is_primed(f))
            || super::user_tables::custom_field_primed(t))
}
