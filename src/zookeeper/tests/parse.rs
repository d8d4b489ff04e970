//! Unit tests of `zookeeper::parse`, on byte arrays.

use super::*;
use crate::jute::{failure, input, string_list};

fn pdu(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

#[test]
fn counted_string_with_offsets() {
    let b = [0, 0, 0, 2, b'/', b'a', 0xff];
    let (rest, s) = counted(input(&b)).unwrap();
    assert_eq!(
        s,
        At {
            off: 0,
            len: 6,
            val: Some(&b"/a"[..])
        }
    );
    assert_eq!(rest.location_offset(), 6);
}

#[test]
fn null_and_bogus_lengths() {
    let (_, s) = counted(input(&[0xff, 0xff, 0xff, 0xff])).unwrap();
    assert_eq!(s.val, None);
    assert_eq!(s.len, 4);
    let e = counted(input(&[0xff, 0xff, 0xff, 0xfe])).unwrap_err();
    assert_eq!(failure(e).kind, ErrorKind::LengthValue);
    let e = counted(input(&[0x7f, 0xff, 0xff, 0xff, 1, 2])).unwrap_err();
    assert_eq!(failure(e).kind, ErrorKind::Eof);
}

#[test]
fn huge_vector_count_is_rejected_without_allocating() {
    let b = [0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    let e = string_list(input(&b)).unwrap_err();
    assert_eq!(failure(e).kind, ErrorKind::Count);
}

/// A ConnectRequest as the C client sends it (no readOnly): 44-byte body, timeout 10 s.
fn connect_44() -> Vec<u8> {
    let mut b = vec![0u8; 4 + 8];
    b.extend_from_slice(&10000i32.to_be_bytes());
    b.extend_from_slice(&[0u8; 8]);
    b.extend_from_slice(&16i32.to_be_bytes());
    b.extend_from_slice(&[0u8; 16]);
    pdu(&b)
}

#[test]
fn connect_request_without_read_only() {
    let pdu = connect_44();
    assert_eq!(pdu.len(), 48);
    assert!(looks_like_connect_request(&pdu[4..]));
    let (rest, c) = connect_request(input(&pdu[4..])).unwrap();
    assert!(rest.fragment().is_empty());
    assert_eq!(c.timeout.val, 10000);
    assert_eq!(c.read_only, None);
    assert_eq!(c.passwd.val.map(|p| p.len()), Some(16));
}

#[test]
fn connect_request_with_read_only() {
    let mut body = connect_44()[4..].to_vec();
    body.push(1);
    assert!(looks_like_connect_request(&body));
    let (_, c) = connect_request(input(&body)).unwrap();
    assert_eq!(c.read_only.map(|b| (b.off, b.val)), Some((44, true)));
}

#[test]
fn connect_response_rejected_session() {
    // timeout 0, session 0, 16 zero bytes: an expired session.
    let mut body = vec![0u8; 16];
    body.extend_from_slice(&[0, 0, 0, 16]);
    body.extend_from_slice(&[0u8; 16]);
    assert!(looks_like_connect_response(&body));
    let (_, r) = connect_response(input(&body)).unwrap();
    assert_eq!(r.timeout.val, 0);
    assert_eq!(r.read_only, None);
}

#[test]
fn get_data_request_and_reply() {
    // {xid 1, getData} "/a" watch=1
    let req = pdu(&[0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2, b'/', b'a', 1]);
    let i = input(&req);
    let (i, _len) = int(i).unwrap();
    let (i, h) = request_header(i).unwrap();
    assert_eq!((h.xid.val, h.opcode.val, h.opcode.off), (1, 4, 8));
    let (rest, body) = request_body(4, i).unwrap().unwrap();
    assert!(rest.fragment().is_empty());
    match body {
        RequestBody::PathWatch { path, watch } => {
            assert_eq!(path.val, Some(&b"/a"[..]));
            assert_eq!(path.off, 12);
            assert!(watch.val);
        }
        other => panic!("unexpected {other:?}"),
    }
    let mut rep = vec![
        0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 3, b'x', b'y', b'z',
    ];
    rep.extend_from_slice(&[0u8; STAT_LEN]);
    let rep = pdu(&rep);
    let (i, _) = int(input(&rep)).unwrap();
    let (i, h) = reply_header(i).unwrap();
    assert_eq!((h.xid.val, h.zxid.val, h.err.val), (1, 5, 0));
    let (rest, body) = reply_body(4, i).unwrap().unwrap();
    assert!(rest.fragment().is_empty());
    assert!(matches!(
        body,
        ReplyBody::Data {
            data: At {
                val: Some(b"xyz"),
                ..
            },
            ..
        }
    ));
}

#[test]
fn create_with_acl_and_ttl() {
    let mut b = vec![0, 0, 0, 2, b'/', b't', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1];
    b.extend_from_slice(&[
        0, 0, 0, 31, 0, 0, 0, 5, b'w', b'o', b'r', b'l', b'd', 0, 0, 0, 6,
    ]);
    b.extend_from_slice(b"anyone");
    b.extend_from_slice(&[0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0x27, 0x10]);
    let (rest, body) = request_body(21, input(&b)).unwrap().unwrap();
    assert!(rest.fragment().is_empty());
    let RequestBody::Create {
        data,
        acl,
        flags,
        ttl,
        ..
    } = body
    else {
        panic!()
    };
    assert_eq!(data.val, None);
    assert_eq!(acl.val.len(), 1);
    assert_eq!(acl.val[0].val.perms.val, 31);
    assert_eq!(acl.val[0].val.id.val.id.val, Some(&b"anyone"[..]));
    assert_eq!(flags.val, 5);
    assert_eq!(ttl.map(|t| t.val), Some(10000));
}

#[test]
fn multi_reply_with_error_results() {
    // results: error(-1) err 0 ... as sent for a failed multi: {-1,false,-1}+{err}
    let mut b = Vec::new();
    for err in [0i32, -101] {
        b.extend_from_slice(&(-1i32).to_be_bytes());
        b.push(0);
        b.extend_from_slice(&err.to_be_bytes());
        b.extend_from_slice(&err.to_be_bytes());
    }
    b.extend_from_slice(&(-1i32).to_be_bytes());
    b.push(1);
    b.extend_from_slice(&(-1i32).to_be_bytes());
    let (rest, body) = reply_body(14, input(&b)).unwrap().unwrap();
    assert!(rest.fragment().is_empty());
    let ReplyBody::Multi { results, end } = body else {
        panic!()
    };
    assert_eq!(results.len(), 2);
    assert!(end.is_some());
    assert!(matches!(
        results[1].body,
        ReplyBody::ErrorCode {
            err: At { val: -101, .. }
        }
    ));
}

#[test]
fn truncated_stat_fails() {
    let b = [0u8; 20];
    assert!(reply_body(3, input(&b)).unwrap().is_err());
}

#[test]
fn sasl_tokens_both_ways() {
    // GetSASLRequest / SetSASLResponse: one buffer each (opcode 102).
    let token = [0, 0, 0, 3, 0x60, 0x81, 0x02];
    let (_, body) = request_body(102, input(&token)).unwrap().unwrap();
    assert!(
        matches!(body, RequestBody::Sasl { token } if token.val == Some(&[0x60, 0x81, 0x02][..]))
    );
    let (_, body) = reply_body(102, input(&token)).unwrap().unwrap();
    assert!(matches!(body, ReplyBody::Sasl { token } if token.len == 7));
    // An empty (-1) token is a null buffer, not an error.
    let (_, body) = reply_body(102, input(&[0xff, 0xff, 0xff, 0xff]))
        .unwrap()
        .unwrap();
    assert!(matches!(body, ReplyBody::Sasl { token } if token.val.is_none()));
}
