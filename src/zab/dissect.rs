//! From bytes to the tree for the quorum protocol: framing through `tcp_dissect_pdus` (with
//! the session deciding where the snapshot stream is), then the parsed QuorumPacket and its
//! decoded data at the offsets the parser reports.

use super::REGISTRATION;
use super::connection::{Chunk, Connection, Framing};
use super::fields::{Ei, Ett, Hf};
use super::parse::{
    self, Body, LearnerInfo, LearnerRequest, Proposal, QuorumPacket, SessionTimeout, Txn, ptype,
};
use crate::common::{At, Direction, PduKey};
use crate::epan::{Enc, FramedDissector, Packet, PduLen, Protocol, Tree};
use crate::jute::{Acl, Counted, Input, failure, input, text_or_null};
use crate::zookeeper::parse::request_body;
use crate::zookeeper::{ErrorCode, Opcode};

pub struct Zab;

fn proto() -> Protocol {
    REGISTRATION.proto()
}

fn max_len() -> usize {
    REGISTRATION
        .get()
        .map_or(super::DEFAULT_MAX_PDU, |r| r.settings.max_pdu.get()) as usize
}

fn clamp(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl FramedDissector for Zab {
    /// One byte: a QuorumPacket's 16-byte head (type, zxid, data length) is asked for in
    /// `pdu_len`, because the snapshot stream after SNAP is taken as it comes, and its end
    /// marker's last bytes can be fewer than 16.
    const HEADER_LEN: u32 = 1;

    fn protocol() -> Protocol {
        proto()
    }

    fn pdu_len(pkt: &Packet<'_>, bytes: &[u8]) -> PduLen {
        let Some(mut s) = pkt.conversation::<Connection>(proto()) else {
            return PduLen::RestOfSegment;
        };
        let dir = s.direction(pkt.src_port(), pkt.dst_port(), pkt.match_uint());
        if s.needs_header(dir, pkt.frame(), !pkt.visited(), bytes) {
            return PduLen::NeedMore;
        }
        match s.framing_at(dir, pkt.frame(), !pkt.visited(), bytes, max_len(), || {
            pkt.stream_start()
        }) {
            Framing::Packet(n) if n > bytes.len() && parse::awaits_authinfo(bytes, max_len()) => {
                PduLen::NeedMore
            }
            Framing::Packet(n) | Framing::Snapshot(n) | Framing::Unsynced(Some(n)) => {
                PduLen::Exactly(clamp(n))
            }
            Framing::Bogus | Framing::Unsynced(None) => PduLen::RestOfSegment,
        }
    }

    fn dissect_pdu(pkt: &Packet<'_>, tree: Tree<'_>, bytes: &[u8]) {
        pkt.set_protocol_column(c"ZAB");
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
        let from_leader =
            s.direction(pkt.src_port(), pkt.dst_port(), pkt.match_uint()) == Direction::ToClient;
        let chunk = s.chunk(pkt.frame(), bytes);
        let (item, t) = tree.add_protocol(Hf::Proto, 0, bytes.len(), Ett::Pdu);
        t.add_bool(Hf::FromLeader, 0, 0, from_leader).generated();
        let info = match chunk {
            Some(Chunk::Snapshot) => snapshot(pkt, &t, bytes, false, false),
            Some(Chunk::SnapshotEnd) => snapshot(pkt, &t, bytes, false, true),
            Some(Chunk::Unsynced) => snapshot(pkt, &t, bytes, true, false),
            None => packet(pkt, &t, bytes, from_leader, (&mut *s, key)),
        };
        drop(s);
        item.append_text(&format!(", {info}"));
        pkt.append_info(&info);
    }

    /// A learner's FOLLOWERINFO or OBSERVERINFO on any port: the leader is the side it is
    /// sent to.
    fn heuristic(pkt: &Packet<'_>, bytes: &[u8]) -> bool {
        if !parse::looks_like_learner_hello(bytes) {
            return false;
        }
        match pkt.conversation::<Connection>(proto()) {
            Some(mut s) => {
                s.leader_port.learn(pkt.dst_port());
                true
            }
            None => false,
        }
    }
}

fn zxid_text(z: i64) -> String {
    format!("0x{:x}", z as u64)
}

/// A chunk of the snapshot stream (or of unsynchronised bytes). `end`: the chunk ends the
/// snapshot, though its end marker may have begun in the chunk before.
fn snapshot(pkt: &Packet<'_>, t: &Tree<'_>, bytes: &[u8], unsynced: bool, end: bool) -> String {
    let sig = parse::SIGNATURE.len();
    let has_sig = bytes.ends_with(parse::SIGNATURE);
    let end = end || has_sig;
    let body = if has_sig {
        bytes.len() - sig
    } else {
        bytes.len()
    };
    let (item, sub) = if unsynced {
        let item = t.add(Hf::Unsynced, 0, body, Enc::Na);
        item.expert(
            pkt,
            Ei::Unsynced,
            &format!("{body} bytes before the first recognisable packet"),
        );
        (item, item.subtree(Ett::Snapshot))
    } else {
        let item = t.add(Hf::Snapshot, 0, body, Enc::Na);
        item.expert(
            pkt,
            Ei::Snapshot,
            &format!("Snapshot data: {body} bytes of the data tree sent after SNAP"),
        );
        (item, item.subtree(Ett::Snapshot))
    };
    let _ = (item, sub);
    if has_sig {
        t.add_string(Hf::SnapshotSignature, body + 4, sig - 4, "BenWasHere");
    }
    match (unsynced, end) {
        (false, true) => format!("snapshot data {} bytes, end of snapshot", bytes.len()),
        (false, false) => format!("snapshot data {} bytes", bytes.len()),
        (true, true) => format!("unsynchronised data {} bytes, end of snapshot", bytes.len()),
        (true, false) => format!("unsynchronised data {} bytes", bytes.len()),
    }
}

/// The connection and the PDU's key, for the packet's place on a write's path.
type OnLink<'c> = (&'c mut Connection, PduKey);

fn packet(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    bytes: &[u8],
    from_leader: bool,
    on_link: OnLink<'_>,
) -> String {
    let qp = match parse::quorum_packet(bytes) {
        Ok((_, qp)) => qp,
        Err(e) => {
            t.add(Hf::Type, 0, 4, Enc::BigEndian);
            t.add(Hf::Zxid, 4, 8, Enc::BigEndian);
            t.add(Hf::DataLen, 12, 4, Enc::BigEndian);
            let f = failure(e);
            let bogus = matches!(
                parse::packet_len(bytes, max_len()),
                parse::Need::Bogus | parse::Need::AtLeast(_)
            );
            let ei = if bogus {
                Ei::BogusLength
            } else {
                Ei::Malformed
            };
            t.add_expert(
                pkt,
                ei,
                f.off,
                bytes.len().saturating_sub(f.off),
                &format!(
                    "Malformed QuorumPacket at offset {}: {}",
                    f.off,
                    f.describe()
                ),
            );
            if bytes.len() > 16 {
                t.add(Hf::Undecoded, 16, bytes.len() - 16, Enc::Na);
            }
            return "malformed QuorumPacket".to_string();
        }
    };
    let pt = qp.ptype.val;
    let name = ptype::name(pt);
    let type_item = t.add_at(Hf::Type, &qp.ptype);
    if name.is_none() {
        type_item.expert(
            pkt,
            Ei::UnknownType,
            &format!("Unknown QuorumPacket type {pt}"),
        );
    }
    zxid(t, Hf::Zxid, Ett::Zxid, qp.zxid);
    t.add(Hf::DataLen, qp.data.off, 4, Enc::BigEndian);
    let mut info = format!(
        "{} zxid {}",
        name.map_or_else(|| format!("type {pt}"), str::to_string),
        zxid_text(qp.zxid.val)
    );
    match qp.data_input {
        Some(data) => data_body(pkt, t, &qp, data, from_leader, on_link, &mut info),
        // ACK, COMMIT and SYNC carry no data.
        None => super::quorum::write_path(pkt, t, on_link, &qp, &Body::None, from_leader),
    }
    auth(t, &qp);
    info
}

fn zxid(t: &Tree<'_>, hf: Hf, ett: Ett, z: At<i64>) {
    let item = t.add(hf, z.off, 8, Enc::BigEndian);
    let sub = item.subtree(ett);
    let v = z.val as u64;
    sub.add_u32(Hf::ZxidEpoch, z.off, 4, (v >> 32) as u32)
        .generated();
    sub.add_u32(Hf::ZxidCounter, z.off + 4, 4, v as u32)
        .generated();
}

fn auth(t: &Tree<'_>, qp: &QuorumPacket<'_>) {
    t.add(Hf::AuthCount, qp.authinfo.off, 4, Enc::BigEndian);
    for a in &qp.authinfo.val {
        let label = format!(
            "Auth info: {}:{}",
            text_or_null(a.val.scheme.val),
            text_or_null(a.val.id.val)
        );
        let (_, sub) = t.add_group(Hf::Auth, a.off, a.len, Ett::Auth, &label);
        string(&sub, Hf::AuthScheme, &a.val.scheme);
        string(&sub, Hf::AuthId, &a.val.id);
    }
}

fn counted(t: &Tree<'_>, hf: Hf, c: &Counted<'_>, utf8: bool) {
    match c.val {
        Some(_) => {
            t.add_counted(hf, c.off, c.len, utf8);
        }
        None => {
            t.add(Hf::TxnNull, c.off, c.len, Enc::Na);
        }
    }
}

fn string(t: &Tree<'_>, hf: Hf, c: &Counted<'_>) {
    counted(t, hf, c, true);
}

fn op_name(op: i32) -> String {
    Opcode::name_of(op).map_or_else(|| format!("opcode {op}"), str::to_string)
}

fn data_body(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    qp: &QuorumPacket<'_>,
    data: Input<'_>,
    from_leader: bool,
    on_link: OnLink<'_>,
    info: &mut String,
) {
    let end = data.location_offset() + data.fragment().len();
    let (rest, body) = match parse::body(qp.ptype.val, from_leader, data) {
        Ok(r) => r,
        Err(e) => {
            let f = failure(e);
            t.add(
                Hf::Data,
                data.location_offset(),
                data.fragment().len(),
                Enc::Na,
            );
            t.add_expert(
                pkt,
                Ei::Malformed,
                f.off,
                end.saturating_sub(f.off),
                &format!("Malformed data at offset {}: {}", f.off, f.describe()),
            );
            info.push_str(" [malformed]");
            return;
        }
    };
    match &body {
        Body::None => {}
        Body::Proposal(p) => proposal(pkt, t, p, info),
        Body::InformAndActivate {
            suggested_leader,
            proposal: p,
        } => {
            t.add_at(Hf::SuggestedLeader, suggested_leader);
            info.push_str(&format!(" suggested leader {}", suggested_leader.val));
            proposal(pkt, t, p, info);
        }
        Body::SuggestedLeader(l) => {
            t.add_at(Hf::SuggestedLeader, l);
            info.push_str(&format!(" suggested leader {}", l.val));
        }
        Body::Request(r) => request(t, r, info),
        Body::LearnerInfo(l) => learner_info(t, l, info),
        Body::ProtocolVersion(v) => {
            t.add_at(Hf::ProtocolVersion, v);
            info.push_str(&format!(" protocol 0x{:x}", v.val));
        }
        Body::Epoch(v) => {
            t.add_at(Hf::Epoch, v);
            info.push_str(&format!(" epoch {}", v.val));
        }
        Body::Touches(list) => {
            t.add_u32(
                Hf::SessionCount,
                data.location_offset(),
                data.fragment().len(),
                clamp(list.len()),
            )
            .generated();
            for s in list {
                session(t, s.off, s.len, &s.val, None);
            }
            if !list.is_empty() {
                info.push_str(&format!(" {} sessions", list.len()));
            }
        }
        Body::Revalidate(s) => {
            let off = s.session_id.off;
            session(t, off, 12, s, None);
            info.push_str(&format!(" session 0x{:x}", s.session_id.val as u64));
        }
        Body::RevalidateReply(r) => {
            t.add_at(Hf::SessionId, &r.session_id);
            t.add(Hf::RevalidateValid, r.valid.off, 1, Enc::Na);
            info.push_str(&format!(
                " session 0x{:x} {}",
                r.session_id.val as u64,
                if r.valid.val { "valid" } else { "invalid" }
            ));
        }
        Body::Config(c) => {
            t.add(Hf::Config, c.off, c.len, Enc::Utf8);
        }
        Body::Raw => {
            t.add(
                Hf::Data,
                data.location_offset(),
                data.fragment().len(),
                Enc::Na,
            );
        }
    }
    super::quorum::write_path(pkt, t, on_link, qp, &body, from_leader);
    let used = rest.location_offset();
    if used < end && !matches!(body, Body::Raw) {
        t.add(Hf::Undecoded, used, end - used, Enc::Na).expert(
            pkt,
            Ei::Trailing,
            &format!("{} bytes after the record", end - used),
        );
    }
}

fn session(t: &Tree<'_>, off: usize, len: usize, s: &SessionTimeout, _x: Option<()>) {
    let label = format!(
        "Session 0x{:x}, timeout {} ms",
        s.session_id.val as u64, s.timeout.val
    );
    let (_, sub) = t.add_group(Hf::Session, off, len, Ett::Session, &label);
    sub.add_at(Hf::SessionId, &s.session_id);
    sub.add_at(Hf::SessionTimeout, &s.timeout);
}

fn learner_info(t: &Tree<'_>, l: &LearnerInfo, info: &mut String) {
    t.add_at(Hf::LearnerSid, &l.sid);
    info.push_str(&format!(" sid {}", l.sid.val));
    if let Some(v) = l.protocol_version {
        t.add_at(Hf::LearnerProtocolVersion, &v);
    }
    if let Some(v) = l.config_version {
        t.add_at(Hf::LearnerConfigVersion, &v);
    }
}

fn request(t: &Tree<'_>, r: &LearnerRequest<'_>, info: &mut String) {
    let (_, sub) = t.add_group(
        Hf::Txn,
        r.session_id.off,
        r.body.end() - r.session_id.off,
        Ett::Request,
        &format!("Request: {}", op_name(r.rtype.val)),
    );
    sub.add_at(Hf::RequestSessionId, &r.session_id);
    sub.add_at(Hf::RequestCxid, &r.cxid);
    sub.add_at(Hf::RequestType, &r.rtype);
    info.push_str(&format!(" {}", op_name(r.rtype.val)));
    if r.body.len > 0 {
        sub.add(Hf::RequestBody, r.body.off, r.body.len, Enc::Na);
        // The client request record: decode its path where it has one. Offsets of this
        // parse are relative to the body, hence the shift.
        if let Some(Ok((_, b))) = request_body(r.rtype.val, input(r.body.val))
            && let Some(p) = b.path().copied()
            && let Some(v) = p.val
        {
            sub.add_counted(Hf::RequestPath, r.body.off + p.off, p.len, true);
            info.push_str(&format!(" {}", String::from_utf8_lossy(v)));
        }
    }
}

fn proposal(pkt: &Packet<'_>, t: &Tree<'_>, p: &Proposal<'_>, info: &mut String) {
    let h = &p.header;
    let ty = h.ttype.val;
    let (_, sub) = t.add_group(
        Hf::Txn,
        h.client_id.off,
        h.ttype.end() - h.client_id.off,
        Ett::Txn,
        &format!("Transaction: {}", op_name(ty)),
    );
    sub.add_at(Hf::TxnClientId, &h.client_id);
    sub.add_at(Hf::TxnCxid, &h.cxid);
    zxid(&sub, Hf::TxnZxid, Ett::TxnZxid, h.zxid);
    sub.add_time_ms(Hf::TxnTime, h.time.off, 8, h.time.val);
    let ti = sub.add_at(Hf::TxnType, &h.ttype);
    if Opcode::name_of(ty).is_none() {
        ti.expert(pkt, Ei::UnknownType, &format!("Unknown txn type {ty}"));
    }
    info.push_str(&format!(" {}", op_name(ty)));
    if let Some(txn) = &p.txn {
        txn_record(t, txn, info);
    }
    if let Some(d) = &p.digest {
        t.add_at(Hf::TxnDigestVersion, &d.version);
        t.add_at(Hf::TxnDigestTree, &d.tree_digest);
    }
}

fn txn_record(t: &Tree<'_>, txn: &Txn<'_>, info: &mut String) {
    if let Some(p) = parse::txn_path(txn) {
        info.push_str(&format!(" {}", String::from_utf8_lossy(p)));
    }
    match txn {
        Txn::Create {
            path,
            data,
            acl,
            ephemeral,
            parent_cversion,
            ttl,
        } => {
            string(t, Hf::TxnPath, path);
            counted(t, Hf::TxnData, data, false);
            acl_list(t, acl);
            if let Some(e) = ephemeral {
                t.add(Hf::TxnEphemeral, e.off, 1, Enc::Na);
            }
            t.add(
                Hf::TxnParentCversion,
                parent_cversion.off,
                4,
                Enc::BigEndian,
            );
            if let Some(x) = ttl {
                t.add_at(Hf::TxnTtl, x);
            }
        }
        Txn::Delete { path } => string(t, Hf::TxnPath, path),
        Txn::SetData {
            path,
            data,
            version,
        } => {
            string(t, Hf::TxnPath, path);
            counted(t, Hf::TxnData, data, false);
            t.add_at(Hf::TxnVersion, version);
        }
        Txn::Check { path, version } => {
            string(t, Hf::TxnPath, path);
            t.add_at(Hf::TxnVersion, version);
        }
        Txn::SetAcl { path, acl, version } => {
            string(t, Hf::TxnPath, path);
            acl_list(t, acl);
            t.add_at(Hf::TxnVersion, version);
        }
        Txn::CreateSession { timeout } => {
            t.add_at(Hf::TxnTimeout, timeout);
            info.push_str(&format!(" timeout {}ms", timeout.val));
        }
        Txn::CloseSession { paths } => {
            if let Some(list) = paths {
                for p in &list.val {
                    string(t, Hf::TxnPathToDelete, p);
                }
            }
        }
        Txn::Error { err } => {
            t.add_at(Hf::TxnErr, err);
            let name =
                ErrorCode::name_of(err.val).map_or_else(|| err.val.to_string(), str::to_string);
            info.push_str(&format!(" {name}"));
        }
        Txn::Multi { txns } => {
            t.add(Hf::TxnMultiCount, txns.off, 4, Enc::BigEndian);
            let mut ops = Vec::new();
            for e in &txns.val {
                let len = e.data.end() - e.ttype.off;
                let (_, sub) = t.add_group(
                    Hf::TxnMulti,
                    e.ttype.off,
                    len,
                    Ett::Multi,
                    &format!("Sub-transaction: {}", op_name(e.ttype.val)),
                );
                sub.add_at(Hf::TxnMultiType, &e.ttype);
                match &e.txn {
                    Some(inner) => {
                        let mut ignored = String::new();
                        txn_record(&sub, inner, &mut ignored);
                    }
                    None => counted(&sub, Hf::TxnMultiData, &e.data, false),
                }
                ops.push(op_name(e.ttype.val));
            }
            info.push_str(&format!(" [{}]", ops.join(",")));
        }
        Txn::Empty => {}
    }
}

fn acl_list(t: &Tree<'_>, list: &At<Vec<At<Acl<'_>>>>) {
    let (_, sub) = t.add_group(
        Hf::TxnAcl,
        list.off,
        list.len,
        Ett::AclList,
        &format!("ACL: {} entries", list.val.len()),
    );
    sub.add(Hf::TxnAclCount, list.off, 4, Enc::BigEndian);
    for a in &list.val {
        let label = format!(
            "{}:{} perms 0x{:x}",
            text_or_null(a.val.id.val.scheme.val),
            text_or_null(a.val.id.val.id.val),
            a.val.perms.val
        );
        let (_, e) = sub.add_group(Hf::TxnAcl, a.off, a.len, Ett::Acl, &label);
        e.add_at(Hf::TxnAclPerms, &a.val.perms);
        string(&e, Hf::TxnAclScheme, &a.val.id.val.scheme);
        string(&e, Hf::TxnAclId, &a.val.id.val.id);
    }
}
