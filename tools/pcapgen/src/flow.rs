//! The TCP connection model: endpoints, segments, and the sequence/acknowledgment bookkeeping
//! that turns a list of payloads into a list of well-formed TCP packets.

use std::time::Duration;

use etherparse::{IpHeaders, IpNumber, Ipv4Header, PacketBuilder, TcpHeader};

use crate::error::{Error, Result};

/// Which way a segment travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// From the client (the connection's initiator) to the server.
    ClientToServer,
    /// From the server back to the client.
    ServerToClient,
}

impl Direction {
    /// The opposite direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }

    /// 0 for client→server, 1 for server→client; handy to index per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Direction::ClientToServer => 0,
            Direction::ServerToClient => 1,
        }
    }

    /// A short arrow form, `"c->s"` or `"s->c"`, for listings.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::ClientToServer => "c->s",
            Direction::ServerToClient => "s->c",
        }
    }
}

/// One TCP segment carrying payload, as the caller wants it to appear on the wire.
///
/// Sequence and acknowledgment numbers are not stored here: [`TcpFlow`] derives them from the
/// order of the segments, so any list of segments yields a consistent connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Which way the segment travels.
    pub dir: Direction,
    /// The TCP payload.
    pub payload: Vec<u8>,
    /// `None` for new data, which goes right after the bytes already sent in `dir`.
    ///
    /// `Some(offset)` marks a retransmission: `payload` is sent again at stream offset `offset`
    /// (0 is the first payload byte of the direction), and the stream does not advance. The
    /// bytes must already have been sent, and should be the same bytes (not checked).
    pub resend_offset: Option<u64>,
    /// Capture timestamp of this segment. `None` lets the [`Capture`](crate::Capture) clock
    /// assign the next deterministic tick; `Some(t)` pins it (and later ticks continue from `t`).
    pub timestamp: Option<Duration>,
}

impl Segment {
    /// New data in direction `dir`.
    pub fn new(dir: Direction, payload: impl Into<Vec<u8>>) -> Segment {
        Segment {
            dir,
            payload: payload.into(),
            resend_offset: None,
            timestamp: None,
        }
    }

    /// A retransmission of `payload`, which was first sent at stream offset `offset` of `dir`.
    pub fn resend(dir: Direction, offset: u64, payload: impl Into<Vec<u8>>) -> Segment {
        Segment {
            dir,
            payload: payload.into(),
            resend_offset: Some(offset),
            timestamp: None,
        }
    }

    /// Pins the capture timestamp of this segment.
    pub fn at(mut self, timestamp: Duration) -> Segment {
        self.timestamp = Some(timestamp);
        self
    }

    /// True when this segment re-sends bytes that were already sent.
    pub fn is_retransmission(&self) -> bool {
        self.resend_offset.is_some()
    }
}

/// One TCP packet of a flow, with its numbers computed (see [`TcpFlow::packets`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpPacket {
    /// Which way the packet travels.
    pub dir: Direction,
    /// Absolute sequence number.
    pub seq: u32,
    /// Absolute acknowledgment number; `None` when the ACK flag is off (the initial SYN only).
    pub ack: Option<u32>,
    /// SYN flag.
    pub syn: bool,
    /// FIN flag.
    pub fin: bool,
    /// PSH flag (set on every packet that carries payload).
    pub psh: bool,
    /// Payload bytes.
    pub payload: Vec<u8>,
    /// Pinned timestamp, copied from the [`Segment`]; `None` for clock-assigned ones.
    pub timestamp: Option<Duration>,
}

/// A frame ready to be written to a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Pinned timestamp, or `None` to take the capture clock's next tick.
    pub timestamp: Option<Duration>,
    /// The Ethernet frame (Ethernet II + IPv4 + TCP + payload) with valid checksums.
    pub data: Vec<u8>,
}

/// A TCP connection between a client and a server, described by its segments.
///
/// The flow computes sequence and acknowledgment numbers itself: each direction starts at its
/// initial sequence number (ISN) + 1, new data advances it by the payload length, and every
/// packet acknowledges all bytes the other side has sent so far (in list order). A FIN counts
/// for one sequence number, as does a SYN.
///
/// ```
/// use pcapgen::{Direction, TcpFlow};
/// let mut flow = TcpFlow::new(40000, 2181);
/// flow.push(Direction::ClientToServer, b"hello".to_vec());
/// flow.push(Direction::ServerToClient, b"world".to_vec());
/// let packets = flow.packets().unwrap();
/// assert_eq!(packets.len(), 3 + 2 + 3); // handshake, data, FIN exchange
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpFlow {
    /// Client IPv4 address (default 127.0.0.1).
    pub client_ip: [u8; 4],
    /// Server IPv4 address (default 127.0.0.1).
    pub server_ip: [u8; 4],
    /// Client TCP port.
    pub client_port: u16,
    /// Server TCP port.
    pub server_port: u16,
    /// Client initial sequence number: its SYN carries it, its first payload byte is ISN + 1.
    pub client_isn: u32,
    /// Server initial sequence number.
    pub server_isn: u32,
    /// Emit SYN, SYN-ACK, ACK before the segments (default true).
    pub handshake: bool,
    /// Emit FIN from the client, FIN-ACK from the server and the final ACK (default true).
    pub close: bool,
    /// Follow every data segment with a pure ACK from the receiver (default false).
    pub ack_every_segment: bool,
    /// The payload-carrying segments, in capture order.
    pub segments: Vec<Segment>,
}

/// Default client ISN; arbitrary but fixed, so output is deterministic.
pub const DEFAULT_CLIENT_ISN: u32 = 0x1000_0000;
/// Default server ISN.
pub const DEFAULT_SERVER_ISN: u32 = 0x2000_0000;
const LOCALHOST: [u8; 4] = [127, 0, 0, 1];
const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
const TTL: u8 = 64;
const WINDOW: u16 = 65535;

/// Bytes that were cut from the start of each direction (see [`resegment::skip_bytes`](crate::resegment::skip_bytes)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamOffsets {
    /// Client→server bytes skipped.
    pub client_to_server: u64,
    /// Server→client bytes skipped.
    pub server_to_client: u64,
}

impl StreamOffsets {
    /// The offset of direction `dir`.
    pub fn get(&self, dir: Direction) -> u64 {
        match dir {
            Direction::ClientToServer => self.client_to_server,
            Direction::ServerToClient => self.server_to_client,
        }
    }

    pub(crate) fn add(&mut self, dir: Direction, n: u64) {
        match dir {
            Direction::ClientToServer => self.client_to_server += n,
            Direction::ServerToClient => self.server_to_client += n,
        }
    }
}

impl std::ops::AddAssign for StreamOffsets {
    fn add_assign(&mut self, other: StreamOffsets) {
        self.client_to_server += other.client_to_server;
        self.server_to_client += other.server_to_client;
    }
}

impl TcpFlow {
    /// A flow 127.0.0.1:`client_port` ↔ 127.0.0.1:`server_port` with handshake and FIN exchange,
    /// fixed ISNs, and no segments yet.
    pub fn new(client_port: u16, server_port: u16) -> TcpFlow {
        TcpFlow {
            client_ip: LOCALHOST,
            server_ip: LOCALHOST,
            client_port,
            server_port,
            client_isn: DEFAULT_CLIENT_ISN,
            server_isn: DEFAULT_SERVER_ISN,
            handshake: true,
            close: true,
            ack_every_segment: false,
            segments: Vec::new(),
        }
    }

    /// Sets whether the SYN / SYN-ACK / ACK handshake is emitted.
    pub fn with_handshake(mut self, handshake: bool) -> TcpFlow {
        self.handshake = handshake;
        self
    }

    /// Sets whether the FIN exchange is emitted.
    pub fn with_close(mut self, close: bool) -> TcpFlow {
        self.close = close;
        self
    }

    /// Sets whether each data segment is followed by a pure ACK from the receiver.
    pub fn with_ack_every_segment(mut self, ack: bool) -> TcpFlow {
        self.ack_every_segment = ack;
        self
    }

    /// Replaces the segment list.
    pub fn with_segments(mut self, segments: Vec<Segment>) -> TcpFlow {
        self.segments = segments;
        self
    }

    /// Appends a segment of new data.
    pub fn push(&mut self, dir: Direction, payload: Vec<u8>) -> &mut TcpFlow {
        self.segments.push(Segment::new(dir, payload));
        self
    }

    /// Appends any segment (new data or retransmission).
    pub fn push_segment(&mut self, segment: Segment) -> &mut TcpFlow {
        self.segments.push(segment);
        self
    }

    /// Makes the flow look as if `offsets` bytes had already been exchanged before the first
    /// segment, by advancing both ISNs. Combine with `handshake = false` for a capture that
    /// starts mid-stream with realistic sequence numbers.
    pub fn skip_stream_offsets(mut self, offsets: StreamOffsets) -> TcpFlow {
        // Sequence space is modulo 2^32: truncating the offset is the intended wrap-around.
        self.client_isn = self
            .client_isn
            .wrapping_add(offsets.client_to_server as u32);
        self.server_isn = self
            .server_isn
            .wrapping_add(offsets.server_to_client as u32);
        self
    }

    fn isn(&self, dir: Direction) -> u32 {
        match dir {
            Direction::ClientToServer => self.client_isn,
            Direction::ServerToClient => self.server_isn,
        }
    }

    /// The TCP packets of the flow, in capture order, with sequence and acknowledgment numbers.
    ///
    /// Fails if a retransmission refers to bytes that were not sent yet.
    pub fn packets(&self) -> Result<Vec<TcpPacket>> {
        use Direction::*;
        // Next sequence number to send, per direction; the SYN always occupies ISN.
        let mut next = [
            self.client_isn.wrapping_add(1),
            self.server_isn.wrapping_add(1),
        ];
        // Payload bytes sent so far, per direction (retransmissions excluded).
        let mut sent = [0u64; 2];
        let mut out = Vec::with_capacity(self.segments.len() + 6);
        let ctl = |dir: Direction, seq: u32, ack: Option<u32>, syn: bool, fin: bool| TcpPacket {
            dir,
            seq,
            ack,
            syn,
            fin,
            psh: false,
            payload: Vec::new(),
            timestamp: None,
        };

        if self.handshake {
            out.push(ctl(ClientToServer, self.client_isn, None, true, false));
            out.push(ctl(
                ServerToClient,
                self.server_isn,
                Some(next[0]),
                true,
                false,
            ));
            out.push(ctl(ClientToServer, next[0], Some(next[1]), false, false));
        }

        for (i, seg) in self.segments.iter().enumerate() {
            let d = seg.dir.index();
            let o = seg.dir.reverse().index();
            let len = seg.payload.len() as u64;
            let seq = match seg.resend_offset {
                None => {
                    let seq = next[d];
                    next[d] = next[d].wrapping_add(len as u32);
                    sent[d] += len;
                    seq
                }
                Some(off) => {
                    if off.checked_add(len).is_none_or(|end| end > sent[d]) {
                        return Err(Error::invalid(format!(
                            "segment {i}: retransmission of bytes {off}..{} but only {} bytes \
                             were sent {}",
                            off.saturating_add(len),
                            sent[d],
                            seg.dir.arrow()
                        )));
                    }
                    self.isn(seg.dir).wrapping_add(1).wrapping_add(off as u32)
                }
            };
            out.push(TcpPacket {
                dir: seg.dir,
                seq,
                ack: Some(next[o]),
                syn: false,
                fin: false,
                psh: !seg.payload.is_empty(),
                payload: seg.payload.clone(),
                timestamp: seg.timestamp,
            });
            if self.ack_every_segment && !seg.payload.is_empty() {
                out.push(ctl(seg.dir.reverse(), next[o], Some(next[d]), false, false));
            }
        }

        if self.close {
            out.push(ctl(ClientToServer, next[0], Some(next[1]), false, true));
            next[0] = next[0].wrapping_add(1);
            out.push(ctl(ServerToClient, next[1], Some(next[0]), false, true));
            next[1] = next[1].wrapping_add(1);
            out.push(ctl(ClientToServer, next[0], Some(next[1]), false, false));
        }
        Ok(out)
    }

    /// Serializes one packet of this flow as an Ethernet II / IPv4 / TCP frame with valid IP
    /// and TCP checksums. `ip_id` is the IPv4 identification field.
    pub fn encode(&self, packet: &TcpPacket, ip_id: u16) -> Result<Vec<u8>> {
        let (src_mac, dst_mac, src_ip, dst_ip, sport, dport) = match packet.dir {
            Direction::ClientToServer => (
                CLIENT_MAC,
                SERVER_MAC,
                self.client_ip,
                self.server_ip,
                self.client_port,
                self.server_port,
            ),
            Direction::ServerToClient => (
                SERVER_MAC,
                CLIENT_MAC,
                self.server_ip,
                self.client_ip,
                self.server_port,
                self.client_port,
            ),
        };
        // The payload length is filled in by the builder; 0 here cannot be out of range.
        let mut ip = Ipv4Header::new(0, TTL, IpNumber::TCP, src_ip, dst_ip)
            .map_err(|e| Error::invalid(format!("IPv4 header: {e}")))?;
        ip.identification = ip_id;

        let mut tcp = TcpHeader::new(sport, dport, packet.seq, WINDOW);
        tcp.syn = packet.syn;
        tcp.fin = packet.fin;
        tcp.psh = packet.psh;
        if let Some(ack) = packet.ack {
            tcp.ack = true;
            tcp.acknowledgment_number = ack;
        }

        let builder = PacketBuilder::ethernet2(src_mac, dst_mac)
            .ip(IpHeaders::Ipv4(ip, Default::default()))
            .tcp_header(tcp);
        let mut data = Vec::with_capacity(builder.size(packet.payload.len()));
        builder.write_to_vec(&mut data, &packet.payload)?;
        Ok(data)
    }

    /// All frames of the flow, in capture order (see [`packets`](Self::packets) and
    /// [`encode`](Self::encode)). IPv4 identifications count up per direction from a fixed start.
    pub fn frames(&self) -> Result<Vec<Frame>> {
        let mut ip_id = [0x4000u16, 0x8000u16];
        self.packets()?
            .iter()
            .map(|p| {
                let id = &mut ip_id[p.dir.index()];
                let data = self.encode(p, *id)?;
                *id = id.wrapping_add(1);
                Ok(Frame {
                    timestamp: p.timestamp,
                    data,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::*;

    fn flow() -> TcpFlow {
        let mut f = TcpFlow::new(40000, 2181);
        f.push(ClientToServer, vec![1; 10]);
        f.push(ClientToServer, vec![2; 5]);
        f.push(ServerToClient, vec![3; 7]);
        f.push(ClientToServer, vec![4; 1]);
        f
    }

    #[test]
    fn handshake_data_and_fin_numbers() {
        let c = DEFAULT_CLIENT_ISN;
        let s = DEFAULT_SERVER_ISN;
        let p = flow().packets().unwrap();
        let got: Vec<_> = p
            .iter()
            .map(|p| (p.dir, p.seq, p.ack, p.syn, p.fin, p.payload.len()))
            .collect();
        assert_eq!(
            got,
            vec![
                (ClientToServer, c, None, true, false, 0),
                (ServerToClient, s, Some(c + 1), true, false, 0),
                (ClientToServer, c + 1, Some(s + 1), false, false, 0),
                (ClientToServer, c + 1, Some(s + 1), false, false, 10),
                (ClientToServer, c + 11, Some(s + 1), false, false, 5),
                (ServerToClient, s + 1, Some(c + 16), false, false, 7),
                (ClientToServer, c + 16, Some(s + 8), false, false, 1),
                (ClientToServer, c + 17, Some(s + 8), false, true, 0),
                (ServerToClient, s + 8, Some(c + 18), false, true, 0),
                (ClientToServer, c + 18, Some(s + 9), false, false, 0),
            ]
        );
        assert!(p.iter().all(|p| p.psh != p.payload.is_empty()));
    }

    #[test]
    fn no_handshake_no_fin() {
        let p = flow()
            .with_handshake(false)
            .with_close(false)
            .packets()
            .unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(p[0].seq, DEFAULT_CLIENT_ISN + 1);
        assert!(p.iter().all(|p| p.ack.is_some() && !p.syn && !p.fin));
    }

    #[test]
    fn retransmission_reuses_sequence_numbers() {
        let mut f = flow().with_handshake(false).with_close(false);
        f.segments
            .insert(2, Segment::resend(ClientToServer, 10, vec![2; 5]));
        let p = f.packets().unwrap();
        assert_eq!(p[1].seq, p[2].seq);
        assert_eq!(p[2].payload, p[1].payload);
        // The stream did not advance: the next client segment follows the original bytes.
        assert_eq!(p[4].seq, DEFAULT_CLIENT_ISN + 16);
    }

    #[test]
    fn retransmission_of_unsent_bytes_is_rejected() {
        let mut f = flow();
        f.segments
            .insert(1, Segment::resend(ClientToServer, 8, vec![0; 5]));
        assert!(matches!(f.packets(), Err(Error::Invalid(_))));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut f = TcpFlow::new(1, 2);
        f.client_isn = u32::MAX - 2;
        f.push(ClientToServer, vec![0; 10]);
        f.push(ClientToServer, vec![0; 10]);
        let p = f.packets().unwrap();
        assert_eq!(p[3].seq, u32::MAX - 1);
        assert_eq!(p[4].seq, 8);
    }

    #[test]
    fn pure_acks() {
        let p = flow()
            .with_handshake(false)
            .with_close(false)
            .with_ack_every_segment(true)
            .packets()
            .unwrap();
        assert_eq!(p.len(), 8);
        assert_eq!(p[1].dir, ServerToClient);
        assert_eq!(p[1].ack, Some(DEFAULT_CLIENT_ISN + 11));
        assert!(p[1].payload.is_empty());
    }

    #[test]
    fn frames_have_valid_checksums() {
        for frame in flow().frames().unwrap() {
            let sliced = etherparse::SlicedPacket::from_ethernet(&frame.data).unwrap();
            let Some(etherparse::NetSlice::Ipv4(ip)) = &sliced.net else {
                panic!("no IPv4")
            };
            let header = ip.header().to_header();
            assert_eq!(header.header_checksum, header.calc_header_checksum());
            let Some(etherparse::TransportSlice::Tcp(tcp)) = &sliced.transport else {
                panic!("no TCP")
            };
            let sum = tcp
                .to_header()
                .calc_checksum_ipv4(&header, tcp.payload())
                .unwrap();
            assert_eq!(tcp.checksum(), sum);
        }
    }
}
