/* Statistics of the plugin's protocols: per protocol a tap, service response time tables
 * (tshark -z <name>,srt; Statistics > Service Response Time) and a stats tree (tshark -z
 * <name>,tree). The tap callbacks are C because their signatures (gboolean/bool,
 * tap_flags_t) follow the installed headers. Protocol-neutral: a protocol describes its
 * tables once, and queues per PDU a record that says which SRT rows a response counts in
 * and which stats tree nodes to tick. */
#ifndef ZKH2_STATS_H
#define ZKH2_STATS_H
#include <stdint.h>
#include <epan/packet.h>

#define ZKH2_SRT_TABLES 4
#define ZKH2_TREE_TICKS 4
#define ZKH2_TREE_DEPTH 4

/* One SRT table: its title, the title of its row column (NULL: epan's default), the filter
 * its rows stand for, and its row names. */
typedef struct zkh2_srt_table {
    const char *title;
    const char *column;
    const char *filter;
    const char *const *rows;
    int n_rows;
} zkh2_srt_table;

/* What one PDU contributes. */
typedef struct zkh2_stat_rec {
    /* A response: its row in each SRT table (-1: not counted there), and its request's
     * capture time. */
    int32_t srt_row[ZKH2_SRT_TABLES];
    int64_t req_secs;
    int32_t req_nsecs;
    /* Stats tree: up to ZKH2_TREE_TICKS paths of up to ZKH2_TREE_DEPTH labels each (NULL
     * ends a path). The nodes of path i from depth tick_from[i] on are ticked; those above
     * are only found (or made), because another path of the same record ticks them. */
    const char *tick[ZKH2_TREE_TICKS][ZKH2_TREE_DEPTH];
    int32_t tick_from[ZKH2_TREE_TICKS];
} zkh2_stat_rec;

/* Registers tap `name` with SRT tables (`-z <name>,srt`, Statistics > Service Response
 * Time) and a stats tree (`-z <name>,tree`) titled `tree_title` whose top-level nodes are
 * created in the order of `tree_roots`. Returns the tap id, or -1. Strings are copied. */
int zkh2_stats_register(int proto, const char *name, const zkh2_srt_table *tables,
                        int n_tables, const char *tree_title, const char *const *tree_roots,
                        int n_roots);
/* Queues a record (labels and record copied into the packet's pool) when a listener is
 * attached. */
void zkh2_stats_queue(packet_info *pinfo, int tap, const zkh2_stat_rec *rec);
/* 1 when a listener is attached to `tap`. */
int zkh2_stats_wanted(int tap);

/* Stage times of one operation (ZooKeeper writes through the ensemble): the operation's
 * name, and for each of the registration's stages its duration in nanoseconds when
 * `present` has the stage's bit. */
#define ZKH2_STAGES 8
typedef struct zkh2_stage_rec {
    const char *op;
    int64_t ns[ZKH2_STAGES];
    uint32_t present;
} zkh2_stage_rec;

/* Registers tap `tap_name` with a statistic of stage times per stage and operation:
 * `-z <cli>[,<filter>]` prints count, minimum, median, 90th percentile, maximum and
 * average per stage and operation (tshark), and a stats tree `<tap_name>` titled
 * `tree_title` (Statistics menu; `-z <tap_name>,tree`) averages them. Returns the tap id,
 * or -1. Strings are copied. */
int zkh2_stages_register(const char *tap_name, const char *cli, const char *title,
                         const char *tree_title, const char *const *stages, int n_stages);
/* Queues a record when a listener is attached. */
void zkh2_stages_queue(packet_info *pinfo, int tap, const zkh2_stage_rec *rec);
#endif
