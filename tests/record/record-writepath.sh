#!/usr/bin/env bash
# Record one ZooKeeper write at a time through a real ensemble on loopback into
# tests/captures/ensemble/writepath.pcapng: 3 voting servers (1, 2, 3) plus one observer (4),
# client ports 24181-24184, quorum (zab) 24888-24891, election (zkelection) 25888-25891.
#
#   bash tests/record/record-writepath.sh
#
# Debian 12, needs root (dumpcap on lo; apt-get for missing packages). See
# tests/record/README.md, section "Write-path capture".
#
# Scenario: start servers 1-4 (initial election, the observer joins as OBSERVING) -> run
# writepath_client.py against a follower, then against the leader, then against the observer
# (createSession, create, create ephemeral, setData, create, multi, delete, sync, getData,
# closeSession) -> settle -> stop. Then writepath_chain.py checks that every write can be
# followed: REQUEST (from a learner), PROPOSAL, ACK, COMMIT, INFORM (observer), reply.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/../.." && pwd)"
OUT_DIR="${ZK_CAPTURE_DIR:-$REPO_DIR/tests/captures/ensemble}"
WORK="${ZK_RECORD_WORKDIR:-/tmp/zk-writepath}"
HOST=127.0.0.1
PY=/usr/bin/python3
ZK_JAR=/usr/share/java/zookeeper.jar
MAX_BYTES=$((1024 * 1024 - 1))
CLIENT_BASE=24180   # client port of server n: 24180 + n
QUORUM_BASE=24887   # quorum port of server n: 24887 + n
ELECT_BASE=25887    # election port of server n: 25887 + n
FILTER="tcp portrange 24181-24184 or tcp portrange 24888-24891 or tcp portrange 25888-25891"
SERVERS="1 2 3 4"
OBSERVER=4

LOG_TAG=writepath
# shellcheck source=tests/record/lib.sh
. "$SCRIPT_DIR/lib.sh"

require_root "$@"
ensure_ensemble_deps
stop_servers() { ensemble_stop_all; }
show_server_logs() { ensemble_show_logs; }
trap_cleanup

client() {
    log "client against the $1 (server $2, port $((CLIENT_BASE + $2)))"
    "$PY" "$SCRIPT_DIR/writepath_client.py" "$1" "$HOST:$((CLIENT_BASE + $2))" >>"$WORK/client.log" 2>&1 \
        || { cat "$WORK/client.log" >&2; die "client against the $1 failed"; }
}

# ------------------------------------------------------------------- setup
ensemble_prepare
TMP="$WORK/writepath.pcapng"
start_dumpcap "$FILTER" "$TMP" "$WORK/dumpcap.log"

# ------------------------------------------------------------------- scenario
log "initial election"
for n in $SERVERS; do ensemble_start "$n"; sleep 0.3; done
LEADER=$(wait_modes)
FOLLOWER=""
for n in 1 2 3; do [ "$n" -ne "$LEADER" ] && [ -z "$FOLLOWER" ] && FOLLOWER=$n; done
log "leader is server $LEADER; first follower is server $FOLLOWER; observer is server $OBSERVER"
echo "leader=$LEADER follower=$FOLLOWER observer=$OBSERVER" >"$WORK/roles"
sleep 1

client follower "$FOLLOWER"
sleep 0.5
client leader "$LEADER"
sleep 0.5
client observer "$OBSERVER"
sleep 1.5

stop_dumpcap
stop_servers

# ------------------------------------------------------------------- checks
F="$OUT_DIR/writepath.pcapng"
keep_capture "$TMP" "$F"
log "wrote ${F#"$REPO_DIR"/} ($size bytes; leader $LEADER, follower $FOLLOWER, observer $OBSERVER)"
EXPECTED="$REPO_DIR/tests/expected/writepath-chain.json"
"$PY" "$SCRIPT_DIR/writepath_chain.py" "$F" --check --out "$EXPECTED" || die "chain check failed"
if [ -n "${SUDO_UID:-}" ]; then chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$EXPECTED"; fi
log "wrote ${EXPECTED#"$REPO_DIR"/}"
log "done"
