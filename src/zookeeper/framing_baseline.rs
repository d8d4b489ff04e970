//! Benchmark-only (feature `framing-baseline`, never in a release build): a trivial
//! ZooKeeper dissector, the second baseline of `scripts/bench --proto zk`.
//!
//! It frames PDUs by their 4-byte big-endian length prefix through the same
//! `tcp_dissect_pdus` path as the real dissector (`FramedDissector`, the same handle, port
//! and preferences) and adds only the protocol item over each PDU and the protocol column:
//! no connection state, no parsing, no Info text, no statistics. What tshark spends on a
//! capture with it loaded is tshark's own work on ZooKeeper traffic that is reassembled
//! into PDUs (frame, IP, TCP, reassembly, the filter, printing one item per PDU), and it
//! grows linearly with the capture, unlike "bare TCP" (`--disable-protocol zookeeper`),
//! whose undissected payload makes tshark's TCP and data path superlinear on this traffic.

use super::REGISTRATION;
use super::fields::Hf;
use crate::epan::{Enc, FramedDissector, Packet, PduLen, Protocol, Tree};

/// The framing-only stand-in for `dissect::ZooKeeper`.
pub struct FramingBaseline;

impl FramedDissector for FramingBaseline {
    const HEADER_LEN: u32 = 4;

    fn protocol() -> Protocol {
        REGISTRATION.proto()
    }

    fn pdu_len(_pkt: &Packet<'_>, bytes: &[u8]) -> PduLen {
        let max = REGISTRATION
            .get()
            .map_or(super::DEFAULT_MAX_PDU, |r| r.settings.max_pdu.get());
        match super::parse::length_prefix(bytes).and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n <= max => PduLen::Exactly(n + 4),
            _ => PduLen::RestOfSegment,
        }
    }

    fn dissect_pdu(pkt: &Packet<'_>, tree: Tree<'_>, bytes: &[u8]) {
        pkt.set_protocol_column(c"ZooKeeper");
        tree.add(Hf::Proto, 0, bytes.len(), Enc::Na);
    }
}
