//! From bytes to the tree for leader election: framing through `tcp_dissect_pdus` (the
//! 4-byte length may arrive one byte per segment), then the initial message or a
//! notification at the offsets the parser reports.

use super::REGISTRATION;
use super::connection::{Connection, Decision};
use super::fields::{Ei, Ett, Hf};
use super::parse::{self, Need, state_name};
use crate::common::{Direction, PduKey};
use crate::epan::{Enc, FramedDissector, Packet, PduLen, Protocol, Tree};
use crate::jute::failure;

pub struct Election;

fn proto() -> Protocol {
    REGISTRATION.proto()
}

impl FramedDissector for Election {
    const HEADER_LEN: u32 = 4;

    fn protocol() -> Protocol {
        proto()
    }

    fn pdu_len(_pkt: &Packet<'_>, bytes: &[u8]) -> PduLen {
        match parse::pdu_len(bytes) {
            // A 3.5+ initial message whose address length is not here yet: its length is
            // unknown, so take the next segment too rather than ask for exactly 20 bytes and
            // then again (TCP cannot extend that request inside one segment).
            Need::Initial(20) if bytes.len() < 20 && bytes.starts_with(&[0xff; 4]) => {
                PduLen::NeedMore
            }
            Need::Initial(n) | Need::Message(n) => {
                PduLen::Exactly(u32::try_from(n).unwrap_or(u32::MAX))
            }
            Need::Bogus => PduLen::RestOfSegment,
        }
    }

    fn dissect_pdu(pkt: &Packet<'_>, tree: Tree<'_>, bytes: &[u8]) {
        pkt.set_protocol_column(c"ZKELECTION");
        let key = PduKey {
            frame: pkt.frame(),
            index: pkt.next_pdu_index(proto()),
        };
        if key.index == 0 {
            pkt.clear_info();
        }
        let Some(mut s) = pkt.conversation::<Connection>(proto()) else {
            return;
        };
        let dir = s.direction(pkt.src_port(), pkt.dst_port(), pkt.match_uint());
        let need = parse::pdu_len(bytes);
        let initial = match need {
            Need::Initial(_) => parse::initial(bytes).ok().map(|(_, i)| i),
            _ => None,
        };
        let decision = if pkt.visited() {
            s.decision(key).unwrap_or_default()
        } else {
            s.classify(key, dir, initial.as_ref().map(|i| i.sid.val))
        };
        drop(s);
        let (item, t) = tree.add_protocol(Hf::Proto, 0, bytes.len(), Ett::Pdu);
        t.add_bool(Hf::Initiator, 0, 0, dir == Direction::ToServer)
            .generated();
        let info = match need {
            Need::Bogus => {
                t.add(Hf::Undecoded, 0, bytes.len(), Enc::Na).expert(
                    pkt,
                    Ei::BogusLength,
                    "Negative or oversized length, or unknown protocol version",
                );
                "bogus length, undecoded".to_string()
            }
            Need::Initial(_) => initial_msg(pkt, &t, bytes, decision),
            Need::Message(_) => notification(pkt, &t, bytes, decision),
        };
        item.append_text(&format!(", {info}"));
        pkt.append_info(&info);
    }

    /// A 3.5+ initial message on any port: the initiator is the side that sends it.
    fn heuristic(pkt: &Packet<'_>, bytes: &[u8]) -> bool {
        if !parse::looks_like_initial(bytes) {
            return false;
        }
        match pkt.conversation::<Connection>(proto()) {
            Some(mut s) => {
                s.server_port.learn(pkt.dst_port());
                true
            }
            None => false,
        }
    }
}

fn malformed(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    e: nom::Err<nom::error::Error<crate::jute::Input<'_>>>,
    end: usize,
) {
    let f = failure(e);
    t.add_expert(
        pkt,
        Ei::Malformed,
        f.off,
        end.saturating_sub(f.off),
        &format!("Malformed message at offset {}: {}", f.off, f.describe()),
    );
}

fn trailing(pkt: &Packet<'_>, t: &Tree<'_>, used: usize, end: usize) {
    if end > used {
        t.add(Hf::Undecoded, used, end - used, Enc::Na).expert(
            pkt,
            Ei::Trailing,
            &format!("{} bytes after the record", end - used),
        );
    }
}

fn initial_msg(pkt: &Packet<'_>, t: &Tree<'_>, bytes: &[u8], d: Decision) -> String {
    let (rest, m) = match parse::initial(bytes) {
        Ok(r) => r,
        Err(e) => {
            malformed(pkt, t, e, bytes.len());
            return "initial message [malformed]".to_string();
        }
    };
    if let Some(v) = m.protocol_version {
        t.add_at(Hf::ProtocolVersion, &v);
    }
    let sid_item = t.add_at(Hf::Sid, &m.sid);
    if d.late_initial {
        sid_item.expert(pkt, Ei::LateInitial, "Initial message after other messages");
    }
    let mut info = format!("Initial sid {}", m.sid.val);
    if let Some(a) = &m.address {
        t.add_counted(Hf::Address, a.off, a.len, true);
        if let Some(v) = a.val {
            info.push_str(&format!(" {}", String::from_utf8_lossy(v)));
        }
    }
    trailing(pkt, t, rest.location_offset(), bytes.len());
    info
}

fn notification(pkt: &Packet<'_>, t: &Tree<'_>, bytes: &[u8], d: Decision) -> String {
    t.add(Hf::Len, 0, 4, Enc::BigEndian);
    if let Some(sid) = d.peer_sid {
        t.add_i64(Hf::PeerSid, 0, 0, sid).generated();
    }
    let (rest, n) = match parse::notification(bytes) {
        Ok(r) => r,
        Err(e) => {
            malformed(pkt, t, e, bytes.len());
            return "Notification [malformed]".to_string();
        }
    };
    let st = t.add_at(Hf::State, &n.state);
    let state = state_name(n.state.val).map_or_else(
        || {
            st.expert(
                pkt,
                Ei::UnknownState,
                &format!("Unknown state {}", n.state.val),
            );
            format!("state {}", n.state.val)
        },
        str::to_string,
    );
    t.add_at(Hf::Leader, &n.leader);
    t.add_at(Hf::Zxid, &n.zxid);
    t.add_at(Hf::ElectionEpoch, &n.election_epoch);
    if let Some(p) = n.peer_epoch {
        t.add_at(Hf::PeerEpoch, &p);
    }
    if let Some(v) = n.version {
        t.add_at(Hf::Version, &v);
    }
    if let Some(c) = &n.config {
        t.add(Hf::ConfigLen, c.off, 4, Enc::BigEndian);
        t.add_counted(Hf::Config, c.off, c.len, true);
    }
    trailing(pkt, t, rest.location_offset(), bytes.len());
    format!(
        "Notification {} leader {} zxid 0x{:x} epoch {}",
        state, n.leader.val, n.zxid.val as u64, n.election_epoch.val
    )
}
