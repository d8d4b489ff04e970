//! HTTP/2 statistics of our own: `tshark -z h2,srt` (Statistics > Service Response Time >
//! h2): the response time per request method and per status class; and `tshark -z h2,tree`
//! (Statistics > HTTP/2 (zkh2)): requests by method, responses by status, stream resets
//! and GOAWAYs by error code. (The built-in's `-z http2,tree`, frames by type, is fed too:
//! see `compat`.)

use std::sync::OnceLock;

use super::connection::{BlockRole, Connection, FrameInfo};
use super::frame::{self, Payload};
use crate::epan::Protocol;
use crate::epan::stats::{SrtTable, StatRecord, Stats, Tick, register_stats};

const METHODS: &[&std::ffi::CStr] = &[
    c"GET", c"POST", c"PUT", c"DELETE", c"HEAD", c"OPTIONS", c"PATCH", c"CONNECT", c"other",
];
const CLASSES: &[&std::ffi::CStr] = &[
    c"1xx Informational",
    c"2xx Success",
    c"3xx Redirection",
    c"4xx Client error",
    c"5xx Server error",
    c"other",
];

const REQUESTS: &str = "Requests by method";
const RESPONSES: &str = "Responses by status";
const RESETS: &str = "Stream resets by error code";
const GOAWAYS: &str = "GOAWAY by error code";

static STATS: OnceLock<Option<Stats>> = OnceLock::new();

pub fn register(proto: Protocol) {
    let _ = STATS.set(register_stats(
        proto,
        c"h2",
        &[
            SrtTable {
                title: c"HTTP/2 response time by request method",
                column: None,
                filter: c"h2.method",
                rows: METHODS,
            },
            SrtTable {
                title: c"HTTP/2 response time by status class",
                column: None,
                filter: c"h2.status",
                rows: CLASSES,
            },
        ],
        c"HTTP/2 (zkh2)/Requests, responses, resets",
        &[
            c"Requests by method",
            c"Responses by status",
            c"Stream resets by error code",
            c"GOAWAY by error code",
        ],
    ));
}

/// The statistics, when a listener wants them.
pub fn wanted() -> Option<Stats> {
    STATS.get().copied().flatten().filter(|s| s.wanted())
}

fn method_row(m: &[u8]) -> usize {
    METHODS
        .iter()
        .position(|n| n.to_bytes() == m)
        .unwrap_or(METHODS.len() - 1)
}

fn class_row(status: u16) -> usize {
    match status {
        100..=599 => usize::from(status / 100 - 1),
        _ => CLASSES.len() - 1,
    }
}

/// What one frame contributes, if anything.
pub fn record(
    conn: &Connection,
    info: &FrameInfo,
    bytes: &[u8],
    completes_block: bool,
) -> Option<StatRecord> {
    let parsed = frame::parse_frame(bytes)?;
    let mut rec = StatRecord::default();
    match parsed.payload.ok()? {
        Payload::RstStream { error } => {
            rec.ticks
                .push(Tick::new(vec![RESETS.into(), error_label(error.val)]));
        }
        Payload::GoAway { error, .. } => {
            rec.ticks
                .push(Tick::new(vec![GOAWAYS.into(), error_label(error.val)]));
        }
        Payload::Headers { .. } | Payload::Continuation { .. } if completes_block => {
            let block = info.block.as_deref()?;
            let strings = conn.strings_of(block);
            match block.role {
                BlockRole::Request => {
                    let m = block.value(strings, b":method").unwrap_or(b"");
                    rec.ticks.push(Tick::new(vec![
                        REQUESTS.into(),
                        String::from_utf8_lossy(m).into_owned(),
                    ]));
                }
                BlockRole::Response | BlockRole::Informational => {
                    let status = block
                        .value(strings, b":status")
                        .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u16>().ok())?;
                    let class = class_row(status);
                    rec.ticks.push(Tick::new(vec![
                        RESPONSES.into(),
                        CLASSES[class].to_string_lossy().into_owned(),
                        status.to_string(),
                    ]));
                    // The response time of a final response whose request was seen.
                    let summary = info.summary.and_then(|i| conn.summary(i));
                    if block.role == BlockRole::Response
                        && let Some(s) = summary.filter(|s| s.request_in.is_some())
                    {
                        rec.srt_rows = vec![
                            Some(method_row(conn.method_of(s).unwrap_or(b""))),
                            Some(class),
                        ];
                        rec.request_time = Some(s.request_time);
                    }
                }
                _ => return None,
            }
        }
        _ => return None,
    }
    Some(rec)
}

fn error_label(code: u32) -> String {
    frame::ErrorCode::name_of(code).map_or_else(|| format!("0x{code:x}"), str::to_string)
}
