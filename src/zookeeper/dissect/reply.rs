//! Replies to the tree: the handshake's ConnectResponse, the reply header with its link to
//! the request, each opcode's body, and watch notifications.

use super::*;

pub(super) fn connect_response(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    c: &parse::Parsed<'_, parse::ConnectResponse<'_>>,
    end: usize,
    info: &mut Info,
) {
    info.push_str("connect reply");
    match c {
        Ok((rest, c)) => {
            t.add(
                Hf::ConnectProtocolVersion,
                c.protocol_version.off,
                4,
                Enc::BigEndian,
            );
            let timeout = t.add_at(Hf::ConnectTimeout, &c.timeout);
            if !parse::is_connect_response_len(end - 4) {
                t.add_expert(
                    pkt,
                    Ei::ConnectOddLength,
                    c.protocol_version.off,
                    4,
                    &format!(
                        "ConnectResponse of {} bytes: servers send 36 or 37",
                        end - 4
                    ),
                );
            }
            t.add_at(Hf::ConnectSessionId, &c.session_id);
            bytes_field(t, Hf::ConnectPasswd, &c.passwd, "Password");
            if let Some(ro) = c.read_only {
                t.add(Hf::ConnectReadOnly, ro.off, 1, Enc::Na);
            }
            if c.protocol_version.val == super::super::protocol_version::CONNECTION_REJECT {
                t.add_expert(
                    pkt,
                    Ei::KeeperRejected,
                    c.protocol_version.off,
                    4,
                    "ClickHouse Keeper refused the connection (protocol version 42): it is not ready, sees no leader or is stale; the client tries another server",
                );
                info.push_str(" REJECTED by Keeper");
            } else if c.timeout.val == 0 {
                timeout.expert(pkt, Ei::RejectedSession, "Session rejected: the server answered with timeout 0 (expired session or bad password) and closes the connection");
                info.push_str(" REJECTED (session expired)");
            } else {
                let _ = write!(
                    info,
                    " session 0x{:x} timeout {}ms",
                    c.session_id.val, c.timeout.val
                );
            }
            trailing(pkt, t, rest.location_offset(), end);
        }
        Err(e) => malformed(pkt, t, e, end, info),
    }
}

pub(super) fn reply(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    r: &Result<parse::Reply<'_>, parse::Failure>,
    link: Option<&RequestLink>,
    opaque: bool,
    end: usize,
    info: &mut Info,
) {
    let r = match r {
        Ok(r) => r,
        Err(e) => return malformed(pkt, t, e, end, info),
    };
    let h = &r.header;
    t.add_at(Hf::Xid, &h.xid);
    t.add_at(Hf::Zxid, &h.zxid);
    let err_item = t.add_at(Hf::Err, &h.err);
    let err = h.err.val;

    let op = match link {
        Some(l) => {
            t.add_u32(Hf::RequestIn, 0, 0, l.frame).generated();
            t.add_duration(Hf::Time, 0, 0, pkt.time() - l.time)
                .generated();
            t.add_i32(Hf::Opcode, 0, 0, l.opcode).generated();
            if let Some(p) = &l.path {
                t.add_string(Hf::Path, 0, 0, p).generated();
            }
            Some(l.opcode)
        }
        None => {
            // Control xids say what they answer even without the request.
            let op = match h.xid.val {
                xid::PING => Some(opcode::PING),
                xid::AUTH => Some(opcode::AUTH),
                xid::SET_WATCHES => Some(opcode::SET_WATCHES),
                _ => None,
            };
            t.add(Hf::RequestNotCaptured, 0, 0, Enc::Na)
                .generated()
                .expert(
                    pkt,
                    Ei::UnpairedReply,
                    &format!("Reply to xid {} whose request was not captured", h.xid.val),
                );
            op
        }
    };
    match op {
        Some(op) if info.on => {
            let _ = write!(info, "{} reply", op_name(op));
        }
        Some(_) => {}
        None => {
            let _ = write!(info, "reply xid {} (request not captured)", h.xid.val);
        }
    }
    if err != 0 {
        if info.on {
            let _ = write!(info, " {}", err_name(err));
        }
        err_item.expert(
            pkt,
            Ei::ErrorReply,
            &format!("Error reply: {} ({err})", err_name(err)),
        );
    }
    if let Some(p) = link.and_then(|l| l.path.as_deref()) {
        let _ = write!(info, " {p}");
    }
    let body_off = r.body_at.location_offset();
    if err != 0 || opaque {
        // A failed SASL step is the exception: the server still sends its SetSASLResponse,
        // with a null token (ZooKeeperServer.processSasl; protocol doc §3.10).
        if !opaque
            && op == Some(opcode::SASL)
            && let Some(Ok((rest, body))) = r.body(opcode::SASL)
            && rest.is_empty()
        {
            reply_body(pkt, t, &body, info);
            return;
        }
        // Other replies with an error carry no record (the Java client reads none);
        // anything after the header is left undecoded, without an expert item (protocol
        // doc §3.10).
        undecoded(t, body_off, end);
        return;
    }
    let Some(op) = op else {
        // No request: decode the body if exactly one record shape fits it.
        match parse::guess_reply_body(r.body_at) {
            Some((shape, body)) => {
                t.add_string(Hf::GuessedBody, 0, 0, shape).generated();
                reply_body(pkt, t, &body, info);
            }
            None => undecoded(t, body_off, end),
        }
        return;
    };
    match r.body(op) {
        None => {
            t.add_expert(
                pkt,
                Ei::UnknownOpcodeReply,
                body_off,
                end.saturating_sub(body_off),
                &format!("Reply to unknown opcode {op}: body not decoded"),
            );
            undecoded(t, body_off, end);
        }
        Some(Err(e)) => malformed(pkt, t, &e, end, info),
        Some(Ok((rest, body))) => {
            reply_body(pkt, t, &body, info);
            trailing(pkt, t, rest.location_offset(), end);
        }
    }
}

pub(super) fn reply_body(pkt: &Packet<'_>, t: &Tree<'_>, body: &ReplyBody<'_>, info: &mut Info) {
    match body {
        ReplyBody::Empty => {}
        ReplyBody::Path { path } => string(t, Hf::Path, path, "Path"),
        ReplyBody::PathStat { path, stat: s } => {
            string(t, Hf::Path, path, "Path");
            stat(t, s);
        }
        ReplyBody::Stat { stat: s } => stat(t, s),
        ReplyBody::Data { data, stat: s } => {
            bytes_field(t, Hf::Data, data, "Data");
            stat(t, s);
            if let Some(d) = data.val {
                let _ = write!(info, " ({} bytes)", d.len());
            }
        }
        ReplyBody::Acl { acl, stat: s } => {
            acl_list(t, acl);
            stat(t, s);
        }
        ReplyBody::Children { children, stat: s } => {
            t.add(Hf::ChildCount, children.off, 4, Enc::BigEndian);
            for c in &children.val {
                string(t, Hf::Child, c, "Child");
            }
            if let Some(s) = s {
                stat(t, s);
            }
            let _ = write!(info, " ({} children)", children.val.len());
        }
        ReplyBody::ChildrenStatsData {
            children,
            stat: s,
            stats,
            data,
        } => {
            t.add(Hf::ChildCount, children.off, 4, Enc::BigEndian);
            for c in &children.val {
                string(t, Hf::Child, c, "Child");
            }
            stat(t, s);
            let label = if t.is_shown() {
                format!("Child stats: {}", stats.val.len())
            } else {
                String::new()
            };
            let (_, sub) = t.add_group(
                Hf::ChildStats,
                stats.off,
                stats.len,
                Ett::ChildStats,
                &label,
            );
            for st in &stats.val {
                stat(&sub, st);
            }
            for d in &data.val {
                bytes_field(t, Hf::ChildData, d, "Child data");
            }
            let _ = write!(info, " ({} children)", children.val.len());
        }
        ReplyBody::Number { number } => {
            t.add_at(Hf::TotalChildren, number);
        }
        ReplyBody::ErrorCode { err } => {
            let item = t.add_at(Hf::MultiErr, err);
            if err.val != 0 {
                item.expert(
                    pkt,
                    Ei::ErrorReply,
                    &format!("Error result: {} ({})", err_name(err.val), err.val),
                );
            }
        }
        ReplyBody::Sasl { token } => sasl_token(t, token),
        ReplyBody::WhoAmI { clients } => {
            for c in &clients.val {
                let label = if t.is_shown() {
                    format!(
                        "Client info: {}:{}",
                        text_or_null(c.val.scheme.val),
                        text_or_null(c.val.id.val)
                    )
                } else {
                    String::new()
                };
                let (_, sub) = t.add_group(Hf::ClientInfo, c.off, c.len, Ett::ClientInfo, &label);
                string(&sub, Hf::AclScheme, &c.val.scheme, "Scheme");
                string(&sub, Hf::AclId, &c.val.id, "User");
            }
        }
        ReplyBody::Multi { results, end } => {
            for r in results.iter().take(MAX_MULTI_SHOWN) {
                let label = if t.is_shown() {
                    format!("Result: {}", op_name(r.header.val.op.val))
                } else {
                    String::new()
                };
                let (_, sub) =
                    t.add_group(Hf::MultiOp, r.header.off, r.header.len, Ett::Multi, &label);
                multi_header(&sub, &r.header);
                reply_body(pkt, &sub, &r.body, &mut Info::new(false));
            }
            if let Some(first) = results.get(MAX_MULTI_SHOWN) {
                t.add_group(
                    Hf::MultiOp,
                    first.header.off,
                    0,
                    Ett::Multi,
                    &format!(
                        "{} more results not shown (display limit {MAX_MULTI_SHOWN})",
                        results.len() - MAX_MULTI_SHOWN
                    ),
                );
            }
            if let Some(end) = end {
                let (_, sub) =
                    t.add_group(Hf::MultiOp, end.off, end.len, Ett::Multi, "End of results");
                multi_header(&sub, end);
            }
            let failed = results.iter().find_map(|r| match r.body {
                ReplyBody::ErrorCode { err } if err.val != 0 && err.val != -2 => Some(err.val),
                _ => None,
            });
            match failed {
                Some(e) => {
                    let _ = write!(info, " failed: {}", err_name(e));
                }
                None => {
                    let _ = write!(info, " ({} results)", results.len());
                }
            }
        }
    }
}

pub(super) fn notification(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    n: &parse::Notification<'_>,
    end: usize,
    info: &mut Info,
) {
    info.push_str("notification");
    t.add_at(Hf::Xid, &n.header.xid);
    t.add_at(Hf::Zxid, &n.header.zxid);
    t.add_at(Hf::Err, &n.header.err);
    match &n.event {
        Ok((rest, ev)) => {
            t.add_at(Hf::EventType, &ev.event_type);
            t.add_at(Hf::EventState, &ev.state);
            string(t, Hf::Path, &ev.path, "Path");
            let ty = crate::zookeeper::fields::EVENT_TYPE_NAMES
                .iter()
                .find(|(v, _)| *v as i32 == ev.event_type.val)
                .and_then(|(_, n)| n.to_str().ok())
                .map_or_else(|| format!("event {}", ev.event_type.val), str::to_string);
            let _ = write!(info, " {ty}");
            if info.on && ev.path.val.is_some_and(|p| !p.is_empty()) {
                let _ = write!(info, " {}", text_or_null(ev.path.val));
            }
            trailing(pkt, t, rest.location_offset(), end);
        }
        Err(e) => malformed(pkt, t, e, end, info),
    }
}
