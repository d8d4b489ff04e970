//! Unit tests on bytes from tests/captures/ensemble/ensemble.pcapng.

use super::*;
use jute_encode::{JuteWriter, hex};

/// Frame 1045: the initial message of server 2 (V1, "127.0.0.1:23889").
const INITIAL: &str = "ffffffffffff000000000000000000020000000f3132372e302e302e313a3233383839";
/// Frames 1052 + 1054: a LOOKING notification (182 bytes, config version 0x2).
const NOTIFICATION: &str = "000000b6000000000000000000000003000000010000002300000000000000020000000000000001000000020000008a7365727665722e313d3132372e302e302e313a32323838383a32333838383a7061727469636970616e740a7365727665722e323d3132372e302e302e313a32323838393a32333838393a7061727469636970616e740a7365727665722e333d3132372e302e302e313a32323839303a32333839303a7061727469636970616e740a76657273696f6e3d30";

#[test]
fn initial_message_v1() {
    let b = hex(INITIAL);
    assert_eq!(pdu_len(&b[..4]), Need::Initial(20));
    assert_eq!(pdu_len(&b), Need::Initial(b.len()));
    let (rest, m) = initial(&b).unwrap();
    assert!(rest.fragment().is_empty());
    assert_eq!(m.protocol_version.unwrap().val, PROTOCOL_VERSION_V1);
    assert_eq!(m.sid.val, 2);
    assert_eq!(m.address.unwrap().val, Some(&b"127.0.0.1:23889"[..]));
    // A pre-3.5 peer sends only its sid.
    let old = JuteWriter::new().long(3).finish();
    assert_eq!(pdu_len(&old), Need::Initial(8));
    assert_eq!(initial(&old).unwrap().1.sid.val, 3);
}

#[test]
fn notification_with_config() {
    let b = hex(NOTIFICATION);
    assert_eq!(pdu_len(&b[..4]), Need::Message(b.len()));
    let (rest, n) = notification(&b).unwrap();
    assert!(rest.fragment().is_empty());
    assert_eq!(state_name(n.state.val), Some("LOOKING"));
    assert_eq!(n.leader.val, 3);
    assert_eq!(n.zxid.val, 0x1_0000_0023);
    assert_eq!(n.election_epoch.val, 2);
    assert_eq!(n.peer_epoch.unwrap().val, 1);
    assert_eq!(n.version.unwrap().val, 2);
    assert!(n.config.unwrap().val.unwrap().starts_with(b"server.1="));
    // The 28-byte pre-3.4 form has no peer epoch.
    let old = JuteWriter::new().int(28).raw(&b[4..32]).finish();
    let (_, n) = notification(&old).unwrap();
    assert!(n.peer_epoch.is_none() && n.version.is_none());
}

#[test]
fn bogus_lengths() {
    assert_eq!(pdu_len(JuteWriter::new().int(-7).bytes()), Need::Bogus);
    assert_eq!(pdu_len(JuteWriter::new().int(1 << 30).bytes()), Need::Bogus);
    let mut b = hex(INITIAL);
    b[7] = 5; // not -65536/-65535
    assert_eq!(pdu_len(&b), Need::Bogus);
}

#[test]
fn initial_message_heuristic() {
    let b = hex(INITIAL);
    assert!(looks_like_initial(&b));
    assert!(!looks_like_initial(&b[..b.len() - 1]), "address cut short");
    let mut v = b.clone();
    v[7] = 2; // protocol version -65534: unknown
    assert!(!looks_like_initial(&v));
    let mut no_colon = b.clone();
    let colon = no_colon.iter().rposition(|&c| c == b':').unwrap();
    no_colon[colon] = b'.';
    assert!(!looks_like_initial(&no_colon));
    let mut binary = b.clone();
    *binary.last_mut().unwrap() = 0;
    assert!(!looks_like_initial(&binary));
    // A notification, or a pre-3.5 bare sid, is not claimed.
    assert!(!looks_like_initial(&hex(NOTIFICATION)));
    assert!(!looks_like_initial(JuteWriter::new().long(3).bytes()));
}
