/* See stats.h. */
#include <string.h>
#include <epan/tap.h>
#include <epan/srt_table.h>
#include <epan/stats_tree.h>
#include <epan/stat_tap_ui.h>
#include <ws_version.h>
#include <stdio.h>
#include <stdlib.h>
#include <epan/wmem_scopes.h>
#include "stats.h"

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
        srt_stat_table *tab = init_srt_table(d->title, NULL, srt_array, d->n_rows, d->column,
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
            int count = d >= rec->tick_from[i] ? 1 : 0;
            parent = increase_stat_node(st, rec->tick[i][d], parent, last ? FALSE : TRUE, count);
            ticked |= count;
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
        zkh2_stats[i].tables[t].column = tables[t].column ? g_strdup(tables[t].column) : NULL;
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

/* ------------------------------------------------------------------------------------
 * Stage times (one registration: ZooKeeper's write path). */

static struct {
    int tap;
    char *tap_name;
    char *cli;
    char *title;
    char **stages;
    int n_stages;
} zkh2_stages_reg;

/* One listener of `-z <cli>`: every duration seen, per stage and operation, in the order
 * the (stage, operation) pairs first appeared. */
typedef struct {
    char *filter;
    GPtrArray *keys;    /* "stage\top" strings */
    GHashTable *values; /* key -> GArray of gint64 */
} zkh2_stages_cli;

static void stages_cli_reset(void *p)
{
    zkh2_stages_cli *c = (zkh2_stages_cli *)p;
    g_hash_table_remove_all(c->values);
    g_ptr_array_set_size(c->keys, 0);
}

static tap_packet_status stages_cli_packet(void *p, packet_info *pinfo _U_,
                                           epan_dissect_t *edt _U_, const void *data,
                                           tap_flags_t flags _U_)
{
    zkh2_stages_cli *c = (zkh2_stages_cli *)p;
    const zkh2_stage_rec *rec = (const zkh2_stage_rec *)data;
    if (rec == NULL || rec->op == NULL)
        return TAP_PACKET_DONT_REDRAW;
    for (int s = 0; s < zkh2_stages_reg.n_stages && s < ZKH2_STAGES; s++) {
        if (!(rec->present & (1u << s)))
            continue;
        char *key = g_strdup_printf("%d\t%s", s, rec->op);
        GArray *v = (GArray *)g_hash_table_lookup(c->values, key);
        if (v == NULL) {
            v = g_array_new(FALSE, FALSE, sizeof(gint64));
            g_hash_table_insert(c->values, key, v);
            g_ptr_array_add(c->keys, key);
        } else {
            g_free(key);
        }
        gint64 ns = rec->ns[s];
        g_array_append_val(v, ns);
    }
    return TAP_PACKET_REDRAW;
}

static int cmp_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

static int cmp_keys(const void *a, const void *b)
{
    /* Stage order first (the number before the tab), then first appearance. */
    int x = atoi(*(char *const *)a), y = atoi(*(char *const *)b);
    return x - y;
}

static void stages_cli_draw(void *p)
{
    zkh2_stages_cli *c = (zkh2_stages_cli *)p;
    GPtrArray *keys = g_ptr_array_sized_new(c->keys->len);
    for (guint i = 0; i < c->keys->len; i++)
        g_ptr_array_add(keys, g_ptr_array_index(c->keys, i));
    /* g_ptr_array_sort is not stable everywhere: sort by stage with a stable pass. */
    for (guint i = 1; i < keys->len; i++)
        for (guint j = i; j > 0 && cmp_keys(&keys->pdata[j - 1], &keys->pdata[j]) > 0; j--) {
            gpointer t = keys->pdata[j];
            keys->pdata[j] = keys->pdata[j - 1];
            keys->pdata[j - 1] = t;
        }
    printf("\n====================================================================================================\n");
    printf("%s (milliseconds)\n", zkh2_stages_reg.title);
    printf("Filter: %s\n", c->filter ? c->filter : "");
    printf("%-26s %-22s %7s %10s %10s %10s %10s %10s\n", "Stage", "Operation", "Count", "Min",
           "Median", "90%", "Max", "Average");
    printf("----------------------------------------------------------------------------------------------------\n");
    for (guint i = 0; i < keys->len; i++) {
        const char *key = (const char *)g_ptr_array_index(keys, i);
        int stage = atoi(key);
        const char *op = strchr(key, '\t');
        GArray *v = (GArray *)g_hash_table_lookup(c->values, key);
        if (op == NULL || v == NULL || v->len == 0 || stage < 0 ||
            stage >= zkh2_stages_reg.n_stages)
            continue;
        g_array_sort(v, cmp_i64);
        gint64 *d = (gint64 *)(void *)v->data;
        guint n = v->len;
        double sum = 0;
        for (guint k = 0; k < n; k++)
            sum += (double)d[k];
        /* Nearest-rank percentiles. */
        guint med = (n + 1) / 2 - 1, p90 = (guint)((n * 9 + 9) / 10) - 1;
        printf("%-26s %-22s %7u %10.3f %10.3f %10.3f %10.3f %10.3f\n",
               zkh2_stages_reg.stages[stage], op + 1, n, d[0] / 1e6, d[med] / 1e6,
               d[p90 < n ? p90 : n - 1] / 1e6, d[n - 1] / 1e6, sum / n / 1e6);
    }
    printf("====================================================================================================\n");
    g_ptr_array_free(keys, TRUE);
}

static void stages_cli_finish(void *p)
{
    zkh2_stages_cli *c = (zkh2_stages_cli *)p;
    g_hash_table_destroy(c->values);
    g_ptr_array_free(c->keys, TRUE);
    g_free(c->filter);
    g_free(c);
}

/* stat_tap_init_cb returns bool from Wireshark 4.6 on (void before). */
#if WIRESHARK_VERSION_MAJOR > 4 || (WIRESHARK_VERSION_MAJOR == 4 && WIRESHARK_VERSION_MINOR >= 6)
#define ZKH2_STAT_INIT_RET bool
#define ZKH2_STAT_INIT_OK return true
#define ZKH2_STAT_INIT_FAILED return false
#else
#define ZKH2_STAT_INIT_RET void
#define ZKH2_STAT_INIT_OK return
#define ZKH2_STAT_INIT_FAILED return
#endif

static ZKH2_STAT_INIT_RET stages_cli_init(const char *opt_arg, void *userdata _U_)
{
    zkh2_stages_cli *c = g_new0(zkh2_stages_cli, 1);
    size_t n = strlen(zkh2_stages_reg.cli);
    if (opt_arg != NULL && strncmp(opt_arg, zkh2_stages_reg.cli, n) == 0 && opt_arg[n] == ',')
        c->filter = g_strdup(opt_arg + n + 1);
    c->keys = g_ptr_array_new();
    c->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)(void (*)(void))g_array_unref);
    GString *err = register_tap_listener(zkh2_stages_reg.tap_name, c, c->filter, 0,
                                         stages_cli_reset, stages_cli_packet, stages_cli_draw,
                                         stages_cli_finish);
    if (err != NULL) {
        fprintf(stderr, "tshark: couldn't register %s tap: %s\n", zkh2_stages_reg.cli, err->str);
        g_string_free(err, TRUE);
        stages_cli_finish(c);
        ZKH2_STAT_INIT_FAILED;
    }
    ZKH2_STAT_INIT_OK;
}

static void stages_tree_init(stats_tree *st)
{
    for (int s = 0; s < zkh2_stages_reg.n_stages; s++)
        stats_tree_create_node(st, zkh2_stages_reg.stages[s], 0, STAT_DT_INT, TRUE);
}

static tap_packet_status stages_tree_packet(stats_tree *st, packet_info *pinfo _U_,
                                            epan_dissect_t *edt _U_, const void *p,
                                            tap_flags_t flags _U_)
{
    const zkh2_stage_rec *rec = (const zkh2_stage_rec *)p;
    if (rec == NULL || rec->op == NULL)
        return TAP_PACKET_DONT_REDRAW;
    for (int s = 0; s < zkh2_stages_reg.n_stages && s < ZKH2_STAGES; s++) {
        if (!(rec->present & (1u << s)))
            continue;
        /* Microseconds: the stats tree averages integers. */
        gint64 us = rec->ns[s] / 1000;
        int v = us > G_MAXINT ? G_MAXINT : us < G_MININT ? G_MININT : (int)us;
        int node = avg_stat_node_add_value_int(st, zkh2_stages_reg.stages[s], 0, TRUE, v);
        avg_stat_node_add_value_int(st, rec->op, node, FALSE, v);
    }
    return TAP_PACKET_REDRAW;
}

static stat_tap_ui zkh2_stages_ui;

int zkh2_stages_register(const char *tap_name, const char *cli, const char *title,
                         const char *tree_title, const char *const *stages, int n_stages)
{
    if (zkh2_stages_reg.tap_name != NULL || n_stages > ZKH2_STAGES)
        return -1;
    zkh2_stages_reg.tap_name = g_strdup(tap_name);
    zkh2_stages_reg.cli = g_strdup(cli);
    zkh2_stages_reg.title = g_strdup(title);
    zkh2_stages_reg.stages = copy_strings(stages, n_stages);
    zkh2_stages_reg.n_stages = n_stages;
    zkh2_stages_reg.tap = register_tap(zkh2_stages_reg.tap_name);
    zkh2_stages_ui.group = REGISTER_STAT_GROUP_RESPONSE_TIME;
    zkh2_stages_ui.title = zkh2_stages_reg.title;
    zkh2_stages_ui.cli_string = zkh2_stages_reg.cli;
    zkh2_stages_ui.tap_init_cb = stages_cli_init;
    zkh2_stages_ui.nparams = 0;
    zkh2_stages_ui.params = NULL;
    register_stat_tap_ui(&zkh2_stages_ui, NULL);
    stats_tree_register_plugin(zkh2_stages_reg.tap_name, zkh2_stages_reg.tap_name,
                               g_strdup(tree_title), 0, stages_tree_packet, stages_tree_init,
                               NULL);
    return zkh2_stages_reg.tap;
}

void zkh2_stages_queue(packet_info *pinfo, int tap, const zkh2_stage_rec *rec)
{
    if (tap < 0 || !have_tap_listener(tap) || rec->op == NULL)
        return;
    zkh2_stage_rec *copy = wmem_new(pinfo->pool, zkh2_stage_rec);
    memcpy(copy, rec, sizeof *copy);
    copy->op = wmem_strdup(pinfo->pool, rec->op);
    tap_queue_packet(tap, pinfo, copy);
}
