use super::*;

fn msg(body: &[u8]) -> Vec<u8> {
    let mut v = vec![0];
    v.extend_from_slice(&(body.len() as u32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

#[test]
fn whole_messages_in_one_frame() {
    let mut f = Framer::default();
    let mut data = msg(b"hello");
    data.extend(msg(b""));
    data.extend(msg(b"xyz"));
    let p = f.frame(1, &data, false, 1 << 20);
    assert_eq!(p.whole, vec![(0, 10), (10, 5), (15, 8)]);
    assert!(p.tail.is_none() && p.head.is_none() && p.middle.is_none());
}

#[test]
fn a_message_over_three_frames_completes_in_the_last() {
    let m = msg(&[7u8; 100]);
    let mut f = Framer::default();
    let a = f.frame(1, &m[..3], false, 1 << 20);
    assert_eq!(a.head, Some((0, 3)));
    let b = f.frame(2, &m[3..50], false, 1 << 20);
    // Two octets complete the prefix (reassembled on their own), the rest is the middle.
    assert_eq!(b.prefix.as_ref().map(|p| p.len), Some(2));
    assert_eq!(b.middle, Some((2, 45)));
    assert!(b.tail.is_none());
    let mut last = m[50..].to_vec();
    last.extend(msg(b"next"));
    last.extend_from_slice(&msg(b"cut")[..4]);
    let c = f.frame(3, &last, false, 1 << 20);
    let tail = c.tail.as_ref().unwrap();
    assert_eq!((tail.off, tail.len), (0, 55));
    assert_eq!(tail.message.as_deref(), Some(&m[..]));
    assert_eq!(&*tail.fragments, &[(1, 3), (2, 2), (2, 45), (3, 55)]);
    assert_eq!(c.whole, vec![(55, 9)]);
    assert_eq!(c.head, Some((64, 4)));
    let d = f.frame(4, &[], true, 1 << 20);
    // Only the prefix is known to be missing (its one last octet).
    assert_eq!(d.missing_at_end, Some(1));
}

#[test]
fn messages_above_the_limit_are_framed_but_not_kept() {
    let m = msg(&[1u8; 50]);
    let mut f = Framer::default();
    f.frame(1, &m[..20], false, 10);
    let p = f.frame(2, &m[20..], false, 10);
    let tail = p.tail.unwrap();
    assert_eq!(tail.message, None);
    assert_eq!((tail.off, tail.len), (0, 35));
}

#[test]
fn a_prefix_split_between_frames() {
    let m = msg(b"abcdef");
    let mut f = Framer::default();
    assert_eq!(f.frame(1, &m[..2], false, 1 << 20).head, Some((0, 2)));
    let p = f.frame(2, &m[2..], true, 1 << 20);
    // The prefix is completed first, with its own fragments; then the message.
    let prefix = p.prefix.unwrap();
    assert_eq!(prefix.len, 3);
    assert_eq!(&*prefix.fragments, &[(1, 2), (2, 3)]);
    let tail = p.tail.unwrap();
    assert_eq!((tail.off, tail.len), (3, 6));
    assert_eq!(&*tail.fragments, &[(1, 2), (2, 3), (2, 6)]);
    assert_eq!(tail.message.as_deref(), Some(&m[..]));
    assert_eq!(p.missing_at_end, None);
}

/// Standard padded base64, for building gRPC-Web text.
fn b64(data: &[u8]) -> Vec<u8> {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    for c in data.chunks(3) {
        let v = c
            .iter()
            .enumerate()
            .fold(0u32, |v, (i, &b)| v | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= c.len() {
                A[(v >> (18 - 6 * i) & 63) as usize]
            } else {
                b'='
            });
        }
    }
    out
}

#[test]
fn glib_base64_skips_foreign_characters_and_honours_padding() {
    for data in [
        &b""[..],
        b"a",
        b"ab",
        b"abc",
        b"abcd",
        &[0xff, 0x00, 0x80, 0x7f, 0x01],
    ] {
        assert_eq!(glib_base64_decode(&b64(data)), data);
    }
    // Line breaks and other characters outside the alphabet are skipped, as GLib does.
    assert_eq!(glib_base64_decode(b"YW\r\nJj\n"), b"abc");
    // An incomplete last quartet is dropped.
    assert_eq!(glib_base64_decode(b"YWJjZA"), b"abc");
}

#[test]
fn web_text_messages_in_one_frame_are_decoded_there() {
    let mut data = msg(b"hello");
    data.extend(msg(b"world!"));
    let text = b64(&data);
    let mut f = TextFramer::default();
    let (parts, decoded) = f.frame(1, &text, false, 1 << 20);
    assert_eq!(decoded.len(), 1);
    assert_eq!(&*decoded[0].data, &data[..]);
    assert_eq!(decoded[0].messages, vec![(0, 10), (10, 11)]);
    assert!(parts.head.is_none() && f.missing().is_none());
}

#[test]
fn a_web_text_message_over_several_frames_is_decoded_when_its_text_is_complete() {
    let m = msg(&[b'x'; 40]);
    let text = b64(&m);
    let mut f = TextFramer::default();
    // Cut on quartet boundaries: the built-in's arithmetic (decoded octets wanted, times
    // 4/3 rounded up to a quartet) asks for exactly the rest of the text then.
    let (a, d) = f.frame(1, &text[..12], false, 1 << 20);
    assert!(d.is_empty());
    assert_eq!(a.head, Some((0, 12)));
    assert_eq!(f.missing(), Some(48));
    let (_, d) = f.frame(2, &text[12..32], false, 1 << 20);
    assert!(d.is_empty());
    let (c, d) = f.frame(3, &text[32..], true, 1 << 20);
    assert_eq!(d.len(), 1, "{c:?}");
    assert_eq!(&*d[0].data, &m[..]);
    assert_eq!(d[0].messages, vec![(0, 45)]);
    assert_eq!(c.missing_at_end, None);
    let tail = c.tail.unwrap();
    assert_eq!(tail.message.as_deref(), Some(&text[..]));
}

#[test]
fn a_web_text_stream_ending_inside_a_message_says_so() {
    let text = b64(&msg(&[1u8; 30]));
    let mut f = TextFramer::default();
    let (p, d) = f.frame(1, &text[..16], true, 1 << 20);
    assert!(d.is_empty());
    assert!(p.missing_at_end.is_some_and(|n| n > 0));
}
