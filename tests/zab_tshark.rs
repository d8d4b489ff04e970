//! The quorum (`zab`) and leader-election (`zkelection`) dissectors through the real tshark,
//! on a recorded 3-node ensemble (tests/record/record-ensemble.sh) and a one-byte-per-segment
//! cut of one election connection (tools/pcapgen resplit).
//!
//! Regenerate the golden files with `ZKH2_BLESS=1 scripts/test` and review the diff.

mod support;

use std::path::{Path, PathBuf};

use support::{ENSEMBLE_PREFS, Tshark, repo};

/// The ensemble uses ports off the defaults.
const PREFS: [&str; 6] = ENSEMBLE_PREFS;

const BAD: &str = "_ws.malformed || zkh2.dissector_bug || zab.malformed || zab.len.bogus || zab.trailing || zab.type.unknown || zab.unsynced || zkelection.malformed || zkelection.len.bogus || zkelection.trailing || zkelection.state.unknown || zkelection.initial.late";

fn ensemble() -> PathBuf {
    repo().join("tests/captures/ensemble/ensemble.pcapng")
}

fn one_byte() -> PathBuf {
    repo().join("tests/captures/ensemble/election-1byte.pcap")
}

fn run(t: &Tshark, capture: &Path, extra: &[&str]) -> String {
    let mut args = vec!["-r", capture.to_str().expect("utf-8 path"), "-2"];
    args.extend_from_slice(&PREFS);
    args.extend_from_slice(extra);
    t.ok(&args)
}

fn count(t: &Tshark, capture: &Path, filter: &str) -> usize {
    run(t, capture, &["-Y", filter]).lines().count()
}

fn values(t: &Tshark, capture: &Path, filter: &str, field: &str) -> Vec<String> {
    t.values_with(capture, &PREFS, filter, field)
}

fn render(t: &Tshark, capture: &Path) -> String {
    let f = "zab || zkelection";
    let list = run(t, capture, &["-Y", f]);
    let tree = run(t, capture, &["-Y", f, "-V", "-O", "zab,zkelection"]);
    format!(
        "# tshark -2 {} -Y '{f}'\n{list}\n# tshark -2 {} -Y '{f}' -V -O zab,zkelection\n{tree}",
        PREFS.join(" "),
        PREFS.join(" ")
    )
}

#[test]
fn golden_outputs() {
    let t = Tshark::new();
    let mut failures = Vec::new();
    for capture in [ensemble(), one_byte()] {
        let got = render(&t, &capture);
        let stem = capture
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let want_path = repo().join(format!("tests/expected/ensemble/{stem}.txt"));
        failures.extend(support::check_golden(&capture, &got, &want_path));
    }
    support::assert_goldens(&failures);
}

#[test]
fn every_pdu_decodes_with_a_known_type() {
    let t = Tshark::new();
    for c in [ensemble(), one_byte()] {
        assert_eq!(count(&t, &c, BAD), 0, "{}: failed PDUs", c.display());
        // Every zab PDU is either a packet of a known type or part of the snapshot.
        assert_eq!(
            count(&t, &c, "zab && !zab.type && !zab.snapshot"),
            0,
            "{}",
            c.display()
        );
        assert_eq!(
            count(&t, &c, "zkelection && !zkelection.state && !zkelection.sid"),
            0,
            "{}",
            c.display()
        );
    }
}

#[test]
fn ensemble_covers_the_protocol() {
    let t = Tshark::new();
    let c = ensemble();
    for ty in [
        "REQUEST",
        "PROPOSAL",
        "ACK",
        "COMMIT",
        "PING",
        "SYNC",
        "NEWLEADER",
        "FOLLOWERINFO",
        "UPTODATE",
        "DIFF",
        "SNAP",
        "LEADERINFO",
        "ACKEPOCH",
    ] {
        assert!(
            count(&t, &c, &format!("zab.type == \"{ty}\"")) > 0,
            "no {ty}"
        );
    }
    // Learner requests and proposals carry their paths; txns decode by type.
    assert!(count(&t, &c, "zab.request.path == \"/a\"") > 0);
    assert!(
        count(
            &t,
            &c,
            "zab.type == \"PROPOSAL\" && zab.txn.type == 5 && zab.txn.path == \"/a\""
        ) > 0
    );
    assert!(count(&t, &c, "zab.txn.type == 14 && zab.txn.multi.type == 13") > 0);
    assert!(count(&t, &c, "zab.txn.type == -10 && zab.txn.timeout == 10000") > 0);
    assert!(
        count(
            &t,
            &c,
            "zab.txn.type == 7 && zab.txn.acl.scheme == \"digest\""
        ) > 0
    );
    assert!(
        count(
            &t,
            &c,
            "zab.learner.sid && zab.learner.protocol_version == 0x10000"
        ) > 0
    );
    assert!(
        count(
            &t,
            &c,
            "zab.type == \"LEADERINFO\" && zab.protocol_version == 0x10000"
        ) > 0
    );
    // The snapshot after SNAP: shown as snapshot data up to its signature, then NEWLEADER.
    assert_eq!(
        values(&t, &c, "zab.snapshot.signature", "zab.snapshot.signature"),
        ["BenWasHere"]
    );
    let snap: usize = run(
        &t,
        &c,
        &["-Y", "zab.snapshot", "-T", "fields", "-e", "zab.snapshot"],
    )
    .lines()
    .map(|l| l.len() / 2)
    .sum();
    assert!(snap > 24 * 1024, "snapshot only {snap} bytes");
    // Election: initial messages with V1 and the three states.
    assert!(
        count(
            &t,
            &c,
            "zkelection.protocol_version == -65536 && zkelection.address"
        ) > 0
    );
    for st in ["LOOKING", "FOLLOWING", "LEADING"] {
        assert!(
            count(&t, &c, &format!("zkelection.state == \"{st}\"")) > 0,
            "no {st}"
        );
    }
    assert!(count(&t, &c, "zkelection.config contains \"server.1=\"") > 0);
    // The client ports decode as the client protocol.
    assert!(count(&t, &c, "zookeeper.opcode == \"create\"") > 0);
}

#[test]
fn one_byte_segments_reassemble() {
    let t = Tshark::new();
    let c = one_byte();
    assert_eq!(count(&t, &c, "zkelection.sid == 3"), 1);
    assert_eq!(count(&t, &c, "zkelection.state"), 6);
}

/// Third-party quorum captures (zktraffic's test data, port 20022): every zab PDU decodes by
/// type, nothing is malformed. Skipped when ../shared is absent.
#[test]
fn shared_zktraffic_quorum_captures_decode_by_type() {
    let dir = repo().join("../shared/pcaps/zookeeper/zktraffic");
    if !dir.is_dir() {
        eprintln!("skipped: {} not present", dir.display());
        return;
    }
    let t = Tshark::new();
    for (name, types) in [
        (
            "zab_followerinfo.pcap",
            &[
                "FOLLOWERINFO",
                "LEADERINFO",
                "ACKEPOCH",
                "DIFF",
                "NEWLEADER",
                "UPTODATE",
                "PING",
            ][..],
        ),
        (
            "zab_request.pcap",
            &["REQUEST", "PROPOSAL", "ACK", "COMMIT", "PING"][..],
        ),
        ("zab_revalidate.pcap", &["REVALIDATE", "PING"][..]),
    ] {
        let c = dir.join(name);
        let prefs = ["-r", c.to_str().unwrap(), "-2", "-o", "zab.tcp.port:20022"];
        let count = |filter: &str| {
            let mut args = prefs.to_vec();
            args.extend(["-Y", filter]);
            t.ok(&args).lines().count()
        };
        assert!(count("zab") > 0, "{name}: no zab");
        assert_eq!(count(BAD), 0, "{name}: failed PDUs");
        assert_eq!(
            count("zab && !zab.type && !zab.snapshot"),
            0,
            "{name}: untyped PDUs"
        );
        for ty in types {
            assert!(
                count(&format!("zab.type == \"{ty}\"")) > 0,
                "{name}: no {ty}"
            );
        }
    }
}

/// Without the port preferences, the heuristics (`zab_tcp`: a learner's FOLLOWERINFO or
/// OBSERVERINFO; `zkelection_tcp`: a 3.5+ initial message) find every quorum and election
/// connection of the ensemble, whose ports (22888-22890, 23888-23890) no table names, and
/// the trees are the same as with the preferences. With the heuristics off, nothing is.
#[test]
fn heuristics_find_quorum_and_election_traffic_on_any_port() {
    let t = Tshark::new();
    let c = ensemble();
    let cs = c.to_str().expect("utf-8 path");
    let client_port = ["-o", "zookeeper.tcp.port:22181-22183"];
    let tree = |extra: &[&str]| {
        let mut args = vec!["-r", cs, "-2"];
        args.extend_from_slice(&client_port);
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-V", "-O", "zab,zkelection", "-Y", "zab || zkelection"]);
        t.ok(&args)
    };
    let with_prefs = tree(&PREFS[..4]);
    let by_heuristics = tree(&[]);
    assert!(with_prefs.lines().count() > 5000);
    assert_eq!(
        by_heuristics, with_prefs,
        "heuristics decode the ensemble differently"
    );
    let off = tree(&[
        "--disable-heuristic",
        "zab_tcp",
        "--disable-heuristic",
        "zkelection_tcp",
    ]);
    assert!(off.is_empty(), "without heuristics or prefs:\n{off}");
}
