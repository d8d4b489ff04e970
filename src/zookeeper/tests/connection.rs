//! Unit tests of `zookeeper::connection`, on byte arrays.

use super::*;

impl Connection {
    /// The decision alone, as the dissector's first pass makes it.
    fn classify(&mut self, key: PduKey, dir: Direction, time: Nanos, bytes: &[u8]) -> PduKind {
        self.classify_pdu(key, dir, time, bytes).1
    }
}

fn pdu(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

fn request(x: i32, op: i32, rest: &[u8]) -> Vec<u8> {
    let mut b = x.to_be_bytes().to_vec();
    b.extend_from_slice(&op.to_be_bytes());
    b.extend_from_slice(rest);
    pdu(&b)
}

fn reply(x: i32, err: i32) -> Vec<u8> {
    let mut b = x.to_be_bytes().to_vec();
    b.extend_from_slice(&7i64.to_be_bytes());
    b.extend_from_slice(&err.to_be_bytes());
    pdu(&b)
}

fn connect_request() -> Vec<u8> {
    let mut b = vec![0u8; 12];
    b.extend_from_slice(&30000i32.to_be_bytes());
    b.extend_from_slice(&[0u8; 8]);
    b.extend_from_slice(&16i32.to_be_bytes());
    b.extend_from_slice(&[0u8; 16]);
    b.push(0);
    pdu(&b)
}

fn connect_response(sid: u64) -> Vec<u8> {
    let mut b = vec![0u8; 4];
    b.extend_from_slice(&30000i32.to_be_bytes());
    b.extend_from_slice(&sid.to_be_bytes());
    b.extend_from_slice(&16i32.to_be_bytes());
    b.extend_from_slice(&[7u8; 16]);
    b.push(0);
    pdu(&b)
}

fn key(frame: u32) -> PduKey {
    PduKey { frame, index: 0 }
}

#[test]
fn handshake_then_paired_request() {
    let mut s = Connection::default();
    assert_eq!(s.direction(40000, 2181, 2181), Direction::ToServer);
    assert_eq!(
        s.classify(key(1), Direction::ToServer, 0, &connect_request()),
        PduKind::ConnectRequest { response: None }
    );
    assert_eq!(
        s.classify(key(2), Direction::ToClient, 5, &connect_response(0xabc)),
        PduKind::ConnectResponse {
            request: Some((1, 0))
        }
    );
    assert_eq!(
        s.decision(key(1)),
        Some(&PduKind::ConnectRequest {
            response: Some((2, 5))
        })
    );
    assert_eq!(s.session_id, Some(0xabc));
    let get = request(1, 4, &[0, 0, 0, 2, b'/', b'a', 0]);
    assert!(matches!(
        s.classify(key(3), Direction::ToServer, 100, &get),
        PduKind::Request { opcode: 4, .. }
    ));
    let PduKind::Reply {
        request: Some(link),
    } = s.classify(key(4), Direction::ToClient, 250, &reply(1, -101))
    else {
        panic!("reply not paired")
    };
    assert_eq!(
        (link.frame, link.time, link.opcode, link.path.as_deref()),
        (3, 100, 4, Some("/a"))
    );
    // The request now knows its response.
    assert_eq!(
        s.decision(key(3)),
        Some(&PduKind::Request {
            opcode: 4,
            response: Some((4, 250)),
            tracked: true,
            watch: WatchNote::default(),
        })
    );
    assert_eq!(s.outstanding(), 0);
}

#[test]
fn control_xids_pair_in_fifo_order_and_auth_overtakes() {
    let mut s = Connection::default();
    s.classify(key(1), Direction::ToServer, 0, &request(-2, 11, &[]));
    s.classify(
        key(2),
        Direction::ToServer,
        0,
        &request(5, 3, &[0, 0, 0, 1, b'/', 0]),
    );
    s.classify(key(3), Direction::ToServer, 0, &request(-2, 11, &[]));
    s.classify(
        key(4),
        Direction::ToServer,
        0,
        &request(-4, 100, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    );
    // The auth reply overtakes the queued exists reply.
    let r = s.classify(key(5), Direction::ToClient, 0, &reply(-4, 0));
    assert!(matches!(
        r,
        PduKind::Reply {
            request: Some(RequestLink { frame: 4, .. })
        }
    ));
    let r = s.classify(key(6), Direction::ToClient, 0, &reply(-2, 0));
    assert!(matches!(
        r,
        PduKind::Reply {
            request: Some(RequestLink { frame: 1, .. })
        }
    ));
    let r = s.classify(key(7), Direction::ToClient, 0, &reply(5, 0));
    assert!(matches!(
        r,
        PduKind::Reply {
            request: Some(RequestLink { frame: 2, .. })
        }
    ));
    let r = s.classify(key(8), Direction::ToClient, 0, &reply(-2, 0));
    assert!(matches!(
        r,
        PduKind::Reply {
            request: Some(RequestLink { frame: 3, .. })
        }
    ));
    // A second reply to the same ping has no request left.
    assert_eq!(
        s.classify(key(9), Direction::ToClient, 0, &reply(-2, 0)),
        PduKind::Reply { request: None }
    );
}

#[test]
fn notification_is_not_paired() {
    let mut s = Connection::default();
    s.classify(
        key(1),
        Direction::ToServer,
        0,
        &request(1, 4, &[0, 0, 0, 1, b'/', 1]),
    );
    assert_eq!(
        s.classify(key(2), Direction::ToClient, 0, &reply(-1, 0)),
        PduKind::Notification { set_in: vec![] }
    );
    assert_eq!(s.outstanding(), 1);
}

#[test]
fn midstream_reply_is_unpaired() {
    let mut s = Connection::default();
    assert_eq!(
        s.classify(key(1), Direction::ToClient, 0, &reply(9, 0)),
        PduKind::Reply { request: None }
    );
}

#[test]
fn four_letter_word_and_its_text_reply() {
    let mut s = Connection::default();
    assert_eq!(
        s.framing(Direction::ToServer, 4, b"ruok", DEFAULT_MAX, true),
        Framing::Rest
    );
    assert_eq!(
        s.classify(key(4), Direction::ToServer, 0, b"ruok"),
        PduKind::FourLetterCommand
    );
    // The reply is text whatever its first bytes say.
    assert_eq!(
        s.framing(Direction::ToClient, 6, b"imok", DEFAULT_MAX, true),
        Framing::Rest
    );
    assert_eq!(
        s.classify(key(6), Direction::ToClient, 0, b"imok"),
        PduKind::FourLetterReply
    );
    // stmk carries an 8-byte mask.
    let mut s = Connection::default();
    assert_eq!(
        s.framing(Direction::ToServer, 4, b"stmk", DEFAULT_MAX, true),
        Framing::FourLetter(12)
    );
}

const DEFAULT_MAX: u32 = super::super::DEFAULT_MAX_PDU;

#[test]
fn bogus_lengths_do_not_wait() {
    let mut s = Connection::default();
    s.framing(Direction::ToServer, 1, &[0, 0, 0, 44], DEFAULT_MAX, true);
    assert_eq!(
        s.framing(
            Direction::ToServer,
            2,
            &[0xff, 0xff, 0xff, 0xf0],
            DEFAULT_MAX,
            true
        ),
        Framing::Rest
    );
    assert_eq!(
        s.framing(
            Direction::ToServer,
            2,
            &[0x7f, 0xff, 0xff, 0xff],
            DEFAULT_MAX,
            true
        ),
        Framing::Rest
    );
    assert_eq!(
        s.framing(Direction::ToServer, 2, &[0, 0, 0, 8], DEFAULT_MAX, true),
        Framing::Pdu(12)
    );
}

#[test]
fn pending_table_is_capped() {
    let mut s = Connection::default();
    for x in 1..=(MAX_PENDING as i32 + 10) {
        s.classify(
            key(x as u32),
            Direction::ToServer,
            0,
            &request(x, 3, &[0, 0, 0, 1, b'/', 0]),
        );
    }
    assert_eq!(s.outstanding(), MAX_PENDING);
    let last = key(MAX_PENDING as u32 + 10);
    assert!(matches!(
        s.decision(last),
        Some(PduKind::Request { tracked: false, .. })
    ));
}

#[test]
fn direction_from_port_table_and_fallback() {
    let mut s = Connection::default();
    assert_eq!(s.direction(2181, 50000, 2181), Direction::ToClient);
    assert_eq!(s.direction(50000, 2181, 0), Direction::ToServer);
    let mut s = Connection::default();
    assert_eq!(s.direction(2999, 50000, 0), Direction::ToClient);
}

fn path_watch(path: &str, watch: bool) -> Vec<u8> {
    let mut b = (path.len() as i32).to_be_bytes().to_vec();
    b.extend_from_slice(path.as_bytes());
    b.push(watch as u8);
    b
}

fn path_type(path: &str, t: i32) -> Vec<u8> {
    let mut b = (path.len() as i32).to_be_bytes().to_vec();
    b.extend_from_slice(path.as_bytes());
    b.extend_from_slice(&t.to_be_bytes());
    b
}

fn event(ty: i32, path: &str) -> Vec<u8> {
    let mut b = (-1i32).to_be_bytes().to_vec();
    b.extend_from_slice(&(-1i64).to_be_bytes());
    b.extend_from_slice(&0i32.to_be_bytes());
    b.extend_from_slice(&ty.to_be_bytes());
    b.extend_from_slice(&3i32.to_be_bytes());
    b.extend_from_slice(&(path.len() as i32).to_be_bytes());
    b.extend_from_slice(path.as_bytes());
    pdu(&b)
}

fn set_in(s: &mut Connection, frame: u32, ev: &[u8]) -> Vec<u32> {
    match s.classify(key(frame), Direction::ToClient, 0, ev) {
        PduKind::Notification { set_in } => set_in,
        k => panic!("not a notification: {k:?}"),
    }
}

fn fired_in(s: &Connection, frame: u32) -> Vec<u32> {
    match s.decision(key(frame)) {
        Some(PduKind::Request { watch, .. }) => watch.fired_in.clone(),
        k => panic!("not a request: {k:?}"),
    }
}

#[test]
fn one_shot_watches_link_and_are_consumed() {
    let mut s = Connection::default();
    // getData /a watch=true (frame 1), reply OK (2).
    s.classify(
        key(1),
        Direction::ToServer,
        0,
        &request(1, 4, &path_watch("/a", true)),
    );
    s.classify(key(2), Direction::ToClient, 0, &reply(1, 0));
    // exists /b watch=true on a missing node still sets a watch (3, 4 NONODE).
    s.classify(
        key(3),
        Direction::ToServer,
        0,
        &request(2, 3, &path_watch("/b", true)),
    );
    s.classify(key(4), Direction::ToClient, 0, &reply(2, -101));
    // getData /c watch=true answered NONODE sets none (5, 6).
    s.classify(
        key(5),
        Direction::ToServer,
        0,
        &request(3, 4, &path_watch("/c", true)),
    );
    s.classify(key(6), Direction::ToClient, 0, &reply(3, -101));
    // getChildren /a watch=true (7, 8).
    s.classify(
        key(7),
        Direction::ToServer,
        0,
        &request(4, 8, &path_watch("/a", true)),
    );
    s.classify(key(8), Direction::ToClient, 0, &reply(4, 0));
    assert_eq!(s.watch_count(), 3);

    assert_eq!(set_in(&mut s, 9, &event(3, "/a")), vec![1]); // NodeDataChanged
    assert_eq!(set_in(&mut s, 10, &event(3, "/a")), Vec::<u32>::new()); // consumed
    assert_eq!(set_in(&mut s, 11, &event(1, "/b")), vec![3]); // NodeCreated
    assert_eq!(set_in(&mut s, 12, &event(1, "/c")), Vec::<u32>::new());
    assert_eq!(set_in(&mut s, 13, &event(4, "/a")), vec![7]); // NodeChildrenChanged
    assert_eq!(fired_in(&s, 1), vec![9]);
    assert_eq!(fired_in(&s, 3), vec![11]);
    assert_eq!(fired_in(&s, 5), Vec::<u32>::new());
    assert_eq!(fired_in(&s, 7), vec![13]);
    assert_eq!(s.watch_count(), 0);
}

#[test]
fn persistent_and_recursive_watches_stay_and_match_descendants() {
    let mut s = Connection::default();
    s.classify(
        key(1),
        Direction::ToServer,
        0,
        &request(1, 106, &path_type("/p", 0)),
    );
    s.classify(key(2), Direction::ToClient, 0, &reply(1, 0));
    s.classify(
        key(3),
        Direction::ToServer,
        0,
        &request(2, 106, &path_type("/r", 1)),
    );
    s.classify(key(4), Direction::ToClient, 0, &reply(2, 0));
    assert_eq!(set_in(&mut s, 5, &event(4, "/p")), vec![1]);
    assert_eq!(set_in(&mut s, 6, &event(3, "/p")), vec![1]);
    assert_eq!(set_in(&mut s, 7, &event(1, "/r/x/y")), vec![3]);
    assert_eq!(set_in(&mut s, 8, &event(3, "/r")), vec![3]);
    // Recursive watches do not get NodeChildrenChanged; /rr is not below /r.
    assert_eq!(set_in(&mut s, 9, &event(4, "/r")), Vec::<u32>::new());
    assert_eq!(set_in(&mut s, 10, &event(1, "/rr")), Vec::<u32>::new());
    // A persistent watch is not recursive.
    assert_eq!(set_in(&mut s, 11, &event(1, "/p/child")), Vec::<u32>::new());
    assert_eq!(fired_in(&s, 1), vec![5, 6]);
    assert_eq!(fired_in(&s, 3), vec![7, 8]);
    // removeWatches /r (PersistentRecursive) removes it.
    s.classify(
        key(12),
        Direction::ToServer,
        0,
        &request(3, 18, &path_type("/r", 5)),
    );
    s.classify(key(13), Direction::ToClient, 0, &reply(3, 0));
    assert_eq!(set_in(&mut s, 14, &event(3, "/r")), Vec::<u32>::new());
}

#[test]
fn set_watches_after_reconnect_sets_watches() {
    let mut s = Connection::default();
    // setWatches2 xid -8: data [/d], exist [/e], child [/c], persistent [], recursive [/r].
    let mut b = 5i64.to_be_bytes().to_vec();
    for list in [&["/d"][..], &["/e"], &["/c"], &[], &["/r"]] {
        b.extend_from_slice(&(list.len() as i32).to_be_bytes());
        for p in list {
            b.extend_from_slice(&(p.len() as i32).to_be_bytes());
            b.extend_from_slice(p.as_bytes());
        }
    }
    s.classify(key(1), Direction::ToServer, 0, &request(-8, 105, &b));
    assert_eq!(s.watch_count(), 4);
    assert_eq!(set_in(&mut s, 2, &event(2, "/e")), vec![1]);
    assert_eq!(set_in(&mut s, 3, &event(4, "/c")), vec![1]);
    assert_eq!(set_in(&mut s, 4, &event(3, "/r/z")), vec![1]);
    assert_eq!(fired_in(&s, 1), vec![2, 3, 4]);
}

#[test]
fn watch_table_is_capped() {
    let mut s = Connection::default();
    for x in 0..(MAX_WATCHES as i32 + 2) {
        let f = 2 * x as u32 + 1;
        let p = format!("/n{x}");
        s.classify(
            key(f),
            Direction::ToServer,
            0,
            &request(x + 1, 3, &path_watch(&p, true)),
        );
        s.classify(key(f + 1), Direction::ToClient, 0, &reply(x + 1, 0));
    }
    assert_eq!(s.watch_count(), MAX_WATCHES);
    let last = 2 * (MAX_WATCHES as u32 + 1) + 1;
    assert!(matches!(
        s.decision(key(last)),
        Some(PduKind::Request { watch, .. }) if watch.untracked
    ));
}

#[test]
fn midstream_start_skips_to_the_next_plausible_pdu() {
    let mut s = Connection::default();
    // The tail of a create request (from the synthetic mid-stream capture) then a
    // getData request.
    let tail: &[u8] = &[
        0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0x2f, 0x61, 0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o',
    ];
    let get = request(7, 4, &path_watch("/a", false));
    let mut seg = tail.to_vec();
    seg.extend_from_slice(&get);
    assert_eq!(
        s.framing(Direction::ToServer, 1, &seg, DEFAULT_MAX, true),
        Framing::Skip(tail.len() as u32)
    );
    assert!(s.is_continuation(1, tail.len()));
    assert_eq!(
        s.framing(Direction::ToServer, 1, &get, DEFAULT_MAX, true),
        Framing::Pdu(get.len() as u32)
    );
    // Later passes give the same answer.
    assert_eq!(
        s.framing(Direction::ToServer, 1, &seg, DEFAULT_MAX, false),
        Framing::Skip(tail.len() as u32)
    );
    // A segment with no plausible start at all is skipped whole.
    let mut s = Connection::default();
    assert_eq!(
        s.framing(Direction::ToClient, 3, tail, DEFAULT_MAX, true),
        Framing::Skip(tail.len() as u32)
    );
    // A clean start (handshake) is never skipped.
    let mut s = Connection::default();
    let c = connect_request();
    assert_eq!(
        s.framing(Direction::ToServer, 1, &c, DEFAULT_MAX, true),
        Framing::Pdu(c.len() as u32)
    );
}

#[test]
fn unknown_opcode_stays_paired() {
    let mut s = Connection::default();
    s.classify(key(1), Direction::ToServer, 0, &request(5, 501, &[1, 2, 3]));
    let PduKind::Reply { request: Some(l) } =
        s.classify(key(2), Direction::ToClient, 0, &reply(5, 0))
    else {
        panic!("unknown opcode reply not paired")
    };
    assert_eq!(l.opcode, 501);
}

#[test]
fn watch_links_are_capped_both_ways() {
    let mut s = Connection::default();
    // More persistent watches on one path than links are kept...
    let setters = MAX_WATCH_LINKS as i32 + 5;
    for x in 0..setters {
        let f = 2 * x as u32 + 1;
        s.classify(
            key(f),
            Direction::ToServer,
            0,
            &request(x + 1, 106, &path_type("/p", 0)),
        );
        s.classify(key(f + 1), Direction::ToClient, 0, &reply(x + 1, 0));
    }
    let first_event = 2 * setters as u32 + 1;
    let linked = set_in(&mut s, first_event, &event(3, "/p"));
    assert_eq!(
        linked.len(),
        MAX_WATCH_LINKS + 1,
        "one past the cap marks truncation"
    );
    // ...and a persistent watch that fires more often than links are kept.
    for n in 1..=(MAX_WATCH_LINKS as u32 + 3) {
        set_in(&mut s, first_event + n, &event(3, "/p"));
    }
    assert_eq!(fired_in(&s, 1).len(), MAX_WATCH_LINKS);
    assert!(matches!(
        s.decision(key(1)),
        Some(PduKind::Request { watch, .. }) if watch.links_truncated
    ));
}

/// tokio-zookeeper 0.4's ConnectRequest: 29 bytes, timeOut 0, an empty password, readOnly.
fn tokio_connect_request() -> Vec<u8> {
    let mut b = vec![0u8; 12];
    b.extend_from_slice(&0i32.to_be_bytes());
    b.extend_from_slice(&[0u8; 8]);
    b.extend_from_slice(&0i32.to_be_bytes());
    b.push(0);
    pdu(&b)
}

#[test]
fn short_connect_forms_are_recognised_by_shape() {
    let c = tokio_connect_request();
    assert_eq!(c.len(), 33);
    assert!(parse::looks_like_connect_request(&c[4..]));
    // Without readOnly: 28 bytes.
    assert!(parse::looks_like_connect_request(&c[4..32]));
    assert!(plausible_start(
        Direction::ToServer,
        &c,
        1 << 20,
        true,
        false
    ));
    // A password length that does not match the body is not a handshake.
    let mut bad = c.clone();
    bad[31] = 16;
    assert!(!parse::looks_like_connect_request(&bad[4..]));
    // Without TCP's facts the shape alone decides, and the short form is accepted.
    let mut s = Connection::default();
    assert_eq!(
        s.framing(Direction::ToServer, 1, &c, 1 << 20, true),
        Framing::Pdu(33)
    );
    assert_eq!(
        s.classify(key(1), Direction::ToServer, 0, &c),
        PduKind::ConnectRequest { response: None }
    );
}

#[test]
fn a_side_captured_from_its_start_begins_with_the_handshake_whatever_its_length() {
    // A ConnectRequest of an odd length (30 bytes) would never pass for one by its shape.
    let mut odd = tokio_connect_request();
    odd.push(0);
    odd[3] = 30;
    let mut s = Connection::default();
    let f = s.framing_at(Direction::ToServer, 4, &odd, 1 << 20, true, || {
        StreamStart::At(0)
    });
    assert_eq!(f, Framing::Pdu(34));
    assert!(s.synced_from_start(Direction::ToServer));
    assert_eq!(
        s.classify(key(4), Direction::ToServer, 0, &odd),
        PduKind::ConnectRequest { response: None }
    );
    // The first server PDU is the response, by position too.
    let resp = connect_response(0x1234);
    s.framing_at(Direction::ToClient, 6, &resp, 1 << 20, true, || {
        StreamStart::At(0)
    });
    assert_eq!(
        s.classify(key(6), Direction::ToClient, 9, &resp),
        PduKind::ConnectResponse {
            request: Some((4, 0))
        }
    );
    assert_eq!(s.session_id, Some(0x1234));
}

#[test]
fn the_start_is_asked_once_per_side_and_only_on_the_first_pass() {
    let c = connect_request();
    let mut s = Connection::default();
    let mut asked = 0;
    for frame in [1, 1, 2] {
        s.framing_at(Direction::ToServer, frame, &c, 1 << 20, true, || {
            asked += 1;
            StreamStart::At(0)
        });
    }
    s.framing_at(Direction::ToClient, 3, &c, 1 << 20, false, || {
        asked += 1;
        StreamStart::At(0)
    });
    assert_eq!(asked, 1);
}

#[test]
fn a_side_whose_start_is_missing_is_searched_for_a_pdu_start() {
    // The capture began 3 bytes into a getData request: with no SYN for the side, those
    // bytes are skipped, as they are when TCP's facts cannot be read.
    let get = request(5, 4, b"\x00\x00\x00\x02/a\x00");
    let mut bytes = get[get.len() - 3..].to_vec();
    bytes.extend_from_slice(&get);
    for start in [
        StreamStart::NoSyn,
        StreamStart::At(50),
        StreamStart::Unavailable,
    ] {
        let mut s = Connection::default();
        let f = s.framing_at(Direction::ToServer, 7, &bytes, 1 << 20, true, || start);
        assert_eq!(f, Framing::Skip(3), "{start:?}");
        assert!(!s.synced_from_start(Direction::ToServer));
    }
    // From the side's first byte the same bytes are a PDU (here a bogus one), never skipped.
    let mut s = Connection::default();
    let f = s.framing_at(Direction::ToServer, 7, &bytes, 1 << 20, true, || {
        StreamStart::At(0)
    });
    assert!(!matches!(f, Framing::Skip(_)), "{f:?}");
}

#[test]
fn facts_unavailable_are_noted_on_the_sides_first_pdu() {
    let c = connect_request();
    let mut s = Connection::default();
    s.framing_at(Direction::ToServer, 4, &c, 1 << 20, true, || {
        StreamStart::Unavailable
    });
    assert!(s.facts_unavailable_note(Direction::ToServer, key(4), true));
    assert!(!s.facts_unavailable_note(Direction::ToServer, key(8), true));
    // Later passes: the same PDU, and only it.
    assert!(s.facts_unavailable_note(Direction::ToServer, key(4), false));
    assert!(!s.facts_unavailable_note(Direction::ToClient, key(4), false));
}

/// ClickHouse's XID_64 ConnectRequest (protocol version 11): the compression flag after
/// the version, and a length prefix of 45 for 46 bytes.
fn clickhouse_connect_request(version: i32, compression: bool) -> Vec<u8> {
    let mut b = 45u32.to_be_bytes().to_vec();
    b.extend_from_slice(&version.to_be_bytes());
    b.push(u8::from(compression));
    b.extend_from_slice(&[0u8; 8]);
    b.extend_from_slice(&30000i32.to_be_bytes());
    b.extend_from_slice(&[0u8; 8]);
    b.extend_from_slice(&16i32.to_be_bytes());
    b.extend_from_slice(&[0u8; 16]);
    b.push(1);
    b
}

fn connect_response_version(version: i32, sid: u64) -> Vec<u8> {
    let mut b = connect_response(sid);
    b.truncate(40); // Keeper sends 36 bytes, no readOnly
    b[3] = 36;
    b[4..8].copy_from_slice(&version.to_be_bytes());
    b
}

#[test]
fn xid64_connection_frames_its_handshake_and_pairs_64_bit_xids() {
    let mut s = Connection::default();
    let hello = clickhouse_connect_request(11, false);
    // One byte past the length prefix, on every pass.
    let f = s.framing_at(Direction::ToServer, 4, &hello, 1 << 20, true, || {
        StreamStart::At(0)
    });
    assert_eq!(f, Framing::Pdu(50));
    assert_eq!(
        s.framing(Direction::ToServer, 4, &hello, 1 << 20, false),
        Framing::Pdu(50)
    );
    assert!(s.is_extended_connect(4, 50));
    assert_eq!(
        s.classify(key(4), Direction::ToServer, 0, &hello),
        PduKind::ConnectRequest { response: None }
    );
    assert_eq!(s.wire(), Wire::Xid64);
    let resp = connect_response_version(11, 0x77);
    s.framing_at(Direction::ToClient, 5, &resp, 1 << 20, true, || {
        StreamStart::At(0)
    });
    assert!(matches!(
        s.classify(key(5), Direction::ToClient, 1, &resp),
        PduKind::ConnectResponse { request: Some(_) }
    ));
    // removeRecursive with an xid above i32::MAX, and its reply.
    let x = i64::from(i32::MAX) + 5;
    let mut req = x.to_be_bytes().to_vec();
    req.extend_from_slice(&503i32.to_be_bytes());
    req.extend_from_slice(&[0, 0, 0, 2, b'/', b't', 0, 0, 0, 9]);
    let req = pdu(&req);
    assert_eq!(
        s.framing(Direction::ToServer, 6, &req, 1 << 20, true),
        Framing::Pdu(req.len() as u32)
    );
    assert!(matches!(
        s.classify(key(6), Direction::ToServer, 2, &req),
        PduKind::Request {
            opcode: 503,
            tracked: true,
            ..
        }
    ));
    // A 32-bit xid equal to the low half must not pair with it.
    let mut rep = x.to_be_bytes().to_vec();
    rep.extend_from_slice(&3i64.to_be_bytes());
    rep.extend_from_slice(&0i32.to_be_bytes());
    let PduKind::Reply {
        request: Some(link),
    } = s.classify(key(7), Direction::ToClient, 3, &pdu(&rep))
    else {
        panic!("reply not paired")
    };
    assert_eq!(
        (link.frame, link.opcode, link.path.as_deref()),
        (6, 503, Some("/t"))
    );
    // A ping on a 64-bit connection: xid -2, 8 bytes wide, paired in order.
    let mut ping = (-2i64).to_be_bytes().to_vec();
    ping.extend_from_slice(&11i32.to_be_bytes());
    s.classify(key(8), Direction::ToServer, 4, &pdu(&ping));
    let mut pong = (-2i64).to_be_bytes().to_vec();
    pong.extend_from_slice(&3i64.to_be_bytes());
    pong.extend_from_slice(&0i32.to_be_bytes());
    assert!(matches!(
        s.classify(key(9), Direction::ToClient, 5, &pdu(&pong)),
        PduKind::Reply {
            request: Some(RequestLink { frame: 8, .. })
        }
    ));
    assert_eq!(s.outstanding(), 0);
    // Later passes read the PDUs the same way.
    assert_eq!(
        s.decision(key(6)).and_then(|k| k.reading(s.wire())),
        Some(Reading::Request { wire: Wire::Xid64 })
    );
}

#[test]
fn compressed_connection_is_framed_by_compressed_blocks() {
    for (hello, version) in [
        (
            {
                let mut c = connect_request();
                c[7] = 10;
                c
            },
            10,
        ),
        (clickhouse_connect_request(11, true), 11),
    ] {
        let mut s = Connection::default();
        let n = s.framing_at(Direction::ToServer, 1, &hello, 1 << 20, true, || {
            StreamStart::At(0)
        });
        assert_eq!(n, Framing::Pdu(hello.len() as u32), "version {version}");
        s.classify(key(1), Direction::ToServer, 0, &hello);
        assert_eq!(s.wire(), Wire::Compressed { version });
        let resp = connect_response_version(version, 0x99);
        // The server's handshake is still a length-prefixed PDU.
        assert_eq!(
            s.framing_at(Direction::ToClient, 2, &resp, 1 << 20, true, || {
                StreamStart::At(0)
            }),
            Framing::Pdu(40)
        );
        s.classify(key(2), Direction::ToClient, 1, &resp);
        // Then blocks: checksum, method 0x82, compressed size 9 + 3 (LE), uncompressed 20.
        let mut block = vec![0xaa; 16];
        block.push(0x82);
        block.extend_from_slice(&12u32.to_le_bytes());
        block.extend_from_slice(&20u32.to_le_bytes());
        block.extend_from_slice(&[1, 2, 3]);
        let mut two = block.clone();
        two.extend_from_slice(&block);
        assert_eq!(
            s.framing(Direction::ToServer, 3, &two, 1 << 20, true),
            Framing::Pdu(28)
        );
        assert_eq!(
            s.framing(Direction::ToServer, 3, &block, 1 << 20, true),
            Framing::Pdu(28)
        );
        assert!(s.is_compressed_block(Direction::ToServer, 3, 28));
        // A header cut short asks for more; later passes repeat the first pass.
        assert_eq!(
            s.framing(Direction::ToClient, 4, &block[..20], 1 << 20, true),
            Framing::NeedMore
        );
        assert_eq!(
            s.framing(Direction::ToServer, 3, &two, 1 << 20, false),
            Framing::Pdu(28)
        );
    }
}

#[test]
fn keeper_reject_and_unknown_versions() {
    let mut s = Connection::default();
    let mut hello = connect_request();
    hello[7] = 7;
    s.framing_at(Direction::ToServer, 1, &hello, 1 << 20, true, || {
        StreamStart::At(0)
    });
    s.classify(key(1), Direction::ToServer, 0, &hello);
    assert_eq!(s.wire(), Wire::Unknown { version: 7 });
    // Version 42 in a response is Keeper's refusal; the response still parses.
    let resp = connect_response_version(42, 0);
    s.framing_at(Direction::ToClient, 2, &resp, 1 << 20, true, || {
        StreamStart::At(0)
    });
    assert!(matches!(
        s.classify_pdu(key(2), Direction::ToClient, 1, &resp).0,
        Some(Pdu::ConnectResponse(Ok(_)))
    ));
}
