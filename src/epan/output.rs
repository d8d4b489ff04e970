//! Whether what this process prints can show a hidden tree item that no filter, column or
//! `-e` names.
//!
//! A visible tree is built in full: the GUI's packet details, `tshark -V`, `-T fields`,
//! JSON and PDML. Hidden items are skipped by the GUI and by tshark's text output (unless
//! the preference `display_hidden_proto_items` is on), and `-T fields` prints only the
//! fields given with `-e`; JSON, EK and PDML without `-e` print every item, hidden ones
//! included, and so does anything that exports dissections. A dissector that adds many
//! hidden items only for the sake of filters (h2's copy of the built-in http2's fields) can
//! leave out those that nothing would see: in tshark whose output hides them, and where the
//! tree is not visible at all (epan drops them there anyway).
//!
//! Only tshark's command line is read (`/proc/self/cmdline`, once); any other program, or a
//! command line that cannot be read, counts as one that may show everything.

use std::ffi::{CStr, CString, c_int};
use std::sync::OnceLock;

use wireshark_sys as sys;

/// Short options of tshark (4.0 to 4.6) that take an argument, as getopt reads them.
const SHORT_WITH_ARG: &[u8] = b"aAbBcCdeEfFGHijJKMNoOrRsStTuUwWXyYz";

/// Long options of tshark that take their argument as the next word.
const LONG_WITH_ARG: &[&str] = &[
    "--disable-protocol",
    "--enable-protocol",
    "--only-protocols",
    "--disable-heuristic",
    "--enable-heuristic",
    "--disable-all-protocols",
    "--elastic-mapping-filter",
    "--export-objects",
    "--export-tls-session-keys",
    "--capture-comment",
    "--temp-dir",
    "--update-interval",
    "--time-stamp-type",
    "--hexdump",
    "--selected-frame",
    "--compress",
    "--log-level",
    "--log-fatal",
    "--log-domains",
    "--log-debug",
    "--log-noisy",
    "--log-file",
    "--read-file",
    "--display-filter",
    "--read-filter",
    "--interface",
];

/// What tshark's command line says about its output.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TsharkOutput {
    /// The output prints no hidden item, except fields named with `-e`.
    pub hides_hidden: bool,
    /// The output is `-T fields`: the values of the fields named with `-e`, and nothing
    /// else of the tree.
    pub fields_only: bool,
    /// The fields named with `-e` (Wireshark 4.0 does not prime the tree with them).
    pub fields: Vec<String>,
}

/// What tshark's command line says, read once; None for another program.
fn this_tshark() -> Option<&'static TsharkOutput> {
    static FROM_COMMAND_LINE: OnceLock<Option<TsharkOutput>> = OnceLock::new();
    FROM_COMMAND_LINE
        .get_or_init(|| tshark_output(command_line()))
        .as_ref()
}

/// The fields a `tshark -T fields` prints (see `fields_only`).
#[derive(Debug)]
pub struct PrintedFields {
    /// The ids of the fields named with `-e`, sorted (a name can have several).
    ids: Vec<c_int>,
    /// One of them prints its label (a protocol or text-only field, `-e h2`): labels
    /// are then made as for a shown tree.
    pub labelled: bool,
    /// Expert infos are printed (`-e _ws.expert.message`): they are then made as where
    /// they are collected.
    pub experts: bool,
}

impl PrintedFields {
    /// Whether field `hf` is printed.
    pub fn names(&self, hf: c_int) -> bool {
        self.ids.binary_search(&hf).is_ok()
    }

    /// Whether one of `ids` is printed.
    pub fn names_any(&self, ids: &[c_int]) -> bool {
        ids.iter().any(|&hf| self.names(hf))
    }
}

/// `Some` when this process is a tshark that prints `-T fields`. tshark builds a visible
/// tree for that output (`print_details`), as it does for `-V`, yet reads nothing of it but
/// the fields named with `-e` (and what filters, columns and taps reference, which epan
/// marks on the fields themselves). So an item that is neither can be left out as if the
/// tree were not visible, and a label that is not printed need not be made.
///
/// None (build everything) for any other output or program, and when a named field cannot
/// be found among the registered ones (a name this code does not understand must not lose
/// its values). Resolved once, at the first dissection, after every protocol registered.
pub fn fields_only() -> Option<&'static PrintedFields> {
    static PRINTED: OnceLock<Option<PrintedFields>> = OnceLock::new();
    PRINTED
        .get_or_init(|| {
            let out = this_tshark().filter(|o| o.fields_only)?;
            printed_fields(&out.fields)
        })
        .as_ref()
}

fn printed_fields(names: &[String]) -> Option<PrintedFields> {
    let mut printed = PrintedFields {
        ids: Vec::new(),
        labelled: false,
        experts: false,
    };
    for name in names {
        printed.experts |= name == "_ws.expert" || name.starts_with("_ws.expert.");
        // Columns (`_ws.col.Info`) are printed from the columns, not from the tree.
        if name.starts_with("_ws.col.") {
            continue;
        }
        let c_name = CString::new(name.as_str()).ok()?;
        let mut ids = [0 as c_int; 16];
        let mut labelled = 0;
        // SAFETY: a NUL-terminated name; `ids` holds the 16 ids the shim may write.
        let n = unsafe {
            sys::zkh2_field_ids_by_name(c_name.as_ptr(), ids.as_mut_ptr(), 16, &mut labelled)
        };
        // None found, or more than the buffer holds: build everything.
        if n <= 0 {
            return None;
        }
        printed.ids.extend_from_slice(ids.get(..n as usize)?);
        printed.labelled |= labelled != 0;
    }
    printed.ids.sort_unstable();
    Some(printed)
}

/// True when the output may show a hidden item of protocol `proto` (its filter name) that
/// nothing primed: anything but a tshark whose output hides hidden items and names none of
/// the protocol's fields with `-e`.
pub fn hidden_items_may_show(proto: &CStr) -> bool {
    // SAFETY: reads a preference of epan's global prefs.
    if unsafe { sys::zkh2_display_hidden_items() } != 0 {
        return true;
    }
    let Some(out) = this_tshark() else {
        return true;
    };
    let proto = proto.to_string_lossy();
    !out.hides_hidden
        || out.fields.iter().any(|f| {
            f.strip_prefix(proto.as_ref())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
}

/// This process's command line, program name first (empty when it cannot be read).
fn command_line() -> &'static [String] {
    static WORDS: OnceLock<Vec<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        std::fs::read("/proc/self/cmdline")
            .map(|raw| {
                raw.split(|&b| b == 0)
                    .filter(|w| !w.is_empty())
                    .map(|w| String::from_utf8_lossy(w).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// True in a command-line dissecting tool (tshark, tfshark, rawshark): no GUI dialogs
/// (Follow Stream's stream list) will ask the dissectors about the capture later. False
/// for any other program, and when the command line cannot be read.
pub fn command_line_tool() -> bool {
    is_command_line_tool(command_line())
}

fn is_command_line_tool(words: &[String]) -> bool {
    words.first().is_some_and(|program| {
        let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
        ["tshark", "tfshark", "rawshark"]
            .iter()
            .any(|tool| name.starts_with(tool))
    })
}

/// What a tshark command line (program name first) prints; None for another program.
pub fn tshark_output(words: &[String]) -> Option<TsharkOutput> {
    let program = words.first()?;
    let name = program.rsplit('/').next().unwrap_or(program);
    if !name.starts_with("tshark") {
        return None;
    }
    let mut format = "text".to_string();
    let mut fields = Vec::new();
    let mut protocol_filter = false;
    let mut rest = words[1..].iter();
    while let Some(word) = rest.next() {
        if word == "--" {
            break;
        }
        if word.starts_with("--") {
            if !word.contains('=') && LONG_WITH_ARG.contains(&word.as_str()) {
                rest.next();
            }
            continue;
        }
        let Some(cluster) = word.strip_prefix('-') else {
            continue;
        };
        for (i, c) in cluster.bytes().enumerate() {
            if !SHORT_WITH_ARG.contains(&c) {
                continue;
            }
            let attached = &cluster[i + 1..];
            let value = if attached.is_empty() {
                rest.next().cloned().unwrap_or_default()
            } else {
                attached.to_string()
            };
            match c {
                b'T' => format = value,
                b'e' => fields.push(value),
                b'j' | b'J' => protocol_filter = true,
                _ => {}
            }
            break;
        }
    }
    let hides_hidden = match format.as_str() {
        "text" | "tabs" | "fields" | "psml" => true,
        "json" | "jsonraw" | "ek" => !fields.is_empty() && !protocol_filter,
        _ => false,
    };
    Some(TsharkOutput {
        hides_hidden,
        fields_only: format == "fields",
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::{is_command_line_tool, tshark_output};

    /// A command line as /proc/self/cmdline gives it, from words separated by spaces.
    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn command_line_tools_are_known_by_their_program_name() {
        let tool = |line: &str| is_command_line_tool(&words(line));
        assert!(tool("tshark -r x"));
        assert!(tool("/usr/bin/tshark"));
        assert!(tool("C:\\Wireshark\\tshark.exe -r x"));
        assert!(tool("/usr/local/bin/rawshark -s"));
        assert!(!tool("/usr/bin/wireshark -r x.pcap"));
        assert!(!tool("sharkd -"));
        assert!(!is_command_line_tool(&[]));
    }

    fn hides(line: &str) -> bool {
        tshark_output(&words(line)).is_some_and(|o| o.hides_hidden)
    }

    #[test]
    fn tshark_outputs() {
        assert!(hides("tshark -r x.pcap"));
        assert!(hides("/usr/bin/tshark -r x.pcap -V"));
        assert!(hides("tshark -r x -T fields -e http2.streamid"));
        assert!(hides("tshark -nqr x -Tfields -e a"));
        assert!(hides("tshark -r x -T json -e http2.type"));
        assert!(!hides("tshark -r x -T json"));
        assert!(!hides("tshark -r x -T ek"));
        assert!(!hides("tshark -r x -T pdml"));
        assert!(!hides("tshark -r x -T json -j http2 -e a"));
        // An argument that looks like an option is not one.
        assert!(!hides("tshark -Y -T -T pdml"));
        assert!(hides("tshark --disable-protocol -T -r x"));
        assert!(!hides("tshark -T fields -T json"));
    }

    fn fields_only(line: &str) -> bool {
        tshark_output(&words(line)).is_some_and(|o| o.fields_only)
    }

    #[test]
    fn only_fields_are_printed_by_t_fields() {
        assert!(fields_only("tshark -r x -T fields -e h2.type"));
        assert!(fields_only("tshark -nqr x -Tfields -e a"));
        assert!(fields_only("tshark -r x -V -T fields -e a"));
        assert!(!fields_only("tshark -r x -T fields -e a -T json"));
        assert!(!fields_only("tshark -r x -V"));
        assert!(!fields_only("tshark -r x -T json -e a"));
        assert!(!fields_only("tshark -r x -T ek -e a"));
        assert!(!fields_only("tshark -Y -T -r x"));
        assert!(!fields_only("tshark -r x -Y fields -e a"));
    }

    #[test]
    fn the_fields_named_with_e() {
        let words = words("tshark -r x -T fields -e h2.type -ehttp2.streamid");
        let fields = tshark_output(&words).map(|o| o.fields);
        assert_eq!(
            fields,
            Some(vec!["h2.type".to_string(), "http2.streamid".to_string()])
        );
    }

    #[test]
    fn other_programs_show_everything() {
        for line in ["wireshark -r x", "sharkd -"] {
            let words: Vec<String> = line.split(' ').map(str::to_string).collect();
            assert_eq!(tshark_output(&words), None);
        }
        assert_eq!(tshark_output(&[]), None);
    }
}
