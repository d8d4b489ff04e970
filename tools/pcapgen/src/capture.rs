//! Assembling flows into a classic pcap file with deterministic timestamps.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};

use crate::error::Result;
use crate::flow::{Frame, TcpFlow};

/// Deterministic capture clock: frame *n* (0-based) gets `start + n * step`, unless a segment
/// pins its own timestamp, in which case the clock continues from the pinned time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    /// Timestamp of the first frame.
    pub start: Duration,
    /// Distance between consecutive frames.
    pub step: Duration,
}

impl Default for Clock {
    /// Starts at 1 700 000 000 s after the Unix epoch (2023-11-14T22:13:20Z), 1 ms per frame.
    fn default() -> Self {
        Clock {
            start: Duration::from_secs(1_700_000_000),
            step: Duration::from_millis(1),
        }
    }
}

/// Snapshot length written in the pcap header: comfortably above the largest IPv4 packet.
pub const SNAPLEN: u32 = 262_144;

/// A capture being built: flows are appended one after the other (not interleaved), and the
/// result is written as a little-endian, microsecond, LINKTYPE_ETHERNET pcap file.
///
/// The output depends only on the flows and the clock, so the same input always produces the
/// same bytes.
///
/// ```
/// use pcapgen::{Capture, Direction, TcpFlow};
/// let mut flow = TcpFlow::new(40000, 2181);
/// flow.push(Direction::ClientToServer, b"ping".to_vec());
/// let mut capture = Capture::new();
/// capture.add_flow(&flow).unwrap();
/// let bytes = capture.to_bytes().unwrap();
/// assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Capture {
    clock: Clock,
    next: Option<Duration>,
    frames: Vec<(Duration, Vec<u8>)>,
}

impl Capture {
    /// An empty capture with the default [`Clock`].
    pub fn new() -> Capture {
        Capture::default()
    }

    /// An empty capture with the given clock.
    pub fn with_clock(clock: Clock) -> Capture {
        Capture {
            clock,
            next: None,
            frames: Vec::new(),
        }
    }

    /// Appends one frame, timestamped by the clock unless `frame.timestamp` pins it.
    pub fn add_frame(&mut self, frame: Frame) {
        let ts = frame
            .timestamp
            .unwrap_or_else(|| self.next.unwrap_or(self.clock.start));
        self.next = Some(ts + self.clock.step);
        self.frames.push((ts, frame.data));
    }

    /// Appends all frames of `flow` (see [`TcpFlow::frames`]).
    pub fn add_flow(&mut self, flow: &TcpFlow) -> Result<()> {
        for frame in flow.frames()? {
            self.add_frame(frame);
        }
        Ok(())
    }

    /// Number of frames so far.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// True when no frame was added.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Writes the capture as a classic pcap stream.
    pub fn write<W: Write>(&self, writer: W) -> Result<W> {
        let header = PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: SNAPLEN,
            datalink: DataLink::ETHERNET,
            ts_resolution: TsResolution::MicroSecond,
            endianness: Endianness::Little,
        };
        let mut w = PcapWriter::with_header(writer, header)?;
        for (ts, data) in &self.frames {
            let len = u32::try_from(data.len()).map_err(|_| {
                crate::Error::invalid(format!("frame of {} bytes is too large", data.len()))
            })?;
            w.write_packet(&PcapPacket::new(*ts, len, data))?;
        }
        Ok(w.into_writer())
    }

    /// The capture as pcap bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.write(Vec::new())
    }

    /// Writes the capture to a file (created or truncated).
    pub fn write_file(&self, path: impl AsRef<Path>) -> Result<()> {
        let file = File::create(path)?;
        let mut w = self.write(BufWriter::new(file))?;
        w.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Direction::*;

    #[test]
    fn clock_ticks_and_pins() {
        let mut c = Capture::new();
        let f = |ts| Frame {
            timestamp: ts,
            data: vec![0; 14],
        };
        c.add_frame(f(None));
        c.add_frame(f(None));
        c.add_frame(f(Some(Duration::from_secs(1_800_000_000))));
        c.add_frame(f(None));
        let ts: Vec<_> = c.frames.iter().map(|(t, _)| *t).collect();
        let start = Duration::from_secs(1_700_000_000);
        let ms = Duration::from_millis(1);
        assert_eq!(
            ts,
            vec![
                start,
                start + ms,
                Duration::from_secs(1_800_000_000),
                Duration::from_secs(1_800_000_000) + ms
            ]
        );
    }

    #[test]
    fn same_input_same_bytes() {
        let build = || {
            let mut flow = TcpFlow::new(40000, 2181);
            flow.push(ClientToServer, b"abc".to_vec());
            flow.push(ServerToClient, b"defg".to_vec());
            let mut c = Capture::new();
            c.add_flow(&flow).unwrap();
            c.add_flow(&flow.clone().with_handshake(false)).unwrap();
            c.to_bytes().unwrap()
        };
        let a = build();
        assert_eq!(a, build());
        // Global header, then 8 + 5 frames of 54 header bytes, each behind a 16-byte record
        // header, plus 2 x 7 payload bytes.
        assert_eq!(a.len(), 24 + 13 * (16 + 54) + 2 * 7);
    }
}
