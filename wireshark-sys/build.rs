//! Generates bindings over the *installed* Wireshark headers.
//!
//! Wireshark changes struct layouts and signatures between minor versions (see
//! shared/docs/wireshark-plugins.md §2.6), and a plugin only loads into the exact
//! major.minor it was built for. So nothing here is pre-generated: bindgen runs over the
//! headers that `pkg-config wireshark` finds, and the version found is passed on to the
//! plugin crate as `DEP_WIRESHARK_VERSION_MAJOR/MINOR/MICRO` (this crate `links = "wireshark"`).
//! Point `PKG_CONFIG_PATH` at another installation to build for it.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=shim.h");
    println!("cargo:rerun-if-changed=shim.c");
    println!("cargo:rerun-if-changed=stats.h");
    println!("cargo:rerun-if-changed=stats.c");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    // No link flags: the plugin's undefined epan symbols resolve against the libwireshark
    // that the host process has already loaded.
    let ws = pkg_config::Config::new()
        .cargo_metadata(false)
        .probe("wireshark")
        .expect("pkg-config could not find wireshark: install libwireshark-dev and libglib2.0-dev");

    let (major, minor, micro) = parse_version(&ws.version);
    println!("cargo:version_major={major}");
    println!("cargo:version_minor={minor}");
    println!("cargo:version_micro={micro}");
    let plugindir = pkg_config::get_variable("wireshark", "plugindir").unwrap_or_default();
    println!("cargo:plugindir={plugindir}");

    let mut shim = cc::Build::new();
    shim.file("shim.c").file("stats.c").warnings(true);
    for inc in &ws.include_paths {
        shim.include(inc);
    }
    shim.compile("zkh2_shim");

    let mut builder = bindgen::Builder::default()
        .header("wrapper.h")
        .clang_arg("-I.")
        .allowlist_function(
            "proto_(register|tree_add|item|plugin|find|get_id|is_protocol_enabled|tree_get).*|\
             tvb_(captured_length|reported_length|memcpy|get_ptr|new_subset|new_child_real_data|set_free_cb|new_real_data).*|\
             add_new_data_source|\
             col_(set_str|add_str|append_str|clear|set_fence|append_sep_str|prepend_fence_fstr|add_lstr).*|\
             expert_(register|add_info|update_field_count).*|\
             prefs_register_(protocol|uint|bool|range)_preference|prefs_register_protocol|\
             range_(convert_range|copy|empty|contains).*|value_in_range|\
             conversation_(get_proto_data|add_proto_data|new|set_dissector).*|\
             find_conversation_pinfo|find_or_create_conversation|\
             p_(add|get)_proto_data|\
             wmem_(file_scope|packet_scope|alloc|free|strdup).*|\
             create_dissector_handle.*|register_dissector.*|find_dissector.*|\
             dissector_(add|delete|try|handle_get).*|heur_dissector_add|\
             call_dissector.*|call_data_dissector|\
             tcp_dissect_pdus|value_is_in_range|ssl_dissector_add|\
             register_tap|tap_queue_packet|have_tap_listener|\
             zkh2_.*",
        )
        .allowlist_var(
            "WIRESHARK_VERSION_(MAJOR|MINOR|MICRO)|ENC_.*|DESEGMENT_.*|COL_.*|PI_.*|\
             BASE_.*|FT_.*|WS_PLUGIN_DESC_.*|HFILL_.*|ZKH2_START_.*",
        )
        .allowlist_type("zkh2_framed_call|val64_string|_val64_string|ft_framenum_type|ftenum|field_display_e|hf_register_info|ei_register_info|proto_plugin|heur_dissector_t|dissector_t|heuristic_enable_e|hf_ref_type|value_string|true_false_string|range_string|nstime_t")
        .opaque_type("_packet_info|frame_data|tvbuff|_proto_node|_GHashTable|_GSList|_GList|_GPtrArray|_GArray|address|_wmem_allocator_t|conversation|_column_info|epan_range|range_admin_t")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(true)
        .layout_tests(false)
        .generate_comments(false)
        .derive_default(true)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for inc in &ws.include_paths {
        builder = builder.clang_arg(format!("-I{}", inc.display()));
    }
    let bindings = builder
        .generate()
        .expect("bindgen failed on the Wireshark headers");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    bindings
        .write_to_file(out.join("bindings.rs"))
        .expect("could not write bindings.rs");
}

fn parse_version(v: &str) -> (u32, u32, u32) {
    let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
    )
}
