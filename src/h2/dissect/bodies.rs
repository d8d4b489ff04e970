//! Bodies and gRPC to the tree: the reassembled body (content-encoding undone), gRPC messages
//! (binary and gRPC-Web text) and their hand-off to the message dissectors.

use super::*;

impl View<'_, '_> {
    /// Shown also without a tree: the media_type sub-dissectors fill columns and taps.
    pub(super) fn body(&self, t: &Tree<'_>, body: &Body, frame_data: &[u8]) {
        let limit = body_limit();
        let (decoded, err) = body.decoded(limit, frame_data);
        let name: &'static CStr = if body.encoding.is_some() {
            c"Decoded body"
        } else {
            c"Reassembled body"
        };
        let bt = t.with_data_source(self.pkt, decoded, name);
        let it = bt.add(Hf::Body, 0, decoded.len(), Enc::Na);
        let sub = it.subtree(Ett::Body);
        sub.add_u64(Hf::BodyLength, 0, 0, body.total_len)
            .generated();
        sub.add_u32(Hf::BodyFrames, 0, 0, body.frames).generated();
        if let Some(enc) = body.encoding {
            sub.add_string(Hf::BodyEncoding, 0, 0, enc.name())
                .generated();
            sub.add_u64(Hf::BodyDecodedLength, 0, 0, decoded.len() as u64)
                .generated();
        }
        if body.truncated() {
            it.expert(
                self.pkt,
                Ei::BodyTruncated,
                &format!(
                    "Body of {} bytes cut at the h2.body_max_size preference ({} bytes)",
                    body.total_len,
                    body.raw(frame_data).len()
                ),
            );
        }
        match err {
            Some(DecodeError::TooLarge { limit }) => it.expert(
                self.pkt,
                Ei::BodyTruncated,
                &format!("Decoded body cut at {limit} bytes (h2.body_max_size)"),
            ),
            Some(e @ DecodeError::Corrupt(_)) => it.expert(
                self.pkt,
                Ei::BodyDecode,
                &format!(
                    "{} decoding failed: {e}",
                    body.encoding.map_or("content", |e| e.name())
                ),
            ),
            None => {}
        }
        let Some(ct) = &body.content_type else { return };
        // gRPC streams are framed into messages as their DATA comes (`grpc_frame`); a body
        // kept whole (its content type was not known at its first DATA frame) is split
        // here. No application/grpc* body goes to media_type: Wireshark's grpc dissector
        // asserts when it is not called from its own http2.
        if body::is_grpc(ct) {
            self.grpc(&sub, &bt, decoded);
        } else if err.is_none() && !ct.starts_with(b"application/grpc") {
            bt.call_media_type(
                self.pkt,
                &body::media_type(ct),
                body::media_parameters(ct).as_deref(),
            );
        }
    }

    /// The gRPC messages that this DATA frame completes: our summary of each, and each as
    /// the built-in `grpc` shows it (with protobuf and the other message dissectors).
    pub(super) fn grpc_frame(&self, t: &Tree<'_>, top: &Tree<'_>, data: Span, g: &GrpcFrame) {
        let parts = &g.parts;
        if parts.head.is_some() {
            self.pkt
                .append_info_raw(" [HTTP2 segment of a reassembled PDU]");
        }
        let builtin = compat::grpc::builtin();
        let under = match builtin {
            Some(b) if !b.embedded() => *top,
            _ => *t,
        };
        if g.context.is_web_text() {
            self.grpc_web_text(t, under, g);
        } else {
            self.grpc_binary(t, under, data, g);
        }
        if let Some(missing) = parts.missing_at_end {
            t.add_expert(
                self.pkt,
                Ei::GrpcTruncated,
                data.off,
                data.len,
                &format!(
                    "The stream ended inside a gRPC message: {missing} more bytes were announced"
                ),
            );
        }
    }

    /// gRPC-Web text: the base64 text this frame completes, decoded, and its messages.
    pub(super) fn grpc_web_text(&self, t: &Tree<'_>, under: Tree<'_>, g: &GrpcFrame) {
        for text in &g.decoded {
            let dt = t.with_data_source(self.pkt, &text.data, c"Decoded base64 body");
            for &(off, len) in &text.messages {
                let (off, len) = (off as usize, len as usize);
                let bytes = text.data.get(off..off + len).unwrap_or(&[]);
                self.grpc_message(&dt, under, off, bytes, None, g);
            }
        }
    }

    /// Binary gRPC: the messages that end in this frame, in it or reassembled.
    pub(super) fn grpc_binary(&self, t: &Tree<'_>, under: Tree<'_>, data: Span, g: &GrpcFrame) {
        let frame = self.pkt.frame();
        for m in g.parts.completed() {
            let (view, off, bytes, began, frames): (Tree<'_>, usize, &[u8], u32, u32) = match m {
                Completed::InFrame { off, len } => {
                    let off = data.off + off as usize;
                    let len = len as usize;
                    (
                        *t,
                        off,
                        self.bytes.get(off..off + len).unwrap_or(&[]),
                        frame,
                        1,
                    )
                }
                Completed::Reassembled(tail) => {
                    let Some(msg) = &tail.message else {
                        // Larger than the body limit: framed, not kept.
                        t.add_expert(
                            self.pkt,
                            Ei::BodyTruncated,
                            data.off,
                            tail.len as usize,
                            "gRPC message larger than h2.body_max_size: not reassembled",
                        );
                        continue;
                    };
                    let began = tail.fragments.first().map_or(frame, |f| f.0);
                    let dt = t.with_data_source(self.pkt, msg, c"Reassembled gRPC message");
                    (dt, 0, &msg[..], began, tail.fragments.len() as u32)
                }
            };
            let over = (frames > 1).then_some((frames, began));
            self.grpc_message(&view, under, off, bytes, over, g);
        }
    }

    /// One message (prefix included) at `off` of `view`'s data: our summary, then the
    /// built-in grpc's view of it (under `under`). `over` is (frames, first frame) for a
    /// message reassembled from several DATA frames.
    pub(super) fn grpc_message(
        &self,
        view: &Tree<'_>,
        under: Tree<'_>,
        off: usize,
        bytes: &[u8],
        over: Option<(u32, u32)>,
        g: &GrpcFrame,
    ) {
        let Some(prefix) = frame::grpc_prefix(bytes, 0) else {
            return;
        };
        let compressed = prefix.compressed();
        let length = prefix.length.val;
        let it = view.add(Hf::GrpcMessage, off, bytes.len(), Enc::Na);
        it.set_text(&format!(
            "gRPC message: {length} bytes{}{}",
            if compressed { ", compressed" } else { "" },
            match over {
                Some((frames, _)) => format!(", over {frames} DATA frames"),
                None => String::new(),
            }
        ));
        let mt = it.subtree(Ett::Grpc);
        mt.add_bool(
            Hf::GrpcCompressed,
            off + prefix.flags.off,
            prefix.flags.len,
            compressed,
        );
        mt.add_u32(
            Hf::GrpcLength,
            off + prefix.length.off,
            prefix.length.len,
            length,
        );
        if let Some((frames, began)) = over {
            mt.add_u32(Hf::GrpcFrames, 0, 0, frames).generated();
            mt.add_u32(Hf::GrpcBeganIn, 0, 0, began).generated();
        }
        match compat::grpc::builtin() {
            Some(b) => b.message(self.pkt, &under.with_bytes_of(view), off, bytes, &g.context),
            None => {
                if bytes.len() > grpc::PREFIX_LEN {
                    mt.add(
                        Hf::GrpcData,
                        off + grpc::PREFIX_LEN,
                        bytes.len() - grpc::PREFIX_LEN,
                        Enc::Na,
                    );
                }
            }
        }
    }

    pub(super) fn grpc(&self, t: &Tree<'_>, bt: &Tree<'_>, data: &[u8]) {
        let (messages, partial) = body::grpc_messages(data);
        for m in messages {
            let it = bt.add(Hf::GrpcMessage, m.off, 5 + m.present, Enc::Na);
            it.set_text(&format!(
                "gRPC message: {} bytes{}",
                m.length,
                if m.compressed { ", compressed" } else { "" }
            ));
            let mt = it.subtree(Ett::Grpc);
            mt.add_bool(Hf::GrpcCompressed, m.off, 1, m.compressed);
            mt.add_u32(Hf::GrpcLength, m.off + 1, 4, m.length);
            if m.present > 0 {
                mt.add(Hf::GrpcData, m.off + 5, m.present, Enc::Na);
            }
        }
        if let Some(off) = partial {
            t.add_expert(
                self.pkt,
                Ei::Malformed,
                off,
                0,
                "Truncated gRPC message prefix",
            );
        }
    }
}
