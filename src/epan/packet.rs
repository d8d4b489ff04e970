//! The packet being dissected: frame facts, columns, and the Rust state that Wireshark
//! keeps for us per conversation.

use crate::common::Nanos;
use std::any::{Any, TypeId};
use std::cell::{RefCell, RefMut};
use std::ffi::c_void;
use std::marker::PhantomData;

use wireshark_sys as sys;

use super::register::Protocol;
use super::tcp::StreamCtx;

/// The `packet_info` of the current dissection.
pub struct Packet<'a> {
    raw: *mut sys::packet_info,
    /// Set in the framing callback: where the PDU lies in what TCP handed over.
    stream: Option<StreamCtx>,
    /// In a framed dissector's callbacks: the shim's record of this run of
    /// tcp_dissect_pdus, where the conversation's state and the PDU counter are kept once
    /// looked up (null elsewhere).
    call: *mut sys::zkh2_framed_call,
    /// The frame number and whether the frame was dissected before: read once, as every
    /// dissector asks for them several times and they do not change during a dissection.
    frame: u32,
    visited: bool,
    _life: PhantomData<&'a mut ()>,
}

impl<'a> Packet<'a> {
    /// # Safety
    /// `raw` must be the valid `packet_info` of the running dissection, for `'a`.
    pub(crate) unsafe fn from_raw(raw: *mut sys::packet_info) -> Self {
        // SAFETY: the caller's contract.
        unsafe { Self::new(raw, None, std::ptr::null_mut()) }
    }

    /// The packet seen from a framed dissector's PDU callback; `call` is the `data` that
    /// tcp_dissect_pdus passed to it.
    ///
    /// # Safety
    /// As `from_raw`; `call` is null or the shim's `zkh2_framed_call` of the running
    /// tcp_dissect_pdus, valid for `'a`.
    pub(crate) unsafe fn in_framed_call(
        raw: *mut sys::packet_info,
        call: *mut sys::zkh2_framed_call,
    ) -> Self {
        // SAFETY: the caller's contract.
        unsafe { Self::new(raw, None, call) }
    }

    /// The packet seen from the framing callback, which knows the dissector's `data` (TCP's
    /// struct tcpinfo when TCP called it, kept in `call`) and the PDU's offset in the tvb.
    ///
    /// # Safety
    /// As `in_framed_call`.
    pub(crate) unsafe fn in_stream(
        raw: *mut sys::packet_info,
        call: *mut sys::zkh2_framed_call,
        offset: std::ffi::c_int,
    ) -> Self {
        // SAFETY: `call` is null or valid (the caller's contract).
        let stream = unsafe { call.as_ref() }.map(|c| StreamCtx {
            data: c.data,
            offset,
            proto: c.proto,
        });
        // SAFETY: the caller's contract.
        unsafe { Self::new(raw, stream, call) }
    }

    /// # Safety
    /// As `in_framed_call`.
    unsafe fn new(
        raw: *mut sys::packet_info,
        stream: Option<StreamCtx>,
        call: *mut sys::zkh2_framed_call,
    ) -> Self {
        let mut visited = 0;
        // SAFETY: valid pinfo (the caller's contract), valid out-pointer.
        let frame = unsafe { sys::zkh2_pinfo_num_visited(raw, &mut visited) };
        Packet {
            raw,
            stream,
            call,
            frame,
            visited: visited != 0,
            _life: PhantomData,
        }
    }

    /// The run's record when `proto` is the framed protocol of this run, else null. It
    /// stays valid for `'a` and is only touched by this Packet's methods, one at a time.
    fn framed_call(&self, proto: Protocol) -> *mut sys::zkh2_framed_call {
        // SAFETY: `call` is null or valid for 'a (the constructors' contract).
        match unsafe { self.call.as_ref() } {
            Some(c) if c.proto == proto.id() => self.call,
            _ => std::ptr::null_mut(),
        }
    }

    pub(crate) fn stream_ctx(&self) -> Option<StreamCtx> {
        self.stream
    }

    pub(crate) fn raw(&self) -> *mut sys::packet_info {
        self.raw
    }

    /// The frame number (1-based).
    pub fn frame(&self) -> u32 {
        self.frame
    }

    /// True on every pass but the first one over this frame.
    pub fn visited(&self) -> bool {
        self.visited
    }

    /// Capture time of this frame.
    pub fn time(&self) -> Nanos {
        let (mut secs, mut nsecs) = (0i64, 0i32);
        // SAFETY: valid pinfo, valid out-pointers.
        unsafe { sys::zkh2_pinfo_abs_ts(self.raw, &mut secs, &mut nsecs) };
        secs.saturating_mul(1_000_000_000)
            .saturating_add(i64::from(nsecs))
    }

    /// The network-layer source (`dst` false) or destination address, as bytes (4 for
    /// IPv4, 16 for IPv6; empty when there is none).
    pub fn net_addr(&self, dst: bool) -> Vec<u8> {
        let mut buf = [0u8; 16];
        // SAFETY: valid pinfo; the shim writes at most buf.len() bytes.
        let n = unsafe {
            sys::zkh2_pinfo_net_addr(self.raw, i32::from(dst), buf.as_mut_ptr(), buf.len() as i32)
        };
        buf.get(..usize::try_from(n).unwrap_or(0))
            .unwrap_or(&[])
            .to_vec()
    }

    pub fn src_port(&self) -> u32 {
        // SAFETY: valid pinfo.
        unsafe { sys::zkh2_pinfo_srcport(self.raw) }
    }

    pub fn dst_port(&self) -> u32 {
        // SAFETY: valid pinfo.
        unsafe { sys::zkh2_pinfo_destport(self.raw) }
    }

    /// The value that selected this dissector in a uint table (the port, for "tcp.port"
    /// and Decode As); 0 when called as a heuristic or by conversation.
    pub fn match_uint(&self) -> u32 {
        // SAFETY: valid pinfo.
        unsafe { sys::zkh2_pinfo_match_uint(self.raw) }
    }

    pub fn set_protocol_column(&self, name: &'static std::ffi::CStr) {
        // SAFETY: valid pinfo; col_set_str keeps the pointer, and the string is 'static.
        unsafe { sys::zkh2_col_set_protocol(self.raw, name.as_ptr()) };
    }

    pub fn clear_info(&self) {
        // SAFETY: valid pinfo.
        unsafe { sys::zkh2_col_clear_info(self.raw) };
    }

    /// Appends one clause to the Info column, separated from the previous one by ", ".
    pub fn append_info(&self, text: &str) {
        // SAFETY: valid pinfo; epan copies the text.
        super::tree::with_c_str(text, |c| unsafe {
            sys::zkh2_col_append_info(self.raw, c", ".as_ptr(), c)
        });
    }

    /// Whether this dissection fills columns at all: without them (`tshark -q`, `-V`,
    /// `-T fields` without a column field) every column call does nothing, so text made
    /// only for a column need not be made.
    pub fn has_columns(&self) -> bool {
        // SAFETY: valid pinfo; reads one pointer.
        unsafe { sys::zkh2_has_columns(self.raw) != 0 }
    }

    /// Appends text to the Info column as it is (no separator).
    pub fn append_info_raw(&self, text: &str) {
        // SAFETY: valid pinfo; epan copies the text.
        super::tree::with_c_str(text, |c| unsafe {
            sys::zkh2_col_append_info_raw(self.raw, c)
        });
    }

    /// Makes the Protocol column permanent against later dissectors in this frame.
    pub fn fence_protocol(&self) {
        // SAFETY: valid pinfo.
        unsafe { sys::zkh2_col_set_fence_protocol(self.raw) };
    }

    /// A counter that starts at 0 on every dissection of this frame and counts the calls
    /// made for `proto`. Framed protocols use it to tell apart the PDUs of one frame: the
    /// order in which tcp_dissect_pdus hands them to us is the same on every pass.
    ///
    /// The count lives in the packet's pool, found through packet-scoped proto data that
    /// the first call of a dissection adds (a later one only finds it: an addition per PDU
    /// would grow epan's list of the packet's data).
    pub fn next_pdu_index(&self, proto: Protocol) -> u32 {
        const KEY: u32 = 0x7a6b_0001;
        let call = self.framed_call(proto);
        // SAFETY: valid pinfo. The count is a u32 allocated in the packet's pool, which
        // lives as long as the packet-scoped proto data that points to it (both end with
        // this dissection of the frame, after the run that keeps the pointer in `call`);
        // only this function reads or writes it.
        unsafe {
            let mut count = call
                .as_ref()
                .map_or(std::ptr::null_mut(), |c| c.pdu_count as *mut u32);
            if count.is_null() {
                let pool = sys::zkh2_pinfo_pool(self.raw);
                count = sys::p_get_proto_data(pool, self.raw, proto.id(), KEY) as *mut u32;
                if count.is_null() {
                    count = sys::wmem_alloc(pool, std::mem::size_of::<u32>()) as *mut u32;
                    if count.is_null() {
                        return 0;
                    }
                    count.write(0);
                    sys::p_add_proto_data(pool, self.raw, proto.id(), KEY, count as *mut c_void);
                }
                if let Some(c) = call.as_mut() {
                    c.pdu_count = count as *mut c_void;
                }
            }
            let index = *count;
            *count = index.wrapping_add(1);
            index
        }
    }

    /// State shared by every conversation of the capture file (one per type `T`),
    /// created with `T::default()` on first use and dropped when the file closes, as
    /// conversation state is. `None` on a re-entrant call, as for `conversation`.
    pub fn capture_state<T: Any + Default>(&self) -> Option<RefMut<'a, T>> {
        let id = TypeId::of::<T>();
        let ptr = CAPTURE_SLOTS
            .try_with(|slots| {
                let mut slots = slots.try_borrow_mut().ok()?;
                if let Some((_, p)) = slots.iter().find(|(t, _)| *t == id) {
                    return Some(*p);
                }
                let raw = Box::into_raw(Box::new(RefCell::new(
                    Box::new(T::default()) as Box<dyn Any>
                )));
                // SAFETY: registers a callback on the file scope, which is entered while a
                // packet is dissected; the callback frees `raw` once.
                unsafe {
                    sys::zkh2_free_with_file_scope(Some(free_capture_slot), raw as *mut c_void)
                };
                slots.push((id, raw as *const Slot));
                Some(raw as *const Slot)
            })
            .ok()
            .flatten()?;
        // SAFETY: the slot lives until the file scope ends, after every dissection of it.
        let slot: &'a Slot = unsafe { &*ptr };
        let state = slot.try_borrow_mut().ok()?;
        RefMut::filter_map(state, |b| b.downcast_mut::<T>()).ok()
    }

    /// The Rust state of `proto` for this packet's conversation (the TCP connection),
    /// created with `T::default()` on first use and dropped when the capture file closes.
    ///
    /// The state is a `RefCell`: a re-entrant call for the same conversation gets `None`
    /// rather than aliased mutable state.
    pub fn conversation<T: Any + Default>(&self, proto: Protocol) -> Option<RefMut<'a, T>> {
        // In a framed dissector's callbacks the run's record keeps the slot: every PDU of
        // one run of tcp_dissect_pdus belongs to the same connection.
        let call = self.framed_call(proto);
        // SAFETY: valid pinfo; `call` is null or the run's record. The slot is a leaked Box
        // that lives until the file scope ends, which is after every dissection of this
        // file; the free callback is registered once per slot.
        let slot: &'a RefCell<Box<dyn Any>> = unsafe {
            let mut ptr = call
                .as_ref()
                .map_or(std::ptr::null(), |c| c.state as *const Slot);
            if ptr.is_null() {
                let mut conv = std::ptr::null_mut();
                ptr = sys::zkh2_conversation_data(self.raw, proto.id(), &mut conv) as *const Slot;
                if conv.is_null() {
                    return None;
                }
                if ptr.is_null() {
                    let raw = Box::into_raw(Box::new(RefCell::new(
                        Box::new(T::default()) as Box<dyn Any>
                    )));
                    sys::conversation_add_proto_data(conv, proto.id(), raw as *mut c_void);
                    sys::zkh2_free_with_file_scope(Some(free_slot), raw as *mut c_void);
                    ptr = raw;
                }
                if let Some(c) = call.as_mut() {
                    c.state = ptr as *mut c_void;
                }
            }
            &*ptr
        };
        // Only one state type is used per protocol; if that ever changed, start afresh
        // rather than fail. A re-entrant call finds the state borrowed and gets None.
        let state = slot.try_borrow_mut().ok()?;
        RefMut::filter_map(state, |b| {
            if !b.is::<T>() {
                *b = Box::new(T::default());
            }
            b.downcast_mut::<T>()
        })
        .ok()
    }
}

type Slot = RefCell<Box<dyn Any>>;

thread_local! {
    /// The capture-wide states (`Packet::capture_state`), one per type, each a leaked Box
    /// freed when the file scope ends. Wireshark dissects on one thread.
    static CAPTURE_SLOTS: RefCell<Vec<(TypeId, *const Slot)>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn free_capture_slot(ptr: *mut c_void) {
    let ptr = ptr as *const Slot;
    let _ = CAPTURE_SLOTS.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            s.retain(|(_, p)| *p != ptr);
        }
    });
    // SAFETY: ptr came from Box::into_raw in `capture_state` and is freed exactly once,
    // after it left the table above.
    drop(unsafe { Box::from_raw(ptr as *mut Slot) });
}

unsafe extern "C" fn free_slot(ptr: *mut c_void) {
    // The file scope ends, and with it the conversations: forget the remembered one.
    // SAFETY: no arguments; resets a pointer.
    unsafe { sys::zkh2_conversation_cache_clear() };
    // SAFETY: ptr came from Box::into_raw in `conversation` and is freed exactly once.
    drop(unsafe { Box::from_raw(ptr as *mut RefCell<Box<dyn Any>>) });
}
