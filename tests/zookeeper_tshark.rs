//! ZooKeeper through the real tshark with the plugin loaded: golden outputs of real and
//! synthetic captures, plus properties that must hold on every capture.
//!
//! Regenerate the golden files with `ZKH2_BLESS=1 scripts/test` and review the diff.

mod support;

use std::path::{Path, PathBuf};

use support::{Tshark, captures, repo};

/// Anything that means the plugin failed on a packet.
const BAD: &str = "_ws.malformed || zkh2.dissector_bug || zookeeper.malformed || zookeeper.len.bogus || zookeeper.trailing || zookeeper.opcode.unknown";

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The text compared against `tests/expected/<dir>/<name>.txt`: the packet list, then the
/// decoded ZooKeeper trees, both after two passes.
fn render(t: &Tshark, capture: &Path) -> String {
    let c = path_str(capture);
    let list = t.ok(&["-r", c, "-2", "-Y", "zookeeper"]);
    let tree = t.ok(&["-r", c, "-2", "-Y", "zookeeper", "-V", "-O", "zookeeper"]);
    format!("# tshark -2 -Y zookeeper\n{list}\n# tshark -2 -Y zookeeper -V -O zookeeper\n{tree}")
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
    let bless = std::env::var_os("ZKH2_BLESS").is_some();
    let mut all = captures("tests/captures/zookeeper");
    all.extend(captures("tests/captures/synthetic"));
    assert!(all.len() >= 10, "captures missing: {all:?}");
    let mut failures = Vec::new();
    for capture in &all {
        let got = render(&t, capture);
        let want_path = expected_path(capture);
        if bless {
            std::fs::create_dir_all(want_path.parent().unwrap()).unwrap();
            std::fs::write(&want_path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&want_path).unwrap_or_default();
        if got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            failures.push(format!(
                "{}: differs from {} at line {}:\n  got:  {}\n  want: {}",
                capture.display(),
                want_path.display(),
                line + 1,
                got.lines().nth(line).unwrap_or("<eof>"),
                want.lines().nth(line).unwrap_or("<eof>")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (ZKH2_BLESS=1 regenerates):\n{}",
        failures.join("\n")
    );
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
        // Every request is answered in these recordings, so every request links its reply.
        let unanswered = t.count(
            &capture,
            "zookeeper && zookeeper.response == 0 && zookeeper.xid && !zookeeper.response_in",
        );
        assert_eq!(
            unanswered,
            0,
            "{}: requests without response_in",
            capture.display()
        );
    }
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
        assert!(
            t.count(
                &c,
                &format!(
                    "zookeeper.opcode == {op} && zookeeper.response == 1 && zookeeper.request_in"
                )
            ) > 0,
            "no paired {name} reply"
        );
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
    // The cut PDU is shown as a bogus length, and decoding resumes at the next boundary.
    assert!(t.count(&c, "zookeeper.len.bogus") <= 1);
    assert!(t.count(&c, "zookeeper.opcode && !zookeeper.len.bogus") > 10);
    assert!(t.count(&c, "zookeeper.request_in") > 5);
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
