//! Statistics: the ZooKeeper tap, its service response time table (`tshark -z
//! zookeeper,srt`) and its stats tree (`tshark -z zookeeper,tree`). The tap callbacks
//! are C (wireshark-sys/stats.c), because their signatures follow the installed headers;
//! this side registers them with the protocol's value names and queues one plain record
//! per PDU.

use std::ffi::{CStr, c_int};

use wireshark_sys as sys;

use super::packet::{Nanos, Packet};
use super::register::Protocol;

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
