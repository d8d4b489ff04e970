//! The library's error type.

use std::fmt;

/// Everything that can go wrong while building, writing or reading a capture.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    Io(std::io::Error),
    /// The pcap / pcapng reader or writer reported an error.
    Pcap(pcap_file::PcapError),
    /// A frame could not be serialized (for example a payload too large for one IPv4 packet).
    Build(etherparse::err::packet::BuildVecWriteError),
    /// The input file is neither a classic pcap nor a pcapng file.
    UnknownFormat,
    /// The capture uses a link-layer type this crate cannot decode.
    UnsupportedLinkType(u32),
    /// An argument or a flow description is inconsistent (bad index, bad offset, ...).
    Invalid(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The wrapped error is the `source()`, so it is not repeated here.
            Error::Io(_) => f.write_str("I/O error"),
            Error::Pcap(_) => f.write_str("cannot read or write the capture format"),
            Error::Build(_) => f.write_str("cannot build frame"),
            Error::UnknownFormat => f.write_str("input is neither a pcap nor a pcapng file"),
            Error::UnsupportedLinkType(lt) => write!(f, "unsupported link-layer type {lt}"),
            Error::Invalid(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Pcap(e) => Some(e),
            Error::Build(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<pcap_file::PcapError> for Error {
    fn from(e: pcap_file::PcapError) -> Self {
        Error::Pcap(e)
    }
}

impl From<etherparse::err::packet::BuildVecWriteError> for Error {
    fn from(e: etherparse::err::packet::BuildVecWriteError) -> Self {
        Error::Build(e)
    }
}
