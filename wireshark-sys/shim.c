#include "shim.h"
#include <string.h>
#include <epan/column-utils.h>
#include <epan/conversation.h>

uint32_t zkh2_pinfo_num_visited(const packet_info *pinfo, int *visited)
{
    *visited = PINFO_FD_VISITED(pinfo) ? 1 : 0;
    return pinfo->num;
}

const uint8_t *zkh2_tvb_captured_bytes(tvbuff_t *tvb, int offset, int *len)
{
    /* tvb_captured_length never throws; tvb_get_ptr over exactly the captured bytes
     * never throws either, and returns memory that lives as long as the tvb. */
    int n = (int)tvb_captured_length(tvb);
    *len = 0;
    if (offset < 0 || offset >= n)
        return NULL;
    *len = n - offset;
    return tvb_get_ptr(tvb, offset, n - offset);
}
wmem_allocator_t *zkh2_pinfo_pool(const packet_info *pinfo) { return pinfo->pool; }
void zkh2_pinfo_abs_ts(const packet_info *pinfo, int64_t *secs, int32_t *nsecs)
{
    *secs = (int64_t)pinfo->abs_ts.secs;
    *nsecs = (int32_t)pinfo->abs_ts.nsecs;
}
uint32_t zkh2_pinfo_srcport(const packet_info *pinfo) { return pinfo->srcport; }
uint32_t zkh2_pinfo_destport(const packet_info *pinfo) { return pinfo->destport; }
uint32_t zkh2_pinfo_match_uint(const packet_info *pinfo) { return pinfo->match_uint; }
int zkh2_pinfo_net_addr(const packet_info *pinfo, int dst, uint8_t *out, int max)
{
    const address *a = dst ? &pinfo->net_dst : &pinfo->net_src;
    if (a->data == NULL || a->len <= 0)
        return 0;
    int n = a->len < max ? a->len : max;
    memcpy(out, a->data, (size_t)n);
    return n;
}

void zkh2_col_set_protocol(packet_info *pinfo, const char *static_name)
{
    col_set_str(pinfo->cinfo, COL_PROTOCOL, static_name);
}
void zkh2_col_clear_info(packet_info *pinfo) { col_clear(pinfo->cinfo, COL_INFO); }
void zkh2_col_append_info(packet_info *pinfo, const char *sep, const char *text)
{
    col_append_sep_str(pinfo->cinfo, COL_INFO, sep, text);
}

int zkh2_proto_is_enabled(int proto)
{
    return proto_is_protocol_enabled(find_protocol_by_id(proto)) ? 1 : 0;
}

void zkh2_item_set_generated(proto_item *item) { proto_item_set_generated(item); }
void zkh2_item_set_hidden(proto_item *item) { proto_item_set_hidden(item); }

struct zkh2_deferred_free {
    void (*free_fn)(void *);
    void *ptr;
};

static
#if WIRESHARK_VERSION_MAJOR > 4 || (WIRESHARK_VERSION_MAJOR == 4 && WIRESHARK_VERSION_MINOR >= 2)
bool
#else
gboolean
#endif
zkh2_deferred_free_cb(wmem_allocator_t *allocator, wmem_cb_event_t event, void *user_data)
{
    (void)allocator;
    (void)event;
    struct zkh2_deferred_free *d = (struct zkh2_deferred_free *)user_data;
    d->free_fn(d->ptr);
    g_free(d);
    return 0; /* run once */
}

void zkh2_free_with_file_scope(void (*free_fn)(void *), void *ptr)
{
    struct zkh2_deferred_free *d = g_new(struct zkh2_deferred_free, 1);
    d->free_fn = free_fn;
    d->ptr = ptr;
    wmem_register_callback(wmem_file_scope(), zkh2_deferred_free_cb, d);
}

#define ZKH2_HEUR_SLOTS 8
static struct {
    zkh2_heur_fn test;
    dissector_handle_t handle;
} zkh2_heur_slots[ZKH2_HEUR_SLOTS];

static int zkh2_heur_run(int i, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    if (!zkh2_heur_slots[i].test(tvb, pinfo, tree, data))
        return 0;
    conversation_set_dissector(find_or_create_conversation(pinfo), zkh2_heur_slots[i].handle);
    /* Each call_dissector level takes one from can_desegment; undo the heuristic's own level
     * so the claimed dissector can ask for reassembly as it could when called directly. */
    pinfo->can_desegment = pinfo->saved_can_desegment;
    call_dissector_only(zkh2_heur_slots[i].handle, tvb, pinfo, tree, data);
    return 1;
}
#define ZKH2_HEUR_TRAMPOLINE(i)                                                              \
    static                                                                                   \
    ZKH2_HEUR_RET zkh2_heur_trampoline_##i(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, \
                                           void *data)                                       \
    {                                                                                        \
        return zkh2_heur_run(i, tvb, pinfo, tree, data) != 0;                                \
    }
#if WIRESHARK_VERSION_MAJOR > 4 || (WIRESHARK_VERSION_MAJOR == 4 && WIRESHARK_VERSION_MINOR >= 2)
#define ZKH2_HEUR_RET bool
#else
#define ZKH2_HEUR_RET gboolean
#endif
/* ZKH2_EACH_SLOT(M): M(0) ... M(7), one for each of the 8 slots of a trampoline table. */
#define ZKH2_EACH_SLOT(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
ZKH2_EACH_SLOT(ZKH2_HEUR_TRAMPOLINE)
#define ZKH2_HEUR_TRAMPOLINE_NAME(i) zkh2_heur_trampoline_##i,
static heur_dissector_t zkh2_heur_trampolines[ZKH2_HEUR_SLOTS] = {
    ZKH2_EACH_SLOT(ZKH2_HEUR_TRAMPOLINE_NAME)
};

int zkh2_heur_dissector_add(const char *table, zkh2_heur_fn fn, dissector_handle_t handle,
                            const char *display_name, const char *internal_name, int proto,
                            int enabled)
{
    for (int i = 0; i < ZKH2_HEUR_SLOTS; i++) {
        if (zkh2_heur_slots[i].test == NULL) {
            zkh2_heur_slots[i].test = fn;
            zkh2_heur_slots[i].handle = handle;
            heur_dissector_add(table, zkh2_heur_trampolines[i], display_name, internal_name,
                               proto, enabled ? HEURISTIC_ENABLE : HEURISTIC_DISABLE);
            return 0;
        }
    }
    return -1;
}

#if WIRESHARK_VERSION_MAJOR > 4 || (WIRESHARK_VERSION_MAJOR == 4 && WIRESHARK_VERSION_MINOR >= 2)
typedef bool zkh2_c_bool;
#else
typedef gboolean zkh2_c_bool;
#endif
struct zkh2_pref_bool {
    zkh2_c_bool value;
};

#define ZKH2_FRAMED_SLOTS 8
struct zkh2_framed {
    int proto;
    unsigned fixed_len;
    zkh2_pdu_len_fn get_pdu_len;
    dissector_t dissect_pdu;
    const zkh2_pref_bool *desegment;
    /* A handle reached by TLS ALPN: when the user chose `builtin` for this TLS port (Decode
     * As, table "tls.port"), hand the data to it instead. */
    dissector_handle_t builtin;
};

/* The handle that the user's Decode As put in "tls.port" for either port, if any. */
static dissector_handle_t zkh2_tls_port_choice(packet_info *pinfo)
{
    static dissector_table_t tls_port = NULL;
    if (tls_port == NULL)
        tls_port = find_dissector_table("tls.port");
    if (tls_port == NULL)
        return NULL;
    dissector_handle_t h = dissector_get_uint_handle(tls_port, pinfo->srcport);
    if (h == NULL)
        h = dissector_get_uint_handle(tls_port, pinfo->destport);
    return h;
}
static struct zkh2_framed zkh2_framed_slots[ZKH2_FRAMED_SLOTS];
static int zkh2_framed_used;

/* The framed dissector running now (innermost), for zkh2_framed_can_ask_more. */
static const struct zkh2_framed *zkh2_framed_current;
static void zkh2_framed_run(const struct zkh2_framed *f, tvbuff_t *tvb, packet_info *pinfo,
                            proto_tree *tree, void *data);

static int zkh2_framed_dissect(const struct zkh2_framed *f, tvbuff_t *tvb, packet_info *pinfo,
                               proto_tree *tree, void *data)
{
    if (f->builtin != NULL && zkh2_tls_port_choice(pinfo) == f->builtin) {
        /* As if TLS had called it directly: without our layer (call_dissector added it
         * for our handle), and with can_desegment as TLS left it (each call level takes one
         * off it). */
        wmem_list_frame_t *last = wmem_list_tail(pinfo->layers);
        if (last != NULL) {
            wmem_list_remove_frame(pinfo->layers, last);
            pinfo->curr_layer_num--;
        }
        pinfo->can_desegment = pinfo->saved_can_desegment;
        return call_dissector_only(f->builtin, tvb, pinfo, tree, data);
    }
    zkh2_framed_run(f, tvb, pinfo, tree, data);
    return (int)tvb_captured_length(tvb);
}
#define ZKH2_FRAMED_TRAMPOLINE(i)                                                            \
    static int zkh2_framed_trampoline_##i(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, \
                                          void *data)                                        \
    {                                                                                        \
        return zkh2_framed_dissect(&zkh2_framed_slots[i], tvb, pinfo, tree, data);           \
    }
ZKH2_EACH_SLOT(ZKH2_FRAMED_TRAMPOLINE)
#define ZKH2_FRAMED_TRAMPOLINE_NAME(i) zkh2_framed_trampoline_##i,
static dissector_t zkh2_framed_trampolines[ZKH2_FRAMED_SLOTS] = {
    ZKH2_EACH_SLOT(ZKH2_FRAMED_TRAMPOLINE_NAME)
};

dissector_handle_t zkh2_create_framed_handle(const char *name, int proto, unsigned fixed_len,
                                             zkh2_pdu_len_fn get_pdu_len,
                                             dissector_t dissect_pdu,
                                             const zkh2_pref_bool *desegment)
{
    if (zkh2_framed_used >= ZKH2_FRAMED_SLOTS)
        return NULL;
    int i = zkh2_framed_used++;
    zkh2_framed_slots[i].proto = proto;
    zkh2_framed_slots[i].fixed_len = fixed_len;
    zkh2_framed_slots[i].get_pdu_len = get_pdu_len;
    zkh2_framed_slots[i].dissect_pdu = dissect_pdu;
    zkh2_framed_slots[i].desegment = desegment;
    if (name)
        return register_dissector(name, zkh2_framed_trampolines[i], proto);
    return create_dissector_handle(zkh2_framed_trampolines[i], proto);
}

zkh2_pref_bool *zkh2_prefs_register_bool(module_t *module, const char *name, const char *title,
                                         const char *description, int default_value)
{
    zkh2_pref_bool *pref = g_new0(zkh2_pref_bool, 1);
    pref->value = default_value != 0;
    prefs_register_bool_preference(module, name, title, description, &pref->value);
    return pref;
}

int zkh2_pref_bool_value(const zkh2_pref_bool *pref) { return pref->value ? 1 : 0; }

/* ---- HTTP/2 (h2): data sources, the media_type hand-off, and the dispatch handle ---- */
#include <epan/exceptions.h>
#include <epan/show_exception.h>
#include <epan/dissectors/packet-http.h>
/* What the media_type table's dissectors receive as data: 4.0 has http_message_info_t
 * (packet-http.h); 4.2+ have media_content_info_t in a header of its own. */
#if __has_include(<epan/dissectors/packet-media-type.h>)
#include <epan/dissectors/packet-media-type.h>
typedef media_content_info_t zkh2_media_info_t;
#define ZKH2_MEDIA_OTHERS MEDIA_CONTAINER_HTTP_OTHERS
#else
typedef http_message_info_t zkh2_media_info_t;
#define ZKH2_MEDIA_OTHERS HTTP_OTHERS
#endif
/* 4.6 deprecates dissector_try_string for dissector_try_string_with_data (4.6+ only). */
#if WIRESHARK_VERSION_MAJOR > 4 || (WIRESHARK_VERSION_MAJOR == 4 && WIRESHARK_VERSION_MINOR >= 6)
#define ZKH2_TRY_STRING(table, s, tvb, pinfo, tree, data)                                   \
    dissector_try_string_with_data(table, s, tvb, pinfo, tree, true, data)
#else
#define ZKH2_TRY_STRING(table, s, tvb, pinfo, tree, data)                                   \
    dissector_try_string(table, s, tvb, pinfo, tree, data)
#endif

tvbuff_t *zkh2_new_data_source(tvbuff_t *parent, packet_info *pinfo, const uint8_t *data,
                               unsigned len, const char *name)
{
    /* The bytes must outlive the tvb: copy them into the packet's pool. The name is kept
     * by pointer, so it must be static. */
    const uint8_t *copy = len ? (const uint8_t *)wmem_memdup(pinfo->pool, data, len) : NULL;
    tvbuff_t *tvb = tvb_new_child_real_data(parent, copy, len, (int)len);
    add_new_data_source(pinfo, tvb, name);
    return tvb;
}

int zkh2_call_media_type(const char *media_type, const char *parameters, tvbuff_t *tvb,
                         packet_info *pinfo, proto_tree *tree)
{
    static dissector_table_t media_table = NULL;
    if (media_table == NULL)
        media_table = find_dissector_table("media_type");
    if (media_table == NULL)
        return 0;
    zkh2_media_info_t info;
    memset(&info, 0, sizeof info);
    info.type = ZKH2_MEDIA_OTHERS;
    info.media_str = parameters;
    volatile int ret = 0;
    /* A sub-dissector's exception stops here, in C, and shows on its own subtree. */
    TRY {
        ret = ZKH2_TRY_STRING(media_table, media_type, tvb, pinfo, tree, &info);
    }
    CATCH_NONFATAL_ERRORS {
        show_exception(tvb, pinfo, tree, EXCEPT_CODE, GET_MESSAGE);
        ret = 1;
    }
    ENDTRY;
    return ret;
}

/* tls.alpn and http.upgrade cannot be reached by Decode As, and `--disable-protocol h2`
 * would leave them pointing at a disabled handle (TLS then shows bare application data).
 * So the entries are re-pointed by an init routine, which runs when a capture file is
 * (re)dissected, after the enabled-protocols list is settled: at our handle while our
 * protocol is enabled, at the built-in one otherwise. Disabling h2 then gives back exactly
 * what Wireshark shows without the plugin. */
#define ZKH2_SWITCH_SLOTS 8
static struct { const char *table; const char *key; } zkh2_switch_entries[ZKH2_SWITCH_SLOTS];
static int zkh2_switch_used;
static int zkh2_switch_proto = -1;
static dissector_handle_t zkh2_switch_ours;
static dissector_handle_t zkh2_switch_builtin;

static const zkh2_pref_bool *zkh2_switch_take;

static void zkh2_switch_init(void)
{
    int ours = zkh2_switch_proto >= 0 && zkh2_proto_is_enabled(zkh2_switch_proto) &&
               (zkh2_switch_take == NULL || zkh2_switch_take->value);
    for (int i = 0; i < zkh2_switch_used; i++) {
        if (ours)
            dissector_add_string(zkh2_switch_entries[i].table, zkh2_switch_entries[i].key,
                                 zkh2_switch_ours);
        else if (zkh2_switch_builtin != NULL)
            dissector_add_string(zkh2_switch_entries[i].table, zkh2_switch_entries[i].key,
                                 zkh2_switch_builtin);
        else
            dissector_delete_string(zkh2_switch_entries[i].table, zkh2_switch_entries[i].key,
                                    zkh2_switch_ours);
    }
}

int zkh2_add_string_with_builtin_fallback(int proto, dissector_handle_t ours,
                                          const char *builtin_name, const char *table,
                                          const char *key)
{
    if (zkh2_switch_used >= ZKH2_SWITCH_SLOTS)
        return -1;
    if (zkh2_switch_used == 0)
        register_init_routine(zkh2_switch_init);
    zkh2_switch_proto = proto;
    zkh2_switch_ours = ours;
    if (zkh2_switch_builtin == NULL)
        zkh2_switch_builtin = find_dissector(builtin_name);
    zkh2_switch_entries[zkh2_switch_used].table = table;
    zkh2_switch_entries[zkh2_switch_used].key = key;
    zkh2_switch_used++;
    dissector_add_string(table, key, ours);
    return 0;
}

/* ---- Another protocol's registrations, by name (h2's compatibility with http2) ---- */
#include <epan/tap.h>
#include <epan/ftypes/ftypes.h>
#include <epan/prefs-int.h>

int zkh2_field_id(const char *abbrev) { return proto_registrar_get_id_byname(abbrev); }
int zkh2_proto_id(const char *filter_name) { return proto_get_id_by_filter_name(filter_name); }
int zkh2_field_type(int hf)
{
    if (hf < 0)
        return -1;
    return (int)proto_registrar_get_ftype(hf);
}
int zkh2_tap_id(const char *name) { return find_tap_id(name); }
int zkh2_tap_has_listener(int tap) { return tap >= 0 && have_tap_listener(tap) ? 1 : 0; }

static int zkh2_layer_marker(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    (void)pinfo;
    (void)tree;
    (void)data;
    /* Non-zero: call_dissector keeps the layer it added for this handle's protocol. */
    return tvb_captured_length(tvb) > 0 ? (int)tvb_captured_length(tvb) : 1;
}

dissector_handle_t zkh2_create_layer_handle(int proto)
{
    return create_dissector_handle(zkh2_layer_marker, proto);
}

void zkh2_call_layer(dissector_handle_t handle, tvbuff_t *tvb, packet_info *pinfo)
{
    if (handle == NULL)
        return;
    TRY {
        call_dissector_only(handle, tvb, pinfo, NULL, NULL);
    }
    CATCH_NONFATAL_ERRORS {
    }
    ENDTRY;
}

struct zkh2_tap_byte {
    guint8 value;
};
struct zkh2_tap_follow {
    tvbuff_t *tvb;
    guint64 stream_id;
};

void zkh2_tap_queue_byte(packet_info *pinfo, int tap, uint8_t value)
{
    if (tap < 0)
        return;
    struct zkh2_tap_byte *t = wmem_new0(pinfo->pool, struct zkh2_tap_byte);
    t->value = value;
    tap_queue_packet(tap, pinfo, t);
}

void zkh2_tap_queue_follow(packet_info *pinfo, int tap, tvbuff_t *tvb, int offset, int len,
                           const uint8_t *data, uint64_t stream_id)
{
    if (tap < 0 || len < 0)
        return;
    struct zkh2_tap_follow *f = wmem_new0(pinfo->pool, struct zkh2_tap_follow);
    if (data != NULL) {
        const uint8_t *copy = len ? (const uint8_t *)wmem_memdup(pinfo->pool, data, len) : NULL;
        f->tvb = tvb_new_child_real_data(tvb, copy, len, len);
    } else {
        if ((unsigned)offset > tvb_captured_length(tvb) ||
            (unsigned)len > tvb_captured_length(tvb) - (unsigned)offset)
            return;
        f->tvb = tvb_new_subset_length(tvb, offset, len);
    }
    f->stream_id = stream_id;
    tap_queue_packet(tap, pinfo, f);
}

static dissector_table_t zkh2_http2_builtin_table;

int zkh2_http2_announce_init(void)
{
    dissector_handle_t http2 = find_dissector("http2");
    if (http2 == NULL)
        return -1;
    if (zkh2_http2_builtin_table == NULL)
        zkh2_http2_builtin_table =
            register_dissector_table("zkh2.http2_builtin", "Built-in HTTP/2 (zkh2 internal)",
                                     dissector_handle_get_protocol_index(http2), FT_UINT8,
                                     BASE_DEC);
    dissector_add_uint("zkh2.http2_builtin", 1, http2);
    return 0;
}

void zkh2_http2_announce_stream(tvbuff_t *tvb, packet_info *pinfo, uint32_t stream_id)
{
    if (zkh2_http2_builtin_table == NULL)
        return;
    /* Length 0, type BLOCKED (0x0b, no payload, no state), no flags, the stream id. */
    uint8_t *frame = (uint8_t *)wmem_alloc0(pinfo->pool, 9);
    frame[3] = 0x0b;
    frame[5] = (uint8_t)((stream_id >> 24) & 0x7f);
    frame[6] = (uint8_t)(stream_id >> 16);
    frame[7] = (uint8_t)(stream_id >> 8);
    frame[8] = (uint8_t)stream_id;
    tvbuff_t *synthetic = tvb_new_child_real_data(tvb, frame, 9, 9);
    /* The built-in clears Info and sets the Protocol column: hide the columns from it. It
     * must not ask TCP for more data either. */
    column_info *cinfo = pinfo->cinfo;
    guint16 can_desegment = pinfo->can_desegment;
    int desegment_offset = pinfo->desegment_offset;
    guint32 desegment_len = pinfo->desegment_len;
    pinfo->cinfo = NULL;
    pinfo->can_desegment = 0;
    TRY {
        /* No layer is added (add_proto_name FALSE): the frame shows http2 once. */
        dissector_try_uint_new(zkh2_http2_builtin_table, 1, synthetic, pinfo, NULL, FALSE, NULL);
    }
    CATCH_NONFATAL_ERRORS {
    }
    ENDTRY;
    pinfo->cinfo = cinfo;
    pinfo->can_desegment = can_desegment;
    pinfo->desegment_offset = desegment_offset;
    pinfo->desegment_len = desegment_len;
}

void zkh2_http_path_components(packet_info *pinfo, proto_item *item, tvbuff_t *parent,
                               const uint8_t *path, unsigned len)
{
    if (item == NULL || len == 0)
        return;
    const uint8_t *copy = (const uint8_t *)wmem_memdup(pinfo->pool, path, len);
    tvbuff_t *tvb = tvb_new_child_real_data(parent, copy, len, (int)len);
    TRY {
        http_add_path_components_to_tree(tvb, pinfo, item, 0, (int)len);
    }
    CATCH_NONFATAL_ERRORS {
    }
    ENDTRY;
}

proto_item *zkh2_tree_add_bytes_value(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int len,
                                      const uint8_t *data, int data_len)
{
    if (hf < 0)
        return NULL;
    return proto_tree_add_bytes_with_length(tree, hf, tvb, start, len, data, data_len);
}

proto_item *zkh2_tree_add_uint_text(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int len,
                                    uint32_t value, const char *text)
{
    if (hf < 0)
        return NULL;
    return proto_tree_add_uint_format(tree, hf, tvb, start, len, value, "%s", text);
}

int zkh2_string_table_has(const char *table, const char *key)
{
    dissector_table_t t = find_dissector_table(table);
    if (t == NULL)
        return 0;
    return dissector_get_string_handle(t, key) != NULL ? 1 : 0;
}

int zkh2_call_string_table(const char *table, const char *key, tvbuff_t *tvb, packet_info *pinfo,
                           proto_tree *tree, void *data)
{
    dissector_table_t t = find_dissector_table(table);
    if (t == NULL)
        return 0;
    volatile int ret = 0;
    TRY {
        ret = ZKH2_TRY_STRING(t, key, tvb, pinfo, tree, data);
    }
    CATCH_NONFATAL_ERRORS {
        show_exception(tvb, pinfo, tree, EXCEPT_CODE, GET_MESSAGE);
        ret = 1;
    }
    ENDTRY;
    return ret;
}

void *zkh2_find_bool_pref(const char *module, const char *name)
{
    module_t *m = prefs_find_module(module);
    if (m == NULL)
        return NULL;
    return prefs_find_preference(m, name);
}

int zkh2_pref_bool_current(void *pref, int fallback)
{
    if (pref == NULL)
        return fallback;
    return prefs_get_bool_value((pref_t *)pref, pref_current) ? 1 : 0;
}

void zkh2_col_append_info_raw(packet_info *pinfo, const char *text)
{
    col_append_str(pinfo->cinfo, COL_INFO, text);
}

void zkh2_col_set_fence_protocol(packet_info *pinfo) { col_set_fence(pinfo->cinfo, COL_PROTOCOL); }

int zkh2_has_columns(packet_info *pinfo) { return pinfo->cinfo != NULL; }

/* The conversation of the frame being dissected, remembered per TCP connection. The lookup
 * (several hash tables, ~1,000 instructions) costs more than the rest of a small PDU's
 * dissection, and every PDU (and every frame) of a connection gets the same answer until
 * another conversation takes over its addresses and ports.
 *
 * An entry holds the addresses, port type and ports that find_or_create_conversation was
 * asked with (either way round: a conversation serves both directions), its answer, and the
 * frame. It answers again:
 * - in the same frame, whatever the conversation;
 * - in another frame, only when the lookup is sure to give the same answer: the
 *   conversation is an exact one (no wildcard or template options, so it was found in the
 *   exact table, which the lookup searches first); no conversation with the same key was
 *   set up after it (`next` is NULL: epan keeps conversations of one key chained in
 *   setup-frame order, and the lookup takes the latest one set up at or before the frame);
 *   the frame is not before its setup; and the packet names no conversation of its own
 *   (pinfo's conv_elements or address/port endpoints, which the lookup would use instead).
 * Conversations live until the file scope ends; the plugin calls
 * zkh2_conversation_cache_clear() then (its per-conversation state is freed at the same
 * moment), so a pointer from an earlier file is never returned. */
#define ZKH2_CONV_ADDR_MAX 16
#define ZKH2_CONV_SLOTS 256
struct zkh2_conv_entry {
    conversation_t *conv;
    /* The data that protocol `data_proto` attached to it (remembered once not NULL). */
    int data_proto;
    void *data;
    guint32 num;
    int ptype;
    guint32 srcport, destport;
    int src_type, dst_type;
    int src_len, dst_len;
    guint8 src[ZKH2_CONV_ADDR_MAX], dst[ZKH2_CONV_ADDR_MAX];
};
static struct zkh2_conv_entry zkh2_conv_cache[ZKH2_CONV_SLOTS];

static gboolean zkh2_conv_addr_is(const address *a, int type, int len, const guint8 *data)
{
    guint32 x, y;
    if ((int)a->type != type || a->len != len)
        return FALSE;
    if (len == 4) { /* IPv4: one word, not a call to memcmp */
        memcpy(&x, a->data, 4);
        memcpy(&y, data, 4);
        return x == y;
    }
    return len == 0 || memcmp(a->data, data, len) == 0;
}

/* The entry of this packet's connection: the same slot either way round; the multiply
 * spreads client ports that differ in their low bits only. */
static struct zkh2_conv_entry *zkh2_conv_slot(const packet_info *pinfo)
{
    guint32 h = (pinfo->srcport ^ pinfo->destport ^ ((guint32)pinfo->ptype << 16)) * 2654435761u;
    return &zkh2_conv_cache[(h >> 24) % ZKH2_CONV_SLOTS];
}

/* Whether `e` was asked with this packet's addresses and ports, either way round. */
static gboolean zkh2_conv_entry_matches(const struct zkh2_conv_entry *e, const packet_info *pinfo)
{
    if (e->conv == NULL || e->ptype != (int)pinfo->ptype)
        return FALSE;
    if (e->srcport == pinfo->srcport && e->destport == pinfo->destport &&
        zkh2_conv_addr_is(&pinfo->src, e->src_type, e->src_len, e->src) &&
        zkh2_conv_addr_is(&pinfo->dst, e->dst_type, e->dst_len, e->dst))
        return TRUE;
    return e->srcport == pinfo->destport && e->destport == pinfo->srcport &&
           zkh2_conv_addr_is(&pinfo->dst, e->src_type, e->src_len, e->src) &&
           zkh2_conv_addr_is(&pinfo->src, e->dst_type, e->dst_len, e->dst);
}

/* Whether the lookup for `e`'s key would answer `e->conv` again in frame `num`. */
static gboolean zkh2_conv_entry_current(const struct zkh2_conv_entry *e, const packet_info *pinfo)
{
    if (e->num == pinfo->num)
        return TRUE;
    return e->conv->options == 0 && e->conv->next == NULL && e->conv->setup_frame <= pinfo->num &&
           !pinfo->use_conv_addr_port_endpoints && pinfo->conv_elements == NULL;
}

/* The conversation, from the cache or from epan (then remembered); `*entry` is its cache
 * entry, or NULL when it could not be remembered. */
static conversation_t *zkh2_conv_lookup(packet_info *pinfo, struct zkh2_conv_entry **entry)
{
    struct zkh2_conv_entry *e = zkh2_conv_slot(pinfo);
    conversation_t *conv;
    *entry = e;
    if (zkh2_conv_entry_matches(e, pinfo) && zkh2_conv_entry_current(e, pinfo)) {
        e->num = pinfo->num;
        return e->conv;
    }
    conv = find_or_create_conversation(pinfo);
    e->conv = NULL;
    if (conv == NULL || pinfo->src.len < 0 || pinfo->src.len > ZKH2_CONV_ADDR_MAX ||
        pinfo->dst.len < 0 || pinfo->dst.len > ZKH2_CONV_ADDR_MAX) {
        *entry = NULL;
        return conv;
    }
    e->num = pinfo->num;
    e->ptype = (int)pinfo->ptype;
    e->srcport = pinfo->srcport;
    e->destport = pinfo->destport;
    e->src_type = (int)pinfo->src.type;
    e->dst_type = (int)pinfo->dst.type;
    e->src_len = pinfo->src.len;
    e->dst_len = pinfo->dst.len;
    if (pinfo->src.len > 0)
        memcpy(e->src, pinfo->src.data, pinfo->src.len);
    if (pinfo->dst.len > 0)
        memcpy(e->dst, pinfo->dst.data, pinfo->dst.len);
    e->conv = conv;
    e->data_proto = -1;
    e->data = NULL;
    return conv;
}

/* The data `proto` attached to the packet's conversation (NULL if none yet), with the
 * conversation in *conv: the lookup and conversation_get_proto_data in one call, the data
 * remembered with the conversation's cache entry. */
void *zkh2_conversation_data(packet_info *pinfo, int proto, conversation_t **conv)
{
    struct zkh2_conv_entry *e;
    void *data;
    *conv = zkh2_conv_lookup(pinfo, &e);
    if (e != NULL && e->data_proto == proto && e->data != NULL)
        return e->data;
    data = *conv != NULL ? conversation_get_proto_data(*conv, proto) : NULL;
    if (e != NULL && data != NULL) {
        e->data_proto = proto;
        e->data = data;
    }
    return data;
}

void zkh2_conversation_cache_clear(void)
{
    for (int i = 0; i < ZKH2_CONV_SLOTS; i++)
        zkh2_conv_cache[i].conv = NULL;
}

int zkh2_call_named_dissector(const char *name, tvbuff_t *tvb, packet_info *pinfo,
                              proto_tree *tree)
{
    dissector_handle_t h = find_dissector(name);
    if (h == NULL)
        return 0;
    volatile int ret = 0;
    TRY {
        ret = call_dissector(h, tvb, pinfo, tree);
    }
    CATCH_NONFATAL_ERRORS {
        show_exception(tvb, pinfo, tree, EXCEPT_CODE, GET_MESSAGE);
    }
    ENDTRY;
    return ret;
}

/* ---- User tables (UATs) ---- */
#include <epan/uat-int.h>

#define ZKH2_UAT_COLS 8
typedef struct {
    char *col[ZKH2_UAT_COLS];
} zkh2_uat_rec;

#define ZKH2_UAT_SLOTS 4
static struct {
    zkh2_uat_rec *recs;
    unsigned num;
    int ncols;
    void (*post_update)(void);
} zkh2_uat_slots[ZKH2_UAT_SLOTS];
static int zkh2_uat_used;

static void *zkh2_uat_copy(void *dest, const void *source, size_t len)
{
    (void)len;
    zkh2_uat_rec *d = (zkh2_uat_rec *)dest;
    const zkh2_uat_rec *s = (const zkh2_uat_rec *)source;
    for (int i = 0; i < ZKH2_UAT_COLS; i++)
        d->col[i] = g_strdup(s->col[i]);
    return d;
}

static void zkh2_uat_free_rec(void *r)
{
    zkh2_uat_rec *rec = (zkh2_uat_rec *)r;
    for (int i = 0; i < ZKH2_UAT_COLS; i++) {
        g_free(rec->col[i]);
        rec->col[i] = NULL;
    }
}

/* The column index is the field's fld_data: uat_load passes cbdata.chk, not cbdata.set, to
 * the set callback, but fld_data the same way everywhere. */
static void zkh2_uat_set(void *r, const char *buf, unsigned len, const void *u1, const void *u2)
{
    (void)u1;
    zkh2_uat_rec *rec = (zkh2_uat_rec *)r;
    int c = GPOINTER_TO_INT(u2);
    g_free(rec->col[c]);
    rec->col[c] = g_strndup(buf, len);
}

static void zkh2_uat_tostr(void *r, char **out, unsigned *len, const void *u1, const void *u2)
{
    (void)u1;
    const zkh2_uat_rec *rec = (const zkh2_uat_rec *)r;
    int c = GPOINTER_TO_INT(u2);
    *out = g_strdup(rec->col[c] ? rec->col[c] : "");
    *len = (unsigned)strlen(*out);
}

#define ZKH2_UAT_POST(i)                                                                   \
    static void zkh2_uat_post_##i(void)                                                    \
    {                                                                                      \
        if (zkh2_uat_slots[i].post_update)                                                 \
            zkh2_uat_slots[i].post_update();                                               \
    }
ZKH2_UAT_POST(0)
ZKH2_UAT_POST(1)
ZKH2_UAT_POST(2)
ZKH2_UAT_POST(3)
static uat_post_update_cb_t zkh2_uat_posts[ZKH2_UAT_SLOTS] = {
    zkh2_uat_post_0, zkh2_uat_post_1, zkh2_uat_post_2, zkh2_uat_post_3,
};

void *zkh2_uat_new(module_t *module, const char *pref_name, const char *pref_title,
                   const char *uat_name, const char *filename, const char *help,
                   unsigned flags, int ncols, const char *const *col_names,
                   const char *const *col_titles, const char *const *col_descs,
                   void (*post_update)(void))
{
    if (zkh2_uat_used >= ZKH2_UAT_SLOTS || ncols < 1 || ncols > ZKH2_UAT_COLS)
        return NULL;
    int i = zkh2_uat_used++;
    zkh2_uat_slots[i].ncols = ncols;
    zkh2_uat_slots[i].post_update = post_update;
    uat_field_t *flds = g_new0(uat_field_t, ncols + 1);
    for (int c = 0; c < ncols; c++) {
        flds[c].name = col_names[c];
        flds[c].title = col_titles[c];
        flds[c].mode = PT_TXTMOD_STRING;
        flds[c].cb.set = zkh2_uat_set;
        flds[c].cb.tostr = zkh2_uat_tostr;
        flds[c].fld_data = GINT_TO_POINTER(c);
        flds[c].desc = col_descs[c];
    }
    uat_t *u = uat_new(uat_name, sizeof(zkh2_uat_rec), filename, TRUE, &zkh2_uat_slots[i].recs,
                       &zkh2_uat_slots[i].num, flags, help, zkh2_uat_copy, NULL,
                       zkh2_uat_free_rec, zkh2_uat_posts[i], NULL, flds);
    prefs_register_uat_preference(module, pref_name, pref_title, help, u);
    return u;
}

static uat_field_t *zkh2_uat_field(uat_t *u, const char *column)
{
    for (uat_field_t *f = u->fields; f != NULL && f->name != NULL; f++) {
        if (strcmp(f->name, column) == 0)
            return f;
    }
    return NULL;
}

int zkh2_uat_rows(const char *uat_name)
{
    uat_t *u = uat_get_table_by_name(uat_name);
    if (u == NULL || u->user_data == NULL)
        return 0;
    return (int)u->user_data->len;
}

char *zkh2_uat_cell(const char *uat_name, int row, const char *column)
{
    uat_t *u = uat_get_table_by_name(uat_name);
    if (u == NULL || u->user_data == NULL || row < 0 || (unsigned)row >= u->user_data->len)
        return NULL;
    uat_field_t *f = zkh2_uat_field(u, column);
    if (f == NULL)
        return NULL;
    return uat_fld_tostr(UAT_USER_INDEX_PTR(u, row), f);
}

void zkh2_free(void *p) { g_free(p); }

static hf_register_info *zkh2_dyn_hf;
static int zkh2_dyn_n;

void zkh2_dynamic_fields(int proto, int n, const char *const *abbrevs, const char *const *names,
                         const char *const *blurbs, const int *kinds, int *ids)
{
    if (zkh2_dyn_hf != NULL) {
        for (int i = 0; i < zkh2_dyn_n; i++) {
            proto_deregister_field(proto, *(zkh2_dyn_hf[i].p_id));
            g_free(zkh2_dyn_hf[i].p_id);
        }
        proto_add_deregistered_data(zkh2_dyn_hf);
        zkh2_dyn_hf = NULL;
        zkh2_dyn_n = 0;
    }
    if (n <= 0)
        return;
    zkh2_dyn_hf = g_new0(hf_register_info, n);
    zkh2_dyn_n = n;
    for (int i = 0; i < n; i++) {
        int *id = g_new(int, 1);
        *id = -1;
        zkh2_dyn_hf[i].p_id = id;
        zkh2_dyn_hf[i].hfinfo.name = g_strdup(names[i]);
        zkh2_dyn_hf[i].hfinfo.abbrev = g_strdup(abbrevs[i]);
        zkh2_dyn_hf[i].hfinfo.type = kinds[i] == 1 ? FT_UINT64 : FT_STRING;
        zkh2_dyn_hf[i].hfinfo.display = kinds[i] == 1 ? BASE_DEC : BASE_NONE;
        zkh2_dyn_hf[i].hfinfo.blurb = g_strdup(blurbs[i]);
        HFILL_INIT(zkh2_dyn_hf[i]);
    }
    proto_register_field_array(proto, zkh2_dyn_hf, n);
    for (int i = 0; i < n; i++)
        ids[i] = *(zkh2_dyn_hf[i].p_id);
}

void zkh2_register_init(void (*fn)(void)) { register_init_routine(fn); }

int zkh2_value_in_range_str(const char *ranges, uint32_t value)
{
    range_t *r = NULL;
    if (range_convert_str(NULL, &r, ranges, 65535) != CVT_NO_ERROR) {
        wmem_free(NULL, r);
        return 0;
    }
    int in = value_is_in_range(r, value) ? 1 : 0;
    wmem_free(NULL, r);
    return in;
}

dissector_handle_t zkh2_create_routed_handle(int proto, unsigned fixed_len,
                                            zkh2_pdu_len_fn get_pdu_len, dissector_t dissect_pdu,
                                            const zkh2_pref_bool *desegment,
                                            const char *builtin_name)
{
    dissector_handle_t h = zkh2_create_framed_handle(NULL, proto, fixed_len, get_pdu_len,
                                                     dissect_pdu, desegment);
    if (h == NULL)
        return NULL;
    dissector_handle_t builtin = find_dissector(builtin_name);
    zkh2_framed_slots[zkh2_framed_used - 1].builtin = builtin;
    /* Make the built-in choosable per TLS port: `-d tls.port==443,http2`. */
    if (builtin != NULL)
        dissector_add_for_decode_as("tls.port", builtin);
    return h;
}

void zkh2_switch_set_pref(const zkh2_pref_bool *take)
{
    zkh2_switch_take = take;
}

/* ---- TCP facts: where a PDU starts in its side's byte stream ---- */
#include <epan/prefs-int.h>
/* A tcp_flow_t's static_flags (packet-tcp.c, the same in 4.0, 4.4 and 4.6):
 * TCP_S_BASE_SEQ_SET 0x01, TCP_S_SAW_SYN 0x03, TCP_S_SAW_SYNACK 0x05. Bits 0x02 and 0x04 say
 * that the flow's base_seq is the ISN of its own SYN (or SYN-ACK), seen in the capture. */
#define ZKH2_TCP_S_SAW_SYN_BITS 0x06

static int zkh2_proto_tcp_id(void)
{
    static int id = -1;
    if (id < 0)
        id = proto_get_id_by_filter_name("tcp");
    return id;
}

/* tcp.analyze_sequence_numbers && tcp.relative_sequence_numbers: then TCP hands its
 * subdissectors relative sequence numbers (packet-tcp.c subtracts base_seq only then).
 * -1 when the preferences cannot be found. */
static int zkh2_tcp_relative_seq(void)
{
    static pref_t *analyze = NULL, *relative = NULL;
    if (analyze == NULL || relative == NULL) {
        module_t *tcp = prefs_find_module("tcp");
        if (tcp == NULL)
            return -1;
        analyze = prefs_find_preference(tcp, "analyze_sequence_numbers");
        relative = prefs_find_preference(tcp, "relative_sequence_numbers");
        if (analyze == NULL || relative == NULL)
            return -1;
    }
    return prefs_get_bool_value(analyze, pref_current) && prefs_get_bool_value(relative, pref_current)
               ? 1
               : 0;
}

int zkh2_tcp_stream_start(packet_info *pinfo, const void *data, int offset, int self_proto,
                          uint32_t *pos)
{
    int tcp = zkh2_proto_tcp_id();
    if (tcp < 0 || pinfo->layers == NULL)
        return ZKH2_START_UNKNOWN;
    /* The layers below ours (ours may be listed twice: heuristic, then the handle). */
    wmem_list_frame_t *f = wmem_list_tail(pinfo->layers);
    while (f != NULL && GPOINTER_TO_INT(wmem_list_frame_data(f)) == self_proto)
        f = wmem_list_frame_prev(f);
    if (f == NULL)
        return ZKH2_START_UNKNOWN;
    int direct = GPOINTER_TO_INT(wmem_list_frame_data(f)) == tcp;
    int carried = 0;
    for (wmem_list_frame_t *g = f; g != NULL && !direct && !carried; g = wmem_list_frame_prev(g))
        carried = GPOINTER_TO_INT(wmem_list_frame_data(g)) == tcp;
    if (!direct && !carried)
        return ZKH2_START_UNKNOWN;

    /* TCP's own record of the connection, read without creating anything (unlike
     * get_tcp_conversation_data, which would start a new TCP stream in a conversation that
     * has none). Its direction rule is get_tcp_conversation_data's. */
    conversation_t *conv = find_conversation_pinfo(pinfo, 0);
    struct tcp_analysis *tcpd =
        conv ? (struct tcp_analysis *)conversation_get_proto_data(conv, tcp) : NULL;
    if (tcpd == NULL)
        return direct ? ZKH2_START_UNAVAILABLE : ZKH2_START_UNKNOWN;
    int direction = cmp_address(&pinfo->src, &pinfo->dst);
    if (direction == 0)
        direction = (pinfo->srcport > pinfo->destport) ? 1 : -1;
    const tcp_flow_t *fwd = direction >= 0 ? &tcpd->flow1 : &tcpd->flow2;
    if (!(fwd->static_flags & ZKH2_TCP_S_SAW_SYN_BITS))
        return ZKH2_START_NO_SYN;
    if (!direct)
        return ZKH2_START_CARRIED;
    int relative = zkh2_tcp_relative_seq();
    if (data == NULL || relative < 0)
        return ZKH2_START_UNAVAILABLE;
    /* The dissector's data from TCP is its struct tcpinfo: seq is the sequence number of the
     * tvb's first byte (of the reassembled bytes, for a reassembled PDU). */
    uint32_t seq = ((const struct tcpinfo *)data)->seq + (uint32_t)offset;
    uint32_t rel = relative ? seq : seq - fwd->base_seq;
    /* The SYN takes relative sequence number 0; the first payload byte is 1. */
    *pos = rel - 1;
    return ZKH2_START_AT;
}

/* ---- Asking TCP for one more segment when a PDU's length cannot be told yet ---- */
#include <epan/exceptions.h>
static void zkh2_framed_run(const struct zkh2_framed *f, tvbuff_t *tvb, packet_info *pinfo,
                            proto_tree *tree, void *data)
{
    const struct zkh2_framed *volatile saved = zkh2_framed_current;
    zkh2_framed_call call = {data, f->proto, NULL, NULL};
    zkh2_framed_current = f;
    TRY {
        tcp_dissect_pdus(tvb, pinfo, tree, f->desegment->value, f->fixed_len, f->get_pdu_len,
                         f->dissect_pdu, &call);
    }
    FINALLY {
        zkh2_framed_current = saved;
    }
    ENDTRY;
}

int zkh2_framed_can_ask_more(const packet_info *pinfo)
{
    return zkh2_framed_current != NULL && zkh2_framed_current->desegment->value &&
           pinfo->can_desegment;
}

/* ---- What a visible tree's output will show ---- */
#include <epan/prefs.h>

/* Whether a filter, column, colouring rule or -e names the field, or one of its children
 * (epan sets ref_type when it primes a tree with a filter's fields), whatever the tree's
 * visibility (proto_field_is_referenced answers TRUE for every field of a visible tree). */
int zkh2_field_is_primed(int hf)
{
    header_field_info *hfinfo;
    if (hf < 0)
        return 0;
    hfinfo = proto_registrar_get_nth((guint)hf);
    return hfinfo != NULL && hfinfo->ref_type != HF_REF_TYPE_NONE;
}

int zkh2_any_field_primed(const int *ids, int n, int except)
{
    int i;
    for (i = 0; i < n; i++) {
        if (ids[i] != except && zkh2_field_is_primed(ids[i]))
            return 1;
    }
    return 0;
}

int zkh2_experts_wanted(void)
{
    static int expert_proto = -2;
    static int expert_tap = -2;
    if (expert_proto == -2)
        expert_proto = proto_get_id_by_filter_name("_ws.expert");
    if (expert_tap == -2)
        expert_tap = find_tap_id("expert");
    return (expert_tap >= 0 && have_tap_listener(expert_tap)) ||
           zkh2_field_is_primed(expert_proto);
}

/* Whether the tree is visible (printed or shown), as opposed to built for a filter only. */
int zkh2_tree_is_visible(proto_tree *tree)
{
    return tree != NULL && PTREE_DATA(tree) != NULL && PTREE_DATA(tree)->visible;
}

/* Whether nothing can read an item of field `hf` added to `tree`: the condition of
 * TRY_TO_FAKE_THIS_ITEM (proto.c), also at the packet's root for any item but a protocol.
 * The tree is not visible (or, `even_if_visible`, its visibility serves only to print
 * named fields: `tshark -T fields`); the field is neither referenced directly nor for printing (a
 * filter, column, colouring rule, tap or -e names it), only at most through a child
 * (INDIRECT); and it is not a protocol item that is kept: at the root, where the protocol
 * hierarchy statistics find each protocol (epan never fakes there), or anywhere when they
 * asked for protocols not to be faked.
 *
 * epan itself never fakes an item at the root, and that is where a protocol's items land
 * when its own protocol item was faked (`tshark -T fields -e h2.path`: `h2` is referenced
 * only through `h2.path`). A dissector that asks this first builds those items only when
 * something reads them, as epan does one level down. */
int zkh2_tree_fakes(proto_tree *tree, int hf, int even_if_visible)
{
    header_field_info *hfinfo;
    if (tree == NULL || PTREE_DATA(tree) == NULL || hf < 0)
        return 0;
    if (PTREE_DATA(tree)->visible && !even_if_visible)
        return 0;
    hfinfo = proto_registrar_get_nth((guint)hf);
    if (hfinfo == NULL)
        return 0;
    if (hfinfo->ref_type != HF_REF_TYPE_NONE && hfinfo->ref_type != HF_REF_TYPE_INDIRECT)
        return 0;
    if (hfinfo->type == FT_PROTOCOL)
        return PTREE_DATA(tree)->fake_protocols && PTREE_FINFO(tree) != NULL;
    return 1;
}

/* Whether protocol items are kept even when nothing references them (the protocol
 * hierarchy statistics walk them). */
int zkh2_tree_keeps_protocols(proto_tree *tree)
{
    return tree != NULL && PTREE_DATA(tree) != NULL && !PTREE_DATA(tree)->fake_protocols;
}

/* The ids of every field registered under the filter name `name` (a name can be
 * registered more than once, with different types) into `out`; the number found, or -1
 * when there are more than `max`. `*labelled` is set when one of them prints its label
 * rather than a value in `tshark -T fields` (a protocol or a text-only field). */
int zkh2_field_ids_by_name(const char *name, int *out, int max, int *labelled)
{
    header_field_info *hfinfo = proto_registrar_get_byname(name);
    int n = 0;
    *labelled = 0;
    if (hfinfo == NULL)
        return 0;
    while (hfinfo->same_name_prev_id != -1) {
        header_field_info *prev = proto_registrar_get_nth((guint)hfinfo->same_name_prev_id);
        if (prev == NULL)
            break;
        hfinfo = prev;
    }
    for (; hfinfo != NULL && n < max; hfinfo = hfinfo->same_name_next) {
        out[n++] = hfinfo->id;
        if (hfinfo->type == FT_PROTOCOL || hfinfo->type == FT_NONE)
            *labelled = 1;
    }
    return hfinfo == NULL ? n : -1;
}

/* The preference that shows hidden items in the GUI and in tshark -V. */
int zkh2_display_hidden_items(void)
{
    return prefs.display_hidden_proto_items ? 1 : 0;
}
