//! HTTP/2 (`h2`) through the real tshark with the plugin loaded: golden outputs of the
//! recorded captures, coexistence with the built-in `http2`, and the pairing, timing and
//! flow-control fields checked against values computed by hand from the capture.
//!
//! Regenerate the golden files with `ZKH2_BLESS=1 scripts/test` and review the diff.
//! The header and body equality with the built-in is in `h2_oracle.rs`.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Tshark, captures, repo};

/// Anything that means the plugin failed on a packet.
const BAD: &str = "_ws.malformed || zkh2.dissector_bug || h2.malformed || h2.hpack.error";

/// Options every run gets: the TLS key log of the TLS capture, and HTTP on the Python
/// server's port (where the h2c upgrade happens).
fn common_args(capture: &Path) -> Vec<String> {
    let keys = repo().join("tests/captures/h2/tls.keys");
    let mut args = vec![
        "-r".to_string(),
        capture.to_str().expect("utf-8 path").to_string(),
        "-o".to_string(),
        format!("tls.keylog_file:{}", keys.display()),
        "-d".to_string(),
        "tcp.port==18181,http".to_string(),
    ];
    // A capture cut mid-connection has no preface for the heuristic to find.
    if capture.to_string_lossy().contains("midstream") {
        args.extend(["-d".to_string(), "tcp.port==18180,h2".to_string()]);
    }
    args
}

fn run(t: &Tshark, capture: &Path, extra: &[&str]) -> String {
    let mut args = common_args(capture);
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    t.ok(&refs)
}

fn expected_path(capture: &Path) -> PathBuf {
    let stem = capture.file_stem().expect("capture name");
    repo()
        .join("tests/expected/h2")
        .join(format!("{}.txt", stem.to_string_lossy()))
}

fn h2_captures() -> Vec<PathBuf> {
    let all: Vec<PathBuf> = captures("tests/captures/h2")
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pcapng" || e == "pcap"))
        .collect();
    assert!(all.len() >= 8, "h2 captures missing: {all:?}");
    all
}

#[test]
fn golden_outputs() {
    let t = Tshark::new();
    let mut failures = Vec::new();
    for capture in h2_captures() {
        let list = run(&t, &capture, &["-2", "-Y", "h2"]);
        // The trees of the first packets: every frame type is there, and the goldens stay
        // small enough to review (h2load packets carry dozens of frames each).
        let packets = if capture.to_string_lossy().contains("h2load") {
            "4"
        } else {
            "20"
        };
        let tree = run(
            &t,
            &capture,
            &["-2", "-c", packets, "-Y", "h2", "-V", "-O", "h2"],
        );
        let got =
            format!("# tshark -2 -Y h2\n{list}\n# tshark -2 -c {packets} -Y h2 -V -O h2\n{tree}");
        let want_path = expected_path(&capture);
        failures.extend(support::check_golden(&capture, &got, &want_path));
    }
    support::assert_goldens(&failures);
}

#[test]
fn no_malformed_and_every_frame_decoded() {
    let t = Tshark::new();
    for capture in h2_captures() {
        let bad = run(&t, &capture, &["-2", "-Y", BAD]);
        assert!(bad.trim().is_empty(), "{}: {bad}", capture.display());
        let frames = run(
            &t,
            &capture,
            &["-2", "-Y", "h2", "-T", "fields", "-e", "h2.type"],
        );
        assert!(!frames.trim().is_empty(), "{}: no h2", capture.display());
    }
}

/// tshark without the plugin, in the same hermetic way (temporary HOME, uid 65534 as root).
fn stock_tshark(args: &[String]) -> String {
    let home = std::env::temp_dir().join(format!("zkh2-stock-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = if root {
        Command::new("chown")
            .args(["65534:65534"])
            .arg(&home)
            .status()
            .unwrap();
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "tshark"]);
        c
    } else {
        Command::new("tshark")
    };
    let out = cmd
        .args(args)
        .env("HOME", &home)
        .env("LC_ALL", "C.UTF-8")
        .env("TZ", "UTC")
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "stock tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `--disable-protocol h2` gives back exactly what tshark shows without the plugin: the
/// built-in takes TLS ALPN and the h2c upgrade again.
#[test]
fn disabling_h2_gives_back_the_builtin_byte_for_byte() {
    let t = Tshark::new();
    // (The mid-connection cuts need `-d ...,h2`, which tshark without the plugin refuses.)
    for capture in h2_captures()
        .into_iter()
        .filter(|c| !c.to_string_lossy().contains("midstream"))
    {
        let mut args = common_args(&capture);
        args.push("-V".to_string());
        let want = stock_tshark(&args);
        args.extend(["--disable-protocol".to_string(), "h2".to_string()]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let got = t.ok(&refs);
        if got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{}: differs from tshark without the plugin at line {}:\n  with h2 disabled: {}\n  without plugin:   {}",
                capture.display(),
                line + 1,
                got.lines().nth(line).unwrap_or("<eof>"),
                want.lines().nth(line).unwrap_or("<eof>")
            );
        }
    }
}

/// By default ours takes TLS (ALPN) and the h2c upgrade, and the built-in takes nothing:
/// every frame that matches `http2` (ours fills the built-in's fields too) is ours.
#[test]
fn ours_takes_alpn_and_upgrade_by_default() {
    let t = Tshark::new();
    for name in ["tls.pcapng", "curl-upgrade.pcapng"] {
        let capture = repo().join("tests/captures/h2").join(name);
        let ours = run(
            &t,
            &capture,
            &["-Y", "h2.type == 1", "-T", "fields", "-e", "frame.number"],
        );
        assert!(!ours.trim().is_empty(), "{name}: no h2 HEADERS");
        let builtin = run(&t, &capture, &["-Y", "http2 && !h2"]);
        assert!(
            builtin.trim().is_empty(),
            "{name}: built-in still decodes: {builtin}"
        );
        let both = run(&t, &capture, &["-Y", "http2 && h2"]);
        assert!(
            !both.trim().is_empty(),
            "{name}: no http2 fields on h2 frames"
        );
    }
}

/// Fields of every frame as rows of (frame number, time, then the requested fields).
fn rows(t: &Tshark, capture: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut extra = vec![
        "-2",
        "-Y",
        filter,
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ];
    extra.extend(["-e", "frame.number", "-e", "frame.time_epoch"]);
    for f in fields {
        extra.extend(["-e", f]);
    }
    run(t, capture, &extra)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn seconds(s: &str) -> f64 {
    s.parse().expect("a number")
}

/// Request/response pairing and time: every response HEADERS points at the frame of its
/// request on the same stream, h2.time is the difference of the two capture times, and the
/// request points back.
#[test]
fn pairing_and_time_match_the_capture() {
    let t = Tshark::new();
    let mut checked = 0;
    for name in [
        "curl-prior-knowledge.pcapng",
        "nghttp-prior-knowledge.pcapng",
        "tls.pcapng",
    ] {
        let capture = repo().join("tests/captures/h2").join(name);
        let time_of = |frame: &str| -> f64 {
            let r = rows(&t, &capture, &format!("frame.number == {frame}"), &[]);
            seconds(&r[0][1])
        };
        for r in rows(&t, &capture, "h2.time", &["h2.request_in", "h2.time"]) {
            let (frame, at) = (&r[0], seconds(&r[1]));
            let requests: Vec<&str> = r[2].split(',').collect();
            let times: Vec<&str> = r[3].split(',').collect();
            // DATA frames carry request_in too; take packets where each link has its time.
            if requests.len() != times.len() {
                continue;
            }
            for (request, time) in requests.iter().zip(times) {
                let expected = at - time_of(request);
                let time = seconds(time);
                assert!(
                    (expected - time).abs() < 1e-6,
                    "{name} frame {frame}: h2.time {time} but the frames are {expected} s apart"
                );
                // The request points back at this response.
                let back = rows(
                    &t,
                    &capture,
                    &format!("frame.number == {request} && h2.method"),
                    &["h2.response_in"],
                );
                assert!(
                    back.iter().any(|b| b[2].split(',').any(|f| f == frame)),
                    "{name}: request in {request} does not point back at {frame}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} responses checked");
}

/// Flow control, computed by hand from the capture: the server's connection window starts
/// at 65535, drops by each DATA frame's length and grows by each WINDOW_UPDATE on stream 0
/// from the client. Compare with h2.window.connection after every such frame.
#[test]
fn connection_window_follows_data_and_window_updates() {
    let t = Tshark::new();
    let capture = repo().join("tests/captures/h2/nghttp-prior-knowledge.pcapng");
    // One server connection (port 18180): frames in order, one row per h2 frame.
    let out = run(
        &t,
        &capture,
        &[
            "-2",
            "-Y",
            "tcp.port == 18180 && h2",
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=;",
            "-e",
            "tcp.srcport",
            "-e",
            "h2.type",
            "-e",
            "h2.stream_id",
            "-e",
            "h2.length",
            "-e",
            "h2.window_update.increment",
            "-e",
            "h2.window.connection",
        ],
    );
    let mut window: i64 = 65_535;
    let mut checked = 0;
    for line in out.lines() {
        let cols: Vec<Vec<&str>> = line.split('\t').map(|c| c.split(';').collect()).collect();
        let from_server = cols[0][0] == "18180";
        let (types, streams, lengths) = (&cols[1], &cols[2], &cols[3]);
        let mut increments = cols[4].iter().filter(|s| !s.is_empty());
        let mut shown = cols[5].iter().filter(|s| !s.is_empty());
        for i in 0..types.len() {
            let affects = match (types[i], from_server) {
                ("0", true) => {
                    window -= lengths[i].parse::<i64>().unwrap();
                    true
                }
                ("8", false) => {
                    let inc: i64 = increments.next().unwrap().parse().unwrap();
                    if streams[i] == "0" {
                        window += inc;
                    }
                    true
                }
                ("8", true) => {
                    increments.next();
                    true
                }
                ("0", false) => true,
                _ => false,
            };
            if affects {
                let value: i64 = shown.next().expect("window field").parse().unwrap();
                if (types[i] == "0" && from_server) || (types[i] == "8" && !from_server) {
                    assert_eq!(
                        value, window,
                        "window after frame of type {} in {line}",
                        types[i]
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 20, "only {checked} window values checked");
}

/// A filter on a field deep in the frame, on an expert item's name, or on the built-in's
/// names finds the same frames as a tap without a tree (`-q -z io,stat,0,FILTER`, where
/// `h2` builds only what something reads) as in one pass with a printed summary (which
/// fills columns, so everything is built).
#[test]
fn quiet_filters_find_what_printed_ones_find() {
    let t = Tshark::new();
    let capture = repo().join("tests/captures/h2/h2-errors.pcapng");
    for filter in [
        "h2",
        "h2.type == 1",
        "h2.header.name == \":status\"",
        "h2.header.index",
        "h2.flags.end_stream == 1",
        "h2.status.error",
        "http2.header.name == \":path\"",
        "http2.type == 0",
    ] {
        let printed = t.count_one_pass(&capture, &[], filter);
        assert!(printed > 0, "{filter}: no frame in the capture");
        assert_eq!(t.count_quiet(&capture, &[], filter), printed, "{filter}");
    }
}

/// 4xx and 5xx responses carry an expert note also when no tree is built (`-q -z expert`).
#[test]
fn error_status_expert_without_a_tree() {
    let t = Tshark::new();
    let capture = repo().join("tests/captures/h2/h2-errors.pcapng");
    let out = run(&t, &capture, &["-q", "-z", "expert,note"]);
    for status in [
        "404 Not Found",
        "500 Internal Server Error",
        "503 Service Unavailable",
    ] {
        assert!(
            out.lines()
                .any(|l| l.contains(" H2 ") && l.ends_with(status)),
            "no expert note for {status}:\n{out}"
        );
    }
}

/// `-z h2,srt` times responses per method and status class; `-z h2,tree` counts requests,
/// responses by status, resets and GOAWAYs.
#[test]
fn statistics_srt_and_tree() {
    let t = Tshark::new();
    let capture = repo().join("tests/captures/h2/h2-errors.pcapng");
    let out = run(&t, &capture, &["-q", "-z", "h2,srt", "-z", "h2,tree"]);
    let row = |name: &str| {
        out.lines()
            .find(|l| {
                l.split_whitespace()
                    .skip(1)
                    .collect::<Vec<_>>()
                    .join(" ")
                    .starts_with(name)
            })
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .unwrap_or_else(|| panic!("no row {name}:\n{out}"))
    };
    // Index, name..., calls: the GET row counts the three responses.
    assert_eq!(row("GET")[2], "3", "{out}");
    assert_eq!(row("4xx Client error")[4], "1", "{out}");
    assert_eq!(row("5xx Server error")[4], "2", "{out}");
    let tree_count = |label: &str| {
        support::tree_count(&out, label).unwrap_or_else(|| panic!("no tree node {label}:\n{out}"))
    };
    assert_eq!(tree_count("Requests by method"), "3");
    assert_eq!(tree_count("404"), "1");
    assert_eq!(tree_count("500"), "1");
    assert_eq!(tree_count("503"), "1");
    assert_eq!(tree_count("GOAWAY by error code"), "2");
}

/// `h2`'s own names for what the built-in's fields hold: the full request URI, the named
/// settings and common headers, and the header pair as one string. In the same run the
/// compatibility layer fills the built-in's `http2.*` (equal to the built-in's own, which
/// tests/h2_parity.rs checks), so ours are compared with those, frame by frame.
#[test]
fn own_fields_for_uri_settings_and_common_headers() {
    let t = Tshark::new();
    let pairs = [
        (
            "h2.settings.initial_window_size",
            "http2.settings.initial_window_size",
        ),
        (
            "h2.settings.max_concurrent_streams",
            "http2.settings.max_concurrent_streams",
        ),
        (
            "h2.settings.header_table_size",
            "http2.settings.header_table_size",
        ),
        ("h2.headers.user_agent", "http2.headers.user_agent"),
        ("h2.headers.server", "http2.headers.server"),
        ("h2.headers.content_length", "http2.headers.content_length"),
    ];
    let (mut uris, mut agents, mut settings) = (0, 0, 0);
    for capture in h2_captures() {
        if capture.to_string_lossy().contains("midstream") {
            continue;
        }
        let (mut ours_uris, mut builtin_uris) = (BTreeSet::new(), BTreeSet::new());
        let mut fields = vec!["h2.request.full_uri", "http2.request.full_uri"];
        for (a, b) in pairs {
            fields.extend([a, b]);
        }
        for row in rows(&t, &capture, "h2", &fields) {
            let (ours_uri, builtin_uri) = (&row[2], &row[3]);
            // Ours shows the URI where the request's header block completes, the built-in
            // where :authority is (4.6: on every frame of the stream): compared as sets.
            ours_uris.extend(
                ours_uri
                    .split(',')
                    .filter(|u| !u.is_empty())
                    .map(str::to_string),
            );
            builtin_uris.extend(
                builtin_uri
                    .split(',')
                    .filter(|u| !u.is_empty())
                    .map(str::to_string),
            );
            for (i, (a, b)) in pairs.iter().enumerate() {
                let (o, w) = (&row[4 + 2 * i], &row[5 + 2 * i]);
                assert_eq!(o, w, "{}: frame {}: {a} vs {b}", capture.display(), row[0]);
                if !o.is_empty() && a.contains("settings") {
                    settings += 1;
                }
                if !o.is_empty() && a.contains("user_agent") {
                    agents += 1;
                }
            }
        }
        assert_eq!(
            ours_uris,
            builtin_uris,
            "{}: request URIs",
            capture.display()
        );
        uris += ours_uris.len();
        // A name and value filtered together match where the named field has that value.
        let agent_values: BTreeSet<String> = rows(
            &t,
            &capture,
            "h2.headers.user_agent",
            &["h2.headers.user_agent"],
        )
        .into_iter()
        .flat_map(|r| r[2].split(',').map(str::to_string).collect::<Vec<_>>())
        .collect();
        for ua in agent_values {
            let pair = format!("h2.header == \"user-agent: {ua}\"");
            let named = format!("h2.headers.user_agent == \"{ua}\"");
            let frames = |f: &str| rows(&t, &capture, f, &[]).len();
            assert_eq!(
                frames(&pair),
                frames(&named),
                "{}: {pair}",
                capture.display()
            );
        }
    }
    assert!(
        uris > 10 && agents > 10 && settings > 10,
        "too few values to compare: {uris} URIs, {agents} user agents, {settings} settings"
    );
}

/// `h2.builtin_compat` off: only h2's own items. No `http2` field, no gRPC handed to the
/// grpc and protobuf dissectors (h2 shows each message's data itself), no http2 tap.
#[test]
fn builtin_compatibility_can_be_turned_off() {
    let t = Tshark::new();
    let capture = repo().join("tests/captures/grpc/grpc-h2c.pcapng");
    let count = |compat: &str, filter: &str| {
        let pref = format!("h2.builtin_compat:{compat}");
        let args = [
            "-r",
            capture.to_str().unwrap(),
            "-d",
            "tcp.port==45051,h2",
            "-o",
            &pref,
            "-Y",
            filter,
        ];
        t.ok(&args).lines().count()
    };
    let h2 = count("TRUE", "h2");
    assert!(h2 > 10, "{h2} h2 frames");
    assert_eq!(count("TRUE", "http2"), h2);
    assert!(count("TRUE", "protobuf") > 0);
    assert_eq!(count("FALSE", "h2"), h2);
    assert_eq!(count("FALSE", "http2"), 0);
    assert_eq!(count("FALSE", "grpc || protobuf"), 0);
    assert_eq!(
        count("FALSE", "h2.grpc.data"),
        count("TRUE", "grpc.message_data")
    );
}

/// The built-in's fields are hidden items: `h2` builds them wherever an output can show
/// them (JSON and PDML print hidden items; `-T fields -e http2.*` and filters name them)
/// and leaves them out where nothing would (tshark -V, -T fields of other fields).
#[test]
fn builtin_fields_in_every_output_that_shows_them() {
    let t = Tshark::new();
    let capture = repo().join("tests/captures/h2/curl-prior-knowledge.pcapng");
    let cap = capture.to_str().unwrap();
    let ours = |extra: &[&str]| {
        let mut args = vec!["-r", cap, "-d", "tcp.port==18180,h2"];
        args.extend_from_slice(extra);
        t.ok(&args)
    };
    let stock = |extra: &[&str]| {
        let mut args: Vec<String> = ["-r", cap, "-d", "tcp.port==18180,http2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        stock_tshark(&args)
    };
    let count = |out: &str, what: &str| out.matches(what).count();
    for (extra, what) in [
        (&["-T", "json"][..], "\"http2.streamid\""),
        (&["-T", "pdml"][..], "name=\"http2.streamid\""),
        (
            &["-T", "json", "-e", "http2.streamid"][..],
            "\"http2.streamid\"",
        ),
    ] {
        let (o, s) = (count(&ours(extra), what), count(&stock(extra), what));
        assert!(s > 5, "{extra:?}: the built-in shows {s}");
        assert_eq!(o, s, "{extra:?}: {what}");
    }
    let fields = ["-T", "fields", "-e", "http2.streamid", "-e", "http2.type"];
    assert_eq!(ours(&fields), stock(&fields));
    // A filter on an http2 field in a -V run: the frames and the fields both there.
    let v = ours(&["-V", "-Y", "http2.type == 1"]);
    assert!(count(&v, "HEADERS[") > 3, "{v}");
}
