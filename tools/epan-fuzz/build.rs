//! Compiles the C driver (driver.c) against the installed Wireshark headers and links the
//! libraries an executable that runs epan needs: libwireshark, libwiretap, libwsutil, GLib.
//! (The plugin itself links nothing: tshark provides those symbols.)
//!
//! Under a sanitizer the C code is instrumented only when the environment asks for it, as
//! for the plugin's own C shim (wireshark-sys): `scripts/fuzz` sets `CC=clang` and
//! `CFLAGS=-fsanitize=...` for the whole build.

fn main() {
    println!("cargo:rerun-if-changed=driver.c");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    let ws = pkg_config::Config::new()
        .cargo_metadata(false)
        .probe("wireshark")
        .expect("pkg-config could not find wireshark: install libwireshark-dev and libglib2.0-dev");
    let mut driver = cc::Build::new();
    driver.file("driver.c").warnings(true);
    for inc in &ws.include_paths {
        driver.include(inc);
    }
    driver.compile("zkh2_epan_fuzz_driver");
    for dir in &ws.link_paths {
        println!("cargo:rustc-link-search=native={}", dir.display());
    }
    for lib in ["wireshark", "wiretap", "wsutil", "glib-2.0"] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
}
