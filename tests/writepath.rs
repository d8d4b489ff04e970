//! Following writes through the ensemble, through the real tshark, on a recorded 3-voter
//! ensemble with an observer (tests/record/record-writepath.sh). The expected chains come
//! from `tests/record/writepath_chain.py`, which reassembles the raw TCP payloads itself
//! and does not use the plugin: every client write must be linked through every hop it
//! found (request -> REQUEST -> PROPOSALs/INFORM -> ACKs -> COMMITs -> reply), reads through
//! none, and the stage times must agree.
//!
//! The golden of the whole capture (`tests/expected/ensemble/writepath.txt`) is regenerated
//! with `ZKH2_BLESS=1 scripts/test`.

mod support;

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;
use support::{TempDir, Tshark, check_golden, repo};

const PREFS: [&str; 6] = [
    "-o",
    "zookeeper.tcp.port:24181-24184",
    "-o",
    "zab.tcp.port:24888-24891",
    "-o",
    "zkelection.tcp.port:25888-25891",
];

fn capture() -> PathBuf {
    repo().join("tests/captures/ensemble/writepath.pcapng")
}

fn oracle() -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join("tests/expected/writepath-chain.json"))
        .expect("oracle output");
    let v: Value = serde_json::from_str(&text).expect("oracle JSON");
    v["ops"].as_array().expect("ops").clone()
}

const FIELDS: [&str; 15] = [
    "frame.number",
    "zookeeper.quorum.request_in",
    "zookeeper.quorum.proposal_in",
    "zookeeper.quorum.inform_in",
    "zookeeper.quorum.ack_in",
    "zookeeper.quorum.commit_in",
    "zookeeper.quorum.sync_in",
    "zookeeper.quorum.zxid",
    "zookeeper.quorum.time.forward",
    "zookeeper.quorum.time.propose",
    "zookeeper.quorum.time.quorum",
    "zookeeper.quorum.time.commit",
    "zookeeper.quorum.time.reply",
    "zab.client.request_in",
    "zab.client.reply_in",
];

/// Per frame, each field's values, from one tshark run.
fn table(t: &Tshark, filter: &str, fields: &[&str]) -> HashMap<u32, Vec<Vec<String>>> {
    let path = capture();
    let mut args = vec!["-r", path.to_str().expect("utf-8 path"), "-2"];
    args.extend_from_slice(&PREFS);
    args.extend_from_slice(&["-Y", filter, "-T", "fields", "-E", "aggregator=,"]);
    for f in fields {
        args.extend_from_slice(&["-e", f]);
    }
    let out = t.ok(&args);
    out.lines()
        .filter_map(|line| {
            let cols: Vec<Vec<String>> = line
                .split('\t')
                .map(|c| {
                    c.split(',')
                        .filter(|v| !v.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .collect();
            let frame = cols.first()?.first()?.parse().ok()?;
            Some((frame, cols))
        })
        .collect()
}

fn frames(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_u64())
                .map(|f| f.to_string())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn micros(seconds: &[String]) -> Option<i64> {
    let s: f64 = seconds.first()?.parse().ok()?;
    Some((s * 1e6).round() as i64)
}

/// A sync has two stages: to the learner's REQUEST, and from the leader's SYNC to the reply
/// (the oracle gives the times, not the stages).
fn sync_stages(op: &Value) -> Value {
    let first = |k: &str| {
        op[k]
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_f64)
    };
    let us = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => Value::from(((b - a) * 1e6).round() as i64),
        _ => Value::Null,
    };
    serde_json::json!({
        "request_to_forwarded": us(op["request_time"].as_f64(), first("request_in_times")),
        "commit_to_reply": us(first("sync_in_times"), op["reply_time"].as_f64()),
    })
}

#[test]
fn every_write_is_linked_through_every_hop_the_capture_holds() {
    let t = Tshark::new();
    let rows = table(&t, "zookeeper", &FIELDS);
    let ops = oracle();
    let (mut writes, mut linked) = (0, 0);
    for op in &ops {
        let name = op["op"].as_str().unwrap_or("?");
        let req = op["request_frame"].as_u64().expect("request frame") as u32;
        let reply = op["reply_frame"].as_u64().map(|f| f as u32);
        let request_row = rows
            .get(&req)
            .unwrap_or_else(|| panic!("no row for {name} in {req}"));
        if op["kind"] == "read" {
            for f in [Some(req), reply].into_iter().flatten() {
                let row = &rows[&f];
                assert!(
                    row[1..13].iter().all(Vec::is_empty),
                    "read {name} in frame {f} got a write path: {row:?}"
                );
            }
            continue;
        }
        writes += 1;
        for (frame, row) in [
            (req, Some(request_row)),
            (reply.unwrap_or(0), reply.and_then(|f| rows.get(&f))),
        ] {
            let row = row.unwrap_or_else(|| panic!("no reply row for {name} (request {req})"));
            let ctx = format!("{name} request {req}, row of frame {frame}");
            assert_eq!(
                sorted(row[1].clone()),
                frames(&op["request_in"]),
                "REQUEST: {ctx}"
            );
            assert_eq!(
                sorted(row[2].clone()),
                frames(&op["proposal_in"]),
                "PROPOSAL: {ctx}"
            );
            assert_eq!(
                sorted(row[3].clone()),
                frames(&op["inform_in"]),
                "INFORM: {ctx}"
            );
            assert_eq!(sorted(row[4].clone()), frames(&op["ack_in"]), "ACK: {ctx}");
            assert_eq!(
                sorted(row[5].clone()),
                frames(&op["commit_in"]),
                "COMMIT: {ctx}"
            );
            assert_eq!(
                sorted(row[6].clone()),
                frames(&op["sync_in"]),
                "SYNC: {ctx}"
            );
            if let Some(z) = op["zxid"].as_str() {
                let want = u64::from_str_radix(z.trim_start_matches("0x"), 16).expect("zxid");
                let got = row[7].first().map(|v| {
                    u64::from_str_radix(v.trim_start_matches("0x"), 16).expect("hex zxid")
                });
                assert_eq!(got, Some(want), "zxid: {ctx}");
            }
        }
        // Stage times on the reply, to the microsecond (the oracle rounds).
        let reply_row = &rows[&reply.expect("write has a reply")];
        let stages = if op["kind"] == "sync" {
            sync_stages(op)
        } else {
            op["stages_us"].clone()
        };
        for (i, stage) in [
            "request_to_forwarded",
            "forwarded_to_proposed",
            "proposed_to_quorum",
            "quorum_to_commit",
            "commit_to_reply",
        ]
        .iter()
        .enumerate()
        {
            let want = stages[stage].as_i64();
            let got = micros(&reply_row[8 + i]);
            match (want, got) {
                (Some(w), Some(g)) => {
                    assert!((w - g).abs() <= 1, "{name} {stage}: {g} us, oracle {w} us")
                }
                (w, g) => assert_eq!(g, w, "{name} {stage}"),
            }
        }
        if op["complete"] == true {
            linked += 1;
        }
    }
    assert!(
        writes >= 27,
        "the capture holds 24 writes and 3 syncs, found {writes}"
    );
    assert_eq!(linked, writes, "every write of the oracle is complete");
}

#[test]
fn quorum_packets_link_back_to_the_client_and_to_their_own_link() {
    let t = Tshark::new();
    let zab = table(
        &t,
        "zab",
        &[
            "frame.number",
            "zab.client.request_in",
            "zab.client.reply_in",
            "zab.proposal_in",
            "zab.ack_in",
            "zab.commit_in",
        ],
    );
    for op in oracle() {
        if op["kind"] == "read" {
            continue;
        }
        let req = op["request_frame"].as_u64().expect("request").to_string();
        let reply = op["reply_frame"].as_u64().expect("reply").to_string();
        for hop in [
            "request_in",
            "proposal_in",
            "inform_in",
            "ack_in",
            "commit_in",
            "sync_in",
        ] {
            for f in frames(&op[hop]) {
                let row = &zab[&f.parse().expect("frame")];
                assert_eq!(
                    row[1],
                    std::slice::from_ref(&req),
                    "{hop} {f}: client request"
                );
                assert_eq!(
                    row[2],
                    std::slice::from_ref(&reply),
                    "{hop} {f}: client reply"
                );
            }
        }
        // Each PROPOSAL links the ACK and COMMIT on its own link; each of those links back.
        let servers = |hop: &str| -> Vec<(String, u64)> {
            frames(&op[hop])
                .into_iter()
                .zip(
                    op[format!("{hop}_servers")]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                )
                .map(|(f, s)| (f, s.as_u64().unwrap_or(0)))
                .collect()
        };
        for (p, server) in servers("proposal_in") {
            let same = |hop: &str| -> Vec<String> {
                servers(hop)
                    .into_iter()
                    .filter(|(_, s)| *s == server)
                    .map(|(f, _)| f)
                    .collect()
            };
            let row = &zab[&p.parse().expect("frame")];
            assert_eq!(row[4], same("ack_in"), "ACK of PROPOSAL {p}");
            assert_eq!(row[5], same("commit_in"), "COMMIT of PROPOSAL {p}");
            for f in same("ack_in").into_iter().chain(same("commit_in")) {
                assert_eq!(
                    zab[&f.parse().expect("frame")][3],
                    std::slice::from_ref(&p),
                    "PROPOSAL of {f}"
                );
            }
        }
    }
}

#[test]
fn writepath_golden() {
    let t = Tshark::new();
    let path = capture();
    let mut args = vec!["-r", path.to_str().expect("utf-8 path"), "-2"];
    args.extend_from_slice(&PREFS);
    args.extend_from_slice(&["-V", "-O", "zookeeper,zab,zkelection"]);
    let got = t.ok(&args);
    if let Some(diff) = check_golden(
        &path,
        &got,
        &repo().join("tests/expected/ensemble/writepath.txt"),
    ) {
        panic!("{diff}");
    }
}

/// `-z zookeeper,writes`: per stage and opcode, the count and the median agree with the
/// oracle's stage times.
#[test]
fn the_writes_statistic_gives_each_stage_per_opcode() {
    let t = Tshark::new();
    let path = capture();
    let mut args = vec!["-r", path.to_str().expect("utf-8 path"), "-q"];
    args.extend_from_slice(&PREFS);
    args.extend_from_slice(&["-z", "zookeeper,writes"]);
    let out = t.ok(&args);
    const STAGES: [(&str, &str); 5] = [
        ("request_to_forwarded", "request to forwarded"),
        ("forwarded_to_proposed", "forwarded to proposed"),
        ("proposed_to_quorum", "proposed to quorum"),
        ("quorum_to_commit", "quorum to commit"),
        ("commit_to_reply", "commit to reply"),
    ];
    let mut want: HashMap<(String, String), Vec<i64>> = HashMap::new();
    for op in oracle() {
        let stages = match op["kind"].as_str() {
            Some("sync") => sync_stages(&op),
            Some("write") => op["stages_us"].clone(),
            _ => continue,
        };
        for (key, label) in STAGES {
            if let Some(us) = stages[key].as_i64() {
                let name = op["op"].as_str().unwrap_or("?").to_string();
                want.entry((label.to_string(), name)).or_default().push(us);
            }
        }
    }
    let mut rows = 0;
    for line in out.lines() {
        let Some((label, rest)) = STAGES
            .iter()
            .find_map(|(_, l)| line.strip_prefix(l).map(|r| (*l, r)))
        else {
            continue;
        };
        let cols: Vec<&str> = rest.split_whitespace().collect();
        let (name, count, median) = (cols[0], cols[1], cols[3]);
        let mut v = want
            .remove(&(label.to_string(), name.to_string()))
            .unwrap_or_else(|| panic!("{label} {name}: not in the oracle"));
        v.sort_unstable();
        assert_eq!(
            count.parse::<usize>().ok(),
            Some(v.len()),
            "{label} {name}: count"
        );
        let median_ms = v[v.len().div_ceil(2) - 1] as f64 / 1000.0;
        let got: f64 = median.parse().expect("median");
        assert!(
            (got - median_ms).abs() <= 0.002,
            "{label} {name}: median {got} ms, oracle {median_ms} ms"
        );
        rows += 1;
    }
    assert!(
        want.is_empty(),
        "missing from -z zookeeper,writes: {want:?}"
    );
    assert!(rows >= 30, "{rows} rows");
}

const LINKS: [&str; 13] = [
    "frame.number",
    "zookeeper.quorum.request_in",
    "zookeeper.quorum.proposal_in",
    "zookeeper.quorum.inform_in",
    "zookeeper.quorum.ack_in",
    "zookeeper.quorum.commit_in",
    "zookeeper.quorum.sync_in",
    "zab.client.request_in",
    "zab.client.reply_in",
    "zab.proposal_in",
    "zab.ack_in",
    "zab.commit_in",
    "zookeeper.quorum.zxid",
];

/// Every link of a capture as (frame, field, linked frame), in the full capture's numbering
/// (`original[i]` is the full capture's number of the part's frame i + 1).
fn links(t: &Tshark, capture: &std::path::Path, original: &[u32]) -> Vec<(u32, usize, u32)> {
    let mut args = vec!["-r", capture.to_str().expect("utf-8 path"), "-2"];
    args.extend_from_slice(&PREFS);
    args.extend_from_slice(&["-T", "fields", "-E", "aggregator=,"]);
    for f in &LINKS {
        args.extend_from_slice(&["-e", f]);
    }
    let to_full = |n: u32| original.get(n as usize - 1).copied().unwrap_or(0);
    let mut out = Vec::new();
    for line in t.ok(&args).lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let frame = to_full(cols[0].parse().expect("frame number"));
        for (field, col) in cols.iter().enumerate().take(LINKS.len() - 1).skip(1) {
            for v in col.split(',').filter(|v| !v.is_empty()) {
                out.push((frame, field, to_full(v.parse().expect("frame link"))));
            }
        }
    }
    out.sort_unstable();
    out
}

/// Writes the frames of the full capture that match `filter` (or the frame range `range`)
/// into `dir`, with their numbers in the full capture.
fn part(dir: &TempDir, name: &str, filter: &str) -> (std::path::PathBuf, Vec<u32>) {
    let full = capture();
    let out = dir.0.join(name);
    let run = |args: &[&str]| {
        let o = std::process::Command::new("tshark")
            .args(args)
            .env("LC_ALL", "C.UTF-8")
            .output()
            .expect("run tshark");
        assert!(
            o.status.success(),
            "tshark {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let f = full.to_str().expect("utf-8 path");
    let o = out.to_str().expect("utf-8 path");
    run(&["-r", f, "-Y", filter, "-w", o]);
    let numbers = run(&["-r", f, "-Y", filter, "-T", "fields", "-e", "frame.number"])
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    (out, numbers)
}

/// Parts of the path: what a part links is exactly what the whole capture links among the
/// part's frames, and nothing else; a part without the quorum port links nothing.
#[test]
fn a_capture_of_part_of_the_path_links_only_what_it_holds() {
    let t = Tshark::new();
    let dir = TempDir::new("writepath-parts");
    let all: Vec<u32> = (1..=744).collect();
    let whole = links(&t, &capture(), &all);
    assert!(
        whole.len() > 500,
        "{} links in the whole capture",
        whole.len()
    );

    let (client, numbers) = part(
        &dir,
        "client.pcapng",
        "tcp.port >= 24181 && tcp.port <= 24184",
    );
    assert_eq!(
        links(&t, &client, &numbers),
        [],
        "client port only: no write path"
    );

    let (quorum, numbers) = part(
        &dir,
        "quorum.pcapng",
        "tcp.port >= 24888 && tcp.port <= 24891",
    );
    let in_part = |l: &(u32, usize, u32)| numbers.contains(&l.0) && numbers.contains(&l.2);
    let want: Vec<_> = whole.iter().copied().filter(in_part).collect();
    assert!(!want.is_empty());
    assert_eq!(links(&t, &quorum, &numbers), want, "quorum port only");

    // From the first create's forwarding on: the handshakes and the first proposals are
    // gone, and so is what only they could link.
    let (late, numbers) = part(&dir, "late.pcapng", "frame.number >= 320");
    let got = links(&t, &late, &numbers);
    assert!(!got.is_empty());
    for l in &got {
        assert!(
            whole.contains(l),
            "{l:?} is not a link of the whole capture"
        );
    }
}
