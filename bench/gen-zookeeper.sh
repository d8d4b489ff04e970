#!/usr/bin/env bash
# Build the ZooKeeper benchmark captures from a real server (never committed):
#
#   bash bench/gen-zookeeper.sh [TOTAL_OPS]     (default 1,000,000 requests)
#
# Starts a private standalone ZooKeeper 3.8 (Debian's, as tests/record/record-zookeeper.sh
# does) on 127.0.0.1:$ZKH2_BENCH_ZK_PORT (default 2181), records loopback with dumpcap while
# bench/gen-zookeeper.py drives it with kazoo async calls from 4 processes x 8 sessions, and
# writes into $ZKH2_BENCH_DIR (default /var/tmp/zkh2-bench):
#   zk-4x.pcapng   the whole run (about 2 x TOTAL_OPS PDUs)
#   zk-2x.pcapng   its first half (by packet count), zk-1x.pcapng its first quarter
# The prefixes are real captures of the same workload, just shorter: the sessions still
# open at the cut simply end there. Needs root (dumpcap on lo).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${ZKH2_BENCH_DIR:-/var/tmp/zkh2-bench}
OPS=${1:-1000000}
PORT=${ZKH2_BENCH_ZK_PORT:-2181}
HOST=127.0.0.1
PY=/usr/bin/python3
ZK_JAR=/usr/share/java/zookeeper.jar
WORK=$(mktemp -d /tmp/zkh2-bench-zk.XXXXXX)
LOG_TAG=gen-zookeeper
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
[ -f "$ZK_JAR" ] || { log "missing $ZK_JAR (apt-get install zookeeper)"; exit 1; }
"$PY" -c 'import kazoo' || { log "kazoo missing (apt-get install python3-kazoo)"; exit 1; }
mkdir -p "$OUT" "$WORK/data"

cat >"$WORK/zoo.cfg" <<EOF
tickTime=2000
dataDir=$WORK/data
clientPort=$PORT
clientPortAddress=$HOST
maxClientCnxns=200
forceSync=no
snapCount=1000000
admin.enableServer=false
EOF
cp="/etc/zookeeper/conf:$ZK_JAR"
[ -f /usr/share/java/slf4j-simple.jar ] && cp="$cp:/usr/share/java/slf4j-simple.jar"
(cd "$WORK" && exec java -Xmx1g -Djava.net.preferIPv4Stack=true -Dzookeeper.forceSync=no \
  -Dzookeeper.admin.enableServer=false -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$WORK/zoo.cfg" >"$WORK/server.log" 2>&1) &
SRV_PID=$!
for _ in $(seq 150); do
  if "$PY" -c "import socket,sys; s=socket.create_connection(('$HOST',$PORT),2); s.sendall(b'ruok'); sys.exit(s.recv(4)!=b'imok')" 2>/dev/null; then break; fi
  kill -0 "$SRV_PID" || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.2
done
sleep 1
raw="$WORK/zk.pcapng"
start_capture "$PORT" 256 "$raw"
log "driving $OPS requests"
"$PY" "$here/gen-zookeeper.py" "$HOST:$PORT" "$OPS" 4 8
sleep 1.5
stop_capture
grep -i drop "$WORK/dumpcap.log" >&2 || true
keep_scaled "$raw" zk
