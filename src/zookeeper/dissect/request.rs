//! Requests to the tree: the handshake's ConnectRequest, the request header and each
//! opcode's body (multi with its sub-requests).

use super::*;

pub(super) fn connect_request(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    c: &parse::Parsed<'_, parse::ConnectRequest<'_>>,
    end: usize,
    info: &mut Info,
) {
    info.push_str("connect");
    match c {
        Ok((rest, c)) => {
            let v = t.add(
                Hf::ConnectProtocolVersion,
                c.protocol_version.off,
                4,
                Enc::BigEndian,
            );
            let wire = parse::Wire::of(c);
            match wire {
                parse::Wire::Classic if !parse::is_connect_request_len(end - 4) => {
                    v.expert(
                        pkt,
                        Ei::ConnectOddLength,
                        &format!(
                            "ConnectRequest of {} bytes: clients send 28, 29, 44 or 45",
                            end - 4
                        ),
                    );
                }
                parse::Wire::Classic => {}
                parse::Wire::Xid64 => {
                    v.expert(
                        pkt,
                        Ei::ClickHouseProtocol,
                        "Protocol version 11 (ClickHouse Keeper, WITH_XID_64): xids are 64 bits wide in the request and reply headers of this connection",
                    );
                }
                parse::Wire::Compressed { version } => {
                    let which = if version == super::super::protocol_version::WITH_COMPRESSION {
                        "WITH_COMPRESSION"
                    } else {
                        "WITH_XID_64 with its compression flag set"
                    };
                    v.expert(pkt, Ei::UnsupportedVersion, &format!("Protocol version {version} (ClickHouse Keeper, {which}): after the handshake both sides send LZ4-compressed blocks, which are not decompressed; requests and replies on this connection are not decoded"));
                }
                parse::Wire::Unknown { version } => {
                    v.expert(pkt, Ei::UnsupportedVersion, &format!("Protocol version {version}: not one this dissector knows (ZooKeeper 0; ClickHouse Keeper 10, 11); request and reply bodies on this connection are not decoded"));
                }
            }
            if let Some(flag) = c.compression {
                t.add(Hf::ConnectCompression, flag.off, 1, Enc::Na);
            }
            t.add(
                Hf::ConnectLastZxidSeen,
                c.last_zxid_seen.off,
                8,
                Enc::BigEndian,
            );
            t.add_at(Hf::ConnectTimeout, &c.timeout);
            t.add_at(Hf::ConnectSessionId, &c.session_id);
            bytes_field(t, Hf::ConnectPasswd, &c.passwd, "Password");
            if let Some(ro) = c.read_only {
                t.add(Hf::ConnectReadOnly, ro.off, 1, Enc::Na);
            }
            if c.session_id.val != 0 {
                let _ = write!(info, " session 0x{:x} (reconnect)", c.session_id.val);
            }
            let _ = write!(info, " timeout {}ms", c.timeout.val);
            if matches!(wire, parse::Wire::Unknown { .. }) {
                undecoded(t, rest.location_offset(), end);
            } else {
                trailing(pkt, t, rest.location_offset(), end);
            }
        }
        Err(e) => malformed(pkt, t, e, end, info),
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn request(
    pkt: &Packet<'_>,
    t: &Tree<'_>,
    r: &Result<parse::Request<'_>, parse::Failure>,
    response: Option<(u32, i64)>,
    tracked: bool,
    opaque: bool,
    end: usize,
    info: &mut Info,
) {
    let r = match r {
        Ok(r) => r,
        Err(e) => return malformed(pkt, t, e, end, info),
    };
    let op = r.header.opcode.val;
    t.add_at(Hf::Xid, &r.header.xid);
    let op_item = t.add_at(Hf::Opcode, &r.header.opcode);
    if info.on {
        info.push_str(&op_name(op));
    }
    if let Some((frame, _)) = response {
        t.add_u32(Hf::ResponseIn, 0, 0, frame).generated();
    }
    if !tracked {
        op_item.expert(
            pkt,
            Ei::TableFull,
            "Too many outstanding requests on this connection: this one is not paired",
        );
    }
    let body_off = r.body_at.location_offset();
    if opaque {
        undecoded(t, body_off, end);
        return;
    }
    match &r.body {
        None => {
            op_item.expert(
                pkt,
                Ei::UnknownOpcode,
                &format!("Unknown opcode {op}: body not decoded"),
            );
            undecoded(t, body_off, end);
        }
        Some(Err(e)) => malformed(pkt, t, e, end, info),
        Some(Ok((rest, body))) => {
            request_body(t, body, info);
            trailing(pkt, t, rest.location_offset(), end);
        }
    }
}

pub(super) fn request_body(t: &Tree<'_>, body: &RequestBody<'_>, info: &mut Info) {
    let path_info = |info: &mut Info, p: &Counted<'_>| {
        if info.on {
            let _ = write!(info, " {}", text_or_null(p.val));
        }
    };
    match body {
        RequestBody::Empty => {}
        RequestBody::Path { path } => {
            string(t, Hf::Path, path, "Path");
            path_info(info, path);
        }
        RequestBody::PathWatch { path, watch } => {
            string(t, Hf::Path, path, "Path");
            t.add(Hf::Watch, watch.off, 1, Enc::Na);
            path_info(info, path);
            if watch.val {
                info.push_str(" watch");
            }
        }
        RequestBody::Create {
            path,
            data,
            acl,
            flags,
            ttl,
        } => {
            string(t, Hf::Path, path, "Path");
            bytes_field(t, Hf::Data, data, "Data");
            acl_list(t, acl);
            t.add_at(Hf::Flags, flags);
            if let Some(ttl) = ttl {
                t.add_at(Hf::Ttl, ttl);
            }
            path_info(info, path);
        }
        RequestBody::PathVersion { path, version } => {
            string(t, Hf::Path, path, "Path");
            t.add_at(Hf::Version, version);
            path_info(info, path);
        }
        RequestBody::SetData {
            path,
            data,
            version,
        } => {
            string(t, Hf::Path, path, "Path");
            bytes_field(t, Hf::Data, data, "Data");
            t.add_at(Hf::Version, version);
            path_info(info, path);
        }
        RequestBody::SetAcl { path, acl, version } => {
            string(t, Hf::Path, path, "Path");
            acl_list(t, acl);
            t.add_at(Hf::Version, version);
            path_info(info, path);
        }
        RequestBody::PathType { path, kind } => {
            string(t, Hf::Path, path, "Path");
            t.add_at(Hf::WatcherType, kind);
            path_info(info, path);
        }
        RequestBody::AddWatch { path, mode } => {
            string(t, Hf::Path, path, "Path");
            t.add_at(Hf::AddWatchMode, mode);
            path_info(info, path);
        }
        RequestBody::Auth {
            auth_type,
            scheme,
            auth,
        } => {
            t.add_at(Hf::AuthType, auth_type);
            string(t, Hf::AuthScheme, scheme, "Scheme");
            bytes_field(t, Hf::AuthData, auth, "Credentials");
            let _ = write!(info, " {}", text_or_null(scheme.val));
        }
        RequestBody::SetWatches {
            relative_zxid,
            lists,
        } => set_watches(t, relative_zxid, lists, info),
        RequestBody::FilteredList {
            path,
            watch,
            list_type,
            with,
        } => {
            string(t, Hf::Path, path, "Path");
            t.add(Hf::Watch, watch.off, 1, Enc::Na);
            t.add_at(Hf::ListType, list_type);
            if let Some((with_stat, with_data)) = with {
                t.add(Hf::WithStat, with_stat.off, 1, Enc::Na);
                t.add(Hf::WithData, with_data.off, 1, Enc::Na);
            }
            path_info(info, path);
            if watch.val {
                info.push_str(" watch");
            }
        }
        RequestBody::PathLimit { path, limit, list } => {
            string(t, Hf::Path, path, "Path");
            let hf = if *list {
                Hf::MaxEntries
            } else {
                Hf::RemoveNodesLimit
            };
            t.add_at(hf, limit);
            path_info(info, path);
        }
        RequestBody::CheckStat {
            path,
            version,
            stat: s,
        } => {
            string(t, Hf::Path, path, "Path");
            t.add_at(Hf::Version, version);
            stat(t, s);
            path_info(info, path);
        }
        RequestBody::Sasl { token } => sasl_token(t, token),
        RequestBody::Reconfig {
            joining,
            leaving,
            new_members,
            config_id,
        } => {
            string(t, Hf::ReconfigJoining, joining, "Joining servers");
            string(t, Hf::ReconfigLeaving, leaving, "Leaving servers");
            string(t, Hf::ReconfigNewMembers, new_members, "New members");
            t.add_at(Hf::ReconfigConfigId, config_id);
        }
        RequestBody::Multi { ops, end } => multi(t, ops, end.as_ref(), info),
    }
}

/// setWatches/setWatches2: the relative zxid and each list of watched paths.
fn set_watches(
    t: &Tree<'_>,
    relative_zxid: &At<i64>,
    lists: &[At<Vec<Counted<'_>>>],
    info: &mut Info,
) {
    t.add(
        Hf::SetWatchesRelativeZxid,
        relative_zxid.off,
        8,
        Enc::BigEndian,
    );
    const NAMES: [&str; 5] = [
        "Data watches",
        "Exist watches",
        "Child watches",
        "Persistent watches",
        "Persistent recursive watches",
    ];
    for (list, name) in lists.iter().zip(NAMES) {
        let label = if t.is_shown() {
            format!("{name}: {}", list.val.len())
        } else {
            String::new()
        };
        let (_, sub) = t.add_group(
            Hf::SetWatchesList,
            list.off,
            list.len,
            Ett::WatchList,
            &label,
        );
        for p in &list.val {
            string(&sub, Hf::SetWatchesPath, p, "Watched path");
        }
    }
    let n: usize = lists.iter().map(|l| l.val.len()).sum();
    let _ = write!(info, " ({n} paths)");
}

/// A multi: each operation in its own subtree (up to MAX_MULTI_SHOWN), then the end marker.
fn multi(
    t: &Tree<'_>,
    ops: &[parse::MultiOp<'_>],
    end: Option<&At<parse::MultiHeader>>,
    info: &mut Info,
) {
    // Every operation is parsed (pairing needs none of them), but the tree shows at
    // most MAX_MULTI_SHOWN: 100,000 operations would be half a million items.
    for op in ops.iter().take(MAX_MULTI_SHOWN) {
        let start = op.header.off;
        let label = if t.is_shown() {
            format!("Operation: {}", op_name(op.header.val.op.val))
        } else {
            String::new()
        };
        let (item, sub) = t.add_group(Hf::MultiOp, start, 0, Ett::Multi, &label);
        multi_header(&sub, &op.header);
        let mut op_info = Info::new(t.is_shown());
        request_body(&sub, &op.body, &mut op_info);
        if op_info.on {
            item.append_text(&op_info.text);
        }
        item.set_len(multi_op_len(
            &op.header,
            &sub_end(&op.body).unwrap_or(op.header.end()),
        ));
    }
    if let (Some(first), Some(last)) = (ops.get(MAX_MULTI_SHOWN), ops.last()) {
        t.add_group(
            Hf::MultiOp,
            first.header.off,
            sub_end(&last.body)
                .unwrap_or(last.header.end())
                .saturating_sub(first.header.off),
            Ett::Multi,
            &format!(
                "{} more operations not shown (display limit {MAX_MULTI_SHOWN})",
                ops.len() - MAX_MULTI_SHOWN
            ),
        );
    }
    if let Some(end) = end {
        let (_, sub) = t.add_group(
            Hf::MultiOp,
            end.off,
            end.len,
            Ett::Multi,
            "End of operations",
        );
        multi_header(&sub, end);
    }
    let _ = write!(info, " ({} ops)", ops.len());
}

pub(super) fn multi_op_len(header: &At<parse::MultiHeader>, end: &usize) -> usize {
    end.saturating_sub(header.off)
}

/// The end offset of a request body, for sizing its multi item.
pub(super) fn sub_end(body: &RequestBody<'_>) -> Option<usize> {
    Some(match body {
        RequestBody::Empty | RequestBody::Multi { .. } => return None,
        RequestBody::Path { path } => path.end(),
        RequestBody::PathWatch { watch, .. } => watch.end(),
        RequestBody::Create { flags, ttl, .. } => ttl.map_or(flags.end(), |t| t.end()),
        RequestBody::PathVersion { version, .. }
        | RequestBody::SetData { version, .. }
        | RequestBody::SetAcl { version, .. } => version.end(),
        RequestBody::PathType { kind, .. } => kind.end(),
        RequestBody::AddWatch { mode, .. } => mode.end(),
        RequestBody::Auth { auth, .. } => auth.end(),
        RequestBody::SetWatches {
            lists,
            relative_zxid,
        } => lists.last().map_or(relative_zxid.end(), |l| l.end()),
        RequestBody::Sasl { token } => token.end(),
        RequestBody::Reconfig { config_id, .. } => config_id.end(),
        RequestBody::FilteredList {
            list_type, with, ..
        } => with.map_or(list_type.end(), |(_, d)| d.end()),
        RequestBody::PathLimit { limit, .. } => limit.end(),
        RequestBody::CheckStat { stat, .. } => stat.end(),
    })
}

pub(super) fn multi_header(t: &Tree<'_>, h: &At<parse::MultiHeader>) {
    t.add_at(Hf::MultiType, &h.val.op);
    t.add(Hf::MultiDone, h.val.done.off, 1, Enc::Na);
    t.add_at(Hf::MultiErr, &h.val.err);
}
