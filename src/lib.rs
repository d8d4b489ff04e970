//! The Wireshark plugin ABI, and nothing else: the symbols that `wsutil/plugins.c` looks up
//! when it loads this `.so`, and the two registration callbacks. Everything protocol
//! specific lives in the protocol modules; everything unsafe in `epan`.

use std::ffi::c_int;
use std::panic::catch_unwind;

pub mod codes;
pub mod common;
pub mod epan;
pub mod h2;
pub mod jute;
pub mod writepath;
pub mod zab;
pub mod zkelection;
pub mod zookeeper;

/// Exactly the major.minor of the headers we were built against: the loader refuses any
/// other (wsutil/plugins.c, `pass_plugin_version_compatibility`).
const WANT_MAJOR: c_int = parse_c_int(env!("ZKH2_WS_MAJOR"));
const WANT_MINOR: c_int = parse_c_int(env!("ZKH2_WS_MINOR"));

const fn parse_c_int(s: &str) -> c_int {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v: c_int = 0;
    while i < b.len() {
        v = v * 10 + (b[i] - b'0') as c_int;
        i += 1;
    }
    v
}

/// `plugin_version`: a NUL-terminated char array, from Cargo.toml.
const VERSION_LEN: usize = env!("CARGO_PKG_VERSION").len() + 1;
const fn version_bytes() -> [u8; VERSION_LEN] {
    let src = env!("CARGO_PKG_VERSION").as_bytes();
    let mut out = [0u8; VERSION_LEN];
    let mut i = 0;
    while i < src.len() {
        out[i] = src[i];
        i += 1;
    }
    out
}

#[unsafe(no_mangle)]
#[used]
pub static plugin_version: [u8; VERSION_LEN] = version_bytes();

#[unsafe(no_mangle)]
#[used]
pub static plugin_want_major: c_int = WANT_MAJOR;

#[unsafe(no_mangle)]
#[used]
pub static plugin_want_minor: c_int = WANT_MINOR;

/// `WS_PLUGIN_DESC_DISSECTOR`: 4.4+ show the plugin's type as "dissector". 4.0 ignores it.
#[unsafe(no_mangle)]
pub extern "C" fn plugin_describe() -> u32 {
    1
}

/// Wireshark keeps this pointer, so it must be 'static.
static PLUGIN: wireshark_sys::proto_plugin = wireshark_sys::proto_plugin {
    register_protoinfo: Some(register_protoinfo),
    register_handoff: Some(register_handoff),
};

#[unsafe(no_mangle)]
pub extern "C" fn plugin_register() {
    // SAFETY: PLUGIN is 'static; proto_register_plugin only stores the pointer.
    unsafe { wireshark_sys::proto_register_plugin(&PLUGIN) };
}

/// Protocols, fields, subtrees, expert infos and preferences.
unsafe extern "C" fn register_protoinfo() {
    let ok = catch_unwind(|| {
        epan::guard::register();
        zookeeper::register();
        zab::register();
        zkelection::register();
        h2::register();
    });
    if ok.is_err() {
        eprintln!(
            "zkh2: registering the protocols failed; the plugin's dissectors are not available"
        );
    }
}

/// Dissector handles, port tables and heuristics.
unsafe extern "C" fn register_handoff() {
    let ok = catch_unwind(|| {
        zookeeper::register_handoff();
        zab::register_handoff();
        zkelection::register_handoff();
        h2::register_handoff();
    });
    if ok.is_err() {
        eprintln!(
            "zkh2: the handoff registration failed; the plugin's dissectors are not available"
        );
    }
}
