//! Per-connection state: which side is the server, the handshake, four-letter words, and
//! pairing each reply with its request. Pure Rust, no Wireshark.
//!
//! Every decision is made once, on the first pass, in capture order, and stored per PDU
//! (`PduKey`). Later passes (tshark -2, GUI clicks in any order) only look decisions up, so
//! the tree of a packet never depends on what was dissected before it.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use super::fields::FOUR_LETTER_WORDS;
use super::parse;
use super::xid;

/// Nanoseconds since the Unix epoch.
pub type Nanos = i64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    ToServer,
    ToClient,
}

/// One PDU: the frame it completes in, and its position among the PDUs of that frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PduKey {
    pub frame: u32,
    pub index: u32,
}

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
    },
    Reply {
        request: Option<RequestLink>,
    },
    Notification,
    /// After a handshake with protocolVersion != 0 (ClickHouse Keeper extensions): headers
    /// are shown, bodies are not decoded.
    Opaque,
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
}

/// The state of one ZooKeeper connection.
#[derive(Debug, Default)]
pub struct Session {
    /// The server's TCP port, once known (from the port table or the handshake).
    pub server_port: Option<u32>,
    /// Frame of the client's first bytes, where a four-letter word can appear.
    first_client_frame: Option<u32>,
    /// Frame of the four-letter word, when this connection carries one.
    four_letter_frame: Option<u32>,
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
}

impl Session {
    /// Decides the direction of a segment. `match_port` is the port that selected the
    /// dissector (port table or Decode As), 0 if none.
    pub fn direction(&mut self, src_port: u32, dst_port: u32, match_port: u32) -> Direction {
        if self.server_port.is_none()
            && match_port != 0
            && (match_port == src_port || match_port == dst_port)
        {
            self.server_port = Some(match_port);
        }
        match self.server_port {
            Some(p) if p == src_port && p != dst_port => Direction::ToClient,
            Some(_) => Direction::ToServer,
            // No port known: the lower port is the usual guess for the server.
            None if src_port < dst_port => Direction::ToClient,
            None => Direction::ToServer,
        }
    }

    /// Framing of the bytes at the start of a PDU (`bytes` holds at least 4 bytes).
    /// Deterministic across passes: it only depends on the frame and on facts recorded the
    /// first time the connection's first bytes went by.
    pub fn framing(&mut self, dir: Direction, frame: u32, bytes: &[u8], max_pdu: u32) -> Framing {
        if dir == Direction::ToServer {
            let first = *self.first_client_frame.get_or_insert(frame);
            if first == frame && is_four_letter_word(bytes) {
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
        Framing::Pdu(len as u32 + 4)
    }

    /// Records the server's port when a heuristic recognised the handshake.
    pub fn set_server_port(&mut self, port: u32) {
        self.server_port.get_or_insert(port);
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
                if first && parse::looks_like_connect_request(body)
                    || self.looks_like_extended_connect(first, body)
                {
                    self.saw_connect_request = true;
                    let version = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                    self.opaque = version != 0;
                    let sid = u64::from_be_bytes([
                        body[16], body[17], body[18], body[19], body[20], body[21], body[22],
                        body[23],
                    ]);
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
                    };
                }
                let x = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let opcode = i32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                let path = if self.opaque {
                    None
                } else {
                    request_path(opcode, pdu)
                };
                let pending = Pending {
                    frame,
                    time,
                    opcode,
                    path,
                    key,
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
                }
            }
            Direction::ToClient => {
                let first = !self.server_started;
                self.server_started = true;
                if first
                    && (parse::looks_like_connect_response(body)
                        || self.saw_connect_request
                            && body.len() >= 36
                            && body[0..4] == [0; 4]
                            && !self.plausible_reply(body))
                {
                    let sid = u64::from_be_bytes([
                        body[8], body[9], body[10], body[11], body[12], body[13], body[14],
                        body[15],
                    ]);
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
                    return PduKind::Notification;
                }
                let found = match control_slot(x) {
                    Some(slot) => self.control[slot].pop_front(),
                    None => self.pending.remove(&x),
                };
                let request = found.map(|p| {
                    if let Some(PduKind::Request { response, .. }) = self.decisions.get_mut(&p.key)
                    {
                        *response = Some((frame, time));
                    }
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

/// The path of a request, for showing on its reply. Only opcodes whose record starts with
/// a path have one.
fn request_path(opcode: i32, pdu: &[u8]) -> Option<Rc<str>> {
    use super::opcode as op;
    let has_path = matches!(
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
    );
    if !has_path {
        return None;
    }
    let (_, s) = parse::counted(parse::input(pdu.get(12..)?)).ok()?;
    s.val.map(|b| Rc::from(String::from_utf8_lossy(b).as_ref()))
}

#[cfg(test)]
#[path = "tests/session.rs"]
mod tests;
