//! Unit tests of `zookeeper::parse`, on byte arrays.

use super::*;
use crate::jute::{failure, input, string_list};
use jute_encode::{JuteWriter, pdu};

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
    // protocolVersion, lastZxidSeen, timeOut, sessionId, passwd
    JuteWriter::new()
        .int(0)
        .long(0)
        .int(10000)
        .long(0)
        .buffer(&[0; 16])
        .pdu()
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
    // protocolVersion, timeOut, sessionId, passwd
    let body = JuteWriter::new()
        .int(0)
        .int(0)
        .long(0)
        .buffer(&[0; 16])
        .finish();
    assert!(looks_like_connect_response(&body));
    let (_, r) = connect_response(input(&body)).unwrap();
    assert_eq!(r.timeout.val, 0);
    assert_eq!(r.read_only, None);
}

#[test]
fn get_data_request_and_reply() {
    // {xid 1, getData} "/a" watch=1
    let req = JuteWriter::new()
        .int(1)
        .int(4)
        .ustring("/a")
        .bool(true)
        .pdu();
    let i = input(&req);
    let (i, _len) = int(i).unwrap();
    let (i, h) = request_header(i, false).unwrap();
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
    // {xid 1, zxid 5, err 0} "xyz" and a zero Stat
    let rep = JuteWriter::new()
        .int(1)
        .long(5)
        .int(0)
        .buffer(b"xyz")
        .raw(&[0; STAT_LEN])
        .pdu();
    let (i, _) = int(input(&rep)).unwrap();
    let (i, h) = reply_header(i, false).unwrap();
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
    // CreateTTLRequest: path, null data, ACL [{31, world:anyone}], flags 5, ttl 10 s
    let b = JuteWriter::new()
        .ustring("/t")
        .null()
        .vector(&[("world", "anyone")], |w, (scheme, id)| {
            w.int(31).ustring(scheme).ustring(id);
        })
        .int(5)
        .long(10000)
        .finish();
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
    let mut w = JuteWriter::new();
    for err in [0i32, -101] {
        w.int(-1).bool(false).int(err).int(err);
    }
    let b = w.int(-1).bool(true).int(-1).finish();
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
    let token = JuteWriter::new().buffer(&[0x60, 0x81, 0x02]).finish();
    let (_, body) = request_body(102, input(&token)).unwrap().unwrap();
    assert!(
        matches!(body, RequestBody::Sasl { token } if token.val == Some(&[0x60, 0x81, 0x02][..]))
    );
    let (_, body) = reply_body(102, input(&token)).unwrap().unwrap();
    assert!(matches!(body, ReplyBody::Sasl { token } if token.len == 7));
    // An empty (-1) token is a null buffer, not an error.
    let null = JuteWriter::new().null().finish();
    let (_, body) = reply_body(102, input(&null)).unwrap().unwrap();
    assert!(matches!(body, ReplyBody::Sasl { token } if token.val.is_none()));
}

// ---------------------------------------------------------------------------------------
// ClickHouse Keeper's extensions (opcodes 500-507, protocol versions 10 and 11)

fn ustring(s: &str) -> Vec<u8> {
    JuteWriter::new().ustring(s).finish()
}

fn stat_bytes(version: i32) -> Vec<u8> {
    // czxid, mzxid, ctime, mtime; version, cversion, aversion; ephemeralOwner;
    // dataLength, numChildren; pzxid
    let v = JuteWriter::new()
        .long(1)
        .long(2)
        .long(3)
        .long(4)
        .int(version)
        .int(0)
        .int(0)
        .long(0)
        .int(3)
        .int(0)
        .long(5)
        .finish();
    assert_eq!(v.len(), STAT_LEN);
    v
}

/// The body of a request whose record is `rest`, parsed whole.
fn whole_request(op: i32, rest: &[u8]) -> RequestBody<'_> {
    let (r, body) = request_body(op, input(rest)).unwrap().unwrap();
    assert!(r.fragment().is_empty(), "{op}: trailing bytes");
    body
}

fn whole_reply(op: i32, rest: &[u8]) -> ReplyBody<'_> {
    let (r, body) = reply_body(op, input(rest)).unwrap().unwrap();
    assert!(r.fragment().is_empty(), "{op}: trailing bytes");
    body
}

#[test]
fn filtered_list_500_request_and_reply() {
    use crate::zookeeper::opcode as op;
    let mut b = ustring("/clickhouse");
    b.extend_from_slice(&[1, 2]); // watch, EPHEMERAL_ONLY
    match whole_request(op::FILTERED_LIST, &b) {
        RequestBody::FilteredList {
            path,
            watch,
            list_type,
            with: None,
        } => {
            assert_eq!(path.val, Some(&b"/clickhouse"[..]));
            assert!(watch.val);
            assert_eq!((list_type.val, list_type.off, list_type.len), (2, 16, 1));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Reply: ZooKeeperListResponse {names; stat}.
    let mut r = 2u32.to_be_bytes().to_vec();
    r.extend(ustring("a"));
    r.extend(ustring("b"));
    r.extend(stat_bytes(0));
    match whole_reply(op::FILTERED_LIST, &r) {
        ReplyBody::Children {
            children,
            stat: Some(s),
        } => {
            assert_eq!(children.val.len(), 2);
            assert_eq!(s.val.data_length.val, 3);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn check_not_exists_501_and_try_remove_505_are_path_and_version() {
    use crate::zookeeper::opcode as op;
    let mut b = ustring("/lock");
    b.extend_from_slice(&(-1i32).to_be_bytes());
    for opcode in [op::CHECK_NOT_EXISTS, op::TRY_REMOVE] {
        match whole_request(opcode, &b) {
            RequestBody::PathVersion { path, version } => {
                assert_eq!(path.val, Some(&b"/lock"[..]));
                assert_eq!((version.val, version.off), (-1, 9));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(whole_reply(opcode, &[]), ReplyBody::Empty);
    }
}

#[test]
fn create_if_not_exists_502_is_a_create() {
    use crate::zookeeper::opcode as op;
    let mut b = ustring("/n");
    b.extend(ustring("v"));
    b.extend_from_slice(&1u32.to_be_bytes());
    b.extend_from_slice(&31u32.to_be_bytes());
    b.extend(ustring("world"));
    b.extend(ustring("anyone"));
    b.extend_from_slice(&0u32.to_be_bytes());
    match whole_request(op::CREATE_IF_NOT_EXISTS, &b) {
        RequestBody::Create {
            path,
            data,
            acl,
            flags,
            ttl: None,
        } => {
            assert_eq!(path.val, Some(&b"/n"[..]));
            assert_eq!(data.val, Some(&b"v"[..]));
            assert_eq!(acl.val.len(), 1);
            assert_eq!(flags.val, 0);
        }
        other => panic!("unexpected {other:?}"),
    }
    match whole_reply(op::CREATE_IF_NOT_EXISTS, &ustring("/n")) {
        ReplyBody::Path { path } => assert_eq!(path.val, Some(&b"/n"[..])),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn remove_recursive_503_and_list_recursive_507_carry_a_limit() {
    use crate::zookeeper::opcode as op;
    let mut b = ustring("/tree");
    b.extend_from_slice(&100u32.to_be_bytes());
    for (opcode, is_list) in [(op::REMOVE_RECURSIVE, false), (op::LIST_RECURSIVE, true)] {
        match whole_request(opcode, &b) {
            RequestBody::PathLimit { path, limit, list } => {
                assert_eq!(path.val, Some(&b"/tree"[..]));
                assert_eq!((limit.val, limit.off, limit.len), (100, 9, 4));
                assert_eq!(list, is_list);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(whole_reply(op::REMOVE_RECURSIVE, &[]), ReplyBody::Empty);
    let mut r = 1u32.to_be_bytes().to_vec();
    r.extend(ustring("/tree/a"));
    match whole_reply(op::LIST_RECURSIVE, &r) {
        ReplyBody::Children {
            children,
            stat: None,
        } => assert_eq!(children.val[0].val, Some(&b"/tree/a"[..])),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn check_stat_504_carries_a_stat() {
    use crate::zookeeper::opcode as op;
    let mut b = ustring("/s");
    b.extend_from_slice(&4i32.to_be_bytes());
    b.extend(stat_bytes(4));
    match whole_request(op::CHECK_STAT, &b) {
        RequestBody::CheckStat {
            path,
            version,
            stat,
        } => {
            assert_eq!(path.val, Some(&b"/s"[..]));
            assert_eq!(version.val, 4);
            assert_eq!(
                (stat.off, stat.len, stat.val.version.val),
                (10, STAT_LEN, 4)
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(whole_reply(op::CHECK_STAT, &[]), ReplyBody::Empty);
    // A stat cut short is malformed, not read past.
    assert!(
        request_body(op::CHECK_STAT, input(&b[..b.len() - 1]))
            .unwrap()
            .is_err()
    );
}

#[test]
fn filtered_list_with_stats_and_data_506() {
    use crate::zookeeper::opcode as op;
    let mut b = ustring("/p");
    b.extend_from_slice(&[0, 1, 1, 1]); // no watch, PERSISTENT_ONLY, with_stat, with_data
    match whole_request(op::FILTERED_LIST_WITH_STATS_AND_DATA, &b) {
        RequestBody::FilteredList {
            list_type,
            with: Some((with_stat, with_data)),
            ..
        } => {
            assert_eq!(list_type.val, 1);
            assert!(with_stat.val && with_data.val);
            assert_eq!(with_data.off, 9);
        }
        other => panic!("unexpected {other:?}"),
    }
    let mut r = 1u32.to_be_bytes().to_vec();
    r.extend(ustring("c"));
    r.extend(stat_bytes(0));
    r.extend_from_slice(&1u32.to_be_bytes());
    r.extend(stat_bytes(7));
    r.extend_from_slice(&1u32.to_be_bytes());
    r.extend(ustring("data"));
    match whole_reply(op::FILTERED_LIST_WITH_STATS_AND_DATA, &r) {
        ReplyBody::ChildrenStatsData {
            children,
            stats,
            data,
            ..
        } => {
            assert_eq!(children.val.len(), 1);
            assert_eq!(stats.val[0].val.version.val, 7);
            assert_eq!(data.val[0].val, Some(&b"data"[..]));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn session_id_997_is_named_but_has_no_client_record() {
    use crate::zookeeper::{Opcode, opcode as op};
    assert_eq!(Opcode::name_of(op::SESSION_ID), Some("sessionID"));
    assert!(request_body(op::SESSION_ID, input(&[])).is_none());
    assert!(reply_body(op::SESSION_ID, input(&[])).is_none());
}

/// ClickHouse's XID_64 ConnectRequest: version 11, the compression flag, then the usual
/// fields; its length prefix says 45 for 46 bytes.
fn xid64_connect_request(compression: bool) -> Vec<u8> {
    // length 45, protocolVersion, compression, lastZxidSeen, timeOut, sessionId, passwd,
    // readOnly
    let b = JuteWriter::new()
        .int(45)
        .int(11)
        .bool(compression)
        .long(0x10)
        .int(30000)
        .long(0)
        .buffer(&[0; 16])
        .bool(true)
        .finish();
    assert_eq!(b.len(), 50);
    b
}

#[test]
fn xid64_handshake_and_headers() {
    let b = xid64_connect_request(false);
    let Pdu::ConnectRequest(Ok((rest, c))) = super::pdu(Reading::ConnectRequest, &b) else {
        panic!("not a connect request")
    };
    assert!(rest.fragment().is_empty());
    assert_eq!(c.protocol_version.val, 11);
    assert_eq!(c.compression.map(|f| (f.val, f.off)), Some((false, 8)));
    assert_eq!(c.last_zxid_seen.val, 0x10);
    assert_eq!(c.timeout.val, 30000);
    assert_eq!(c.read_only.map(|r| r.val), Some(true));
    assert_eq!(Wire::of(&c), Wire::Xid64);
    let b = xid64_connect_request(true);
    let Pdu::ConnectRequest(Ok((_, c))) = super::pdu(Reading::ConnectRequest, &b) else {
        panic!("not a connect request")
    };
    assert_eq!(Wire::of(&c), Wire::Compressed { version: 11 });

    // A request header with an 8-byte xid.
    let r = JuteWriter::new()
        .long(0x1_0000_0001)
        .int(501)
        .ustring("/x")
        .int(-1)
        .pdu();
    let wire = Wire::Xid64;
    let Pdu::Request(Ok(req)) = super::pdu(Reading::Request { wire }, &r) else {
        panic!("not a request")
    };
    assert_eq!(
        (req.header.xid.val, req.header.xid.off, req.header.xid.len),
        (0x1_0000_0001, 4, 8)
    );
    assert_eq!((req.header.opcode.val, req.header.opcode.off), (501, 12));
    assert!(matches!(
        req.parsed_body(),
        Some(RequestBody::PathVersion { .. })
    ));
    // A reply header: 8-byte xid, zxid, err.
    let p = JuteWriter::new()
        .long(0x1_0000_0001)
        .long(9)
        .int(-110)
        .pdu();
    let Pdu::Reply(Ok(rep)) = super::pdu(Reading::Reply { wire }, &p) else {
        panic!("not a reply")
    };
    assert_eq!(rep.header.xid.val, 0x1_0000_0001);
    assert_eq!(
        (rep.header.zxid.val, rep.header.err.val, rep.header.err.off),
        (9, -110, 20)
    );
    // A notification keeps xid -1, 8 bytes wide.
    // xid -1, zxid -1, err 0; WatcherEvent type 3, state 3, path
    let n = JuteWriter::new()
        .long(-1)
        .long(-1)
        .int(0)
        .int(3)
        .int(3)
        .ustring("/x")
        .pdu();
    assert!(matches!(
        super::pdu(Reading::Reply { wire }, &n),
        Pdu::Notification(Notification { event: Ok(_), .. })
    ));
    // A 32-bit xid reads as before, sign-extended.
    let c = pdu(&[0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11]);
    let Pdu::Request(Ok(req)) = super::pdu(
        Reading::Request {
            wire: Wire::Classic,
        },
        &c,
    ) else {
        panic!("not a request")
    };
    assert_eq!((req.header.xid.val, req.header.xid.len), (-2, 4));
}

#[test]
fn compressed_and_unknown_versions_do_not_decode_bodies() {
    assert!(!Wire::Compressed { version: 10 }.decodes_bodies());
    assert!(!Wire::Unknown { version: 7 }.decodes_bodies());
    let r = pdu(&[0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2, b'/', b'a', 1]);
    let Pdu::Request(Ok(req)) = super::pdu(
        Reading::Request {
            wire: Wire::Unknown { version: 7 },
        },
        &r,
    ) else {
        panic!("not a request")
    };
    assert!(req.body.is_none());
}

/// A parsed PDU is moved through classification once per PDU: a large rare variant (a
/// checkStat's Stat) is boxed so that every request does not pay for it.
#[test]
fn a_parsed_pdu_stays_small() {
    assert!(std::mem::size_of::<crate::zookeeper::parse::Pdu<'_>>() <= 256);
    assert!(std::mem::size_of::<RequestBody<'_>>() <= 160);
}
