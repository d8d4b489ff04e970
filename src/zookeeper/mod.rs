//! ZooKeeper client protocol (TCP 2181).
//!
//! - `parse`: jute records, pure nom parsers.
//! - `session`: per-connection state: handshake, four-letter words, xid pairing; pure.
//! - `fields`: every field, subtree and expert info, declared once.
//! - `dissect`: parsed records and session decisions to tree items and columns.
//! - this file: the protocol's constants and its registration with epan.

pub mod dissect;
pub mod fields;
pub mod parse;
pub mod session;
pub mod stats;

use crate::epan::register::{Registration, register_protocol_with_tables};
use crate::epan::{self, BoolPref, UintPref};

/// Operation codes (ZooDefs.OpCode).
pub mod opcode {
    pub const NOTIFICATION: i32 = 0;
    pub const CREATE: i32 = 1;
    pub const DELETE: i32 = 2;
    pub const EXISTS: i32 = 3;
    pub const GET_DATA: i32 = 4;
    pub const SET_DATA: i32 = 5;
    pub const GET_ACL: i32 = 6;
    pub const SET_ACL: i32 = 7;
    pub const GET_CHILDREN: i32 = 8;
    pub const SYNC: i32 = 9;
    pub const PING: i32 = 11;
    pub const GET_CHILDREN2: i32 = 12;
    pub const CHECK: i32 = 13;
    pub const MULTI: i32 = 14;
    pub const CREATE2: i32 = 15;
    pub const RECONFIG: i32 = 16;
    pub const CHECK_WATCHES: i32 = 17;
    pub const REMOVE_WATCHES: i32 = 18;
    pub const CREATE_CONTAINER: i32 = 19;
    pub const DELETE_CONTAINER: i32 = 20;
    pub const CREATE_TTL: i32 = 21;
    pub const MULTI_READ: i32 = 22;
    pub const AUTH: i32 = 100;
    pub const SET_WATCHES: i32 = 101;
    pub const SASL: i32 = 102;
    pub const GET_EPHEMERALS: i32 = 103;
    pub const GET_ALL_CHILDREN_NUMBER: i32 = 104;
    pub const SET_WATCHES2: i32 = 105;
    pub const ADD_WATCH: i32 = 106;
    pub const WHO_AM_I: i32 = 107;
    pub const CREATE_SESSION: i32 = -10;
    pub const CLOSE_SESSION: i32 = -11;
    pub const ERROR: i32 = -1;

    /// The opcode's name as ZooKeeper's Java API spells it.
    pub fn name(op: i32) -> Option<&'static str> {
        super::fields::OPCODE_NAMES
            .iter()
            .find(|(v, _)| *v as i32 == op)
            .and_then(|(_, n)| n.to_str().ok())
    }

    /// Requests that can set a watch when their watch flag is true.
    pub fn sets_watch(op: i32) -> bool {
        matches!(op, EXISTS | GET_DATA | GET_CHILDREN | GET_CHILDREN2)
    }
}

/// The four-letter words a client may send instead of a handshake (FourLetterCommands.java);
/// the server answers in plain text and closes the connection.
pub const FOUR_LETTER_WORDS: &[&[u8; 4]] = &[
    b"conf", b"cons", b"crst", b"dirs", b"dump", b"envi", b"gtmk", b"hash", b"isro", b"mntr",
    b"ruok", b"srst", b"srvr", b"stat", b"stmk", b"wchc", b"wchp", b"wchs",
];

/// Special xids (ClientCnxn).
pub mod xid {
    pub const NOTIFICATION: i32 = -1;
    pub const PING: i32 = -2;
    pub const AUTH: i32 = -4;
    pub const SET_WATCHES: i32 = -8;
}

/// The error name of a reply code, as the Java `KeeperException.Code` spells it.
pub fn error_name(err: i32) -> Option<&'static str> {
    fields::ERROR_NAMES
        .iter()
        .find(|(v, _)| *v as i32 == err)
        .and_then(|(_, n)| n.to_str().ok())
}

/// The preferences, read at dissection time.
pub(crate) struct Settings {
    /// Largest PDU length accepted before the length is called bogus.
    pub max_pdu: UintPref,
    pub desegment: BoolPref,
}

pub(crate) static REGISTRATION: Registration<Settings> = Registration::new();

/// jute.maxbuffer's default is 0xfffff; allow some headroom for headers.
/// The conventional secure client port.
pub const SECURE_CLIENT_PORT: u32 = 2281;

pub const DEFAULT_MAX_PDU: u32 = 1024 * 1024 + 64;

pub fn register() {
    let (proto, prefs) = register_protocol_with_tables::<fields::Hf, fields::Ett, fields::Ei>(
        c"ZooKeeper",
        c"ZooKeeper",
        c"zookeeper",
    );
    stats::register(proto);
    let max_pdu = prefs.uint(
        c"max_pdu_size",
        c"Maximum PDU size",
        c"A length prefix above this many bytes (or a negative one) is reported as bogus and its bytes shown undecoded, instead of waiting for data that never comes. ZooKeeper's jute.maxbuffer defaults to 1048575.",
        DEFAULT_MAX_PDU,
    );
    let desegment = prefs.bool(
        c"desegment",
        c"Reassemble ZooKeeper PDUs spanning multiple TCP segments",
        c"Whether the ZooKeeper dissector should reassemble PDUs spanning multiple TCP segments. To use this option, you must also enable \"Allow subdissectors to reassemble TCP streams\" in the TCP protocol settings.",
        true,
    );
    REGISTRATION.set(proto, Settings { max_pdu, desegment });
}

pub fn register_handoff() {
    let Some(reg) = REGISTRATION.get() else {
        return;
    };
    let handle = epan::create_framed_handle::<dissect::ZooKeeper>(
        reg.settings.desegment,
        Some(c"zookeeper"),
    );
    REGISTRATION.set_handle(handle);
    handle.add_uint_range_with_preference(c"tcp.port", c"2181");
    // The secure client port (secureClientPort, TLS) that ZooKeeper's documentation and
    // Kafka's use; another port is reached with Decode As, "TLS port".
    handle.add_tls_port(SECURE_CLIENT_PORT);
    handle.add_for_decode_as(c"tls.port");
    epan::add_framed_heuristic::<dissect::ZooKeeper>(
        c"tcp",
        handle,
        c"ZooKeeper over TCP",
        c"zookeeper_tcp",
    );
}
