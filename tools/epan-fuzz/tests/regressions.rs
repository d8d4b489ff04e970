//! Replays the committed seeds of the in-process fuzz targets (fuzz/corpus/epan_*/) and every
//! input that once failed one of them (fuzz/regressions/epan_*/) through the same harness
//! (src/lib.rs and driver.c), on stable Rust and without sanitizers: libwireshark with the
//! plugin, a TCP connection per input, two passes, taps. An input fails on a crash (the test
//! process dies), a dissector bug (WIRESHARK_ABORT_ON_DISSECTOR_BUG: abort) or a panic in
//! the plugin (caught by its guard, counted here).

use std::path::{Path, PathBuf};

use epan_fuzz::{Target, count_panics, init, run};

fn inputs(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"));
    v.sort();
    v
}

/// Replays the seeds and regressions of `target`; returns (seeds, seeds that reached one of
/// our protocols, regressions).
fn replay(target: Target) -> (usize, usize, usize) {
    count_panics();
    let mut failed = Vec::new();
    let mut counts = [0usize; 2];
    let mut reached = 0;
    for (k, dir) in [
        format!("fuzz/corpus/{}", target.name()),
        format!("fuzz/regressions/{}", target.name()),
    ]
    .iter()
    .enumerate()
    {
        for p in inputs(dir) {
            let data = std::fs::read(&p).unwrap();
            let o = run(target, &data);
            if o.panics > 0 {
                failed.push(format!("{} ({} panics)", p.display(), o.panics));
            }
            if o.ours > 0 && k == 0 {
                reached += 1;
            }
            counts[k] += 1;
        }
    }
    assert!(failed.is_empty(), "{}: {failed:#?}", target.name());
    (counts[0], reached, counts[1])
}

#[test]
fn setup_reaches_filters_taps_and_limits() {
    let s = init();
    // Every clause of the first pass's display filter compiles against this plugin.
    assert!(s.filter_clauses >= 15, "{s:?}");
    // ZooKeeper's tap: the counting listener, its stats tree and its SRT table; HTTP/2's.
    assert!(s.tap_listeners >= 4, "{s:?}");
    assert_eq!(s.limit_defaults.len(), epan_fuzz::LIMITS.len(), "{s:?}");
}

fn check(target: Target, min_seeds: usize) {
    let (seeds, reached, regressions) = replay(target);
    eprintln!(
        "{}: {seeds} seeds ({reached} reach our protocols), {regressions} regressions",
        target.name()
    );
    assert!(seeds >= min_seeds, "{}: only {seeds} seeds", target.name());
    // The seeds are real conversations: nearly all of them must reach the dissector, or the
    // harness (ports, preferences, frames) is broken.
    assert!(
        reached * 10 >= seeds * 8,
        "{}: only {reached} of {seeds} seeds reach our protocols",
        target.name()
    );
}

#[test]
fn epan_zookeeper_inputs() {
    check(Target::Zookeeper, 20);
}

#[test]
fn epan_zab_inputs() {
    check(Target::Zab, 3);
}

#[test]
fn epan_zkelection_inputs() {
    check(Target::ZkElection, 5);
}

#[test]
fn epan_h2_inputs() {
    check(Target::H2, 10);
}
