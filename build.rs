//! Passes the Wireshark version that `wireshark-sys` generated its bindings for on to the
//! plugin: `plugin_want_major/minor` must equal the running Wireshark's major.minor exactly,
//! and API differences between versions are gated on the cfgs emitted here.

use std::env;

/// Minor versions we know about; `ws_ge_4_N` is set for every one at or below the target.
const KNOWN_MINORS: &[u32] = &[0, 2, 4, 6];

fn main() {
    let major: u32 = dep("VERSION_MAJOR");
    let minor: u32 = dep("VERSION_MINOR");
    println!("cargo:rustc-env=ZKH2_WS_MAJOR={major}");
    println!("cargo:rustc-env=ZKH2_WS_MINOR={minor}");
    println!(
        "cargo:rustc-env=ZKH2_WS_PLUGINDIR={}",
        env::var("DEP_WIRESHARK_PLUGINDIR").unwrap_or_default()
    );
    for m in KNOWN_MINORS {
        println!("cargo::rustc-check-cfg=cfg(ws_ge_4_{m})");
        if major > 4 || (major == 4 && minor >= *m) {
            println!("cargo:rustc-cfg=ws_ge_4_{m}");
        }
    }
}

fn dep(key: &str) -> u32 {
    let var = format!("DEP_WIRESHARK_{key}");
    println!("cargo:rerun-if-env-changed={var}");
    env::var(&var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{var} not set: wireshark-sys must be a dependency"))
}
