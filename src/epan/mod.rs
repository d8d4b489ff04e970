//! The safe layer over libwireshark. This is the only place (with `lib.rs`) where `unsafe`
//! appears: protocol modules register tables, read packet facts, add tree items and keep
//! per-conversation state through the types here, and never touch a raw pointer.

pub mod foreign;
pub mod framing;
pub mod guard;
pub mod output;
pub mod packet;
pub mod register;
pub mod stats;
pub mod tables;
pub mod tcp;
pub mod tree;
pub mod uat;

pub use framing::{
    FramedDissector, PduLen, add_framed_heuristic, create_framed_handle, create_routed_handle,
};
pub use packet::Packet;
pub use register::{BoolPref, Handle, Prefs, Protocol, UintPref};
pub use tables::{
    Display, ExpertSpec, ExpertTable, FieldId, FieldSpec, FieldTable, FieldType, ForeignFieldTable,
    FrameNumKind, Group, RawField, Severity, Strings, SubtreeTable, table_prelude,
};
pub use tcp::{SideSync, StreamStart};
pub use tree::{Enc, Item, Tree};
