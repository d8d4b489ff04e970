#![no_main]

// Each target uses one harness of the shared module.
#[allow(dead_code)]
#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::h2::h2_frame(data));
