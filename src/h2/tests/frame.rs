use super::*;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    let len = payload.len() as u32;
    v.extend_from_slice(&len.to_be_bytes()[1..]);
    v.push(kind);
    v.push(flags);
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

#[test]
fn preface_and_lengths() {
    assert_eq!(pdu_len(PREFACE), Some(24));
    assert!(starts_with_preface(b"PRI * HTTP/2.0"));
    assert!(!starts_with_preface(b"GET / HTTP/1.1"));
    let f = frame(kind::SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]);
    assert_eq!(pdu_len(&f), Some(15));
}

#[test]
fn settings_frame_from_nghttp() {
    // The client's first SETTINGS of nghttp: MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 65535.
    let f = frame(
        kind::SETTINGS,
        0,
        0,
        &[0, 3, 0, 0, 0, 100, 0, 4, 0, 0, 0xff, 0xff],
    );
    let parsed = parse_frame(&f).unwrap();
    assert_eq!(parsed.header.length, 12);
    match parsed.payload.unwrap() {
        Payload::Settings(s) => {
            assert_eq!(s.len(), 2);
            assert_eq!(s[0].val, (3, 100));
            assert_eq!((s[1].off, s[1].len), (15, 6));
            assert_eq!(s[1].val, (4, 65535));
        }
        p => panic!("{p:?}"),
    }
}

#[test]
fn settings_bad_length() {
    let f = frame(kind::SETTINGS, 0, 0, &[0, 3, 0, 0, 0]);
    assert_eq!(
        parse_frame(&f).unwrap().payload,
        Err(PayloadError::SettingsLength)
    );
}

#[test]
fn padded_headers_with_priority() {
    // Pad Length 2, E + dependency 3, weight 15, fragment 0x82 0x86, padding 0 0.
    let f = frame(
        kind::HEADERS,
        flag::PADDED | flag::PRIORITY | flag::END_HEADERS,
        1,
        &[2, 0x80, 0, 0, 3, 15, 0x82, 0x86, 0, 0],
    );
    let parsed = parse_frame(&f).unwrap();
    match parsed.payload.unwrap() {
        Payload::Headers {
            padding: Some(p),
            priority: Some(pr),
            fragment,
        } => {
            assert_eq!(p.pad_length.val, 2);
            assert_eq!(p.padding, Span { off: 17, len: 2 });
            assert_eq!(
                pr.val,
                Priority {
                    exclusive: true,
                    dependency: 3,
                    weight: 15
                }
            );
            assert_eq!(fragment, Span { off: 15, len: 2 });
            assert_eq!(fragment.of(&f), &[0x82, 0x86]);
        }
        p => panic!("{p:?}"),
    }
}

#[test]
fn padding_too_long() {
    let f = frame(kind::DATA, flag::PADDED, 1, &[5, 1, 2]);
    assert_eq!(
        parse_frame(&f).unwrap().payload,
        Err(PayloadError::PaddingTooLong { pad_length: 5 })
    );
    // Pad Length equal to the rest is also an error (the data would be negative).
    let f = frame(kind::DATA, flag::PADDED, 1, &[2, 0, 0]);
    assert!(parse_frame(&f).unwrap().payload.is_ok());
    let f = frame(kind::DATA, flag::PADDED, 1, &[3, 0, 0]);
    assert!(parse_frame(&f).unwrap().payload.is_err());
}

#[test]
fn fixed_lengths() {
    for (k, n) in [
        (kind::PRIORITY, 5),
        (kind::RST_STREAM, 4),
        (kind::PING, 8),
        (kind::WINDOW_UPDATE, 4),
    ] {
        let f = frame(k, 0, 1, &vec![0; n as usize + 1]);
        assert_eq!(
            parse_frame(&f).unwrap().payload,
            Err(PayloadError::BadLength { expected: n })
        );
        let f = frame(k, 0, 1, &vec![0; n as usize]);
        assert!(parse_frame(&f).unwrap().payload.is_ok());
    }
}

#[test]
fn goaway_and_reserved_bits() {
    let mut payload = vec![0x80, 0, 0, 7, 0, 0, 0, 0xb];
    payload.extend_from_slice(b"calm");
    let f = frame(kind::GOAWAY, 0, 0x8000_0000, &payload);
    let parsed = parse_frame(&f).unwrap();
    assert!(parsed.header.reserved);
    assert_eq!(parsed.header.stream_id, 0);
    match parsed.payload.unwrap() {
        Payload::GoAway {
            last_stream,
            error,
            debug,
        } => {
            assert_eq!(last_stream.val, (true, 7));
            assert_eq!(ErrorCode::name_of(error.val), Some("ENHANCE_YOUR_CALM"));
            assert_eq!(debug.of(&f), b"calm");
        }
        p => panic!("{p:?}"),
    }
}

#[test]
fn altsvc_origin_priority_update_unknown() {
    let mut p = vec![0, 3];
    p.extend_from_slice(b"a.b");
    p.extend_from_slice(b"h2=\":443\"");
    let f = frame(kind::ALTSVC, 0, 0, &p);
    match parse_frame(&f).unwrap().payload.unwrap() {
        Payload::AltSvc { origin, value, .. } => {
            assert_eq!(origin.of(&f), b"a.b");
            assert_eq!(value.of(&f), b"h2=\":443\"");
        }
        p => panic!("{p:?}"),
    }
    let f = frame(kind::ALTSVC, 0, 0, &[0, 9, b'x']);
    assert_eq!(
        parse_frame(&f).unwrap().payload,
        Err(PayloadError::Truncated)
    );

    let f = frame(kind::ORIGIN, 0, 0, &[0, 1, b'a', 0, 2, b'b', b'c']);
    match parse_frame(&f).unwrap().payload.unwrap() {
        Payload::Origin(v) => assert_eq!(v.len(), 2),
        p => panic!("{p:?}"),
    }
    let f = frame(kind::PRIORITY_UPDATE, 0, 0, &[0, 0, 0, 5, b'u', b'=', b'1']);
    match parse_frame(&f).unwrap().payload.unwrap() {
        Payload::PriorityUpdate { prioritized, value } => {
            assert_eq!(prioritized.val, (false, 5));
            assert_eq!(value.of(&f), b"u=1");
        }
        p => panic!("{p:?}"),
    }
    let f = frame(0xfa, 0xff, 3, &[1, 2, 3]);
    let parsed = parse_frame(&f).unwrap();
    assert_eq!(parsed.header.unused_flags(), 0xff);
    assert_eq!(
        parsed.payload,
        Ok(Payload::Unknown {
            data: Span { off: 9, len: 3 }
        })
    );
}

#[test]
fn truncated_capture_never_panics() {
    let f = frame(
        kind::HEADERS,
        flag::PADDED | flag::PRIORITY,
        1,
        &[4, 0, 0, 0, 1, 200, 1, 2, 0, 0, 0, 0],
    );
    for cut in 0..f.len() {
        let r = parse_frame(&f[..cut]);
        if cut < HEADER_LEN {
            assert!(r.is_none());
        } else {
            assert_eq!(r.unwrap().payload, Err(PayloadError::NotCaptured));
        }
    }
    // Arbitrary bytes for every type.
    for k in 0..=0x10u8 {
        for flags in [0u8, 0xff] {
            for len in 0..12usize {
                let payload: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
                let _ = parse_frame(&frame(k, flags, 1, &payload));
            }
        }
    }
}

#[test]
fn defined_flags_per_type() {
    assert_eq!(flag::defined(kind::HEADERS), 0x2d);
    assert_eq!(flag::defined(kind::DATA), 0x09);
    assert_eq!(flag::defined(kind::PRIORITY), 0);
    assert_eq!(flag::defined(kind::SETTINGS), 0x01);
}

#[test]
fn grpc_prefix_with_its_spans() {
    let b = [0xaa, 1, 0, 0, 1, 0, 0xff];
    let p = grpc_prefix(&b, 1).unwrap();
    assert!(p.compressed());
    assert_eq!((p.flags.off, p.flags.len, p.flags.val), (1, 1, 1));
    assert_eq!((p.length.off, p.length.len, p.length.val), (2, 4, 256));
    assert_eq!(p.total(), 261);
    assert!(!grpc_prefix(&b, 0).unwrap().compressed());
    assert_eq!(grpc_prefix(&b, 3), None);
    assert_eq!(grpc_prefix(&b, 8), None);
}
