//! The protocol tree: adding items at validated offsets.
//!
//! Every method checks `offset + len` against the bytes that were captured before it calls
//! into epan, because an out-of-range `proto_tree_add_*` throws (longjmp), and that must
//! never unwind through Rust frames. A null tree (tshark without -V, or a first pass) is
//! valid: epan then returns quickly, and the `Item`s are null and ignore what is done to them.

use crate::common::At;
use std::ffi::{CStr, CString, c_int, c_void};
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};

use wireshark_sys as sys;

use super::output;
use super::packet::Packet;
use super::tables::{ExpertTable, FieldId, FieldTable, SubtreeTable};

/// Frames after which the primed fields are looked up again even in a sequential pass.
const PRIMED_RECHECK_FRAMES: u32 = 4096;

/// The largest step forward between two frames of one pass that keeps the cached answer:
/// frames that carry none of the protocol's PDUs (bare ACKs, other connections) lie between
/// two that do. A step back, or a longer one, is taken for a new pass.
const PRIMED_MAX_STEP: u32 = 64;

/// What `Tree::items_wanted` last found, for up to four protocols: [protocol id (or
/// `NO_PROTOCOL`), the frame it was asked at, the frame it was looked up at, flags
/// (`WANTED_*`)]. Asked for every PDU, so kept in plain atomics rather than a thread-local
/// (whose access from a shared library is a call): Wireshark dissects on one thread, and
/// a torn read could only give an answer of the same pass.
static WANTED: [[AtomicU32; 4]; 4] = [const {
    [
        AtomicU32::new(NO_PROTOCOL),
        AtomicU32::new(0),
        AtomicU32::new(0),
        AtomicU32::new(0),
    ]
}; 4];
const NO_PROTOCOL: u32 = u32::MAX;
const WANTED_VISITED: u32 = 1;
const WANTED_PRIMED: u32 = 2;
const WANTED_EXPERTS: u32 = 4;

/// Byte order and string encoding for `Tree::add`.
#[derive(Clone, Copy, Debug)]
pub enum Enc {
    BigEndian,
    /// No byte order: byte strings, booleans of one byte.
    Na,
    Utf8,
    /// ASCII text: octets above 0x7f show as U+FFFD.
    Ascii,
}

impl Enc {
    fn raw(self) -> u32 {
        match self {
            Enc::BigEndian => sys::ENC_BIG_ENDIAN,
            Enc::Na => sys::ENC_NA,
            Enc::Utf8 => sys::ENC_UTF_8 | sys::ENC_NA,
            Enc::Ascii => sys::ENC_ASCII | sys::ENC_NA,
        }
    }
}

/// Values whose span is exactly their encoding (a number or a flag), for `Tree::add_at`.
pub trait Scalar {}
impl Scalar for bool {}
impl Scalar for u8 {}
impl Scalar for u16 {}
impl Scalar for u32 {}
impl Scalar for u64 {}
impl Scalar for i8 {}
impl Scalar for i16 {}
impl Scalar for i32 {}
impl Scalar for i64 {}

/// A subtree of the protocol tree, tied to the tvb whose bytes its items point into.
#[derive(Clone, Copy)]
pub struct Tree<'a> {
    raw: *mut sys::proto_tree,
    tvb: *mut sys::tvbuff_t,
    len: usize,
    /// Items may be left out here (`fakes`): the tree is not visible, or visible only for
    /// `tshark -T fields`. Fixed for a dissection, so read once and passed down.
    fakeable: bool,
    _life: PhantomData<&'a ()>,
}

/// An item of the tree (possibly null).
///
/// A *faked* item is one that epan would not build (see `Tree::fakes`): like epan's own
/// fake, it stands for the tree it would have been added to, so that items added under it
/// land there, and what would change the item itself (its text, its flags) does nothing.
#[derive(Clone, Copy)]
pub struct Item<'a> {
    raw: *mut sys::proto_item,
    tvb: *mut sys::tvbuff_t,
    len: usize,
    faked: bool,
    /// The `fakeable` of the tree it was added to, for its subtree.
    fakeable: bool,
    _life: PhantomData<&'a ()>,
}

/// `add_u32` and its kin: `name: type => epan function` adds a number of that type.
macro_rules! typed_adders {
    ($($name:ident: $ty:ty => $add:ident),* $(,)?) => {$(
        pub fn $name<F: FieldId>(&self, field: F, offset: usize, len: usize, value: $ty) -> Item<'a> {
            // SAFETY: add_checked passes our tree and tvb, a registered field and a checked
            // span.
            self.add_checked(field, offset, len, |t, hf, tvb, off, l| unsafe {
                sys::$add(t, hf, tvb, off, l, value)
            })
        }
    )*};
}

impl<'a> Tree<'a> {
    /// # Safety
    /// `raw` must be null or a valid tree and `tvb` valid with `len` captured bytes, both for `'a`.
    pub(crate) unsafe fn from_raw(
        raw: *mut sys::proto_tree,
        tvb: *mut sys::tvbuff_t,
        len: usize,
    ) -> Self {
        // SAFETY: null or a valid tree (the caller's contract).
        let visible = unsafe { sys::zkh2_tree_is_visible(raw) != 0 };
        Tree {
            raw,
            tvb,
            len,
            fakeable: !raw.is_null() && (!visible || output::fields_only().is_some()),
            _life: PhantomData,
        }
    }

    /// True when epan is building a tree for this packet. Use it to skip formatting work.
    pub fn is_visible(&self) -> bool {
        !self.raw.is_null()
    }

    pub(crate) fn tvb_raw(&self) -> *mut sys::tvbuff_t {
        self.tvb
    }

    /// The number of bytes this tree's items may point into.
    pub fn data_len(&self) -> usize {
        self.len
    }

    /// epan's `proto_field_is_referenced` for this tree (false without a tree).
    /// Whether a filter, column, colouring rule or `-e` names the field or one of its
    /// children, whether or not the tree is visible.
    pub fn is_primed<F: FieldId>(&self, field: F) -> bool {
        // SAFETY: reads the registered field's ref_type only.
        !self.raw.is_null()
            && (unsafe { sys::zkh2_field_is_primed(field.id()) } != 0
                || output::fields_only().is_some_and(|p| p.names(field.id())))
    }

    /// Whether anything can read the items of the protocol whose fields are `F`, other than
    /// a match on the protocol item itself (`-Y h2`, a protocol hierarchy): the tree is
    /// shown or printed, one of the protocol's fields is named by a filter, column, colouring
    /// rule or `-e` (its expert infos' fields included), or expert infos are collected (also without a tree: an expert info then
    /// still reaches the expert tap). When false, every item but the
    /// protocol's own would be faked by epan, so a dissector may skip building them and
    /// keep only what has effects beyond the tree (the protocol item, hand-offs to other
    /// dissectors, taps, columns where they are filled).
    ///
    /// The fields are looked up once in a while, not per PDU (see `wanted`).
    pub fn items_wanted<F: FieldTable, E: ExpertTable>(
        &self,
        pkt: &Packet<'_>,
        protocol: F,
    ) -> bool {
        if self.is_shown() {
            return true;
        }
        // Without a tree nothing reads items, but an expert info still reaches the expert
        // tap (`tshark -q -z expert`).
        let (experts, primed) = Self::wanted::<F, E>(pkt, protocol);
        experts || !self.raw.is_null() && primed
    }

    /// Whether expert infos are collected (an `expert` tap listener, `_ws.expert` named by a
    /// filter or `-e`), and whether a field of `F` other than `protocol`, or the field of one
    /// of its expert infos `E`, is primed. Looking through every field costs a few thousand
    /// instructions (ZooKeeper has hundreds), so the answer is kept while frames follow one
    /// another in one pass: what a filter, column, colouring rule or `-e` references, and
    /// which taps listen, only change between passes (tshark) or with a new scan of the
    /// file from its first frame (the GUI, also when a dialog adds a tap), and it is looked
    /// up again every `PRIMED_RECHECK_FRAMES` frames all the same.
    fn wanted<F: FieldTable, E: ExpertTable>(pkt: &Packet<'_>, protocol: F) -> (bool, bool) {
        let (proto, frame, visited) = (protocol.id() as u32, pkt.frame(), pkt.visited());
        let visited_flag = if visited { WANTED_VISITED } else { 0 };
        let slot = WANTED
            .iter()
            .find(|s| s[0].load(Ordering::Relaxed) == proto)
            .or_else(|| {
                WANTED
                    .iter()
                    .find(|s| s[0].load(Ordering::Relaxed) == NO_PROTOCOL)
            })
            .unwrap_or(&WANTED[0]);
        let flags = slot[3].load(Ordering::Relaxed);
        let looked_up_at = slot[2].load(Ordering::Relaxed);
        let sequential = slot[0].load(Ordering::Relaxed) == proto
            && flags & WANTED_VISITED == visited_flag
            && frame.wrapping_sub(slot[1].load(Ordering::Relaxed)) <= PRIMED_MAX_STEP
            && frame.wrapping_sub(looked_up_at) < PRIMED_RECHECK_FRAMES;
        let flags = if sequential {
            flags
        } else {
            let printed = output::fields_only();
            // SAFETY: reads tap state and one registration.
            let experts =
                unsafe { sys::zkh2_experts_wanted() } != 0 || printed.is_some_and(|p| p.experts);
            // An expert info's own field (a filter on `zookeeper.connect.short_length`)
            // counts too: epan registers it under the protocol on 4.4, under
            // `_ws.expert` on 4.0.
            let ids: Vec<c_int> = F::ALL
                .iter()
                .map(|f| f.id())
                .chain(E::ALL.iter().map(|e| e.cells()[1].load(Ordering::Relaxed)))
                .collect();
            let len = c_int::try_from(ids.len()).unwrap_or(c_int::MAX);
            // SAFETY: `ids` is readable for `len` ints; only registrations are read.
            let primed = unsafe { sys::zkh2_any_field_primed(ids.as_ptr(), len, proto as c_int) }
                != 0
                || printed.is_some_and(|p| p.names_any(&ids));
            slot[0].store(proto, Ordering::Relaxed);
            slot[2].store(frame, Ordering::Relaxed);
            visited_flag
                | if experts { WANTED_EXPERTS } else { 0 }
                | if primed { WANTED_PRIMED } else { 0 }
        };
        slot[1].store(frame, Ordering::Relaxed);
        slot[3].store(flags, Ordering::Relaxed);
        (flags & WANTED_EXPERTS != 0, flags & WANTED_PRIMED != 0)
    }

    /// Whether the tree is built to be shown or printed (else only for a filter or a tap).
    /// `tshark -T fields` builds a visible tree to print only the fields it names: its
    /// labels are printed only for a named protocol or text field (`-e h2`), so that the
    /// tree counts as shown only then (`output::fields_only`).
    pub fn is_shown(&self) -> bool {
        self.is_printed() && output::fields_only().is_none_or(|p| p.labelled)
    }

    /// Whether epan builds the tree visible: to be shown, or printed in any form
    /// (`tshark -T fields` included, whose labels `is_shown` leaves out).
    pub fn is_printed(&self) -> bool {
        // SAFETY: null or a valid tree.
        unsafe { sys::zkh2_tree_is_visible(self.raw) != 0 }
    }

    /// Whether protocol items are kept even when nothing references them (the protocol
    /// hierarchy statistics count them).
    pub fn keeps_protocols(&self) -> bool {
        // SAFETY: null or a valid tree.
        unsafe { sys::zkh2_tree_keeps_protocols(self.raw) != 0 }
    }

    pub(crate) fn is_referenced_raw(&self, hf: c_int) -> bool {
        if self.raw.is_null() {
            return false;
        }
        // SAFETY: a valid tree and a registered id (callers check id >= 0).
        unsafe { proto_field_is_referenced(self.raw, hf) != 0 }
    }

    /// A byte field whose value is `data` (of any length), shown over `len` bytes at
    /// `offset`: for values that are not in this tree's bytes (a reassembled body).
    pub fn add_bytes_value<F: FieldId>(
        &self,
        field: F,
        offset: usize,
        len: usize,
        data: &[u8],
    ) -> Item<'a> {
        let Ok(dlen) = c_int::try_from(data.len()) else {
            return Item::null();
        };
        // SAFETY: add_checked passes our tree and tvb, a registered field and a checked
        // span; epan copies `data`, which lives across the call.
        self.add_checked(field, offset, len, |t, hf, tvb, off, l| unsafe {
            sys::zkh2_tree_add_bytes_value(t, hf, tvb, off, l, data.as_ptr(), dlen)
        })
    }

    /// An unsigned (or frame number) field with its whole label given.
    pub fn add_u32_text<F: FieldId>(
        &self,
        field: F,
        offset: usize,
        len: usize,
        value: u32,
        text: &str,
    ) -> Item<'a> {
        self.add_checked(field, offset, len, |t, hf, tvb, off, l| {
            // SAFETY: add_checked passes our tree and tvb, a registered field and a checked
            // span; the label is copied by epan.
            with_c_str(text, |c| unsafe {
                sys::zkh2_tree_add_uint_text(t, hf, tvb, off, l, value, c)
            })
        })
    }

    fn item(&self, raw: *mut sys::proto_item) -> Item<'a> {
        Item {
            raw,
            tvb: self.tvb,
            len: self.len,
            faked: false,
            fakeable: self.fakeable,
            _life: PhantomData,
        }
    }

    /// The item to use instead of adding one that nothing reads, as `items_wanted` told
    /// for the protocol's fields: what epan's fake would return, without asking epan.
    pub fn unread_item(&self) -> Item<'a> {
        self.faked_item()
    }

    /// What epan returns for an item it fakes: this tree itself, standing in for the item.
    fn faked_item(&self) -> Item<'a> {
        Item {
            raw: self.raw,
            tvb: self.tvb,
            len: self.len,
            faked: true,
            fakeable: self.fakeable,
            _life: PhantomData,
        }
    }

    /// True when nothing can read an item of field `hf` added to this tree, so that epan
    /// would fake it if this tree were not the packet's root: the tree is built but not
    /// shown or printed, and no filter, column, colouring rule, tap or `-e` names the field.
    ///
    /// epan never fakes at the root, and a protocol's items land at the root whenever its
    /// own protocol item was faked: `tshark -T fields -e h2.path` references `h2` only
    /// through `h2.path`, so the `h2` item is faked and every item of ours would otherwise
    /// be built for real, to be walked by the field printer and freed unread (the built-in
    /// dissectors pay that too). Asking first, the adders below build only the items that
    /// something reads, at any depth, and skip the work of the others (labels, values, the
    /// call into epan). An item that is built anyway (a field that is referenced) goes
    /// under the tree that a faked parent stands for, as under epan's own fakes.
    ///
    /// A tshark that prints `-T fields` builds a visible tree but reads only the fields it
    /// names (`output::fields_only`): there the other items are left out as well.
    fn fakes(&self, hf: c_int) -> bool {
        if !self.fakeable {
            return false;
        }
        let printed = output::fields_only();
        if printed.is_some_and(|p| p.names(hf)) {
            return false;
        }
        // SAFETY: a valid tree; the shim reads the tree's flags and the field's
        // registration only.
        unsafe { sys::zkh2_tree_fakes(self.raw, hf, c_int::from(printed.is_some())) != 0 }
    }

    /// Clamps a span to the captured bytes. Offsets come from our own parsers, which only
    /// produce spans inside the buffer they were given; clamping is the belt to those braces.
    fn span(&self, offset: usize, len: usize) -> Option<(c_int, c_int)> {
        if offset > self.len {
            return None;
        }
        let len = len.min(self.len - offset);
        Some((c_int::try_from(offset).ok()?, c_int::try_from(len).ok()?))
    }

    /// The field id and span of an item, or the item to return instead: null when the
    /// field is not registered in this Wireshark (a foreign field's id is -1 then) or the
    /// span lies outside the bytes, the stand-in of `fakes` when nothing can read it.
    fn target<F: FieldId>(
        &self,
        field: F,
        offset: usize,
        len: usize,
    ) -> Result<(c_int, c_int, c_int), Item<'a>> {
        let hf = field.id();
        if hf < 0 {
            return Err(Item::null());
        }
        let (off, l) = self.span(offset, len).ok_or_else(Item::null)?;
        if self.fakes(hf) {
            return Err(self.faked_item());
        }
        Ok((hf, off, l))
    }

    /// An item of `field` over the span, added by `add` (an epan `proto_tree_add_*`, given
    /// this tree, the field id, this tvb and the checked span); instead, null when the field
    /// is not registered or the span lies outside the data, and the stand-in of `fakes`
    /// when nothing can read the item (`add` is not called then).
    fn add_checked<F: FieldId>(
        &self,
        field: F,
        offset: usize,
        len: usize,
        add: impl FnOnce(
            *mut sys::proto_tree,
            c_int,
            *mut sys::tvbuff_t,
            c_int,
            c_int,
        ) -> *mut sys::proto_item,
    ) -> Item<'a> {
        let (hf, off, l) = match self.target(field, offset, len) {
            Ok(target) => target,
            Err(instead) => return instead,
        };
        self.item(add(self.raw, hf, self.tvb, off, l))
    }

    /// `proto_tree_add_item`: the value is read from the packet bytes by epan.
    pub fn add<F: FieldId>(&self, field: F, offset: usize, len: usize, enc: Enc) -> Item<'a> {
        let (hf, off, l) = match self.target(field, offset, len) {
            Ok(target) => target,
            Err(instead) => return instead,
        };
        if l == 0 && len > 0 {
            // None of the field's bytes were captured: epan would read an integer of length 0,
            // and throw (a longjmp through our frames).
            return Item::null();
        }
        // SAFETY: span checked against the captured length of this tvb.
        self.item(unsafe { sys::proto_tree_add_item(self.raw, hf, self.tvb, off, l, enc.raw()) })
    }

    /// A big-endian number or flag at the span the parser found for it: the width is the
    /// value's own. (Not for counted strings and vectors, whose span covers their data too.)
    pub fn add_at<F: FieldId, T: Scalar>(&self, field: F, value: &At<T>) -> Item<'a> {
        self.add(field, value.off, value.len, Enc::BigEndian)
    }

    /// A counted string or byte string (`FT_UINT_STRING`/`FT_UINT_BYTES`) whose 4-byte length
    /// prefix starts at `offset` and whose data takes `total_len - 4` more bytes. epan reads
    /// the prefix itself, so the whole span is checked here first.
    pub fn add_counted<F: FieldTable>(
        &self,
        field: F,
        offset: usize,
        total_len: usize,
        utf8: bool,
    ) -> Item<'a> {
        if total_len < 4
            || offset
                .checked_add(total_len)
                .is_none_or(|end| end > self.len)
        {
            return Item::null();
        }
        // epan reads the count from the bytes, not from us: it must say what the parser
        // found (a -1 "null" count, say, would make epan read 4 GiB, and throw through our
        // frames; finding F5).
        let mut prefix = [0u8; 4];
        // SAFETY: the four bytes at `offset` lie within the captured bytes (checked above);
        // tvb_memcpy copies exactly them into `prefix`.
        unsafe {
            sys::tvb_memcpy(
                self.tvb,
                prefix.as_mut_ptr() as *mut c_void,
                offset as c_int,
                4,
            )
        };
        if u32::from_be_bytes(prefix) as usize != total_len - 4 {
            return Item::null();
        }
        if self.fakes(field.id()) {
            return self.faked_item();
        }
        let enc = if utf8 {
            sys::ENC_BIG_ENDIAN | sys::ENC_UTF_8
        } else {
            sys::ENC_BIG_ENDIAN
        };
        // SAFETY: prefix and data both lie within the captured bytes.
        let item = self.item(unsafe {
            sys::proto_tree_add_item(self.raw, field.id(), self.tvb, offset as c_int, 4, enc)
        });
        if !utf8 && total_len == 4 && !item.is_null() {
            // epan labels an empty byte string "<MISSING>", as if bytes had been lost.
            item.set_text(&format!(
                "{}: empty (length 0)",
                field.spec().name.to_string_lossy()
            ));
        }
        item
    }

    /// The protocol's top item covering `len` bytes, with its subtree.
    pub fn add_protocol<F: FieldId, T: SubtreeTable>(
        &self,
        field: F,
        offset: usize,
        len: usize,
        ett: T,
    ) -> (Item<'a>, Tree<'a>) {
        let item = self.add(field, offset, len, Enc::Na);
        (item, item.subtree(ett))
    }

    /// A text-only item with a subtree (an `FT_NONE` field with a custom label).
    pub fn add_group<F: FieldId, T: SubtreeTable>(
        &self,
        field: F,
        offset: usize,
        len: usize,
        ett: T,
        label: &str,
    ) -> (Item<'a>, Tree<'a>) {
        let item = self.add(field, offset, len, Enc::Na);
        if !item.raw.is_null() {
            item.set_text(label);
        }
        (item, item.subtree(ett))
    }

    typed_adders! {
        add_u32: u32 => proto_tree_add_uint,
        add_i32: i32 => proto_tree_add_int,
        add_u64: u64 => proto_tree_add_uint64,
        add_i64: i64 => proto_tree_add_int64,
    }

    pub fn add_bool<F: FieldId>(
        &self,
        field: F,
        offset: usize,
        len: usize,
        value: bool,
    ) -> Item<'a> {
        // SAFETY: add_checked passes our tree and tvb, a registered field and a checked span.
        // The value parameter is guint32 in 4.0 and uint64_t in 4.4+.
        self.add_checked(field, offset, len, |t, hf, tvb, off, l| unsafe {
            sys::proto_tree_add_boolean(t, hf, tvb, off, l, (value as u8).into())
        })
    }

    /// A string value given by the caller (for generated fields; packet strings use `add`).
    pub fn add_string<F: FieldId>(
        &self,
        field: F,
        offset: usize,
        len: usize,
        value: &str,
    ) -> Item<'a> {
        self.add_string_joined(field, offset, len, &[value])
    }

    /// A string field whose value is `parts` joined (built in place, without a `String`).
    pub fn add_string_joined<F: FieldId>(
        &self,
        field: F,
        offset: usize,
        len: usize,
        parts: &[&str],
    ) -> Item<'a> {
        if self.raw.is_null() {
            return Item::null();
        }
        self.add_checked(field, offset, len, |t, hf, tvb, off, l| {
            // SAFETY: add_checked passes our tree and tvb, a registered field and a checked
            // span; epan copies the string, which lives across the call.
            let add = |ptr| unsafe { sys::proto_tree_add_string(t, hf, tvb, off, l, ptr) };
            C_STR.with(|cell| match cell.try_borrow_mut() {
                Ok(mut buf) if parts.iter().all(|p| !p.as_bytes().contains(&0)) => {
                    buf.clear();
                    for p in parts {
                        buf.extend_from_slice(p.as_bytes());
                    }
                    buf.push(0);
                    add(buf.as_ptr().cast())
                }
                _ => with_c_str(&parts.concat(), add),
            })
        })
    }

    /// A duration, for FT_RELATIVE_TIME fields.
    pub fn add_duration<F: FieldId>(
        &self,
        field: F,
        offset: usize,
        len: usize,
        nanos: i64,
    ) -> Item<'a> {
        let ts = sys::nstime_t {
            secs: nanos.div_euclid(1_000_000_000) as _,
            nsecs: nanos.rem_euclid(1_000_000_000) as _,
        };
        // SAFETY: add_checked passes our tree and tvb, a registered field and a checked
        // span; epan copies the time.
        self.add_checked(field, offset, len, |t, hf, tvb, off, l| unsafe {
            sys::proto_tree_add_time(t, hf, tvb, off, l, &ts)
        })
    }

    /// An absolute time given in milliseconds since the Unix epoch (FT_ABSOLUTE_TIME).
    pub fn add_time_ms<F: FieldId>(
        &self,
        field: F,
        offset: usize,
        len: usize,
        millis: i64,
    ) -> Item<'a> {
        self.add_duration(field, offset, len, millis.saturating_mul(1_000_000))
    }

    /// An expert item with no field of its own, covering the given bytes.
    pub fn add_expert<E: ExpertTable>(
        &self,
        pkt: &Packet<'_>,
        ei: E,
        offset: usize,
        len: usize,
        text: &str,
    ) -> Item<'a> {
        let (off, l) = self.span(offset, len).unwrap_or((0, 0));
        let c = to_cstring(text);
        // SAFETY: span checked; the expert_field cells are 'static; "%s" with a C string.
        self.item(unsafe {
            sys::proto_tree_add_expert_format(
                self.raw,
                pkt.raw(),
                ei.cells().as_ptr() as *mut sys::expert_field,
                self.tvb,
                off,
                l,
                c"%s".as_ptr(),
                c.as_ptr(),
            )
        })
    }
}

impl<'a> Tree<'a> {
    /// A new data source (a tab under the packet bytes) holding a copy of `bytes`, and a
    /// tree whose items point into it: for reassembled or decoded data. `name` is shown as
    /// the tab's title.
    pub fn with_data_source(
        &self,
        pkt: &Packet<'_>,
        bytes: &[u8],
        name: &'static CStr,
    ) -> Tree<'a> {
        let Ok(len) = u32::try_from(bytes.len()) else {
            return *self;
        };
        if len > i32::MAX as u32 {
            return *self;
        }
        // SAFETY: the shim copies the bytes into the packet pool before creating the tvb;
        // the name is static.
        let tvb = unsafe {
            sys::zkh2_new_data_source(self.tvb, pkt.raw(), bytes.as_ptr(), len, name.as_ptr())
        };
        if tvb.is_null() {
            return *self;
        }
        Tree {
            raw: self.raw,
            tvb,
            len: bytes.len(),
            fakeable: self.fakeable,
            _life: PhantomData,
        }
    }

    /// A tree with the same parent item whose items point into `other`'s bytes (for items
    /// about decoded data, listed under the item they belong to).
    pub fn with_bytes_of(&self, other: &Tree<'a>) -> Tree<'a> {
        Tree {
            raw: self.raw,
            tvb: other.tvb,
            len: other.len,
            fakeable: self.fakeable,
            _life: PhantomData,
        }
    }

    /// A tree whose data is `len` bytes at `offset` of this one's (a subset tvb): what a
    /// sub-dissector is handed.
    pub fn subset(&self, offset: usize, len: usize) -> Tree<'a> {
        let Some((off, l)) = self.span(offset, len) else {
            return Tree {
                raw: self.raw,
                tvb: self.tvb,
                len: 0,
                fakeable: self.fakeable,
                _life: PhantomData,
            };
        };
        // SAFETY: the span lies within the captured bytes, so no exception is thrown.
        let tvb = unsafe { sys::tvb_new_subset_length(self.tvb, off, l) };
        Tree {
            raw: self.raw,
            tvb,
            len: l as usize,
            fakeable: self.fakeable,
            _life: PhantomData,
        }
    }

    /// A text-only item (no field) with a subtree.
    pub fn add_text<T: SubtreeTable>(
        &self,
        offset: usize,
        len: usize,
        text: &str,
        ett: T,
    ) -> (Item<'a>, Tree<'a>) {
        // A text item has no field that anything could reference: in a tree that is not
        // shown, epan fakes it (see `fakes`).
        if !self.raw.is_null() && !self.is_shown() {
            return (self.faked_item(), *self);
        }
        let (off, l) = self.span(offset, len).unwrap_or((0, 0));
        let c = to_cstring(text);
        let mut item: *mut sys::proto_item = ptr::null_mut();
        // SAFETY: span checked; epan copies the text.
        let sub = unsafe {
            sys::proto_tree_add_subtree(self.raw, self.tvb, off, l, ett.id(), &mut item, c.as_ptr())
        };
        (
            self.item(item),
            Tree {
                raw: sub,
                tvb: self.tvb,
                len: self.len,
                fakeable: self.fakeable,
                _life: PhantomData,
            },
        )
    }

    /// Calls the dissector registered as `name` on this tree's data.
    pub fn call_dissector(&self, pkt: &Packet<'_>, name: &CStr) -> bool {
        // SAFETY: valid tvb, pinfo and (possibly null) tree; exceptions are caught in C.
        unsafe { sys::zkh2_call_named_dissector(name.as_ptr(), self.tvb, pkt.raw(), self.raw) != 0 }
    }

    /// Hands this tree's data to the string-keyed table `table` under `key`, with `data` (a
    /// string) as the dissector's data. True when a dissector took it.
    pub fn call_string_table(
        &self,
        pkt: &Packet<'_>,
        table: &CStr,
        key: &CStr,
        data: &CStr,
    ) -> bool {
        // SAFETY: valid tvb, pinfo and (possibly null) tree; the strings live across the
        // call; exceptions are caught in C.
        unsafe {
            sys::zkh2_call_string_table(
                table.as_ptr(),
                key.as_ptr(),
                self.tvb,
                pkt.raw(),
                self.raw,
                data.as_ptr() as *mut c_void,
            ) != 0
        }
    }

    /// Hands this tree's whole tvb to the `media_type` table under `media_type` (for
    /// example "application/json"), with the content-type parameters. True when a
    /// dissector took it. Exceptions in that dissector are caught in C.
    pub fn call_media_type(
        &self,
        pkt: &Packet<'_>,
        media_type: &str,
        parameters: Option<&str>,
    ) -> bool {
        let mt = to_cstring(media_type);
        let params = parameters.map(to_cstring);
        // SAFETY: valid tvb, pinfo and (possibly null) tree; strings live across the call.
        unsafe {
            sys::zkh2_call_media_type(
                mt.as_ptr(),
                params.as_ref().map_or(ptr::null(), |p| p.as_ptr()),
                self.tvb,
                pkt.raw(),
                self.raw,
            ) != 0
        }
    }
}

thread_local! {
    /// The buffer `with_c_str` builds its C strings in (epan copies every string it is
    /// given, so one buffer serves every call; labels and values are made per item, and an
    /// allocation each was a measurable part of a full tree).
    static C_STR: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Calls `f` with `s` as a NUL-terminated C string (NUL bytes spelled `\0`), built in a
/// reused buffer. A nested call (from inside `f`) falls back to an allocation of its own.
pub(crate) fn with_c_str<R>(s: &str, f: impl FnOnce(*const std::ffi::c_char) -> R) -> R {
    C_STR.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) if !s.as_bytes().contains(&0) => {
            buf.clear();
            buf.extend_from_slice(s.as_bytes());
            buf.push(0);
            f(buf.as_ptr().cast())
        }
        _ => {
            let c = to_cstring(s);
            f(c.as_ptr())
        }
    })
}

/// `s` as a C string, with NUL bytes spelled `\0`. One allocation when there is no NUL.
pub(crate) fn to_cstring(s: &str) -> CString {
    let bytes = if s.as_bytes().contains(&0) {
        s.replace('\0', "\\0").into_bytes()
    } else {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v
    };
    CString::new(bytes).unwrap_or_default()
}

unsafe extern "C" {
    /// epan's `proto_field_is_referenced` (proto.h). It returns `gboolean` (int) in
    /// Wireshark 4.0 and `bool` from 4.2 on; both come back with 0 or 1 in the lowest byte
    /// of the return register, which is all that is read here.
    fn proto_field_is_referenced(tree: *mut sys::proto_tree, proto_id: c_int) -> u8;
}

impl<'a> Item<'a> {
    pub fn null() -> Self {
        Item {
            raw: ptr::null_mut(),
            tvb: ptr::null_mut(),
            len: 0,
            faked: false,
            fakeable: false,
            _life: PhantomData,
        }
    }

    /// Null, or faked: there is no item of its own to change.
    fn is_absent(&self) -> bool {
        self.raw.is_null() || self.faked
    }

    pub fn is_null(&self) -> bool {
        self.raw.is_null()
    }

    pub(crate) fn raw_item(&self) -> *mut sys::proto_item {
        self.raw
    }

    /// Marks the item as generated (shown in brackets: not in the packet bytes).
    pub fn generated(self) -> Self {
        if !self.is_absent() {
            // SAFETY: a valid item.
            unsafe { sys::zkh2_item_set_generated(self.raw) };
        }
        self
    }

    /// Hidden items can be filtered on but are not shown.
    pub fn hidden(self) -> Self {
        if !self.is_absent() {
            // SAFETY: a valid item.
            unsafe { sys::zkh2_item_set_hidden(self.raw) };
        }
        self
    }

    pub fn subtree<T: SubtreeTable>(&self, ett: T) -> Tree<'a> {
        // A faked item's children go where it would have gone.
        let raw = if self.faked {
            self.raw
        } else {
            // SAFETY: proto_item_add_subtree accepts a null item and returns null.
            unsafe { sys::proto_item_add_subtree(self.raw, ett.id()) }
        };
        Tree {
            raw,
            tvb: self.tvb,
            len: self.len,
            fakeable: self.fakeable,
            _life: PhantomData,
        }
    }

    pub fn append_text(&self, text: &str) {
        if self.is_absent() {
            return;
        }
        // SAFETY: valid item; "%s" with a C string.
        with_c_str(text, |c| unsafe {
            sys::proto_item_append_text(self.raw, c"%s".as_ptr(), c)
        });
    }

    pub fn set_text(&self, text: &str) {
        if self.is_absent() {
            return;
        }
        // SAFETY: valid item; "%s" with a C string.
        with_c_str(text, |c| unsafe {
            sys::proto_item_set_text(self.raw, c"%s".as_ptr(), c)
        });
    }

    pub fn set_len(&self, len: usize) {
        if self.is_absent() {
            return;
        }
        // SAFETY: valid item; proto_item_set_len clamps to the tvb.
        unsafe { sys::proto_item_set_len(self.raw, c_int::try_from(len).unwrap_or(c_int::MAX)) };
    }

    /// Attaches an expert info to this item (and to the packet, also when there is no tree).
    pub fn expert<E: ExpertTable>(&self, pkt: &Packet<'_>, ei: E, text: &str) {
        let c = to_cstring(text);
        // SAFETY: pinfo valid for the callback; item may be null; "%s" with a C string.
        unsafe {
            sys::expert_add_info_format(
                pkt.raw(),
                self.raw,
                ei.cells().as_ptr() as *mut sys::expert_field,
                c"%s".as_ptr(),
                c.as_ptr(),
            )
        };
    }
}
