//! Per-connection state of the quorum protocol: which side is the leader, and where the
//! raw snapshot stream (after SNAP) or unsynchronised bytes (a capture that starts
//! mid-stream) are. Pure Rust, no Wireshark.
//!
//! The framing is decided on the first pass, in capture order, per direction:
//!
//! - `Start`: the first bytes. A plausible QuorumPacket switches to `Packets`; anything
//!   else to `Unsynced` (the capture started inside a packet or a snapshot).
//! - `Packets`: QuorumPackets, walked field by field. A complete SNAP from the leader
//!   switches to `Snapshot`.
//! - `Snapshot`: everything up to and including the data tree's end marker and the
//!   "BenWasHere" signature is one PDU; then `Packets` again.
//! - `Unsynced`: bytes up to a snapshot signature, or up to a segment that starts with a
//!   plausible packet, are shown as unsynchronised data.
//!
//! Each framing call that is not a QuorumPacket is recorded under (frame, fingerprint of
//! its first bytes), so that later passes (which may call the framing in other places and
//! fewer times, as TCP reassembly is already done) give the same answer.

use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::parse::{self, Need, SNAPSHOT_END, packet_len, plausible_packet, ptype, snapshot_len};
use crate::common::{Direction, FastMap, PduKey, ServerPort};
use crate::epan::{SideSync, StreamStart};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Mode {
    #[default]
    Start,
    Packets,
    Snapshot,
    Unsynced,
}

/// What a run of bytes in the stream is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk {
    /// Part of the snapshot stream that follows SNAP.
    Snapshot,
    /// The part of the snapshot stream that ends with its end marker and signature.
    SnapshotEnd,
    /// Bytes before the first recognisable packet.
    Unsynced,
}

/// The framing layer's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A QuorumPacket of exactly this many bytes, or at least this many (more needed).
    Packet(usize),
    /// A negative or oversized length: take the rest of the segment, undecoded.
    Bogus,
    /// A piece of the snapshot of this many bytes (`parse::snapshot_chunk_len`).
    Snapshot(usize),
    /// Unsynchronised bytes: this many, or `None` for the rest of the segment.
    Unsynced(Option<usize>),
}

#[derive(Debug, Default)]
pub struct Connection {
    /// The leader's (quorum) port: the leader is the "server" of a learner's connection.
    pub leader_port: ServerPort,
    /// Mode per direction (`Direction::index`): [from learner, from leader].
    modes: [Mode; 2],
    chunks: FastMap<(u32, u64), Chunk>,
    /// The last bytes of the snapshot stream so far, per direction, to see an end marker
    /// that two chunks share.
    snap_tail: [Vec<u8>; 2],
    /// Length of each snapshot chunk, decided on the first pass.
    snap_lens: FastMap<(u32, u64), usize>,
    /// This link's number in the capture's write-path index (0: not yet given).
    pub link: u32,
    /// Its ensemble in that index (`zab::quorum::ensemble_scope`: the leader's endpoint).
    pub ensemble: u64,
    /// The learner's forwarded syncs (session, cxid) that await the leader's SYNC, which
    /// carries neither: SYNCs answer them in order on the link.
    syncs_waiting: VecDeque<(u64, i32)>,
    /// The sync each SYNC answered, by frame, decided on the first pass.
    sync_answers: FastMap<PduKey, (u64, i32)>,
}

/// Forwarded syncs remembered per link while their SYNC is awaited.
pub const MAX_SYNCS_WAITING: usize = 100_000;

fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.get(..32).unwrap_or(bytes).hash(&mut h);
    h.finish()
}

impl Connection {
    /// The direction of a segment: `ToClient` is from the leader. `match_port` is the port
    /// that selected the dissector (0 if none).
    pub fn direction(&mut self, src_port: u32, dst_port: u32, match_port: u32) -> Direction {
        self.leader_port.direction(src_port, dst_port, match_port)
    }

    /// The chunk recorded for a PDU (or framing call) starting with `bytes` in `frame`.
    pub fn chunk(&self, frame: u32, bytes: &[u8]) -> Option<Chunk> {
        self.chunks.get(&(frame, fingerprint(bytes))).copied()
    }

    fn record(&mut self, frame: u32, bytes: &[u8], len: Option<usize>, chunk: Chunk) {
        self.chunks.insert((frame, fingerprint(bytes)), chunk);
        if let Some(n) = len {
            let pdu = bytes.get(..n).unwrap_or(bytes);
            self.chunks.insert((frame, fingerprint(pdu)), chunk);
        }
    }

    /// Framing of the bytes at the start of a PDU. `first_pass` is false when the frame was
    /// visited before: then only recorded facts are used. Without TCP's facts: see
    /// [`Connection::framing_at`].
    pub fn framing(
        &mut self,
        dir: Direction,
        frame: u32,
        first_pass: bool,
        bytes: &[u8],
        max: usize,
    ) -> Framing {
        self.framing_at(dir, frame, first_pass, bytes, max, || StreamStart::Unknown)
    }

    /// Framing, with `start` telling where the bytes lie in their side's stream (asked at a
    /// side's first PDU): a side captured from its first byte starts with a QuorumPacket
    /// there, whatever it looks like; only a side whose start is missing (or when TCP has
    /// nothing to say) is judged by plausibility.
    pub fn framing_at(
        &mut self,
        dir: Direction,
        frame: u32,
        first_pass: bool,
        bytes: &[u8],
        max: usize,
        start: impl FnOnce() -> StreamStart,
    ) -> Framing {
        if !first_pass {
            return match self.chunk(frame, bytes) {
                Some(Chunk::Snapshot | Chunk::SnapshotEnd) => {
                    match self.snap_lens.get(&(frame, fingerprint(bytes))) {
                        Some(&n) => Framing::Snapshot(n),
                        None => snapshot_framing(bytes),
                    }
                }
                Some(Chunk::Unsynced) => unsynced_framing(bytes),
                None => packet_framing(bytes, max),
            };
        }
        let d = dir.index();
        let from_leader = dir == Direction::ToClient;
        let mut start = Some(start);
        loop {
            match self.modes[d] {
                Mode::Start => {
                    let at = start.take().map_or(StreamStart::Unknown, |f| f());
                    self.modes[d] =
                        if at.first_pdu() == SideSync::FromStart || plausible_packet(bytes, max) {
                            Mode::Packets
                        } else {
                            Mode::Unsynced
                        };
                }
                Mode::Packets => {
                    let f = packet_framing(bytes, max);
                    if let Framing::Packet(n) = f {
                        let is_snap = bytes.get(..4) == Some(&ptype::SNAP.to_be_bytes()[..]);
                        if from_leader && is_snap && n <= bytes.len() {
                            self.modes[d] = Mode::Snapshot;
                        }
                    }
                    return f;
                }
                Mode::Snapshot => {
                    let (n, end) = self.snapshot_chunk(d, bytes);
                    if end {
                        self.modes[d] = Mode::Packets;
                        self.snap_tail[d].clear();
                    }
                    let chunk = if end {
                        Chunk::SnapshotEnd
                    } else {
                        Chunk::Snapshot
                    };
                    self.record(frame, bytes, Some(n), chunk);
                    self.snap_lens.insert((frame, fingerprint(bytes)), n);
                    return Framing::Snapshot(n);
                }
                Mode::Unsynced => {
                    if snapshot_len(bytes).is_none() && plausible_packet(bytes, max) {
                        self.modes[d] = Mode::Packets;
                        continue;
                    }
                    let f = unsynced_framing(bytes);
                    let len = match f {
                        Framing::Unsynced(Some(n)) => {
                            self.modes[d] = Mode::Packets;
                            Some(n)
                        }
                        _ => Some(bytes.len()),
                    };
                    self.record(frame, bytes, len, Chunk::Unsynced);
                    return f;
                }
            }
        }
    }
}

impl Connection {
    /// First pass: the learner forwarded a sync.
    pub fn sync_forwarded(&mut self, session: u64, cxid: i32) {
        if self.syncs_waiting.len() < MAX_SYNCS_WAITING {
            self.syncs_waiting.push_back((session, cxid));
        }
    }

    /// The forwarded sync that the leader's SYNC `key` answers: the oldest waiting one on
    /// the first pass, the one recorded then on later passes.
    pub fn sync_answered(&mut self, key: PduKey, first_pass: bool) -> Option<(u64, i32)> {
        if first_pass && let Some(s) = self.syncs_waiting.pop_front() {
            self.sync_answers.insert(key, s);
        }
        self.sync_answers.get(&key).copied()
    }

    /// True when `bytes` (fewer than a QuorumPacket's 16-byte head) must wait for more
    /// before framing: anywhere but inside the snapshot stream or unsynchronised bytes,
    /// which are taken as they come.
    pub fn needs_header(&self, dir: Direction, frame: u32, first_pass: bool, bytes: &[u8]) -> bool {
        if bytes.len() >= 16 {
            return false;
        }
        if !first_pass {
            return self.chunk(frame, bytes).is_none();
        }
        matches!(self.modes[dir.index()], Mode::Start | Mode::Packets)
    }

    /// One chunk of the snapshot stream: everything up to its end marker when that ends in
    /// `bytes` (also when it began in the previous chunk), else all of `bytes`. Never a tail
    /// held back for the next segment: a PDU boundary placed inside reassembled bytes with
    /// nothing else to justify it made TCP drop the bytes after it.
    fn snapshot_chunk(&mut self, d: usize, bytes: &[u8]) -> (usize, bool) {
        let end = SNAPSHOT_END;
        let tail = &self.snap_tail[d];
        // The marker begun in the previous chunk: its first k bytes there, the rest here.
        let straddle = (1..end.len())
            .rev()
            .find(|&k| tail.ends_with(&end[..k]) && bytes.starts_with(&end[k..]))
            .map(|k| end.len() - k);
        let found = match straddle {
            Some(n) => Some(n),
            None => snapshot_len(bytes),
        };
        match found {
            Some(n) => (n, true),
            None => {
                let tail = &mut self.snap_tail[d];
                tail.extend_from_slice(bytes);
                let keep = end.len() - 1;
                if tail.len() > keep {
                    tail.drain(..tail.len() - keep);
                }
                (bytes.len(), false)
            }
        }
    }
}

fn packet_framing(bytes: &[u8], max: usize) -> Framing {
    match packet_len(bytes, max) {
        Need::Complete(n) | Need::AtLeast(n) => Framing::Packet(n),
        Need::Bogus => Framing::Bogus,
    }
}

fn snapshot_framing(bytes: &[u8]) -> Framing {
    Framing::Snapshot(parse::snapshot_chunk_len(bytes))
}

fn unsynced_framing(bytes: &[u8]) -> Framing {
    Framing::Unsynced(parse::snapshot_len(bytes))
}

#[cfg(test)]
#[path = "tests/connection.rs"]
mod tests;
