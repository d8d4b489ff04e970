//! Every `zkelection` field, subtree and expert info, declared once.

use crate::epan::table_prelude::*;

/// QuorumPeer.ServerState ordinals.
pub static STATE_NAMES: &[(u32, &CStr)] = &[
    (0, c"LOOKING"),
    (1, c"FOLLOWING"),
    (2, c"LEADING"),
    (3, c"OBSERVING"),
];

pub static PROTOCOL_VERSION_NAMES: &[(u64, &CStr)] = &[
    (-65536i64 as u64, c"V1 (single address)"),
    (-65535i64 as u64, c"V2 (multiple addresses)"),
];

field_table! {
    pub enum Hf {
        Proto => f(T::Protocol, NONE, c"zkelection", c"ZooKeeper Leader Election", c"ZooKeeper leader election (QuorumCnxManager and FastLeaderElection)"),
        Initiator => f(T::Bool, NONE, c"zkelection.initiator", c"From initiator", c"True when sent by the peer that opened the connection (to the election port)"),
        ProtocolVersion => f(T::I64, DEC, c"zkelection.protocol_version", c"Protocol version", c"Initial message: -65536 (V1) or -65535 (V2, several addresses)").strings(Strings::Values64(PROTOCOL_VERSION_NAMES)),
        Sid => f(T::I64, DEC, c"zkelection.sid", c"Server id", c"Initial message: the connecting server's id (myid)"),
        Address => f(T::CountedString, NONE, c"zkelection.address", c"Election address", c"Initial message: the connecting server's election address(es), host:port separated by |"),
        PeerSid => f(T::I64, DEC, c"zkelection.peer_sid", c"Sender's server id", c"The server id announced by this side in the connection's initial message"),
        Len => f(T::I32, DEC, c"zkelection.len", c"Length", c"Length of the notification after this 4-byte prefix"),
        State => f(T::I32, DEC, c"zkelection.state", c"State", c"The sender's state").strings(Strings::Values(STATE_NAMES)),
        Leader => f(T::I64, DEC, c"zkelection.leader", c"Proposed leader", c"Server id the sender votes for"),
        Zxid => f(T::U64, HEX, c"zkelection.zxid", c"Zxid", c"Last zxid of the proposed leader"),
        ElectionEpoch => f(T::I64, DEC, c"zkelection.election_epoch", c"Election epoch", c"The sender's logical clock (election round)"),
        PeerEpoch => f(T::I64, DEC, c"zkelection.peer_epoch", c"Peer epoch", c"Epoch of the proposed leader"),
        Version => f(T::U32, HEX, c"zkelection.version", c"Version", c"Notification format version (0x2 carries the configuration)"),
        ConfigLen => f(T::I32, DEC, c"zkelection.config_len", c"Config length", c"Length of the configuration text"),
        Config => f(T::CountedString, NONE, c"zkelection.config", c"Configuration", c"The sender's quorum configuration"),
        Undecoded => f(T::Bytes, NONE, c"zkelection.undecoded", c"Undecoded data", c"Bytes that could not be decoded"),
    }
}

subtree_table! {
    pub enum Ett {
        Pdu,
    }
}

expert_table! {
    pub enum Ei {
        Malformed => ExpertSpec {
            abbrev: c"zkelection.malformed",
            group: Group::Malformed,
            severity: Severity::Error,
            summary: c"Malformed election message",
        },
        BogusLength => ExpertSpec {
            abbrev: c"zkelection.len.bogus",
            group: Group::Malformed,
            severity: Severity::Error,
            summary: c"Negative or oversized length (above 512 KiB), or an unknown protocol version",
        },
        UnknownState => ExpertSpec {
            abbrev: c"zkelection.state.unknown",
            group: Group::Protocol,
            severity: Severity::Warn,
            summary: c"Unknown server state",
        },
        Trailing => ExpertSpec {
            abbrev: c"zkelection.trailing",
            group: Group::Undecoded,
            severity: Severity::Warn,
            summary: c"Trailing bytes after the record",
        },
        LateInitial => ExpertSpec {
            abbrev: c"zkelection.initial.late",
            group: Group::Protocol,
            severity: Severity::Warn,
            summary: c"Initial message after other messages in the same direction",
        },
    }
}
