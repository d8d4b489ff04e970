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
