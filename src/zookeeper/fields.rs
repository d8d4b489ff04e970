//! Every ZooKeeper field, subtree and expert info, declared once. The names and value
//! strings follow ZooKeeper's own Java names, so that what a user sees here matches the
//! server logs and the client exceptions.

use super::{ErrorCode, Opcode};
use crate::epan::table_prelude::*;

pub static EVENT_TYPE_NAMES: &[(u32, &CStr)] = &[
    (-1i32 as u32, c"None"),
    (1, c"NodeCreated"),
    (2, c"NodeDeleted"),
    (3, c"NodeDataChanged"),
    (4, c"NodeChildrenChanged"),
    (5, c"DataWatchRemoved"),
    (6, c"ChildWatchRemoved"),
    (7, c"PersistentWatchRemoved"),
];

pub static KEEPER_STATE_NAMES: &[(u32, &CStr)] = &[
    (-1i32 as u32, c"Unknown"),
    (0, c"Disconnected"),
    (1, c"NoSyncConnected"),
    (3, c"SyncConnected"),
    (4, c"AuthFailed"),
    (5, c"ConnectedReadOnly"),
    (6, c"SaslAuthenticated"),
    (7, c"Closed"),
    (-112i32 as u32, c"Expired"),
];

/// ClickHouse Keeper's ListRequestType (IKeeper.h).
pub static LIST_TYPE_NAMES: &[(u32, &CStr)] =
    &[(0, c"ALL"), (1, c"PERSISTENT_ONLY"), (2, c"EPHEMERAL_ONLY")];

/// ClickHouse's CompressionMethodByte (src/Compression/CompressionInfo.h).
pub static COMPRESSION_METHOD_NAMES: &[(u32, &CStr)] =
    &[(0x02, c"NONE"), (0x82, c"LZ4"), (0x90, c"ZSTD")];

pub static CREATE_MODE_NAMES: &[(u32, &CStr)] = &[
    (0, c"PERSISTENT"),
    (1, c"EPHEMERAL"),
    (2, c"PERSISTENT_SEQUENTIAL"),
    (3, c"EPHEMERAL_SEQUENTIAL"),
    (4, c"CONTAINER"),
    (5, c"PERSISTENT_WITH_TTL"),
    (6, c"PERSISTENT_SEQUENTIAL_WITH_TTL"),
];

pub static WATCHER_TYPE_NAMES: &[(u32, &CStr)] = &[
    (1, c"Children"),
    (2, c"Data"),
    (3, c"Any"),
    (4, c"Persistent"),
    (5, c"PersistentRecursive"),
];

pub static ADD_WATCH_MODE_NAMES: &[(u32, &CStr)] =
    &[(0, c"PERSISTENT"), (1, c"PERSISTENT_RECURSIVE")];

field_table! {
    pub enum Hf {
        Proto => f(T::Protocol, NONE, c"zookeeper", c"ZooKeeper", c"Apache ZooKeeper client protocol"),
        Len => f(T::I32, DEC, c"zookeeper.len", c"Length", c"Length of the PDU after this 4-byte length prefix"),
        Xid => f(T::I64, DEC, c"zookeeper.xid", c"Xid", c"Transaction id chosen by the client; the reply carries the same xid (-1 notification, -2 ping, -4 auth, -8 setWatches). 32 bits on the wire, 64 on ClickHouse Keeper's XID_64 connections (protocol version 11)"),
        Opcode => f(T::I32, DEC, c"zookeeper.opcode", c"Opcode", c"Operation code of the request (on a reply: of the request it answers)").strings(Strings::Values(Opcode::NAMES)),
        Zxid => f(T::U64, HEX, c"zookeeper.zxid", c"Zxid", c"ZooKeeper transaction id: epoch in the high 32 bits, counter in the low 32 bits"),
        Err => f(T::I32, DEC, c"zookeeper.err", c"Error", c"Result code of the reply (KeeperException.Code)").strings(Strings::Values(ErrorCode::NAMES)),
        Response => f(T::Bool, NONE, c"zookeeper.response", c"Response", c"True when the PDU was sent by the server"),
        SessionId => f(T::U64, HEX, c"zookeeper.session_id", c"Session id", c"Session id of the connection, from its handshake"),
        RequestIn => f(T::FrameNum(FrameNumKind::Request), NONE, c"zookeeper.request_in", c"Request in", c"Frame that carries the request this reply answers"),
        ResponseIn => f(T::FrameNum(FrameNumKind::Response), NONE, c"zookeeper.response_in", c"Response in", c"Frame that carries the reply to this request"),
        Time => f(T::RelTime, NONE, c"zookeeper.time", c"Time", c"Time between the request and its reply"),
        RequestNotCaptured => f(T::None, NONE, c"zookeeper.request_not_captured", c"Request not captured", c"The request this reply answers is not in the capture"),

        Path => f(T::CountedString, NONE, c"zookeeper.path", c"Path", c"Znode path (on a reply: the path of the request it answers)"),
        Data => f(T::CountedBytes, NONE, c"zookeeper.data", c"Data", c"Znode data"),
        DataNull => f(T::None, NONE, c"zookeeper.data.null", c"Data: null", c"A null buffer (length -1)"),
        StringNull => f(T::None, NONE, c"zookeeper.string.null", c"Null string", c"A null string (length -1)"),
        Version => f(T::I32, DEC, c"zookeeper.version", c"Version", c"Expected znode version (-1 matches any)"),
        Watch => f(T::Bool, NONE, c"zookeeper.watch", c"Watch", c"Whether the request leaves a watch on the znode"),
        Flags => f(T::I32, DEC, c"zookeeper.flags", c"Create mode", c"Create flags (CreateMode)").strings(Strings::Values(CREATE_MODE_NAMES)),
        Ttl => f(T::I64, DEC, c"zookeeper.ttl", c"TTL (ms)", c"Time to live of a TTL node, in milliseconds"),
        Child => f(T::CountedString, NONE, c"zookeeper.child", c"Child", c"Name of a child znode"),
        ChildCount => f(T::I32, DEC, c"zookeeper.child.count", c"Number of children", c"Number of children in the list"),
        TotalChildren => f(T::I32, DEC, c"zookeeper.children.total", c"Total number of descendants", c"getAllChildrenNumber result"),

        Stat => f(T::None, NONE, c"zookeeper.stat", c"Stat", c"Znode metadata"),
        StatCzxid => f(T::U64, HEX, c"zookeeper.stat.czxid", c"Created zxid", c"Zxid of the change that created the znode"),
        StatMzxid => f(T::U64, HEX, c"zookeeper.stat.mzxid", c"Modified zxid", c"Zxid of the last change to the znode's data"),
        StatCtime => f(T::AbsTime, Display::Utc, c"zookeeper.stat.ctime", c"Created", c"Time the znode was created"),
        StatMtime => f(T::AbsTime, Display::Utc, c"zookeeper.stat.mtime", c"Modified", c"Time the znode's data last changed"),
        StatVersion => f(T::I32, DEC, c"zookeeper.stat.version", c"Data version", c"Number of changes to the znode's data"),
        StatCversion => f(T::I32, DEC, c"zookeeper.stat.cversion", c"Children version", c"Number of changes to the znode's children"),
        StatAversion => f(T::I32, DEC, c"zookeeper.stat.aversion", c"ACL version", c"Number of changes to the znode's ACL"),
        StatEphemeralOwner => f(T::U64, HEX, c"zookeeper.stat.ephemeral_owner", c"Ephemeral owner", c"Session id of the owner of an ephemeral znode, 0 otherwise"),
        StatDataLength => f(T::I32, DEC, c"zookeeper.stat.data_length", c"Data length", c"Length of the znode's data"),
        StatNumChildren => f(T::I32, DEC, c"zookeeper.stat.num_children", c"Number of children", c"Number of children of the znode"),
        StatPzxid => f(T::U64, HEX, c"zookeeper.stat.pzxid", c"Children zxid", c"Zxid of the last change to the znode's children"),

        AclCount => f(T::I32, DEC, c"zookeeper.acl.count", c"Number of ACL entries", c"Number of entries in the ACL list"),
        Acl => f(T::None, NONE, c"zookeeper.acl", c"ACL", c"Access control entry"),
        AclPerms => f(T::U32, HEX, c"zookeeper.acl.perms", c"Permissions", c"Permission bits: READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16"),
        AclPermRead => f(T::Bool, Display::Bits(32), c"zookeeper.acl.perms.read", c"READ", c"Read permission").mask(1),
        AclPermWrite => f(T::Bool, Display::Bits(32), c"zookeeper.acl.perms.write", c"WRITE", c"Write permission").mask(2),
        AclPermCreate => f(T::Bool, Display::Bits(32), c"zookeeper.acl.perms.create", c"CREATE", c"Create permission").mask(4),
        AclPermDelete => f(T::Bool, Display::Bits(32), c"zookeeper.acl.perms.delete", c"DELETE", c"Delete permission").mask(8),
        AclPermAdmin => f(T::Bool, Display::Bits(32), c"zookeeper.acl.perms.admin", c"ADMIN", c"Admin permission").mask(16),
        AclScheme => f(T::CountedString, NONE, c"zookeeper.acl.scheme", c"Scheme", c"Authentication scheme of the ACL id (world, auth, digest, ip, sasl, x509)"),
        AclId => f(T::CountedString, NONE, c"zookeeper.acl.id", c"Id", c"Identity within the scheme"),

        EventType => f(T::I32, DEC, c"zookeeper.event.type", c"Event type", c"Watcher event type").strings(Strings::Values(EVENT_TYPE_NAMES)),
        EventState => f(T::I32, DEC, c"zookeeper.event.state", c"Keeper state", c"Client state carried by the watcher event").strings(Strings::Values(KEEPER_STATE_NAMES)),

        ConnectProtocolVersion => f(T::I32, DEC, c"zookeeper.connect.protocol_version", c"Protocol version", c"Protocol version of the handshake: 0 for ZooKeeper; ClickHouse Keeper adds 10 (compression), 11 (64-bit xids) and 42 (connection rejected)"),
        ConnectCompression => f(T::Bool, NONE, c"zookeeper.connect.compression", c"Compression", c"ClickHouse's use_compression flag, sent after the protocol version from version 11 on: the stream after the handshake is compressed"),
        ConnectLastZxidSeen => f(T::U64, HEX, c"zookeeper.connect.last_zxid_seen", c"Last zxid seen", c"Highest zxid the client has seen, so the server can refuse to serve older state"),
        ConnectTimeout => f(T::I32, DEC, c"zookeeper.connect.timeout", c"Session timeout (ms)", c"Requested (request) or negotiated (response) session timeout in milliseconds; 0 in a response means the session was rejected"),
        ConnectSessionId => f(T::U64, HEX, c"zookeeper.connect.session_id", c"Session id", c"0 to create a session, or the session to re-open"),
        ConnectPasswd => f(T::CountedBytes, NONE, c"zookeeper.connect.passwd", c"Password", c"Session password"),
        ConnectReadOnly => f(T::Bool, NONE, c"zookeeper.connect.read_only", c"Read only", c"Read-only client (request) or read-only server (response); absent for old clients"),

        AuthType => f(T::I32, DEC, c"zookeeper.auth.type", c"Auth type", c"Auth packet type (always 0)"),
        AuthScheme => f(T::CountedString, NONE, c"zookeeper.auth.scheme", c"Scheme", c"Authentication scheme"),
        AuthData => f(T::CountedBytes, NONE, c"zookeeper.auth.data", c"Credentials", c"Authentication data for the scheme"),

        SetWatchesRelativeZxid => f(T::U64, HEX, c"zookeeper.setwatches.relative_zxid", c"Relative zxid", c"Watches are re-set relative to this zxid after a reconnect"),
        SetWatchesList => f(T::None, NONE, c"zookeeper.setwatches.list", c"Watch list", c"A list of watched paths"),
        SetWatchesPath => f(T::CountedString, NONE, c"zookeeper.setwatches.path", c"Watched path", c"A path whose watch is re-set"),
        WatcherType => f(T::I32, DEC, c"zookeeper.watcher_type", c"Watcher type", c"Kind of watch to check or remove").strings(Strings::Values(WATCHER_TYPE_NAMES)),
        AddWatchMode => f(T::I32, DEC, c"zookeeper.add_watch.mode", c"Mode", c"Mode of a persistent watch").strings(Strings::Values(ADD_WATCH_MODE_NAMES)),
        SaslToken => f(T::CountedBytes, NONE, c"zookeeper.sasl.token", c"SASL token", c"SASL challenge or response"),
        SaslTokenText => f(T::String, NONE, c"zookeeper.sasl.token_text", c"SASL token (text)", c"The token as text, when it is printable: DIGEST-MD5 challenges and responses are"),
        ReconfigJoining => f(T::CountedString, NONE, c"zookeeper.reconfig.joining", c"Joining servers", c"Servers to add"),
        ReconfigLeaving => f(T::CountedString, NONE, c"zookeeper.reconfig.leaving", c"Leaving servers", c"Servers to remove"),
        ReconfigNewMembers => f(T::CountedString, NONE, c"zookeeper.reconfig.new_members", c"New members", c"Complete new membership"),
        ReconfigConfigId => f(T::I64, DEC, c"zookeeper.reconfig.config_id", c"Current config id", c"Expected current configuration version (-1 for any)"),
        MultiOp => f(T::None, NONE, c"zookeeper.multi", c"Operation", c"One operation or result of a multi"),
        MultiType => f(T::I32, DEC, c"zookeeper.multi.type", c"Type", c"Operation (request) or result (reply) type").strings(Strings::Values(Opcode::NAMES)),
        MultiDone => f(T::Bool, NONE, c"zookeeper.multi.done", c"Done", c"True on the header that ends the list"),
        MultiErr => f(T::I32, DEC, c"zookeeper.multi.err", c"Error", c"Per-operation result code").strings(Strings::Values(ErrorCode::NAMES)),
        ClientInfo => f(T::None, NONE, c"zookeeper.client_info", c"Client info", c"An identity the session is authenticated as"),

        FourLetterCommand => f(T::String, NONE, c"zookeeper.four_letter.command", c"Four-letter word", c"Administrative command sent instead of a handshake"),
        FourLetterTraceMask => f(T::U64, HEX, c"zookeeper.four_letter.trace_mask", c"Trace mask", c"Trace mask sent with stmk"),
        FourLetterResponse => f(T::String, NONE, c"zookeeper.four_letter.response", c"Four-letter word response", c"Plain-text reply to a four-letter word"),
        Undecoded => f(T::Bytes, NONE, c"zookeeper.undecoded", c"Undecoded data", c"Bytes that could not be decoded"),
        WatchSetIn => f(T::FrameNum(FrameNumKind::Request), NONE, c"zookeeper.watch.set_in", c"Watch set in", c"Frame of the request that set the watch this notification fired (getData/exists/getChildren with watch, addWatch, setWatches)"),
        WatchFiredIn => f(T::FrameNum(FrameNumKind::Response), NONE, c"zookeeper.watch.fired_in", c"Watch fired in", c"Frame of a notification that fired the watch this request set"),
        Continuation => f(T::Bytes, NONE, c"zookeeper.continuation", c"Continuation of a PDU before the capture", c"Bytes at the start of a capture that began inside a PDU, up to the first plausible PDU start"),
        ListType => f(T::U8, DEC, c"zookeeper.list_type", c"List type", c"Which children a ClickHouse Keeper filteredList returns").strings(Strings::Values(LIST_TYPE_NAMES)),
        WithStat => f(T::Bool, NONE, c"zookeeper.with_stat", c"With stats", c"filteredListWithStatsAndData: the reply carries each child's Stat"),
        WithData => f(T::Bool, NONE, c"zookeeper.with_data", c"With data", c"filteredListWithStatsAndData: the reply carries each child's data"),
        RemoveNodesLimit => f(T::U32, DEC, c"zookeeper.remove_nodes_limit", c"Remove nodes limit", c"removeRecursive: the most nodes the request may remove"),
        MaxEntries => f(T::U32, DEC, c"zookeeper.max_entries", c"Max entries", c"listRecursive: the most paths the reply may list"),
        ChildStats => f(T::None, NONE, c"zookeeper.child.stats", c"Child stats", c"filteredListWithStatsAndData: the children's Stats, in the order of the names"),
        ChildData => f(T::CountedBytes, NONE, c"zookeeper.child.data", c"Child data", c"filteredListWithStatsAndData: a child's data, in the order of the names"),
        Compressed => f(T::None, NONE, c"zookeeper.compressed", c"Compressed block", c"A ClickHouse compressed block on a ClickHouse Keeper connection with compression (not decompressed)"),
        CompressedChecksum => f(T::Bytes, NONE, c"zookeeper.compressed.checksum", c"Checksum", c"CityHash128 of the block from the method byte on"),
        CompressedMethod => f(T::U8, HEX, c"zookeeper.compressed.method", c"Method", c"Compression method byte").strings(Strings::Values(COMPRESSION_METHOD_NAMES)),
        CompressedSize => f(T::U32, DEC, c"zookeeper.compressed.size", c"Compressed size", c"Size of the block from the method byte on (little-endian)"),
        CompressedUncompressedSize => f(T::U32, DEC, c"zookeeper.compressed.uncompressed_size", c"Uncompressed size", c"Size of the data once decompressed (little-endian)"),
        GuessedBody => f(T::String, NONE, c"zookeeper.reply.guessed_shape", c"Body shape (guessed)", c"The request of this reply was not captured: the body was decoded as the only record shape it parses as exactly"),

        // The write path: the quorum hops of this request, from the capture-wide index.
        WritePath => f(T::None, NONE, c"zookeeper.quorum", c"Write path", c"The hops of this write through the ensemble that the capture holds"),
        QuorumRequestIn => f(T::FrameNum(FrameNumKind::Request), NONE, c"zookeeper.quorum.request_in", c"Forwarded in", c"Frame of the learner's REQUEST that forwarded this request to the leader"),
        QuorumProposalIn => f(T::FrameNum(FrameNumKind::None), NONE, c"zookeeper.quorum.proposal_in", c"Proposal in", c"Frame of a PROPOSAL of this write's transaction (one per follower link)"),
        QuorumInformIn => f(T::FrameNum(FrameNumKind::None), NONE, c"zookeeper.quorum.inform_in", c"Inform in", c"Frame of an INFORM of this write's transaction to an observer"),
        QuorumAckIn => f(T::FrameNum(FrameNumKind::None), NONE, c"zookeeper.quorum.ack_in", c"ACK in", c"Frame of a follower's ACK of this write's proposal"),
        QuorumCommitIn => f(T::FrameNum(FrameNumKind::None), NONE, c"zookeeper.quorum.commit_in", c"Commit in", c"Frame of the leader's COMMIT of this write (one per follower link)"),
        QuorumSyncIn => f(T::FrameNum(FrameNumKind::None), NONE, c"zookeeper.quorum.sync_in", c"Sync in", c"Frame of the leader's SYNC answering this forwarded sync"),
        QuorumZxid => f(T::U64, HEX, c"zookeeper.quorum.zxid", c"Transaction zxid", c"The zxid the leader gave this write's transaction"),
        QuorumTimeForward => f(T::RelTime, NONE, c"zookeeper.quorum.time.forward", c"Request to forwarded", c"Time from the client's request to the learner's REQUEST"),
        QuorumTimePropose => f(T::RelTime, NONE, c"zookeeper.quorum.time.propose", c"Forwarded to proposed", c"Time from the learner's REQUEST (on the leader: the client's request) to the first PROPOSAL"),
        QuorumTimeQuorum => f(T::RelTime, NONE, c"zookeeper.quorum.time.quorum", c"Proposed to quorum", c"Time from the first PROPOSAL to the follower ACK that makes a majority with the leader's own"),
        QuorumTimeCommit => f(T::RelTime, NONE, c"zookeeper.quorum.time.commit", c"Quorum to commit", c"Time from the majority's ACK to the first COMMIT"),
        QuorumTimeReply => f(T::RelTime, NONE, c"zookeeper.quorum.time.reply", c"Commit to reply", c"Time from the commit reaching the client's server (its COMMIT, INFORM or SYNC; on the leader the first COMMIT) to the reply"),
    }
}

subtree_table! {
    pub enum Ett {
        Pdu,
        Stat,
        AclList,
        Acl,
        AclPerms,
        Children,
        WatchList,
        Multi,
        ClientInfo,
        FourLetter,
        WritePath,
        ChildStats,
        Compressed,
    }
}

expert_table! {
    pub enum Ei {
        ErrorReply => ExpertSpec {
            abbrev: c"zookeeper.err.reply",
            group: Group::ResponseCode,
            severity: Severity::Note,
            summary: c"Error reply",
        },
        UnpairedReply => ExpertSpec {
            abbrev: c"zookeeper.reply.unpaired",
            group: Group::Sequence,
            severity: Severity::Note,
            summary: c"Reply whose request was not captured",
        },
        Malformed => ExpertSpec {
            abbrev: c"zookeeper.malformed",
            group: Group::Malformed,
            severity: Severity::Error,
            summary: c"Malformed ZooKeeper PDU",
        },
        BogusLength => ExpertSpec {
            abbrev: c"zookeeper.len.bogus",
            group: Group::Malformed,
            severity: Severity::Error,
            summary: c"Negative or oversized length prefix",
        },
        UnknownOpcode => ExpertSpec {
            abbrev: c"zookeeper.opcode.unknown",
            group: Group::RequestCode,
            severity: Severity::Warn,
            summary: c"Unknown opcode",
        },
        RejectedSession => ExpertSpec {
            abbrev: c"zookeeper.connect.rejected",
            group: Group::ResponseCode,
            severity: Severity::Warn,
            summary: c"Session rejected (timeout 0)",
        },
        TrailingData => ExpertSpec {
            abbrev: c"zookeeper.trailing",
            group: Group::Undecoded,
            severity: Severity::Warn,
            summary: c"Trailing bytes after the record",
        },
        ConnectOddLength => ExpertSpec {
            abbrev: c"zookeeper.connect.odd_length",
            group: Group::Protocol,
            severity: Severity::Note,
            summary: c"Handshake of an unusual length (requests are 28, 29, 44 or 45 bytes, responses 36 or 37)",
        },
        TcpFactsUnavailable => ExpertSpec {
            abbrev: c"zookeeper.tcp_facts_unavailable",
            group: Group::Sequence,
            severity: Severity::Note,
            summary: c"TCP's sequence facts could not be read: where this side starts was judged by the bytes",
        },
        UnsupportedVersion => ExpertSpec {
            abbrev: c"zookeeper.connect.protocol_version.unsupported",
            group: Group::Protocol,
            severity: Severity::Note,
            summary: c"Handshake protocol version other than 0: bodies are not decoded on this connection",
        },
        FourLetterWord => ExpertSpec {
            abbrev: c"zookeeper.four_letter",
            group: Group::Protocol,
            severity: Severity::Chat,
            summary: c"Four-letter word",
        },
        WatchTableFull => ExpertSpec {
            abbrev: c"zookeeper.watch.table_full",
            group: Group::Protocol,
            severity: Severity::Note,
            summary: c"Too many watches on this connection: this one is not tracked",
        },
        Continuation => ExpertSpec {
            abbrev: c"zookeeper.continuation",
            group: Group::Sequence,
            severity: Severity::Note,
            summary: c"Capture starts inside a PDU: bytes skipped up to the next PDU start",
        },
        UnknownOpcodeReply => ExpertSpec {
            abbrev: c"zookeeper.opcode.unknown.reply",
            group: Group::ResponseCode,
            severity: Severity::Warn,
            summary: c"Reply to a request with an unknown opcode: body not decoded",
        },
        ShortConnectLength => ExpertSpec {
            abbrev: c"zookeeper.connect.short_length",
            group: Group::Protocol,
            severity: Severity::Note,
            summary: c"ClickHouse ConnectRequest one byte longer than its length prefix",
        },
        ClickHouseProtocol => ExpertSpec {
            abbrev: c"zookeeper.connect.protocol_version.clickhouse",
            group: Group::Protocol,
            severity: Severity::Chat,
            summary: c"ClickHouse Keeper protocol version",
        },
        KeeperRejected => ExpertSpec {
            abbrev: c"zookeeper.connect.keeper_rejected",
            group: Group::ResponseCode,
            severity: Severity::Warn,
            summary: c"ClickHouse Keeper rejected the connection (protocol version 42)",
        },
        CompressedStream => ExpertSpec {
            abbrev: c"zookeeper.compressed.not_decoded",
            group: Group::Undecoded,
            severity: Severity::Note,
            summary: c"Compressed ClickHouse Keeper stream: not decompressed",
        },
        TableFull => ExpertSpec {
            abbrev: c"zookeeper.pending.full",
            group: Group::Protocol,
            severity: Severity::Note,
            summary: c"Too many outstanding requests on this connection: this one is not tracked",
        },
        WritePathFull => ExpertSpec {
            abbrev: c"zookeeper.quorum.index_full",
            group: Group::Protocol,
            severity: Severity::Note,
            summary: c"Too many writes in this capture: this one's path through the ensemble is not linked",
        },
    }
}
