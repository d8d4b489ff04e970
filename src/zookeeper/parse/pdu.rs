//! Whole PDUs: each is parsed once, by `pdu`, into a header and a typed body.

use super::*;

// ---------------------------------------------------------------------------------------
// Whole PDUs: each is parsed once, by `pdu`, and the result goes to the connection (which
// classifies it) and to the dissector (which renders it).

/// A failed parse: where it failed and why.
pub type Failure = crate::jute::ParseFailure;

/// A record and the input after it, or where it failed.
pub type Parsed<'a, T> = Result<(Input<'a>, T), Failure>;

fn parsed<T>(r: PResult<'_, T>) -> Parsed<'_, T> {
    r.map_err(crate::jute::failure)
}

/// How to read a PDU. The connection decides it from the PDU's position and shape (a
/// handshake is the first PDU of each side); the bytes alone cannot say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    ConnectRequest,
    ConnectResponse,
    /// `wire` is what the connection's handshake chose: the xid's width, and whether
    /// bodies are decoded at all.
    Request {
        wire: Wire,
    },
    /// A reply or, with xid -1, a watch notification.
    Reply {
        wire: Wire,
    },
}

/// A request: its header and the body that its opcode selects.
#[derive(Clone, Debug, PartialEq)]
pub struct Request<'a> {
    pub header: RequestHeader,
    /// Where the body starts.
    pub body_at: Input<'a>,
    /// `None` when the opcode is unknown or the body is not decoded.
    pub body: Option<Parsed<'a, RequestBody<'a>>>,
}

impl Request<'_> {
    /// The body, when it parsed.
    pub fn parsed_body(&self) -> Option<&RequestBody<'_>> {
        match &self.body {
            Some(Ok((_, body))) => Some(body),
            _ => None,
        }
    }
}

/// A reply's header. Its body's record depends on the request's opcode, which only the
/// pairing knows: `Reply::body` parses it once that is known.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply<'a> {
    pub header: ReplyHeader,
    pub body_at: Input<'a>,
}

impl<'a> Reply<'a> {
    /// The body as the reply to `opcode`; `None` for an unknown opcode.
    pub fn body(&self, opcode: i32) -> Option<Parsed<'a, ReplyBody<'a>>> {
        reply_body(opcode, self.body_at).map(parsed)
    }
}

/// A watch notification: a reply header with xid -1 and a `WatcherEvent`.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification<'a> {
    pub header: ReplyHeader,
    pub event: Parsed<'a, WatcherEvent<'a>>,
}

/// One PDU, parsed. It lives on the stack for one dissection; boxing the request (the
/// largest variant) would cost an allocation per PDU for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Pdu<'a> {
    ConnectRequest(Parsed<'a, ConnectRequest<'a>>),
    ConnectResponse(Parsed<'a, ConnectResponse<'a>>),
    Request(Result<Request<'a>, Failure>),
    Reply(Result<Reply<'a>, Failure>),
    Notification(Notification<'a>),
}

/// Parses a whole PDU, length prefix included, as `reading` says. Offsets in the result
/// count from the length prefix.
pub fn pdu(reading: Reading, bytes: &[u8]) -> Pdu<'_> {
    let body = parsed(int(input(bytes))).map(|(i, _)| i);
    match reading {
        Reading::ConnectRequest => {
            Pdu::ConnectRequest(body.and_then(|i| parsed(connect_request(i))))
        }
        Reading::ConnectResponse => {
            Pdu::ConnectResponse(body.and_then(|i| parsed(connect_response(i))))
        }
        Reading::Request { wire } => Pdu::Request(
            body.and_then(|i| parsed(request_header(i, wire.xid64())))
                .map(|(body_at, header)| Request {
                    header,
                    body_at,
                    body: wire
                        .decodes_bodies()
                        .then(|| request_body(header.opcode.val, body_at).map(parsed))
                        .flatten(),
                }),
        ),
        Reading::Reply { wire } => match body.and_then(|i| parsed(reply_header(i, wire.xid64()))) {
            Ok((rest, header)) if header.xid.val == crate::zookeeper::xid::NOTIFICATION => {
                Pdu::Notification(Notification {
                    header,
                    event: parsed(watcher_event(rest)),
                })
            }
            Ok((body_at, header)) => Pdu::Reply(Ok(Reply { header, body_at })),
            Err(e) => Pdu::Reply(Err(e)),
        },
    }
}
