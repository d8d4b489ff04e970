//! The connection state machine on hand-built frames, with hand-computed expectations.

use super::*;
use crate::h2::frame::{PREFACE, flag, kind};
use jute_encode::hex;

const CLIENT: Dir = 0;
const SERVER: Dir = 1;

fn frame(k: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    v.push(k);
    v.push(flags);
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// RFC 7541 C.3.1: GET http://www.example.com/ (static indices plus one literal).
const REQUEST: &[u8] = &[
    0x82, 0x86, 0x84, 0x41, 0x0f, b'w', b'w', b'w', b'.', b'e', b'x', b'a', b'm', b'p', b'l', b'e',
    b'.', b'c', b'o', b'm',
];
/// :status 200, then content-type: text/plain (literal without indexing, name index 31).
const RESPONSE: &[u8] = &[
    0x88, 0x0f, 0x10, 0x0a, b't', b'e', b'x', b't', b'/', b'p', b'l', b'a', b'i', b'n',
];

struct Run {
    conn: Connection,
    frame: u32,
}

impl Run {
    fn new() -> Self {
        let mut r = Run {
            conn: Connection::new(1 << 20),
            frame: 0,
        };
        r.send(CLIENT, PREFACE);
        r.send(CLIENT, &frame(kind::SETTINGS, 0, 0, &[]));
        r.send(SERVER, &frame(kind::SETTINGS, 0, 0, &[]));
        r
    }

    /// Sends one PDU as its own frame number; returns that frame number.
    fn send(&mut self, dir: Dir, bytes: &[u8]) -> u32 {
        self.frame += 1;
        let key = PduKey {
            frame: self.frame,
            index: 0,
        };
        self.conn
            .process(key, dir, self.frame as i64 * 1_000_000, bytes, false);
        self.frame
    }

    /// The GET request (HEADERS with END_STREAM) on `stream` and its 200 response headers;
    /// returns their frame numbers.
    fn request_and_response(&mut self, stream: u32) -> (u32, u32) {
        let req = self.send(
            CLIENT,
            &frame(
                kind::HEADERS,
                flag::END_HEADERS | flag::END_STREAM,
                stream,
                REQUEST,
            ),
        );
        let resp = self.send(
            SERVER,
            &frame(kind::HEADERS, flag::END_HEADERS, stream, RESPONSE),
        );
        (req, resp)
    }

    fn info(&self, frame: u32) -> &FrameInfo {
        self.conn
            .decision(PduKey { frame, index: 0 })
            .expect("decided")
    }
}

#[test]
fn request_response_pairing_time_and_body() {
    let mut r = Run::new();
    let (req, resp) = r.request_and_response(1);
    let data = r.send(SERVER, &frame(kind::DATA, flag::END_STREAM, 1, b"hello"));

    let rq = r.info(req);
    assert_eq!(rq.from_client, Some(true));
    let block = rq.block.as_ref().unwrap();
    assert_eq!(block.role, BlockRole::Request);
    assert_eq!(
        block.value(r.conn.strings_of(block), b":authority"),
        Some(&b"www.example.com"[..])
    );
    assert_eq!(
        rq.stream_state,
        Some(StreamState::HalfClosed { client: Some(true) })
    );

    let s = r.conn.summary(rq.summary.unwrap()).unwrap();
    assert_eq!(s.request_in, Some(req));
    assert_eq!(s.response_in, Some(resp));
    assert_eq!(s.response_time - s.request_time, 1_000_000);
    assert_eq!(s.status, Some(200));
    assert_eq!(r.conn.path_of(s), Some(&b"/"[..]));
    assert_eq!(r.conn.method_of(s), Some(&b"GET"[..]));

    let d = r.info(data);
    let body = d.body.as_ref().unwrap();
    // A one-frame body is not copied: it is that frame's DATA payload.
    assert!(body.is_in_frame());
    assert_eq!(body.kept_len(), 5);
    assert_eq!(body.raw(b"hello"), b"hello");
    assert_eq!(body.content_type.as_deref(), Some(&b"text/plain"[..]));
    assert_eq!(d.stream_state, Some(StreamState::Closed));
    // Windows: the server sent 5 bytes of 65535.
    assert_eq!(
        d.windows,
        Some(Windows {
            sender: SERVER as u8,
            connection: 65_530,
            stream: Some(65_530)
        })
    );
}

#[test]
fn window_updates_and_initial_window_at_ack() {
    let mut r = Run::new();
    // The client lowers the server's stream windows to 100; they apply at the server's ACK.
    let settings = r.send(CLIENT, &frame(kind::SETTINGS, 0, 0, &[0, 4, 0, 0, 0, 100]));
    r.request_and_response(1);
    let d1 = r.send(SERVER, &frame(kind::DATA, 0, 1, &[0; 150]));
    // Before the ACK the stream window is still 65535.
    assert_eq!(r.info(d1).windows.unwrap().stream, Some(65_385));
    assert!(r.info(d1).problems.is_empty());
    // The server's first SETTINGS ACK acknowledges the client's first SETTINGS (frame 2);
    // the second one acknowledges `settings`.
    let ack1 = r.send(SERVER, &frame(kind::SETTINGS, flag::ACK, 0, &[]));
    assert_eq!(r.info(ack1).settings_peer(), Some(2));
    let ack2 = r.send(SERVER, &frame(kind::SETTINGS, flag::ACK, 0, &[]));
    assert_eq!(r.info(ack2).settings_peer(), Some(settings));
    assert_eq!(r.info(settings).settings_peer(), Some(ack2));
    // 65385 + (100 - 65535) = -50: the next byte exceeds the window.
    let d2 = r.send(SERVER, &frame(kind::DATA, 0, 1, &[0; 10]));
    let w = r.info(d2).windows.unwrap();
    assert_eq!(w.stream, Some(-60));
    assert_eq!(w.connection, 65_535 - 160);
    assert!(r.info(d2).problems.contains(&Problem::WindowExceeded {
        connection: false,
        window: -60
    }));
    // The client opens the connection window by 160 and the stream window by 1000.
    let wu = r.send(
        CLIENT,
        &frame(kind::WINDOW_UPDATE, 0, 0, &160u32.to_be_bytes()),
    );
    assert_eq!(r.info(wu).windows.unwrap().connection, 65_535);
    let wu = r.send(
        CLIENT,
        &frame(kind::WINDOW_UPDATE, 0, 1, &1000u32.to_be_bytes()),
    );
    assert_eq!(r.info(wu).windows.unwrap().stream, Some(940));
    // Past 2^31-1 is an overflow.
    let wu = r.send(
        CLIENT,
        &frame(kind::WINDOW_UPDATE, 0, 0, &0x7fff_ffffu32.to_be_bytes()),
    );
    assert!(matches!(
        r.info(wu).problems[..],
        [Problem::WindowOverflow {
            connection: true,
            ..
        }]
    ));
    let wu = r.send(
        CLIENT,
        &frame(kind::WINDOW_UPDATE, 0, 1, &0u32.to_be_bytes()),
    );
    assert_eq!(r.info(wu).problems, vec![Problem::ZeroIncrement]);
}

#[test]
fn header_block_over_continuation() {
    let mut r = Run::new();
    let (a, b) = REQUEST.split_at(7);
    let first = r.send(CLIENT, &frame(kind::HEADERS, flag::END_STREAM, 1, a));
    // On the first pass the HEADERS frame shows the fields it completes already.
    let partial = r.info(first).block.clone().unwrap();
    assert!(!partial.complete);
    assert!(!partial.decoded.fields.is_empty());
    assert!(partial.decoded.fields.iter().all(|f| f.end() <= a.len()));
    let second = r.send(CLIENT, &frame(kind::CONTINUATION, flag::END_HEADERS, 1, b));
    let block = r.info(second).block.as_ref().unwrap();
    let frames: Vec<u32> = block.fragments.iter().map(|f| f.0.frame).collect();
    assert_eq!(frames, vec![first, second]);
    assert_eq!(block.joined.as_deref(), Some(REQUEST));
    assert_eq!(block.decoded.fields.len(), 4);
    assert!(block.complete);
    // Later passes show the complete block in the earlier frame too.
    assert!(Rc::ptr_eq(r.info(first).block.as_ref().unwrap(), block));
    assert_eq!(
        r.info(first).block_part(),
        Some(BlockPart {
            started_in: first,
            completed_in: Some(second)
        })
    );
    // END_STREAM of the HEADERS applies when the block completes.
    assert_eq!(
        r.info(second).stream_state,
        Some(StreamState::HalfClosed { client: Some(true) })
    );
}

#[test]
fn continuation_violations() {
    let mut r = Run::new();
    r.send(CLIENT, &frame(kind::HEADERS, 0, 1, &REQUEST[..3]));
    let ping = r.send(CLIENT, &frame(kind::PING, 0, 0, &[0; 8]));
    assert_eq!(
        r.info(ping).problems,
        vec![Problem::ContinuationMissing { stream: 1 }]
    );
    let cont = r.send(
        CLIENT,
        &frame(kind::CONTINUATION, flag::END_HEADERS, 1, &REQUEST[3..]),
    );
    assert_eq!(r.info(cont).problems, vec![Problem::ContinuationUnexpected]);
}

#[test]
fn stream_rules() {
    let mut r = Run::new();
    r.send(CLIENT, &frame(kind::HEADERS, flag::END_HEADERS, 5, REQUEST));
    // Stream 3 after 5 goes backwards. The HPACK literal inserted an entry, so encode the
    // second request with static entries only.
    let back = r.send(
        CLIENT,
        &frame(kind::HEADERS, flag::END_HEADERS, 3, &[0x82, 0x86, 0x84]),
    );
    assert_eq!(
        r.info(back).problems,
        vec![Problem::StreamIdBackwards { id: 3, last: 5 }]
    );
    let d0 = r.send(CLIENT, &frame(kind::DATA, 0, 0, b"x"));
    assert!(r.info(d0).problems.contains(&Problem::NeedsStream));
    let s1 = r.send(CLIENT, &frame(kind::SETTINGS, 0, 1, &[]));
    assert!(r.info(s1).problems.contains(&Problem::NeedsStreamZero));
    let bad = r.send(
        CLIENT,
        &frame(
            kind::SETTINGS,
            0,
            0,
            &[0, 2, 0, 0, 0, 2, 0, 5, 0, 0, 0x10, 0],
        ),
    );
    assert_eq!(r.info(bad).problems.len(), 2);
    let big = r.send(SERVER, &frame(kind::DATA, 0, 5, &vec![0; 16_385]));
    assert!(r.info(big).problems.contains(&Problem::FrameTooLarge {
        len: 16_385,
        max: 16_384
    }));
    let rst = r.send(SERVER, &frame(kind::RST_STREAM, 0, 5, &8u32.to_be_bytes()));
    assert_eq!(r.info(rst).stream_state, Some(StreamState::Closed));
}

#[test]
fn ping_round_trip() {
    let mut r = Run::new();
    let ping = r.send(CLIENT, &frame(kind::PING, 0, 0, &[1, 2, 3, 4, 5, 6, 7, 8]));
    let ack = r.send(
        SERVER,
        &frame(kind::PING, flag::ACK, 0, &[1, 2, 3, 4, 5, 6, 7, 8]),
    );
    assert_eq!(r.info(ack).ping_peer(), Some((ping, Some(1_000_000))));
    assert_eq!(r.info(ping).ping_peer(), Some((ack, None)));
}

#[test]
fn mid_stream_capture_resyncs_and_marks_unknown_entries() {
    let mut conn = Connection::new(1 << 20);
    // A segment that starts 3 bytes into a DATA frame, then a full HEADERS frame that
    // references dynamic entry 62 (never seen) and the static :status 200.
    let mut seg = vec![0xaa, 0xbb, 0xcc];
    seg.extend(frame(kind::HEADERS, flag::END_HEADERS, 7, &[0x88, 0xbe]));
    assert_eq!(resync_offset(&seg, 16_384), Some(3));
    assert_eq!(conn.framing(SERVER, 10, &seg), Framing::Skip(3));
    assert!(conn.was_skip(10, 3));
    conn.process(
        PduKey {
            frame: 10,
            index: 0,
        },
        SERVER,
        0,
        &seg[..3],
        true,
    );
    assert_eq!(conn.framing(SERVER, 10, &seg[3..]), Framing::Pdu(11));
    conn.process(
        PduKey {
            frame: 10,
            index: 1,
        },
        SERVER,
        0,
        &seg[3..],
        false,
    );
    let info = conn
        .decision(PduKey {
            frame: 10,
            index: 1,
        })
        .unwrap();
    let block = info.block.as_ref().unwrap();
    assert_eq!(block.decoded.error, None);
    assert!(block.decoded.fields[1].is_unknown());
    assert_eq!(block.role, BlockRole::Response);
    // Later passes frame the same way.
    assert_eq!(conn.framing(SERVER, 10, &seg), Framing::Skip(3));
    // A segment entirely inside a frame is skipped whole.
    assert_eq!(resync_offset(&[0u8; 5], 16_384), None);
}

#[test]
fn resync_accepts_a_segment_that_starts_on_a_frame() {
    // nghttp's packet after a cut: SETTINGS ACK, two WINDOW_UPDATEs, two HEADERS.
    let seg = hex(
        "0000000401000000000000040800000000000000885e00000408000000000f00008000000013012500000013000000031f8204866075d6bf447f86c0bf90be0000140125000000150000000b0b8204876283cc75d1de6f86c0bf90be",
    );
    assert_eq!(resync_offset(&seg, 16_384), Some(0));
    let mut conn = Connection::new(1 << 20);
    assert_eq!(conn.framing(CLIENT, 6, &seg), Framing::Pdu(9));
}

#[test]
fn body_over_several_frames_is_stored_and_cut_at_the_limit() {
    let mut r = Run::new();
    r.conn.body_limit = 8;
    r.request_and_response(1);
    r.send(SERVER, &frame(kind::DATA, 0, 1, b"hello "));
    let last = r.send(SERVER, &frame(kind::DATA, flag::END_STREAM, 1, b"world"));
    let body = r.info(last).body.as_ref().unwrap();
    assert!(!body.is_in_frame());
    assert_eq!(body.raw(b"world"), b"hello wo");
    assert!(body.truncated());
    assert_eq!((body.total_len, body.frames), (11, 2));
}

#[test]
fn resync_skips_are_capped_and_the_cap_is_said_once() {
    let mut c = Connection::new(1 << 20);
    // No plausible frame header anywhere: every segment is skipped whole.
    let garbage = [0xffu8; 12];
    let skip_pdu = |c: &mut Connection, frame: u32| {
        assert_eq!(c.framing(0, frame, &garbage), Framing::Skip(12));
        let key = PduKey { frame, index: 0 };
        c.process(key, 0, 0, &garbage, true)
            .unwrap()
            .problems
            .clone()
    };
    // Remembering the framing of the first MAX_RESYNC_SKIPS segments needs no decision.
    for frame in 1..=limits::MAX_RESYNC_SKIPS as u32 {
        assert_eq!(c.framing(0, frame, &garbage), Framing::Skip(12));
    }
    let next = limits::MAX_RESYNC_SKIPS as u32 + 1;
    assert_eq!(skip_pdu(&mut c, next), vec![Problem::ResyncLimit]);
    assert!(skip_pdu(&mut c, next + 1).is_empty(), "said once");
    // A later pass of a remembered segment frames it as before.
    assert_eq!(c.framing(0, 7, &garbage), Framing::Skip(12));
}

/// The per-frame and per-field records are kept for the whole capture (100,000 unanswered
/// requests cost about 750 bytes each): a field added carelessly shows up here first.
#[cfg(target_pointer_width = "64")]
#[test]
fn kept_records_stay_small() {
    use crate::h2::hpack::{Field, Literal};
    // Name and value are 8-byte `Str`s into the direction's `Strings`.
    assert_eq!(size_of::<Field>(), 32);
    assert_eq!(size_of::<Literal>(), 12);
    assert!(size_of::<FrameInfo>() <= 80, "{}", size_of::<FrameInfo>());
    assert!(
        size_of::<DecodedBlock>() <= 72,
        "{}",
        size_of::<DecodedBlock>()
    );
    assert!(
        size_of::<StreamSummary>() <= 120,
        "{}",
        size_of::<StreamSummary>()
    );
    assert!(size_of::<Body>() <= 88, "{}", size_of::<Body>());
    assert!(size_of::<Problems>() <= 8);
}

#[test]
fn a_side_captured_from_its_start_asks_for_a_cut_header_instead_of_skipping_it() {
    // The client preface in pieces of 1 to 7 bytes: without TCP's facts the first piece
    // would be skipped; from the side's first byte it asks for more.
    let mut c = Connection::new(1 << 20);
    assert_eq!(
        c.pdu_len_at(0, 4, &PREFACE[..5], || StreamStart::At(0)),
        PduLen::NeedMore
    );
    assert_eq!(
        c.pdu_len_at(0, 5, &PREFACE[..12], || StreamStart::At(0)),
        PduLen::Exactly(24)
    );
    assert!(!c.was_skip(5, 12));
    // The server's SETTINGS header cut after 3 octets: more, never a skip.
    let settings = frame(kind::SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]);
    assert_eq!(
        c.pdu_len_at(1, 6, &settings[..3], || StreamStart::Carried),
        PduLen::NeedMore
    );
    assert_eq!(
        c.pdu_len_at(1, 7, &settings, || StreamStart::At(0)),
        PduLen::Exactly(settings.len() as u32)
    );
}

#[test]
fn a_side_whose_start_is_missing_still_resynchronises() {
    for start in [
        StreamStart::NoSyn,
        StreamStart::At(900),
        StreamStart::Unknown,
    ] {
        let mut c = Connection::new(1 << 20);
        let ping = frame(kind::PING, 0, 0, &[0; 8]);
        let mut seg = vec![0xaa, 0xbb, 0xcc];
        seg.extend_from_slice(&ping);
        assert_eq!(
            c.framing_at(0, 3, &seg, || start),
            Framing::Skip(3),
            "{start:?}"
        );
    }
}

#[test]
fn the_start_is_asked_at_a_sides_first_framing_only() {
    let mut c = Connection::new(1 << 20);
    let mut asked = 0;
    let ping = frame(kind::PING, 0, 0, &[0; 8]);
    for f in 1..4 {
        c.framing_at(0, f, &ping, || {
            asked += 1;
            StreamStart::At(0)
        });
    }
    assert_eq!(asked, 1);
}
