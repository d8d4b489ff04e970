//! Each input of the in-process targets is a capture file of its own: its end frees what the
//! file allocated (epan's file scope, the conversations and with them the plugin's state).
//! So replaying the same inputs again must not grow the heap. This catches state that
//! outlives its capture file (leaked or kept in a static), which LeakSanitizer, off in the
//! fuzz runs (scripts/fuzz), would not report while it is still reachable.
//!
//! Two measures: the bytes that Rust code (the plugin, and the harness) holds, through a
//! counting global allocator, must not grow at all; the C heap (mallinfo2, libwireshark's and
//! GLib's allocations) may grow a little, because Wireshark 4.0 keeps about 5 KB of address
//! resolution tables from every capture file until the process ends.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicIsize, Ordering};

use epan_fuzz::{Target, run};

#[repr(C)]
#[derive(Default)]
struct MallInfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}

/// The system allocator, counting the bytes Rust code holds.
struct Counting;

static RUST_LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        RUST_LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        RUST_LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        RUST_LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        RUST_LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

unsafe extern "C" {
    /// glibc 2.33+.
    fn mallinfo2() -> MallInfo2;
}

/// Bytes allocated with malloc and not freed (mmapped blocks included), Rust's included.
fn in_use() -> usize {
    // SAFETY: mallinfo2 only reads the allocator's statistics.
    let m = unsafe { mallinfo2() };
    m.uordblks + m.hblkhd
}

fn round() -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut n = 0;
    for t in Target::ALL {
        let mut files: Vec<_> = std::fs::read_dir(root.join(t.name()))
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        for p in files {
            run(t, &std::fs::read(&p).unwrap());
            n += 1;
        }
    }
    n
}

#[test]
fn replaying_the_seeds_again_does_not_grow_the_heap() {
    // The first rounds fill what Wireshark keeps for good (interned strings, caches).
    round();
    round();
    let (before, rust_before) = (in_use(), RUST_LIVE.load(Ordering::SeqCst));
    let mut n = 0;
    for _ in 0..3 {
        n += round();
    }
    let (after, rust_after) = (in_use(), RUST_LIVE.load(Ordering::SeqCst));
    eprintln!(
        "{n} capture files: heap in use {before} -> {after} bytes, \
         of which Rust {rust_before} -> {rust_after}"
    );
    assert!(n >= 50, "only {n} seeds");
    assert_eq!(
        rust_after, rust_before,
        "Rust code holds more memory after {n} more capture files"
    );
    // Wireshark 4.0's own: about 5 KB per file. The manufacturer table it reloads for every
    // file (9 MB, hidden by the harness; see driver.c) would fail this.
    let growth = after.saturating_sub(before);
    assert!(
        growth < n * 16 * 1024,
        "the heap grew by {growth} bytes over {n} capture files"
    );
}
