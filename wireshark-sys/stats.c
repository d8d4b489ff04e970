/* See stats.h. */
#include <string.h>
#include <epan/tap.h>
#include <epan/srt_table.h>
#include <epan/stats_tree.h>
#include <epan/wmem_scopes.h>
#include "stats.h"

static int zk_tap = -1;
static zkh2_name *zk_ops;
static int zk_n_ops;
static zkh2_name *zk_errs;
static int zk_n_errs;

static const char *name_of(const zkh2_name *t, int n, int32_t v)
{
    for (int i = 0; i < n; i++) {
        if (t[i].value == v)
            return t[i].name;
    }
    return NULL;
}

/* SRT rows: one per known opcode, then "unknown". */
static int op_row(int32_t op)
{
    for (int i = 0; i < zk_n_ops; i++) {
        if (zk_ops[i].value == op)
            return i;
    }
    return zk_n_ops;
}

static void zk_srt_init(struct register_srt *srt _U_, GArray *srt_array)
{
    srt_stat_table *t = init_srt_table("ZooKeeper requests", NULL, srt_array, zk_n_ops + 1,
                                       "Opcode", "zookeeper.opcode", NULL);
    for (int i = 0; i < zk_n_ops; i++)
        init_srt_table_row(t, i, zk_ops[i].name);
    init_srt_table_row(t, zk_n_ops, "unknown opcode");
}

static tap_packet_status zk_srt_packet(void *pss, packet_info *pinfo, epan_dissect_t *edt _U_,
                                       const void *prv, tap_flags_t flags _U_)
{
    srt_data_t *data = (srt_data_t *)pss;
    const zkh2_zk_tap *rec = (const zkh2_zk_tap *)prv;
    if (rec == NULL || rec->kind != 2 || !rec->paired || !rec->has_opcode)
        return TAP_PACKET_DONT_REDRAW;
    srt_stat_table *t = g_array_index(data->srt_array, srt_stat_table *, 0);
    nstime_t req;
    req.secs = (time_t)rec->req_secs;
    req.nsecs = rec->req_nsecs;
    add_srt_table_data(t, op_row(rec->opcode), &req, pinfo);
    return TAP_PACKET_REDRAW;
}

static int st_requests = -1;
static int st_replies = -1;
static int st_errors = -1;
static int st_notifications = -1;
static int st_sessions = -1;

static void zk_tree_init(stats_tree *st)
{
    st_requests = stats_tree_create_node(st, "Requests by opcode", 0, STAT_DT_INT, TRUE);
    st_replies = stats_tree_create_node(st, "Replies by opcode", 0, STAT_DT_INT, TRUE);
    st_errors = stats_tree_create_node(st, "Error replies by code", 0, STAT_DT_INT, TRUE);
    st_notifications = stats_tree_create_node(st, "Notifications", 0, STAT_DT_INT, TRUE);
    st_sessions = stats_tree_create_node(st, "PDUs by session", 0, STAT_DT_INT, TRUE);
}

static void op_label(char *buf, size_t n, const zkh2_zk_tap *rec)
{
    const char *name = rec->has_opcode ? name_of(zk_ops, zk_n_ops, rec->opcode) : NULL;
    if (name)
        g_strlcpy(buf, name, n);
    else if (rec->has_opcode)
        g_snprintf(buf, n, "opcode %d", rec->opcode);
    else
        g_strlcpy(buf, "request not captured", n);
}

static void err_label(char *buf, size_t n, int32_t err)
{
    const char *name = name_of(zk_errs, zk_n_errs, err);
    if (name)
        g_strlcpy(buf, name, n);
    else
        g_snprintf(buf, n, "error %d", err);
}

static tap_packet_status zk_tree_packet(stats_tree *st, packet_info *pinfo _U_,
                                        epan_dissect_t *edt _U_, const void *p,
                                        tap_flags_t flags _U_)
{
    const zkh2_zk_tap *rec = (const zkh2_zk_tap *)p;
    char op[64], err[64], sess[64];
    if (rec == NULL || rec->kind < 1 || rec->kind > 3)
        return TAP_PACKET_DONT_REDRAW;
    int sess_node = -1;
    if (rec->has_session)
        g_snprintf(sess, sizeof sess, "Session 0x%" G_GINT64_MODIFIER "x", (guint64)rec->session_id);
    else
        g_strlcpy(sess, "Session unknown (handshake not captured)", sizeof sess);
    sess_node = tick_stat_node(st, sess, st_sessions, TRUE);
    tick_stat_node(st, "PDUs by session", 0, TRUE);
    op_label(op, sizeof op, rec);
    switch (rec->kind) {
    case 1: {
        tick_stat_node(st, "Requests by opcode", 0, TRUE);
        tick_stat_node(st, op, st_requests, FALSE);
        int r = tick_stat_node(st, "Requests", sess_node, TRUE);
        tick_stat_node(st, op, r, FALSE);
        break;
    }
    case 2: {
        tick_stat_node(st, "Replies by opcode", 0, TRUE);
        tick_stat_node(st, op, st_replies, FALSE);
        int r = tick_stat_node(st, "Replies", sess_node, TRUE);
        tick_stat_node(st, op, r, FALSE);
        if (rec->err != 0) {
            err_label(err, sizeof err, rec->err);
            tick_stat_node(st, "Error replies by code", 0, TRUE);
            tick_stat_node(st, err, st_errors, FALSE);
            int e = tick_stat_node(st, "Errors", sess_node, TRUE);
            tick_stat_node(st, err, e, FALSE);
        }
        break;
    }
    case 3:
        tick_stat_node(st, "Notifications", 0, TRUE);
        tick_stat_node(st, "Notifications", sess_node, FALSE);
        break;
    }
    return TAP_PACKET_REDRAW;
}

static zkh2_name *copy_names(const zkh2_name *t, int n)
{
    zkh2_name *c = g_new0(zkh2_name, n > 0 ? n : 1);
    for (int i = 0; i < n; i++) {
        c[i].value = t[i].value;
        c[i].name = g_strdup(t[i].name);
    }
    return c;
}

void zkh2_zk_stats_register(int proto, const zkh2_name *opcodes, int n_opcodes,
                            const zkh2_name *errors, int n_errors)
{
    if (zk_tap != -1)
        return;
    zk_ops = copy_names(opcodes, n_opcodes);
    zk_n_ops = n_opcodes;
    zk_errs = copy_names(errors, n_errors);
    zk_n_errs = n_errors;
    zk_tap = register_tap("zookeeper");
    register_srt_table(proto, "zookeeper", 1, zk_srt_packet, zk_srt_init, NULL);
    stats_tree_register_plugin("zookeeper", "zookeeper", "ZooKeeper/Opcodes and errors", 0,
                               zk_tree_packet, zk_tree_init, NULL);
}

void zkh2_zk_tap_queue(packet_info *pinfo, const zkh2_zk_tap *rec)
{
    if (zk_tap == -1 || !have_tap_listener(zk_tap))
        return;
    zkh2_zk_tap *copy = wmem_new(pinfo->pool, zkh2_zk_tap);
    memcpy(copy, rec, sizeof *copy);
    tap_queue_packet(zk_tap, pinfo, copy);
}
