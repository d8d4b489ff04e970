//! Where tshark itself prints differently between Wireshark 4.0, 4.4 and 4.6 (not our
//! dissectors: the same tree, rendered differently), the tests compare a normalised form, so
//! that one set of expected files (recorded on 4.0) serves every version. Each rule below
//! names the difference it absorbs; `tests/tshark_versions.rs` checks them on real lines.
//!
//! * `stdout` is applied by the runner to every tshark output:
//!   - `-G protocols`: 4.4+ append three columns (enabled, enabled by default, can toggle);
//!     only the first three (name, short name, filter name) are kept.
//!   - `-T fields`: 4.4+ print a boolean field as `True`/`False` where 4.0 prints `1`/`0`;
//!     values of `FT_BOOLEAN` fields are mapped to `1`/`0`.
//! * `canonical` is applied by golden comparisons to both the expected and the actual text
//!   of a packet list or a `-V` tree:
//!   - a control character in a column: 4.0 prints it raw, 4.4+ escape it (`\t`); raw tabs
//!     become `\t`.
//!   - labels longer than Wireshark's label limit: 4.0 inserts ` [truncated]` after the field
//!     name, 4.4+ ` […]` (or `[…] ` in front), and they cut at different lengths; a byte field
//!     longer than 36 bytes is shown as 72 hex digits and `…` by 4.0 but in full (up to the
//!     label limit) by 4.4+. Such a line, and any line over 200 characters (near the label
//!     limit, cut with or without a marker), keeps its first 72 characters, then `…`.
//!   - 4.2+: the protobuf dissector, called under gRPC, sets the Protocol column to
//!     `GRPC/PB(<message type>)` where 4.0 leaves `GRPC` (the built-in http2 shows the same);
//!     it becomes `GRPC` again.
//!   - 4.6 only: the frame line reads `Frame 4: Packet, 130 bytes on wire ...`; relative
//!     times are printed in a scaled unit (`122.046 microseconds`, where 4.0 and 4.4 print
//!     `0.000122046 seconds`; converted back exactly); TCP's `[N Reassembled TCP Segments (B
//!     bytes): #..]` also lists retransmitted copies (only `B` is kept); the built-in JSON
//!     dissector is called `JSON` instead of `JavaScript Object Notation` in the Info column.
//!
//! The price is that the golden tests do not see differences beyond those prefixes, nor in
//! the frame lists of TCP's reassembly lines.

#![allow(dead_code)]

use std::collections::HashSet;

/// Number of characters kept of a truncated label.
const TRUNCATED_KEEP: usize = 72;
/// Lines longer than this are at Wireshark's label limit (240 bytes), so truncated.
const LONG_LINE: usize = 200;

/// The normalised stdout of `tshark args`. `boolean_fields` lists the abbreviations of the
/// `FT_BOOLEAN` fields; it is called only for `-T fields` output.
pub fn stdout(
    args: &[&str],
    out: String,
    boolean_fields: impl FnOnce() -> HashSet<String>,
) -> String {
    if option_value(args, "-G") == Some("protocols") {
        return map_lines(&out, |l| {
            l.split('\t').take(3).collect::<Vec<_>>().join("\t")
        });
    }
    if option_value(args, "-T") == Some("fields") {
        return fields_output(args, out, boolean_fields);
    }
    out
}

/// The value that follows `opt` in `args` (the last one when repeated).
fn option_value<'a>(args: &[&'a str], opt: &str) -> Option<&'a str> {
    args.windows(2).rev().find(|w| w[0] == opt).map(|w| w[1])
}

fn map_lines(text: &str, mut f: impl FnMut(&str) -> String) -> String {
    let mut s = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        s.push_str(&f(body));
        s.push_str(nl);
    }
    s
}

/// tshark's `-E separator=`/`aggregator=` value: `/t` tab, `/s` space, else the text.
fn separator(args: &[&str], key: &str, default: &str) -> String {
    let prefix = format!("{key}=");
    let v = args
        .windows(2)
        .filter(|w| w[0] == "-E")
        .filter_map(|w| w[1].strip_prefix(prefix.as_str()))
        .next_back();
    match v {
        Some("/t") => "\t".into(),
        Some("/s") => " ".into(),
        Some(s) => s.into(),
        None => default.into(),
    }
}

fn fields_output(
    args: &[&str],
    out: String,
    boolean_fields: impl FnOnce() -> HashSet<String>,
) -> String {
    let fields: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "-e")
        .map(|w| w[1])
        .collect();
    if out.is_empty() || fields.is_empty() {
        return out;
    }
    let booleans = boolean_fields();
    let is_bool: Vec<bool> = fields.iter().map(|f| booleans.contains(*f)).collect();
    if !is_bool.contains(&true) {
        return out;
    }
    let sep = separator(args, "separator", "\t");
    let agg = separator(args, "aggregator", ",");
    let header = args.windows(2).any(|w| w[0] == "-E" && w[1] == "header=y");
    let mut first = true;
    map_lines(&out, |line| {
        if std::mem::take(&mut first) && header {
            return line.to_string();
        }
        line.split(sep.as_str())
            .enumerate()
            .map(|(i, col)| {
                if is_bool.get(i).copied().unwrap_or(false) {
                    col.split(agg.as_str())
                        .map(boolean_value)
                        .collect::<Vec<_>>()
                        .join(&agg)
                } else {
                    col.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(&sep)
    })
}

fn boolean_value(v: &str) -> String {
    let (q, inner) = match v.as_bytes().first() {
        Some(b'"') | Some(b'\'') if v.len() >= 2 && v.ends_with(&v[..1]) => {
            (&v[..1], &v[1..v.len() - 1])
        }
        _ => ("", v),
    };
    match inner {
        "True" => format!("{q}1{q}"),
        "False" => format!("{q}0{q}"),
        _ => v.to_string(),
    }
}

/// `boolean_fields_of(g_fields())`, computed once per test binary (the boolean fields are
/// the same for every tshark run of a binary).
pub fn cached_boolean_fields(g_fields: impl FnOnce() -> String) -> HashSet<String> {
    static CACHE: std::sync::OnceLock<HashSet<String>> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| boolean_fields_of(&g_fields())).clone()
}

/// The abbreviations of the `FT_BOOLEAN` fields in `tshark -G fields` output.
pub fn boolean_fields_of(g_fields: &str) -> HashSet<String> {
    g_fields
        .lines()
        .filter_map(|l| {
            let mut c = l.split('\t');
            (c.next() == Some("F")).then_some(())?;
            let abbrev = c.nth(1)?;
            (c.next() == Some("FT_BOOLEAN")).then(|| abbrev.to_string())
        })
        .collect()
}

/// The version-independent form of a packet list or `-V` text (see the module comment).
pub fn canonical(text: &str) -> String {
    map_lines(text, canonical_line)
}

fn canonical_line(line: &str) -> String {
    let mut l = line.replace('\t', "\\t");
    // 4.6: "Frame 4: Packet, 130 bytes on wire ..." (4.0 and 4.4: "Frame 4: 130 bytes ...").
    if let Some(rest) = l.strip_prefix("Frame ") {
        if let Some((num, tail)) = rest.split_once(": Packet, ") {
            if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) {
                l = format!("Frame {num}: {tail}");
            }
        }
    }
    // 4.6 prints a relative time in a scaled unit ("122.046 microseconds"), 4.0 and 4.4 in
    // seconds ("0.000122046 seconds").
    l = relative_times_in_seconds(&l);
    // TCP's "[3 Reassembled TCP Segments (186 bytes): #1073(4), #1074(182), #1075(182)]":
    // 4.6 also lists retransmitted copies; keep the reassembled length only.
    if let Some(rest) = l.trim_start().strip_prefix('[') {
        if let Some((_, tail)) = rest.split_once(" Reassembled TCP Segments (") {
            if let Some((bytes, _)) = tail.split_once(')') {
                let indent = &l[..l.len() - l.trim_start().len()];
                l = format!("{indent}[Reassembled TCP Segments ({bytes})]");
            }
        }
    }
    // 4.2+: protobuf under gRPC names the message type in the Protocol column.
    if let Some(i) = l.find(" GRPC/PB(") {
        if let Some(j) = l[i..].find(") ") {
            l = format!("{} GRPC{}", &l[..i], &l[i + j + 1..]);
        }
    }
    // 4.6 calls the built-in JSON dissector "JSON" in the Info column.
    if l.contains("JavaScript Object Notation (") {
        l = l.replace("JavaScript Object Notation (", "JSON (");
    }
    let mut truncated = false;
    for marker in [" [truncated]", " […]", "[…] "] {
        if l.contains(marker) {
            l = l.replacen(marker, "", 1);
            truncated = true;
        }
    }
    if let Some(s) = l.strip_suffix('…') {
        l = s.to_string();
        truncated = true;
    }
    // A byte field: its value is hex digits after "Name: ".
    if let Some((_, v)) = l.rsplit_once(": ") {
        if v.len() > 72
            && v.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            truncated = true;
        }
    }
    // Near the label limit: cut, marked or not, at lengths that differ between versions.
    if l.chars().count() > LONG_LINE {
        truncated = true;
    }
    if !truncated {
        return l;
    }
    match l.char_indices().nth(TRUNCATED_KEEP) {
        Some((cut, _)) => format!("{}…", &l[..cut]),
        None => format!("{l}…"),
    }
}

/// Rewrites every "<digits>[.<digits>] <unit>" with unit seconds, milliseconds, microseconds or
/// nanoseconds as "<seconds with 9 decimals> seconds". Exact (integer arithmetic); a value
/// with more decimals than nanoseconds allow is left as it is.
fn relative_times_in_seconds(line: &str) -> String {
    const UNITS: [(&str, u32); 4] = [
        (" seconds", 0),
        (" milliseconds", 3),
        (" microseconds", 6),
        (" nanoseconds", 9),
    ];
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    'scan: while let Some(i) = rest.find(|c: char| c.is_ascii_digit()) {
        // Only numbers that start a token.
        let before = rest[..i].chars().last();
        let j = rest[i..]
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or(rest.len(), |k| i + k);
        let num = &rest[i..j];
        if before.is_none_or(|c| c == ' ' || c == '[' || c == '(') {
            for (unit, exp) in UNITS {
                if rest[j..].starts_with(unit) {
                    if let Some(ns) = to_nanos(num, exp) {
                        out.push_str(&rest[..i]);
                        out.push_str(&format!(
                            "{}.{:09} seconds",
                            ns / 1_000_000_000,
                            ns % 1_000_000_000
                        ));
                        rest = &rest[j + unit.len()..];
                        continue 'scan;
                    }
                }
            }
        }
        out.push_str(&rest[..j]);
        rest = &rest[j..];
    }
    out.push_str(rest);
    out
}

/// "4.484897" with unit 10^-exp seconds, in nanoseconds.
fn to_nanos(num: &str, exp: u32) -> Option<u128> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let frac_digits = 9 - exp as usize;
    if int.is_empty() || frac.len() > frac_digits || frac.contains('.') {
        return None;
    }
    let int: u128 = int.parse().ok()?;
    let frac: u128 = match frac_digits {
        0 => 0,
        _ => format!("{frac:0<frac_digits$}").parse().ok()?,
    };
    Some(int * 10u128.pow(frac_digits as u32) + frac)
}
