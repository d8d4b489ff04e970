//! Placeholder: the `zkelection` dissector is being written (issue 3). Registration hooks only.

pub fn register() {}

pub fn register_handoff() {}
