//! ZooKeeper leader election (QuorumCnxManager / FastLeaderElection, TCP 3888 by convention).
//!
//! - `parse`: initial message and notifications; pure nom.
//! - `session`: per-connection state (sids announced, first-message check); pure.
//! - `fields`: every field, subtree and expert info, declared once.
//! - `dissect`: parsed records to tree items and columns.
//! - this file: registration with epan.

pub mod dissect;
pub mod fields;
pub mod parse;
pub mod session;

use std::sync::OnceLock;

use crate::epan::{self, BoolPref, Handle, Prefs, Protocol};

pub(crate) struct Registered {
    pub proto: Protocol,
    pub desegment: BoolPref,
    pub handle: OnceLock<Handle>,
}

static REGISTERED: OnceLock<Registered> = OnceLock::new();

pub(crate) fn registered() -> Option<&'static Registered> {
    REGISTERED.get()
}

pub fn register() {
    let proto = epan::register::register_protocol(
        c"ZooKeeper Leader Election",
        c"ZKELECTION",
        c"zkelection",
    );
    epan::register::register_fields::<fields::Hf>(proto);
    epan::register::register_subtrees::<fields::Ett>();
    epan::register::register_experts::<fields::Ei>(proto);
    let prefs = Prefs::register(proto);
    let desegment = prefs.bool(
        c"desegment",
        c"Reassemble election messages spanning multiple TCP segments",
        c"Whether the election dissector should reassemble messages spanning multiple TCP segments (ZooKeeper may send the 4-byte length one byte per segment). To use this option, you must also enable \"Allow subdissectors to reassemble TCP streams\" in the TCP protocol settings.",
        true,
    );
    let _ = REGISTERED.set(Registered {
        proto,
        desegment,
        handle: OnceLock::new(),
    });
}

pub fn register_handoff() {
    let Some(reg) = registered() else { return };
    let handle = epan::create_framed_handle::<dissect::Election>(reg.desegment, None);
    let _ = reg.handle.set(handle);
    handle.add_uint_range_with_preference(c"tcp.port", c"3888");
    epan::add_framed_heuristic::<dissect::Election>(
        c"tcp",
        handle,
        c"ZooKeeper leader election over TCP",
        c"zkelection_tcp",
    );
}
