use super::*;
use crate::common::Direction::{ToClient, ToServer};

#[test]
fn initial_first_then_notifications_carry_the_sid() {
    let mut s = Connection::default();
    assert_eq!(s.direction(50000, 23888, 23888), ToServer);
    let k = |frame| PduKey { frame, index: 0 };
    assert_eq!(
        s.classify(k(1), ToServer, Some(2)),
        Decision {
            late_initial: false,
            peer_sid: Some(2)
        }
    );
    assert_eq!(s.classify(k(2), ToServer, None).peer_sid, Some(2));
    assert_eq!(s.classify(k(3), ToClient, None).peer_sid, None);
    assert!(s.classify(k(4), ToServer, Some(9)).late_initial);
    // Decided once: a second call returns the stored decision.
    assert_eq!(s.classify(k(1), ToServer, None).peer_sid, Some(2));
    assert_eq!(s.decision(k(4)).map(|d| d.late_initial), Some(true));
}
