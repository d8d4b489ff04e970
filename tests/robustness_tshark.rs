//! Robustness, through the real tshark with the plugin loaded:
//!
//! - panic containment: a plugin built with the test-only `panic-trigger` feature panics on
//!   purpose on frame `ZKH2_PANIC_FRAME`; tshark must exit 0, show `zkh2.dissector_bug` on
//!   that frame, and decode every later frame exactly as without the trigger;
//! - adversarial ZooKeeper captures built by `pcapgen adversarial` (small ones committed in
//!   tests/captures/adversarial/, big ones generated into a temp dir): each decodes with its
//!   expert item, in bounded time, and within 100 MB of peak RSS of plain tshark
//!   (`--disable-protocol zookeeper`) on the same file.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Tshark, repo};

const CAPTURE: &str = "tests/captures/zookeeper/kazoo-basic.pcapng";
/// A reply (to the request in frame 8); frames after it include replies paired with
/// requests before it.
const PANIC_FRAME: u32 = 9;

/// The plugin built with `--features panic-trigger`: `ZKH2_PANIC_PLUGIN` (scripts/test builds
/// it), else built here into target/panic-trigger.
fn panic_plugin() -> PathBuf {
    if let Ok(p) = std::env::var("ZKH2_PANIC_PLUGIN") {
        return PathBuf::from(p);
    }
    let dir = repo().join("target/panic-trigger");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--features", "panic-trigger", "--lib"])
        .env("CARGO_TARGET_DIR", &dir)
        .current_dir(repo())
        .status()
        .expect("run cargo");
    assert!(status.success(), "building the panic-trigger plugin failed");
    dir.join("release/libzkh2.so")
}

/// `tshark -V` output split into frames, keyed by frame number.
fn frames(verbose: &str) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = Vec::new();
    for line in verbose.lines() {
        if let Some(rest) = line.strip_prefix("Frame ") {
            let n = rest
                .split(':')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("frame number");
            out.push((n, String::new()));
        }
        if let Some((_, text)) = out.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}

#[test]
fn panic_is_contained_and_later_frames_are_unchanged() {
    let cap = repo().join(CAPTURE);
    let cap = cap.to_str().unwrap();
    let frame = PANIC_FRAME.to_string();
    let env = [("ZKH2_PANIC_FRAME", frame.as_str())];
    let args = ["-r", cap, "-2", "-V", "-O", "zookeeper,zkh2"];

    // The release plugin has no trigger: the variable changes nothing.
    let release = Tshark::new();
    let reference = release.ok(&args);
    let with_env = release.run_env(&args, &env);
    assert_eq!(with_env.status, 0);
    assert!(
        with_env.stdout == reference,
        "the release build reacts to ZKH2_PANIC_FRAME"
    );

    let t = Tshark::with_plugin(&panic_plugin());
    // Without the variable the test build decodes like the release build (both must be
    // built from the same tree).
    assert!(
        t.ok(&args) == reference,
        "the panic-trigger build decodes differently from the release build"
    );

    let out = t.run_env(&args, &env);
    assert_eq!(out.status, 0, "tshark failed:\n{}", out.stderr);
    assert!(
        out.stderr.contains("panic-trigger: deliberate panic"),
        "the trigger did not fire:\n{}",
        out.stderr
    );
    let bug = t.run_env(
        &[
            "-r",
            cap,
            "-2",
            "-Y",
            "zkh2.dissector_bug",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
        &env,
    );
    assert_eq!(bug.status, 0);
    assert_eq!(
        bug.stdout.trim(),
        frame,
        "zkh2.dissector_bug not on frame {frame} alone"
    );
    // And on no frame without the trigger.
    assert_eq!(t.count(Path::new(cap), "zkh2.dissector_bug"), 0);

    let expected = frames(&reference);
    let got = frames(&out.stdout);
    assert_eq!(got.len(), expected.len());
    let mut later_zk = 0;
    for ((n, want), (m, have)) in expected.iter().zip(&got) {
        assert_eq!(n, m);
        if *n == PANIC_FRAME {
            assert!(have.contains("Dissector bug (panic)"), "{have}");
            // (-O shows the expert's text; the -Y zkh2.dissector_bug run above proves it is the expert item)
        } else if *n > PANIC_FRAME {
            assert!(
                have == want,
                "frame {n} differs after the panic:\n{have}\n---\n{want}"
            );
            later_zk += usize::from(have.contains("\nZooKeeper"));
        }
    }
    assert!(
        later_zk > 20,
        "too few ZooKeeper frames after the panic: {later_zk}"
    );
}

// ---------------------------------------------------------------------------------------
// Adversarial captures

/// Where an adversarial capture is: committed when small, else generated with pcapgen.
fn adversarial(kind: &str, tmp: &Path) -> PathBuf {
    let committed = repo().join(format!("tests/captures/adversarial/{kind}.pcap"));
    if committed.exists() {
        return committed;
    }
    let out = tmp.join(format!("{kind}.pcap"));
    let status = Command::new(env!("CARGO"))
        .args([
            "run",
            "--release",
            "-q",
            "-p",
            "pcapgen",
            "--",
            "adversarial",
            kind,
            "-o",
        ])
        .arg(&out)
        .current_dir(repo())
        .status()
        .expect("run pcapgen");
    assert!(status.success(), "pcapgen adversarial {kind} failed");
    out
}

struct Measured {
    status: i32,
    stdout: String,
    max_rss_kb: i64,
    elapsed: Duration,
}

/// Runs tshark and measures its peak RSS (wait4's rusage of the child: setpriv execs tshark
/// in the same process).
fn measured(t: &Tshark, args: &[&str], out_file: &Path) -> Measured {
    let stdout = std::fs::File::create(out_file).expect("create output file");
    let start = Instant::now();
    let child = t
        .command(args, &[])
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tshark");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: plain FFI call with valid out-pointers; reaps our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid, "wait4 failed");
    let elapsed = start.elapsed();
    let status = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Measured {
        status,
        stdout: std::fs::read_to_string(out_file).unwrap_or_default(),
        max_rss_kb: ru.ru_maxrss,
        elapsed,
    }
}

struct Case<'a> {
    kind: &'a str,
    /// Extra tshark options.
    prefs: &'a [&'a str],
    /// Display filter for the expert item, and how many frames may match (min, max).
    expert: &'a str,
    frames: (usize, usize),
    /// Further (filter, frame count) checks on the same run.
    more: &'a [(&'a str, usize)],
}

fn check_case(c: &Case<'_>) {
    let tmp = std::env::temp_dir().join(format!("zkh2-adv-{}-{}", std::process::id(), c.kind));
    std::fs::create_dir_all(&tmp).unwrap();
    // Readable by the unprivileged user that runs tshark.
    Command::new("chmod")
        .arg("a+rwx")
        .arg(&tmp)
        .status()
        .unwrap();
    let cap = adversarial(c.kind, &tmp);
    Command::new("chmod").arg("a+r").arg(&cap).status().unwrap();
    let cap_s = cap.to_str().unwrap();
    let t = Tshark::new();

    // Plain tshark, our protocol off: the baseline for time and memory.
    let mut base_args = vec!["-r", cap_s, "-2", "-V", "--disable-protocol", "zookeeper"];
    base_args.extend_from_slice(c.prefs);
    let base = measured(&t, &base_args, &tmp.join("plain.txt"));
    assert_eq!(base.status, 0, "plain tshark failed on {}", c.kind);

    let mut args = vec!["-r", cap_s, "-2", "-V"];
    args.extend_from_slice(c.prefs);
    let ours = measured(&t, &args, &tmp.join("ours.txt"));
    assert_eq!(
        ours.status, 0,
        "tshark with the plugin failed on {}",
        c.kind
    );
    assert!(
        !ours.stdout.contains("Dissector bug"),
        "{}: a panic was caught",
        c.kind
    );
    let extra_mb = (ours.max_rss_kb - base.max_rss_kb) / 1024;
    eprintln!(
        "{}: plain {:?} {} MB, ours {:?} {} MB",
        c.kind,
        base.elapsed,
        base.max_rss_kb / 1024,
        ours.elapsed,
        ours.max_rss_kb / 1024
    );
    assert!(
        extra_mb <= 100,
        "{}: peak RSS {} MB above plain tshark",
        c.kind,
        extra_mb
    );
    assert!(
        ours.elapsed <= base.elapsed * 3 + Duration::from_secs(20),
        "{}: {:?} against {:?} for plain tshark",
        c.kind,
        ours.elapsed,
        base.elapsed
    );
    let _ = std::fs::remove_file(tmp.join("plain.txt"));
    let _ = std::fs::remove_file(tmp.join("ours.txt"));

    let count = |filter: &str| {
        let mut a = vec!["-r", cap_s, "-2", "-Y", filter];
        a.extend_from_slice(c.prefs);
        t.ok(&a).lines().count()
    };
    let n = count(c.expert);
    assert!(
        (c.frames.0..=c.frames.1).contains(&n),
        "{}: {n} frames match {}, expected {:?}",
        c.kind,
        c.expert,
        c.frames
    );
    for (filter, n) in c.more {
        assert_eq!(count(filter), *n, "{}: frames matching {filter}", c.kind);
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn adversarial_bogus_lengths() {
    check_case(&Case {
        kind: "bogus-lengths",
        prefs: &[],
        expert: "zookeeper.len.bogus",
        frames: (4, 4),
        // The server side of each connection still decodes.
        more: &[("zookeeper.err == -101", 4)],
    });
}

#[test]
fn adversarial_huge_counts() {
    check_case(&Case {
        kind: "huge-counts",
        prefs: &[],
        expert: "zookeeper.malformed",
        frames: (8, 8),
        more: &[("zookeeper.response_in", 5)],
    });
}

#[test]
fn adversarial_one_byte_segments() {
    check_case(&Case {
        kind: "one-byte-segments",
        prefs: &[],
        expert: "zookeeper.err.reply",
        frames: (5000, 5000),
        more: &[
            ("zookeeper.request_in", 5000),
            ("zookeeper.reply.unpaired", 0),
        ],
    });
}

#[test]
fn adversarial_unanswered() {
    check_case(&Case {
        kind: "unanswered",
        prefs: &[],
        expert: "zookeeper.pending.full",
        // 10 requests beyond the cap, in the last segment or two.
        frames: (1, 2),
        more: &[("zookeeper.reply.unpaired", 1)],
    });
}

#[test]
fn adversarial_huge_multi_default_prefs() {
    // 100,000 ops make a 1.8 MB PDU, above the default zookeeper.max_pdu_size.
    check_case(&Case {
        kind: "huge-multi",
        prefs: &[],
        // The multi request, its reply, and the segments after each (no resync there).
        expert: "zookeeper.len.bogus",
        frames: (2, 100),
        more: &[],
    });
}

#[test]
#[ignore = "open finding: 100,000 multi ops add ~600,000 tree items, ~170 MB above plain \
            tshark; needs a cap on the ops shown in src/zookeeper/dissect.rs"]
fn adversarial_huge_multi_decoded() {
    check_case(&Case {
        kind: "huge-multi",
        prefs: &["-o", "zookeeper.max_pdu_size:4194304"],
        expert: "zookeeper.malformed",
        frames: (1, 1),
        more: &[("zookeeper.err.reply", 1)],
    });
}
