use super::*;

#[test]
fn initial_first_then_notifications_carry_the_sid() {
    let mut s = Session::default();
    assert!(s.from_initiator(50000, 23888, 23888));
    let k = |frame| PduKey { frame, index: 0 };
    assert_eq!(
        s.classify(k(1), true, Some(2)),
        Decision {
            late_initial: false,
            peer_sid: Some(2)
        }
    );
    assert_eq!(s.classify(k(2), true, None).peer_sid, Some(2));
    assert_eq!(s.classify(k(3), false, None).peer_sid, None);
    assert!(s.classify(k(4), true, Some(9)).late_initial);
    // Decided once: a second call returns the stored decision.
    assert_eq!(s.classify(k(1), true, None).peer_sid, Some(2));
    assert_eq!(s.decision(k(4)).map(|d| d.late_initial), Some(true));
}
