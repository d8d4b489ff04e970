//! Message bodies: `content-encoding` decoding and gRPC's length-prefixed messages. Pure.
//!
//! Decoding is bounded: a body that inflates beyond `limit` bytes is cut there and
//! flagged, so a gzip bomb costs at most `limit` bytes of memory and the time to produce them.

use std::io::Read;

/// A `content-encoding` this dissector can undo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Gzip,
    Deflate,
    Brotli,
}

impl Encoding {
    /// Parses a `content-encoding` (or `grpc-encoding`) value. `identity` and unknown
    /// codings give None. Only a single coding is undone; a list is left alone.
    pub fn from_header(value: &[u8]) -> Option<Encoding> {
        let v = value.trim_ascii();
        if v.eq_ignore_ascii_case(b"gzip") || v.eq_ignore_ascii_case(b"x-gzip") {
            Some(Encoding::Gzip)
        } else if v.eq_ignore_ascii_case(b"deflate") {
            Some(Encoding::Deflate)
        } else if v.eq_ignore_ascii_case(b"br") {
            Some(Encoding::Brotli)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
            Encoding::Brotli => "br",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The coded data is corrupt or truncated; the text is the library's reason.
    Corrupt(String),
    /// Decoding stopped at the size limit; what was produced so far is kept.
    TooLarge { limit: usize },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Corrupt(why) => write!(f, "{why}"),
            DecodeError::TooLarge { limit } => {
                write!(f, "decoded size exceeds the limit of {limit} bytes")
            }
        }
    }
}

/// The decoded body (possibly cut at `limit`) and, when it failed or was cut, why.
pub fn decode(encoding: Encoding, data: &[u8], limit: usize) -> (Vec<u8>, Option<DecodeError>) {
    match encoding {
        Encoding::Gzip => read_bounded(flate2::read::GzDecoder::new(data), limit),
        Encoding::Deflate => {
            // "deflate" is meant to be zlib-wrapped (RFC 9110 8.4.1.2), but some servers
            // send raw deflate; try both, as browsers do.
            let zlib = read_bounded(flate2::read::ZlibDecoder::new(data), limit);
            if zlib
                .1
                .as_ref()
                .is_some_and(|e| matches!(e, DecodeError::Corrupt(_)))
            {
                let raw = read_bounded(flate2::read::DeflateDecoder::new(data), limit);
                if raw.1.is_none() {
                    return raw;
                }
            }
            zlib
        }
        Encoding::Brotli => read_bounded(brotli_decompressor::Decompressor::new(data, 4096), limit),
    }
}

fn read_bounded(reader: impl Read, limit: usize) -> (Vec<u8>, Option<DecodeError>) {
    let mut out = Vec::new();
    // Read one byte past the limit to tell "exactly at the limit" from "beyond it".
    let mut bounded = reader.take(limit as u64 + 1);
    match bounded.read_to_end(&mut out) {
        Ok(_) if out.len() > limit => {
            out.truncate(limit);
            (out, Some(DecodeError::TooLarge { limit }))
        }
        Ok(_) => (out, None),
        Err(e) => (out, Some(DecodeError::Corrupt(e.to_string()))),
    }
}

/// One gRPC message of a body: the 5-byte prefix (compressed flag, length) and the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrpcMessage {
    /// Offset of the prefix within the body.
    pub off: usize,
    pub compressed: bool,
    /// The declared message length.
    pub length: u32,
    /// How many message bytes the body actually holds (less than `length` when cut short).
    pub present: usize,
}

/// Splits a gRPC body into its length-prefixed messages. A last message cut short is
/// returned with `present < length`; a trailing partial prefix is returned as `Err(offset)`.
pub fn grpc_messages(body: &[u8]) -> (Vec<GrpcMessage>, Option<usize>) {
    let mut out = Vec::new();
    let mut off = 0;
    while off < body.len() {
        let Some(prefix) = super::frame::grpc_prefix(body, off) else {
            return (out, Some(off));
        };
        let length = prefix.length.val;
        let present = (length as usize).min(body.len() - prefix.length.end());
        out.push(GrpcMessage {
            off,
            compressed: prefix.compressed(),
            length,
            present,
        });
        off = prefix.length.end() + present;
    }
    (out, None)
}

/// True for the content types that carry gRPC length-prefixed messages.
pub fn is_grpc(content_type: &[u8]) -> bool {
    content_type.starts_with(b"application/grpc")
        && !content_type.starts_with(b"application/grpc-web-text")
}

/// The media type of a `content-type` value, lowercased, without parameters: what
/// Wireshark's `media_type` table is keyed by.
pub fn media_type(content_type: &[u8]) -> String {
    let end = content_type
        .iter()
        .position(|&b| b == b';')
        .unwrap_or(content_type.len());
    String::from_utf8_lossy(content_type[..end].trim_ascii()).to_ascii_lowercase()
}

/// The parameters after the media type (`charset=utf-8`), if any.
pub fn media_parameters(content_type: &[u8]) -> Option<String> {
    let semi = content_type.iter().position(|&b| b == b';')?;
    let rest = content_type.get(semi + 1..)?.trim_ascii();
    (!rest.is_empty()).then(|| String::from_utf8_lossy(rest).into_owned())
}

#[cfg(test)]
#[path = "tests/body.rs"]
mod tests;
