//! From bytes to the tree: frames PDUs for `tcp_dissect_pdus`, asks the session what each
//! PDU is, parses it, and adds items at the offsets the parser reports. No byte parsing
//! happens here beyond what `parse` returns.

use std::fmt::Write as _;

use super::fields::{Ei, Ett, Hf};
use super::parse::{self, ReplyBody, RequestBody, Stat};
use super::session::{Framing, PduKind, RequestLink, Session};
use super::stats::{self, Event};
use super::{REGISTRATION, error_name, opcode, xid};
use crate::common::{At, Direction, PduKey};
use crate::epan::{Enc, FramedDissector, Item, Packet, PduLen, Protocol, Tree};
use crate::jute::{self, Acl, Counted};

/// Operations (or results) of one multi shown in the tree; the rest are summarised.
const MAX_MULTI_SHOWN: usize = 1_000;

/// The ZooKeeper client protocol as a framed TCP dissector.
pub struct ZooKeeper;

fn proto() -> Protocol {
    REGISTRATION.proto()
}

fn max_pdu() -> u32 {
    REGISTRATION
        .get()
        .map_or(super::DEFAULT_MAX_PDU, |r| r.settings.max_pdu.get())
}

impl FramedDissector for ZooKeeper {
    /// One byte: the length prefix (4 bytes) is asked for in `pdu_len`, so that the last
    /// 1 to 3 bytes of a four-letter word's plain-text reply, alone in a segment, are shown
    /// rather than left waiting for a length prefix that never comes.
    const HEADER_LEN: u32 = 1;

    fn protocol() -> Protocol {
        proto()
    }

    fn pdu_len(pkt: &Packet<'_>, bytes: &[u8]) -> PduLen {
        let Some(mut session) = pkt.conversation::<Session>(proto()) else {
            return PduLen::RestOfSegment;
        };
        let dir = session.direction(pkt.src_port(), pkt.dst_port(), pkt.match_uint());
        if bytes.len() < 4 {
            // Plain text after a four-letter word is taken as it comes; anything else needs
            // its 4-byte length prefix first.
            return if session.is_four_letter(pkt.frame()) {
                PduLen::RestOfSegment
            } else {
                PduLen::NeedMore
            };
        }
        match session.framing_at(dir, pkt.frame(), bytes, max_pdu(), !pkt.visited(), || {
            pkt.stream_start()
        }) {
            Framing::Pdu(n) | Framing::FourLetter(n) | Framing::Skip(n) => PduLen::Exactly(n),
            Framing::Rest => PduLen::RestOfSegment,
        }
    }

    fn dissect_pdu(pkt: &Packet<'_>, tree: Tree<'_>, bytes: &[u8]) {
        pkt.set_protocol_column(c"ZooKeeper");
        let key = PduKey {
            frame: pkt.frame(),
            index: pkt.next_pdu_index(proto()),
        };
        if key.index == 0 {
            pkt.clear_info();
        }
        let Some(mut session) = pkt.conversation::<Session>(proto()) else {
            return;
        };
        let dir = session.direction(pkt.src_port(), pkt.dst_port(), pkt.match_uint());
        let (item, t) = tree.add_protocol(Hf::Proto, 0, bytes.len(), Ett::Pdu);
        t.add_bool(Hf::Response, 0, 0, dir == Direction::ToClient)
            .generated();

        if session.facts_unavailable_note(dir, key, !pkt.visited()) {
            item.expert(
                pkt,
                Ei::TcpFactsUnavailable,
                "TCP's sequence facts could not be read for this side: where its stream starts was judged by the bytes",
            );
        }
        if session.is_four_letter(key.frame) {
            drop(session);
            four_letter(pkt, &t, item, dir, bytes);
            return;
        }
        if key.index == 0 && session.is_continuation(key.frame, bytes.len()) {
            drop(session);
            let it = t.add(Hf::Continuation, 0, bytes.len(), Enc::Na);
            it.expert(
                pkt,
                Ei::Continuation,
                &format!(
                    "Continuation of a PDU sent before the capture started: {} bytes skipped up to the next PDU start",
                    bytes.len()
                ),
            );
            item.append_text(", continuation of a PDU before the capture");
            pkt.append_info("continuation of a PDU before the capture");
            return;
        }
        let declared = bytes
            .get(..4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        let len_item = t.add(Hf::Len, 0, 4, Enc::BigEndian);
        if declared.is_none_or(|n| n < 0 || n as u32 > max_pdu() || n as usize + 4 != bytes.len()) {
            drop(session);
            bogus_length(pkt, &t, len_item, declared, bytes);
            return;
        }
        let kind = if pkt.visited() {
            match session.decision(key) {
                Some(k) => k.clone(),
                // Not decided on the first pass (should not happen): decide without history.
                None => Session::default().classify(key, dir, pkt.time(), bytes),
            }
        } else {
            session.classify(key, dir, pkt.time(), bytes)
        };
        let session_id = session.session_id;
        let opaque = session.is_opaque()
            && !matches!(
                kind,
                PduKind::ConnectRequest { .. } | PduKind::ConnectResponse { .. }
            );
        drop(session);

        if let Some(sid) = session_id {
            t.add_u64(Hf::SessionId, 0, 0, sid).generated();
        }
        let mut info = String::new();
        match &kind {
            PduKind::ConnectRequest { response } => {
                if let Some((frame, _)) = response {
                    t.add_u32(Hf::ResponseIn, 0, 0, *frame).generated();
                }
                connect_request(pkt, &t, bytes, &mut info)
            }
            PduKind::ConnectResponse { request } => {
                if let Some((frame, time)) = request {
                    t.add_u32(Hf::RequestIn, 0, 0, *frame).generated();
                    t.add_duration(Hf::Time, 0, 0, pkt.time() - time)
                        .generated();
                }
                connect_response(pkt, &t, bytes, &mut info)
            }
            PduKind::Request {
                opcode,
                response,
                tracked,
                watch,
            } => {
                request(
                    pkt, &t, bytes, *opcode, *response, *tracked, opaque, &mut info,
                );
                for f in &watch.fired_in {
                    t.add_u32(Hf::WatchFiredIn, 0, 0, *f).generated();
                }
                if watch.links_truncated {
                    t.add_expert(
                        pkt,
                        Ei::WatchTableFull,
                        0,
                        0,
                        &format!(
                            "This watch fired more than {} times: only the first are linked",
                            super::session::MAX_WATCH_LINKS
                        ),
                    );
                }
                if watch.untracked {
                    t.add_expert(
                        pkt,
                        Ei::WatchTableFull,
                        0,
                        0,
                        &format!("More than {} watches on this connection: the watch this request sets is not tracked", super::session::MAX_WATCHES),
                    );
                }
            }
            PduKind::Reply { request } => {
                reply(pkt, &t, bytes, request.as_ref(), opaque, &mut info)
            }
            PduKind::Notification { set_in } => {
                notification(pkt, &t, bytes, &mut info);
                for f in set_in.iter().take(super::session::MAX_WATCH_LINKS) {
                    t.add_u32(Hf::WatchSetIn, 0, 0, *f).generated();
                }
                if set_in.len() > super::session::MAX_WATCH_LINKS {
                    t.add_expert(
                        pkt,
                        Ei::WatchTableFull,
                        0,
                        0,
                        &format!(
                            "More than {} requests set watches this notification fired: only the first are linked",
                            super::session::MAX_WATCH_LINKS
                        ),
                    );
                }
            }
            PduKind::FourLetterCommand
            | PduKind::FourLetterReply
            | PduKind::Opaque
            | PduKind::Continuation => {
                undecoded(&t, 4, bytes.len());
            }
        }
        item.append_text(&format!(", {info}"));
        pkt.append_info(&info);
        if let Some(event) = tap_event(&kind, bytes) {
            stats::queue(pkt, event, session_id);
        }
    }

    fn heuristic(pkt: &Packet<'_>, bytes: &[u8]) -> bool {
        let Some(body) = pdu_body(bytes) else {
            return false;
        };
        let server_port = if parse::looks_like_connect_request(body) {
            pkt.dst_port()
        } else if parse::looks_like_connect_response(body) {
            pkt.src_port()
        } else {
            return false;
        };
        match pkt.conversation::<Session>(proto()) {
            Some(mut session) => {
                session.set_server_port(server_port);
                true
            }
            None => false,
        }
    }
}

/// What a PDU contributes to the statistics.
fn tap_event(kind: &PduKind, bytes: &[u8]) -> Option<Event> {
    let be32 = |o: usize| {
        bytes
            .get(o..o + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    Some(match kind {
        PduKind::Request { opcode, .. } if *opcode != i32::MIN => {
            Event::Request { opcode: *opcode }
        }
        PduKind::Reply { request } => Event::Reply {
            request: request.as_ref().map(|l| (l.opcode, l.time)),
            err: be32(16)?,
        },
        PduKind::Notification { .. } => Event::Notification,
        _ => return None,
    })
}

/// The body of a PDU that is exactly `bytes` long, if the length prefix says so.
fn pdu_body(bytes: &[u8]) -> Option<&[u8]> {
    let n = i32::from_be_bytes(bytes.get(..4)?.try_into().ok()?);
    (n >= 0 && n as usize + 4 == bytes.len()).then(|| &bytes[4..])
}

fn undecoded(t: &Tree<'_>, off: usize, end: usize) {
    if end > off {
        t.add(Hf::Undecoded, off, end - off, Enc::Na);
    }
}

fn lossy(b: Option<&[u8]>) -> String {
    match b {
        Some(b) => String::from_utf8_lossy(b).into_owned(),
        None => "(null)".to_string(),
    }
}

fn op_name(op: i32) -> String {
    opcode::name(op).map_or_else(|| format!("opcode {op}"), str::to_string)
}

fn err_name(err: i32) -> String {
    error_name(err).map_or_else(|| format!("error {err}"), str::to_string)
}

fn four_letter(pkt: &Packet<'_>, t: &Tree<'_>, item: Item<'_>, dir: Direction, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    match dir {
        Direction::ToServer => {
            let word = text.get(..4).unwrap_or(&text).to_string();
            t.add(Hf::FourLetterCommand, 0, bytes.len().min(4), Enc::Utf8);
            if word == "stmk" && bytes.len() >= 12 {
                t.add(Hf::FourLetterTraceMask, 4, 8, Enc::BigEndian);
                undecoded(t, 12, bytes.len());
            } else if bytes.len() > 4 && !bytes[4..].iter().all(|b| b.is_ascii_whitespace()) {
                undecoded(t, 4, bytes.len());
            }
            item.expert(
                pkt,
                Ei::FourLetterWord,
                &format!("Four-letter word: {word}"),
            );
            item.append_text(&format!(", four-letter word {word}"));
            pkt.append_info(&format!("four-letter word {word}"));
        }
        Direction::ToClient => {
            t.add(Hf::FourLetterResponse, 0, bytes.len(), Enc::Utf8);
            let first_line = text
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(60)
                .collect::<String>();
            item.append_text(", four-letter word response");
            pkt.append_info(&format!("four-letter word response: {first_line}"));
        }
    }
}

fn bogus_length(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    len_item: Item<'_>,
    declared: Option<i32>,
    bytes: &[u8],
) {
    let why = match declared {
        None => "fewer than 4 bytes: no length prefix".to_string(),
        Some(n) if n < 0 => format!("negative length {n}"),
        Some(n) if n as u32 > max_pdu() => format!(
            "length {n} exceeds the maximum PDU size preference ({})",
            max_pdu()
        ),
        Some(n) => format!(
            "length {n} does not match the {} bytes available",
            bytes.len().saturating_sub(4)
        ),
    };
    len_item.expert(
        pkt,
        Ei::BogusLength,
        &format!("Bogus length prefix: {why}; bytes not decoded"),
    );
    undecoded(t, 4.min(bytes.len()), bytes.len());
    pkt.append_info("bogus length, undecoded");
}

fn counted(t: &Tree<'_>, hf: Hf, c: &Counted<'_>, label: &str, utf8: bool) {
    match c.val {
        Some(_) => {
            t.add_counted(hf, c.off, c.len, utf8);
        }
        None => {
            let nul = if utf8 { Hf::StringNull } else { Hf::DataNull };
            t.add(nul, c.off, c.len, Enc::Na)
                .set_text(&format!("{label}: null (length -1)"));
        }
    }
}

fn string(t: &Tree<'_>, hf: Hf, c: &Counted<'_>, label: &str) {
    counted(t, hf, c, label, true);
}

fn bytes_field(t: &Tree<'_>, hf: Hf, c: &Counted<'_>, label: &str) {
    counted(t, hf, c, label, false);
}

/// A SASL token, and its text when it is printable: DIGEST-MD5, the mechanism ZooKeeper
/// ships with, exchanges `realm="...",nonce="..."` challenges and responses, which are
/// what one reads when an authentication fails. (GSSAPI tokens are binary.)
fn sasl_token(t: &Tree<'_>, token: &Counted<'_>) {
    bytes_field(t, Hf::SaslToken, token, "SASL token");
    if let Some(v) = token.val
        && !v.is_empty()
        && v.iter().all(|&b| b == b' ' || b.is_ascii_graphic())
    {
        t.add_string(
            Hf::SaslTokenText,
            token.off + 4,
            v.len(),
            &String::from_utf8_lossy(v),
        );
    }
}

fn malformed(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    e: nom::Err<nom::error::Error<jute::Input<'_>>>,
    end: usize,
    info: &mut String,
) {
    let f = jute::failure(e);
    t.add_expert(
        pkt,
        Ei::Malformed,
        f.off,
        end.saturating_sub(f.off),
        &format!("Malformed record at offset {}: {}", f.off, f.describe()),
    );
    info.push_str(" [malformed]");
}

fn trailing(pkt: &Packet<'_>, t: &Tree<'_>, off: usize, end: usize) {
    if end > off {
        t.add(Hf::Undecoded, off, end - off, Enc::Na).expert(
            pkt,
            Ei::TrailingData,
            &format!("{} bytes after the record", end - off),
        );
    }
}

fn connect_request(pkt: &Packet<'_>, t: &Tree<'_>, bytes: &[u8], info: &mut String) {
    info.push_str("connect");
    let i = jute::input(bytes);
    let Ok((i, _)) = jute::int(i) else { return };
    match parse::connect_request(i) {
        Ok((rest, c)) => {
            let v = t.add(
                Hf::ConnectProtocolVersion,
                c.protocol_version.off,
                4,
                Enc::BigEndian,
            );
            if c.protocol_version.val != 0 {
                v.expert(pkt, Ei::UnsupportedVersion, &format!("Protocol version {}: request and reply bodies on this connection are not decoded", c.protocol_version.val));
            } else if !parse::is_connect_request_len(bytes.len() - 4) {
                v.expert(
                    pkt,
                    Ei::ConnectOddLength,
                    &format!(
                        "ConnectRequest of {} bytes: clients send 28, 29, 44 or 45",
                        bytes.len() - 4
                    ),
                );
            }
            t.add(
                Hf::ConnectLastZxidSeen,
                c.last_zxid_seen.off,
                8,
                Enc::BigEndian,
            );
            t.add(Hf::ConnectTimeout, c.timeout.off, 4, Enc::BigEndian);
            t.add(Hf::ConnectSessionId, c.session_id.off, 8, Enc::BigEndian);
            bytes_field(t, Hf::ConnectPasswd, &c.passwd, "Password");
            if let Some(ro) = c.read_only {
                t.add(Hf::ConnectReadOnly, ro.off, 1, Enc::Na);
            }
            if c.session_id.val != 0 {
                let _ = write!(info, " session 0x{:x} (reconnect)", c.session_id.val);
            }
            let _ = write!(info, " timeout {}ms", c.timeout.val);
            if c.protocol_version.val == 0 {
                trailing(pkt, t, rest.location_offset(), bytes.len());
            } else {
                undecoded(t, rest.location_offset(), bytes.len());
            }
        }
        Err(e) => malformed(pkt, t, e, bytes.len(), info),
    }
}

fn connect_response(pkt: &Packet<'_>, t: &Tree<'_>, bytes: &[u8], info: &mut String) {
    info.push_str("connect reply");
    let i = jute::input(bytes);
    let Ok((i, _)) = jute::int(i) else { return };
    match parse::connect_response(i) {
        Ok((rest, c)) => {
            t.add(
                Hf::ConnectProtocolVersion,
                c.protocol_version.off,
                4,
                Enc::BigEndian,
            );
            let timeout = t.add(Hf::ConnectTimeout, c.timeout.off, 4, Enc::BigEndian);
            if !parse::is_connect_response_len(bytes.len() - 4) {
                t.add_expert(
                    pkt,
                    Ei::ConnectOddLength,
                    c.protocol_version.off,
                    4,
                    &format!(
                        "ConnectResponse of {} bytes: servers send 36 or 37",
                        bytes.len() - 4
                    ),
                );
            }
            t.add(Hf::ConnectSessionId, c.session_id.off, 8, Enc::BigEndian);
            bytes_field(t, Hf::ConnectPasswd, &c.passwd, "Password");
            if let Some(ro) = c.read_only {
                t.add(Hf::ConnectReadOnly, ro.off, 1, Enc::Na);
            }
            if c.timeout.val == 0 {
                timeout.expert(pkt, Ei::RejectedSession, "Session rejected: the server answered with timeout 0 (expired session or bad password) and closes the connection");
                info.push_str(" REJECTED (session expired)");
            } else {
                let _ = write!(
                    info,
                    " session 0x{:x} timeout {}ms",
                    c.session_id.val, c.timeout.val
                );
            }
            trailing(pkt, t, rest.location_offset(), bytes.len());
        }
        Err(e) => malformed(pkt, t, e, bytes.len(), info),
    }
}

#[allow(clippy::too_many_arguments)]
fn request(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    bytes: &[u8],
    op: i32,
    response: Option<(u32, i64)>,
    tracked: bool,
    opaque: bool,
    info: &mut String,
) {
    let i = jute::input(bytes);
    let Ok((i, _)) = jute::int(i) else { return };
    let (i, h) = match parse::request_header(i) {
        Ok(r) => r,
        Err(e) => return malformed(pkt, t, e, bytes.len(), info),
    };
    t.add(Hf::Xid, h.xid.off, 4, Enc::BigEndian);
    let op_item = t.add(Hf::Opcode, h.opcode.off, 4, Enc::BigEndian);
    info.push_str(&op_name(op));
    if let Some((frame, _)) = response {
        t.add_u32(Hf::ResponseIn, 0, 0, frame).generated();
    }
    if !tracked {
        op_item.expert(
            pkt,
            Ei::TableFull,
            "Too many outstanding requests on this connection: this one is not paired",
        );
    }
    if opaque {
        undecoded(t, i.location_offset(), bytes.len());
        return;
    }
    match parse::request_body(op, i) {
        None => {
            op_item.expert(
                pkt,
                Ei::UnknownOpcode,
                &format!("Unknown opcode {op}: body not decoded"),
            );
            undecoded(t, i.location_offset(), bytes.len());
        }
        Some(Err(e)) => malformed(pkt, t, e, bytes.len(), info),
        Some(Ok((rest, body))) => {
            request_body(t, &body, info);
            trailing(pkt, t, rest.location_offset(), bytes.len());
        }
    }
}

fn request_body(t: &Tree<'_>, body: &RequestBody<'_>, info: &mut String) {
    let path_info = |info: &mut String, p: &Counted<'_>| {
        let _ = write!(info, " {}", lossy(p.val));
    };
    match body {
        RequestBody::Empty => {}
        RequestBody::Path { path } => {
            string(t, Hf::Path, path, "Path");
            path_info(info, path);
        }
        RequestBody::PathWatch { path, watch } => {
            string(t, Hf::Path, path, "Path");
            t.add(Hf::Watch, watch.off, 1, Enc::Na);
            path_info(info, path);
            if watch.val {
                info.push_str(" watch");
            }
        }
        RequestBody::Create {
            path,
            data,
            acl,
            flags,
            ttl,
        } => {
            string(t, Hf::Path, path, "Path");
            bytes_field(t, Hf::Data, data, "Data");
            acl_list(t, acl);
            t.add(Hf::Flags, flags.off, 4, Enc::BigEndian);
            if let Some(ttl) = ttl {
                t.add(Hf::Ttl, ttl.off, 8, Enc::BigEndian);
            }
            path_info(info, path);
        }
        RequestBody::PathVersion { path, version } => {
            string(t, Hf::Path, path, "Path");
            t.add(Hf::Version, version.off, 4, Enc::BigEndian);
            path_info(info, path);
        }
        RequestBody::SetData {
            path,
            data,
            version,
        } => {
            string(t, Hf::Path, path, "Path");
            bytes_field(t, Hf::Data, data, "Data");
            t.add(Hf::Version, version.off, 4, Enc::BigEndian);
            path_info(info, path);
        }
        RequestBody::SetAcl { path, acl, version } => {
            string(t, Hf::Path, path, "Path");
            acl_list(t, acl);
            t.add(Hf::Version, version.off, 4, Enc::BigEndian);
            path_info(info, path);
        }
        RequestBody::PathType { path, kind } => {
            string(t, Hf::Path, path, "Path");
            let hf = if info.starts_with("addWatch") {
                Hf::AddWatchMode
            } else {
                Hf::WatcherType
            };
            t.add(hf, kind.off, 4, Enc::BigEndian);
            path_info(info, path);
        }
        RequestBody::Auth {
            auth_type,
            scheme,
            auth,
        } => {
            t.add(Hf::AuthType, auth_type.off, 4, Enc::BigEndian);
            string(t, Hf::AuthScheme, scheme, "Scheme");
            bytes_field(t, Hf::AuthData, auth, "Credentials");
            let _ = write!(info, " {}", lossy(scheme.val));
        }
        RequestBody::SetWatches {
            relative_zxid,
            lists,
        } => {
            t.add(
                Hf::SetWatchesRelativeZxid,
                relative_zxid.off,
                8,
                Enc::BigEndian,
            );
            const NAMES: [&str; 5] = [
                "Data watches",
                "Exist watches",
                "Child watches",
                "Persistent watches",
                "Persistent recursive watches",
            ];
            for (list, name) in lists.iter().zip(NAMES) {
                let label = if t.is_visible() {
                    format!("{name}: {}", list.val.len())
                } else {
                    String::new()
                };
                let (_, sub) = t.add_group(
                    Hf::SetWatchesList,
                    list.off,
                    list.len,
                    Ett::WatchList,
                    &label,
                );
                for p in &list.val {
                    string(&sub, Hf::SetWatchesPath, p, "Watched path");
                }
            }
            let n: usize = lists.iter().map(|l| l.val.len()).sum();
            let _ = write!(info, " ({n} paths)");
        }
        RequestBody::Sasl { token } => sasl_token(t, token),
        RequestBody::Reconfig {
            joining,
            leaving,
            new_members,
            config_id,
        } => {
            string(t, Hf::ReconfigJoining, joining, "Joining servers");
            string(t, Hf::ReconfigLeaving, leaving, "Leaving servers");
            string(t, Hf::ReconfigNewMembers, new_members, "New members");
            t.add(Hf::ReconfigConfigId, config_id.off, 8, Enc::BigEndian);
        }
        RequestBody::Multi { ops, end } => {
            // Every operation is parsed (pairing needs none of them), but the tree shows at
            // most MAX_MULTI_SHOWN: 100,000 operations would be half a million items.
            for op in ops.iter().take(MAX_MULTI_SHOWN) {
                let start = op.header.off;
                let label = if t.is_visible() {
                    format!("Operation: {}", op_name(op.header.val.op.val))
                } else {
                    String::new()
                };
                let (item, sub) = t.add_group(Hf::MultiOp, start, 0, Ett::Multi, &label);
                multi_header(&sub, &op.header);
                let mut op_info = String::new();
                request_body(&sub, &op.body, &mut op_info);
                item.append_text(&op_info);
                item.set_len(multi_op_len(
                    &op.header,
                    &sub_end(&op.body).unwrap_or(op.header.end()),
                ));
            }
            if let (Some(first), Some(last)) = (ops.get(MAX_MULTI_SHOWN), ops.last()) {
                t.add_group(
                    Hf::MultiOp,
                    first.header.off,
                    sub_end(&last.body)
                        .unwrap_or(last.header.end())
                        .saturating_sub(first.header.off),
                    Ett::Multi,
                    &format!(
                        "{} more operations not shown (display limit {MAX_MULTI_SHOWN})",
                        ops.len() - MAX_MULTI_SHOWN
                    ),
                );
            }
            if let Some(end) = end {
                let (_, sub) = t.add_group(
                    Hf::MultiOp,
                    end.off,
                    end.len,
                    Ett::Multi,
                    "End of operations",
                );
                multi_header(&sub, end);
            }
            let _ = write!(info, " ({} ops)", ops.len());
        }
    }
}

fn multi_op_len(header: &At<parse::MultiHeader>, end: &usize) -> usize {
    end.saturating_sub(header.off)
}

/// The end offset of a request body, for sizing its multi item.
fn sub_end(body: &RequestBody<'_>) -> Option<usize> {
    Some(match body {
        RequestBody::Empty | RequestBody::Multi { .. } => return None,
        RequestBody::Path { path } => path.end(),
        RequestBody::PathWatch { watch, .. } => watch.end(),
        RequestBody::Create { flags, ttl, .. } => ttl.map_or(flags.end(), |t| t.end()),
        RequestBody::PathVersion { version, .. }
        | RequestBody::SetData { version, .. }
        | RequestBody::SetAcl { version, .. } => version.end(),
        RequestBody::PathType { kind, .. } => kind.end(),
        RequestBody::Auth { auth, .. } => auth.end(),
        RequestBody::SetWatches {
            lists,
            relative_zxid,
        } => lists.last().map_or(relative_zxid.end(), |l| l.end()),
        RequestBody::Sasl { token } => token.end(),
        RequestBody::Reconfig { config_id, .. } => config_id.end(),
    })
}

fn multi_header(t: &Tree<'_>, h: &At<parse::MultiHeader>) {
    t.add(Hf::MultiType, h.val.op.off, 4, Enc::BigEndian);
    t.add(Hf::MultiDone, h.val.done.off, 1, Enc::Na);
    t.add(Hf::MultiErr, h.val.err.off, 4, Enc::BigEndian);
}

fn reply(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    bytes: &[u8],
    link: Option<&RequestLink>,
    opaque: bool,
    info: &mut String,
) {
    let i = jute::input(bytes);
    let Ok((i, _)) = jute::int(i) else { return };
    let (i, h) = match parse::reply_header(i) {
        Ok(r) => r,
        Err(e) => return malformed(pkt, t, e, bytes.len(), info),
    };
    t.add(Hf::Xid, h.xid.off, 4, Enc::BigEndian);
    t.add(Hf::Zxid, h.zxid.off, 8, Enc::BigEndian);
    let err_item = t.add(Hf::Err, h.err.off, 4, Enc::BigEndian);
    let err = h.err.val;

    let op = match link {
        Some(l) => {
            t.add_u32(Hf::RequestIn, 0, 0, l.frame).generated();
            t.add_duration(Hf::Time, 0, 0, pkt.time() - l.time)
                .generated();
            t.add_i32(Hf::Opcode, 0, 0, l.opcode).generated();
            if let Some(p) = &l.path {
                t.add_string(Hf::Path, 0, 0, p).generated();
            }
            Some(l.opcode)
        }
        None => {
            // Control xids say what they answer even without the request.
            let op = match h.xid.val {
                xid::PING => Some(opcode::PING),
                xid::AUTH => Some(opcode::AUTH),
                xid::SET_WATCHES => Some(opcode::SET_WATCHES),
                _ => None,
            };
            t.add(Hf::RequestNotCaptured, 0, 0, Enc::Na)
                .generated()
                .expert(
                    pkt,
                    Ei::UnpairedReply,
                    &format!("Reply to xid {} whose request was not captured", h.xid.val),
                );
            op
        }
    };
    match op {
        Some(op) => {
            let _ = write!(info, "{} reply", op_name(op));
        }
        None => {
            let _ = write!(info, "reply xid {} (request not captured)", h.xid.val);
        }
    }
    if err != 0 {
        let _ = write!(info, " {}", err_name(err));
        err_item.expert(
            pkt,
            Ei::ErrorReply,
            &format!("Error reply: {} ({err})", err_name(err)),
        );
    }
    if let Some(p) = link.and_then(|l| l.path.as_deref()) {
        let _ = write!(info, " {p}");
    }
    let body_off = i.location_offset();
    if err != 0 || opaque {
        // A failed SASL step is the exception: the server still sends its SetSASLResponse,
        // with a null token (ZooKeeperServer.processSasl; protocol doc §3.10).
        if !opaque
            && op == Some(opcode::SASL)
            && let Some(Ok((rest, body))) = parse::reply_body(opcode::SASL, i)
            && rest.is_empty()
        {
            reply_body(pkt, t, &body, info);
            return;
        }
        // Other replies with an error carry no record (the Java client reads none);
        // anything after the header is left undecoded, without an expert item (protocol
        // doc §3.10).
        undecoded(t, body_off, bytes.len());
        return;
    }
    let Some(op) = op else {
        // No request: decode the body if exactly one record shape fits it.
        match parse::guess_reply_body(i) {
            Some((shape, body)) => {
                t.add_string(Hf::GuessedBody, 0, 0, shape).generated();
                reply_body(pkt, t, &body, info);
            }
            None => undecoded(t, body_off, bytes.len()),
        }
        return;
    };
    match parse::reply_body(op, i) {
        None => {
            t.add_expert(
                pkt,
                Ei::UnknownOpcodeReply,
                body_off,
                bytes.len().saturating_sub(body_off),
                &format!("Reply to unknown opcode {op}: body not decoded"),
            );
            undecoded(t, body_off, bytes.len());
        }
        Some(Err(e)) => malformed(pkt, t, e, bytes.len(), info),
        Some(Ok((rest, body))) => {
            reply_body(pkt, t, &body, info);
            trailing(pkt, t, rest.location_offset(), bytes.len());
        }
    }
}

fn reply_body(pkt: &Packet<'_>, t: &Tree<'_>, body: &ReplyBody<'_>, info: &mut String) {
    match body {
        ReplyBody::Empty => {}
        ReplyBody::Path { path } => string(t, Hf::Path, path, "Path"),
        ReplyBody::PathStat { path, stat: s } => {
            string(t, Hf::Path, path, "Path");
            stat(t, s);
        }
        ReplyBody::Stat { stat: s } => stat(t, s),
        ReplyBody::Data { data, stat: s } => {
            bytes_field(t, Hf::Data, data, "Data");
            stat(t, s);
            if let Some(d) = data.val {
                let _ = write!(info, " ({} bytes)", d.len());
            }
        }
        ReplyBody::Acl { acl, stat: s } => {
            acl_list(t, acl);
            stat(t, s);
        }
        ReplyBody::Children { children, stat: s } => {
            t.add(Hf::ChildCount, children.off, 4, Enc::BigEndian);
            for c in &children.val {
                string(t, Hf::Child, c, "Child");
            }
            if let Some(s) = s {
                stat(t, s);
            }
            let _ = write!(info, " ({} children)", children.val.len());
        }
        ReplyBody::Number { number } => {
            t.add(Hf::TotalChildren, number.off, 4, Enc::BigEndian);
        }
        ReplyBody::ErrorCode { err } => {
            let item = t.add(Hf::MultiErr, err.off, 4, Enc::BigEndian);
            if err.val != 0 {
                item.expert(
                    pkt,
                    Ei::ErrorReply,
                    &format!("Error result: {} ({})", err_name(err.val), err.val),
                );
            }
        }
        ReplyBody::Sasl { token } => sasl_token(t, token),
        ReplyBody::WhoAmI { clients } => {
            for c in &clients.val {
                let label = if t.is_visible() {
                    format!(
                        "Client info: {}:{}",
                        lossy(c.val.scheme.val),
                        lossy(c.val.id.val)
                    )
                } else {
                    String::new()
                };
                let (_, sub) = t.add_group(Hf::ClientInfo, c.off, c.len, Ett::ClientInfo, &label);
                string(&sub, Hf::AclScheme, &c.val.scheme, "Scheme");
                string(&sub, Hf::AclId, &c.val.id, "User");
            }
        }
        ReplyBody::Multi { results, end } => {
            for r in results.iter().take(MAX_MULTI_SHOWN) {
                let label = if t.is_visible() {
                    format!("Result: {}", op_name(r.header.val.op.val))
                } else {
                    String::new()
                };
                let (_, sub) =
                    t.add_group(Hf::MultiOp, r.header.off, r.header.len, Ett::Multi, &label);
                multi_header(&sub, &r.header);
                let mut ignored = String::new();
                reply_body(pkt, &sub, &r.body, &mut ignored);
            }
            if let Some(first) = results.get(MAX_MULTI_SHOWN) {
                t.add_group(
                    Hf::MultiOp,
                    first.header.off,
                    0,
                    Ett::Multi,
                    &format!(
                        "{} more results not shown (display limit {MAX_MULTI_SHOWN})",
                        results.len() - MAX_MULTI_SHOWN
                    ),
                );
            }
            if let Some(end) = end {
                let (_, sub) =
                    t.add_group(Hf::MultiOp, end.off, end.len, Ett::Multi, "End of results");
                multi_header(&sub, end);
            }
            let failed = results.iter().find_map(|r| match r.body {
                ReplyBody::ErrorCode { err } if err.val != 0 && err.val != -2 => Some(err.val),
                _ => None,
            });
            match failed {
                Some(e) => {
                    let _ = write!(info, " failed: {}", err_name(e));
                }
                None => {
                    let _ = write!(info, " ({} results)", results.len());
                }
            }
        }
    }
}

fn stat(t: &Tree<'_>, s: &At<Stat>) {
    let (_, sub) = t.add_group(Hf::Stat, s.off, s.len, Ett::Stat, "Stat");
    let v = &s.val;
    sub.add(Hf::StatCzxid, v.czxid.off, 8, Enc::BigEndian);
    sub.add(Hf::StatMzxid, v.mzxid.off, 8, Enc::BigEndian);
    sub.add_time_ms(Hf::StatCtime, v.ctime.off, 8, v.ctime.val);
    sub.add_time_ms(Hf::StatMtime, v.mtime.off, 8, v.mtime.val);
    sub.add(Hf::StatVersion, v.version.off, 4, Enc::BigEndian);
    sub.add(Hf::StatCversion, v.cversion.off, 4, Enc::BigEndian);
    sub.add(Hf::StatAversion, v.aversion.off, 4, Enc::BigEndian);
    sub.add(
        Hf::StatEphemeralOwner,
        v.ephemeral_owner.off,
        8,
        Enc::BigEndian,
    );
    sub.add(Hf::StatDataLength, v.data_length.off, 4, Enc::BigEndian);
    sub.add(Hf::StatNumChildren, v.num_children.off, 4, Enc::BigEndian);
    sub.add(Hf::StatPzxid, v.pzxid.off, 8, Enc::BigEndian);
}

const PERM_NAMES: [(i32, &str); 5] = [
    (1, "READ"),
    (2, "WRITE"),
    (4, "CREATE"),
    (8, "DELETE"),
    (16, "ADMIN"),
];

fn acl_list(t: &Tree<'_>, list: &At<Vec<At<Acl<'_>>>>) {
    let label = if t.is_visible() {
        format!("ACL: {} entries", list.val.len())
    } else {
        String::new()
    };
    let (_, sub) = t.add_group(Hf::Acl, list.off, list.len, Ett::AclList, &label);
    sub.add(Hf::AclCount, list.off, 4, Enc::BigEndian);
    for a in &list.val {
        let label = if t.is_visible() {
            let perms: Vec<&str> = PERM_NAMES
                .iter()
                .filter(|(b, _)| a.val.perms.val & b != 0)
                .map(|(_, n)| *n)
                .collect();
            format!(
                "{}:{} [{}]",
                lossy(a.val.id.val.scheme.val),
                lossy(a.val.id.val.id.val),
                perms.join(",")
            )
        } else {
            String::new()
        };
        let (_, entry) = sub.add_group(Hf::Acl, a.off, a.len, Ett::Acl, &label);
        let perms = entry.add(Hf::AclPerms, a.val.perms.off, 4, Enc::BigEndian);
        let bits = perms.subtree(Ett::AclPerms);
        for hf in [
            Hf::AclPermRead,
            Hf::AclPermWrite,
            Hf::AclPermCreate,
            Hf::AclPermDelete,
            Hf::AclPermAdmin,
        ] {
            bits.add(hf, a.val.perms.off, 4, Enc::BigEndian);
        }
        string(&entry, Hf::AclScheme, &a.val.id.val.scheme, "Scheme");
        string(&entry, Hf::AclId, &a.val.id.val.id, "Id");
    }
}

fn notification(pkt: &Packet<'_>, t: &Tree<'_>, bytes: &[u8], info: &mut String) {
    info.push_str("notification");
    let i = jute::input(bytes);
    let Ok((i, _)) = jute::int(i) else { return };
    let (i, h) = match parse::reply_header(i) {
        Ok(r) => r,
        Err(e) => return malformed(pkt, t, e, bytes.len(), info),
    };
    t.add(Hf::Xid, h.xid.off, 4, Enc::BigEndian);
    t.add(Hf::Zxid, h.zxid.off, 8, Enc::BigEndian);
    t.add(Hf::Err, h.err.off, 4, Enc::BigEndian);
    match parse::watcher_event(i) {
        Ok((rest, ev)) => {
            t.add(Hf::EventType, ev.event_type.off, 4, Enc::BigEndian);
            t.add(Hf::EventState, ev.state.off, 4, Enc::BigEndian);
            string(t, Hf::Path, &ev.path, "Path");
            let ty = super::fields::EVENT_TYPE_NAMES
                .iter()
                .find(|(v, _)| *v as i32 == ev.event_type.val)
                .and_then(|(_, n)| n.to_str().ok())
                .map_or_else(|| format!("event {}", ev.event_type.val), str::to_string);
            let _ = write!(info, " {ty}");
            if ev.path.val.is_some_and(|p| !p.is_empty()) {
                let _ = write!(info, " {}", lossy(ev.path.val));
            }
            trailing(pkt, t, rest.location_offset(), bytes.len());
        }
        Err(e) => malformed(pkt, t, e, bytes.len(), info),
    }
}
