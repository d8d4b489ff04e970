#![no_main]

// The whole plugin in-process through libwireshark, as a TCP connection on the target's
// port (tools/epan-fuzz: input format, set-up, the two passes).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    epan_fuzz::run(epan_fuzz::Target::Zookeeper, data);
});
