//! ZooKeeper through the real tshark with the plugin loaded: golden outputs of real and
//! synthetic captures, plus properties that must hold on every capture.
//!
//! Regenerate the golden files with `ZKH2_BLESS=1 scripts/test` and review the diff.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Tshark, captures, repo};

/// Anything that means the plugin failed on a packet.
const BAD: &str = "_ws.malformed || zkh2.dissector_bug || zookeeper.malformed || zookeeper.len.bogus || zookeeper.trailing || zookeeper.opcode.unknown";

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The text compared against `tests/expected/<dir>/<name>.txt`: the packet list, then the
/// decoded ZooKeeper trees, both after two passes. A TLS capture's key log is beside it
/// (`<name>.keys`).
fn render(t: &Tshark, capture: &Path) -> String {
    let c = path_str(capture);
    let keylog = keylog_pref(capture);
    let mut list_args = vec!["-r", c, "-2", "-Y", "zookeeper"];
    let mut tree_args = vec!["-r", c, "-2", "-Y", "zookeeper", "-V", "-O", "zookeeper"];
    if let Some(pref) = &keylog {
        list_args.extend(["-o", pref]);
        tree_args.extend(["-o", pref]);
    }
    if let Some(rule) = decode_as(capture) {
        list_args.extend(["-d", rule]);
        tree_args.extend(["-d", rule]);
    }
    let list = t.ok(&list_args);
    let tree = t.ok(&tree_args);
    format!("# tshark -2 -Y zookeeper\n{list}\n# tshark -2 -Y zookeeper -V -O zookeeper\n{tree}")
}

/// The Decode As rule a capture on a port outside the plugin's table needs: ClickHouse
/// Keeper's default client port, 9181 (`tests/record/make-clickhouse-keeper.py`).
fn decode_as(capture: &Path) -> Option<&'static str> {
    capture
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("clickhouse-keeper"))
        .then_some("tcp.port==9181,zookeeper")
}

/// `tls.keylog_file:<capture>.keys` when that key log exists.
fn keylog_pref(capture: &Path) -> Option<String> {
    let keys = capture.with_extension("keys");
    keys.exists()
        .then(|| format!("tls.keylog_file:{}", keys.display()))
}

fn expected_path(capture: &Path) -> PathBuf {
    let dir = capture
        .parent()
        .and_then(|d| d.file_name())
        .expect("capture dir");
    let stem = capture.file_stem().expect("capture name");
    repo()
        .join("tests/expected")
        .join(dir)
        .join(format!("{}.txt", stem.to_string_lossy()))
}

#[test]
fn golden_outputs() {
    let t = Tshark::new();
    let mut all = captures("tests/captures/zookeeper");
    all.extend(captures("tests/captures/synthetic"));
    assert!(all.len() >= 10, "captures missing: {all:?}");
    let mut failures = Vec::new();
    for capture in &all {
        let got = render(&t, capture);
        let want_path = expected_path(capture);
        failures.extend(support::check_golden(capture, &got, &want_path));
    }
    support::assert_goldens(&failures);
}

#[test]
fn real_captures_decode_cleanly_and_pair_every_reply() {
    let t = Tshark::new();
    for capture in captures("tests/captures/zookeeper") {
        assert_eq!(
            t.count(&capture, BAD),
            0,
            "{}: malformed or failed PDUs",
            capture.display()
        );
        assert_eq!(
            t.count(&capture, "zookeeper.request_not_captured"),
            0,
            "{}: unpaired replies",
            capture.display()
        );
        // Every request is answered in these recordings, so every request links its reply;
        // except tokio-zookeeper's closeSession: that client closes its socket right after
        // sending it, and the server closes without a reply.
        let mut filter =
            "zookeeper && zookeeper.response == 0 && zookeeper.xid && !zookeeper.response_in"
                .to_string();
        if capture.ends_with("tokio-zookeeper.pcapng") {
            filter.push_str(" && zookeeper.opcode != -11");
        }
        let unanswered = t.count(&capture, &filter);
        assert_eq!(
            unanswered,
            0,
            "{}: requests without response_in",
            capture.display()
        );
    }
}

/// `capture` has a reply of opcode `op` (`name`) paired with its request.
fn assert_paired_reply(t: &Tshark, capture: &Path, name: &str, op: i32) {
    let filter =
        format!("zookeeper.opcode == {op} && zookeeper.response == 1 && zookeeper.request_in");
    assert!(t.count(capture, &filter) > 0, "no paired {name} reply");
}

#[test]
fn kazoo_capture_covers_the_opcodes_errors_and_events() {
    let t = Tshark::new();
    let c = repo().join("tests/captures/zookeeper/kazoo-basic.pcapng");
    // By number: a filter string for a negative value (closeSession = -11) does not
    // resolve through the value names on Wireshark 4.0.
    for (name, op) in [
        ("create", 1),
        ("create2", 15),
        ("createContainer", 19),
        ("createTTL", 21),
        ("delete", 2),
        ("exists", 3),
        ("getData", 4),
        ("setData", 5),
        ("getChildren", 8),
        ("getChildren2", 12),
        ("getACL", 6),
        ("setACL", 7),
        ("sync", 9),
        ("ping", 11),
        ("auth", 100),
        ("closeSession", -11),
    ] {
        assert!(
            t.count(
                &c,
                &format!("zookeeper.opcode == {op} && zookeeper.response == 0")
            ) > 0,
            "no {name} request"
        );
        assert_paired_reply(&t, &c, name, op);
    }
    for (name, err) in [
        ("NONODE", -101),
        ("NODEEXISTS", -110),
        ("BADVERSION", -103),
        ("NOTEMPTY", -111),
    ] {
        assert!(
            t.count(
                &c,
                &format!("zookeeper.err == {err} && zookeeper.request_in")
            ) > 0,
            "no {name} reply"
        );
    }
    for ev in [
        "NodeCreated",
        "NodeDataChanged",
        "NodeChildrenChanged",
        "NodeDeleted",
    ] {
        assert!(
            t.count(&c, &format!("zookeeper.event.type == \"{ev}\"")) > 0,
            "no {ev} notification"
        );
    }
    // The 200 KB znode is reassembled from many segments and decoded in full.
    assert_eq!(
        t.count(
            &c,
            "zookeeper.stat.data_length == 204800 && zookeeper.opcode == \"getData\""
        ),
        1
    );
    // A path filter finds the request and its reply.
    let sides = t.values(&c, "zookeeper.path == \"/missing\"", "zookeeper.response");
    assert_eq!(sides, ["0", "1"]);
    // Every PDU after the handshake carries the session id.
    assert_eq!(t.count(&c, "zookeeper && !zookeeper.session_id"), 0);
}

#[test]
fn four_letter_words_and_their_replies() {
    let t = Tshark::new();
    let c = repo().join("tests/captures/zookeeper/fourletter.pcapng");
    let words = t.values(
        &c,
        "zookeeper.four_letter.command",
        "zookeeper.four_letter.command",
    );
    for w in [
        "ruok", "stat", "srvr", "conf", "cons", "mntr", "envi", "isro", "wchs", "dirs", "stmk",
        "gtmk",
    ] {
        assert!(
            words.iter().any(|x| x == w),
            "{w} not recognised in {words:?}"
        );
    }
    assert_eq!(t.count(&c, "zookeeper.four_letter.trace_mask == 0x112"), 1);
    assert_eq!(t.count(&c, "zookeeper.four_letter.response == \"imok\""), 2);
    assert_eq!(t.count(&c, BAD), 0);
}

/// The `ZooKeeper, ...` summary line of every PDU, in order.
fn pdu_lines(t: &Tshark, capture: &Path) -> Vec<String> {
    t.ok(&[
        "-r",
        path_str(capture),
        "-2",
        "-V",
        "-O",
        "zookeeper",
        "-Y",
        "zookeeper",
    ])
    .lines()
    .filter(|l| l.starts_with("ZooKeeper, "))
    .map(str::to_string)
    .collect()
}

#[test]
fn resegmented_traffic_decodes_like_the_original() {
    let t = Tshark::new();
    let original = pdu_lines(
        &t,
        &repo().join("tests/captures/zookeeper/kazoo-basic.pcapng"),
    );
    let synth = |name: &str| repo().join("tests/captures/synthetic").join(name);
    assert_eq!(
        pdu_lines(&t, &synth("zk-coalesced.pcap")),
        original,
        "coalesced segments"
    );
    let one_byte = pdu_lines(&t, &synth("zk-one-byte-segments.pcap"));
    assert!(
        one_byte.len() >= 20 && original.starts_with(&one_byte),
        "1-byte segments: {one_byte:?}"
    );
    let retrans = pdu_lines(&t, &synth("zk-retransmission.pcap"));
    assert_eq!(
        retrans, one_byte,
        "a retransmitted segment must not add or lose PDUs"
    );
    for name in [
        "zk-coalesced.pcap",
        "zk-one-byte-segments.pcap",
        "zk-retransmission.pcap",
        "zk-split-every-offset.pcap",
        "zk-1000-pdus-one-segment.pcap",
    ] {
        assert_eq!(t.count(&synth(name), BAD), 0, "{name}");
        assert_eq!(
            t.count(&synth(name), "zookeeper.request_not_captured"),
            0,
            "{name}"
        );
    }
}

#[test]
fn a_pdu_split_at_every_offset_is_reassembled() {
    let t = Tshark::new();
    let c = repo().join("tests/captures/synthetic/zk-split-every-offset.pcap");
    let conns = t
        .ok(&["-r", path_str(&c), "-q", "-z", "conv,tcp"])
        .lines()
        .filter(|l| l.contains("<->"))
        .count();
    // One connection per split offset; each must decode its handshake and request.
    assert!(conns > 100, "{conns} connections");
    assert_eq!(
        t.count(&c, "zookeeper.connect.timeout && zookeeper.response == 0"),
        conns
    );
    assert_eq!(
        t.count(&c, "zookeeper.connect.timeout && zookeeper.response == 1"),
        conns
    );
    // The handshake replies pair with their requests, and so does every later request.
    assert_eq!(
        t.count(&c, "zookeeper.connect.timeout && zookeeper.request_in"),
        conns
    );
    let requests = t.count(&c, "zookeeper.opcode && zookeeper.response == 0");
    assert!(requests > 50, "{requests} requests");
    assert_eq!(
        t.count(
            &c,
            "zookeeper.opcode && zookeeper.response == 1 && zookeeper.request_in"
        ),
        requests
    );
    assert_eq!(t.count(&c, BAD), 0);
}

#[test]
fn a_thousand_pdus_in_one_segment() {
    let t = Tshark::new();
    let c = repo().join("tests/captures/synthetic/zk-1000-pdus-one-segment.pcap");
    let pings = t
        .values(&c, "zookeeper", "zookeeper.xid")
        .iter()
        .filter(|x| *x == "-2")
        .count();
    assert_eq!(pings, 2000, "1000 pings and 1000 replies");
    let paired = t.values(&c, "zookeeper", "zookeeper.request_in").len();
    assert_eq!(paired, 1001, "each reply (and the handshake) paired");
}

#[test]
fn capture_starting_mid_stream() {
    let t = Tshark::new();
    let c = repo().join("tests/captures/synthetic/zk-midstream.pcap");
    // The first client segment starts inside a PDU: its bytes are a continuation, and
    // decoding resumes at the next plausible PDU start (not at a misread length).
    assert_eq!(t.count(&c, BAD), 0);
    assert_eq!(
        t.values(&c, "zookeeper.continuation", "frame.number"),
        ["1"]
    );
    // Only the first reply lacks its request; every later reply is paired.
    assert_eq!(
        t.values(&c, "zookeeper.request_not_captured", "frame.number"),
        ["2"]
    );
    // ... and its body is decoded by the one shape it fits (create's path).
    assert_eq!(t.values(&c, "frame.number == 2", "zookeeper.path"), ["/a"]);
    assert!(t.count(&c, "zookeeper.request_in") > 10);
}

/// (frame, xids, request_in, set_in) of every PDU row sent by the server.
fn reply_rows(t: &Tshark, c: &Path) -> Vec<[String; 4]> {
    t.fields(
        c,
        "zookeeper.response == 1 && !zookeeper.continuation && !zookeeper.connect.timeout",
        &[
            "frame.number",
            "zookeeper.xid",
            "zookeeper.request_in",
            "zookeeper.watch.set_in",
        ],
    )
    .lines()
    .map(|l| {
        let mut it = l.split('\t').map(str::to_string);
        std::array::from_fn(|_| it.next().unwrap_or_default())
    })
    .collect()
}

/// Shifts frame numbers of the original capture into the cut one (which starts at
/// `from`), dropping references to frames before the cut.
fn shift(list: &str, from: u32) -> String {
    list.split(',')
        .filter(|v| !v.is_empty())
        .filter_map(|v| v.parse::<u32>().ok())
        .filter(|f| *f >= from)
        .map(|f| (f - from + 1).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn captures_cut_mid_stream_pair_and_link_what_they_contain() {
    let t = Tshark::new();
    for (orig, cut, from, inside_pdu) in [
        (
            "kazoo-basic.pcapng",
            "zk-cut-kazoo-basic-from-77.pcapng",
            77u32,
            true,
        ),
        (
            "kazoo-basic.pcapng",
            "zk-cut-kazoo-basic-from-86.pcapng",
            86,
            true,
        ),
        (
            "kazoo-watches.pcapng",
            "zk-cut-kazoo-watches-from-36.pcapng",
            36,
            false,
        ),
    ] {
        let o = repo().join("tests/captures/zookeeper").join(orig);
        let c = repo().join("tests/captures/synthetic").join(cut);
        assert_eq!(t.count(&c, BAD), 0, "{cut}: malformed");
        let continuation = t.values(&c, "zookeeper.continuation", "frame.number");
        assert_eq!(
            !continuation.is_empty(),
            inside_pdu,
            "{cut}: {continuation:?}"
        );
        // Every reply and notification in the cut looks exactly like in the original,
        // minus the links to frames before the cut: replies whose request is in the cut
        // are paired, notifications link the requests that set their watch.
        let want: Vec<[String; 4]> = reply_rows(&t, &o)
            .into_iter()
            .filter_map(|[f, x, r, w]| {
                let f: u32 = f.parse().ok()?;
                (f >= from).then(|| {
                    [
                        (f - from + 1).to_string(),
                        x,
                        shift(&r, from),
                        shift(&w, from),
                    ]
                })
            })
            .filter(|row| !continuation.contains(&row[0]))
            .map(|[f, x, r, w]| {
                // A request whose PDU began before the cut is a continuation now.
                let r = if continuation.contains(&r) {
                    String::new()
                } else {
                    r
                };
                [f, x, r, w]
            })
            .collect();
        let got = reply_rows(&t, &c);
        assert_eq!(got, want, "{cut}");
        // Unpaired replies are exactly those whose request precedes the cut.
        let unpaired = t.count(
            &c,
            "zookeeper.response == 1 && !zookeeper.request_in && zookeeper.xid != -1 && !zookeeper.continuation",
        );
        let before = want
            .iter()
            .filter(|[_, x, r, _]| r.is_empty() && x != "-1")
            .count();
        assert_eq!(unpaired, before, "{cut}");
    }
}

#[test]
fn watches_link_notifications_and_the_requests_that_set_them() {
    let t = Tshark::new();
    let c = repo().join("tests/captures/zookeeper/kazoo-watches.pcapng");
    // Every data/child event links to the request that set the watch, also after the
    // reconnect (where setWatches/setWatches2 with ordinary xids re-set them).
    let events = "zookeeper.event.type >= 1 && zookeeper.event.type <= 4";
    let n = t.count(&c, events);
    assert!(n >= 10, "{n} notifications");
    assert_eq!(
        t.count(&c, &format!("{events} && !zookeeper.watch.set_in")),
        0
    );
    let fields = |filter: &str| {
        t.fields(
            &c,
            filter,
            &[
                "frame.number",
                "zookeeper.opcode",
                "zookeeper.path",
                "zookeeper.watch.fired_in",
            ],
        )
    };
    // One-shot: getData fired once (consumed), exists on a missing node fired on create,
    // getChildren fired on a child create.
    let setters = fields("zookeeper.watch.fired_in");
    let rows: Vec<Vec<&str>> = setters.lines().map(|l| l.split('\t').collect()).collect();
    let fired = |op: &str, path: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r[1] == op && r[2] == path)
            .map(|r| r[3].to_string())
            .collect()
    };
    assert_eq!(fired("4", "/w/data").len(), 1, "{setters}");
    assert_eq!(fired("4", "/w/data")[0].split(',').count(), 1);
    assert_eq!(fired("3", "/w/new").len(), 1);
    assert_eq!(fired("8", "/w/kids").len(), 1);
    // Persistent (2 events on /p) and recursive (4 events below /r) stay set.
    assert_eq!(fired("106", "/p")[0].split(',').count(), 2);
    assert_eq!(fired("106", "/r")[0].split(',').count(), 4);
    // After the reconnect: setWatches and setWatches2 sent with ordinary xids.
    assert!(
        rows.iter()
            .any(|r| r[1] == "101" && r[3].split(',').count() == 2)
    );
    assert!(
        rows.iter()
            .any(|r| r[1] == "105" && r[3].split(',').count() == 2)
    );
    assert_eq!(
        t.count(
            &c,
            "zookeeper.opcode == 101 && zookeeper.xid >= 0 && zookeeper.response == 0"
        ),
        1
    );
    // The second connection re-opens the same session (kazoo restarts its xids there,
    // unlike the Java client); its replies pair within the new connection.
    let sids = t.values(
        &c,
        "zookeeper.connect.session_id",
        "zookeeper.connect.session_id",
    );
    assert_eq!(sids.len(), 4, "{sids:?}");
    assert_ne!(sids[2], "0x0000000000000000");
    assert_eq!(sids[1], sids[2]);
    assert!(
        t.count(
            &c,
            "tcp.stream == 1 && zookeeper.request_in && zookeeper.xid >= 0"
        ) >= 5
    );
    assert_eq!(t.count(&c, BAD), 0);
}

#[test]
fn failing_multi_and_multiread_show_per_op_errors() {
    let t = Tshark::new();
    let c = repo().join("tests/captures/zookeeper/kazoo-watches.pcapng");
    // kazoo transaction(): check with a wrong version, then create. The reply header
    // says OK; the results carry BADVERSION and RUNTIMEINCONSISTENCY.
    let failed =
        "zookeeper.opcode == \"multi\" && zookeeper.response == 1 && zookeeper.multi.err == -103";
    assert_eq!(t.count(&c, failed), 1);
    assert_eq!(t.count(&c, &format!("{failed} && zookeeper.err == 0")), 1);
    assert_eq!(
        t.count(&c, &format!("{failed} && zookeeper.multi.err == -2")),
        1
    );
    assert_eq!(
        t.count(&c, "zookeeper.multi.type == 13 && zookeeper.response == 0"),
        1
    );
    // multiRead: getData and getChildren results, and an error result for a missing node.
    let mr = "zookeeper.opcode == \"multiRead\" && zookeeper.response == 1";
    assert_eq!(t.count(&c, &format!("{mr} && zookeeper.multi.err == -101 && zookeeper.child == \"k1\" && zookeeper.stat.version == 2")), 1);
    assert_eq!(
        t.count(&c, "zookeeper.opcode == 17 && zookeeper.watcher_type == 2"),
        1
    );
    assert_eq!(
        t.count(
            &c,
            "zookeeper.add_watch.mode == 1 && zookeeper.response == 0"
        ),
        1
    );
}

#[test]
fn zkcli_covers_the_newer_opcodes() {
    let t = Tshark::new();
    let c = repo().join("tests/captures/zookeeper/zkcli.pcapng");
    for (name, op) in [
        ("whoAmI", 107),
        ("getEphemerals", 103),
        ("getAllChildrenNumber", 104),
        ("addWatch", 106),
        ("removeWatches", 18),
        ("reconfig", 16),
        ("multi", 14),
    ] {
        assert_paired_reply(&t, &c, name, op);
    }
    // whoAmI lists the client's identities; getAllChildrenNumber its count.
    assert!(
        t.count(
            &c,
            "zookeeper.client_info && zookeeper.acl.scheme == \"digest\""
        ) >= 1
    );
    assert_eq!(t.count(&c, "zookeeper.children.total"), 1);
    // reconfig: nullable strings (length -1), refused by a standalone server.
    assert_eq!(
        t.count(&c, "zookeeper.reconfig.joining && zookeeper.string.null"),
        1
    );
    assert_eq!(
        t.count(
            &c,
            "zookeeper.reconfig.leaving == \"3\" && zookeeper.string.null"
        ),
        1
    );
    assert_eq!(
        t.count(&c, "zookeeper.opcode == 16 && zookeeper.err == -123"),
        2
    );
    // zkCli's addWatch defaults to PERSISTENT_RECURSIVE (kazoo-watches has PERSISTENT);
    // removeWatches with WatcherType Any.
    assert_eq!(t.count(&c, "zookeeper.add_watch.mode == 1"), 2);
    assert_eq!(
        t.count(&c, "zookeeper.opcode == 18 && zookeeper.watcher_type == 3"),
        1
    );
    // Recursive watch: both creates below /zk/cont link to the addWatch request.
    let adds = t.values(&c, "zookeeper.add_watch.mode == 1", "frame.number");
    let set_in = t.values(
        &c,
        "zookeeper.event.type == 1 && zookeeper.path contains \"/zk/cont/y\"",
        "zookeeper.watch.set_in",
    );
    // The first one was removed by removeWatches; the second one fires for both creates.
    assert_eq!(set_in, [adds[1].clone(), adds[1].clone()]);
}

#[test]
fn statistics_srt_and_tree() {
    let t = Tshark::new();
    let c = repo().join("tests/captures/zookeeper/kazoo-basic.pcapng");
    let srt = t.ok(&["-r", path_str(&c), "-q", "-z", "zookeeper,srt"]);
    assert!(srt.contains("ZooKeeper SRT Statistics"), "{srt}");
    let row = |name: &str| {
        srt.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .map(|l| l.split_whitespace().nth(2).unwrap_or("").to_string())
    };
    // Calls per opcode equal the paired replies.
    assert_eq!(row("create").as_deref(), Some("9"), "{srt}");
    assert_eq!(row("getData").as_deref(), Some("5"), "{srt}");
    assert_eq!(row("closeSession").as_deref(), Some("1"), "{srt}");
    let tree = t.ok(&["-r", path_str(&c), "-q", "-z", "zookeeper,tree"]);
    for want in [
        "Requests by opcode",
        "Error replies by code",
        "NONODE",
        "NOAUTH",
        "Session 0x",
        "Notifications",
    ] {
        assert!(tree.contains(want), "{want} missing:\n{tree}");
    }
    let count = |label: &str| support::tree_count(&tree, label);
    assert_eq!(count("Requests by opcode").as_deref(), Some("38"), "{tree}");
    assert_eq!(
        count("Error replies by code").as_deref(),
        Some("7"),
        "{tree}"
    );
    assert_eq!(count("Notifications").as_deref(), Some("4"), "{tree}");
}

#[test]
fn heuristic_and_decode_as_on_another_port() {
    let t = Tshark::new();
    let synth = |name: &str| repo().join("tests/captures/synthetic").join(name);
    let moved = synth("zk-port-2182.pcap");
    let on_2181 = pdu_lines(&t, &synth("zk-one-byte-segments.pcap"));
    // Port 2182 is in no table: the heuristic recognises the handshake.
    assert_eq!(pdu_lines(&t, &moved), on_2181, "heuristic");
    let off = t.ok(&[
        "--disable-heuristic",
        "zookeeper_tcp",
        "-r",
        path_str(&moved),
        "-Y",
        "zookeeper",
    ]);
    assert!(
        off.is_empty(),
        "without the heuristic nothing on 2182 is ZooKeeper:\n{off}"
    );
    let lines = t.ok(&[
        "--disable-heuristic",
        "zookeeper_tcp",
        "-d",
        "tcp.port==2182,zookeeper",
        "-r",
        path_str(&moved),
        "-2",
        "-V",
        "-O",
        "zookeeper",
        "-Y",
        "zookeeper",
    ]);
    let decoded: Vec<&str> = lines
        .lines()
        .filter(|l| l.starts_with("ZooKeeper, "))
        .collect();
    assert_eq!(decoded, on_2181, "Decode As");
}

#[test]
fn registration_lists_protocol_and_documented_fields() {
    let t = Tshark::new();
    let protos = t.ok(&["-G", "protocols"]);
    assert!(
        protos.lines().any(|l| l.ends_with("\tzookeeper")),
        "zookeeper not registered"
    );
    let fields = t.ok(&["-G", "fields"]);
    let ours: Vec<&str> = fields
        .lines()
        .filter(|l| {
            l.starts_with("F\t")
                && l.split('\t')
                    .nth(2)
                    .is_some_and(|a| a.starts_with("zookeeper"))
        })
        .collect();
    for required in [
        "zookeeper.len",
        "zookeeper.xid",
        "zookeeper.opcode",
        "zookeeper.zxid",
        "zookeeper.err",
        "zookeeper.response",
        "zookeeper.session_id",
        "zookeeper.request_in",
        "zookeeper.response_in",
        "zookeeper.time",
        "zookeeper.path",
        "zookeeper.data",
        "zookeeper.version",
        "zookeeper.watch",
        "zookeeper.stat.czxid",
        "zookeeper.acl.perms",
        "zookeeper.child",
        "zookeeper.event.type",
        "zookeeper.event.state",
        "zookeeper.connect.timeout",
        "zookeeper.four_letter.command",
        "zookeeper.four_letter.response",
    ] {
        assert!(
            ours.iter().any(|l| l.split('\t').nth(2) == Some(required)),
            "field {required} missing"
        );
    }
    for l in &ours {
        let blurb = l.split('\t').nth(7).unwrap_or("");
        assert!(!blurb.trim().is_empty(), "field without description: {l}");
    }
}

#[test]
fn third_party_captures_decode_cleanly() {
    let dir = repo().join("../shared/pcaps/zookeeper");
    if !dir.exists() {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    }
    let t = Tshark::new();
    let mut all = captures("../shared/pcaps/zookeeper/zktraffic");
    all.extend(captures("../shared/pcaps/zookeeper/zktraffic-cpp"));
    // The zab_* captures are quorum traffic on port 20022 (not the client protocol).
    all.retain(|p| !p.file_name().unwrap().to_string_lossy().starts_with("zab_"));
    assert!(all.len() >= 12);
    for c in &all {
        assert!(
            t.count(c, "zookeeper") > 0,
            "{}: nothing decoded",
            c.display()
        );
        assert_eq!(t.count(c, BAD), 0, "{}: malformed PDUs", c.display());
        // Replies whose request is in the capture are all paired; in these files every
        // reply's request is present (mid-stream ones start on a request).
        assert_eq!(
            t.count(c, "zookeeper.request_not_captured"),
            0,
            "{}: unpaired reply",
            c.display()
        );
    }
    // Specific shapes: 44-byte handshake of the C client, four-letter words, setWatches
    // sent with an ordinary xid after a reconnect, a multi with its results.
    let z = |n: &str| repo().join("../shared/pcaps/zookeeper/zktraffic").join(n);
    assert_eq!(
        t.count(
            &z("create-pyzookeeper.pcap"),
            "zookeeper.len == 44 && zookeeper.connect.timeout && !zookeeper.connect.read_only"
        ),
        1
    );
    assert!(
        t.count(
            &z("get_children_with_four_letter.pcap"),
            "zookeeper.four_letter.command"
        ) >= 2
    );
    assert_eq!(
        t.count(
            &z("setwatches.pcap"),
            "zookeeper.opcode == \"setWatches\" && zookeeper.response == 1"
        ),
        1
    );
    assert_eq!(t.count(&z("multi.pcap"), "zookeeper.multi.type"), 2);
}

/// The secure client port: kazoo over TLS to ZooKeeper's Netty `secureClientPort` 2281,
/// recorded with its session keys embedded in the pcapng (tests/record/zk_kazoo_tls.py).
#[test]
fn tls_secure_port_is_decrypted_and_decoded() {
    let t = Tshark::new();
    let c = repo().join("tests/captures/zookeeper/kazoo-tls.pcapng");
    let keylog = keylog_pref(&c).expect("tests/captures/zookeeper/kazoo-tls.keys");
    let cs = path_str(&c);
    let run = |extra: &[&str]| {
        let mut args = vec!["-r", cs, "-2", "-o", &keylog];
        args.extend_from_slice(extra);
        t.ok(&args)
    };
    let count = |filter: &str| run(&["-Y", filter]).lines().count();
    let lines: Vec<String> = run(&["-V", "-O", "zookeeper", "-Y", "zookeeper"])
        .lines()
        .filter(|l| l.starts_with("ZooKeeper, "))
        .map(str::to_string)
        .collect();
    for want in [
        "connect timeout 10000ms",
        // 307,200 bytes of data: the reply spans many TLS records and TCP segments.
        "getData reply /tls/big (307200 bytes)",
        "exists /tls/watched watch",
        "notification NodeCreated /tls/watched",
        "multi reply (2 results)",
        "closeSession reply",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(want)),
            "{want:?} not among the decrypted PDUs:\n{}",
            lines.join("\n")
        );
    }
    // Pairing and watch links work inside TLS as on the plain port; nothing is misread.
    assert_eq!(count("zookeeper.watch.fired_in"), 1);
    assert_eq!(count("zookeeper.watch.set_in"), 1);
    // 17 requests, each answered: every reply links its request and has a response time.
    assert_eq!(count("zookeeper.request_in && zookeeper.time"), 17);
    assert_eq!(count("zookeeper.response_in"), 17);
    assert_eq!(count(BAD), 0);
    assert_eq!(count("zookeeper.request_not_captured"), 0);
    // Without the key log the application data stays opaque: no ZooKeeper, no error.
    assert_eq!(t.count(&c, "zookeeper"), 0);
    assert_eq!(t.count(&c, BAD), 0);
}

/// SASL with DIGEST-MD5 (zkCli with a JAAS login, tests/record/record-zookeeper.sh): bob
/// logs in, then a login with a wrong password is refused.
#[test]
fn sasl_digest_md5_login_and_refusal() {
    let t = Tshark::new();
    let c = repo().join("tests/captures/zookeeper/zkcli-sasl.pcapng");
    // Two sessions, two SASL round trips each.
    assert_eq!(t.count(&c, "zookeeper.opcode == 102 && !zookeeper.err"), 4);
    assert_eq!(t.count(&c, "zookeeper.opcode == 102 && zookeeper.err"), 4);
    // The challenge, the response and the server's rspauth read as text.
    let texts: Vec<String> = t
        .fields(
            &c,
            "zookeeper.sasl.token_text",
            &["zookeeper.sasl.token_text"],
        )
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(texts.len(), 5, "{texts:?}");
    assert!(
        texts[0].starts_with("realm=\"zk-sasl-md5\",nonce="),
        "{texts:?}"
    );
    assert!(texts[1].contains("username=\"bob\""), "{texts:?}");
    assert!(texts[2].starts_with("rspauth="), "{texts:?}");
    // The client's first token is empty, not missing.
    let tree = t.ok(&[
        "-r",
        path_str(&c),
        "-2",
        "-V",
        "-Y",
        "zookeeper.opcode == 102",
    ]);
    assert_eq!(tree.matches("SASL token: empty (length 0)").count(), 2);
    // The refusal: AUTHFAILED, and the null token the server sends with it is decoded.
    assert_eq!(t.count(&c, "zookeeper.err == -115"), 1);
    assert!(tree.contains("SASL token: null (length -1)"));
    assert_eq!(t.count(&c, BAD), 0);
    assert_eq!(t.count(&c, "zookeeper.undecoded"), 0);
}

/// ClickHouse Keeper's extensions on the synthetic capture (tests/record/
/// make-clickhouse-keeper.py): opcodes 500-503 by name, 64-bit xids paired, the compressed
/// connection opaque with its reason, and nothing malformed.
#[test]
fn clickhouse_keeper_opcodes_xid64_and_compression() {
    let t = Tshark::new();
    let c = repo().join("tests/captures/synthetic/clickhouse-keeper.pcap");
    let rule = decode_as(&c).expect("a Decode As rule");
    let frames = |filter: &str| -> usize {
        t.ok(&[
            "-r",
            path_str(&c),
            "-2",
            "-d",
            rule,
            "-Y",
            filter,
            "-T",
            "fields",
            "-e",
            "frame.number",
        ])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
    };
    assert_eq!(frames(BAD), 0, "malformed or failed PDUs");
    assert_eq!(
        frames("zookeeper.request_not_captured"),
        0,
        "unpaired replies"
    );
    for (name, op, requests) in [
        ("filteredList", 500, 2),
        ("checkNotExists", 501, 1),
        ("createIfNotExists", 502, 2),
        ("removeRecursive", 503, 1),
    ] {
        assert_eq!(
            frames(&format!(
                "zookeeper.opcode == \"{name}\" && zookeeper.response == 0"
            )),
            requests,
            "{name} requests"
        );
        assert_eq!(
            frames(&format!(
                "zookeeper.opcode == {op} && zookeeper.response == 1 && zookeeper.request_in"
            )),
            requests,
            "paired {name} replies"
        );
    }
    // The error replies (NODEEXISTS, by number: a negative value does not resolve through
    // the value names on Wireshark 4.0): checkNotExists on version 0, createIfNotExists on
    // XID_64.
    assert_eq!(frames("zookeeper.err == -110 && zookeeper.err.reply"), 2);
    // A 64-bit xid above 2^32 pairs its request and reply.
    assert_eq!(
        frames("zookeeper.xid == 4294967298 && (zookeeper.response_in || zookeeper.request_in)"),
        2
    );
    // The same filters as a tap without a tree counts them, where the dissector builds only
    // what something reads.
    for filter in [
        "zookeeper.connect.short_length",
        "zookeeper.connect.compression == 0",
        "zookeeper.compressed.not_decoded",
        "zookeeper.err == -110 && zookeeper.err.reply",
    ] {
        let printed = t.count_one_pass(&c, &["-d", rule], filter);
        assert!(printed > 0, "{filter}: no frame in the capture");
        assert_eq!(
            t.count_quiet(&c, &["-d", rule], filter),
            printed,
            "{filter}"
        );
    }
    assert_eq!(frames("zookeeper.connect.short_length"), 1);
    assert_eq!(frames("zookeeper.connect.compression == 0"), 1);
    // The compressed connection: its version named in the expert, two blocks, opaque.
    assert_eq!(frames("zookeeper.connect.protocol_version.unsupported"), 1);
    assert_eq!(frames("zookeeper.compressed.method == 0x82"), 2);
    assert_eq!(frames("zookeeper.compressed.not_decoded"), 2);
}

/// `capture` (a pcap of Ethernet/IPv4/TCP frames) followed by a copy of itself on the same
/// addresses and ports, 10 s later, with every sequence and acknowledgment number moved by
/// the same amount: the client opens a new connection on a port it used before, and TCP
/// starts a new conversation at the second SYN ("TCP Port numbers reused").
fn with_port_reused(capture: &[u8]) -> Vec<u8> {
    const SHIFT: u32 = 7_777_777;
    let (header, mut rest) = capture.split_at(24);
    let mut frames = Vec::new();
    while rest.len() >= 16 {
        let incl = u32::from_le_bytes(rest[8..12].try_into().expect("4 bytes")) as usize;
        frames.push((rest[..16].to_vec(), rest[16..16 + incl].to_vec()));
        rest = &rest[16 + incl..];
    }
    let first_secs = u32::from_le_bytes(frames[0].0[..4].try_into().expect("4 bytes"));
    let last_secs = u32::from_le_bytes(frames[frames.len() - 1].0[..4].try_into().expect("4"));
    let mut out = capture.to_vec();
    for (record, frame) in &frames {
        let mut record = record.clone();
        let secs = u32::from_le_bytes(record[..4].try_into().expect("4 bytes"));
        record[..4].copy_from_slice(&(secs - first_secs + last_secs + 10).to_le_bytes());
        let mut frame = frame.clone();
        let tcp = 14 + usize::from(frame[14] & 0x0f) * 4;
        let field = |f: &[u8], at: usize| u32::from_be_bytes(f[at..at + 4].try_into().expect("4"));
        let seq = field(&frame, tcp + 4).wrapping_add(SHIFT);
        frame[tcp + 4..tcp + 8].copy_from_slice(&seq.to_be_bytes());
        if frame[tcp + 13] & 0x10 != 0 {
            let ack = field(&frame, tcp + 8).wrapping_add(SHIFT);
            frame[tcp + 8..tcp + 12].copy_from_slice(&ack.to_be_bytes());
        }
        out.extend_from_slice(&record);
        out.extend_from_slice(&frame);
    }
    assert_eq!(&out[..24], header);
    out
}

/// A connection on a reused port is a new conversation: it gets its own handshake and its
/// own pairing, although its addresses and ports are those of the earlier one (the
/// dissector remembers each connection's conversation across frames only while epan would
/// find the same one).
#[test]
fn a_reused_port_starts_a_new_connection() {
    let t = Tshark::new();
    let dir = support::TempDir::new("port-reuse");
    let pcap = dir.0.join("kazoo-basic.pcap");
    let source = repo().join("tests/captures/zookeeper/kazoo-basic.pcapng");
    let status = Command::new("editcap")
        .args(["-F", "pcap", path_str(&source), path_str(&pcap)])
        .status()
        .expect("editcap runs");
    assert!(status.success());
    let reused = dir.0.join("port-reused.pcap");
    let original = std::fs::read(&pcap).expect("read the pcap");
    std::fs::write(&reused, with_port_reused(&original)).expect("write the pcap");
    let fields = |capture: &Path, filter: &str| {
        t.fields(
            capture,
            filter,
            &["tcp.stream", "frame.number", "zookeeper.request_in"],
        )
    };
    let once = fields(&pcap, "zookeeper.connect.timeout").lines().count();
    let twice = fields(&reused, "zookeeper.connect.timeout");
    assert_eq!(
        twice.lines().count(),
        2 * once,
        "one handshake per connection:\n{twice}"
    );
    let streams: BTreeSet<&str> = twice.lines().filter_map(|l| l.split('\t').next()).collect();
    assert_eq!(streams.len(), 2, "two TCP streams:\n{twice}");
    // Every reply of the second connection answers a request of the second connection.
    let replies = fields(&reused, "zookeeper.request_in && tcp.stream == 1");
    assert!(
        !replies.is_empty(),
        "the second connection has paired replies"
    );
    let first_of_second = fields(&reused, "tcp.stream == 1")
        .lines()
        .filter_map(|l| l.split('\t').nth(1)?.parse::<u32>().ok())
        .min()
        .expect("frames of the second connection");
    for line in replies.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let request: u32 = cols[2].parse().expect("a frame number");
        assert!(
            request >= first_of_second,
            "{line}: paired with a request of the first connection"
        );
    }
}
