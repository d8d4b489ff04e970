#!/usr/bin/env bash
# Record a real 3-node ZooKeeper 3.8 ensemble on loopback into
# tests/captures/ensemble/ensemble.pcapng: leader election (zkelection, ports 23888-23890),
# the quorum protocol (zab, 22888-22890) and the client traffic (22181-22183).
#
#   bash tests/record/record-ensemble.sh
#
# Debian 12, needs root (dumpcap on lo; apt-get for missing packages). See
# tests/record/README.md, section "Ensemble capture".
#
# Scenario: start servers 1, 2, 3 (initial election) -> write through a follower
# (REQUEST/PROPOSAL/ACK/COMMIT) -> kill -9 the leader (re-election) -> write again ->
# restart the old leader (it re-joins with its data: DIFF or TRUNC) -> stop a follower, wipe
# its data and restart it (SNAP: a raw snapshot stream ending in "BenWasHere") -> write once
# more -> stop.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/../.." && pwd)"
OUT_DIR="${ZK_CAPTURE_DIR:-$REPO_DIR/tests/captures/ensemble}"
WORK="${ZK_RECORD_WORKDIR:-/tmp/zk-ensemble}"
HOST=127.0.0.1
PY=/usr/bin/python3
ZK_JAR=/usr/share/java/zookeeper.jar
MAX_BYTES=$((2 * 1024 * 1024 - 1))
SERVERS="1 2 3"
CLIENT_BASE=22180   # client port of server n: 22180 + n
QUORUM_BASE=22887   # quorum port of server n: 22887 + n
ELECT_BASE=23887    # election port of server n: 23887 + n
# turns off syncing a far-behind learner from the txn log, so that a learner with an empty
# data dir gets a SNAP
SNAP_FLAG=(-Dzookeeper.snapshotSizeFactor=-1)
FILTER="tcp portrange 22181-22183 or tcp portrange 22888-22890 or tcp portrange 23888-23890"

LOG_TAG=ensemble
# shellcheck source=tests/record/lib.sh
. "$SCRIPT_DIR/lib.sh"

require_root "$@"
ensure_ensemble_deps
stop_servers() { ensemble_stop_all; }
show_server_logs() { ensemble_show_logs; }
trap_cleanup

client() {
    "$PY" "$SCRIPT_DIR/ensemble_client.py" "$1" "$2" >>"$WORK/client.log" 2>&1 \
        || { cat "$WORK/client.log" >&2; die "client phase $1 failed"; }
}

# ------------------------------------------------------------------- setup
ensemble_prepare
TMP="$WORK/ensemble.pcapng"
start_dumpcap "$FILTER" "$TMP" "$WORK/dumpcap.log"

# ------------------------------------------------------------------- scenario
log "phase 1: initial election"
for n in 1 2 3; do ensemble_start "$n" "${SNAP_FLAG[@]}"; sleep 0.3; done
LEADER=$(wait_modes 1 2 3)
log "leader is server $LEADER"
FOLLOWER=$(( LEADER % 3 + 1 ))
client write "$HOST:$((CLIENT_BASE + FOLLOWER))"
sleep 1

log "phase 2: kill -9 the leader ($LEADER), re-election"
OLD=$LEADER
ensemble_stop "$OLD" KILL
REST=()
for n in 1 2 3; do [ "$n" -ne "$OLD" ] && REST+=("$n"); done
LEADER=$(wait_modes "${REST[@]}")
log "new leader is server $LEADER"
client again "$HOST:$((CLIENT_BASE + LEADER))"

log "phase 3: restart server $OLD (re-joins with its data: DIFF/TRUNC)"
ensemble_start "$OLD" "${SNAP_FLAG[@]}"
wait_modes 1 2 3 >/dev/null
sleep 1

log "phase 4: wipe a follower and restart it (SNAP)"
WIPE=""
for n in 1 2 3; do [ "$n" -ne "$LEADER" ] && [ "$n" -ne "$OLD" ] && WIPE=$n; done
[ -n "$WIPE" ] || WIPE=$OLD
ensemble_stop "$WIPE"
rm -rf "$WORK/d$WIPE/version-2"
ensemble_start "$WIPE" "${SNAP_FLAG[@]}"
wait_modes 1 2 3 >/dev/null
client final "$HOST:$((CLIENT_BASE + WIPE))"
sleep 1.5

stop_dumpcap
stop_servers

# ------------------------------------------------------------------- checks
F="$OUT_DIR/ensemble.pcapng"
keep_capture "$TMP" "$F"
log "wrote ${F#"$REPO_DIR"/} ($size bytes)"
"$PY" "$SCRIPT_DIR/ensemble_summarize.py" "$F" \
    --expect-zab FOLLOWERINFO,LEADERINFO,ACKEPOCH,NEWLEADER,UPTODATE,PING,REQUEST,PROPOSAL,ACK,COMMIT,DIFF,SNAP \
    --expect-election LOOKING,FOLLOWING,LEADING \
    || die "content check failed"
log "done"
