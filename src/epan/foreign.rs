//! Another protocol's registrations, found by name: its fields, its protocol id, its taps
//! and dissector handles. A dissector that takes traffic over from a built-in one uses
//! these to keep filling what users of the built-in rely on (filters, columns, colouring,
//! taps, Follow), so that installing the plugin takes nothing away.
//!
//! Everything is looked up after registration (in a handoff) and may be absent in some
//! Wireshark version: a missing field keeps the id -1 and the tree skips it.

use std::ffi::{CStr, c_int};
use std::sync::atomic::Ordering;

use wireshark_sys as sys;

use super::packet::Packet;
use super::register::Handle;
use super::tables::{FieldId, ForeignFieldTable, RawField};
use super::tree::Tree;

/// Looks up the ids of every field of table `F` (call once, from a handoff).
pub fn resolve_fields<F: ForeignFieldTable>() {
    for f in F::ALL {
        // SAFETY: a static NUL-terminated name; the lookup only reads the registry.
        let id = unsafe { sys::zkh2_field_id(f.abbrev().as_ptr()) };
        f.id_cell().store(id, Ordering::Relaxed);
    }
}

/// A field id by name, looked up now (for fields registered at run time, from a UAT).
pub fn field_by_name(abbrev: &CStr) -> Option<RawField> {
    // SAFETY: a NUL-terminated name that lives across the call.
    let id = unsafe { sys::zkh2_field_id(abbrev.as_ptr()) };
    (id >= 0).then_some(RawField(id))
}

/// The value type of a field, as the few kinds that matter to callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// FT_UINT8 .. FT_UINT32.
    Uint32,
    /// FT_UINT40 .. FT_UINT64.
    Uint64,
    Other,
}

pub fn field_kind<F: FieldId>(field: F) -> FieldKind {
    // SAFETY: any id; the shim checks it.
    let t = unsafe { sys::zkh2_field_type(field.id()) };
    if t < 0 {
        return FieldKind::Other;
    }
    let t = t as sys::ftenum;
    if [
        sys::ftenum_FT_UINT8,
        sys::ftenum_FT_UINT16,
        sys::ftenum_FT_UINT24,
        sys::ftenum_FT_UINT32,
    ]
    .contains(&t)
    {
        FieldKind::Uint32
    } else if [
        sys::ftenum_FT_UINT40,
        sys::ftenum_FT_UINT48,
        sys::ftenum_FT_UINT56,
        sys::ftenum_FT_UINT64,
    ]
    .contains(&t)
    {
        FieldKind::Uint64
    } else {
        FieldKind::Other
    }
}

/// Another protocol, by filter name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForeignProto(c_int);

impl ForeignProto {
    pub fn by_filter_name(name: &CStr) -> Option<ForeignProto> {
        // SAFETY: a NUL-terminated name.
        let id = unsafe { sys::zkh2_proto_id(name.as_ptr()) };
        (id >= 0).then_some(ForeignProto(id))
    }

    pub fn id(self) -> c_int {
        self.0
    }

    pub fn is_enabled(self) -> bool {
        // SAFETY: a valid protocol id.
        unsafe { sys::zkh2_proto_is_enabled(self.0) != 0 }
    }

    /// The protocol as a field (its top item).
    pub fn field(self) -> RawField {
        RawField(self.0)
    }

    /// A handle that marks this protocol as a layer of the frame when called (see `Layer`).
    pub fn layer_handle(self) -> Handle {
        // SAFETY: a valid protocol id; the handle lives as long as the process.
        Handle(unsafe { sys::zkh2_create_layer_handle(self.0) })
    }
}

/// A tap that another protocol registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tap(pub(crate) c_int);

impl Tap {
    pub fn by_name(name: &CStr) -> Option<Tap> {
        // SAFETY: a NUL-terminated name.
        let id = unsafe { sys::zkh2_tap_id(name.as_ptr()) };
        (id >= 0).then_some(Tap(id))
    }

    /// True while someone listens (a statistic, Follow, a script).
    pub fn has_listener(self) -> bool {
        // SAFETY: a valid tap id.
        unsafe { sys::zkh2_tap_has_listener(self.0) != 0 }
    }
}

/// A dissector handle registered by name (`find_dissector`).
/// Another protocol's boolean preference, found once and read each time (the user may
/// change it between files).
pub struct ForeignBoolPref(usize);

impl ForeignBoolPref {
    pub fn find(module: &CStr, name: &CStr) -> ForeignBoolPref {
        // SAFETY: NUL-terminated names; the pref_t (or null) stays valid for the process.
        ForeignBoolPref(
            unsafe { sys::zkh2_find_bool_pref(module.as_ptr(), name.as_ptr()) } as usize,
        )
    }

    /// The preference's current value, or `fallback` when it does not exist.
    pub fn get(&self, fallback: bool) -> bool {
        // SAFETY: null or a pref_t found by prefs_find_preference.
        unsafe { sys::zkh2_pref_bool_current(self.0 as *mut _, fallback as i32) != 0 }
    }
}

/// Prepares announcing our frames to the built-in http2's own taps and conversation data
/// (shim.c); false when this Wireshark's http2 cannot be fed that way. Call at handoff.
pub fn http2_announce_init() -> bool {
    // SAFETY: called at handoff, after the built-in registered its handle.
    unsafe { sys::zkh2_http2_announce_init() == 0 }
}

pub fn dissector_by_name(name: &CStr) -> Option<Handle> {
    // SAFETY: a NUL-terminated name.
    let h = unsafe { sys::find_dissector(name.as_ptr()) };
    (!h.is_null()).then_some(Handle(h))
}

impl Packet<'_> {
    /// Adds `proto`'s layer to the frame (frame.protocols, and what the GUI checks to offer
    /// Follow for that protocol) by calling its layer handle on `tree`'s data.
    pub fn add_layer(&self, handle: Handle, tree: &Tree<'_>) {
        // SAFETY: a valid handle, tvb and pinfo; exceptions are caught in C.
        unsafe { sys::zkh2_call_layer(handle.0, tree.tvb_raw(), self.raw()) };
    }
}

impl Tree<'_> {
    /// True when an item of `field` added here would be kept: the tree is visible, or a
    /// filter, column, colouring rule or `-e` refers to the field. For a protocol id it
    /// answers whether any of the protocol's fields is wanted.
    pub fn wants<F: FieldId>(&self, field: F) -> bool {
        let id = field.id();
        id >= 0 && self.is_referenced_raw(id)
    }
}

impl Tap {
    /// Queues a record that is one octet (for example http2's frame type).
    pub fn queue_byte(self, pkt: &Packet<'_>, value: u8) {
        // SAFETY: valid pinfo; the record is allocated in the packet pool by the shim.
        unsafe { sys::zkh2_tap_queue_byte(pkt.raw(), self.0, value) };
    }

    /// Queues a follow record: `len` bytes at `offset` of `tree`'s data, with a sub-stream id.
    pub fn queue_follow_range(
        self,
        pkt: &Packet<'_>,
        tree: &Tree<'_>,
        offset: usize,
        len: usize,
        stream: u64,
    ) {
        self.queue_follow(pkt, tree, offset, len, None, stream);
    }

    /// Queues a follow record holding a copy of `data`, with a sub-stream id.
    pub fn queue_follow_data(self, pkt: &Packet<'_>, tree: &Tree<'_>, data: &[u8], stream: u64) {
        self.queue_follow(pkt, tree, 0, data.len(), Some(data), stream);
    }

    /// A follow record of `len` bytes: a copy of `data` when given (`len` is its length),
    /// else those at `offset` of `tree`'s data.
    fn queue_follow(
        self,
        pkt: &Packet<'_>,
        tree: &Tree<'_>,
        offset: usize,
        len: usize,
        data: Option<&[u8]>,
        stream: u64,
    ) {
        let (Ok(off), Ok(l)) = (c_int::try_from(offset), c_int::try_from(len)) else {
            return;
        };
        let data = data.map_or(std::ptr::null(), <[u8]>::as_ptr);
        // SAFETY: valid pinfo and tvb; the shim checks the range against the tvb, or copies
        // `data` (`len` bytes, its whole length) into the packet pool.
        unsafe {
            sys::zkh2_tap_queue_follow(pkt.raw(), self.0, tree.tvb_raw(), off, l, data, stream)
        };
    }
}

impl Tree<'_> {
    /// HTTP's path segment fields (`http.request.path.segment` ...) under `item`, for a
    /// path given as bytes (the HTTP dissector's `http_add_path_components_to_tree`).
    pub fn http_path_components(&self, pkt: &Packet<'_>, item: super::tree::Item<'_>, path: &[u8]) {
        if item.is_null() || path.is_empty() {
            return;
        }
        let Ok(len) = u32::try_from(path.len()) else {
            return;
        };
        // SAFETY: valid pinfo, item and tvb; the shim copies the path and catches exceptions.
        unsafe {
            sys::zkh2_http_path_components(
                pkt.raw(),
                item.raw_item(),
                self.tvb_raw(),
                path.as_ptr(),
                len,
            )
        };
    }
}

/// True when the string-keyed dissector table `table` has an entry for `key`.
pub fn string_table_has(table: &CStr, key: &str) -> bool {
    let Ok(k) = std::ffi::CString::new(key) else {
        return false;
    };
    // SAFETY: NUL-terminated strings; the lookup only reads the table.
    unsafe { sys::zkh2_string_table_has(table.as_ptr(), k.as_ptr()) != 0 }
}

/// The built-in http2's BLOCKED-frame announcement of a stream (see the shim).
pub fn call_http2_announce(pkt: &Packet<'_>, tree: &Tree<'_>, stream: u32) {
    // SAFETY: valid pinfo and tvb; the shim hides the columns and catches exceptions.
    unsafe { sys::zkh2_http2_announce_stream(tree.tvb_raw(), pkt.raw(), stream) };
}
