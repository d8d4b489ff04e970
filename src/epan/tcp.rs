//! Where a PDU starts in its side's byte stream, from the facts that Wireshark's TCP
//! dissector keeps: whether that side's SYN was captured, and the sequence number of the
//! PDU's first byte.
//!
//! A side whose first payload byte was captured is synchronised from that byte: its first
//! PDU starts there, whatever its bytes look like. Only a side whose start is missing (no
//! SYN, or a first PDU past relative sequence 1) may begin inside a PDU, and only there do
//! the protocols look for the first plausible PDU start. [`StreamStart`] is plain data, so
//! the protocols' pure state machines take it as input; [`Packet::stream_start`] reads it.

use std::ffi::{c_int, c_void};

use wireshark_sys as sys;

use super::packet::Packet;

/// What TCP knows about where a PDU starts in its side's byte stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StreamStart {
    /// Directly on TCP, this side's SYN was captured, and the PDU starts this many bytes
    /// after the side's first payload byte (0: at that byte).
    At(u32),
    /// Carried by another protocol over TCP (TLS, HTTP after an Upgrade) on a side whose SYN
    /// was captured: the carrier saw the stream from its start, so the first bytes it hands
    /// over start ours.
    Carried,
    /// This side's SYN was not captured: the capture may have begun inside its stream.
    NoSyn,
    /// Directly on TCP, but TCP's facts could not be read.
    Unavailable,
    /// Not known: not carried by TCP, or asked outside the framing callback.
    #[default]
    Unknown,
}

/// How a side's first PDU is to be framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SideSync {
    /// The side is synchronised from this PDU: it starts a PDU, whatever its bytes.
    FromStart,
    /// The side's start is missing: look for the first plausible PDU start.
    MidStream,
    /// No facts: judge by the bytes (plausible PDU starts), as without TCP's help.
    Unknown,
}

impl StreamStart {
    /// How the first PDU that a side hands over is framed, given where it starts.
    pub fn first_pdu(self) -> SideSync {
        match self {
            StreamStart::At(0) | StreamStart::Carried => SideSync::FromStart,
            StreamStart::At(_) | StreamStart::NoSyn => SideSync::MidStream,
            StreamStart::Unavailable | StreamStart::Unknown => SideSync::Unknown,
        }
    }
}

/// The framing callback's view of the stream: the data TCP passed to the dissector and the
/// offset of the PDU in the tvb.
#[derive(Clone, Copy)]
pub(crate) struct StreamCtx {
    pub data: *const c_void,
    pub offset: c_int,
    pub proto: c_int,
}

impl Packet<'_> {
    /// Where the PDU being framed starts in its side's stream. Meaningful only in
    /// `FramedDissector::pdu_len` (elsewhere: `Unknown`).
    pub fn stream_start(&self) -> StreamStart {
        let Some(ctx) = self.stream_ctx() else {
            return StreamStart::Unknown;
        };
        let mut pos = 0u32;
        // SAFETY: valid pinfo; `data` is what epan handed the dissector (checked in C to be
        // TCP's struct tcpinfo only when TCP is the layer right below); nothing is created.
        let kind = unsafe {
            sys::zkh2_tcp_stream_start(self.raw(), ctx.data, ctx.offset, ctx.proto, &mut pos)
        };
        match kind as u32 {
            sys::ZKH2_START_AT => StreamStart::At(pos),
            sys::ZKH2_START_CARRIED => StreamStart::Carried,
            sys::ZKH2_START_NO_SYN => StreamStart::NoSyn,
            sys::ZKH2_START_UNAVAILABLE => StreamStart::Unavailable,
            _ => StreamStart::Unknown,
        }
    }
}
