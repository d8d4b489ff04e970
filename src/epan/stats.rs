//! Statistics of a protocol, generic: a tap, its service response time tables (`tshark -z
//! <name>,srt`) and its stats tree (`tshark -z <name>,tree`). The tap callbacks are C
//! (wireshark-sys/stats.c), because their signatures follow the installed headers; this side
//! registers a protocol's tables and queues one plain record per PDU. The protocols describe
//! their own tables and records (`zookeeper/stats.rs`, `h2/stats.rs`).

use std::ffi::{CStr, c_int};

use wireshark_sys as sys;

use super::packet::Packet;
use super::register::Protocol;
use crate::common::Nanos;

/// One service response time table of a protocol's statistics: its title, the filter its
/// rows stand for, and its rows.
pub struct SrtTable {
    pub title: &'static CStr,
    /// The title of the row column (`None`: epan's default).
    pub column: Option<&'static CStr>,
    pub filter: &'static CStr,
    pub rows: &'static [&'static CStr],
}

/// A protocol's statistics (generic): a tap, its SRT tables and its stats tree.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    tap: c_int,
}

/// What one PDU contributes: the SRT rows a response counts in (one per table, or None),
/// with its request's time, and the stats tree nodes to tick.
#[derive(Clone, Debug, Default)]
pub struct StatRecord {
    pub srt_rows: Vec<Option<usize>>,
    pub request_time: Option<Nanos>,
    /// At most four paths.
    pub ticks: Vec<Tick>,
}

/// A path of stats tree labels (at most four, from a root the registration created).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tick {
    pub path: Vec<String>,
    /// The nodes from this depth on are counted; those above are only found, because
    /// another path of the same record counts them.
    pub from: usize,
}

impl Tick {
    /// Every node of the path counts.
    pub fn new(path: Vec<String>) -> Tick {
        Tick { path, from: 0 }
    }

    /// Only the nodes from depth `from` on count.
    pub fn below(path: Vec<String>, from: usize) -> Tick {
        Tick { path, from }
    }
}

/// Registers tap `name` (`-z <name>,srt` and `-z <name>,tree`), from a register routine.
pub fn register_stats(
    proto: Protocol,
    name: &CStr,
    tables: &[SrtTable],
    tree_title: &CStr,
    tree_roots: &[&CStr],
) -> Option<Stats> {
    let row_ptrs: Vec<Vec<*const std::ffi::c_char>> = tables
        .iter()
        .map(|t| t.rows.iter().map(|r| r.as_ptr()).collect())
        .collect();
    let raw: Vec<sys::zkh2_srt_table> = tables
        .iter()
        .zip(&row_ptrs)
        .map(|(t, rows)| sys::zkh2_srt_table {
            title: t.title.as_ptr(),
            column: t.column.map_or(std::ptr::null(), CStr::as_ptr),
            filter: t.filter.as_ptr(),
            rows: rows.as_ptr(),
            n_rows: rows.len() as c_int,
        })
        .collect();
    let roots: Vec<*const std::ffi::c_char> = tree_roots.iter().map(|r| r.as_ptr()).collect();
    // SAFETY: every pointer is valid for the call; the shim copies the strings.
    let tap = unsafe {
        sys::zkh2_stats_register(
            proto.id(),
            name.as_ptr(),
            raw.as_ptr(),
            raw.len() as c_int,
            tree_title.as_ptr(),
            roots.as_ptr(),
            roots.len() as c_int,
        )
    };
    (tap >= 0).then_some(Stats { tap })
}

impl Stats {
    /// True while a statistic listens (build records only then).
    pub fn wanted(&self) -> bool {
        // SAFETY: a registered tap id.
        unsafe { sys::zkh2_stats_wanted(self.tap) != 0 }
    }

    /// Queues one record (copied by the shim).
    pub fn queue(&self, pkt: &Packet<'_>, rec: &StatRecord) {
        let mut raw = sys::zkh2_stat_rec::default();
        for (slot, row) in raw
            .srt_row
            .iter_mut()
            .zip(rec.srt_rows.iter().chain(std::iter::repeat(&None)))
        {
            *slot = row.map_or(-1, |r| r as i32);
        }
        if let Some(t) = rec.request_time {
            raw.req_secs = t.div_euclid(1_000_000_000);
            raw.req_nsecs = t.rem_euclid(1_000_000_000) as i32;
        }
        let labels: Vec<Vec<std::ffi::CString>> = rec
            .ticks
            .iter()
            .map(|t| t.path.iter().map(|l| super::tree::to_cstring(l)).collect())
            .collect();
        for (slot, path) in raw.tick.iter_mut().zip(&labels) {
            for (cell, label) in slot.iter_mut().zip(path) {
                *cell = label.as_ptr();
            }
        }
        for (from, tick) in raw.tick_from.iter_mut().zip(&rec.ticks) {
            *from = i32::try_from(tick.from).unwrap_or(i32::MAX);
        }
        // SAFETY: valid pinfo; the labels live across the call and are copied by C.
        unsafe { sys::zkh2_stats_queue(pkt.raw(), self.tap, &raw) };
    }
}

/// A statistic of stage times per stage and operation (`tshark -z <cli>`: count, min,
/// median, 90th percentile, max and average; a stats tree `<tap>` averaging them in the
/// Statistics menu).
#[derive(Clone, Copy, Debug)]
pub struct StageStats {
    tap: c_int,
}

/// Registers a stage-time statistic, from a register routine. One per plugin.
pub fn register_stages(
    tap_name: &CStr,
    cli: &CStr,
    title: &CStr,
    tree_title: &CStr,
    stages: &[&CStr],
) -> Option<StageStats> {
    let names: Vec<*const std::ffi::c_char> = stages.iter().map(|s| s.as_ptr()).collect();
    // SAFETY: every pointer is valid for the call; the shim copies the strings.
    let tap = unsafe {
        sys::zkh2_stages_register(
            tap_name.as_ptr(),
            cli.as_ptr(),
            title.as_ptr(),
            tree_title.as_ptr(),
            names.as_ptr(),
            c_int::try_from(names.len()).unwrap_or(c_int::MAX),
        )
    };
    (tap >= 0).then_some(StageStats { tap })
}

impl StageStats {
    /// True while a statistic listens.
    pub fn wanted(&self) -> bool {
        // SAFETY: a registered tap id.
        unsafe { sys::zkh2_stats_wanted(self.tap) != 0 }
    }

    /// Queues the stage times of one operation (`None`: the stage is not in the capture).
    pub fn queue(&self, pkt: &Packet<'_>, op: &str, stages: &[Option<Nanos>]) {
        let mut raw = sys::zkh2_stage_rec::default();
        for (i, (slot, d)) in raw.ns.iter_mut().zip(stages).enumerate() {
            if let Some(d) = d {
                *slot = *d;
                raw.present |= 1 << i;
            }
        }
        let op = super::tree::to_cstring(op);
        raw.op = op.as_ptr();
        // SAFETY: valid pinfo; the name lives across the call and is copied by C.
        unsafe { sys::zkh2_stages_queue(pkt.raw(), self.tap, &raw) };
    }
}
