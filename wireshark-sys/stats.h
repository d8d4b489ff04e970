/* Statistics for the ZooKeeper dissector: a tap, a service response time table
 * (tshark -z zookeeper,srt) and a stats tree (tshark -z zookeeper,tree). The tap
 * callbacks are C because their signatures (gboolean/bool, tap_flags_t) follow the
 * installed headers; the dissector queues one plain record per PDU through
 * zkh2_zk_tap_queue. */
#ifndef ZKH2_STATS_H
#define ZKH2_STATS_H
#include <stdint.h>
#include <epan/packet.h>

/* A value and its name, for the SRT rows and the stats tree labels. The names must
 * live for the rest of the process. */
typedef struct zkh2_name {
    int32_t value;
    const char *name;
} zkh2_name;

/* What one ZooKeeper PDU contributes to the statistics. */
typedef struct zkh2_zk_tap {
    /* 1: request, 2: reply, 3: notification, 4: handshake or other. */
    int32_t kind;
    /* The request's opcode (on a reply: of the paired request), when known. */
    int32_t opcode;
    int32_t has_opcode;
    /* The reply's error code. */
    int32_t err;
    /* Replies: 1 when paired; then the request's capture time. */
    int32_t paired;
    int64_t req_secs;
    int32_t req_nsecs;
    /* The connection's session id, when its handshake was seen. */
    int32_t has_session;
    uint64_t session_id;
} zkh2_zk_tap;

/* Registers the "zookeeper" tap, the SRT table and the stats tree for `proto`.
 * Call once from the protocol's register routine. The tables are copied. */
void zkh2_zk_stats_register(int proto, const zkh2_name *opcodes, int n_opcodes,
                            const zkh2_name *errors, int n_errors);

/* Queues one record on the tap (copied into the packet's pool) when a listener is
 * attached; does nothing otherwise. */
void zkh2_zk_tap_queue(packet_info *pinfo, const zkh2_zk_tap *rec);

/* ---- Generic statistics: a tap whose records say which SRT rows a response counts in and
 * which stats tree nodes to tick. Protocol-neutral; a protocol describes its tables. ---- */
#define ZKH2_SRT_TABLES 4
#define ZKH2_TREE_TICKS 4
#define ZKH2_TREE_DEPTH 3

/* One SRT table: its title, the filter its rows stand for, and its row names. */
typedef struct zkh2_srt_table {
    const char *title;
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
     * ends a path); each node on a path is ticked. */
    const char *tick[ZKH2_TREE_TICKS][ZKH2_TREE_DEPTH];
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
#endif
