/* Accessors for things that are macros or bitfields in the C headers, whose layout moves
 * between Wireshark versions. Compiling them with the installed headers keeps Rust away
 * from packet_info/frame_data offsets entirely. */
#ifndef ZKH2_SHIM_H
#define ZKH2_SHIM_H
#include <stdint.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/dissectors/packet-tcp.h>
#include <ws_version.h>

typedef struct zkh2_pref_bool zkh2_pref_bool;

/* The frame number, with whether this frame was dissected before (PINFO_FD_VISITED) in
 * *visited: both stay the same for a whole dissection. */
uint32_t zkh2_pinfo_num_visited(const packet_info *pinfo, int *visited);
/* The captured bytes of `tvb` from `offset` on, their number in *len (0 and NULL when
 * `offset` is past them). Never throws. */
const uint8_t *zkh2_tvb_captured_bytes(tvbuff_t *tvb, int offset, int *len);
wmem_allocator_t *zkh2_pinfo_pool(const packet_info *pinfo);
/* Absolute capture time of the frame, split into seconds and nanoseconds. */
void zkh2_pinfo_abs_ts(const packet_info *pinfo, int64_t *secs, int32_t *nsecs);
uint32_t zkh2_pinfo_srcport(const packet_info *pinfo);
uint32_t zkh2_pinfo_destport(const packet_info *pinfo);
uint32_t zkh2_pinfo_match_uint(const packet_info *pinfo);
/* Copies up to `max` bytes of the network-layer source (dst == 0) or destination address
 * into `out`; returns how many (0 when there is none). */
int zkh2_pinfo_net_addr(const packet_info *pinfo, int dst, uint8_t *out, int max);
/* Columns live behind pinfo->cinfo. */
void zkh2_col_set_protocol(packet_info *pinfo, const char *static_name);
void zkh2_col_clear_info(packet_info *pinfo);
void zkh2_col_append_info(packet_info *pinfo, const char *sep, const char *text);

/* 1 when the protocol is enabled (gboolean vs bool across versions). */
int zkh2_proto_is_enabled(int proto);

/* static inline in proto.h */
void zkh2_item_set_generated(proto_item *item);
void zkh2_item_set_hidden(proto_item *item);

/* Runs free_fn(ptr) when the capture file's wmem scope is torn down (file closed or
 * re-dissected). The wmem callback's return type is gboolean in 4.0 and bool in 4.4+,
 * which the C compiler sorts out here. */
void zkh2_free_with_file_scope(void (*free_fn)(void *), void *ptr);

/* Heuristic dissectors return gboolean (4.0) or bool (4.4+). Rust registers a plain
 * int-returning test; a C trampoline from a small fixed table adapts it. When the test
 * claims the data, the trampoline makes `handle` the conversation's dissector and calls it
 * on this tvb, in C, so that exceptions thrown below never unwind through Rust frames.
 * Returns 0 on success, -1 when the table is full. */
typedef int (*zkh2_heur_fn)(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data);
int zkh2_heur_dissector_add(const char *table, zkh2_heur_fn fn, dissector_handle_t handle,
                            const char *display_name, const char *internal_name, int proto,
                            int enabled);

/* A dissector handle whose C entry point runs tcp_dissect_pdus with Rust callbacks.
 * tcp_dissect_pdus may throw (longjmp) for truncated or malformed segments; keeping the
 * frame that calls it in C means no exception ever unwinds through a Rust frame of ours
 * on that path. `desegment` is read on every call, so a preference can point at it.
 * Returns NULL when the fixed table of slots is full. */
typedef unsigned (*zkh2_pdu_len_fn)(packet_info *pinfo, tvbuff_t *tvb, int offset, void *data);
/* The `data` that both callbacks receive: one per run of tcp_dissect_pdus (one call of the
 * handle), on the C stack. `data` is what the handle itself was called with (TCP's struct
 * tcpinfo); `state` and `pdu_count` are for the Rust side, which looks up the
 * conversation's state and the frame's PDU counter of `proto` once per run instead of once
 * per callback (both are the same for every PDU of the run). NULL until then. */
typedef struct zkh2_framed_call {
    void *data;
    int proto;
    void *state;
    void *pdu_count;
} zkh2_framed_call;
/* With a non-NULL name the handle is registered under it (register_dissector). */
dissector_handle_t zkh2_create_framed_handle(const char *name, int proto, unsigned fixed_len,
                                             zkh2_pdu_len_fn get_pdu_len,
                                             dissector_t dissect_pdu,
                                             const zkh2_pref_bool *desegment);

/* Like zkh2_create_framed_handle, for a handle reached by TLS ALPN or HTTP Upgrade: when
 * the user chose the built-in dissector `builtin_name` for a TLS port (Decode As
 * tls.port, which this makes possible), data on that port goes to it instead. */
dissector_handle_t zkh2_create_routed_handle(int proto, unsigned fixed_len,
                                            zkh2_pdu_len_fn get_pdu_len, dissector_t dissect_pdu,
                                            const zkh2_pref_bool *desegment,
                                            const char *builtin_name);

/* Boolean preferences are gboolean (int) in 4.0 and bool in 4.4+, so the storage is
 * allocated here, in the right C type, and read back through zkh2_pref_bool_value. */
zkh2_pref_bool *zkh2_prefs_register_bool(module_t *module, const char *name, const char *title,
                                         const char *description, int default_value);
int zkh2_pref_bool_value(const zkh2_pref_bool *pref);

/* ---- HTTP/2 (h2) ---- */
/* A new data source ("Decoded body", "Header block") holding a copy of `data`, as a child
 * of `parent`. `name` must be static. Never throws. */
tvbuff_t *zkh2_new_data_source(tvbuff_t *parent, packet_info *pinfo, const uint8_t *data,
                               unsigned len, const char *name);
/* Hands a body to the `media_type` table (JSON, XML, images, ...). Exceptions from the
 * sub-dissector are caught in C. Returns nonzero when a dissector took it. */
int zkh2_call_media_type(const char *media_type, const char *parameters, tvbuff_t *tvb,
                         packet_info *pinfo, proto_tree *tree);
/* Adds `ours` to a string table ("tls.alpn", "http.upgrade") and re-points the entry at
 * each capture's init: to `ours` while `proto` is enabled, else to the built-in handle named
 * `builtin_name`. `table` and `key` must be static. Returns -1 when the slots are full. */
/* The preference that keeps the switched entries at ours (when it is off, they point at the
 * built-in as when our protocol is disabled). */
void zkh2_switch_set_pref(const zkh2_pref_bool *take);
int zkh2_add_string_with_builtin_fallback(int proto, dissector_handle_t ours,
                                          const char *builtin_name, const char *table,
                                          const char *key);

/* ---- Another protocol's registrations, by name (h2's compatibility with http2) ---- */
/* proto_registrar_get_id_byname: -1 when no such field is registered. */
int zkh2_field_id(const char *abbrev);
/* proto_get_id_by_filter_name: -1 when no such protocol. */
int zkh2_proto_id(const char *filter_name);
/* The field's type (ftenum), or -1. */
int zkh2_field_type(int hf);
/* find_tap_id: -1 when no such tap. */
int zkh2_tap_id(const char *name);
/* have_tap_listener, as an int. */
int zkh2_tap_has_listener(int tap);
/* A handle that marks its protocol as a layer of the frame (pinfo->layers, frame.protocols)
 * when called through zkh2_call_layer, and does nothing else. */
dissector_handle_t zkh2_create_layer_handle(int proto);
/* Calls `handle` on `tvb` without a tree; its exceptions are caught here. */
void zkh2_call_layer(dissector_handle_t handle, tvbuff_t *tvb, packet_info *pinfo);
/* Tap records of two common shapes: a struct holding one octet (http2's HTTP2Tap { guint8
 * type; }), and a tvb with a 64-bit sub-stream id (the follow records of http2 and QUIC:
 * { tvbuff_t *tvb; guint64 stream_id; }). Allocated in the packet pool. */
void zkh2_tap_queue_byte(packet_info *pinfo, int tap, uint8_t value);
/* The tvb is `len` bytes at `offset` of `tvb` (no copy), or, when `data` is not NULL, a copy
 * of `data` in a new tvb that is a child of `tvb`. */
void zkh2_tap_queue_follow(packet_info *pinfo, int tap, tvbuff_t *tvb, int offset, int len,
                           const uint8_t *data, uint64_t stream_id);
/* Prepares zkh2_http2_announce_stream: finds the built-in "http2" handle and puts it in a
 * private table, so that it can be called without adding a layer. 0 when it exists. */
int zkh2_http2_announce_init(void);
/* Runs the built-in http2 dissector on a 9-octet BLOCKED frame header of stream `stream_id`,
 * with no tree and no columns: the built-in then records the stream for Follow HTTP/2
 * Stream (its stream list and its "current stream"), which the GUI reads from its own
 * state. Exceptions are caught here. */
void zkh2_http2_announce_stream(tvbuff_t *tvb, packet_info *pinfo, uint32_t stream_id);
/* http_add_path_components_to_tree over a copy of `path` (HTTP's path segment fields). */
void zkh2_http_path_components(packet_info *pinfo, proto_item *item, tvbuff_t *parent,
                               const uint8_t *path, unsigned len);
/* Hands `tvb` to the string table `table` under `key`, with `data` (a string, for the
 * grpc_message_type table), on `tree`. Exceptions are caught here. Nonzero when taken. */
int zkh2_call_string_table(const char *table, const char *key, tvbuff_t *tvb, packet_info *pinfo,
                           proto_tree *tree, void *data);
/* Another protocol's boolean preference, looked up once; read its current value with
 * zkh2_pref_bool_current. NULL when it does not exist. */
void *zkh2_find_bool_pref(const char *module, const char *name);
int zkh2_pref_bool_current(void *pref, int fallback);
/* col_append_str on the Info column without a separator, and col_set_fence on Protocol. */
void zkh2_col_append_info_raw(packet_info *pinfo, const char *text);
/* find_or_create_conversation (in *conv) and the data `proto` attached to it, remembered per
 * TCP connection across frames while epan would answer the same (see shim.c); and the way
 * to forget them when the file scope ends. */
void *zkh2_conversation_data(packet_info *pinfo, int proto, conversation_t **conv);
void zkh2_conversation_cache_clear(void);
/* Whether this dissection fills columns at all (tshark -q and -V pass none). */
int zkh2_has_columns(packet_info *pinfo);
void zkh2_col_set_fence_protocol(packet_info *pinfo);
/* Calls the dissector registered as `name` on `tvb` (exceptions caught). */
int zkh2_call_named_dissector(const char *name, tvbuff_t *tvb, packet_info *pinfo,
                              proto_tree *tree);
/* ---- User tables (UATs) ---- */
/* A UAT of up to 8 string columns, owned by the plugin and shown under `module`'s
 * preferences as `pref_name`. The strings must be static. `post_update` runs whenever the
 * table is loaded or changed (before display filters are compiled). NULL on failure. */
void *zkh2_uat_new(module_t *module, const char *pref_name, const char *pref_title,
                   const char *uat_name, const char *filename, const char *help,
                   unsigned flags, int ncols, const char *const *col_names,
                   const char *const *col_titles, const char *const *col_descs,
                   void (*post_update)(void));
/* The valid rows of the UAT named `uat_name` (any UAT, also another protocol's), and one
 * cell by column name as a string (g_free it with zkh2_free), or NULL. */
int zkh2_uat_rows(const char *uat_name);
char *zkh2_uat_cell(const char *uat_name, int row, const char *column);
void zkh2_free(void *p);
/* Replaces the fields that this function registered for `proto` before with `n` new ones:
 * kind 0 is a string, 1 an unsigned 64-bit number. Their ids go to `ids`. The strings are
 * copied. */
void zkh2_dynamic_fields(int proto, int n, const char *const *abbrevs, const char *const *names,
                         const char *const *blurbs, const int *kinds, int *ids);
/* register_init_routine. */
void zkh2_register_init(void (*fn)(void));
/* 1 when `value` is in the range preference string `ranges` ("50051,60051-60054"). */
int zkh2_value_in_range_str(const char *ranges, uint32_t value);
/* 1 when the string table `table` has a handle for `key`. */
int zkh2_string_table_has(const char *table, const char *key);
/* proto_tree_add_bytes_with_length: a byte field whose value is `data` (any length), shown
 * over `len` bytes at `start` of `tvb`. */
proto_item *zkh2_tree_add_bytes_value(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int len,
                                      const uint8_t *data, int data_len);
/* proto_tree_add_uint_format_value-free variant of a framenum/uint item with a label. */
proto_item *zkh2_tree_add_uint_text(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int len,
                                    uint32_t value, const char *text);

/* ---- TCP facts: where a PDU starts in its side's byte stream ---- */
#define ZKH2_START_UNKNOWN 0     /* not carried by TCP: nothing known */
#define ZKH2_START_AT 1          /* directly on TCP, this side's SYN captured: *pos set */
#define ZKH2_START_NO_SYN 2      /* this side's SYN not captured */
#define ZKH2_START_CARRIED 3     /* carried by another protocol over TCP (TLS, HTTP after an
                                  * Upgrade) on a side whose SYN was captured */
#define ZKH2_START_UNAVAILABLE 4 /* directly on TCP, but TCP's facts could not be read */
/* For the byte at `offset` of the tvb handed to the dissector `self_proto` with `data`:
 * whether this side's SYN was captured and, directly on TCP, how many bytes after the
 * side's first payload byte it lies (*pos). Reads TCP's conversation data and preferences;
 * creates nothing, never throws. */
int zkh2_tcp_stream_start(packet_info *pinfo, const void *data, int offset, int self_proto,
                          uint32_t *pos);
/* In a framed dissector's PDU-length callback: 1 when returning 0 makes tcp_dissect_pdus
 * ask for one more segment (reassembly allowed by the protocol's preference and by TCP). */
int zkh2_framed_can_ask_more(const packet_info *pinfo);
/* ---- What a visible tree's output will show ---- */
int zkh2_field_is_primed(int hf);
/* Whether any of the `n` fields in `ids` other than `except` is primed (see above). */
int zkh2_any_field_primed(const int *ids, int n, int except);
/* Whether expert infos are being collected: a tap listens to "expert", or a filter,
 * column or colouring rule names _ws.expert or one of its fields. */
int zkh2_experts_wanted(void);
int zkh2_tree_is_visible(proto_tree *tree);
int zkh2_tree_fakes(proto_tree *tree, int hf, int even_if_visible);
int zkh2_field_ids_by_name(const char *name, int *out, int max, int *labelled);
int zkh2_tree_keeps_protocols(proto_tree *tree);
int zkh2_display_hidden_items(void);
#endif
