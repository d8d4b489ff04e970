#!/usr/bin/env bash
# Build the HTTP/2 benchmark captures from real nghttp2 tools (never committed):
#
#   bash bench/gen-h2.sh [REQUESTS]     (default 140,000 requests: about 100,000 frames in h2-1x)
#
# Serves a directory with nghttpd --no-tls (prior knowledge) on 127.0.0.1:$ZKH2_BENCH_H2_PORT
# (default 18280) and records loopback with dumpcap while h2load sends REQUESTS requests
# over 16 connections with up to 32 concurrent streams each, cycling through 100 URIs:
# 89 small pages (200 B - 2 KB), 10 medium (8 KB) and one large body (200 KB, so 13 DATA
# frames, flow-control WINDOW_UPDATEs). Writes into $ZKH2_BENCH_DIR (default
# /var/tmp/zkh2-bench):
#   h2-4x.pcapng   the whole run (about 4.5 frames per request)
#   h2-2x.pcapng   its first half (by packet count), h2-1x.pcapng its first quarter
# Needs root (dumpcap on lo). Benchmark with -d tcp.port==$ZKH2_BENCH_H2_PORT,h2 (or http2).
set -euo pipefail
OUT=${ZKH2_BENCH_DIR:-/var/tmp/zkh2-bench}
REQS=${1:-140000}
PORT=${ZKH2_BENCH_H2_PORT:-18280}
HOST=127.0.0.1
WORK=$(mktemp -d /tmp/zkh2-bench-h2.XXXXXX)
LOG_TAG=gen-h2
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
command -v nghttpd >/dev/null || { log "nghttpd missing (apt-get install nghttp2-server)"; exit 1; }
command -v h2load >/dev/null || { log "h2load missing (apt-get install nghttp2-client)"; exit 1; }
mkdir -p "$OUT" "$WORK/www"

# deterministic content: text that compresses like HTML would (it is not compressed here)
/usr/bin/python3 - "$WORK/www" "$HOST" "$PORT" >"$WORK/uris" <<'EOF'
import random, sys
d, host, port = sys.argv[1], sys.argv[2], sys.argv[3]
rnd = random.Random(6)
words = ["zookeeper", "session", "stream", "frame", "header", "window", "settings", "ping", "data", "path"]
def body(n):
    s = []
    while sum(len(w) + 1 for w in s) < n:
        s.append(rnd.choice(words))
    return (" ".join(s) + "\n")[:n].encode()
for i in range(100):
    if i == 50:
        name, size = "large.bin", 200_000
    elif i % 10 == 5:
        name, size = "medium%02d.html" % i, 8_000
    else:
        name, size = "page%02d.html" % i, rnd.randrange(200, 2000)
    open("%s/%s" % (d, name), "wb").write(body(size))
    print("http://%s:%s/%s" % (host, port, name))
EOF

nghttpd --no-tls -a "$HOST" -d "$WORK/www" "$PORT" >"$WORK/nghttpd.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null && break
  sleep 0.1
done
sleep 0.5
raw="$WORK/h2.pcapng"
start_capture "$PORT" 512 "$raw"
log "h2load: $REQS requests"
# --rps keeps dumpcap ahead of the loopback traffic (a dropped segment would break reassembly)
h2load -n "$REQS" -c 16 -m 32 --rps 500 -i "$WORK/uris" | grep -E '^(finished|requests|status codes|traffic)' >&2
sleep 1.5
stop_capture
if grep -q 'dropped.*: [0-9]*/[1-9]' "$WORK/dumpcap.log"; then
  cat "$WORK/dumpcap.log" >&2
  log "dumpcap dropped packets; rerun (maybe on a quieter machine)"
  exit 1
fi
keep_scaled "$raw" h2
