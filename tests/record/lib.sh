# Shared by the recorders of h2 and gRPC captures (sourced; the caller defines log and
# sets WORK): the servers and dumpcap started by a recording, stopped on exit however it
# ends; the work dir kept for its logs when the recording failed.
declare -a SERVER_PIDS=()
DUMPCAP_PID=""

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

cleanup() {
    local rc=$?
    stop_dumpcap
    stop_servers
    if [ "$rc" -ne 0 ]; then
        log "FAILED (exit $rc); logs kept in $WORK"
    elif [ -z "${KEEP_WORKDIR:-}" ]; then
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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

