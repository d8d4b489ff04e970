//! The user's tables (UATs) for HTTP/2:
//!
//! - **Custom header fields** (`h2_custom_header_fields`): each row makes a field
//!   `h2.headers.<name>` that holds that header's value, for filters, columns and `-e`.
//!   The fields are registered when the table is loaded, before filters are compiled.
//! - **Fake headers** (`h2_fake_headers`): headers to assume for a stream direction whose
//!   HEADERS were not captured (a capture that begins inside a long gRPC stream), by server
//!   port, direction and stream id. The built-in http2's table ("HTTP2 Fake Headers", same
//!   columns) is read too, so settings made for the built-in keep working under `h2`.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Mutex;

use crate::epan::uat::{self, Column, DynamicField, DynamicKind};
use crate::epan::{Prefs, Protocol, RawField};
use crate::h2::connection::FakeHeader;

/// A header with a field of the user's own.
#[derive(Clone, Copy, Debug)]
pub struct CustomField {
    pub field: RawField,
    /// The field is an unsigned number (else a string).
    pub numeric: bool,
}

/// Custom fields by lowercase header name.
static CUSTOM: Mutex<Option<HashMap<Vec<u8>, CustomField>>> = Mutex::new(None);

/// A fake-header rule as the user wrote it (a row of either table).
#[derive(Clone, Debug, PartialEq, Eq)]
struct FakeRule {
    server_ports: String,
    stream: u32,
    /// IN: sent to the server; OUT: sent by it.
    inbound: bool,
    name: String,
    value: String,
    override_real: bool,
}

static FAKE: Mutex<Vec<FakeRule>> = Mutex::new(Vec::new());
static PROTO: Mutex<Option<Protocol>> = Mutex::new(None);

const CUSTOM_UAT: &std::ffi::CStr = c"HTTP/2 (zkh2) custom header fields";
const FAKE_UAT: &std::ffi::CStr = c"HTTP/2 (zkh2) fake headers";
const BUILTIN_FAKE_UAT: &std::ffi::CStr = c"HTTP2 Fake Headers";

static CUSTOM_COLUMNS: &[Column] = &[
    Column {
        name: c"header_name",
        title: c"Header name",
        desc: c"HTTP/2 header name (lowercase); its field is h2.headers.<name>",
    },
    Column {
        name: c"header_type",
        title: c"Field type",
        desc: c"string, or unsigned for a decimal number",
    },
    Column {
        name: c"header_desc",
        title: c"Field description",
        desc: c"Description of the value contained in the header",
    },
];

static FAKE_COLUMNS: &[Column] = &[
    Column {
        name: c"server_port_range",
        title: c"Server ports",
        desc: c"Server ports, like 50051 or 50051,60051-60054",
    },
    Column {
        name: c"stream_id",
        title: c"Stream ID",
        desc: c"The stream the header applies to; 0 for every stream",
    },
    Column {
        name: c"direction",
        title: c"Direction",
        desc: c"IN: sent to the server (requests); OUT: sent by the server (responses)",
    },
    Column {
        name: c"header_name",
        title: c"Header name",
        desc: c"HTTP/2 header name, like content-type or :path",
    },
    Column {
        name: c"header_value",
        title: c"Header value",
        desc: c"The value to assume",
    },
    Column {
        name: c"override",
        title: c"Override",
        desc: c"TRUE: also replace a header that was captured",
    },
    Column {
        name: c"enable",
        title: c"Enable",
        desc: c"TRUE to use this row",
    },
];

/// Registers both tables under the h2 preferences.
pub fn register(proto: Protocol, prefs: &Prefs) {
    if let Ok(mut p) = PROTO.lock() {
        *p = Some(proto);
    }
    prefs.uat(
        c"custom_header_fields",
        c"Custom HTTP/2 header fields",
        CUSTOM_UAT,
        c"h2_custom_header_fields",
        c"A field h2.headers.<name> for each header named here, usable in display filters, columns and tshark -e.",
        uat::AFFECTS_DISSECTION | uat::AFFECTS_FIELDS,
        CUSTOM_COLUMNS,
        custom_fields_changed,
    );
    prefs.uat(
        c"fake_headers",
        c"Fake headers",
        FAKE_UAT,
        c"h2_fake_headers",
        c"Headers to assume for a stream direction whose HEADERS were not captured (a capture that began inside a long gRPC call): content-type, :path, grpc-encoding. The built-in HTTP2's Fake Headers table is used as well.",
        uat::AFFECTS_DISSECTION,
        FAKE_COLUMNS,
        fake_headers_changed,
    );
    uat::register_init(tables_init);
}

extern "C" fn custom_fields_changed() {
    let _ = std::panic::catch_unwind(reload_custom_fields);
}

extern "C" fn fake_headers_changed() {
    let _ = std::panic::catch_unwind(reload_fake_headers);
}

/// A capture is dissected anew: the built-in's table may have changed too.
extern "C" fn tables_init() {
    let _ = std::panic::catch_unwind(|| {
        reload_fake_headers();
        if let Some(b) = crate::h2::compat::builtin_any() {
            b.refresh_named_headers();
        }
    });
}

/// A header name as the tables allow it: letters, digits, `-`, `_`, `.` and a leading `:`.
fn valid_name(n: &str) -> bool {
    let n = n.strip_prefix(':').unwrap_or(n);
    !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn reload_custom_fields() {
    let Some(proto) = PROTO.lock().ok().and_then(|p| *p) else {
        return;
    };
    let rows = uat::rows(
        CUSTOM_UAT,
        &[c"header_name", c"header_type", c"header_desc"],
    );
    let mut names = Vec::new();
    let mut fields = Vec::new();
    for row in rows {
        let name = row[0].trim().to_ascii_lowercase();
        if !valid_name(&name) || names.contains(&name) {
            continue;
        }
        let numeric = matches!(row[1].trim(), "unsigned" | "uint64" | "1");
        fields.push(DynamicField {
            abbrev: format!("h2.headers.{}", name.trim_start_matches(':')),
            name: name.clone(),
            blurb: if row[2].is_empty() {
                format!("The {name} header")
            } else {
                row[2].clone()
            },
            kind: if numeric {
                DynamicKind::Uint64
            } else {
                DynamicKind::String
            },
        });
        names.push(name);
    }
    let ids = uat::replace_dynamic_fields(proto, &fields);
    let map = names
        .into_iter()
        .zip(fields.iter().zip(ids))
        .filter(|(_, (_, id))| id.0 >= 0)
        .map(|(n, (f, id))| {
            (
                n.into_bytes(),
                CustomField {
                    field: id,
                    numeric: f.kind == DynamicKind::Uint64,
                },
            )
        })
        .collect();
    if let Ok(mut c) = CUSTOM.lock() {
        *c = Some(map);
    }
}

/// The user's field for a header name, if any.
pub fn custom_field(name: &[u8]) -> Option<CustomField> {
    let c = CUSTOM.lock().ok()?;
    let map = c.as_ref()?;
    if map.is_empty() {
        return None;
    }
    map.get(&name.to_ascii_lowercase()).copied()
}

/// Whether a filter, column, colouring rule or `-e` names one of the custom header fields.
pub fn custom_field_primed(t: &crate::epan::Tree<'_>) -> bool {
    let Ok(c) = CUSTOM.lock() else { return false };
    c.as_ref()
        .is_some_and(|m| m.values().any(|f| t.is_primed(f.field)))
}

fn parse_fake_rows(uat_name: &std::ffi::CStr) -> Vec<FakeRule> {
    let columns = [
        c"server_port_range",
        c"stream_id",
        c"direction",
        c"header_name",
        c"header_value",
        c"override",
        c"enable",
    ];
    uat::rows(uat_name, &columns)
        .into_iter()
        .filter_map(|r| {
            let truthy = |s: &str| s.trim().eq_ignore_ascii_case("true");
            let name = r[3].trim().to_string();
            (truthy(&r[6]) && !name.is_empty() && !r[0].trim().is_empty()).then(|| FakeRule {
                server_ports: r[0].trim().to_string(),
                stream: r[1].trim().parse().unwrap_or(0),
                inbound: !r[2].trim().eq_ignore_ascii_case("OUT"),
                name,
                value: r[4].trim().to_string(),
                override_real: truthy(&r[5]),
            })
        })
        .collect()
}

fn reload_fake_headers() {
    let mut rules = parse_fake_rows(FAKE_UAT);
    rules.extend(parse_fake_rows(BUILTIN_FAKE_UAT));
    if let Ok(mut f) = FAKE.lock() {
        *f = rules;
    }
}

/// The fake headers that apply to data sent from `src_port` to `dst_port`, or None when
/// no table has a row at all (then the built-in shows nothing about fake headers either).
pub fn fake_headers_for(src_port: u32, dst_port: u32) -> Option<Rc<[FakeHeader]>> {
    let rules = FAKE.lock().ok()?;
    if rules.is_empty() {
        return None;
    }
    Some(
        rules
            .iter()
            .filter(|r| {
                if uat::in_range(&r.server_ports, dst_port) {
                    r.inbound
                } else if uat::in_range(&r.server_ports, src_port) {
                    !r.inbound
                } else {
                    false
                }
            })
            .map(|r| FakeHeader {
                stream: r.stream,
                name: Rc::from(r.name.as_bytes()),
                value: Rc::from(r.value.as_bytes()),
                override_real: r.override_real,
            })
            .collect(),
    )
}
