//! User tables (UATs), fields registered at run time from them, init routines.
//!
//! A UAT of our own is a table of string columns (the C shim keeps the records); any UAT,
//! also another protocol's, is read back by column name as strings, so the same reader
//! serves our tables and the built-in ones whose settings users already have.

use std::ffi::{CStr, CString, c_char, c_int};

use wireshark_sys as sys;

use super::register::{Prefs, Protocol};
use super::tables::RawField;

/// One column of a UAT of ours: its name (as in the file), title and description.
pub struct Column {
    pub name: &'static CStr,
    pub title: &'static CStr,
    pub desc: &'static CStr,
}

/// What a UAT affects (`UAT_AFFECTS_*`).
pub const AFFECTS_DISSECTION: u32 = 1;
pub const AFFECTS_FIELDS: u32 = 2;

impl Prefs {
    /// A UAT of string columns, shown in the protocol's preferences. `post_update` runs
    /// when the table is loaded or changed (before display filters are compiled).
    #[allow(clippy::too_many_arguments)]
    pub fn uat(
        &self,
        pref_name: &'static CStr,
        pref_title: &'static CStr,
        uat_name: &'static CStr,
        filename: &'static CStr,
        help: &'static CStr,
        flags: u32,
        columns: &'static [Column],
        post_update: unsafe extern "C" fn(),
    ) {
        let names: &'static [*const c_char] =
            Box::leak(columns.iter().map(|c| c.name.as_ptr()).collect());
        let titles: &'static [*const c_char] =
            Box::leak(columns.iter().map(|c| c.title.as_ptr()).collect());
        let descs: &'static [*const c_char] =
            Box::leak(columns.iter().map(|c| c.desc.as_ptr()).collect());
        // SAFETY: every string is 'static, the column arrays are leaked; the shim keeps
        // them for the life of the process.
        let u = unsafe {
            sys::zkh2_uat_new(
                self.raw(),
                pref_name.as_ptr(),
                pref_title.as_ptr(),
                uat_name.as_ptr(),
                filename.as_ptr(),
                help.as_ptr(),
                flags,
                columns.len() as c_int,
                names.as_ptr(),
                titles.as_ptr(),
                descs.as_ptr(),
                Some(post_update),
            )
        };
        debug_assert!(!u.is_null(), "UAT slots are full");
    }
}

/// The valid rows of the UAT named `uat_name` (the table's title, as `uat_new` got it),
/// each as the values of `columns`, in that order. A missing column reads as "".
pub fn rows(uat_name: &CStr, columns: &[&CStr]) -> Vec<Vec<String>> {
    // SAFETY: a NUL-terminated name; the shim checks the table exists.
    let n = unsafe { sys::zkh2_uat_rows(uat_name.as_ptr()) };
    (0..n)
        .map(|row| {
            columns
                .iter()
                .map(|col| {
                    // SAFETY: as above; the returned string is g_malloc'd and freed here.
                    unsafe {
                        let p = sys::zkh2_uat_cell(uat_name.as_ptr(), row, col.as_ptr());
                        if p.is_null() {
                            return String::new();
                        }
                        let s = CStr::from_ptr(p).to_string_lossy().into_owned();
                        sys::zkh2_free(p as *mut _);
                        s
                    }
                })
                .collect()
        })
        .collect()
}

/// The type of a field registered at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DynamicKind {
    String,
    Uint64,
}

/// A field to register at run time.
pub struct DynamicField {
    pub abbrev: String,
    pub name: String,
    pub blurb: String,
    pub kind: DynamicKind,
}

/// Replaces the fields registered by the previous call with `fields` (for `proto`), and
/// returns their ids in order. Names with a NUL are skipped (id -1).
pub fn replace_dynamic_fields(proto: Protocol, fields: &[DynamicField]) -> Vec<RawField> {
    let c = |s: &str| CString::new(s).unwrap_or_default();
    let abbrevs: Vec<CString> = fields.iter().map(|f| c(&f.abbrev)).collect();
    let names: Vec<CString> = fields.iter().map(|f| c(&f.name)).collect();
    let blurbs: Vec<CString> = fields.iter().map(|f| c(&f.blurb)).collect();
    let kinds: Vec<c_int> = fields
        .iter()
        .map(|f| match f.kind {
            DynamicKind::String => 0,
            DynamicKind::Uint64 => 1,
        })
        .collect();
    let ap: Vec<*const c_char> = abbrevs.iter().map(|s| s.as_ptr()).collect();
    let np: Vec<*const c_char> = names.iter().map(|s| s.as_ptr()).collect();
    let bp: Vec<*const c_char> = blurbs.iter().map(|s| s.as_ptr()).collect();
    let mut ids = vec![-1 as c_int; fields.len()];
    // SAFETY: parallel arrays of `fields.len()` valid C strings; the shim copies them.
    unsafe {
        sys::zkh2_dynamic_fields(
            proto.id(),
            fields.len() as c_int,
            ap.as_ptr(),
            np.as_ptr(),
            bp.as_ptr(),
            kinds.as_ptr(),
            ids.as_mut_ptr(),
        )
    };
    ids.into_iter().map(RawField).collect()
}

/// Runs `f` whenever a capture is (re)dissected from the start (`register_init_routine`).
pub fn register_init(f: unsafe extern "C" fn()) {
    // SAFETY: a plain function pointer that lives forever.
    unsafe { sys::zkh2_register_init(Some(f)) }
}

/// True when `value` is in a range string like "50051,60051-60054".
pub fn in_range(ranges: &str, value: u32) -> bool {
    let Ok(r) = CString::new(ranges) else {
        return false;
    };
    // SAFETY: a NUL-terminated string; the shim parses and frees its own range.
    unsafe { sys::zkh2_value_in_range_str(r.as_ptr(), value) != 0 }
}
