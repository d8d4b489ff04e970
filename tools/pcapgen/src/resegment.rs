//! Re-segmentation strategies: functions from a segment list to a new segment list.
//!
//! All of them keep the relative order of the two directions (causality): a segment is only
//! ever replaced by pieces at the same place in the list, and merging only joins segments that
//! are adjacent and travel the same way. So no byte of one side ever moves ahead of a byte the
//! other side sent before it, and each direction's byte stream (the concatenation of its
//! new-data segments) is unchanged, except for [`skip_bytes`] / [`skip_segments`], which cut the
//! beginning off on purpose, and [`repeated`], which builds new payload.
//!
//! Feed the result to [`TcpFlow::with_segments`](crate::TcpFlow::with_segments).

use std::num::NonZeroUsize;

use crate::error::{Error, Result};
use crate::flow::{Direction, Segment, StreamOffsets};

/// The bytes `start..end` of `seg` as a segment of their own. Retransmissions keep pointing at
/// the right stream offset; a pinned timestamp stays with the first piece only.
fn piece(seg: &Segment, start: usize, end: usize) -> Segment {
    Segment {
        dir: seg.dir,
        payload: seg.payload[start..end].to_vec(),
        resend_offset: seg.resend_offset.map(|o| o + start as u64),
        timestamp: if start == 0 { seg.timestamp } else { None },
    }
}

/// Splits `seg` at the given offsets, which must be strictly increasing and lie in
/// `1..payload.len()`. No offsets gives the segment back unchanged.
pub fn split_segment(seg: &Segment, offsets: &[usize]) -> Result<Vec<Segment>> {
    let mut out = Vec::with_capacity(offsets.len() + 1);
    let mut start = 0;
    for &off in offsets {
        if off <= start || off >= seg.payload.len() {
            return Err(Error::invalid(format!(
                "split offset {off} out of order or outside 1..{} of the segment",
                seg.payload.len()
            )));
        }
        out.push(piece(seg, start, off));
        start = off;
    }
    out.push(piece(seg, start, seg.payload.len()));
    Ok(out)
}

/// Strategy (a): every segment becomes pieces of `piece_len` bytes (the last piece of each
/// segment may be shorter). `piece_len = 1` gives one byte per segment.
pub fn split_into_pieces(segments: &[Segment], piece_len: NonZeroUsize) -> Vec<Segment> {
    let n = piece_len.get();
    let mut out = Vec::new();
    for seg in segments {
        if seg.payload.is_empty() {
            out.push(seg.clone());
            continue;
        }
        let mut start = 0;
        while start < seg.payload.len() {
            let end = (start + n).min(seg.payload.len());
            out.push(piece(seg, start, end));
            start = end;
        }
    }
    out
}

/// Strategy (b), one segment: splits segment `index` in two at byte `offset`
/// (`1 <= offset < len`).
pub fn split_segment_at(segments: &[Segment], index: usize, offset: usize) -> Result<Vec<Segment>> {
    let seg = segments.get(index).ok_or_else(|| {
        Error::invalid(format!(
            "segment index {index} out of range (have {})",
            segments.len()
        ))
    })?;
    let mut out = Vec::with_capacity(segments.len() + 1);
    out.extend_from_slice(&segments[..index]);
    out.extend(split_segment(seg, &[offset])?);
    out.extend_from_slice(&segments[index + 1..]);
    Ok(out)
}

/// Strategy (b), all segments: splits each segment longer than `offset` bytes in two at
/// `offset`; shorter ones are kept whole. `offset = 0` changes nothing.
pub fn split_every_segment_at(segments: &[Segment], offset: usize) -> Vec<Segment> {
    let mut out = Vec::with_capacity(segments.len() * 2);
    for seg in segments {
        if offset > 0 && seg.payload.len() > offset {
            out.push(piece(seg, 0, offset));
            out.push(piece(seg, offset, seg.payload.len()));
        } else {
            out.push(seg.clone());
        }
    }
    out
}

/// One variant of `segments` per possible split point of segment `index`: variant *i*
/// (0-based) has that segment split at offset *i + 1*, so there are `len - 1` variants (none for
/// a 1-byte segment). Typically each variant becomes its own TCP connection.
pub fn split_at_every_offset(segments: &[Segment], index: usize) -> Result<Vec<Vec<Segment>>> {
    let len = segments
        .get(index)
        .ok_or_else(|| {
            Error::invalid(format!(
                "segment index {index} out of range (have {})",
                segments.len()
            ))
        })?
        .payload
        .len();
    (1..len)
        .map(|off| split_segment_at(segments, index, off))
        .collect()
}

/// Largest TCP payload of one IPv4 packet without options: 65535 − 20 (IPv4) − 20 (TCP).
pub const MAX_IPV4_TCP_PAYLOAD: usize = 65_495;

/// Strategy (c): merges every run of consecutive new-data segments travelling the same way
/// into one segment. Retransmissions are kept as they are and end a run.
///
/// Use [`coalesce_up_to`] when runs may add up to more than one IPv4 packet can carry.
pub fn coalesce(segments: &[Segment]) -> Vec<Segment> {
    coalesce_up_to(segments, usize::MAX)
}

/// Like [`coalesce`], but a merged segment never grows beyond `max_len` bytes: a segment that
/// would make it larger starts a new one (segments are never cut). Pass
/// [`MAX_IPV4_TCP_PAYLOAD`] to keep every result writable.
pub fn coalesce_up_to(segments: &[Segment], max_len: usize) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    for seg in segments {
        match out.last_mut() {
            Some(last)
                if last.dir == seg.dir
                    && last.resend_offset.is_none()
                    && seg.resend_offset.is_none()
                    && last.payload.len().saturating_add(seg.payload.len()) <= max_len =>
            {
                last.payload.extend_from_slice(&seg.payload);
            }
            _ => out.push(seg.clone()),
        }
    }
    out
}

/// Stream offset (within its direction) of the first byte of segment `index`.
pub fn stream_offset(segments: &[Segment], index: usize) -> Result<u64> {
    let seg = segments.get(index).ok_or_else(|| {
        Error::invalid(format!(
            "segment index {index} out of range (have {})",
            segments.len()
        ))
    })?;
    if let Some(off) = seg.resend_offset {
        return Ok(off);
    }
    Ok(segments[..index]
        .iter()
        .filter(|s| s.dir == seg.dir && s.resend_offset.is_none())
        .map(|s| s.payload.len() as u64)
        .sum())
}

/// Strategy (d): sends segment `index` again (same sequence number, same payload) as a
/// retransmission, `later` segments after the original (`0` = right after it, before the other
/// side reacts, which is what Wireshark flags as a plain retransmission). A `later` past the end
/// puts the copy last.
pub fn retransmit(segments: &[Segment], index: usize, later: usize) -> Result<Vec<Segment>> {
    let offset = stream_offset(segments, index)?;
    let orig = &segments[index];
    let copy = Segment::resend(orig.dir, offset, orig.payload.clone());
    let at = index
        .saturating_add(1)
        .saturating_add(later)
        .min(segments.len());
    let mut out = segments.to_vec();
    out.insert(at, copy);
    Ok(out)
}

/// Strategy (e), by bytes: drops the first `n` payload bytes of the conversation, counted over
/// both directions in segment order, so the result starts `n` bytes in (possibly in the middle
/// of a segment, and of a PDU). Returns the remaining segments and how many bytes of each
/// direction were cut; pass those to
/// [`TcpFlow::skip_stream_offsets`](crate::TcpFlow::skip_stream_offsets) and build the flow
/// without handshake for a capture that starts mid-stream.
pub fn skip_bytes(segments: &[Segment], n: u64) -> (Vec<Segment>, StreamOffsets) {
    let mut skipped = StreamOffsets::default();
    let mut left = n;
    let mut out = Vec::new();
    for seg in segments {
        if seg.resend_offset.is_some() {
            // Handled below, once all cut offsets are known.
            out.push(seg.clone());
            continue;
        }
        let len = seg.payload.len() as u64;
        if left >= len && left > 0 {
            left -= len;
            skipped.add(seg.dir, len);
            out.clear(); // retransmissions queued before the cut go too
        } else if left > 0 {
            // `left < len`, so it fits in usize.
            let cut = left as usize;
            skipped.add(seg.dir, left);
            left = 0;
            out.clear();
            out.push(piece(seg, cut, seg.payload.len()));
        } else {
            out.push(seg.clone());
        }
    }
    (rebase_retransmissions(out, skipped), skipped)
}

/// Strategy (e), by segments: drops the first `k` segments. Returns the remaining segments and
/// how many bytes of each direction were cut (see [`skip_bytes`]).
pub fn skip_segments(segments: &[Segment], k: usize) -> (Vec<Segment>, StreamOffsets) {
    let k = k.min(segments.len());
    let mut skipped = StreamOffsets::default();
    for seg in segments[..k].iter().filter(|s| s.resend_offset.is_none()) {
        skipped.add(seg.dir, seg.payload.len() as u64);
    }
    (
        rebase_retransmissions(segments[k..].to_vec(), skipped),
        skipped,
    )
}

/// Shifts retransmission offsets after a cut; drops those that only re-send cut bytes and trims
/// those that straddle the cut.
fn rebase_retransmissions(segments: Vec<Segment>, skipped: StreamOffsets) -> Vec<Segment> {
    segments
        .into_iter()
        .filter_map(|seg| {
            let Some(off) = seg.resend_offset else {
                return Some(seg);
            };
            let cut = skipped.get(seg.dir);
            let end = off + seg.payload.len() as u64;
            if end <= cut {
                None
            } else if off < cut {
                let mut s = piece(&seg, (cut - off) as usize, seg.payload.len());
                s.resend_offset = Some(0);
                Some(s)
            } else {
                Some(Segment {
                    resend_offset: Some(off - cut),
                    ..seg
                })
            }
        })
        .collect()
}

/// Builds one segment holding `payload` repeated `count` times back to back (for example 1000
/// ZooKeeper pings in a single segment).
pub fn repeated(dir: Direction, payload: &[u8], count: usize) -> Segment {
    Segment::new(dir, payload.repeat(count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Direction::*;
    use crate::TcpFlow;

    fn sample() -> Vec<Segment> {
        vec![
            Segment::new(ClientToServer, b"hello wo".to_vec()),
            Segment::new(ClientToServer, b"rld".to_vec()),
            Segment::new(ServerToClient, b"0123456789".to_vec()),
            Segment::new(ClientToServer, b"!".to_vec()),
            Segment::new(ServerToClient, b"ab".to_vec()),
            Segment::new(ServerToClient, b"cd".to_vec()),
        ]
    }

    fn stream(segs: &[Segment], dir: Direction) -> Vec<u8> {
        segs.iter()
            .filter(|s| s.dir == dir && s.resend_offset.is_none())
            .flat_map(|s| s.payload.clone())
            .collect()
    }

    /// The sequence of direction changes, with runs collapsed: what causality constrains.
    fn turns(segs: &[Segment]) -> Vec<(Direction, Vec<u8>)> {
        let new_data: Vec<Segment> = segs
            .iter()
            .filter(|s| !s.is_retransmission())
            .cloned()
            .collect();
        coalesce(&new_data)
            .into_iter()
            .map(|s| (s.dir, s.payload))
            .collect()
    }

    fn assert_same_streams(a: &[Segment], b: &[Segment]) {
        assert_eq!(stream(a, ClientToServer), stream(b, ClientToServer));
        assert_eq!(stream(a, ServerToClient), stream(b, ServerToClient));
        assert_eq!(turns(a), turns(b), "causality changed");
    }

    #[test]
    fn pieces_preserve_streams() {
        let s = sample();
        for n in 1..12 {
            let out = split_into_pieces(&s, NonZeroUsize::new(n).unwrap());
            assert!(out.iter().all(|seg| seg.payload.len() <= n));
            assert_same_streams(&s, &out);
        }
        assert_eq!(
            split_into_pieces(&s, NonZeroUsize::new(1).unwrap()).len(),
            26
        );
    }

    #[test]
    fn split_at_offsets() {
        let s = sample();
        let out = split_segment_at(&s, 2, 3).unwrap();
        assert_eq!(out.len(), s.len() + 1);
        assert_eq!(out[2].payload, b"012");
        assert_eq!(out[3].payload, b"3456789");
        assert_same_streams(&s, &out);
        assert!(split_segment_at(&s, 2, 0).is_err());
        assert!(split_segment_at(&s, 2, 10).is_err());
        assert!(split_segment_at(&s, 9, 1).is_err());

        let every = split_every_segment_at(&s, 2);
        assert_eq!(every.len(), s.len() + 3);
        assert_same_streams(&s, &every);

        let variants = split_at_every_offset(&s, 0).unwrap();
        assert_eq!(variants.len(), 7);
        for (i, v) in variants.iter().enumerate() {
            assert_eq!(v[0].payload.len(), i + 1);
            assert_same_streams(&s, v);
        }
        assert!(split_at_every_offset(&s, 3).unwrap().is_empty());
        assert_eq!(split_segment(&s[0], &[1, 4, 7]).unwrap().len(), 4);
        assert!(split_segment(&s[0], &[4, 4]).is_err());
    }

    #[test]
    fn coalesce_merges_runs_only() {
        let s = sample();
        let out = coalesce(&s);
        let got: Vec<_> = out.iter().map(|s| (s.dir, s.payload.clone())).collect();
        assert_eq!(
            got,
            vec![
                (ClientToServer, b"hello world".to_vec()),
                (ServerToClient, b"0123456789".to_vec()),
                (ClientToServer, b"!".to_vec()),
                (ServerToClient, b"abcd".to_vec()),
            ]
        );
        assert_same_streams(&s, &out);
        // A size cap ends runs early without cutting segments.
        let capped = coalesce_up_to(&s, 10);
        let lens: Vec<_> = capped.iter().map(|s| s.payload.len()).collect();
        assert_eq!(lens, vec![8, 3, 10, 1, 4]);
        assert_same_streams(&s, &capped);
        // Split then coalesce gives the coalesced original back.
        assert_eq!(
            coalesce(&split_into_pieces(&s, NonZeroUsize::new(3).unwrap())),
            out
        );
    }

    #[test]
    fn retransmit_inserts_copy() {
        let s = sample();
        let out = retransmit(&s, 1, 0).unwrap();
        assert_eq!(out[2], Segment::resend(ClientToServer, 8, b"rld".to_vec()));
        assert_same_streams(&s, &out);
        let last = retransmit(&s, 4, 100).unwrap();
        assert_eq!(
            last.last().unwrap(),
            &Segment::resend(ServerToClient, 10, b"ab".to_vec())
        );
        // The flow accepts it.
        TcpFlow::new(1, 2).with_segments(out).packets().unwrap();
        assert!(retransmit(&s, 6, 0).is_err());
    }

    #[test]
    fn skipping() {
        let s = sample();
        let (out, off) = skip_bytes(&s, 13);
        assert_eq!(
            off,
            StreamOffsets {
                client_to_server: 11,
                server_to_client: 2
            }
        );
        assert_eq!(out[0], Segment::new(ServerToClient, b"23456789".to_vec()));
        assert_eq!(out.len(), 4);

        let (none, off) = skip_bytes(&s, 0);
        assert_eq!(none, s);
        assert_eq!(off, StreamOffsets::default());

        let (out, off) = skip_segments(&s, 3);
        assert_eq!(out, s[3..].to_vec());
        assert_eq!(
            off,
            StreamOffsets {
                client_to_server: 11,
                server_to_client: 10
            }
        );

        // Retransmissions are rebased onto the cut stream.
        let r = retransmit(&s, 0, 4).unwrap(); // resend of "hello wo" after "ab"
        let (out, _) = skip_bytes(&r, 4);
        let resend = out.iter().find(|s| s.is_retransmission()).unwrap();
        assert_eq!(
            resend,
            &Segment::resend(ClientToServer, 0, b"o wo".to_vec())
        );
        TcpFlow::new(1, 2).with_segments(out).packets().unwrap();
        let (out, _) = skip_bytes(&r, 9);
        assert!(out.iter().all(|s| !s.is_retransmission()));
    }

    #[test]
    fn repeat_payload() {
        let ping = [0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0x0b];
        let seg = repeated(ClientToServer, &ping, 1000);
        assert_eq!(seg.payload.len(), 12_000);
        assert!(seg.payload.chunks(12).all(|c| c == ping));
    }
}
