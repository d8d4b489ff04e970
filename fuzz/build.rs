//! The fuzz targets link the `zkh2` rlib, whose `wireshark-sys` C shim references epan
//! symbols (`tcp_dissect_pdus`, ...) and wmem's (`wmem_list_tail`, ... in libwsutil). The
//! plugin leaves them to the host process; an executable must resolve them, so link the
//! installed libwireshark and libwsutil. Nothing the pure targets call reaches Wireshark:
//! they only run the parse and session layers. (The epan_* targets link the rest through
//! tools/epan-fuzz.)
fn main() {
    for lib in ["wireshark", "wsutil", "glib-2.0"] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
}
