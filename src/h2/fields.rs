//! Every `h2` field, subtree and expert info, declared once. Names follow RFC 9113 and
//! RFC 7541 so that what a user sees matches the specifications and server logs.

use std::ffi::CStr;

use crate::epan::{Display, FieldSpec, FieldType};
use crate::{expert_table, field_table, subtree_table};

use FieldType as T;

pub static FRAME_TYPE_NAMES: &[(u32, &CStr)] = &[
    (0x0, c"DATA"),
    (0x1, c"HEADERS"),
    (0x2, c"PRIORITY"),
    (0x3, c"RST_STREAM"),
    (0x4, c"SETTINGS"),
    (0x5, c"PUSH_PROMISE"),
    (0x6, c"PING"),
    (0x7, c"GOAWAY"),
    (0x8, c"WINDOW_UPDATE"),
    (0x9, c"CONTINUATION"),
    (0xa, c"ALTSVC"),
    (0xc, c"ORIGIN"),
    (0x10, c"PRIORITY_UPDATE"),
];

pub static ERROR_CODE_NAMES: &[(u32, &CStr)] = &[
    (0x0, c"NO_ERROR"),
    (0x1, c"PROTOCOL_ERROR"),
    (0x2, c"INTERNAL_ERROR"),
    (0x3, c"FLOW_CONTROL_ERROR"),
    (0x4, c"SETTINGS_TIMEOUT"),
    (0x5, c"STREAM_CLOSED"),
    (0x6, c"FRAME_SIZE_ERROR"),
    (0x7, c"REFUSED_STREAM"),
    (0x8, c"CANCEL"),
    (0x9, c"COMPRESSION_ERROR"),
    (0xa, c"CONNECT_ERROR"),
    (0xb, c"ENHANCE_YOUR_CALM"),
    (0xc, c"INADEQUATE_SECURITY"),
    (0xd, c"HTTP_1_1_REQUIRED"),
];

pub static SETTING_NAMES: &[(u32, &CStr)] = &[
    (0x1, c"SETTINGS_HEADER_TABLE_SIZE"),
    (0x2, c"SETTINGS_ENABLE_PUSH"),
    (0x3, c"SETTINGS_MAX_CONCURRENT_STREAMS"),
    (0x4, c"SETTINGS_INITIAL_WINDOW_SIZE"),
    (0x5, c"SETTINGS_MAX_FRAME_SIZE"),
    (0x6, c"SETTINGS_MAX_HEADER_LIST_SIZE"),
    (0x8, c"SETTINGS_ENABLE_CONNECT_PROTOCOL"),
    (0x9, c"SETTINGS_NO_RFC7540_PRIORITIES"),
];

/// The field of each known SETTINGS parameter, by identifier.
pub fn setting_field(id: u16) -> Option<Hf> {
    Some(match id {
        0x1 => Hf::SettingHeaderTableSize,
        0x2 => Hf::SettingEnablePush,
        0x3 => Hf::SettingMaxConcurrentStreams,
        0x4 => Hf::SettingInitialWindowSize,
        0x5 => Hf::SettingMaxFrameSize,
        0x6 => Hf::SettingMaxHeaderListSize,
        0x8 => Hf::SettingEnableConnectProtocol,
        0x9 => Hf::SettingNoRfc7540Priorities,
        _ => return None,
    })
}

/// The common headers that have a field of their own (`h2.headers.*`).
pub const NAMED_HEADERS: &[(&[u8], Hf)] = &[
    (b"accept", Hf::HdrAccept),
    (b"accept-encoding", Hf::HdrAcceptEncoding),
    (b"accept-language", Hf::HdrAcceptLanguage),
    (b"authorization", Hf::HdrAuthorization),
    (b"cache-control", Hf::HdrCacheControl),
    (b"content-encoding", Hf::HdrContentEncoding),
    (b"content-length", Hf::HdrContentLength),
    (b"cookie", Hf::HdrCookie),
    (b"date", Hf::HdrDate),
    (b"etag", Hf::HdrEtag),
    (b"last-modified", Hf::HdrLastModified),
    (b"location", Hf::HdrLocation),
    (b"referer", Hf::HdrReferer),
    (b"server", Hf::HdrServer),
    (b"set-cookie", Hf::HdrSetCookie),
    (b"user-agent", Hf::HdrUserAgent),
    (b"vary", Hf::HdrVary),
    (b"www-authenticate", Hf::HdrWwwAuthenticate),
    (b"x-forwarded-for", Hf::HdrXForwardedFor),
    (b"grpc-encoding", Hf::HdrGrpcEncoding),
    (b"grpc-timeout", Hf::HdrGrpcTimeout),
];

/// The field of a common header, by name.
pub fn named_header_field(name: &[u8]) -> Option<Hf> {
    NAMED_HEADERS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, f)| f)
}

pub static REPRESENTATION_NAMES: &[(u32, &CStr)] = &[
    (0, c"Indexed Header Field"),
    (1, c"Literal Header Field with Incremental Indexing"),
    (2, c"Literal Header Field without Indexing"),
    (3, c"Literal Header Field Never Indexed"),
    (4, c"Dynamic Table Size Update"),
];

pub static BLOCK_ROLE_NAMES: &[(u32, &CStr)] = &[
    (0, c"request"),
    (1, c"informational response"),
    (2, c"response"),
    (3, c"trailers"),
    (4, c"pushed request"),
    (5, c"unknown (capture began mid-connection)"),
];

pub static GRPC_STATUS_NAMES: &[(u32, &CStr)] = &[
    (0, c"OK"),
    (1, c"CANCELLED"),
    (2, c"UNKNOWN"),
    (3, c"INVALID_ARGUMENT"),
    (4, c"DEADLINE_EXCEEDED"),
    (5, c"NOT_FOUND"),
    (6, c"ALREADY_EXISTS"),
    (7, c"PERMISSION_DENIED"),
    (8, c"RESOURCE_EXHAUSTED"),
    (9, c"FAILED_PRECONDITION"),
    (10, c"ABORTED"),
    (11, c"OUT_OF_RANGE"),
    (12, c"UNIMPLEMENTED"),
    (13, c"INTERNAL"),
    (14, c"UNAVAILABLE"),
    (15, c"DATA_LOSS"),
    (16, c"UNAUTHENTICATED"),
];

const fn f(
    kind: FieldType,
    display: Display,
    abbrev: &'static CStr,
    name: &'static CStr,
    blurb: &'static CStr,
) -> FieldSpec {
    FieldSpec::new(kind, display, abbrev, name, blurb)
}

const NONE: Display = Display::None;
const DEC: Display = Display::Dec;
const HEX: Display = Display::Hex;
const B8: Display = Display::Bits(8);
const B32: Display = Display::Bits(32);

field_table! {
    pub enum Hf {
        Proto => f(T::Protocol, NONE, c"h2", c"HTTP/2 (zkh2)", c"HTTP/2 (RFC 9113) with HPACK (RFC 7541), from the zkh2 plugin"),
        Magic => f(T::Bytes, NONE, c"h2.magic", c"Connection preface", c"The client connection preface PRI * HTTP/2.0"),
        Length => f(T::U32, DEC, c"h2.length", c"Length", c"Length of the frame payload (24 bits), not counting the 9-byte frame header"),
        Type => f(T::U8, DEC, c"h2.type", c"Type", c"Frame type").strings(Strings::Values(FRAME_TYPE_NAMES)),
        Flags => f(T::U8, HEX, c"h2.flags", c"Flags", c"Frame flags; their meaning depends on the frame type"),
        FlagEndStream => f(T::Bool, B8, c"h2.flags.end_stream", c"End Stream", c"END_STREAM: the sender's last frame on this stream").mask(0x01),
        FlagAck => f(T::Bool, B8, c"h2.flags.ack", c"ACK", c"ACK: this SETTINGS or PING acknowledges the peer's").mask(0x01),
        FlagEndHeaders => f(T::Bool, B8, c"h2.flags.end_headers", c"End Headers", c"END_HEADERS: the header block ends in this frame (no CONTINUATION follows)").mask(0x04),
        FlagPadded => f(T::Bool, B8, c"h2.flags.padded", c"Padded", c"PADDED: a Pad Length field and padding are present").mask(0x08),
        FlagPriority => f(T::Bool, B8, c"h2.flags.priority", c"Priority", c"PRIORITY: the HEADERS frame carries stream dependency and weight").mask(0x20),
        FlagsUnused => f(T::U8, HEX, c"h2.flags.unused", c"Unused flags", c"Flag bits this frame type does not define; they must be ignored"),
        Reserved => f(T::Bool, B32, c"h2.reserved", c"Reserved", c"The reserved bit before the stream identifier (must be 0)").mask(0x8000_0000),
        StreamId => f(T::U32, DEC, c"h2.stream_id", c"Stream ID", c"Stream identifier (0 for the connection)").mask(0x7fff_ffff),
        PadLength => f(T::U8, DEC, c"h2.pad_length", c"Pad Length", c"Length of the padding at the end of the frame"),
        Padding => f(T::Bytes, NONE, c"h2.padding", c"Padding", c"Padding octets"),
        Exclusive => f(T::Bool, B32, c"h2.exclusive", c"Exclusive", c"The stream dependency is exclusive").mask(0x8000_0000),
        StreamDependency => f(T::U32, DEC, c"h2.stream_dependency", c"Stream Dependency", c"The stream this stream depends on (RFC 7540 priorities)").mask(0x7fff_ffff),
        Weight => f(T::U8, DEC, c"h2.weight", c"Weight", c"Priority weight field (the weight is this value plus one)"),
        WeightReal => f(T::U32, DEC, c"h2.weight_real", c"Weight (real)", c"Priority weight: the Weight field plus one"),
        Data => f(T::Bytes, NONE, c"h2.data", c"Data", c"DATA frame payload (this frame's part of the body)"),
        Fragment => f(T::Bytes, NONE, c"h2.header_block_fragment", c"Header Block Fragment", c"HPACK-encoded header block (or the part of it in this frame)"),
        BlockStartedIn => f(T::FrameNum(FrameNumKind::None), NONE, c"h2.header_block.started_in", c"Header block started in", c"Frame whose HEADERS or PUSH_PROMISE started this header block"),
        BlockCompletedIn => f(T::FrameNum(FrameNumKind::None), NONE, c"h2.header_block.completed_in", c"Header block completed in", c"Frame whose CONTINUATION finished this header block; the decoded headers are shown there"),
        BlockRole => f(T::U8, DEC, c"h2.header_block.role", c"Header block role", c"What this header block is: request, response, trailers, pushed request").strings(Strings::Values(BLOCK_ROLE_NAMES)),
        HeaderCount => f(T::U32, DEC, c"h2.header.count", c"Header count", c"Number of header fields in the block"),
        TableSize => f(T::U32, DEC, c"h2.header_table.size", c"Dynamic table size", c"HPACK dynamic table size in octets (RFC 7541 4.1) after this block"),
        TableEntries => f(T::U32, DEC, c"h2.header_table.entries", c"Dynamic table entries", c"Number of entries in the HPACK dynamic table after this block"),
        Header => f(T::String, NONE, c"h2.header", c"Header", c"One header field as \"name: value\" (filter a pair: h2.header == \"content-type: application/grpc\"); its subtree holds the HPACK representation"),
        HeaderName => f(T::String, NONE, c"h2.header.name", c"Name", c"Header field name, decoded"),
        HeaderValue => f(T::String, NONE, c"h2.header.value", c"Value", c"Header field value, decoded"),
        HeaderRepr => f(T::U8, DEC, c"h2.header.repr", c"Representation", c"HPACK representation (RFC 7541 6)").strings(Strings::Values(REPRESENTATION_NAMES)),
        HeaderIndex => f(T::U32, DEC, c"h2.header.index", c"Index", c"Index into the static (1-61) or dynamic (62 and up) table"),
        HeaderNameHuffman => f(T::Bool, NONE, c"h2.header.name.huffman", c"Name Huffman encoded", c"The name literal is Huffman encoded"),
        HeaderNameLength => f(T::U32, DEC, c"h2.header.name.length", c"Name length", c"Length of the encoded name literal in octets"),
        HeaderValueHuffman => f(T::Bool, NONE, c"h2.header.value.huffman", c"Value Huffman encoded", c"The value literal is Huffman encoded"),
        HeaderValueLength => f(T::U32, DEC, c"h2.header.value.length", c"Value length", c"Length of the encoded value literal in octets"),
        HeaderTableSizeUpdate => f(T::U32, DEC, c"h2.header.table_size_update", c"Table size update", c"New maximum dynamic table size announced by the encoder"),
        Method => f(T::String, NONE, c"h2.method", c"Method", c"The :method pseudo-header"),
        Path => f(T::String, NONE, c"h2.path", c"Path", c"The :path pseudo-header (on a response: of its request)"),
        Status => f(T::U32, DEC, c"h2.status", c"Status", c"The :status pseudo-header"),
        Authority => f(T::String, NONE, c"h2.authority", c"Authority", c"The :authority pseudo-header"),
        Scheme => f(T::String, NONE, c"h2.scheme", c"Scheme", c"The :scheme pseudo-header"),
        ContentType => f(T::String, NONE, c"h2.content_type", c"Content type", c"The content-type header"),
        FullUri => f(T::String, NONE, c"h2.request.full_uri", c"Full request URI", c"scheme://authority/path of the request (the authority alone for CONNECT)"),
        HdrAccept => f(T::String, NONE, c"h2.headers.accept", c"accept", c"The accept header"),
        HdrAcceptEncoding => f(T::String, NONE, c"h2.headers.accept_encoding", c"accept-encoding", c"The accept-encoding header"),
        HdrAcceptLanguage => f(T::String, NONE, c"h2.headers.accept_language", c"accept-language", c"The accept-language header"),
        HdrAuthorization => f(T::String, NONE, c"h2.headers.authorization", c"authorization", c"The authorization header"),
        HdrCacheControl => f(T::String, NONE, c"h2.headers.cache_control", c"cache-control", c"The cache-control header"),
        HdrContentEncoding => f(T::String, NONE, c"h2.headers.content_encoding", c"content-encoding", c"The content-encoding header"),
        HdrContentLength => f(T::U64, DEC, c"h2.headers.content_length", c"content-length", c"The content-length header"),
        HdrCookie => f(T::String, NONE, c"h2.headers.cookie", c"cookie", c"The cookie header (each crumb, when split)"),
        HdrDate => f(T::String, NONE, c"h2.headers.date", c"date", c"The date header"),
        HdrEtag => f(T::String, NONE, c"h2.headers.etag", c"etag", c"The etag header"),
        HdrLastModified => f(T::String, NONE, c"h2.headers.last_modified", c"last-modified", c"The last-modified header"),
        HdrLocation => f(T::String, NONE, c"h2.headers.location", c"location", c"The location header"),
        HdrReferer => f(T::String, NONE, c"h2.headers.referer", c"referer", c"The referer header"),
        HdrServer => f(T::String, NONE, c"h2.headers.server", c"server", c"The server header"),
        HdrSetCookie => f(T::String, NONE, c"h2.headers.set_cookie", c"set-cookie", c"The set-cookie header"),
        HdrUserAgent => f(T::String, NONE, c"h2.headers.user_agent", c"user-agent", c"The user-agent header"),
        HdrVary => f(T::String, NONE, c"h2.headers.vary", c"vary", c"The vary header"),
        HdrWwwAuthenticate => f(T::String, NONE, c"h2.headers.www_authenticate", c"www-authenticate", c"The www-authenticate header"),
        HdrXForwardedFor => f(T::String, NONE, c"h2.headers.x_forwarded_for", c"x-forwarded-for", c"The x-forwarded-for header"),
        HdrGrpcEncoding => f(T::String, NONE, c"h2.headers.grpc_encoding", c"grpc-encoding", c"The grpc-encoding header"),
        HdrGrpcTimeout => f(T::String, NONE, c"h2.headers.grpc_timeout", c"grpc-timeout", c"The grpc-timeout header"),
        RstError => f(T::U32, HEX, c"h2.rst_stream.error", c"Error", c"Why the stream was reset").strings(Strings::Values(ERROR_CODE_NAMES)),
        Setting => f(T::None, NONE, c"h2.settings", c"Setting", c"One SETTINGS parameter"),
        SettingId => f(T::U32, HEX, c"h2.settings.id", c"Identifier", c"SETTINGS parameter identifier").strings(Strings::Values(SETTING_NAMES)),
        SettingValue => f(T::U32, DEC, c"h2.settings.value", c"Value", c"SETTINGS parameter value"),
        SettingHeaderTableSize => f(T::U32, DEC, c"h2.settings.header_table_size", c"Header table size", c"SETTINGS_HEADER_TABLE_SIZE (0x1)"),
        SettingEnablePush => f(T::U32, DEC, c"h2.settings.enable_push", c"Enable push", c"SETTINGS_ENABLE_PUSH (0x2)"),
        SettingMaxConcurrentStreams => f(T::U32, DEC, c"h2.settings.max_concurrent_streams", c"Max concurrent streams", c"SETTINGS_MAX_CONCURRENT_STREAMS (0x3)"),
        SettingInitialWindowSize => f(T::U32, DEC, c"h2.settings.initial_window_size", c"Initial window size", c"SETTINGS_INITIAL_WINDOW_SIZE (0x4)"),
        SettingMaxFrameSize => f(T::U32, DEC, c"h2.settings.max_frame_size", c"Max frame size", c"SETTINGS_MAX_FRAME_SIZE (0x5)"),
        SettingMaxHeaderListSize => f(T::U32, DEC, c"h2.settings.max_header_list_size", c"Max header list size", c"SETTINGS_MAX_HEADER_LIST_SIZE (0x6)"),
        SettingEnableConnectProtocol => f(T::U32, DEC, c"h2.settings.enable_connect_protocol", c"Enable CONNECT protocol", c"SETTINGS_ENABLE_CONNECT_PROTOCOL (0x8, RFC 8441)"),
        SettingNoRfc7540Priorities => f(T::U32, DEC, c"h2.settings.no_rfc7540_priorities", c"No RFC 7540 priorities", c"SETTINGS_NO_RFC7540_PRIORITIES (0x9, RFC 9218)"),
        SettingsAckIn => f(T::FrameNum(FrameNumKind::Response), NONE, c"h2.settings.ack_in", c"Acknowledged in", c"Frame of the peer's SETTINGS ACK; the parameters apply from there"),
        SettingsAcks => f(T::FrameNum(FrameNumKind::Request), NONE, c"h2.settings.acks", c"Acknowledges", c"Frame of the SETTINGS this ACK acknowledges"),
        PromisedStreamId => f(T::U32, DEC, c"h2.push_promise.promised_stream_id", c"Promised Stream ID", c"Stream reserved by this PUSH_PROMISE").mask(0x7fff_ffff),
        PromisedReserved => f(T::Bool, B32, c"h2.push_promise.reserved", c"Reserved", c"Reserved bit before the promised stream id").mask(0x8000_0000),
        PingData => f(T::U64, HEX, c"h2.ping.data", c"Opaque Data", c"PING payload, echoed by the ACK"),
        PingAckIn => f(T::FrameNum(FrameNumKind::Response), NONE, c"h2.ping.ack_in", c"ACK in", c"Frame of the PING ACK"),
        PingOf => f(T::FrameNum(FrameNumKind::Request), NONE, c"h2.ping.ping_in", c"PING in", c"Frame of the PING this ACK answers"),
        PingRtt => f(T::RelTime, NONE, c"h2.ping.rtt", c"Round-trip time", c"Time between the PING and its ACK"),
        GoAwayLastStream => f(T::U32, DEC, c"h2.goaway.last_stream_id", c"Last Stream ID", c"Highest stream id the sender may have processed").mask(0x7fff_ffff),
        GoAwayReserved => f(T::Bool, B32, c"h2.goaway.reserved", c"Reserved", c"Reserved bit before the last stream id").mask(0x8000_0000),
        GoAwayError => f(T::U32, HEX, c"h2.goaway.error", c"Error", c"Why the connection is closing").strings(Strings::Values(ERROR_CODE_NAMES)),
        GoAwayDebug => f(T::Bytes, NONE, c"h2.goaway.debug_data", c"Additional Debug Data", c"Opaque diagnostic data"),
        WindowIncrement => f(T::U32, DEC, c"h2.window_update.increment", c"Window Size Increment", c"Bytes added to the flow-control window").mask(0x7fff_ffff),
        WindowReserved => f(T::Bool, B32, c"h2.window_update.reserved", c"Reserved", c"Reserved bit before the increment").mask(0x8000_0000),
        AltSvcOriginLen => f(T::U32, DEC, c"h2.altsvc.origin_len", c"Origin Length", c"Length of the ALTSVC origin"),
        AltSvcOrigin => f(T::String, NONE, c"h2.altsvc.origin", c"Origin", c"Origin the alternative service applies to"),
        AltSvcValue => f(T::String, NONE, c"h2.altsvc.field_value", c"Alt-Svc Field Value", c"Alternative service (RFC 7838)"),
        OriginLen => f(T::U32, DEC, c"h2.origin.len", c"Origin Length", c"Length of one ORIGIN entry"),
        Origin => f(T::String, NONE, c"h2.origin.origin", c"Origin", c"An origin the server is authoritative for (RFC 8336)"),
        PriorityUpdateStream => f(T::U32, DEC, c"h2.priority_update.stream_id", c"Prioritized Stream ID", c"Stream whose priority changes (RFC 9218)").mask(0x7fff_ffff),
        PriorityUpdateValue => f(T::String, NONE, c"h2.priority_update.field_value", c"Priority Field Value", c"Priority parameters (RFC 9218)"),
        Unknown => f(T::Bytes, NONE, c"h2.unknown", c"Unknown payload", c"Payload of a frame type this dissector does not know"),
        Midstream => f(T::Bytes, NONE, c"h2.continuation_of_earlier_frame", c"Continuation of an earlier frame", c"Bytes of a frame that began before the capture started"),
        RequestIn => f(T::FrameNum(FrameNumKind::Request), NONE, c"h2.request_in", c"Request in", c"Frame with the request headers of this stream"),
        ResponseIn => f(T::FrameNum(FrameNumKind::Response), NONE, c"h2.response_in", c"Response in", c"Frame with the response headers of this stream"),
        Time => f(T::RelTime, NONE, c"h2.time", c"Time since request", c"Time between the request headers and the response headers"),
        PromisedIn => f(T::FrameNum(FrameNumKind::Request), NONE, c"h2.push_promise.promised_in", c"Promised in", c"Frame of the PUSH_PROMISE that reserved this stream"),
        ParentStream => f(T::U32, DEC, c"h2.push_promise.parent_stream", c"Parent stream", c"Stream on which the server promised this one"),
        StreamState => f(T::String, NONE, c"h2.stream.state", c"Stream state", c"State of the stream after this frame (RFC 9113 5.1)"),
        FromClient => f(T::Bool, NONE, c"h2.from_client", c"From client", c"True when the frame was sent by the client"),
        WindowConnection => f(T::I64, DEC, c"h2.window.connection", c"Connection window", c"Connection flow-control window of the flow-controlled side after this frame"),
        WindowStream => f(T::I64, DEC, c"h2.window.stream", c"Stream window", c"Stream flow-control window of the flow-controlled side after this frame"),
        Body => f(T::Bytes, NONE, c"h2.body", c"Body", c"The stream's reassembled body (DATA payloads up to END_STREAM), content-encoding undone"),
        BodyLength => f(T::U64, DEC, c"h2.body.length", c"Body length", c"Total DATA payload bytes of the body as sent"),
        BodyDecodedLength => f(T::U64, DEC, c"h2.body.decoded_length", c"Decoded length", c"Body length after undoing the content-encoding"),
        BodyFrames => f(T::U32, DEC, c"h2.body.frames", c"Body frames", c"Number of DATA frames of the body"),
        BodyEncoding => f(T::String, NONE, c"h2.body.content_encoding", c"Content encoding", c"The content-encoding undone to show the body"),
        GrpcMessage => f(T::None, NONE, c"h2.grpc.message", c"gRPC message", c"One length-prefixed gRPC message"),
        GrpcCompressed => f(T::Bool, NONE, c"h2.grpc.compressed", c"Compressed", c"The gRPC message is compressed with the grpc-encoding"),
        GrpcLength => f(T::U32, DEC, c"h2.grpc.length", c"Message length", c"Declared length of the gRPC message"),
        GrpcData => f(T::Bytes, NONE, c"h2.grpc.data", c"Message data", c"The gRPC message (usually protobuf)"),
        FakeHeader => f(T::String, NONE, c"h2.fake_header", c"Fake header", c"A header assumed from the fake headers tables (h2's or the built-in HTTP2's), for a stream direction whose HEADERS were not captured"),
        GrpcFrames => f(T::U32, DEC, c"h2.grpc.frames", c"DATA frames", c"How many DATA frames the gRPC message spans"),
        GrpcBeganIn => f(T::FrameNum(FrameNumKind::None), NONE, c"h2.grpc.began_in", c"Began in", c"The frame whose DATA holds the message's first octet"),
        GrpcStatus => f(T::U32, DEC, c"h2.grpc.status", c"gRPC status", c"grpc-status from the trailers").strings(Strings::Values(GRPC_STATUS_NAMES)),
        GrpcStatusMessage => f(T::String, NONE, c"h2.grpc.status_message", c"gRPC message", c"grpc-message from the trailers"),
    }
}

// Compat and CompatItem: the built-in http2's (hidden) items, nested as it nests them.
subtree_table! {
    pub enum Ett {
        Frame,
        Flags,
        Priority,
        HeaderBlock,
        Header,
        Setting,
        Body,
        Grpc,
        Compat,
        CompatItem,
    }
}

expert_table! {
    pub enum Ei {
        Malformed => ExpertSpec {
            abbrev: c"h2.malformed",
            group: Group::Malformed,
            severity: Severity::Error,
            summary: c"Malformed frame payload",
        },
        FrameTooLarge => ExpertSpec {
            abbrev: c"h2.frame_too_large",
            group: Group::Protocol,
            severity: Severity::Error,
            summary: c"Frame larger than the receiver's SETTINGS_MAX_FRAME_SIZE",
        },
        StreamIdInvalid => ExpertSpec {
            abbrev: c"h2.stream_id.invalid",
            group: Group::Protocol,
            severity: Severity::Error,
            summary: c"Frame type not allowed on this stream id (0 or non-0)",
        },
        ReservedBit => ExpertSpec {
            abbrev: c"h2.reserved_bit",
            group: Group::Protocol,
            severity: Severity::Warn,
            summary: c"Reserved bit set",
        },
        SettingsInvalid => ExpertSpec {
            abbrev: c"h2.settings.invalid",
            group: Group::Protocol,
            severity: Severity::Error,
            summary: c"Invalid SETTINGS value or frame",
        },
        SettingsUnmatched => ExpertSpec {
            abbrev: c"h2.settings.ack_unmatched",
            group: Group::Sequence,
            severity: Severity::Note,
            summary: c"SETTINGS ACK without an outstanding SETTINGS",
        },
        StreamIdBackwards => ExpertSpec {
            abbrev: c"h2.stream_id.backwards",
            group: Group::Protocol,
            severity: Severity::Error,
            summary: c"New stream id not above the previous one",
        },
        Continuation => ExpertSpec {
            abbrev: c"h2.continuation.invalid",
            group: Group::Protocol,
            severity: Severity::Error,
            summary: c"CONTINUATION missing or out of place",
        },
        WindowExceeded => ExpertSpec {
            abbrev: c"h2.window.exceeded",
            group: Group::Protocol,
            severity: Severity::Error,
            summary: c"DATA beyond the flow-control window",
        },
        WindowOverflow => ExpertSpec {
            abbrev: c"h2.window.overflow",
            group: Group::Protocol,
            severity: Severity::Error,
            summary: c"Flow-control window above 2^31-1",
        },
        ZeroIncrement => ExpertSpec {
            abbrev: c"h2.window.zero_increment",
            group: Group::Protocol,
            severity: Severity::Error,
            summary: c"WINDOW_UPDATE with increment 0",
        },
        HeaderBlockTooLarge => ExpertSpec {
            abbrev: c"h2.header_block.too_large",
            group: Group::Undecoded,
            severity: Severity::Warn,
            summary: c"Header block too large to decode",
        },
        Hpack => ExpertSpec {
            abbrev: c"h2.hpack.error",
            group: Group::Protocol,
            severity: Severity::Error,
            summary: c"HPACK decoding error",
        },
        UnknownEntry => ExpertSpec {
            abbrev: c"h2.hpack.unknown_entry",
            group: Group::Undecoded,
            severity: Severity::Note,
            summary: c"Reference to a dynamic table entry added before the capture began",
        },
        StateLimit => ExpertSpec {
            abbrev: c"h2.state.limit",
            group: Group::Undecoded,
            severity: Severity::Note,
            summary: c"Per-connection tracking limit reached",
        },
        UnknownType => ExpertSpec {
            abbrev: c"h2.type.unknown",
            group: Group::Undecoded,
            severity: Severity::Note,
            summary: c"Unknown frame type",
        },
        RequestNotCaptured => ExpertSpec {
            abbrev: c"h2.request.not_captured",
            group: Group::Sequence,
            severity: Severity::Note,
            summary: c"Response whose request was not captured",
        },
        Midstream => ExpertSpec {
            abbrev: c"h2.midstream",
            group: Group::Sequence,
            severity: Severity::Note,
            summary: c"Capture began inside a frame",
        },
        BodyDecode => ExpertSpec {
            abbrev: c"h2.body.decode_failed",
            group: Group::Undecoded,
            severity: Severity::Warn,
            summary: c"Body content-encoding could not be undone",
        },
        BodyTruncated => ExpertSpec {
            abbrev: c"h2.body.truncated",
            group: Group::Undecoded,
            severity: Severity::Note,
            summary: c"Body larger than the size limit",
        },
        StreamError => ExpertSpec {
            abbrev: c"h2.rst_stream.error_code",
            group: Group::ResponseCode,
            severity: Severity::Warn,
            summary: c"Stream reset with an error",
        },
        GoAwayError => ExpertSpec {
            abbrev: c"h2.goaway.error_code",
            group: Group::ResponseCode,
            severity: Severity::Warn,
            summary: c"Connection closed with an error",
        },
        ErrorStatus => ExpertSpec {
            abbrev: c"h2.status.error",
            group: Group::ResponseCode,
            severity: Severity::Note,
            summary: c"Error response status (4xx or 5xx)",
        },
        GrpcError => ExpertSpec {
            abbrev: c"h2.grpc.error",
            group: Group::ResponseCode,
            severity: Severity::Warn,
            summary: c"gRPC call failed (grpc-status not OK)",
        },
        GrpcTruncated => ExpertSpec {
            abbrev: c"h2.grpc.truncated",
            group: Group::Malformed,
            severity: Severity::Error,
            summary: c"The stream ended inside a gRPC message",
        },
        GrpcCompression => ExpertSpec {
            abbrev: c"h2.grpc.compression",
            group: Group::Undecoded,
            severity: Severity::Warn,
            summary: c"Compressed gRPC message that cannot be decompressed (no or unknown grpc-encoding)",
        },
        GrpcDecompress => ExpertSpec {
            abbrev: c"h2.grpc.decompress_failed",
            group: Group::Undecoded,
            severity: Severity::Warn,
            summary: c"Compressed gRPC message whose decompression failed",
        },
    }
}
