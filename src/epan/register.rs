//! Registration with epan: protocols, fields, subtrees, expert infos, preferences,
//! dissector handles and heuristics. Everything Wireshark keeps a pointer to is leaked
//! once here, at startup, so that it lives as long as the process.

use std::ffi::{CStr, c_int, c_void};
use std::ptr;
use std::sync::OnceLock;

use wireshark_sys as sys;

use super::tables::{
    Display, ExpertTable, FieldSpec, FieldTable, FieldType, FrameNumKind, Group, Severity, Strings,
    SubtreeTable,
};

/// A registered protocol (its `proto_register_protocol` id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocol(pub(crate) c_int);

impl Protocol {
    pub fn id(self) -> c_int {
        self.0
    }
    /// Whether the user left this protocol enabled (`--disable-protocol` turns it off).
    pub fn is_enabled(self) -> bool {
        // SAFETY: a valid protocol id from proto_register_protocol.
        unsafe { sys::zkh2_proto_is_enabled(self.0) != 0 }
    }
}

/// `proto_register_protocol(name, short_name, filter_name)`. Called from
/// `register_protoinfo` only.
pub fn register_protocol(
    name: &'static CStr,
    short: &'static CStr,
    filter: &'static CStr,
) -> Protocol {
    // SAFETY: 'static NUL-terminated strings, as Wireshark keeps the pointers.
    Protocol(unsafe {
        sys::proto_register_protocol(name.as_ptr(), short.as_ptr(), filter.as_ptr())
    })
}

/// The one registration path of every protocol module: the protocol with its names, its
/// field, subtree and expert tables, and its preference module (for the protocol's own
/// preferences). Called from `register_protoinfo` only.
pub fn register_protocol_with_tables<F: FieldTable, T: SubtreeTable, E: ExpertTable>(
    name: &'static CStr,
    short: &'static CStr,
    filter: &'static CStr,
) -> (Protocol, Prefs) {
    let proto = register_protocol(name, short, filter);
    register_fields::<F>(proto);
    register_subtrees::<T>();
    register_experts::<E>(proto);
    (proto, Prefs::register(proto))
}

/// What a protocol's registration left for dissection time: its id, its own settings (its
/// preferences, a struct of the protocol module's), and the handle made at hand-off.
pub struct Registered<S> {
    pub proto: Protocol,
    pub settings: S,
    pub handle: OnceLock<Handle>,
}

/// Where a protocol module keeps its [`Registered`]: a `static`, set once at start-up.
pub struct Registration<S>(OnceLock<Registered<S>>);

impl<S> Registration<S> {
    pub const fn new() -> Self {
        Registration(OnceLock::new())
    }

    /// Records the registration (the first call wins; there is only one).
    pub fn set(&self, proto: Protocol, settings: S) {
        let _ = self.0.set(Registered {
            proto,
            settings,
            handle: OnceLock::new(),
        });
    }

    pub fn get(&self) -> Option<&Registered<S>> {
        self.0.get()
    }

    /// The protocol's id; -1 before registration, which epan takes for "no protocol".
    pub fn proto(&self) -> Protocol {
        self.get().map_or(Protocol(-1), |r| r.proto)
    }

    /// Records the handle made at hand-off.
    pub fn set_handle(&self, handle: Handle) {
        if let Some(r) = self.get() {
            let _ = r.handle.set(handle);
        }
    }
}

impl<S> Default for Registration<S> {
    fn default() -> Self {
        Self::new()
    }
}

fn ftenum(kind: FieldType) -> sys::ftenum {
    match kind {
        FieldType::None => sys::ftenum_FT_NONE,
        FieldType::Protocol => sys::ftenum_FT_PROTOCOL,
        FieldType::Bool => sys::ftenum_FT_BOOLEAN,
        FieldType::U8 => sys::ftenum_FT_UINT8,
        FieldType::U16 => sys::ftenum_FT_UINT16,
        FieldType::U32 => sys::ftenum_FT_UINT32,
        FieldType::U64 => sys::ftenum_FT_UINT64,
        FieldType::I32 => sys::ftenum_FT_INT32,
        FieldType::I64 => sys::ftenum_FT_INT64,
        FieldType::String => sys::ftenum_FT_STRING,
        FieldType::CountedString => sys::ftenum_FT_UINT_STRING,
        FieldType::Bytes => sys::ftenum_FT_BYTES,
        FieldType::CountedBytes => sys::ftenum_FT_UINT_BYTES,
        FieldType::FrameNum(_) => sys::ftenum_FT_FRAMENUM,
        FieldType::RelTime => sys::ftenum_FT_RELATIVE_TIME,
        FieldType::AbsTime => sys::ftenum_FT_ABSOLUTE_TIME,
    }
}

fn display(d: Display) -> c_int {
    (match d {
        Display::None => sys::field_display_e_BASE_NONE,
        Display::Dec => sys::field_display_e_BASE_DEC,
        Display::Hex => sys::field_display_e_BASE_HEX,
        Display::DecHex => sys::field_display_e_BASE_DEC_HEX,
        Display::HexDec => sys::field_display_e_BASE_HEX_DEC,
        Display::Local => sys::field_display_e_ABSOLUTE_TIME_LOCAL,
        Display::Utc => sys::field_display_e_ABSOLUTE_TIME_UTC,
        Display::Bits(bits) => return bits as c_int,
    }) as c_int
}

/// Builds the C `strings` pointer of a field. Leaked: Wireshark keeps it.
fn strings_ptr(spec: &FieldSpec) -> (*const c_void, c_int) {
    match spec.strings {
        Strings::None => match spec.kind {
            FieldType::FrameNum(kind) => {
                let t = match kind {
                    FrameNumKind::None => sys::ft_framenum_type_FT_FRAMENUM_NONE,
                    FrameNumKind::Request => sys::ft_framenum_type_FT_FRAMENUM_REQUEST,
                    FrameNumKind::Response => sys::ft_framenum_type_FT_FRAMENUM_RESPONSE,
                };
                // FRAMENUM_TYPE(x) is GINT_TO_POINTER(x).
                (t as usize as *const c_void, 0)
            }
            _ => (ptr::null(), 0),
        },
        Strings::Values(values) => {
            let mut v: Vec<sys::value_string> = values
                .iter()
                .map(|(value, name)| sys::value_string {
                    value: *value,
                    strptr: name.as_ptr(),
                })
                .collect();
            v.push(sys::value_string {
                value: 0,
                strptr: ptr::null(),
            });
            (Box::leak(v.into_boxed_slice()).as_ptr() as *const c_void, 0)
        }
        Strings::Values64(values) => {
            let mut v: Vec<sys::val64_string> = values
                .iter()
                .map(|(value, name)| sys::val64_string {
                    value: *value,
                    strptr: name.as_ptr(),
                })
                .collect();
            v.push(sys::val64_string {
                value: 0,
                strptr: ptr::null(),
            });
            (
                Box::leak(v.into_boxed_slice()).as_ptr() as *const c_void,
                sys::BASE_VAL64_STRING as c_int,
            )
        }
        Strings::TrueFalse(t, f) => {
            let tfs = Box::leak(Box::new(sys::true_false_string {
                true_string: t.as_ptr(),
                false_string: f.as_ptr(),
            }));
            (tfs as *const sys::true_false_string as *const c_void, 0)
        }
    }
}

/// Registers every field of table `F` under `proto`.
pub fn register_fields<F: FieldTable>(proto: Protocol) {
    let hf: Vec<sys::hf_register_info> = F::ALL
        .iter()
        .map(|f| {
            let spec = f.spec();
            let (strings, extra_display) = strings_ptr(&spec);
            sys::hf_register_info {
                p_id: f.id_cell().as_ptr(),
                hfinfo: sys::header_field_info {
                    name: spec.name.as_ptr(),
                    abbrev: spec.abbrev.as_ptr(),
                    type_: ftenum(spec.kind),
                    display: display(spec.display) | extra_display,
                    strings,
                    bitmask: spec.mask,
                    blurb: spec.blurb.as_ptr(),
                    id: -1,
                    parent: 0,
                    ref_type: sys::hf_ref_type_HF_REF_TYPE_NONE,
                    same_name_prev_id: -1,
                    same_name_next: ptr::null_mut(),
                },
            }
        })
        .collect();
    let hf = Box::leak(hf.into_boxed_slice());
    // SAFETY: the array and every pointer in it are leaked ('static), as required.
    unsafe { sys::proto_register_field_array(proto.0, hf.as_mut_ptr(), hf.len() as c_int) };
}

/// Registers every subtree of table `T`.
pub fn register_subtrees<T: SubtreeTable>() {
    let mut ptrs: Vec<*mut c_int> = T::ALL.iter().map(|t| t.id_cell().as_ptr()).collect();
    // SAFETY: proto_register_subtree_array only writes through the pointers, which point
    // at 'static atomics initialised to -1.
    unsafe { sys::proto_register_subtree_array(ptrs.as_mut_ptr(), ptrs.len() as c_int) };
}

fn group(g: Group) -> c_int {
    (match g {
        Group::Checksum => sys::PI_CHECKSUM,
        Group::Sequence => sys::PI_SEQUENCE,
        Group::ResponseCode => sys::PI_RESPONSE_CODE,
        Group::RequestCode => sys::PI_REQUEST_CODE,
        Group::Undecoded => sys::PI_UNDECODED,
        Group::Reassemble => sys::PI_REASSEMBLE,
        Group::Malformed => sys::PI_MALFORMED,
        Group::Debug => sys::PI_DEBUG,
        Group::Protocol => sys::PI_PROTOCOL,
        Group::Security => sys::PI_SECURITY,
        Group::Comments => sys::PI_COMMENTS_GROUP,
        Group::Decryption => sys::PI_DECRYPTION,
        Group::Assumption => sys::PI_ASSUMPTION,
        Group::Deprecated => sys::PI_DEPRECATED,
    }) as c_int
}

fn severity(s: Severity) -> c_int {
    (match s {
        Severity::Comment => sys::PI_COMMENT,
        Severity::Chat => sys::PI_CHAT,
        Severity::Note => sys::PI_NOTE,
        Severity::Warn => sys::PI_WARN,
        Severity::Error => sys::PI_ERROR,
    }) as c_int
}

/// Registers every expert info of table `E` under `proto`.
pub fn register_experts<E: ExpertTable>(proto: Protocol) {
    let ei: Vec<sys::ei_register_info> = E::ALL
        .iter()
        .map(|e| {
            let spec = e.spec();
            let mut info = sys::ei_register_info {
                // `expert_field` is {int ei; int hf}: two adjacent ints, like the cells.
                ids: e.cells().as_ptr() as *mut sys::expert_field,
                ..Default::default()
            };
            info.eiinfo.name = spec.abbrev.as_ptr();
            info.eiinfo.group = group(spec.group);
            info.eiinfo.severity = severity(spec.severity);
            info.eiinfo.summary = spec.summary.as_ptr();
            info.eiinfo.id = 0;
            info.eiinfo.protocol = ptr::null();
            info.eiinfo.orig_severity = 0;
            // EXPFILL: hf_info = {-1, {NULL, NULL, FT_NONE, BASE_NONE, NULL, 0, NULL, HFILL}}
            info.eiinfo.hf_info.p_id = ptr::null_mut();
            info.eiinfo.hf_info.hfinfo.id = -1;
            info.eiinfo.hf_info.hfinfo.same_name_prev_id = -1;
            // epan fills in name and abbrev; the summary doubles as the filter field's
            // description, so that `tshark -G fields` documents it.
            info.eiinfo.hf_info.hfinfo.blurb = spec.summary.as_ptr();
            info
        })
        .collect();
    let ei = Box::leak(ei.into_boxed_slice());
    // SAFETY: leaked array; expert_register_protocol returns a module owned by epan.
    unsafe {
        let module = sys::expert_register_protocol(proto.0);
        sys::expert_register_field_array(module, ei.as_mut_ptr(), ei.len() as c_int);
    }
}

/// A protocol's preferences module.
pub struct Prefs(*mut sys::module_t);

/// An unsigned integer preference, readable at dissection time.
#[derive(Clone, Copy)]
pub struct UintPref(&'static std::sync::atomic::AtomicU32);

impl UintPref {
    pub fn get(self) -> u32 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A boolean preference, readable at dissection time.
#[derive(Clone, Copy)]
pub struct BoolPref(*const sys::zkh2_pref_bool);
// SAFETY: the storage is leaked and only written by the preferences code on the main thread.
unsafe impl Send for BoolPref {}
unsafe impl Sync for BoolPref {}

impl BoolPref {
    pub fn get(self) -> bool {
        // SAFETY: a pointer returned by zkh2_prefs_register_bool, never freed.
        unsafe { sys::zkh2_pref_bool_value(self.0) != 0 }
    }
}

impl Prefs {
    pub fn register(proto: Protocol) -> Prefs {
        // SAFETY: valid protocol id; no apply callback.
        Prefs(unsafe { sys::prefs_register_protocol(proto.0, None) })
    }

    pub(crate) fn raw(&self) -> *mut sys::module_t {
        self.0
    }

    pub fn uint(
        &self,
        name: &'static CStr,
        title: &'static CStr,
        description: &'static CStr,
        default: u32,
    ) -> UintPref {
        let cell: &'static std::sync::atomic::AtomicU32 =
            Box::leak(Box::new(std::sync::atomic::AtomicU32::new(default)));
        // SAFETY: AtomicU32 has the layout of guint; the cell is leaked.
        unsafe {
            sys::prefs_register_uint_preference(
                self.0,
                name.as_ptr(),
                title.as_ptr(),
                description.as_ptr(),
                10,
                cell.as_ptr(),
            )
        };
        UintPref(cell)
    }

    pub fn bool(
        &self,
        name: &'static CStr,
        title: &'static CStr,
        description: &'static CStr,
        default: bool,
    ) -> BoolPref {
        // SAFETY: static strings; the storage is allocated (and kept) by the shim.
        BoolPref(unsafe {
            sys::zkh2_prefs_register_bool(
                self.0,
                name.as_ptr(),
                title.as_ptr(),
                description.as_ptr(),
                default as c_int,
            )
        })
    }
}

/// A dissector handle.
#[derive(Clone, Copy, Debug)]
pub struct Handle(pub(crate) sys::dissector_handle_t);
// SAFETY: handles are created once at registration and are immutable afterwards.
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

impl Handle {
    /// Adds the handle to `table` ("tcp.port") for the ports in `ports` ("2181"), as a range
    /// preference of the protocol, which also makes it available in Decode As.
    pub fn add_uint_range_with_preference(self, table: &'static CStr, ports: &'static CStr) {
        // SAFETY: static strings, a valid handle.
        unsafe {
            sys::dissector_add_uint_range_with_preference(table.as_ptr(), ports.as_ptr(), self.0)
        }
    }

    /// Adds the handle to a string-keyed table ("tls.alpn", "http.upgrade") that Decode As
    /// cannot reach. While `proto` is disabled, the entry points at the built-in dissector
    /// named `builtin` instead (re-checked whenever a capture is dissected anew), so that
    /// disabling our protocol gives back what Wireshark shows without the plugin.
    pub fn add_string_with_builtin_fallback(
        self,
        proto: Protocol,
        builtin: &'static CStr,
        table: &'static CStr,
        key: &'static CStr,
    ) {
        // SAFETY: static strings and a valid handle; the shim keeps the pointers.
        let rc = unsafe {
            sys::zkh2_add_string_with_builtin_fallback(
                proto.0,
                self.0,
                builtin.as_ptr(),
                table.as_ptr(),
                key.as_ptr(),
            )
        };
        debug_assert_eq!(rc, 0, "string table switch slots are full");
    }

    /// While `pref` is off, the entries made by `add_string_with_builtin_fallback` point at
    /// the built-in dissector, as while our protocol is disabled.
    pub fn builtin_fallback_unless(pref: BoolPref) {
        // SAFETY: the preference storage lives for the life of the process.
        unsafe { sys::zkh2_switch_set_pref(pref.raw()) }
    }

    /// Claims TCP `port` for TLS, and the data TLS decrypts there for this handle (as
    /// Wireshark's own LDAPS or IMAPS do). Decrypting needs the session keys (a key log).
    pub fn add_tls_port(self, port: u32) {
        // SAFETY: a valid handle; TLS keeps it in its port table.
        unsafe { sys::ssl_dissector_add(port, self.0) }
    }

    /// Offers the handle in Decode As for `table` without claiming any value.
    pub fn add_for_decode_as(self, table: &'static CStr) {
        // SAFETY: as above.
        unsafe { sys::dissector_add_for_decode_as(table.as_ptr(), self.0) }
    }
}

/// A heuristic test: true when the protocol claims the data.
pub type HeurFn = unsafe extern "C" fn(
    *mut sys::tvbuff_t,
    *mut sys::packet_info,
    *mut sys::proto_tree,
    *mut c_void,
) -> c_int;

/// Registers a heuristic on `table` ("tcp"). When `test` claims a packet, `handle` becomes
/// the conversation's dissector and dissects it (see the C shim).
pub fn add_heuristic(
    table: &'static CStr,
    test: HeurFn,
    handle: Handle,
    display: &'static CStr,
    internal: &'static CStr,
    proto: Protocol,
    enabled: bool,
) {
    // SAFETY: static strings; the C shim adapts the return type per Wireshark version.
    let rc = unsafe {
        sys::zkh2_heur_dissector_add(
            table.as_ptr(),
            Some(test),
            handle.0,
            display.as_ptr(),
            internal.as_ptr(),
            proto.0,
            enabled as c_int,
        )
    };
    debug_assert_eq!(rc, 0, "heuristic trampoline table is full");
}

impl BoolPref {
    pub(crate) fn raw(self) -> *const sys::zkh2_pref_bool {
        self.0
    }
}
