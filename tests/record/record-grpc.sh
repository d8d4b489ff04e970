#!/usr/bin/env bash
# Record real gRPC traffic on loopback into the golden captures tests/captures/grpc/:
#
#   grpc-h2c.pcapng              grpc_client.py -> grpc_server.py (python3-grpcio, C core), h2c
#                                (prior knowledge) on port 45051, one connection: unary,
#                                server/client/bidi streaming, gzip both ways, an error
#                                status, a 100 KiB message each way
#   grpc-stream-cut.pcapng       a server stream (a message every 100 ms) on port 45051; the
#                                capture stops while it still runs (no END_STREAM, no trailers)
#   grpc-tls.pcapng + .keys      the calls of grpc-h2c.pcapng over TLS 1.3 (ALPN h2) on port
#                                45443: grpc client -> grpc_tls_proxy.py (Python ssl, writes
#                                the key log) -> grpc_server.py
#   grpc-bad.pcapng              grpc_bad.py (python3-h2) on port 45052: malformed gRPC
#                                responses, one stream per case
#
#   bash tests/record/record-grpc.sh
#
# The .proto is tests/captures/grpc/proto/zkh2/test/v1/echo.proto; the Python stubs are
# generated from it at record time (python3 -m grpc_tools.protoc) into the work dir and not
# committed. At the end grpc_check.py checks every file with the stock tshark (no plugin).
# Debian 12, needs root (dumpcap on lo; apt-get for missing packages). Everything listens on
# 127.0.0.1 only and each capture has a filter on its port. See tests/record/README.md.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/../.." && pwd)"
OUT_DIR="${GRPC_CAPTURE_DIR:-$REPO_DIR/tests/captures/grpc}"
PROTO_DIR="$REPO_DIR/tests/captures/grpc/proto"
WORK="${GRPC_RECORD_WORKDIR:-/tmp/grpc-record}"
P_GRPC=45051   # grpc_server.py, h2c
P_BAD=45052    # grpc_bad.py server, h2c
P_TLS=45443    # grpc_tls_proxy.py -> 45051
PY=/usr/bin/python3   # Debian python with python3-grpcio, python3-grpc-tools, python3-h2

LOG_TAG=record-grpc
# shellcheck source=tests/record/lib.sh
. "$SCRIPT_DIR/lib.sh"

# ---------------------------------------------------------------- root, deps
require_root "$@"

ensure_deps() {
    local -a pkgs=()
    { [ -x "$PY" ] && "$PY" -c 'import grpc' >/dev/null 2>&1; } || pkgs+=(python3 python3-grpcio)
    "$PY" -c 'import grpc_tools.protoc' >/dev/null 2>&1 || pkgs+=(python3-grpc-tools)
    "$PY" -c 'import h2' >/dev/null 2>&1 || pkgs+=(python3-h2)
    command -v openssl >/dev/null 2>&1 || pkgs+=(openssl)
    { command -v dumpcap && command -v tshark && command -v capinfos; } >/dev/null 2>&1 || pkgs+=(tshark)
    command -v ss >/dev/null 2>&1 || pkgs+=(iproute2)
    install_missing "${pkgs[@]}"
    "$PY" -c 'import grpc, grpc_tools.protoc, h2' || die "grpc/grpc_tools/h2 not importable by $PY"
}
ensure_deps

# ------------------------------------------------------------ state, cleanup
trap_cleanup

# ------------------------------------------------------------------- inputs
rm -rf "$WORK"
mkdir -p "$WORK/gen" "$OUT_DIR"
# stubs for the client and server, from the committed .proto (not committed themselves)
"$PY" -m grpc_tools.protoc -I "$PROTO_DIR" --python_out="$WORK/gen" --grpc_python_out="$WORK/gen" \
    zkh2/test/v1/echo.proto || die "protoc failed"
# throwaway certificate for the TLS proxy; the client trusts it for the name zkh2.test
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=zkh2.test" -addext "subjectAltName=DNS:zkh2.test,IP:127.0.0.1" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || die "openssl failed"

# ------------------------------------------------------------------- servers
for p in $P_GRPC $P_BAD $P_TLS; do
    listening "$p" && die "something already listens on port $p"
done
"$PY" "$SCRIPT_DIR/grpc_server.py" "$WORK/gen" "$P_GRPC" >"$WORK/grpc_server.log" 2>&1 &
SERVER_PIDS+=($!)
"$PY" "$SCRIPT_DIR/grpc_tls_proxy.py" "$P_TLS" "$P_GRPC" "$WORK/cert.pem" "$WORK/key.pem" \
    "$WORK/tls.keys" >"$WORK/grpc_tls_proxy.log" 2>&1 &
SERVER_PIDS+=($!)
"$PY" "$SCRIPT_DIR/grpc_bad.py" server "$P_BAD" >"$WORK/grpc_bad.log" 2>&1 &
SERVER_PIDS+=($!)
for p in $P_GRPC $P_BAD $P_TLS; do
    for _ in $(seq 100); do listening "$p" && break; sleep 0.1; done
    listening "$p" || die "no server on port $p (logs in $WORK)"
done

# ------------------------------------------------------------------- capture
# drop_strays FILE: remove segments of TCP connections whose SYN is not in FILE (tshark 4.0
# wants commas between the members of a set)
drop_strays() {
    local f=$1 all syn
    all=$(tsh -n -r "$f" -T fields -e tcp.stream | sort -un | paste -sd,)
    syn=$(tsh -n -r "$f" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" -T fields -e tcp.stream | sort -un | paste -sd,)
    [ -n "$syn" ] || die "$f: no complete connection captured"
    if [ "$all" != "$syn" ]; then
        log "dropping stray segments of connections opened before the capture (streams: $all; with SYN: $syn)"
        tsh -n -r "$f" -Y "tcp.stream in {$syn}" -w "$f.clean"
        mv -f "$f.clean" "$f"
    fi
}

# capture NAME PORT CMD...: record CMD's traffic on PORT into $OUT_DIR/NAME. CMD may stop
# the capture itself (stop_dumpcap) to leave the rest of its traffic out.
capture() {
    local name=$1 port=$2; shift 2
    local tmp="$WORK/$name"
    wait_quiet "$port"
    rm -f "$tmp"
    log "=== $name: capturing (tcp port $port)"
    start_dumpcap "tcp port $port" "$tmp" "$WORK/dumpcap-$name.log"
    "$@"
    wait_quiet "$port"
    sleep 0.5
    stop_dumpcap
    drop_strays "$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$OUT_DIR/$name"
}

# run CMD...: a client; output to clients.log, failure is fatal
run() {
    log "  \$ $*"
    timeout 60 "$@" >>"$WORK/clients.log" 2>&1 || die "client failed: $* (see $WORK/clients.log)"
}

scenario_h2c() {
    run "$PY" "$SCRIPT_DIR/grpc_client.py" "$WORK/gen" calls "127.0.0.1:$P_GRPC"
}
scenario_tls() {
    run "$PY" "$SCRIPT_DIR/grpc_client.py" "$WORK/gen" calls "127.0.0.1:$P_TLS" "$WORK/cert.pem" zkh2.test
}
scenario_bad() {
    run "$PY" "$SCRIPT_DIR/grpc_bad.py" client "$P_BAD"
}
# the client signals READY after 15 responses; 0.5 s later the capture stops, then the
# client cancels the call
scenario_cut() {
    local ready="$WORK/cut.ready" stop="$WORK/cut.stop" pid
    rm -f "$ready" "$stop"
    log "  \$ grpc_client.py cut (stops the capture after 15 responses)"
    timeout 60 "$PY" "$SCRIPT_DIR/grpc_client.py" "$WORK/gen" cut "127.0.0.1:$P_GRPC" "$ready" "$stop" \
        >>"$WORK/clients.log" 2>&1 &
    pid=$!
    for _ in $(seq 300); do
        [ -e "$ready" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -e "$ready" ] || die "cut client did not get 15 responses (see $WORK/clients.log)"
    sleep 0.5   # dumpcap drops what it has not read yet when stopped: keep a margin
    stop_dumpcap
    touch "$stop"
    wait "$pid" || die "cut client failed (see $WORK/clients.log)"
}

capture grpc-h2c.pcapng "$P_GRPC" scenario_h2c
capture grpc-stream-cut.pcapng "$P_GRPC" scenario_cut
# the proxy holds $WORK/tls.keys open from its start and only this scenario goes through it
capture grpc-tls.pcapng "$P_TLS" scenario_tls
grep -v '^#' "$WORK/tls.keys" >"$OUT_DIR/grpc-tls.keys"   # Python's header comment left out
chmod 0644 "$OUT_DIR/grpc-tls.keys"
capture grpc-bad.pcapng "$P_BAD" scenario_bad
stop_servers

# -------------------------------------------------------------------- checks
# grpc_check.py decodes every file with the stock tshark (no plugin, empty HOME) and fails if
# something expected is missing; it prints the tshark command lines it uses.
"$PY" "$SCRIPT_DIR/grpc_check.py" --dir "$OUT_DIR" --proto "$PROTO_DIR" \
    --port "$P_GRPC" --bad-port "$P_BAD" --tls-port "$P_TLS" || die "grpc_check.py failed"
chmod -R a+rX "$OUT_DIR"
if [ -n "${SUDO_UID:-}" ]; then chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$OUT_DIR"; fi
log "done: $(cd "$OUT_DIR" && ls | tr '\n' ' ')"
