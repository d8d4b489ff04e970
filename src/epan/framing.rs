//! Length-prefixed PDUs over TCP, through `tcp_dissect_pdus`.
//!
//! A protocol implements `FramedDissector`; `create_framed_handle` gives it a dissector
//! handle whose C entry point (in the wireshark-sys shim) calls `tcp_dissect_pdus` with the
//! two guarded trampolines below. TCP reassembly then hands each complete PDU to
//! `dissect_pdu`, however the bytes were split into segments.

use std::ffi::{CStr, c_int, c_uint, c_void};

use wireshark_sys as sys;

use super::guard::guard;
use super::packet::Packet;
use super::register::{BoolPref, Handle, Protocol};
use super::tree::Tree;

/// What `FramedDissector::pdu_len` found at the start of a PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PduLen {
    /// The PDU is this many bytes long in total (header included).
    Exactly(u32),
    /// The bytes cannot start a PDU (bogus length): take what this segment has, so the
    /// dissector can show it as undecoded, instead of waiting for data that never comes.
    RestOfSegment,
    /// The length cannot be told from these bytes yet (a header cut short): reassemble them
    /// with the next segment and ask again. An exact request for the rest of a header would
    /// be followed by a second one for the body, and TCP loses a PDU whose second request
    /// falls inside the segment that completed the first. Without reassembly: the rest of
    /// the segment.
    NeedMore,
}

pub trait FramedDissector: 'static {
    /// Bytes needed before `pdu_len` can answer.
    const HEADER_LEN: u32;

    fn protocol() -> Protocol;

    /// The length of the PDU that starts at `bytes[0]`. `bytes` holds what was captured
    /// from there on (at least `HEADER_LEN` bytes unless desegmentation is off).
    /// `pkt.stream_start()` tells where that PDU lies in its side's stream.
    fn pdu_len(pkt: &Packet<'_>, bytes: &[u8]) -> PduLen;

    /// Dissects one complete PDU.
    fn dissect_pdu(pkt: &Packet<'_>, tree: Tree<'_>, bytes: &[u8]);

    /// Heuristic test on the first bytes of a segment on any port: true claims the whole
    /// conversation for this protocol.
    fn heuristic(_pkt: &Packet<'_>, _bytes: &[u8]) -> bool {
        false
    }
}

/// The heuristic entry point for `D`; register it with `register::add_heuristic`.
///
/// # Safety
/// Called by epan only, with the valid pointers of a running dissection.
pub unsafe extern "C" fn heuristic_trampoline<D: FramedDissector>(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    _data: *mut c_void,
) -> c_int {
    // SAFETY: epan passes valid pointers for the duration of the call.
    let bytes = unsafe { tvb_bytes(tvb, 0) };
    guard(pinfo, tree, tvb, false, || {
        // SAFETY: as above.
        let pkt = unsafe { Packet::from_raw(pinfo) };
        D::protocol().is_enabled() && D::heuristic(&pkt, bytes)
    }) as c_int
}

/// The captured bytes of a tvb, as a slice valid for the callback.
///
/// # Safety
/// `tvb` must be a valid tvb for the lifetime `'a`.
pub(crate) unsafe fn tvb_bytes<'a>(tvb: *mut sys::tvbuff_t, offset: usize) -> &'a [u8] {
    let Ok(offset) = c_int::try_from(offset) else {
        return &[];
    };
    let mut len: c_int = 0;
    // SAFETY: a valid tvb (the caller's contract); the shim never throws and returns null
    // or `len` bytes that live as long as the tvb.
    unsafe {
        let p = sys::zkh2_tvb_captured_bytes(tvb, offset, &mut len);
        if p.is_null() || len <= 0 {
            &[]
        } else {
            std::slice::from_raw_parts(p, len as usize)
        }
    }
}

unsafe extern "C" fn pdu_len_trampoline<D: FramedDissector>(
    pinfo: *mut sys::packet_info,
    tvb: *mut sys::tvbuff_t,
    offset: c_int,
    data: *mut c_void,
) -> c_uint {
    // SAFETY: epan passes valid pointers for the duration of the call.
    let bytes = unsafe { tvb_bytes(tvb, offset.max(0) as usize) };
    let rest = (bytes.len() as u32).max(D::HEADER_LEN);
    guard(pinfo, std::ptr::null_mut(), tvb, rest, || {
        // SAFETY: as above; `data` is the shim's `zkh2_framed_call` for this run of
        // tcp_dissect_pdus (zkh2_framed_run), which outlives the callback.
        let pkt = unsafe { Packet::in_stream(pinfo, data.cast(), offset) };
        match D::pdu_len(&pkt, bytes) {
            // tcp_dissect_pdus rejects lengths below its fixed length as malformed.
            PduLen::Exactly(n) => n.max(D::HEADER_LEN),
            PduLen::RestOfSegment => rest,
            // SAFETY: valid pinfo. tcp_dissect_pdus answers 0 with DESEGMENT_ONE_MORE_SEGMENT.
            PduLen::NeedMore if unsafe { sys::zkh2_framed_can_ask_more(pinfo) } != 0 => 0,
            PduLen::NeedMore => rest,
        }
    })
}

unsafe extern "C" fn pdu_trampoline<D: FramedDissector>(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    data: *mut c_void,
) -> c_int {
    // SAFETY: epan passes valid pointers for the duration of the call.
    let bytes = unsafe { tvb_bytes(tvb, 0) };
    guard(pinfo, tree, tvb, bytes.len() as c_int, || {
        // SAFETY: as above; `data` is the run's `zkh2_framed_call`, as in pdu_len_trampoline.
        let (pkt, tree) = unsafe {
            (
                Packet::in_framed_call(pinfo, data.cast()),
                Tree::from_raw(tree, tvb, bytes.len()),
            )
        };
        D::dissect_pdu(&pkt, tree, bytes);
        bytes.len() as c_int
    })
}

/// Registers `D::heuristic` on the heuristic table `table` ("tcp", "http"), enabled by
/// default: when it claims a packet, `handle` (made by [`create_framed_handle`] for `D`)
/// becomes the conversation's dissector. `display` and `internal` are the names Wireshark's
/// "Enabled Protocols" and `--disable-heuristic` use.
pub fn add_framed_heuristic<D: FramedDissector>(
    table: &'static CStr,
    handle: Handle,
    display: &'static CStr,
    internal: &'static CStr,
) {
    super::register::add_heuristic(
        table,
        heuristic_trampoline::<D>,
        handle,
        display,
        internal,
        D::protocol(),
        true,
    );
}

/// A dissector handle for `D` that reassembles with `tcp_dissect_pdus`; `desegment` is the
/// protocol's "reassemble PDUs spanning segments" preference. With a `name` the handle is
/// registered under it (`register_dissector`), which TLS's port table requires; the name
/// must be unique among Wireshark's dissectors.
pub fn create_framed_handle<D: FramedDissector>(
    desegment: BoolPref,
    name: Option<&'static CStr>,
) -> Handle {
    // SAFETY: the trampolines match the C callback types; the preference storage is leaked;
    // the name is static.
    let raw = unsafe {
        sys::zkh2_create_framed_handle(
            name.map_or(std::ptr::null(), CStr::as_ptr),
            D::protocol().id(),
            D::HEADER_LEN,
            Some(pdu_len_trampoline::<D>),
            Some(pdu_trampoline::<D>),
            desegment.raw(),
        )
    };
    assert!(!raw.is_null(), "framed handle table is full");
    Handle(raw)
}

/// Like [`create_framed_handle`], for the entries that TLS ALPN and the HTTP/1.1 Upgrade
/// reach (which Decode As cannot): on a TLS port for which the user chose the built-in
/// dissector named `builtin` (`-d tls.port==443,http2`, which this makes possible), the
/// data goes to the built-in instead.
pub fn create_routed_handle<D: FramedDissector>(
    desegment: BoolPref,
    builtin: &'static CStr,
) -> Handle {
    // SAFETY: as in create_framed_handle; the name is static.
    let raw = unsafe {
        sys::zkh2_create_routed_handle(
            D::protocol().id(),
            D::HEADER_LEN,
            Some(pdu_len_trampoline::<D>),
            Some(pdu_trampoline::<D>),
            desegment.raw(),
            builtin.as_ptr(),
        )
    };
    assert!(!raw.is_null(), "framed handle table is full");
    Handle(raw)
}
