//! The HTTP/2 dissector `h2` (issue 4), in progress.

pub mod body;
pub mod frame;
pub mod hpack;
pub mod huffman;

pub fn register() {}

pub fn register_handoff() {}
