//! What can be wrong with a frame, as the dissector reports it (one expert item each).

use super::*;

/// Protocol violations and other notes, attached to the frame that showed them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    Payload(PayloadError),
    FrameTooLarge {
        len: u32,
        max: u32,
    },
    /// DATA, HEADERS, PRIORITY, RST_STREAM, PUSH_PROMISE or CONTINUATION on stream 0.
    NeedsStream,
    /// SETTINGS, PING or GOAWAY on a non-zero stream.
    NeedsStreamZero,
    ReservedBit,
    BadSetting {
        id: u16,
        value: u32,
        why: &'static str,
    },
    SettingsAckWithPayload,
    SettingsAckUnmatched,
    StreamIdBackwards {
        id: u32,
        last: u32,
    },
    /// A frame other than CONTINUATION arrived while a header block was open.
    ContinuationMissing {
        stream: u32,
    },
    /// CONTINUATION with no open header block on its stream.
    ContinuationUnexpected,
    WindowExceeded {
        connection: bool,
        window: i64,
    },
    WindowOverflow {
        connection: bool,
        window: i64,
    },
    ZeroIncrement,
    HeaderBlockTooLarge {
        len: usize,
    },
    Hpack(String),
    StreamLimit,
    /// Too many unacknowledged SETTINGS or PINGs: the oldest is forgotten, so its ACK will
    /// show as unmatched.
    PendingLimit {
        what: &'static str,
    },
    /// Too many segments skipped while resynchronising: later passes may frame them anew.
    ResyncLimit,
    UnknownType(u8),
    /// A response or trailers on a stream whose request was not captured.
    RequestNotCaptured,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Payload(e) => write!(f, "Malformed payload: {e}"),
            Problem::FrameTooLarge { len, max } => write!(
                f,
                "Frame payload of {len} bytes exceeds the receiver's SETTINGS_MAX_FRAME_SIZE of {max} (FRAME_SIZE_ERROR)"
            ),
            Problem::NeedsStream => {
                write!(f, "This frame type must not use stream 0 (PROTOCOL_ERROR)")
            }
            Problem::NeedsStreamZero => {
                write!(f, "This frame type must use stream 0 (PROTOCOL_ERROR)")
            }
            Problem::ReservedBit => write!(f, "Reserved bit is set (must be 0)"),
            Problem::BadSetting { id, value, why } => {
                write!(f, "SETTINGS parameter 0x{id:x} = {value}: {why}")
            }
            Problem::SettingsAckWithPayload => {
                write!(f, "SETTINGS ACK with a payload (FRAME_SIZE_ERROR)")
            }
            Problem::SettingsAckUnmatched => {
                write!(
                    f,
                    "SETTINGS ACK without an outstanding SETTINGS from the peer"
                )
            }
            Problem::StreamIdBackwards { id, last } => write!(
                f,
                "New stream {id} is not above the last stream {last} opened by this side (PROTOCOL_ERROR)"
            ),
            Problem::ContinuationMissing { stream } => write!(
                f,
                "Header block on stream {stream} not finished: CONTINUATION expected before any other frame (PROTOCOL_ERROR)"
            ),
            Problem::ContinuationUnexpected => write!(
                f,
                "CONTINUATION without a preceding HEADERS or PUSH_PROMISE on this stream (PROTOCOL_ERROR)"
            ),
            Problem::WindowExceeded { connection, window } => write!(
                f,
                "DATA exceeds the {} flow-control window by {} bytes (FLOW_CONTROL_ERROR)",
                if *connection { "connection" } else { "stream" },
                -window
            ),
            Problem::WindowOverflow { connection, window } => write!(
                f,
                "{} window {} above 2^31-1 (FLOW_CONTROL_ERROR)",
                if *connection { "Connection" } else { "Stream" },
                window
            ),
            Problem::ZeroIncrement => {
                write!(f, "WINDOW_UPDATE with an increment of 0 (PROTOCOL_ERROR)")
            }
            Problem::HeaderBlockTooLarge { len } => write!(
                f,
                "Header block of {len} bytes exceeds {} bytes: not decoded, later header blocks of this side may show unknown entries",
                limits::MAX_HEADER_BLOCK
            ),
            Problem::Hpack(e) => write!(f, "HPACK decoding error: {e} (COMPRESSION_ERROR)"),
            Problem::StreamLimit => write!(
                f,
                "Stream tracking limit reached ({} open streams or {} streams in all): pairing and bodies stop for new streams",
                limits::MAX_OPEN_STREAMS,
                limits::MAX_STREAM_SUMMARIES
            ),
            Problem::PendingLimit { what } => write!(
                f,
                "More unacknowledged {what} frames than tracked: the oldest is forgotten (its ACK will show as unmatched)"
            ),
            Problem::ResyncLimit => write!(
                f,
                "More than {} segments skipped without finding a frame boundary: their framing is no longer remembered",
                limits::MAX_RESYNC_SKIPS
            ),
            Problem::UnknownType(t) => write!(f, "Unknown frame type 0x{t:02x}, ignored"),
            Problem::RequestNotCaptured => write!(f, "The request of this stream was not captured"),
        }
    }
}

/// The problems of one frame: most frames have none, so the list costs one (thin) pointer
/// until the first is pushed; a `Vec` would be 24 bytes in every `FrameInfo`, a boxed
/// slice 16.
#[derive(Default, Clone, PartialEq, Eq)]
// The box is the point: it makes the empty list 8 bytes.
#[allow(clippy::box_collection)]
pub struct Problems(Option<Box<Vec<Problem>>>);

impl Problems {
    pub fn push(&mut self, p: Problem) {
        self.0.get_or_insert_default().push(p);
    }
}

impl std::ops::Deref for Problems {
    type Target = [Problem];
    fn deref(&self) -> &[Problem] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl<'a> IntoIterator for &'a Problems {
    type Item = &'a Problem;
    type IntoIter = std::slice::Iter<'a, Problem>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq<Vec<Problem>> for Problems {
    fn eq(&self, other: &Vec<Problem>) -> bool {
        **self == other[..]
    }
}

impl std::fmt::Debug for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
