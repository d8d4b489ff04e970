//! ZooKeeper client-port records (zookeeper.jute), parsed with nom on the jute primitives
//! of `crate::jute`. Pure: bytes in, typed records out, each value with the offset and
//! length it came from so that the dissect layer can point at it. Nothing here knows about
//! Wireshark.
//!
//! This file: the handshake, the headers (whole and cut), Stat and the shared helpers;
//! `request`: request bodies by opcode; `reply`: reply bodies and watch notifications; `pdu`:
//! a whole PDU parsed once (`pdu`, `Pdu`, `Reading`).

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

mod pdu;
mod reply;
mod request;

pub use pdu::*;
pub use reply::*;
pub use request::*;

#[cfg(test)]
#[path = "../tests/parse.rs"]
mod tests;
