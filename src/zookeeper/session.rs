//! Per-connection state: which side is the server, the handshake, four-letter words, and
//! pairing each reply with its request. Pure Rust, no Wireshark.
//!
//! Every decision is made once, on the first pass, in capture order, and stored per PDU
//! (`PduKey`). Later passes (tshark -2, GUI clicks in any order) only look decisions up, so
//! the tree of a packet never depends on what was dissected before it.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use super::FOUR_LETTER_WORDS;
use super::parse;
use super::xid;
use crate::common::{Direction, Nanos, PduKey, ServerPort};
use crate::epan::{SideSync, StreamStart};
use crate::jute;

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
    /// Bytes at the start of a capture that began inside a PDU: skipped until the next
    /// plausible PDU start.
    Continuation,
    /// After a handshake with protocolVersion != 0 (ClickHouse Keeper extensions): headers
    /// are shown, bodies are not decoded.
    Opaque,
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
/// Watches tracked per connection (one entry per request and watched path).
pub const MAX_WATCHES: usize = 100_000;
/// Links kept per request (`fired_in`) and per notification (`set_in`). A persistent watch
/// fires any number of times, and many requests can watch one path; without a cap a hostile
/// capture would make these lists (and the time to fill them) grow as their product.
pub const MAX_WATCH_LINKS: usize = 1_000;
/// Segments skipped at most while looking for the first PDU start of a direction in a
/// capture that starts mid-stream; after that framing goes on as if synchronised.
pub const MAX_RESYNC_SEGMENTS: u32 = 16;

/// The kinds of watch the server keeps per connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WatchKind {
    /// One-shot data watch: getData or exists with watch=true (also on a missing node).
    Data,
    /// One-shot child watch: getChildren, getChildren2.
    Child,
    /// addWatch PERSISTENT: the path's data and children events, not consumed.
    Persistent,
    /// addWatch PERSISTENT_RECURSIVE: events on the path and all descendants (no
    /// NodeChildrenChanged), not consumed.
    Recursive,
}

/// What a request does to the watch table once its reply says it succeeded.
#[derive(Clone, Debug, PartialEq)]
enum WatchOp {
    Set(WatchKind, Rc<str>),
    /// removeWatches: WatcherType (1 children, 2 data, 3 any, 4 persistent, 5 recursive).
    Remove(i32, Rc<str>),
}

#[derive(Clone, Debug)]
struct Pending {
    frame: u32,
    time: Nanos,
    opcode: i32,
    path: Option<Rc<str>>,
    key: PduKey,
    watch: Option<WatchOp>,
}

/// Per-direction state of the search for the first PDU start in a capture that starts
/// mid-stream.
#[derive(Debug, Default)]
struct Resync {
    /// A plausible PDU start has been found (or the search gave up).
    synced: bool,
    segments: u32,
    /// (frame, bytes left in the segment at that point) -> bytes skipped, decided on the
    /// first pass and looked up on later ones.
    skips: HashMap<(u32, usize), u32>,
}

/// The state of one ZooKeeper connection.
#[derive(Debug, Default)]
pub struct Session {
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
    /// A handshake with protocolVersion != 0 was seen: bodies are opaque from then on.
    opaque: bool,
    pending: HashMap<i32, Pending>,
    /// Pings, auth and setWatches use fixed xids; their replies come back in order.
    control: [VecDeque<Pending>; 3],
    decisions: HashMap<PduKey, PduKind>,
    /// Watches set on this connection: kind and path -> the requests that set them.
    watches: HashMap<(WatchKind, Rc<str>), Vec<PduKey>>,
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

fn control_slot(x: i32) -> Option<usize> {
    match x {
        xid::PING => Some(0),
        xid::AUTH => Some(1),
        xid::SET_WATCHES => Some(2),
        _ => None,
    }
}

pub fn is_four_letter_word(bytes: &[u8]) -> bool {
    bytes.len() >= 4
        && FOUR_LETTER_WORDS
            .iter()
            .any(|w| &bytes[..4] == w.as_slice())
}

/// What the framing layer should do with the bytes at the start of a PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A length-prefixed PDU of this total size (prefix included).
    Pdu(u32),
    /// A four-letter word: 4 bytes, 12 with stmk's trace mask.
    FourLetter(u32),
    /// Plain text (a four-letter word's reply) or a bogus length: take what is there.
    Rest,
    /// The capture starts inside a PDU: these many bytes are the rest of a PDU sent
    /// before the capture began.
    Skip(u32),
}

impl Session {
    /// Decides the direction of a segment. `match_port` is the port that selected the
    /// dissector (port table or Decode As), 0 if none.
    pub fn direction(&mut self, src_port: u32, dst_port: u32, match_port: u32) -> Direction {
        self.server_port.direction(src_port, dst_port, match_port)
    }

    /// Framing of the bytes at the start of a PDU (`bytes` holds at least 4 bytes).
    /// Deterministic across passes: it only depends on the frame and on facts recorded the
    /// first time the connection's first bytes went by.
    /// `first_pass` is false when the frame was dissected before: only decisions recorded
    /// then are looked up.
    /// Without TCP's facts ([`StreamStart::Unknown`]): see [`Session::framing_at`].
    pub fn framing(
        &mut self,
        dir: Direction,
        frame: u32,
        bytes: &[u8],
        max_pdu: u32,
        first_pass: bool,
    ) -> Framing {
        self.framing_at(dir, frame, bytes, max_pdu, first_pass, || {
            StreamStart::Unknown
        })
    }

    /// Framing, with `start` telling where these bytes lie in their side's stream (asked
    /// once per side, at its first PDU on the first pass). A side whose first payload byte
    /// was captured is synchronised from it: its first PDU is the handshake (or a
    /// four-letter word) by position, and nothing is skipped. Only a side whose start is
    /// missing, or when TCP has nothing to say, is searched for the first plausible PDU.
    pub fn framing_at(
        &mut self,
        dir: Direction,
        frame: u32,
        bytes: &[u8],
        max_pdu: u32,
        first_pass: bool,
        start: impl FnOnce() -> StreamStart,
    ) -> Framing {
        let d = dir_index(dir);
        if first_pass && self.sync[d].is_none() {
            let at = start();
            let sync = at.first_pdu();
            self.sync[d] = Some(sync);
            if sync == SideSync::FromStart {
                self.resync[d].synced = true;
            }
            self.facts_unavailable[d] = at == StreamStart::Unavailable;
        }
        if let Some(n) = self.resync_skip(dir, frame, bytes, max_pdu, first_pass) {
            return Framing::Skip(n);
        }
        if dir == Direction::ToServer {
            let first = *self.first_client_frame.get_or_insert(frame);
            if first == frame && !self.client_framed_pdu && is_four_letter_word(bytes) {
                self.four_letter_frame = Some(frame);
                return if &bytes[..4] == b"stmk" {
                    Framing::FourLetter(12)
                } else {
                    Framing::Rest
                };
            }
        }
        if self.four_letter_frame.is_some_and(|f| frame >= f) {
            return Framing::Rest;
        }
        if bytes.len() < 4 {
            return Framing::Rest;
        }
        let len = i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        if len < 0 || len as u32 > max_pdu {
            return Framing::Rest;
        }
        if dir == Direction::ToServer {
            self.client_framed_pdu = true;
        }
        Framing::Pdu(len as u32 + 4)
    }

    /// Mid-stream captures: until a direction's first plausible PDU start is found, the
    /// bytes before it are skipped. A connection captured from its start is plausible at
    /// once (handshake or four-letter word), so this costs nothing there.
    fn resync_skip(
        &mut self,
        dir: Direction,
        frame: u32,
        bytes: &[u8],
        max_pdu: u32,
        first_pass: bool,
    ) -> Option<u32> {
        let after_four_letter = self.four_letter_frame.is_some();
        let r = &mut self.resync[dir_index(dir)];
        if !first_pass || r.synced || after_four_letter {
            return r.skips.get(&(frame, bytes.len())).copied();
        }
        if r.segments >= MAX_RESYNC_SEGMENTS {
            r.synced = true;
            return None;
        }
        r.segments += 1;
        let first_word = self.first_client_frame.is_none_or(|f| f == frame);
        let found = (0..bytes.len()).find(|&k| {
            plausible_start(
                dir,
                bytes.get(k..).unwrap_or(&[]),
                max_pdu,
                k == 0 && first_word,
                k > 0,
            )
        });
        let r = &mut self.resync[dir_index(dir)];
        let skip = match found {
            Some(0) => {
                r.synced = true;
                return None;
            }
            Some(k) => {
                r.synced = true;
                k
            }
            None => bytes.len(),
        };
        let skip = u32::try_from(skip).unwrap_or(u32::MAX);
        r.skips.insert((frame, bytes.len()), skip);
        self.continuations.push((frame, skip));
        Some(skip)
    }

    /// True for the bytes skipped at the start of a mid-stream capture (the frame's
    /// first PDU of this length).
    pub fn is_continuation(&self, frame: u32, len: usize) -> bool {
        self.continuations
            .iter()
            .any(|&(f, n)| f == frame && n as usize == len)
    }

    /// True when this side is synchronised from its first payload byte (TCP saw its start).
    pub fn synced_from_start(&self, dir: Direction) -> bool {
        self.sync[dir_index(dir)] == Some(SideSync::FromStart)
    }

    /// True for the PDU that says TCP's facts could not be read for its side (the side's
    /// first PDU dissected on the first pass; looked up on later passes).
    pub fn facts_unavailable_note(
        &mut self,
        dir: Direction,
        key: PduKey,
        first_pass: bool,
    ) -> bool {
        let d = dir_index(dir);
        if first_pass && self.facts_unavailable[d] && self.facts_note[d].is_none() {
            self.facts_note[d] = Some(key);
        }
        self.facts_note[d] == Some(key)
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

    /// First pass: classifies a complete PDU and updates pairing state.
    /// `pdu` is the whole PDU including its length prefix.
    pub fn classify(&mut self, key: PduKey, dir: Direction, time: Nanos, pdu: &[u8]) -> PduKind {
        let kind = self.classify_inner(key, dir, time, pdu);
        self.decisions.insert(key, kind.clone());
        kind
    }

    fn classify_inner(&mut self, key: PduKey, dir: Direction, time: Nanos, pdu: &[u8]) -> PduKind {
        let frame = key.frame;
        if self.four_letter_frame.is_some_and(|f| frame >= f) {
            return match dir {
                Direction::ToServer => PduKind::FourLetterCommand,
                Direction::ToClient => PduKind::FourLetterReply,
            };
        }
        let body = pdu.get(4..).unwrap_or(&[]);
        match dir {
            Direction::ToServer => {
                let first = !self.client_started;
                self.client_started = true;
                // On a side captured from its start the first PDU is the ConnectRequest by
                // position, whatever its length; elsewhere its shape must say so.
                if first && (self.synced_from_start(dir) || parse::looks_like_connect_request(body))
                    || self.looks_like_extended_connect(first, body)
                {
                    self.saw_connect_request = true;
                    let version = be_i32(body, 0).unwrap_or(0);
                    self.opaque = version != 0;
                    let sid = be_u64(body, 16).unwrap_or(0);
                    if sid != 0 {
                        self.session_id = Some(sid);
                    }
                    self.connect_request = Some((key, time));
                    return PduKind::ConnectRequest { response: None };
                }
                if body.len() < 8 {
                    return PduKind::Request {
                        opcode: i32::MIN,
                        response: None,
                        tracked: false,
                        watch: WatchNote::default(),
                    };
                }
                let x = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let opcode = i32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                let path = if self.opaque {
                    None
                } else {
                    request_path(opcode, pdu)
                };
                let mut watch = WatchNote::default();
                let watch_op = if self.opaque {
                    None
                } else {
                    watch_op(opcode, pdu)
                };
                if !self.opaque
                    && matches!(
                        opcode,
                        super::opcode::SET_WATCHES | super::opcode::SET_WATCHES2
                    )
                {
                    // Re-set after a reconnect: the watches exist as soon as the server
                    // reads the request (its reply is empty).
                    for (kind, path) in set_watches_paths(opcode, pdu) {
                        if !self.add_watch(kind, path, key) {
                            watch.untracked = true;
                        }
                    }
                }
                let pending = Pending {
                    frame,
                    time,
                    opcode,
                    path,
                    key,
                    watch: watch_op,
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
            Direction::ToClient => {
                let first = !self.server_started;
                self.server_started = true;
                if first
                    && (self.synced_from_start(dir)
                        || parse::looks_like_connect_response(body)
                        || self.saw_connect_request
                            && body.len() >= 36
                            && body[0..4] == [0; 4]
                            && !self.plausible_reply(body))
                {
                    let sid = be_u64(body, 8).unwrap_or(0);
                    self.session_id = Some(sid).filter(|s| *s != 0).or(self.session_id);
                    let request = self.connect_request.take().map(|(req_key, req_time)| {
                        if let Some(PduKind::ConnectRequest { response }) =
                            self.decisions.get_mut(&req_key)
                        {
                            *response = Some((frame, time));
                        }
                        (req_key.frame, req_time)
                    });
                    return PduKind::ConnectResponse { request };
                }
                if body.len() < 4 {
                    return PduKind::Reply { request: None };
                }
                let x = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                if x == xid::NOTIFICATION {
                    let set_in = self.fire_watches(pdu, frame);
                    return PduKind::Notification { set_in };
                }
                let err = body
                    .get(12..16)
                    .map_or(0, |e| i32::from_be_bytes([e[0], e[1], e[2], e[3]]));
                let found = match control_slot(x) {
                    Some(slot) => self.control[slot].pop_front(),
                    None => self.pending.remove(&x),
                };
                let request = found.map(|p| {
                    if let Some(PduKind::Request { response, .. }) = self.decisions.get_mut(&p.key)
                    {
                        *response = Some((frame, time));
                    }
                    self.apply_watch_op(&p, err);
                    RequestLink {
                        frame: p.frame,
                        time: p.time,
                        opcode: p.opcode,
                        path: p.path,
                    }
                });
                PduKind::Reply { request }
            }
        }
    }

    /// Adds a watch set by the request `key`; false when the table is full.
    fn add_watch(&mut self, kind: WatchKind, path: Rc<str>, key: PduKey) -> bool {
        let setters = self.watches.entry((kind, path)).or_default();
        if setters.contains(&key) {
            return true;
        }
        if self.watch_count >= MAX_WATCHES {
            return false;
        }
        setters.push(key);
        self.watch_count += 1;
        true
    }

    fn remove_watches(&mut self, kind: WatchKind, path: &Rc<str>) {
        if let Some(v) = self.watches.remove(&(kind, path.clone())) {
            self.watch_count = self.watch_count.saturating_sub(v.len());
        }
    }

    /// A reply arrived for a request that sets or removes a watch: the server did so if
    /// the request succeeded (exists also leaves a watch on a missing node).
    fn apply_watch_op(&mut self, p: &Pending, err: i32) {
        use super::opcode as op;
        const NONODE: i32 = -101;
        let ok = err == 0 || (p.opcode == op::EXISTS && err == NONODE);
        match &p.watch {
            Some(WatchOp::Set(kind, path)) if ok => {
                if !self.add_watch(*kind, path.clone(), p.key)
                    && let Some(PduKind::Request { watch, .. }) = self.decisions.get_mut(&p.key)
                {
                    watch.untracked = true;
                }
            }
            Some(WatchOp::Remove(t, path)) if err == 0 => {
                let kinds: &[WatchKind] = match t {
                    1 => &[WatchKind::Child],
                    2 => &[WatchKind::Data],
                    3 => &[
                        WatchKind::Child,
                        WatchKind::Data,
                        WatchKind::Persistent,
                        WatchKind::Recursive,
                    ],
                    4 => &[WatchKind::Persistent],
                    5 => &[WatchKind::Recursive],
                    _ => &[],
                };
                for k in kinds {
                    self.remove_watches(*k, path);
                }
            }
            _ => {}
        }
    }

    /// A notification: the watches it fires, by event type and path. One-shot watches
    /// are consumed; persistent ones stay. Returns the frames of the requests that set
    /// them, and records the notification's frame on each of those requests.
    fn fire_watches(&mut self, pdu: &[u8], frame: u32) -> Vec<u32> {
        let Some(ev) = pdu
            .get(20..)
            .and_then(|b| parse::watcher_event(jute::input(b)).ok())
            .map(|(_, ev)| ev)
        else {
            return Vec::new();
        };
        let Some(path) = ev.path.val.map(|p| String::from_utf8_lossy(p).into_owned()) else {
            return Vec::new();
        };
        // EventType: 1 NodeCreated, 2 NodeDeleted, 3 NodeDataChanged, 4 NodeChildrenChanged.
        let (one_shot, recursive): (&[WatchKind], bool) = match ev.event_type.val {
            1 | 3 => (&[WatchKind::Data], true),
            2 => (&[WatchKind::Data, WatchKind::Child], true),
            4 => (&[WatchKind::Child], false),
            _ => return Vec::new(),
        };
        let path: Rc<str> = Rc::from(path.as_str());
        // One-shot watches are consumed whole (they leave the table); links beyond the cap
        // are dropped, see MAX_WATCH_LINKS.
        let mut keys: Vec<PduKey> = Vec::new();
        for kind in one_shot {
            if let Some(v) = self.watches.remove(&(*kind, path.clone())) {
                self.watch_count = self.watch_count.saturating_sub(v.len());
                keys.extend(
                    v.into_iter()
                        .take(MAX_WATCH_LINKS + 1 - keys.len().min(MAX_WATCH_LINKS)),
                );
            }
        }
        if let Some(v) = self.watches.get(&(WatchKind::Persistent, path.clone())) {
            keys.extend(
                v.iter()
                    .copied()
                    .take(MAX_WATCH_LINKS + 1 - keys.len().min(MAX_WATCH_LINKS)),
            );
        }
        if recursive {
            for anc in ancestors(&path) {
                if keys.len() > MAX_WATCH_LINKS {
                    break;
                }
                if let Some(v) = self.watches.get(&(WatchKind::Recursive, Rc::from(anc))) {
                    keys.extend(v.iter().copied().take(MAX_WATCH_LINKS + 1 - keys.len()));
                }
            }
        }
        keys.truncate(MAX_WATCH_LINKS + 1);
        let mut frames = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(PduKind::Request { watch, .. }) = self.decisions.get_mut(&k) {
                // Frames arrive in increasing order on the first pass: a repeat can only
                // be the last entry.
                if watch.fired_in.last() != Some(&frame) {
                    if watch.fired_in.len() < MAX_WATCH_LINKS {
                        watch.fired_in.push(frame);
                    } else {
                        watch.links_truncated = true;
                    }
                }
            }
            frames.push(k.frame);
        }
        frames.sort_unstable();
        frames.dedup();
        frames
    }

    /// Number of watches currently tracked (for tests and statistics).
    pub fn watch_count(&self) -> usize {
        self.watch_count
    }

    /// ClickHouse Keeper and future clients send a longer ConnectRequest with a protocol
    /// version other than 0; accept it as the first client PDU when its shape fits.
    fn looks_like_extended_connect(&self, first: bool, body: &[u8]) -> bool {
        first && body.len() > 45 && body.len() <= 256 && body[24..28] == [0, 0, 0, 16] && {
            let v = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
            (1..=1000).contains(&v)
        }
    }

    /// A reply header whose xid is pending looks like a reply rather than a handshake.
    fn plausible_reply(&self, body: &[u8]) -> bool {
        let x = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
        self.pending.contains_key(&x)
    }

    /// True once a handshake with protocolVersion != 0 was seen.
    pub fn is_opaque(&self) -> bool {
        self.opaque
    }

    /// Number of requests still waiting for a reply (for tests and statistics).
    pub fn outstanding(&self) -> usize {
        self.pending.len() + self.control.iter().map(VecDeque::len).sum::<usize>()
    }
}

fn be_i32(b: &[u8], at: usize) -> Option<i32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    Some(u64::from_be_bytes([
        s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
    ]))
}

/// The path itself and each of its ancestors up to "/": "/a/b" -> "/a/b", "/a", "/".
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let cur = next?;
        next = match cur.rfind('/') {
            Some(0) if cur.len() > 1 => Some("/"),
            Some(i) if i > 0 => cur.get(..i),
            _ => None,
        };
        Some(cur)
    })
}

/// The watch a request asks for (set or remove), from its body.
fn watch_op(opcode: i32, pdu: &[u8]) -> Option<WatchOp> {
    use super::opcode as op;
    let (_, body) = parse::request_body(opcode, jute::input(pdu.get(12..)?))?.ok()?;
    let rc = |p: Option<&[u8]>| -> Option<Rc<str>> {
        p.map(|b| Rc::from(String::from_utf8_lossy(b).as_ref()))
    };
    match body {
        parse::RequestBody::PathWatch { path, watch } if watch.val => {
            let kind = match opcode {
                op::GET_CHILDREN | op::GET_CHILDREN2 => WatchKind::Child,
                _ => WatchKind::Data,
            };
            Some(WatchOp::Set(kind, rc(path.val)?))
        }
        parse::RequestBody::PathType { path, kind } if opcode == op::ADD_WATCH => {
            let k = match kind.val {
                0 => WatchKind::Persistent,
                1 => WatchKind::Recursive,
                _ => return None,
            };
            Some(WatchOp::Set(k, rc(path.val)?))
        }
        parse::RequestBody::PathType { path, kind } if opcode == op::REMOVE_WATCHES => {
            Some(WatchOp::Remove(kind.val, rc(path.val)?))
        }
        _ => None,
    }
}

/// The watches a setWatches (data, exist, child) or setWatches2 (plus persistent and
/// persistent recursive) request re-sets.
fn set_watches_paths(opcode: i32, pdu: &[u8]) -> Vec<(WatchKind, Rc<str>)> {
    const KINDS: [WatchKind; 5] = [
        WatchKind::Data,
        WatchKind::Data,
        WatchKind::Child,
        WatchKind::Persistent,
        WatchKind::Recursive,
    ];
    let Some(Ok((_, parse::RequestBody::SetWatches { lists, .. }))) = pdu
        .get(12..)
        .and_then(|b| parse::request_body(opcode, jute::input(b)))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (list, kind) in lists.iter().zip(KINDS) {
        for p in &list.val {
            if let Some(b) = p.val {
                out.push((kind, Rc::from(String::from_utf8_lossy(b).as_ref())));
            }
        }
    }
    out
}

/// Could a PDU start at `bytes[0]` in this direction? Used to find the first PDU of a
/// capture that starts mid-stream: the length must be in range, the header values must
/// be ones ZooKeeper sends, and when the whole PDU is in `bytes` its record must parse
/// exactly, and what follows it must look like a PDU start too.
/// When the header is cut off by the end of `bytes`, a plausible length is enough unless
/// `need_header` asks for the whole header (a candidate in the middle of a segment).
pub fn plausible_start(
    dir: Direction,
    bytes: &[u8],
    max_pdu: u32,
    first_word: bool,
    need_header: bool,
) -> bool {
    plausible_at(dir, bytes, max_pdu, first_word, need_header, 2)
}

fn plausible_at(
    dir: Direction,
    bytes: &[u8],
    max_pdu: u32,
    first_word: bool,
    need_header: bool,
    depth: u8,
) -> bool {
    use super::opcode as op;
    if first_word && dir == Direction::ToServer && is_four_letter_word(bytes) {
        return true;
    }
    let Some(len) = bytes
        .get(..4)
        .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    else {
        return false;
    };
    if len < 0 || len as u32 > max_pdu {
        return false;
    }
    let total = len as usize + 4;
    let whole = bytes.get(4..total);
    // In the middle of a segment, a candidate must lie wholly inside it: bytes that only
    // look like a header for a PDU running past the segment are too weak a sign.
    if need_header && whole.is_none() {
        return false;
    }
    let be32 = |o: usize| {
        bytes
            .get(o..o + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let header_ok = match dir {
        Direction::ToServer => {
            if whole.is_some_and(parse::looks_like_connect_request) {
                true
            } else if whole.is_none()
                && !need_header
                && parse::CONNECT_REQUEST_LENS.contains(&(len as u32))
                && be32(4).is_none_or(|v| v == 0)
            {
                // A handshake still arriving in pieces.
                true
            } else {
                let (Some(x), Some(opc)) = (be32(4), be32(8)) else {
                    return !need_header && len >= 8;
                };
                len >= 8
                    && (x >= 0 || matches!(x, xid::PING | xid::AUTH | xid::SET_WATCHES))
                    && super::opcode::name(opc).is_some()
                    && !matches!(opc, op::NOTIFICATION | op::ERROR | op::CREATE_SESSION)
                    && whole.is_none_or(|w| {
                        matches!(parse::request_body(opc, jute::input(w.get(8..).unwrap_or(&[]))),
                            Some(Ok((rest, _))) if rest.fragment().is_empty())
                    })
                    && (!has_path(opc) || {
                        // The path: its length fits the PDU and it starts with '/'.
                        be32(12).is_none_or(|n| n >= 1 && n <= len - 12)
                            && bytes.get(16).is_none_or(|b| *b == b'/')
                    })
            }
        }
        Direction::ToClient => {
            // A handshake reply, whole or still arriving in pieces.
            if whole.is_some_and(parse::looks_like_connect_response)
                || (whole.is_none()
                    && !need_header
                    && parse::CONNECT_RESPONSE_LENS.contains(&(len as u32))
                    && be32(4).is_none_or(|v| v == 0))
            {
                true
            } else {
                let (Some(x), Some(err)) = (be32(4), be32(16)) else {
                    return !need_header && len >= 16;
                };
                let zxid = bytes.get(8..16).map_or(-1, |b| {
                    i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
                });
                len >= 16
                    && (x >= 0
                        || matches!(
                            x,
                            xid::NOTIFICATION | xid::PING | xid::AUTH | xid::SET_WATCHES
                        ))
                    && (-1..1 << 48).contains(&zxid)
                    && super::error_name(err).is_some()
                    && (x != xid::NOTIFICATION
                        || whole.is_none_or(|w| {
                            matches!(parse::watcher_event(jute::input(w.get(16..).unwrap_or(&[]))),
                                Ok((rest, _)) if rest.fragment().is_empty())
                        }))
            }
        }
    };
    if !header_ok {
        return false;
    }
    match bytes.get(total..) {
        Some(next) if next.len() >= 4 && depth > 0 => {
            plausible_at(dir, next, max_pdu, false, false, depth - 1)
        }
        _ => true,
    }
}

/// The path of a request, for showing on its reply. Only opcodes whose record starts with
/// a path have one.
fn request_path(opcode: i32, pdu: &[u8]) -> Option<Rc<str>> {
    if !has_path(opcode) {
        return None;
    }
    let (_, s) = jute::counted(jute::input(pdu.get(12..)?)).ok()?;
    s.val.map(|b| Rc::from(String::from_utf8_lossy(b).as_ref()))
}

/// Requests whose record starts with a path.
fn has_path(opcode: i32) -> bool {
    use super::opcode as op;
    matches!(
        opcode,
        op::CREATE
            | op::DELETE
            | op::EXISTS
            | op::GET_DATA
            | op::SET_DATA
            | op::GET_ACL
            | op::SET_ACL
            | op::GET_CHILDREN
            | op::SYNC
            | op::GET_CHILDREN2
            | op::CHECK
            | op::CREATE2
            | op::CHECK_WATCHES
            | op::REMOVE_WATCHES
            | op::CREATE_CONTAINER
            | op::CREATE_TTL
            | op::GET_EPHEMERALS
            | op::GET_ALL_CHILDREN_NUMBER
            | op::ADD_WATCH
    )
}

#[cfg(test)]
#[path = "tests/session.rs"]
mod tests;
