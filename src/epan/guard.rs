//! The panic guard. Every callback that Wireshark makes into Rust runs inside `guard`, so
//! a bug in a parser shows up as an expert error on that packet instead of aborting the
//! user's Wireshark (a panic that reaches an `extern "C"` boundary aborts the process).

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use wireshark_sys as sys;

use super::packet::Packet;
use super::register::{Protocol, register_experts, register_protocol};
use super::tree::Tree;
use crate::expert_table;

expert_table! {
    /// Expert items of the plugin itself, under the pseudo-protocol `zkh2`.
    pub enum PluginEi {
        Panic => ExpertSpec {
            abbrev: c"zkh2.dissector_bug",
            group: Group::Malformed,
            severity: Severity::Error,
            summary: c"Dissector bug: the Rust dissector panicked on this packet",
        },
    }
}

static PLUGIN_PROTO: OnceLock<Protocol> = OnceLock::new();

/// Registers the pseudo-protocol that owns the plugin's own expert items.
pub fn register() {
    let proto = register_protocol(c"ZooKeeper and HTTP/2 Rust plugin", c"ZKH2", c"zkh2");
    register_experts::<PluginEi>(proto);
    let _ = PLUGIN_PROTO.set(proto);
}

thread_local! {
    /// Guarded callbacks running on this thread (see [`active_guards`]).
    static ACTIVE: Cell<u32> = const { Cell::new(0) };
}

/// How many guarded callbacks are running on this thread: 0 between dissections, unless an
/// epan exception (a longjmp) skipped a guarded Rust frame, which must never happen (the
/// frame's destructors never ran: a `RefMut` of conversation state stays borrowed, memory
/// leaks). Sanitizers cannot see that; the in-process fuzz harness (tools/epan-fuzz) checks
/// this count after every capture.
pub fn active_guards() -> u32 {
    ACTIVE.with(Cell::get)
}

/// Runs `f`; if it panics, records an expert error on the packet and returns `fallback`.
pub fn guard<R>(
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    tvb: *mut sys::tvbuff_t,
    fallback: R,
    f: impl FnOnce() -> R,
) -> R {
    #[cfg(feature = "panic-trigger")]
    let f = {
        let trigger = panic_trigger::armed(pinfo, tree);
        move || {
            if trigger {
                panic!("panic-trigger: deliberate panic (ZKH2_PANIC_FRAME)");
            }
            f()
        }
    };
    ACTIVE.with(|a| a.set(a.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    ACTIVE.with(|a| a.set(a.get() - 1));
    match result {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            // Reporting must not panic again: it only formats and calls epan.
            let _ = catch_unwind(AssertUnwindSafe(|| report(pinfo, tree, tvb, &msg)));
            fallback
        }
    }
}

fn report(
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    tvb: *mut sys::tvbuff_t,
    msg: &str,
) {
    if pinfo.is_null() || tvb.is_null() {
        return;
    }
    // SAFETY: pointers handed to the callback by epan, valid for its duration.
    unsafe {
        let pkt = Packet::from_raw(pinfo);
        let tree = Tree::from_raw(tree, tvb, 0);
        tree.add_expert(
            &pkt,
            PluginEi::Panic,
            0,
            0,
            &format!("Dissector bug (panic): {msg}"),
        );
        pkt.append_info("[Dissector bug]");
    }
}

/// Test-only (feature `panic-trigger`, never in a release build): the guard panics on purpose
/// inside `catch_unwind` on the frame whose number is in `ZKH2_PANIC_FRAME` (read once), so
/// that tests/robustness_tshark.rs can prove a panic is contained.
#[cfg(feature = "panic-trigger")]
mod panic_trigger {
    use std::sync::OnceLock;

    use wireshark_sys as sys;

    use super::Packet;

    static FRAME: OnceLock<Option<u32>> = OnceLock::new();

    /// True when this callback must panic: the frame matches, and the callback builds a tree
    /// (so the PDU-length callback and tree-less first passes keep their state, and the
    /// frames after the panic decode exactly as without the trigger).
    pub(super) fn armed(pinfo: *mut sys::packet_info, tree: *mut sys::proto_tree) -> bool {
        let Some(n) = *FRAME.get_or_init(|| {
            std::env::var("ZKH2_PANIC_FRAME")
                .ok()
                .and_then(|v| v.trim().parse().ok())
        }) else {
            return false;
        };
        if pinfo.is_null() || tree.is_null() {
            return false;
        }
        // SAFETY: pinfo is the valid packet_info handed to the guarded callback.
        let frame = unsafe { Packet::from_raw(pinfo) }.frame();
        frame == n
    }
}
