//! ZooKeeper leader election (QuorumCnxManager / FastLeaderElection, TCP 3888 by convention).
//!
//! - `parse`: initial message and notifications; pure nom.
//! - `session`: per-connection state (sids announced, first-message check); pure.
//! - `fields`: every field, subtree and expert info, declared once.
//! - `dissect`: parsed records to tree items and columns.
//! - this file: registration with epan.

pub mod connection;
pub mod dissect;
pub mod fields;
pub mod parse;

use crate::epan::register::{Registration, register_protocol_with_tables};
use crate::epan::{self, BoolPref};

/// The preferences, read at dissection time.
pub(crate) struct Settings {
    pub desegment: BoolPref,
}

pub(crate) static REGISTRATION: Registration<Settings> = Registration::new();

pub fn register() {
    let (proto, prefs) = register_protocol_with_tables::<fields::Hf, fields::Ett, fields::Ei>(
        c"ZooKeeper Leader Election",
        c"ZKELECTION",
        c"zkelection",
    );
    let desegment = prefs.bool(
        c"desegment",
        c"Reassemble election messages spanning multiple TCP segments",
        c"Whether the election dissector should reassemble messages spanning multiple TCP segments (ZooKeeper may send the 4-byte length one byte per segment). To use this option, you must also enable \"Allow subdissectors to reassemble TCP streams\" in the TCP protocol settings.",
        true,
    );
    REGISTRATION.set(proto, Settings { desegment });
}

pub fn register_handoff() {
    let Some(reg) = REGISTRATION.get() else {
        return;
    };
    let handle = epan::create_framed_handle::<dissect::Election>(reg.settings.desegment, None);
    REGISTRATION.set_handle(handle);
    handle.add_uint_range_with_preference(c"tcp.port", c"3888");
    epan::add_framed_heuristic::<dissect::Election>(
        c"tcp",
        handle,
        c"ZooKeeper leader election over TCP",
        c"zkelection_tcp",
    );
}
