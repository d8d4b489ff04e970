//! Declarative registration tables: header fields, subtrees (ett) and expert infos.
//!
//! A protocol module declares each of them once, as an enum with one spec per variant (see
//! `field_table!`, `subtree_table!` and `expert_table!`). The epan layer turns the specs
//! into the `'static` C arrays that Wireshark keeps pointers into, and stores the ids that
//! Wireshark hands back in per-table atomics, so `Hf::Xid.id()` is a plain load.

use std::ffi::CStr;
use std::sync::atomic::{AtomicI32, Ordering};

/// The value type of a header field. Maps 1:1 onto Wireshark's `ftenum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// A label or subtree anchor with no value.
    None,
    /// FT_PROTOCOL: the protocol's own top item.
    Protocol,
    Bool,
    U8,
    U16,
    U32,
    U64,
    I32,
    I64,
    /// UTF-8 string whose bytes are given (generated values).
    String,
    /// A string preceded by its 4-byte big-endian length (`FT_UINT_STRING`).
    CountedString,
    Bytes,
    /// Bytes preceded by their 4-byte big-endian length (`FT_UINT_BYTES`).
    CountedBytes,
    /// A reference to another frame; the kind drives the little icon in the GUI.
    FrameNum(FrameNumKind),
    /// A duration (FT_RELATIVE_TIME).
    RelTime,
    /// A wall-clock time (FT_ABSOLUTE_TIME).
    AbsTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameNumKind {
    None,
    Request,
    Response,
}

/// How Wireshark prints a field's value (`field_display_e`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    None,
    Dec,
    Hex,
    DecHex,
    HexDec,
    /// For absolute times: local time.
    Local,
    /// For absolute times: UTC.
    Utc,
    /// For booleans with a bitmask: the width of the parent integer in bits.
    Bits(u32),
}

/// Value names shown next to a number.
#[derive(Clone, Copy, Debug)]
pub enum Strings {
    None,
    /// `value_string`: exact values. Signed codes are stored as their two's complement
    /// `u32`, which is how Wireshark compares them for FT_INT32 fields.
    Values(&'static [(u32, &'static CStr)]),
    /// Like `Values`, for 64-bit fields (`val64_string`).
    Values64(&'static [(u64, &'static CStr)]),
    /// `true_false_string` for booleans.
    TrueFalse(&'static CStr, &'static CStr),
}

/// What a protocol's `fields.rs` writes its tables with, so that every table reads the same:
/// `f(T::U32, DEC, c"proto.len", c"Length", c"...")`. `use crate::epan::table_prelude::*;`
pub mod table_prelude {
    pub use std::ffi::CStr;

    pub use super::{Display, FieldSpec, FieldType, FieldType as T};
    pub use crate::{expert_table, field_table, subtree_table};

    /// A field: its type, base, filter name, label and description.
    pub const fn f(
        kind: FieldType,
        display: Display,
        abbrev: &'static CStr,
        name: &'static CStr,
        blurb: &'static CStr,
    ) -> FieldSpec {
        FieldSpec::new(kind, display, abbrev, name, blurb)
    }

    pub const NONE: Display = Display::None;
    pub const DEC: Display = Display::Dec;
    pub const HEX: Display = Display::Hex;
    pub const B8: Display = Display::Bits(8);
    pub const B32: Display = Display::Bits(32);
}

/// One header field, as declared by a protocol module.
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    pub name: &'static CStr,
    pub abbrev: &'static CStr,
    pub kind: FieldType,
    pub display: Display,
    pub strings: Strings,
    pub mask: u64,
    pub blurb: &'static CStr,
}

impl FieldSpec {
    pub const fn new(
        kind: FieldType,
        display: Display,
        abbrev: &'static CStr,
        name: &'static CStr,
        blurb: &'static CStr,
    ) -> Self {
        FieldSpec {
            name,
            abbrev,
            kind,
            display,
            strings: Strings::None,
            mask: 0,
            blurb,
        }
    }
    pub const fn strings(mut self, strings: Strings) -> Self {
        self.strings = strings;
        self
    }
    pub const fn mask(mut self, mask: u64) -> Self {
        self.mask = mask;
        self
    }
}

/// Severity of an expert item (`PI_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Comment,
    Chat,
    Note,
    Warn,
    Error,
}

/// Group of an expert item (`PI_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Checksum,
    Sequence,
    ResponseCode,
    RequestCode,
    Undecoded,
    Reassemble,
    Malformed,
    Debug,
    Protocol,
    Security,
    Comments,
    Decryption,
    Assumption,
    Deprecated,
}

#[derive(Clone, Copy, Debug)]
pub struct ExpertSpec {
    pub abbrev: &'static CStr,
    pub group: Group,
    pub severity: Severity,
    pub summary: &'static CStr,
}

/// Anything that names a registered header field: our own fields (`field_table!`) and
/// another protocol's fields looked up by name (`foreign_field_table!`). A negative id means
/// "not registered in this Wireshark": the tree then adds nothing.
pub trait FieldId: Copy {
    fn id(self) -> i32;
}

/// Implemented by the enums that `field_table!` declares.
pub trait FieldTable: Copy + 'static {
    const ALL: &'static [Self];
    fn spec(self) -> FieldSpec;
    fn id_cell(self) -> &'static AtomicI32;
    fn id(self) -> i32 {
        self.id_cell().load(Ordering::Relaxed)
    }
}

/// Implemented by the enums that `subtree_table!` declares.
pub trait SubtreeTable: Copy + 'static {
    const ALL: &'static [Self];
    fn id_cell(self) -> &'static AtomicI32;
    fn id(self) -> i32 {
        self.id_cell().load(Ordering::Relaxed)
    }
}

/// Implemented by the enums that `expert_table!` declares. Wireshark's `expert_field` is
/// two ints (`ei`, `hf`); the cells hold both, side by side.
pub trait ExpertTable: Copy + 'static {
    const ALL: &'static [Self];
    fn spec(self) -> ExpertSpec;
    fn cells(self) -> &'static [AtomicI32; 2];
}

/// Declares a field enum and its specs:
/// `field_table! { pub enum Hf { Len => FieldSpec::new(...), ... } }`.
#[macro_export]
macro_rules! field_table {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $spec:expr ),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name { $( $(#[$vmeta])* $variant ),* }

        impl $crate::epan::tables::FieldTable for $name {
            const ALL: &'static [Self] = &[$($name::$variant),*];
            fn spec(self) -> $crate::epan::tables::FieldSpec {
                use $crate::epan::tables::*;
                match self { $( $name::$variant => $spec ),* }
            }
            fn id_cell(self) -> &'static ::std::sync::atomic::AtomicI32 {
                static IDS: [::std::sync::atomic::AtomicI32; [$(stringify!($variant)),*].len()] =
                    [$( { let _ = stringify!($variant); ::std::sync::atomic::AtomicI32::new(-1) } ),*];
                &IDS[self as usize]
            }
        }

        impl $crate::epan::tables::FieldId for $name {
            fn id(self) -> i32 {
                <Self as $crate::epan::tables::FieldTable>::id(self)
            }
        }
    };
}

/// Implemented by the enums that `foreign_field_table!` declares: fields that another
/// protocol registered (the built-in `http2`, `grpc`), found by their filter name once the
/// registration is done (`epan::foreign::resolve_fields`).
pub trait ForeignFieldTable: Copy + 'static {
    const ALL: &'static [Self];
    fn abbrev(self) -> &'static CStr;
    fn id_cell(self) -> &'static AtomicI32;
}

/// Declares an enum of another protocol's fields by filter name:
/// `foreign_field_table! { pub enum Http2 { StreamId => c"http2.streamid", ... } }`.
/// A field that this Wireshark version does not register keeps the id -1, and the tree
/// skips it, so one table serves every version.
#[macro_export]
macro_rules! foreign_field_table {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $abbrev:expr ),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name { $( $(#[$vmeta])* $variant ),* }

        impl $crate::epan::tables::ForeignFieldTable for $name {
            const ALL: &'static [Self] = &[$($name::$variant),*];
            fn abbrev(self) -> &'static ::std::ffi::CStr {
                match self { $( $name::$variant => $abbrev ),* }
            }
            fn id_cell(self) -> &'static ::std::sync::atomic::AtomicI32 {
                static IDS: [::std::sync::atomic::AtomicI32; [$(stringify!($variant)),*].len()] =
                    [$( { let _ = stringify!($variant); ::std::sync::atomic::AtomicI32::new(-1) } ),*];
                &IDS[self as usize]
            }
        }

        impl $crate::epan::tables::FieldId for $name {
            fn id(self) -> i32 {
                <Self as $crate::epan::tables::ForeignFieldTable>::id_cell(self)
                    .load(::std::sync::atomic::Ordering::Relaxed)
            }
        }
    };
}

/// A field id found at run time (a user-defined header field, say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawField(pub i32);

impl FieldId for RawField {
    fn id(self) -> i32 {
        self.0
    }
}

/// Declares a subtree (ett) enum: `subtree_table! { pub enum Ett { Pdu, Header } }`.
#[macro_export]
macro_rules! subtree_table {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $( $variant:ident ),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name { $( $variant ),* }

        impl $crate::epan::tables::SubtreeTable for $name {
            const ALL: &'static [Self] = &[$($name::$variant),*];
            fn id_cell(self) -> &'static ::std::sync::atomic::AtomicI32 {
                static IDS: [::std::sync::atomic::AtomicI32; [$(stringify!($variant)),*].len()] =
                    [$( { let _ = stringify!($variant); ::std::sync::atomic::AtomicI32::new(-1) } ),*];
                &IDS[self as usize]
            }
        }
    };
}

/// Declares an expert-info enum: `expert_table! { pub enum Ei { Malformed => ExpertSpec {..} } }`.
#[macro_export]
macro_rules! expert_table {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $spec:expr ),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name { $( $(#[$vmeta])* $variant ),* }

        impl $crate::epan::tables::ExpertTable for $name {
            const ALL: &'static [Self] = &[$($name::$variant),*];
            fn spec(self) -> $crate::epan::tables::ExpertSpec {
                use $crate::epan::tables::*;
                match self { $( $name::$variant => $spec ),* }
            }
            fn cells(self) -> &'static [::std::sync::atomic::AtomicI32; 2] {
                static IDS: [[::std::sync::atomic::AtomicI32; 2]; [$(stringify!($variant)),*].len()] =
                    [$( { let _ = stringify!($variant); [::std::sync::atomic::AtomicI32::new(-1), ::std::sync::atomic::AtomicI32::new(-1)] } ),*];
                &IDS[self as usize]
            }
        }
    };
}
