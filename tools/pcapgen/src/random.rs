//! Seeded random re-segmentation, for property tests: the same conversation cut at random
//! points (down to one byte per segment), optionally with duplicated retransmissions or
//! adjacent segments swapped, must decode to the same PDUs as the original.
//!
//! Causality is kept as in [`resegment`](crate::resegment): each direction's bytes may be
//! re-cut freely between the other direction's segments, but no byte moves ahead of a byte
//! the other side sent before it. Swaps only exchange two adjacent segments of the same
//! direction (after sequence numbers are assigned, so the second one's bytes arrive first, as
//! a reordering network would deliver them).
//!
//! Everything is a function of the seed: the same input and seed give the same capture.

use crate::error::Result;
use crate::flow::{Direction, Frame, Segment, TcpFlow, TcpPacket};
use crate::resegment;

/// A small deterministic generator (SplitMix64): enough for picking cut points, and no
/// dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5eed_5eed_5eed_5eed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (`lo <= hi`).
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        let span = (hi - lo) as u64 + 1;
        lo + (self.next_u64() % span) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// What is done to the re-cut segments besides cutting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Variant {
    /// Only new cut points.
    #[default]
    Plain,
    /// Some segments are sent twice (a retransmission with the same sequence number, right
    /// after the original or a few segments later).
    Duplicates,
    /// Some pairs of adjacent same-direction segments arrive swapped (decode with
    /// `-o tcp.reassemble_out_of_order:TRUE`).
    Swaps,
}

/// Most pieces one segment is cut into; a longer segment gets longer pieces, so that a
/// 200 KB znode does not become 200,000 frames.
pub const MAX_PIECES_PER_SEGMENT: usize = 64;

/// Re-cuts `segments` for one seed: each run of same-direction segments is merged, then cut
/// at random points. The largest piece of a seed is drawn log-uniformly from 1 to 2048 bytes,
/// so some seeds cut everything into 1 to 3 byte pieces and others barely cut at all; the
/// first bytes of each direction (the handshake, the preface) are cut finely in half of the
/// seeds whatever that size.
pub fn recut(segments: &[Segment], rng: &mut Rng) -> Vec<Segment> {
    let merged = resegment::coalesce_up_to(segments, resegment::MAX_IPV4_TCP_PAYLOAD);
    // 2^0 .. 2^11
    let max_piece = 1usize << rng.range(0, 11);
    let fine_start = rng.chance(0.5);
    let mut started = [false; 2];
    let mut out = Vec::with_capacity(merged.len() * 4);
    for seg in &merged {
        if seg.is_retransmission() || seg.payload.len() <= 1 {
            out.push(seg.clone());
            continue;
        }
        let len = seg.payload.len();
        let cap = max_piece.max(len.div_ceil(MAX_PIECES_PER_SEGMENT));
        let mut cuts = Vec::new();
        let mut pos = 0;
        let d = seg.dir.index();
        if fine_start && !started[d] {
            // The first 64 bytes of the direction in pieces of 1 to 7 bytes.
            while pos < len.min(64) {
                pos += rng.range(1, 7);
                if pos < len {
                    cuts.push(pos);
                }
            }
        }
        started[d] = true;
        while pos < len {
            pos += rng.range(1, cap);
            if pos < len {
                cuts.push(pos);
            }
        }
        // Offsets are strictly increasing and inside 1..len by construction.
        out.extend(resegment::split_segment(seg, &cuts).unwrap_or_else(|_| vec![seg.clone()]));
    }
    out
}

/// Adds duplicated retransmissions: after about one segment in ten, that segment again
/// (same bytes, same sequence number), right after it or up to three segments later.
pub fn duplicate(segments: &[Segment], rng: &mut Rng) -> Vec<Segment> {
    let mut out = segments.to_vec();
    // From the end, so that earlier insertion points stay valid.
    for i in (0..segments.len()).rev() {
        if segments[i].is_retransmission() || segments[i].payload.is_empty() || !rng.chance(0.1) {
            continue;
        }
        let later = rng.range(0, 3);
        if let Ok(v) = resegment::retransmit(&out, i, later) {
            out = v;
        }
    }
    out
}

/// Swaps about one in eight pairs of adjacent same-direction data packets (after sequence
/// numbers are assigned: the later bytes arrive first).
pub fn swap_adjacent(packets: &mut [TcpPacket], rng: &mut Rng) {
    let mut i = 0;
    while i + 1 < packets.len() {
        let (a, b) = (&packets[i], &packets[i + 1]);
        if a.dir == b.dir
            && !a.payload.is_empty()
            && !b.payload.is_empty()
            && !a.syn
            && !b.syn
            && rng.chance(0.125)
        {
            packets.swap(i, i + 1);
            i += 2;
        } else {
            i += 1;
        }
    }
}

/// The frames of `flow` with `variant` applied (duplicates are segments of the flow already;
/// swaps are applied here).
pub fn frames(flow: &TcpFlow, variant: Variant, rng: &mut Rng) -> Result<Vec<Frame>> {
    let mut packets = flow.packets()?;
    if variant == Variant::Swaps {
        swap_adjacent(&mut packets, rng);
    }
    let mut ip_id = [0x4000u16, 0x8000u16];
    packets
        .iter()
        .map(|p| {
            let id = &mut ip_id[p.dir.index()];
            let data = flow.encode(p, *id)?;
            *id = id.wrapping_add(1);
            Ok(Frame {
                timestamp: p.timestamp,
                data,
            })
        })
        .collect()
}

/// One seed's version of a conversation's segments.
pub fn variant_segments(segments: &[Segment], variant: Variant, rng: &mut Rng) -> Vec<Segment> {
    let cut = recut(segments, rng);
    match variant {
        Variant::Duplicates => duplicate(&cut, rng),
        Variant::Plain | Variant::Swaps => cut,
    }
}

/// The byte stream of one direction (new data only), for checks.
pub fn stream(segments: &[Segment], dir: Direction) -> Vec<u8> {
    segments
        .iter()
        .filter(|s| s.dir == dir && !s.is_retransmission())
        .flat_map(|s| s.payload.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Direction::*;

    fn conv() -> Vec<Segment> {
        vec![
            Segment::new(ClientToServer, (0..100u8).collect::<Vec<_>>()),
            Segment::new(ClientToServer, vec![7; 30]),
            Segment::new(ServerToClient, (0..200u8).collect::<Vec<_>>()),
            Segment::new(ClientToServer, vec![9; 5000]),
        ]
    }

    #[test]
    fn recut_keeps_streams_and_causality() {
        for seed in 0..200 {
            let mut rng = Rng::new(seed);
            let segs = conv();
            for variant in [Variant::Plain, Variant::Duplicates, Variant::Swaps] {
                let out = variant_segments(&segs, variant, &mut rng);
                for d in [ClientToServer, ServerToClient] {
                    assert_eq!(stream(&out, d), stream(&segs, d), "seed {seed}");
                }
                // Causality: the server's bytes come after all 130 first client bytes and
                // before the last 5000.
                let first_server = out.iter().position(|s| s.dir == ServerToClient).unwrap();
                let before: usize = out[..first_server]
                    .iter()
                    .filter(|s| !s.is_retransmission())
                    .map(|s| s.payload.len())
                    .sum();
                assert_eq!(before, 130, "seed {seed}");
                assert!(out.iter().all(|s| !s.payload.is_empty()));
                let pieces = out.iter().filter(|s| s.dir == ClientToServer).count();
                assert!(pieces <= 3 * MAX_PIECES_PER_SEGMENT + 64, "seed {seed}");
                TcpFlow::new(1, 2).with_segments(out).packets().unwrap();
            }
        }
    }

    #[test]
    fn some_seeds_cut_to_single_bytes() {
        let singles = (0..50)
            .filter(|&seed| {
                let out = recut(&conv(), &mut Rng::new(seed));
                out.iter().filter(|s| s.payload.len() == 1).count() > 20
            })
            .count();
        assert!(singles >= 5, "{singles}");
    }

    #[test]
    fn swaps_only_exchange_same_direction_neighbours() {
        let flow = TcpFlow::new(1, 2).with_segments(recut(&conv(), &mut Rng::new(3)));
        let before = flow.packets().unwrap();
        let mut after = before.clone();
        swap_adjacent(&mut after, &mut Rng::new(5));
        assert_ne!(before, after);
        let dirs = |p: &[TcpPacket]| p.iter().map(|p| p.dir).collect::<Vec<_>>();
        assert_eq!(dirs(&before), dirs(&after));
        let mut sorted = after.clone();
        sorted.sort_by_key(|p| (p.dir, p.seq.wrapping_sub(before[0].seq)));
        let mut orig = before.clone();
        orig.sort_by_key(|p| (p.dir, p.seq.wrapping_sub(before[0].seq)));
        assert_eq!(sorted, orig);
    }

    #[test]
    fn same_seed_same_result() {
        let a = variant_segments(&conv(), Variant::Duplicates, &mut Rng::new(42));
        let b = variant_segments(&conv(), Variant::Duplicates, &mut Rng::new(42));
        assert_eq!(a, b);
    }
}
