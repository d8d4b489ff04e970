//! Header blocks to the tree: the fragment of each HEADERS, PUSH_PROMISE and CONTINUATION,
//! every HPACK representation of the completed block, and the header items (`h2.header`,
//! `h2.headers.<name>`, the full URI).

use super::*;

/// HTTP/2 as a framed TCP dissector.
/// A header block as the tree shows it: the tree whose data source holds it (the frame, or
/// the "Header block" tab of a joined block), its offset there, and its octets.
pub(super) struct BlockView<'a> {
    pub(super) tree: Tree<'a>,
    pub(super) base: usize,
    pub(super) bytes: &'a [u8],
}

/// A request block's URI as the built-in http2 builds it: `scheme://authority path`, the
/// authority alone for CONNECT; none without an authority (or a path, but for CONNECT).
pub(super) fn full_uri(block: &DecodedBlock, strings: &Strings) -> Option<String> {
    let text = |name: &[u8]| block.value(strings, name).map(lossy);
    let authority = text(b":authority")?;
    if block.value(strings, b":method") == Some(b"CONNECT") {
        return Some(authority.into_owned());
    }
    let path = text(b":path")?;
    let scheme = text(b":scheme").unwrap_or("(null)".into());
    Some(format!("{scheme}://{authority}{path}"))
}

pub(super) const UNKNOWN_ENTRY: &str =
    "Dynamic table entry added before the capture began: name or value unknown";

/// The fields `View::header_field` adds for each header.
pub(super) const HEADER_ITEM_FIELDS: &[Hf] = &[
    Hf::Header,
    Hf::HeaderRepr,
    Hf::HeaderIndex,
    Hf::HeaderNameHuffman,
    Hf::HeaderNameLength,
    Hf::HeaderName,
    Hf::HeaderValueHuffman,
    Hf::HeaderValueLength,
    Hf::HeaderValue,
    Hf::HeaderTableSizeUpdate,
    Hf::Method,
    Hf::Path,
    Hf::Authority,
    Hf::Scheme,
    Hf::ContentType,
    Hf::Status,
];

/// Whether anything can read the per-header items of this packet (see `header_block`).
pub(super) fn header_items_wanted(t: &Tree<'_>) -> bool {
    t.is_visible()
        && (t.is_shown()
            || HEADER_ITEM_FIELDS.iter().any(|&f| t.is_primed(f))
            || crate::h2::fields::NAMED_HEADERS
                .iter()
                .any(|&(_, f)| t.is_primed(f))
            || crate::h2::user_tables::custom_field_primed(t))
}

impl View<'_, '_> {
    pub(super) fn string(&self, t: &Tree<'_>, field: Hf, span: Span) {
        t.add_string(field, span.off, span.len, &lossy(span.of(self.bytes)));
    }

    /// A header-block fragment, and the decoded block on the frame that completes it.
    pub(super) fn fragment(&self, t: &Tree<'_>, fragment: Span, info: &mut String) {
        if fragment.len > 0 {
            t.add(Hf::Fragment, fragment.off, fragment.len, Enc::Na);
        }
        if let Some(part) = self.info.block_part() {
            if part.started_in != self.pkt.frame() {
                t.add_u32(Hf::BlockStartedIn, 0, 0, part.started_in)
                    .generated();
            }
            if let Some(done) = part.completed_in.filter(|&f| f != self.pkt.frame()) {
                t.add_u32(Hf::BlockCompletedIn, 0, 0, done).generated();
            }
        }
        let Some(block) = &self.info.block else {
            if self
                .info
                .block_part()
                .is_some_and(|p| p.completed_in != Some(self.pkt.frame()))
            {
                info.push_str(" (header block continues)");
            }
            return;
        };
        // A block in one frame points into the frame; a joined block gets its own tab.
        let view = match &block.joined {
            Some(joined) => BlockView {
                tree: t.with_data_source(self.pkt, joined, c"Header block"),
                base: 0,
                bytes: joined,
            },
            None => BlockView {
                tree: *t,
                base: fragment.off,
                bytes: fragment.of(self.bytes),
            },
        };
        // Which fields this frame shows: those whose last byte is in its fragment.
        let position = block.fragments.iter().position(|f| f.0 == self.key);
        // `i` is a position in `fragments`, so `i` and (when non-zero) `i - 1` index it.
        let range = position.map(|i| {
            let start = if i == 0 { 0 } else { block.fragments[i - 1].1 };
            (start as usize, block.fragments[i].1 as usize)
        });
        let completing = block.completes_in(self.key);
        self.header_block(
            t,
            &view,
            block,
            range.filter(|_| block.fragments.len() > 1),
            completing,
        );
        if !completing {
            info.push_str(" (header block continues)");
            return;
        }
        self.pairing(t);
        let strings = self.conn.strings_of(block);
        match block.role {
            BlockRole::Request | BlockRole::PushRequest => {
                let m = block.value(strings, b":method").unwrap_or(b"?");
                let p = block.value(strings, b":path").unwrap_or(b"");
                let _ = write!(info, ": {} {}", lossy(m), lossy(p));
            }
            BlockRole::Response | BlockRole::Informational => {
                let s = block.value(strings, b":status").unwrap_or(b"?");
                let s = lossy(s);
                let reason = s.parse::<u16>().ok().and_then(reason_phrase).unwrap_or("");
                let _ = write!(info, ": {s} {reason}");
                if info.ends_with(' ') {
                    info.pop();
                }
            }
            BlockRole::Trailers => info.push_str(": trailers"),
            BlockRole::Unknown => {}
        }
    }

    pub(super) fn header_block(
        &self,
        t: &Tree<'_>,
        view: &BlockView<'_>,
        block: &DecodedBlock,
        range: Option<(usize, usize)>,
        completing: bool,
    ) {
        let in_this_frame =
            |f: &hpack::Field| range.is_none_or(|(start, end)| f.end() > start && f.end() <= end);
        // The per-header items are built only where something can read them: a tree that
        // is shown, or a filter, column, colouring rule or `-e` that names one of them.
        // Otherwise (`tshark -q -Y h2`, the summary pass) epan would fake every item, and
        // building them (strings, labels) would be most of h2's work for nothing.
        if header_items_wanted(t) {
            let strings = self.conn.strings_of(block);
            for f in block.decoded.fields.iter().filter(|f| in_this_frame(f)) {
                self.header_field(t, view, strings, f);
            }
        } else if t.is_visible() {
            // Their expert notes still count (`-z expert`, the GUI's first pass).
            for f in block.decoded.fields.iter().filter(|f| in_this_frame(f)) {
                if f.is_unknown() {
                    t.add_expert(
                        self.pkt,
                        Ei::UnknownEntry,
                        view.base + f.off as usize,
                        f.len as usize,
                        UNKNOWN_ENTRY,
                    );
                }
            }
        }
        if !completing {
            return;
        }
        let strings = self.conn.strings_of(block);
        // Also without a tree: `tshark -q -z expert` counts it.
        if let Some(code) = block
            .value(strings, b":status")
            .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u16>().ok())
            .filter(|&c| c >= 400)
        {
            t.add_expert(
                self.pkt,
                Ei::ErrorStatus,
                0,
                0,
                &format!("{code} {}", reason_phrase(code).unwrap_or("")),
            );
        }
        t.add_u32(Hf::BlockRole, 0, 0, block.role as u32)
            .generated();
        if let Some(uri) = full_uri(block, strings) {
            t.add_string(Hf::FullUri, 0, 0, &uri).generated();
        }
        let count = block
            .decoded
            .fields
            .iter()
            .filter(|f| f.repr != Representation::SizeUpdate)
            .count();
        t.add_u32(Hf::HeaderCount, 0, 0, count as u32).generated();
        t.add_u32(Hf::TableSize, 0, 0, block.table_size).generated();
        t.add_u32(Hf::TableEntries, 0, 0, block.table_len)
            .generated();
        if let Some(e) = &block.decoded.error {
            view.tree.add_expert(
                self.pkt,
                Ei::Hpack,
                view.base + e.off,
                block.joined.as_ref().map_or(0, |j| j.len()).max(1),
                &format!("HPACK decoding error: {e}; the rest of the block is not decoded"),
            );
        }
        if let Some(s) = block.value(strings, b"grpc-status")
            && let Ok(code) = std::str::from_utf8(s).unwrap_or("").parse::<u32>()
        {
            let it = t.add_u32(Hf::GrpcStatus, 0, 0, code).generated();
            if let Some(m) = block.value(strings, b"grpc-message") {
                t.add_string(Hf::GrpcStatusMessage, 0, 0, &lossy(m))
                    .generated();
            }
            if code != 0 {
                it.expert(self.pkt, Ei::GrpcError, &format!("gRPC status {code}"));
            }
        }
    }

    pub(super) fn header_field(
        &self,
        t: &Tree<'_>,
        view: &BlockView<'_>,
        strings: &Strings,
        f: &hpack::Field,
    ) {
        let (bt, base) = (&view.tree, view.base);
        // Where the index and literals lie is read again from the block's octets.
        let layout = f.layout(view.bytes);
        let off = base + f.off as usize;
        let len = f.len as usize;
        let repr = match f.repr {
            Representation::Indexed => 0,
            Representation::LiteralIncremental => 1,
            Representation::LiteralWithoutIndexing => 2,
            Representation::LiteralNeverIndexed => 3,
            Representation::SizeUpdate => 4,
        };
        if f.repr == Representation::SizeUpdate {
            let size = layout.new_size.unwrap_or(0);
            let it = bt.add_string(Hf::Header, off, len, "");
            let ht = it.subtree(Ett::Header);
            it.set_text(&format!("Dynamic Table Size Update: {size}"));
            ht.add_u32(Hf::HeaderRepr, off, 1, repr);
            ht.add_u32(Hf::HeaderTableSizeUpdate, off, len, size);
            return;
        }
        let name_bytes = strings.get(f.name);
        let name = name_bytes.map_or_else(|| "<unknown>".into(), lossy);
        let value = strings
            .get(f.value)
            .map_or_else(|| "<unknown>".into(), lossy);
        // The pair as one string value, so that a filter can match name and value together
        // when a block holds several headers. Its label is the field's own ("Header: name:
        // value"), made only when the tree is printed.
        let it = bt.add_string_joined(Hf::Header, off, len, &[&name, ": ", &value]);
        let ht = it.subtree(Ett::Header);
        // The index integer runs from the first octet up to the first literal.
        let index_len = layout
            .name_literal
            .or(layout.value_literal)
            .map_or(len, |l| (l.off - f.off) as usize);
        ht.add_u32(Hf::HeaderRepr, off, 1, repr);
        if let Some(i) = layout.index {
            let ix = ht.add_u32(Hf::HeaderIndex, off, index_len, i);
            ix.append_text(if layout.from_static {
                " (static table)"
            } else {
                " (dynamic table)"
            });
        }
        if let Some(l) = layout.name_literal {
            literal_prefix(&ht, base, &l, Hf::HeaderNameHuffman, Hf::HeaderNameLength);
        }
        let name_span = layout.name_literal.map_or((off, index_len), |l| {
            (base + l.data_off(), l.raw_len as usize)
        });
        ht.add_string(Hf::HeaderName, name_span.0, name_span.1, &name);
        if let Some(l) = layout.value_literal {
            literal_prefix(&ht, base, &l, Hf::HeaderValueHuffman, Hf::HeaderValueLength);
        }
        let value_span = layout
            .value_literal
            .map_or((off, len), |l| (base + l.data_off(), l.raw_len as usize));
        ht.add_string(Hf::HeaderValue, value_span.0, value_span.1, &value);
        if f.is_unknown() {
            it.expert(self.pkt, Ei::UnknownEntry, UNKNOWN_ENTRY);
        }
        // The common headers get fields of their own, for filters and columns.
        let named = match name_bytes {
            Some(b":method") => Some(Hf::Method),
            Some(b":path") => Some(Hf::Path),
            Some(b":authority") => Some(Hf::Authority),
            Some(b":scheme") => Some(Hf::Scheme),
            Some(b"content-type") => Some(Hf::ContentType),
            Some(b":status") => {
                if let Ok(code) = value.parse::<u32>() {
                    t.add_u32(Hf::Status, 0, 0, code).generated();
                }
                None
            }
            _ => None,
        };
        // The user's own header fields (h2.headers.<name>).
        if let Some(c) = name_bytes.and_then(crate::h2::user_tables::custom_field) {
            if !c.numeric {
                t.add_string(c.field, 0, 0, &value).generated();
            } else if let Ok(n) = value.trim().parse::<u64>() {
                t.add_u64(c.field, 0, 0, n).generated();
            }
        }
        if let Some(field) = named {
            t.add_string(field, 0, 0, &value).generated();
        }
        // A common header's own field, under the header (over its value's octets).
        if let Some(field) = name_bytes.and_then(crate::h2::fields::named_header_field) {
            let (v_off, v_len) = value_span;
            if field == Hf::HdrContentLength {
                if let Ok(n) = value.trim().parse::<u64>() {
                    ht.add_u64(field, v_off, v_len, n);
                }
            } else {
                ht.add_string(field, v_off, v_len, &value);
            }
        }
    }
}

/// A string literal's H bit and length (its prefix, at `base` + its offset in the block).
fn literal_prefix(t: &Tree<'_>, base: usize, l: &hpack::Literal, huffman: Hf, length: Hf) {
    let l_off = base + l.off as usize;
    t.add_bool(huffman, l_off, 1, l.huffman);
    t.add_u32(length, l_off, usize::from(l.prefix_len), l.raw_len);
}
