#include "shim.h"
#include <epan/column-utils.h>
#include <epan/conversation.h>

int zkh2_pinfo_visited(const packet_info *pinfo) { return PINFO_FD_VISITED(pinfo) ? 1 : 0; }
uint32_t zkh2_pinfo_num(const packet_info *pinfo) { return pinfo->num; }
wmem_allocator_t *zkh2_pinfo_pool(const packet_info *pinfo) { return pinfo->pool; }
void zkh2_pinfo_abs_ts(const packet_info *pinfo, int64_t *secs, int32_t *nsecs)
{
    *secs = (int64_t)pinfo->abs_ts.secs;
    *nsecs = (int32_t)pinfo->abs_ts.nsecs;
}
uint32_t zkh2_pinfo_srcport(const packet_info *pinfo) { return pinfo->srcport; }
uint32_t zkh2_pinfo_destport(const packet_info *pinfo) { return pinfo->destport; }
uint32_t zkh2_pinfo_match_uint(const packet_info *pinfo) { return pinfo->match_uint; }
void zkh2_pinfo_set_desegment(packet_info *pinfo, int offset, uint32_t len)
{
    pinfo->desegment_offset = offset;
    pinfo->desegment_len = len;
}
void zkh2_col_set_fence_info(packet_info *pinfo) { col_set_fence(pinfo->cinfo, COL_INFO); }

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
ZKH2_HEUR_TRAMPOLINE(0)
ZKH2_HEUR_TRAMPOLINE(1)
ZKH2_HEUR_TRAMPOLINE(2)
ZKH2_HEUR_TRAMPOLINE(3)
ZKH2_HEUR_TRAMPOLINE(4)
ZKH2_HEUR_TRAMPOLINE(5)
ZKH2_HEUR_TRAMPOLINE(6)
ZKH2_HEUR_TRAMPOLINE(7)
static heur_dissector_t zkh2_heur_trampolines[ZKH2_HEUR_SLOTS] = {
    zkh2_heur_trampoline_0, zkh2_heur_trampoline_1, zkh2_heur_trampoline_2,
    zkh2_heur_trampoline_3, zkh2_heur_trampoline_4, zkh2_heur_trampoline_5,
    zkh2_heur_trampoline_6, zkh2_heur_trampoline_7,
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
    unsigned fixed_len;
    zkh2_pdu_len_fn get_pdu_len;
    dissector_t dissect_pdu;
    const zkh2_pref_bool *desegment;
};
static struct zkh2_framed zkh2_framed_slots[ZKH2_FRAMED_SLOTS];
static int zkh2_framed_used;

/* The framed dissector running now (innermost), for zkh2_framed_can_ask_more. */
static const struct zkh2_framed *zkh2_framed_current;
static void zkh2_framed_run(const struct zkh2_framed *f, tvbuff_t *tvb, packet_info *pinfo,
                            proto_tree *tree, void *data);

static int zkh2_framed_dissect(const struct zkh2_framed *f, tvbuff_t *tvb, packet_info *pinfo,
                               proto_tree *tree, void *data)
{
    zkh2_framed_run(f, tvb, pinfo, tree, data);
    return (int)tvb_captured_length(tvb);
}
#define ZKH2_FRAMED_TRAMPOLINE(i)                                                            \
    static int zkh2_framed_trampoline_##i(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, \
                                          void *data)                                        \
    {                                                                                        \
        return zkh2_framed_dissect(&zkh2_framed_slots[i], tvb, pinfo, tree, data);           \
    }
ZKH2_FRAMED_TRAMPOLINE(0)
ZKH2_FRAMED_TRAMPOLINE(1)
ZKH2_FRAMED_TRAMPOLINE(2)
ZKH2_FRAMED_TRAMPOLINE(3)
ZKH2_FRAMED_TRAMPOLINE(4)
ZKH2_FRAMED_TRAMPOLINE(5)
ZKH2_FRAMED_TRAMPOLINE(6)
ZKH2_FRAMED_TRAMPOLINE(7)
static dissector_t zkh2_framed_trampolines[ZKH2_FRAMED_SLOTS] = {
    zkh2_framed_trampoline_0, zkh2_framed_trampoline_1, zkh2_framed_trampoline_2,
    zkh2_framed_trampoline_3, zkh2_framed_trampoline_4, zkh2_framed_trampoline_5,
    zkh2_framed_trampoline_6, zkh2_framed_trampoline_7,
};

dissector_handle_t zkh2_create_framed_handle(const char *name, int proto, unsigned fixed_len,
                                             zkh2_pdu_len_fn get_pdu_len,
                                             dissector_t dissect_pdu,
                                             const zkh2_pref_bool *desegment)
{
    if (zkh2_framed_used >= ZKH2_FRAMED_SLOTS)
        return NULL;
    int i = zkh2_framed_used++;
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

static void zkh2_switch_init(void)
{
    int ours = zkh2_switch_proto >= 0 && zkh2_proto_is_enabled(zkh2_switch_proto);
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
    zkh2_framed_current = f;
    TRY {
        tcp_dissect_pdus(tvb, pinfo, tree, f->desegment->value, f->fixed_len, f->get_pdu_len,
                         f->dissect_pdu, data);
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
