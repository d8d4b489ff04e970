//! Compatibility with Wireshark's built-in `http2` and `grpc` dissectors: installing the
//! plugin must take nothing away from their users. Where `h2` dissects HTTP/2, it also
//! fills the built-in's fields (hidden, under a hidden `http2` item), feeds its taps
//! (`-z http2,tree`, Follow HTTP/2 Stream), marks the frame as `http2` (the GUI's Follow
//! menu, `frame.protocols`), and hands gRPC messages to the `grpc_message_type` table as
//! the built-in `grpc` does.
//!
//! - `fields`: the built-in's fields, by name.
//! - `state`: the built-in's own bookkeeping, recomputed (pure; fed by `Connection`).
//! - `emit`: the items, per frame, as packet-http2.c adds them.

pub mod emit;
pub mod fields;
pub mod grpc;
pub mod state;

use std::collections::HashMap;
use std::ffi::CString;
use std::sync::{Mutex, OnceLock};

use crate::epan::foreign::{self, FieldKind, ForeignProto, Tap};
use crate::epan::{Handle, Item, Packet, RawField, Tree};

/// What the built-in registered, found at handoff. None of it exists when Wireshark was
/// built without the http2 dissector.
pub struct Builtin {
    pub http2: ForeignProto,
    /// Marks a frame as carrying `http2` (pinfo->layers).
    pub layer: Handle,
    /// The built-in's handle can be told about streams, for the GUI's Follow HTTP/2 Stream
    /// (its stream list). Not in tshark, where nothing asks for that list and telling costs
    /// a run of the built-in per stream (tshark's `-z follow,http2` is served by its tap).
    pub announce: bool,
    pub stats_tap: Option<Tap>,
    pub follow_tap: Option<Tap>,
    /// `http2.headers.<name>` fields by header name: the built-in's own set, then the
    /// user's `custom_http2_header_fields` (re-read when a capture is dissected anew).
    named: Mutex<HashMap<Vec<u8>, (RawField, FieldKind)>>,
}

static BUILTIN: OnceLock<Option<Builtin>> = OnceLock::new();

/// The built-in's registrations, when they exist, `http2` is enabled and the preference
/// `h2.builtin_compat` is on.
pub fn builtin() -> Option<&'static Builtin> {
    builtin_any().filter(|b| b.http2.is_enabled() && enabled())
}

/// The preference `h2.builtin_compat`.
pub fn enabled() -> bool {
    crate::h2::REGISTRATION
        .get()
        .is_none_or(|r| r.settings.compat.get())
}

/// The built-in's registrations, also while `http2` is disabled.
pub fn builtin_any() -> Option<&'static Builtin> {
    BUILTIN.get()?.as_ref()
}

/// Looks everything up; called from h2's handoff (all built-in handoffs have run by then).
pub fn register_handoff() {
    let _ = BUILTIN.set(find());
    grpc::register_handoff();
}

fn find() -> Option<Builtin> {
    let http2 = ForeignProto::by_filter_name(c"http2")?;
    foreign::resolve_fields::<fields::Http2>();
    foreign::resolve_fields::<fields::Grpc>();
    let announce = !crate::epan::output::command_line_tool() && foreign::http2_announce_init();
    let b = Builtin {
        http2,
        layer: http2.layer_handle(),
        announce,
        stats_tap: Tap::by_name(c"http2"),
        follow_tap: Tap::by_name(c"http2_follow"),
        named: Mutex::new(HashMap::new()),
    };
    b.refresh_named_headers();
    Some(b)
}

impl Builtin {
    /// Re-reads the named header fields (the built-in registers the user's custom header
    /// fields when a capture is opened).
    pub fn refresh_named_headers(&self) {
        let mut map = HashMap::new();
        for (name, abbrev) in fields::NAMED_HEADERS {
            if let Some(f) = foreign::field_by_name(abbrev) {
                map.insert(name.as_bytes().to_vec(), (f, foreign::field_kind(f)));
            }
        }
        // The user's own `http2.headers.<name>` fields (the built-in registers them from
        // its table when a capture is opened).
        for row in crate::epan::uat::rows(c"Custom HTTP2 Header Fields", &[c"header_name"]) {
            let name = row[0].trim();
            if let Some(f) = Self::field(&format!("http2.headers.{name}")) {
                map.entry(name.to_ascii_lowercase().into_bytes())
                    .or_insert((f, foreign::field_kind(f)));
            }
        }
        if let Ok(mut named) = self.named.lock() {
            *named = map;
        }
    }

    /// `try_add_named_header_field`: the header's own field, when it has one.
    fn named_header<'a>(
        &self,
        t: &Tree<'a>,
        _pkt: &Packet<'_>,
        off: usize,
        name: &[u8],
        value: &str,
    ) -> Option<Item<'a>> {
        let (field, kind) = *self.named.lock().ok()?.get(name)?;
        let item = match kind {
            FieldKind::Uint32 => t.add_u32(field, off, 0, parse_uint(value)?.try_into().ok()?),
            FieldKind::Uint64 => t.add_u64(field, off, 0, parse_uint(value)?),
            FieldKind::Other => t.add_string(field, off, 0, value),
        };
        Some(item)
    }

    /// A field by its name, for user-defined header fields (`h2.headers.*`).
    pub fn field(abbrev: &str) -> Option<RawField> {
        let c = CString::new(abbrev).ok()?;
        foreign::field_by_name(&c)
    }
}

/// `ws_strtou64(value, NULL, ...)`: the whole string must be a decimal number (leading
/// white space allowed, no sign).
fn parse_uint(v: &str) -> Option<u64> {
    let t = v.trim_start();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

impl Packet<'_> {
    fn http2_stats_tap(&self, tap: Tap, kind: u8) {
        tap.queue_byte(self, kind);
    }
}

impl Tree<'_> {
    fn http2_follow_tap_data(&self, pkt: &Packet<'_>, tap: Tap, data: &[u8], stream: u32) {
        tap.queue_follow_data(pkt, self, data, u64::from(stream));
    }

    fn http2_follow_tap_range(
        &self,
        pkt: &Packet<'_>,
        tap: Tap,
        off: usize,
        len: usize,
        stream: u32,
    ) {
        tap.queue_follow_range(pkt, self, off, len, u64::from(stream));
    }
}

/// Helper for `emit`: `http_add_path_components_to_tree` under the `:path` item.
impl Packet<'_> {
    fn http_path_components(&self, t: &Tree<'_>, item: Item<'_>, path: &[u8]) {
        t.http_path_components(self, item, path);
    }
}

/// The built-in's `streaming_content_type` table: content types whose bodies it hands on
/// message by message (gRPC's, and any a script registered).
pub fn is_streaming_content_type(content_type: &str) -> bool {
    foreign::string_table_has(c"streaming_content_type", content_type)
}

/// Tells the built-in http2 about a stream of this packet (see `compat_layer`).
pub fn announce_stream(pkt: &Packet<'_>, tree: &Tree<'_>, stream: u32) {
    foreign::call_http2_announce(pkt, tree, stream);
}
