//! ZooKeeper client protocol (TCP 2181).
//!
//! - `parse`: jute records, pure nom parsers.
//! - `connection`: per-connection state: handshake, four-letter words, xid pairing; pure.
//! - `fields`: every field, subtree and expert info, declared once.
//! - `dissect`: parsed records and session decisions to tree items and columns.
//! - this file: the protocol's constants and its registration with epan.

pub mod connection;
pub mod dissect;
pub mod fields;
#[cfg(feature = "framing-baseline")]
pub mod framing_baseline;
pub mod parse;
pub mod stats;

use crate::epan::register::{Registration, register_protocol_with_tables};
use crate::epan::{self, BoolPref, UintPref};

crate::code_table! {
    /// Operation codes (ZooDefs.OpCode), named as ZooKeeper's Java API spells them. The
    /// order is the order of the SRT rows of `-z zookeeper,srt`.
    pub enum Opcode: i32 in opcode {
        NOTIFICATION / Notification = 0 => "notification",
        CREATE / Create = 1 => "create",
        DELETE / Delete = 2 => "delete",
        EXISTS / Exists = 3 => "exists",
        GET_DATA / GetData = 4 => "getData",
        SET_DATA / SetData = 5 => "setData",
        GET_ACL / GetAcl = 6 => "getACL",
        SET_ACL / SetAcl = 7 => "setACL",
        GET_CHILDREN / GetChildren = 8 => "getChildren",
        SYNC / Sync = 9 => "sync",
        PING / Ping = 11 => "ping",
        GET_CHILDREN2 / GetChildren2 = 12 => "getChildren2",
        CHECK / Check = 13 => "check",
        MULTI / Multi = 14 => "multi",
        CREATE2 / Create2 = 15 => "create2",
        RECONFIG / Reconfig = 16 => "reconfig",
        CHECK_WATCHES / CheckWatches = 17 => "checkWatches",
        REMOVE_WATCHES / RemoveWatches = 18 => "removeWatches",
        CREATE_CONTAINER / CreateContainer = 19 => "createContainer",
        DELETE_CONTAINER / DeleteContainer = 20 => "deleteContainer",
        CREATE_TTL / CreateTtl = 21 => "createTTL",
        MULTI_READ / MultiRead = 22 => "multiRead",
        AUTH / Auth = 100 => "auth",
        SET_WATCHES / SetWatches = 101 => "setWatches",
        SASL / Sasl = 102 => "sasl",
        GET_EPHEMERALS / GetEphemerals = 103 => "getEphemerals",
        GET_ALL_CHILDREN_NUMBER / GetAllChildrenNumber = 104 => "getAllChildrenNumber",
        SET_WATCHES2 / SetWatches2 = 105 => "setWatches2",
        ADD_WATCH / AddWatch = 106 => "addWatch",
        WHO_AM_I / WhoAmI = 107 => "whoAmI",
        // ClickHouse Keeper's own operations (ClickHouse/ClickHouse
        // src/Common/ZooKeeper/ZooKeeperConstants.h, `enum class OpNum`: "CH Keeper specific
        // operations"), named as ClickHouse spells them, in the Java API's camelCase.
        FILTERED_LIST / FilteredList = 500 => "filteredList",
        CHECK_NOT_EXISTS / CheckNotExists = 501 => "checkNotExists",
        CREATE_IF_NOT_EXISTS / CreateIfNotExists = 502 => "createIfNotExists",
        REMOVE_RECURSIVE / RemoveRecursive = 503 => "removeRecursive",
        CHECK_STAT / CheckStat = 504 => "checkStat",
        TRY_REMOVE / TryRemove = 505 => "tryRemove",
        FILTERED_LIST_WITH_STATS_AND_DATA / FilteredListWithStatsAndData = 506 => "filteredListWithStatsAndData",
        LIST_RECURSIVE / ListRecursive = 507 => "listRecursive",
        // Internal to Keeper (its Raft log): "never received from client and never sent to
        // client" (ZooKeeperCommon.h, ZooKeeperSessionIDRequest); named, never decoded.
        SESSION_ID / SessionId = 997 => "sessionID",
        CREATE_SESSION / CreateSession = -10 => "createSession",
        CLOSE_SESSION / CloseSession = -11 => "closeSession",
        ERROR / Error = -1 => "error",
    }
}

impl Opcode {
    /// Requests that a follower forwards to the leader and that can become a transaction
    /// (ZooKeeper's `Request.isQuorum`, plus sync, which is forwarded and answered by a
    /// SYNC). Only these are followed through the ensemble (`crate::writepath`).
    pub fn may_reach_quorum(self) -> bool {
        use Opcode as O;
        match self {
            O::Create
            | O::Delete
            | O::SetData
            | O::SetAcl
            | O::Sync
            | O::Check
            | O::Multi
            | O::Create2
            | O::Reconfig
            | O::CreateContainer
            | O::DeleteContainer
            | O::CreateTtl
            | O::CreateSession
            | O::CloseSession
            | O::Error => true,
            O::Notification
            | O::Exists
            | O::GetData
            | O::GetAcl
            | O::GetChildren
            | O::Ping
            | O::GetChildren2
            | O::CheckWatches
            | O::RemoveWatches
            | O::MultiRead
            | O::Auth
            | O::SetWatches
            | O::Sasl
            | O::GetEphemerals
            | O::GetAllChildrenNumber
            | O::SetWatches2
            | O::AddWatch
            | O::WhoAmI => false,
            // ClickHouse Keeper's own: it replicates with Raft, not ZAB, so nothing of
            // these reaches a zab link.
            O::FilteredList
            | O::CheckNotExists
            | O::CreateIfNotExists
            | O::RemoveRecursive
            | O::CheckStat
            | O::TryRemove
            | O::FilteredListWithStatsAndData
            | O::ListRecursive
            | O::SessionId => false,
        }
    }
}

crate::code_table! {
    /// Reply error codes (KeeperException.Code), named as the Java code spells them.
    pub enum ErrorCode: i32 in error_code {
        OK / Ok = 0 => "OK",
        SYSTEMERROR / SystemError = -1 => "SYSTEMERROR",
        RUNTIMEINCONSISTENCY / RuntimeInconsistency = -2 => "RUNTIMEINCONSISTENCY",
        DATAINCONSISTENCY / DataInconsistency = -3 => "DATAINCONSISTENCY",
        CONNECTIONLOSS / ConnectionLoss = -4 => "CONNECTIONLOSS",
        MARSHALLINGERROR / MarshallingError = -5 => "MARSHALLINGERROR",
        UNIMPLEMENTED / Unimplemented = -6 => "UNIMPLEMENTED",
        OPERATIONTIMEOUT / OperationTimeout = -7 => "OPERATIONTIMEOUT",
        BADARGUMENTS / BadArguments = -8 => "BADARGUMENTS",
        INVALIDSTATE / InvalidState = -9 => "INVALIDSTATE",
        UNKNOWNSESSION / UnknownSession = -12 => "UNKNOWNSESSION",
        NEWCONFIGNOQUORUM / NewConfigNoQuorum = -13 => "NEWCONFIGNOQUORUM",
        RECONFIGINPROGRESS / ReconfigInProgress = -14 => "RECONFIGINPROGRESS",
        SSLCONNECTIONERROR / SslConnectionError = -15 => "SSLCONNECTIONERROR",
        APIERROR / ApiError = -100 => "APIERROR",
        NONODE / NoNode = -101 => "NONODE",
        NOAUTH / NoAuth = -102 => "NOAUTH",
        BADVERSION / BadVersion = -103 => "BADVERSION",
        NOCHILDRENFOREPHEMERALS / NoChildrenForEphemerals = -108 => "NOCHILDRENFOREPHEMERALS",
        NODEEXISTS / NodeExists = -110 => "NODEEXISTS",
        NOTEMPTY / NotEmpty = -111 => "NOTEMPTY",
        SESSIONEXPIRED / SessionExpired = -112 => "SESSIONEXPIRED",
        INVALIDCALLBACK / InvalidCallback = -113 => "INVALIDCALLBACK",
        INVALIDACL / InvalidAcl = -114 => "INVALIDACL",
        AUTHFAILED / AuthFailed = -115 => "AUTHFAILED",
        CLOSING / Closing = -116 => "CLOSING",
        NOTHING / Nothing = -117 => "NOTHING",
        SESSIONMOVED / SessionMoved = -118 => "SESSIONMOVED",
        NOTREADONLY / NotReadOnly = -119 => "NOTREADONLY",
        EPHEMERALONLOCALSESSION / EphemeralOnLocalSession = -120 => "EPHEMERALONLOCALSESSION",
        NOWATCHER / NoWatcher = -121 => "NOWATCHER",
        REQUESTTIMEOUT / RequestTimeout = -122 => "REQUESTTIMEOUT",
        RECONFIGDISABLED / ReconfigDisabled = -123 => "RECONFIGDISABLED",
        SESSIONCLOSEDREQUIRESASLAUTH / SessionClosedRequireSaslAuth = -124 => "SESSIONCLOSEDREQUIRESASLAUTH",
        QUOTAEXCEEDED / QuotaExceeded = -125 => "QUOTAEXCEEDED",
        THROTTLEDOP / ThrottledOp = -127 => "THROTTLEDOP",
    }
}

/// The four-letter words a client may send instead of a handshake (FourLetterCommands.java);
/// the server answers in plain text and closes the connection.
pub const FOUR_LETTER_WORDS: &[&[u8; 4]] = &[
    b"conf", b"cons", b"crst", b"dirs", b"dump", b"envi", b"gtmk", b"hash", b"isro", b"mntr",
    b"ruok", b"srst", b"srvr", b"stat", b"stmk", b"wchc", b"wchp", b"wchs",
];

/// Special xids (ClientCnxn). 64 bits wide, as ClickHouse Keeper's XID_64 connections
/// carry them; a 32-bit xid is sign-extended, so the values are the same on both.
pub mod xid {
    pub const NOTIFICATION: i64 = -1;
    pub const PING: i64 = -2;
    pub const AUTH: i64 = -4;
    pub const SET_WATCHES: i64 = -8;
}

/// The handshake's protocolVersion values that ClickHouse Keeper and ClickHouse's client
/// use (ClickHouse/ClickHouse src/Common/ZooKeeper/ZooKeeperConstants.h; what each changes
/// on the wire: ZooKeeperImpl.cpp `sendHandshake`/`receiveHandshake`/`receiveEvent`,
/// src/Server/KeeperTCPHandler.cpp `receiveHandshake`/`sendHandshake`/`runImpl`).
pub mod protocol_version {
    /// ZooKeeper's own protocol.
    pub const ZOOKEEPER: i32 = 0;
    /// After the handshake both directions are ClickHouse compressed blocks (LZ4).
    pub const WITH_COMPRESSION: i32 = 10;
    /// 64-bit xids in request and reply headers; the ConnectRequest carries a
    /// `bool use_compression` after the version (compressed blocks follow when it is true).
    pub const WITH_XID_64: i32 = 11;
    /// Declared by newer ClickHouse (`ZOOKEEPER_PROTOCOL_VERSION_WITH_TRACING`); what it
    /// changes on the wire is not known here, so it stays opaque.
    pub const WITH_TRACING: i32 = 12;
    /// Sent by Keeper in a ConnectResponse to refuse the client (no leader, not ready).
    pub const CONNECTION_REJECT: i32 = 42;
}

/// The preferences, read at dissection time.
pub(crate) struct Settings {
    /// Largest PDU length accepted before the length is called bogus.
    pub max_pdu: UintPref,
    pub desegment: BoolPref,
    /// Voting servers of the ensemble, for the quorum stage of a write; 0: one more than
    /// the followers each proposal went to.
    pub voters: UintPref,
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
    let voters = prefs.uint(
        c"ensemble_voters",
        c"Voting servers in the ensemble",
        c"For the write path's quorum stage: a write is acknowledged by a majority of this many voting servers (the leader's own ACK included). 0: the leader plus one follower per PROPOSAL seen for the write, which is right when the capture holds every follower link.",
        0,
    );
    REGISTRATION.set(
        proto,
        Settings {
            max_pdu,
            desegment,
            voters,
        },
    );
}

/// The dissector behind the handle: the real one, or with the benchmark-only feature
/// `framing-baseline` the trivial framing-only one (`framing_baseline`).
#[cfg(not(feature = "framing-baseline"))]
type Dissector = dissect::ZooKeeper;
#[cfg(feature = "framing-baseline")]
type Dissector = framing_baseline::FramingBaseline;

pub fn register_handoff() {
    let Some(reg) = REGISTRATION.get() else {
        return;
    };
    let handle =
        epan::create_framed_handle::<Dissector>(reg.settings.desegment, Some(c"zookeeper"));
    REGISTRATION.set_handle(handle);
    handle.add_uint_range_with_preference(c"tcp.port", c"2181");
    // The secure client port (secureClientPort, TLS) that ZooKeeper's documentation and
    // Kafka's use; another port is reached with Decode As, "TLS port".
    handle.add_tls_port(SECURE_CLIENT_PORT);
    handle.add_for_decode_as(c"tls.port");
    epan::add_framed_heuristic::<Dissector>(
        c"tcp",
        handle,
        c"ZooKeeper over TCP",
        c"zookeeper_tcp",
    );
}
