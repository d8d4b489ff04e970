//! gRPC messages shown as Wireshark's built-in `grpc` dissector shows them (packet-grpc.c):
//! a `GRPC Message` item per message with the `grpc.*` fields, the message decompressed per
//! its `grpc-encoding`, and its data handed to the `grpc_message_type` table under
//! `content-type,path,request|response` and then the content type alone, with that string as
//! data. So `protobuf` (with the user's .proto files), JSON for `+json`, and anything a
//! user registered there decode the messages, each in the frame that completes it.
//!
//! Where the built-in says nothing (a compressed message without a usable `grpc-encoding`,
//! a stream that ends inside a message), `h2`'s own expert items say it.

use std::borrow::Cow;
use std::ffi::{CStr, CString};
use std::sync::OnceLock;

use super::fields::Grpc as G;
use crate::epan::foreign::{ForeignBoolPref, ForeignProto};
use crate::epan::{Enc, Packet, Tree};
use crate::h2::body::{self, Encoding};
use crate::h2::fields::{Ei, Ett};
use crate::h2::grpc::{Context, PREFIX_LEN};

/// What the built-in grpc registered, found at handoff.
pub struct GrpcBuiltin {
    pub proto: ForeignProto,
    detect_json: ForeignBoolPref,
    embedded_under_http2: ForeignBoolPref,
}

static GRPC: OnceLock<Option<GrpcBuiltin>> = OnceLock::new();

pub fn register_handoff() {
    let _ = GRPC.set(
        ForeignProto::by_filter_name(c"grpc").map(|proto| GrpcBuiltin {
            proto,
            detect_json: ForeignBoolPref::find(c"grpc", c"detect_json_automatically"),
            embedded_under_http2: ForeignBoolPref::find(c"grpc", c"embedded_under_http2"),
        }),
    );
}

/// The built-in grpc, when it exists and is enabled.
pub fn builtin() -> Option<&'static GrpcBuiltin> {
    GRPC.get()?
        .as_ref()
        .filter(|g| g.proto.is_enabled() && super::enabled())
}

impl GrpcBuiltin {
    /// `grpc.embedded_under_http2`: the messages go under the HTTP/2 item rather than at
    /// the top of the packet.
    pub fn embedded(&self) -> bool {
        self.embedded_under_http2.get(false)
    }

    /// One message (prefix included) at `off` of `t`'s data: `dissect_grpc_message`.
    /// `first` is the first message of this packet (it sets the columns).
    pub fn message(&self, pkt: &Packet<'_>, t: &Tree<'_>, off: usize, msg: &[u8], ctx: &Context) {
        let Some(prefix) = msg.get(..PREFIX_LEN) else {
            return;
        };
        let web = ctx.is_web();
        let (name, proto_col): (&str, &'static CStr) = if ctx.is_web_text() {
            ("GRPC-Web-Text", c"GRPC-Web-Text")
        } else if web {
            ("GRPC-Web", c"GRPC-Web")
        } else {
            ("GRPC", c"GRPC")
        };
        pkt.set_protocol_column(proto_col);
        pkt.append_info_raw(&format!(" ({name})"));
        pkt.fence_protocol();
        let item = t.add(self.proto.field(), off, msg.len(), Enc::Na);
        let path = ctx.path.as_deref().map(String::from_utf8_lossy);
        let mut label = format!("{name} Message");
        if let Some(p) = &path {
            label.push_str(&format!(
                ": {p}, {}",
                if ctx.is_request {
                    "Request"
                } else {
                    "Response"
                }
            ));
        }
        let trailer = web && prefix[0] & 0x80 != 0;
        if trailer {
            label.push_str(" (Trailer)");
        }
        item.set_text(&label);
        let mt = item.subtree(Ett::Grpc);
        mt.add(G::FrameType, off, 1, Enc::BigEndian);
        mt.add(G::CompressedFlag, off, 1, Enc::BigEndian);
        mt.add(G::MessageLength, off + 1, 4, Enc::BigEndian);
        let data = &msg[PREFIX_LEN..];
        if data.is_empty() {
            return;
        }
        let data_off = off + PREFIX_LEN;
        let compressed = prefix[0] & 1 != 0;
        let encoding = ctx.encoding.as_deref();
        if !compressed {
            self.body_data(pkt, t, &mt, data_off, data, true, trailer, ctx);
            return;
        }
        let usable = match encoding {
            Some(b"gzip") => Some(Encoding::Gzip),
            Some(b"deflate") => Some(Encoding::Deflate),
            _ => None,
        };
        let Some(enc) = usable else {
            item.expert(
                pkt,
                Ei::GrpcCompression,
                &match encoding {
                    None => "Compressed flag set, but the stream has no grpc-encoding".to_string(),
                    Some(e) => format!(
                        "Compressed with grpc-encoding \"{}\", which cannot be decompressed here",
                        String::from_utf8_lossy(e)
                    ),
                },
            );
            self.body_data(pkt, t, &mt, data_off, data, false, trailer, ctx);
            return;
        };
        let limit = crate::h2::dissect::body_limit();
        let (decoded, err) = body::decode(enc, data, limit);
        let encoded = mt.add_text(
            data_off,
            data.len(),
            &format!(
                "Message-encoded entity body ({}): {} bytes",
                enc.name(),
                data.len()
            ),
            Ett::Grpc,
        );
        match err {
            None => {
                encoded
                    .0
                    .append_text(&format!(" -> {} bytes", decoded.len()));
                let dt = t.with_data_source(pkt, &decoded, c"Uncompressed entity body");
                let dmt = mt.with_bytes_of(&dt);
                self.body_data(pkt, &dt, &dmt, 0, &decoded, true, trailer, ctx);
            }
            Some(e) => {
                encoded
                    .1
                    .add(G::BodyDecompressionFailed, data_off, data.len(), Enc::Na);
                encoded.0.expert(
                    pkt,
                    Ei::GrpcDecompress,
                    &format!(
                        "{} decompression of the gRPC message failed: {e}",
                        enc.name()
                    ),
                );
                self.body_data(pkt, t, &mt, data_off, data, false, trailer, ctx);
            }
        }
    }

    /// `dissect_body_data`: the message data, and its hand-off to `grpc_message_type`.
    /// `parent` holds the GRPC item (sub-dissectors add beside it); `mt` is its subtree.
    #[allow(clippy::too_many_arguments)]
    fn body_data(
        &self,
        pkt: &Packet<'_>,
        parent: &Tree<'_>,
        mt: &Tree<'_>,
        off: usize,
        data: &[u8],
        go_on: bool,
        trailer: bool,
        ctx: &Context,
    ) {
        mt.add(G::MessageData, off, data.len(), Enc::Na)
            .set_text(&format!("Message Data: {} bytes", data.len()));
        let sub = parent.subset(off, data.len());
        if trailer {
            sub.call_dissector(pkt, c"data-text-lines");
            return;
        }
        if !go_on || ctx.path.is_none() {
            return;
        }
        let mut content_type: Cow<'_, str> = String::from_utf8_lossy(&ctx.content_type);
        if self.detect_json.get(true) && looks_like_json(data) {
            content_type = Cow::Borrowed("application/grpc+json");
        }
        let path = ctx
            .path
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let info = format!(
            "{content_type},{path},{}",
            if ctx.is_request {
                "request"
            } else {
                "response"
            }
        );
        let (Ok(info_c), Ok(ct_c)) = (CString::new(info), CString::new(content_type.as_ref()))
        else {
            return;
        };
        if !sub.call_string_table(pkt, c"grpc_message_type", &info_c, &info_c) {
            sub.call_string_table(pkt, c"grpc_message_type", &ct_c, &info_c);
        }
    }
}

/// The built-in's JSON guess: starts with `{` and ends with `}` (maybe followed by one or
/// two line-end or space octets).
fn looks_like_json(data: &[u8]) -> bool {
    data.len() > 3 && data[0] == b'{' && data[data.len() - 3..].contains(&b'}')
}
