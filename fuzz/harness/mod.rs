//! The fuzz harnesses, as plain functions of the input bytes. Included by the libFuzzer
//! targets and by `tests/fuzz_regressions.rs`.

pub mod h2;
pub mod quorum;
pub mod zookeeper;
