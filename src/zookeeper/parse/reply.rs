//! Reply bodies, chosen by the opcode of the request that the reply answers, and watch
//! notifications.

use super::*;

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
    use crate::zookeeper::Opcode as O;
    Some(match crate::zookeeper::Opcode::from_code(opcode)? {
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
    use crate::zookeeper::opcode as op;
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
    use crate::zookeeper::opcode as op;
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
