# Shared by the recorders (sourced right after their settings, before anything runs). It only
# defines functions and the state below; the caller sets LOG_TAG, WORK (and PY, HOST for
# fourlw), and calls require_root, install_missing and trap_cleanup where it needs them.
#
# The servers and dumpcap started by a recording are stopped on exit however it ends; the work
# dir is kept for its logs when the recording failed. A recorder whose servers are not in
# SERVER_PIDS redefines stop_servers after sourcing, and show_server_logs to print the tail of
# their logs on failure.
declare -a SERVER_PIDS=()
DUMPCAP_PID=""

log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
# tshark without the "Running as user root" warning
tsh() { tshark "$@" 2> >(grep -v '^Running as user' >&2 || true); }
die() { log "ERROR: $*"; exit 1; }

# require_root "$@": re-run the script under sudo unless it runs as root (dumpcap on lo, apt-get)
require_root() {
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "must run as root (dumpcap on lo, apt-get)"
        log "re-running under sudo"
        exec sudo -E bash "$0" "$@"
    fi
}

# install_missing PKG...: apt-get install the packages, if any are named
install_missing() {
    if [ "$#" -gt 0 ]; then
        log "installing missing packages: $*"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        apt-get install -y "$@"
    fi
}

# start_dumpcap FILTER FILE LOG: capture on lo into FILE until stop_dumpcap; returns once
# dumpcap has the capture open (it writes the pcapng section/interface blocks then)
start_dumpcap() {
    local filter=$1 file=$2 dlog=$3
    dumpcap -q -i lo -f "$filter" -w "$file" >"$dlog" 2>&1 &
    DUMPCAP_PID=$!
    for _ in $(seq 100); do
        [ -s "$file" ] && break
        kill -0 "$DUMPCAP_PID" 2>/dev/null || { cat "$dlog" >&2; die "dumpcap failed"; }
        sleep 0.1
    done
    [ -s "$file" ] || die "dumpcap did not start"
    sleep 1
}

stop_dumpcap() {
    if [ -n "$DUMPCAP_PID" ]; then
        kill -INT "$DUMPCAP_PID" 2>/dev/null || true
        wait "$DUMPCAP_PID" 2>/dev/null || true
        DUMPCAP_PID=""
    fi
}

stop_servers() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    SERVER_PIDS=()
}

show_server_logs() { :; }

cleanup() {
    local rc=$?
    stop_dumpcap
    stop_servers || true
    if [ "$rc" -ne 0 ]; then
        log "FAILED (exit $rc); logs kept in $WORK"
        show_server_logs || true
    elif [ -z "${KEEP_WORKDIR:-}" ]; then
        rm -rf "$WORK"
    fi
    exit "$rc"
}

# trap_cleanup: from here on, cleanup runs on exit
trap_cleanup() {
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}

listening() { ss -Hltn "sport = :$1" | grep -q LISTEN; }

# wait until no connection on the ports is open or closing (TIME-WAIT is fine)
wait_quiet() {
    local filter="" p
    for p in "$@"; do filter="$filter${filter:+ or }sport = :$p or dport = :$p"; done
    for _ in $(seq 50); do
        [ -z "$(ss -Htan "( $filter )" | grep -vE '^(LISTEN|TIME-WAIT)' || true)" ] && break
        sleep 0.1
    done
}

# fourlw PORT WORD: the reply of a four-letter word from $HOST, empty when the server does
# not answer
fourlw() {
    "$PY" - "$HOST" "$1" "$2" <<'EOF' || true
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    s.sendall(sys.argv[3].encode())
    out = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
    sys.stdout.write(out.decode(errors="replace"))
except OSError:
    pass
EOF
}

# ------------------------------------------------------------ ZooKeeper ensembles
# For the ensemble recorders: servers $SERVERS (numbers), server n listening for clients on
# CLIENT_BASE + n, for the quorum on QUORUM_BASE + n and for elections on ELECT_BASE + n;
# server $OBSERVER (if set) is an observer. ZK_JAR, PY and HOST as in the caller.
declare -A PIDS=()

ensure_ensemble_deps() {
    local -a pkgs=()
    [ -f "$ZK_JAR" ] && command -v java >/dev/null 2>&1 || pkgs+=(zookeeper)
    { [ -x "$PY" ] && "$PY" -c 'import kazoo' >/dev/null 2>&1; } || pkgs+=(python3 python3-kazoo)
    { command -v dumpcap && command -v tshark; } >/dev/null 2>&1 || pkgs+=(tshark)
    install_missing "${pkgs[@]}"
}

# ensemble_stop N [SIGNAL]: stop server N (TERM by default), KILL after 10 s
ensemble_stop() {
    local n=$1 sig=${2:-TERM} pid=${PIDS[$1]:-}
    [ -n "$pid" ] || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    PIDS[$n]=""
}

ensemble_stop_all() { local n; for n in $SERVERS; do ensemble_stop "$n"; done; }

ensemble_show_logs() {
    local n
    for n in $SERVERS; do
        if [ -f "$WORK/server-$n.log" ]; then log "--- tail of server-$n.log"; tail -n 15 "$WORK/server-$n.log" >&2; fi
    done
}

# ensemble_start N [JVM-OPTION...]: start server N in the background
ensemble_start() {
    local n=$1; shift
    local cp="/etc/zookeeper/conf:$ZK_JAR"
    [ -f /usr/share/java/slf4j-simple.jar ] && cp="$cp:/usr/share/java/slf4j-simple.jar"
    (cd "$WORK" && exec java -Xmx128m \
        -Djava.net.preferIPv4Stack=true \
        -Dzookeeper.admin.enableServer=false \
        "$@" \
        -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
        -cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$WORK/zoo$n.cfg" \
        >>"$WORK/server-$n.log" 2>&1) &
    PIDS[$n]=$!
    log "server $n started (pid ${PIDS[$n]})"
}

mode_of() { fourlw "$((CLIENT_BASE + $1))" srvr | sed -n 's/^Mode: //p'; }

# wait_modes [N...]: until every listed server (default: all) is leader or follower with
# exactly one leader, and the observer, if listed, is an observer; prints the leader's number
wait_modes() {
    local n m leader count
    # shellcheck disable=SC2086
    [ "$#" -gt 0 ] || set -- $SERVERS
    for _ in $(seq 120); do
        leader=""; count=0
        for n in "$@"; do
            m=$(mode_of "$n")
            case "$n:$m" in
                "${OBSERVER:-}:observer") count=$((count + 1)) ;;
                "${OBSERVER:-}:"*) ;;
                *:leader) leader=$n; count=$((count + 1)) ;;
                *:follower) count=$((count + 1)) ;;
            esac
        done
        if [ -n "$leader" ] && [ "$count" -eq "$#" ]; then echo "$leader"; return 0; fi
        sleep 0.5
    done
    die "servers $* did not settle on a leader${OBSERVER:+ (server $OBSERVER: an observer)}"
}

# ensemble_prepare: a fresh $WORK with each server's data dir (myid) and zooN.cfg; fails
# when one of the ports is in use. tickTime 500 ms: the leader PINGs every learner every
# 250 ms, election and sync take a few seconds.
ensemble_prepare() {
    local n m p
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
EOF
            for m in $SERVERS; do
                if [ "$m" = "${OBSERVER:-}" ]; then
                    echo "server.$m=$HOST:$((QUORUM_BASE + m)):$((ELECT_BASE + m)):observer"
                else
                    echo "server.$m=$HOST:$((QUORUM_BASE + m)):$((ELECT_BASE + m))"
                fi
            done
            if [ "$n" = "${OBSERVER:-}" ]; then echo "peerType=observer"; fi
        } >"$WORK/zoo$n.cfg"
    done
}

# keep_capture TMP DEST: move the finished capture into place (owned by the sudo user); sets
# size, fails above MAX_BYTES
keep_capture() {
    local tmp=$1 dest=$2
    mkdir -p "$(dirname "$dest")"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$dest"
    if [ -n "${SUDO_UID:-}" ]; then chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$dest"; fi
    size=$(stat -c %s "$dest")
    [ "$size" -le "$MAX_BYTES" ] || die "capture too big ($size bytes)"
}
