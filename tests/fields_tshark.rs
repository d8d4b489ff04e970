//! `tshark -T fields` prints what the full tree holds.
//!
//! For `-T fields`, tshark builds a visible tree yet reads only the fields named with `-e`,
//! so the plugin leaves out every other item of its own (`epan::output::fields_only`,
//! `Tree::fakes`). `-T json` with the same `-e` fields is no such output: it gets the full
//! tree, and prints the same values in another form. Every field of our protocols, in
//! batches, on captures of each protocol, must print the same values both ways, field by
//! field and packet by packet, in the same order.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{Tshark, repo};

/// The protocols whose fields are checked: ours, and the built-in's `http2` fields that h2
/// fills itself.
const PROTOCOLS: &[&str] = &["h2", "http2", "zookeeper", "zab", "zkelection"];

/// Fields per tshark run.
const BATCH: usize = 40;

/// Joins a field's values in one packet (both outputs get the same joiner).
const JOIN: &str = "|";

/// (capture, decode-as rules) of each protocol's captures.
fn cases() -> Vec<(PathBuf, Vec<&'static str>)> {
    let c = |p: &str| repo().join("tests/captures").join(p);
    let h2 = vec!["-d", "tcp.port==18180,h2", "-d", "tcp.port==18181,h2"];
    vec![
        (c("h2/h2-features.pcapng"), h2.clone()),
        (c("h2/h2-errors.pcapng"), h2.clone()),
        (c("grpc/grpc-h2c.pcapng"), h2),
        (c("zookeeper/kazoo-watches.pcapng"), vec![]),
        (c("zookeeper/fourletter.pcapng"), vec![]),
        (c("ensemble/writepath.pcapng"), vec![]),
        (c("ensemble/election-1byte.pcap"), vec![]),
    ]
}

/// Every field registered under `PROTOCOLS` (`tshark -G fields`: F, name, abbreviation,
/// type, parent protocol, ...), except text-only and protocol items, whose labels the two
/// outputs print differently; and the booleans among them.
fn our_fields(t: &Tshark) -> (Vec<String>, BTreeSet<String>) {
    let listing = t.ok(&["-G", "fields"]);
    let rows: Vec<Vec<&str>> = listing
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c.len() > 4 && c[0] == "F" && PROTOCOLS.contains(&c[4]))
        .filter(|c| c[3] != "FT_NONE" && c[3] != "FT_PROTOCOL")
        .collect();
    let mut fields: Vec<String> = rows.iter().map(|c| c[2].to_string()).collect();
    fields.sort();
    fields.dedup();
    let booleans = rows
        .iter()
        .filter(|c| c[3] == "FT_BOOLEAN")
        .map(|c| c[2].to_string())
        .collect();
    (fields, booleans)
}

/// Per packet, per field: the values joined, from `-T fields`.
fn from_fields(t: &Tshark, capture: &Path, rules: &[&str], fields: &[String]) -> Vec<Vec<String>> {
    let mut args = vec!["-n", "-r", capture.to_str().expect("utf-8 path")];
    args.extend_from_slice(rules);
    args.extend_from_slice(&["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]);
    for f in fields {
        args.extend_from_slice(&["-e", f]);
    }
    t.ok(&args)
        .lines()
        .map(|l| l.split('\t').map(unescaped).collect())
        .collect()
}

/// Per packet, per field: the values joined, from `-T json` (the full tree). Booleans are
/// written as `-T fields` writes them (1 and 0; JSON has True and False from 4.2 on).
fn from_json(
    t: &Tshark,
    capture: &Path,
    rules: &[&str],
    fields: &[String],
    booleans: &BTreeSet<String>,
) -> Vec<Vec<String>> {
    let mut args = vec!["-n", "-r", capture.to_str().expect("utf-8 path")];
    args.extend_from_slice(rules);
    args.extend_from_slice(&["-T", "json"]);
    for f in fields {
        args.extend_from_slice(&["-e", f]);
    }
    let out = t.ok(&args);
    let packets: Value = serde_json::from_str(&out).expect("tshark -T json output");
    packets
        .as_array()
        .expect("an array of packets")
        .iter()
        .map(|p| {
            let layers = &p["_source"]["layers"];
            fields
                .iter()
                .map(|f| match &layers[f.as_str()] {
                    Value::Array(vs) => vs
                        .iter()
                        .map(|v| match v.as_str().unwrap_or_default() {
                            "True" if booleans.contains(f) => "1".to_string(),
                            "False" if booleans.contains(f) => "0".to_string(),
                            v => v.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(JOIN),
                    _ => String::new(),
                })
                .collect()
        })
        .collect()
}

/// A `-T fields` cell with tshark's escapes of control characters undone (it writes `\n`,
/// `\r`, `\t`, `\b`, `\f` and `\v` for them, and a backslash as itself).
fn unescaped(cell: &str) -> String {
    cell.replace("\\n", "\n")
        .replace("\\r", "\r")
        .replace("\\t", "\t")
        .replace("\\b", "\u{8}")
        .replace("\\f", "\u{c}")
        .replace("\\v", "\u{b}")
}

#[test]
fn fields_output_matches_the_full_tree() {
    let t = Tshark::new();
    let (fields, booleans) = our_fields(&t);
    assert!(fields.len() > 300, "too few fields found: {}", fields.len());
    let mut failures = Vec::new();
    let mut compared = 0usize;
    for (capture, rules) in cases() {
        for batch in fields.chunks(BATCH) {
            let printed = from_fields(&t, &capture, &rules, batch);
            let full = from_json(&t, &capture, &rules, batch, &booleans);
            assert_eq!(
                printed.len(),
                full.len(),
                "{}: packet counts differ",
                capture.display()
            );
            for (n, (a, b)) in printed.iter().zip(&full).enumerate() {
                for (i, f) in batch.iter().enumerate() {
                    let got = a.get(i).map_or("", String::as_str);
                    let want = b.get(i).map_or("", String::as_str);
                    compared += usize::from(!want.is_empty());
                    if got != want && failures.len() < 20 {
                        failures.push(format!(
                            "{} packet {}: {f}: -T fields {got:?}, full tree {want:?}",
                            capture.display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The comparison must have seen values of our fields, or it proves nothing.
    assert!(compared > 1000, "only {compared} values compared");
}
