//! Fuzz harnesses for the pure ZooKeeper layers (`zkh2::zookeeper::{parse, session}`).
//!
//! Shared by the libFuzzer targets (`fuzz/fuzz_targets/*.rs`) and by the replay test
//! (`tests/fuzz_regressions.rs`), which runs every committed seed and regression input
//! through the same code on stable Rust. A harness panics when an invariant breaks.

use super::Script;
use std::collections::HashMap;

use zkh2::common::{At, Direction, PduKey};
use zkh2::jute::{self, Counted, Input};
use zkh2::zookeeper::connection::{Connection, Framing, PduKind};
use zkh2::zookeeper::opcode as op;
use zkh2::zookeeper::parse::{self, ReplyBody, RequestBody};

/// Every opcode a body parser knows, plus a few it does not.
pub const OPCODES: &[i32] = &[
    op::NOTIFICATION,
    op::CREATE,
    op::DELETE,
    op::EXISTS,
    op::GET_DATA,
    op::SET_DATA,
    op::GET_ACL,
    op::SET_ACL,
    op::GET_CHILDREN,
    op::SYNC,
    op::PING,
    op::GET_CHILDREN2,
    op::CHECK,
    op::MULTI,
    op::CREATE2,
    op::RECONFIG,
    op::CHECK_WATCHES,
    op::REMOVE_WATCHES,
    op::CREATE_CONTAINER,
    op::DELETE_CONTAINER,
    op::CREATE_TTL,
    op::MULTI_READ,
    op::AUTH,
    op::SET_WATCHES,
    op::SASL,
    op::GET_EPHEMERALS,
    op::GET_ALL_CHILDREN_NUMBER,
    op::SET_WATCHES2,
    op::ADD_WATCH,
    op::WHO_AM_I,
    op::FILTERED_LIST,
    op::CHECK_NOT_EXISTS,
    op::CREATE_IF_NOT_EXISTS,
    op::REMOVE_RECURSIVE,
    op::CHECK_STAT,
    op::TRY_REMOVE,
    op::FILTERED_LIST_WITH_STATS_AND_DATA,
    op::LIST_RECURSIVE,
    op::CREATE_SESSION,
    op::CLOSE_SESSION,
    op::ERROR,
    10,
    99,
    i32::MAX,
    i32::MIN,
];

/// Checks that every span a parser reports lies inside the PDU.
struct Spans {
    len: usize,
}

impl Spans {
    fn at<T>(&self, a: &At<T>) {
        assert!(
            a.off.checked_add(a.len).is_some_and(|e| e <= self.len),
            "span {}+{} outside a PDU of {} bytes",
            a.off,
            a.len,
            self.len
        );
    }

    fn counted(&self, c: &Counted<'_>) {
        self.at(c);
        assert!(c.len >= 4, "counted field without its length prefix");
        if let Some(b) = c.val {
            assert_eq!(b.len() + 4, c.len, "counted bytes and span disagree");
        }
    }

    fn acls(&self, v: &At<Vec<At<jute::Acl<'_>>>>) {
        self.at(v);
        for a in &v.val {
            self.at(a);
            self.at(&a.val.perms);
            self.at(&a.val.id);
            self.counted(&a.val.id.val.scheme);
            self.counted(&a.val.id.val.id);
            assert!(
                a.off >= v.off && a.end() <= v.end(),
                "element outside its vector"
            );
        }
    }

    fn strings(&self, v: &At<Vec<Counted<'_>>>) {
        self.at(v);
        for s in &v.val {
            self.counted(s);
            assert!(
                s.off >= v.off && s.end() <= v.end(),
                "element outside its vector"
            );
        }
    }

    fn multi_header(&self, h: &At<parse::MultiHeader>) {
        self.at(h);
        self.at(&h.val.op);
        self.at(&h.val.done);
        self.at(&h.val.err);
    }

    fn request(&self, b: &RequestBody<'_>) {
        match b {
            RequestBody::Empty => {}
            RequestBody::Path { path } | RequestBody::Sasl { token: path } => self.counted(path),
            RequestBody::PathWatch { path, watch } => {
                self.counted(path);
                self.at(watch);
            }
            RequestBody::FilteredList {
                path,
                watch,
                list_type,
                with,
            } => {
                self.counted(path);
                self.at(watch);
                self.at(list_type);
                if let Some((a, b)) = with {
                    self.at(a);
                    self.at(b);
                }
            }
            RequestBody::PathLimit { path, limit, .. } => {
                self.counted(path);
                self.at(limit);
            }
            RequestBody::CheckStat {
                path,
                version,
                stat,
            } => {
                self.counted(path);
                self.at(version);
                self.stat(stat);
            }
            RequestBody::Create {
                path,
                data,
                acl,
                flags,
                ttl,
            } => {
                self.counted(path);
                self.counted(data);
                self.acls(acl);
                self.at(flags);
                if let Some(t) = ttl {
                    self.at(t);
                }
            }
            RequestBody::PathVersion { path, version } => {
                self.counted(path);
                self.at(version);
            }
            RequestBody::SetData {
                path,
                data,
                version,
            } => {
                self.counted(path);
                self.counted(data);
                self.at(version);
            }
            RequestBody::SetAcl { path, acl, version } => {
                self.counted(path);
                self.acls(acl);
                self.at(version);
            }
            RequestBody::PathType { path, kind } => {
                self.counted(path);
                self.at(kind);
            }
            RequestBody::AddWatch { path, mode } => {
                self.counted(path);
                self.at(mode);
            }
            RequestBody::Auth {
                auth_type,
                scheme,
                auth,
            } => {
                self.at(auth_type);
                self.counted(scheme);
                self.counted(auth);
            }
            RequestBody::SetWatches {
                relative_zxid,
                lists,
            } => {
                self.at(relative_zxid);
                assert!(lists.len() == 3 || lists.len() == 5);
                for l in lists {
                    self.strings(l);
                }
            }
            RequestBody::Reconfig {
                joining,
                leaving,
                new_members,
                config_id,
            } => {
                self.counted(joining);
                self.counted(leaving);
                self.counted(new_members);
                self.at(config_id);
            }
            RequestBody::Multi { ops, end } => {
                for o in ops {
                    self.multi_header(&o.header);
                    assert!(!o.header.val.done.val, "an op after the done header");
                    assert!(
                        !matches!(o.header.val.op.val, op::MULTI | op::MULTI_READ),
                        "nested multi accepted"
                    );
                    assert!(!matches!(o.body, RequestBody::Multi { .. }));
                    self.request(&o.body);
                }
                if let Some(e) = end {
                    self.multi_header(e);
                    assert!(e.val.done.val);
                }
            }
        }
    }

    fn stat(&self, s: &At<parse::Stat>) {
        self.at(s);
        assert_eq!(s.len, parse::STAT_LEN, "a Stat is always 68 bytes");
    }

    fn reply(&self, b: &ReplyBody<'_>) {
        match b {
            ReplyBody::Empty => {}
            ReplyBody::Path { path } | ReplyBody::Sasl { token: path } => self.counted(path),
            ReplyBody::PathStat { path, stat } => {
                self.counted(path);
                self.stat(stat);
            }
            ReplyBody::Stat { stat } => self.stat(stat),
            ReplyBody::Data { data, stat } => {
                self.counted(data);
                self.stat(stat);
            }
            ReplyBody::Acl { acl, stat } => {
                self.acls(acl);
                self.stat(stat);
            }
            ReplyBody::Children { children, stat } => {
                self.strings(children);
                if let Some(s) = stat {
                    self.stat(s);
                }
            }
            ReplyBody::Number { number } => self.at(number),
            ReplyBody::ChildrenStatsData {
                children,
                stat,
                stats,
                data,
            } => {
                self.strings(children);
                self.stat(stat);
                self.at(stats);
                for s in &stats.val {
                    self.stat(s);
                }
                self.at(data);
                for d in &data.val {
                    self.counted(d);
                }
            }
            ReplyBody::ErrorCode { err } => self.at(err),
            ReplyBody::WhoAmI { clients } => {
                self.at(clients);
                for c in &clients.val {
                    self.at(c);
                    self.counted(&c.val.scheme);
                    self.counted(&c.val.id);
                }
            }
            ReplyBody::Multi { results, end } => {
                for r in results {
                    self.multi_header(&r.header);
                    assert!(!r.header.val.done.val, "a result after the done header");
                    assert!(!matches!(r.body, ReplyBody::Multi { .. }), "nested multi");
                    self.reply(&r.body);
                }
                if let Some(e) = end {
                    self.multi_header(e);
                    assert!(e.val.done.val);
                }
            }
        }
    }
}

/// `rest` must be a suffix of the PDU, at the offset that its location says.
fn check_rest(rest: &Input<'_>, len: usize) {
    assert_eq!(
        rest.location_offset() + rest.fragment().len(),
        len,
        "the remaining input is not the PDU's tail"
    );
}

/// Every record parser over one PDU (`data` includes the 4-byte length prefix, as the
/// dissector passes it): the handshake records, both headers, the notification body, and
/// the request and reply body of every opcode. No parser may panic, every span must lie in
/// the PDU, and parsing must be deterministic.
pub fn zookeeper_parse(data: &[u8]) {
    let len = data.len();
    let s = Spans { len };
    let _ = parse::looks_like_connect_request(data.get(4..).unwrap_or(&[]));
    let _ = parse::looks_like_connect_response(data.get(4..).unwrap_or(&[]));
    let i = jute::input(data);
    let Ok((i, l)) = jute::int(i) else {
        assert!(len < 4);
        return;
    };
    s.at(&l);
    if let Ok((r, c)) = parse::connect_request(i) {
        check_rest(&r, len);
        s.at(&c.protocol_version);
        s.at(&c.last_zxid_seen);
        s.at(&c.timeout);
        s.at(&c.session_id);
        s.counted(&c.passwd);
        if let Some(ro) = c.read_only {
            s.at(&ro);
        }
    }
    if let Ok((r, c)) = parse::connect_response(i) {
        check_rest(&r, len);
        s.at(&c.protocol_version);
        s.at(&c.timeout);
        s.at(&c.session_id);
        s.counted(&c.passwd);
    }
    if let Ok((r, e)) = parse::watcher_event(i) {
        check_rest(&r, len);
        s.at(&e.event_type);
        s.at(&e.state);
        s.counted(&e.path);
    }
    for (r, h) in [false, true]
        .into_iter()
        .filter_map(|xid64| parse::request_header(i, xid64).ok())
    {
        check_rest(&r, len);
        s.at(&h.xid);
        s.at(&h.opcode);
        // The opcode the PDU names, then every other one.
        for &opcode in std::iter::once(&h.opcode.val).chain(OPCODES) {
            if let Some(res) = parse::request_body(opcode, r) {
                match res {
                    Ok((rest, body)) => {
                        check_rest(&rest, len);
                        s.request(&body);
                        // Deterministic: the same bytes give the same record.
                        let again = parse::request_body(opcode, r);
                        assert!(matches!(again, Some(Ok((_, ref b))) if *b == body));
                    }
                    Err(e) => {
                        let f = jute::failure(e);
                        assert!(f.off <= len, "failure offset past the PDU");
                        let _ = f.describe();
                    }
                }
            }
        }
    }
    for (r, h) in [false, true]
        .into_iter()
        .filter_map(|xid64| parse::reply_header(i, xid64).ok())
    {
        check_rest(&r, len);
        s.at(&h.xid);
        s.at(&h.zxid);
        s.at(&h.err);
        for &opcode in OPCODES {
            if let Some(res) = parse::reply_body(opcode, r) {
                match res {
                    Ok((rest, body)) => {
                        check_rest(&rest, len);
                        s.reply(&body);
                    }
                    Err(e) => {
                        let f = jute::failure(e);
                        assert!(f.off <= len, "failure offset past the PDU");
                        let _ = f.describe();
                    }
                }
            }
        }
    }
}

/// Largest PDU the session harness frames (the dissector's default preference is 1 MiB + 64;
/// a smaller cap keeps the fuzzer fast and exercises the bogus-length path).
const MAX_PDU: u32 = 64 * 1024;

/// One first-pass framing call, kept to check the later passes.
struct Framed {
    dir: Direction,
    frame: u32,
    bytes: Vec<u8>,
    result: Framing,
}

/// Runs a two-way conversation through the session state machine the way the dissector
/// does on the first pass, then checks the decisions as later passes see them.
///
/// Input: byte 0 picks the ports (which side is the server, whether a port table matched);
/// then segments, each `flags` byte (bit 0: direction, bit 1: 16-bit length, bits 2-4:
/// frame gap), a length (1 or 2 bytes) and that many payload bytes. Payloads of each
/// direction are concatenated and cut into PDUs with `Connection::framing`, like
/// `tcp_dissect_pdus` does, so PDUs split at arbitrary points.
///
/// Invariants: no panic; a decision read back later has the same kind, opcode and pairing
/// as when it was made (only a request's `response` may be filled in, once, and its watch
/// note grow); pairings are mutual and causal; framing gives the same answer on a later
/// pass; the tables stay within their caps; and the whole run is deterministic.
pub fn zookeeper_session(data: &[u8]) {
    zookeeper_session_checked(data, true);
}

/// `strict = false` skips the invariants that known, still open findings break (see
/// `fuzz/regressions/README.md`), so that a fuzz run can explore past them.
pub fn zookeeper_session_checked(data: &[u8], strict: bool) {
    let first = run_session(data, strict);
    let second = run_session(data, strict);
    assert_eq!(first, second, "the same capture gave different decisions");
}

fn run_session(data: &[u8], strict: bool) -> Vec<(PduKey, PduKind)> {
    let mut script = Script(data);
    let mode = script.byte().unwrap_or(0);
    let (client_port, server_port) = if mode & 1 == 0 {
        (40000 + u32::from(mode >> 2), 2181)
    } else {
        // Server on the higher port: the "lower port is the server" guess is wrong.
        (1024 + u32::from(mode >> 2), 50000)
    };
    let match_port = if mode & 2 == 0 { server_port } else { 0 };

    let mut session = Connection::default();
    let mut buf: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut frame: u32 = 1;
    let mut decided: Vec<(PduKey, PduKind)> = Vec::new();
    let mut framed: Vec<Framed> = Vec::new();

    while let Some(flags) = script.byte() {
        let to_server = flags & 1 == 0;
        let n = script.segment_len(flags);
        frame = frame.saturating_add(1 + u32::from((flags >> 2) & 7));
        let (src, dst) = if to_server {
            (client_port, server_port)
        } else {
            (server_port, client_port)
        };
        let dir = session.direction(src, dst, match_port);
        let side = usize::from(dir == Direction::ToClient);
        buf[side].extend_from_slice(script.bytes(n));
        let time = i64::from(frame) * 1_000_000;
        let mut index = 0u32;
        // tcp_dissect_pdus: frame PDUs while there are bytes for a header.
        while buf[side].len() >= 4 {
            let b = &buf[side];
            let result = session.framing(dir, frame, b, MAX_PDU, true);
            framed.push(Framed {
                dir,
                frame,
                bytes: b.clone(),
                result,
            });
            // As the epan trampoline does: tcp_dissect_pdus takes at least its header.
            let take = match result {
                Framing::Pdu(n) | Framing::FourLetter(n) | Framing::Skip(n) => n as usize,
                Framing::Rest => b.len(),
                // A compressed block's header is not all there yet: wait for more.
                Framing::NeedMore => b.len() + 1,
            }
            .max(4);
            if take > b.len() {
                break; // wait for more segments
            }
            let pdu: Vec<u8> = buf[side].drain(..take).collect();
            let key = PduKey { frame, index };
            index += 1;
            if session.is_four_letter(frame)
                || (key.index == 0 && session.is_continuation(frame, pdu.len()))
            {
                continue;
            }
            let declared = i32::from_be_bytes([pdu[0], pdu[1], pdu[2], pdu[3]]);
            if declared < 0 || declared as u32 > MAX_PDU || declared as usize + 4 != pdu.len() {
                continue; // bogus length: shown undecoded, not classified
            }
            let (_, kind) = session.classify_pdu(key, dir, time, &pdu);
            assert_eq!(session.decision(key), Some(&kind), "decision not stored");
            decided.push((key, kind));
        }
        assert!(
            session.outstanding() <= 4 * zkh2::zookeeper::connection::MAX_PENDING,
            "pending tables beyond their caps"
        );
        assert!(
            session.watch_count() <= zkh2::zookeeper::connection::MAX_WATCHES,
            "watch table beyond its cap"
        );
    }

    // Later passes: framing answers the same from the stored facts.
    for f in &framed {
        let later = session.framing(f.dir, f.frame, &f.bytes, MAX_PDU, false);
        // Finding F1 (fixed): a four-letter word found after another PDU of the client's
        // first frame turned the whole frame into four-letter text on later passes.
        if !strict && later == Framing::Rest && session.is_four_letter(f.frame) {
            continue;
        }
        assert_eq!(
            later, f.result,
            "framing of frame {} changed on a later pass",
            f.frame
        );
    }

    // Later passes: every decision is still there, with the same meaning.
    let mut by_frame: HashMap<u32, Vec<PduKey>> = HashMap::new();
    for (key, _) in &decided {
        by_frame.entry(key.frame).or_default().push(*key);
    }
    let mut now = Vec::with_capacity(decided.len());
    for (key, kind) in &decided {
        let later = session
            .decision(*key)
            .unwrap_or_else(|| panic!("decision for {key:?} lost"))
            .clone();
        same_decision(kind, &later, *key);
        check_pairing(&session, &by_frame, *key, &later);
        now.push((*key, later));
    }
    now
}

/// `later` is what a later pass reads for the PDU that was classified as `first`.
fn same_decision(first: &PduKind, later: &PduKind, key: PduKey) {
    match (first, later) {
        (
            PduKind::Request {
                opcode: o1,
                response: r1,
                tracked: t1,
                watch: w1,
            },
            PduKind::Request {
                opcode: o2,
                response: r2,
                tracked: t2,
                watch: w2,
            },
        ) => {
            assert_eq!((o1, t1), (o2, t2), "request {key:?} changed");
            assert!(r1.is_none() || r1 == r2, "request {key:?} re-paired");
            if r2.is_some() {
                assert!(*t1, "an untracked request {key:?} got a response");
            }
            assert!(
                w2.fired_in.starts_with(&w1.fired_in),
                "request {key:?} lost a fired watch"
            );
            assert!(!w1.untracked || w2.untracked);
        }
        (PduKind::ConnectRequest { response: r1 }, PduKind::ConnectRequest { response: r2 }) => {
            assert!(r1.is_none() || r1 == r2, "connect {key:?} re-paired")
        }
        (a, b) => assert_eq!(a, b, "decision for {key:?} changed"),
    }
}

/// Pairings are causal (a reply comes after its request) and mutual.
fn check_pairing(
    session: &Connection,
    by_frame: &HashMap<u32, Vec<PduKey>>,
    key: PduKey,
    kind: &PduKind,
) {
    match kind {
        PduKind::Reply {
            request: Some(link),
        } => {
            assert!(
                link.frame <= key.frame,
                "reply {key:?} paired with a later frame"
            );
            let mutual = by_frame.get(&link.frame).is_some_and(|keys| {
                keys.iter().any(|k| {
                    matches!(
                        session.decision(*k),
                        Some(PduKind::Request { response: Some((f, _)), .. }) if *f == key.frame
                    )
                })
            });
            assert!(
                mutual,
                "reply {key:?} names request frame {} which does not name it",
                link.frame
            );
        }
        PduKind::Request {
            response, watch, ..
        } => {
            if let Some((f, _)) = response {
                assert!(
                    *f >= key.frame,
                    "request {key:?} answered before it was sent"
                );
            }
            for f in &watch.fired_in {
                assert!(
                    *f >= key.frame,
                    "request {key:?}'s watch fired before it was set"
                );
            }
        }
        PduKind::Notification { set_in } => {
            for f in set_in {
                assert!(*f <= key.frame, "notification {key:?} fired a later watch");
            }
        }
        PduKind::ConnectResponse {
            request: Some((f, _)),
        } => assert!(
            *f <= key.frame,
            "handshake reply {key:?} before its request"
        ),
        PduKind::ConnectRequest {
            response: Some((f, _)),
        } => assert!(
            *f >= key.frame,
            "handshake {key:?} answered before it was sent"
        ),
        _ => {}
    }
}
