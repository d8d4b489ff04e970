//! Per-connection state: which side is the server, the handshake, four-letter words, and
//! pairing each reply with its request. Pure Rust, no Wireshark.
//!
//! Every decision is made once, on the first pass, in capture order, and stored per PDU
//! (`PduKey`). Later passes (tshark -2, GUI clicks in any order) only look decisions up, so
//! the tree of a packet never depends on what was dissected before it.
//!
//! This file holds the connection's state and the classification of each PDU (handshake,
//! request, reply paired by xid, notification); `framing` finds where PDUs begin and
//! resynchronises, `watches` tracks which request set which watch.

use std::collections::VecDeque;
use std::rc::Rc;

use super::FOUR_LETTER_WORDS;
use super::parse::{self, Pdu, Reading, Wire};
use super::xid;
use crate::common::{At, Direction, FastMap, FastSet, Nanos, PduKey, PduMap, ServerPort};
use crate::epan::{SideSync, StreamStart};
use crate::jute::{self, Counted};

mod framing;
mod watches;

pub use framing::*;
pub use watches::*;

/// The request a reply answers, as the reply shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestLink {
    pub frame: u32,
    pub time: Nanos,
    pub opcode: i32,
    pub path: Option<Rc<str>>,
}

/// What the first pass decided about one PDU.
#[derive(Clone, Debug, PartialEq)]
pub enum PduKind {
    /// The handshake's request, with its response (frame, time) once seen.
    ConnectRequest {
        response: Option<(u32, Nanos)>,
    },
    /// The handshake's response, with its request (frame, time) when captured.
    ConnectResponse {
        request: Option<(u32, Nanos)>,
    },
    /// A four-letter word (`ruok`, `stat`, ...) sent instead of a handshake.
    FourLetterCommand,
    /// The plain-text reply to a four-letter word: everything the server sends after it.
    FourLetterReply,
    Request {
        opcode: i32,
        /// Filled in when the reply is seen.
        response: Option<(u32, Nanos)>,
        /// False when the pending table was full and the request was not tracked.
        tracked: bool,
        /// Frames of the notifications that fired a watch this request set.
        watch: WatchNote,
    },
    Reply {
        request: Option<RequestLink>,
    },
    /// A watch notification (xid -1), with the frames of the requests that set the
    /// watches it fired.
    Notification {
        set_in: Vec<u32>,
    },
}

impl PduKind {
    /// How a PDU so classified is read again on a later pass; `None` for the kinds that
    /// are not jute records. `wire`: what the connection's handshake chose (xid width,
    /// bodies decoded or not).
    pub fn reading(&self, wire: Wire) -> Option<Reading> {
        match self {
            PduKind::ConnectRequest { .. } => Some(Reading::ConnectRequest),
            PduKind::ConnectResponse { .. } => Some(Reading::ConnectResponse),
            PduKind::Request { .. } => Some(Reading::Request { wire }),
            PduKind::Reply { .. } | PduKind::Notification { .. } => Some(Reading::Reply { wire }),
            PduKind::FourLetterCommand | PduKind::FourLetterReply => None,
        }
    }
}

/// What a request did to the watch table, filled in on the first pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchNote {
    /// Notifications that fired a watch set by this request.
    pub fired_in: Vec<u32>,
    /// The watch table was full: the watch this request set is not tracked.
    pub untracked: bool,
    /// More than `MAX_WATCH_LINKS` notifications fired this request's (persistent) watch:
    /// only the first ones are linked.
    pub links_truncated: bool,
}

/// Caps on per-connection tables, so that a hostile capture cannot grow them without bound.
pub const MAX_PENDING: usize = 100_000;

#[derive(Clone, Debug)]
struct Pending {
    frame: u32,
    time: Nanos,
    opcode: i32,
    path: Option<Rc<str>>,
    key: PduKey,
    watch: Option<WatchOp>,
}

/// The state of one ZooKeeper connection.
#[derive(Debug, Default)]
pub struct Connection {
    /// The server's TCP port, once known (from the port table or the handshake).
    pub server_port: ServerPort,
    /// Frame of the client's first bytes, where a four-letter word can appear.
    first_client_frame: Option<u32>,
    /// Frame of the four-letter word, when this connection carries one.
    four_letter_frame: Option<u32>,
    /// The client has sent a length-prefixed PDU: a four-letter word can no longer come
    /// (it is only ever the connection's first bytes).
    client_framed_pdu: bool,
    client_started: bool,
    server_started: bool,
    /// The ConnectRequest, until its response arrives.
    connect_request: Option<(PduKey, Nanos)>,
    saw_connect_request: bool,
    /// Session id from the ConnectResponse (or the ConnectRequest when re-opening).
    pub session_id: Option<u64>,
    /// What the handshake's protocolVersion chose for the PDUs after it: 32- or 64-bit
    /// xids, or bodies not decoded (compressed or unknown versions).
    wire: Wire,
    /// ClickHouse compressed blocks, decided on the first pass by `framing_at`:
    /// (direction, frame, bytes at the PDU start) -> the block's length, for later passes.
    compressed_framing: FastMap<(usize, u32, usize), u32>,
    /// The same blocks as (direction, frame, block length), for the dissector.
    compressed: FastSet<(usize, u32, u32)>,
    /// A ClickHouse ConnectRequest whose length prefix is one short (it leaves out the
    /// compression flag): (frame, bytes at the PDU start, the PDU's real length).
    extended_connect: Option<(u32, usize, u32)>,
    /// A side has had a PDU framed (its handshake comes first), first pass.
    side_framed: [bool; 2],
    /// The handshake re-opened an existing session (its ConnectRequest named one).
    reopened: bool,
    pending: FastMap<i64, Pending>,
    /// Pings, auth and setWatches use fixed xids; their replies come back in order.
    control: [VecDeque<Pending>; 3],
    decisions: PduMap<PduKind>,
    /// Watches set on this connection: kind and path -> the requests that set them.
    watches: FastMap<(WatchKind, Rc<str>), Vec<PduKey>>,
    watch_count: usize,
    /// Index 0: to the server, 1: to the client.
    resync: [Resync; 2],
    /// How each side's first PDU was framed, from TCP's facts (first pass).
    sync: [Option<SideSync>; 2],
    /// TCP's facts could not be read for this side (directly on TCP): its first PDU says so.
    facts_unavailable: [bool; 2],
    /// The PDU that carries that note, once dissected on the first pass.
    facts_note: [Option<PduKey>; 2],
    /// (frame, length) of the skipped bytes at the start of a mid-stream capture.
    continuations: Vec<(u32, u32)>,
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl Connection {
    /// Decides the direction of a segment. `match_port` is the port that selected the
    /// dissector (port table or Decode As), 0 if none.
    pub fn direction(&mut self, src_port: u32, dst_port: u32, match_port: u32) -> Direction {
        self.server_port.direction(src_port, dst_port, match_port)
    }

    /// Records the server's port when a heuristic recognised the handshake.
    pub fn set_server_port(&mut self, port: u32) {
        self.server_port.learn(port);
    }

    /// True when the bytes of this frame belong to a four-letter-word exchange.
    pub fn is_four_letter(&self, frame: u32) -> bool {
        self.four_letter_frame.is_some_and(|f| frame >= f)
    }

    /// The decision stored on the first pass for this PDU.
    pub fn decision(&self, key: PduKey) -> Option<&PduKind> {
        self.decisions.get(&key)
    }

    /// First pass: reads one complete PDU (`bytes`, length prefix included), parses it
    /// once, classifies it and updates pairing state. Returns the parsed PDU for rendering
    /// (none for a four-letter word, which is plain text) and the decision, which is stored
    /// for later passes.
    pub fn classify_pdu<'a>(
        &mut self,
        key: PduKey,
        dir: Direction,
        time: Nanos,
        bytes: &'a [u8],
    ) -> (Option<Pdu<'a>>, PduKind) {
        // The parsed PDU is built once in the returned pair's place and borrowed while it
        // is classified: at 256 bytes, each move of it costs as much as the classification.
        let four_letter = self.four_letter_frame.is_some_and(|f| key.frame >= f);
        let pdu = if four_letter {
            None
        } else {
            let body = bytes.get(4..).unwrap_or(&[]);
            Some(parse::pdu(self.reading(dir, body), bytes))
        };
        let kind = match &pdu {
            None => match dir {
                Direction::ToServer => PduKind::FourLetterCommand,
                Direction::ToClient => PduKind::FourLetterReply,
            },
            Some(Pdu::ConnectRequest(c)) => self.connect_request(key, time, c),
            Some(Pdu::ConnectResponse(c)) => self.connect_response(key, time, c),
            Some(Pdu::Request(r)) => self.request(key, time, r),
            Some(Pdu::Reply(r)) => self.reply(key, time, r),
            Some(Pdu::Notification(n)) => PduKind::Notification {
                set_in: self.fire_watches(n, key.frame),
            },
        };
        self.decisions.insert(key, kind.clone());
        (pdu, kind)
    }

    /// How to read the next PDU of a side: each side's first PDU is the handshake. On a
    /// side captured from its start that holds by position, whatever the PDU's length;
    /// elsewhere the PDU's shape must say so.
    fn reading(&mut self, dir: Direction, body: &[u8]) -> Reading {
        match dir {
            Direction::ToServer => {
                let first = !std::mem::replace(&mut self.client_started, true);
                if first && (self.synced_from_start(dir) || parse::looks_like_connect_request(body))
                    || self.looks_like_extended_connect(first, body)
                {
                    Reading::ConnectRequest
                } else {
                    Reading::Request { wire: self.wire }
                }
            }
            Direction::ToClient => {
                let first = !std::mem::replace(&mut self.server_started, true);
                if first
                    && (self.synced_from_start(dir)
                        || parse::looks_like_connect_response(body)
                        || self.saw_connect_request
                            && body.len() >= 36
                            && parse::handshake_version(body) == Some(0)
                            && !self.plausible_reply(body))
                {
                    Reading::ConnectResponse
                } else {
                    Reading::Reply { wire: self.wire }
                }
            }
        }
    }

    /// The handshake's ConnectRequest: a reconnect names its session; its protocol version
    /// chooses how the PDUs after it are read (`Wire`).
    fn connect_request(
        &mut self,
        key: PduKey,
        time: Nanos,
        c: &parse::Parsed<'_, parse::ConnectRequest<'_>>,
    ) -> PduKind {
        self.saw_connect_request = true;
        if let Ok((_, c)) = c {
            self.wire = Wire::of(c);
            if c.session_id.val != 0 {
                self.session_id = Some(c.session_id.val as u64);
                self.reopened = true;
            }
        }
        self.connect_request = Some((key, time));
        PduKind::ConnectRequest { response: None }
    }

    /// The handshake's ConnectResponse, linked with its request.
    fn connect_response(
        &mut self,
        key: PduKey,
        time: Nanos,
        c: &parse::Parsed<'_, parse::ConnectResponse<'_>>,
    ) -> PduKind {
        let sid = c.as_ref().map_or(0, |(_, c)| c.session_id.val as u64);
        self.session_id = Some(sid).filter(|s| *s != 0).or(self.session_id);
        let request = self.connect_request.take().map(|(req_key, req_time)| {
            if let Some(PduKind::ConnectRequest { response }) = self.decisions.get_mut(&req_key) {
                *response = Some((key.frame, time));
            }
            (req_key.frame, req_time)
        });
        PduKind::ConnectResponse { request }
    }

    /// A request: kept by xid until its reply comes, with what the reply will show (its
    /// opcode and path) and what it does to the watch table.
    fn request(
        &mut self,
        key: PduKey,
        time: Nanos,
        r: &Result<parse::Request<'_>, parse::Failure>,
    ) -> PduKind {
        let Ok(r) = r else {
            return PduKind::Request {
                opcode: i32::MIN,
                response: None,
                tracked: false,
                watch: WatchNote::default(),
            };
        };
        let (x, opcode) = (r.header.xid.val, r.header.opcode.val);
        let body = r.parsed_body();
        let mut watch = WatchNote::default();
        if let Some(parse::RequestBody::SetWatches { lists, .. }) = body {
            // Re-set after a reconnect: the watches exist as soon as the server
            // reads the request (its reply is empty).
            for (kind, path) in set_watches_paths(lists) {
                if !self.add_watch(kind, path, key) {
                    watch.untracked = true;
                }
            }
        }
        // One text for the path, shared by the reply's link and the watch it sets.
        let path = body
            .and_then(parse::RequestBody::path)
            .and_then(|p| p.val)
            .map(path_text);
        let pending = Pending {
            frame: key.frame,
            time,
            opcode,
            path: path.clone().filter(|_| has_path(opcode)),
            key,
            watch: body.and_then(|b| watch_op(opcode, b, path.as_ref())),
        };
        let tracked = match control_slot(x) {
            Some(slot) if self.control[slot].len() < MAX_PENDING => {
                self.control[slot].push_back(pending);
                true
            }
            Some(_) => false,
            None if self.pending.len() < MAX_PENDING || self.pending.contains_key(&x) => {
                // A repeated xid (the Java client wraps at INT32_MAX) replaces the older one.
                self.pending.insert(x, pending);
                true
            }
            None => false,
        };
        PduKind::Request {
            opcode,
            response: None,
            tracked,
            watch,
        }
    }

    /// A reply, paired with its request by xid; control xids (ping, auth, setWatches) in
    /// the order their requests were sent.
    fn reply(
        &mut self,
        key: PduKey,
        time: Nanos,
        r: &Result<parse::Reply<'_>, parse::Failure>,
    ) -> PduKind {
        let Ok(r) = r else {
            return PduKind::Reply { request: None };
        };
        let x = r.header.xid.val;
        let found = match control_slot(x) {
            Some(slot) => self.control[slot].pop_front(),
            None => self.pending.remove(&x),
        };
        let request = found.map(|p| {
            if let Some(PduKind::Request { response, .. }) = self.decisions.get_mut(&p.key) {
                *response = Some((key.frame, time));
            }
            self.apply_watch_op(&p, r.header.err.val);
            RequestLink {
                frame: p.frame,
                time: p.time,
                opcode: p.opcode,
                path: p.path,
            }
        });
        PduKind::Reply { request }
    }

    /// True when the handshake created the session (its ConnectRequest named none): the
    /// ensemble then commits a createSession transaction for it.
    pub fn created_session(&self) -> bool {
        self.saw_connect_request && !self.reopened
    }

    /// What the handshake chose for the PDUs after it.
    pub fn wire(&self) -> Wire {
        self.wire
    }

    /// Number of requests still waiting for a reply (for tests and statistics).
    pub fn outstanding(&self) -> usize {
        self.pending.len() + self.control.iter().map(VecDeque::len).sum::<usize>()
    }
}

/// A path as text, for showing on a reply and for the watch table.
fn path_text(bytes: &[u8]) -> Rc<str> {
    Rc::from(crate::common::lossy(bytes).as_ref())
}

/// Requests whose record starts with a path. Exhaustive, so that a new opcode is decided
/// here too.
fn has_path(opcode: i32) -> bool {
    use super::Opcode as O;
    match super::Opcode::from_code(opcode) {
        Some(
            O::Create
            | O::Delete
            | O::Exists
            | O::GetData
            | O::SetData
            | O::GetAcl
            | O::SetAcl
            | O::GetChildren
            | O::Sync
            | O::GetChildren2
            | O::Check
            | O::Create2
            | O::CheckWatches
            | O::RemoveWatches
            | O::CreateContainer
            | O::CreateTtl
            | O::GetEphemerals
            | O::GetAllChildrenNumber
            | O::AddWatch
            | O::FilteredList
            | O::CheckNotExists
            | O::CreateIfNotExists
            | O::RemoveRecursive
            | O::CheckStat
            | O::TryRemove
            | O::FilteredListWithStatsAndData
            | O::ListRecursive,
        ) => true,
        Some(
            O::Notification
            | O::Ping
            | O::Multi
            | O::Reconfig
            | O::DeleteContainer
            | O::MultiRead
            | O::Auth
            | O::SetWatches
            | O::Sasl
            | O::SetWatches2
            | O::WhoAmI
            | O::CreateSession
            | O::CloseSession
            | O::Error
            | O::SessionId,
        )
        | None => false,
    }
}

#[cfg(test)]
#[path = "../tests/connection.rs"]
mod tests;
