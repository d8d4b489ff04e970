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

/* ---- Generic statistics ---- */
#define ZKH2_STATS_SLOTS 2
static struct {
    int tap;
    char *name;
    zkh2_srt_table tables[ZKH2_SRT_TABLES];
    int n_tables;
    char **roots;
    int n_roots;
} zkh2_stats[ZKH2_STATS_SLOTS];
static int zkh2_stats_used;

static char **copy_strings(const char *const *s, int n)
{
    char **c = g_new0(char *, n > 0 ? n : 1);
    for (int i = 0; i < n; i++)
        c[i] = g_strdup(s[i]);
    return c;
}

static void gen_srt_init(int slot, GArray *srt_array)
{
    for (int t = 0; t < zkh2_stats[slot].n_tables; t++) {
        const zkh2_srt_table *d = &zkh2_stats[slot].tables[t];
        srt_stat_table *tab = init_srt_table(d->title, NULL, srt_array, d->n_rows, NULL,
                                             d->filter, NULL);
        for (int r = 0; r < d->n_rows; r++)
            init_srt_table_row(tab, r, d->rows[r]);
    }
}

static tap_packet_status gen_srt_packet(void *pss, packet_info *pinfo, const void *prv)
{
    srt_data_t *data = (srt_data_t *)pss;
    const zkh2_stat_rec *rec = (const zkh2_stat_rec *)prv;
    int counted = 0;
    if (rec == NULL)
        return TAP_PACKET_DONT_REDRAW;
    nstime_t req;
    req.secs = (time_t)rec->req_secs;
    req.nsecs = rec->req_nsecs;
    for (unsigned t = 0; t < data->srt_array->len && t < ZKH2_SRT_TABLES; t++) {
        if (rec->srt_row[t] < 0)
            continue;
        srt_stat_table *tab = g_array_index(data->srt_array, srt_stat_table *, t);
        if (rec->srt_row[t] >= tab->num_procs)
            continue;
        add_srt_table_data(tab, rec->srt_row[t], &req, pinfo);
        counted = 1;
    }
    return counted ? TAP_PACKET_REDRAW : TAP_PACKET_DONT_REDRAW;
}

static void gen_tree_init(int slot, stats_tree *st)
{
    for (int i = 0; i < zkh2_stats[slot].n_roots; i++)
        stats_tree_create_node(st, zkh2_stats[slot].roots[i], 0, STAT_DT_INT, TRUE);
}

static tap_packet_status gen_tree_packet(stats_tree *st, const void *p)
{
    const zkh2_stat_rec *rec = (const zkh2_stat_rec *)p;
    int ticked = 0;
    if (rec == NULL)
        return TAP_PACKET_DONT_REDRAW;
    for (int i = 0; i < ZKH2_TREE_TICKS; i++) {
        int parent = 0;
        for (int d = 0; d < ZKH2_TREE_DEPTH && rec->tick[i][d] != NULL; d++) {
            int last = d + 1 == ZKH2_TREE_DEPTH || rec->tick[i][d + 1] == NULL;
            parent = tick_stat_node(st, rec->tick[i][d], parent, last ? FALSE : TRUE);
            ticked = 1;
        }
    }
    return ticked ? TAP_PACKET_REDRAW : TAP_PACKET_DONT_REDRAW;
}

#define ZKH2_STATS_CBS(i)                                                                  \
    static void gen_srt_init_##i(struct register_srt *srt _U_, GArray *a)                \
    {                                                                                      \
        gen_srt_init(i, a);                                                                \
    }                                                                                      \
    static tap_packet_status gen_srt_packet_##i(void *pss, packet_info *pinfo,             \
                                                epan_dissect_t *edt _U_, const void *prv,  \
                                                tap_flags_t flags _U_)                     \
    {                                                                                      \
        return gen_srt_packet(pss, pinfo, prv);                                            \
    }                                                                                      \
    static void gen_tree_init_##i(stats_tree *st) { gen_tree_init(i, st); }                \
    static tap_packet_status gen_tree_packet_##i(stats_tree *st, packet_info *pinfo _U_,   \
                                                 epan_dissect_t *edt _U_, const void *p,   \
                                                 tap_flags_t flags _U_)                    \
    {                                                                                      \
        return gen_tree_packet(st, p);                                                     \
    }
ZKH2_STATS_CBS(0)
ZKH2_STATS_CBS(1)

int zkh2_stats_register(int proto, const char *name, const zkh2_srt_table *tables,
                        int n_tables, const char *tree_title, const char *const *tree_roots,
                        int n_roots)
{
    if (zkh2_stats_used >= ZKH2_STATS_SLOTS || n_tables > ZKH2_SRT_TABLES)
        return -1;
    int i = zkh2_stats_used++;
    zkh2_stats[i].name = g_strdup(name);
    zkh2_stats[i].n_tables = n_tables;
    for (int t = 0; t < n_tables; t++) {
        zkh2_stats[i].tables[t].title = g_strdup(tables[t].title);
        zkh2_stats[i].tables[t].filter = g_strdup(tables[t].filter);
        zkh2_stats[i].tables[t].rows =
            (const char *const *)copy_strings(tables[t].rows, tables[t].n_rows);
        zkh2_stats[i].tables[t].n_rows = tables[t].n_rows;
    }
    zkh2_stats[i].roots = copy_strings(tree_roots, n_roots);
    zkh2_stats[i].n_roots = n_roots;
    zkh2_stats[i].tap = register_tap(zkh2_stats[i].name);
    if (n_tables > 0) {
        if (i == 0)
            register_srt_table(proto, zkh2_stats[i].name, n_tables, gen_srt_packet_0,
                               gen_srt_init_0, NULL);
        else
            register_srt_table(proto, zkh2_stats[i].name, n_tables, gen_srt_packet_1,
                               gen_srt_init_1, NULL);
    }
    if (tree_title != NULL)
        stats_tree_register_plugin(zkh2_stats[i].name, zkh2_stats[i].name, g_strdup(tree_title),
                                   0, i == 0 ? gen_tree_packet_0 : gen_tree_packet_1,
                                   i == 0 ? gen_tree_init_0 : gen_tree_init_1, NULL);
    return zkh2_stats[i].tap;
}

int zkh2_stats_wanted(int tap) { return tap >= 0 && have_tap_listener(tap) ? 1 : 0; }

void zkh2_stats_queue(packet_info *pinfo, int tap, const zkh2_stat_rec *rec)
{
    if (tap < 0 || !have_tap_listener(tap))
        return;
    zkh2_stat_rec *copy = wmem_new(pinfo->pool, zkh2_stat_rec);
    memcpy(copy, rec, sizeof *copy);
    for (int i = 0; i < ZKH2_TREE_TICKS; i++)
        for (int d = 0; d < ZKH2_TREE_DEPTH; d++)
            if (rec->tick[i][d] != NULL)
                copy->tick[i][d] = wmem_strdup(pinfo->pool, rec->tick[i][d]);
    tap_queue_packet(tap, pinfo, copy);
}
