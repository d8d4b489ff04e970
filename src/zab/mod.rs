//! ZooKeeper quorum protocol (ZAB learner protocol, TCP 2888 by convention).
//!
//! - `parse`: QuorumPacket and the records in its data (txns, LearnerInfo, ...); pure nom.
//! - `connection`: per-connection state (leader side, snapshot stream, forwarded syncs);
//!   pure.
//! - `fields`: every field, subtree and expert info, declared once.
//! - `dissect`: parsed records to tree items and columns; `quorum`: each packet's place on
//!   a client write's path (`crate::writepath`).
//! - this file: registration with epan.

pub mod connection;
pub mod dissect;
pub mod fields;
pub mod parse;
mod quorum;

use crate::epan::register::{Registration, register_protocol_with_tables};
use crate::epan::{self, BoolPref, UintPref};

/// The preferences, read at dissection time.
pub(crate) struct Settings {
    /// Largest data buffer (or auth string) accepted before a length is called bogus.
    pub max_pdu: UintPref,
    pub desegment: BoolPref,
}

pub(crate) static REGISTRATION: Registration<Settings> = Registration::new();

/// jute.maxbuffer's default is 0xfffff; a proposal carries a client request plus headers.
pub const DEFAULT_MAX_PDU: u32 = 1024 * 1024 + 1024;

pub fn register() {
    let (proto, prefs) = register_protocol_with_tables::<fields::Hf, fields::Ett, fields::Ei>(
        c"ZooKeeper Quorum (ZAB)",
        c"ZAB",
        c"zab",
    );
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
    REGISTRATION.set(proto, Settings { max_pdu, desegment });
}

pub fn register_handoff() {
    let Some(reg) = REGISTRATION.get() else {
        return;
    };
    let handle = epan::create_framed_handle::<dissect::Zab>(reg.settings.desegment, None);
    REGISTRATION.set_handle(handle);
    handle.add_uint_range_with_preference(c"tcp.port", c"2888");
    epan::add_framed_heuristic::<dissect::Zab>(c"tcp", handle, c"ZAB over TCP", c"zab_tcp");
}
