//! HPACK (RFC 7541), being written.
