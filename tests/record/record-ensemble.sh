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
FILTER="tcp portrange 22181-22183 or tcp portrange 22888-22890 or tcp portrange 23888-23890"

LOG_TAG=ensemble
# shellcheck source=tests/record/lib.sh
. "$SCRIPT_DIR/lib.sh"

require_root "$@"

ensure_deps() {
    local -a pkgs=()
    [ -f "$ZK_JAR" ] && command -v java >/dev/null 2>&1 || pkgs+=(zookeeper)
    { [ -x "$PY" ] && "$PY" -c 'import kazoo' >/dev/null 2>&1; } || pkgs+=(python3 python3-kazoo)
    { command -v dumpcap && command -v tshark; } >/dev/null 2>&1 || pkgs+=(tshark)
    install_missing "${pkgs[@]}"
}
ensure_deps

declare -A PIDS=()

stop_server() {
    local n=$1 sig=${2:-TERM} pid=${PIDS[$1]:-}
    [ -n "$pid" ] || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    PIDS[$n]=""
}

stop_servers() { for n in 1 2 3; do stop_server "$n"; done; }
show_server_logs() {
    for n in 1 2 3; do [ -f "$WORK/server-$n.log" ] && { log "--- tail of server-$n.log"; tail -n 15 "$WORK/server-$n.log" >&2; }; done
}
trap_cleanup

mode_of() { fourlw "$((22180 + $1))" srvr | sed -n 's/^Mode: //p'; }

# wait_modes N...: until every listed server is leader or follower, and exactly one leads;
# prints the leader's number
wait_modes() {
    local n m leader count
    for _ in $(seq 120); do
        leader=""; count=0
        for n in "$@"; do
            m=$(mode_of "$n")
            case "$m" in
                leader) leader=$n; count=$((count + 1)) ;;
                follower) count=$((count + 1)) ;;
            esac
        done
        if [ -n "$leader" ] && [ "$count" -eq "$#" ]; then echo "$leader"; return 0; fi
        sleep 0.5
    done
    die "servers $* did not settle on a leader"
}

start_server() {
    local n=$1
    local cp="/etc/zookeeper/conf:$ZK_JAR"
    [ -f /usr/share/java/slf4j-simple.jar ] && cp="$cp:/usr/share/java/slf4j-simple.jar"
    (cd "$WORK" && exec java -Xmx128m \
        -Djava.net.preferIPv4Stack=true \
        -Dzookeeper.admin.enableServer=false \
        -Dzookeeper.snapshotSizeFactor=-1 \
        -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
        -cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$WORK/zoo$n.cfg" \
        >>"$WORK/server-$n.log" 2>&1) &
    PIDS[$n]=$!
    log "server $n started (pid ${PIDS[$n]})"
}

client() {
    "$PY" "$SCRIPT_DIR/ensemble_client.py" "$1" "$2" >>"$WORK/client.log" 2>&1 \
        || { cat "$WORK/client.log" >&2; die "client phase $1 failed"; }
}

# ------------------------------------------------------------------- setup
case "$WORK" in /tmp/?*|/var/tmp/?*) ;; *) die "ZK_RECORD_WORKDIR must be below /tmp or /var/tmp" ;; esac
for p in 22181 22182 22183 22888 22889 22890 23888 23889 23890; do
    if ss -Htln "sport = :$p" | grep -q .; then die "port $p is in use"; fi
done
rm -rf "$WORK"
mkdir -p "$WORK"
for n in 1 2 3; do
    mkdir -p "$WORK/d$n"
    echo "$n" >"$WORK/d$n/myid"
    # tickTime 500 ms: leader PINGs every 250 ms, election and sync take a few seconds.
    # snapshotSizeFactor=-1 (JVM flag above) turns off syncing a far-behind learner from the
    # txn log, so a learner with an empty data dir gets a SNAP.
    cat >"$WORK/zoo$n.cfg" <<EOF
tickTime=500
initLimit=20
syncLimit=10
dataDir=$WORK/d$n
clientPort=$((22180 + n))
clientPortAddress=$HOST
4lw.commands.whitelist=*
admin.enableServer=false
reconfigEnabled=false
standaloneEnabled=false
server.1=$HOST:22888:23888
server.2=$HOST:22889:23889
server.3=$HOST:22890:23890
EOF
done

TMP="$WORK/ensemble.pcapng"
start_dumpcap "$FILTER" "$TMP" "$WORK/dumpcap.log"

# ------------------------------------------------------------------- scenario
log "phase 1: initial election"
for n in 1 2 3; do start_server "$n"; sleep 0.3; done
LEADER=$(wait_modes 1 2 3)
log "leader is server $LEADER"
FOLLOWER=$(( LEADER % 3 + 1 ))
client write "$HOST:$((22180 + FOLLOWER))"
sleep 1

log "phase 2: kill -9 the leader ($LEADER), re-election"
OLD=$LEADER
stop_server "$OLD" KILL
REST=()
for n in 1 2 3; do [ "$n" -ne "$OLD" ] && REST+=("$n"); done
LEADER=$(wait_modes "${REST[@]}")
log "new leader is server $LEADER"
client again "$HOST:$((22180 + LEADER))"

log "phase 3: restart server $OLD (re-joins with its data: DIFF/TRUNC)"
start_server "$OLD"
wait_modes 1 2 3 >/dev/null
sleep 1

log "phase 4: wipe a follower and restart it (SNAP)"
WIPE=""
for n in 1 2 3; do [ "$n" -ne "$LEADER" ] && [ "$n" -ne "$OLD" ] && WIPE=$n; done
[ -n "$WIPE" ] || WIPE=$OLD
stop_server "$WIPE"
rm -rf "$WORK/d$WIPE/version-2"
start_server "$WIPE"
wait_modes 1 2 3 >/dev/null
client final "$HOST:$((22180 + WIPE))"
sleep 1.5

stop_dumpcap
stop_servers

# ------------------------------------------------------------------- checks
mkdir -p "$OUT_DIR"
chmod 0644 "$TMP"
mv -f "$TMP" "$OUT_DIR/ensemble.pcapng"
F="$OUT_DIR/ensemble.pcapng"
if [ -n "${SUDO_UID:-}" ]; then chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$F"; fi
size=$(stat -c %s "$F")
[ "$size" -le "$MAX_BYTES" ] || die "capture too big ($size bytes)"
log "wrote ${F#"$REPO_DIR"/} ($size bytes)"
"$PY" "$SCRIPT_DIR/ensemble_summarize.py" "$F" \
    --expect-zab FOLLOWERINFO,LEADERINFO,ACKEPOCH,NEWLEADER,UPTODATE,PING,REQUEST,PROPOSAL,ACK,COMMIT,DIFF,SNAP \
    --expect-election LOOKING,FOLLOWING,LEADING \
    || die "content check failed"
log "done"
