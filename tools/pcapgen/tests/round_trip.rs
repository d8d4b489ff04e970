//! End to end: segments → strategy → pcap bytes → extract_streams, for every strategy.

use std::num::NonZeroUsize;

use pcapgen::{
    Capture, Conversation, Direction, Direction::*, Segment, TcpFlow, extract_streams,
    extract_streams_from_bytes, resegment,
};

/// A small ZooKeeper-like conversation: connect, one request/reply, two pings, a watch event
/// followed by a reply (two server messages in a row).
fn conversation() -> Vec<Segment> {
    let ping = vec![0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0x0b];
    let pong = [&[0, 0, 0, 0x10, 0xff, 0xff, 0xff, 0xfe][..], &[0; 12][..]].concat();
    vec![
        Segment::new(ClientToServer, (0..49).collect::<Vec<u8>>()),
        Segment::new(ServerToClient, (100..141).collect::<Vec<u8>>()),
        Segment::new(ClientToServer, (7..25).collect::<Vec<u8>>()),
        Segment::new(ServerToClient, (50..138).collect::<Vec<u8>>()),
        Segment::new(ClientToServer, ping.clone()),
        Segment::new(ServerToClient, pong.clone()),
        Segment::new(ClientToServer, ping),
        Segment::new(ServerToClient, pong),
        Segment::new(ServerToClient, (1..35).collect::<Vec<u8>>()),
        Segment::new(ServerToClient, (9..35).collect::<Vec<u8>>()),
    ]
}

fn stream(segs: &[Segment], dir: Direction) -> Vec<u8> {
    segs.iter()
        .filter(|s| s.dir == dir && !s.is_retransmission())
        .flat_map(|s| s.payload.clone())
        .collect()
}

fn pcap(flows: &[TcpFlow]) -> Vec<u8> {
    let mut c = Capture::new();
    for f in flows {
        c.add_flow(f).unwrap();
    }
    c.to_bytes().unwrap()
}

fn read_back(segs: Vec<Segment>) -> Conversation {
    let flow = TcpFlow::new(40000, 2181).with_segments(segs);
    let bytes = pcap(std::slice::from_ref(&flow));
    assert_eq!(bytes, pcap(&[flow]), "not deterministic");
    let mut convs = extract_streams_from_bytes(&bytes, 2181).unwrap();
    assert_eq!(convs.len(), 1);
    convs.remove(0)
}

fn assert_streams(conv: &Conversation, original: &[Segment]) {
    assert_eq!(
        conv.stream(ClientToServer),
        stream(original, ClientToServer)
    );
    assert_eq!(
        conv.stream(ServerToClient),
        stream(original, ServerToClient)
    );
}

#[test]
fn plain_replay_reproduces_segments() {
    let segs = conversation();
    let conv = read_back(segs.clone());
    assert_eq!(conv.segments(), segs);
}

#[test]
fn pieces_round_trip() {
    let segs = conversation();
    for n in [1, 2, 3, 7, 12, 100] {
        let out = resegment::split_into_pieces(&segs, NonZeroUsize::new(n).unwrap());
        let conv = read_back(out.clone());
        assert_streams(&conv, &segs);
        assert_eq!(conv.messages.len(), out.len());
        assert!(conv.messages.iter().all(|m| m.payload.len() <= n));
    }
}

#[test]
fn every_offset_round_trip() {
    let segs = conversation();
    let variants = resegment::split_at_every_offset(&segs, 0).unwrap();
    assert_eq!(variants.len(), 48);
    let flows: Vec<_> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| TcpFlow::new(40000 + i as u16, 2181).with_segments(v.clone()))
        .collect();
    let convs = extract_streams_from_bytes(&pcap(&flows), 2181).unwrap();
    assert_eq!(convs.len(), 48);
    for (i, conv) in convs.iter().enumerate() {
        assert_streams(conv, &segs);
        assert_eq!(conv.messages[0].payload.len(), i + 1);
        assert_eq!(conv.messages[1].payload.len(), 49 - (i + 1));
    }
}

#[test]
fn coalesce_round_trip() {
    let segs = conversation();
    let out = resegment::coalesce(&segs);
    assert_eq!(out.len(), segs.len() - 2);
    let conv = read_back(out);
    assert_streams(&conv, &segs);
}

#[test]
fn retransmission_is_invisible_to_the_reader() {
    let segs = conversation();
    let out = resegment::retransmit(&segs, 3, 0).unwrap();
    let conv = read_back(out);
    assert_streams(&conv, &segs);
    assert_eq!(conv.dropped_retransmissions, 1);
    assert_eq!(conv.segments(), segs);
}

#[test]
fn midstream_round_trip() {
    let segs = conversation();
    let (out, skipped) = resegment::skip_bytes(&segs, 49 + 41 + 5);
    let flow = TcpFlow::new(40000, 2181)
        .with_handshake(false)
        .skip_stream_offsets(skipped)
        .with_segments(out);
    let conv = extract_streams_from_bytes(&pcap(&[flow]), 2181)
        .unwrap()
        .remove(0);
    assert!(!conv.saw_syn);
    assert_eq!(
        conv.stream(ClientToServer),
        stream(&segs, ClientToServer)[54..]
    );
    assert_eq!(
        conv.stream(ServerToClient),
        stream(&segs, ServerToClient)[41..]
    );
}

#[test]
fn many_in_one_round_trip() {
    let segs = conversation();
    let mut out = segs[..2].to_vec();
    out.push(resegment::repeated(ClientToServer, &segs[4].payload, 1000));
    out.push(resegment::repeated(ServerToClient, &segs[5].payload, 1000));
    let conv = read_back(out);
    assert_eq!(conv.messages.len(), 4);
    assert_eq!(conv.messages[2].payload.len(), 12_000);
    assert_eq!(conv.messages[3].payload.len(), 20_000);
}

#[test]
fn oversized_segment_is_an_error_not_a_panic() {
    let flow =
        TcpFlow::new(1, 2).with_segments(vec![Segment::new(ClientToServer, vec![0; 70_000])]);
    assert!(Capture::new().add_flow(&flow).is_err());
}

#[test]
fn file_round_trip() {
    let dir = std::env::temp_dir().join(format!("pcapgen-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("flow.pcap");
    let segs = conversation();
    let mut c = Capture::new();
    c.add_flow(&TcpFlow::new(40000, 2181).with_segments(segs.clone()))
        .unwrap();
    c.write_file(&path).unwrap();
    let conv = extract_streams(&path, 2181).unwrap().remove(0);
    assert_eq!(conv.segments(), segs);
    assert!(matches!(
        extract_streams(dir.join("missing.pcap"), 2181),
        Err(pcapgen::Error::Io(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}
