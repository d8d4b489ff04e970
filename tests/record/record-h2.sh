#!/usr/bin/env bash
# Record real HTTP/2 traffic on loopback into the golden captures tests/captures/h2/:
#
#   nghttp-prior-knowledge.pcapng  nghttp -> nghttpd (h2c, push, trailers, 300 KB body,
#                                  PRIORITY, WINDOW_UPDATE) + nghttp -> h2_server.py
#                                  (gzip, deflate, br bodies)
#   curl-upgrade.pcapng            curl --http2 -> h2_server.py (HTTP/1.1 Upgrade: h2c, 101)
#   curl-prior-knowledge.pcapng    curl --http2-prior-knowledge -> nghttpd (GET, POST + body)
#   h2load.pcapng                  h2load -n 200 -c 2 -m 20 -> nghttpd
#   tls.pcapng + tls.keys          curl --http2 -> nghttpd over TLS (ALPN h2), key log
#   h2-features.pcapng             nghttp/curl -> h2_server.py: trailers, gRPC-like response
#                                  with grpc-status trailers, PUSH_PROMISE, RST_STREAM,
#                                  CONTINUATION both ways (20-40 KB headers), PING, GOAWAY
#   h2-errors.pcapng               nghttp -> nghttpd (404) and h2_server.py (500, 503)
#   *-midstream.pcapng             h2load and nghttp-prior-knowledge with their first
#                                  packets cut off (editcap): HPACK context partly missing
#
#   bash tests/record/record-h2.sh
#
# Debian 12, needs root (dumpcap on lo; apt-get for missing packages). Everything listens on
# 127.0.0.1 only and each capture has a filter on its ports. See tests/record/README.md.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/../.." && pwd)"
OUT_DIR="${H2_CAPTURE_DIR:-$REPO_DIR/tests/captures/h2}"
WORK="${H2_RECORD_WORKDIR:-/tmp/h2-record}"
HOST=127.0.0.1
P_NGHTTPD=18180   # nghttpd --no-tls (prior knowledge only; nghttpd does no h2c upgrade)
P_PY=18181        # tests/record/h2_server.py (prior knowledge and Upgrade: h2c)
P_TLS=18443       # nghttpd with a self-signed certificate
PY=/usr/bin/python3   # Debian python with python3-h2 and python3-brotli
MAX_BYTES=$((2 * 1024 * 1024))

LOG_TAG=record-h2
# shellcheck source=tests/record/lib.sh
. "$SCRIPT_DIR/lib.sh"

# ---------------------------------------------------------------- root, deps
require_root "$@"

ensure_deps() {
    local -a pkgs=()
    command -v nghttpd >/dev/null 2>&1 || pkgs+=(nghttp2-server)
    { command -v nghttp && command -v h2load; } >/dev/null 2>&1 || pkgs+=(nghttp2-client)
    command -v curl >/dev/null 2>&1 || pkgs+=(curl)
    command -v openssl >/dev/null 2>&1 || pkgs+=(openssl)
    { [ -x "$PY" ] && "$PY" -c 'import h2, brotli' >/dev/null 2>&1; } || pkgs+=(python3 python3-h2 python3-brotli)
    { command -v dumpcap && command -v tshark && command -v editcap && command -v capinfos; } >/dev/null 2>&1 || pkgs+=(tshark)
    command -v ss >/dev/null 2>&1 || pkgs+=(iproute2)
    install_missing "${pkgs[@]}"
    "$PY" -c 'import h2, brotli' || die "h2/brotli not importable by $PY"
}
ensure_deps

# ------------------------------------------------------------ state, cleanup
trap_cleanup

# ------------------------------------------------------------------- inputs
rm -rf "$WORK"
mkdir -p "$WORK/www" "$OUT_DIR"
cat >"$WORK/www/index.html" <<'EOF'
<!DOCTYPE html>
<html>
<head>
<title>zkh2 HTTP/2 test page</title>
<link rel="stylesheet" href="/style.css">
<script src="/app.js"></script>
</head>
<body>
<h1>zkh2</h1>
<p>A small page served by nghttpd for the HTTP/2 dissector's golden captures.</p>
<img src="/logo.svg" alt="logo">
</body>
</html>
EOF
printf 'body { margin: 2em; font-family: sans-serif; }\nh1 { color: #246; }\n' >"$WORK/www/style.css"
printf 'document.title += " (js)";\n' >"$WORK/www/app.js"
printf '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#246"/></svg>\n' >"$WORK/www/logo.svg"
"$PY" - "$WORK/www" <<'EOF'
import json, random, sys
d = sys.argv[1]
random.seed(20240601)                          # same bytes on every run
open(d + "/big.bin", "wb").write(random.randbytes(300 * 1024))
json.dump({"name": "zkh2", "items": [{"id": i, "label": "item %d" % i} for i in range(40)]},
          open(d + "/data.json", "w"), indent=1)
open(d + "/echo", "w").write("nghttpd answers POST with the uploaded body (--echo-upload)\n")
EOF
printf '{"user":"zkh2","action":"post","values":[1,2,3,4,5,6,7,8]}' >"$WORK/post.json"
# gRPC-like request: one length-prefixed message
printf '\x00\x00\x00\x00\x07\x0a\x05world' >"$WORK/grpc-request.bin"
# 20 KB of cookie: forces the client's header block into HEADERS + CONTINUATION
BIG_COOKIE="$("$PY" -c 'print("; ".join("c%03d=%s" % (i, "v" * 90) for i in range(200)))')"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 \
    || die "openssl failed"

# ------------------------------------------------------------------- servers
for p in $P_NGHTTPD $P_PY $P_TLS; do
    listening "$p" && die "something already listens on port $p"
done
nghttpd --no-tls -a "$HOST" -d "$WORK/www" -p /index.html=/style.css \
    --trailer 'x-trailer: nghttpd' --echo-upload "$P_NGHTTPD" >"$WORK/nghttpd.log" 2>&1 &
SERVER_PIDS+=($!)
nghttpd -a "$HOST" -d "$WORK/www" "$P_TLS" "$WORK/key.pem" "$WORK/cert.pem" >"$WORK/nghttpd-tls.log" 2>&1 &
SERVER_PIDS+=($!)
"$PY" "$SCRIPT_DIR/h2_server.py" "$P_PY" >"$WORK/h2_server.log" 2>&1 &
SERVER_PIDS+=($!)
for p in $P_NGHTTPD $P_PY $P_TLS; do
    for _ in $(seq 100); do listening "$p" && break; sleep 0.1; done
    listening "$p" || die "no server on port $p (logs in $WORK)"
done

# ------------------------------------------------------------------- capture
# capture NAME "PORT..." CMD...: record CMD's traffic on the ports into $OUT_DIR/NAME
capture() {
    local name=$1 ports=$2; shift 2
    local tmp="$WORK/$name" filter="" p
    for p in $ports; do filter="$filter${filter:+ or }tcp port $p"; done
    # shellcheck disable=SC2086
    wait_quiet $ports
    rm -f "$tmp"
    log "=== $name: capturing ($filter)"
    start_dumpcap "$filter" "$tmp" "$WORK/dumpcap-$name.log"
    "$@"
    # shellcheck disable=SC2086
    wait_quiet $ports
    sleep 0.5
    stop_dumpcap
    chmod 0644 "$tmp"
    mv -f "$tmp" "$OUT_DIR/$name"
}

# run CMD...: a client; output discarded, failure is fatal
run() {
    local cmdline="$*"
    [ "${#cmdline}" -le 200 ] || cmdline="${cmdline:0:200}..."
    log "  \$ $cmdline"
    timeout 60 "$@" >>"$WORK/clients.log" 2>&1 || die "client failed: $* (see $WORK/clients.log)"
}

N=http://$HOST:$P_NGHTTPD
Y=http://$HOST:$P_PY

scenario_nghttp() {
    # one connection: three URIs at once plus the page's assets (-a); /style.css is pushed
    run nghttp -n -a "$N/index.html" "$N/big.bin" "$N/data.json"
    # one connection to the Python server: three content-encoded bodies
    run nghttp -n -H 'accept-encoding: gzip, deflate, br' "$Y/gzip" "$Y/deflate" "$Y/br"
}
scenario_curl_upgrade() {
    # stream 1 is the upgraded HTTP/1.1 request, stream 3 a second request on the same connection
    run curl -sS --http2 -o /dev/null "$Y/upgraded" -o /dev/null "$Y/gzip"
}
scenario_curl_prior() {
    # two connections: curl 7.88.1 fails ("Error in the HTTP2 framing layer") when --next
    # reuses the connection for the POST
    run curl -sS --http2-prior-knowledge -o /dev/null "$N/data.json"
    run curl -sS --http2-prior-knowledge -o /dev/null -H 'content-type: application/json' \
        --data-binary "@$WORK/post.json" "$N/echo"
}
scenario_h2load() {
    run h2load -n 200 -c 2 -m 20 "$N/index.html"
}
scenario_tls() {
    rm -f "$WORK/tls.keys"
    SSLKEYLOGFILE="$WORK/tls.keys" run curl -sS -k --http2 -o /dev/null "https://$HOST:$P_TLS/index.html" \
        -o /dev/null "https://$HOST:$P_TLS/data.json"
}
scenario_features() {
    # trailers, PUSH_PROMISE, RST_STREAM, server CONTINUATION, server PING on one connection
    run nghttp -n "$Y/trailers" "$Y/push" "$Y/rst" "$Y/bigheaders" "$Y/ping"
    # gRPC-like call: POST, response with grpc-status trailers
    run nghttp -n -d "$WORK/grpc-request.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
        "$Y/grpc/helloworld.Greeter/SayHello"
    # client CONTINUATION: 20 KB cookie; POST body echoed back
    run curl -sS --http2-prior-knowledge -o /dev/null -H "cookie: $BIG_COOKIE" \
        --data-binary "@$WORK/post.json" "$Y/echo"
    # server GOAWAY after the response
    run nghttp -n "$Y/goaway"
}

capture nghttp-prior-knowledge.pcapng "$P_NGHTTPD $P_PY" scenario_nghttp
capture curl-upgrade.pcapng "$P_PY" scenario_curl_upgrade
capture curl-prior-knowledge.pcapng "$P_NGHTTPD" scenario_curl_prior
capture h2load.pcapng "$P_NGHTTPD" scenario_h2load
capture tls.pcapng "$P_TLS" scenario_tls
cp "$WORK/tls.keys" "$OUT_DIR/tls.keys"
chmod 0644 "$OUT_DIR/tls.keys"
capture h2-features.pcapng "$P_PY" scenario_features

scenario_errors() {
    # error responses: nghttpd's 404 for a missing file; 500 and 503 from the Python server
    # (nghttp exits non-zero on none of them)
    run nghttp -n "$N/missing.html"
    run nghttp -n "$Y/status/500" "$Y/status/503"
}
capture h2-errors.pcapng "$P_NGHTTPD $P_PY" scenario_errors

# ---------------------------------------------------------------- midstream
# midstream NAME PORT NTH: cut everything up to and including the packet that carries the
# server's NTH response HEADERS (so the HPACK dynamic tables are partly missing)
midstream() {
    local name=$1 port=$2 nth=$3 src="$OUT_DIR/$1.pcapng" dst="$OUT_DIR/$1-midstream.pcapng" cut
    cut=$(tsh -n -r "$src" -d "tcp.port==$port,http2" -Y "tcp.srcport == $port && http2.type == 1" \
        -T fields -e frame.number | sed -n "${nth}p")
    [ -n "$cut" ] || die "$name: no ${nth}th response HEADERS"
    log "=== $(basename "$dst"): packets 1-$cut of $(basename "$src") cut"
    editcap "$src" "$dst" "1-$cut"
    chmod 0644 "$dst"
}
midstream h2load "$P_NGHTTPD" 3
midstream nghttp-prior-knowledge "$P_NGHTTPD" 1

# -------------------------------------------------------------------- checks
# check FILE DECODE-AS-ARGS TYPES...: built-in tshark sees every listed HTTP/2 frame type
check() {
    local name=$1 f="$OUT_DIR/$1" decode=$2; shift 2
    local size types t
    size=$(stat -c %s "$f")
    [ "$size" -lt "$MAX_BYTES" ] || die "$name is $size bytes (limit $MAX_BYTES)"
    # shellcheck disable=SC2086
    types=" $(tsh -n -r "$f" $decode -o "tls.keylog_file:$OUT_DIR/tls.keys" -T fields -e http2.type \
        | tr ',' '\n' | grep -v '^$' | sort -un | tr '\n' ' ')"
    for t in "$@"; do
        case "$types" in *" $t "*) ;; *) die "$name: no HTTP/2 frame of type $t (has:$types)";; esac
    done
    # shellcheck disable=SC2086
    [ "$(tsh -n -r "$f" $decode -Y _ws.malformed | wc -l)" -eq 0 ] || die "$name: built-in http2 finds malformed packets"
    log "ok $name: $size bytes, $(capinfos -M -c "$f" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}') packets, frame types:$types"
}
# types: 0 DATA 1 HEADERS 2 PRIORITY 3 RST_STREAM 4 SETTINGS 5 PUSH_PROMISE 6 PING 7 GOAWAY
#        8 WINDOW_UPDATE 9 CONTINUATION
check nghttp-prior-knowledge.pcapng "-d tcp.port==$P_NGHTTPD,http2 -d tcp.port==$P_PY,http2" 0 1 2 4 5 7 8
check curl-upgrade.pcapng "-d tcp.port==$P_PY,http" 0 1 4
check curl-prior-knowledge.pcapng "-d tcp.port==$P_NGHTTPD,http2" 0 1 4 8
check h2load.pcapng "-d tcp.port==$P_NGHTTPD,http2" 0 1 4
check tls.pcapng "" 0 1 4
check h2-features.pcapng "-d tcp.port==$P_PY,http2" 0 1 3 4 5 6 7 9
check h2load-midstream.pcapng "-d tcp.port==$P_NGHTTPD,http2" 0 1
check nghttp-prior-knowledge-midstream.pcapng "-d tcp.port==$P_NGHTTPD,http2 -d tcp.port==$P_PY,http2" 0 1
# the upgrade itself: HTTP/1.1 request with Upgrade: h2c, answered by 101
[ "$(tsh -n -r "$OUT_DIR/curl-upgrade.pcapng" -d "tcp.port==$P_PY,http" -Y 'http.response.code == 101' | wc -l)" -eq 1 ] \
    || die "curl-upgrade.pcapng: no 101 Switching Protocols"
# gRPC trailers, gzip body, 20 KB cookie
[ "$(tsh -n -r "$OUT_DIR/h2-features.pcapng" -d "tcp.port==$P_PY,http2" -Y 'http2.header.name == "grpc-status"' | wc -l)" -ge 1 ] \
    || die "h2-features.pcapng: no grpc-status trailer"
[ "$(tsh -n -r "$OUT_DIR/h2-features.pcapng" -d "tcp.port==$P_PY,http2" -Y 'http2.headers.cookie' | wc -l)" -ge 1 ] \
    || die "h2-features.pcapng: no cookie header"
[ "$(tsh -n -r "$OUT_DIR/nghttp-prior-knowledge.pcapng" -d "tcp.port==$P_PY,http2" -Y 'http2.header.value == "gzip"' | wc -l)" -ge 1 ] \
    || die "nghttp-prior-knowledge.pcapng: no gzip response"
if [ -n "${SUDO_UID:-}" ]; then chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$OUT_DIR"/*; fi
log "done: $(ls "$OUT_DIR" | tr '\n' ' ')"
