//! `pcapgen`: a test-only pcap writer for dissector test inputs.
//!
//! It models TCP connections at the level a dissector cares about — which side sends which
//! payload bytes in which segment — and writes them as classic pcap files
//! (LINKTYPE_ETHERNET, IPv4, valid checksums, consistent sequence and acknowledgment numbers,
//! deterministic timestamps). Typical use: read a real capture, re-cut its segments, write it
//! back out.
//!
//! * [`extract_streams`] reads a pcap or pcapng file into [`Conversation`]s: per TCP connection,
//!   the payload of each captured segment in capture order, retransmissions removed.
//! * [`resegment`] re-cuts a segment list: fixed-size pieces, splits at an offset, coalescing,
//!   retransmissions, cutting off the start of a stream. Causality between the two directions
//!   is always preserved.
//! * [`TcpFlow`] turns a segment list into TCP packets (optional handshake and FIN exchange),
//!   and [`Capture`] collects flows and writes the pcap.
//!
//! ```
//! use std::num::NonZeroUsize;
//! use pcapgen::{resegment, Capture, Direction, Segment, TcpFlow};
//!
//! let segments = vec![
//!     Segment::new(Direction::ClientToServer, b"request".to_vec()),
//!     Segment::new(Direction::ServerToClient, b"response".to_vec()),
//! ];
//! let one_byte = resegment::split_into_pieces(&segments, NonZeroUsize::MIN);
//! let flow = TcpFlow::new(40000, 2181).with_segments(one_byte);
//! let mut capture = Capture::new();
//! capture.add_flow(&flow)?;
//! let pcap: Vec<u8> = capture.to_bytes()?;
//!
//! let back = pcapgen::extract_streams_from_bytes(&pcap, 2181)?;
//! assert_eq!(back[0].stream(Direction::ServerToClient), b"response");
//! # Ok::<(), pcapgen::Error>(())
//! ```

mod capture;
mod error;
mod extract;
mod flow;
pub mod random;
pub mod resegment;

pub use capture::{Capture, Clock, SNAPLEN};
pub use error::{Error, Result};
pub use extract::{
    Conversation, Message, extract_streams, extract_streams_from_bytes, extract_streams_ports,
};
pub use flow::{
    DEFAULT_CLIENT_ISN, DEFAULT_SERVER_ISN, Direction, Frame, Segment, StreamOffsets, TcpFlow,
    TcpPacket,
};
