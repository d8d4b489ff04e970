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
