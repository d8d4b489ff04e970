//! Unit tests of `zookeeper::session`, on byte arrays.

use super::*;

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
    let mut s = Session::default();
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
            tracked: true
        })
    );
    assert_eq!(s.outstanding(), 0);
}

#[test]
fn control_xids_pair_in_fifo_order_and_auth_overtakes() {
    let mut s = Session::default();
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
    let mut s = Session::default();
    s.classify(
        key(1),
        Direction::ToServer,
        0,
        &request(1, 4, &[0, 0, 0, 1, b'/', 1]),
    );
    assert_eq!(
        s.classify(key(2), Direction::ToClient, 0, &reply(-1, 0)),
        PduKind::Notification
    );
    assert_eq!(s.outstanding(), 1);
}

#[test]
fn midstream_reply_is_unpaired() {
    let mut s = Session::default();
    assert_eq!(
        s.classify(key(1), Direction::ToClient, 0, &reply(9, 0)),
        PduKind::Reply { request: None }
    );
}

#[test]
fn four_letter_word_and_its_text_reply() {
    let mut s = Session::default();
    assert_eq!(
        s.framing(Direction::ToServer, 4, b"ruok", DEFAULT_MAX),
        Framing::Rest
    );
    assert_eq!(
        s.classify(key(4), Direction::ToServer, 0, b"ruok"),
        PduKind::FourLetterCommand
    );
    // The reply is text whatever its first bytes say.
    assert_eq!(
        s.framing(Direction::ToClient, 6, b"imok", DEFAULT_MAX),
        Framing::Rest
    );
    assert_eq!(
        s.classify(key(6), Direction::ToClient, 0, b"imok"),
        PduKind::FourLetterReply
    );
    // stmk carries an 8-byte mask.
    let mut s = Session::default();
    assert_eq!(
        s.framing(Direction::ToServer, 4, b"stmk", DEFAULT_MAX),
        Framing::FourLetter(12)
    );
}

const DEFAULT_MAX: u32 = super::super::DEFAULT_MAX_PDU;

#[test]
fn bogus_lengths_do_not_wait() {
    let mut s = Session::default();
    s.framing(Direction::ToServer, 1, &[0, 0, 0, 44], DEFAULT_MAX);
    assert_eq!(
        s.framing(
            Direction::ToServer,
            2,
            &[0xff, 0xff, 0xff, 0xf0],
            DEFAULT_MAX
        ),
        Framing::Rest
    );
    assert_eq!(
        s.framing(
            Direction::ToServer,
            2,
            &[0x7f, 0xff, 0xff, 0xff],
            DEFAULT_MAX
        ),
        Framing::Rest
    );
    assert_eq!(
        s.framing(Direction::ToServer, 2, &[0, 0, 0, 8], DEFAULT_MAX),
        Framing::Pdu(12)
    );
}

#[test]
fn pending_table_is_capped() {
    let mut s = Session::default();
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
    let mut s = Session::default();
    assert_eq!(s.direction(2181, 50000, 2181), Direction::ToClient);
    assert_eq!(s.direction(50000, 2181, 0), Direction::ToServer);
    let mut s = Session::default();
    assert_eq!(s.direction(2999, 50000, 0), Direction::ToClient);
}
