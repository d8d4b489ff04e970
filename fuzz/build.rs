//! The fuzz targets link the `zkh2` rlib, whose `wireshark-sys` C shim references epan
//! symbols (`tcp_dissect_pdus`, ...). The plugin leaves them to the host process; an
//! executable must resolve them, so link the installed libwireshark. Nothing the targets
//! call reaches Wireshark: they only run the pure parse and session layers.
fn main() {
    println!("cargo:rustc-link-lib=dylib=wireshark");
}
