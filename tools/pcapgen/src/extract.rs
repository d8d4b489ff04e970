//! Reading real traffic: pcap / pcapng input → per-connection lists of payload messages.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use etherparse::{EtherType, NetSlice, SlicedPacket, TcpSlice, TransportSlice};
use pcap_file::DataLink;
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};

use crate::error::{Error, Result};
use crate::flow::{Direction, Segment};

/// One captured TCP segment's new payload, in one direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Which way it travelled.
    pub dir: Direction,
    /// The payload bytes (never empty).
    pub payload: Vec<u8>,
}

impl From<Message> for Segment {
    fn from(m: Message) -> Segment {
        Segment::new(m.dir, m.payload)
    }
}

impl From<&Message> for Segment {
    fn from(m: &Message) -> Segment {
        Segment::new(m.dir, m.payload.clone())
    }
}

/// One TCP connection found in a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    /// The client's address (the side whose port is not the server port).
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
    /// Whether the client's SYN was captured (false for a capture that starts mid-stream).
    pub saw_syn: bool,
    /// The payload of every captured segment, in capture order; empty segments and data that
    /// was already seen (retransmissions) are left out, so each direction's messages
    /// concatenate to that direction's byte stream.
    pub messages: Vec<Message>,
    /// Segments dropped because all their bytes had been seen before.
    pub dropped_retransmissions: usize,
    /// Segments that started beyond the next expected byte (bytes missing from the capture).
    pub gaps: usize,
}

impl Conversation {
    /// The concatenated payload of one direction.
    pub fn stream(&self, dir: Direction) -> Vec<u8> {
        self.messages
            .iter()
            .filter(|m| m.dir == dir)
            .flat_map(|m| m.payload.iter().copied())
            .collect()
    }

    /// The messages as [`Segment`]s of new data, ready for a [`TcpFlow`](crate::TcpFlow).
    pub fn segments(&self) -> Vec<Segment> {
        self.messages.iter().map(Segment::from).collect()
    }

    /// Index (into `messages`) of the `n`-th (0-based) message travelling in `dir`.
    pub fn nth_index(&self, dir: Direction, n: usize) -> Option<usize> {
        self.messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.dir == dir)
            .nth(n)
            .map(|(i, _)| i)
    }
}

/// Reads a pcap or pcapng file and returns the TCP connections that have `server_port` on one
/// side and carry payload, in order of their first packet. (Connections without any payload,
/// such as the tail end of one that closed just after the capture started, are left out.)
///
/// A new SYN on a 4-tuple that already carried data starts a new conversation. Segments are
/// assumed to be captured in order: a segment whose bytes were all seen already is dropped as a
/// retransmission, one that overlaps the seen bytes is trimmed to its new part, and one that
/// starts beyond the next expected byte is kept (and counted in [`Conversation::gaps`]).
///
/// Supported link types: Ethernet, Linux cooked (SLL and SLL2), raw IP, BSD loopback.
pub fn extract_streams(path: impl AsRef<Path>, server_port: u16) -> Result<Vec<Conversation>> {
    let data = std::fs::read(path)?;
    extract_streams_from_bytes(&data, server_port)
}

/// [`extract_streams`] on a capture already in memory.
pub fn extract_streams_from_bytes(data: &[u8], server_port: u16) -> Result<Vec<Conversation>> {
    extract_streams_ports(data, &[server_port])
}

/// [`extract_streams_from_bytes`] for several server ports at once (an ensemble's client,
/// quorum and election ports): every connection with one of them on one side, the side with
/// that port being the server.
pub fn extract_streams_ports(data: &[u8], server_ports: &[u16]) -> Result<Vec<Conversation>> {
    let mut asm = Assembler::new(server_ports.to_vec());
    for_each_frame(data, |link, frame| {
        if let Some(packet) = slice_frame(link, frame)? {
            asm.add(&packet);
        }
        Ok(())
    })?;
    Ok(asm
        .conversations
        .into_iter()
        .map(|s| s.conv)
        .filter(|c| !c.messages.is_empty())
        .collect())
}

fn for_each_frame(data: &[u8], mut f: impl FnMut(DataLink, &[u8]) -> Result<()>) -> Result<()> {
    let magic = data.get(..4).ok_or(Error::UnknownFormat)?;
    match magic {
        [0x0a, 0x0d, 0x0d, 0x0a] => {
            let mut reader = PcapNgReader::new(data)?;
            let mut links: Vec<DataLink> = Vec::new();
            while let Some(block) = reader.next_block() {
                let (iface, frame) = match block? {
                    Block::SectionHeader(_) => {
                        links.clear();
                        continue;
                    }
                    Block::InterfaceDescription(idb) => {
                        links.push(idb.linktype);
                        continue;
                    }
                    Block::EnhancedPacket(epb) => (epb.interface_id, epb.data),
                    Block::SimplePacket(spb) => (0, spb.data),
                    Block::Packet(pb) => (u32::from(pb.interface_id), pb.data),
                    _ => continue,
                };
                let link = usize::try_from(iface)
                    .ok()
                    .and_then(|i| links.get(i))
                    .ok_or_else(|| {
                        Error::invalid(format!("packet refers to unknown interface {iface}"))
                    })?;
                f(*link, &frame)?;
            }
            Ok(())
        }
        [0xa1, 0xb2, 0xc3, 0xd4]
        | [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d]
        | [0x4d, 0x3c, 0xb2, 0xa1] => {
            let mut reader = PcapReader::new(data)?;
            let link = reader.header().datalink;
            while let Some(packet) = reader.next_packet() {
                f(link, &packet?.data)?;
            }
            Ok(())
        }
        _ => Err(Error::UnknownFormat),
    }
}

/// Decodes one frame down to the transport layer; `Ok(None)` for frames that do not parse
/// (non-IP, truncated, ...), an error for a link type that is not supported at all.
fn slice_frame(link: DataLink, frame: &[u8]) -> Result<Option<SlicedPacket<'_>>> {
    let sliced = match link {
        DataLink::ETHERNET => SlicedPacket::from_ethernet(frame),
        // Linux cooked captures are decoded by hand: etherparse's SLL parser rejects the
        // loopback device type (ARPHRD_LOOPBACK), which is exactly what `-i any` records for lo.
        // SLL: 16-byte header, protocol (an EtherType) in its last two bytes.
        DataLink::LINUX_SLL => return Ok(after_cooked_header(frame, 14, 16)),
        // SLL2: 20-byte header, protocol in its first two bytes.
        DataLink::LINUX_SLL2 => return Ok(after_cooked_header(frame, 0, 20)),
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => SlicedPacket::from_ip(frame),
        // 4-byte address family (host or network order), then the IP packet.
        DataLink::NULL | DataLink::LOOP => match frame.get(4..) {
            Some(rest) => SlicedPacket::from_ip(rest),
            None => return Ok(None),
        },
        other => return Err(Error::UnsupportedLinkType(u32::from(other))),
    };
    Ok(sliced.ok())
}

/// Slices the packet behind a Linux cooked header whose EtherType sits at `proto_at` and that is
/// `header_len` bytes long.
fn after_cooked_header(
    frame: &[u8],
    proto_at: usize,
    header_len: usize,
) -> Option<SlicedPacket<'_>> {
    let proto = frame.get(proto_at..proto_at + 2)?;
    let rest = frame.get(header_len..)?;
    SlicedPacket::from_ether_type(EtherType(u16::from_be_bytes([proto[0], proto[1]])), rest).ok()
}

struct ConvState {
    conv: Conversation,
    /// Next expected sequence number per direction, once known.
    next: [Option<u32>; 2],
}

impl ConvState {
    /// True when a client SYN with this sequence number opens a new connection on the same
    /// 4-tuple rather than repeating the current one's SYN.
    fn restarted_by(&self, syn_seq: u32) -> bool {
        !self.conv.messages.is_empty() || self.next[0].is_some_and(|n| n != syn_seq.wrapping_add(1))
    }
}

struct Assembler {
    server_ports: Vec<u16>,
    conversations: Vec<ConvState>,
    by_tuple: HashMap<(SocketAddr, SocketAddr), usize>,
}

impl Assembler {
    fn new(server_ports: Vec<u16>) -> Assembler {
        Assembler {
            server_ports,
            conversations: Vec::new(),
            by_tuple: HashMap::new(),
        }
    }

    fn add(&mut self, packet: &SlicedPacket<'_>) {
        let (src_ip, dst_ip): (IpAddr, IpAddr) = match &packet.net {
            Some(NetSlice::Ipv4(ip)) => (
                ip.header().source_addr().into(),
                ip.header().destination_addr().into(),
            ),
            Some(NetSlice::Ipv6(ip)) => (
                ip.header().source_addr().into(),
                ip.header().destination_addr().into(),
            ),
            _ => return,
        };
        let Some(TransportSlice::Tcp(tcp)) = &packet.transport else {
            return;
        };
        let src = SocketAddr::new(src_ip, tcp.source_port());
        let dst = SocketAddr::new(dst_ip, tcp.destination_port());
        let (dir, client, server) = if self.server_ports.contains(&dst.port()) {
            (Direction::ClientToServer, src, dst)
        } else if self.server_ports.contains(&src.port()) {
            (Direction::ServerToClient, dst, src)
        } else {
            return;
        };
        self.add_segment(dir, client, server, tcp);
    }

    fn add_segment(
        &mut self,
        dir: Direction,
        client: SocketAddr,
        server: SocketAddr,
        tcp: &TcpSlice<'_>,
    ) {
        let client_syn = tcp.syn() && !tcp.ack() && dir == Direction::ClientToServer;
        let existing = self.by_tuple.get(&(client, server)).copied();
        let idx = match existing {
            Some(i)
                if !(client_syn && self.conversations[i].restarted_by(tcp.sequence_number())) =>
            {
                i
            }
            _ => {
                self.conversations.push(ConvState {
                    conv: Conversation {
                        client,
                        server,
                        saw_syn: false,
                        messages: Vec::new(),
                        dropped_retransmissions: 0,
                        gaps: 0,
                    },
                    next: [None, None],
                });
                let i = self.conversations.len() - 1;
                self.by_tuple.insert((client, server), i);
                i
            }
        };
        let st = &mut self.conversations[idx];
        let d = dir.index();

        let mut seq = tcp.sequence_number();
        if tcp.syn() {
            if client_syn {
                st.conv.saw_syn = true;
            }
            // The SYN occupies one sequence number; any data (TCP Fast Open) follows it.
            seq = seq.wrapping_add(1);
            st.next[d] = Some(seq);
        }
        let mut payload = tcp.payload();
        if payload.is_empty() {
            return;
        }
        // TCP segments are far below 2^31 bytes: the sequence-space arithmetic below is exact.
        let len = payload.len() as u32;
        let end = seq.wrapping_add(len);
        if let Some(next) = st.next[d] {
            if end.wrapping_sub(next) as i32 <= 0 {
                st.conv.dropped_retransmissions += 1;
                return;
            }
            let behind = next.wrapping_sub(seq) as i32;
            if behind > 0 {
                payload = &payload[behind as usize..];
            } else if behind < 0 {
                st.conv.gaps += 1;
            }
        }
        st.next[d] = Some(end);
        st.conv.messages.push(Message {
            dir,
            payload: payload.to_vec(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Capture, Direction::*, TcpFlow};

    fn capture_of(flows: &[TcpFlow]) -> Vec<u8> {
        let mut c = Capture::new();
        for f in flows {
            c.add_flow(f).unwrap();
        }
        c.to_bytes().unwrap()
    }

    #[test]
    fn round_trip() {
        let mut f = TcpFlow::new(40000, 2181);
        f.push(ClientToServer, vec![1, 2, 3]);
        f.push(ServerToClient, vec![4, 5]);
        f.push(ClientToServer, vec![6]);
        let convs = extract_streams_from_bytes(&capture_of(&[f.clone()]), 2181).unwrap();
        assert_eq!(convs.len(), 1);
        let c = &convs[0];
        assert!(c.saw_syn);
        assert_eq!(c.client.port(), 40000);
        assert_eq!(c.server.port(), 2181);
        assert_eq!(c.segments(), f.segments);
        assert_eq!(c.stream(ClientToServer), vec![1, 2, 3, 6]);
        assert_eq!(c.nth_index(ClientToServer, 1), Some(2));
        assert_eq!(c.nth_index(ServerToClient, 1), None);
    }

    #[test]
    fn retransmissions_are_dropped_and_overlaps_trimmed() {
        let mut f = TcpFlow::new(40000, 2181);
        f.push(ClientToServer, vec![1, 2, 3, 4]);
        f.push_segment(Segment::resend(ClientToServer, 0, vec![1, 2, 3, 4]));
        f.push_segment(Segment::resend(ClientToServer, 2, vec![3, 4]));
        f.push(ClientToServer, vec![5]);
        let convs = extract_streams_from_bytes(&capture_of(&[f]), 2181).unwrap();
        assert_eq!(convs[0].dropped_retransmissions, 2);
        assert_eq!(convs[0].stream(ClientToServer), vec![1, 2, 3, 4, 5]);
        assert_eq!(convs[0].messages.len(), 2);
    }

    #[test]
    fn separate_connections_and_port_filter() {
        let mut a = TcpFlow::new(40000, 2181);
        a.push(ClientToServer, vec![1]);
        let mut b = TcpFlow::new(40001, 2181);
        b.push(ServerToClient, vec![2]);
        let mut other = TcpFlow::new(40002, 80);
        other.push(ClientToServer, vec![3]);
        // Same 4-tuple as `a`, reopened with a new ISN.
        let mut a2 = a.clone();
        a2.client_isn = 7;
        let convs = extract_streams_from_bytes(&capture_of(&[a, b, other, a2]), 2181).unwrap();
        let ports: Vec<_> = convs.iter().map(|c| c.client.port()).collect();
        assert_eq!(ports, vec![40000, 40001, 40000]);
    }

    #[test]
    fn midstream_without_syn() {
        let mut f = TcpFlow::new(40000, 2181).with_handshake(false);
        f.push(ServerToClient, vec![9, 9]);
        let convs = extract_streams_from_bytes(&capture_of(&[f]), 2181).unwrap();
        assert!(!convs[0].saw_syn);
        assert_eq!(convs[0].stream(ServerToClient), vec![9, 9]);
    }

    #[test]
    fn connections_without_payload_are_left_out() {
        let empty = TcpFlow::new(40000, 2181);
        let mut full = TcpFlow::new(40001, 2181);
        full.push(ClientToServer, vec![1]);
        let convs = extract_streams_from_bytes(&capture_of(&[empty, full]), 2181).unwrap();
        assert_eq!(convs.len(), 1);
        assert_eq!(convs[0].client.port(), 40001);
    }

    /// The flow's frames re-encapsulated for `link` (the Ethernet header replaced).
    fn reencapsulate(flow: &TcpFlow, link: DataLink) -> Vec<Vec<u8>> {
        flow.frames()
            .unwrap()
            .into_iter()
            .map(|f| {
                let ip = &f.data[14..];
                let mut out = match link {
                    DataLink::ETHERNET => f.data[..14].to_vec(),
                    // Packet type 0, ARPHRD_LOOPBACK (772), address length 6, address, 0x0800.
                    DataLink::LINUX_SLL => {
                        vec![0, 0, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0]
                    }
                    // Protocol 0x0800, reserved, interface 1, ARPHRD_LOOPBACK, type 0, len 6.
                    DataLink::LINUX_SLL2 => {
                        vec![8, 0, 0, 0, 0, 0, 0, 1, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0]
                    }
                    DataLink::NULL => 2u32.to_le_bytes().to_vec(),
                    _ => Vec::new(),
                };
                out.extend_from_slice(ip);
                out
            })
            .collect()
    }

    #[test]
    fn link_types_and_pcapng() {
        use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
        use pcap_file::pcapng::PcapNgWriter;
        use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
        use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
        use std::borrow::Cow;
        use std::time::Duration;

        let mut flow = TcpFlow::new(40000, 2181);
        flow.push(ClientToServer, vec![1, 2, 3]);
        flow.push(ServerToClient, vec![4, 5]);
        let expected = extract_streams_from_bytes(&capture_of(&[flow.clone()]), 2181).unwrap();

        for link in [
            DataLink::ETHERNET,
            DataLink::LINUX_SLL,
            DataLink::LINUX_SLL2,
            DataLink::RAW,
            DataLink::NULL,
        ] {
            let frames = reencapsulate(&flow, link);
            let header = PcapHeader {
                datalink: link,
                ..Default::default()
            };
            let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
            for f in &frames {
                w.write_packet(&PcapPacket::new(Duration::ZERO, f.len() as u32, f))
                    .unwrap();
            }
            let got = extract_streams_from_bytes(&w.into_writer(), 2181).unwrap();
            assert_eq!(got, expected, "pcap, {link:?}");

            let mut w = PcapNgWriter::new(Vec::new()).unwrap();
            w.write_pcapng_block(InterfaceDescriptionBlock::new(link, 0))
                .unwrap();
            for f in &frames {
                w.write_pcapng_block(EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp: Duration::ZERO,
                    original_len: f.len() as u32,
                    data: Cow::Borrowed(f),
                    options: Vec::new(),
                })
                .unwrap();
            }
            let got = extract_streams_from_bytes(&w.into_inner(), 2181).unwrap();
            assert_eq!(got, expected, "pcapng, {link:?}");
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            extract_streams_from_bytes(b"not a capture", 1),
            Err(Error::UnknownFormat)
        ));
        assert!(matches!(
            extract_streams_from_bytes(b"", 1),
            Err(Error::UnknownFormat)
        ));
    }
}
