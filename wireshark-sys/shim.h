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

int zkh2_pinfo_visited(const packet_info *pinfo);
uint32_t zkh2_pinfo_num(const packet_info *pinfo);
wmem_allocator_t *zkh2_pinfo_pool(const packet_info *pinfo);
/* Absolute capture time of the frame, split into seconds and nanoseconds. */
void zkh2_pinfo_abs_ts(const packet_info *pinfo, int64_t *secs, int32_t *nsecs);
uint32_t zkh2_pinfo_srcport(const packet_info *pinfo);
uint32_t zkh2_pinfo_destport(const packet_info *pinfo);
uint32_t zkh2_pinfo_match_uint(const packet_info *pinfo);
/* TCP desegmentation requests, for dissectors that frame PDUs themselves. */
void zkh2_pinfo_set_desegment(packet_info *pinfo, int offset, uint32_t len);
/* Columns live behind pinfo->cinfo. */
void zkh2_col_set_protocol(packet_info *pinfo, const char *static_name);
void zkh2_col_clear_info(packet_info *pinfo);
void zkh2_col_append_info(packet_info *pinfo, const char *sep, const char *text);
void zkh2_col_set_fence_info(packet_info *pinfo);

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
/* With a non-NULL name the handle is registered under it (register_dissector). */
dissector_handle_t zkh2_create_framed_handle(const char *name, int proto, unsigned fixed_len,
                                             zkh2_pdu_len_fn get_pdu_len,
                                             dissector_t dissect_pdu,
                                             const zkh2_pref_bool *desegment);

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
int zkh2_add_string_with_builtin_fallback(int proto, dissector_handle_t ours,
                                          const char *builtin_name, const char *table,
                                          const char *key);

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
#endif
