//! Request bodies: the record each opcode's request carries.

use super::*;

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
        /// Boxed: a Stat is 11 located fields, and inline it would make every parsed
        /// request (a value moved through classification per PDU) three times larger for
        /// this rare ClickHouse opcode.
        stat: Box<At<Stat>>,
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
    use crate::zookeeper::Opcode as O;
    Some(match crate::zookeeper::Opcode::from_code(opcode)? {
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
                    stat: Box::new(stat),
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
    use crate::zookeeper::opcode as op;
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
