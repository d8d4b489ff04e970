//! ZooKeeper statistics, on the generic statistics of `epan::stats`: `tshark -z
//! zookeeper,srt` (Statistics > Service Response Time > ZooKeeper: the response time per
//! opcode) and `tshark -z zookeeper,tree` (Statistics > ZooKeeper > Opcodes and errors:
//! requests and replies by opcode, error replies by code, notifications, and all of them per
//! session), and the write path's stage times: `tshark -z zookeeper,writes[,filter]` (count,
//! min, median, 90th percentile, max, average per stage and opcode) and Statistics >
//! ZooKeeper > Write stages (`-z zookeeper_writes,tree`, averages).

use std::ffi::CStr;
use std::sync::OnceLock;

use super::{ErrorCode, Opcode};
use crate::common::Nanos;
use crate::epan::stats::{
    SrtTable, StageStats, StatRecord, Stats, Tick, register_stages, register_stats,
};
use crate::epan::{Packet, Protocol};
use crate::writepath::Stages;

const REQUESTS: &str = "Requests by opcode";
const REPLIES: &str = "Replies by opcode";
const ERRORS: &str = "Error replies by code";
const NOTIFICATIONS: &str = "Notifications";
const SESSIONS: &str = "PDUs by session";

static STATS: OnceLock<Option<Stats>> = OnceLock::new();
static WRITES: OnceLock<Option<StageStats>> = OnceLock::new();

/// What one PDU contributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Request {
        opcode: i32,
    },
    Reply {
        /// The paired request's opcode and capture time.
        request: Option<(i32, Nanos)>,
        err: i32,
    },
    Notification,
}

pub fn register(proto: Protocol) {
    // One SRT row per known opcode, then "unknown opcode"; epan keeps the rows for the
    // process's lifetime, so the list is made once and leaked.
    let rows: Vec<&'static CStr> = Opcode::NAMES
        .iter()
        .map(|(_, name)| *name)
        .chain([c"unknown opcode"])
        .collect();
    let _ = STATS.set(register_stats(
        proto,
        c"zookeeper",
        &[SrtTable {
            title: c"ZooKeeper requests",
            column: Some(c"Opcode"),
            filter: c"zookeeper.opcode",
            rows: Box::leak(rows.into_boxed_slice()),
        }],
        c"ZooKeeper/Opcodes and errors",
        &[
            c"Requests by opcode",
            c"Replies by opcode",
            c"Error replies by code",
            c"Notifications",
            c"PDUs by session",
        ],
    ));
    let _ = WRITES.set(register_stages(
        c"zookeeper_writes",
        c"zookeeper,writes",
        c"ZooKeeper write stages",
        c"ZooKeeper/Write stages (microseconds)",
        &[
            c"request to forwarded",
            c"forwarded to proposed",
            c"proposed to quorum",
            c"quorum to commit",
            c"commit to reply",
        ],
    ));
}

/// Whether the write-stages statistic listens (`queue_write` would queue).
pub fn writes_wanted() -> bool {
    WRITES.get().copied().flatten().is_some_and(|w| w.wanted())
}

/// Queues the stage times of a write (on its reply), when a statistic listens.
pub fn queue_write(pkt: &Packet<'_>, opcode: i32, s: &Stages) {
    if let Some(writes) = WRITES.get().copied().flatten().filter(|w| w.wanted()) {
        let stages = [s.forward, s.propose, s.quorum, s.commit, s.reply];
        writes.queue(pkt, &opcode_label(Some(opcode)), &stages);
    }
}

/// Queues the record of one PDU of the connection whose handshake gave `session_id`, when a
/// statistic listens.
pub fn queue(pkt: &Packet<'_>, event: Event, session_id: Option<u64>) {
    if let Some(stats) = STATS.get().copied().flatten().filter(|s| s.wanted()) {
        stats.queue(pkt, &record(event, session_id));
    }
}

fn record(event: Event, session_id: Option<u64>) -> StatRecord {
    let session = match session_id {
        Some(id) => format!("Session 0x{id:x}"),
        None => "Session unknown (handshake not captured)".to_string(),
    };
    // Under the session's node; `from` 2 when another path of the record already counted
    // the session.
    let per_session = |group: &str, leaf: String, from| {
        Tick::below(
            vec![SESSIONS.into(), session.clone(), group.into(), leaf],
            from,
        )
    };
    let mut rec = StatRecord::default();
    match event {
        Event::Request { opcode } => {
            let op = opcode_label(Some(opcode));
            rec.ticks.push(Tick::new(vec![REQUESTS.into(), op.clone()]));
            rec.ticks.push(per_session("Requests", op, 0));
        }
        Event::Reply { request, err } => {
            let op = opcode_label(request.map(|(op, _)| op));
            rec.ticks.push(Tick::new(vec![REPLIES.into(), op.clone()]));
            rec.ticks.push(per_session("Replies", op, 0));
            if err != 0 {
                let name = error_label(err);
                rec.ticks.push(Tick::new(vec![ERRORS.into(), name.clone()]));
                rec.ticks.push(per_session("Errors", name, 2));
            }
            if let Some((opcode, time)) = request {
                rec.srt_rows = vec![Some(srt_row(opcode))];
                rec.request_time = Some(time);
            }
        }
        Event::Notification => {
            rec.ticks.push(Tick::new(vec![NOTIFICATIONS.into()]));
            rec.ticks.push(Tick::new(vec![
                SESSIONS.into(),
                session,
                NOTIFICATIONS.into(),
            ]));
        }
    }
    rec
}

fn srt_row(opcode: i32) -> usize {
    Opcode::NAMES
        .iter()
        .position(|(v, _)| *v as i32 == opcode)
        .unwrap_or(Opcode::NAMES.len())
}

fn opcode_label(opcode: Option<i32>) -> String {
    match opcode {
        Some(op) => Opcode::name_of(op).map_or_else(|| format!("opcode {op}"), str::to_string),
        None => "request not captured".to_string(),
    }
}

fn error_label(err: i32) -> String {
    ErrorCode::name_of(err).map_or_else(|| format!("error {err}"), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_reply_counts_its_session_once() {
        let rec = record(
            Event::Reply {
                request: Some((super::super::opcode::GET_DATA, 5)),
                err: -101,
            },
            Some(0x10),
        );
        let paths: Vec<(Vec<&str>, usize)> = rec
            .ticks
            .iter()
            .map(|t| (t.path.iter().map(String::as_str).collect(), t.from))
            .collect();
        assert_eq!(
            paths,
            [
                (vec![REPLIES, "getData"], 0),
                (vec![SESSIONS, "Session 0x10", "Replies", "getData"], 0),
                (vec![ERRORS, "NONODE"], 0),
                (vec![SESSIONS, "Session 0x10", "Errors", "NONODE"], 2),
            ]
        );
        assert_eq!(
            rec.srt_rows,
            [Some(srt_row(super::super::opcode::GET_DATA))]
        );
        assert_eq!(rec.request_time, Some(5));
    }

    #[test]
    fn unknown_codes_are_labelled_by_number() {
        assert_eq!(opcode_label(Some(999)), "opcode 999");
        assert_eq!(opcode_label(None), "request not captured");
        assert_eq!(error_label(-9999), "error -9999");
        assert_eq!(srt_row(999), Opcode::NAMES.len());
    }
}
