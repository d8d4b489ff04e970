/* See stats.h. */
#include <string.h>
#include <epan/tap.h>
#include <epan/srt_table.h>
#include <epan/stats_tree.h>
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
