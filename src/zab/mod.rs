//! ZooKeeper quorum protocol (ZAB learner protocol, TCP 2888 by convention).
//!
//! - `parse`: QuorumPacket and the records in its data (txns, LearnerInfo, ...); pure nom.
//! - `session`: per-connection framing state (leader side, snapshot stream); pure.
//! - `fields`: every field, subtree and expert info, declared once.
//! - `dissect`: parsed records to tree items and columns.
//! - this file: registration with epan.

pub mod dissect;
pub mod fields;
pub mod parse;
pub mod session;

use std::sync::OnceLock;

use crate::epan::{self, BoolPref, Handle, Prefs, Protocol, UintPref};

pub(crate) struct Registered {
    pub proto: Protocol,
    /// Largest data buffer (or auth string) accepted before a length is called bogus.
    pub max_pdu: UintPref,
    pub desegment: BoolPref,
    pub handle: OnceLock<Handle>,
}

static REGISTERED: OnceLock<Registered> = OnceLock::new();

pub(crate) fn registered() -> Option<&'static Registered> {
    REGISTERED.get()
}

/// jute.maxbuffer's default is 0xfffff; a proposal carries a client request plus headers.
pub const DEFAULT_MAX_PDU: u32 = 1024 * 1024 + 1024;

pub fn register() {
    let proto = epan::register::register_protocol(c"ZooKeeper Quorum (ZAB)", c"ZAB", c"zab");
    epan::register::register_fields::<fields::Hf>(proto);
    epan::register::register_subtrees::<fields::Ett>();
    epan::register::register_experts::<fields::Ei>(proto);
    let prefs = Prefs::register(proto);
    let max_pdu = prefs.uint(
        c"max_data_size",
        c"Maximum data size",
        c"A data buffer longer than this many bytes (or a negative length other than -1) is reported as bogus and the segment shown undecoded.",
        DEFAULT_MAX_PDU,
    );
    let desegment = prefs.bool(
        c"desegment",
        c"Reassemble ZAB packets spanning multiple TCP segments",
        c"Whether the ZAB dissector should reassemble QuorumPackets and snapshots spanning multiple TCP segments. To use this option, you must also enable \"Allow subdissectors to reassemble TCP streams\" in the TCP protocol settings.",
        true,
    );
    let _ = REGISTERED.set(Registered {
        proto,
        max_pdu,
        desegment,
        handle: OnceLock::new(),
    });
}

pub fn register_handoff() {
    let Some(reg) = registered() else { return };
    let handle = epan::create_framed_handle::<dissect::Zab>(reg.desegment, None);
    let _ = reg.handle.set(handle);
    handle.add_uint_range_with_preference(c"tcp.port", c"2888");
    epan::add_framed_heuristic::<dissect::Zab>(c"tcp", handle, c"ZAB over TCP", c"zab_tcp");
}
