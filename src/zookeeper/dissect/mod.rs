//! From bytes to the tree: frames PDUs for `tcp_dissect_pdus`, has the connection parse and
//! classify each PDU once (first pass) or re-reads it as the stored decision says (later
//! passes), and adds items at the offsets the parser reports. `request`, `reply` and
//! `records` render the parsed records.

use std::fmt;

use super::connection::{Connection, Framing, PduKind, RequestLink, WatchNote};
use super::fields::{Ei, Ett, Hf};
use super::parse::{self, ReplyBody, RequestBody, Stat};
use super::stats::{self, Event};
use super::{ErrorCode, Opcode, REGISTRATION, opcode, xid};
use crate::common::{At, Direction, PduKey};
use crate::epan::{Enc, FramedDissector, Item, Packet, PduLen, Protocol, Tree};
use crate::jute::{Acl, Counted, text_or_null};

mod quorum;
mod records;
mod reply;
mod request;

use records::*;
use reply::*;
use request::*;

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

fn voters() -> u32 {
    REGISTRATION.get().map_or(0, |r| r.settings.voters.get())
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
        let Some(mut conn) = pkt.conversation::<Connection>(proto()) else {
            return PduLen::RestOfSegment;
        };
        let dir = conn.direction(pkt.src_port(), pkt.dst_port(), pkt.match_uint());
        if bytes.len() < 4 {
            // Plain text after a four-letter word is taken as it comes; anything else needs
            // its 4-byte length prefix first.
            return if conn.is_four_letter(pkt.frame()) {
                PduLen::RestOfSegment
            } else {
                PduLen::NeedMore
            };
        }
        match conn.framing_at(dir, pkt.frame(), bytes, max_pdu(), !pkt.visited(), || {
            pkt.stream_start()
        }) {
            Framing::Pdu(n) | Framing::FourLetter(n) | Framing::Skip(n) => PduLen::Exactly(n),
            Framing::Rest => PduLen::RestOfSegment,
            Framing::NeedMore => PduLen::NeedMore,
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
        let Some(mut conn) = pkt.conversation::<Connection>(proto()) else {
            return;
        };
        let dir = conn.direction(pkt.src_port(), pkt.dst_port(), pkt.match_uint());
        let (item, t) = tree.add_protocol(Hf::Proto, 0, bytes.len(), Ett::Pdu);
        // Where nothing reads the PDU's items (`tshark -q -Y zookeeper`: a shown tree, a
        // zookeeper field in a filter, column or -e, or expert infos collected would), and
        // no column shows its Info text, the protocol item is all there is to add.
        let items_wanted = pkt.has_columns() || tree.items_wanted::<Hf, Ei>(pkt, Hf::Proto);
        if items_wanted {
            t.add_bool(Hf::Response, 0, 0, dir == Direction::ToClient)
                .generated();
        }

        if conn.facts_unavailable_note(dir, key, !pkt.visited()) {
            item.expert(
                pkt,
                Ei::TcpFactsUnavailable,
                "TCP's sequence facts could not be read for this side: where its stream starts was judged by the bytes",
            );
        }
        if conn.is_four_letter(key.frame) {
            drop(conn);
            four_letter(pkt, &t, item, dir, bytes);
            return;
        }
        if key.index == 0 && conn.is_continuation(key.frame, bytes.len()) {
            drop(conn);
            continuation(pkt, &t, item, bytes);
            return;
        }
        if conn.is_compressed_block(dir, key.frame, bytes.len()) {
            let wire = conn.wire();
            drop(conn);
            compressed_block(pkt, &t, item, wire, bytes);
            return;
        }
        let declared = parse::length_prefix(bytes);
        let len_item = if items_wanted {
            t.add(Hf::Len, 0, 4, Enc::BigEndian)
        } else {
            t.unread_item()
        };
        // ClickHouse's client writes 45 for a ConnectRequest one byte longer (framing.rs).
        let extra = usize::from(conn.is_extended_connect(key.frame, bytes.len()));
        if extra == 1 {
            len_item.expert(
                pkt,
                Ei::ShortConnectLength,
                "Length prefix one short: ClickHouse's client writes 45 and leaves out the compression flag it sends after the protocol version, which Keeper reads",
            );
        }
        if declared
            .is_none_or(|n| n < 0 || n as u32 > max_pdu() || n as usize + 4 + extra != bytes.len())
        {
            drop(conn);
            bogus_length(pkt, &t, len_item, declared, bytes);
            return;
        }
        let (pdu, kind) = if pkt.visited() {
            match conn.decision(key) {
                Some(kind) => {
                    let pdu = kind
                        .reading(conn.wire())
                        .map(|reading| parse::pdu(reading, bytes));
                    (pdu, kind.clone())
                }
                // Not decided on the first pass (should not happen): decide without history.
                None => Connection::default().classify_pdu(key, dir, pkt.time(), bytes),
            }
        } else {
            conn.classify_pdu(key, dir, pkt.time(), bytes)
        };
        let session_id = conn.session_id;
        let opaque = !conn.wire().decodes_bodies();
        let write = pdu
            .as_ref()
            .and_then(|p| quorum::write_key(p, &kind, session_id, conn.created_session()));
        drop(conn);
        if let Some(write) = &write
            && !pkt.visited()
        {
            quorum::record(pkt, write, &kind);
        }

        let event = pdu.as_ref().and_then(|pdu| tap_event(&kind, pdu));
        if !items_wanted {
            // The write path's items would be faked too, but it feeds `-z zookeeper,writes`.
            if let Some(write) = &write
                && stats::writes_wanted()
            {
                quorum::render(pkt, &t, write, voters());
            }
            if let Some(event) = event {
                stats::queue(pkt, event, session_id);
            }
            return;
        }
        if let Some(sid) = session_id {
            t.add_u64(Hf::SessionId, 0, 0, sid).generated();
        }
        // The Info text is shown in the Info column and in the protocol item's label: built
        // only where either is shown.
        let mut info = Info::new(t.is_shown() || pkt.has_columns());
        match &pdu {
            Some(pdu) => render(pkt, &t, bytes, pdu, &kind, opaque, &mut info),
            None => undecoded(&t, 4, bytes.len()),
        }
        if let Some(write) = &write {
            quorum::render(pkt, &t, write, voters());
        }
        if info.on {
            item.append_text(&format!(", {}", info.text));
            pkt.append_info(&info.text);
        }
        if let Some(event) = event {
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
        match pkt.conversation::<Connection>(proto()) {
            Some(mut conn) => {
                conn.set_server_port(server_port);
                true
            }
            None => false,
        }
    }
}

/// The Info text of one PDU, made only when `on` (a shown tree or filled columns show it):
/// `write!` and `push_str` do nothing otherwise (the arguments of `write!` are evaluated,
/// but not formatted).
pub(super) struct Info {
    pub(super) on: bool,
    pub(super) text: String,
}

impl Info {
    pub(super) fn new(on: bool) -> Self {
        Info {
            on,
            text: String::new(),
        }
    }

    pub(super) fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> fmt::Result {
        if self.on {
            fmt::Write::write_fmt(&mut self.text, args)
        } else {
            Ok(())
        }
    }

    pub(super) fn push_str(&mut self, s: &str) {
        if self.on {
            self.text.push_str(s);
        }
    }
}

/// The parsed PDU and what the first pass decided about it, into the tree and the Info
/// text.
fn render(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    bytes: &[u8],
    pdu: &parse::Pdu<'_>,
    kind: &PduKind,
    opaque: bool,
    info: &mut Info,
) {
    let end = bytes.len();
    match (pdu, kind) {
        (parse::Pdu::ConnectRequest(c), PduKind::ConnectRequest { response }) => {
            if let Some((frame, _)) = response {
                t.add_u32(Hf::ResponseIn, 0, 0, *frame).generated();
            }
            connect_request(pkt, t, c, end, info)
        }
        (parse::Pdu::ConnectResponse(c), PduKind::ConnectResponse { request }) => {
            if let Some((frame, time)) = request {
                t.add_u32(Hf::RequestIn, 0, 0, *frame).generated();
                t.add_duration(Hf::Time, 0, 0, pkt.time() - time)
                    .generated();
            }
            connect_response(pkt, t, c, end, info)
        }
        (
            parse::Pdu::Request(r),
            PduKind::Request {
                response,
                tracked,
                watch,
                ..
            },
        ) => {
            request(pkt, t, r, *response, *tracked, opaque, end, info);
            watch_links(pkt, t, watch);
        }
        (parse::Pdu::Reply(r), PduKind::Reply { request }) => {
            reply(pkt, t, r, request.as_ref(), opaque, end, info)
        }
        (parse::Pdu::Notification(n), PduKind::Notification { set_in }) => {
            notification(pkt, t, n, end, info);
            for f in set_in.iter().take(super::connection::MAX_WATCH_LINKS) {
                t.add_u32(Hf::WatchSetIn, 0, 0, *f).generated();
            }
            if set_in.len() > super::connection::MAX_WATCH_LINKS {
                t.add_expert(
                    pkt,
                    Ei::WatchTableFull,
                    0,
                    0,
                    &format!(
                        "More than {} requests set watches this notification fired: only the first are linked",
                        super::connection::MAX_WATCH_LINKS
                    ),
                );
            }
        }
        // The PDU was read as its decision says (`PduKind::reading`), so the two agree.
        _ => undecoded(t, 4, end),
    }
}

/// What a request did to the watch table: the notifications that fired its watch.
fn watch_links(pkt: &Packet<'_>, t: &Tree<'_>, watch: &WatchNote) {
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
                super::connection::MAX_WATCH_LINKS
            ),
        );
    }
    if watch.untracked {
        t.add_expert(
            pkt,
            Ei::WatchTableFull,
            0,
            0,
            &format!(
                "More than {} watches on this connection: the watch this request sets is not tracked",
                super::connection::MAX_WATCHES
            ),
        );
    }
}

/// A ClickHouse compressed block after a compressed connection's handshake: its header,
/// and its payload undecoded (LZ4 is not decompressed here).
fn compressed_block(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    item: Item<'_>,
    wire: parse::Wire,
    bytes: &[u8],
) {
    let version = match wire {
        parse::Wire::Compressed { version } => version,
        _ => 0,
    };
    let (group, sub) = t.add_group(
        Hf::Compressed,
        0,
        bytes.len(),
        Ett::Compressed,
        "ClickHouse compressed block",
    );
    let whole = parse::compressed_block_len(bytes, u32::MAX)
        .is_some_and(|n| n.is_ok_and(|n| n as usize == bytes.len()));
    let header = parse::compressed_header(bytes).filter(|_| whole);
    match header {
        Some(h) => {
            sub.add(Hf::CompressedChecksum, 0, 16, Enc::Na);
            sub.add(Hf::CompressedMethod, 16, 1, Enc::BigEndian);
            sub.add_u32(Hf::CompressedSize, 17, 4, h.compressed_size);
            sub.add_u32(Hf::CompressedUncompressedSize, 21, 4, h.uncompressed_size);
            undecoded(&sub, parse::COMPRESSED_HEADER_LEN, bytes.len());
        }
        None => undecoded(&sub, 0, bytes.len()),
    }
    group.expert(
        pkt,
        Ei::CompressedStream,
        &format!(
            "Compressed connection (protocol version {version}, ClickHouse Keeper): the requests and replies inside ClickHouse's compressed blocks are not decompressed, so they are not decoded"
        ),
    );
    let clause = match header {
        Some(h) => format!(
            "compressed block ({} bytes, {} uncompressed)",
            bytes.len(),
            h.uncompressed_size
        ),
        None => format!("compressed data ({} bytes)", bytes.len()),
    };
    item.append_text(&format!(", {clause}"));
    pkt.append_info(&clause);
}

/// Bytes at the start of a capture that began inside a PDU.
fn continuation(pkt: &Packet<'_>, t: &Tree<'_>, item: Item<'_>, bytes: &[u8]) {
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
}

/// What a PDU contributes to the statistics.
fn tap_event(kind: &PduKind, pdu: &parse::Pdu<'_>) -> Option<Event> {
    Some(match (kind, pdu) {
        (PduKind::Request { opcode, .. }, _) if *opcode != i32::MIN => {
            Event::Request { opcode: *opcode }
        }
        (PduKind::Reply { request }, parse::Pdu::Reply(Ok(r))) => Event::Reply {
            request: request.as_ref().map(|l| (l.opcode, l.time)),
            err: r.header.err.val,
        },
        (PduKind::Notification { .. }, _) => Event::Notification,
        _ => return None,
    })
}

/// The body of a PDU that is exactly `bytes` long, if the length prefix says so.
fn pdu_body(bytes: &[u8]) -> Option<&[u8]> {
    let n = parse::length_prefix(bytes)?;
    (n >= 0 && n as usize + 4 == bytes.len()).then(|| &bytes[4..])
}

fn undecoded(t: &Tree<'_>, off: usize, end: usize) {
    if end > off {
        t.add(Hf::Undecoded, off, end - off, Enc::Na);
    }
}

fn op_name(op: i32) -> String {
    Opcode::name_of(op).map_or_else(|| format!("opcode {op}"), str::to_string)
}

fn err_name(err: i32) -> String {
    ErrorCode::name_of(err).map_or_else(|| format!("error {err}"), str::to_string)
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

fn malformed(pkt: &Packet<'_>, t: &Tree<'_>, f: &parse::Failure, end: usize, info: &mut Info) {
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
