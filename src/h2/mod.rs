//! HTTP/2 (RFC 9113) with HPACK (RFC 7541): the `h2` dissector.
//!
//! - `frame`: frame layouts, pure nom parsers.
//! - `hpack` (+ `huffman`): header decompression that keeps every representation visible.
//! - `body`: content-encoding and gRPC message framing.
//! - `connection`: per-connection state: framing and resync, HPACK tables per direction,
//!   streams, pairing, SETTINGS, flow control, bodies; pure.
//! - `fields`: every field, subtree and expert info, declared once.
//! - `dissect`: frames and connection decisions to tree items and columns.
//! - this file: registration with epan, and coexistence with the built-in `http2`.

pub mod body;
pub mod compat;
pub mod connection;
pub mod dissect;
pub mod fields;
pub mod frame;
pub mod grpc;
pub mod hpack;
pub mod huffman;
pub mod stats;
pub mod user_tables;

#[cfg(test)]
#[path = "tests/rng.rs"]
mod test_rng;

use crate::epan::register::{Registration, register_protocol_with_tables};
use crate::epan::{self, BoolPref, Handle, UintPref};

/// The preferences, read at dissection time.
pub(crate) struct Settings {
    /// Bytes of body kept (and produced by decoding) per stream direction.
    pub body_limit: UintPref,
    pub desegment: BoolPref,
    /// TLS ALPN and the HTTP/1.1 Upgrade go to h2 (else to the built-in http2).
    pub take_negotiated: BoolPref,
    /// Fill the built-in http2's fields and taps and hand gRPC to its message dissectors.
    pub compat: BoolPref,
}

pub(crate) static REGISTRATION: Registration<Settings> = Registration::new();

pub const DEFAULT_BODY_LIMIT: usize = 16 << 20;

pub fn register() {
    // The built-in dissector owns "HTTP2"/"http2" and its handle and heuristic names; ours
    // must differ in every one of them or Wireshark refuses to start.
    let (proto, prefs) = register_protocol_with_tables::<fields::Hf, fields::Ett, fields::Ei>(
        c"HTTP/2 (zkh2)",
        c"H2",
        c"h2",
    );
    let body_limit = prefs.uint(
        c"body_max_size",
        c"Maximum body size",
        c"Bytes of a stream's body kept for reassembly, and produced at most when undoing its content-encoding (a gzip bomb stops here). Larger bodies are cut and flagged.",
        DEFAULT_BODY_LIMIT as u32,
    );
    let desegment = prefs.bool(
        c"desegment",
        c"Reassemble HTTP/2 frames spanning multiple TCP segments",
        c"Whether the h2 dissector should reassemble frames spanning multiple TCP segments. To use this option, you must also enable \"Allow subdissectors to reassemble TCP streams\" in the TCP protocol settings.",
        true,
    );
    user_tables::register(proto, &prefs);
    stats::register(proto);
    let take_negotiated = prefs.bool(
        c"take_alpn_and_upgrade",
        c"Dissect HTTP/2 negotiated by TLS ALPN or HTTP/1.1 Upgrade with h2",
        c"When off, HTTP/2 that TLS ALPN (h2) or an HTTP/1.1 Upgrade (h2, h2c) starts goes to Wireshark's built-in http2 dissector, as without this plugin; h2 still dissects prior-knowledge HTTP/2 it finds by its preface and ports given to it. For one TLS port only, use Decode As: tls.port N as http2.",
        true,
    );
    let compat = prefs.bool(
        c"builtin_compat",
        c"Also fill the built-in http2 fields and taps; gRPC to grpc/protobuf",
        c"On (the default), every frame h2 dissects also carries the built-in http2 dissector's fields (hidden), so http2.* filters, columns and colouring rules keep working; it feeds -z http2,tree and Follow HTTP/2 Stream, and hands gRPC messages to the grpc and protobuf dissectors. Off: only h2's own items (a little faster). Disabling the http2 protocol also turns this off.",
        true,
    );
    let settings = Settings {
        body_limit,
        desegment,
        take_negotiated,
        compat,
    };
    REGISTRATION.set(proto, settings);
}

pub fn register_handoff() {
    let Some(reg) = REGISTRATION.get() else {
        return;
    };
    compat::register_handoff();
    let handle = epan::create_framed_handle::<dissect::H2>(reg.settings.desegment, None);
    REGISTRATION.set_handle(handle);
    // No default port (as the built-in): a range preference `h2.tcp.port` and Decode As.
    handle.add_uint_range_with_preference(c"tcp.port", c"");
    // TLS ALPN and the HTTP/1.1 upgrade cannot be reached by Decode As; while h2 is
    // disabled they point at the built-in `http2` (see the shim).
    let negotiated = epan::create_routed_handle::<dissect::H2>(reg.settings.desegment, c"http2");
    Handle::builtin_fallback_unless(reg.settings.take_negotiated);
    for (table, key) in [
        (c"tls.alpn", c"h2"),
        (c"http.upgrade", c"h2"),
        (c"http.upgrade", c"h2c"),
    ] {
        negotiated.add_string_with_builtin_fallback(reg.proto, c"http2", table, key);
    }
    // The preface on any TCP port, and on ports that HTTP owns (where HTTP sees it first).
    epan::add_framed_heuristic::<dissect::H2>(
        c"tcp",
        handle,
        c"HTTP/2 over TCP (zkh2, connection preface)",
        c"h2_tcp",
    );
    epan::add_framed_heuristic::<dissect::H2>(
        c"http",
        handle,
        c"HTTP/2 prior knowledge on HTTP ports (zkh2)",
        c"h2_http",
    );
}
