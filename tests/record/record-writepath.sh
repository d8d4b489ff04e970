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

stop_servers() { for n in $SERVERS; do stop_server "$n"; done; }
show_server_logs() {
    for n in $SERVERS; do [ -f "$WORK/server-$n.log" ] && { log "--- tail of server-$n.log"; tail -n 15 "$WORK/server-$n.log" >&2; }; done
}
trap_cleanup

mode_of() { fourlw "$((CLIENT_BASE + $1))" srvr | sed -n 's/^Mode: //p'; }

# wait_modes: until servers 1-3 are leader or follower with exactly one leader, and server 4
# is an observer; prints the leader's number
wait_modes() {
    local n m leader count
    for _ in $(seq 120); do
        leader=""; count=0
        for n in $SERVERS; do
            m=$(mode_of "$n")
            case "$n:$m" in
                "$OBSERVER:observer") count=$((count + 1)) ;;
                "$OBSERVER:"*) ;;
                *:leader) leader=$n; count=$((count + 1)) ;;
                *:follower) count=$((count + 1)) ;;
            esac
        done
        if [ -n "$leader" ] && [ "$count" -eq 4 ]; then echo "$leader"; return 0; fi
        sleep 0.5
    done
    die "servers $SERVERS did not settle on a leader, two followers and an observer"
}

start_server() {
    local n=$1
    local cp="/etc/zookeeper/conf:$ZK_JAR"
    [ -f /usr/share/java/slf4j-simple.jar ] && cp="$cp:/usr/share/java/slf4j-simple.jar"
    (cd "$WORK" && exec java -Xmx128m \
        -Djava.net.preferIPv4Stack=true \
        -Dzookeeper.admin.enableServer=false \
        -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
        -cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$WORK/zoo$n.cfg" \
        >>"$WORK/server-$n.log" 2>&1) &
    PIDS[$n]=$!
    log "server $n started (pid ${PIDS[$n]})"
}

client() {
    log "client against the $1 (server $2, port $((CLIENT_BASE + $2)))"
    "$PY" "$SCRIPT_DIR/writepath_client.py" "$1" "$HOST:$((CLIENT_BASE + $2))" >>"$WORK/client.log" 2>&1 \
        || { cat "$WORK/client.log" >&2; die "client against the $1 failed"; }
}

# ------------------------------------------------------------------- setup
case "$WORK" in /tmp/?*|/var/tmp/?*) ;; *) die "ZK_RECORD_WORKDIR must be below /tmp or /var/tmp" ;; esac
for n in $SERVERS; do
    for p in $((CLIENT_BASE + n)) $((QUORUM_BASE + n)) $((ELECT_BASE + n)); do
        if ss -Htln "sport = :$p" | grep -q .; then die "port $p is in use"; fi
    done
done
rm -rf "$WORK"
mkdir -p "$WORK"
for n in $SERVERS; do
    mkdir -p "$WORK/d$n"
    echo "$n" >"$WORK/d$n/myid"
    # tickTime 500 ms: the leader PINGs every learner every 250 ms.
    {
        cat <<EOF
tickTime=500
initLimit=20
syncLimit=10
dataDir=$WORK/d$n
clientPort=$((CLIENT_BASE + n))
clientPortAddress=$HOST
4lw.commands.whitelist=*
admin.enableServer=false
reconfigEnabled=false
standaloneEnabled=false
server.1=$HOST:$((QUORUM_BASE + 1)):$((ELECT_BASE + 1))
server.2=$HOST:$((QUORUM_BASE + 2)):$((ELECT_BASE + 2))
server.3=$HOST:$((QUORUM_BASE + 3)):$((ELECT_BASE + 3))
server.4=$HOST:$((QUORUM_BASE + 4)):$((ELECT_BASE + 4)):observer
EOF
        [ "$n" -eq "$OBSERVER" ] && echo "peerType=observer"
    } >"$WORK/zoo$n.cfg"
done

TMP="$WORK/writepath.pcapng"
start_dumpcap "$FILTER" "$TMP" "$WORK/dumpcap.log"

# ------------------------------------------------------------------- scenario
log "initial election"
for n in $SERVERS; do start_server "$n"; sleep 0.3; done
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
mkdir -p "$OUT_DIR"
chmod 0644 "$TMP"
mv -f "$TMP" "$OUT_DIR/writepath.pcapng"
F="$OUT_DIR/writepath.pcapng"
if [ -n "${SUDO_UID:-}" ]; then chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$F"; fi
size=$(stat -c %s "$F")
[ "$size" -le "$MAX_BYTES" ] || die "capture too big ($size bytes)"
log "wrote ${F#"$REPO_DIR"/} ($size bytes; leader $LEADER, follower $FOLLOWER, observer $OBSERVER)"
EXPECTED="$REPO_DIR/tests/expected/writepath-chain.json"
"$PY" "$SCRIPT_DIR/writepath_chain.py" "$F" --check --out "$EXPECTED" || die "chain check failed"
if [ -n "${SUDO_UID:-}" ]; then chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$EXPECTED"; fi
log "wrote ${EXPECTED#"$REPO_DIR"/}"
log "done"
