//! Watches: which request set a watch on which path, and the notifications that fire them
//! (one-shot watches, persistent and recursive ones from addWatch, setWatches after a
//! reconnect, removeWatches).

use super::*;

/// Watches tracked per connection (one entry per request and watched path).
pub const MAX_WATCHES: usize = 100_000;

/// Links kept per request (`fired_in`) and per notification (`set_in`). A persistent watch
/// fires any number of times, and many requests can watch one path; without a cap a hostile
/// capture would make these lists (and the time to fill them) grow as their product.
pub const MAX_WATCH_LINKS: usize = 1_000;

/// The kinds of watch the server keeps per connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WatchKind {
    /// One-shot data watch: getData or exists with watch=true (also on a missing node).
    Data,
    /// One-shot child watch: getChildren, getChildren2.
    Child,
    /// addWatch PERSISTENT: the path's data and children events, not consumed.
    Persistent,
    /// addWatch PERSISTENT_RECURSIVE: events on the path and all descendants (no
    /// NodeChildrenChanged), not consumed.
    Recursive,
}

/// What a request does to the watch table once its reply says it succeeded.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum WatchOp {
    Set(WatchKind, Rc<str>),
    /// removeWatches: WatcherType (1 children, 2 data, 3 any, 4 persistent, 5 recursive).
    Remove(i32, Rc<str>),
}

/// The path itself and each of its ancestors up to "/": "/a/b" -> "/a/b", "/a", "/".
pub(super) fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let cur = next?;
        next = match cur.rfind('/') {
            Some(0) if cur.len() > 1 => Some("/"),
            Some(i) if i > 0 => cur.get(..i),
            _ => None,
        };
        Some(cur)
    })
}

/// The watch a request asks for (set or remove), from its body. `path`: the body's path
/// as text (`path_text`), shared with the pending request.
pub(super) fn watch_op(
    opcode: i32,
    body: &parse::RequestBody<'_>,
    path: Option<&Rc<str>>,
) -> Option<WatchOp> {
    use crate::zookeeper::opcode as op;
    let path = path.cloned();
    match body {
        parse::RequestBody::PathWatch { watch, .. } if watch.val => {
            let kind = match opcode {
                op::GET_CHILDREN | op::GET_CHILDREN2 => WatchKind::Child,
                _ => WatchKind::Data,
            };
            Some(WatchOp::Set(kind, path?))
        }
        // ClickHouse Keeper registers a list (child) watch for filteredList and
        // filteredListWithStatsAndData (KeeperStorage.cpp, `register_watch`).
        parse::RequestBody::FilteredList { watch, .. } if watch.val => {
            Some(WatchOp::Set(WatchKind::Child, path?))
        }
        parse::RequestBody::AddWatch { mode, .. } => {
            let k = match mode.val {
                0 => WatchKind::Persistent,
                1 => WatchKind::Recursive,
                _ => return None,
            };
            Some(WatchOp::Set(k, path?))
        }
        parse::RequestBody::PathType { kind, .. } if opcode == op::REMOVE_WATCHES => {
            Some(WatchOp::Remove(kind.val, path?))
        }
        _ => None,
    }
}

/// The watches a setWatches (data, exist, child) or setWatches2 (plus persistent and
/// persistent recursive) request re-sets.
pub(super) fn set_watches_paths(lists: &[At<Vec<Counted<'_>>>]) -> Vec<(WatchKind, Rc<str>)> {
    const KINDS: [WatchKind; 5] = [
        WatchKind::Data,
        WatchKind::Data,
        WatchKind::Child,
        WatchKind::Persistent,
        WatchKind::Recursive,
    ];
    let mut out = Vec::new();
    for (list, kind) in lists.iter().zip(KINDS) {
        for p in &list.val {
            if let Some(b) = p.val {
                out.push((kind, path_text(b)));
            }
        }
    }
    out
}

impl Connection {
    /// Adds a watch set by the request `key`; false when the table is full.
    pub(super) fn add_watch(&mut self, kind: WatchKind, path: Rc<str>, key: PduKey) -> bool {
        let setters = self.watches.entry((kind, path)).or_default();
        if setters.contains(&key) {
            return true;
        }
        if self.watch_count >= MAX_WATCHES {
            return false;
        }
        setters.push(key);
        self.watch_count += 1;
        true
    }

    pub(super) fn remove_watches(&mut self, kind: WatchKind, path: &Rc<str>) {
        if let Some(v) = self.watches.remove(&(kind, path.clone())) {
            self.watch_count = self.watch_count.saturating_sub(v.len());
        }
    }

    /// A reply arrived for a request that sets or removes a watch: the server did so if
    /// the request succeeded (exists also leaves a watch on a missing node).
    pub(super) fn apply_watch_op(&mut self, p: &Pending, err: i32) {
        use crate::zookeeper::opcode as op;
        const NONODE: i32 = -101;
        let ok = err == 0 || (p.opcode == op::EXISTS && err == NONODE);
        match &p.watch {
            Some(WatchOp::Set(kind, path)) if ok => {
                if !self.add_watch(*kind, path.clone(), p.key)
                    && let Some(PduKind::Request { watch, .. }) = self.decisions.get_mut(&p.key)
                {
                    watch.untracked = true;
                }
            }
            Some(WatchOp::Remove(t, path)) if err == 0 => {
                let kinds: &[WatchKind] = match t {
                    1 => &[WatchKind::Child],
                    2 => &[WatchKind::Data],
                    3 => &[
                        WatchKind::Child,
                        WatchKind::Data,
                        WatchKind::Persistent,
                        WatchKind::Recursive,
                    ],
                    4 => &[WatchKind::Persistent],
                    5 => &[WatchKind::Recursive],
                    _ => &[],
                };
                for k in kinds {
                    self.remove_watches(*k, path);
                }
            }
            _ => {}
        }
    }

    /// A notification: the watches it fires, by event type and path. One-shot watches
    /// are consumed; persistent ones stay. Returns the frames of the requests that set
    /// them, and records the notification's frame on each of those requests.
    pub(super) fn fire_watches(&mut self, n: &parse::Notification<'_>, frame: u32) -> Vec<u32> {
        let Ok((_, ev)) = &n.event else {
            return Vec::new();
        };
        let Some(path) = ev.path.val.map(|p| String::from_utf8_lossy(p).into_owned()) else {
            return Vec::new();
        };
        // EventType: 1 NodeCreated, 2 NodeDeleted, 3 NodeDataChanged, 4 NodeChildrenChanged.
        let (one_shot, recursive): (&[WatchKind], bool) = match ev.event_type.val {
            1 | 3 => (&[WatchKind::Data], true),
            2 => (&[WatchKind::Data, WatchKind::Child], true),
            4 => (&[WatchKind::Child], false),
            _ => return Vec::new(),
        };
        let path: Rc<str> = Rc::from(path.as_str());
        // One-shot watches are consumed whole (they leave the table); links beyond the cap
        // are dropped, see MAX_WATCH_LINKS.
        let mut keys: Vec<PduKey> = Vec::new();
        for kind in one_shot {
            if let Some(v) = self.watches.remove(&(*kind, path.clone())) {
                self.watch_count = self.watch_count.saturating_sub(v.len());
                keys.extend(
                    v.into_iter()
                        .take(MAX_WATCH_LINKS + 1 - keys.len().min(MAX_WATCH_LINKS)),
                );
            }
        }
        if let Some(v) = self.watches.get(&(WatchKind::Persistent, path.clone())) {
            keys.extend(
                v.iter()
                    .copied()
                    .take(MAX_WATCH_LINKS + 1 - keys.len().min(MAX_WATCH_LINKS)),
            );
        }
        if recursive {
            for anc in ancestors(&path) {
                if keys.len() > MAX_WATCH_LINKS {
                    break;
                }
                if let Some(v) = self.watches.get(&(WatchKind::Recursive, Rc::from(anc))) {
                    keys.extend(v.iter().copied().take(MAX_WATCH_LINKS + 1 - keys.len()));
                }
            }
        }
        keys.truncate(MAX_WATCH_LINKS + 1);
        let mut frames = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(PduKind::Request { watch, .. }) = self.decisions.get_mut(&k) {
                // Frames arrive in increasing order on the first pass: a repeat can only
                // be the last entry.
                if watch.fired_in.last() != Some(&frame) {
                    if watch.fired_in.len() < MAX_WATCH_LINKS {
                        watch.fired_in.push(frame);
                    } else {
                        watch.links_truncated = true;
                    }
                }
            }
            frames.push(k.frame);
        }
        frames.sort_unstable();
        frames.dedup();
        frames
    }

    /// Number of watches currently tracked (for tests and statistics).
    pub fn watch_count(&self) -> usize {
        self.watch_count
    }
}
