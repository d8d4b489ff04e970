//! Re-split property tests: every golden capture of cleartext traffic (ZooKeeper clients,
//! the ensemble's quorum and election traffic, HTTP/2 without TLS), cut at random points down
//! to one byte per segment, decodes to the same PDUs as the original.
//!
//! For each capture and variant, `pcapgen resplit-random` writes one pcap holding a copy of
//! every connection whose SYN is in the capture for each seed (each copy on its own client
//! address, 10.j.(k/256).(k%256) for connection j and seed k), and one tshark run decodes
//! them all. Variants: new cut points only; plus duplicated retransmissions; plus adjacent
//! segments swapped (decoded with `-o tcp.reassemble_out_of_order:TRUE`).
//!
//! A PDU is compared by its protocol, direction, summary (ZooKeeper, ZAB, election), fields
//! (HTTP/2: stream id, type, flags, length, header names and values) and pairing, with links
//! to other frames (`request_in`, `response_in`, watch links) turned into the position of the
//! linked PDU in the connection's list. Text that the dissectors show per segment (a
//! four-letter word's reply, a snapshot stream) is joined per run before comparing.
//!
//! Seeds: `ZKH2_RESPLIT_SEEDS` (default 20) from `ZKH2_RESPLIT_FIRST_SEED` (default 0).

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use support::{ENSEMBLE_PREFS, TempDir, Tshark, repo};

const ENSEMBLE_PORTS: &[u16] = &[
    22181, 22182, 22183, 22888, 22889, 22890, 23888, 23889, 23890,
];
const ZK_PROTOS: &[&str] = &["zookeeper"];
const ENSEMBLE_PROTOS: &[&str] = &["zookeeper", "zab", "zkelection"];
const H2_PROTOS: &[&str] = &["h2"];
/// The HTTP/2 servers of tests/record/record-h2.sh: prior knowledge on both ports.
const H2_PRIOR: &[&str] = &["-d", "tcp.port==18180,h2", "-d", "tcp.port==18181,h2"];
/// curl's h2c upgrade: HTTP/1.1 first.
const H2_UPGRADE: &[&str] = &["-d", "tcp.port==18181,http"];

struct Case {
    file: &'static str,
    ports: &'static [u16],
    protos: &'static [&'static str],
    args: &'static [&'static str],
}

macro_rules! resplit_tests {
    ($($name:ident => $case:expr;)*) => {
        $(
            #[test]
            fn $name() {
                run_case(&$case);
            }
        )*
    };
}

resplit_tests! {
    zk_kazoo_basic => Case { file: "tests/captures/zookeeper/kazoo-basic.pcapng", ports: &[2181], protos: ZK_PROTOS, args: &[] };
    zk_kazoo_watches => Case { file: "tests/captures/zookeeper/kazoo-watches.pcapng", ports: &[2181], protos: ZK_PROTOS, args: &[] };
    zk_zkcli => Case { file: "tests/captures/zookeeper/zkcli.pcapng", ports: &[2181], protos: ZK_PROTOS, args: &[] };
    zk_zkcli_sasl => Case { file: "tests/captures/zookeeper/zkcli-sasl.pcapng", ports: &[2181], protos: ZK_PROTOS, args: &[] };
    zk_cli_mt => Case { file: "tests/captures/zookeeper/cli_mt.pcapng", ports: &[2181], protos: ZK_PROTOS, args: &[] };
    zk_fourletter => Case { file: "tests/captures/zookeeper/fourletter.pcapng", ports: &[2181], protos: ZK_PROTOS, args: &[] };
    zk_tokio_zookeeper => Case { file: "tests/captures/zookeeper/tokio-zookeeper.pcapng", ports: &[2181], protos: ZK_PROTOS, args: &[] };
    ensemble => Case { file: "tests/captures/ensemble/ensemble.pcapng", ports: ENSEMBLE_PORTS, protos: ENSEMBLE_PROTOS, args: &ENSEMBLE_PREFS };
    ensemble_election_1byte => Case { file: "tests/captures/ensemble/election-1byte.pcap", ports: ENSEMBLE_PORTS, protos: ENSEMBLE_PROTOS, args: &ENSEMBLE_PREFS };
    h2_nghttp_prior_knowledge => Case { file: "tests/captures/h2/nghttp-prior-knowledge.pcapng", ports: &[18180, 18181], protos: H2_PROTOS, args: H2_PRIOR };
    h2_curl_prior_knowledge => Case { file: "tests/captures/h2/curl-prior-knowledge.pcapng", ports: &[18180, 18181], protos: H2_PROTOS, args: H2_PRIOR };
    h2_h2load => Case { file: "tests/captures/h2/h2load.pcapng", ports: &[18180, 18181], protos: H2_PROTOS, args: H2_PRIOR };
    h2_features => Case { file: "tests/captures/h2/h2-features.pcapng", ports: &[18180, 18181], protos: H2_PROTOS, args: H2_PRIOR };
    h2_curl_upgrade => Case { file: "tests/captures/h2/curl-upgrade.pcapng", ports: &[18181], protos: H2_PROTOS, args: H2_UPGRADE };
}

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// (pcapgen variant, tshark preferences).
type Variant = (&'static str, &'static [&'static str]);

const VARIANTS: &[Variant] = &[
    ("plain", &[]),
    ("duplicates", &[]),
    ("swaps", &["-o", "tcp.reassemble_out_of_order:TRUE"]),
];

/// Where a side starts comes from TCP's facts whatever its sequence number preferences:
/// with analysis off, or absolute numbers, TCP still records each side's ISN.
#[test]
fn sequence_number_preferences_do_not_matter() {
    const PREFS: &[Variant] = &[
        ("plain", &["-o", "tcp.analyze_sequence_numbers:FALSE"]),
        ("plain", &["-o", "tcp.relative_sequence_numbers:FALSE"]),
    ];
    for case in [
        Case {
            file: "tests/captures/zookeeper/tokio-zookeeper.pcapng",
            ports: &[2181],
            protos: ZK_PROTOS,
            args: &[],
        },
        Case {
            file: "tests/captures/h2/nghttp-prior-knowledge.pcapng",
            ports: &[18180, 18181],
            protos: H2_PROTOS,
            args: H2_PRIOR,
        },
    ] {
        run_variants(&case, PREFS);
    }
}

fn run_case(case: &Case) {
    run_variants(case, VARIANTS);
}

fn run_variants(case: &Case, variants: &[Variant]) {
    let capture = repo().join(case.file);
    assert!(capture.exists(), "{} is missing", capture.display());
    let seeds = env_u32("ZKH2_RESPLIT_SEEDS", 20);
    let first = env_u32("ZKH2_RESPLIT_FIRST_SEED", 0);
    let t = Tshark::new();
    let tmp = TempDir::new("resplit");

    let original = decode(&t, &capture, case, &[], true);
    let by_conn = original_by_connection(&original);
    let mut failures = Vec::new();
    let mut compared = 0usize;
    let mut skipped = 0usize;
    // On Wireshark 4.6, PDUs reassembled across duplicated retransmissions get lost in TCP's
    // reassembly (which from 4.6 on also lists the retransmitted copies), whoever asks for
    // it: on a re-split h2load capture (seed 3) the built-in http2 and ours decode the same
    // 793 of 814 frames, where 4.0 gives ours all 814 (the built-in 604). That variant is
    // compared and reported on 4.6, but only 4.0 and 4.4 require it equal.
    let tcp_loses_duplicates = support::ws_version() >= (4, 6);
    let mut tolerated = Vec::new();
    for (variant, prefs) in variants {
        let out = tmp.0.join(format!("{variant}.pcap"));
        let manifest = tmp.0.join(format!("{variant}.txt"));
        pcapgen(case, variant, seeds, first, &out, &manifest);
        let conns = read_manifest(&manifest);
        let copies = decode(&t, &out, case, prefs, false);
        let mut got: HashMap<(u8, u32), Vec<Pdu>> = HashMap::new();
        for (key, pdus) in copies {
            let Key::Copy(j, k) = key else { continue };
            got.insert((j, k), pdus);
        }
        let lost_upstream = if case.args == H2_UPGRADE {
            copies_without_http_upgrade(&t, &out, case, prefs)
        } else {
            Vec::new()
        };
        skipped += lost_upstream.len();
        for (j, conn) in conns.iter().enumerate() {
            if !conn.saw_syn {
                continue;
            }
            let want = by_conn
                .get(&(conn.client_port, conn.server_port, conn.occurrence))
                .map(|p| render(p, conn.server_port))
                .unwrap_or_default();
            for k in 0..seeds {
                if lost_upstream.contains(&(j as u8, k)) {
                    continue;
                }
                let pdus = got.get(&(j as u8, k)).cloned().unwrap_or_default();
                let have = render(&pdus, conn.server_port);
                compared += 1;
                if have != want {
                    let failures = if *variant == "duplicates" && tcp_loses_duplicates {
                        &mut tolerated
                    } else {
                        &mut failures
                    };
                    failures.push(first_difference(
                        &format!(
                            "{variant}, connection {j} (port {}), seed {}",
                            conn.client_port,
                            first + k
                        ),
                        &have,
                        &want,
                    ));
                }
            }
        }
    }
    eprintln!(
        "{}: {compared} re-split connections compared ({seeds} seeds x {} variants){}",
        case.file,
        variants.len(),
        if skipped > 0 {
            format!("; {skipped} left out: Wireshark's HTTP lost their request or its 101")
        } else {
            String::new()
        }
    );
    if !tolerated.is_empty() {
        eprintln!(
            "{}: {} re-split connections with duplicated retransmissions differ, as TCP on \
             Wireshark 4.6 loses their bytes; first: {}",
            case.file,
            tolerated.len(),
            tolerated[0]
        );
    }
    assert!(compared > 0, "no connection with a SYN in {}", case.file);
    assert!(
        failures.is_empty(),
        "{} of {compared} re-split connections of {} decode differently; first ones:\n{}",
        failures.len(),
        case.file,
        failures
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// No PDU of any test capture is shown as the continuation of one sent before the capture
/// (`zookeeper.continuation`, `h2.continuation_of_earlier_frame`, `zab.unsynced`) on a side
/// whose SYN (or SYN-ACK) is in the capture.
#[test]
fn no_continuation_on_a_side_whose_start_was_captured() {
    let t = Tshark::new();
    let keys = |dir: &str, name: &str| repo().join(dir).join(name);
    let mut checked = 0;
    let mut bad = Vec::new();
    for dir in [
        "tests/captures/zookeeper",
        "tests/captures/synthetic",
        "tests/captures/h2",
        "tests/captures/ensemble",
        "tests/captures/adversarial",
    ] {
        for capture in support::captures(dir) {
            let c = capture.to_str().expect("utf-8 path").to_string();
            let mut args: Vec<String> = vec!["-r".into(), c.clone(), "-2".into()];
            let extra: Vec<String> = match dir {
                "tests/captures/ensemble" => ENSEMBLE_PREFS.iter().map(|s| s.to_string()).collect(),
                "tests/captures/h2" => {
                    let mut v = vec![
                        "-o".to_string(),
                        format!("tls.keylog_file:{}", keys(dir, "tls.keys").display()),
                        "-d".into(),
                        "tcp.port==18181,http".into(),
                    ];
                    if c.contains("midstream") {
                        v.extend(["-d".into(), "tcp.port==18180,h2".into()]);
                    }
                    v
                }
                "tests/captures/zookeeper" => vec![
                    "-o".into(),
                    format!("tls.keylog_file:{}", keys(dir, "kazoo-tls.keys").display()),
                ],
                "tests/captures/synthetic" => vec!["-d".into(), "tcp.port==2182,zookeeper".into()],
                _ => vec!["-d".into(), "tcp.port==8080,h2".into()],
            };
            args.extend(extra);
            let fields = [
                "-T",
                "fields",
                "-e",
                "tcp.stream",
                "-e",
                "tcp.srcport",
                "-e",
                "frame.number",
            ];
            let run = |filter: &str| -> Vec<(String, String, String)> {
                let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
                a.extend(["-Y", filter]);
                a.extend(fields);
                t.ok(&a)
                    .lines()
                    .filter_map(|l| {
                        let f: Vec<&str> = l.split('\t').collect();
                        (f.len() >= 3)
                            .then(|| (f[0].to_string(), f[1].to_string(), f[2].to_string()))
                    })
                    .collect()
            };
            let starts: std::collections::HashSet<(String, String)> = run("tcp.flags.syn == 1")
                .into_iter()
                .map(|(s, p, _)| (s, p))
                .collect();
            for (stream, port, frame) in
                run("zookeeper.continuation || h2.continuation_of_earlier_frame || zab.unsynced")
            {
                if starts.contains(&(stream.clone(), port.clone())) {
                    bad.push(format!(
                        "{}: frame {frame} (TCP stream {stream}, from port {port})",
                        capture.display()
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked} captures");
    assert!(
        bad.is_empty(),
        "continuation items on sides whose SYN is in the capture:\n{}",
        bad.join("\n")
    );
}

fn first_difference(what: &str, have: &[String], want: &[String]) -> String {
    let i = have
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| have.len().min(want.len()));
    let (a, b) = (
        have.get(i).map_or("<none>", String::as_str),
        want.get(i).map_or("<none>", String::as_str),
    );
    // Start the excerpt a little before the first differing character.
    let from = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((k, _), _)| k)
        .saturating_sub(120);
    let cut = |s: &str| {
        let f = (0..=from.min(s.len()))
            .rev()
            .find(|&f| s.is_char_boundary(f))
            .unwrap_or(0);
        s[f..].to_string()
    };
    format!(
        "  {what}: PDU {i} of {} (original {}), from character {from}:\n    got:  {}\n    want: {}",
        have.len(),
        want.len(),
        cut(a),
        cut(b)
    )
}

// ------------------------------------------------------------------ inputs

/// The pcapgen binary built next to the plugin (scripts/test builds the workspace), else
/// `cargo run`.
fn pcapgen_command() -> Command {
    let beside = support::plugin_path().with_file_name("pcapgen");
    if beside.exists() {
        Command::new(beside)
    } else {
        let mut c = Command::new(env!("CARGO"));
        c.args(["run", "--release", "-q", "-p", "pcapgen", "--"])
            .current_dir(repo());
        c
    }
}

fn pcapgen(case: &Case, variant: &str, seeds: u32, first: u32, out: &Path, manifest: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut cmd = pcapgen_command();
    cmd.arg("resplit-random")
        .arg("--in")
        .arg(repo().join(case.file))
        .args(["--variant", variant])
        .args(["--seeds", &seeds.to_string()])
        .args(["--first-seed", &first.to_string()])
        .arg("--out")
        .arg(out)
        .arg("--manifest")
        .arg(manifest);
    for p in case.ports {
        cmd.args(["--server-port", &p.to_string()]);
    }
    let o = cmd.output().expect("run pcapgen");
    assert!(
        o.status.success(),
        "pcapgen failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o644)).expect("chmod");
}

struct Conn {
    client_port: u16,
    server_port: u16,
    saw_syn: bool,
    /// How many connections with the same ports came before this one.
    occurrence: usize,
}

fn read_manifest(path: &Path) -> Vec<Conn> {
    let text = std::fs::read_to_string(path).expect("manifest");
    let mut seen: HashMap<(u16, u16), usize> = HashMap::new();
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let client_port: u16 = f[1].parse().expect("port");
            let server_port: u16 = f[2].parse().expect("port");
            let n = seen.entry((client_port, server_port)).or_default();
            let occurrence = *n;
            *n += 1;
            Conn {
                client_port,
                server_port,
                saw_syn: f[3] == "1",
                occurrence,
            }
        })
        .collect()
}

// ------------------------------------------------------------------ decoding

/// One PDU as tshark shows it.
#[derive(Clone, Debug, Default)]
struct Pdu {
    frame: u32,
    src_port: u16,
    dst_port: u16,
    proto: String,
    summary: String,
    size: usize,
    /// (field, shown value), in tree order, links excluded.
    fields: Vec<(String, String)>,
    /// (link field, frame number).
    links: Vec<(String, u32)>,
}

/// Which connection a PDU belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// A connection of the original capture: its TCP stream index and ports.
    Original {
        stream: u32,
    },
    /// Copy k of connection j of a re-split capture.
    Copy(u8, u32),
    Other,
}

/// Fields that point at frames: compared as the position of the PDU they point at.
const LINKS: &[&str] = &[
    "zookeeper.request_in",
    "zookeeper.response_in",
    "zookeeper.watch.set_in",
    "zookeeper.watch.fired_in",
    "h2.request_in",
    "h2.response_in",
    "h2.push_promise.promised_in",
];

/// Fields that depend on capture times: left out.
const TIMES: &[&str] = &["zookeeper.time", "h2.time", "h2.ping.rtt"];

/// The write path links PDUs across connections, through the capture-wide index, by session,
/// cxid and zxid. The copies of one ensemble that a re-split capture holds side by side share
/// all three, so there it links copies to each other: left out here, and checked on the
/// recorded ensemble and on parts of it by tests/writepath.rs.
const CAPTURE_WIDE: &[&str] = &[
    "zookeeper.quorum",
    "zab.client.",
    "zab.proposal_in",
    "zab.ack_in",
    "zab.commit_in",
    "zab.write_path.",
];

/// HTTP/2 fields compared (its presentation is free to change; these are its substance).
const H2_FIELDS: &[&str] = &[
    "h2.stream_id",
    "h2.type",
    "h2.flags",
    "h2.length",
    "h2.header.name",
    "h2.header.value",
    "h2.continuation_of_earlier_frame",
];

fn kept(proto: &str, field: &str) -> bool {
    if TIMES.contains(&field) || CAPTURE_WIDE.iter().any(|p| field.starts_with(p)) {
        return false;
    }
    if proto == "h2" {
        return H2_FIELDS.contains(&field);
    }
    ["zookeeper.", "zab.", "zkelection."]
        .iter()
        .any(|p| field.starts_with(p))
}

/// Decodes `capture` and groups its PDUs by connection, in order. With `streams`, the
/// original's TCP stream indexes are read too (`-J tcp`); copies are told apart by address.
fn decode(
    t: &Tshark,
    capture: &Path,
    case: &Case,
    prefs: &[&str],
    streams: bool,
) -> Vec<(Key, Vec<Pdu>)> {
    let mut protos = case.protos.join(" ");
    if streams {
        protos = format!("tcp {protos}");
    }
    let filter = case.protos.join(" || ");
    let mut args: Vec<&str> = vec!["-r", capture.to_str().expect("utf-8 path"), "-2"];
    args.extend_from_slice(case.args);
    args.extend_from_slice(prefs);
    args.extend_from_slice(&["-Y", &filter, "-T", "pdml", "-J", &protos]);
    let mut child = t
        .command(&args, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tshark");
    let stdout = child.stdout.take().expect("stdout");
    let parsed = parse_pdml(BufReader::new(stdout), case.protos);
    let out = child.wait_with_output().expect("tshark");
    assert!(
        out.status.success(),
        "tshark {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parsed
}

/// A long value (a 200 KB znode's data) as its length and hash: 500 seeds' copies of a
/// capture stay small in memory.
fn compact(v: String) -> String {
    use std::hash::{Hash, Hasher};
    if v.len() <= 256 {
        return v;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    format!("<{} chars, hash {:016x}>", v.len(), h.finish())
}

fn attr(line: &str, name: &str) -> Option<String> {
    let pat = format!(" {name}=\"");
    let start = line.find(&pat)? + pat.len();
    let end = start + line[start..].find('"')?;
    Some(unescape(&line[start..end]))
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let ent = &rest[1..end];
        match ent {
            "quot" => out.push('"'),
            "amp" => out.push('&'),
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "apos" => out.push('\''),
            _ => {
                let code = ent
                    .strip_prefix("#x")
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()));
                match code.and_then(char::from_u32) {
                    Some(c) => out.push(c),
                    None => out.push_str(&rest[..=end]),
                }
            }
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// "… Src: A, Dst: B" (IP) or "… Src Port: P, Dst Port: Q, …" (TCP).
fn after<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let i = text.find(label)? + label.len();
    let rest = &text[i..];
    Some(rest.split(',').next().unwrap_or(rest).trim())
}

fn parse_pdml(reader: impl BufRead, protos: &[&str]) -> Vec<(Key, Vec<Pdu>)> {
    let mut order: Vec<Key> = Vec::new();
    let mut conns: HashMap<Key, Vec<Pdu>> = HashMap::new();
    let mut frame = 0u32;
    let mut src_ip = String::new();
    let mut ports = (0u16, 0u16);
    let mut stream: Option<u32> = None;
    let mut cur: Option<Pdu> = None;
    let mut depth = 0usize;
    let mut lines = reader.lines();
    while let Some(line) = lines.next() {
        let mut line = line.expect("tshark output");
        // An attribute value with a newline in it (a four-letter word's text) spans lines.
        while line.matches('"').count() % 2 == 1 {
            match lines.next() {
                Some(more) => {
                    line.push('\n');
                    line.push_str(&more.expect("tshark output"));
                }
                None => break,
            }
        }
        let l = line.trim_start();
        if let Some(pdu) = cur.as_mut() {
            if l.starts_with("</proto>") {
                depth -= 1;
                if depth == 0 {
                    let pdu = cur.take().expect("a PDU");
                    let key = match (stream, copy_key(&src_ip, ports)) {
                        (_, Some(k)) => k,
                        (Some(s), None) => Key::Original { stream: s },
                        (None, None) => Key::Other,
                    };
                    if !conns.contains_key(&key) {
                        order.push(key.clone());
                    }
                    conns.entry(key).or_default().push(pdu);
                }
            } else if l.starts_with("<proto ") {
                if !l.ends_with("/>") {
                    depth += 1;
                }
            } else if l.starts_with("<field ") {
                let (Some(name), show) = (attr(l, "name"), attr(l, "show")) else {
                    continue;
                };
                if LINKS.contains(&name.as_str()) {
                    if let Some(f) = show.and_then(|s| s.parse().ok()) {
                        pdu.links.push((name, f));
                    }
                } else if kept(&pdu.proto, &name) {
                    pdu.fields.push((name, compact(show.unwrap_or_default())));
                }
            }
            continue;
        }
        if l.starts_with("<packet>") {
            frame = 0;
            src_ip.clear();
            ports = (0, 0);
            stream = None;
        } else if l.starts_with("<field name=\"num\"") {
            frame = attr(l, "show").and_then(|s| s.parse().ok()).unwrap_or(0);
        } else if l.starts_with("<field name=\"tcp.stream\"") {
            stream = attr(l, "show").and_then(|s| s.parse().ok());
        } else if l.starts_with("<proto name=\"ip\"") || l.starts_with("<proto name=\"ipv6\"") {
            let name = attr(l, "showname").unwrap_or_default();
            // The copy's client address, whichever way the packet goes.
            src_ip = [after(&name, "Src: "), after(&name, "Dst: ")]
                .into_iter()
                .flatten()
                .find(|a| a.starts_with("10."))
                .unwrap_or("")
                .to_string();
        } else if l.starts_with("<proto name=\"tcp\"") {
            let name = attr(l, "showname").unwrap_or_default();
            let p = |label| {
                after(&name, label)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            ports = (p("Src Port: "), p("Dst Port: "));
        } else if l.starts_with("<proto ") {
            let name = attr(l, "name").unwrap_or_default();
            if protos.contains(&name.as_str()) && !l.ends_with("/>") {
                depth = 1;
                cur = Some(Pdu {
                    frame,
                    src_port: ports.0,
                    dst_port: ports.1,
                    summary: attr(l, "showname").unwrap_or_default(),
                    size: attr(l, "size").and_then(|s| s.parse().ok()).unwrap_or(0),
                    proto: name,
                    ..Pdu::default()
                });
            }
        }
    }
    order
        .into_iter()
        .map(|k| {
            let v = conns.remove(&k).unwrap_or_default();
            (k, v)
        })
        .collect()
}

/// The copies of an h2c-upgrade capture whose HTTP/1.1 exchange Wireshark's own HTTP
/// dissector did not decode: the request and its `101 Switching Protocols`, on the same
/// two passes the comparison uses. The upgrade to HTTP/2 follows from them, so without them
/// nothing after is ours to frame. On 4.4 and 4.6 (not 4.0), TCP loses HTTP's request or
/// response when retransmitted copies fall inside its reassembly, on the second pass; the
/// built-in http2 then loses the connection the same way (checked by hand on such copies).
fn copies_without_http_upgrade(
    t: &Tshark,
    capture: &Path,
    case: &Case,
    prefs: &[&str],
) -> Vec<(u8, u32)> {
    let path = capture.to_str().expect("utf-8 path");
    let mut args: Vec<&str> = vec!["-n", "-r", path, "-2"];
    args.extend_from_slice(case.args);
    args.extend_from_slice(prefs);
    args.extend_from_slice(&[
        "-Y",
        "http.request || http.response.code == 101",
        "-T",
        "fields",
        "-e",
        "ip.src",
        "-e",
        "ip.dst",
        "-e",
        "http.request",
    ]);
    let mut requests = Vec::new();
    let mut upgrades = Vec::new();
    for line in t.ok(&args).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [src, dst, request] = f[..] else { continue };
        if request.trim().is_empty() {
            upgrades.extend(copy_key(dst.trim(), (0, 0)));
        } else {
            requests.extend(copy_key(src.trim(), (0, 0)));
        }
    }
    let syns = t.ok(&[
        "-n",
        "-r",
        path,
        "-Y",
        "tcp.flags.syn == 1 && tcp.flags.ack == 0",
        "-T",
        "fields",
        "-e",
        "ip.src",
    ]);
    syns.lines()
        .filter_map(|ip| copy_key(ip.trim(), (0, 0)))
        .filter(|k| !(requests.contains(k) && upgrades.contains(k)))
        .filter_map(|k| match k {
            Key::Copy(j, k) => Some((j, k)),
            _ => None,
        })
        .collect()
}

/// Copies have the client address 10.j.(k/256).(k%256); the server is 127.0.0.1.
fn copy_key(src_ip: &str, _ports: (u16, u16)) -> Option<Key> {
    let o: Vec<u32> = src_ip.split('.').filter_map(|p| p.parse().ok()).collect();
    let client = if o.len() == 4 && o[0] == 10 {
        Some(o)
    } else {
        None
    }?;
    Some(Key::Copy(client[1] as u8, client[2] * 256 + client[3]))
}

/// The original's connections by (client port, server port, occurrence).
fn original_by_connection(original: &[(Key, Vec<Pdu>)]) -> HashMap<(u16, u16, usize), Vec<Pdu>> {
    let mut streams: Vec<(u32, &Vec<Pdu>)> = original
        .iter()
        .filter_map(|(k, v)| match k {
            Key::Original { stream } => Some((*stream, v)),
            _ => None,
        })
        .collect();
    streams.sort_by_key(|(s, _)| *s);
    let mut seen: HashMap<(u16, u16), usize> = HashMap::new();
    let mut out = HashMap::new();
    for (_, pdus) in streams {
        let (a, b) = ports_of(pdus);
        let n = seen.entry((a, b)).or_default();
        out.insert((a, b, *n), pdus.clone());
        *n += 1;
    }
    out
}

/// (client port, server port) of a connection's PDUs: the server's is the one that
/// `SERVER_PORTS` (the captures' server ports) names.
fn ports_of(pdus: &[Pdu]) -> (u16, u16) {
    let mut ports: Vec<u16> = pdus.iter().flat_map(|p| [p.src_port, p.dst_port]).collect();
    ports.sort_unstable();
    ports.dedup();
    let server = ports
        .iter()
        .copied()
        .find(|p| SERVER_PORTS.contains(p))
        .unwrap_or(0);
    let client = ports.iter().copied().find(|p| *p != server).unwrap_or(0);
    (client, server)
}

const SERVER_PORTS: &[u16] = &[
    2181, 18180, 18181, 22181, 22182, 22183, 22888, 22889, 22890, 23888, 23889, 23890,
];

/// A PDU whose text is cut where the segments are (a four-letter word's reply, a piece of a
/// snapshot stream): joined with the next ones of the same kind and direction.
fn stream_like(p: &Pdu) -> Option<&'static str> {
    if p.fields
        .iter()
        .any(|(f, _)| f == "zookeeper.four_letter.response")
    {
        Some("zookeeper.four_letter.response")
    } else if p
        .fields
        .iter()
        .any(|(f, _)| f == "zookeeper.four_letter.command")
    {
        // The command and whatever the client sends after it (a newline).
        Some("zookeeper.four_letter.command")
    } else if p.fields.iter().any(|(f, _)| f == "zab.snapshot") {
        Some("zab.snapshot")
    } else {
        None
    }
}

/// The comparable form of a connection's PDU list: the client's PDUs in order, then the
/// server's. (Which of two PDUs going opposite ways completes first depends on where the
/// segments end: a PDU whose length is told piece by piece may be shown one segment later.)
/// A link to a frame becomes the position of the PDU it means, as `c>s#3`.
fn render(pdus: &[Pdu], server_port: u16) -> Vec<String> {
    // Per direction, with runs of segment-cut text joined.
    let mut sides: [Vec<Pdu>; 2] = [Vec::new(), Vec::new()];
    for p in pdus {
        let side = &mut sides[usize::from(p.src_port == server_port)];
        if let (Some(kind), Some(last)) = (stream_like(p), side.last_mut())
            && stream_like(last) == Some(kind)
        {
            last.size += p.size;
            continue;
        }
        side.push(p.clone());
    }
    const DIRS: [&str; 2] = ["c>s", "s>c"];
    let all: Vec<(usize, usize, &Pdu)> = sides
        .iter()
        .enumerate()
        .flat_map(|(d, v)| v.iter().enumerate().map(move |(k, p)| (d, k, p)))
        .collect();
    let key = |p: &Pdu| {
        p.fields
            .iter()
            .find(|(f, _)| f == "zookeeper.xid" || f == "h2.stream_id")
            .map(|(_, v)| v.clone())
    };
    let field = |p: &Pdu, name: &str| {
        p.fields
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, v)| v.clone())
    };
    // A link names a frame, which may hold several PDUs: it means the one of the other side
    // with the same xid or stream id (and path), and for HTTP/2 pairing its HEADERS (or the
    // PUSH_PROMISE that promised the stream).
    let resolve = |from: &Pdu, link: &str, frame: u32| -> Option<(usize, usize, &Pdu)> {
        let want_type = match link {
            "h2.request_in" | "h2.response_in" => Some("1"),
            "h2.push_promise.promised_in" => Some("5"),
            _ => None,
        };
        let score = |p: &Pdu| {
            let mut s = 0;
            if p.src_port != from.src_port {
                s += 8;
            }
            if key(p).is_some() && key(p) == key(from) {
                s += 4;
            }
            if field(p, "zookeeper.path").is_some()
                && field(p, "zookeeper.path") == field(from, "zookeeper.path")
            {
                s += 2;
            }
            if want_type.is_some() && field(p, "h2.type").as_deref() == want_type {
                s += 1;
            }
            s
        };
        all.iter()
            .filter(|(_, _, p)| p.frame == frame)
            .max_by_key(|(d, k, p)| (score(p), std::cmp::Reverse((*d, *k))))
            .copied()
    };
    let mut out = Vec::with_capacity(pdus.len());
    for (d, _, p) in &all {
        let mut s = format!("{} {}", DIRS[*d], p.proto);
        if p.proto != "h2" {
            match stream_like(p) {
                Some("zab.snapshot") => s.push_str(&format!(" [{} bytes]", p.size)),
                Some("zookeeper.four_letter.command") => {
                    s.push_str(&format!(" {} [{} bytes]", p.summary, p.size))
                }
                Some(_) => s.push_str(&format!(" [four-letter word reply, {} bytes]", p.size)),
                None => s.push_str(&format!(" {}", p.summary)),
            }
        }
        for (f, v) in &p.fields {
            // Segment-cut text is compared by its joined length (above).
            let cut = match stream_like(p) {
                Some("zab.snapshot") => f.starts_with("zab.snapshot"),
                Some(_) => f.starts_with("zookeeper.four_letter"),
                None => false,
            };
            if !cut {
                s.push_str(&format!(" {f}={v}"));
            }
        }
        let mut watch_links: std::collections::BTreeMap<&str, std::collections::BTreeSet<String>> =
            Default::default();
        for (f, frame) in &p.links {
            if p.proto == "h2" {
                // Which links a frame shows depends on which frames share its packet
                // (h2/dissect.rs); the pairing itself shows on the client's HEADERS: it must
                // point at the other side's frame of the same stream.
                if f != "h2.response_in"
                    || field(p, "h2.type").as_deref() != Some("1")
                    || p.src_port == server_port
                {
                    continue;
                }
                let target = resolve(p, f, *frame)
                    .filter(|(_, _, t)| t.src_port != p.src_port)
                    .and_then(|(_, _, t)| key(t));
                s.push_str(&format!(" {f}->stream {}", target.unwrap_or_default()));
                continue;
            }
            if f == "zookeeper.watch.fired_in" || f == "zookeeper.watch.set_in" {
                // One link per frame: notifications that share a frame share a link.
                let wanted = |t: &Pdu| {
                    if f == "zookeeper.watch.fired_in" {
                        field(t, "zookeeper.xid").as_deref() == Some("-1")
                    } else {
                        field(t, "zookeeper.opcode").is_some_and(|o| {
                            ["3", "4", "8", "12", "101", "105", "106"].contains(&o.as_str())
                        })
                    }
                };
                watch_links.entry(f.as_str()).or_default().extend(
                    all.iter()
                        .filter(|(_, _, t)| {
                            t.frame == *frame && t.src_port != p.src_port && wanted(t)
                        })
                        .map(|(d, k, _)| format!("{}#{k}", DIRS[*d])),
                );
                continue;
            }
            let target = resolve(p, f, *frame)
                .map_or_else(|| "?".to_string(), |(d, k, _)| format!("{}#{k}", DIRS[d]));
            s.push_str(&format!(" {f}->{target}"));
        }
        for (f, set) in watch_links {
            s.push_str(&format!(" {f}->{set:?}"));
        }
        out.push(s);
    }
    out
}
