//! Replays the fuzz seeds (fuzz/corpus/<target>/) and the fuzz regression inputs
//! (fuzz/regressions/<target>/) through the same harnesses the libFuzzer targets run
//! (fuzz/harness/), on stable Rust: every input once found a new path or a bug, and
//! must now pass every invariant.

#[allow(dead_code)]
#[path = "../fuzz/harness/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};

fn inputs(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"));
    v.sort();
    v
}

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let mut n = 0;
    for dir in [
        format!("fuzz/corpus/{target}"),
        format!("fuzz/regressions/{target}"),
    ] {
        for p in inputs(&dir) {
            let data = std::fs::read(&p).unwrap();
            let name = p.display().to_string();
            if std::panic::catch_unwind(|| run(&data)).is_err() {
                panic!("{target}: {name} fails");
            }
            n += 1;
        }
    }
    n
}

#[test]
fn zookeeper_parse_inputs() {
    let n = replay("zookeeper_parse", harness::zookeeper::zookeeper_parse);
    assert!(n >= 50, "only {n} inputs");
}

#[test]
fn zookeeper_session_inputs() {
    let n = replay("zookeeper_session", harness::zookeeper::zookeeper_session);
    assert!(n >= 20, "only {n} inputs");
}

#[test]
fn h2_frame_inputs() {
    let n = replay("h2_frame", harness::h2::h2_frame);
    assert!(n >= 20, "only {n} inputs");
}

#[test]
fn hpack_inputs() {
    let n = replay("hpack", harness::h2::hpack);
    assert!(n >= 20, "only {n} inputs");
}

#[test]
fn h2_connection_inputs() {
    let n = replay("h2_connection", harness::h2::h2_connection);
    assert!(n >= 5, "only {n} inputs");
}

#[test]
fn zab_parse_inputs() {
    let n = replay("zab_parse", harness::quorum::zab_parse);
    assert!(n >= 10, "only {n} inputs");
}

#[test]
fn zkelection_parse_inputs() {
    let n = replay("zkelection_parse", harness::quorum::zkelection_parse);
    assert!(n >= 5, "only {n} inputs");
}

/// F2 (fuzz/regressions/README.md): a later header block of the same role used to re-point a
/// stream's request_in/response_in; the first request and response are now the pair.
#[test]
fn h2_connection_f2_pairing_is_causal() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions/h2_connection/f2-request-after-response");
    harness::h2::h2_connection_checked(&std::fs::read(p).unwrap(), true);
}
