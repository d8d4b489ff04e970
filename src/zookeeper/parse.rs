//! ZooKeeper client-port records (zookeeper.jute), parsed with nom on the jute primitives
//! of `crate::jute`. Pure: bytes in, typed records out, each value with the offset and
//! length it came from so that the dissect layer can point at it. Nothing here knows about
//! Wireshark.

use nom::error::ErrorKind;
use nom::number::complete::be_u8;

use crate::common::At;
use crate::jute::{
    Acl, Counted, Id, Input, PResult, acl_list, at, boolean, counted, fail, id, input, int, long,
    string_list, vector,
};

/// `Stat`: 68 bytes, always complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub czxid: At<i64>,
    pub mzxid: At<i64>,
    pub ctime: At<i64>,
    pub mtime: At<i64>,
    pub version: At<i32>,
    pub cversion: At<i32>,
    pub aversion: At<i32>,
    pub ephemeral_owner: At<i64>,
    pub data_length: At<i32>,
    pub num_children: At<i32>,
    pub pzxid: At<i64>,
}

pub const STAT_LEN: usize = 68;

pub fn stat(i: Input<'_>) -> PResult<'_, At<Stat>> {
    at(|i| {
        let (i, czxid) = long(i)?;
        let (i, mzxid) = long(i)?;
        let (i, ctime) = long(i)?;
        let (i, mtime) = long(i)?;
        let (i, version) = int(i)?;
        let (i, cversion) = int(i)?;
        let (i, aversion) = int(i)?;
        let (i, ephemeral_owner) = long(i)?;
        let (i, data_length) = int(i)?;
        let (i, num_children) = int(i)?;
        let (i, pzxid) = long(i)?;
        Ok((
            i,
            Stat {
                czxid,
                mzxid,
                ctime,
                mtime,
                version,
                cversion,
                aversion,
                ephemeral_owner,
                data_length,
                num_children,
                pzxid,
            },
        ))
    })(i)
}

// ---------------------------------------------------------------------------------------
// Handshake

/// The first client PDU: no RequestHeader. 44 bytes without `read_only` (clients up to 3.3
/// and the C client before 3.5), 45 with it. ClickHouse's client, at protocolVersion 11
/// (XID_64) and above, puts `bool use_compression` after the version (ZooKeeperImpl.cpp
/// `sendHandshake`; Keeper reads it for any version >= 11, KeeperTCPHandler.cpp
/// `receiveHandshake`).
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectRequest<'a> {
    pub protocol_version: At<i32>,
    /// ClickHouse's `use_compression` flag, present for protocolVersion >= 11.
    pub compression: Option<At<bool>>,
    pub last_zxid_seen: At<i64>,
    pub timeout: At<i32>,
    pub session_id: At<i64>,
    pub passwd: Counted<'a>,
    pub read_only: Option<At<bool>>,
}

pub fn connect_request(i: Input<'_>) -> PResult<'_, ConnectRequest<'_>> {
    let (i, protocol_version) = int(i)?;
    let (i, compression) = if has_compression_flag(protocol_version.val) {
        boolean(i).map(|(i, b)| (i, Some(b)))?
    } else {
        (i, None)
    };
    let (i, last_zxid_seen) = long(i)?;
    let (i, timeout) = int(i)?;
    let (i, session_id) = long(i)?;
    let (i, passwd) = counted(i)?;
    let (i, read_only) = optional_bool(i)?;
    Ok((
        i,
        ConnectRequest {
            protocol_version,
            compression,
            last_zxid_seen,
            timeout,
            session_id,
            passwd,
            read_only,
        },
    ))
}

/// The first server PDU: no ReplyHeader. 36 bytes without `read_only`, 37 with it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectResponse<'a> {
    pub protocol_version: At<i32>,
    pub timeout: At<i32>,
    pub session_id: At<i64>,
    pub passwd: Counted<'a>,
    pub read_only: Option<At<bool>>,
}

pub fn connect_response(i: Input<'_>) -> PResult<'_, ConnectResponse<'_>> {
    let (i, protocol_version) = int(i)?;
    let (i, timeout) = int(i)?;
    let (i, session_id) = long(i)?;
    let (i, passwd) = counted(i)?;
    let (i, read_only) = optional_bool(i)?;
    Ok((
        i,
        ConnectResponse {
            protocol_version,
            timeout,
            session_id,
            passwd,
            read_only,
        },
    ))
}

/// Does a ConnectRequest of this protocol version carry ClickHouse's `use_compression` byte
/// after the version? Keeper reads it for every version from WITH_XID_64 (11) up.
pub fn has_compression_flag(protocol_version: i32) -> bool {
    protocol_version >= super::protocol_version::WITH_XID_64
        && protocol_version != super::protocol_version::CONNECTION_REJECT
}

/// How the PDUs after the handshake are laid out, as the ConnectRequest's protocolVersion
/// (and ClickHouse's compression flag) says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Wire {
    /// ZooKeeper's own protocol (version 0): 32-bit xids.
    #[default]
    Classic,
    /// ClickHouse Keeper's WITH_XID_64 (11) without compression: 64-bit xids in the request
    /// and reply headers, bodies as in version 0.
    Xid64,
    /// ClickHouse Keeper's WITH_COMPRESSION (10), or WITH_XID_64 with its compression flag
    /// set: after the handshake each side sends ClickHouse compressed blocks (LZ4).
    Compressed { version: i32 },
    /// Any other version: headers are read as in version 0, bodies are not decoded.
    Unknown { version: i32 },
}

impl Wire {
    /// The layout a ConnectRequest selects.
    pub fn of(c: &ConnectRequest<'_>) -> Wire {
        use super::protocol_version as v;
        let compressed = c.compression.is_some_and(|b| b.val);
        match c.protocol_version.val {
            v::ZOOKEEPER => Wire::Classic,
            v::WITH_XID_64 if !compressed => Wire::Xid64,
            version @ (v::WITH_COMPRESSION | v::WITH_XID_64) => Wire::Compressed { version },
            version => Wire::Unknown { version },
        }
    }

    /// Request and reply bodies are decoded.
    pub fn decodes_bodies(self) -> bool {
        matches!(self, Wire::Classic | Wire::Xid64)
    }

    pub fn xid64(self) -> bool {
        self == Wire::Xid64
    }
}

/// The trailing `readOnly` flag is present iff a byte is left (ZOOKEEPER-4814).
fn optional_bool(i: Input<'_>) -> PResult<'_, Option<At<bool>>> {
    if i.fragment().is_empty() {
        Ok((i, None))
    } else {
        boolean(i).map(|(r, b)| (r, Some(b)))
    }
}

/// Body lengths (after the 4-byte length prefix) that a handshake PDU can have. Requests:
/// 44 or 45 with the usual 16-byte password (without or with readOnly), 28 or 29 with an
/// empty one (the Rust client tokio-zookeeper sends 29: empty password, readOnly).
pub const CONNECT_REQUEST_LENS: [u32; 4] = [28, 29, 44, 45];
pub const CONNECT_RESPONSE_LENS: [u32; 2] = [36, 37];

/// Does this PDU body (after the length prefix) look like a ConnectRequest? Used by the
/// heuristic, the mid-stream search and to classify a client's first PDU where TCP did not
/// see the connection start: protocol version 0, a password of 16 bytes or empty, the
/// length that password makes (plus an optional readOnly byte), a timeout of 0 or more
/// (tokio-zookeeper sends 0; the server clamps it).
pub fn looks_like_connect_request(body: &[u8]) -> bool {
    let passwd_len = match body.get(24..28) {
        Some([0, 0, 0, 16]) => 16,
        Some([0, 0, 0, 0]) => 0,
        _ => return false,
    };
    let fixed = 28 + passwd_len;
    (body.len() == fixed || body.len() == fixed + 1)
        && body[0..4] == [0, 0, 0, 0]
        && body.get(fixed).is_none_or(|b| *b <= 1)
        && i32::from_be_bytes([body[12], body[13], body[14], body[15]]) >= 0
}

/// Is `len` (a body length) one a ConnectRequest of protocol version 0 can have?
pub fn is_connect_request_len(len: usize) -> bool {
    CONNECT_REQUEST_LENS.contains(&(len as u32))
}

/// Is `len` (a body length) one a ConnectResponse can have?
pub fn is_connect_response_len(len: usize) -> bool {
    CONNECT_RESPONSE_LENS.contains(&(len as u32))
}

/// Does this PDU body look like a ConnectResponse?
pub fn looks_like_connect_response(body: &[u8]) -> bool {
    CONNECT_RESPONSE_LENS.contains(&(body.len() as u32))
        && body[0..4] == [0, 0, 0, 0]
        && body[16..20] == [0, 0, 0, 16]
        && body.get(36).is_none_or(|b| *b <= 1)
        && i32::from_be_bytes([body[4], body[5], body[6], body[7]]) >= 0
}

/// The header of a ClickHouse compressed block (src/Compression/CompressedReadBufferBase.cpp):
/// a 16-byte CityHash128 checksum, the method byte, then the compressed size (which counts
/// the 9 header bytes from the method on) and the uncompressed size, both little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompressedHeader {
    pub method: u8,
    pub compressed_size: u32,
    pub uncompressed_size: u32,
}

pub const COMPRESSED_HEADER_LEN: usize = 25;

/// The compressed block header at the start of `bytes`, when all of it is there.
pub fn compressed_header(bytes: &[u8]) -> Option<CompressedHeader> {
    let le32 = |o: usize| {
        let b = bytes.get(o..o + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    Some(CompressedHeader {
        method: *bytes.get(16)?,
        compressed_size: le32(17)?,
        uncompressed_size: le32(21)?,
    })
}

/// The total length of the compressed block at the start of `bytes` (checksum included),
/// `None` when its sizes are not all there yet, `Some(Err(()))` when they cannot be.
pub fn compressed_block_len(bytes: &[u8], max_pdu: u32) -> Option<Result<u32, ()>> {
    let size = bytes.get(17..21)?;
    let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]);
    let total = size.checked_add(16);
    Some(match total {
        Some(t) if size >= 9 && t <= max_pdu => Ok(t),
        _ => Err(()),
    })
}

/// The protocolVersion a handshake record (either direction) starts with.
pub fn handshake_version(body: &[u8]) -> Option<i32> {
    int_at(body, 0)
}

/// A PDU's 4-byte length prefix, when its bytes are there.
pub fn length_prefix(pdu: &[u8]) -> Option<i32> {
    int(input(pdu)).ok().map(|(_, n)| n.val)
}

// ---------------------------------------------------------------------------------------
// Headers of a PDU that may be cut: the fields the resynchronisation scan checks, each when
// its bytes are there (a candidate PDU start can lie near the end of a segment).

/// A request's first fields: `int len; int xid; int type;` and the length and first byte of
/// a path that the body would start with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestPrefix {
    pub xid: Option<i32>,
    pub opcode: Option<i32>,
    pub path_len: Option<i32>,
    pub path_first: Option<u8>,
}

pub fn request_prefix(pdu: &[u8]) -> RequestPrefix {
    RequestPrefix {
        xid: int_at(pdu, 4),
        opcode: int_at(pdu, 8),
        path_len: int_at(pdu, 12),
        path_first: pdu.get(16).copied(),
    }
}

/// A reply's first fields: `int len; int xid; long zxid; int err;`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplyPrefix {
    pub xid: Option<i32>,
    pub zxid: Option<i64>,
    pub err: Option<i32>,
}

pub fn reply_prefix(pdu: &[u8]) -> ReplyPrefix {
    ReplyPrefix {
        xid: int_at(pdu, 4),
        zxid: pdu
            .get(8..)
            .and_then(|b| long(input(b)).ok())
            .map(|(_, v)| v.val),
        err: int_at(pdu, 16),
    }
}

fn int_at(pdu: &[u8], off: usize) -> Option<i32> {
    pdu.get(off..)
        .and_then(|b| int(input(b)).ok())
        .map(|(_, v)| v.val)
}

// ---------------------------------------------------------------------------------------
// Headers

/// `RequestHeader {int xid; int type}`; the xid is a `long` on ClickHouse Keeper's XID_64
/// connections (ZooKeeperCommon.cpp `ZooKeeperRequest::write(out, use_xid_64)`). Either way
/// the value is held as i64 (a 32-bit xid sign-extended) and its span says its width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHeader {
    pub xid: At<i64>,
    pub opcode: At<i32>,
}

/// The xid: 4 bytes, or 8 on an XID_64 connection.
fn xid(xid64: bool) -> impl Fn(Input<'_>) -> PResult<'_, At<i64>> {
    move |i| {
        if xid64 {
            long(i)
        } else {
            int(i).map(|(i, x)| {
                (
                    i,
                    At {
                        off: x.off,
                        len: x.len,
                        val: i64::from(x.val),
                    },
                )
            })
        }
    }
}

pub fn request_header(i: Input<'_>, xid64: bool) -> PResult<'_, RequestHeader> {
    let (i, xid) = xid(xid64)(i)?;
    let (i, opcode) = int(i)?;
    Ok((i, RequestHeader { xid, opcode }))
}

/// `ReplyHeader {int xid; long zxid; int err}`, the xid a `long` on XID_64 connections
/// (ZooKeeperImpl.cpp `receiveEvent`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyHeader {
    pub xid: At<i64>,
    pub zxid: At<i64>,
    pub err: At<i32>,
}

pub fn reply_header(i: Input<'_>, xid64: bool) -> PResult<'_, ReplyHeader> {
    let (i, xid) = xid(xid64)(i)?;
    let (i, zxid) = long(i)?;
    let (i, err) = int(i)?;
    Ok((i, ReplyHeader { xid, zxid, err }))
}

// ---------------------------------------------------------------------------------------
// Request bodies

#[derive(Clone, Debug, PartialEq)]
pub enum RequestBody<'a> {
    /// ping, closeSession, whoAmI: header only.
    Empty,
    /// getACL, sync, getAllChildrenNumber, getEphemerals (prefix path).
    Path {
        path: Counted<'a>,
    },
    /// exists, getData, getChildren, getChildren2.
    PathWatch {
        path: Counted<'a>,
        watch: At<bool>,
    },
    /// create, create2, createContainer, createTTL.
    Create {
        path: Counted<'a>,
        data: Counted<'a>,
        acl: At<Vec<At<Acl<'a>>>>,
        flags: At<i32>,
        ttl: Option<At<i64>>,
    },
    /// delete, check.
    PathVersion {
        path: Counted<'a>,
        version: At<i32>,
    },
    SetData {
        path: Counted<'a>,
        data: Counted<'a>,
        version: At<i32>,
    },
    SetAcl {
        path: Counted<'a>,
        acl: At<Vec<At<Acl<'a>>>>,
        version: At<i32>,
    },
    /// checkWatches, removeWatches: the path and a WatcherType.
    PathType {
        path: Counted<'a>,
        kind: At<i32>,
    },
    /// addWatch: the path and the AddWatchMode.
    AddWatch {
        path: Counted<'a>,
        mode: At<i32>,
    },
    Auth {
        auth_type: At<i32>,
        scheme: Counted<'a>,
        auth: Counted<'a>,
    },
    /// setWatches (3 lists) and setWatches2 (5 lists), in wire order.
    SetWatches {
        relative_zxid: At<i64>,
        lists: Vec<At<Vec<Counted<'a>>>>,
    },
    Sasl {
        token: Counted<'a>,
    },
    Reconfig {
        joining: Counted<'a>,
        leaving: Counted<'a>,
        new_members: Counted<'a>,
        config_id: At<i64>,
    },
    Multi {
        ops: Vec<MultiOp<'a>>,
        end: Option<At<MultiHeader>>,
    },
    /// ClickHouse Keeper's filteredList (500): `{path; bool watch; uint8 list_request_type}`
    /// (ZooKeeperCommon.cpp `ZooKeeperFilteredListRequest::writeImpl`), and
    /// filteredListWithStatsAndData (506), which adds `bool with_stat; bool with_data`
    /// (ClickHouse's Python test client, tests/integration/helpers, class
    /// `FilteredListWithStatsAndData`).
    FilteredList {
        path: Counted<'a>,
        watch: At<bool>,
        list_type: At<u8>,
        with: Option<(At<bool>, At<bool>)>,
    },
    /// removeRecursive (503): `{path; uint32 remove_nodes_limit}`
    /// (`ZooKeeperRemoveRecursiveRequest::writeImpl`); listRecursive (507): `{path; uint32
    /// max_entries}` (the Python test client's `ListRecursive`). `list` tells them apart.
    PathLimit {
        path: Counted<'a>,
        limit: At<u32>,
        list: bool,
    },
    /// checkStat (504): `{path; int version; Stat stat_to_check}`, each Stat field -1 a
    /// wildcard (the Python test client's `CheckStat`).
    CheckStat {
        path: Counted<'a>,
        version: At<i32>,
        stat: At<Stat>,
    },
}

impl<'a> RequestBody<'a> {
    /// The path the record starts with, for the records that have one.
    pub fn path(&self) -> Option<&Counted<'a>> {
        match self {
            Self::Path { path }
            | Self::PathWatch { path, .. }
            | Self::Create { path, .. }
            | Self::PathVersion { path, .. }
            | Self::SetData { path, .. }
            | Self::SetAcl { path, .. }
            | Self::PathType { path, .. }
            | Self::AddWatch { path, .. }
            | Self::FilteredList { path, .. }
            | Self::PathLimit { path, .. }
            | Self::CheckStat { path, .. } => Some(path),
            Self::Empty
            | Self::Auth { .. }
            | Self::SetWatches { .. }
            | Self::Sasl { .. }
            | Self::Reconfig { .. }
            | Self::Multi { .. } => None,
        }
    }
}

/// `MultiHeader {int type; boolean done; int err}`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultiHeader {
    pub op: At<i32>,
    pub done: At<bool>,
    pub err: At<i32>,
}

pub fn multi_header(i: Input<'_>) -> PResult<'_, At<MultiHeader>> {
    at(|i| {
        let (i, op) = int(i)?;
        let (i, done) = boolean(i)?;
        let (i, err) = int(i)?;
        Ok((i, MultiHeader { op, done, err }))
    })(i)
}

#[derive(Clone, Debug, PartialEq)]
pub struct MultiOp<'a> {
    pub header: At<MultiHeader>,
    pub body: RequestBody<'a>,
}

/// The body shape of each request opcode. `None` for opcodes we do not know.
pub fn request_body(opcode: i32, i: Input<'_>) -> Option<PResult<'_, RequestBody<'_>>> {
    use super::Opcode as O;
    Some(match super::Opcode::from_code(opcode)? {
        O::Ping | O::CloseSession | O::WhoAmI => Ok((i, RequestBody::Empty)),
        O::GetAcl | O::Sync | O::GetAllChildrenNumber | O::GetEphemerals => {
            counted(i).map(|(i, path)| (i, RequestBody::Path { path }))
        }
        O::Exists | O::GetData | O::GetChildren | O::GetChildren2 => path_watch(i),
        O::Create | O::Create2 | O::CreateContainer | O::CreateIfNotExists => create(i, false),
        O::CreateTtl => create(i, true),
        O::Delete | O::Check | O::CheckNotExists | O::TryRemove => path_version(i),
        O::FilteredList => filtered_list(i, false),
        O::FilteredListWithStatsAndData => filtered_list(i, true),
        op @ (O::RemoveRecursive | O::ListRecursive) => (|| {
            let (i, path) = counted(i)?;
            let (i, limit) = int(i)?;
            let limit = At {
                off: limit.off,
                len: limit.len,
                val: limit.val as u32,
            };
            Ok((
                i,
                RequestBody::PathLimit {
                    path,
                    limit,
                    list: op == O::ListRecursive,
                },
            ))
        })(),
        O::CheckStat => (|| {
            let (i, path) = counted(i)?;
            let (i, version) = int(i)?;
            let (i, stat) = stat(i)?;
            Ok((
                i,
                RequestBody::CheckStat {
                    path,
                    version,
                    stat,
                },
            ))
        })(),
        O::SetData => (|| {
            let (i, path) = counted(i)?;
            let (i, data) = counted(i)?;
            let (i, version) = int(i)?;
            Ok((
                i,
                RequestBody::SetData {
                    path,
                    data,
                    version,
                },
            ))
        })(),
        O::SetAcl => (|| {
            let (i, path) = counted(i)?;
            let (i, acl) = acl_list(i)?;
            let (i, version) = int(i)?;
            Ok((i, RequestBody::SetAcl { path, acl, version }))
        })(),
        O::CheckWatches | O::RemoveWatches => (|| {
            let (i, path) = counted(i)?;
            let (i, kind) = int(i)?;
            Ok((i, RequestBody::PathType { path, kind }))
        })(),
        O::AddWatch => (|| {
            let (i, path) = counted(i)?;
            let (i, mode) = int(i)?;
            Ok((i, RequestBody::AddWatch { path, mode }))
        })(),
        O::Auth => (|| {
            let (i, auth_type) = int(i)?;
            let (i, scheme) = counted(i)?;
            let (i, auth) = counted(i)?;
            Ok((
                i,
                RequestBody::Auth {
                    auth_type,
                    scheme,
                    auth,
                },
            ))
        })(),
        O::SetWatches => set_watches(i, 3),
        O::SetWatches2 => set_watches(i, 5),
        O::Sasl => counted(i).map(|(i, token)| (i, RequestBody::Sasl { token })),
        O::Reconfig => (|| {
            let (i, joining) = counted(i)?;
            let (i, leaving) = counted(i)?;
            let (i, new_members) = counted(i)?;
            let (i, config_id) = long(i)?;
            Ok((
                i,
                RequestBody::Reconfig {
                    joining,
                    leaving,
                    new_members,
                    config_id,
                },
            ))
        })(),
        O::Multi | O::MultiRead => multi_request(i),
        // No request body of its own: a notification, the handshake (framed apart),
        // deleteContainer (server-internal), the error opcode of a failed multi and Keeper's
        // internal sessionID.
        O::Notification | O::CreateSession | O::DeleteContainer | O::Error | O::SessionId => {
            return None;
        }
    })
}

fn filtered_list(i: Input<'_>, with_stats_and_data: bool) -> PResult<'_, RequestBody<'_>> {
    let (i, path) = counted(i)?;
    let (i, watch) = boolean(i)?;
    let (i, list_type) = at(be_u8)(i)?;
    let (i, with) = if with_stats_and_data {
        let (i, with_stat) = boolean(i)?;
        let (i, with_data) = boolean(i)?;
        (i, Some((with_stat, with_data)))
    } else {
        (i, None)
    };
    Ok((
        i,
        RequestBody::FilteredList {
            path,
            watch,
            list_type,
            with,
        },
    ))
}

fn path_watch(i: Input<'_>) -> PResult<'_, RequestBody<'_>> {
    let (i, path) = counted(i)?;
    let (i, watch) = boolean(i)?;
    Ok((i, RequestBody::PathWatch { path, watch }))
}

fn path_version(i: Input<'_>) -> PResult<'_, RequestBody<'_>> {
    let (i, path) = counted(i)?;
    let (i, version) = int(i)?;
    Ok((i, RequestBody::PathVersion { path, version }))
}

fn create(i: Input<'_>, with_ttl: bool) -> PResult<'_, RequestBody<'_>> {
    let (i, path) = counted(i)?;
    let (i, data) = counted(i)?;
    let (i, acl) = acl_list(i)?;
    let (i, flags) = int(i)?;
    let (i, ttl) = if with_ttl {
        long(i).map(|(i, t)| (i, Some(t)))?
    } else {
        (i, None)
    };
    Ok((
        i,
        RequestBody::Create {
            path,
            data,
            acl,
            flags,
            ttl,
        },
    ))
}

fn set_watches(i: Input<'_>, n_lists: usize) -> PResult<'_, RequestBody<'_>> {
    let (mut i, relative_zxid) = long(i)?;
    let mut lists = Vec::with_capacity(n_lists);
    for _ in 0..n_lists {
        let (r, l) = string_list(i)?;
        lists.push(l);
        i = r;
    }
    Ok((
        i,
        RequestBody::SetWatches {
            relative_zxid,
            lists,
        },
    ))
}

/// Each op is a MultiHeader and its request record, until the `done` header. Ops can only
/// be the plain ones (the server rejects nested multi), so this does not recurse.
fn multi_request(mut i: Input<'_>) -> PResult<'_, RequestBody<'_>> {
    use super::opcode as op;
    let mut ops = Vec::new();
    loop {
        if i.fragment().is_empty() {
            return Ok((i, RequestBody::Multi { ops, end: None }));
        }
        let (r, header) = multi_header(i)?;
        if header.val.done.val {
            return Ok((
                r,
                RequestBody::Multi {
                    ops,
                    end: Some(header),
                },
            ));
        }
        let opcode = header.val.op.val;
        if matches!(opcode, op::MULTI | op::MULTI_READ) {
            return fail(i, ErrorKind::Verify);
        }
        let (r, body) = match request_body(opcode, r) {
            Some(res) => res?,
            None => return fail(i, ErrorKind::Switch),
        };
        ops.push(MultiOp { header, body });
        i = r;
    }
}

// ---------------------------------------------------------------------------------------
// Reply bodies (chosen by the opcode of the request that the reply answers)

#[derive(Clone, Debug, PartialEq)]
pub enum ReplyBody<'a> {
    /// No record: delete, setWatches, ping, auth, closeSession, check, and error replies.
    Empty,
    /// create, sync: `{ustring path}`.
    Path {
        path: Counted<'a>,
    },
    /// create2, createContainer, createTTL: `{path, stat}`.
    PathStat {
        path: Counted<'a>,
        stat: At<Stat>,
    },
    /// exists, setData, setACL: `{stat}`.
    Stat {
        stat: At<Stat>,
    },
    /// getData, reconfig: `{buffer data; Stat stat}`.
    Data {
        data: Counted<'a>,
        stat: At<Stat>,
    },
    /// getACL: `{vector<ACL> acl; Stat stat}`.
    Acl {
        acl: At<Vec<At<Acl<'a>>>>,
        stat: At<Stat>,
    },
    /// getChildren, getChildren2 (with stat), getEphemerals.
    Children {
        children: At<Vec<Counted<'a>>>,
        stat: Option<At<Stat>>,
    },
    /// getAllChildrenNumber.
    Number {
        number: At<i32>,
    },
    /// addWatch: ErrorResponse{err}.
    ErrorCode {
        err: At<i32>,
    },
    Sasl {
        token: Counted<'a>,
    },
    WhoAmI {
        clients: At<Vec<At<Id<'a>>>>,
    },
    Multi {
        results: Vec<MultiResult<'a>>,
        end: Option<At<MultiHeader>>,
    },
    /// filteredListWithStatsAndData (506): `{vector<ustring> names; Stat stat;
    /// vector<Stat> stats; vector<buffer> data}`, one stat and one data per child when
    /// asked for (the Python test client's `FilteredListWithStatsAndData.deserialize`).
    ChildrenStatsData {
        children: At<Vec<Counted<'a>>>,
        stat: At<Stat>,
        stats: At<Vec<At<Stat>>>,
        data: At<Vec<Counted<'a>>>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct MultiResult<'a> {
    pub header: At<MultiHeader>,
    pub body: ReplyBody<'a>,
}

/// The reply record for a successful request of `opcode`. `None` for unknown opcodes.
pub fn reply_body(opcode: i32, i: Input<'_>) -> Option<PResult<'_, ReplyBody<'_>>> {
    use super::Opcode as O;
    Some(match super::Opcode::from_code(opcode)? {
        O::Delete
        | O::SetWatches
        | O::SetWatches2
        | O::Ping
        | O::Auth
        | O::CloseSession
        | O::CheckWatches
        | O::RemoveWatches
        // ClickHouse Keeper: ZooKeeperCheckNotExistsResponse, ZooKeeperRemoveRecursiveResponse
        // write nothing; checkStat and tryRemove answer as check and delete do.
        | O::CheckNotExists
        | O::RemoveRecursive
        | O::CheckStat
        | O::TryRemove => Ok((i, ReplyBody::Empty)),
        // check: standalone it is rejected; FRP would send a stat if it were not.
        O::Check if i.fragment().is_empty() => Ok((i, ReplyBody::Empty)),
        // createIfNotExists: ZooKeeperCreateIfNotExistsResponse is a ZooKeeperCreateResponse.
        O::Create | O::Sync | O::CreateIfNotExists => {
            counted(i).map(|(i, path)| (i, ReplyBody::Path { path }))
        }
        O::Create2 | O::CreateContainer | O::CreateTtl => (|| {
            let (i, path) = counted(i)?;
            let (i, stat) = stat(i)?;
            Ok((i, ReplyBody::PathStat { path, stat }))
        })(),
        O::Exists | O::SetData | O::SetAcl | O::Check => {
            stat(i).map(|(i, stat)| (i, ReplyBody::Stat { stat }))
        }
        O::GetData | O::Reconfig => (|| {
            let (i, data) = counted(i)?;
            let (i, stat) = stat(i)?;
            Ok((i, ReplyBody::Data { data, stat }))
        })(),
        O::GetAcl => (|| {
            let (i, acl) = acl_list(i)?;
            let (i, stat) = stat(i)?;
            Ok((i, ReplyBody::Acl { acl, stat }))
        })(),
        // listRecursive: the descendants' paths (the Python test client's ListRecursive).
        O::GetChildren | O::GetEphemerals | O::ListRecursive => string_list(i).map(|(i, children)| {
            (
                i,
                ReplyBody::Children {
                    children,
                    stat: None,
                },
            )
        }),
        // filteredList: ZooKeeperListResponse, as getChildren2.
        O::GetChildren2 | O::FilteredList => (|| {
            let (i, children) = string_list(i)?;
            let (i, stat) = stat(i)?;
            Ok((
                i,
                ReplyBody::Children {
                    children,
                    stat: Some(stat),
                },
            ))
        })(),
        O::GetAllChildrenNumber => int(i).map(|(i, number)| (i, ReplyBody::Number { number })),
        O::AddWatch => int(i).map(|(i, err)| (i, ReplyBody::ErrorCode { err })),
        O::Sasl => counted(i).map(|(i, token)| (i, ReplyBody::Sasl { token })),
        O::WhoAmI => vector(8, id)(i).map(|(i, clients)| (i, ReplyBody::WhoAmI { clients })),
        O::FilteredListWithStatsAndData => (|| {
            let (i, children) = string_list(i)?;
            let (i, parent) = stat(i)?;
            let (i, stats) = vector(STAT_LEN, stat)(i)?;
            let (i, data) = vector(4, counted)(i)?;
            Ok((
                i,
                ReplyBody::ChildrenStatsData {
                    children,
                    stat: parent,
                    stats,
                    data,
                },
            ))
        })(),
        O::Multi | O::MultiRead => multi_reply(i),
        O::Notification | O::CreateSession | O::DeleteContainer | O::Error | O::SessionId => {
            return None;
        }
    })
}

/// Each result is decoded by its own header type, which can differ from the request's op
/// (create2-style results for createTTL, error results with type -1).
fn multi_reply(mut i: Input<'_>) -> PResult<'_, ReplyBody<'_>> {
    use super::opcode as op;
    let mut results = Vec::new();
    loop {
        if i.fragment().is_empty() {
            return Ok((i, ReplyBody::Multi { results, end: None }));
        }
        let (r, header) = multi_header(i)?;
        if header.val.done.val {
            return Ok((
                r,
                ReplyBody::Multi {
                    results,
                    end: Some(header),
                },
            ));
        }
        let (r, body) = match header.val.op.val {
            op::ERROR => int(r).map(|(r, err)| (r, ReplyBody::ErrorCode { err }))?,
            op::MULTI | op::MULTI_READ => return fail(i, ErrorKind::Verify),
            other => match reply_body(other, r) {
                Some(res) => res?,
                None => return fail(i, ErrorKind::Switch),
            },
        };
        results.push(MultiResult { header, body });
        i = r;
    }
}

/// A reply whose request was not captured: the record shapes it can have, tried in turn.
/// A shape is accepted only when it consumes the body exactly and it is the only one that
/// does, so the guess is never ambiguous. Returns the shape's name and the record.
pub fn guess_reply_body(i: Input<'_>) -> Option<(&'static str, ReplyBody<'_>)> {
    use super::opcode as op;
    if i.fragment().is_empty() {
        return Some((
            "empty (delete, removeWatches, setWatches, ...)",
            ReplyBody::Empty,
        ));
    }
    const SHAPES: [(&str, i32); 6] = [
        ("Stat (exists, setData, setACL)", op::EXISTS),
        ("data and Stat (getData)", op::GET_DATA),
        ("path and Stat (create2)", op::CREATE2),
        ("children and Stat (getChildren2)", op::GET_CHILDREN2),
        ("children (getChildren, getEphemerals)", op::GET_CHILDREN),
        ("path (create, sync)", op::CREATE),
    ];
    let mut found = None;
    for (name, opcode) in SHAPES {
        if let Some(Ok((rest, body))) = reply_body(opcode, i)
            && rest.fragment().is_empty()
        {
            if found.is_some() {
                return None;
            }
            found = Some((name, body));
        }
    }
    found
}

/// `WatcherEvent {int type; int state; ustring path}`: the body of a notification (xid -1).
#[derive(Clone, Debug, PartialEq)]
pub struct WatcherEvent<'a> {
    pub event_type: At<i32>,
    pub state: At<i32>,
    pub path: Counted<'a>,
}

pub fn watcher_event(i: Input<'_>) -> PResult<'_, WatcherEvent<'_>> {
    let (i, event_type) = int(i)?;
    let (i, state) = int(i)?;
    let (i, path) = counted(i)?;
    Ok((
        i,
        WatcherEvent {
            event_type,
            state,
            path,
        },
    ))
}

// ---------------------------------------------------------------------------------------
// Whole PDUs: each is parsed once, by `pdu`, and the result goes to the connection (which
// classifies it) and to the dissector (which renders it).

/// A failed parse: where it failed and why.
pub type Failure = crate::jute::ParseFailure;

/// A record and the input after it, or where it failed.
pub type Parsed<'a, T> = Result<(Input<'a>, T), Failure>;

fn parsed<T>(r: PResult<'_, T>) -> Parsed<'_, T> {
    r.map_err(crate::jute::failure)
}

/// How to read a PDU. The connection decides it from the PDU's position and shape (a
/// handshake is the first PDU of each side); the bytes alone cannot say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    ConnectRequest,
    ConnectResponse,
    /// `wire` is what the connection's handshake chose: the xid's width, and whether
    /// bodies are decoded at all.
    Request {
        wire: Wire,
    },
    /// A reply or, with xid -1, a watch notification.
    Reply {
        wire: Wire,
    },
}

/// A request: its header and the body that its opcode selects.
#[derive(Clone, Debug, PartialEq)]
pub struct Request<'a> {
    pub header: RequestHeader,
    /// Where the body starts.
    pub body_at: Input<'a>,
    /// `None` when the opcode is unknown or the body is not decoded.
    pub body: Option<Parsed<'a, RequestBody<'a>>>,
}

impl Request<'_> {
    /// The body, when it parsed.
    pub fn parsed_body(&self) -> Option<&RequestBody<'_>> {
        match &self.body {
            Some(Ok((_, body))) => Some(body),
            _ => None,
        }
    }
}

/// A reply's header. Its body's record depends on the request's opcode, which only the
/// pairing knows: `Reply::body` parses it once that is known.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply<'a> {
    pub header: ReplyHeader,
    pub body_at: Input<'a>,
}

impl<'a> Reply<'a> {
    /// The body as the reply to `opcode`; `None` for an unknown opcode.
    pub fn body(&self, opcode: i32) -> Option<Parsed<'a, ReplyBody<'a>>> {
        reply_body(opcode, self.body_at).map(parsed)
    }
}

/// A watch notification: a reply header with xid -1 and a `WatcherEvent`.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification<'a> {
    pub header: ReplyHeader,
    pub event: Parsed<'a, WatcherEvent<'a>>,
}

/// One PDU, parsed. It lives on the stack for one dissection; boxing the request (the
/// largest variant) would cost an allocation per PDU for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Pdu<'a> {
    ConnectRequest(Parsed<'a, ConnectRequest<'a>>),
    ConnectResponse(Parsed<'a, ConnectResponse<'a>>),
    Request(Result<Request<'a>, Failure>),
    Reply(Result<Reply<'a>, Failure>),
    Notification(Notification<'a>),
}

/// Parses a whole PDU, length prefix included, as `reading` says. Offsets in the result
/// count from the length prefix.
pub fn pdu(reading: Reading, bytes: &[u8]) -> Pdu<'_> {
    let body = parsed(int(input(bytes))).map(|(i, _)| i);
    match reading {
        Reading::ConnectRequest => {
            Pdu::ConnectRequest(body.and_then(|i| parsed(connect_request(i))))
        }
        Reading::ConnectResponse => {
            Pdu::ConnectResponse(body.and_then(|i| parsed(connect_response(i))))
        }
        Reading::Request { wire } => Pdu::Request(
            body.and_then(|i| parsed(request_header(i, wire.xid64())))
                .map(|(body_at, header)| Request {
                    header,
                    body_at,
                    body: wire
                        .decodes_bodies()
                        .then(|| request_body(header.opcode.val, body_at).map(parsed))
                        .flatten(),
                }),
        ),
        Reading::Reply { wire } => match body.and_then(|i| parsed(reply_header(i, wire.xid64()))) {
            Ok((rest, header)) if header.xid.val == super::xid::NOTIFICATION => {
                Pdu::Notification(Notification {
                    header,
                    event: parsed(watcher_event(rest)),
                })
            }
            Ok((body_at, header)) => Pdu::Reply(Ok(Reply { header, body_at })),
            Err(e) => Pdu::Reply(Err(e)),
        },
    }
}

#[cfg(test)]
#[path = "tests/parse.rs"]
mod tests;
