//! Every `zab` field, subtree and expert info, declared once. Packet type names follow
//! `Leader.getPacketType`; txn types are ZooKeeper opcodes.

use crate::epan::table_prelude::*;
use crate::zookeeper::{ErrorCode, Opcode};

pub static PACKET_TYPE_NAMES: &[(u32, &CStr)] = &[
    (1, c"REQUEST"),
    (2, c"PROPOSAL"),
    (3, c"ACK"),
    (4, c"COMMIT"),
    (5, c"PING"),
    (6, c"REVALIDATE"),
    (7, c"SYNC"),
    (8, c"INFORM"),
    (9, c"COMMITANDACTIVATE"),
    (10, c"NEWLEADER"),
    (11, c"FOLLOWERINFO"),
    (12, c"UPTODATE"),
    (13, c"DIFF"),
    (14, c"TRUNC"),
    (15, c"SNAP"),
    (16, c"OBSERVERINFO"),
    (17, c"LEADERINFO"),
    (18, c"ACKEPOCH"),
    (19, c"INFORMANDACTIVATE"),
];

field_table! {
    pub enum Hf {
        Proto => f(T::Protocol, NONE, c"zab", c"ZooKeeper Quorum (ZAB)", c"ZooKeeper quorum protocol between the leader and its learners"),
        FromLeader => f(T::Bool, NONE, c"zab.from_leader", c"From leader", c"True when the packet was sent by the leader (the side on the quorum port)"),
        Type => f(T::I32, DEC, c"zab.type", c"Type", c"QuorumPacket type").strings(Strings::Values(PACKET_TYPE_NAMES)),
        Zxid => f(T::U64, HEX, c"zab.zxid", c"Zxid", c"Transaction id of the packet: epoch in the high 32 bits, counter in the low 32 bits"),
        ZxidEpoch => f(T::U32, DEC, c"zab.zxid.epoch", c"Epoch", c"High 32 bits of the zxid: the leader's epoch"),
        ZxidCounter => f(T::U32, DEC, c"zab.zxid.counter", c"Counter", c"Low 32 bits of the zxid: the transaction counter within the epoch"),
        DataLen => f(T::I32, DEC, c"zab.data.len", c"Data length", c"Length of the packet's data buffer (-1 = null)"),
        Data => f(T::Bytes, NONE, c"zab.data", c"Data", c"The packet's data buffer, where its layout is not decoded"),
        AuthCount => f(T::I32, DEC, c"zab.authinfo.count", c"Auth info count", c"Number of auth ids carried by the packet (-1 = null)"),
        Auth => f(T::None, NONE, c"zab.authinfo", c"Auth info", c"An auth id (scheme and id) carried by the packet"),
        AuthScheme => f(T::CountedString, NONE, c"zab.authinfo.scheme", c"Scheme", c"Auth scheme of the id"),
        AuthId => f(T::CountedString, NONE, c"zab.authinfo.id", c"Id", c"Identity within the scheme"),

        LearnerSid => f(T::I64, DEC, c"zab.learner.sid", c"Server id", c"LearnerInfo: the learner's server id (myid)"),
        LearnerProtocolVersion => f(T::U32, HEX, c"zab.learner.protocol_version", c"Protocol version", c"LearnerInfo: the learner's protocol version (0x10000)"),
        LearnerConfigVersion => f(T::U64, HEX, c"zab.learner.config_version", c"Config version", c"LearnerInfo: version (zxid) of the learner's quorum configuration"),
        ProtocolVersion => f(T::U32, HEX, c"zab.protocol_version", c"Protocol version", c"LEADERINFO: the leader's protocol version (0x10000)"),
        Epoch => f(T::I32, DEC, c"zab.epoch", c"Current epoch", c"ACKEPOCH: the learner's current (last accepted) epoch"),
        SuggestedLeader => f(T::I64, DEC, c"zab.suggested_leader", c"Suggested leader", c"COMMITANDACTIVATE/INFORMANDACTIVATE: the server id suggested as leader of the new configuration"),
        Config => f(T::String, NONE, c"zab.config", c"Configuration", c"NEWLEADER: the quorum configuration (text)"),

        Txn => f(T::None, NONE, c"zab.txn", c"Transaction", c"The transaction proposed (TxnHeader and txn record)"),
        TxnClientId => f(T::U64, HEX, c"zab.txn.client_id", c"Session id", c"TxnHeader: session that issued the request"),
        TxnCxid => f(T::I32, DEC, c"zab.txn.cxid", c"Cxid", c"TxnHeader: the client's xid of the request"),
        TxnZxid => f(T::U64, HEX, c"zab.txn.zxid", c"Zxid", c"TxnHeader: zxid assigned to the transaction"),
        TxnTime => f(T::AbsTime, Display::Utc, c"zab.txn.time", c"Time", c"TxnHeader: the leader's time when it created the transaction"),
        TxnType => f(T::I32, DEC, c"zab.txn.type", c"Txn type", c"TxnHeader: the operation (ZooKeeper opcode)").strings(Strings::Values(Opcode::NAMES)),
        TxnPath => f(T::CountedString, NONE, c"zab.txn.path", c"Path", c"Znode path the transaction acts on"),
        TxnData => f(T::CountedBytes, NONE, c"zab.txn.data", c"Data", c"Znode data written by the transaction"),
        TxnNull => f(T::None, NONE, c"zab.txn.null", c"Null", c"A null string or buffer (length -1)"),
        TxnEphemeral => f(T::Bool, NONE, c"zab.txn.ephemeral", c"Ephemeral", c"CreateTxn: whether the znode is ephemeral"),
        TxnParentCversion => f(T::I32, DEC, c"zab.txn.parent_cversion", c"Parent cversion", c"Children version of the parent after the create"),
        TxnTtl => f(T::I64, DEC, c"zab.txn.ttl", c"TTL (ms)", c"CreateTTLTxn: time to live in milliseconds"),
        TxnVersion => f(T::I32, DEC, c"zab.txn.version", c"Version", c"New (setData, setACL) or checked (check) version"),
        TxnTimeout => f(T::I32, DEC, c"zab.txn.timeout", c"Session timeout (ms)", c"CreateSessionTxn: the session's timeout"),
        TxnErr => f(T::I32, DEC, c"zab.txn.err", c"Error", c"ErrorTxn: the error the request failed with").strings(Strings::Values(ErrorCode::NAMES)),
        TxnPathToDelete => f(T::CountedString, NONE, c"zab.txn.path_to_delete", c"Ephemeral to delete", c"CloseSessionTxn: an ephemeral znode deleted with the session"),
        TxnAcl => f(T::None, NONE, c"zab.txn.acl", c"ACL", c"Access control entry"),
        TxnAclCount => f(T::I32, DEC, c"zab.txn.acl.count", c"Number of ACL entries", c"Number of entries in the ACL list"),
        TxnAclPerms => f(T::U32, HEX, c"zab.txn.acl.perms", c"Permissions", c"Permission bits: READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16"),
        TxnAclScheme => f(T::CountedString, NONE, c"zab.txn.acl.scheme", c"Scheme", c"Scheme of the ACL id"),
        TxnAclId => f(T::CountedString, NONE, c"zab.txn.acl.id", c"Id", c"Identity within the scheme"),
        TxnMulti => f(T::None, NONE, c"zab.txn.multi", c"Sub-transaction", c"One Txn of a MultiTxn"),
        TxnMultiCount => f(T::I32, DEC, c"zab.txn.multi.count", c"Number of sub-transactions", c"Number of Txn records in the MultiTxn"),
        TxnMultiType => f(T::I32, DEC, c"zab.txn.multi.type", c"Type", c"Sub-transaction type (opcode)").strings(Strings::Values(Opcode::NAMES)),
        TxnMultiData => f(T::CountedBytes, NONE, c"zab.txn.multi.data", c"Serialized txn", c"The sub-transaction's serialized record"),
        TxnDigestVersion => f(T::I32, DEC, c"zab.txn.digest.version", c"Digest version", c"TxnDigest: version of the digest algorithm"),
        TxnDigestTree => f(T::U64, HEX, c"zab.txn.digest.tree", c"Tree digest", c"TxnDigest: digest of the data tree after the transaction"),

        RequestSessionId => f(T::U64, HEX, c"zab.request.session_id", c"Session id", c"REQUEST: session of the client request forwarded by the learner"),
        RequestCxid => f(T::I32, DEC, c"zab.request.cxid", c"Cxid", c"REQUEST: the client's xid"),
        RequestType => f(T::I32, DEC, c"zab.request.type", c"Request type", c"REQUEST: the client request's opcode").strings(Strings::Values(Opcode::NAMES)),
        RequestPath => f(T::CountedString, NONE, c"zab.request.path", c"Path", c"REQUEST: path of the client request"),
        RequestBody => f(T::Bytes, NONE, c"zab.request.body", c"Request record", c"REQUEST: the client's request record as sent on the client port"),

        Session => f(T::None, NONE, c"zab.session", c"Session", c"A session and its timeout (PING touch table, REVALIDATE)"),
        SessionId => f(T::U64, HEX, c"zab.session.id", c"Session id", c"A client session the learner reports as live in its PING (the leader renews its timeout)"),
        SessionTimeout => f(T::I32, DEC, c"zab.session.timeout", c"Timeout (ms)", c"Session timeout in milliseconds"),
        SessionCount => f(T::U32, DEC, c"zab.session.count", c"Sessions", c"Number of sessions in the learner's PING touch table"),
        RevalidateValid => f(T::Bool, NONE, c"zab.revalidate.valid", c"Valid", c"REVALIDATE answer: whether the session is still valid"),

        Snapshot => f(T::Bytes, NONE, c"zab.snapshot", c"Snapshot", c"The serialized data tree the leader streams after SNAP (sessions, ACLs, znodes), up to its signature"),
        SnapshotSignature => f(T::String, NONE, c"zab.snapshot.signature", c"Signature", c"The string that ends the snapshot stream (BenWasHere)"),
        Unsynced => f(T::Bytes, NONE, c"zab.unsynced", c"Unsynchronised data", c"Bytes before the first recognisable packet of a capture that starts mid-stream"),
        Undecoded => f(T::Bytes, NONE, c"zab.undecoded", c"Undecoded data", c"Bytes that could not be decoded"),

        // The write path, from the capture-wide index shared with the zookeeper dissector.
        ClientRequestIn => f(T::FrameNum(FrameNumKind::Request), NONE, c"zab.client.request_in", c"Client request in", c"Frame of the client's request (client port) that this packet carries on"),
        ClientReplyIn => f(T::FrameNum(FrameNumKind::Response), NONE, c"zab.client.reply_in", c"Client reply in", c"Frame of the reply to the client (client port)"),
        ProposalIn => f(T::FrameNum(FrameNumKind::Request), NONE, c"zab.proposal_in", c"Proposal in", c"Frame of the PROPOSAL (INFORM) of this zxid on the same link"),
        AckIn => f(T::FrameNum(FrameNumKind::Response), NONE, c"zab.ack_in", c"ACK in", c"Frame of the follower's ACK of this proposal on the same link"),
        CommitIn => f(T::FrameNum(FrameNumKind::None), NONE, c"zab.commit_in", c"Commit in", c"Frame of the leader's COMMIT of this proposal on the same link"),
    }
}

subtree_table! {
    pub enum Ett {
        Pdu,
        Zxid,
        Auth,
        Txn,
        AclList,
        Acl,
        Multi,
        Session,
        Request,
        Snapshot,
        TxnZxid,
    }
}

expert_table! {
    pub enum Ei {
        Malformed => ExpertSpec {
            abbrev: c"zab.malformed",
            group: Group::Malformed,
            severity: Severity::Error,
            summary: c"Malformed QuorumPacket",
        },
        BogusLength => ExpertSpec {
            abbrev: c"zab.len.bogus",
            group: Group::Malformed,
            severity: Severity::Error,
            summary: c"Negative or oversized length in the QuorumPacket",
        },
        UnknownType => ExpertSpec {
            abbrev: c"zab.type.unknown",
            group: Group::RequestCode,
            severity: Severity::Warn,
            summary: c"Unknown QuorumPacket type",
        },
        Trailing => ExpertSpec {
            abbrev: c"zab.trailing",
            group: Group::Undecoded,
            severity: Severity::Warn,
            summary: c"Trailing bytes after the record",
        },
        Unsynced => ExpertSpec {
            abbrev: c"zab.unsynced.expert",
            group: Group::Sequence,
            severity: Severity::Note,
            summary: c"Capture starts mid-stream: bytes before the first recognisable packet",
        },
        Snapshot => ExpertSpec {
            abbrev: c"zab.snapshot.expert",
            group: Group::Sequence,
            severity: Severity::Chat,
            summary: c"Snapshot transfer (follows SNAP)",
        },
        WritePathFull => ExpertSpec {
            abbrev: c"zab.write_path.index_full",
            group: Group::Protocol,
            severity: Severity::Note,
            summary: c"Too many writes in this capture: this packet's write path is not linked",
        },
    }
}
