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
#endif
