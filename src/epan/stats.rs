//! Statistics: the ZooKeeper tap, its service response time table (`tshark -z
//! zookeeper,srt`) and its stats tree (`tshark -z zookeeper,tree`). The tap callbacks
//! are C (wireshark-sys/stats.c), because their signatures follow the installed headers;
//! this side registers them with the protocol's value names and queues one plain record
//! per PDU.

use std::ffi::{CStr, c_int};

use wireshark_sys as sys;

use super::packet::Packet;
use super::register::Protocol;
use crate::common::Nanos;

/// What one ZooKeeper PDU contributes to the statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZkTap {
    Request {
        opcode: i32,
        session_id: Option<u64>,
    },
    Reply {
        /// The paired request's opcode and capture time.
        request: Option<(i32, Nanos)>,
        err: i32,
        session_id: Option<u64>,
    },
    Notification {
        session_id: Option<u64>,
    },
}

/// Registers the tap, the SRT table and the stats tree. `opcodes` and `errors` name the
/// SRT rows and tree nodes; they are copied.
pub fn register_zookeeper(proto: Protocol, opcodes: &[(u32, &CStr)], errors: &[(u32, &CStr)]) {
    let conv = |t: &[(u32, &CStr)]| -> Vec<sys::zkh2_name> {
        t.iter()
            .map(|(v, n)| sys::zkh2_name {
                value: *v as i32,
                name: n.as_ptr(),
            })
            .collect()
    };
    let (ops, errs) = (conv(opcodes), conv(errors));
    // SAFETY: the arrays and their strings are valid for the call; C copies them.
    unsafe {
        sys::zkh2_zk_stats_register(
            proto.id(),
            ops.as_ptr(),
            ops.len() as c_int,
            errs.as_ptr(),
            errs.len() as c_int,
        );
    }
}

/// Queues the record of one PDU (only when a listener is attached; cheap otherwise).
pub fn queue_zookeeper(pkt: &Packet<'_>, rec: ZkTap) {
    let sid = |s: Option<u64>| (i32::from(s.is_some()), s.unwrap_or(0));
    let mut raw = sys::zkh2_zk_tap::default();
    match rec {
        ZkTap::Request { opcode, session_id } => {
            raw.kind = 1;
            raw.opcode = opcode;
            raw.has_opcode = 1;
            (raw.has_session, raw.session_id) = sid(session_id);
        }
        ZkTap::Reply {
            request,
            err,
            session_id,
        } => {
            raw.kind = 2;
            raw.err = err;
            if let Some((op, t)) = request {
                raw.opcode = op;
                raw.has_opcode = 1;
                raw.paired = 1;
                raw.req_secs = t.div_euclid(1_000_000_000);
                raw.req_nsecs = t.rem_euclid(1_000_000_000) as i32;
            }
            (raw.has_session, raw.session_id) = sid(session_id);
        }
        ZkTap::Notification { session_id } => {
            raw.kind = 3;
            (raw.has_session, raw.session_id) = sid(session_id);
        }
    }
    // SAFETY: valid pinfo of the running dissection; the record is copied by C.
    unsafe { sys::zkh2_zk_tap_queue(pkt.raw(), &raw) };
}

/// One service response time table of a protocol's statistics: its title, the filter its
/// rows stand for, and its rows.
pub struct SrtTable {
    pub title: &'static CStr,
    pub filter: &'static CStr,
    pub rows: &'static [&'static CStr],
}

/// A protocol's statistics (generic): a tap, its SRT tables and its stats tree.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    tap: c_int,
}

/// What one PDU contributes: the SRT rows a response counts in (one per table, or None),
/// with its request's time, and the stats tree nodes to tick (paths of up to three labels).
#[derive(Clone, Debug, Default)]
pub struct StatRecord {
    pub srt_rows: Vec<Option<usize>>,
    pub request_time: Option<Nanos>,
    pub ticks: Vec<Vec<String>>,
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
            .map(|path| path.iter().map(|l| super::tree::to_cstring(l)).collect())
            .collect();
        for (slot, path) in raw.tick.iter_mut().zip(&labels) {
            for (cell, label) in slot.iter_mut().zip(path) {
                *cell = label.as_ptr();
            }
        }
        // SAFETY: valid pinfo; the labels live across the call and are copied by C.
        unsafe { sys::zkh2_stats_queue(pkt.raw(), self.tap, &raw) };
    }
}
